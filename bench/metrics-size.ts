// bench/metrics-size: what one scrape of the prober's /metrics costs, in series and bytes (plain
// and gzipped, as shared/http.ts sends it to a scraper that accepts gzip), for N probed paths
// under each prober.rtt-histogram setting, beside the layout before issue 14 as the baseline.
//
//   node dist/bench/metrics-size.js [--paths 100,10000,100000] [--per-pair 8]
//
// The paths are synthetic but shaped like real ones: PATHS_PER_PAIR equal-cost paths per
// (src, dst) pair of PE routers (names pe000..), 5 hops through core routers (p00..), ids
// `p-` + 16 hex digits as the plugin makes them, counters in the millions and an RTT histogram
// spread over six buckets (multi-digit cumulative counts), one class, IPv4. The metrics are the
// real ones: a ProberMetrics over a ProberState holding those entries, rendered by prom-client
// (registry.metrics(), what GET /metrics serves), gzipped by node:zlib at its default level
// (shared/http.ts does the same).
//
// Layouts:
//   baseline   the layout before issue 14: src, dst and hops on every per-path series (path,
//              src, dst, hops, class, af), the 23-series histogram per path, no lsprobe_path_info.
//              Rendered from the per-path text by putting src, dst and hops back after `path`
//              (in the order prom-client printed them) and dropping lsprobe_path_info and the
//              max-paths gauges: byte for byte what the old code printed for the same state.
//   per-path   path, class, af on the per-path series; lsprobe_path_info one series a path.
//   per-pair   the same, the histogram one per (src, dst, class, af): PATHS_PER_PAIR paths share it.
//   off        no histogram.
//
// Large N: a 100,000-path baseline scrape is 490 MB of text, close to the longest string V8
// holds (2^29 - 24 characters; prom-client renders a scrape into one string, then copies it),
// more than one process should hold for a benchmark on a shared machine. So past SHARD paths the state is rendered in shards of SHARD paths (whole pairs), and the
// figures are the fixed part (the scrape with no path: process, build and prober-wide series)
// plus each shard's own series (those with a path or src label); the sum is exact for series and bytes (checked below against a
// direct render at SHARD paths), and the gzipped size is that of the same lines streamed through
// one gzip stream (the shards' families interleaved: within a few per cent of one render, also
// checked).
//
// Correctness (exit 1): the series counts are what the layout predicts (per path: 6 counters +
// 3 gauges + 1 info + 23 histogram = 33 per-path, 10 + 23/PATHS_PER_PAIR per-pair, 10 off; the
// baseline 32), the sharded and direct renders agree, and the gzipped text unzips to the text.
import { constants, createGzip, gunzipSync, gzipSync } from "node:zlib";
import os from "node:os";
import { ProberMetrics, type MetricEntry, type ProberState } from "../prober/metrics.js";
import { PathTracker } from "../prober/tracker.js";
import { RttHistogram } from "../prober/rtthist.js";
import type { RttHistogramMode } from "../shared/config.js";
import { mdTable } from "./lib/table.js";

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const SIZES = arg("--paths", "100,10000,100000").split(",").map(Number);
const PATHS_PER_PAIR = Number(arg("--per-pair", "8"));
const SHARD = 10_000;
const MODES: readonly RttHistogramMode[] = ["per-path", "per-pair", "off"];

/** Entries `from`..`to - 1` of the synthetic set (whole pairs when both are multiples of PATHS_PER_PAIR). */
function synth(from: number, to: number): MetricEntry[] {
  const out: MetricEntry[] = [];
  for (let i = from; i < to; i++) {
    const pair = Math.floor(i / PATHS_PER_PAIR);
    const k = i % PATHS_PER_PAIR;
    const src = `pe${String(Math.floor(pair / 400)).padStart(3, "0")}`;
    const dst = `pe${String(400 + (pair % 400)).padStart(3, "0")}`;
    const core = (n: number): string => `p${String(n % 64).padStart(2, "0")}`;
    const hops = [src, core(pair + k), core(pair * 7 + k * 3 + 1), core(pair * 13 + k * 5 + 2), dst].join(">");
    const id = `p-${((i * 2654435761) >>> 0).toString(16).padStart(8, "0")}${((i * 40503 + 977) >>> 0).toString(16).padStart(8, "0")}`;
    const tracker = new PathTracker(i, { window: 64, timeoutNs: 1e9, finalNs: 2e9, downAfter: 3, upAfter: 3 });
    const sent = 1_000_000 + ((i * 7919) % 900_000);
    Object.assign(tracker.counters, { sent, received: sent - 40 - (i % 17), lost: 7 + (i % 11), late: 3 + (i % 5), outOfOrder: i % 3 });
    tracker.lastRtt = 0.0012 + (i % 1000) * 1e-6;
    const rtt = new RttHistogram();
    for (const [b, n] of [[3, 11], [4, 900], [5, 410_000], [6, 580_000], [7, 8_000], [8, 120]] as const) rtt.counts[b] = n + (i % 97);
    rtt.count = rtt.counts.reduce((a, b) => a + b, 0);
    rtt.sum = rtt.count * 0.00171;
    out.push({ labels: { path: id, class: "default", af: "ipv4" }, info: { src, dst, hops }, tracker, rtt, lossRatio: () => 0.0004 });
  }
  return out;
}

function stateOf(entries: MetricEntry[], mode: RttHistogramMode): ProberState {
  return {
    entries: () => entries,
    rejected: { malformed: 0, bad_mac: 0, unknown_path: 0, other_run: 0, duplicate: 0, replay: 0, expired: 0 },
    generation: () => 1,
    skipped: () => 0,
    replyDrops: () => 0,
    plan: () => undefined,
    pathsetAge: () => 0,
    suspects: () => [],
    rttHistogram: () => mode,
    pathsLeftOut: () => 0,
  };
}

/** The layout before issue 14, from a per-path render: src, dst, hops after path; no info or cap gauges. */
function baselineOf(text: string, entries: MetricEntry[]): string {
  const desc = new Map(entries.map((e) => [String(e.labels.path), `,src="${e.info.src}",dst="${e.info.dst}",hops="${e.info.hops}"`]));
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (/^(# (HELP|TYPE) )?lsprobe_(path_info|paths_capped|paths_left_out)\b/.test(line)) continue;
    out.push(line.startsWith("#") ? line : line.replace(/path="([^"]*)"/, (m, id: string) => m + (desc.get(id) ?? "")));
  }
  return out.join("\n");
}

interface Figure {
  series: number;
  bytes: number;
  gzipBytes: number;
}

/** Process and build metrics vary between renders (uptime, CPU): counted once, from the fixed part. */
const volatile = (l: string): boolean => /^(process_|nodejs_|lsprobe_build_info)/.test(l);

const seriesOf = (text: string): number => {
  let n = 0;
  for (const line of text.split("\n")) if (line !== "" && !line.startsWith("#")) n++;
  return n;
};
/** The same without the process and Node.js series (their number grows as kinds of GC happen). */
const stableSeriesOf = (text: string): number => {
  let n = 0;
  for (const line of text.split("\n")) if (line !== "" && !line.startsWith("#") && !volatile(line)) n++;
  return n;
};

async function render(entries: MetricEntry[], mode: RttHistogramMode, baseline: boolean): Promise<string> {
  const text = await new ProberMetrics(stateOf(entries, mode)).registry.metrics();
  return baseline ? baselineOf(text, entries) : text;
}

/** The series of `text` that belong to its paths (per path, or per pair: they have path or src). */
function ownLines(text: string, fixed: Set<string>): string[] {
  return text.split("\n").filter((l) => l !== "" && !l.startsWith("#") && !fixed.has(l) && /[{,](path|src)="/.test(l));
}

async function measure(n: number, mode: RttHistogramMode, baseline: boolean): Promise<Figure & { sharded: boolean; stable: number }> {
  if (n <= SHARD) {
    const text = await render(synth(0, n), mode, baseline);
    const gz = gzipSync(text);
    if (gunzipSync(gz).toString() !== text) throw new Error("gzip round trip");
    return { series: seriesOf(text), stable: stableSeriesOf(text), bytes: Buffer.byteLength(text), gzipBytes: gz.length, sharded: false };
  }
  const fixedText = await render([], mode, baseline);
  const fixed = new Set(fixedText.split("\n").filter((l) => l !== ""));
  let series = seriesOf(fixedText);
  let stable = stableSeriesOf(fixedText);
  let bytes = Buffer.byteLength(fixedText);
  const gzip = createGzip();
  let gzipBytes = 0;
  gzip.on("data", (c: Buffer) => (gzipBytes += c.length));
  const done = new Promise((r) => gzip.on("end", r));
  gzip.write(fixedText);
  for (let from = 0; from < n; from += SHARD) {
    const own = ownLines(await render(synth(from, Math.min(n, from + SHARD)), mode, baseline), fixed).filter((l) => !volatile(l));
    series += own.length;
    stable += own.length;
    const chunk = own.join("\n") + "\n";
    bytes += Buffer.byteLength(chunk);
    if (!gzip.write(chunk)) await new Promise((r) => gzip.once("drain", r));
  }
  gzip.end();
  await done;
  return { series, stable, bytes, gzipBytes, sharded: true };
}

const mb = (b: number): string => (b >= 1e6 ? `${(b / 1e6).toFixed(b >= 1e8 ? 0 : 1)} MB` : `${(b / 1e3).toFixed(1)} kB`);
const int = (x: number): string => Math.round(x).toLocaleString("en-US");

async function main(): Promise<number> {
  const problems: string[] = [];
  console.log(`# bench/metrics-size: one /metrics scrape, ${PATHS_PER_PAIR} paths per pair (node ${process.version}, load average (1 min) ${os.loadavg()[0].toFixed(2)})\n`);
  // Self-check of the sharded sum: at SHARD paths, rendered directly and as two shards.
  {
    const direct = await measure(SHARD, "per-path", true);
    const savedShard = SHARD;
    const viaShards = await (async () => {
      const fixedText = await render([], "per-path", true);
      const fixed = new Set(fixedText.split("\n").filter((l) => l !== ""));
      let series = seriesOf(fixedText);
      let bytes = Buffer.byteLength(fixedText);
      let all = fixedText;
      for (const [a, b] of [[0, savedShard / 2], [savedShard / 2, savedShard]]) {
        const own = ownLines(await render(synth(a, b), "per-path", true), fixed).filter((l) => !volatile(l));
        series += own.filter((l) => !l.startsWith("#")).length;
        const chunk = own.join("\n") + "\n";
        bytes += Buffer.byteLength(chunk);
        all += chunk;
      }
      return { series, bytes, gzipBytes: gzipSync(all).length };
    })();
    // Bytes: the process metrics' values (CPU seconds, memory) may differ by a digit between renders.
    const dBytes = Math.abs(viaShards.bytes - direct.bytes) / direct.bytes;
    const dGzip = Math.abs(viaShards.gzipBytes - direct.gzipBytes) / direct.gzipBytes;
    if (viaShards.series !== direct.series || dBytes > 0.001) problems.push(`sharded sum disagrees with a direct render at ${SHARD}: ${viaShards.series} vs ${direct.series} series, ${viaShards.bytes} vs ${direct.bytes} bytes`);
    if (dGzip > 0.05) problems.push(`sharded gzip ${viaShards.gzipBytes} vs direct ${direct.gzipBytes}: more than 5% apart`);
    console.log(`self-check at ${int(SHARD)} paths (baseline layout), direct vs two shards: ${int(direct.series)} vs ${int(viaShards.series)} series, ${int(direct.bytes)} vs ${int(viaShards.bytes)} bytes, gzipped ${int(direct.gzipBytes)} vs ${int(viaShards.gzipBytes)}\n`);
  }
  const fixedSeries = new Map<string, number>();
  for (const layout of ["baseline", ...MODES]) fixedSeries.set(layout, stableSeriesOf(await render([], layout === "baseline" ? "per-path" : (layout as RttHistogramMode), layout === "baseline")));
  const expectPerPath: Record<string, number> = { baseline: 32, "per-path": 33, "per-pair": 10 + 23 / PATHS_PER_PAIR, off: 10 };
  const rows: string[][] = [];
  const json: Array<Record<string, unknown>> = [];
  for (const n of SIZES) {
    const base = await measure(n, "per-path", true);
    const perPathBase = (base.stable - fixedSeries.get("baseline")!) / n;
    if (Math.abs(perPathBase - expectPerPath.baseline) > 1e-9) problems.push(`baseline at ${n}: ${perPathBase} series a path, expected ${expectPerPath.baseline}`);
    rows.push([int(n), "baseline (before issue 14)", perPathBase.toFixed(2), int(base.series), mb(base.bytes), mb(base.gzipBytes), `${(base.bytes / n).toFixed(0)}`, "1.00x", base.sharded ? "sharded" : ""]);
    json.push({ paths: n, layout: "baseline", seriesPerPath: perPathBase, series: base.series, bytes: base.bytes, gzipBytes: base.gzipBytes });
    for (const mode of MODES) {
      const f = await measure(n, mode, false);
      const perPath = (f.stable - fixedSeries.get(mode)!) / n;
      // per-pair: n / PATHS_PER_PAIR pairs (whole pairs only).
      const want = mode === "per-pair" ? 10 + (23 * Math.ceil(n / PATHS_PER_PAIR)) / n : expectPerPath[mode];
      if (Math.abs(perPath - want) > 1e-9) problems.push(`${mode} at ${n}: ${perPath} series a path, expected ${want}`);
      rows.push([int(n), mode, perPath.toFixed(2), int(f.series), mb(f.bytes), mb(f.gzipBytes), `${(f.bytes / n).toFixed(0)}`, `${(base.bytes / f.bytes).toFixed(2)}x`, f.sharded ? "sharded" : ""]);
      json.push({ paths: n, layout: mode, seriesPerPath: perPath, series: f.series, bytes: f.bytes, gzipBytes: f.gzipBytes, bytesRatioVsBaseline: base.bytes / f.bytes, gzipRatioVsBaseline: base.gzipBytes / f.gzipBytes });
    }
  }
  console.log(mdTable(["paths", "layout (prober.rtt-histogram)", "series/path", "series", "bytes", "gzipped", "bytes/path", "baseline/this (bytes)", "how"], rows));
  console.log(`\ngzip level ${constants.Z_DEFAULT_COMPRESSION} (zlib default, as shared/http.ts); sharded: rendered in shards of ${int(SHARD)} paths and summed (see the header)`);
  for (const p of problems) console.error(`PROBLEM: ${p}`);
  console.log(JSON.stringify({ bench: "metrics-size", pathsPerPair: PATHS_PER_PAIR, results: json, problems }));
  return problems.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
