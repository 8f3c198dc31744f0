// The plugin's outputs under failure: logged once with the fix, retried, newest document wins;
// temporary files are exclusive and cleaned up; modes are the contract's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { createLogger } from "../../shared/log.js";
import { readUserDb, currentIdentity } from "../../shared/users.js";
import { FileOutput, SocketOutput } from "../../plugin/publish/outputs.js";
import { removeStaleTemps, writeFileAtomic, writeFileAtomicSync } from "../../plugin/publish/file.js";
import { SocketPublisher } from "../../plugin/publish/socket.js";

function sink() {
  const lines: string[] = [];
  const log = createLogger({ name: "t", stream: { write: (s: string) => lines.push(s) } });
  return { lines, log };
}

const users = readUserDb();

function ctx(log: ReturnType<typeof sink>["log"]) {
  return { log: () => log, who: currentIdentity(users), users, minRetryMs: 20, maxRetryMs: 40 };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), "lsprobe-out-"));
}

test("FileOutput: a directory in the way fails once in the log with the fix, retries, and writes the newest document when it can", async () => {
  const dir = tmp();
  try {
    const blocker = path.join(dir, "var");
    writeFileSync(blocker, "a file where the directory should be");
    const { lines, log } = sink();
    const out = new FileOutput("file", path.join(blocker, "lsprobe", "paths.json"), ctx(log));
    await out.write("one\n");
    assert.equal(out.ok, false);
    assert.equal(out.errors, 1);
    assert.match(out.lastError!, /cannot write .*paths\.json: a part of the path is not a directory \((ENOTDIR|EEXIST)\); fix: remove or rename/);
    await out.write("two\n"); // replaces the pending one
    await until("a few retries", () => out.errors >= 3);
    assert.equal(lines.filter((l) => / ERROR /.test(l)).length, 1, "one log line per failure, not per retry");
    rmSync(blocker);
    await until("recovered", () => out.ok);
    assert.equal(readFileSync(path.join(blocker, "lsprobe", "paths.json"), "utf8"), "two\n", "the newest document, never an older one");
    assert.ok(lines.some((l) => /INFO .*file: written again/.test(l)));
    out.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("FileOutput: directories 0750 and files 0640 whatever the umask", async () => {
  const dir = tmp();
  const old = process.umask(0);
  try {
    const file = path.join(dir, "a", "b", "paths.json");
    const out = new FileOutput("file", file, ctx(sink().log));
    await out.write("x\n");
    assert.equal(out.ok, true);
    assert.equal(statSync(path.join(dir, "a")).mode & 0o777, 0o750);
    assert.equal(statSync(path.join(dir, "a", "b")).mode & 0o777, 0o750);
    assert.equal(statSync(file).mode & 0o777, 0o640);
    writeFileAtomicSync(file, "y\n");
    assert.equal(statSync(file).mode & 0o777, 0o640);
    out.close();
  } finally {
    process.umask(old);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writeFileAtomic: temporary names are random and never followed through a planted symlink", async () => {
  const dir = tmp();
  try {
    const file = path.join(dir, "paths.json");
    const victim = path.join(dir, "victim");
    writeFileSync(victim, "secret", { mode: 0o600 });
    // Plant a symlink under the old, predictable temporary name, and under every name a pid-only scheme could use.
    symlinkSync(victim, path.join(dir, `.paths.json.${process.pid}.tmp`));
    await writeFileAtomic(file, "doc\n");
    writeFileAtomicSync(file, "doc2\n");
    assert.equal(readFileSync(victim, "utf8"), "secret");
    assert.equal(readFileSync(file, "utf8"), "doc2\n");
    const temps = readdirSync(dir).filter((n) => n.endsWith(".tmp"));
    assert.deepEqual(temps, [`.paths.json.${process.pid}.tmp`], "no temporary file of ours is left behind");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("removeStaleTemps: a killed writer's temporary files go, a live writer's stay", () => {
  const dir = tmp();
  try {
    const file = path.join(dir, "paths.json");
    // A pid that is surely gone: a child that has exited.
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
    writeFileSync(path.join(dir, `.paths.json.${dead}.0123456789abcdef.tmp`), "half a document");
    writeFileSync(path.join(dir, `.paths.json.${dead}.tmp`), "old naming");
    writeFileSync(path.join(dir, `.paths.json.1.0123456789abcdef.tmp`), "pid 1 is alive");
    writeFileSync(path.join(dir, `.other.json.${dead}.tmp`), "not ours");
    const removed = removeStaleTemps(file).sort();
    assert.deepEqual(removed, [`.paths.json.${dead}.0123456789abcdef.tmp`, `.paths.json.${dead}.tmp`]);
    assert.ok(existsSync(path.join(dir, `.paths.json.1.0123456789abcdef.tmp`)));
    assert.ok(existsSync(path.join(dir, `.other.json.${dead}.tmp`)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("SocketOutput: a socket another process serves is reported with the fix and taken over once it is free; its file is never removed by us", async () => {
  const dir = tmp();
  try {
    const sock = path.join(dir, "paths.sock");
    const other = new SocketPublisher({ path: sock, mode: 0o660 });
    await other.listen();
    const { lines, log } = sink();
    const out = new SocketOutput(sock, 0o660, ctx(log));
    out.publish("{\"generation\":1}");
    await out.start();
    assert.equal(out.ok, false);
    assert.match(out.lastError!, /another process serves this socket; fix: stop it/);
    await out.close(); // must not unlink the other process's socket
    assert.ok(existsSync(sock));
    const again = new SocketOutput(sock, 0o660, ctx(log));
    again.publish("{\"generation\":1}");
    await again.start();
    assert.equal(again.ok, false);
    await other.close();
    await until("listening", () => again.ok);
    assert.ok(lines.some((l) => /socket: listening again/.test(l)));
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
