// bench/ingest: how fast the plugin takes in a full BGP-LS table, how much memory it needs, and
// how long its stdin reader stalls while a big topology is recomputed.
//
//   node dist/bench/ingest.js [--sizes 1000,10000] [--runs 3] [--profile] [--keep]
//
// Input: synthetic ExaBGP 4.2 JSON (test/util/exabgp-lines.ts: lineTopology + ExabgpLines
// fullTable) for random connected IS-IS domains, fixed seed, metrics 1..100, with 2 edges per
// node: 1,000 nodes / 4,000 link NLRIs and 10,000 nodes / 40,000 link NLRIs (each undirected
// edge is two directed link NLRIs), plus one node and one prefix NLRI per node, written to a
// temporary file.
//
// 1. Through the real plugin process: `node dist/plugin/parser.js --config <tmp>` (socket off,
//    state file off, route refresh off, log level info, format json, default debounce), its
//    stdin a pipe the bench fills from the file and keeps open until the full path set is
//    published (as ExaBGP would). From the plugin's own log timestamps (ms resolution):
//    lines/s = lines / (first line ["peer state"] -> last line ["end of RIB"]), first line ->
//    first path set ["new path set"]. Peak RSS: VmHWM polled from /proc/<pid>/status every 10 ms,
//    the last value read before the process exits. Baseline process: the same feed into
//    `node -e` with readline + JSON.parse per line (the floor of reading JSON lines at all).
//    Plugin: median of --runs (peak RSS: the largest); baseline: median of max(--runs, 5).
// 2. In process, on the same lines (median of --runs): JSON.parse (baseline), the plugin's
//    parseJson (duplicate-keeping parser) and parseExabgpJson (when the build has it), decodeLine,
//    and Engine.handleLine (decode + LSDB), in lines/s. Plus the heap the LSDB keeps (child
//    process with --expose-gc) against the same entries deep-copied, and the recompute's peak.
// 3. Stall: Engine fed the table (no recompute yet), then engine.recompute() while a 1 ms
//    setInterval and monitorEventLoopDelay watch the event loop: sliceMs 5 (the plugin's
//    setting) against sliceMs 0 (no slicing). Plus the longest single step of each phase.
//
// Correctness (exit 1 on any difference): the path set published by the process, the in-process
// sliced and unsliced recomputes all have the same pathsDigest, and their paths' hop names equal
// what EcmpSource finds on the generating edge list directly (graphFromEdges, no BGP-LS).
import { spawn } from "node:child_process";
import { codeDigest } from "./lib/build.js";
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Engine } from "../plugin/engine.js";
import * as jsonModule from "../plugin/exabgp/json.js";
import { decodeLine } from "../plugin/exabgp/decode.js";
import { buildTopologySteps } from "../plugin/topology.js";
import { buildPathSetSteps, directedPairs, pathsDigest, type PathSetBody } from "../plugin/paths.js";
import { compileGraph, EcmpSource } from "../plugin/ecmp.js";
import { SNAPSHOT_PEER } from "../plugin/lsdb.js";
import { createLogger } from "../shared/log.js";
import type { PathSet } from "../shared/pathset.js";
import { ExabgpLines, lineTopology } from "../test/util/exabgp-lines.js";
import { graphFromEdges } from "../test/util/edgelist.js";
import { randomDomain, type Domain } from "./lib/domain.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const SIZES = (opt("--sizes") ?? "1000,10000").split(",").map(Number);
const RUNS = Number(opt("--runs") ?? "3");
const PROFILE = args.includes("--profile");
const KEEP = args.includes("--keep");
const PLUGIN = fileURLToPath(new URL("../plugin/parser.js", import.meta.url));
const CODE = codeDigest(fileURLToPath(new URL("../plugin/", import.meta.url)));
const problems: string[] = [];
// The plugin's line parser(s): parseJson (the duplicate-keeping parser) always; parseExabgpJson
// (duplicate-key rename + native JSON.parse) when this build has it. Looked up, not imported, so
// the bench builds against either version of json.ts.
const parseJson = jsonModule.parseJson;
const parseExabgpJson = (jsonModule as unknown as Record<string, unknown>).parseExabgpJson as ((s: string) => unknown) | undefined;


// ---------------------------------------------------------------- input

// ---------------------------------------------------------------- helpers

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number, d = 0): string => x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
const fmtK = ([a, b]: [number, number]): string => `${Math.round(a / 1000)}k-${Math.round(b / 1000)}k`;
const silentLog = createLogger({ name: "bench", level: "error", stream: { write: () => true } });

interface LogLine {
  time: string;
  level: string;
  msg: string;
  [k: string]: unknown;
}

interface ProcResult {
  code: number | null;
  logs: LogLine[];
  out: string;
  peakRssKb: number;
  spawnToFirstLogMs: number;
}

/**
 * Spawn, feed `input` through a pipe, poll VmHWM. `closeWhen` decides, per stderr log line, when
 * stdin is ended (undefined: at the end of the file).
 */
function runProcess(argv: string[], input: string, closeWhen?: (l: LogLine) => boolean, timeoutMs = 120_000): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, argv, { stdio: ["pipe", "pipe", "pipe"] });
    const logs: LogLine[] = [];
    let out = "";
    let peakRssKb = 0;
    let firstLog = -1;
    const poll = (): void => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
        if (m) peakRssKb = Math.max(peakRssKb, Number(m[1]));
      } catch {
        /* gone */
      }
    };
    const timer = setInterval(poll, 10);
    const killer = setTimeout(() => {
      problems.push(`process ${argv.join(" ")} timed out`);
      child.kill("SIGKILL");
    }, timeoutMs);
    let closed = false;
    const closeStdin = (): void => {
      if (!closed) {
        closed = true;
        child.stdin.end();
      }
    };
    child.stdin.on("error", () => {});
    const feed = createReadStream(input);
    feed.pipe(child.stdin, { end: false });
    feed.on("end", () => {
      if (!closeWhen) closeStdin();
    });
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => (out += d));
    createInterface({ input: child.stderr }).on("line", (line) => {
      if (firstLog < 0) firstLog = performance.now() - t0;
      poll();
      let l: LogLine;
      try {
        l = JSON.parse(line) as LogLine;
      } catch {
        l = { time: "", level: "raw", msg: line };
      }
      logs.push(l);
      if (closeWhen?.(l)) closeStdin();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      clearInterval(timer);
      clearTimeout(killer);
      resolve({ code, logs, out, peakRssKb, spawnToFirstLogMs: firstLog });
    });
  });
}

const BASELINE_SCRIPT = `
const rl = require("node:readline").createInterface({ input: process.stdin, crlfDelay: Infinity });
let n = 0, first = 0, last = 0, bytes = 0;
rl.on("line", (l) => { if (n++ === 0) first = performance.now(); JSON.parse(l); bytes += l.length; last = performance.now(); });
rl.on("close", () => process.stdout.write(JSON.stringify({ lines: n, ms: last - first, bytes }) + "\\n"));
`;

const logTime = (l: LogLine | undefined): number => (l ? Date.parse(l.time) : NaN);

// ---------------------------------------------------------------- in-process

function linesPerSec(lines: string[], fn: (line: string, i: number) => void): number {
  const t0 = performance.now();
  for (let i = 0; i < lines.length; i++) fn(lines[i], i + 1);
  return lines.length / ((performance.now() - t0) / 1000);
}

function newEngine(sliceMs: number, pairs: Array<[string, string]>, published: PathSet[]): Engine {
  return new Engine(
    {
      query: { pairs: directedPairs(pairs), mode: "all", maxPerPair: 64 },
      metric: "igp",
      debounceMs: 600_000, // never fires during the bench: recompute is called explicitly
      staleTimeoutMs: 120_000,
      routeRefresh: false,
      generation: 0,
      sliceMs,
    },
    { log: silentLog, command: () => {}, now: () => new Date(), publish: async (set) => void published.push(set) },
  );
}

interface StallResult {
  sliceMs: number;
  wallMs: number;
  maxDelayMs: number;
  p99DelayMs: number;
  maxGapMs: number;
  ticks: number;
  digest: string;
}

async function measureStall(engine: Engine, sliceMs: number, published: PathSet[]): Promise<StallResult> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let maxGap = 0;
  let ticks = 0;
  const iv = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 1);
  h.enable();
  await new Promise((r) => setTimeout(r, 20)); // probe running before the recompute starts
  const t0 = performance.now();
  await engine.recompute();
  const wallMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 20)); // let the probe see the end of a blocking run
  clearInterval(iv);
  h.disable();
  const set = published[published.length - 1];
  return {
    sliceMs,
    wallMs,
    maxDelayMs: h.max / 1e6,
    p99DelayMs: h.percentile(99) / 1e6,
    maxGapMs: maxGap,
    ticks,
    digest: set ? pathsDigest(set) : "none",
  };
}

/** Drive the recompute phases by hand: number of steps, total and longest step of each. */
interface StepStats {
  steps: number;
  over5: number;
  totalMs: number;
  longestMs: number;
}

function stepProfile(engine: Engine, pairs: Array<[string, string]>): Record<string, StepStats> {
  const out: Record<string, StepStats> = {};
  const drive = <T>(name: string, gen: Generator<void, T, void>): T => {
    const s: StepStats = { steps: 0, over5: 0, totalMs: 0, longestMs: 0 };
    for (;;) {
      const t0 = performance.now();
      const r = gen.next();
      const dt = performance.now() - t0;
      s.steps++;
      s.totalMs += dt;
      s.longestMs = Math.max(s.longestMs, dt);
      if (dt > 5) s.over5++;
      if (r.done) {
        out[name] = s;
        return r.value;
      }
    }
  };
  const db = engine.db;
  const topo = drive("buildTopologySteps", buildTopologySteps(db.entries.values(), "igp"));
  const body: PathSetBody = drive(
    "buildPathSetSteps",
    buildPathSetSteps(topo, { pairs: directedPairs(pairs), mode: "all", maxPerPair: 64 }, { peers: db.peers().filter((p) => p !== SNAPSHOT_PEER), stale: false, prefixes: db.counts().prefixes }),
  );
  const t0 = performance.now();
  pathsDigest(body);
  const t1 = performance.now();
  JSON.stringify({ ...body, generation: 1, time: new Date().toISOString() });
  const t2 = performance.now();
  const one = (ms: number): StepStats => ({ steps: 1, over5: ms > 5 ? 1 : 0, totalMs: ms, longestMs: ms });
  out["pathsDigest (unsliced)"] = one(t1 - t0);
  out["JSON.stringify(set) (unsliced)"] = one(t2 - t1);
  const t3 = performance.now();
  compileGraph(topo.graph);
  const t4 = performance.now();
  out["compileGraph alone (1st step of buildPathSetSteps)"] = one(t4 - t3);
  return out;
}

/** Hop names of every path of every pair, from a published set: "src>dst" -> sorted "a,b,c". */
function pathNames(set: PathSet): Map<string, string[]> {
  const byId = new Map(set.paths.map((p) => [p.id, p]));
  const m = new Map<string, string[]>();
  for (const pr of set.pairs) m.set(`${pr.src}>${pr.dst}`, pr.paths.map((id) => byId.get(id)!.hops.map((h) => h.name).join(",")).sort());
  return m;
}

/** The same straight from the edge list, bypassing BGP-LS. */
function referenceNames(d: Domain): Map<string, string[]> {
  const cg = compileGraph(graphFromEdges(d.nodes, d.edges).graph);
  const m = new Map<string, string[]>();
  for (const [a, b] of directedPairs(d.pairs)) {
    const s = cg.index.get(a)!;
    const r = new EcmpSource(cg, s).pathsTo(cg.index.get(b)!, 64);
    m.set(`${a}>${b}`, r.paths.map((p) => [cg.nodes[s].name, ...p.map((e) => cg.nodes[cg.head[e]].name)].join(",")).sort());
  }
  return m;
}

function sameNames(a: Map<string, string[]>, b: Map<string, string[]>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.length !== v.length || w.some((x, i) => x !== v[i])) return false;
  }
  return true;
}

// ---------------------------------------------------------------- cpu profile summary

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
}

function summarizeProfile(file: string, top = 18): string[] {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const cf = byId.get(id)!.callFrame;
    const url = cf.url.replace(/^file:\/\/.*?\/dist\//, "dist/").replace(/^node:/, "node:");
    const key = `${cf.functionName || "(anonymous)"} ${url ? `${url}:${cf.lineNumber + 1}` : ""}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
}

// ---------------------------------------------------------------- main

interface ProcessRun {
  linesPerSec: number;
  readMs: number;
  firstPathSetMs: number;
  eorToPathSetMs: number;
  recomputeMs: number;
  generations: number;
  firstSetBeforeEor: boolean;
  peakRssMb: number;
  startupMs: number;
}

interface SizeResult {
  nodes: number;
  linkNlris: number;
  lines: number;
  mb: number;
  /** Medians over the runs; peakRssMb is the largest of the runs. */
  process: ProcessRun & { runs: number; peakRssMbRuns: number[]; linesPerSecRange: [number, number] };
  /** Medians over max(runs, 5) runs; linesPerSecRange: slowest and fastest. */
  baselineProcess: { linesPerSec: number; readMs: number; peakRssMb: number; linesPerSecRange: [number, number] };
  inProcess: { jsonParse: number; parseJson: number; parseExabgpJson?: number; decodeLine: number; handleLine: number };
  memory: { heapBeforeMb: number; lsdbHeapMb: number; flatCopyMb: number; recomputePeakMb: number; inputMb: number } | undefined;
  stall: StallResult[];
  steps: Record<string, StepStats>;
  profile?: string[];
}

/** One plugin process over the table; checks its logs and returns its figures and path set. */
async function pluginRun(n: number, nLines: number, file: string, cfg: string, out: string, profDir?: string): Promise<{ run: ProcessRun; set: PathSet }> {
  rmSync(out, { force: true }); // generations start at 1 each run
  const argv = [...(profDir ? ["--cpu-prof", "--cpu-prof-dir", profDir] : []), PLUGIN, "--config", cfg];
  const full = (l: LogLine): boolean => l.msg === "new path set" && l.nodes === n;
  const pr = await runProcess(argv, file, full);
  const find = (msg: string): LogLine | undefined => pr.logs.find((l) => l.msg === msg);
  const firstLine = find("peer state");
  const eor = find("end of RIB");
  const sets = pr.logs.filter((l) => l.msg === "new path set");
  const fullSet = sets.find(full);
  const exiting = find("exiting");
  if (pr.code !== 0) problems.push(`${n}: plugin exit code ${pr.code}`);
  for (const l of pr.logs) if (l.level === "warn" || l.level === "error" || l.level === "raw") problems.push(`${n}: plugin logged ${l.level}: ${l.msg}`);
  if (!firstLine || !eor || !fullSet || !exiting)
    problems.push(`${n}: missing log lines (peer state ${!!firstLine}, end of RIB ${!!eor}, new path set ${!!fullSet}, exiting ${!!exiting})`);
  if (exiting && exiting.lines !== nLines) problems.push(`${n}: plugin read ${String(exiting.lines)} lines of ${nLines}`);
  const readMs = logTime(eor) - logTime(firstLine);
  return {
    run: {
      linesPerSec: nLines / (readMs / 1000),
      readMs,
      firstPathSetMs: logTime(fullSet) - logTime(firstLine),
      eorToPathSetMs: logTime(fullSet) - logTime(eor),
      recomputeMs: Number(fullSet?.ms ?? NaN),
      generations: sets.length,
      firstSetBeforeEor: sets.length > 0 && logTime(sets[0]) < logTime(eor),
      peakRssMb: pr.peakRssKb / 1024,
      startupMs: pr.spawnToFirstLogMs,
    },
    set: JSON.parse(readFileSync(out, "utf8")) as PathSet,
  };
}

/**
 * Heap the LSDB keeps after the whole table, in a child with --expose-gc: heap before, feed an
 * Engine from the file, drop every reference the probe has to the input text, gc, heap after.
 * Then the same LSDB deep-copied with structuredClone (which copies every string flat and
 * unshared): what the data itself weighs. Then a sliced recompute, sampling heapUsed between
 * slices: the recompute's transient peak on top of the LSDB.
 */
const MEMORY_SCRIPT = `
import { readFileSync } from "node:fs";
const { Engine } = await import(process.argv[1]);
const { createLogger } = await import(process.argv[2]);
const { directedPairs } = await import(process.argv[3]);
const log = createLogger({ name: "m", level: "error", stream: { write: () => true } });
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed / 1048576; };
const before = heap();
const e = new Engine({ query: { pairs: directedPairs(JSON.parse(process.argv[5])), mode: "all", maxPerPair: 64 }, metric: "igp", debounceMs: 600000, staleTimeoutMs: 120000, routeRefresh: false, generation: 0, sliceMs: 5 },
  { log, command() {}, now: () => new Date(), publish: async () => {} });
let text = readFileSync(process.argv[4], "utf8");
const inputMb = text.length / 1048576;
let i = 0;
for (const line of text.split("\\n")) if (line && !line.includes('"eor"')) e.handleLine(line, ++i);
text = undefined;
const after = heap();
let copy = structuredClone([...e.db.entries.values()]);
const withCopy = heap();
copy = undefined;
const base = heap();
let peak = 0;
const iv = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed / 1048576)), 1);
await e.recompute();
clearInterval(iv);
await e.close();
process.stdout.write(JSON.stringify({ heapBeforeMb: before, lsdbHeapMb: after - before, flatCopyMb: withCopy - after, recomputePeakMb: peak - base, inputMb, entries: e.db.entries.size }) + "\\n");
`;

async function memoryProbe(file: string, pairs: Array<[string, string]>): Promise<SizeResult["memory"]> {
  const url = (p: string): string => new URL(p, import.meta.url).href;
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", "--input-type=module", "-e", MEMORY_SCRIPT, url("../plugin/engine.js"), url("../shared/log.js"), url("../plugin/paths.js"), file, JSON.stringify(pairs)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("exit", (code) => {
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(out) as SizeResult["memory"]);
      } catch (e) {
        problems.push(`memory probe failed: ${(e as Error).message}`);
        resolve(undefined);
      }
    });
  });
}

async function benchSize(n: number, dir: string): Promise<SizeResult> {
  const d = randomDomain(n, 2 * n, 20240601 + n);
  const topo = lineTopology(d.nodes, d.edges);
  const file = path.join(dir, `table-${n}.jsonl`);
  const generated = new ExabgpLines(topo).fullTable();
  writeFileSync(file, generated.join("\n") + "\n");
  // Read back: flat strings, as a reader gets them (the generator's are concatenation ropes).
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n").filter((l) => l !== "");
  if (lines.length !== generated.length) problems.push(`${n}: wrote ${generated.length} lines, read ${lines.length}`);
  process.stderr.write(`ingest: ${n} nodes: ${fmt(lines.length)} lines, ${(text.length / 1e6).toFixed(1)} MB in ${file}\n`);

  // 1. the plugin process, and the baseline process
  const out = path.join(dir, `paths-${n}.json`);
  const cfg = path.join(dir, `lsprobe-${n}.yaml`);
  writeFileSync(
    cfg,
    [
      "plugin:",
      "  endpoints:",
      `    pairs: [${d.pairs.map(([a, b]) => `[${a}, ${b}]`).join(", ")}]`,
      "  output:",
      `    file: ${out}`,
      "    socket: null",
      "  state-file: null",
      "  route-refresh: false",
      "log:",
      "  level: info",
      "  format: json",
      "",
    ].join("\n"),
  );
  const runs: ProcessRun[] = [];
  const procSets: PathSet[] = [];
  const baseRuns: Array<{ linesPerSec: number; readMs: number; peakRssMb: number }> = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await pluginRun(n, lines.length, file, cfg, out);
    runs.push(r.run);
    procSets.push(r.set);
    process.stderr.write(
      `ingest: ${n} nodes, run ${i + 1}: plugin ${fmt(r.run.linesPerSec)} lines/s, path set after ${fmt(r.run.firstPathSetMs)} ms, peak RSS ${r.run.peakRssMb.toFixed(0)} MB\n`,
    );
  }
  // The baseline is cheap and its figure swings with scheduling: more runs.
  for (let i = 0; i < Math.max(RUNS, 5); i++) {
    const base = await runProcess(["-e", BASELINE_SCRIPT], file);
    const b = JSON.parse(base.out) as { lines: number; ms: number };
    if (b.lines !== lines.length) problems.push(`${n}: baseline read ${b.lines} lines of ${lines.length}`);
    baseRuns.push({ linesPerSec: b.lines / (b.ms / 1000), readMs: b.ms, peakRssMb: base.peakRssKb / 1024 });
  }
  process.stderr.write(`ingest: ${n} nodes, baseline: ${baseRuns.map((b) => fmt(b.linesPerSec)).join(", ")} lines/s\n`);
  let profile: string[] | undefined;
  if (PROFILE) {
    const profDir = path.join(dir, `prof-${n}`);
    await pluginRun(n, lines.length, file, cfg, out, profDir);
    const f = readdirSync(profDir).find((x) => x.endsWith(".cpuprofile"));
    profile = f ? summarizeProfile(path.join(profDir, f)) : ["(no profile written)"];
  }
  const memory = await memoryProbe(file, d.pairs);

  // 2. in process
  const json: number[] = [];
  const pj: number[] = [];
  const pe: number[] = [];
  const dec: number[] = [];
  const hl: number[] = [];
  const pubs: PathSet[][] = [[], []];
  const kept: Engine[] = [];
  const table = lines.filter((l) => !l.includes('"eor"')); // EoR would schedule a recompute of its own
  for (let run = 0; run < Math.max(RUNS, 2); run++) {
    json.push(linesPerSec(lines, (l) => JSON.parse(l)));
    pj.push(linesPerSec(lines, (l) => parseJson(l)));
    if (parseExabgpJson) pe.push(linesPerSec(lines, (l) => parseExabgpJson(l)));
    dec.push(linesPerSec(lines, (l) => decodeLine(l)));
    const e = newEngine(run === 0 ? 0 : 5, d.pairs, pubs[Math.min(run, 1)]);
    hl.push(linesPerSec(table, (l, i) => void e.handleLine(l, i)));
    if (run < 2) kept.push(e);
    else await e.close(); // clears its (long) debounce timer
  }
  // 3. stall: sliced (the plugin's setting) and unsliced
  const stall: StallResult[] = [];
  stall.push(await measureStall(kept[1], 5, pubs[1]));
  stall.push(await measureStall(kept[0], 0, pubs[0]));
  const steps = stepProfile(kept[0], d.pairs);
  for (const e of kept) await e.close();

  // correctness
  const ref = referenceNames(d);
  const digests = new Set([...procSets.map((x) => pathsDigest(x)), ...stall.map((s) => s.digest)]);
  if (digests.size !== 1) problems.push(`${n}: path sets differ between the process runs and in-process recomputes (${[...digests].map((x) => x.slice(0, 12)).join(", ")})`);
  if (!sameNames(pathNames(procSets[0]), ref)) problems.push(`${n}: the plugin's paths differ from EcmpSource on the generating edge list`);
  for (const p of procSets[0].pairs) if (p.cost === null) problems.push(`${n}: pair ${p.src}->${p.dst} unresolved: ${String((p as { reason?: string }).reason)}`);

  const med = (k: keyof ProcessRun): number => median(runs.map((r) => Number(r[k])));
  return {
    nodes: n,
    linkNlris: topo.links.length,
    lines: lines.length,
    mb: text.length / 1e6,
    process: {
      linesPerSec: med("linesPerSec"),
      readMs: med("readMs"),
      firstPathSetMs: med("firstPathSetMs"),
      eorToPathSetMs: med("eorToPathSetMs"),
      recomputeMs: med("recomputeMs"),
      generations: Math.max(...runs.map((r) => r.generations)),
      firstSetBeforeEor: runs.some((r) => r.firstSetBeforeEor),
      peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
      startupMs: med("startupMs"),
      runs: runs.length,
      peakRssMbRuns: runs.map((r) => Number(r.peakRssMb.toFixed(1))),
      linesPerSecRange: [Math.min(...runs.map((r) => r.linesPerSec)), Math.max(...runs.map((r) => r.linesPerSec))],
    },
    baselineProcess: {
      linesPerSec: median(baseRuns.map((b) => b.linesPerSec)),
      readMs: median(baseRuns.map((b) => b.readMs)),
      peakRssMb: Math.max(...baseRuns.map((b) => b.peakRssMb)),
      linesPerSecRange: [Math.min(...baseRuns.map((b) => b.linesPerSec)), Math.max(...baseRuns.map((b) => b.linesPerSec))],
    },
    inProcess: { jsonParse: median(json), parseJson: median(pj), ...(pe.length ? { parseExabgpJson: median(pe) } : {}), decodeLine: median(dec), handleLine: median(hl) },
    memory,
    stall,
    steps,
    profile,
  };
}

/** Markdown table; the first `left` columns are text (left-aligned), the rest figures. */
function table(header: string[], rows: string[][], left = 1): string[] {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]): string => "| " + c.map((x, i) => (i < left ? x.padEnd(w[i]) : x.padStart(w[i]))).join(" | ") + " |";
  return [line(header), "|" + w.map((x, i) => (i < left ? "-".repeat(x + 2) : "-".repeat(x + 1) + ":")).join("|") + "|", ...rows.map(line)];
}

async function main(): Promise<number> {
  const loadStart = loadavg()[0];
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-ingest-"));
  const results: SizeResult[] = [];
  try {
    for (const n of SIZES) results.push(await benchSize(n, dir));
  } finally {
    if (!KEEP) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }

  const o: string[] = [];
  o.push(
    `Ingest through the plugin process (node ${process.version}, plugin build ${CODE}; plugin: median of ${RUNS} runs, baseline: of ${Math.max(RUNS, 5)}; peak RSS: largest); baseline: readline + JSON.parse per line in a node process, same feed`,
  );
  o.push(
    ...table(
      ["domain", "lines", "MB", "plugin lines/s (range)", "baseline lines/s (range)", "ratio", "first line -> path set", "of which EoR -> set", "recompute ms", "peak RSS MB", "baseline RSS MB"],
      results.map((r) => [
        `${fmt(r.nodes)} nodes / ${fmt(r.linkNlris)} links`,
        fmt(r.lines),
        r.mb.toFixed(1),
        `${fmt(r.process.linesPerSec)} (${fmtK(r.process.linesPerSecRange)})`,
        `${fmt(r.baselineProcess.linesPerSec)} (${fmtK(r.baselineProcess.linesPerSecRange)})`,
        (r.process.linesPerSec / r.baselineProcess.linesPerSec).toFixed(2),
        `${fmt(r.process.firstPathSetMs)} ms`,
        `${fmt(r.process.eorToPathSetMs)} ms`,
        fmt(r.process.recomputeMs),
        r.process.peakRssMb.toFixed(0),
        r.baselineProcess.peakRssMb.toFixed(0),
      ]),
    ),
  );
  o.push("lines/s: plugin's log timestamps (ms), first line -> End-of-RIB; path set: first line -> 'new path set' (EoR schedules the recompute at once; the 200 ms debounce is not on this path).");
  for (const r of results)
    if (r.process.generations !== 1 || r.process.firstSetBeforeEor)
      o.push(`note: ${r.nodes} nodes: ${r.process.generations} generations published, first before EoR: ${r.process.firstSetBeforeEor}`);
  o.push("");
  o.push("Memory: peak RSS from 10 ms VmHWM polling. Heap figures (MiB) from an --expose-gc child: LSDB = heap kept after the full table");
  o.push("(the probe's own copy of the input dropped); flat copy = the same entries deep-copied by structuredClone; recompute = heap peak above that, sliced");
  const mem = (r: SizeResult, f: (m: NonNullable<SizeResult["memory"]>) => number): string => (r.memory ? f(r.memory).toFixed(0) : "-");
  o.push(
    ...table(
      ["domain", "input MiB", "plugin peak RSS MB (runs)", "baseline peak RSS MB", "LSDB heap", "as flat copy", "recompute peak"],
      results.map((r) => [
        `${fmt(r.nodes)} nodes`,
        r.memory ? r.memory.inputMb.toFixed(1) : "-",
        `${r.process.peakRssMb.toFixed(0)} (${r.process.peakRssMbRuns.map((x) => x.toFixed(0)).join(", ")})`,
        r.baselineProcess.peakRssMb.toFixed(0),
        mem(r, (m) => m.lsdbHeapMb),
        mem(r, (m) => m.flatCopyMb),
        `+${mem(r, (m) => m.recomputePeakMb)}`,
      ]),
    ),
  );
  o.push("");
  o.push(`In process, same lines, lines/s (median of ${Math.max(RUNS, 2)}); ratio = JSON.parse / stage`);
  o.push(
    ...table(
      ["domain", "JSON.parse", "parseJson", "parseExabgpJson", "decodeLine", "Engine.handleLine", "handleLine / JSON.parse"],
      results.map((r) => [
        `${fmt(r.nodes)} nodes`,
        fmt(r.inProcess.jsonParse),
        fmt(r.inProcess.parseJson),
        r.inProcess.parseExabgpJson !== undefined ? fmt(r.inProcess.parseExabgpJson) : "n/a",
        fmt(r.inProcess.decodeLine),
        fmt(r.inProcess.handleLine),
        `1/${(r.inProcess.jsonParse / r.inProcess.handleLine).toFixed(1)}`,
      ]),
    ),
  );
  o.push("");
  o.push("Reader stall during a recompute (in process; 1 ms setInterval + monitorEventLoopDelay)");
  o.push(
    ...table(
      ["domain", "sliceMs", "recompute ms", "max event-loop delay ms", "p99 ms", "longest gap between 1 ms ticks"],
      results.flatMap((r) =>
        r.stall.map((s) => [`${fmt(r.nodes)} nodes`, String(s.sliceMs), s.wallMs.toFixed(0), s.maxDelayMs.toFixed(1), s.p99DelayMs.toFixed(1), `${s.maxGapMs.toFixed(1)} ms`]),
      ),
    ),
  );
  o.push("");
  o.push("Recompute phases, driven step by step (longest step = the longest the reader can be blocked by it)");
  o.push(
    ...table(
      ["domain", "phase", "steps", "steps > 5 ms", "total ms", "longest step ms"],
      results.flatMap((r) =>
        Object.entries(r.steps).map(([k, s]) => [`${fmt(r.nodes)} nodes`, k, String(s.steps), String(s.over5), s.totalMs.toFixed(1), s.longestMs.toFixed(1)]),
      ),
      2,
    ),
  );
  for (const r of results)
    if (r.profile) {
      o.push("");
      o.push(`CPU profile of the plugin process, ${fmt(r.nodes)} nodes (self time, top functions):`);
      o.push(...r.profile);
    }
  const big = results.find((r) => r.nodes === 10000);
  o.push("");
  o.push(
    `targets: >= 200,000 lines/s (plugin: ${results.map((r) => fmt(r.process.linesPerSec)).join(" / ")}); 10,000 nodes < 150 MB RSS (${big ? `${big.process.peakRssMb.toFixed(0)} MB` : "not run"})`,
  );
  const load = { start: Number(loadStart.toFixed(2)), end: Number(loadavg()[0].toFixed(2)), cpus: cpus().length };
  o.push(`load average (1 min): ${load.start} at start, ${load.end} at end, ${load.cpus} CPUs${load.start > 0.5 ? " -- the machine was busy before the bench started: figures are pessimistic" : ""}`);
  for (const p of problems) o.push(`PROBLEM: ${p}`);
  process.stdout.write(o.join("\n") + "\n");
  const r1 = (x: number): number => Number(x.toFixed(1));
  process.stdout.write(
    JSON.stringify({
      bench: "ingest",
      node: process.version,
      pluginBuild: CODE,
      load,
      ok: problems.length === 0,
      sizes: results.map((r) => ({
        nodes: r.nodes,
        linkNlris: r.linkNlris,
        lines: r.lines,
        mb: r1(r.mb),
        process: Object.fromEntries(
          Object.entries(r.process).map(([k, v]) => [k, typeof v === "number" ? r1(v) : Array.isArray(v) ? v.map((x) => Math.round(x)) : v]),
        ),
        baselineProcess: {
          linesPerSec: Math.round(r.baselineProcess.linesPerSec),
          linesPerSecRange: r.baselineProcess.linesPerSecRange.map(Math.round),
          readMs: r1(r.baselineProcess.readMs),
          peakRssMb: r1(r.baselineProcess.peakRssMb),
        },
        memory: r.memory
          ? { inputMiB: r1(r.memory.inputMb), lsdbHeapMiB: r1(r.memory.lsdbHeapMb), flatCopyMiB: r1(r.memory.flatCopyMb), recomputePeakMiB: r1(r.memory.recomputePeakMb) }
          : undefined,
        inProcess: Object.fromEntries(Object.entries(r.inProcess).map(([k, v]) => [k, Math.round(v as number)])),
        stall: r.stall.map((s) => ({ sliceMs: s.sliceMs, recomputeMs: r1(s.wallMs), maxDelayMs: r1(s.maxDelayMs), p99DelayMs: r1(s.p99DelayMs), maxGapMs: r1(s.maxGapMs) })),
        steps: Object.fromEntries(Object.entries(r.steps).map(([k, s]) => [k.trim(), { steps: s.steps, over5ms: s.over5, totalMs: r1(s.totalMs), longestMs: r1(s.longestMs) }])),
      })),
      problems,
    }) + "\n",
  );
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 2;
  },
);
