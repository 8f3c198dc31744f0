// Every equal-cost best path between two nodes.
//
// SPF (Dijkstra) from the source gives each node's distance; an edge u->v is on a best path
// when dist[u] + w = dist[v] (the shortest-path DAG). Paths to a destination are counted on
// that DAG (so the true number is known even when the cap cuts the list), then enumerated
// depth first in name order, which yields them sorted lexicographically by hop names.
//
// Overloaded nodes (IS-IS O bit) are never transit: their out-edges are relaxed only when they
// are the source (ISO 10589 §7.2.8.1). The graph is compiled once into flat typed arrays; one
// SPF serves every destination of a source.
import type { Graph, TopoLink, TopoNode } from "./topology.js";

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
  links: TopoLink[];
  noTransit: Uint8Array;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function compileGraph(g: Graph): CompiledGraph {
  const ids = g.nodes().sort((a, b) => byName(g.node(a).name, g.node(b).name) || byName(a, b));
  const index = new Map<string, number>();
  ids.forEach((id, i) => index.set(id, i));
  const nodes = ids.map((id) => g.node(id));
  const links: TopoLink[] = [];
  const off = new Int32Array(ids.length + 1);
  const out: Array<Array<{ to: number; l: TopoLink }>> = ids.map(() => []);
  for (const e of g.edges()) {
    const l = g.edge(e);
    out[index.get(e.v)!].push({ to: index.get(e.w)!, l });
  }
  let m = 0;
  for (const list of out) m += list.length;
  const head = new Int32Array(m);
  const weight = new Float64Array(m);
  const link = new Int32Array(m);
  let k = 0;
  out.forEach((list, i) => {
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
  });
  off[ids.length] = k;
  const noTransit = new Uint8Array(ids.length);
  nodes.forEach((n, i) => (noTransit[i] = n.overload ? 1 : 0));
  return { ids, nodes, index, off, head, weight, link, links, noTransit };
}

/** Dijkstra with a binary heap; returns distances (Infinity when unreachable). */
export function spf(cg: CompiledGraph, src: number): Float64Array {
  const n = cg.ids.length;
  const dist = new Float64Array(n).fill(Infinity);
  const done = new Uint8Array(n);
  // Heap of (dist, node) with lazy deletion.
  let hd = new Float64Array(64);
  let hn = new Int32Array(64);
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

/**
 * Number of best paths from each node to dst on the shortest-path DAG of src (0: not on one).
 * `count` and `state` are scratch arrays of the node count, reused across destinations.
 */
function countPaths(cg: CompiledGraph, src: number, dist: Float64Array, dst: number, count: Float64Array, state: Uint8Array): void {
  count.fill(0);
  state.fill(0);
  const { off, head, weight, noTransit } = cg;
  const limit = dist[dst];
  const visit = (u: number): number => {
    if (state[u] === 2) return count[u];
    if (state[u] === 1) return 0; // zero-metric cycle: not a simple path
    if (u === dst) {
      state[u] = 2;
      return (count[u] = 1);
    }
    state[u] = 1;
    let c = 0;
    if (u === src || !noTransit[u]) {
      const du = dist[u];
      for (let e = off[u]; e < off[u + 1]; e++) {
        const v = head[e];
        if (du + weight[e] === dist[v] && dist[v] <= limit) c += visit(v);
      }
    }
    state[u] = 2;
    return (count[u] = c);
  };
  visit(src);
}

export class EcmpSource {
  readonly dist: Float64Array;
  private readonly count: Float64Array;
  private readonly state: Uint8Array;

  constructor(
    readonly cg: CompiledGraph,
    readonly src: number,
  ) {
    this.dist = spf(cg, src);
    this.count = new Float64Array(cg.ids.length);
    this.state = new Uint8Array(cg.ids.length);
  }

  pathsTo(dst: number, cap: number): EcmpResult {
    const { cg, src, dist, count } = this;
    if (dst === src || dist[dst] === Infinity) return { cost: dst === src ? 0 : null, total: 0, paths: [], truncated: false };
    countPaths(cg, src, dist, dst, count, this.state);
    const total = count[src];
    const paths: number[][] = [];
    const { off, head, weight, noTransit } = cg;
    const stack: number[] = [];
    const onStack = this.state; // countPaths is done with it: reuse as the walk's on-stack marks
    onStack.fill(0);
    onStack[src] = 1;
    const walk = (u: number): void => {
      if (u === dst) {
        paths.push(stack.slice());
        return;
      }
      if (u !== src && noTransit[u]) return;
      const du = dist[u];
      for (let e = off[u]; e < off[u + 1] && paths.length < cap; e++) {
        const v = head[e];
        if (count[v] > 0 && du + weight[e] === dist[v] && onStack[v] === 0) {
          stack.push(e);
          onStack[v] = 1;
          walk(v);
          onStack[v] = 0;
          stack.pop();
        }
      }
    };
    walk(src);
    return { cost: dist[dst], total, paths, truncated: total > paths.length };
  }
}

/** All equal-cost best paths from src to dst (node indices). */
export function ecmp(cg: CompiledGraph, src: number, dst: number, cap = Infinity): EcmpResult {
  return new EcmpSource(cg, src).pathsTo(dst, cap);
}
