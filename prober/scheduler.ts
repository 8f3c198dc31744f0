// When to send: every (path, class) entry gets `ratePerEntry` probes per second, spread evenly.
//
// All entries are served round robin at the aggregate rate R = entries x rate (capped by
// `maxPps`), so consecutive probes of one entry are exactly entries/R apart and the aggregate
// is a steady stream, not a burst per interval (matroschka-prober sends each path's probes in
// a burst). If the caller falls behind (a stalled event loop), the backlog beyond `maxBacklogS`
// is dropped rather than sent as a burst. Pure: the caller passes the clock.

export interface SchedulerOptions {
  ratePerEntry: number;
  maxPps: number;
  /** Seconds of backlog that may be caught up; older debt is forgiven (counted in `skipped`). */
  maxBacklogS?: number;
}

export class Scheduler {
  private entries = 0;
  private cursor = 0;
  private startNs = 0;
  private issued = 0;
  /** Probes not sent because the caller fell too far behind. */
  skipped = 0;

  constructor(private readonly o: SchedulerOptions) {}

  /** A new per-entry rate (a probe plan's): the stream continues from now at the new pace. */
  setRatePerEntry(rate: number, nowNs: number): void {
    this.o.ratePerEntry = rate;
    this.setEntries(this.entries, nowNs);
  }

  /** Aggregate probes per second actually scheduled. */
  get rate(): number {
    return Math.min(this.entries * this.o.ratePerEntry, this.o.maxPps);
  }

  /** True when maxPps forces every entry below its configured rate. */
  get capped(): boolean {
    return this.entries * this.o.ratePerEntry > this.o.maxPps;
  }

  /** Change the number of entries (a new path set) without a gap: the stream continues from now. */
  setEntries(n: number, nowNs: number): void {
    this.entries = n;
    this.cursor = n === 0 ? 0 : this.cursor % n;
    this.startNs = nowNs;
    this.issued = 0;
  }

  /** How many probes are due at `nowNs`; take them with next(). */
  due(nowNs: number): number {
    if (this.entries === 0) return 0;
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

  /** Give up `n` due probes without sending them (they still advance the round robin). */
  skip(n: number): void {
    for (let i = 0; i < n; i++) this.next();
  }

  /** The entry to probe next (round robin). */
  next(): number {
    const i = this.cursor;
    this.cursor = (this.cursor + 1) % this.entries;
    this.issued++;
    return i;
  }

  /** Nanoseconds from `nowNs` until the next probe is due (for the timer). */
  untilNextNs(nowNs: number): number {
    const rate = this.rate;
    if (rate === 0) return Infinity;
    const at = this.startNs + ((this.issued + 1) / rate) * 1e9;
    return Math.max(0, at - nowNs);
  }
}
