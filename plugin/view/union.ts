// The one view's observations (issue 14, Must 3; pure): every prober's counts over a window,
// turned into one list of path observations for prober/inference.ts.
//
// A stream is one sequence of probes: an out-and-back path of one prober (per family and
// class), or a one-way path from its sender to its receiver (per family). Each is counted once,
// by the one prober that can: the sender for out-and-back (what came back), the pair for
// one-way (the sender's settled count, the receiver's arrivals by sequence, shared/counts.ts
// onewayLoss()). Two probers whose paths share a link are two streams crossing it, never the
// same drops twice, and no prober's local inference result is added in: the view infers from
// the raw counts of the union.
//
// Over a window: the difference between the round at its end and the oldest round inside it,
// per stream. A prober restarted in between (another nonce), or a path re-added (its counters
// went down), counts from its restart. A one-way stream counts only over rounds in which its
// receiver reported it (before its first arrival the receiver has no row for it: a stream is
// not taken for lost because the receiver has not heard of it yet). One of which nothing ever
// arrived (a black hole from the first probe) is all lost from the first round in which its
// receiver had known of it for longer than the sender's timeout plus `skewMs` (the most two
// reports of one round can be apart), and has known it since: every probe the sender settled
// after that was sent to a receiver that would have counted it (shared/counts.ts `expecting`).
import { onewayLoss, type CountsReport, type IncomingRow } from "../../shared/counts.js";
import type { Family, Path, PathSet } from "../../shared/pathset.js";
import type { PathObservation } from "../../prober/inference.js";
import { linkElement, reverseLinks } from "../assign.js";

/** One pull round: each prober's report (those that answered, or answered recently). */
export interface Round {
  time: number;
  reports: ReadonlyMap<string, CountsReport>;
}

export interface Stream extends PathObservation {
  kind: "loop" | "oneway";
  af: Family;
  /** The probers whose counts it is: [sender] or [sender, receiver]. */
  probers: string[];
}

/** A path set's links as the view needs them: per path, the elements out and back. */
export interface LinkIndex {
  set: PathSet;
  paths: Map<string, Path>;
  /** Element -> its reverse's element (where the set has both directions). */
  reverse: Map<string, string>;
  ends: Map<string, { from: string; to: string }>;
  /** Path id -> its elements out and back (loopLinks), made once per path set: every round's streams share them, read-only. */
  loops: Map<string, Element[]>;
}

export function linkIndex(set: PathSet): LinkIndex {
  const { reverse, ends } = reverseLinks(set.paths);
  return { set, paths: new Map(set.paths.map((p) => [p.id, p])), reverse, ends, loops: new Map() };
}

type Element = string | string[];
const element = (l: Path["links"][number]): Element => (l.parallel && l.parallel.length > 1 ? [...l.parallel].sort() : l.id);

/** Out-and-back: the links out, then back over their reverses (last first), where known. */
function loopLinks(ix: LinkIndex, p: Path): Element[] {
  let out = ix.loops.get(p.id);
  if (out !== undefined) return out;
  out = p.links.map(element);
  for (let i = p.links.length - 1; i >= 0; i--) {
    const r = ix.reverse.get(linkElement(p.links[i]));
    if (r !== undefined) out.push(r.includes("|") ? r.split("|") : r);
  }
  ix.loops.set(p.id, out);
  return out;
}

/** A report's out-and-back rows by path, family and class: [done, lost]; made once per report (reports are not changed once parsed). */
const rowsByKey = new WeakMap<CountsReport, Map<string, [number, number]>>();
function rowsOf(rep: CountsReport): Map<string, [number, number]> {
  let m = rowsByKey.get(rep);
  if (m === undefined) {
    m = new Map();
    for (const [id, af, cls, done, lost] of rep.paths) m.set(`${id}\t${af}\t${cls}`, [done, lost]);
    rowsByKey.set(rep, m);
  }
  return m;
}

/** The base path of a one-way id (onewayId(): "<base>><receiver>", receiver ids have no ">"). */
export function splitOnewayId(id: string): { base: string; receiver: string } | undefined {
  const k = id.lastIndexOf(">");
  return k <= 0 ? undefined : { base: id.slice(0, k), receiver: id.slice(k + 1) };
}

/** The oldest round inside the window ending at the last one (the last itself when alone). */
export function windowStart(rounds: readonly Round[], windowMs: number): number {
  const end = rounds[rounds.length - 1].time;
  let i = rounds.length - 1;
  while (i > 0 && end - rounds[i - 1].time <= windowMs) i--;
  return i;
}

function loopStreams(ix: LinkIndex, from: Round, to: Round, out: Stream[]): void {
  for (const [prober, rep] of to.reports) {
    const old = from.reports.get(prober);
    const same = old !== undefined && old.nonce === rep.nonce;
    const before = same ? rowsOf(old) : undefined;
    for (const [id, af, cls, done, lost] of rep.paths) {
      const p = ix.paths.get(id);
      if (!p) continue; // another generation's path
      const b = before?.get(`${id}\t${af}\t${cls}`);
      const [d0, l0] = b && b[0] <= done && b[1] <= lost ? b : [0, 0];
      if (done - d0 > 0) out.push({ kind: "loop", af, probers: [prober], links: loopLinks(ix, p), sent: done - d0, lost: Math.min(done - d0, lost - l0) });
    }
  }
}

/** Per round, each receiver's `expecting` rows: how long it had known each incoming path. */
class KnownIndex {
  private byRound = new Map<Round, Map<string, number>>();
  knownMs(round: Round, receiver: string, id: string, af: Family): number | undefined {
    let m = this.byRound.get(round);
    if (!m) {
      m = new Map();
      for (const [who, rep] of round.reports) for (const [eid, eaf, ms] of rep.expecting ?? []) m.set(`${who}\t${eid}\t${eaf}`, ms);
      this.byRound.set(round, m);
    }
    return m.get(`${receiver}\t${id}\t${af}`);
  }
}

/**
 * A one-way stream its receiver has no row for at the last round: the settled probes since the
 * first round of the window at which the receiver (same start) had known it for the sender's
 * timeout + skewMs, and kept knowing it, all lost. Undefined when no round qualifies (or the
 * reports are an older prober's, without `expecting` / `timeout`).
 */
function blackHole(rounds: readonly Round[], start: number, known: KnownIndex, o: { sender: string; receiver: string; id: string; af: Family; settled: number; skewMs: number }, settledOf: (round: Round) => number | undefined): { sent: number; lost: number } | undefined {
  const to = rounds[rounds.length - 1];
  const sender = to.reports.get(o.sender);
  const receiver = to.reports.get(o.receiver);
  const knownLast = known.knownMs(to, o.receiver, o.id, o.af);
  if (!sender || sender.timeout === undefined || !receiver || knownLast === undefined) return undefined;
  for (let i = start; i < rounds.length - 1; i++) {
    const r = rounds[i];
    if (r.reports.get(o.receiver)?.nonce !== receiver.nonce) continue;
    const k = known.knownMs(r, o.receiver, o.id, o.af);
    if (k === undefined || k < sender.timeout + o.skewMs) continue;
    if (knownLast < k + (to.time - r.time) - o.skewMs) continue; // dropped and re-added since
    const s0 = settledOf(r);
    if (s0 === undefined) continue;
    const n = o.settled - s0;
    return n > 0 ? { sent: n, lost: n } : undefined;
  }
  return undefined;
}

function onewayStreams(ix: LinkIndex, rounds: readonly Round[], start: number, skewMs: number, out: Stream[]): void {
  const to = rounds[rounds.length - 1];
  // Receivers' and senders' rows indexed once per round used (rows are many, lookups more).
  const incoming = new Map<Round, Map<string, IncomingRow>>();
  const rowOf = (round: Round, receiver: string, id: string, af: Family, sender: string, nonce: number): IncomingRow | undefined => {
    let m = incoming.get(round);
    if (!m) {
      m = new Map();
      for (const [who, rep] of round.reports) for (const r of rep.incoming) m.set(`${who}\t${r[0]}\t${r[1]}\t${r[2]}\t${r[3]}`, r);
      incoming.set(round, m);
    }
    return m.get(`${receiver}\t${id}\t${af}\t${sender}\t${nonce}`);
  };
  const sent = new Map<Round, Map<string, number>>();
  const settledOf = (round: Round, sender: string, nonce: number, id: string, af: Family): number | undefined => {
    let m = sent.get(round);
    if (!m) {
      m = new Map();
      for (const [who, rep] of round.reports) for (const [oid, oaf, n] of rep.oneway) m.set(`${who}\t${rep.nonce}\t${oid}\t${oaf}`, n);
      sent.set(round, m);
    }
    return m.get(`${sender}\t${nonce}\t${id}\t${af}`);
  };
  const known = new KnownIndex();
  for (const [sender, rep] of to.reports) {
    for (const [id, af, settled] of rep.oneway) {
      const split = splitOnewayId(id);
      const p = split && ix.paths.get(split.base);
      if (!split || !p) continue;
      const last = rowOf(to, split.receiver, id, af, sender, rep.nonce);
      if (!last) {
        const hole = blackHole(rounds, start, known, { sender, receiver: split.receiver, id, af, settled, skewMs }, (r) => settledOf(r, sender, rep.nonce, id, af));
        if (hole) out.push({ kind: "oneway", af, probers: [sender, split.receiver], links: p.links.map(element), ...hole });
        continue;
      }
      // The first round of the window in which both ends reported this stream of this start.
      let first: { settled: number; row: IncomingRow } | undefined;
      for (let i = start; i < rounds.length - 1 && !first; i++) {
        const row = rowOf(rounds[i], split.receiver, id, af, sender, rep.nonce);
        const a = row && settledOf(rounds[i], sender, rep.nonce, id, af);
        if (row && a !== undefined) first = { settled: a, row };
      }
      const s0 = first?.settled ?? 0;
      const lost0 = first ? onewayLoss(first.settled, { lost: first.row[5], next: first.row[6] }) : 0;
      const n = settled - s0;
      if (n <= 0) continue;
      const lost = onewayLoss(settled, { lost: last[5], next: last[6] }) - lost0;
      out.push({ kind: "oneway", af, probers: [sender, split.receiver], links: p.links.map(element), sent: n, lost: Math.max(0, Math.min(n, lost)) });
    }
  }
}

/**
 * Every stream's counts over the window ending at the last round. `skewMs`: the most two
 * reports standing in one round can be apart in time (the view's: a pull's timeout, plus the
 * rounds a missing prober's last report stands in).
 */
export function streamsOf(ix: LinkIndex, rounds: readonly Round[], windowMs: number, skewMs = 5_000): Stream[] {
  if (rounds.length === 0) return [];
  const start = windowStart(rounds, windowMs);
  const out: Stream[] = [];
  loopStreams(ix, rounds[start], rounds[rounds.length - 1], out);
  onewayStreams(ix, rounds, start, skewMs, out);
  return out;
}
