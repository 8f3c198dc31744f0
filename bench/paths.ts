// bench/paths: ECMP enumeration, lsprobe (plugin/ecmp.ts) against networkx 2.8.8
// all_shortest_paths(G, s, t, weight="metric"), on the reference topologies of
// /work/shared/topologies with the queries of its expected/ files.
//
//   node dist/bench/paths.js [--only case,case] [--budget SECONDS] [--python /usr/bin/python3]
//
// Timed on the lsprobe side (median of N runs, N adapted to --budget; fast cases in batches):
// one EcmpSource per source and pathsTo(dst, Infinity) for each of its destinations, i.e. the
// edge-index lists the plugin consumes ("lsprobe ms"); and again with every path mapped to its
// node-name list, networkx's output shape ("+names ms"). An EcmpSource answers its first
// destination with a bidirectional search and runs one full SPF for the rest (plugin/ecmp.ts),
// so a single-pair case never runs a full SPF. compileGraph (once per topology, as the plugin
// does once per recompute) is NOT in the enumeration figure; it is timed separately and shown in
// its own column and in "speedup incl. compile". A second table shows where the time goes. The
// networkx side (bench/paths_networkx.py) runs in a child process in the same run.
//
// Correctness: both sides hash their path lists (sorted lexicographically by node names) to a
// sha256 digest; the digests must be equal for every case, and lsprobe's path counts must match
// the expected/ files (and their path lists where they have them), also as counted with cap 0
// (the count a capped query reports). Exit 1 otherwise.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { codeDigest } from "./lib/build.js";
import { cpus, loadavg } from "node:os";
import { compileGraph, EcmpSource, type CompiledGraph } from "../plugin/ecmp.js";
import { readTopologyJson, topologyFromJson, TOPOLOGY_DIR } from "../test/util/edgelist.js";

interface ExpectedJson {
  case: string;
  topology: string;
  pairs: number;
  total_paths: number;
  results: Array<{ src: string; dst: string; cost: number | null; count: number; paths?: string[][] }>;
}

interface PyCase {
  case: string;
  topology: string;
  pairs: number;
  paths: number;
  networkx_ms: number;
  networkx_runs: number;
  digest: string;
  grouped_ms?: number;
  grouped_runs?: number;
  grouped_digest?: string;
}

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = opt("--only")?.split(",");
const budgetMs = Number(opt("--budget") ?? "1.5") * 1000;
const python = opt("--python") ?? "/usr/bin/python3";

const topoDir = fileURLToPath(TOPOLOGY_DIR);
const expectedDir = new URL("expected/", TOPOLOGY_DIR);
const pyScript = fileURLToPath(new URL("../../bench/paths_networkx.py", import.meta.url));

const CODE = codeDigest(fileURLToPath(new URL("../plugin/", import.meta.url)));
const ECMP = createHash("sha256").update(readFileSync(new URL("../plugin/ecmp.js", import.meta.url))).digest("hex").slice(0, 12);

/** Element-wise lexicographic order of node-name lists (Python's list order). */
function cmpPath(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

function digestOf(pairs: Array<[string, string]>, results: string[][][]): string {
  const h = createHash("sha256");
  pairs.forEach(([s, t], i) => {
    for (const p of [...results[i]].sort(cmpPath)) h.update(`${s}\t${t}\t${p.join(",")}\n`);
  });
  return h.digest("hex");
}

/** The timed work: one SPF per source, every destination's paths as node-name lists. */
function enumerate(cg: CompiledGraph, groups: Array<{ src: number; items: Array<{ dst: number; slot: number }> }>, nPairs: number): string[][][] {
  const out: string[][][] = new Array(nPairs);
  const { nodes, head } = cg;
  for (const g of groups) {
    const source = new EcmpSource(cg, g.src);
    const srcName = nodes[g.src].name;
    for (const { dst, slot } of g.items) {
      const r = source.pathsTo(dst, Infinity);
      const named: string[][] = new Array(r.paths.length);
      for (let k = 0; k < r.paths.length; k++) {
        const edges = r.paths[k];
        const p: string[] = new Array(edges.length + 1);
        p[0] = srcName;
        for (let j = 0; j < edges.length; j++) p[j + 1] = nodes[head[edges[j]]].name;
        named[k] = p;
      }
      out[slot] = named;
    }
  }
  return out;
}

/** The same without the name mapping: the edge-index lists EcmpSource returns (what the plugin consumes). */
function enumerateRaw(cg: CompiledGraph, groups: Array<{ src: number; items: Array<{ dst: number; slot: number }> }>, nPairs: number): number[][][] {
  const out: number[][][] = new Array(nPairs);
  for (const g of groups) {
    const source = new EcmpSource(cg, g.src);
    for (const { dst, slot } of g.items) out[slot] = source.pathsTo(dst, Infinity).paths;
  }
  return out;
}

/**
 * Breakdown helpers: a full SPF (with its predecessor lists) per source alone; the timed
 * queries with cap 0 (distances, sub-DAG and a count over it, no path listed).
 */
function spfOnly(cg: CompiledGraph, groups: Array<{ src: number }>): number {
  let x = 0;
  for (const g of groups) x += new EcmpSource(cg, g.src, { fullSpf: true }).dist.length;
  return x;
}
function countOnly(cg: CompiledGraph, groups: Array<{ src: number; items: Array<{ dst: number }> }>): number {
  let x = 0;
  for (const g of groups) {
    const source = new EcmpSource(cg, g.src);
    for (const { dst } of g.items) x += source.pathsTo(dst, 0).total;
  }
  return x;
}

function namesOf(cg: CompiledGraph, src: number, paths: number[][]): string[][] {
  return paths.map((edges) => [cg.nodes[src].name, ...edges.map((e) => cg.nodes[cg.head[e]].name)]);
}

/**
 * Median ms per call of fn over N samples (after warm-up); batches so each sample is >= 5 ms.
 * Only the first call's result is kept, reduced by `keep` at once (so big path lists from
 * earlier calls or cases do not stay live and tax the GC of later measurements).
 */
function measure<T, R>(fn: () => T, budget: number, keep: (t: T) => R): { ms: number; runs: number; kept: R } {
  const kept = keep(fn());
  // Warm-up (JIT): a few calls or ~10% of the budget, whichever is longer.
  const w0 = performance.now();
  let warm = 0;
  while (warm < 5 || (performance.now() - w0 < budget * 0.1 && warm < 1000)) {
    fn();
    warm++;
  }
  const per = (performance.now() - w0) / warm;
  const batch = per < 5 ? Math.max(1, Math.ceil(5 / Math.max(per, 1e-4))) : 1;
  const n = Math.max(5, Math.min(200, Math.floor(budget / (per * batch))));
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    for (let b = 0; b < batch; b++) fn();
    samples.push((performance.now() - t0) / batch);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[samples.length >> 1], runs: n * batch, kept };
}

const fmtMs = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms >= 0.01 ? ms.toFixed(4) : ms.toPrecision(3));
const fmtX = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1)) + "x";

interface Row {
  case: string;
  topology: string;
  nodes: number;
  edges: number;
  pairs: number;
  paths: number;
  compileMs: number;
  /** pathsTo output (edge indices): the primary figure. */
  lsprobeMs: number;
  lsprobeRuns: number;
  /** The same plus mapping to node-name lists (networkx's output shape). */
  namesMs: number;
  namesRuns: number;
  networkxMs: number;
  networkxRuns: number;
  groupedMs?: number;
  speedup: number;
  speedupNames: number;
  speedupInclCompile: number;
  speedupVsGrouped?: number;
  digest: string;
  same: boolean;
}

function main(): number {
  const loadStart = loadavg()[0];
  const cases = readdirSync(expectedDir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(new URL(f, expectedDir), "utf8")) as ExpectedJson)
    .filter((e) => !only || only.includes(e.case))
    .sort((a, b) => a.case.localeCompare(b.case));
  if (cases.length === 0) {
    process.stderr.write("no cases\n");
    return 2;
  }

  // lsprobe side.
  const compiled = new Map<string, { cg: CompiledGraph; compileMs: number; edges: number }>();
  const ours = new Map<string, { ms: number; runs: number; digest: string; paths: number; pairs: Array<[string, string]>; rawMs: number; rawRuns: number; rawDigest: string }>();
  const problems: string[] = [];
  const breakdown = new Map<string, { fullSpfMs: number; countOnlyMs: number; totalMs: number; sources: number; multi: number }>();
  for (const e of cases) {
    const topoFile = e.topology.split("/").pop()!;
    let c = compiled.get(topoFile);
    if (!c) {
      const topo = topologyFromJson(readTopologyJson(topoFile));
      const m = measure(() => compileGraph(topo.graph), Math.min(budgetMs, 500), (cg) => cg);
      c = { cg: m.kept, compileMs: m.ms, edges: topo.links.length };
      compiled.set(topoFile, c);
    }
    const cg = c.cg;
    const pairs = e.results.map((r) => [r.src, r.dst] as [string, string]);
    const bySrc = new Map<number, Array<{ dst: number; slot: number }>>();
    pairs.forEach(([s, t], slot) => {
      const si = cg.index.get(s);
      const ti = cg.index.get(t);
      if (si === undefined || ti === undefined) throw new Error(`${e.case}: unknown node in ${s} -> ${t}`);
      let l = bySrc.get(si);
      if (!l) bySrc.set(si, (l = []));
      l.push({ dst: ti, slot });
    });
    const groups = [...bySrc].map(([src, items]) => ({ src, items }));
    const srcOf = pairs.map(([s]) => cg.index.get(s)!);
    const raw = measure(
      () => enumerateRaw(cg, groups, pairs.length),
      budgetMs,
      (res) => digestOf(pairs, res.map((p, i) => namesOf(cg, srcOf[i], p))),
    );
    const m = measure(
      () => enumerate(cg, groups, pairs.length),
      budgetMs,
      (res) => {
        // Against the expected/ files: counts always, path lists where present.
        e.results.forEach((r, i) => {
          if (res[i].length !== r.count) problems.push(`${e.case}: ${r.src}->${r.dst}: lsprobe ${res[i].length} paths, expected/ ${r.count}`);
        });
        if (e.results.every((r) => r.paths) && digestOf(pairs, e.results.map((r) => r.paths!)) !== digestOf(pairs, res))
          problems.push(`${e.case}: lsprobe paths differ from expected/${e.case}.json`);
        return { digest: digestOf(pairs, res), paths: res.reduce((n, l) => n + l.length, 0) };
      },
    );
    const spfM = measure(() => spfOnly(cg, groups), budgetMs / 3, () => 0);
    const countM = measure(() => countOnly(cg, groups), budgetMs / 3, (n) => n);
    // The count over the sub-DAG (what a capped query reports as total) must match too.
    const wantTotal = e.results.reduce((n, r) => n + r.count, 0);
    if (countM.kept !== wantTotal) problems.push(`${e.case}: lsprobe counts ${countM.kept} paths with cap 0, expected/ ${wantTotal}`);
    breakdown.set(e.case, { fullSpfMs: spfM.ms, countOnlyMs: countM.ms, totalMs: raw.ms, sources: groups.length, multi: groups.filter((g) => g.items.length > 1).length });
    ours.set(e.case, { ms: m.ms, runs: m.runs, digest: m.kept.digest, paths: m.kept.paths, pairs, rawMs: raw.ms, rawRuns: raw.runs, rawDigest: raw.kept });
    process.stderr.write(`lsprobe: ${e.case}: ${fmtMs(raw.ms)} ms x${raw.runs} (edge ids), ${fmtMs(m.ms)} ms x${m.runs} (with names)\n`);
  }

  // networkx side, same run.
  process.stderr.write(`networkx: running ${pyScript} (${python})...\n`);
  const py = spawnSync(python, [pyScript, "--budget", String(budgetMs / 1000), ...(only ? ["--only", only.join(",")] : []), topoDir], {
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (py.status !== 0) {
    process.stderr.write(`networkx side failed (exit ${py.status}${py.error ? `, ${py.error.message}` : ""})\n`);
    return 2;
  }
  const pyOut = JSON.parse(py.stdout) as { networkx: string; python: string; cases: PyCase[] };
  const pyByCase = new Map(pyOut.cases.map((c) => [c.case, c]));

  const rows: Row[] = [];
  for (const e of cases) {
    const o = ours.get(e.case)!;
    const p = pyByCase.get(e.case);
    const topoFile = e.topology.split("/").pop()!;
    const c = compiled.get(topoFile)!;
    if (!p) {
      problems.push(`${e.case}: no networkx result`);
      continue;
    }
    const { digest, paths } = o;
    const same = digest === p.digest && o.rawDigest === p.digest && paths === p.paths && o.pairs.length === p.pairs;
    if (!same)
      problems.push(`${e.case}: path sets differ (lsprobe ${paths} paths ${digest.slice(0, 12)}/${o.rawDigest.slice(0, 12)}, networkx ${p.paths} paths ${p.digest.slice(0, 12)})`);
    if (p.grouped_digest !== undefined && p.grouped_digest !== p.digest) problems.push(`${e.case}: networkx grouped variant differs from all_shortest_paths`);
    rows.push({
      case: e.case,
      topology: topoFile,
      nodes: c.cg.ids.length,
      edges: c.edges,
      pairs: o.pairs.length,
      paths,
      compileMs: c.compileMs,
      lsprobeMs: o.rawMs,
      lsprobeRuns: o.rawRuns,
      namesMs: o.ms,
      namesRuns: o.runs,
      networkxMs: p.networkx_ms,
      networkxRuns: p.networkx_runs,
      groupedMs: p.grouped_ms,
      speedup: p.networkx_ms / o.rawMs,
      speedupNames: p.networkx_ms / o.ms,
      speedupInclCompile: p.networkx_ms / (o.rawMs + c.compileMs),
      speedupVsGrouped: p.grouped_ms !== undefined ? p.grouped_ms / o.rawMs : undefined,
      digest,
      same,
    });
  }

  const header = [
    "case",
    "pairs",
    "paths",
    "lsprobe ms",
    "networkx ms",
    "speedup",
    "+names ms",
    "speedup",
    "compile ms",
    "speedup incl. compile",
    "nx grouped ms",
    "vs grouped",
    "same paths",
  ];
  const table = rows.map((r) => [
    r.case,
    String(r.pairs),
    String(r.paths),
    fmtMs(r.lsprobeMs),
    fmtMs(r.networkxMs),
    fmtX(r.speedup),
    fmtMs(r.namesMs),
    fmtX(r.speedupNames),
    fmtMs(r.compileMs),
    fmtX(r.speedupInclCompile),
    r.groupedMs !== undefined ? fmtMs(r.groupedMs) : "-",
    r.speedupVsGrouped !== undefined ? fmtX(r.speedupVsGrouped) : "-",
    r.same ? "yes" : "NO",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells: string[]): string => "| " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  const out: string[] = [];
  out.push(`ECMP enumeration: lsprobe (node ${process.version}, plugin build ${CODE}, ecmp.js ${ECMP}) vs networkx ${pyOut.networkx} all_shortest_paths (python ${pyOut.python}); median ms per case`);
  out.push(line(header));
  out.push("|" + widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|");
  for (const t of table) out.push(line(t));
  out.push("lsprobe ms: one EcmpSource per source + pathsTo(dst, Infinity) per pair, edge-index lists as returned; compileGraph excluded (own column).");
  out.push("+names ms: the same plus mapping every path to its node-name list (networkx's output shape). nx grouped: networkx with one Dijkstra per source (informative).");
  const minSpeedup = Math.min(...rows.map((r) => r.speedup));
  const minSpeedupNames = Math.min(...rows.map((r) => r.speedupNames));
  out.push(`min speedup ${fmtX(minSpeedup)} (with names ${fmtX(minSpeedupNames)}); target >= 20x on every topology`);
  out.push("");
  out.push("Where lsprobe's enumeration time goes (ms, separate medians). sources: how many, and how many with more than one destination (those run one full SPF;");
  out.push("the others only the bidirectional pair search). full SPF alone: new EcmpSource(cg, s, { fullSpf: true }) per source. count only: the timed queries with");
  out.push("cap 0 (distances, sub-DAG, a count over it; no path listed). total: the timed figure (the walk lists the paths and counts them as it goes).");
  const bh = ["case", "sources", "full SPF alone", "count only", "total"];
  const bt = rows.map((r) => {
    const b = breakdown.get(r.case)!;
    return [r.case, `${b.sources} (${b.multi} multi)`, fmtMs(b.fullSpfMs), fmtMs(b.countOnlyMs), fmtMs(b.totalMs)];
  });
  const bw = bh.map((h, i) => Math.max(h.length, ...bt.map((t) => t[i].length)));
  const bline = (cells: string[]): string => "| " + cells.map((c, i) => (i === 0 ? c.padEnd(bw[i]) : c.padStart(bw[i]))).join(" | ") + " |";
  out.push(bline(bh));
  out.push("|" + bw.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|");
  for (const t of bt) out.push(bline(t));
  const load = { start: Number(loadStart.toFixed(2)), end: Number(loadavg()[0].toFixed(2)), cpus: cpus().length };
  out.push(`load average (1 min): ${load.start} at start, ${load.end} at end, ${load.cpus} CPUs${load.start > 0.5 ? " -- the machine was busy before the bench started: figures are pessimistic" : ""}`);
  for (const p of problems) out.push(`MISMATCH: ${p}`);
  process.stdout.write(out.join("\n") + "\n");
  const r4 = (x: number | undefined): number | undefined => (x === undefined ? undefined : Number(x.toPrecision(4)));
  const r1 = (x: number | undefined): number | undefined => (x === undefined ? undefined : Number(x.toFixed(1)));
  process.stdout.write(
    JSON.stringify({
      bench: "paths",
      node: process.version,
      pluginBuild: CODE,
      ecmpJs: ECMP,
      load,
      networkx: pyOut.networkx,
      python: pyOut.python,
      ok: problems.length === 0,
      minSpeedup: r1(minSpeedup),
      minSpeedupWithNames: r1(minSpeedupNames),
      cases: rows.map((r) => ({
        case: r.case,
        nodes: r.nodes,
        edges: r.edges,
        pairs: r.pairs,
        paths: r.paths,
        lsprobeMs: r4(r.lsprobeMs),
        lsprobeRuns: r.lsprobeRuns,
        lsprobeWithNamesMs: r4(r.namesMs),
        lsprobeWithNamesRuns: r.namesRuns,
        compileMs: r4(r.compileMs),
        networkxMs: r4(r.networkxMs),
        networkxRuns: r.networkxRuns,
        networkxGroupedMs: r4(r.groupedMs),
        speedup: r1(r.speedup),
        speedupWithNames: r1(r.speedupNames),
        speedupInclCompile: r1(r.speedupInclCompile),
        speedupVsGrouped: r1(r.speedupVsGrouped),
        breakdown: (({ fullSpfMs, countOnlyMs, totalMs, sources, multi }) => ({ fullSpfMs: r4(fullSpfMs), countOnlyMs: r4(countOnlyMs), totalMs: r4(totalMs), sources, multiDestinationSources: multi }))(breakdown.get(r.case)!),
        digest: r.digest,
        same: r.same,
      })),
      problems,
    }) + "\n",
  );
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = main();
