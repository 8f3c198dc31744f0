// Sliding-window loss ratio from cumulative counters: sample once per second, keep a ring of
// the last N samples, and compare the newest with the oldest. No per-probe work.

export class LossWindow {
  private readonly lost: Float64Array;
  private readonly done: Float64Array;
  private n = 0;
  private head = 0;

  constructor(readonly samples: number) {
    this.lost = new Float64Array(samples + 1);
    this.done = new Float64Array(samples + 1);
  }

  /** Record cumulative counts: lost, and everything finished (received + late + lost). */
  sample(lost: number, done: number): void {
    this.head = (this.head + 1) % this.lost.length;
    this.lost[this.head] = lost;
    this.done[this.head] = done;
    if (this.n < this.lost.length) this.n++;
  }

  /** Probes finished within the window, and how many of them were lost. */
  counts(): { done: number; lost: number } {
    if (this.n < 2) return { done: 0, lost: 0 };
    const oldest = (this.head - (this.n - 1) + this.lost.length) % this.lost.length;
    return { done: this.done[this.head] - this.done[oldest], lost: this.lost[this.head] - this.lost[oldest] };
  }

  /** Lost share of the probes finished within the window; NaN before two samples or with none finished. */
  ratio(): number {
    const { done, lost } = this.counts();
    return done > 0 ? lost / done : NaN;
  }
}
