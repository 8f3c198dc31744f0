// The prober daemon as a process: config errors, --help, and what happens without CAP_NET_RAW.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../prober/main.js");

function withConfig(text: string, f: (config: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-prober-"));
  try {
    chmodSync(dir, 0o755);
    const config = path.join(dir, "lsprobe.yaml");
    writeFileSync(config, text, { mode: 0o644 });
    f(config);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BASE = `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n`;

test("prober process: --check-config names the key; a config without a prober section is refused", () => {
  withConfig(`${BASE}prober:\n  source: 198.18.100.2\n  rate: fast\n`, (config) => {
    const r = spawnSync(process.execPath, [MAIN, "--check-config", "--config", config], { encoding: "utf8" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /lsprobe\.yaml:6:3: prober\.rate: expected a number greater than 0/);
  });
  withConfig(BASE, (config) => {
    const r = spawnSync(process.execPath, [MAIN, "--check-config", "--config", config], { encoding: "utf8" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /needs a prober: section/);
  });
  const help = spawnSync(process.execPath, [MAIN, "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /CAP_NET_RAW/);
  assert.match(help.stdout, /prober\.src-port-range/);
});

const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));
test(
  "prober process: without CAP_NET_RAW it exits with a message that says how to grant it",
  { skip: process.getuid?.() !== 0 ? "needs root to switch to an unprivileged user" : setpriv ? false : "setpriv (util-linux) not installed" },
  () => {
    withConfig(`${BASE}prober:\n  source: 127.0.0.1\n  paths:\n    socket: null\n    file: /nonexistent/paths.json\n`, (config) => {
      const r = spawnSync(setpriv!, ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", process.execPath, MAIN, "--config", config], {
        encoding: "utf8",
        timeout: 20_000,
      });
      assert.equal(r.status, 77, r.stderr);
      assert.match(r.stderr, /CAP_NET_RAW/);
      assert.match(r.stderr, /setcap cap_net_raw\+ep/);
    });
  },
);
