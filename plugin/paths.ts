// Build the published path set from a topology: every configured directed pair, its equal-cost
// best paths (or a covering subset of them), each path with stable ids and the GRE hop list the
// prober needs. Pure: the caller supplies generation and time.
import { createHash } from "node:crypto";
import type { GreHop, Hop, PairResult, Path, PathLink, PathMode, PathSet } from "../shared/pathset.js";
import { PATHSET_SCHEMA, PATHSET_VERSION } from "../shared/pathset.js";
import { compileGraphSteps, EcmpSource, type CompiledGraph } from "./ecmp.js";
import { resolveEndpoint } from "./endpoints.js";
import { coverPaths } from "./cover.js";
import { planProbes } from "./plan.js";
import { stableId, type TopoLink, type TopoNode, type Topology } from "./topology.js";
import type { Steps } from "./slice.js";

export interface PathQuery {
  /** Directed pairs of endpoint specs. */
  pairs: Array<[string, string]>;
  mode: PathMode;
  maxPerPair: number;
  /** Mode `plan`. */
  plan?: { budgetPps: number; alpha: number; beta: number };
}

export type PathSetBody = Omit<PathSet, "generation" | "time">;

/** Both directions of each pair and every ordered pair of each group, without repeats. */
export function directedPairs(pairs: ReadonlyArray<readonly [string, string]>, groups: ReadonlyArray<readonly string[]> = []): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  const add = (a: string, b: string): void => {
    const k = `${a}\n${b}`;
    if (a !== b && !seen.has(k)) {
      seen.add(k);
      out.push([a, b]);
    }
  };
  for (const [a, b] of pairs) {
    add(a, b);
    add(b, a);
  }
  for (const g of groups) for (const a of g) for (const b of g) add(a, b);
  return out;
}

const hopOf = (n: TopoNode): Hop => ({ node: n.id, name: n.name, routerId: n.routerId, addresses: [...n.teRouterIds, ...n.loopbacks.filter((a) => !n.teRouterIds.includes(a))] });

/**
 * Where to send the GRE layer that must enter `to` over a link whose `to`-side interface
 * address is `address`: that address pins the link; unnumbered, the router's TE id or loopback.
 */
function greHop(address: string | undefined, from: string, to: TopoNode): GreHop | string {
  if (address) return { address, source: "interface", node: to.name };
  if (to.teRouterIds[0]) return { address: to.teRouterIds[0], source: "te-router-id", node: to.name };
  if (to.loopbacks[0]) return { address: to.loopbacks[0], source: "loopback", node: to.name };
  return `no IPv4 address for hop ${from}->${to.name}: unnumbered link and ${to.name} advertises no TE router id or /32 loopback`;
}

/** Turn a list of edge indices into a published path. Pseudonode crossings become one LAN link. */
function buildPath(cg: CompiledGraph, edges: number[], src: TopoNode, cost: number): Path {
  const hops: Hop[] = [hopOf(src)];
  const links: PathLink[] = [];
  const gre: GreHop[] = [];
  const greReverse: Array<GreHop | string> = [];
  const problems: string[] = [];
  let pending: TopoLink | undefined; // the link into a pseudonode, waiting for the link out of it
  for (const e of edges) {
    const l = cg.links[cg.link[e]];
    const toNode = cg.nodes[cg.head[e]];
    if (toNode.pseudo) {
      pending = l;
      continue;
    }
    const fromNode = cg.nodes[cg.index.get(pending ? pending.from : l.from)!];
    const pl: PathLink = pending
      ? {
          id: stableId("l-", `${pending.id}+${l.id}`),
          from: fromNode.name,
          to: toNode.name,
          metric: pending.metric + l.metric,
          lan: pending.to,
          ...(pending.localAddress ? { localAddress: pending.localAddress } : {}),
          ...(l.remoteAddress ? { remoteAddress: l.remoteAddress } : {}),
        }
      : {
          id: l.id,
          from: fromNode.name,
          to: toNode.name,
          metric: l.metric,
          ...(l.localAddress ? { localAddress: l.localAddress } : {}),
          ...(l.remoteAddress ? { remoteAddress: l.remoteAddress } : {}),
        };
    pending = undefined;
    links.push(pl);
    hops.push(hopOf(toNode));
    const g = greHop(pl.remoteAddress, pl.from, toNode);
    if (typeof g === "string") problems.push(g);
    else gre.push(g);
    greReverse.unshift(greHop(pl.localAddress, pl.to, fromNode));
  }
  const path: Path = {
    id: stableId("p-", links.map((l) => l.id).join(">")),
    src: src.name,
    dst: hops[hops.length - 1].name,
    cost,
    hops,
    links,
    gre: problems.length ? [] : gre,
    greReverse: greReverse.every((g) => typeof g !== "string") ? (greReverse as GreHop[]) : [],
    probeable: problems.length === 0,
  };
  if (problems.length) path.unprobeableReason = problems.join("; ");
  return path;
}

export interface BuildMeta {
  peers: string[];
  stale: boolean;
  prefixes: number;
}

export function* buildPathSetSteps(topo: Topology, q: PathQuery, meta: BuildMeta): Steps<PathSetBody> {
  const cg = yield* compileGraphSteps(topo.graph);
  const resolved = new Map<string, { node?: number; error?: string }>();
  const resolve = (spec: string): { node?: number; error?: string } => {
    let r = resolved.get(spec);
    if (r === undefined) {
      const x = resolveEndpoint(topo, spec);
      r = "node" in x ? { node: cg.index.get(x.node) } : { error: x.error };
      resolved.set(spec, r);
    }
    return r;
  };

  // Group by source so one SPF serves all of a source's destinations.
  const bySrc = new Map<string, string[]>();
  for (const [a, b] of q.pairs) {
    const l = bySrc.get(a);
    if (l === undefined) bySrc.set(a, [b]);
    else l.push(b);
  }
  const pairResults = new Map<string, PairResult>();
  const paths = new Map<string, Path>();
  for (const [srcSpec, dsts] of bySrc) {
    const s = resolve(srcSpec);
    const source = s.node !== undefined ? new EcmpSource(cg, s.node) : undefined;
    for (const dstSpec of dsts) {
      const d = resolve(dstSpec);
      const base = { src: srcSpec, dst: dstSpec, count: 0, paths: [] as string[], truncated: false, ecmpLinks: 0 };
      if (source === undefined || d.node === undefined) {
        pairResults.set(`${srcSpec}\n${dstSpec}`, { ...base, cost: null, reason: (s.error ?? d.error)! });
        continue;
      }
      const r = source.pathsTo(d.node, q.maxPerPair);
      if (r.cost === null) {
        pairResults.set(`${srcSpec}\n${dstSpec}`, { ...base, cost: null, reason: `${dstSpec} is unreachable from ${srcSpec}` });
        continue;
      }
      const built = r.paths.map((edges) => buildPath(cg, edges, cg.nodes[s.node!], r.cost!));
      const linkSets = built.map((p) => p.links.map((l) => l.id));
      const chosen = q.mode === "cover" ? coverPaths(linkSets).sort((a, b) => a - b).map((i) => built[i]) : built;
      for (const p of chosen) paths.set(p.id, p);
      pairResults.set(`${srcSpec}\n${dstSpec}`, {
        ...base,
        cost: r.cost,
        count: r.total,
        paths: chosen.map((p) => p.id),
        truncated: r.truncated,
        ecmpLinks: new Set(linkSets.flat()).size,
      });
    }
    yield;
  }

  let plan: PathSet["plan"];
  if (q.mode === "plan") {
    plan = choosePlan([...paths.values()], pairResults, q.plan ?? { budgetPps: 1000, alpha: 2, beta: 1 }, paths);
    yield;
  }

  return {
    schema: PATHSET_SCHEMA,
    version: PATHSET_VERSION,
    mode: q.mode,
    topology: {
      digest: topo.digest,
      nodes: [...topo.nodes.values()].filter((n) => !n.pseudo).length,
      links: topo.links.length,
      prefixes: meta.prefixes,
      peers: meta.peers,
      stale: meta.stale,
    },
    pairs: q.pairs.map(([a, b]) => pairResults.get(`${a}\n${b}`)!),
    paths: [...paths.values()],
    ...(plan ? { plan } : {}),
  };
}

/**
 * Mode `plan`: over the equal-cost paths of every pair, pick the ones to probe (plan.ts) and
 * their rates. A probe is assumed to come back over its mirror path (the prober's default
 * `reverse` mode), so each candidate crosses its links and its mirror's. Paths not chosen leave
 * `paths` and their pair's list; each chosen one gets its `rate`.
 */
function choosePlan(all: Path[], pairs: Map<string, PairResult>, o: { budgetPps: number; alpha: number; beta: number }, keep: Map<string, Path>): NonNullable<PathSet["plan"]> {
  const byHops = new Map(all.map((p) => [p.hops.map((h) => h.node).join(">"), p]));
  const ends = new Map<string, { id: string; from: string; to: string }>();
  const candidates = all.map((p) => {
    const mirror = byHops.get([...p.hops].reverse().map((h) => h.node).join(">"));
    const links = [...p.links, ...(mirror?.links ?? [])];
    for (const l of links) ends.set(l.id, { id: l.id, from: l.from, to: l.to });
    return { id: p.id, links: links.map((l) => l.id) };
  });
  const report = planProbes(candidates, { budgetPps: o.budgetPps, alpha: o.alpha, beta: o.beta });
  const rate = new Map(report.paths.map((p) => [p.id, p.rate]));
  for (const p of all) {
    if (rate.has(p.id)) p.rate = rate.get(p.id);
    else keep.delete(p.id);
  }
  for (const pr of pairs.values()) pr.paths = pr.paths.filter((id) => rate.has(id));
  return {
    budgetPps: o.budgetPps,
    alpha: o.alpha,
    beta: report.beta,
    chosen: report.paths.length,
    candidates: all.length,
    budgetLimited: report.budgetLimited,
    unidentifiable: report.unidentifiable.map((u) => ({ links: u.links.map((id) => ends.get(id) ?? { id, from: "?", to: "?" }), cause: u.cause, reason: u.reason })),
  };
}

/**
 * Hash of what a generation is about: the pairs, the paths, and whether they rest on a stale
 * snapshot (not the time, not the topology counts: a change that moves no path is no news).
 */
export function pathsDigest(body: PathSetBody): string {
  return createHash("sha256").update(JSON.stringify([body.mode, body.topology.stale, body.pairs, body.paths, body.plan ?? null])).digest("hex");
}
