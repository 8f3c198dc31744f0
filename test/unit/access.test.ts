// Who may write where, judged from modes as the kernel does, and the fixes the messages name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeFsError, dirWriteProblem, fileReadProblem, mayAccess } from "../../shared/access.js";
import { identityOf, parseGroup, parsePasswd, type UserDb } from "../../shared/users.js";

const db: UserDb = {
  passwd: parsePasswd("root:x:0:0:root:/root:/bin/bash\nexabgp:x:103:106::/run/exabgp:/usr/sbin/nologin\nlsprobe:x:998:998::/nonexistent:/usr/sbin/nologin\nbroken line\n"),
  group: parseGroup("root:x:0:\nexabgp:x:106:\nlsprobe:x:998:exabgp\n"),
};
const exabgp = identityOf(db, "exabgp")!;
const root = identityOf(db, "root")!;

test("users: passwd and group parsed, supplementary groups joined, malformed lines skipped", () => {
  assert.equal(db.passwd.length, 3);
  assert.deepEqual(exabgp, { name: "exabgp", uid: 103, gid: 106, groups: [106, 998] });
  assert.equal(identityOf(db, 998)?.name, "lsprobe");
  assert.equal(identityOf(db, "nobody-here"), undefined);
});

test("mayAccess: owner, then group, then other bits; root passes", () => {
  const cases: Array<[string, { uid: number; gid: number; mode: number }, number, boolean]> = [
    ["owner rwx", { uid: 103, gid: 0, mode: 0o40700 }, 3, true],
    ["owner r-x only", { uid: 103, gid: 106, mode: 0o40577 }, 2, false], // owner bits win even if others may
    ["group lsprobe rwx", { uid: 0, gid: 998, mode: 0o40770 }, 3, true],
    ["group r-x", { uid: 0, gid: 998, mode: 0o40750 }, 2, false],
    ["other", { uid: 0, gid: 0, mode: 0o40755 }, 1, true],
    ["other, no write", { uid: 0, gid: 0, mode: 0o40755 }, 2, false],
  ];
  for (const [what, st, bits, want] of cases) assert.equal(mayAccess(st, exabgp, bits), want, what);
  assert.equal(mayAccess({ uid: 5, gid: 5, mode: 0o40000 }, root, 7), true);
});

const dirStat = (uid: number, gid: number, mode: number) => ({ uid, gid, mode: 0o40000 | mode, isDirectory: () => true });

test("dirWriteProblem: a missing directory under root's /var/lib is refused with the install -d fix; a made one passes", () => {
  const tree: Record<string, ReturnType<typeof dirStat>> = {
    "/": dirStat(0, 0, 0o755),
    "/var": dirStat(0, 0, 0o755),
    "/var/lib": dirStat(0, 0, 0o755),
  };
  const stat = (p: string) => tree[p];
  assert.equal(
    dirWriteProblem("/var/lib/lsprobe", exabgp, db, stat),
    "/var/lib/lsprobe does not exist, and exabgp cannot create it (no write permission on /var/lib); fix: install -d -o exabgp -g lsprobe -m 2750 /var/lib/lsprobe (the lsprobe package's tmpfiles.d entry creates /run/lsprobe and /var/lib/lsprobe so)",
  );
  assert.equal(dirWriteProblem("/var/lib/lsprobe", root, db, stat), undefined);
  tree["/var/lib/lsprobe"] = dirStat(0, 998, 0o2750);
  assert.match(dirWriteProblem("/var/lib/lsprobe", exabgp, db, stat)!, /^exabgp cannot write to \/var\/lib\/lsprobe; fix: install -d/);
  tree["/var/lib/lsprobe"] = dirStat(103, 998, 0o2750);
  assert.equal(dirWriteProblem("/var/lib/lsprobe", exabgp, db, stat), undefined);
  tree["/var/lib"] = dirStat(0, 0, 0o700);
  assert.match(dirWriteProblem("/var/lib/lsprobe", exabgp, db, stat)!, /^exabgp cannot enter \/var\/lib \(no search permission\)/);
  const notDir = (p: string) => (p === "/srv" ? { uid: 0, gid: 0, mode: 0o100644, isDirectory: () => false } : tree[p]);
  assert.match(dirWriteProblem("/srv/lsprobe", exabgp, db, notDir)!, /^\/srv is not a directory/);
});

test("fileReadProblem: missing, unreadable, readable", () => {
  const files: Record<string, { uid: number; gid: number; mode: number; isDirectory: () => boolean }> = {
    "/": dirStat(0, 0, 0o755),
    "/etc": dirStat(0, 0, 0o755),
    "/etc/lsprobe": dirStat(0, 0, 0o755),
    "/etc/lsprobe/hmac.key": { uid: 0, gid: 0, mode: 0o100600, isDirectory: () => false },
  };
  const stat = (p: string) => files[p];
  assert.equal(fileReadProblem("/etc/lsprobe/none.key", exabgp, stat), "/etc/lsprobe/none.key does not exist");
  assert.equal(fileReadProblem("/etc/lsprobe/hmac.key", exabgp, stat), "exabgp cannot read /etc/lsprobe/hmac.key");
  files["/etc/lsprobe/hmac.key"] = { uid: 0, gid: 998, mode: 0o100640, isDirectory: () => false };
  assert.equal(fileReadProblem("/etc/lsprobe/hmac.key", exabgp, stat), undefined);
});

test("describeFsError: each errno gets what failed, where, as whom, and the fix", () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  const cases: Array<[string, RegExp]> = [
    ["EACCES", /^cannot write \/var\/lib\/lsprobe\/paths\.json: permission denied as user exabgp \(uid 103\); fix: install -d -o exabgp -g lsprobe -m 2750 \/var\/lib\/lsprobe, or the lsprobe package's tmpfiles\.d entry/],
    ["EROFS", /read-only file system; fix: choose a path on a writable file system/],
    ["ENOSPC", /no space left \(ENOSPC\); fix: free space on the file system holding \/var\/lib\/lsprobe/],
    ["ENOTDIR", /a part of the path is not a directory \(ENOTDIR\); fix: remove or rename/],
    ["EADDRINUSE", /another process serves this socket; fix: stop it/],
    ["EIO", /^cannot write \/var\/lib\/lsprobe\/paths\.json: EIO \(EIO\) as user exabgp/],
  ];
  for (const [code, re] of cases) assert.match(describeFsError(err(code), "write", "/var/lib/lsprobe/paths.json", exabgp, db), re, code);
});
