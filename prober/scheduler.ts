// When to send: every (path, class) entry gets its own rate (probes per second), spread evenly.
//
// The aggregate is a steady stream at R = sum of the entries' rates (capped by `maxPps`): probe
// k is due at start + k/R, never a burst per interval (matroschka-prober sends each path's
// probes in a burst). Which entry each slot goes to is stride scheduling (Waldspurger & Weihl
// 1995): every entry has a pass, in virtual time (seconds at the uncapped rates), that advances
// by its stride 1/rate each time it is served; a slot goes to the smallest pass (ties to the
// lower index). So an entry's long-run share is its rate over the sum, consecutive probes of
// one entry are exactly 1/rate apart in virtual time, and equal rates are plain round robin in
// index order. In real time the gap is 1/rate (scaled by the cap) give or take less than one
// aggregate slot per other distinct rate: entries that start together at one rate are spread
// evenly over their stride, so each rate is one evenly spaced substream, and the substreams
// only jostle each other where their slots fall close (1:2:5 stays within one slot). When
// `maxPps` caps the stream, every entry is slowed by the same factor. If the caller falls behind
// (a stalled event loop), the backlog beyond `maxBacklogS` is dropped rather than sent as a
// burst. Pure: the caller passes the clock.

export interface SchedulerOptions {
  maxPps: number;
  /** Seconds of backlog that may be caught up; older debt is forgiven (counted in `skipped`). */
  maxBacklogS?: number;
}

export class Scheduler {
  /** Per position: rate (0: idle, never served), stride, and pass = phase + served * stride. */
  private rates = new Float64Array(0);
  private strides = new Float64Array(0);
  private phases = new Float64Array(0);
  private served = new Float64Array(0);
  private passes = new Float64Array(0);
  /** Binary min-heap of the active positions, by (pass, position). */
  private heap = new Int32Array(0);
  private size = 0;
  private sum = 0;
  /** Virtual time: vtBase + servedSince / sum (each slot advances it by 1/sum). */
  private vtBase = 0;
  private servedSince = 0;
  private startNs = 0;
  private issued = 0;
  /** Probes not sent because the caller fell too far behind. */
  skipped = 0;

  constructor(private readonly o: SchedulerOptions) {}

  /** Aggregate probes per second actually scheduled. */
  get rate(): number {
    return Math.min(this.sum, this.o.maxPps);
  }

  /** What the entries ask for together, before any cap. */
  get demand(): number {
    return this.sum;
  }

  /** True when maxPps forces every entry below its rate (all by the same factor). */
  get capped(): boolean {
    return this.sum > this.o.maxPps;
  }

  /** Number of entries being served (rate > 0). */
  get entries(): number {
    return this.size;
  }

  private vt(): number {
    return this.sum > 0 ? this.vtBase + this.servedSince / this.sum : this.vtBase;
  }

  /**
   * The entries' rates, by position (a rate of 0, or not a positive finite number, leaves the
   * position idle). The aggregate stream continues from `nowNs` without a gap. A position that
   * keeps a rate keeps its place in the rotation (a changed rate rescales what it has left to
   * wait); a new one, or one listed in `fresh`, starts at the current virtual time, half a
   * stride out (so new entries interleave instead of all going first, and none catches up).
   */
  setEntries(rates: ArrayLike<number>, nowNs: number, fresh?: ReadonlySet<number>): void {
    const vt = this.vt();
    const elapsed = this.slotElapsed(nowNs);
    const n = rates.length;
    const old = { rates: this.rates, phases: this.phases, served: this.served, passes: this.passes };
    this.rates = new Float64Array(n);
    this.strides = new Float64Array(n);
    this.phases = new Float64Array(n);
    this.served = new Float64Array(n);
    this.passes = new Float64Array(n);
    this.heap = new Int32Array(n);
    this.size = 0;
    let sum = 0;
    const starting = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const r = rates[i];
      if (!(r > 0 && Number.isFinite(r))) continue;
      const stride = 1 / r;
      this.rates[i] = r;
      this.strides[i] = stride;
      const was = i < old.rates.length ? old.rates[i] : 0;
      if (was === r && !fresh?.has(i)) {
        this.phases[i] = old.phases[i];
        this.served[i] = old.served[i];
      } else if (was > 0 && !fresh?.has(i)) {
        // Same entry, new rate: what it had left to wait, in its new stride.
        this.phases[i] = vt + (old.passes[i] - vt) * (was / r);
      } else {
        const group = starting.get(r);
        if (group) group.push(i);
        else starting.set(r, [i]);
        continue;
      }
      this.passes[i] = this.phases[i] + this.served[i] * stride;
      this.heap[this.size++] = i;
      sum += r;
    }
    // Entries that start: those of one rate spread evenly over their first stride, in position
    // order (so equal rates are round robin, and a group of them is not one clump of slots).
    for (const [r, group] of starting) {
      const stride = 1 / r;
      group.forEach((i, j) => {
        this.phases[i] = this.passes[i] = vt + (stride * (j + 0.5)) / group.length;
        this.heap[this.size++] = i;
        sum += r;
      });
    }
    for (let k = (this.size >> 1) - 1; k >= 0; k--) this.siftDown(k);
    this.sum = sum;
    this.vtBase = vt;
    this.servedSince = 0;
    this.restart(nowNs, elapsed);
  }

  /** A new cap on the aggregate (the prober's own limit under load): the stream goes on from now. */
  setMaxPps(maxPps: number, nowNs: number): void {
    const elapsed = this.slotElapsed(nowNs);
    this.o.maxPps = maxPps;
    this.restart(nowNs, elapsed);
  }

  /** The part of the current aggregate slot already elapsed, carried over a change (at most one
   *  slot: a caller behind its schedule gets one probe at once, not its backlog). */
  private slotElapsed(nowNs: number): number {
    const rate = this.rate;
    return rate > 0 && this.size > 0 ? Math.min(1, Math.max(0, ((nowNs - this.startNs) / 1e9) * rate - this.issued)) : 0;
  }

  private restart(nowNs: number, elapsed: number): void {
    const rate = this.rate;
    this.startNs = rate > 0 ? nowNs - (elapsed / rate) * 1e9 : nowNs;
    this.issued = 0;
  }

  /** How many probes are due at `nowNs`; take them with next(). */
  due(nowNs: number): number {
    if (this.size === 0) return 0;
    const rate = this.rate;
    const owed = Math.floor(((nowNs - this.startNs) / 1e9) * rate) - this.issued;
    const cap = Math.max(1, Math.ceil(rate * (this.o.maxBacklogS ?? 0.05)));
    if (owed > cap) {
      this.skipped += owed - cap;
      this.issued += owed - cap;
      return cap;
    }
    return Math.max(0, owed);
  }

  /** Give up `n` due probes without sending them (they still advance the rotation). */
  skip(n: number): void {
    for (let i = 0; i < n; i++) this.next();
  }

  /** The entry (position) to probe next: the smallest pass. */
  next(): number {
    if (this.size === 0) throw new RangeError("scheduler: no entries");
    const i = this.heap[0];
    this.served[i]++;
    this.passes[i] = this.phases[i] + this.served[i] * this.strides[i];
    this.siftDown(0);
    this.issued++;
    this.servedSince++;
    return i;
  }

  /** Nanoseconds from `nowNs` until the next probe is due (for the timer). */
  untilNextNs(nowNs: number): number {
    const rate = this.rate;
    if (rate === 0 || this.size === 0) return Infinity;
    const at = this.startNs + ((this.issued + 1) / rate) * 1e9;
    return Math.max(0, at - nowNs);
  }

  private less(a: number, b: number): boolean {
    const pa = this.passes[a];
    const pb = this.passes[b];
    return pa < pb || (pa === pb && a < b);
  }

  private siftDown(k: number): void {
    const h = this.heap;
    const n = this.size;
    const x = h[k];
    for (;;) {
      let c = 2 * k + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(h[c + 1], h[c])) c++;
      if (!this.less(h[c], x)) break;
      h[k] = h[c];
      k = c;
    }
    h[k] = x;
  }
}
