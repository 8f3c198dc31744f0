// Pinned traces for real: the NANOG 6 routers as network namespaces with the userspace
// decapsulator, the prober in h1 probing the four r1 -> r6 paths out and back.
//  - A gray 10% loss on r2 -> r4 (one way, in r4's decapsulator): `lsprobe-prober trace
//    r1>r2>r4>r6` (the CLI, in h1, against the prober's GET /trace) says the loss starts at hop
//    2, r2 -> r4, and hop 1 loses nothing.
//  - r4's decapsulator told to stop decapsulating: the paths across r4 go down, their automatic
//    traces stop right before r4 from r2 and from r3, the prober reports r4 as not decapsulating
//    (/paths, lsprobe_router_decap_ok 0, an error in its log), and the real alert rules,
//    evaluated by promtool over the prober's own /metrics, raise no LsprobeLinkSuspect for a
//    link of r4 while LsprobeRouterNotDecapsulating's expression names r4.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { Lab, nanogLab } from "./netns.js";
import { labPathSet } from "./pathset.js";
import type { TraceResult } from "../../prober/trace.js";
import type { RouterDecap } from "../../prober/trace.js";
import { PROMTOOL } from "../util/promtool.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(HERE, "../../prober/main.js");
const ALERTS = path.resolve(HERE, "../../../monitoring/prometheus/lsprobe-alerts.rules.yml");
const skip = process.getuid?.() !== 0 ? "needs root (network namespaces, raw sockets)" : false;

interface PathsDoc {
  paths: Array<{ path: string; hops: string; state: string; received: number; trace?: TraceResult }>;
  suspects: Array<{ link: string; from: string; to: string }>;
  routers: RouterDecap[];
}

async function startLab(t: { after(fn: () => Promise<void>): void }) {
  const topo = nanogLab();
  const lab = await Lab.create(topo, { decap: "userspace" });
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-trace-lab-"));
  let stderr = "";
  let prober: ReturnType<Lab["spawnIn"]> | undefined;
  t.after(async () => {
    prober?.kill("SIGTERM");
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
      `  rate: 20\n  timeout: 200ms\n  down-after: 3\n  up-after: 3\n  loss-window: 3s\n  lossy-above: 0.02\n  listen: 127.0.0.1:9469\nlog:\n  level: info\n`,
  );
  prober = lab.spawnIn("h1", [process.execPath, MAIN, "--config", config]);
  prober.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const get = async (what: string): Promise<string> => {
    const r = await lab.exec("h1", [process.execPath, "-e", `fetch('http://127.0.0.1:9469${what}').then(r=>r.text()).then(t=>process.stdout.write(t))`], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr + stderr);
    return r.stdout;
  };
  const paths = async (): Promise<PathsDoc> => JSON.parse(await get("/paths")) as PathsDoc;
  const until = async (what: string, ok: (d: PathsDoc) => boolean, ms = 30_000): Promise<PathsDoc> => {
    const end = Date.now() + ms;
    let d: PathsDoc | undefined;
    for (;;) {
      d = await paths().catch(() => undefined);
      if (d && ok(d)) return d;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(d?.paths.map((p) => [p.hops, p.state, p.trace?.stopsAt]))} ${JSON.stringify(d?.routers)}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  await until("four paths up", (d) => d.paths.length === 4 && d.paths.every((p) => p.state === "up" && p.received >= 20));
  return { lab, get, paths, until, stderr: () => stderr };
}

test("trace in the lab: a gray 10% loss on r2 -> r4: the trace of r1>r2>r4>r6 says the loss starts at the r2 -> r4 hop", { skip, timeout: 120_000 }, async (t) => {
  const s = await startLab(t);
  s.lab.setFault("r2", "r4", { loss: 0.1 });
  // The CLI in h1, against the running prober (it waits for the trace to finish).
  const cli = await s.lab.exec("h1", [process.execPath, MAIN, "trace", "r1>r2>r4>r6", "--url", "http://127.0.0.1:9469", "--json"], { timeoutMs: 60_000 });
  assert.equal(cli.code, 1, `exit 1: a hop loses\n${cli.stdout}${cli.stderr}${s.stderr()}`);
  const tr = JSON.parse(cli.stdout) as TraceResult;
  t.diagnostic(tr.perHop.map((h) => `hop ${h.k} ${h.from} -> ${h.to}: ${h.received}/${h.sent}`).join("; "));
  assert.equal(tr.hops, "r1>r2>r4>r6");
  assert.equal(tr.stopsAt, null, "gray: probes still come back");
  assert.equal(tr.firstLoss, 2, "the loss starts at hop 2");
  assert.deepEqual([tr.failing?.from, tr.failing?.to], ["r2", "r4"]);
  assert.equal(tr.perHop[0].lost, 0, "r1 -> r2 and back loses nothing");
  assert.ok(tr.perHop[1].lossRatio! > 0.02 && tr.perHop[1].lossRatio! < 0.3, `hop 2 loses ${tr.perHop[1].lossRatio}`);
  assert.ok(tr.perHop.every((h) => h.rttP50Seconds !== null && h.rttP50Seconds > 0 && h.rttP50Seconds < 0.1));
  // The table form, and the same trace in /paths and in the log.
  const table = await s.lab.exec("h1", [process.execPath, MAIN, "trace", "r1>r2>r4>r6"], { timeoutMs: 60_000 });
  assert.match(table.stdout, /^2 +r2 -> r4 .*<- loss starts$/m, table.stdout + table.stderr);
  const d = await s.paths();
  assert.equal(d.paths.find((p) => p.hops === "r1>r2>r4>r6")?.trace?.firstLoss, 2);
  assert.match(s.stderr(), /loss starts at hop 2, r2 -> r4/);
  const metrics = await s.get("/metrics");
  assert.match(metrics, /^lsprobe_trace_first_failing_hop\{path="[^"]+",class="default",hops="r1>r2>r4>r6",af="ipv4"\} 2$/m);
  assert.match(metrics, /^lsprobe_trace_hop_loss_ratio\{path="[^"]+",class="default",hops="r1>r2>r4>r6",af="ipv4",hop="1",from="r1",to="r2"\} 0$/m);
  // A gray link is no decap problem.
  assert.ok(d.routers.every((r) => r.ok), JSON.stringify(d.routers));
});

test("trace in the lab: r4 not decapsulating is reported as such, and no link alert fires for its links", { skip, timeout: 120_000 }, async (t) => {
  const s = await startLab(t);
  s.lab.setDecap("r4", false);
  const d = await s.until("r4 reported as not decapsulating", (x) => x.routers.some((r) => r.router === "r4" && !r.ok));
  assert.deepEqual(d.routers.filter((r) => !r.ok).map((r) => r.router), ["r4"], "r4 alone");
  assert.deepEqual(d.routers.find((r) => r.router === "r4")?.from, ["r2", "r3"], "from both directions");
  for (const hops of ["r1>r2>r4>r6", "r1>r3>r4>r6"]) {
    const p = d.paths.find((x) => x.hops === hops)!;
    assert.equal(p.state, "down", hops);
    assert.equal(p.trace?.stopsAt, 2, `${hops}: the trace stops right before r4`);
  }
  for (const hops of ["r1>r2>r5>r6", "r1>r3>r5>r6"]) assert.equal(d.paths.find((x) => x.hops === hops)?.state, "up", hops);
  assert.match(s.stderr(), /router does not decapsulate: a configuration problem/);
  const counters = await s.lab.decapCounters();
  assert.ok((counters.r4.dropped["decap-off"] ?? 0) > 0, "r4's decapsulator dropped what it was sent");

  // The prober's own metrics, through the real alert rules (promtool): no LsprobeLinkSuspect
  // for a link into or out of r4, whatever the inference blames; LsprobeRouterNotDecapsulating's
  // expression is r4.
  const metrics = await s.get("/metrics");
  assert.match(metrics, /^lsprobe_router_decap_ok\{router="r4",af="ipv4"\} 0$/m);
  for (const r of ["r1", "r2", "r3", "r5", "r6"]) assert.match(metrics, new RegExp(`^lsprobe_router_decap_ok\\{router="${r}",af="ipv4"\\} 1$`, "m"));
  const series = metrics.split("\n").filter((l) => /^lsprobe_(link_suspect|router_decap_ok)\{/.test(l));
  const suspects = series.filter((l) => l.startsWith("lsprobe_link_suspect{") && l.endsWith(" 1"));
  t.diagnostic(`links the prober suspects: ${suspects.map((l) => /from="(\w+)",to="(\w+)"/.exec(l)!.slice(1).join(" -> ")).join(", ") || "none"}`);
  for (const l of suspects) assert.match(l, /(from|to)="r4"/, `only r4's links are blamed: ${l}`);
  if (!PROMTOOL) return t.skip("promtool is not installed: the alert rules are not evaluated");
  const rules = parse(readFileSync(ALERTS, "utf8")) as { groups: Array<{ rules: Array<{ alert?: string; expr: string }> }> };
  const expr = (name: string): string => rules.groups.flatMap((g) => g.rules).find((r) => r.alert === name)!.expr;
  const inst = 'job="lsprobe-prober",instance="127.0.0.1:9469"';
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-trace-promtool-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "trace-lab.test.yml");
  writeFileSync(
    file,
    stringify({
      evaluation_interval: "15s",
      tests: [
        {
          interval: "15s",
          input_series: series.map((l) => {
            const [, name, labels, value] = /^(\w+)\{(.*)\} (\S+)$/.exec(l)!;
            return { series: `${name}{${inst},${labels}}`, values: `${value}x4` };
          }),
          promql_expr_test: [
            { expr: expr("LsprobeLinkSuspect"), eval_time: "30s", exp_samples: [] },
            { expr: expr("LsprobeRouterNotDecapsulating"), eval_time: "30s", exp_samples: [{ labels: `lsprobe_router_decap_ok{${inst},router="r4",af="ipv4"}`, value: 0 }] },
          ],
        },
      ],
    }),
  );
  const r = spawnSync(PROMTOOL, ["test", "rules", file], { encoding: "utf8" });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}\n${readFileSync(file, "utf8")}`);

  // Decapsulating again: the paths come back and r4 is ok.
  s.lab.setDecap("r4", true);
  await s.until("r4 decapsulating again, four paths up", (x) => x.routers.every((rr) => rr.ok) && x.paths.every((p) => p.state === "up"));
});
