// Every equal-cost best path between two nodes.
//
// SPF (Dijkstra) from the source gives each node's distance; an edge u->v is on a best path
// when dist[u] + w = dist[v] (the shortest-path DAG). For one destination, a walk back over
// in-edges marks its ancestors on that DAG; the best paths are counted over them (so the true
// number is known even when the cap cuts the list), and a depth-first walk forward from the
// source through them, in name order, yields the paths sorted lexicographically by hop names.
// Per destination the work is proportional to the part of the DAG that leads to it.
//
// Overloaded nodes (IS-IS O bit) are never transit: their out-edges are relaxed only when they
// are the source (ISO 10589 §7.2.8.1). The graph is compiled once into flat typed arrays; one
// SPF serves every destination of a source.
import type { Graph, TopoLink, TopoNode } from "./topology.js";
import { drain, type Steps } from "./slice.js";

export interface CompiledGraph {
  ids: string[];
  nodes: TopoNode[];
  index: Map<string, number>;
  /** CSR adjacency: out-edges of node i are off[i] .. off[i+1]-1. */
  off: Int32Array;
  head: Int32Array;
  weight: Float64Array;
  /** Index into `links` of each edge. */
  link: Int32Array;
  /** Reverse CSR: in-edges of node i are redge[roff[i] .. roff[i+1]-1] (edge indices). */
  roff: Int32Array;
  redge: Int32Array;
  /** Tail (from-node) of each edge. */
  tail: Int32Array;
  links: TopoLink[];
  noTransit: Uint8Array;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function compileGraph(g: Graph): CompiledGraph {
  return drain(compileGraphSteps(g));
}

/** compileGraph() in slices (see slice.ts). */
export function* compileGraphSteps(g: Graph): Steps<CompiledGraph> {
  const ids = g.nodes().sort((a, b) => byName(g.node(a).name, g.node(b).name) || byName(a, b));
  const index = new Map<string, number>();
  ids.forEach((id, i) => index.set(id, i));
  const nodes = ids.map((id) => g.node(id));
  const links: TopoLink[] = [];
  const off = new Int32Array(ids.length + 1);
  const out: Array<Array<{ to: number; l: TopoLink }>> = ids.map(() => []);
  yield;
  let n = 0;
  for (const e of g.edges()) {
    if ((++n & 1023) === 0) yield;
    const l = g.edge(e);
    out[index.get(e.v)!].push({ to: index.get(e.w)!, l });
  }
  let m = 0;
  for (const list of out) m += list.length;
  const head = new Int32Array(m);
  const weight = new Float64Array(m);
  const link = new Int32Array(m);
  let k = 0;
  for (let i = 0; i < out.length; i++) {
    if ((i & 1023) === 0) yield;
    const list = out[i];
    off[i] = k;
    // Name order of the neighbor, then link id: deterministic and lexicographic enumeration.
    list.sort((a, b) => a.to - b.to || byName(a.l.id, b.l.id));
    for (const { to, l } of list) {
      head[k] = to;
      weight[k] = l.metric;
      link[k] = links.length;
      links.push(l);
      k++;
    }
  }
  off[ids.length] = k;
  const tail = new Int32Array(m);
  for (let u = 0; u < ids.length; u++) for (let e = off[u]; e < off[u + 1]; e++) tail[e] = u;
  const roff = new Int32Array(ids.length + 1);
  for (let e = 0; e < m; e++) roff[head[e] + 1]++;
  for (let i = 0; i < ids.length; i++) roff[i + 1] += roff[i];
  const fill = roff.slice(0, ids.length);
  const redge = new Int32Array(m);
  for (let e = 0; e < m; e++) redge[fill[head[e]]++] = e;
  const noTransit = new Uint8Array(ids.length);
  nodes.forEach((n, i) => (noTransit[i] = n.overload ? 1 : 0));
  return { ids, nodes, index, off, head, weight, link, links, roff, redge, tail, noTransit };
}

/** Dijkstra with a binary heap; returns distances (Infinity when unreachable). */
export function spf(cg: CompiledGraph, src: number): Float64Array {
  const n = cg.ids.length;
  const dist = new Float64Array(n).fill(Infinity);
  const done = new Uint8Array(n);
  // Heap of (dist, node) with lazy deletion.
  let hd = new Float64Array(cg.head.length + 1);
  let hn = new Int32Array(cg.head.length + 1);
  let size = 0;
  const push = (d: number, v: number): void => {
    if (size === hd.length) {
      const d2 = new Float64Array(size * 2);
      d2.set(hd);
      hd = d2;
      const n2 = new Int32Array(size * 2);
      n2.set(hn);
      hn = n2;
    }
    let i = size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (hd[p] <= d) break;
      hd[i] = hd[p];
      hn[i] = hn[p];
      i = p;
    }
    hd[i] = d;
    hn[i] = v;
  };
  const pop = (): number => {
    const top = hn[0];
    const d = hd[--size];
    const v = hn[size];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && hd[c + 1] < hd[c]) c++;
      if (hd[c] >= d) break;
      hd[i] = hd[c];
      hn[i] = hn[c];
      i = c;
    }
    hd[i] = d;
    hn[i] = v;
    return top;
  };
  dist[src] = 0;
  push(0, src);
  const { off, head, weight, noTransit } = cg;
  while (size > 0) {
    const u = pop();
    if (done[u]) continue;
    done[u] = 1;
    if (u !== src && noTransit[u]) continue;
    const du = dist[u];
    for (let e = off[u]; e < off[u + 1]; e++) {
      const v = head[e];
      const d = du + weight[e];
      if (d < dist[v]) {
        dist[v] = d;
        push(d, v);
      }
    }
  }
  return dist;
}

export interface EcmpResult {
  /** Best cost, or null when unreachable. */
  cost: number | null;
  /** Number of equal-cost best paths (exact up to 2^53). */
  total: number;
  /** Up to `cap` paths, each a list of edge indices (see CompiledGraph.link), lexicographic by hop names. */
  paths: number[][];
  truncated: boolean;
}

/** Is edge e on a best path from src: tight, and leaving a node that may be transit? */
function onDag(cg: CompiledGraph, src: number, dist: Float64Array, e: number): boolean {
  const u = cg.tail[e];
  return dist[u] + cg.weight[e] === dist[cg.head[e]] && (u === src || cg.noTransit[u] === 0);
}

/** Best paths from src to every node, by Kahn's topological order over the DAG (zero-metric edges included). */
function countAll(cg: CompiledGraph, src: number, dist: Float64Array): Float64Array {
  const n = cg.ids.length;
  const count = new Float64Array(n);
  const indeg = new Int32Array(n);
  for (let e = 0; e < cg.head.length; e++) if (dist[cg.tail[e]] !== Infinity && onDag(cg, src, dist, e)) indeg[cg.head[e]]++;
  const queue = new Int32Array(n);
  let qh = 0;
  let qt = 0;
  count[src] = 1;
  if (indeg[src] === 0) queue[qt++] = src;
  while (qh < qt) {
    const u = queue[qh++];
    for (let e = cg.off[u]; e < cg.off[u + 1]; e++) {
      if (!onDag(cg, src, dist, e)) continue;
      const v = cg.head[e];
      count[v] += count[u];
      if (--indeg[v] === 0) queue[qt++] = v;
    }
  }
  return count;
}

export class EcmpSource {
  /** Paths from the source to every node: counted once a second destination is asked for. */
  private all?: Float64Array;
  readonly dist: Float64Array;
  /** Best paths from a node to the current destination (valid where mark === stamp and counted). */
  private readonly count: Float64Array;
  private readonly counted: Int32Array;
  /** mark[v] === stamp: v leads to the current destination. */
  private readonly mark: Int32Array;
  private stamp = 0;
  private readonly onStack: Uint8Array;
  private readonly stack: Int32Array;

  constructor(
    readonly cg: CompiledGraph,
    readonly src: number,
  ) {
    this.dist = spf(cg, src);
    this.count = new Float64Array(cg.ids.length);
    this.counted = new Int32Array(cg.ids.length);
    this.mark = new Int32Array(cg.ids.length);
    this.onStack = new Uint8Array(cg.ids.length);
    this.stack = new Int32Array(cg.ids.length);
  }

  pathsTo(dst: number, cap: number): EcmpResult {
    const { cg, src, dist, mark } = this;
    if (dst === src || dist[dst] === Infinity) return { cost: dst === src ? 0 : null, total: 0, paths: [], truncated: false };
    // Mark dst's ancestors on the DAG (walking in-edges back from dst).
    const stamp = ++this.stamp;
    const stack = this.stack;
    let sp = 0;
    mark[dst] = stamp;
    stack[sp++] = dst;
    while (sp > 0) {
      const v = stack[--sp];
      for (let i = cg.roff[v]; i < cg.roff[v + 1]; i++) {
        const e = cg.redge[i];
        const u = cg.tail[e];
        if (mark[u] !== stamp && onDag(cg, src, dist, e)) {
          mark[u] = stamp;
          stack[sp++] = u;
        }
      }
    }
    // Count the paths from each ancestor to dst (memoized, over the marked sub-DAG only).
    const { count, counted } = this;
    const onStack = this.onStack;
    const countFrom = (u: number): number => {
      if (u === dst) return 1;
      if (counted[u] === stamp) return count[u];
      if (onStack[u] === 1) return 0; // zero-metric cycle
      onStack[u] = 1;
      let c = 0;
      for (let e = cg.off[u]; e < cg.off[u + 1]; e++) {
        const v = cg.head[e];
        if (mark[v] === stamp && onDag(cg, src, dist, e)) c += countFrom(v);
      }
      onStack[u] = 0;
      counted[u] = stamp;
      count[u] = c;
      return c;
    };
    // One destination: count over its sub-DAG. Several: one count for all, over the whole DAG.
    let counted0: number;
    if (stamp === 1) counted0 = countFrom(src);
    else counted0 = (this.all ??= countAll(cg, src, dist))[dst];
    const paths: number[][] = [];
    const path: number[] = [];
    const walk = (u: number): void => {
      if (u === dst) {
        paths.push(path.slice());
        return;
      }
      for (let e = cg.off[u]; e < cg.off[u + 1] && paths.length < cap; e++) {
        const v = cg.head[e];
        if (mark[v] !== stamp || onStack[v] === 1 || !onDag(cg, src, dist, e)) continue;
        path.push(e);
        onStack[v] = 1;
        walk(v);
        onStack[v] = 0;
        path.pop();
      }
    };
    onStack[src] = 1;
    walk(src);
    onStack[src] = 0;
    // A cycle of zero-metric links (never in a sane IGP: a pseudonode's links back are not 0)
    // defeats the topological count; the walk, which never revisits a node, still holds.
    const total = counted0 > 0 ? counted0 : paths.length;
    return { cost: dist[dst], total, paths, truncated: counted0 > 0 ? total > paths.length : paths.length >= cap };
  }
}

/** All equal-cost best paths from src to dst (node indices). */
export function ecmp(cg: CompiledGraph, src: number, dst: number, cap = Infinity): EcmpResult {
  return new EcmpSource(cg, src).pathsTo(dst, cap);
}
