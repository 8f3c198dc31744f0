// Per-path RTT histogram in a typed array: observing a reply is a bucket search and three
// additions, no label hashing (prom-client's observe() re-hashes the labels on every call,
// ~0.5 us, a quarter of the prober's per-probe budget at 150,000 probes/s). The metrics layer
// renders it as a Prometheus histogram at scrape time.

/** smokeping_prober's default: 50 us doubling, 20 buckets (up to ~26 s). */
export function rttBuckets(start = 50e-6, factor = 2, count = 20): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

export const RTT_BUCKETS: readonly number[] = Object.freeze(rttBuckets());

export class RttHistogram {
  /** counts[i]: observations <= bounds[i] and > bounds[i-1] (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[] = RTT_BUCKETS) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && seconds > b[i]) i++;
    this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }
}
