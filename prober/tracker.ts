// Per-path probe accounting: sequence -> slot in typed arrays, no per-probe objects.
//
// Every probe sent ends as exactly one of:
//   received  back within `timeoutNs`,
//   late      back after `timeoutNs` but before it was finalized (`finalNs` after sending),
//   lost      not back by `finalNs`.
// So sent = received + late + lost + inFlight at all times, and the counters only grow.
// A reply for a probe already received is a duplicate; one for a probe already finalized as
// lost is expired; one older than the window (or for a sequence never sent) is a replay. None of
// them is counted as received.
//
// Health uses the timeout, not the final verdict: a probe missing at `timeoutNs` counts as a
// failure for the up/down state machine at once (down after `downAfter` consecutive failures,
// up after `upAfter` consecutive successes). Pure: the caller passes the clock.

const IN_FLIGHT = 1;
const MISSING = 2; // timed out, not final yet: a reply now is "late"
const DONE = 3; // received or late
const LOST = 4; // finalized as lost: a reply now is "expired"

export interface TrackerOptions {
  /** Slots per path: must exceed the probes a path sends in `finalNs`. */
  window: number;
  timeoutNs: number;
  finalNs: number;
  downAfter: number;
  upAfter: number;
}

export interface PathCounters {
  sent: number;
  received: number;
  late: number;
  lost: number;
  duplicate: number;
  replay: number;
  expired: number;
  outOfOrder: number;
}

export type Verdict = "received" | "late" | "duplicate" | "replay" | "expired";

/** State change of a path: emitted by receive()/expire() when up/down flips. */
export interface Transition {
  path: number;
  up: boolean;
}

export class PathTracker {
  readonly counters: PathCounters = { sent: 0, received: 0, late: 0, lost: 0, duplicate: 0, replay: 0, expired: 0, outOfOrder: 0 };
  /** Last RTT in seconds (NaN before the first reply). */
  lastRtt = NaN;
  /** null until the first verdict: neither up nor down yet. */
  up: boolean | null = null;
  private streakOk = 0;
  private streakBad = 0;
  private highestReceived = -1;
  private seqAt: Float64Array;
  private sentAt: Float64Array;
  private state: Uint8Array;
  /** Next sequence to check for its timeout, and next to finalize (both only grow). */
  private timeoutSeq = 0;
  private finalSeq = 0;
  private nextSeq = 0;

  constructor(
    readonly index: number,
    private o: TrackerOptions,
  ) {
    this.seqAt = new Float64Array(o.window).fill(-1);
    this.sentAt = new Float64Array(o.window);
    this.state = new Uint8Array(o.window);
  }

  /**
   * Make room for at least `window` slots (a path whose rate went up), keeping every probe's
   * state: the sequences held span fewer than the old window, so they stay apart mod a larger one.
   */
  grow(window: number): void {
    if (window <= this.o.window) return;
    const { seqAt, sentAt, state } = this;
    this.seqAt = new Float64Array(window).fill(-1);
    this.sentAt = new Float64Array(window);
    this.state = new Uint8Array(window);
    for (let s = 0; s < seqAt.length; s++) {
      if (seqAt[s] < 0) continue;
      const slot = seqAt[s] % window;
      this.seqAt[slot] = seqAt[s];
      this.sentAt[slot] = sentAt[s];
      this.state[slot] = state[s];
    }
    this.o = { ...this.o, window };
  }

  /** Allocate the next sequence number and record it as sent at `nowNs`. */
  send(nowNs: number): number {
    const seq = this.nextSeq++;
    const slot = seq % this.o.window;
    // Window too small for the rate: the probe in this slot is finalized early.
    if (this.state[slot] === IN_FLIGHT || this.state[slot] === MISSING) this.loseSlot(slot);
    this.seqAt[slot] = seq;
    this.sentAt[slot] = nowNs;
    this.state[slot] = IN_FLIGHT;
    this.counters.sent++;
    return seq;
  }

  /**
   * The send time of `seq` (just allocated by send()) moved to `nowNs`: the packet is built
   * between the two (its MAC costs microseconds), and the RTT starts when it leaves.
   */
  sentNow(seq: number, nowNs: number): void {
    const slot = seq % this.o.window;
    if (this.seqAt[slot] === seq) this.sentAt[slot] = nowNs;
  }

  /** A reply for `seq` arrived at `nowNs`; its RTT (received or late) lands in lastRtt. */
  receive(seq: number, nowNs: number, onTransition?: (t: Transition) => void): Verdict {
    const slot = seq % this.o.window;
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.nextSeq || this.seqAt[slot] !== seq) {
      this.counters.replay++;
      return "replay";
    }
    const st = this.state[slot];
    if (st === DONE) {
      this.counters.duplicate++;
      return "duplicate";
    }
    if (st === LOST) {
      this.counters.expired++;
      return "expired";
    }
    const rtt = nowNs - this.sentAt[slot];
    this.lastRtt = rtt / 1e9;
    this.state[slot] = DONE;
    if (seq < this.highestReceived) this.counters.outOfOrder++;
    else this.highestReceived = seq;
    if (st === IN_FLIGHT && rtt <= this.o.timeoutNs) {
      this.counters.received++;
      this.success(onTransition);
      return "received";
    }
    this.counters.late++;
    return "late";
  }

  /** Time out, then finalize, what is due at `nowNs`. Probes were sent in sequence order. */
  expire(nowNs: number, onTransition?: (t: Transition) => void): void {
    const { window: w, timeoutNs, finalNs } = this.o;
    for (; this.timeoutSeq < this.nextSeq; this.timeoutSeq++) {
      const slot = this.timeoutSeq % w;
      if (this.seqAt[slot] !== this.timeoutSeq) continue; // slot reused: already finalized
      if (nowNs - this.sentAt[slot] < timeoutNs) break;
      if (this.state[slot] === IN_FLIGHT) {
        this.state[slot] = MISSING;
        this.failure(onTransition);
      }
    }
    for (; this.finalSeq < this.timeoutSeq; this.finalSeq++) {
      const slot = this.finalSeq % w;
      if (this.seqAt[slot] !== this.finalSeq) continue;
      if (nowNs - this.sentAt[slot] < finalNs) break;
      if (this.state[slot] === MISSING) this.loseSlot(slot);
    }
  }

  private loseSlot(slot: number): void {
    this.counters.lost++;
    this.state[slot] = LOST;
  }

  get inFlight(): number {
    const c = this.counters;
    return c.sent - c.received - c.late - c.lost;
  }

  private success(onTransition?: (t: Transition) => void): void {
    this.streakBad = 0;
    this.streakOk++;
    if (this.up !== true && this.streakOk >= this.o.upAfter) {
      this.up = true;
      onTransition?.({ path: this.index, up: true });
    }
  }

  private failure(onTransition?: (t: Transition) => void): void {
    this.streakOk = 0;
    this.streakBad++;
    if (this.up !== false && this.streakBad >= this.o.downAfter) {
      this.up = false;
      onTransition?.({ path: this.index, up: false });
    }
  }
}
