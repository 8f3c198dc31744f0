// The prober for real: the NANOG 6 routers as network namespaces (veth links, forwarding, a GRE
// decapsulator in each), the prober in host h1 behind r1, probing the four r1->r6 paths out and
// back. Link r2-r4 goes down: exactly the path across it goes down and r2-r4 is the top suspect;
// repaired, it comes back; at the end every probe is accounted for.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Lab, nanogLab } from "./netns.js";
import { labPathSet } from "./pathset.js";

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../prober/main.js");
const skip = process.getuid?.() !== 0 ? "needs root (network namespaces, raw sockets)" : false;

interface PathsDoc {
  paths: Array<{ hops: string; state: string; sent: number; received: number; late: number; lost: number; inFlight: number; lastRttSeconds: number | null }>;
  suspects: Array<{ from: string; to: string; failing: number }>;
}

test("prober in the lab: four paths up; r2-r4 down is detected and named; repair; accounting", { skip }, async (t) => {
  const topo = nanogLab();
  const lab = await Lab.create(topo);
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-prober-lab-"));
  t.after(async () => {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  chmodSync(dir, 0o755);
  const set = await labPathSet(topo);
  const file = path.join(dir, "paths.json");
  writeFileSync(file, JSON.stringify(set));
  const h1 = topo.hosts.find((h) => h.name === "h1")!;
  const config = path.join(dir, "lsprobe.yaml");
  writeFileSync(
    config,
    `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\nprober:\n  source: ${h1.address}\n  router: r1\n  paths:\n    socket: null\n    file: ${file}\n  rate: 20\n  timeout: 200ms\n  down-after: 3\n  up-after: 3\n  loss-window: 3s\n  listen: 127.0.0.1:9469\nlog:\n  level: info\n`,
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
  const until = async (what: string, ok: (d: PathsDoc) => boolean, ms: number): Promise<PathsDoc> => {
    const end = Date.now() + ms;
    for (;;) {
      const d = await paths().catch(() => undefined);
      if (d && ok(d)) return d;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(d?.paths.map((p) => [p.hops, p.state]))}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const state = (d: PathsDoc): Record<string, string> => Object.fromEntries(d.paths.map((p) => [p.hops, p.state]));

  const healthy = await until("four paths up", (d) => d.paths.length === 4 && d.paths.every((p) => p.state === "up"), 10_000);
  for (const p of healthy.paths) {
    assert.ok(p.lastRttSeconds !== null && p.lastRttSeconds > 0 && p.lastRttSeconds < 0.1, `${p.hops} RTT ${p.lastRttSeconds}`);
    assert.equal(p.lost, 0, p.hops);
  }

  await lab.linkDown("r2", "r4");
  const t0 = Date.now();
  const broken = await until("the path across r2-r4 down", (d) => state(d)["r1>r2>r4>r6"] === "down", 5_000);
  const detectS = (Date.now() - t0) / 1000;
  assert.ok(detectS < 3, `detected in ${detectS} s: within 3 intervals of 1 s`);
  assert.deepEqual(state(broken), { "r1>r2>r4>r6": "down", "r1>r2>r5>r6": "up", "r1>r3>r4>r6": "up", "r1>r3>r5>r6": "up" });
  const top = await until("r2-r4 named", (d) => d.suspects.length > 0, 3_000);
  assert.deepEqual([top.suspects[0].from, top.suspects[0].to].sort(), ["r2", "r4"]);
  assert.ok(top.suspects.every((s) => [s.from, s.to].sort().join() === "r2,r4"), JSON.stringify(top.suspects));
  const logged = /link suspect.*from=r2 to=r4|link suspect.*from=r4 to=r2/;
  for (const end = Date.now() + 3000; !logged.test(stderr) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
  assert.match(stderr, logged);

  await lab.linkUp("r2", "r4");
  await until("all up again, suspects cleared", (d) => d.paths.every((p) => p.state === "up") && d.suspects.length === 0, 10_000);

  const end = await paths();
  for (const p of end.paths) assert.equal(p.sent, p.received + p.late + p.lost + p.inFlight, `${p.hops}: accounting`);
  assert.ok(end.paths.find((p) => p.hops === "r1>r2>r4>r6")!.lost > 0);

  prober.kill("SIGTERM");
  assert.equal(await exited, 0);
});
