// The prober daemon as a process: config errors, --help, and what happens without CAP_NET_RAW.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
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

test(
  "prober process: drops to prober.user once its sockets are open; SIGHUP reloads, a bad reload keeps the running config",
  { skip: process.getuid?.() !== 0 ? "needs root to open a raw socket and switch users" : false },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-prober-"));
    chmodSync(dir, 0o755);
    const file = path.join(dir, "paths.json");
    // A path set with no path: the prober runs, probes nothing, sends nothing anywhere.
    writeFileSync(file, JSON.stringify({ schema: "lsprobe/pathset", version: 1, generation: 1, time: new Date().toISOString(), mode: "all", topology: { digest: "x", nodes: 0, links: 0, prefixes: 0, peers: [], stale: false }, pairs: [], paths: [] }), { mode: 0o644 });
    const config = path.join(dir, "lsprobe.yaml");
    const port = 19000 + (process.pid % 1000);
    const text = (rate: number | string): string =>
      `${BASE}prober:\n  source: 127.0.0.1\n  port: ${port + 1}\n  user: nobody\n  rate: ${rate}\n  listen: 127.0.0.1:${port}\n  paths:\n    socket: null\n    file: ${file}\n`;
    writeFileSync(config, text(10), { mode: 0o644 });
    // An `id` first on PATH that leaves a mark: the prober, still root, must not run it (it
    // resolves prober.user from /etc/passwd).
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(path.join(bin, "id"), `#!/bin/sh\ntouch ${path.join(dir, "id-was-run")}\nexec /usr/bin/id "$@"\n`, { mode: 0o755 });
    const child = spawn(process.execPath, [MAIN, "--config", config], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    try {
      const until = async (what: string, ok: () => boolean): Promise<void> => {
        for (const end = Date.now() + 10_000; !ok(); ) {
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${err}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await until("start", () => /started/.test(err));
      const uid = readFileSync(`/proc/${child.pid}/status`, "utf8").match(/^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m)!;
      assert.deepEqual(uid.slice(1, 4), ["65534", "65534", "65534"], "real, effective and saved uid are nobody's");
      assert.equal(existsSync(path.join(dir, "id-was-run")), false, "no program from $PATH was run as root");
      const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(await metrics(), /^lsprobe_config_last_reload_successful 1$/m);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);

      writeFileSync(config, text(20));
      child.kill("SIGHUP");
      await until("reload", () => /configuration reloaded/.test(err));
      writeFileSync(config, text("lots"));
      child.kill("SIGHUP");
      await until("failed reload", () => /configuration reload failed/.test(err));
      assert.match(err, /prober\.rate: expected a number/);
      assert.match(await metrics(), /^lsprobe_config_last_reload_successful 0$/m);
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "prober process: an invalid config and an unassigned source are waited out, not exits (systemd would restart it into the same error)",
  { skip: process.getuid?.() !== 0 ? "needs root for a network namespace and a raw socket" : false },
  async (t) => {
    const ns = `lsp-wait-${process.pid}`;
    const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-prober-"));
    chmodSync(dir, 0o755);
    const file = path.join(dir, "paths.json");
    writeFileSync(file, JSON.stringify({ schema: "lsprobe/pathset", version: 1, generation: 1, time: new Date().toISOString(), mode: "all", topology: { digest: "x", nodes: 0, links: 0, prefixes: 0, peers: [], stale: false }, pairs: [], paths: [] }));
    const config = path.join(dir, "lsprobe.yaml");
    const good = `${BASE}prober:\n  source: 198.18.252.1\n  listen: 127.0.0.1:9469\n  paths:\n    socket: null\n    file: ${file}\n`;
    writeFileSync(config, good.replace("source: 198.18.252.1", "source: 198.18.252.1\n  rate: fast"));
    // A namespace of our own, where the source is not assigned yet: nothing can leave it.
    assert.equal(spawnSync("ip", ["netns", "add", ns]).status, 0);
    spawnSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, MAIN, "--config", config], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    t.after(() => {
      child.kill("SIGKILL");
      spawnSync("ip", ["netns", "del", ns]);
      rmSync(dir, { recursive: true, force: true });
    });
    const until = async (what: string, ok: () => boolean): Promise<void> => {
      for (const end = Date.now() + 15_000; !ok(); ) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until("the config error", () => /not valid \(start\); waiting for a good one/.test(err));
    assert.match(err, /prober\.rate: expected a number/);
    writeFileSync(config, good); // the file watch picks it up
    await until("the bind problem", () => /prober\.source 198\.18\.252\.1 is not assigned to any interface here \(yet\?\); fix: assign it/.test(err));
    assert.equal(child.exitCode, null, "still running");
    assert.equal(spawnSync("ip", ["-n", ns, "address", "add", "198.18.252.1/32", "dev", "lo"]).status, 0);
    await until("start", () => /INFO .*started/.test(err));
    assert.match(err, /binding the probe port 198\.18\.252\.1:9470: done after \d+ failed attempt/);
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
  },
);
