// bench/incremental: one link change in a 10,000-node domain, paths recomputed from scratch
// against recomputed incrementally (PathComputer keeps the last run: only the sources whose
// distances move get an SPF, only the pairs the change can affect get new paths).
//
//   node dist/bench/incremental.js [--nodes 10000] [--endpoints 40] [--events 24] [--mode all|cover|plan]
//
// Input: the ingest bench's random domain (bench/lib/domain.ts: 2 undirected links per node,
// metrics 1..100), every ordered pair among --endpoints nodes spread over it (mode all by
// default; plan with a budget of 1,000 probes/s, alpha 2, beta 1, as the plugin's defaults). Events,
// in turn: a link's metric up (one direction), down (one direction), the link down (both
// directions, as when an adjacency fails), the same link back. Per event both sides run on the
// same new topology: "full" is a fresh PathComputer, "incremental" the one kept across events.
// Timed: the path phase (compile, diff, SPFs, paths, assembling the set), not the topology
// build, which is the same for both. Correctness (exit 1): both sides' path sets are identical.
import { isDeepStrictEqual } from "node:util";
import { loadavg } from "node:os";
import { PathComputer, type PathQuery, type PathSetBody } from "../plugin/paths.js";
import { drain } from "../plugin/slice.js";
import type { TopoLink } from "../plugin/topology.js";
import { graphFromEdges } from "../test/util/edgelist.js";
import { inferLinkLoss } from "../prober/inference.js";
import { randomDomain, rng } from "./lib/domain.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const N = opt("--nodes", 10_000);
const ENDPOINTS = opt("--endpoints", 40);
const EVENTS = opt("--events", 24);
const MODE = (args.includes("--mode") ? args[args.indexOf("--mode") + 1] : "all") as PathQuery["mode"];
if (!["all", "cover", "plan"].includes(MODE)) throw new Error(`--mode: expected all, cover or plan, got ${MODE}`);

type Edge = { src: string; dst: string; metric: number; id: string };
const meta = { peers: ["bench"], stale: false, prefixes: 0 };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function main(): number {
  const load0 = loadavg()[0];
  const d = randomDomain(N, 2 * N, 20240601 + N);
  let edges: Edge[] = d.edges.flatMap((e, k) => [
    { src: e.src, dst: e.dst, metric: e.metric, id: `l${k}a` },
    { src: e.dst, dst: e.src, metric: e.metric, id: `l${k}b` },
  ]);
  const step = Math.floor(N / ENDPOINTS);
  const ends = Array.from({ length: ENDPOINTS }, (_, i) => d.nodes[i * step]);
  const pairs: Array<[string, string]> = [];
  for (const a of ends) for (const b of ends) if (a !== b) pairs.push([a, b]);
  const q: PathQuery = { pairs, mode: MODE, maxPerPair: 64, plan: { budgetPps: 1000, alpha: 2, beta: 1 } };
  const topo = () => graphFromEdges(d.nodes, edges as Array<Edge & Partial<TopoLink>>, false);
  const time = (f: () => PathSetBody): { ms: number; body: PathSetBody } => {
    const t0 = performance.now();
    const body = f();
    return { ms: performance.now() - t0, body };
  };

  const kept = new PathComputer(q);
  const first = time(() => drain(kept.steps(topo(), meta)));
  const heapAfterFirst = process.memoryUsage().heapUsed / 2 ** 20;
  // The prober's side at this scale: one inference over the published paths (out and back,
  // as the prober's default return mode), 30 s at each path's rate (25/s without a plan), with
  // one link of the first path at 3 % loss on top of a 1e-4 background.
  const byHops = new Map(first.body.paths.map((p) => [p.hops.map((h) => h.node).join(">"), p]));
  const lossy = first.body.paths[0]?.links[0]?.id;
  const obs = first.body.paths.map((p) => {
    const mirror = byHops.get([...p.hops].reverse().map((h) => h.node).join(">"));
    const links = [...p.links, ...(mirror?.links ?? [])].map((l) => l.id);
    const sent = Math.round(30 * (p.rate ?? 25));
    const loss = 1 - (1 - 1e-4) ** links.length * (links.includes(lossy) ? 0.97 : 1);
    return { links, sent, lost: Math.round(sent * loss) };
  });
  const t0 = performance.now();
  const inf = inferLinkLoss(obs);
  const inferMs = performance.now() - t0;
  const named = inf.links.filter((l) => l.suspect).map((l) => l.link);
  const heapAfterInference = process.memoryUsage().heapUsed / 2 ** 20;
  process.stderr.write(`incremental: ${N} nodes, ${edges.length} links, ${pairs.length} pairs, mode ${q.mode}; first run ${first.ms.toFixed(0)} ms, ${first.body.paths.length} paths published\n`);

  const r = rng(7);
  const kinds = ["metric up", "metric down", "link down", "link back"] as const;
  const rows = new Map<string, { full: number[]; inc: number[]; pairs: number[]; spf: number[] }>(kinds.map((k) => [k, { full: [], inc: [], pairs: [], spf: [] }]));
  let downed: Edge[] = [];
  let bad = 0;
  for (let ev = 0; ev < EVENTS; ev++) {
    const kind = kinds[ev % kinds.length];
    const i = Math.floor(r() * edges.length) & ~1; // the 'a' direction of some link
    if (kind === "metric up") edges[i] = { ...edges[i], metric: edges[i].metric + 1 + Math.floor(r() * 50) };
    else if (kind === "metric down") edges[i] = { ...edges[i], metric: Math.max(1, Math.floor(edges[i].metric / 2)) };
    else if (kind === "link down") {
      downed = edges.slice(i, i + 2);
      edges = [...edges.slice(0, i), ...edges.slice(i + 2)];
    } else edges = [...edges, ...downed];
    const t = topo();
    const inc = time(() => drain(kept.steps(t, meta)));
    const full = time(() => drain(new PathComputer(q).steps(t, meta)));
    if (!isDeepStrictEqual(inc.body, full.body)) {
      bad++;
      process.stderr.write(`incremental: event ${ev} (${kind}): path sets differ\n`);
    }
    const row = rows.get(kind)!;
    row.full.push(full.ms);
    row.inc.push(inc.ms);
    row.pairs.push(kept.lastRun.pairsRecomputed);
    row.spf.push(kept.lastRun.sourcesSpf);
  }

  const out: string[] = [];
  out.push(`Single link changes, ${N} nodes / ${edges.length} directed links, ${pairs.length} pairs among ${ENDPOINTS} endpoints, mode ${q.mode} (median of ${EVENTS / kinds.length} events each)`);
  out.push("| event | full ms | incremental ms | speedup | pairs recomputed (median, max) | SPFs (of " + ENDPOINTS + ") | same path set |");
  out.push("|---|---:|---:|---:|---:|---:|---|");
  const json: Record<string, unknown> = {};
  for (const [kind, row] of rows) {
    const f = median(row.full);
    const i = median(row.inc);
    out.push(`| ${kind} | ${f.toFixed(1)} | ${i.toFixed(1)} | ${(f / i).toFixed(1)}x | ${median(row.pairs)}, ${Math.max(...row.pairs)} | ${median(row.spf)} | ${bad === 0 ? "yes" : "NO"} |`);
    json[kind] = { fullMs: f, incrementalMs: i, pairsRecomputed: row.pairs, spf: row.spf };
  }
  const peakRss = process.resourceUsage().maxRSS / 1024;
  out.push(`first run ${first.ms.toFixed(0)} ms (${first.body.paths.length} paths published); heap after it ${heapAfterFirst.toFixed(0)} MiB; peak RSS of this process ${peakRss.toFixed(0)} MB (topology, two path computers and the bench's own copies)`);
  out.push(`inference over those ${obs.length} paths (3 % on one link): ${inferMs.toFixed(0)} ms, ${inf.links.length} link estimates, suspects ${JSON.stringify(named)} (truth ${JSON.stringify(lossy)}), heap ${heapAfterInference.toFixed(0)} MiB after`);
  out.push(`load average (1 min): ${load0.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end`);
  console.log(out.join("\n"));
  console.log(JSON.stringify({ bench: "incremental", nodes: N, pairs: pairs.length, mode: q.mode, firstMs: first.ms, peakRssMb: peakRss, inferMs, suspects: named, truth: lossy, ok: bad === 0, events: json }));
  return bad === 0 ? 0 : 1;
}

process.exitCode = main();
