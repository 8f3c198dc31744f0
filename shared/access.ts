// File-system access as an operator meets it: can user X create files in directory Y (checked
// from the modes, for --check-config --as-user), and what to run when a write failed (one line
// with the fix, for the logs). Permissions are judged as the kernel does for a process of that
// identity: owner bits, else group bits when one of its groups owns the file, else other bits;
// root passes. ACLs and read-only mounts are not seen here (the programs report those at run time).
import { statSync, type Stats } from "node:fs";
import path from "node:path";
import { groupName, type Identity, type UserDb } from "./users.js";

const R = 4;
const W = 2;
const X = 1;

export function mayAccess(st: Pick<Stats, "uid" | "gid" | "mode">, who: Identity, bits: number): boolean {
  if (who.uid === 0) return true;
  const shift = st.uid === who.uid ? 6 : who.groups.includes(st.gid) ? 3 : 0;
  return ((st.mode >> shift) & bits) === bits;
}

type StatFn = (p: string) => Pick<Stats, "uid" | "gid" | "mode" | "isDirectory"> | undefined;

const statOrUndefined: StatFn = (p) => {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
};

/** The command that makes `dir` right for `who`: theirs, group lsprobe (the prober reads through it). */
export function installDirCommand(dir: string, who: Identity, db: UserDb): string {
  const group = db.group.some((g) => g.name === "lsprobe") ? "lsprobe" : groupName(db, who.gid);
  return `install -d -o ${who.name} -g ${group} -m 2750 ${dir}`;
}

/**
 * Why `who` cannot create and replace files in `dir` (creating it and its parents first when
 * missing, as the plugin does), or undefined when it can. The reason names the blocking
 * directory and the fix.
 */
export function dirWriteProblem(dir: string, who: Identity, db: UserDb, stat: StatFn = statOrUndefined): string | undefined {
  const fix = `; fix: ${installDirCommand(dir, who, db)} (the lsprobe package's tmpfiles.d entry creates /run/lsprobe and /var/lib/lsprobe so)`;
  const parts = path.resolve(dir).split("/").filter(Boolean);
  let here = "/";
  for (let i = 0; i <= parts.length; i++) {
    const st = stat(here);
    if (st === undefined) {
      // `here` is missing: its parent (checked below on the previous round) must let us create it.
      const parent = path.dirname(here);
      const pst = stat(parent)!;
      if (!mayAccess(pst, who, W | X)) return `${dir} does not exist, and ${who.name} cannot create it (no write permission on ${parent})${fix}`;
      return undefined;
    }
    if (!st.isDirectory()) return `${here} is not a directory; fix: remove or rename it, or choose another path`;
    const last = i === parts.length;
    if (!last && !mayAccess(st, who, X)) return `${who.name} cannot enter ${here} (no search permission)${fix}`;
    if (last && !mayAccess(st, who, W | X)) return `${who.name} cannot write to ${dir}${fix}`;
    if (!last) here = path.join(here, parts[i]);
  }
  return undefined;
}

/** Why `who` cannot read `file`, or undefined. */
export function fileReadProblem(file: string, who: Identity, stat: StatFn = statOrUndefined): string | undefined {
  const st = stat(file);
  if (st === undefined) return `${file} does not exist`;
  for (let d = path.dirname(file); ; d = path.dirname(d)) {
    const dst = stat(d);
    if (dst && !mayAccess(dst, who, X)) return `${who.name} cannot enter ${d} (no search permission)`;
    if (d === "/") break;
  }
  if (!mayAccess(st, who, R)) return `${who.name} cannot read ${file}`;
  return undefined;
}

/** One sentence naming what failed and the fix, for an errno error of `action` on `target`. */
export function describeFsError(e: NodeJS.ErrnoException, action: string, target: string, who: Identity, db: UserDb): string {
  const dir = path.dirname(target);
  const as = `as user ${who.name} (uid ${who.uid})`;
  switch (e.code) {
    case "EACCES":
    case "EPERM":
      return `cannot ${action} ${target}: permission denied ${as}; fix: ${installDirCommand(dir, who, db)}, or the lsprobe package's tmpfiles.d entry (systemd-tmpfiles --create lsprobe.conf)`;
    case "EROFS":
      return `cannot ${action} ${target}: read-only file system; fix: choose a path on a writable file system (/var/lib/lsprobe, /run/lsprobe), or allow it in ReadWritePaths= of the unit that runs the program`;
    case "ENOSPC":
    case "EDQUOT":
      return `cannot ${action} ${target}: no space left (${e.code}); fix: free space on the file system holding ${dir} (the newest document is written as soon as it fits)`;
    case "ENOTDIR":
    case "EEXIST":
      return `cannot ${action} ${target}: a part of the path is not a directory (${e.code}); fix: remove or rename what is in the way, or choose another path`;
    case "ENOENT":
      return `cannot ${action} ${target}: a directory on the way does not exist and cannot be created here (ENOENT: not a writable file system?); fix: choose a path on one (/var/lib/lsprobe, /run/lsprobe), or make it: ${installDirCommand(dir, who, db)}`;
    case "EADDRINUSE":
      return `cannot ${action} ${target}: another process serves this socket; fix: stop it (is a second plugin running?) or choose another plugin.output.socket`;
    default:
      return `cannot ${action} ${target}: ${e.message}${e.code ? ` (${e.code})` : ""} ${as}`;
  }
}
