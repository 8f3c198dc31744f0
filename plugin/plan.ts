// The probe plan: which candidate paths to probe, and at what rate, so that a failed link shows
// and can be named.
//
// Terms. A candidate is a probe path given as the directed links a probe crosses (in the prober's
// `reverse` mode: the path's links out and its mirror's links back). The signature of a set F of
// failed links is the set of chosen paths that cross at least one link of F: what the prober sees
// failing. The plan asks for
//  - alpha-coverage: every link crossed by at least min(alpha, k) chosen paths, k being the number
//    of candidates that cross it;
//  - beta-identifiability: any two sets of at most beta failed links give different signatures,
//    and none gives the empty signature of "nothing failed";
//  - as few paths as the greedy below finds, then a rate for each out of a pps budget; what the
//    budget leaves buys paths for several failures at once.
//
// Groups first. Links that every candidate crosses alike (the same candidates cross each: links in
// series with no branch between them; the two directions of a link under out-and-back probes) can
// never be told apart. They are merged into one "unit" up front and reported as not identifiable;
// the rest of the planner works on units.
//
// The greedy. Finding the fewest paths is a test-cover problem (NP-hard). We run the greedy for
// submodular set cover (Wolsey 1982) on
//     f(S) = sum over units of min(coverage, need) + number of pairs of failure sets S tells apart
// where the failure sets are the units (beta = 1) or the units and pairs of units (beta = 2),
// plus the empty set, so "told apart from nothing failed" is "covered". Both terms are monotone
// and submodular (a path's gain can only shrink as others are chosen), so the greedy that adds the
// path of largest gain until no path gains anything reaches the largest f every candidate together
// reaches, with at most H(max gain) ~ ln times the optimal number of paths; for the separation
// term alone this is the classic test-cover greedy (Moret and Shapiro 1985). deTector (Peng et al.,
// USENIX ATC'17) builds its probe matrix (PMC) in the same spirit: pick, greedily, the path with
// the best score for coverage plus identifiability. The formulation and code here are our own.
//
// Gains are exact and incremental, with no pairwise loop and no signature bitsets. The chosen
// paths partition the failure sets into classes of equal signature (partition refinement); path
// p splits class C into C∩p and C\p and tells apart |C∩p|·|C\p| pairs. Class 0, the sets no
// chosen path crosses yet, is the only big class: every other class is a part of one path's sets.
// So a path's gain is R(p) + h0(p)·(|class 0| - h0(p)), with h0(p) its sets in class 0 and R(p)
// the rest; paths are kept in one heap per h0, keyed by R - h0², an order that the shrinking of
// class 0 does not change. Choosing a path recomputes only the paths that cross a set whose class
// changed or a link that reached its coverage. A lazy greedy (stale gains as upper bounds,
// Minoux 1978) does badly here: every gain drifts down with |class 0|, and on the 495,104
// candidates of a k=16 fat tree it re-evaluated some 78,000 paths per step (14 s against 2-3 s).
// With beta = 2, pairs of units make classes other than class 0 big too, so the split does not
// help; those inputs are small, and the lazy greedy serves them.
//
// Then reverse delete. A path chosen early may become redundant once later paths are in, so
// paths whose removal loses nothing of f are dropped. If the budget still cannot give every path
// minRatePerPath, the paths whose removal loses the least f are dropped until it can, and the plan
// is budget-limited. A path's loss only grows as others go, so stale losses are lower bounds and
// a lazy heap (Minoux 1978) finds the least. Here the classes are interned signatures (a trie of
// path indices), so a loss is exact: each class the path crosses merges with the class whose
// signature lacks just that path.
//
// Then spare budget: once alpha and beta are met, paths that give failed links witnesses against
// other failed links (addWitnesses), while every link keeps minLinkPps; then an even split.
//
// Ties go to the earlier candidate when adding and to the later one when dropping; the output
// depends only on the input. beta = 2 enumerates every pair of units, so it runs when there are at
// most BETA2_MAX_SETS failure sets; above that the plan is made for beta = 1 and report.beta says
// so. beta above 2 is refused.

export interface PlanCandidate {
  id: string;
  /** Directed link ids the probe crosses (repeats count once). */
  links: readonly string[];
}

export interface PlanOptions {
  /** Probes per second for all chosen paths together. */
  budgetPps: number;
  /** Chosen paths each link should be crossed by, where candidates allow (default 2). */
  alpha?: number;
  /** Largest number of simultaneously failed links to tell apart: 0, 1 (default) or 2. */
  beta?: number;
  /** Default 1: a path probed more slowly is not worth its place. */
  minRatePerPath?: number;
  /** Default 100. */
  maxRatePerPath?: number;
  /**
   * Budget left once alpha and beta are met buys more paths (addWitnesses) while every link
   * still sees this many probes per second (default 25: a path's rate in mode all).
   */
  minLinkPps?: number;
}

export interface PlannedPath {
  id: string;
  rate: number;
}

/**
 * Why links cannot be told apart:
 *  - same-paths: every candidate crosses them alike; no plan can.
 *  - budget: other candidates would, but the budget caps the number of paths.
 *  - not-required: the options did not ask (alpha = 0 or beta = 0).
 */
export type IndistinctCause = "same-paths" | "budget" | "not-required";

export interface Unidentifiable {
  /** Every link involved, in first-seen order. */
  links: string[];
  cause: IndistinctCause;
  reason: string;
  /** beta = 2 only: the failure sets (each its links) that give one signature. */
  sets?: string[][];
}

export interface PlanReport {
  /** Chosen paths, in candidate order. */
  paths: PlannedPath[];
  /** Link -> chosen paths crossing it (every candidate link, and every link of allLinks). */
  coverage: Record<string, number>;
  /** Links of allLinks that no candidate crosses. */
  uncovered: string[];
  /** Links whose failures look alike, and why. Links no chosen path crosses appear here too. */
  unidentifiable: Unidentifiable[];
  /** The budget could not give every path minRatePerPath: paths were dropped that mattered. */
  budgetLimited: boolean;
  /** The beta the plan was made for (1 when beta = 2 was asked of too many links). */
  beta: number;
}

/** Most failure sets (units + pairs of units) planned for with beta = 2. */
export const BETA2_MAX_SETS = 1 << 16;

interface Options {
  budget: number;
  alpha: number;
  beta: number;
  minRate: number;
  maxRate: number;
  minLinkPps: number;
}

function checkOptions(o: PlanOptions): Options {
  const alpha = o.alpha ?? 2;
  const beta = o.beta ?? 1;
  const minRate = o.minRatePerPath ?? 1;
  const maxRate = o.maxRatePerPath ?? 100;
  if (!Number.isFinite(o.budgetPps) || o.budgetPps < 0) throw new RangeError(`plan: budgetPps must be a finite number >= 0, got ${o.budgetPps}`);
  if (!Number.isInteger(alpha) || alpha < 0) throw new RangeError(`plan: alpha must be an integer >= 0, got ${alpha}`);
  if (beta !== 0 && beta !== 1 && beta !== 2) throw new RangeError(`plan: beta must be 0, 1 or 2, got ${beta}`);
  if (!Number.isFinite(minRate) || minRate <= 0) throw new RangeError(`plan: minRatePerPath must be > 0, got ${minRate}`);
  if (!Number.isFinite(maxRate) || maxRate < minRate) throw new RangeError(`plan: maxRatePerPath must be >= minRatePerPath (${minRate}), got ${maxRate}`);
  const minLinkPps = o.minLinkPps ?? 25;
  if (!(minLinkPps >= 0)) throw new RangeError(`plan: minLinkPps must be a number >= 0, got ${minLinkPps}`);
  return { budget: o.budgetPps, alpha, beta, minRate, maxRate, minLinkPps };
}

/** Compressed rows: row r is idx[off[r] .. off[r+1]-1]. */
interface Rows {
  off: Int32Array;
  idx: Int32Array;
}

function rowsOf(lists: number[], off: Int32Array): Rows {
  return { off, idx: Int32Array.from(lists) };
}

/** Columns of `r` as rows: for each of n columns, the rows holding it, in increasing order. */
function transpose(r: Rows, n: number): Rows {
  const off = new Int32Array(n + 1);
  for (let i = 0; i < r.idx.length; i++) off[r.idx[i] + 1]++;
  for (let i = 0; i < n; i++) off[i + 1] += off[i];
  const fill = off.slice(0, n);
  const idx = new Int32Array(r.idx.length);
  for (let row = 0; row + 1 < r.off.length; row++) for (let i = r.off[row]; i < r.off[row + 1]; i++) idx[fill[r.idx[i]]++] = row;
  return { off, idx };
}

/** 53-bit hash of a row (buckets only; equality is always checked). */
function hashRow(r: Rows, row: number): number {
  let h1 = 0x811c9dc5 | 0;
  let h2 = (r.off[row + 1] - r.off[row]) | 0;
  for (let i = r.off[row]; i < r.off[row + 1]; i++) {
    const x = r.idx[i];
    h1 = Math.imul(h1 ^ x, 0x01000193);
    h2 = Math.imul((h2 ^ (h2 >>> 15)) + x, 0x5bd1e995);
  }
  return (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
}

function sameRow(r: Rows, a: number, b: number): boolean {
  const n = r.off[a + 1] - r.off[a];
  if (n !== r.off[b + 1] - r.off[b]) return false;
  for (let i = 0; i < n; i++) if (r.idx[r.off[a] + i] !== r.idx[r.off[b] + i]) return false;
  return true;
}

/**
 * Failure sets grouped by signature over the paths applied so far (partition refinement). Sets
 * are kept in `order` class by class; class c is order[start[c] .. end[c]-1]. Class 0 starts with
 * every set plus `extra` uncounted members (the empty failure set, which no path crosses), so it
 * stays the class of the empty signature. Applying a path moves its sets to the front of their
 * class and cuts them off as a new class, unless they are the whole class.
 */
class Refinement {
  readonly cls: Int32Array;
  private readonly order: Int32Array;
  private readonly at: Int32Array;
  private readonly start: Int32Array;
  private readonly end: Int32Array;
  private readonly moved: Int32Array;
  private readonly touched: Int32Array;
  private n = 1;

  constructor(
    sets: number,
    private readonly extra: number,
  ) {
    this.cls = new Int32Array(sets);
    this.order = new Int32Array(sets);
    this.at = new Int32Array(sets);
    for (let e = 0; e < sets; e++) this.order[e] = this.at[e] = e;
    this.start = new Int32Array(sets + 1);
    this.end = new Int32Array(sets + 1);
    this.end[0] = sets;
    this.moved = new Int32Array(sets + 1);
    this.touched = new Int32Array(sets + 1);
  }

  size(c: number): number {
    return this.end[c] - this.start[c] + (c === 0 ? this.extra : 0);
  }

  /**
   * Split the classes path p's sets (rows r) fall in. With `changed`, collect the sets whose class
   * changed in content: those that left class 0, and every member of another class that split.
   */
  apply(r: Rows, p: number, changed?: number[]): void {
    const { cls, order, at, start, moved, touched } = this;
    let nt = 0;
    for (let i = r.off[p]; i < r.off[p + 1]; i++) {
      const e = r.idx[i];
      const c = cls[e];
      if (moved[c] === 0) touched[nt++] = c;
      const j = start[c] + moved[c]++;
      const f = order[j];
      order[j] = e;
      order[at[e]] = f;
      at[f] = at[e];
      at[e] = j;
    }
    for (let t = 0; t < nt; t++) {
      const c = touched[t];
      const h = moved[c];
      moved[c] = 0;
      if (h === this.size(c)) continue;
      const k = this.n++;
      start[k] = start[c];
      this.end[k] = start[c] + h;
      start[c] += h;
      for (let j = start[k]; j < this.end[k]; j++) cls[order[j]] = k;
      // Left class 0: the new class. Another class split: both parts (now adjacent).
      if (changed !== undefined) for (let j = start[k], to = c === 0 ? this.end[k] : this.end[c]; j < to; j++) changed.push(order[j]);
    }
  }
}

/** Max-heap of (priority, tie): larger priority first, then smaller tie. */
class Heap {
  private pri: Float64Array;
  private tie: Float64Array;
  size = 0;
  constructor(capacity: number) {
    this.pri = new Float64Array(Math.max(1, capacity));
    this.tie = new Float64Array(Math.max(1, capacity));
  }
  push(pri: number, tie: number): void {
    if (this.size === this.pri.length) {
      const p2 = new Float64Array(this.size * 2);
      p2.set(this.pri);
      this.pri = p2;
      const t2 = new Float64Array(this.size * 2);
      t2.set(this.tie);
      this.tie = t2;
    }
    const { pri: P, tie: T } = this;
    let i = this.size++;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (P[up] > pri || (P[up] === pri && T[up] < tie)) break;
      P[i] = P[up];
      T[i] = T[up];
      i = up;
    }
    P[i] = pri;
    T[i] = tie;
  }
  topTie(): number {
    return this.tie[0];
  }
  pop(): void {
    const { pri: P, tie: T } = this;
    const n = --this.size;
    const pri = P[n];
    const tie = T[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (P[c + 1] > P[c] || (P[c + 1] === P[c] && T[c + 1] < T[c]))) c++;
      if (pri > P[c] || (pri === P[c] && tie < T[c])) break;
      P[i] = P[c];
      T[i] = T[c];
      i = c;
    }
    P[i] = pri;
    T[i] = tie;
  }
  /** Would (pri, tie) come out before the current top? */
  beats(pri: number, tie: number): boolean {
    return this.size === 0 || pri > this.pri[0] || (pri === this.pri[0] && tie <= this.tie[0]);
  }
}

/**
 * Paths in several max-heaps (one per group), each path in at most one: larger key first, then
 * smaller path index. Positions are tracked, so a path's key and group can change in place.
 */
class GroupHeaps {
  private readonly key: Float64Array;
  private readonly grp: Int32Array;
  private readonly pos: Int32Array;
  private readonly heaps: number[][];

  constructor(paths: number, groups: number) {
    this.key = new Float64Array(paths);
    this.grp = new Int32Array(paths).fill(-1);
    this.pos = new Int32Array(paths);
    this.heaps = Array.from({ length: groups }, () => []);
  }

  private before(p: number, q: number): boolean {
    return this.key[p] > this.key[q] || (this.key[p] === this.key[q] && p < q);
  }

  private place(h: number[], i: number, p: number): void {
    h[i] = p;
    this.pos[p] = i;
  }

  private up(h: number[], i: number): void {
    const p = h[i];
    while (i > 0) {
      const u = (i - 1) >> 1;
      if (!this.before(p, h[u])) break;
      this.place(h, i, h[u]);
      i = u;
    }
    this.place(h, i, p);
  }

  private down(h: number[], i: number): void {
    const p = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= h.length) break;
      if (c + 1 < h.length && this.before(h[c + 1], h[c])) c++;
      if (!this.before(h[c], p)) break;
      this.place(h, i, h[c]);
      i = c;
    }
    this.place(h, i, p);
  }

  remove(p: number): void {
    const g = this.grp[p];
    if (g < 0) return;
    this.grp[p] = -1;
    const h = this.heaps[g];
    const i = this.pos[p];
    const last = h.pop()!;
    if (last === p) return;
    this.place(h, i, last);
    this.up(h, i);
    this.down(h, this.pos[last]);
  }

  set(p: number, g: number, key: number): void {
    if (this.grp[p] !== g) {
      this.remove(p);
      this.grp[p] = g;
      this.key[p] = key;
      const h = this.heaps[g];
      h.push(p);
      this.up(h, h.length - 1);
      return;
    }
    this.key[p] = key;
    const h = this.heaps[g];
    this.up(h, this.pos[p]);
    this.down(h, this.pos[p]);
  }

  /** Best path of group g and its key, or -1. */
  top(g: number): number {
    const h = this.heaps[g];
    return h.length > 0 ? h[0] : -1;
  }

  keyOf(p: number): number {
    return this.key[p];
  }
}

/**
 * Signatures interned as a trie of path indices in increasing order: node 0 is the empty
 * signature, child(x, q) appends path q (greater than every path of x). Equal signatures are
 * equal node ids.
 */
class Signatures {
  private parent: number[] = [-1];
  private last: number[] = [-1];
  readonly count: number[] = [0];
  private child = new Map<number, number>();
  private stack: number[] = [];
  constructor(private readonly paths: number) {}

  nodes(): number {
    return this.parent.length;
  }

  append(x: number, q: number): number {
    const key = x * this.paths + q;
    let y = this.child.get(key);
    if (y === undefined) {
      y = this.parent.length;
      this.parent.push(x);
      this.last.push(q);
      this.count.push(0);
      this.child.set(key, y);
    }
    return y;
  }

  /** Signature x without path p (p must be in x); -1 if that signature was never interned and intern is false. */
  without(x: number, p: number, intern: boolean): number {
    const stack = this.stack;
    stack.length = 0;
    while (this.last[x] > p) {
      stack.push(this.last[x]);
      x = this.parent[x];
    }
    x = this.parent[x];
    for (let i = stack.length - 1; i >= 0; i--) {
      if (intern) x = this.append(x, stack[i]);
      else {
        const y = this.child.get(x * this.paths + stack[i]);
        if (y === undefined) return -1;
        x = y;
      }
    }
    return x;
  }
}

/** Most (unit, failure set) witness targets addWitnesses keeps a flag for, per round (1 MiB). */
const WITNESS_MAX_TARGETS = 1 << 20;
/** Most target checks a round may cost over all candidates, so the plan stays fast. */
const WITNESS_MAX_WORK = 1e8;

/**
 * Spends what the budget leaves once the plan is met: more paths, for several failures at once.
 * A witness of unit u against a set V of other units is a chosen path that crosses u and none of
 * V: whatever V does, that path shows whether u failed. With a witness for every u and every V of
 * d units, the probe matrix is d-disjunct (group testing; Du and Hwang, Combinatorial Group
 * Testing, 2000), and up to d failed units are named by their signature alone: a unit failed
 * exactly when no working path crosses it (each healthy unit has a witness against the failed
 * ones). Round d = 1, 2, ... adds, greedily, the path that gives most (u, V)
 * pairs their first witness (a coverage function: lazy greedy, Minoux 1978), until no path adds
 * one; it stops for good when the next path would take the floor (the least probe rate through
 * any unit: its chosen paths times the even rate) below minLinkPps, or the budget's minRate allows
 * no more paths. Rounds whose table or cost is too big are not run (large domains). Returns the
 * number of paths added.
 */
function addWitnesses(units: Rows, U: number, P: number, chosen: Uint8Array, cov: Int32Array, n: number, o: Options): number {
  const rateAt = (paths: number): number => Math.min(o.maxRate, o.budget / paths);
  const room = Math.min(P, Math.floor(o.budget / o.minRate + 1e-9)) - n;
  const maxD = Math.min(U - 1, 8);
  const C = binomials(U, maxD);
  const comp: number[] = [];
  const at: number[] = [];
  const inP = new Int32Array(U);
  /** Calls f with every target (u, V) that path p witnesses, for |V| = d. */
  const eachTarget = (p: number, d: number, f: (t: number) => void): void => {
    comp.length = 0;
    for (let i = units.off[p]; i < units.off[p + 1]; i++) inP[units.idx[i]] = p + 1;
    for (let v = 0; v < U; v++) if (inP[v] !== p + 1) comp.push(v);
    if (comp.length < d) return;
    at.length = d;
    for (let i = 0; i < d; i++) at[i] = i;
    for (;;) {
      let rank = 0; // colex rank of V among the d-subsets of all units
      for (let i = 0; i < d; i++) rank += C[comp[at[i]]][i + 1];
      for (let i = units.off[p]; i < units.off[p + 1]; i++) f(units.idx[i] * C[U][d] + rank);
      let i = d - 1;
      while (i >= 0 && at[i] === comp.length - d + i) i--;
      if (i < 0) return;
      at[i]++;
      for (let j = i + 1; j < d; j++) at[j] = at[j - 1] + 1;
    }
  };
  let length = 0;
  for (let p = 0; p < P; p++) length += units.off[p + 1] - units.off[p];
  let added = 0;
  for (let d = 1; d <= maxD && added < room; d++) {
    if (U * C[U][d] > WITNESS_MAX_TARGETS || length * C[U][d] > WITNESS_MAX_WORK) break;
    const done = new Uint8Array(U * C[U][d]);
    for (let p = 0; p < P; p++) if (chosen[p]) eachTarget(p, d, (t) => (done[t] = 1));
    let g = 0;
    const count = (t: number): void => void (g += 1 - done[t]);
    const gain = (p: number): number => {
      g = 0;
      eachTarget(p, d, count);
      return g;
    };
    const heap = new Heap(P);
    for (let p = 0; p < P; p++) if (!chosen[p] && gain(p) > 0) heap.push(g, p);
    while (heap.size > 0 && added < room) {
      const p = heap.topTie();
      heap.pop();
      if (gain(p) === 0) continue;
      if (!heap.beats(g, p)) {
        heap.push(g, p);
        continue;
      }
      // The floor with p: the units p crosses gain a path, and every path slows to the new rate.
      for (let i = units.off[p]; i < units.off[p + 1]; i++) cov[units.idx[i]]++;
      let low = Infinity;
      for (let u = 0; u < U; u++) low = Math.min(low, cov[u]);
      if (low * rateAt(n + added + 1) < o.minLinkPps) {
        for (let i = units.off[p]; i < units.off[p + 1]; i++) cov[units.idx[i]]--;
        return added;
      }
      chosen[p] = 1;
      eachTarget(p, d, (t) => (done[t] = 1));
      added++;
    }
  }
  return added;
}

/** C[n][k] for n <= N, k <= K (0 beyond n). */
function binomials(N: number, K: number): number[][] {
  const C: number[][] = [];
  for (let m = 0; m <= N; m++) {
    C.push(new Array<number>(K + 1).fill(0));
    C[m][0] = 1;
    for (let k = 1; k <= Math.min(m, K); k++) C[m][k] = C[m - 1][k - 1] + C[m - 1][k];
  }
  return C;
}

export function planProbes(candidates: readonly PlanCandidate[], opts: PlanOptions, allLinks: readonly string[] = []): PlanReport {
  const o = checkOptions(opts);
  const P = candidates.length;

  // Links, numbered in first-seen order; each candidate's links without repeats.
  const linkIndex = new Map<string, number>();
  const linkIds: string[] = [];
  const linkStamp: number[] = [];
  const plList: number[] = [];
  const plOff = new Int32Array(P + 1);
  for (let p = 0; p < P; p++) {
    for (const id of candidates[p].links) {
      let l = linkIndex.get(id);
      if (l === undefined) {
        l = linkIds.length;
        linkIndex.set(id, l);
        linkIds.push(id);
        linkStamp.push(0);
      }
      if (linkStamp[l] !== p + 1) {
        linkStamp[l] = p + 1;
        plList.push(l);
      }
    }
    plOff[p + 1] = plList.length;
  }
  const L = linkIds.length;
  const candOfLink = transpose(rowsOf(plList, plOff), L);

  // Units: links that the same candidates cross.
  const unitOf = new Int32Array(L);
  const unitLinks: number[][] = [];
  const buckets = new Map<number, number[]>();
  for (let l = 0; l < L; l++) {
    const h = hashRow(candOfLink, l);
    let bucket = buckets.get(h);
    if (bucket === undefined) buckets.set(h, (bucket = []));
    let u = bucket.find((v) => sameRow(candOfLink, unitLinks[v][0], l));
    if (u === undefined) {
      u = unitLinks.length;
      unitLinks.push([]);
      bucket.push(u);
    }
    unitOf[l] = u;
    unitLinks[u].push(l);
  }
  const U = unitLinks.length;
  const need = new Int32Array(U);
  for (let u = 0; u < U; u++) {
    const l = unitLinks[u][0];
    need[u] = Math.min(o.alpha, candOfLink.off[l + 1] - candOfLink.off[l]);
  }
  const puList: number[] = [];
  const puOff = new Int32Array(P + 1);
  const unitStamp = new Int32Array(U);
  for (let p = 0; p < P; p++) {
    for (let i = plOff[p]; i < plOff[p + 1]; i++) {
      const u = unitOf[plList[i]];
      if (unitStamp[u] !== p + 1) {
        unitStamp[u] = p + 1;
        puList.push(u);
      }
    }
    puOff[p + 1] = puList.length;
  }
  const units = rowsOf(puList, puOff);

  // Failure sets: each unit, and with beta = 2 each pair {u < v} of units at U + pairIndex.
  const beta = o.beta === 2 && (U * (U + 1)) / 2 > BETA2_MAX_SETS ? 1 : o.beta;
  const nSets = beta === 0 ? 0 : beta === 1 ? U : U + (U * (U - 1)) / 2;
  const pairAt = (u: number, v: number): number => U + (u * (2 * U - u - 1)) / 2 + (v - u - 1);
  let sets: Rows = units;
  if (beta === 0) sets = { off: new Int32Array(P + 1), idx: new Int32Array(0) };
  else if (beta === 2) {
    const list: number[] = [];
    const off = new Int32Array(P + 1);
    const mark = new Int32Array(U);
    for (let p = 0; p < P; p++) {
      for (let i = puOff[p]; i < puOff[p + 1]; i++) mark[puList[i]] = p + 1;
      for (let i = puOff[p]; i < puOff[p + 1]; i++) list.push(puList[i]);
      for (let i = puOff[p]; i < puOff[p + 1]; i++) {
        const u = puList[i];
        for (let v = 0; v < U; v++) {
          if (v === u || (mark[v] === p + 1 && v < u)) continue;
          list.push(u < v ? pairAt(u, v) : pairAt(v, u));
        }
      }
      off[p + 1] = list.length;
    }
    sets = rowsOf(list, off);
  }
  const emptySet = beta === 0 ? 0 : 1;

  // Greedy: add the path of largest gain in f until nothing gains (see the top of the file).
  const cov = new Int32Array(U);
  const part = new Refinement(nSets, emptySet);
  const chosen = new Uint8Array(P);
  const hit = new Int32Array(nSets + 1);
  const touched = new Int32Array(nSets + 1);
  let scoreR = 0;
  let scoreH0 = 0;
  /** Gain of path p = R + h0·(|class 0| - h0); leaves R and h0 in scoreR, scoreH0. */
  const score = (p: number): number => {
    let r = 0;
    for (let i = puOff[p]; i < puOff[p + 1]; i++) if (cov[puList[i]] < need[puList[i]]) r++;
    let h0 = 0;
    let nt = 0;
    for (let i = sets.off[p]; i < sets.off[p + 1]; i++) {
      const c = part.cls[sets.idx[i]];
      if (c === 0) h0++;
      else if (hit[c]++ === 0) touched[nt++] = c;
    }
    for (let t = 0; t < nt; t++) {
      const c = touched[t];
      r += hit[c] * (part.size(c) - hit[c]);
      hit[c] = 0;
    }
    scoreR = r;
    scoreH0 = h0;
    return r + h0 * (part.size(0) - h0);
  };
  if (beta === 2) {
    // Pairs of units make big classes besides class 0, and a choice changes the gain of most
    // paths; the input is small, so: lazy greedy over upper bounds (stale gains).
    const add = new Heap(P);
    for (let p = 0; p < P; p++) {
      const g = score(p);
      if (g > 0) add.push(g, p);
    }
    while (add.size > 0) {
      const p = add.topTie();
      add.pop();
      const g = score(p);
      if (g === 0) continue;
      if (!add.beats(g, p)) {
        add.push(g, p);
        continue;
      }
      chosen[p] = 1;
      for (let i = puOff[p]; i < puOff[p + 1]; i++) cov[puList[i]]++;
      part.apply(sets, p);
    }
  } else {
    // One heap per h0, keyed by R - h0²; a choice re-ranks only the paths it changes.
    let groups = 1;
    for (let p = 0; p < P; p++) groups = Math.max(groups, sets.off[p + 1] - sets.off[p] + 1);
    const heaps = new GroupHeaps(P, groups);
    const rank = (p: number): void => {
      if (score(p) > 0) heaps.set(p, scoreH0, scoreR - scoreH0 * scoreH0);
      else heaps.remove(p);
    };
    for (let p = 0; p < P; p++) rank(p);
    const pathsOfSet = transpose(sets, nSets);
    const pathsOfUnit = transpose(units, U);
    const mark = new Int32Array(P);
    const affected: number[] = [];
    const changed: number[] = [];
    for (let step = 1; ; step++) {
      const s0 = part.size(0);
      let best = -1;
      let bestGain = 0;
      for (let g = 0; g < groups; g++) {
        const p = heaps.top(g);
        if (p < 0) continue;
        const gain = heaps.keyOf(p) + g * s0;
        if (gain > bestGain || (gain === bestGain && p < best)) {
          best = p;
          bestGain = gain;
        }
      }
      if (best < 0) break;
      chosen[best] = 1;
      heaps.remove(best);
      affected.length = 0;
      changed.length = 0;
      const touch = (rows: Rows, row: number): void => {
        for (let i = rows.off[row]; i < rows.off[row + 1]; i++) {
          const p = rows.idx[i];
          if (mark[p] !== step && chosen[p] === 0) {
            mark[p] = step;
            affected.push(p);
          }
        }
      };
      for (let i = puOff[best]; i < puOff[best + 1]; i++) if (++cov[puList[i]] === need[puList[i]]) touch(pathsOfUnit, puList[i]);
      if (nSets > 0) part.apply(sets, best, changed);
      for (const e of changed) touch(pathsOfSet, e);
      for (const p of affected) rank(p);
    }
  }

  // Reverse delete: drop what loses nothing, then, if the budget requires, what loses least.
  const sig = new Signatures(P);
  const node = new Int32Array(nSets);
  let n = 0;
  for (let p = 0; p < P; p++) {
    if (!chosen[p]) continue;
    n++;
    for (let i = sets.off[p]; i < sets.off[p + 1]; i++) node[sets.idx[i]] = sig.append(node[sets.idx[i]], p);
  }
  for (let e = 0; e < nSets; e++) sig.count[node[e]]++;
  sig.count[0] += emptySet;
  const seen: number[] = [];
  let stamp = 0;
  const loss = (p: number): number => {
    let l = 0;
    for (let i = puOff[p]; i < puOff[p + 1]; i++) if (cov[puList[i]] <= need[puList[i]]) l++;
    stamp++;
    for (let i = sets.off[p]; i < sets.off[p + 1]; i++) {
      const s = node[sets.idx[i]];
      while (seen.length <= s) seen.push(0);
      if (seen[s] === stamp) continue;
      seen[s] = stamp;
      const t = sig.without(s, p, false);
      if (t >= 0) l += sig.count[s] * sig.count[t];
    }
    return l;
  };
  const remove = (p: number): void => {
    chosen[p] = 0;
    for (let i = puOff[p]; i < puOff[p + 1]; i++) cov[puList[i]]--;
    const moved = new Map<number, number>();
    for (let i = sets.off[p]; i < sets.off[p + 1]; i++) {
      const e = sets.idx[i];
      const s = node[e];
      let t = moved.get(s);
      if (t === undefined) moved.set(s, (t = sig.without(s, p, true)));
      sig.count[s]--;
      sig.count[t]++;
      node[e] = t;
    }
  };
  const maxPaths = Math.floor(o.budget / o.minRate + 1e-9);
  let budgetLimited = false;
  const drop = new Heap(n); // (-loss, -index): least loss first, later candidate first
  for (let p = 0; p < P; p++) if (chosen[p]) drop.push(-loss(p), -p);
  while (drop.size > 0) {
    const p = -drop.topTie();
    drop.pop();
    const l = loss(p);
    if (!drop.beats(-l, -p)) {
      drop.push(-l, -p);
      continue;
    }
    if (l > 0 && n <= maxPaths) break;
    if (l > 0) budgetLimited = true;
    remove(p);
    n--;
  }

  // Spare budget: more paths, for several failures at once. Then the rate: an even split.
  if (!budgetLimited && (o.alpha > 0 || o.beta > 0)) n += addWitnesses(units, U, P, chosen, cov, n, o);
  const rate = n > 0 ? Math.min(o.maxRate, o.budget / n) : 0;
  const paths: PlannedPath[] = [];
  for (let p = 0; p < P; p++) if (chosen[p]) paths.push({ id: candidates[p].id, rate });
  const coverage: Record<string, number> = {};
  for (let l = 0; l < L; l++) coverage[linkIds[l]] = cov[unitOf[l]];
  const uncovered: string[] = [];
  const listed = new Set<string>();
  for (const id of allLinks) {
    if (linkIndex.has(id) || listed.has(id)) continue;
    listed.add(id);
    coverage[id] = 0;
    uncovered.push(id);
  }

  const names = (ls: Iterable<number>): string[] => [...ls].map((l) => linkIds[l]);
  const linksOfUnits = (us: number[]): number[] => us.flatMap((u) => unitLinks[u]).sort((a, b) => a - b);
  const limit = `the budget (${o.budget} pps at ${o.minRate} pps or more a path) allows ${maxPaths} path${maxPaths === 1 ? "" : "s"}`;
  const unidentifiable: Unidentifiable[] = [];
  for (const ls of unitLinks)
    if (ls.length > 1)
      unidentifiable.push({
        links: names(ls),
        cause: "same-paths",
        reason:
          "every candidate path crosses all of these links or none of them (links in series with no branch between them, or the two directions of a link under out-and-back probes): no plan tells their failures apart",
      });

  // Units by signature over the chosen paths; class 0 is the empty signature.
  const final = new Refinement(U, 1);
  for (let p = 0; p < P; p++) if (chosen[p]) final.apply(units, p);
  const byClass = new Map<number, number[]>();
  for (let u = 0; u < U; u++) {
    const c = final.cls[u];
    const g = byClass.get(c);
    if (g === undefined) byClass.set(c, [u]);
    else g.push(u);
  }
  const classes = [...byClass.entries()].sort((a, b) => a[1][0] - b[1][0]);
  for (const [c, us] of classes) {
    if (c === 0)
      unidentifiable.push({
        links: names(linksOfUnits(us)),
        cause: budgetLimited ? "budget" : "not-required",
        reason: `no chosen path crosses these links, so their failure would go unseen; candidates cross them, but ${budgetLimited ? limit : "alpha = 0 and beta = 0 ask for no coverage"}`,
      });
    else if (us.length > 1)
      unidentifiable.push({
        links: names(linksOfUnits(us)),
        cause: budgetLimited ? "budget" : "not-required",
        reason: `the chosen paths cross these links alike, so their failures look the same; other candidates tell them apart, but ${budgetLimited ? limit : "beta = 0 asks for no identifiability"}`,
      });
  }

  if (beta === 2) {
    // Sets of up to two units by signature over the chosen paths, and over every candidate.
    const chosenSets = new Refinement(nSets, 1);
    const anySets = new Refinement(nSets, 1);
    for (let p = 0; p < P; p++) {
      if (chosen[p]) chosenSets.apply(sets, p);
      anySets.apply(sets, p);
    }
    const unitsOfSet = (e: number): number[] => {
      if (e < U) return [e];
      let u = 0;
      let k = e - U;
      while (k >= U - u - 1) k -= U - 1 - u++;
      return [u, u + 1 + k];
    };
    const bySig = new Map<number, number[]>();
    for (let e = 0; e < nSets; e++) {
      const c = chosenSets.cls[e];
      if (c === 0) continue; // nothing chosen crosses them: reported above
      const g = bySig.get(c);
      if (g === undefined) bySig.set(c, [e]);
      else g.push(e);
    }
    for (const es of bySig.values()) {
      if (es.length < 2 || es[es.length - 1] < U) continue; // single units alike: reported above
      const inherent = es.every((e) => anySets.cls[e] === anySets.cls[es[0]]);
      unidentifiable.push({
        links: names(linksOfUnits([...new Set(es.flatMap(unitsOfSet))])),
        cause: inherent ? "same-paths" : "budget",
        reason: inherent
          ? "these failures of up to two links make the same candidate paths fail: no plan tells them apart"
          : `these failures of up to two links make the same chosen paths fail; other candidates tell them apart, but ${limit}`,
        sets: es.map((e) => names(linksOfUnits(unitsOfSet(e)))),
      });
    }
  }

  return { paths, coverage, uncovered, unidentifiable, budgetLimited, beta };
}
