// Pinned trace: where along a path do the probes stop?
//
// A path's probe is a stack of n tunnel layers out (one per link, each addressed to the router at
// its far end) and, in `reverse` mode, n back over the same links. A trace sends truncated
// stacks: for k = 1..n, out over the first k links to hops[k] and back the same way (greReverse's
// last k entries: links k-1 .. 0), `probesPerHop` probes each, interleaved (probe i of every k
// before probe i+1 of any), and reports per k whether the probes come back, their loss and RTT,
// the first k where none come back (`stopsAt`) and the first k that loses significantly more
// than the hops before it (`firstLoss`). Hop k is the link hops[k-1] -> hops[k] (out and back,
// so its way back too) and hops[k]'s decapsulation: the failing link, named directly, as a
// second opinion beside the inference. In `routed` mode the stack is the first k forward layers
// and hops[k] routes the probe home.
//
//   path r1>r2>r4>r6, gre = [r2@r1r2, r4@r2r4, r6@r4r6], greReverse = [r4@r4r6, r2@r2r4, r1@r1r2]
//   k=1  r2@r1r2 r1@r1r2                               (r1 -> r2 and back)
//   k=2  r2@r1r2 r4@r2r4 r2@r2r4 r1@r1r2               (... r2 -> r4 and back)
//   k=3  the whole probe
//
// Identity: a trace probe carries a path index from TRACE_INDEX_BASE up (slot << 8 | k), a range
// the regular entries (small array indexes) never reach; Prober.onReply hands such payloads
// here, so trace replies never touch a tracker, a loss window or the inference.
//
// Budget: traces share one pace (`pps`, probes per second over all running traces), which the
// prober takes off the regular scheduler's cap while a trace runs (prober.ts applySendCap), so
// the two together stay within max-pps. At most one trace runs per path, at most `maxRunning`
// at once, others wait in a bounded queue; automatic traces (a path down, a path across a
// suspect link) of one path come at most once per `autoCooldownNs`.
//
// Not decapsulating (judgeDecap): a router that every trace reaching it stops right before, from
// at least two directions (distinct addresses targeted on it), that no working path or trace
// crosses, while other paths work, is reported as not decapsulating (a configuration problem)
// rather than as broken links.
//
// The pure parts (truncatedStack, analyzeTrace, judgeDecap, formatTrace) take values and return
// values; Tracer keeps the running traces and is driven by the prober with a clock and a send
// function (no timers, no sockets).
import type { GreHop, Path } from "../shared/pathset.js";
import { binomialUpperTail } from "./inference.js";
import {
  PAYLOAD_FLAG_MAC,
  PAYLOAD_HEADER_LENGTH,
  PAYLOAD_MAGIC,
  PAYLOAD_OFF_FLAGS,
  PAYLOAD_OFF_MAGIC,
  PAYLOAD_OFF_NONCE,
  PAYLOAD_OFF_PATH_INDEX,
  PAYLOAD_OFF_SEQ,
  PAYLOAD_OFF_VERSION,
  PAYLOAD_VERSION,
  type PayloadMac,
} from "./packet/payload.js";
import type { ProbeTemplateBase, AddressFamily } from "./packet/template.js";

/** What a trace sends: any probe template (a tunnel stack, or an SRv6 / SR-MPLS one). */
export type TraceTemplate = Pick<ProbeTemplateBase, "family" | "buffer" | "patch">;
import { IPV6_OFF_DST, bytesToIpv6 } from "./packet/ipv6.js";

// ---- identity ----

/** Path indexes from here on are trace probes': TRACE_INDEX_BASE + slot * 256 + k. */
export const TRACE_INDEX_BASE = 0xf0000000;
/** Hops a trace handles (k fits the index's low byte). */
export const TRACE_MAX_HOPS = 255;
/** Trace slots before the ids wrap (2^20: slot * 256 + 255 stays below 2^28). */
export const TRACE_SLOTS = 1 << 20;

export const traceIndex = (slot: number, k: number): number => TRACE_INDEX_BASE + (slot % TRACE_SLOTS) * 256 + k;

/**
 * True when a datagram is a trace probe's reply (a probe payload whose path index is in the
 * trace range); whether it is a good one is Tracer.onReply's to say. Plain reads, no allocation.
 */
export function isTracePayload(buf: Buffer): boolean {
  return (
    buf.length >= PAYLOAD_HEADER_LENGTH &&
    buf.readUInt32BE(PAYLOAD_OFF_MAGIC) === PAYLOAD_MAGIC &&
    buf[PAYLOAD_OFF_VERSION] === PAYLOAD_VERSION &&
    buf.readUInt32BE(PAYLOAD_OFF_PATH_INDEX) >= TRACE_INDEX_BASE
  );
}

// ---- the truncated stacks ----

export type TraceReturn = "reverse" | "routed";

/**
 * The layers of the probe that goes out over the first k links of `path` and, in `reverse`, back
 * over the same links (the last k entries of greReverse: link k-1's near end first, link 0's
 * last); in `routed` only the first k forward layers. Throws a RangeError for k outside 1..n or
 * a reverse path without its way back.
 */
export function truncatedStack(path: Pick<Path, "gre" | "greReverse">, k: number, returns: TraceReturn): GreHop[] {
  const n = path.gre.length;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`trace: hop ${k} is not 1..${n}`);
  const out = path.gre.slice(0, k);
  if (returns === "routed") return out;
  if (path.greReverse.length !== n) throw new RangeError(`trace: the path has ${n} links out and ${path.greReverse.length} back: no pinned way back`);
  return [...out, ...path.greReverse.slice(n - k)];
}

/** One hop of a trace: link k, from hops[k-1] to hops[k]. */
export interface TraceHopInfo {
  k: number;
  from: string;
  to: string;
  link: string;
  /** Where the layer that crosses the link is addressed (on `to`). */
  address: string;
}

/** The hops of a path as a trace reports them (names, else node ids). */
export function traceHops(path: Pick<Path, "hops" | "links" | "gre">): TraceHopInfo[] {
  return path.links.map((l, i) => ({
    k: i + 1,
    from: path.hops[i]?.name ?? l.from,
    to: path.hops[i + 1]?.name ?? l.to,
    link: l.id,
    address: path.gre[i]?.address ?? "",
  }));
}

// ---- the verdict ----

export interface HopCounts {
  sent: number;
  received: number;
}

export interface AnalyzeOptions {
  /** A hop must lose at least this share to be lossy (prober.lossy-above). */
  lossyAbove: number;
  /** Loss assumed before the first hop (a healthy network's background); default 0.001. */
  background?: number;
  /** Significance of the binomial test; default 0.01. */
  alpha?: number;
}

export interface TraceVerdict {
  /** Per hop (index k-1): loses significantly more than the hops before it. */
  lossy: boolean[];
  /** First k with probes sent and none back; null when every hop answers. */
  stopsAt: number | null;
  /** First lossy k (a stop is lossy too); null when none. */
  firstLoss: number | null;
}

/**
 * Hop k is lossy when its loss is at least `lossyAbove` and an exact binomial test says the loss
 * of the hops before it (at least `background`) does not explain its count: P(X >= lost) <
 * alpha for X ~ Bin(sent, p0), p0 = max(background, the highest loss among hops 1..k-1). So the
 * first lossy hop is where the loss starts, and the hops after it (which cross it again) are not
 * lossy unless they add loss of their own.
 */
export function analyzeTrace(hops: readonly HopCounts[], o: AnalyzeOptions): TraceVerdict {
  const alpha = o.alpha ?? 0.01;
  let before = o.background ?? 0.001;
  const lossy: boolean[] = [];
  let stopsAt: number | null = null;
  let firstLoss: number | null = null;
  hops.forEach((h, i) => {
    const lost = Math.max(0, h.sent - h.received);
    const loss = h.sent > 0 ? lost / h.sent : 0;
    const bad = h.sent > 0 && loss >= o.lossyAbove && binomialUpperTail(lost, h.sent, Math.min(1, before)) < alpha;
    lossy.push(bad);
    if (bad && firstLoss === null) firstLoss = i + 1;
    if (h.sent > 0 && h.received === 0 && stopsAt === null) stopsAt = i + 1;
    if (h.sent > 0) before = Math.max(before, loss);
  });
  return { lossy, stopsAt, firstLoss };
}

/** Nearest-rank quantile of sorted values; null when empty. */
function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export type TraceTrigger = "down" | "suspect" | "demand";
export const TRACE_TRIGGERS: readonly TraceTrigger[] = ["down", "suspect", "demand"];

export interface TraceHopResult extends TraceHopInfo {
  sent: number;
  received: number;
  lost: number;
  /** lost / sent; null when nothing was sent. */
  lossRatio: number | null;
  rttMinSeconds: number | null;
  rttP50Seconds: number | null;
  rttMaxSeconds: number | null;
  lossy: boolean;
}

/** A finished trace: what /paths, the log, the metrics, the CLI and the demo show. */
export interface TraceResult {
  id: number;
  /** The entry's key (path id / class / family). */
  key: string;
  path: string;
  class: string;
  /** The family of the traced entry (its probes'). */
  af: AddressFamily;
  /** The path's hops, "r1>r2>r4>r6". */
  hops: string;
  trigger: TraceTrigger;
  returns: TraceReturn;
  /** ISO 8601 wall-clock time it finished. */
  finishedAt: string;
  durationSeconds: number;
  probesPerHop: number;
  perHop: TraceHopResult[];
  stopsAt: number | null;
  firstLoss: number | null;
  /** The first failing hop (firstLoss): its link, from -> to; null when every hop answers. */
  failing: { k: number; from: string; to: string; link: string } | null;
  /** One sentence: where it fails, or that it does not. */
  summary: string;
}

const pctText = (r: number | null): string => (r === null ? "-" : `${(r * 100).toFixed(1)}%`);
const msText = (s: number | null): string => (s === null ? "-" : `${(s * 1000).toFixed(2)} ms`);

/** The sentence a trace result says (the log's message, the CLI's and the demo's last line). */
export function traceSummary(r: Pick<TraceResult, "hops" | "perHop" | "stopsAt" | "firstLoss" | "returns">): string {
  const back = r.returns === "reverse" ? " and back" : "";
  if (r.firstLoss === null) return `trace ${r.hops}: every hop answers (out to hop k${back}, k = 1..${r.perHop.length})`;
  const h = r.perHop[r.firstLoss - 1];
  const where = `hop ${h.k}, ${h.from} -> ${h.to}`;
  if (r.stopsAt === r.firstLoss) return `trace ${r.hops}: probes stop at ${where} (none back; hop ${h.k - 1 || "0, the prober"} answers): the link ${h.from} -> ${h.to}${r.returns === "reverse" ? " (or its way back)" : ""}, or ${h.to} not decapsulating`;
  return `trace ${r.hops}: loss starts at ${where} (${pctText(h.lossRatio)} lost; the hops before it ${h.k === 1 ? "are the prober's own" : "lose less"}): the link ${h.from} -> ${h.to}${r.returns === "reverse" ? " (or its way back)" : ""}`;
}

/** A trace result as text lines: a table of the hops, then its summary. */
export function formatTrace(r: TraceResult): string[] {
  const lines = [
    `trace of ${r.hops} (path ${r.path}, class ${r.class}; ${r.trigger === "demand" ? "on demand" : r.trigger === "down" ? "the path went down" : "the path crosses a suspect link"}; ${r.probesPerHop} probes a hop, out to hop k${r.returns === "reverse" ? " and back the same way" : ", routed back"}; ${r.finishedAt})`,
    `${"HOP".padEnd(4)} ${"LINK".padEnd(18)} ${"SENT".padStart(5)} ${"BACK".padStart(5)} ${"LOSS".padStart(7)} ${"RTT min".padStart(10)} ${"RTT p50".padStart(10)} ${"RTT max".padStart(10)}`,
  ];
  for (const h of r.perHop) {
    const mark = h.k === r.stopsAt ? "  <- stops" : h.k === r.firstLoss ? "  <- loss starts" : "";
    lines.push(
      `${String(h.k).padEnd(4)} ${`${h.from} -> ${h.to}`.padEnd(18)} ${String(h.sent).padStart(5)} ${String(h.received).padStart(5)} ${pctText(h.lossRatio).padStart(7)} ${msText(h.rttMinSeconds).padStart(10)} ${msText(h.rttP50Seconds).padStart(10)} ${msText(h.rttMaxSeconds).padStart(10)}${mark}`,
    );
  }
  lines.push(r.summary);
  return lines;
}

// ---- not-decapsulating routers ----

/** What one path says about its routers: its regular probes' state and its last trace. */
export interface DecapPathEvidence {
  /** Router names, hops[0] (the source) .. hops[n]. */
  hops: readonly string[];
  /** Forward addresses: addresses[k-1] is where the layer crossing link k is sent (on hops[k]). */
  addresses: readonly string[];
  /** The path's regular probes: true up, false down, null not known. */
  up: boolean | null;
  /** Its last trace's replies per hop (index k-1), if it has one. */
  trace?: readonly HopCounts[];
}

export interface RouterDecap {
  router: string;
  /** False: reported as not decapsulating. */
  ok: boolean;
  /** Addresses of it that traces reached and got nothing back from. */
  failingAddresses: string[];
  /** The routers those traces came from. */
  from: string[];
}

/**
 * Which routers decapsulate. A working path (up), or a trace hop with replies, shows that every
 * router up to it decapsulates. A trace that reaches hops[k] (hop k-1 answers, or k = 1) and
 * gets nothing back from hop k is a failed arrival at hops[k], through addresses[k-1]. A router
 * is not decapsulating when its failed arrivals cover at least two of its addresses (two
 * directions: one alone cannot tell its link from it), nothing shows it decapsulating, and some
 * probed path works (the network around it carries traffic: not the prober's own outage). Every
 * router named in the evidence is listed, ok unless so judged. Sorted by name.
 */
export function judgeDecap(paths: readonly DecapPathEvidence[]): RouterDecap[] {
  const works = new Set<string>();
  const fails = new Map<string, { addresses: Set<string>; from: Set<string> }>();
  const all = new Set<string>();
  let anyUp = false;
  for (const p of paths) {
    for (const h of p.hops) all.add(h);
    if (p.up === true) {
      anyUp = true;
      for (const h of p.hops) works.add(h);
    }
    const t = p.trace;
    if (!t) continue;
    for (let k = 1; k <= t.length && k < p.hops.length; k++) {
      const h = t[k - 1];
      if (h.sent === 0) break;
      if (h.received > 0) {
        for (let j = 0; j <= k; j++) works.add(p.hops[j]);
        continue;
      }
      const r = p.hops[k];
      const f = fails.get(r) ?? { addresses: new Set<string>(), from: new Set<string>() };
      f.addresses.add(p.addresses[k - 1] ?? `${p.hops[k - 1]}->${r}`);
      f.from.add(p.hops[k - 1]);
      fails.set(r, f);
      break; // beyond a stop nothing is reached
    }
  }
  return [...all].sort().map((router) => {
    const f = fails.get(router);
    const bad = anyUp && f !== undefined && f.addresses.size >= 2 && !works.has(router);
    return { router, ok: !bad, failingAddresses: f ? [...f.addresses].sort() : [], from: f ? [...f.from].sort() : [] };
  });
}

// ---- the running traces ----

export interface TracerOptions {
  /** Probes per hop (k). */
  probesPerHop: number;
  /** Probes per second over all running traces. */
  pps: number;
  /** A reply later than this after its probe's sending is not waited for (ns). */
  waitNs: number;
  /** Traces at once; more wait in the queue. */
  maxRunning: number;
  /** Traces waiting at most; more requests are refused (busy). */
  maxQueued: number;
  /** An automatic trace of a path comes at most this often (ns). */
  autoCooldownNs: number;
  lossyAbove: number;
}

/** Defaults (the prober's): 100 probes a hop, 200 probes/s for all traces, 4 at once, 16 waiting, one automatic trace a path a minute. */
export const TRACE_DEFAULTS = { probesPerHop: 100, pps: 200, maxRunning: 4, maxQueued: 16, autoCooldownS: 60 } as const;

/** What a trace needs of its path, built by the prober when the trace starts. */
export interface TraceTarget {
  key: string;
  path: string;
  class: string;
  af: AddressFamily;
  hops: string;
  returns: TraceReturn;
  hopInfo: TraceHopInfo[];
  /** Builds the probe of hop k (1..n) with this path index. */
  template(k: number, pathIndex: number): TraceTemplate;
}

export type TraceRequestState = "started" | "queued" | "running" | "cooldown" | "busy";

/** Reasons a trace reply is rejected (the prober's reject reasons). */
export type TraceReject = "other_run" | "unknown_path" | "bad_mac" | "replay" | "duplicate";

interface Run {
  id: number;
  slot: number;
  target: TraceTarget;
  trigger: TraceTrigger;
  n: number;
  templates: TraceTemplate[];
  firstHops: string[];
  /** Per probe j = i * n + (k - 1): send time (ns) and RTT (NaN: not back). */
  sentAt: Float64Array;
  rtt: Float64Array;
  next: number;
  startedNs: number;
  lastSentNs: number;
  back: number;
}

interface Waiting {
  id: number;
  target: TraceTarget;
  trigger: TraceTrigger;
}

export class Tracer {
  private readonly running = new Map<number, Run>();
  private readonly queue: Waiting[] = [];
  private readonly lastAuto = new Map<string, number>();
  private readonly results = new Map<string, TraceResult>();
  private readonly finished = new Map<number, TraceResult>();
  private nextId = 1;
  private rr = 0;
  /** Pace: probes issued since paceStartNs. */
  private paceStartNs = 0;
  private issued = 0;
  readonly started: Record<TraceTrigger, number> = { down: 0, suspect: 0, demand: 0 };
  /** Probes sent by traces, in all. */
  sent = 0;

  constructor(
    private readonly o: TracerOptions,
    private readonly nonce: number,
    private readonly mac?: PayloadMac,
    private readonly wallClock: () => number = Date.now,
  ) {}

  /** Probes per second traces take now (0 when none runs). */
  get pps(): number {
    return this.running.size > 0 ? this.o.pps : 0;
  }

  get active(): number {
    return this.running.size;
  }

  /** The trace running or waiting for a path key, if any: its id. */
  pending(key: string): number | undefined {
    for (const r of this.running.values()) if (r.target.key === key) return r.id;
    return this.queue.find((w) => w.target.key === key)?.id;
  }

  /**
   * Ask for a trace of `key`. One running or waiting for it already: that one (`running`). An
   * automatic one within the cooldown of the last: none (`cooldown`). The queue full: none
   * (`busy`). Else it starts now or waits its turn. `target` is called only when it will run.
   */
  request(key: string, target: () => TraceTarget, trigger: TraceTrigger, nowNs: number): { state: TraceRequestState; id?: number } {
    const already = this.pending(key);
    if (already !== undefined) return { state: "running", id: already };
    if (trigger !== "demand") {
      const last = this.lastAuto.get(key);
      if (last !== undefined && nowNs - last < this.o.autoCooldownNs) return { state: "cooldown" };
    }
    if (this.running.size >= this.o.maxRunning && this.queue.length >= this.o.maxQueued) return { state: "busy" };
    const t = target();
    if (t.hopInfo.length === 0 || t.hopInfo.length > TRACE_MAX_HOPS) return { state: "busy" };
    if (trigger !== "demand") this.lastAuto.set(key, nowNs);
    const id = this.nextId++;
    this.started[trigger]++;
    if (this.running.size < this.o.maxRunning) {
      this.start({ id, target: t, trigger }, nowNs);
      return { state: "started", id };
    }
    this.queue.push({ id, target: t, trigger });
    return { state: "queued", id };
  }

  private start(w: Waiting, nowNs: number): void {
    const n = w.target.hopInfo.length;
    const slot = w.id % TRACE_SLOTS;
    const templates: TraceTemplate[] = [];
    for (let k = 1; k <= n; k++) templates.push(w.target.template(k, traceIndex(slot, k)));
    const total = n * this.o.probesPerHop;
    if (this.running.size === 0) {
      this.paceStartNs = nowNs;
      this.issued = 0;
    }
    this.running.set(slot, {
      id: w.id,
      slot,
      target: w.target,
      trigger: w.trigger,
      n,
      templates,
      firstHops: templates.map((t) => outerDst(t)),
      sentAt: new Float64Array(total),
      rtt: new Float64Array(total).fill(NaN),
      next: 0,
      startedNs: nowNs,
      lastSentNs: nowNs,
      back: 0,
    });
  }

  /** Nanoseconds until the next trace probe is due (Infinity when none runs). */
  untilNextNs(nowNs: number): number {
    if (this.running.size === 0) return Infinity;
    const at = this.paceStartNs + ((this.issued + 1) / this.o.pps) * 1e9;
    return Math.max(0, at - nowNs);
  }

  /**
   * Sends what is due at `nowNs` (round robin over the running traces, at `pps` together; a
   * backlog of more than 10 ms is forgiven, not sent as a burst), then finishes the traces whose
   * last probe has been waited for. Returns the traces finished now.
   */
  tick(nowNs: number, send: (packet: Buffer, dst: string, af: AddressFamily) => void): TraceResult[] {
    if (this.running.size > 0) {
      let due = Math.floor(((nowNs - this.paceStartNs) / 1e9) * this.o.pps) - this.issued;
      const cap = Math.max(1, Math.ceil(this.o.pps * 0.01));
      if (due > cap) {
        this.issued += due - cap;
        due = cap;
      }
      const runs = [...this.running.values()];
      for (let guard = 0; due > 0 && guard < runs.length; ) {
        const r = runs[this.rr++ % runs.length];
        if (r.next >= r.sentAt.length) {
          guard++;
          continue;
        }
        guard = 0;
        const j = r.next++;
        const k = (j % r.n) + 1;
        const seq = Math.floor(j / r.n);
        r.sentAt[j] = nowNs;
        r.lastSentNs = nowNs;
        send(r.templates[k - 1].patch(seq, BigInt(Math.round(nowNs))), r.firstHops[k - 1], r.target.af);
        this.sent++;
        this.issued++;
        due--;
      }
      if (due > 0) this.issued += due; // nothing left to send: no debt
    }
    const done: TraceResult[] = [];
    for (const r of [...this.running.values()]) {
      const allSent = r.next >= r.sentAt.length;
      if (allSent && (r.back === r.sentAt.length || nowNs - r.lastSentNs >= this.o.waitNs)) {
        this.running.delete(r.slot);
        done.push(this.finish(r, nowNs));
      }
    }
    while (this.running.size < this.o.maxRunning && this.queue.length > 0) this.start(this.queue.shift()!, nowNs);
    return done;
  }

  /**
   * A trace probe's reply (isTracePayload said so), arrived at `arrivalNs`: "accepted", or why
   * not. In order of cost: the run's nonce, a running trace and hop, flag M, a sequence sent,
   * the MAC, a first reply.
   */
  onReply(payload: Buffer, arrivalNs: number): "accepted" | TraceReject {
    if (payload.readUInt32BE(PAYLOAD_OFF_NONCE) !== this.nonce) return "other_run";
    const index = payload.readUInt32BE(PAYLOAD_OFF_PATH_INDEX) - TRACE_INDEX_BASE;
    const r = this.running.get(index >>> 8);
    const k = index & 0xff;
    if (r === undefined || k < 1 || k > r.n) return "unknown_path";
    if (this.mac && (payload[PAYLOAD_OFF_FLAGS] & PAYLOAD_FLAG_MAC) === 0) return "bad_mac";
    const j = payload.readUInt32BE(PAYLOAD_OFF_SEQ) * r.n + (k - 1);
    if (j >= r.next) return "replay";
    if (this.mac && !this.mac.verify(payload)) return "bad_mac";
    if (!Number.isNaN(r.rtt[j])) return "duplicate";
    r.rtt[j] = Math.max(0, arrivalNs - r.sentAt[j]) / 1e9;
    r.back++;
    return "accepted";
  }

  private finish(r: Run, nowNs: number): TraceResult {
    const counts: HopCounts[] = [];
    const rtts: number[][] = [];
    for (let k = 1; k <= r.n; k++) {
      let sent = 0;
      let received = 0;
      const list: number[] = [];
      for (let j = k - 1; j < r.next; j += r.n) {
        sent++;
        if (!Number.isNaN(r.rtt[j])) {
          received++;
          list.push(r.rtt[j]);
        }
      }
      counts.push({ sent, received });
      rtts.push(list.sort((a, b) => a - b));
    }
    const v = analyzeTrace(counts, { lossyAbove: this.o.lossyAbove });
    const perHop: TraceHopResult[] = r.target.hopInfo.map((h, i) => ({
      ...h,
      sent: counts[i].sent,
      received: counts[i].received,
      lost: counts[i].sent - counts[i].received,
      lossRatio: counts[i].sent > 0 ? (counts[i].sent - counts[i].received) / counts[i].sent : null,
      rttMinSeconds: quantile(rtts[i], 0),
      rttP50Seconds: quantile(rtts[i], 0.5),
      rttMaxSeconds: quantile(rtts[i], 1),
      lossy: v.lossy[i],
    }));
    const f = v.firstLoss === null ? null : perHop[v.firstLoss - 1];
    const base = { hops: r.target.hops, perHop, stopsAt: v.stopsAt, firstLoss: v.firstLoss, returns: r.target.returns };
    const result: TraceResult = {
      id: r.id,
      key: r.target.key,
      path: r.target.path,
      class: r.target.class,
      af: r.target.af,
      hops: r.target.hops,
      trigger: r.trigger,
      returns: r.target.returns,
      finishedAt: new Date(this.wallClock()).toISOString(),
      durationSeconds: Math.round((nowNs - r.startedNs) / 1e6) / 1e3,
      probesPerHop: this.o.probesPerHop,
      perHop,
      stopsAt: v.stopsAt,
      firstLoss: v.firstLoss,
      failing: f ? { k: f.k, from: f.from, to: f.to, link: f.link } : null,
      summary: traceSummary(base),
    };
    this.results.set(result.key, result);
    this.finished.set(result.id, result);
    // The last few by id, for /trace callers waiting on theirs.
    for (const id of this.finished.keys()) {
      if (this.finished.size <= 64) break;
      this.finished.delete(id);
    }
    return result;
  }

  /** The finished trace `id` (one of the last 64), if any. */
  result(id: number): TraceResult | undefined {
    return this.finished.get(id);
  }

  /** The last trace of each path key. */
  last(): IterableIterator<TraceResult> {
    return this.results.values();
  }

  lastOf(key: string): TraceResult | undefined {
    return this.results.get(key);
  }

  /** Forget the traces of paths no longer probed. */
  retain(keep: (key: string) => boolean): void {
    for (const key of [...this.results.keys()]) if (!keep(key)) this.results.delete(key);
    for (const key of [...this.lastAuto.keys()]) if (!keep(key)) this.lastAuto.delete(key);
  }
}

/** The outermost destination of a built packet (its IPv4 or IPv6 header at offset 0). */
function outerDst(t: TraceTemplate): string {
  const b = t.buffer;
  return t.family === "ipv6" ? bytesToIpv6(b, IPV6_OFF_DST) : `${b[16]}.${b[17]}.${b[18]}.${b[19]}`;
}
