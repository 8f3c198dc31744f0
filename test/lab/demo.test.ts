// The demo, headless, from start to teardown: the story's detections must be in its output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findExabgp } from "./exabgp.js";

const DEMO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "demo.js");
const skip = process.getuid?.() !== 0 ? "needs root (network namespaces, raw sockets)" : findExabgp() === undefined ? "exabgp is not installed" : false;

test("demo --no-tty tells the story and leaves nothing behind", { skip, timeout: 240_000 }, async () => {
  const child = spawn(process.execPath, [DEMO, "--no-tty", "--phase-seconds", "3"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  assert.equal(code, 0, out);
  assert.match(out, /DETECTED: link (r2 -> r4|r4 -> r2) suspected; failing: r1>r2>r4>r6\n/);
  assert.match(out, /RECOVERED: all paths up, no suspect link/);
  assert.match(out, /DETECTED: path set generation \d+ has 3 paths \(was 4\); probes follow, none crosses r2-r4/);
  assert.match(out, /RECOVERED: 4 paths again, all up/);
  assert.match(out, /lab removed: no namespace, process or socket left/);
  const ns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
  assert.doesNotMatch(ns, /^lsp-/m);
});
