// Incremental recomputation: after a topology change, which sources need a new SPF and which
// pairs need their paths recomputed. Pure functions over two topology summaries.
//
// A pair's best paths can change only when
//  (a) a link on one of them is removed or gets heavier,
//  (b) a link u->v is added or gets lighter and dist(src, u) + metric <= the pair's cost: a new
//      best path has to take such a link first, and its part before that link is made of links
//      that are unchanged or heavier, so it costs at least the old dist(src, u);
//  (c) a node on them changes what a path shows (name, router id, TE router ids, loopbacks);
//  (d) one of its endpoints resolves to another node (checked by the caller).
// Rule (b) is sharpened with the other end: the link can only matter when dist(src, u) + metric +
// dist(v, dst) <= the pair's cost, so each destination keeps its distances *to* it too (a
// reverse SPF, overload ignored: that only lowers them, and lower bounds are all rule (b) needs).
// Rules (a) and (b) need no exact distances, only lower bounds: each source keeps the distances
// of its last SPF, which stay lower bounds while links only get removed or heavier, and while
// every added or lighter link u->v keeps dist(u) + metric >= dist(v) (the bounds then still obey
// the triangle inequality on every link). A source gets a new SPF only when that fails or when
// one of its pairs is recomputed; a failed link that no pair's paths cross costs no SPF at all.
// A change of the node set (indices move) or of an overload bit (transit rules change)
// recomputes everything: both are rare next to link and metric changes.
import type { CompiledGraph } from "./ecmp.js";
import type { TopoLink, TopoNode, Topology } from "./topology.js";

export interface TopoSummary {
  /** Node ids in compiled-graph index order. */
  ids: string[];
  links: Map<string, TopoLink>;
  /** What a path shows of each node, and its overload bit. */
  nodeSig: Map<string, string>;
}

export interface TopoChange {
  /** Why everything must be recomputed (absent: incremental). */
  full?: string;
  /** Links removed or heavier: their previous version. */
  worse: TopoLink[];
  worseIds: Set<string>;
  /** Links added or lighter: their new version. */
  better: TopoLink[];
  /** Nodes whose shown attributes changed. */
  nodes: Set<string>;
}

const signature = (n: TopoNode): string =>
  [n.name, n.routerId, n.teRouterIds.join(","), n.loopbacks.join(","), n.pseudo ? 1 : 0, n.teRouterIds6?.join(",") ?? "", n.loopbacks6?.join(",") ?? ""].join("\n");

export function summarize(topo: Topology, cg: CompiledGraph): TopoSummary {
  const nodeSig = new Map<string, string>();
  for (const n of topo.nodes.values()) nodeSig.set(n.id, `${n.overload ? 1 : 0}${signature(n)}`);
  return { ids: cg.ids, links: new Map(topo.links.map((l) => [l.id, l])), nodeSig };
}

const sameIds = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export function diffTopology(prev: TopoSummary, next: TopoSummary): TopoChange {
  const change: TopoChange = { worse: [], worseIds: new Set(), better: [], nodes: new Set() };
  if (!sameIds(prev.ids, next.ids)) return { ...change, full: "the nodes or their order (by name) changed" };
  for (const [id, sig] of next.nodeSig) {
    const old = prev.nodeSig.get(id)!;
    if (old === sig) continue;
    if (old[0] !== sig[0]) return { ...change, full: `overload bit of ${id} changed` };
    change.nodes.add(id);
  }
  for (const [id, old] of prev.links) {
    const now = next.links.get(id);
    // Changed SIDs (either direction's) change what the paths across the link carry: recomputed
    // as if heavier. The LSDB keeps an unchanged attribute's object, so identity tells.
    const sidsChanged = now !== undefined && (now.sids?.adj !== old.sids?.adj || now.sids?.endX !== old.sids?.endX || now.reverseSids?.adj !== old.reverseSids?.adj || now.reverseSids?.endX !== old.reverseSids?.endX);
    if (now === undefined || now.metric > old.metric || sidsChanged) {
      change.worse.push(old);
      change.worseIds.add(id);
    }
  }
  for (const [id, now] of next.links) {
    const old = prev.links.get(id);
    if (old === undefined || now.metric < old.metric) change.better.push(now);
  }
  return change;
}

/** May a path from `src` leave node u (an overloaded node is never transit)? */
const transit = (cg: CompiledGraph, u: number, src: number): boolean => u === src || cg.noTransit[u] === 0;

/** Are `dist` (from `src`, before the change) still lower bounds of the distances after it? */
export function boundsHold(change: TopoChange, cg: CompiledGraph, src: number, dist: Float64Array): boolean {
  for (const l of change.better) {
    const u = cg.index.get(l.from)!;
    if (dist[u] + l.metric < dist[cg.index.get(l.to)!] && transit(cg, u, src)) return false;
  }
  return true;
}

/** The same for distances *to* a destination (reverseSpf). */
export function reverseBoundsHold(change: TopoChange, cg: CompiledGraph, toDst: Float64Array): boolean {
  for (const l of change.better) if (l.metric + toDst[cg.index.get(l.to)!] < toDst[cg.index.get(l.from)!]) return false;
  return true;
}

/** What the last computation kept of one pair's best paths. */
export interface PairFootprint {
  /** Best cost, null when unreachable. */
  cost: number | null;
  truncated: boolean;
  /** Link and node ids on its listed paths (pseudonodes and both halves of LAN crossings included). */
  linkIds: Set<string>;
  nodeIds: Set<string>;
}

/**
 * Must the pair be recomputed? `fromSrc`, `boundsToDst()`: lower bounds of the distances from
 * its source and to its destination (boundsHold, reverseBoundsHold; the latter only computed
 * when the change adds or lightens links).
 */
export function pairAffected(change: TopoChange, cg: CompiledGraph, src: number, fromSrc: Float64Array, boundsToDst: () => Float64Array, pair: PairFootprint): boolean {
  for (const id of pair.nodeIds) if (change.nodes.has(id)) return true;
  // Rule (b): a link on a possible path of cost <= the pair's (of any cost, when unreachable).
  // The bound from the source first: the one to the destination may need a reverse SPF.
  const limit = pair.cost ?? Infinity;
  let toDst: Float64Array | undefined;
  for (const l of change.better) {
    const u = cg.index.get(l.from)!;
    const upTo = fromSrc[u] + l.metric;
    if (upTo === Infinity || upTo > limit || !transit(cg, u, src)) continue;
    toDst ??= boundsToDst();
    const through = upTo + toDst[cg.index.get(l.to)!];
    if (through !== Infinity && through <= limit) return true;
  }
  if (pair.cost === null) return false;
  // Rule (a). More best paths than listed: the footprint does not show the whole DAG.
  if (pair.truncated) return change.worse.length > 0;
  for (const id of pair.linkIds) if (change.worseIds.has(id)) return true;
  return false;
}
