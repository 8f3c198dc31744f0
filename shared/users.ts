// Users and groups from /etc/passwd and /etc/group, read directly: the prober resolves the user
// it drops to, and --check-config the user a program will run as, without running `id` from
// $PATH as root. Local files only (no NSS): the system users lsprobe deals with (exabgp,
// lsprobe) are local on Debian; a name found nowhere is reported as such.
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";

export interface UserEntry {
  name: string;
  uid: number;
  /** Primary group. */
  gid: number;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** passwd(5) lines: name:password:uid:gid:gecos:home:shell. Malformed lines are skipped. */
export function parsePasswd(text: string): UserEntry[] {
  const out: UserEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || line.startsWith("#") || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5], shell: f[6] });
  }
  return out;
}

/** group(5) lines: name:password:gid:member,member. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || line.startsWith("#") || !/^\d+$/.test(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: f[3] === "" ? [] : f[3].split(",") });
  }
  return out;
}

/** A user with every group it is in: what the kernel checks file access against. */
export interface Identity {
  name: string;
  uid: number;
  gid: number;
  /** Primary and supplementary group ids. */
  groups: number[];
}

export interface UserDb {
  passwd: UserEntry[];
  group: GroupEntry[];
}

export function readUserDb(passwdFile = "/etc/passwd", groupFile = "/etc/group"): UserDb {
  const read = (f: string): string => {
    try {
      return readFileSync(f, "utf8");
    } catch {
      return "";
    }
  };
  return { passwd: parsePasswd(read(passwdFile)), group: parseGroup(read(groupFile)) };
}

/** A user by name or numeric uid; undefined when unknown. */
export function identityOf(db: UserDb, user: string | number): Identity | undefined {
  const u = db.passwd.find((p) => (typeof user === "number" ? p.uid === user : p.name === user || String(p.uid) === user));
  if (!u) return undefined;
  const groups = new Set([u.gid]);
  for (const g of db.group) if (g.members.includes(u.name)) groups.add(g.gid);
  return { name: u.name, uid: u.uid, gid: u.gid, groups: [...groups] };
}

/** The identity this process runs as (its real groups, where the platform tells them). */
export function currentIdentity(db: UserDb = readUserDb()): Identity {
  const me = userInfo();
  const known = identityOf(db, me.uid);
  const groups = process.getgroups?.() ?? known?.groups ?? [me.gid];
  return { name: known?.name ?? me.username, uid: me.uid, gid: me.gid, groups: [...new Set([me.gid, ...groups])] };
}

export function groupName(db: UserDb, gid: number): string {
  return db.group.find((g) => g.gid === gid)?.name ?? String(gid);
}
