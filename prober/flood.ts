// Who fills the reply socket: the prober itself, or a flood of datagrams it rejects.
//
// The kernel drops datagrams at the prober's UDP socket when its receive buffer is full
// (/proc/net/udp's drop counter, sockdrops.ts). Two things fill it:
//   self    the prober sends faster than it can also read its replies: slowing down helps, and
//           the prober does (Prober.watchReplySocket);
//   flood   someone sends datagrams to the probe port that the prober reads and rejects (forged
//           "LSPR" payloads, replays, anything): slowing down cannot help (the prober's replies
//           are the smaller share of what arrives), and it used to throttle probing to 100/s.
// The kernel drops without looking, so a full buffer loses replies and junk in proportion to
// what arrives; the ratio of rejected to accepted datagrams the prober reads is the ratio at
// which they arrived, whatever the drops. So once a second: a second in which the prober read
// at least FLOOD_MIN_PPS rejected datagrams per second, and more rejected than accepted ones,
// is a flood second. A flood starts with the first such second and ends after FLOOD_QUIET_S
// seconds without one; while it lasts, drops are the flood's.
//
// A probe whose reply could have arrived while the socket was dropping during a flood (a risk
// second) is not known to be lost by the network: the prober counts it unknown, not lost, and
// holds path-down verdicts over those seconds (Prober). Without a drop counter (not Linux) no
// second is a risk second: every probe not back counts as lost, as before.
//
// Pure: the caller passes running totals and the clock (nanoseconds).

/**
 * Rejected datagrams per second from which a second can be a flood. A healthy reply stream
 * rejects next to nothing (a duplicate, a late reply of an earlier run after a restart); the
 * reply socket reads 100,000 forged datagrams a second without a drop once they are rejected
 * before the MAC (test/lab/flood.test.ts), so fewer than a thousand cannot fill it; issue 11's
 * flood was 100,000/s.
 */
export const FLOOD_MIN_PPS = 1000;
/** Consecutive seconds without a flood second that end a flood. */
export const FLOOD_QUIET_S = 3;

export type FloodEvent =
  | {
      kind: "start";
      /** Rejected datagrams read per second, in the second that started it. */
      rejectedPps: number;
      acceptedPps: number;
      /** Datagrams the kernel dropped at the socket per second then (NaN: not known). */
      dropsPps: number;
    }
  | {
      kind: "end";
      seconds: number;
      /** Rejected datagrams read during the flood, and the highest rate in any one second. */
      rejected: number;
      peakPps: number;
      /** Datagrams the kernel dropped at the socket during the flood. */
      drops: number;
      /** Seconds in which the socket dropped during the flood. */
      riskSeconds: number;
    };

export interface FloodSecond {
  /** The flood is on (it started, or it has not been quiet for FLOOD_QUIET_S yet). */
  flood: boolean;
  /** The socket dropped datagrams in this second and the flood is on. */
  risk: boolean;
  event?: FloodEvent;
}

export class FloodDetector {
  /** A flood is on. */
  active = false;
  /** End of the last risk second (-Infinity: none yet). */
  lastRiskEndNs = -Infinity;
  private last: { ns: number; rejected: number; accepted: number } | undefined;
  private quiet = 0;
  private current = { startNs: 0, rejected: 0, peakPps: 0, drops: 0, riskSeconds: 0 };

  /**
   * Between two seconds: is a flood on, or do the counts since the last second already say
   * one is starting? Cheap; for decisions that cannot wait for the next second (a path going
   * down now). `rejected` and `accepted` are running totals, as for second().
   */
  suspected(nowNs: number, rejected: number, accepted: number): boolean {
    if (this.active) return true;
    if (this.last === undefined) return false;
    const j = rejected - this.last.rejected;
    // At least 10 ms of counts, so that the first datagrams after a second do not decide.
    const seconds = Math.max(0.01, (nowNs - this.last.ns) / 1e9);
    return j > accepted - this.last.accepted && j >= FLOOD_MIN_PPS * seconds;
  }

  /**
   * Once a second: running totals of rejected and accepted datagrams, and the datagrams the
   * kernel dropped at the socket since the last call (undefined: not known). The first call
   * only sets the baseline.
   */
  second(nowNs: number, rejected: number, accepted: number, dropped: number | undefined): FloodSecond {
    const last = this.last;
    this.last = { ns: nowNs, rejected, accepted };
    if (last === undefined || nowNs <= last.ns) return { flood: this.active, risk: false };
    const seconds = (nowNs - last.ns) / 1e9;
    const j = rejected - last.rejected;
    const a = accepted - last.accepted;
    const floodSecond = j > a && j >= FLOOD_MIN_PPS * seconds;
    let event: FloodEvent | undefined;
    if (floodSecond) {
      this.quiet = 0;
      if (!this.active) {
        this.active = true;
        this.current = { startNs: last.ns, rejected: 0, peakPps: 0, drops: 0, riskSeconds: 0 };
        event = { kind: "start", rejectedPps: j / seconds, acceptedPps: a / seconds, dropsPps: dropped === undefined ? NaN : dropped / seconds };
      }
    }
    let risk = false;
    if (this.active) {
      const c = this.current;
      c.rejected += j;
      c.peakPps = Math.max(c.peakPps, j / seconds);
      c.drops += dropped ?? 0;
      risk = dropped !== undefined && dropped > 0;
      if (risk) {
        c.riskSeconds++;
        this.lastRiskEndNs = nowNs;
      }
      if (!floodSecond && ++this.quiet >= FLOOD_QUIET_S) {
        this.active = false;
        event = { kind: "end", seconds: (nowNs - c.startNs) / 1e9, rejected: c.rejected, peakPps: c.peakPps, drops: c.drops, riskSeconds: c.riskSeconds };
      }
    }
    return { flood: this.active || event?.kind === "end", risk, event };
  }
}
