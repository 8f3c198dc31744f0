// bench/lib/fleet-obs: what the one view (issue 14, Must 3) would hold for bench/fleet: per-path
// counts of many probers, each behind its own router, over real equal-cost paths (plugin/ecmp.ts,
// EcmpSource.pathsTo as plugin/paths.ts calls it), probed out and back as the prober's default
// `reverse` mode sends them (the path's directed links, then its mirror's). Seeded. Not a bench.
import { compileGraph, EcmpSource } from "../../plugin/ecmp.js";
import type { LinkEnds, PathObservation } from "../../prober/inference.js";
import type { Hop, Path } from "../../shared/pathset.js";
import { readTopologyJson, topologyFromJson } from "../../test/util/edgelist.js";
import { mulberry32 } from "../../test/util/rng.js";
import { binomial } from "./binomial.js";

export interface FleetPath {
  prober: number;
  /** The path as the plugin's set lists it (hops, directed links out). */
  path: Path;
  /** Out and back, as the prober's probes cross them. */
  links: string[];
}

export interface Fleet {
  topology: string;
  nodes: number;
  /** Directed links of the topology. */
  links: number;
  linkEnds: Map<string, LinkEnds>;
  /** Every prober's paths, prober by prober. */
  paths: FleetPath[];
  probers: string[];
}

const mirrorOf = (id: string): string => {
  const m = /^(.*)>(.*)#(\d+)$/.exec(id);
  if (!m) throw new Error(`link id ${id} is not from>to#k`);
  return `${m[2]}>${m[1]}#${m[3]}`;
};

function shuffle<T>(a: T[], r: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * `probers` probers at distinct routers among `sources` (seeded draw), each with `perProber`
 * paths: all equal-cost paths to destinations among `sources` drawn in a seeded order, the last
 * destination's cut to fit.
 */
export function buildFleet(topoFile: string, sources: (node: string) => boolean, probers: number, perProber: number, seed: number): Fleet {
  const json = readTopologyJson(topoFile);
  const topo = topologyFromJson(json);
  const cg = compileGraph(topo.graph);
  const linkEnds = new Map<string, LinkEnds>(topo.links.map((l) => [l.id, { from: l.from, to: l.to }]));
  const r = mulberry32(seed);
  const all = json.nodes.filter(sources);
  if (all.length < probers) throw new Error(`${topoFile}: ${all.length} routers to put probers behind, ${probers} asked for`);
  const at = shuffle([...all], r).slice(0, probers);
  const paths: FleetPath[] = [];
  const hop = (name: string): Hop => ({ node: name, name, routerId: name, addresses: [] });
  at.forEach((src, k) => {
    const es = new EcmpSource(cg, cg.index.get(src)!);
    let n = 0;
    for (const dst of shuffle(all.filter((d) => d !== src), r)) {
      if (n >= perProber) break;
      const res = es.pathsTo(cg.index.get(dst)!, Infinity);
      for (const [i, p] of res.paths.slice(0, perProber - n).entries()) {
        const links = p.map((e) => cg.links[cg.link[e]]);
        const out = links.map((l) => l.id);
        // No addresses: the fat tree has one link per router pair, so assign.ts's reverseLinks() pairs a>b with b>a by their ends.
        const path: Path = { id: `${src}->${dst}#${i}`, src, dst, cost: res.cost ?? 0, hops: [hop(src), ...links.map((l) => hop(l.to))], links: links.map((l) => ({ id: l.id, from: l.from, to: l.to, metric: l.metric })), gre: [], greReverse: [], probeable: true };
        paths.push({ prober: k, path, links: [...out, ...[...out].reverse().map(mirrorOf)] });
        n++;
      }
    }
    if (n < perProber) throw new Error(`${topoFile}: only ${n} paths from ${src}, ${perProber} asked for`);
  });
  return { topology: topoFile, nodes: json.nodes.length, links: topo.links.length, linkEnds, paths, probers: at };
}

/** One window of counts per path: `sent` probes each, lost ~ Binomial over its links' loss (background on every link). */
export function windowCounts(paths: readonly FleetPath[], sent: number, loss: ReadonlyMap<string, number>, background: number, seed: number): PathObservation[] {
  const r = mulberry32(seed);
  return paths.map((p) => {
    let surv = 1;
    for (const l of new Set(p.links)) surv *= 1 - background - (1 - background) * (loss.get(l) ?? 0);
    return { links: p.links, sent, lost: binomial(r, sent, 1 - surv) };
  });
}

/** Cumulative counts: `prev` (or zeros) plus one window (`sent` probes a path). */
export function addWindow(prev: readonly PathObservation[] | undefined, paths: readonly FleetPath[], sent: number, loss: ReadonlyMap<string, number>, background: number, seed: number): PathObservation[] {
  const w = windowCounts(paths, sent, loss, background, seed);
  return prev ? w.map((o, i) => ({ links: o.links, sent: o.sent + prev[i].sent, lost: o.lost + prev[i].lost })) : w.map((o) => ({ ...o, sent: 0, lost: 0 }));
}

/** `count` directed links on distinct undirected links, among those the paths cross (seeded). */
export function drawLossy(paths: readonly FleetPath[], count: number, seed: number): string[] {
  const crossed = [...new Set(paths.flatMap((p) => p.links))].sort();
  const r = mulberry32(seed);
  const out: string[] = [];
  const taken = new Set<string>();
  while (out.length < count) {
    const l = crossed[Math.floor(r() * crossed.length)];
    if (taken.has(l) || taken.has(mirrorOf(l))) continue;
    taken.add(l);
    out.push(l);
  }
  return out;
}
