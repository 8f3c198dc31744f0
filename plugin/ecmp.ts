// Every equal-cost best path between two nodes.
//
// The graph is compiled once into flat typed arrays (CSR and reverse CSR). A query finds the
// distances, then the destination's sub-DAG: the edges of best paths, found by walking back
// from the destination (an edge u->v is on a best path from src when dist[u] + w = dist[v]).
// A depth-first walk forward from the source through the sub-DAG, in name order, lists the
// paths sorted lexicographically by hop names and counts them; when the cap cuts the list, a
// count over the sub-DAG gives the true number.
//
// Distances, chosen per EcmpSource:
// - its first destination (and ecmp()): a bidirectional search that stops as soon as the two
//   balls provably hold every best path (pairPaths), without visiting the rest of the graph;
// - from the second destination on: one full SPF from the source and its DAG's predecessor
//   lists, then per destination only the walk back over those lists.
// Queries run on a per-graph scratch space (typed arrays sized to the graph, reset by
// generation stamps or touched lists): a query allocates little beyond its result. When every
// metric is equal (often so in data centres) the priority queue is a FIFO: Dijkstra is a BFS.
//
// Overloaded nodes (IS-IS O bit) are never transit: their out-edges are used only when they
// are the source (ISO 10589 §7.2.8.1).
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
  /** The metric of every edge when they are all equal and > 0 (SPF is then a BFS), else 0. */
  uniform: number;
  /** The smallest metric (0: zero-metric edges, e.g. pseudonode to router, exist). */
  minWeight: number;
  /** Query workspace, made on first use (see Scratch). */
  scratch: Scratch | undefined;
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
  const n = ids.length;
  yield;
  // Flat arrays, no object per edge: the graph's edges in its order, counted per tail.
  const edges = g.edges();
  const m = edges.length;
  const from = new Int32Array(m);
  const to = new Int32Array(m);
  const label: TopoLink[] = new Array(m);
  const off = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) {
    if ((e & 4095) === 4095) yield;
    const o = edges[e];
    from[e] = index.get(o.v)!;
    to[e] = index.get(o.w)!;
    label[e] = g.edge(o);
    off[from[e] + 1]++;
  }
  for (let i = 0; i < n; i++) off[i + 1] += off[i];
  // Counting sort by tail, then each node's few out-edges by neighbor (name order) and link id:
  // deterministic, lexicographic enumeration.
  const order = new Int32Array(m);
  const fill = off.slice(0, n);
  for (let e = 0; e < m; e++) order[fill[from[e]]++] = e;
  const before = (x: number, y: number): boolean => to[x] < to[y] || (to[x] === to[y] && label[x].id < label[y].id);
  for (let u = 0; u < n; u++) {
    for (let i = off[u] + 1; i < off[u + 1]; i++) {
      const x = order[i];
      let j = i - 1;
      for (; j >= off[u] && before(x, order[j]); j--) order[j + 1] = order[j];
      order[j + 1] = x;
    }
  }
  yield;
  const head = new Int32Array(m);
  const tail = new Int32Array(m);
  const weight = new Float64Array(m);
  const link = new Int32Array(m);
  const links: TopoLink[] = new Array(m);
  for (let k = 0; k < m; k++) {
    const e = order[k];
    head[k] = to[e];
    tail[k] = from[e];
    weight[k] = label[e].metric;
    link[k] = k;
    links[k] = label[e];
  }
  const roff = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) roff[head[e] + 1]++;
  for (let i = 0; i < n; i++) roff[i + 1] += roff[i];
  const rfill = roff.slice(0, n);
  const redge = new Int32Array(m);
  for (let e = 0; e < m; e++) redge[rfill[head[e]]++] = e;
  const noTransit = new Uint8Array(n);
  nodes.forEach((node, i) => (noTransit[i] = node.overload ? 1 : 0));
  let minWeight = m > 0 ? weight[0] : 0;
  let maxWeight = minWeight;
  for (let e = 1; e < m; e++) {
    if (weight[e] < minWeight) minWeight = weight[e];
    if (weight[e] > maxWeight) maxWeight = weight[e];
  }
  const uniform = minWeight > 0 && minWeight === maxWeight ? minWeight : 0;
  return { ids, nodes, index, off, head, weight, link, links, roff, redge, tail, noTransit, uniform, minWeight, scratch: undefined };
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

const none = (cost: number | null): EcmpResult => ({ cost, total: 0, paths: [], truncated: false });

/**
 * Per-graph scratch space shared by all queries on a compiled graph (queries are synchronous,
 * so they never overlap). Marks are valid where they equal the current `stamp`; the
 * bidirectional search's labels are put back to Infinity through its touched lists.
 */
export class Scratch {
  /** The bidirectional search's labels (Infinity when not reached) and the nodes it labeled. */
  readonly distF: Float64Array;
  readonly distB: Float64Array;
  readonly touchedF: Int32Array;
  readonly touchedB: Int32Array;
  /** Binary heaps (keys, nodes) of the searches, when metrics differ (BFS needs none). */
  readonly hkF: Float64Array;
  readonly hnF: Int32Array;
  readonly hkB: Float64Array;
  readonly hnB: Int32Array;
  stamp = 0;
  /** mark[v] === stamp: v is the destination or leads to it; stack: the walk back. */
  readonly mark: Int32Array;
  readonly stack: Int32Array;
  /**
   * onSub[e] === stamp: edge e is on the destination's sub-DAG. The walk looks for node u's
   * sub-DAG edges among E[lo[u] .. hi[u]-1]: among all of its out-edges (ident, off, offEnd)
   * after a bidirectional search; among just those (sub, sorted, and subLo, subHi) after a
   * full SPF, where a fat tree's core would otherwise be scanned once per path through it.
   */
  readonly onSub: Int32Array;
  readonly sub: Int32Array;
  readonly subLo: Int32Array;
  readonly subHi: Int32Array;
  readonly ident: Int32Array;
  readonly off: Int32Array;
  readonly offEnd: Int32Array;
  private E: Int32Array;
  private lo: Int32Array;
  private hi: Int32Array;
  /** count[u] (valid where countedAt[u] === stamp): best paths from u to the destination. */
  private readonly count: Float64Array;
  private readonly countedAt: Int32Array;
  private readonly onStack: Uint8Array;
  private cyclic = false;
  private dst = -1;
  /** The walk's stack (node and next position in E per depth), the current path's edges. */
  private readonly at: Int32Array;
  private readonly pos: Int32Array;
  private readonly cur: Int32Array;
  private found = 0;
  private readonly zeroMetrics: boolean;
  private readonly head: Int32Array;

  constructor(cg: CompiledGraph) {
    const n = cg.ids.length;
    const m = cg.head.length;
    this.distF = new Float64Array(n).fill(Infinity);
    this.distB = new Float64Array(n).fill(Infinity);
    this.touchedF = new Int32Array(n);
    this.touchedB = new Int32Array(n);
    // A heap holds at most one entry per successful relaxation, plus the start.
    const h = cg.uniform > 0 ? 0 : m + 1;
    this.hkF = new Float64Array(h);
    this.hnF = new Int32Array(h);
    this.hkB = new Float64Array(h);
    this.hnB = new Int32Array(h);
    this.mark = new Int32Array(n);
    this.stack = new Int32Array(n);
    this.onSub = new Int32Array(m);
    this.sub = new Int32Array(m);
    this.subLo = new Int32Array(n);
    this.subHi = new Int32Array(n);
    this.ident = new Int32Array(m);
    for (let e = 0; e < m; e++) this.ident[e] = e;
    this.off = cg.off;
    this.offEnd = cg.off.subarray(1);
    this.E = this.ident;
    this.lo = this.off;
    this.hi = this.offEnd;
    this.count = new Float64Array(n);
    this.countedAt = new Int32Array(n);
    this.onStack = new Uint8Array(n);
    this.at = new Int32Array(n + 1);
    this.pos = new Int32Array(n + 1);
    this.cur = new Int32Array(n);
    this.zeroMetrics = cg.minWeight === 0;
    this.head = cg.head;
  }

  nextStamp(): number {
    if (this.stamp === 0x7fffffff) {
      this.mark.fill(0);
      this.onSub.fill(0);
      this.countedAt.fill(0);
      this.stamp = 0;
    }
    return ++this.stamp;
  }

  /**
   * The result, once the caller has marked the sub-DAG with the current stamp (every edge of a
   * best path; possibly more that src does not reach) and says where to look for its edges.
   */
  finish(src: number, dst: number, cap: number, cost: number, E: Int32Array, lo: Int32Array, hi: Int32Array): EcmpResult {
    this.E = E;
    this.lo = lo;
    this.hi = hi;
    let paths = this.walk(src, dst, cap, false);
    let total = this.found;
    if (total >= cap) {
      // The cap cut the list: count over the sub-DAG.
      this.dst = dst;
      this.cyclic = false;
      total = this.countFrom(src);
      // A cycle of zero-metric links (never in a sane IGP: a pseudonode's links back are not
      // 0) defeats the count; the walk, which never revisits a node, then counts simple paths.
      if (this.cyclic) {
        paths = this.walk(src, dst, cap, true);
        total = this.found;
      }
    }
    return { cost, total, paths, truncated: total > paths.length };
  }

  /** Paths from u to the destination over the sub-DAG (memoized). */
  private countFrom(u: number): number {
    if (u === this.dst) return 1;
    if (this.countedAt[u] === this.stamp) return this.count[u];
    if (this.onStack[u] === 1) {
      this.cyclic = true;
      return 0;
    }
    this.onStack[u] = 1;
    let c = 0;
    for (let i = this.lo[u], end = this.hi[u]; i < end; i++) {
      const e = this.E[i];
      if (this.onSub[e] === this.stamp) c += this.countFrom(this.head[e]);
    }
    this.onStack[u] = 0;
    this.countedAt[u] = this.stamp;
    this.count[u] = c;
    return c;
  }

  /** Depth-first from src over the sub-DAG in edge (name) order: up to cap paths; `found` counts them (all of them when countAll). */
  private walk(src: number, dst: number, cap: number, countAll: boolean): number[][] {
    const paths: number[][] = [];
    let found = 0;
    if (cap > 0 || countAll) {
      const { at, pos, E, lo, hi, onSub, stamp, head, onStack, cur } = this;
      // With metrics all > 0 every step goes further from src: no node can come twice.
      const revisits = this.zeroMetrics;
      let d = 0;
      at[0] = src;
      pos[0] = lo[src];
      onStack[src] = 1;
      while (d >= 0) {
        const u = at[d];
        let i = pos[d];
        const end = hi[u];
        while (i < end && onSub[E[i]] !== stamp) i++;
        if (i === end) {
          onStack[u] = 0;
          d--;
          continue;
        }
        pos[d] = i + 1;
        const e = E[i];
        const v = head[e];
        if (revisits && onStack[v] === 1) continue;
        cur[d] = e;
        if (v === dst) {
          if (found < cap) {
            // A copy by hand: several times faster than slice() for a handful of hops.
            const path = new Array<number>(d + 1);
            for (let j = 0; j <= d; j++) path[j] = cur[j];
            paths.push(path);
          }
          if (++found >= cap && !countAll) break;
          continue;
        }
        at[++d] = v;
        pos[d] = lo[v];
        onStack[v] = 1;
      }
      for (; d >= 0; d--) onStack[at[d]] = 0;
    }
    this.found = found;
    return paths;
  }
}

const scratchOf = (cg: CompiledGraph): Scratch => (cg.scratch ??= new Scratch(cg));

/** Insert (d, v) into the binary min-heap of `size` entries on (keys, nodes). */
function heapPush(keys: Float64Array, nodes: Int32Array, size: number, d: number, v: number): void {
  let i = size;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (keys[p] <= d) break;
    keys[i] = keys[p];
    nodes[i] = nodes[p];
    i = p;
  }
  keys[i] = d;
  nodes[i] = v;
}

/** Remove the root of the binary min-heap of `size` entries on (keys, nodes). */
function heapPopRoot(keys: Float64Array, nodes: Int32Array, size: number): void {
  const last = size - 1;
  const d = keys[last];
  const v = nodes[last];
  let i = 0;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= last) break;
    if (c + 1 < last && keys[c + 1] < keys[c]) c++;
    if (keys[c] >= d) break;
    keys[i] = keys[c];
    nodes[i] = nodes[c];
    i = c;
  }
  keys[i] = d;
  nodes[i] = v;
}

/** Sort a[0..k) ascending (insertion sort for the usual handful, the native sort beyond). */
function sortPrefix(a: Int32Array, k: number): void {
  if (k > 32) {
    a.subarray(0, k).sort();
    return;
  }
  for (let i = 1; i < k; i++) {
    const x = a[i];
    let j = i - 1;
    while (j >= 0 && a[j] > x) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}

/** Dijkstra from src into dist (all Infinity on entry); a BFS when every metric is equal. */
function sssp(cg: CompiledGraph, src: number, dist: Float64Array): void {
  const { off, head, weight, noTransit } = cg;
  const s = scratchOf(cg);
  dist[src] = 0;
  if (cg.uniform > 0) {
    // Labels are handed out in distance order, each node's first is final.
    const queue = s.touchedF;
    let qh = 0;
    let qt = 0;
    queue[qt++] = src;
    while (qh < qt) {
      const u = queue[qh++];
      if (u !== src && noTransit[u] === 1) continue;
      const d = dist[u] + cg.uniform;
      for (let e = off[u], end = off[u + 1]; e < end; e++) {
        const v = head[e];
        if (dist[v] === Infinity) {
          dist[v] = d;
          queue[qt++] = v;
        }
      }
    }
    return;
  }
  // Binary heap with lazy deletion: an entry whose key is above its node's label is stale.
  const { hkF: keys, hnF: nodes } = s;
  let size = 0;
  heapPush(keys, nodes, size++, 0, src);
  while (size > 0) {
    const du = keys[0];
    const u = nodes[0];
    heapPopRoot(keys, nodes, size--);
    if (du > dist[u] || (u !== src && noTransit[u] === 1)) continue;
    for (let e = off[u], end = off[u + 1]; e < end; e++) {
      const v = head[e];
      const d = du + weight[e];
      if (d < dist[v]) {
        dist[v] = d;
        heapPush(keys, nodes, size++, d, v);
      }
    }
  }
}

/** Dijkstra (BFS when every metric is equal); returns distances (Infinity when unreachable). */
export function spf(cg: CompiledGraph, src: number): Float64Array {
  const dist = new Float64Array(cg.ids.length).fill(Infinity);
  sssp(cg, src, dist);
  return dist;
}

/**
 * Distances from every node *to* dst (Dijkstra over in-edges). Overload bits are ignored: the
 * result is a lower bound of the distances over transit-respecting paths, which is what the
 * incremental recompute needs (incremental.ts).
 */
export function reverseSpf(cg: CompiledGraph, dst: number): Float64Array {
  const { roff, redge, tail, weight } = cg;
  const dist = new Float64Array(cg.ids.length).fill(Infinity);
  const s = scratchOf(cg);
  dist[dst] = 0;
  if (cg.uniform > 0) {
    // Equal metrics: a BFS (the scratch has no heap then).
    const queue = s.touchedB;
    let qh = 0;
    let qt = 0;
    queue[qt++] = dst;
    while (qh < qt) {
      const x = queue[qh++];
      const d = dist[x] + cg.uniform;
      for (let i = roff[x], end = roff[x + 1]; i < end; i++) {
        const y = tail[redge[i]];
        if (dist[y] === Infinity) {
          dist[y] = d;
          queue[qt++] = y;
        }
      }
    }
    return dist;
  }
  const { hkB: keys, hnB: nodes } = s;
  let size = 0;
  heapPush(keys, nodes, size++, 0, dst);
  while (size > 0) {
    const dx = keys[0];
    const x = nodes[0];
    heapPopRoot(keys, nodes, size--);
    if (dx > dist[x]) continue;
    for (let i = roff[x], end = roff[x + 1]; i < end; i++) {
      const e = redge[i];
      const y = tail[e];
      const d = dx + weight[e];
      if (d < dist[y]) {
        dist[y] = d;
        heapPush(keys, nodes, size++, d, y);
      }
    }
  }
  return dist;
}

/**
 * Every best path of one pair, by bidirectional Dijkstra: a forward search from src (labels
 * df) and a backward one from dst over in-edges (labels db) take turns, the side with the
 * shorter queue first; mu is the best src-dst cost seen through an edge between the two. With
 * topF and topB the smallest keys left in the queues, stop once topF + topB > mu. Then mu is
 * the best cost, every node with df < topF is settled forward (the set F), and a node of a best
 * path outside F has db = mu - df <= mu - topF < topB, so it is settled backward. Along a best
 * path df never decreases, so its nodes in F are a prefix: each best path splits uniquely into
 * a prefix in F (edges tight in df), one edge out of F (df(u) + w + db(v) = mu) and a suffix
 * outside F (edges tight in db). With metrics all > 0 a label <= topF is final too and every
 * node at df = topF has one, so F may take df <= topF and the search may stop at topF + topB =
 * mu (a fat tree's pair then meets in the middle after two levels a side). Overloaded nodes: an
 * edge u->v is usable, on either side, only when u is the source or not overloaded.
 */
export function pairPaths(cg: CompiledGraph, src: number, dst: number, cap: number): EcmpResult {
  if (src === dst) return none(0);
  const s = scratchOf(cg);
  const { off, head, weight, roff, redge, tail, noTransit } = cg;
  const { distF, distB, touchedF, touchedB } = s;
  const positive = cg.minWeight > 0;
  let nF = 0;
  let nB = 0;
  // With equal metrics the touched lists are the FIFO queues (BFS: touched[h..n) waits);
  // otherwise each side has a binary heap with lazy deletion (stale: key above the label).
  const fifo = cg.uniform > 0;
  const { hkF, hnF, hkB, hnB } = s;
  let hF = 0;
  let hB = 0;
  let fh = 0;
  let bh = 0;
  distF[src] = 0;
  touchedF[nF++] = src;
  distB[dst] = 0;
  touchedB[nB++] = dst;
  if (!fifo) {
    heapPush(hkF, hnF, hF++, 0, src);
    heapPush(hkB, hnB, hB++, 0, dst);
  }
  let mu = Infinity;
  let topF = 0;
  let topB = 0;
  // A side's queue changes only when that side expands: its top is read again only then.
  for (;;) {
    if (topF === Infinity || topB === Infinity || topF + topB > mu || (positive && topF + topB === mu)) break;
    if ((fifo ? nF - fh : hF) <= (fifo ? nB - bh : hB)) {
      let u: number;
      if (fifo) u = touchedF[fh++];
      else {
        u = hnF[0];
        heapPopRoot(hkF, hnF, hF--);
      }
      if (u === src || noTransit[u] === 0) {
        const du = distF[u];
        for (let e = off[u], end = off[u + 1]; e < end; e++) {
          const v = head[e];
          const d = du + weight[e];
          const dv = distF[v];
          if (d < dv) {
            if (dv === Infinity) touchedF[nF++] = v;
            distF[v] = d;
            if (!fifo) heapPush(hkF, hnF, hF++, d, v);
          }
          if (d + distB[v] < mu) mu = d + distB[v];
        }
      }
      if (fifo) topF = fh < nF ? distF[touchedF[fh]] : Infinity;
      else {
        while (hF > 0 && hkF[0] > distF[hnF[0]]) heapPopRoot(hkF, hnF, hF--);
        topF = hF > 0 ? hkF[0] : Infinity;
      }
    } else {
      let v: number;
      if (fifo) v = touchedB[bh++];
      else {
        v = hnB[0];
        heapPopRoot(hkB, hnB, hB--);
      }
      const dv = distB[v];
      for (let i = roff[v], end = roff[v + 1]; i < end; i++) {
        const e = redge[i];
        const u = tail[e];
        if (u !== src && noTransit[u] === 1) continue;
        const d = dv + weight[e];
        const du = distB[u];
        if (d < du) {
          if (du === Infinity) touchedB[nB++] = u;
          distB[u] = d;
          if (!fifo) heapPush(hkB, hnB, hB++, d, u);
        }
        if (d + distF[u] < mu) mu = d + distF[u];
      }
      if (fifo) topB = bh < nB ? distB[touchedB[bh]] : Infinity;
      else {
        while (hB > 0 && hkB[0] > distB[hnB[0]]) heapPopRoot(hkB, hnB, hB--);
        topB = hB > 0 ? hkB[0] : Infinity;
      }
    }
  }
  if (mu !== Infinity) {
    // Walk back from dst over the edges of best paths, by the split above: into a node of F,
    // tight in df from F; into a node outside F, the edge out of F or tight in db outside F.
    // F is df < topF, or df <= topF when every metric is > 0.
    const incl = positive && topF !== Infinity;
    const { mark, stack, onSub } = s;
    const stamp = s.nextStamp();
    let sp = 0;
    mark[dst] = stamp;
    stack[sp++] = dst;
    while (sp > 0) {
      const x = stack[--sp];
      const fx = distF[x];
      const bx = distB[x];
      const xInF = fx < topF || (incl && fx === topF);
      for (let i = roff[x], end = roff[x + 1]; i < end; i++) {
        const e = redge[i];
        const u = tail[e];
        if (u !== src && noTransit[u] === 1) continue;
        const fu = distF[u];
        const w = weight[e];
        if (xInF ? fu + w !== fx : fu < topF || (incl && fu === topF) ? fu + w + bx !== mu : !(distB[u] < topB && bx + w === distB[u])) continue;
        onSub[e] = stamp;
        if (mark[u] !== stamp) {
          mark[u] = stamp;
          if (u !== src) stack[sp++] = u; // (edges back into src are on no simple path)
        }
      }
    }
  }
  for (let i = 0; i < nF; i++) distF[touchedF[i]] = Infinity;
  for (let i = 0; i < nB; i++) distB[touchedB[i]] = Infinity;
  return mu === Infinity ? none(null) : s.finish(src, dst, cap, mu, s.ident, s.off, s.offEnd);
}

/**
 * The best paths from one source. The first destination asked for is answered by pairPaths
 * (one pair rarely needs the whole graph); from the second on, one full SPF from the source
 * serves every destination: its DAG's predecessor lists are kept, and each destination costs a
 * walk back over them plus the enumeration.
 */
export class EcmpSource {
  private full?: { dist: Float64Array; predOff: Int32Array; pred: Int32Array };
  private asked = 0;

  constructor(
    readonly cg: CompiledGraph,
    readonly src: number,
    opts?: { fullSpf?: boolean },
  ) {
    if (opts?.fullSpf) this.prepare();
  }

  /** Distances from the source (Infinity when unreachable); runs the full SPF if not yet done. */
  get dist(): Float64Array {
    return this.prepare().dist;
  }

  private prepare(): { dist: Float64Array; predOff: Int32Array; pred: Int32Array } {
    if (this.full) return this.full;
    const { cg, src } = this;
    const { roff, redge, tail, weight, noTransit } = cg;
    const n = cg.ids.length;
    const s = scratchOf(cg);
    const dist = new Float64Array(n).fill(Infinity);
    sssp(cg, src, dist);
    // In-edges of each node that are on a best path from src (tight, from a possible transit).
    const predOff = new Int32Array(n + 1);
    const tmp = s.sub;
    let k = 0;
    for (let v = 0; v < n; v++) {
      predOff[v] = k;
      const dv = dist[v];
      if (dv === Infinity) continue;
      for (let i = roff[v], end = roff[v + 1]; i < end; i++) {
        const e = redge[i];
        const u = tail[e];
        if (dist[u] + weight[e] === dv && (u === src || noTransit[u] === 0)) tmp[k++] = e;
      }
    }
    predOff[n] = k;
    return (this.full = { dist, predOff, pred: tmp.slice(0, k) });
  }

  pathsTo(dst: number, cap: number): EcmpResult {
    const { cg, src } = this;
    if (this.full === undefined && this.asked++ === 0) return pairPaths(cg, src, dst, cap);
    const { dist, predOff, pred } = this.prepare();
    if (dst === src) return none(0);
    if (dist[dst] === Infinity) return none(null);
    const s = scratchOf(cg);
    const { mark, stack, onSub, sub, subLo, subHi } = s;
    const tail = cg.tail;
    const stamp = s.nextStamp();
    let sp = 0;
    let k = 0;
    mark[dst] = stamp;
    stack[sp++] = dst;
    while (sp > 0) {
      const v = stack[--sp];
      for (let i = predOff[v], end = predOff[v + 1]; i < end; i++) {
        const e = pred[i];
        onSub[e] = stamp;
        sub[k++] = e;
        const u = tail[e];
        if (mark[u] !== stamp) {
          mark[u] = stamp;
          if (u !== src) stack[sp++] = u; // (edges back into src are on no simple path)
        }
      }
    }
    // Edge indices are grouped by tail, in name order within it: sorted, one range per node.
    sortPrefix(sub, k);
    let prev = -1;
    for (let i = 0; i < k; i++) {
      const u = tail[sub[i]];
      if (u !== prev) {
        if (prev >= 0) subHi[prev] = i;
        subLo[u] = i;
        prev = u;
      }
    }
    if (prev >= 0) subHi[prev] = k;
    return s.finish(src, dst, cap, dist[dst], sub, subLo, subHi);
  }
}

/** All equal-cost best paths from src to dst (node indices). */
export function ecmp(cg: CompiledGraph, src: number, dst: number, cap = Infinity): EcmpResult {
  return pairPaths(cg, src, dst, cap);
}
