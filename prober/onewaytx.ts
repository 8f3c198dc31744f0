// One-way sending (issue 14, Must 4): the paths of a prober's slice that end at another prober
// (path set version 5 `oneway`), pinned out by their tunnel layers, with no way back. The
// sender cannot see their fate, so there is no tracker, no up/down and no local inference:
// it only numbers its probes (from 0 per path and family for its nonce) and counts how many
// are `settled`, sent longer ago than prober.timeout, for the counts report; the receiver
// counts what arrived (onewayrx.ts) and the plugin's one view puts the two together
// (shared/counts.ts onewayLoss()).
import type { Family, OnewayPath } from "../shared/pathset.js";
import type { ProbeTemplateBase } from "./packet/template.js";

/** A one-way path's probes in one family: the next sequence and the settled count, no per-probe objects. */
export class OnewaySender {
  /** Probes sent: the next sequence. */
  sent = 0;
  /** Probes sent longer ago than the timeout: sequences 0 .. settled-1. */
  settled = 0;
  /** Send times of the sequences settled .. sent-1, by sequence mod the ring's length. */
  private sentAt: Float64Array;

  constructor(
    window: number,
    private readonly timeoutNs: number,
  ) {
    this.sentAt = new Float64Array(window);
  }

  /** The sequence of a probe sent at `nowNs`. */
  send(nowNs: number): number {
    const w = this.sentAt.length;
    // A ring too small for the rate (it is sized at 4 timeouts' worth): the oldest settles early.
    if (this.sent - this.settled >= w) this.settled++;
    const seq = this.sent++;
    this.sentAt[seq % w] = nowNs;
    return seq;
  }

  settle(nowNs: number): void {
    const w = this.sentAt.length;
    while (this.settled < this.sent && nowNs - this.sentAt[this.settled % w] >= this.timeoutNs) this.settled++;
  }

  /** Room for `window` probes unsettled (a path whose rate went up), keeping their send times. */
  grow(window: number): void {
    const old = this.sentAt;
    if (window <= old.length) return;
    this.sentAt = new Float64Array(window);
    for (let s = this.settled; s < this.sent; s++) this.sentAt[s % window] = old[s % old.length];
  }
}

/** One (one-way path, family) being sent. */
export interface OnewayEntry {
  /** `${path id}/${family}`. */
  key: string;
  /** Its scheduler position (shared with the out-and-back entries' indexes). */
  index: number;
  path: OnewayPath;
  af: Family;
  /** The receiving prober's id (the `to` label). */
  to: string;
  template: ProbeTemplateBase;
  firstHop: string;
  counter: OnewaySender;
}

/** Counters of one-way paths no longer in the set, by key: a path that comes back goes on numbering. */
export class RetiredSenders {
  private readonly map = new Map<string, OnewaySender>();
  constructor(private readonly max = 10_000) {}

  put(key: string, s: OnewaySender): void {
    this.map.delete(key);
    this.map.set(key, s);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  take(key: string): OnewaySender | undefined {
    const s = this.map.get(key);
    this.map.delete(key);
    return s;
  }
}
