// Encapsulation per router, for real: the NANOG 6 routers as network namespaces with the
// userspace decapsulator (GRE and IP-in-IP) in each, the prober in h1 probing the four r1->r6
// paths out and back with `encap-per-router: {r4: ipip}`. The paths across r4 mix GRE and
// IP-in-IP layers (r1>r2>r4>r6: GRE for r2, IP-in-IP for r4, GRE for r6 and back). All four are
// up with an RTT and no loss, and a packet counter in r4 and in r5 (a raw socket per protocol,
// beside the decapsulator's) shows what each router was sent: only IP-in-IP at r4, only GRE at r5.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Lab, nanogLab } from "./netns.js";
import { labPathSet } from "./pathset.js";

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../prober/main.js");
const RAWSOCK = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../prober/rawsock.js")).href;
const skip = process.getuid?.() !== 0 ? "needs root (network namespaces, raw sockets)" : false;

/** Counts, for `ms`, the GRE (47) and IP-in-IP (4) packets delivered to the namespace it runs in. */
const COUNTER = (ms: number): string => `
import { RawSocket } from ${JSON.stringify(RAWSOCK)};
const n = { gre: 0, ipip: 0 };
const g = RawSocket.open({ protocol: 47 }), i = RawSocket.open({ protocol: 4 });
g.on("message", () => n.gre++);
i.on("message", () => n.ipip++);
setTimeout(() => { g.close(); i.close(); process.stdout.write(JSON.stringify(n)); }, ${ms});
`;

interface PathsDoc {
  paths: Array<{ hops: string; state: string; sent: number; received: number; lost: number; lastRttSeconds: number | null }>;
}

test("encap per router in the lab: r4 IP-in-IP, the others GRE: four paths up with RTT, no loss", { skip, timeout: 60_000 }, async (t) => {
  const topo = nanogLab();
  const lab = await Lab.create(topo, { decap: "userspace" });
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-encap-lab-"));
  t.after(async () => {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  chmodSync(dir, 0o755);
  const file = path.join(dir, "paths.json");
  writeFileSync(file, JSON.stringify(await labPathSet(topo)));
  const h1 = topo.hosts.find((h) => h.name === "h1")!;
  const config = path.join(dir, "lsprobe.yaml");
  writeFileSync(
    config,
    `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\nprober:\n  source: ${h1.address}\n  router: r1\n  paths:\n    socket: null\n    file: ${file}\n` +
      `  encap: gre\n  encap-per-router:\n    r4: ipip\n  rate: 20\n  timeout: 200ms\n  loss-window: 3s\n  listen: 127.0.0.1:9469\nlog:\n  level: info\n`,
  );
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

  // What each router is sent while the prober runs: r4 only IP-in-IP, r5 only GRE.
  const [r4, r5] = await Promise.all(
    ["r4", "r5"].map(async (r) => {
      const out = await lab.exec(r, [process.execPath, "--input-type=module", "-e", COUNTER(1000)], { timeoutMs: 10_000 });
      assert.equal(out.code, 0, out.stderr);
      return JSON.parse(out.stdout) as { gre: number; ipip: number };
    }),
  );
  assert.ok(r4.ipip > 0 && r4.gre === 0, `r4 sees ${JSON.stringify(r4)}`);
  assert.ok(r5.gre > 0 && r5.ipip === 0, `r5 sees ${JSON.stringify(r5)}`);

  // The decapsulators dropped nothing.
  const counters = await lab.decapCounters();
  for (const [router, c] of Object.entries(counters)) assert.deepEqual(c.dropped, {}, `${router} drops`);
  assert.ok(counters.r4.forwarded > 0);

  const last = await paths();
  for (const p of last.paths) assert.equal(p.lost, 0, `${p.hops}: no loss at the end`);
  prober.kill("SIGTERM");
  assert.equal(await exited, 0);
});
