// Atomic file replacement: readers see the old document or the new one, never half of one,
// even across a crash or power loss (write temp, fsync, rename, fsync the directory).
//
// The temporary file sits beside the target (rename(2) is atomic only within one file system),
// under a random name, created with O_CREAT|O_EXCL: a name planted in advance, a symlink
// included, makes the open fail instead of writing through it to somewhere else. Files a killed
// writer left behind are removed by removeStaleTemps() at start.
import { promises as fs, openSync, writeSync, fsyncSync, closeSync, renameSync, readdirSync, unlinkSync, constants } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";

/** Path and state files: readable by the owner and the group (lsprobe's prober reads through it). */
export const FILE_MODE = 0o640;
/** Directories the plugin creates (explicit: a umask of 000 must not make them 0777). */
export const DIR_MODE = 0o750;

const TEMP_SUFFIX = ".tmp";
const tempPrefix = (file: string): string => `.${path.basename(file)}.`;

function tempName(file: string): string {
  return path.join(path.dirname(file), `${tempPrefix(file)}${process.pid}.${randomBytes(8).toString("hex")}${TEMP_SUFFIX}`);
}

const EXCL = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

export async function writeFileAtomic(file: string, data: string, mode = FILE_MODE): Promise<void> {
  const tmp = tempName(file);
  const fh = await fs.open(tmp, EXCL, mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
      // open()'s mode is masked by the umask; the file's mode is part of the contract.
      await fh.chmod(mode);
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.unlink(tmp).catch(() => {});
    throw e;
  }
  const dir = await fs.open(path.dirname(file), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** The same, synchronously: for the final write on shutdown, when the event loop may not turn again. */
export function writeFileAtomicSync(file: string, data: string, mode = FILE_MODE): void {
  const tmp = tempName(file);
  const fd = openSync(tmp, EXCL, mode);
  try {
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  const dfd = openSync(path.dirname(file), "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/**
 * mkdir -p, one component at a time. Node's own `recursive: true` never returns under /proc
 * (it retries the ENOENT that procfs answers forever): the plugin hung at start there.
 */
export async function makeDirs(dir: string, mode = DIR_MODE): Promise<void> {
  const parts = path.resolve(dir).split("/").filter(Boolean);
  let here = "/";
  for (const part of parts) {
    here = path.join(here, part);
    try {
      await fs.mkdir(here, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  // An existing non-directory in the way: EEXIST above, ENOTDIR here.
  if (!(await fs.stat(dir)).isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: "ENOTDIR" });
}

/** Is a process with this pid alive (signal 0)? EPERM means it exists under another user. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Remove `file`'s temporaries whose writer is gone (a kill -9 mid-write). Returns their names. */
export function removeStaleTemps(file: string): string[] {
  const dir = path.dirname(file);
  const prefix = tempPrefix(file);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith(TEMP_SUFFIX)) continue;
    const pid = Number(n.slice(prefix.length).split(".")[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) continue;
    if (pid === process.pid) continue;
    try {
      unlinkSync(path.join(dir, n));
      removed.push(n);
    } catch {
      /* raced with someone else, or not ours to remove */
    }
  }
  return removed;
}
