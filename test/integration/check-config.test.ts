// --check-config as an operator meets it: it refuses what would fail at start (or do harm),
// naming the key and the fix, for the user the program will run as.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PLUGIN = path.join(DIST, "plugin/parser.js");
const PROBER = path.join(DIST, "prober/main.js");
const root = process.getuid?.() === 0;

function workdir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-check-"));
  chmodSync(dir, 0o755);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const run = (program: string, args: string[], netns?: string) =>
  netns
    ? spawnSync("ip", ["netns", "exec", netns, process.execPath, program, ...args], { encoding: "utf8", timeout: 30_000 })
    : spawnSync(process.execPath, [program, ...args], { encoding: "utf8", timeout: 30_000 });

test("plugin --check-config --as-user: a directory that user cannot write is refused with the install -d fix", { skip: root ? false : "needs root to judge another user's access" }, () => {
  const { dir, cleanup } = workdir();
  try {
    const out = path.join(dir, "var-lib-lsprobe");
    const config = path.join(dir, "lsprobe.yaml");
    writeFileSync(config, `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  output:\n    file: ${out}/paths.json\n    socket: ${dir}/run/paths.sock\n  state-file: ${out}/lsdb.json\n`, { mode: 0o644 });
    // As root every directory can be made: OK.
    const asRoot = run(PLUGIN, ["--check-config", "--config", config]);
    assert.equal(asRoot.status, 0, asRoot.stderr);
    assert.match(asRoot.stderr, /OK for user root/);
    // As nobody, the root-owned 0755 parent lets it create nothing.
    const asNobody = run(PLUGIN, ["--check-config", "--config", config, "--as-user", "nobody"]);
    assert.equal(asNobody.status, 1);
    assert.match(asNobody.stderr, new RegExp(`plugin\\.output\\.file: ${out} does not exist, and nobody cannot create it \\(no write permission on ${dir}\\); fix: install -d -o nobody -g \\S+ -m 2750 ${out}`));
    assert.match(asNobody.stderr, /plugin\.output\.socket: .*run does not exist, and nobody cannot create it/);
    assert.match(asNobody.stderr, /plugin\.state-file: /);
    // The directory made as the fix says: OK for nobody too.
    mkdirSync(out);
    mkdirSync(`${dir}/run`);
    chmodSync(out, 0o777);
    chmodSync(`${dir}/run`, 0o777);
    const fixed = run(PLUGIN, ["--check-config", "--config", config, "--as-user", "nobody"]);
    assert.equal(fixed.status, 0, fixed.stderr);
    const unknown = run(PLUGIN, ["--check-config", "--config", config, "--as-user", "no-such-user-here"]);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /--as-user no-such-user-here: no such user/);
  } finally {
    cleanup();
  }
});

const NS = `lsp-chk-${process.pid}`;
test("prober --check-config: a loopback or unassigned source and a missing or world-readable key are refused; an assigned source passes", { skip: root ? false : "needs root for a network namespace" }, (t) => {
  const { dir, cleanup } = workdir();
  const ip = (...a: string[]) => {
    const r = spawnSync("ip", a, { encoding: "utf8" });
    assert.equal(r.status, 0, `ip ${a.join(" ")}: ${r.stderr}`);
  };
  t.after(() => {
    spawnSync("ip", ["netns", "del", NS]);
    cleanup();
  });
  // A namespace of our own where 198.18.251.1 is assigned (on its loopback device: nothing is sent).
  ip("netns", "add", NS);
  ip("-n", NS, "link", "set", "lo", "up");
  ip("-n", NS, "address", "add", "198.18.251.1/32", "dev", "lo");
  const config = path.join(dir, "lsprobe.yaml");
  const key = path.join(dir, "hmac.key");
  const write = (source: string, extra = ""): void =>
    writeFileSync(config, `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\nprober:\n  source: ${source}\n${extra}`, { mode: 0o644 });

  write("127.0.0.1");
  let r = run(PROBER, ["--check-config", "--config", config], NS);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /prober\.source: 127\.0\.0\.1 is a loopback address: probes would leave with a martian source.*; fix: /);

  write("198.18.251.2");
  r = run(PROBER, ["--check-config", "--config", config], NS);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /prober\.source: 198\.18\.251\.2 is not assigned to any interface of this host .*; fix: set prober\.source to one of them, or assign it \(ip address add 198\.18\.251\.2\/32 dev IFACE\)/);

  write("198.18.251.1", `  hmac-key-file: ${key}\n`);
  r = run(PROBER, ["--check-config", "--config", config], NS);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`prober\\.hmac-key-file: .*${key}.*does not exist; fix: head -c 32 /dev/urandom > ${key}`));

  writeFileSync(key, "0123456789abcdef0123456789abcdef", { mode: 0o644 });
  chmodSync(key, 0o644);
  r = run(PROBER, ["--check-config", "--config", config], NS);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /prober\.hmac-key-file: .* has mode 0644: anyone on this host can read the key and forge probes; fix: chmod 0640 /);

  chmodSync(key, 0o600);
  r = run(PROBER, ["--check-config", "--config", config], NS);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /OK for user root \(source 198\.18\.251\.1/);
  // prober.user must exist, and the key must be readable by it.
  write("198.18.251.1", `  hmac-key-file: ${key}\n  user: nobody\n`);
  r = run(PROBER, ["--check-config", "--config", config], NS);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /prober\.hmac-key-file: nobody cannot read /);
});
