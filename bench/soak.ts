// bench/soak: lsprobe left running on a healthy lab, checked for false positives and for
// probes that go unaccounted for (issue 11: "a one-hour healthy soak in the lab").
//
//   node dist/bench/soak.js [--duration 3600] [--interval 5] [--rate 25] [--loss-window 30s]
//                           [--lossy-above 0.01] [--no-prometheus]
//
// The NANOG 6 lab as the lab tests run it (test/lab/stack.ts): routers as network namespaces,
// two BGP-LS speakers, Debian's ExaBGP running the plugin, the prober in h1 probing the four
// r1 -> r6 paths out and back, and a real Prometheus in h1 scraping it with monitoring/'s
// recording and alert rules (evaluated every 2 s; no Alertmanager: ALERTS is what is read).
// Nothing is injected: every suspect link, every path that goes down once up, and every alert
// that is ever pending or firing is a false positive. The prober runs with the production
// loss window and lossy-above (30 s, 0.01) unless told otherwise; its timeout is the lab's 250 ms.
//
// Every --interval seconds a sampler in h1 (this file, `--sampler`) reads the prober's /paths,
// then /metrics, then /paths again, and Prometheus's ALERTS; the bench checks, per path:
//   /paths:    sent = received + lost + late + unknown + inFlight (both reads)
//   /metrics:  each of sent, received, lost, late, unknown lies between the two /paths reads
//              (they are monotone counters, so /metrics must agree with /paths at some instant
//              between them; the totals the same way)
// At the end Prometheus is asked for any ALERTS series over the whole run
// (max_over_time(ALERTS[run])), which catches what a sample could miss, and the prober's log
// is searched for "link suspect" and "path down" (every one the prober ever raised).
// RSS and CPU of the prober and the plugin come from /proc at the first and the last sample
// (CPU over the first and the last minute, and over the whole run), so a leak shows.
//
// The bench keeps O(1) state per sample (a few numbers; no document is kept), the last 40 log
// lines, and at most 100 of each kind of problem, so --duration 3600 (720 samples) or longer
// grows nothing but that. Exit 0 when there is no false suspect, false down or false alert and
// every accounting check held; 1 otherwise; 2 when it could not run (not root, no ExaBGP, no
// Prometheus without --no-prometheus, the lab did not come up), or on SIGINT/SIGTERM.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import { LabStack } from "../test/lab/stack.js";
import { nanogLab } from "../test/lab/netns.js";
import { findExabgp } from "../test/lab/exabgp.js";
import { REPO_ROOT } from "../test/util/shared.js";
import { codeDigest, distDir } from "./lib/build.js";
import { mdTable } from "./lib/table.js";

const SCRIPT = fileURLToPath(import.meta.url);
const PROBER_URL = "http://127.0.0.1:9469";
const PROM_URL = "http://127.0.0.1:9090";
const COUNTERS = ["sent", "received", "lost", "late", "unknown"] as const;
type Counter = (typeof COUNTERS)[number];
const MAX_KEPT = 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------------
// The sampler, in h1 (the prober and Prometheus listen on h1's loopback): one JSON line per
// line read on stdin, "ID<TAB>Q", Q being a PromQL expression for Prometheus, an API path
// starting with "/", or "" for none; the answer carries ID.
// ------------------------------------------------------------------------------------------------

async function sampler(): Promise<void> {
  const text = async (url: string): Promise<string> => {
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r.text();
  };
  process.stdin.on("end", () => process.exit(0));
  for await (const input of createInterface({ input: process.stdin })) {
    const tab = input.indexOf("\t");
    const line = input.slice(tab + 1);
    const out: Record<string, unknown> = { id: Number(input.slice(0, tab)) };
    try {
      out.paths1 = JSON.parse(await text(`${PROBER_URL}/paths`));
      out.metrics = await text(`${PROBER_URL}/metrics`);
      out.paths2 = JSON.parse(await text(`${PROBER_URL}/paths`));
    } catch (e) {
      out.error = `prober: ${(e as Error).message}`;
    }
    if (line !== "") {
      try {
        out.prom = JSON.parse(await text(line.startsWith("/") ? `${PROM_URL}${line}` : `${PROM_URL}/api/v1/query?query=${encodeURIComponent(line)}`));
      } catch (e) {
        out.promError = (e as Error).message;
      }
    }
    process.stdout.write(JSON.stringify(out) + "\n");
  }
}

// ------------------------------------------------------------------------------------------------
// What is read
// ------------------------------------------------------------------------------------------------

interface PathRow extends Record<Counter, number> {
  hops: string;
  state: string;
  inFlight: number;
}
interface PathsDoc {
  generation: number;
  paths: PathRow[];
  suspects: Array<{ link: string; from: string; to: string; loss: number }>;
}
interface PromVector {
  status: string;
  data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  error?: string;
}
interface Sample {
  id?: number;
  paths1?: PathsDoc;
  paths2?: PathsDoc;
  metrics?: string;
  prom?: PromVector;
  error?: string;
  promError?: string;
}

/** Per-path counters (by hops) from the prober's /metrics text, and the unlabelled totals of interest. */
function parseMetrics(text: string): { perPath: Map<string, Record<Counter, number>>; rejected: number; skipped: number; replyDrops: number } {
  const perPath = new Map<string, Record<Counter, number>>();
  let rejected = 0;
  let skipped = 0;
  let replyDrops = 0;
  const re = /^lsprobe_probes_(sent|received|lost|late|unknown)_total\{([^}]*)\} (\S+)$/;
  // The per-path series carry path, class and af; the hops are on lsprobe_path_info.
  const hopsOf = new Map<string, string>();
  for (const m of text.matchAll(/^lsprobe_path_info\{([^}]*)\} 1$/gm)) {
    const id = /(?:^|,)path="([^"]*)"/.exec(m[1])?.[1];
    const hops = /(?:^|,)hops="([^"]*)"/.exec(m[1])?.[1];
    if (id !== undefined && hops !== undefined) hopsOf.set(id, hops);
  }
  for (const line of text.split("\n")) {
    const m = re.exec(line);
    if (m) {
      const hops = hopsOf.get(/(?:^|,)path="([^"]*)"/.exec(m[2])?.[1] ?? "") ?? "?";
      const row = perPath.get(hops) ?? { sent: 0, received: 0, lost: 0, late: 0, unknown: 0 };
      row[m[1] as Counter] += Number(m[3]);
      perPath.set(hops, row);
    } else if (line.startsWith("lsprobe_probes_rejected_total{")) rejected += Number(line.slice(line.lastIndexOf(" ") + 1));
    else if (line.startsWith("lsprobe_probes_skipped_total ")) skipped += Number(line.slice(line.lastIndexOf(" ") + 1));
    else if (line.startsWith("lsprobe_reply_drops_total{")) replyDrops += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return { perPath, rejected, skipped, replyDrops };
}

/** RSS (bytes) and CPU time (s) of a process, from /proc. */
function procStat(pid: number): { rss: number; cpuS: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) * 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { rss, cpuS: (Number(f[11]) + Number(f[12])) / 100 }; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return undefined;
  }
}

/** The pid whose command line has every one of `parts` (the stack's processes carry its config path). */
function findPid(parts: string[]): number | undefined {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
      if (parts.every((p) => cmd.includes(p)) && !cmd.includes("ip")) return Number(d);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/** Problems of one kind: counted, the first MAX_KEPT kept. */
class Kept {
  n = 0;
  readonly first: string[] = [];
  add(s: string): void {
    this.n++;
    if (this.first.length < MAX_KEPT) this.first.push(s);
  }
}

interface ProcPoint {
  t: number;
  rss: number;
  cpuS: number;
}

/** First, last, max RSS and CPU over the first and the last minute: constant memory. */
class ProcTrack {
  first?: ProcPoint;
  last?: ProcPoint;
  maxRss = 0;
  /** The point closest to a minute after the first. */
  private minute?: ProcPoint;
  /** Points of the last ~minute, oldest first (at most 60 s / interval + 1). */
  private recent: ProcPoint[] = [];
  constructor(readonly name: string) {}
  add(p: ProcPoint): void {
    this.first ??= p;
    if (this.minute === undefined && p.t - this.first.t >= 60) this.minute = p;
    this.last = p;
    this.maxRss = Math.max(this.maxRss, p.rss);
    this.recent.push(p);
    while (this.recent.length > 2 && p.t - this.recent[1].t >= 60) this.recent.shift();
  }
  cpuPct(a?: ProcPoint, b?: ProcPoint): number {
    return a && b && b.t > a.t ? (100 * (b.cpuS - a.cpuS)) / (b.t - a.t) : NaN;
  }
  summary(): { rssStartMB: number; rssEndMB: number; rssMaxMB: number; cpuFirstMinPct: number; cpuLastMinPct: number; cpuRunPct: number } {
    const mb = (x: number | undefined): number => Number(((x ?? NaN) / 2 ** 20).toFixed(1));
    const r1 = (x: number): number => Number(x.toFixed(1));
    return {
      rssStartMB: mb(this.first?.rss),
      rssEndMB: mb(this.last?.rss),
      rssMaxMB: mb(this.maxRss),
      cpuFirstMinPct: r1(this.cpuPct(this.first, this.minute ?? this.last)),
      cpuLastMinPct: r1(this.cpuPct(this.recent[0], this.last)),
      cpuRunPct: r1(this.cpuPct(this.first, this.last)),
    };
  }
}

// ------------------------------------------------------------------------------------------------
// The run
// ------------------------------------------------------------------------------------------------

interface Args {
  durationS: number;
  intervalS: number;
  rate: number;
  lossWindow: string;
  lossyAbove: number;
  prometheus: boolean;
}

const USAGE = `Usage: node dist/bench/soak.js [--duration SECONDS] [--interval SECONDS] [--rate PPS] [--loss-window DURATION] [--lossy-above RATIO] [--no-prometheus]
Runs lsprobe on the healthy NANOG 6 lab (root, ExaBGP, Prometheus) for --duration (3600) seconds,
sampling every --interval (5): false suspects, downs and alerts, probe accounting, RSS and CPU.
Exit: 0 ok, 1 a false positive or broken accounting, 2 could not run.
`;

function parseArgs(argv: string[]): Args | string {
  const a: Args = { durationS: 3600, intervalS: 5, rate: 25, lossWindow: "30s", lossyAbove: 0.01, prometheus: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    const num = (min: number): number | string => (v !== undefined && Number.isFinite(Number(v)) && Number(v) >= min ? (i++, Number(v)) : `${k}: expected a number >= ${min}, got ${JSON.stringify(v)}`);
    let r: number | string | undefined;
    if (k === "--duration") r = num(10);
    else if (k === "--interval") r = num(1);
    else if (k === "--rate") r = num(1);
    else if (k === "--lossy-above") r = num(0);
    else if (k === "--loss-window") {
      if (v === undefined) return `${k}: expected a duration (e.g. 30s)`;
      a.lossWindow = v;
      i++;
      continue;
    } else if (k === "--no-prometheus") {
      a.prometheus = false;
      continue;
    } else if (k === "--help" || k === "-h") return "help";
    else return `unknown argument ${JSON.stringify(k)}`;
    if (typeof r === "string") return r;
    if (k === "--duration") a.durationS = r;
    else if (k === "--interval") a.intervalS = r;
    else if (k === "--rate") a.rate = r;
    else a.lossyAbove = r;
  }
  return a;
}

async function soak(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (typeof args === "string") {
    process.stderr.write(`bench/soak: ${args}\n${USAGE}`);
    return 2;
  }
  const cannot = (why: string): number => {
    process.stderr.write(`bench/soak: cannot run: ${why}\n`);
    return 2;
  };
  if (process.getuid?.() !== 0) return cannot("needs root (network namespaces, raw sockets)");
  if (findExabgp() === undefined) return cannot("exabgp is not installed (apt-get install exabgp)");
  if (args.prometheus && !existsSync("/usr/bin/prometheus")) return cannot("/usr/bin/prometheus is not installed (apt-get install prometheus), or pass --no-prometheus");

  const startedAt = new Date();
  const load0 = loadavg()[0];
  const recentLog: string[] = [];
  const logSuspects = new Kept();
  const logDowns = new Kept();
  const logWarnings = new Kept();
  let phase: "starting" | "running" = "starting";
  const onLog = (line: string): void => {
    recentLog.push(line);
    if (recentLog.length > 40) recentLog.shift();
    if (!line.startsWith("prober: ")) return;
    if (line.includes(" link suspect")) logSuspects.add(line);
    if (line.includes(" path down")) logDowns.add(line);
    if (/^prober: \S+ (WARN|ERROR) /.test(line)) logWarnings.add(line);
  };
  const ruleFiles = ["lsprobe-recording.rules.yml", "lsprobe-alerts.rules.yml"].map((f) => path.join(REPO_ROOT, "monitoring/prometheus", f));

  let stack: LabStack | undefined;
  let sampler: ChildProcess | undefined;
  let stopping: string | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    stopping = sig;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    process.stderr.write(`bench/soak: starting the NANOG 6 lab (rate ${args.rate}/s a path, loss window ${args.lossWindow}, lossy-above ${args.lossyAbove}${args.prometheus ? ", Prometheus with monitoring/ rules" : ", no Prometheus"})\n`);
    try {
      stack = await LabStack.start(nanogLab(), {
        rate: args.rate,
        lossWindow: args.lossWindow,
        lossyAbove: args.lossyAbove,
        prometheus: args.prometheus,
        ...(args.prometheus ? { alerting: { ruleFiles } } : {}),
        onLog,
      });
    } catch (e) {
      return cannot(`the lab did not come up: ${(e as Error).message}\n${recentLog.join("\n")}`);
    }
    process.stderr.write(`bench/soak: ${stack.lab.decapSummary}\n`);
    const config = path.join(stack.dir, "lsprobe.yaml");
    const proberPid = findPid([path.join(distDir("prober"), "main.js"), config]);
    const pluginPid = findPid([path.join(distDir("plugin"), "parser.js"), config]);
    if (proberPid === undefined || pluginPid === undefined) return cannot(`prober (${proberPid}) or plugin (${pluginPid}) process not found`);

    sampler = stack.lab.spawnIn(stack.host.name, [process.execPath, SCRIPT, "--sampler"], { stdio: ["pipe", "pipe", "inherit"] });
    // One question at a time, matched by id (an answer that comes after its timeout is dropped).
    const answers = new Map<number, (s: Sample) => void>();
    let nextId = 0;
    createInterface({ input: sampler.stdout! }).on("line", (l) => {
      const s = JSON.parse(l) as Sample;
      answers.get(s.id ?? -1)?.(s);
    });
    const ask = (promql: string): Promise<Sample> =>
      new Promise((resolve) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          answers.delete(id);
          resolve({ error: "sampler did not answer within 15 s" });
        }, 15_000);
        answers.set(id, (s) => {
          clearTimeout(timer);
          answers.delete(id);
          resolve(s);
        });
        sampler!.stdin!.write(`${id}\t${promql.replace(/\n/g, " ")}\n`);
      });

    if (args.prometheus) {
      // Prometheus up, scraping the prober, with the rules loaded: otherwise "no alert" means nothing.
      const end = Date.now() + 60_000;
      for (;;) {
        const s = await ask('up{job="lsprobe-prober"}');
        if (s.prom?.data?.result.some((r) => r.value[1] === "1")) break;
        if (Date.now() > end || stopping !== undefined) return cannot(`Prometheus never scraped the prober: ${stopping ?? JSON.stringify(s.prom ?? s.promError)}`);
        await sleep(1000);
      }
    }

    const sampleErrors = new Kept();
    const identity = new Kept();
    const metricsVsPaths = new Kept();
    const suspects = new Map<string, { first: number; times: number; maxLoss: number }>();
    const downs = new Kept();
    const alerts = new Map<string, { first: number; times: number }>();
    const everUp = new Set<string>();
    let samples = 0;
    let identityChecks = 0;
    let bracketChecks = 0;
    let last: { doc: PathsDoc; metrics: ReturnType<typeof parseMetrics> } | undefined;
    const procs = { prober: new ProcTrack("prober"), plugin: new ProcTrack("plugin"), bench: new ProcTrack("bench") };
    const t0 = Date.now();
    const startS = (t0 - startedAt.getTime()) / 1000;
    let firstSent: { t: number; sent: number } | undefined;
    const elapsed = (): number => (Date.now() - t0) / 1000;
    const noteSuspects = (doc: PathsDoc | undefined): void => {
      for (const s of doc?.suspects ?? []) {
        const k = `${s.from} -> ${s.to}`;
        const e = suspects.get(k) ?? { first: elapsed(), times: 0, maxLoss: 0 };
        e.times++;
        e.maxLoss = Math.max(e.maxLoss, s.loss);
        suspects.set(k, e);
      }
    };
    // The stack's own watcher reads /paths every 500 ms: suspects in between samples show there.
    const watch = setInterval(() => noteSuspects(stack?.view as PathsDoc | undefined), 500);
    phase = "running";
    process.stderr.write(`bench/soak: running ${args.durationS} s, a sample every ${args.intervalS} s (prober pid ${proberPid}, plugin pid ${pluginPid})\n`);
    let nextProgress = 60;

    const sampleOnce = async (): Promise<void> => {
      const s = await ask(args.prometheus ? "ALERTS" : "");
      const t = elapsed();
      samples++;
      for (const [track, pid] of [[procs.prober, proberPid], [procs.plugin, pluginPid], [procs.bench, process.pid]] as const) {
        const st = procStat(pid);
        if (st) track.add({ t, ...st });
        else sampleErrors.add(`${t.toFixed(0)} s: ${track.name} (pid ${pid}) is gone`);
      }
      if (s.error || !s.paths1 || !s.paths2 || s.metrics === undefined) {
        sampleErrors.add(`${t.toFixed(0)} s: ${s.error ?? "incomplete sample"}`);
        return;
      }
      const m = parseMetrics(s.metrics);
      for (const doc of [s.paths1, s.paths2]) {
        noteSuspects(doc);
        for (const p of doc.paths) {
          identityChecks++;
          const sum = p.received + p.lost + p.late + p.unknown + p.inFlight;
          if (p.sent !== sum) identity.add(`${t.toFixed(0)} s ${p.hops}: sent ${p.sent} != received ${p.received} + lost ${p.lost} + late ${p.late} + unknown ${p.unknown} + in flight ${p.inFlight} (= ${sum})`);
          if (p.state === "up") everUp.add(p.hops);
          else if (everUp.has(p.hops)) downs.add(`${t.toFixed(0)} s ${p.hops}: ${p.state} after being up`);
        }
      }
      // /metrics between the two /paths reads, per path and in total.
      const by2 = new Map(s.paths2.paths.map((p) => [p.hops, p]));
      const tot = (rows: Array<Record<Counter, number>>, c: Counter): number => rows.reduce((x, r) => x + r[c], 0);
      const pairs: Array<[string, Record<Counter, number>, Record<Counter, number>, Record<Counter, number> | undefined]> = s.paths1.paths.map((p) => [p.hops, p, by2.get(p.hops) ?? p, m.perPath.get(p.hops)]);
      pairs.push(["total", Object.fromEntries(COUNTERS.map((c) => [c, tot(s.paths1!.paths, c)])) as Record<Counter, number>, Object.fromEntries(COUNTERS.map((c) => [c, tot(s.paths2!.paths, c)])) as Record<Counter, number>, Object.fromEntries(COUNTERS.map((c) => [c, tot([...m.perPath.values()], c)])) as Record<Counter, number>]);
      if (s.paths1.generation !== s.paths2.generation || s.paths1.paths.length !== m.perPath.size) sampleErrors.add(`${t.toFixed(0)} s: the path set changed between reads (generation ${s.paths1.generation} -> ${s.paths2.generation}, ${m.perPath.size} paths in /metrics)`);
      else
        for (const [hops, a, b, mm] of pairs) {
          for (const c of COUNTERS) {
            bracketChecks++;
            const v = mm?.[c];
            if (v === undefined || v < a[c] || v > b[c]) metricsVsPaths.add(`${t.toFixed(0)} s ${hops}: /metrics ${c} ${v} outside /paths ${a[c]}..${b[c]}`);
          }
        }
      for (const r of s.prom?.data?.result ?? []) {
        const k = `${r.metric.alertname}{${Object.entries(r.metric).filter(([n]) => !["__name__", "alertname", "instance", "job"].includes(n)).map(([n, v]) => `${n}=${v}`).join(",")}}`;
        const e = alerts.get(k) ?? { first: t, times: 0 };
        e.times++;
        alerts.set(k, e);
      }
      if (args.prometheus && s.prom?.status !== "success") sampleErrors.add(`${t.toFixed(0)} s: Prometheus: ${s.promError ?? s.prom?.error ?? "no answer"}`);
      last = { doc: s.paths2, metrics: m };
      firstSent ??= { t, sent: s.paths2.paths.reduce((x, p) => x + p.sent, 0) };
    };

    while (elapsed() < args.durationS && stopping === undefined) {
      const due = t0 + (samples + 1) * args.intervalS * 1000;
      await sleep(Math.max(0, Math.min(due, t0 + args.durationS * 1000) - Date.now()));
      if (stopping !== undefined) break;
      await sampleOnce();
      if (elapsed() >= nextProgress) {
        const tot = last ? last.doc.paths.reduce((x, p) => x + p.sent, 0) : 0;
        process.stderr.write(`bench/soak: ${elapsed().toFixed(0)} s: ${samples} samples, ${tot} probes sent, suspects ${suspects.size}, alerts ${alerts.size}, accounting problems ${identity.n + metricsVsPaths.n}, prober RSS ${((procs.prober.last?.rss ?? 0) / 2 ** 20).toFixed(1)} MB\n`);
        nextProgress += 60;
      }
    }
    clearInterval(watch);
    if (stopping !== undefined) {
      process.stderr.write(`bench/soak: ${stopping} after ${elapsed().toFixed(0)} s: stopping, no figures\n`);
      return 2;
    }
    const runS = elapsed();
    // Anything Prometheus ever saw pending or firing over the run (what a sample may have missed).
    let promEver: string[] = [];
    let promStartup: string[] = [];
    let promScrapes = NaN;
    let rulesLoaded = NaN;
    if (args.prometheus) {
      // From the first sample on (Prometheus had scraped the prober by then). Before it, from
      // Prometheus's start: its first evaluations can run before its first scrape, when
      // LsprobeProberDown's absent(up{job="lsprobe-prober"}) is true and the alert is pending
      // for a few seconds (it needs 1m to fire): reported, not counted.
      const name = (r: { metric: Record<string, string> }): string => `${r.metric.alertname} ${r.metric.alertstate} ${r.metric.hops ?? [r.metric.from, r.metric.to].filter(Boolean).join("->")}`.trim();
      const ever = await ask(`max_over_time(ALERTS[${Math.floor(runS)}s])`);
      if (ever.prom?.status !== "success") sampleErrors.add(`end: Prometheus: ${ever.promError ?? ever.prom?.error}`);
      promEver = (ever.prom?.data?.result ?? []).map(name);
      const withStart = await ask(`max_over_time(ALERTS[${Math.ceil(runS + startS + 30)}s])`);
      promStartup = (withStart.prom?.data?.result ?? []).map(name).filter((n) => !promEver.includes(n));
      const sc = await ask(`count_over_time(up{job="lsprobe-prober"}[${Math.ceil(runS)}s])`);
      promScrapes = Number(sc.prom?.data?.result[0]?.value[1] ?? NaN);
      const rules = await ask("/api/v1/rules?type=alert");
      const groups = (rules.prom as unknown as { data?: { groups?: Array<{ rules: Array<{ health: string }> }> } } | undefined)?.data?.groups ?? [];
      rulesLoaded = groups.reduce((n, g) => n + g.rules.filter((r) => r.health === "ok").length, 0);
    }
    if (!last) return cannot(`no sample succeeded: ${sampleErrors.first.slice(0, 5).join("; ")}`);

    // ---- report ----
    const doc = last.doc;
    const tot = (c: Counter | "inFlight"): number => doc.paths.reduce((x, p) => x + p[c], 0);
    const sent = tot("sent");
    const lastT = procs.bench.last?.t ?? runS;
    const expectSent = Math.round((firstSent?.sent ?? 0) + args.rate * doc.paths.length * (lastT - (firstSent?.t ?? 0)));
    const problems: string[] = [];
    if (suspects.size > 0 || logSuspects.n > 0) problems.push(`false suspects: ${[...suspects.keys()].join(", ") || logSuspects.first[0]}`);
    if (downs.n > 0 || logDowns.n > 0) problems.push(`false downs: ${downs.first[0] ?? logDowns.first[0]}`);
    if (alerts.size > 0 || promEver.length > 0) problems.push(`false alerts: ${[...new Set([...alerts.keys(), ...promEver])].join(", ")}`);
    if (identity.n > 0) problems.push(`/paths accounting broken ${identity.n} times: ${identity.first[0]}`);
    if (metricsVsPaths.n > 0) problems.push(`/metrics disagrees with /paths ${metricsVsPaths.n} times: ${metricsVsPaths.first[0]}`);
    if (sampleErrors.n > 0) problems.push(`${sampleErrors.n} samples failed: ${sampleErrors.first[0]}`);
    if (doc.paths.length !== 4) problems.push(`${doc.paths.length} paths probed, expected the 4 of r1 -> r6`);

    const pct = (a: number, b: number): string => (b > 0 ? `${((100 * a) / b).toFixed(3)}%` : "-");
    const yes = (ok: boolean): string => (ok ? "yes" : "NO");
    const ps = procs.prober.summary();
    const gs = procs.plugin.summary();
    const bs = procs.bench.summary();
    const rows: string[][] = [
      ["run", `${runS.toFixed(0)} s, ${samples} samples (every ${args.intervalS} s)`, `${args.durationS} s`, yes(runS >= args.durationS - args.intervalS)],
      ["paths probed", String(doc.paths.length), "4 (r1 -> r6)", yes(doc.paths.length === 4)],
      ["probes sent", String(sent), `~${expectSent} (first sample's + ${args.rate}/s x ${doc.paths.length} paths since)`, ""],
      ["received", String(tot("received")), "sent - in flight", ""],
      ["lost", `${tot("lost")} (${pct(tot("lost"), sent)})`, "0 (healthy lab)", ""],
      ["late", String(tot("late")), "0", ""],
      ["unknown", String(tot("unknown")), "0 (no flood)", ""],
      ["rejected", String(last.metrics.rejected), "0", ""],
      ["skipped (prober behind schedule)", String(last.metrics.skipped), "0", ""],
      ["reply socket drops", String(last.metrics.replyDrops), "0", ""],
      ["in flight at the end", String(tot("inFlight")), `<= ~${Math.ceil(args.rate * doc.paths.length * 0.5)} (rate x 2 x timeout)`, ""],
      ...doc.paths.map((p) => [`loss ${p.hops}`, `${pct(p.lost, p.sent)} (${p.lost} of ${p.sent})`, "0", ""]),
      ["suspect links ever (false suspects)", String(Math.max(suspects.size, logSuspects.n)), "0", yes(suspects.size === 0 && logSuspects.n === 0)],
      ["paths down after up (false downs)", String(Math.max(downs.n, logDowns.n)), "0", yes(downs.n === 0 && logDowns.n === 0)],
      [
        "alerts ever pending or firing (false alerts)",
        args.prometheus ? `${new Set([...alerts.keys(), ...promEver]).size} (ALERTS in ${samples} samples, and max_over_time over the run)` : "not checked (--no-prometheus)",
        `0 (${rulesLoaded} alert rules loaded, ${promScrapes} scrapes)`,
        args.prometheus ? yes(alerts.size === 0 && promEver.length === 0) : "-",
      ],
      ["/paths: sent = received + lost + late + unknown + in flight", `${identity.n} broken of ${identityChecks}`, "0", yes(identity.n === 0)],
      ["/metrics between two /paths reads (per path and total)", `${metricsVsPaths.n} broken of ${bracketChecks}`, "0", yes(metricsVsPaths.n === 0)],
      ["failed samples", String(sampleErrors.n), "0", yes(sampleErrors.n === 0)],
      ["prober warn/error log lines", String(logWarnings.n), "0", ""],
      ["prober RSS start -> end (max)", `${ps.rssStartMB} -> ${ps.rssEndMB} MB (${ps.rssMaxMB})`, "flat", ""],
      ["prober CPU first min / last min / run", `${ps.cpuFirstMinPct} / ${ps.cpuLastMinPct} / ${ps.cpuRunPct} %`, "flat", ""],
      ["plugin RSS start -> end (max)", `${gs.rssStartMB} -> ${gs.rssEndMB} MB (${gs.rssMaxMB})`, "flat", ""],
      ["plugin CPU first min / last min / run", `${gs.cpuFirstMinPct} / ${gs.cpuLastMinPct} / ${gs.cpuRunPct} %`, "flat", ""],
      ["bench RSS start -> end (max)", `${bs.rssStartMB} -> ${bs.rssEndMB} MB (${bs.rssMaxMB})`, "flat", ""],
      ["load average (1 min) start -> end", `${load0.toFixed(2)} -> ${loadavg()[0].toFixed(2)}`, "", ""],
    ];
    const out: string[] = [];
    out.push(`soak (prober build ${codeDigest(distDir("prober"))}, plugin build ${codeDigest(distDir("plugin"))}): NANOG 6 lab, healthy, ${startedAt.toISOString()}; ${stack.lab.decapSummary}; rate ${args.rate}/s a path, timeout 250 ms, loss window ${args.lossWindow}, lossy-above ${args.lossyAbove}`);
    out.push("");
    out.push(mdTable(["", "figure", "expected", "ok"], rows, ["l", "r", "l", "l"]));
    out.push("");
    for (const [k, e] of suspects) out.push(`SUSPECT: ${k} first at ${e.first.toFixed(0)} s, seen ${e.times} times, loss up to ${(e.maxLoss * 100).toFixed(2)}%`);
    for (const l of logSuspects.first.slice(0, 10)) out.push(`LOG: ${l}`);
    for (const l of [...downs.first, ...logDowns.first].slice(0, 10)) out.push(`DOWN: ${l}`);
    for (const [k, e] of alerts) out.push(`ALERT: ${k} first at ${e.first.toFixed(0)} s, in ${e.times} samples`);
    for (const l of promEver) out.push(`ALERT (over the run): ${l}`);
    for (const l of promStartup) out.push(`start-up, before the first sample (not counted): ${l}`);
    for (const l of [...identity.first, ...metricsVsPaths.first, ...sampleErrors.first].slice(0, 20)) out.push(`CHECK: ${l}`);
    for (const l of logWarnings.first.slice(0, 10)) out.push(`WARN: ${l}`);
    for (const p of problems) out.push(`PROBLEM: ${p}`);
    process.stdout.write(out.join("\n") + "\n");
    process.stdout.write(
      JSON.stringify({
        bench: "soak",
        proberBuild: codeDigest(distDir("prober")),
        pluginBuild: codeDigest(distDir("plugin")),
        node: process.version,
        cpu: cpus()[0]?.model,
        decap: stack.lab.decapSummary,
        ok: problems.length === 0,
        durationS: Math.round(runS),
        samples,
        rate: args.rate,
        lossWindow: args.lossWindow,
        lossyAbove: args.lossyAbove,
        paths: doc.paths.length,
        sent,
        received: tot("received"),
        lost: tot("lost"),
        late: tot("late"),
        unknown: tot("unknown"),
        inFlight: tot("inFlight"),
        rejected: last.metrics.rejected,
        skipped: last.metrics.skipped,
        replyDrops: last.metrics.replyDrops,
        perPathLoss: Object.fromEntries(doc.paths.map((p) => [p.hops, p.sent > 0 ? Number((p.lost / p.sent).toFixed(6)) : null])),
        falseSuspects: Math.max(suspects.size, logSuspects.n),
        falseDowns: Math.max(downs.n, logDowns.n),
        falseAlerts: args.prometheus ? new Set([...alerts.keys(), ...promEver]).size : null,
        startupAlerts: promStartup,
        accountingBroken: identity.n,
        accountingChecks: identityChecks,
        metricsVsPathsBroken: metricsVsPaths.n,
        metricsVsPathsChecks: bracketChecks,
        failedSamples: sampleErrors.n,
        prober: ps,
        plugin: gs,
        benchProcess: bs,
        loadStart: Number(load0.toFixed(2)),
        loadEnd: Number(loadavg()[0].toFixed(2)),
      }) + "\n",
    );
    return problems.length === 0 ? 0 : 1;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    sampler?.stdin?.end();
    if (stack) await stack.stop();
    if (phase === "starting" && stopping) process.stderr.write("bench/soak: interrupted while starting\n");
  }
}

if (process.argv[2] === "--sampler") {
  sampler().catch((e: unknown) => {
    process.stderr.write(`soak sampler: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
} else {
  soak(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`bench/soak: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(2);
    },
  );
}
