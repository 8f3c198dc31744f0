// One-way arrivals (issue 14, Must 4): probes other probers send this one over paths pinned out
// with no way back (payload flag O, Path Index = the path's tag). No clock is needed to count
// them: per (incoming path, family, sender nonce) a SequenceCounter tells, from the sequence
// numbers alone, what arrived and what is missing.
//
//   received   distinct sequences arrived (each once; a second copy is a duplicate, apart)
//   lost       sequences below `next` still missing `timeoutNs` after a later one arrived
//   late       sequences that arrived after being declared lost (not received: the lost
//              count stays, as the receiver reported it)
//   next       highest sequence seen + 1
//
// The sender counts `settled` (its probes sent longer ago than the timeout, sequences 0 ..
// settled-1); shared/counts.ts onewayLoss() adds the tail neither end saw (settled - next).
//
// No per-probe objects: a ring of `window` slots (sequence mod window) holds the state of the
// last `window` sequences; `base` is the lowest one not decided yet. A jump of more than the
// window decides what leaves the ring at once (missing: lost), in O(window) at most. A missing
// slot's time is when the first later sequence arrived, which never decreases with the
// sequence, so settle() walks from `base` and stops at the first one still within the timeout.
//
// A record starts at its first arrival: what came before it is not counted (next starts there,
// lost counts only gaps after it). Probes that arrived before the path was in this prober's
// incoming list (refused as unknown_path), or before it restarted, were never its to count,
// and counting them as lost would be a false loss in every puller's first window (the one
// view takes a stream's first report as its baseline, plugin/view/union.ts). The cost: a
// sender's very first probes, if lost before any arrived, are not counted by the receiver
// (nor is a black hole from the start: no record at all). For that one, each stream keeps when
// it entered the list (`sinceNs`): the counts report says how long the prober has known every
// incoming path, and the one view counts a stream of which nothing arrived once the receiver
// provably knew of it when the probes were sent (shared/counts.ts `expecting`).
import type { Family, IncomingPath } from "../shared/pathset.js";
import { RttHistogram } from "./rtthist.js";

const MISSING = 1;
const RECEIVED = 2;
const LOST = 3;
const LATE = 4;

export type ArrivalVerdict = "received" | "late" | "duplicate";

export interface SequenceCounts {
  received: number;
  lost: number;
  late: number;
  duplicate: number;
}

export class SequenceCounter implements SequenceCounts {
  received = 0;
  lost = 0;
  late = 0;
  duplicate = 0;
  /** Highest sequence seen + 1. */
  next = 0;
  /** When it last counted an arrival (ns). */
  lastNs: number;
  /** A report has shown it fully settled (a retired record may then go). */
  reported = false;
  private base = 0;
  private readonly seqAt: Float64Array;
  private readonly state: Uint8Array;
  private readonly since: Float64Array;

  constructor(
    readonly nonce: number,
    private readonly window: number,
    private readonly timeoutNs: number,
    first: number,
    nowNs: number,
  ) {
    this.seqAt = new Float64Array(window).fill(-1);
    this.state = new Uint8Array(window);
    this.since = new Float64Array(window);
    this.lastNs = nowNs;
    this.base = this.next = first;
  }

  /** Sequence `seq` arrived at `nowNs`. */
  arrive(seq: number, nowNs: number): ArrivalVerdict {
    this.lastNs = nowNs;
    const slot = seq % this.window;
    if (seq >= this.next) {
      this.advance(seq, nowNs);
      this.seqAt[slot] = seq;
      this.state[slot] = RECEIVED;
      this.received++;
      this.next = seq + 1;
      return "received";
    }
    if (this.seqAt[slot] !== seq) {
      // Older than the ring (or below where a midway record started): it did arrive, after its
      // fate was decided; counted late.
      this.late++;
      return "late";
    }
    switch (this.state[slot]) {
      case MISSING:
        this.state[slot] = RECEIVED;
        this.received++;
        return "received";
      case LOST:
        this.state[slot] = LATE;
        this.late++;
        return "late";
      default:
        this.duplicate++;
        return "duplicate";
    }
  }

  /** `next` moves to seq + 1: sequences next .. seq-1 are missing from now; what leaves the ring is decided. */
  private advance(seq: number, nowNs: number): void {
    const w = this.window;
    const n0 = this.next;
    const low = seq + 1 - w; // the lowest sequence the ring holds afterwards
    for (const end = Math.min(low, n0); this.base < end; this.base++) {
      const slot = this.base % w;
      if (this.state[slot] === MISSING) {
        this.state[slot] = LOST;
        this.lost++;
      }
    }
    let from = n0;
    if (low > n0) {
      this.lost += low - n0; // never arrived, and out of the ring before their timeout
      from = low;
      this.base = Math.max(this.base, low);
    }
    for (let k = from; k < seq; k++) {
      const slot = k % w;
      this.seqAt[slot] = k;
      this.state[slot] = MISSING;
      this.since[slot] = nowNs;
    }
  }

  /** Declare lost what has been missing for the timeout since a later sequence arrived. */
  settle(nowNs: number): void {
    const w = this.window;
    for (; this.base < this.next; this.base++) {
      const slot = this.base % w;
      if (this.state[slot] !== MISSING) continue;
      if (nowNs - this.since[slot] < this.timeoutNs) break;
      this.state[slot] = LOST;
      this.lost++;
    }
  }

  /** Nothing below `next` is undecided. */
  get settled(): boolean {
    return this.base >= this.next;
  }
}

/** One incoming path in one family: its records, one per sender nonce seen. */
export interface IncomingStream {
  path: IncomingPath;
  af: Family;
  /** The record of the sender's latest nonce. */
  current?: SequenceCounter;
  /** Earlier nonces' records, until reported settled (or idle). */
  retired: SequenceCounter[];
  /** Counts of records dropped, so that the metrics' totals never go down. */
  dropped: SequenceCounts;
  /** One-way delay (prober.clock-synced only). */
  delay: RttHistogram;
  /** When it entered the incoming list (ns; kept while the path stays). */
  sinceNs: number;
}

/** Records idle this long are dropped (bounded memory). */
export const IDLE_DROP_NS = 10 * 60e9;
/** Earlier nonces' records kept at most per stream. */
const MAX_RETIRED = 4;

const zero = (): SequenceCounts => ({ received: 0, lost: 0, late: 0, duplicate: 0 });
const addTo = (a: SequenceCounts, b: SequenceCounts): void => {
  a.received += b.received;
  a.lost += b.lost;
  a.late += b.late;
  a.duplicate += b.duplicate;
};

export interface OnewayReceiverOptions {
  timeoutNs: number;
  /** Ring slots of a path's record at `rate` probes/s. */
  window(rate: number | undefined): number;
}

/** Every incoming path of the path set in force, by tag; the records of what arrived. */
export class OnewayReceiver {
  private byTag = new Map<number, Partial<Record<Family, IncomingStream>>>();
  private list: IncomingStream[] = [];

  constructor(private readonly o: OnewayReceiverOptions) {}

  /** The path set's incoming list, at `nowNs`: kept paths (same id and family) keep their records and age. */
  setPaths(paths: readonly IncomingPath[], nowNs: number): void {
    const old = new Map(this.list.map((s) => [`${s.path.id}/${s.af}`, s]));
    const byTag = new Map<number, Partial<Record<Family, IncomingStream>>>();
    const list: IncomingStream[] = [];
    for (const path of paths) {
      const perAf = byTag.get(path.tag) ?? {};
      for (const af of path.families) {
        const was = old.get(`${path.id}/${af}`);
        const s: IncomingStream = was ? Object.assign(was, { path }) : { path, af, retired: [], dropped: zero(), delay: new RttHistogram(), sinceNs: nowNs };
        perAf[af] = s;
        list.push(s);
      }
      byTag.set(path.tag, perAf);
    }
    this.byTag = byTag;
    this.list = list;
  }

  /** The stream a one-way probe of `tag` arriving in `af` belongs to, if any. */
  stream(tag: number, af: Family): IncomingStream | undefined {
    return this.byTag.get(tag)?.[af];
  }

  /** Count sequence `seq` of sender nonce `nonce` on `s`. */
  arrive(s: IncomingStream, nonce: number, seq: number, nowNs: number): ArrivalVerdict {
    let r = s.current;
    if (r === undefined || r.nonce !== nonce) {
      r = s.retired.find((x) => x.nonce === nonce);
      if (r === undefined) {
        // A new sender start: the previous record is kept until reported settled.
        if (s.current) s.retired.push(s.current);
        while (s.retired.length > MAX_RETIRED) addTo(s.dropped, s.retired.shift()!);
        r = s.current = new SequenceCounter(nonce, this.o.window(s.path.rate), this.o.timeoutNs, seq, nowNs);
      }
    }
    return r.arrive(seq, nowNs);
  }

  /** Once a second: settle every record; drop retired ones reported settled, and idle ones. */
  settle(nowNs: number): void {
    for (const s of this.list) {
      s.current?.settle(nowNs);
      for (const r of s.retired) r.settle(nowNs);
      const gone = (r: SequenceCounter): boolean => nowNs - r.lastNs >= IDLE_DROP_NS;
      s.retired = s.retired.filter((r) => {
        const drop = (r.reported && r.settled) || gone(r);
        if (drop) addTo(s.dropped, r);
        return !drop;
      });
      if (s.current && gone(s.current)) {
        addTo(s.dropped, s.current);
        s.current = undefined;
      }
    }
  }

  streams(): readonly IncomingStream[] {
    return this.list;
  }

  /** Every record of `s`, the current one first; marks settled retired ones as reported. */
  records(s: IncomingStream): SequenceCounter[] {
    for (const r of s.retired) if (r.settled) r.reported = true;
    return s.current ? [s.current, ...s.retired] : [...s.retired];
  }

  /** The stream's counts since the prober started (records dropped included): the metrics'. */
  totals(s: IncomingStream): SequenceCounts {
    const t = { ...s.dropped };
    if (s.current) addTo(t, s.current);
    for (const r of s.retired) addTo(t, r);
    return t;
  }
}
