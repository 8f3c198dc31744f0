// Atomic file replacement: readers see the old document or the new one, never half of one,
// even across a crash or power loss (write temp, fsync, rename, fsync the directory).
import { promises as fs, writeFileSync, openSync, fsyncSync, closeSync, renameSync } from "node:fs";
import path from "node:path";

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
}

export async function writeFileAtomic(file: string, data: string, mode = 0o644): Promise<void> {
  const tmp = tempName(file);
  const fh = await fs.open(tmp, "w", mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
  const dir = await fs.open(path.dirname(file), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** The same, synchronously: for the final write on shutdown, when the event loop may not turn again. */
export function writeFileAtomicSync(file: string, data: string, mode = 0o644): void {
  const tmp = tempName(file);
  writeFileSync(tmp, data, { mode });
  const fd = openSync(tmp, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dfd = openSync(path.dirname(file), "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
