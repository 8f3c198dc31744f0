// Build the published path set from a topology: every configured directed pair, its equal-cost
// best paths (or a covering subset of them), each path with stable ids and the GRE hop list the
// prober needs. Pure: the caller supplies generation and time.
//
// Segment routing (path set version 4): each link carries the SIDs both ends advertise for it,
// and each family's targets the SIDs a probe pinned by SR uses (srMpls; ipv6 also srv6), or why
// none (sr.ts chooses: unprotected, persistent where offered, the configured algorithm).
//
// Address families (path set version 3): each family is computed on its topology (topology.ts:
// with IS-IS multi-topology the IPv6 one has its own links and metrics). Families one graph
// serves (single topology) are computed together: each path then carries the layers of both.
// Paths of separate graphs are separate entries; a path found in several (the same link ids in
// the same order) is one entry listing every family it is a best path in.
import { createHash } from "node:crypto";
import type { AdjSidInfo, EndXInfo, FamilyTargets, GreHop, Hop, PairResult, Path, PathLink, PathMode, PathSet, PathTarget, SrMplsSegment, SrMplsTargets, Srv6Segment, SrTargets } from "../shared/pathset.js";
import { adjFlagsObject, chooseAdjSid, chooseEndX, endxFlagsObject, type AdjSid, type EndXSid } from "./bgpls/sr.js";
import { FAMILIES, parallelGroupId, PATHSET_SCHEMA, PATHSET_VERSION, type Family } from "../shared/pathset.js";
import type { TargetRule } from "../shared/config.js";
import { PerRouter } from "../shared/perrouter.js";
import { compileGraphSteps, EcmpSource, reverseSpf, type CompiledGraph } from "./ecmp.js";
import { endpointResolver } from "./endpoints.js";
import { coverPaths } from "./cover.js";
import { planProbes } from "./plan.js";
import { buildTopologySteps, stableId, type Graph, type LinkSids, type MetricKind, type TopoLink, type TopoNode, type Topology } from "./topology.js";
import type { LsEntry } from "./lsdb.js";
import { boundsHold, diffTopology, pairAffected, reverseBoundsHold, summarize, type PairFootprint, type TopoChange, type TopoSummary } from "./incremental.js";
import type { Steps } from "./slice.js";

/** Mode `plan`: the budget and what the plan must achieve (see PlanOptions). */
export interface PlanQuery {
  budgetPps: number;
  alpha: number;
  beta: number;
  /** Default 25. */
  minLinkPps?: number;
}

export interface PathQuery {
  /** Directed pairs of endpoint specs. */
  pairs: Array<[string, string]>;
  mode: PathMode;
  maxPerPair: number;
  /** Mode `plan`. */
  plan?: PlanQuery;
  /** plugin.paths.target (default interface) and target-per-router: by the router that decapsulates a layer. */
  target?: PathTarget;
  targetPerRouter?: readonly TargetRule[];
  /** plugin.paths.families: the families to compute (absent: what the topology has, else ipv4). */
  families?: readonly Family[];
  /** plugin.paths.sr-algorithm: the algorithm of the SRv6 End.X SIDs probes use (default 0, SPF). */
  srAlgorithm?: number;
}

/** The target of each router, by name (plugin.paths.target, target-per-router). */
export type TargetFor = (router: string) => PathTarget;

export function targetChooser(q: Pick<PathQuery, "target" | "targetPerRouter">): TargetFor {
  const c = new PerRouter<PathTarget, TargetRule>(q.target ?? "interface", q.targetPerRouter ?? [], (r) => r.target);
  return (router) => c.for(router);
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

const hopOf = (n: TopoNode): Hop => {
  const six = [...(n.teRouterIds6 ?? []), ...(n.loopbacks6 ?? []).filter((a) => !n.teRouterIds6?.includes(a))];
  return { node: n.id, name: n.name, routerId: n.routerId, addresses: [...n.teRouterIds, ...n.loopbacks.filter((a) => !n.teRouterIds.includes(a))], ...(six.length ? { addresses6: six } : {}) };
};

/**
 * The router's own address, for a layer addressed to the router (target `router`, or an
 * unnumbered link). The rule: its first TE router id of the family (BGP-LS node attribute 1028
 * for IPv4, 1029 for IPv6; the link attributes' local/remote TE router ids 1028-1031 name the
 * same router and are merged into it, topology.ts), else its first /32 (IPv6: /128) prefix (a
 * loopback or host prefix advertised by it), else none.
 */
function routerAddress(to: TopoNode, family: Family): Pick<GreHop, "address" | "source"> | undefined {
  const te = family === "ipv4" ? to.teRouterIds : (to.teRouterIds6 ?? []);
  const lo = family === "ipv4" ? to.loopbacks : (to.loopbacks6 ?? []);
  if (te[0]) return { address: te[0], source: "te-router-id" };
  if (lo[0]) return { address: lo[0], source: "loopback" };
  return undefined;
}

/**
 * Where to send the layer of `family` that must enter `to` over a link whose `to`-side interface
 * address (of that family) is `address`. Target `interface`: that address pins the link;
 * unnumbered, the router's own address. Target `router`: the router's own address always. A
 * string: why there is none.
 */
function greHop(address: string | undefined, from: string, to: TopoNode, target: PathTarget, family: Family): GreHop | string {
  if (target === "interface" && address) return { address, source: "interface", node: to.name, target: "interface" };
  const own = routerAddress(to, family);
  if (own) return { ...own, node: to.name, target: "router" };
  if (family === "ipv6")
    return target === "router"
      ? `no IPv6 router address for hop ${from}->${to.name}: ${to.name} has target router (plugin.paths.target) and advertises no IPv6 TE router id or /128 prefix`
      : `no IPv6 address for hop ${from}->${to.name}: no IPv6 interface address on the link and ${to.name} advertises no IPv6 TE router id or /128 loopback`;
  return target === "router"
    ? `no router address for hop ${from}->${to.name}: ${to.name} has target router (plugin.paths.target) and advertises no TE router id or /32 prefix`
    : `no IPv4 address for hop ${from}->${to.name}: unnumbered link and ${to.name} advertises no TE router id or /32 loopback`;
}

/**
 * A built path and, per link, whether its layers pin it (in every family built: the forward
 * layer into `to` or the way back's into `from`), and whether some family's forward layer is
 * addressed to the router (then it does not pin the link).
 */
interface Built {
  path: Path;
  pinned: boolean[];
  fwdRouter: boolean[];
}

/** The top-level layers of a version 3 path: the IPv4 ones, or none for a path not in IPv4. */
function ipv4View(families: readonly Family[], targets: NonNullable<Path["targets"]>): Pick<Path, "gre" | "greReverse" | "probeable" | "unprobeableReason"> {
  const t = targets.ipv4;
  if (t) return { gre: t.gre, greReverse: t.greReverse, probeable: t.probeable, ...(t.unprobeableReason === undefined ? {} : { unprobeableReason: t.unprobeableReason }) };
  return { gre: [], greReverse: [], probeable: false, unprobeableReason: `not an IPv4 path: an equal-cost best path in ${families.join(", ")} only (see targets)` };
}

// Segment routing (path set version 4): the SIDs of each hop, published once per LSDB attribute
// (the lists are the LSDB's, unchanged while the attribute is: one conversion serves every path).
const adjInfos = new WeakMap<readonly AdjSid[], AdjSidInfo[]>();
const endXInfos = new WeakMap<readonly EndXSid[], EndXInfo[]>();

function adjInfo(s: AdjSid): AdjSidInfo {
  return { sid: s.sid, flags: adjFlagsObject(s.flags), weight: s.weight, ...(s.lan ? { lan: true as const } : {}), ...(s.neighbor !== undefined ? { neighbor: s.neighbor } : {}) };
}

function endXInfo(s: EndXSid): EndXInfo {
  return { sid: s.sid, behavior: s.behavior, flags: endxFlagsObject(s.flags), algorithm: s.algorithm, weight: s.weight, ...(s.lan ? { lan: true as const } : {}), ...(s.neighbor !== undefined ? { neighbor: s.neighbor } : {}) };
}

function published<S, I>(cache: WeakMap<readonly S[], I[]>, list: readonly S[] | undefined, f: (s: S) => I): I[] | undefined {
  if (list === undefined || list.length === 0) return undefined;
  let out = cache.get(list);
  if (out === undefined) cache.set(list, (out = list.map(f)));
  return out;
}

/** The SID fields of a published link: each direction's SIDs, when advertised. */
function linkSidFields(fwd: LinkSids | undefined, back: LinkSids | undefined): Partial<PathLink> {
  const o: Partial<PathLink> = {};
  const a = published(adjInfos, fwd?.adj, adjInfo);
  const x = published(endXInfos, fwd?.endX, endXInfo);
  const ra = published(adjInfos, back?.adj, adjInfo);
  const rx = published(endXInfos, back?.endX, endXInfo);
  if (a) o.adjSids = a;
  if (x) o.endX = x;
  if (ra) o.reverseAdjSids = ra;
  if (rx) o.reverseEndX = rx;
  return o;
}

/** One crossing of an adjacency by an SR probe: whose SIDs, to whom, over which link. */
interface SrStep {
  node: TopoNode;
  to: TopoNode;
  link: string;
  direction: "out" | "back";
  sids: LinkSids | undefined;
  /** A LAN crossing: the SID must name the far router. */
  lan: boolean;
}

function srTargets<S>(steps: readonly SrStep[], choose: (st: SrStep) => S | string, none?: string): SrTargets<S> {
  // Most networks advertise no SIDs at all: one short reason, not one per hop.
  if (none !== undefined) return { segments: [], probeable: false, unprobeableReason: none };
  const segments: S[] = [];
  const problems: string[] = [];
  for (const st of steps) {
    const c = choose(st);
    if (typeof c === "string") problems.push(`${st.direction === "out" ? "hop" : "way back"} ${st.node.name}->${st.to.name}: ${c}`);
    else segments.push(c);
  }
  return problems.length === 0 ? { segments, probeable: true } : { segments: [], probeable: false, unprobeableReason: problems.join("; ") };
}

function srMplsTargets(steps: readonly SrStep[], src: TopoNode, family: Family): SrMplsTargets {
  const t: SrMplsTargets = srTargets<SrMplsSegment>(steps, (st) => {
    const ctx = { algorithm: 0, family, ...(st.lan ? { lanNeighbor: st.to.routerId } : {}) };
    const c = chooseAdjSid(st.sids?.adj ?? [], ctx);
    return typeof c === "string" ? c : { node: st.node.name, to: st.to.name, link: st.link, direction: st.direction, ...adjInfo(c) };
  }, steps.some((st) => (st.sids?.adj.length ?? 0) > 0) ? undefined : "no Adj-SID advertised on the path's links");
  if (!t.probeable) return t;
  const entry = routerAddress(src, family);
  if (entry === undefined) return { segments: [], probeable: false, unprobeableReason: `no ${family === "ipv4" ? "IPv4" : "IPv6"} address of ${src.name} (TE router id or loopback) to send the label stack to` };
  return { ...t, entry: entry.address };
}

function srv6Targets(steps: readonly SrStep[], algorithm: number): SrTargets<Srv6Segment> {
  return srTargets<Srv6Segment>(steps, (st) => {
    const ctx = { algorithm, ...(st.lan ? { lanNeighbor: st.to.routerId } : {}) };
    const c = chooseEndX(st.sids?.endX ?? [], ctx);
    return typeof c === "string" ? c : { node: st.node.name, to: st.to.name, link: st.link, direction: st.direction, ...endXInfo(c) };
  }, steps.some((st) => (st.sids?.endX.length ?? 0) > 0) ? undefined : "no SRv6 End.X SID advertised on the path's links");
}

/** Turn a list of edge indices into a published path. Pseudonode crossings become one LAN link. */
function buildPath(cg: CompiledGraph, edges: number[], src: TopoNode, cost: number, targetFor: TargetFor, families: readonly Family[], srAlgorithm = 0): Built {
  const hops: Hop[] = [hopOf(src)];
  const links: PathLink[] = [];
  const layers = families.map(() => ({ gre: [] as GreHop[], greReverse: [] as Array<GreHop | string>, problems: [] as string[], pinned: [] as boolean[], fwd: [] as Array<GreHop | string> }));
  let pending: TopoLink | undefined; // the link into a pseudonode, waiting for the link out of it
  const out: SrStep[] = [];
  const back: SrStep[] = [];
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
          ...(pending.localAddress6 ? { localAddress6: pending.localAddress6 } : {}),
          ...(l.remoteAddress6 ? { remoteAddress6: l.remoteAddress6 } : {}),
        }
      : {
          id: l.id,
          from: fromNode.name,
          to: toNode.name,
          metric: l.metric,
          ...(l.localAddress ? { localAddress: l.localAddress } : {}),
          ...(l.remoteAddress ? { remoteAddress: l.remoteAddress } : {}),
          ...(l.localAddress6 ? { localAddress6: l.localAddress6 } : {}),
          ...(l.remoteAddress6 ? { remoteAddress6: l.remoteAddress6 } : {}),
        };
    // SIDs: out, the near end's for the adjacency (a LAN: its link into the LAN, the SID naming
    // `to`); back, the far end's (l.reverseSids: its link back, or into the LAN).
    const fwdSids = pending ? pending.sids : l.sids;
    const backSids = l.reverseSids;
    Object.assign(pl, linkSidFields(fwdSids, backSids));
    out.push({ node: fromNode, to: toNode, link: pl.id, direction: "out", sids: fwdSids, lan: pending !== undefined });
    back.unshift({ node: toNode, to: fromNode, link: pl.id, direction: "back", sids: backSids, lan: pending !== undefined });
    pending = undefined;
    links.push(pl);
    hops.push(hopOf(toNode));
    families.forEach((f, k) => {
      const x = layers[k];
      const g = greHop(f === "ipv4" ? pl.remoteAddress : pl.remoteAddress6, pl.from, toNode, targetFor(toNode.name), f);
      if (typeof g === "string") x.problems.push(g);
      else x.gre.push(g);
      x.fwd.push(g);
      const back = greHop(f === "ipv4" ? pl.localAddress : pl.localAddress6, pl.to, fromNode, targetFor(fromNode.name), f);
      x.greReverse.unshift(back);
      x.pinned.push((typeof g !== "string" && g.target === "interface") || (typeof back !== "string" && back.target === "interface"));
    });
  }
  const targets: NonNullable<Path["targets"]> = {};
  families.forEach((f, k) => {
    const x = layers[k];
    const t: FamilyTargets = {
      gre: x.problems.length ? [] : x.gre,
      greReverse: x.greReverse.every((g) => typeof g !== "string") ? (x.greReverse as GreHop[]) : [],
      probeable: x.problems.length === 0,
    };
    if (x.problems.length) t.unprobeableReason = x.problems.join("; ");
    const steps = [...out, ...back];
    t.srMpls = srMplsTargets(steps, src, f);
    if (f === "ipv6") t.srv6 = srv6Targets(steps, srAlgorithm);
    targets[f] = t;
  });
  const path: Path = {
    id: stableId("p-", links.map((l) => l.id).join(">")),
    src: src.name,
    dst: hops[hops.length - 1].name,
    cost,
    hops,
    links,
    families: [...families],
    targets,
    ...ipv4View(families, targets),
  };
  // A layer with no address (the family's path unprobeable) is told by what pins the link.
  const pinned = links.map((_, i) => layers.every((x) => x.pinned[i]));
  const fwdRouter = links.map((_, i) =>
    layers.some((x) => {
      const g = x.problems.length ? undefined : x.fwd[i];
      return (typeof g === "object" ? g.target : x.pinned[i] ? "interface" : "router") === "router";
    }),
  );
  return { path, pinned, fwdRouter };
}

/**
 * Parallel links under router targets. Equal-cost paths through the same routers differ only in
 * which of the parallel links between two of them they take. Where the forward layer into `to`
 * is addressed to the router, the probe may take any of them: that link gets `parallel`, the
 * ids of those links (over the paths through the same routers). Where no layer pins the link,
 * either way, the paths that differ only there are the same probe: published once (the first,
 * in lexicographic order), its id computed over the group. Paths in lexicographic order stay so.
 */
function groupParallel(built: Built[]): Path[] {
  const byRouters = new Map<string, Built[]>();
  for (const b of built) {
    const k = b.path.hops.map((h) => h.node).join(">");
    const l = byRouters.get(k);
    if (l === undefined) byRouters.set(k, [b]);
    else l.push(b);
  }
  const out: Path[] = [];
  const seen = new Set<string>();
  for (const b of built) {
    const same = byRouters.get(b.path.hops.map((h) => h.node).join(">"))!;
    const p = b.path;
    if (same.length === 1) {
      out.push(p);
      continue;
    }
    const links = p.links.map((l, i): PathLink => {
      // The forward layer into links[i].to, in some family, is addressed to the router.
      if (!b.fwdRouter[i]) return l;
      const ids = [...new Set(same.map((x) => x.path.links[i].id))].sort();
      return ids.length > 1 ? { ...l, parallel: ids } : l;
    });
    const key = links.map((l, i) => (b.pinned[i] || l.parallel === undefined ? l.id : parallelGroupId(l.parallel))).join(">");
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...p, links, id: links.some((l) => l.parallel) ? stableId("p-", key) : p.id });
  }
  return out;
}

/** The element a path's link is to the inference and the plan: the link, or its parallel group. */
export const linkElement = (l: PathLink): string => (l.parallel ? parallelGroupId(l.parallel) : l.id);

export interface BuildMeta {
  peers: string[];
  stale: boolean;
  prefixes: number;
}

/** One directed pair as last computed, before any selection (cover, plan). */
interface PairEntry {
  /** Resolved endpoint node ids (absent: the spec did not resolve). */
  srcNode?: string;
  dstNode?: string;
  result: PairResult;
  /** The paths it publishes (mode cover: the cover of its best paths). */
  chosen: Path[];
  footprint: PairFootprint;
}

/** How an endpoint spec resolved: the node (its id and name), or why not. */
export interface EndpointResolution {
  node?: string;
  name?: string;
  error?: string;
}

/** What the last run did: how much of it was recomputed. */
export interface PathRunStats {
  /** Why every pair was recomputed (absent: incremental). */
  full?: string;
  pairs: number;
  pairsRecomputed: number;
  sources: number;
  sourcesSpf: number;
}

/** What one graph's computation found: its pairs (one entry per directed pair) and stats. */
interface GraphRun {
  pairs: Map<string, PairEntry>;
  stats: PathRunStats;
  resolution: Map<string, EndpointResolution>;
}

/**
 * The pairs of one graph, for the families it serves, keeping what it found so that the next
 * run recomputes only the pairs a topology change can affect (incremental.ts) and reuses the
 * paths of the others.
 */
class GraphPaths {
  private prev?: {
    summary: TopoSummary;
    dist: Map<number, Float64Array>;
    toDist: Map<number, Float64Array>;
    pairs: Map<string, PairEntry>;
  };

  constructor(
    private readonly q: PathQuery,
    private readonly targetFor: TargetFor,
    private readonly families: readonly Family[],
  ) {}

  *steps(topo: Topology): Steps<GraphRun> {
    const q = this.q;
    const cg = yield* compileGraphSteps(topo.graph);
    const summary = summarize(topo, cg);
    yield;
    const prev = this.prev;
    const change: TopoChange = prev ? diffTopology(prev.summary, summary) : { full: "first run", worse: [], worseIds: new Set(), better: [], nodes: new Set() };
    const resolved = new Map<string, EndpointResolution>();
    const resolver = endpointResolver(topo);
    const resolve = (spec: string): EndpointResolution => {
      let r = resolved.get(spec);
      if (r === undefined) {
        const x = resolver(spec);
        resolved.set(spec, (r = "node" in x ? { node: x.node, name: topo.nodes.get(x.node)?.name ?? x.node } : { error: x.error }));
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
    const stats: PathRunStats = { ...(change.full ? { full: change.full } : {}), pairs: 0, pairsRecomputed: 0, sources: 0, sourcesSpf: 0 };
    const dist = new Map<number, Float64Array>();
    const pairs = new Map<string, PairEntry>();
    // Distances to each destination (lower bounds for rule (b)): computed when a change first
    // needs them, kept while they stay bounds.
    const toDist = new Map<number, Float64Array>();
    if (!change.full) for (const [dst, b] of prev!.toDist) if (reverseBoundsHold(change, cg, b)) toDist.set(dst, b);
    const boundsTo = (dst: number) => (): Float64Array => {
      let b = toDist.get(dst);
      if (b === undefined) toDist.set(dst, (b = reverseSpf(cg, dst)));
      return b;
    };
    for (const [srcSpec, dsts] of bySrc) {
      const s = resolve(srcSpec);
      const src = s.node === undefined ? undefined : cg.index.get(s.node);
      let source: EcmpSource | undefined;
      const ecmpSource = (): EcmpSource => (source ??= new EcmpSource(cg, src!));
      // The last SPF's distances, while they are still lower bounds (incremental.ts).
      const kept = src === undefined || change.full ? undefined : prev!.dist.get(src);
      const bounds = kept !== undefined && boundsHold(change, cg, src!, kept) ? kept : undefined;
      for (const dstSpec of dsts) {
        const key = `${srcSpec}\n${dstSpec}`;
        const d = resolve(dstSpec);
        stats.pairs++;
        const old = prev?.pairs.get(key);
        const dst = d.node === undefined ? undefined : cg.index.get(d.node);
        // An endpoint that does not resolve is recomputed every time: its reason may change.
        const reuse =
          old !== undefined &&
          bounds !== undefined &&
          dst !== undefined &&
          old.srcNode === s.node &&
          old.dstNode === d.node &&
          !pairAffected(change, cg, src!, bounds, boundsTo(dst), old.footprint);
        if (reuse) {
          pairs.set(key, old);
          continue;
        }
        stats.pairsRecomputed++;
        pairs.set(key, this.pair(cg, srcSpec, dstSpec, s, d, dst, src === undefined ? undefined : ecmpSource));
      }
      if (src !== undefined) {
        stats.sources++;
        if (source !== undefined || bounds === undefined) stats.sourcesSpf++;
        dist.set(src, source !== undefined || bounds === undefined ? ecmpSource().dist : bounds);
      }
      yield;
    }
    this.prev = { summary, dist, toDist, pairs };
    return { pairs, stats, resolution: resolved };
  }

  /** Compute one pair from scratch. */
  private pair(
    cg: CompiledGraph,
    srcSpec: string,
    dstSpec: string,
    s: { node?: string; error?: string },
    d: { node?: string; error?: string },
    dst: number | undefined,
    source: (() => EcmpSource) | undefined,
  ): PairEntry {
    const q = this.q;
    const base = { src: srcSpec, dst: dstSpec, family: this.families[0], count: 0, paths: [] as string[], truncated: false, ecmpLinks: 0 };
    const entry = (result: PairResult, chosen: Path[] = [], footprint?: PairFootprint): PairEntry => ({
      srcNode: s.node,
      dstNode: d.node,
      result,
      chosen,
      footprint: footprint ?? { cost: null, truncated: false, linkIds: new Set(), nodeIds: new Set() },
    });
    if (source === undefined || dst === undefined) return entry({ ...base, cost: null, reason: (s.error ?? d.error)! });
    const src = source();
    const r = src.pathsTo(dst, q.maxPerPair);
    if (r.cost === null) return entry({ ...base, cost: null, reason: `${dstSpec} is unreachable from ${srcSpec}` });
    const footprint: PairFootprint = { cost: r.cost, truncated: r.truncated, linkIds: new Set(), nodeIds: new Set([cg.ids[src.src]]) };
    for (const edges of r.paths)
      for (const e of edges) {
        footprint.linkIds.add(cg.links[cg.link[e]].id);
        footprint.nodeIds.add(cg.ids[cg.head[e]]);
      }
    const each = r.paths.map((edges) => buildPath(cg, edges, cg.nodes[src.src], r.cost!, this.targetFor, this.families, q.srAlgorithm ?? 0));
    const ecmpLinks = new Set(each.flatMap((b) => b.path.links.map((l) => l.id))).size;
    const built = groupParallel(each);
    const linkSets = built.map((p) => p.links.map(linkElement));
    const chosen = q.mode === "cover" ? coverPaths(linkSets).sort((a, b) => a - b).map((i) => built[i]) : built;
    const result: PairResult = { ...base, cost: r.cost, count: r.total, paths: [], truncated: r.truncated, ecmpLinks };
    return entry(result, chosen, footprint);
  }
}

/** The families to compute: plugin.paths.families, else what the topology has, else IPv4. */
export function familiesFor(q: Pick<PathQuery, "families">, topo: Pick<Topology, "present">): Family[] {
  if (q.families !== undefined && q.families.length > 0) return FAMILIES.filter((f) => q.families!.includes(f));
  const present = topo.present ?? [];
  return present.length > 0 ? FAMILIES.filter((f) => present.includes(f)) : ["ipv4"];
}

/**
 * Which graph computes which families: the topologies given (one per family, or one serving
 * both: `sameForFamilies`), grouped. A family without a topology of its own is computed on one
 * that serves it, else left out (a caller that wants it builds its topology: topologySteps()).
 */
function graphGroups(topos: readonly Topology[], families: readonly Family[]): Array<{ topo: Topology; families: Family[] }> {
  const groups: Array<{ topo: Topology; families: Family[] }> = [];
  for (const f of families) {
    const own = topos.find((t) => (t.family ?? "ipv4") === f);
    const shared = own && (own.sameForFamilies ?? true) ? own : topos.find((t) => t.sameForFamilies ?? true);
    const topo = own && !(own.sameForFamilies ?? true) ? own : shared ?? own;
    if (topo === undefined) continue;
    const g = groups.find((x) => x.topo === topo);
    if (g) g.families.push(f);
    else groups.push({ topo, families: [f] });
  }
  return groups;
}

/** Merge a path found in several graphs: the families and targets of each, in FAMILIES order. */
function mergePath(a: Path, b: Path): Path {
  const families = FAMILIES.filter((f) => a.families?.includes(f) || b.families?.includes(f));
  const targets: NonNullable<Path["targets"]> = {};
  for (const f of families) targets[f] = a.targets?.[f] ?? b.targets?.[f];
  return { ...a, families, targets, ...ipv4View(families, targets) };
}

/**
 * Builds path sets, per address family, keeping what it found so that the next run recomputes
 * only the pairs a topology change can affect. The query is fixed: a new query needs a new
 * PathComputer.
 */
export class PathComputer {
  /** One per graph, by the families it serves ("ipv4", "ipv4+ipv6", ...). */
  private graphs = new Map<string, GraphPaths>();
  private prev?: { layout: string; published: Pick<PathSetBody, "pairs" | "paths" | "plan"> };
  lastRun: PathRunStats = { pairs: 0, pairsRecomputed: 0, sources: 0, sourcesSpf: 0 };
  /** Every endpoint spec of the query as the last run resolved it (empty before the first run). */
  lastResolution: ReadonlyMap<string, EndpointResolution> = new Map();

  private readonly targetFor: TargetFor;

  constructor(readonly q: PathQuery) {
    this.targetFor = targetChooser(q);
  }

  /**
   * `topos`: the topology of each family to compute (buildTopologySteps with its `family`), or
   * one that serves all of them (`sameForFamilies`). The families are plugin.paths.families,
   * else what the first topology found in the LSDB (`present`).
   */
  *steps(topos: Topology | readonly Topology[], meta: BuildMeta): Steps<PathSetBody> {
    const list = Array.isArray(topos) ? (topos as readonly Topology[]) : [topos as Topology];
    const families = familiesFor(this.q, list[0]);
    const groups = graphGroups(list, families);
    const layout = groups.map((g) => g.families.join("+")).join(",");
    const runs: Array<{ families: Family[]; run: GraphRun }> = [];
    const live = new Map<string, GraphPaths>();
    for (const g of groups) {
      const key = g.families.join("+");
      const gp = this.graphs.get(key) ?? new GraphPaths(this.q, this.targetFor, g.families);
      live.set(key, gp);
      runs.push({ families: g.families, run: yield* gp.steps(g.topo) });
    }
    this.graphs = live;
    const stats: PathRunStats = { pairs: 0, pairsRecomputed: 0, sources: 0, sourcesSpf: 0 };
    const resolution = new Map<string, EndpointResolution>();
    for (const { run } of runs) {
      if (run.stats.full && stats.full === undefined) stats.full = run.stats.full;
      stats.pairs += run.stats.pairs;
      stats.pairsRecomputed += run.stats.pairsRecomputed;
      stats.sources += run.stats.sources;
      stats.sourcesSpf += run.stats.sourcesSpf;
      for (const [k, v] of run.resolution) if (!resolution.has(k) || (resolution.get(k)!.error && v.node)) resolution.set(k, v);
    }
    if (this.prev !== undefined && this.prev.layout !== layout) stats.full ??= `the families' graphs changed (${this.prev.layout || "none"} -> ${layout || "none"})`;
    this.lastRun = stats;
    this.lastResolution = resolution;
    // No pair changed: the pairs, paths and plan are the previous ones (mode plan's greedy
    // selection is the one part that is global, so this spares it too).
    const published = this.prev !== undefined && this.prev.layout === layout && stats.pairsRecomputed === 0 ? this.prev.published : this.publish(runs);
    this.prev = { layout, published };
    yield;

    const used = groups.map((g) => g.topo);
    const digest = used.length === 1 ? used[0].digest : createHash("sha256").update(used.map((t, i) => `${groups[i].families.join("+")} ${t.digest}`).join("\n")).digest("hex");
    const base = used[0] ?? list[0];
    return {
      schema: PATHSET_SCHEMA,
      version: PATHSET_VERSION,
      mode: this.q.mode,
      families: groups.length ? FAMILIES.filter((f) => groups.some((g) => g.families.includes(f))) : families,
      topology: {
        digest,
        nodes: [...base.nodes.values()].filter((n) => !n.pseudo).length,
        links: used.length === 1 ? used[0].links.length : new Set(used.flatMap((t) => t.links.map((l) => l.id))).size,
        prefixes: meta.prefixes,
        peers: meta.peers,
        stale: meta.stale,
      },
      ...published,
    };
  }

  /** The published pairs (per pair, one entry per family) and paths (fresh objects: reused
   *  pairs are shared with the previous run, and mode plan writes rates into paths and trims
   *  the pairs' lists), and the plan. */
  private publish(runs: ReadonlyArray<{ families: Family[]; run: GraphRun }>): Pick<PathSetBody, "pairs" | "paths" | "plan"> {
    const q = this.q;
    const pairResults = new Map<string, PairResult>();
    const paths = new Map<string, Path>();
    for (const { families, run } of runs) {
      for (const [key, e] of run.pairs) {
        for (const p of e.chosen) {
          const had = paths.get(p.id);
          paths.set(p.id, had ? mergePath(had, p) : { ...p });
        }
        for (const f of families) pairResults.set(`${key}\n${f}`, { ...e.result, family: f, paths: e.chosen.map((p) => p.id) });
      }
    }
    const plan = q.mode === "plan" ? choosePlan([...paths.values()], pairResults, q.plan ?? { budgetPps: 1000, alpha: 2, beta: 1, minLinkPps: 25 }, paths) : undefined;
    const families = FAMILIES.filter((f) => runs.some((r) => r.families.includes(f)));
    return {
      pairs: q.pairs.flatMap(([a, b]) => families.map((f) => pairResults.get(`${a}\n${b}\n${f}`)!)),
      paths: [...paths.values()],
      ...(plan ? { plan } : {}),
    };
  }
}

/**
 * The topologies `q` needs from the LSDB's entries: the IPv4 one, and the IPv6 one when IPv6 is
 * computed and has links of its own (multi-topology); `reuse`: the previous graphs, by family.
 */
export function* topologySteps(entries: () => Iterable<LsEntry>, q: Pick<PathQuery, "families">, metric: MetricKind = "igp", reuse: Partial<Record<Family, Graph>> = {}): Steps<Topology[]> {
  const first = yield* buildTopologySteps(entries(), metric, reuse.ipv4, "ipv4");
  const families = familiesFor(q, first);
  if (!families.includes("ipv6") || first.sameForFamilies !== false) return [first];
  const six = yield* buildTopologySteps(entries(), metric, reuse.ipv6, "ipv6");
  return families.includes("ipv4") ? [first, six] : [six];
}

/** One computation, nothing kept (tests, benches). */
export function buildPathSetSteps(topo: Topology | readonly Topology[], q: PathQuery, meta: BuildMeta): Steps<PathSetBody> {
  return new PathComputer(q).steps(topo, meta);
}

/**
 * Mode `plan`: over the equal-cost paths of every pair, pick the ones to probe (plan.ts) and
 * their rates. A probe is assumed to come back over its mirror path (the prober's default
 * `reverse` mode), so each candidate crosses its links and its mirror's. Paths not chosen leave
 * `paths` and their pair's list; each chosen one gets its `rate`.
 */
function choosePlan(all: Path[], pairs: Map<string, PairResult>, o: PlanQuery, keep: Map<string, Path>): NonNullable<PathSet["plan"]> {
  const byHops = new Map(all.map((p) => [p.hops.map((h) => h.node).join(">"), p]));
  const ends = new Map<string, { id: string; from: string; to: string }>();
  const candidates = all.map((p) => {
    const mirror = byHops.get([...p.hops].reverse().map((h) => h.node).join(">"));
    const links = [...p.links, ...(mirror?.links ?? [])];
    for (const l of links) ends.set(linkElement(l), { id: linkElement(l), from: l.from, to: l.to });
    return { id: p.id, links: links.map(linkElement) };
  });
  const report = planProbes(candidates, { budgetPps: o.budgetPps, alpha: o.alpha, beta: o.beta, minLinkPps: o.minLinkPps });
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
    ...(o.minLinkPps === undefined ? {} : { minLinkPps: o.minLinkPps }),
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
