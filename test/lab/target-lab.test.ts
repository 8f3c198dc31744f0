// Router targets for real (plugin.paths.target: router): the NANOG 6 routers as network
// namespaces, each owning its loopback 198.19.0.N/32 (on lo), which the lab's BGP-LS model
// announces as the router's TE router id and /32 prefix; the userspace decapsulator in each
// takes GRE for any local address, the loopback included. The path set computed from that
// BGP-LS for the config's target sends every layer to a loopback; the prober in h1 probes the
// four r1->r6 paths out and back: all up with an RTT and no loss, and a capture in every router
// (a raw socket for protocol 47 beside the decapsulator's) shows GRE arriving for its loopback
// only, never for an interface address.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Lab, nanogLab } from "./netns.js";
import { labPathSet } from "./pathset.js";
import { loadConfig } from "../../shared/config.js";

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../prober/main.js");
const RAWSOCK = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../prober/rawsock.js")).href;
const skip = process.getuid?.() !== 0 ? "needs root (network namespaces, raw sockets)" : false;

/** For `ms`, the outer destinations of the GRE packets delivered to the namespace it runs in, with counts. */
const CAPTURE = (ms: number): string => `
import { RawSocket } from ${JSON.stringify(RAWSOCK)};
const seen = {};
const g = RawSocket.open({ protocol: 47 });
g.on("message", (buf) => { const d = buf[16] + "." + buf[17] + "." + buf[18] + "." + buf[19]; seen[d] = (seen[d] ?? 0) + 1; });
setTimeout(() => { g.close(); process.stdout.write(JSON.stringify(seen)); }, ${ms});
`;

interface PathsDoc {
  paths: Array<{ hops: string; state: string; sent: number; received: number; lost: number; lastRttSeconds: number | null }>;
}

test("router targets in the lab: the four r1->r6 paths probed via the routers' loopbacks: up, RTT, no loss", { skip, timeout: 60_000 }, async (t) => {
  const topo = nanogLab();
  const lab = await Lab.create(topo, { decap: "userspace" });
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-target-lab-"));
  t.after(async () => {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  chmodSync(dir, 0o755);
  const h1 = topo.hosts.find((h) => h.name === "h1")!;
  const file = path.join(dir, "paths.json");
  const config = path.join(dir, "lsprobe.yaml");
  writeFileSync(
    config,
    `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  paths:\n    target: router\nprober:\n  source: ${h1.address}\n  router: r1\n  paths:\n    socket: null\n    file: ${file}\n` +
      `  rate: 20\n  timeout: 200ms\n  loss-window: 3s\n  listen: 127.0.0.1:9469\nlog:\n  level: info\n`,
  );
  // The path set the plugin computes from the lab's BGP-LS for this configuration's paths section.
  const pc = loadConfig(config).plugin.paths;
  assert.equal(pc.target, "router");
  const set = await labPathSet(topo, [["r1", "r6"]], { target: pc.target, targetPerRouter: pc.targetPerRouter });
  writeFileSync(file, JSON.stringify(set));
  const loopback = new Map(topo.routers.map((r) => [r.name, r.loopback]));
  const out = set.paths.filter((p) => p.src === "r1");
  assert.equal(out.length, 4);
  for (const p of out)
    for (const g of [...p.gre, ...p.greReverse]) {
      assert.equal(g.target, "router");
      assert.equal(g.source, "te-router-id");
      assert.equal(g.address, loopback.get(g.node), `${g.node}: its loopback`);
      assert.ok(g.address.startsWith("198.19."), g.address);
    }

  let stderr = "";
  const prober = lab.spawnIn("h1", [process.execPath, MAIN, "--config", config]);
  prober.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => prober.on("exit", (c) => r(c)));
  const paths = async (): Promise<PathsDoc> => {
    const r = await lab.exec("h1", [process.execPath, "-e", "fetch('http://127.0.0.1:9469/paths').then(r=>r.text()).then(t=>process.stdout.write(t))"]);
    assert.equal(r.code, 0, r.stderr + stderr);
    return JSON.parse(r.stdout) as PathsDoc;
  };
  const end = Date.now() + 15_000;
  let d: PathsDoc | undefined;
  for (;;) {
    d = await paths().catch(() => undefined);
    if (d && d.paths.length === 4 && d.paths.every((p) => p.state === "up" && p.received >= 20)) break;
    if (Date.now() > end) throw new Error(`timed out waiting for four paths up: ${JSON.stringify(d?.paths.map((p) => [p.hops, p.state]))}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(d.paths.map((p) => p.hops).sort(), ["r1>r2>r4>r6", "r1>r2>r5>r6", "r1>r3>r4>r6", "r1>r3>r5>r6"]);
  for (const p of d.paths) {
    assert.ok(p.lastRttSeconds !== null && p.lastRttSeconds > 0 && p.lastRttSeconds < 0.1, `${p.hops} RTT ${p.lastRttSeconds}`);
    assert.equal(p.lost, 0, `${p.hops}: no loss`);
  }

  // What each router is sent while the prober runs: GRE to its loopback, nothing else.
  const seen = await Promise.all(
    topo.routers.map(async (r) => {
      const o = await lab.exec(r.name, [process.execPath, "--input-type=module", "-e", CAPTURE(1000)], { timeoutMs: 10_000 });
      assert.equal(o.code, 0, o.stderr);
      return [r.name, JSON.parse(o.stdout) as Record<string, number>] as const;
    }),
  );
  for (const [router, dsts] of seen) assert.deepEqual(Object.keys(dsts), [loopback.get(router)], `${router} is sent GRE for ${JSON.stringify(dsts)}`);

  // The decapsulators decapsulated for the loopbacks and dropped nothing.
  const counters = await lab.decapCounters();
  for (const [router, c] of Object.entries(counters)) {
    assert.deepEqual(c.dropped, {}, `${router} drops`);
    assert.ok(c.forwarded > 0, `${router} forwarded`);
  }
  const last = await paths();
  for (const p of last.paths) assert.equal(p.lost, 0, `${p.hops}: no loss at the end`);
  prober.kill("SIGTERM");
  assert.equal(await exited, 0);
});
