// bench/fleet: many probers (issue 14, acceptance "bench/fleet"), each figure beside the
// one-prober figure measured in the same run.
//
//   node dist/bench/fleet.js [--probers 100,1000] [--clients 2] [--generations 3] [--storm-budget 120]
//                            [--max-per-pair 2] [--rounds 5] [--only service,infer]
//   FLEET_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the plugin (written on its clean exit).
//
// Service: the real plugin process (dist/plugin/parser.js, a temporary config: plugin.serve on
// 127.0.0.1 with a bearer token, mode all, the 32 edge switches of fattree_k8 as one endpoint
// group, max-per-pair 2: 1,984 paths, debounce 0) fed fattree_k8 as ExaBGP lines on stdin
// (test/util/exabgp-lines.ts), then N simulated probers (bench/lib/fleet-client.ts: plain
// node:http clients that long-poll their slices as prober/pathsource.ts does) in --clients forked
// processes, each registered with its own id behind one of the edge switches (round robin), all
// starting at once. Measured with 1 prober, then with each N, each on a fresh plugin:
//   - the fetch storm: time to first slice per prober (its first 200), and how long until no
//     prober got a 200 for 2 s (the assignment settled: each arrival moves loops to the new
//     prober and wakes the long-polls whose share moved), within --storm-budget seconds;
//   - once settled, a new generation: one link metric changed on stdin (p0-e0 -> p0-a0, 1 <-> 5),
//     from the write to each prober holding the new generation (p50, p99, max), --generations times;
//   - the plugin's CPU seconds (/proc/PID/stat utime + stime) over each phase, and its RSS
//     (/proc/PID/status VmRSS, VmHWM) after it.
// The clients' own CPU is reported so a bottleneck on their side would show.
//
// One view: 100 probers behind 100 edge switches of fattree_k16, 1,000 equal-cost paths each
// (plugin/ecmp.ts), probed out and back, 30 s windows at 25 probes/s a path (750 probes), 1e-4
// background loss on every link and 3 injected lossy directed links (2 %, 3 %, 10 %). Each round
// is plugin/view's OneView.round() (every prober's /v1/counts report pulled over 127.0.0.1 from a
// server in this process, the union of their streams, prober/inference.ts over it), beside the
// same with one prober's 1,000 paths; its union + inference part (streamsOf + inferView) is also
// timed alone. Checked: the view names every injected link (a suspect group holds it), nothing else.
//
// Exit 1 when an answer is wrong (a slice with a path neither from nor to the prober's router, a
// storm that does not settle, a prober without the new generation, paths no live prober probes,
// an injected link missed, a false suspect); 2 when the bench cannot run.
import { fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import type { PathObservation } from "../prober/inference.js";
import type { ViewResult } from "../plugin/view/infer.js";
import { ExabgpLines, lineTopology } from "../test/util/exabgp-lines.js";
import { readTopologyJson } from "../test/util/edgelist.js";
import { codeDigest } from "./lib/build.js";
import type { ClientStats, ProberSpec, ProberStats } from "./lib/fleet-client.js";
import { addWindow, buildFleet, drawLossy, type Fleet } from "./lib/fleet-obs.js";
import { runView } from "./lib/fleet-view.js";
import { get, PluginProcess, sleep } from "./lib/fleet-plugin.js";
import { mdTable } from "./lib/table.js";

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const NS = opt("--probers", "100,1000").split(",").map(Number);
const CLIENTS = Number(opt("--clients", "2"));
const GENERATIONS = Number(opt("--generations", "3"));
const ROUNDS = Number(opt("--rounds", "5"));
const MAX_PER_PAIR = Number(opt("--max-per-pair", "2"));
const STORM_BUDGET_S = Number(opt("--storm-budget", "120"));
const ONLY = opt("--only", "service,infer").split(",");
const TOKEN = "bench-fleet-token-0123456789abcdef";
const CLIENT_JS = fileURLToPath(new URL("./lib/fleet-client.js", import.meta.url));
const CODE = codeDigest(fileURLToPath(new URL("../plugin/", import.meta.url)));
const clock = (): number => performance.timeOrigin + performance.now();
const problems: string[] = [];

function pct(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const median = (xs: number[]): number => pct(xs, 0.5);
const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "-");
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && a > 0 ? `${fmt(b / a, 1)}x` : "-");

// ---- Service. -----------------------------------------------------------------------------

/** Forked client processes, each with its share of the probers. */
class Clients {
  private readonly procs: ChildProcess[];
  constructor(count: number) {
    this.procs = Array.from({ length: count }, () => fork(CLIENT_JS, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  }

  start(base: string, specs: ProberSpec[]): void {
    this.procs.forEach((p, i) => p.send({ type: "start", base, token: TOKEN, waitS: 60, probers: specs.filter((_, k) => k % this.procs.length === i) }));
  }

  async stats(): Promise<{ probers: ProberStats[]; cpuS: number; rssMb: number }> {
    const all = await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<ClientStats>((resolve) => {
            const on = (m: { type: string } & ClientStats): void => {
              if (m.type !== "stats") return;
              p.off("message", on);
              resolve(m);
            };
            p.on("message", on);
            p.send({ type: "stats" });
          }),
      ),
    );
    // NaN crosses IPC (JSON) as null: back to NaN.
    const nan = (x: number | null): number => (x === null ? NaN : x);
    const probers = all.flatMap((s) => s.probers).map((p) => ({ ...p, firstRequestAt: nan(p.firstRequestAt), firstSliceAt: nan(p.firstSliceAt), last200At: nan(p.last200At) }));
    return { probers, cpuS: all.reduce((a, s) => a + s.cpuS, 0), rssMb: all.reduce((a, s) => a + s.rssMb, 0) };
  }

  stop(): void {
    for (const p of this.procs) if (p.connected) p.send({ type: "stop" });
    setTimeout(() => this.procs.forEach((p) => p.exitCode === null && p.kill("SIGKILL")), 2000).unref();
  }
}

/** Until f() holds (polled every 250 ms), or `ms` passed (false). */
async function until(f: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await f()) return true;
    if (Date.now() > end) return false;
    await sleep(250);
  }
}

interface ServiceRun {
  probers: number;
  paths: number;
  clients: number;
  firstSliceMs: number[];
  /** The storm settled within --storm-budget; probers with a slice by its end. */
  settled: boolean;
  withSlice: number;
  /** From the start to the last 200 of the storm (the assignment settled). */
  settleS: number;
  stormAnswers: number;
  stormCpuS: number;
  clientCpuS: number;
  wallS: number;
  idleRssMb: number;
  stormRssMb: number;
  genMs: number[];
  genCpuS: number[];
  genRssMb: number;
  hwmMb: number;
  live: number;
  unprobed: number;
  undercovered: number;
  sliceMin: number;
  sliceMax: number;
}

async function runService(n: number, clientCount: number): Promise<ServiceRun> {
  const topo = readTopologyJson("fattree_k8.json");
  const edges = topo.nodes.filter((x) => /-e\d+$/.test(x));
  const lines = new ExabgpLines(lineTopology(topo.nodes, topo.edges));
  const plugin = new PluginProcess({ groups: [edges], mode: "all", maxPerPair: MAX_PER_PAIR, token: TOKEN, maxConnections: Math.max(1024, 2 * n + 64), maxWaiting: Math.max(1000, n + 32) });
  let clients: Clients | undefined;
  try {
    const url = await plugin.url();
    const probersUrl = url.replace(/\/v1\/paths$/, "/v1/probers");
    plugin.write(lines.fullTable());
    type View = { generation: number | null; probers: Array<{ live: boolean; paths: number }>; unprobed?: string[]; undercovered?: number };
    // Retried: a plugin busy with a storm may not accept a connection in time.
    const view = async (): Promise<View> => {
      for (let i = 0; ; i++) {
        try {
          return JSON.parse((await get(probersUrl, TOKEN)).body) as View;
        } catch (e) {
          if (i >= 5) throw e;
          await sleep(1000);
        }
      }
    };
    if (!(await until(async () => (await view()).generation !== null, 60_000))) throw new Error(`no path set within 60 s; the plugin's log ends:\n${plugin.log.slice(-2000)}`);
    // The first generations come while the table is read: wait for the whole set, computed.
    await plugin.quiet();
    const paths = (JSON.parse((await get(url, TOKEN)).body) as { paths: unknown[] }).paths.length;
    await plugin.quiet();
    const idle = plugin.usage();

    const specs: ProberSpec[] = Array.from({ length: n }, (_, i) => ({ id: `fleet-${String(i).padStart(4, "0")}`, router: edges[i % edges.length], site: `site-${edges[i % edges.length]}`, address: `198.18.${200 + (i >> 8)}.${i & 255}` }));
    clients = new Clients(clientCount);
    const c0 = await clients.stats();
    const t0 = clock();
    clients.start(url, specs);
    // Settled: every prober has a slice and no 200 arrived for 2 s.
    let st = await clients.stats();
    let shown = clock();
    const settled = await until(async () => {
      st = await clients!.stats();
      if (clock() - shown > 5000) {
        shown = clock();
        process.stderr.write(`  ${fmt((shown - t0) / 1000, 0)} s: ${st.probers.filter((p) => Number.isFinite(p.firstSliceAt)).length} of ${n} with a slice, ${st.probers.reduce((a, p) => a + p.answers, 0)} 200s, plugin CPU ${fmt(plugin.usage().cpuS - idle.cpuS, 1)} s\n`);
      }
      return st.probers.length === n && st.probers.every((p) => Number.isFinite(p.firstSliceAt)) && clock() - Math.max(...st.probers.map((p) => p.last200At)) > 2000;
    }, STORM_BUDGET_S * 1000);
    const withSlice = st.probers.filter((p) => Number.isFinite(p.firstSliceAt)).length;
    if (!settled) problems.push(`${n} probers: the storm did not settle in ${STORM_BUDGET_S} s (${withSlice} with a slice; a 200 still arriving every 2 s); new generations not measured`);
    const storm = plugin.usage();
    const stormAnswers = st.probers.reduce((a, p) => a + p.answers, 0);
    const lastAt = Math.max(...st.probers.map((p) => p.last200At));
    const v: View = await view().catch((e: Error) => {
      problems.push(`${n} probers: GET /v1/probers failed after the storm: ${e.message}`);
      return { generation: null, probers: [] };
    });
    const live = v.probers.filter((p) => p.live).length;
    const slices = v.probers.map((p) => p.paths);

    // New generations: one link's metric toggled.
    const link = lines.link("p0-e0", "p0-a0");
    const genMs: number[] = [];
    const genCpuS: number[] = [];
    // Only once settled: a generation pushed into an unsettled storm measures the storm.
    for (let g = 0; settled && g < GENERATIONS; g++) {
      const before = (await view()).generation!;
      const u0 = plugin.usage();
      const at = clock();
      plugin.write([lines.announceLink({ ...link, metric: g % 2 === 0 ? 5 : link.metric })]);
      const all = await until(async () => {
        st = await clients!.stats();
        return st.probers.every((p) => p.generation > before);
      }, 60_000);
      if (!all) problems.push(`${n} probers: generation ${before + 1}: ${st.probers.filter((p) => p.generation <= before).length} probers without it after 60 s`);
      for (const p of st.probers) {
        const a = p.arrivals.find(([gen]) => gen > before);
        if (a) genMs.push(a[1] - at);
      }
      await until(async () => {
        const s = await clients!.stats();
        return clock() - Math.max(...s.probers.map((p) => p.last200At)) > 1000;
      }, 30_000);
      genCpuS.push(plugin.usage().cpuS - u0.cpuS);
    }
    const end = plugin.usage();
    st = await clients.stats();
    const bad = st.probers.reduce((a, p) => a + p.badSlices, 0);
    if (bad > 0) problems.push(`${n} probers: ${bad} slices held a path neither starting nor ending at the prober's router`);
    if (live !== n) problems.push(`${n} probers: ${live} live in /v1/probers`);
    if (n >= edges.length && (v.unprobed?.length ?? 0) > 0) problems.push(`${n} probers: ${v.unprobed!.length} paths no live prober probes`);
    return {
      probers: n,
      paths,
      clients: clientCount,
      firstSliceMs: st.probers.map((p) => p.firstSliceAt - p.firstRequestAt).filter(Number.isFinite),
      settled,
      withSlice,
      settleS: (lastAt - t0) / 1000,
      stormAnswers,
      stormCpuS: storm.cpuS - idle.cpuS,
      clientCpuS: st.cpuS - c0.cpuS,
      wallS: (clock() - t0) / 1000,
      idleRssMb: idle.rssMb,
      stormRssMb: storm.rssMb,
      genMs,
      genCpuS,
      genRssMb: end.rssMb,
      hwmMb: end.hwmMb,
      live,
      unprobed: v.unprobed?.length ?? 0,
      undercovered: v.undercovered ?? 0,
      sliceMin: Math.min(...slices),
      sliceMax: Math.max(...slices),
    };
  } finally {
    clients?.stop();
    await plugin.stop(lines.shutdown());
  }
}

function serviceTable(one: ServiceRun, runs: ServiceRun[]): string {
  const last = runs[runs.length - 1];
  const row = (name: string, f: (r: ServiceRun) => number, d = 1): string[] => [name, fmt(f(one), d), ...runs.map((r) => fmt(f(r), d)), ratio(f(one), f(last))];
  const rows = [
    row("probers with a slice at the storm's end", (r) => r.withSlice, 0),
    row("time to first slice p50 (ms)", (r) => median(r.firstSliceMs)),
    row("time to first slice p99 (ms)", (r) => pct(r.firstSliceMs, 0.99)),
    row("time to first slice max (ms)", (r) => Math.max(...r.firstSliceMs)),
    row("storm: last 200 after the start (s; settled: 2 s without one)", (r) => r.settleS, 2),
    row("200s answered in the storm, per prober", (r) => r.stormAnswers / r.probers, 2),
    row("plugin CPU over the storm (s)", (r) => r.stormCpuS, 2),
    row("new generation: change -> prober p50 (ms)", (r) => median(r.genMs)),
    row("new generation: change -> prober p99 (ms)", (r) => pct(r.genMs, 0.99)),
    row("new generation: change -> prober max (ms)", (r) => Math.max(...r.genMs)),
    row("plugin CPU per new generation (s, mean)", (r) => r.genCpuS.reduce((a, b) => a + b, 0) / r.genCpuS.length, 2),
    row("plugin RSS, set computed, no prober (MB)", (r) => r.idleRssMb),
    row("plugin RSS after the storm (MB)", (r) => r.stormRssMb),
    row("plugin RSS after the generations (MB)", (r) => r.genRssMb),
    row("plugin peak RSS, VmHWM (MB)", (r) => r.hwmMb),
    row("client processes' CPU over the run (s)", (r) => r.clientCpuS, 2),
    row("paths per prober's slice, min", (r) => r.sliceMin, 0),
    row("paths per prober's slice, max", (r) => r.sliceMax, 0),
  ];
  return mdTable(["figure", "1 prober", ...runs.map((r) => `${r.probers.toLocaleString("en-US")} probers`), `ratio ${last.probers.toLocaleString("en-US")} / 1`], rows);
}

// ---- Inference. ---------------------------------------------------------------------------

const BACKGROUND = 1e-4;
const WINDOW_MS = 30_000;
const WINDOW_PROBES = 30 * 25;
/** Injected loss per lossy link: all above the view's lossy-above default (1 %). */
const LOSSES = [0.02, 0.03, 0.1];
const LOSSY_ABOVE = 0.01;

interface InferRun {
  paths: number;
  roundMs: number[];
  inferMs: number[];
  stallMs: number[];
  /** Injected links its paths cross, and of them those named in every round. */
  crossed: number;
  found: number;
  falseSuspects: number;
  suspects: number;
}

/** Suspect groups holding an injected link, and suspect groups holding none (names "from->to"). */
function judge(r: ViewResult, lossy: readonly string[]): { found: Set<string>; falseSuspects: number; suspects: number } {
  const found = new Set<string>();
  let falseSuspects = 0;
  // A group (out and back pair a>b with b>a) is listed once per member: count it once.
  const sus = new Map(r.links.filter((l) => l.suspect).map((l) => [(l.group ?? [`${l.from}->${l.to}`]).slice().sort().join(" "), l]));
  for (const [key] of sus) {
    const members = new Set(key.split(" "));
    const hits = lossy.filter((x) => members.has(x));
    hits.forEach((x) => found.add(x));
    if (hits.length === 0) falseSuspects++;
  }
  return { found, falseSuspects, suspects: sus.size };
}

async function runInference(fleet: Fleet, probers: number[], lossy: string[], rounds: number, label: string): Promise<InferRun> {
  const loss = new Map(lossy.map((l, i) => [l, LOSSES[i % LOSSES.length]]));
  const mine = new Set(probers);
  const names = lossy.map((l) => `${fleet.linkEnds.get(l)!.from}->${fleet.linkEnds.get(l)!.to}`);
  const crossed = new Set(fleet.paths.filter((p) => mine.has(p.prober)).flatMap((p) => p.links));
  const inView = lossy.filter((l) => crossed.has(l)).map((l) => names[lossy.indexOf(l)]);
  // Cumulative counts at the end of each window; windows[0] the start (zeros); +1 round to warm up.
  const windows: PathObservation[][] = [];
  for (let w = 0; w <= rounds + 1; w++) windows.push(addWindow(windows[w - 1], fleet.paths, WINDOW_PROBES, loss, BACKGROUND, 1000 + w));
  const out = await runView(fleet, probers, windows, WINDOW_MS, LOSSY_ABOVE);
  const kept = out.slice(1);
  let found = Infinity;
  let falseSuspects = 0;
  let suspects = 0;
  kept.forEach((r, i) => {
    const j = judge(r.result, names);
    found = Math.min(found, inView.filter((x) => j.found.has(x)).length);
    falseSuspects = Math.max(falseSuspects, j.falseSuspects);
    suspects = Math.max(suspects, j.suspects);
    process.stderr.write(`view ${label}: round ${i + 1}: ${fmt(r.roundMs, 0)} ms (union + inference ${fmt(r.inferMs, 0)} ms), ${r.streams} streams, ${j.suspects} suspect groups, ${j.found.size} of ${inView.length} injected links named\n`);
  });
  return { paths: kept[0]?.streams ?? 0, roundMs: kept.map((r) => r.roundMs), inferMs: kept.map((r) => r.inferMs), stallMs: kept.map((r) => r.stallMs), crossed: inView.length, found, falseSuspects, suspects };
}

function inferTable(one: InferRun, many: InferRun, probers: number): string {
  const r3 = (name: string, f: (r: InferRun) => number, d = 1): string[] => [name, fmt(f(one), d), fmt(f(many), d), ratio(f(one), f(many))];
  const rows = [
    r3("streams (paths with counts) in the union", (r) => r.paths, 0),
    r3("OneView.round() per round, median (ms)", (r) => median(r.roundMs)),
    r3("OneView.round() per round, max (ms)", (r) => Math.max(...r.roundMs)),
    r3("of it: union + inference, median (ms)", (r) => median(r.inferMs)),
    r3("of it: union + inference, max (ms)", (r) => Math.max(...r.inferMs)),
    r3("longest event-loop stall in a round, max (ms; the worker infers)", (r) => Math.max(...r.stallMs)),
    ["injected lossy links its paths cross", String(one.crossed), String(many.crossed), ""],
    ["of them named in every round", String(one.found), String(many.found), ""],
    ["suspect link groups (most in a round)", String(one.suspects), String(many.suspects), ""],
    ["false suspects (most in a round)", String(one.falseSuspects), String(many.falseSuspects), ""],
  ];
  return mdTable(["figure", "1 prober", `${probers} probers`, "ratio"], rows);
}

// ---- Main. --------------------------------------------------------------------------------

async function main(): Promise<number> {
  if (!existsSync(CLIENT_JS)) {
    process.stderr.write(`${CLIENT_JS} missing: build first (npx tsc -p .)\n`);
    return 2;
  }
  const load0 = loadavg()[0];
  const out: string[] = [`bench/fleet (node ${process.version}, plugin build ${CODE}, ${cpus().length} CPUs), load average (1 min) at start ${load0.toFixed(2)}`];
  const json: Record<string, unknown> = { bench: "fleet", node: process.version, pluginBuild: CODE };
  if (ONLY.includes("service")) {
    process.stderr.write("service: 1 prober...\n");
    const one = await runService(1, 1);
    const runs: ServiceRun[] = [];
    for (const n of NS) {
      process.stderr.write(`service: ${n} probers in ${CLIENTS} client processes...\n`);
      runs.push(await runService(n, CLIENTS));
    }
    out.push("", `Path-set service: fattree_k8 (80 routers), mode all, max-per-pair ${MAX_PER_PAIR}, ${one.paths.toLocaleString("en-US")} paths; probers round robin behind its 32 edge switches, all starting at once; ${CLIENTS} client processes; ${GENERATIONS} new generations once settled`);
    out.push(serviceTable(one, runs));
    for (const r of [one, ...runs]) {
      out.push(`${r.probers} probers: storm settled within ${STORM_BUDGET_S} s: ${r.settled ? "yes" : "NO (new generations not measured)"}; ${r.live} live, ${r.unprobed} paths unprobed, ${r.undercovered} links under-covered; client processes ${fmt((100 * r.clientCpuS) / r.wallS, 0)} % of a core on average over ${fmt(r.wallS, 0)} s`);
    }
    const strip = (r: ServiceRun): object => ({ ...r, firstSliceMs: undefined, genMs: undefined, firstSliceP50: median(r.firstSliceMs), firstSliceP99: pct(r.firstSliceMs, 0.99), genP50: median(r.genMs), genP99: pct(r.genMs, 0.99), genMax: Math.max(...r.genMs) });
    json.service = { one: strip(one), runs: runs.map(strip) };
  }
  if (ONLY.includes("infer")) {
    process.stderr.write("inference: building 100 probers x 1,000 paths on fattree_k16...\n");
    const fleet = buildFleet("fattree_k16.json", (x) => /-e\d+$/.test(x), 100, 1000, 14);
    const lossy = drawLossy(fleet.paths, LOSSES.length, 14);
    // The one prober: the first whose paths cross an injected link, so its figure is of an answer too.
    const solo = fleet.probers.findIndex((_, k) => fleet.paths.some((p) => p.prober === k && p.links.some((l) => lossy.includes(l))));
    const one = await runInference(fleet, [Math.max(0, solo)], lossy, ROUNDS * 2, "1 prober");
    const many = await runInference(fleet, fleet.probers.map((_, k) => k), lossy, ROUNDS, "100 probers");
    if (many.found < many.crossed) problems.push(`inference: the view named ${many.found} of the ${many.crossed} injected links in every round`);
    if (many.falseSuspects > 0) problems.push(`inference: ${many.falseSuspects} false suspects in a round`);
    out.push("", `One view: fattree_k16 (${fleet.nodes} routers, ${fleet.links} directed links), 100 probers behind 100 edge switches x 1,000 paths out and back, windows of ${WINDOW_PROBES} probes a path (30 s at 25/s), background ${BACKGROUND}, injected ${lossy.map((l, i) => `${l} ${LOSSES[i] * 100} %`).join(", ")}; plugin/view OneView.round() (counts pulled over 127.0.0.1 from this process, gzipped reports)`);
    out.push(inferTable(one, many, 100));
    json.inference = { one: { ...one, roundMedian: median(one.roundMs) }, many: { ...many, roundMedian: median(many.roundMs) }, lossy };
  }
  const load1 = loadavg()[0];
  out.push(`load average (1 min): ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end`);
  for (const p of problems) out.push(`WRONG: ${p}`);
  json.load = { start: load0, end: load1 };
  json.ok = problems.length === 0;
  process.stdout.write(out.join("\n") + "\n" + JSON.stringify(json) + "\n");
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench/fleet: ${(e as Error).stack ?? e}\n`);
    process.exit(2);
  },
);
