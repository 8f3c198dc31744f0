// The prober's core: path sets in, probes out, replies in, state for the metrics.
//
// Each (path, class, family) is an entry with a stable index (carried in the probe payload), a
// prebuilt packet template and a tracker. A path has an entry in every family it has (path set
// version 3: `families`, each with its layers in `targets`) for which the prober has a source
// (prober.source): an IPv4 one (ProbeTemplate) and an IPv6 one (ProbeTemplate6), sent on the
// socket of its family. The two families of one path are tracked, inferred and reported apart:
// a fault of one family's data plane (say a router that decapsulates IPv4 GRE only) shows in
// that family alone. A new path set is swapped in without a gap: entries
// whose path id and class survive keep their index, template, tracker and series; new ones are
// added; gone ones are removed (and their series with them). Sockets, timers and HTTP are the
// shell's (main.ts): this class gets a send function and a clock.
//
// Each entry's encapsulation (prober.encap, issue 15): the tunnel (GRE or IP-in-IP layers,
// per router by encap-per-router), or segment routing, no decapsulation anywhere: srv6 (an
// IPv6 probe with an SRH over the path's End.X SIDs, targets.ipv6.srv6), sr-mpls (the Adj-SID
// label stack, targets.<af>.srMpls, in MPLS-in-UDP or MPLS-in-GRE to the first router), or auto
// (SRv6, else SR-MPLS, else the tunnel, per path and family). A path that cannot take the SR
// one (no usable SID on some hop, an IPv4 entry under srv6, a stack above the MTU) falls back
// to the tunnel, logged once per path, or is refused with both reasons when its tunnel layers
// are unprobeable too. entry.encap says which (/paths, lsprobe_path_info's encap).
//
// One-way paths (path set version 5, issue 14 Must 4): the slice's `oneway` paths are sent
// pinned out to another prober (onewaytx.ts: no tracker, no up/down, no inference: the sender
// cannot see their fate), scheduled with the entries (max-pps applies; their scheduler
// positions share the entries' index space, so a reply naming such a position finds no
// entry); the slice's `incoming` paths are what other probers send here, told apart from
// replies by flag O before anything else and counted per sender and sequence (onewayrx.ts).
// countsReport() is GET /v1/counts: every stream's counts for the plugin's one view.
import type { Logger } from "../shared/log.js";
import { tunnelEncapOf, type ProberConfig } from "../shared/config.js";
import { parallelGroupId, type Family, type FamilyTargets, type OnewayPath, type Path, type PathLink, type PathSet } from "../shared/pathset.js";
import { COUNTS_SCHEMA, COUNTS_VERSION, type CountsReport } from "../shared/counts.js";
import { ProbeTemplate, PacketTooLargeError, ProbeTemplateError, type ProbeTemplateBase } from "./packet/template.js";
import { ProbeTemplate6 } from "./packet/template6.js";
import { EncapChooser, type Encap } from "./packet/encap.js";
import { SrMplsProbeTemplate, SrPacketTooLargeError, Srv6ProbeTemplate } from "./packet/template-sr.js";
import { PAYLOAD_FLAG_ONEWAY, PAYLOAD_OFF_NONCE, PAYLOAD_OFF_SENT_NS, PayloadMac, payloadHasMac, payloadIsOneway, payloadPathIndex, payloadSeq, screenPayload } from "./packet/payload.js";
import { OnewaySender, RetiredSenders, type OnewayEntry } from "./onewaytx.js";
import { OnewayReceiver, type IncomingStream } from "./onewayrx.js";
import { realtimeOffsetNs } from "./clock.js";
import { PathTracker, type Transition } from "./tracker.js";
import { Scheduler } from "./scheduler.js";
import { LossWindow } from "./losswindow.js";
import { inferLinkLoss, type LinkEnds } from "./inference.js";
import { RttHistogram } from "./rtthist.js";
import { FloodDetector } from "./flood.js";
import { TRACE_DEFAULTS, Tracer, isTracePayload, judgeDecap, traceHops, truncatedStack, type RouterDecap, type TraceRequestState, type TraceResult, type TraceTemplate, type TraceTrigger } from "./trace.js";
import type { MetricEntry, PathLabels, ProberState, RejectReason } from "./metrics.js";

export interface Entry extends MetricEntry {
  /** `${path id}/${class}/${family}`. */
  key: string;
  index: number;
  path: Path;
  className: string;
  /** The family of its probes (the `af` label). */
  af: Family;
  /** The path's layers in that family (path set version 3 `targets[af]`). */
  targets: FamilyTargets;
  template: EntryTemplate;
  /** How its probes are pinned: the tunnel's layers (gre, ipip, or gre+ipip mixed by
   *  encap-per-router) or segment routing (srv6, sr-mpls). */
  encap: PathEncap;
  /** Why it is not the encap prober.encap asks for (a fallback to the tunnel), if it is not. */
  encapFallback?: string;
  /** Destination of the outermost layer. */
  firstHop: string;
  window: LossWindow;
  /**
   * Directed links the probe crosses (both ways in reverse mode), for localization. A hop whose
   * layer goes to the router (target router) over parallel links is one element: `id` is their
   * parallelGroupId(), `parallel` the links.
   */
  links: Array<{ id: string; from: string; to: string; parallel?: string[] }>;
  /** "reverse" or "routed" (reverse falls back to routed when the way back has no address). */
  returns: "reverse" | "routed";
  /** The last RTT_RING RTTs (seconds), for /paths quantiles. */
  rtts: Float64Array;
  rttCount: number;
  /** Tracker slots (its window): a reply's sequence must be among the last `slots` sent. */
  slots: number;
  /**
   * The state reported (metrics, /paths, logs): the tracker's, except for a down verdict held
   * while a flood may have caused it (`held`: reported as unknown until resolved).
   */
  up: boolean | null;
  held: boolean;
  /** Probes not back whose replies the reply socket may have dropped during a flood: not lost. */
  unknown: number;
  /** The tracker's lost count at the last roll. */
  lostSeen: number;
  /** What its probe was last built from (encap and SIDs): a kept entry is rebuilt when it changes. */
  encapSig: string;
}

const RTT_RING = 256;

/** What an entry's probes are: a tunnel stack, an SRv6 or an SR-MPLS probe; same patch() contract. */
export type EntryTemplate = ProbeTemplateBase | Srv6ProbeTemplate | SrMplsProbeTemplate;

/** An entry's encapsulation as /paths and lsprobe_path_info's encap say it. */
export type PathEncap = "gre" | "ipip" | "gre+ipip" | "srv6" | "sr-mpls";

/** How one (path, family) is probed: segment routing, or the tunnel (`fallback`: why not SR, when SR was asked for). */
type EncapChoice = { kind: "srv6" | "sr-mpls" } | { kind: "tunnel"; fallback?: string };

/** Neither the SR encapsulation asked for nor the tunnel can carry a path's probe: both reasons. */
class EncapRefusedError extends Error {
  override name = "EncapRefusedError";
}

/** What an entry's probe is built from (the encap and its SIDs): a kept entry is rebuilt when it changes. */
function encapSigOf(t: FamilyTargets, choice: EncapChoice): string {
  if (choice.kind === "srv6") return `srv6:${t.srv6?.segments.map((g) => g.sid).join(",") ?? ""}`;
  if (choice.kind === "sr-mpls") return `sr-mpls:${t.srMpls?.entry ?? ""}:${t.srMpls?.segments.map((g) => g.sid).join(",") ?? ""}`;
  return "tunnel";
}

/** The SIDs of an SR probe out (and back, in reverse mode) over the first k links (a trace's), else all. */
function srSegments<S extends { direction: "out" | "back" }>(segments: readonly S[], reverse: boolean, k?: number): S[] {
  const out = segments.filter((s) => s.direction === "out");
  const back = segments.filter((s) => s.direction === "back");
  const n = out.length;
  const m = k ?? n;
  if (!Number.isInteger(m) || m < 1 || m > n) throw new RangeError(`trace: hop ${m} is not 1..${n}`);
  return [...out.slice(0, m), ...(reverse ? back.slice(n - m) : [])];
}

/** A device suspect's log fields, from its key `${af}/${node}`. */
function deviceFields(key: string): { node: string; af: string } {
  const i = key.indexOf("/");
  return { node: key.slice(i + 1), af: key.slice(0, i) };
}

/** What the last inference says of a link in one family (metrics, /paths). */
export interface LinkState {
  link: string;
  from: string;
  to: string;
  /** The family whose probes it was inferred from: each family's links are inferred apart. */
  af: Family;
  suspect: boolean;
  /** Estimated loss ratio over the window (NaN when no probe crossed it). */
  loss: number;
  low: number;
  high: number;
  identifiable: boolean;
  /** The links it cannot be told apart from ("from->to"), itself included. */
  group?: string[];
  /** A parallel group (router targets): `link` is the group's id, these its link ids. */
  parallel?: string[];
}

/** A path's link as the inference sees it: itself, or the parallel links its hop may take. */
const linkElement = (l: PathLink): Entry["links"][number] =>
  l.parallel ? { id: parallelGroupId(l.parallel), from: l.from, to: l.to, parallel: [...l.parallel] } : { id: l.id, from: l.from, to: l.to };

/** The families of a path: version 3's `families`; a hand-made path without them is IPv4. */
export const familiesOf = (path: Path): readonly Family[] => path.families ?? ["ipv4"];

/** A path's layers in family `af` (targets[af]; IPv4 falls back to the top-level fields), if it has that family. */
export function targetsOf(path: Path, af: Family): FamilyTargets | undefined {
  if (!familiesOf(path).includes(af)) return undefined;
  const t = path.targets?.[af];
  if (t) return t;
  return af === "ipv4" ? { gre: path.gre, greReverse: path.greReverse, probeable: path.probeable, ...(path.unprobeableReason !== undefined ? { unprobeableReason: path.unprobeableReason } : {}) } : undefined;
}

/**
 * The path back over the same links, in family `af`: among the paths of that family through the
 * same routers in reverse, the one whose links mirror this one's (that family's addresses
 * swapped), else the first. (Parallel links pinned by interface targets give several paths
 * through the same routers; with IS-IS multi-topology the IPv6 paths are other entries.)
 */
function mirrorOf(path: Path, mirrors: Map<string, Path[]>, af: Family): Path | undefined {
  const list = mirrors.get([...path.hops].reverse().map((h) => h.node).join(">"))?.filter((m) => familiesOf(m).includes(af));
  if (!list || list.length < 2) return list?.[0];
  const n = path.links.length;
  const local = (l: PathLink): string | undefined => (af === "ipv6" ? l.localAddress6 : l.localAddress);
  const remote = (l: PathLink): string | undefined => (af === "ipv6" ? l.remoteAddress6 : l.remoteAddress);
  const mirrored = (m: Path): boolean =>
    m.links.every((l, j) => {
      const o = path.links[n - 1 - j];
      return o !== undefined && local(l) === remote(o) && remote(l) === local(o);
    });
  return list.find(mirrored) ?? list[0];
}

/** The key of a link of family `af` in the suspect state: each family's links are their own elements. */
const linkKey = (af: Family, link: string): string => `${af}/${link}`;

/** Quantile q of the recorded RTTs (nearest rank); null when none. */
function rttQuantile(e: Entry, q: number): number | null {
  const n = Math.min(e.rttCount, RTT_RING);
  if (n === 0) return null;
  const sorted = e.rtts.slice(0, n).sort();
  return sorted[Math.min(n - 1, Math.ceil(q * n) - 1)];
}

export interface ProberIo {
  /** Sends a whole packet of family `af` (its own IP header first) towards `dst`, its outermost destination. */
  send(packet: Buffer, dst: string, af: Family): void;
  /** Monotonic nanoseconds (as a Number: 2^53 ns is 104 days of uptime). */
  nowNs(): number;
  log: Logger;
  /** Every RTT measured (received or late), for benches and tools; the metrics do not need it. */
  onRtt?(e: Entry, seconds: number): void;
  /** Replies the kernel dropped at the reply socket so far (sockdrops.ts); undefined: unknown. */
  replyDrops?(): number | undefined;
  /** CLOCK_REALTIME minus nowNs()'s clock, in ns (one-way Send Time and delay); default: clock.ts's, from nowNs() and Date.now(). */
  realtimeOffsetNs?(): bigint;
}

export interface SwapResult {
  added: number;
  removed: number;
  kept: number;
  refused: Array<{ path: string; af: Family; reason: string }>;
  /** Paths of a family the prober has no source for (prober.source), by family: not probed in it. */
  noSource: Record<Family, number>;
  /** Entries left out by prober.max-paths (out-and-back (path, class, family) and one-way (path, family)): 0 when the cap does not bind. */
  leftOut: number;
  /** One-way (path, family) entries in force (the slice's `oneway`); refusals are in `refused`. */
  oneway: number;
}

/** The lowest the prober's own limit goes (probes per second). */
const MIN_SEND_LIMIT = 100;

/** Replies the kernel dropped at the reply socket, by cause (flood.ts). */
export interface ReplyDrops {
  /** While no flood was on: the prober's own doing (it slows down). */
  self: number;
  /** While a flood was on. */
  flood: number;
}

export class Prober implements ProberState {
  private readonly byKey = new Map<string, Entry>();
  private byIndex: Array<Entry | undefined> = [];
  /** One-way entries (onewaytx.ts), by key and by scheduler position; positions are shared with byIndex's. */
  private readonly owByKey = new Map<string, OnewayEntry>();
  private owByIndex: Array<OnewayEntry | undefined> = [];
  private readonly retiredSenders = new RetiredSenders();
  /** Positions handed out so far (the next new one). */
  private indexCount = 0;
  /** The one-way paths other probers send to this one, and what arrived (onewayrx.ts). */
  private readonly receiver: OnewayReceiver;
  /** CLOCK_REALTIME - nowNs() (ns), taken when first needed and refreshed once a minute. */
  private realOffset: { ns: bigint; at: number } | undefined;
  private order: Entry[] = [];
  private readonly freeIndexes: number[] = [];
  private readonly scheduler: Scheduler;
  private readonly mac?: PayloadMac;
  private set?: PathSet;
  /** Keyed by linkKey(af, link). */
  private suspectState = new Map<string, LinkState>();
  private deviceSuspects = new Set<string>();
  /** Seconds (rolls) until the next inference (roll() paces it), and how many ran. */
  private rollsToSkip = 0;
  inferences = 0;
  readonly rejected: Record<RejectReason, number> = { malformed: 0, bad_mac: 0, unknown_path: 0, other_run: 0, duplicate: 0, replay: 0, expired: 0 };
  /**
   * For the flood detector: datagrams read at the probe port and rejected, and this run's own
   * replies (received, late, or expired: a real reply that came after its tracker gave up on
   * it, as when the prober is overdriven and reads its socket late). Counting expired replies
   * as rejected made an overdriven prober read its own backlog as a flood, and then not slow
   * down (bench/prober-rate's overdriven step: 3,162 matched/s of 183,471 sent).
   */
  private rejectedTotal = 0;
  private acceptedTotal = 0;
  private readonly flood = new FloodDetector();
  /** Set by the shell: seconds since the plugin last confirmed the set. */
  pathsetAge: () => number = () => 0;

  constructor(
    private readonly cfg: ProberConfig,
    private readonly io: ProberIo,
    readonly nonce: number,
    key?: Buffer,
  ) {
    // A backlog of 10 ms at most: after a stall, catch up in a small burst, not a flood.
    this.scheduler = new Scheduler({ maxPps: cfg.maxPps, maxBacklogS: 0.01 });
    if (key) this.mac = new PayloadMac(key);
    this.encaps = new EncapChooser(tunnelEncapOf(cfg.encap ?? "gre"), cfg.encapPerRouter ?? []);
    this.tracer = this.makeTracer();
    this.receiver = new OnewayReceiver({ timeoutNs: cfg.timeout * 1e6, window: (rate) => this.onewayWindow(rate) });
  }

  /** prober.encap and prober.encap-per-router: each layer's encapsulation, by the router that strips it. */
  private readonly encaps: EncapChooser;

  /** The encapsulation of each of `hops` (the path set's gre/greReverse entries): by router name, else node id. */
  private encapsOf(path: Path, hops: readonly { node: string }[]): Encap[] {
    return hops.map((g) => this.encaps.for(path.hops.find((h) => h.node === g.node)?.name ?? g.node));
  }

  entries(): Iterable<Entry> {
    return this.order;
  }

  /**
   * prober.encap for one (path, family): SRv6 or SR-MPLS where its targets say the SIDs are
   * usable (auto: SRv6 first), else the tunnel with the reason. Null: neither is possible
   * (`refused` the reason).
   */
  private chooseEncap(af: Family, t: FamilyTargets): { choice: EncapChoice } | { refused: string } {
    const want = this.cfg.encap ?? "gre";
    const tunnel = (fallback?: string): { choice: EncapChoice } | { refused: string } =>
      t.probeable ? { choice: { kind: "tunnel", ...(fallback !== undefined ? { fallback } : {}) } } : { refused: fallback !== undefined ? `${fallback}; tunnel: ${t.unprobeableReason ?? "unprobeable"}` : (t.unprobeableReason ?? "unprobeable") };
    if (want === "gre" || want === "ipip") return tunnel();
    const srv6 = (): string | null => {
      if (af !== "ipv6") return "SRv6 probes are IPv6 (this is the path's IPv4 family)";
      if (!t.srv6) return "the path set has no SRv6 targets (version 4 needed)";
      return t.srv6.probeable ? null : `SRv6: ${t.srv6.unprobeableReason ?? "unprobeable"}`;
    };
    const mpls = (): string | null => {
      const m = t.srMpls;
      if (!m) return "the path set has no SR-MPLS targets (version 4 needed)";
      if (!m.probeable) return `SR-MPLS: ${m.unprobeableReason ?? "unprobeable"}`;
      if (m.entry === undefined) return "SR-MPLS: no entry address for the first router";
      const index = m.segments.find((g) => !g.flags.V || !g.flags.L);
      if (index) return `SR-MPLS: ${index.node}'s Adj-SID toward ${index.to} is an index (V or L clear), not a label`;
      return null;
    };
    if (want === "srv6") {
      const no = srv6();
      return no === null ? { choice: { kind: "srv6" } } : tunnel(no);
    }
    if (want === "sr-mpls") {
      const no = mpls();
      return no === null ? { choice: { kind: "sr-mpls" } } : tunnel(no);
    }
    const no6 = this.cfg.sources.ipv6 === null ? "SRv6: no IPv6 source" : srv6();
    if (no6 === null) return { choice: { kind: "srv6" } };
    const noMpls = mpls();
    if (noMpls === null) return { choice: { kind: "sr-mpls" } };
    return tunnel(`${no6}; ${noMpls}`);
  }

  /** Entries of the path set in force left out by prober.max-paths. */
  private leftOut = 0;
  pathsLeftOut(): number {
    return this.leftOut;
  }

  /** prober.rtt-histogram (lsprobe_probe_rtt_seconds per path, per pair, or off). */
  rttHistogram(): ProberConfig["rttHistogram"] {
    return this.cfg.rttHistogram ?? "per-path";
  }

  generation(): number {
    return this.set?.generation ?? 0;
  }

  skipped(): number {
    return this.scheduler.skipped + this.overloaded;
  }

  replyDrops(): number {
    return this.drops.self + this.drops.flood;
  }

  replyDropsByCause(): ReplyDrops {
    return { ...this.drops };
  }

  /** A flood is on at the probe port (flood.ts). */
  replyFlood(): boolean {
    return this.flood.active;
  }

  plan(): PathSet["plan"] {
    return this.set?.plan;
  }

  /** The families of the path set in force (older documents: IPv4). */
  families(): readonly Family[] {
    return this.set?.families ?? ["ipv4"];
  }

  get pathSet(): PathSet | undefined {
    return this.set;
  }

  suspects(): Iterable<LinkState> {
    return this.suspectState.values();
  }

  /** Swap in a new path set. Probing of kept entries continues without a gap. */
  setPathSet(set: PathSet): SwapResult {
    const result: SwapResult = { added: 0, removed: 0, kept: 0, refused: [], noSource: { ipv4: 0, ipv6: 0 }, leftOut: 0, oneway: 0 };
    const want = new Map<string, { path: Path; cls: { name: string; dscp: number }; af: Family; targets: FamilyTargets; choice: EncapChoice }>();
    const fresh = new Set<number>();
    for (const path of set.paths) {
      if (this.cfg.router !== null && path.src !== this.cfg.router) continue; // another prober's (or the mirror of ours)
      for (const af of familiesOf(path)) {
        const targets = targetsOf(path, af);
        if (this.cfg.sources[af] === null) {
          result.noSource[af]++;
          continue;
        }
        if (!targets) {
          result.refused.push({ path: path.id, af, reason: `no ${af} layers in the path set` });
          continue;
        }
        const chosen = this.chooseEncap(af, targets);
        if ("refused" in chosen) {
          result.refused.push({ path: path.id, af, reason: chosen.refused });
          continue;
        }
        for (const cls of this.cfg.classes) want.set(`${path.id}/${cls.name}/${af}`, { path, cls, af, targets, choice: chosen.choice });
      }
    }
    result.leftOut = capEntries(want, this.cfg.maxPaths);
    const mirrors = new Map<string, Path[]>();
    for (const p of set.paths) {
      const k = p.hops.map((h) => h.node).join(">");
      mirrors.set(k, [...(mirrors.get(k) ?? []), p]);
    }
    for (const [key, e] of this.byKey) {
      if (want.has(key)) continue;
      this.byKey.delete(key);
      this.byIndex[e.index] = undefined;
      this.freeIndexes.push(e.index);
      result.removed++;
    }
    for (const [key, { path, cls, af, targets, choice }] of want) {
      const old = this.byKey.get(key);
      if (old) {
        old.path = path; // same links; names or addresses may have been refreshed
        old.targets = targets;
        this.reencap(old, choice, cls.dscp); // the SIDs, or what the path can take, may have changed
        old.slots = Math.max(old.slots, this.trackerWindow(path));
        old.tracker.grow(old.slots); // its rate may have gone up
        result.kept++;
        continue;
      }
      const index = this.allocIndex();
      try {
        const e = this.makeEntry(key, index, path, cls, af, targets, mirrors, choice);
        this.byKey.set(key, e);
        this.byIndex[index] = e;
        fresh.add(index);
        result.added++;
      } catch (err) {
        this.freeIndexes.push(index);
        if (err instanceof PacketTooLargeError || err instanceof ProbeTemplateError || err instanceof EncapRefusedError) result.refused.push({ path: path.id, af, reason: err.message });
        else throw err;
      }
    }
    this.order = [...this.byKey.values()].sort((a, b) => a.index - b.index);
    // One-way paths are probed too: they get what the cap leaves after the prober's own paths.
    const ownLeftOut = result.leftOut;
    result.oneway = this.setOneway(set.oneway ?? [], result, fresh, Math.max(0, this.cfg.maxPaths - want.size));
    this.leftOut = result.leftOut;
    if (result.leftOut > 0)
      this.io.log.warn("prober.max-paths binds: paths left out", {
        maxPaths: this.cfg.maxPaths,
        wanted: want.size + result.oneway + result.leftOut,
        leftOut: result.leftOut,
        onewayLeftOut: result.leftOut - ownLeftOut,
        generation: set.generation,
      });
    this.receiver.setPaths(set.incoming ?? [], this.io.nowNs());
    this.set = set;
    // Each entry at its path's rate: a probe plan's (plugin mode `plan`), else prober.rate. The
    // scheduler is indexed by the entries' stable indexes (holes idle), so kept entries keep
    // their place in the rotation.
    const rates = new Float64Array(this.indexCount);
    for (const e of this.order) rates[e.index] = this.rateOf(e.path);
    for (const o of this.owByKey.values()) rates[o.index] = this.rateOf(o.path);
    this.scheduler.setEntries(rates, this.io.nowNs(), fresh);
    // Links that no longer exist go away with them.
    const live = new Set(this.order.flatMap((e) => e.links.map((l) => linkKey(e.af, l.id))));
    for (const id of [...this.suspectState.keys()]) if (!live.has(id)) this.suspectState.delete(id);
    return result;
  }

  /**
   * Once a second: what the reply socket did. The kernel's drop counter (sockdrops.ts) and the
   * rejected and accepted datagrams tell a flood from the prober's own overload (flood.ts).
   *
   * Self: a reply dropped at the prober's own socket is a probe counted lost that the network
   * delivered: the prober sends faster than it can also read (its CPU, or a stall). While that
   * happens it slows down to 0.9 of what its socket absorbed since the last roll (at most by
   * half at once), and then speeds up again by 5% a roll until the limit no longer binds
   * (additive increase would take minutes from a low limit).
   *
   * Flood: the drops are counted as the flood's and the rate is left alone (neither slowed, nor
   * sped up while the socket drops): the prober's replies are the smaller share of what
   * arrives, so slowing down would only probe less. Logged when it starts and ends.
   */
  private watchReplySocket(now: number): void {
    const drops = this.io.replyDrops?.();
    const last = this.adapted;
    if (drops !== undefined) this.adapted = { drops, sent: this.sentTotal, ns: now };
    const dropped = drops !== undefined && last !== undefined ? Math.max(0, drops - last.drops) : undefined;
    const second = this.flood.second(now, this.rejectedTotal, this.acceptedTotal, dropped);
    if (second.event?.kind === "start") {
      const e = second.event;
      this.io.log.warn("reply flood: the probe port receives more datagrams it rejects than replies; drops at its socket are not the prober's own, probing is not slowed, and probes whose replies it may have dropped count as unknown, not lost", {
        rejectedPps: Math.round(e.rejectedPps),
        acceptedPps: Math.round(e.acceptedPps),
        ...(Number.isNaN(e.dropsPps) ? {} : { dropsPps: Math.round(e.dropsPps) }),
        reasons: this.rejectedSummary(),
      });
    } else if (second.event?.kind === "end") {
      const e = second.event;
      this.io.log.info("reply flood ended", { seconds: Math.round(e.seconds), rejected: e.rejected, peakPps: Math.round(e.peakPps), drops: e.drops, dropSeconds: e.riskSeconds });
    }
    if (dropped === undefined || last === undefined || now <= last.ns) return;
    if (second.flood) {
      this.drops.flood += dropped;
      if (dropped > 0) return; // the limit as it is: these drops say nothing of the prober's own pace
    } else this.drops.self += dropped;
    const perSecond = 1e9 / (now - last.ns);
    const sentPps = (this.sentTotal - last.sent) * perSecond;
    let limit = this.sendLimit;
    if (dropped > 0 && sentPps > 0) {
      // What its socket absorbed, with a margin; at most halved at once (a stall that starved
      // the reader shows far less absorbed than the prober can take once it reads again).
      const absorbedPps = Math.max(0, sentPps - dropped * perSecond);
      limit = Math.max(MIN_SEND_LIMIT, Math.min(limit, Math.max(0.9 * absorbedPps, 0.5 * sentPps)));
      this.io.log.once("reply-drops", "warn", "replies dropped at the probe socket (counted as lost): probing slowed until they stop", { dropped, limit: Math.round(limit) });
    } else if (limit !== Infinity) limit = limit * 1.05 >= Math.min(this.cfg.maxPps, this.scheduler.demand) ? Infinity : limit * 1.05;
    if (limit === this.sendLimit) return;
    this.sendLimit = limit;
    this.applySendCap(now);
  }

  /** The reasons of rejections so far, most frequent first ("bad_mac:512,other_run:3"), for the flood log. */
  private rejectedSummary(): string {
    const sum: Record<string, number> = { ...this.rejected };
    for (const e of this.order) {
      sum.duplicate += e.tracker.counters.duplicate;
      sum.replay += e.tracker.counters.replay;
      sum.expired += e.tracker.counters.expired;
    }
    return Object.entries(sum)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([r, n]) => `${r}:${n}`)
      .join(",");
  }

  /** Probes per second for each of a path's entries: the plan's rate, else prober.rate. */
  private rateOf(path: Path): number {
    return path.rate !== undefined && path.rate > 0 && Number.isFinite(path.rate) ? path.rate : this.cfg.rate;
  }

  /** A position for a new entry (out-and-back or one-way): a free one, else the next. */
  private allocIndex(): number {
    return this.freeIndexes.pop() ?? this.indexCount++;
  }

  /** Ring slots of a one-way record or sender at `rate` (absent: prober.rate): 4 timeouts' worth. */
  private onewayWindow(rate: number | undefined): number {
    const r = rate !== undefined && rate > 0 && Number.isFinite(rate) ? Math.max(rate, this.cfg.rate) : this.cfg.rate;
    return Math.max(256, Math.ceil(r * (this.cfg.timeout / 1000) * 4) + 16);
  }

  /**
   * The slice's one-way paths: per family it has (with a source here and an address at the
   * receiver), default class only, a probe through its outward layers to the receiver's address
   * and port, flag O, Path Index its tag. A kept one keeps its position and numbering (a path
   * that leaves and comes back goes on numbering: sequences never restart for a nonce); its
   * probe is rebuilt (the layers or the receiver's address may have changed). Returns the count.
   */
  private setOneway(paths: readonly OnewayPath[], result: SwapResult, fresh: Set<number>, room: number): number {
    const dscp = this.cfg.classes[0]?.dscp ?? 0;
    const want = new Map<string, { path: OnewayPath; af: Family; template: ProbeTemplateBase; firstHop: string }>();
    // The cap first (before templates are built): the same entries every time, as capEntries keeps.
    const wanted = new Map<string, { path: OnewayPath; af: Family }>();
    for (const path of paths) for (const af of familiesOf(path)) if (this.cfg.sources[af] !== null) wanted.set(`${path.id}/${af}`, { path, af });
    result.leftOut += capEntries(wanted, room);
    for (const { path, af } of wanted.values()) {
      const t = targetsOf(path, af);
      const dst = path.to.address[af];
      const no = !t ? `no ${af} layers in the path set` : !t.probeable ? (t.unprobeableReason ?? "unprobeable") : t.gre.length === 0 ? "no layers out" : dst === undefined ? `the receiving prober ${path.to.prober} has no ${af} address` : undefined;
      if (no !== undefined) {
        result.refused.push({ path: path.id, af, reason: `one-way: ${no}` });
        continue;
      }
      try {
        const template = this.template(af, path, t!.gre, dscp, path.tag, { to: dst!, port: path.to.port });
        want.set(`${path.id}/${af}`, { path, af, template, firstHop: t!.gre[0].address });
      } catch (err) {
        if (!(err instanceof PacketTooLargeError || err instanceof ProbeTemplateError)) throw err;
        result.refused.push({ path: path.id, af, reason: `one-way: ${err.message}` });
      }
    }
    for (const [key, o] of this.owByKey) {
      if (want.has(key)) continue;
      this.owByKey.delete(key);
      this.owByIndex[o.index] = undefined;
      this.freeIndexes.push(o.index);
      this.retiredSenders.put(key, o.counter);
    }
    for (const [key, w] of want) {
      const old = this.owByKey.get(key);
      const window = this.onewayWindow(w.path.rate);
      if (old) {
        Object.assign(old, { path: w.path, to: w.path.to.prober, template: w.template, firstHop: w.firstHop });
        old.counter.grow(window);
        continue;
      }
      const index = this.allocIndex();
      const counter = this.retiredSenders.take(key) ?? new OnewaySender(window, this.cfg.timeout * 1e6);
      counter.grow(window);
      const o: OnewayEntry = { key, index, path: w.path, af: w.af, to: w.path.to.prober, template: w.template, firstHop: w.firstHop, counter };
      this.owByKey.set(key, o);
      this.owByIndex[index] = o;
      fresh.add(index);
    }
    return this.owByKey.size;
  }

  /** Tracker slots: twice the probes in flight until finalized (2 x timeout), at the entry's rate. */
  private trackerWindow(path: Path): number {
    return Math.max(64, Math.ceil(Math.max(this.cfg.rate, this.rateOf(path)) * (this.cfg.timeout / 1000) * 4) + 16);
  }

  /**
   * The probe of family `af` through `layers` (the path's own, or a trace's truncated stack):
   * ProbeTemplate or ProbeTemplate6 from that family's source, each layer encapsulated as its
   * router takes it (an ipip layer is IP-in-IP over IPv4, IPv6-in-IPv6 over IPv6). The MTU
   * check is the template's, per family (20- or 40-byte headers).
   */
  private template(af: Family, path: Path, layers: readonly { address: string; node: string }[], dscp: number, pathIndex: number, oneway?: { to: string; port: number }): ProbeTemplateBase {
    const common = {
      hops: layers.map((g) => g.address),
      encaps: this.encapsOf(path, layers),
      dstPort: oneway?.port ?? this.cfg.port,
      ...(oneway ? { innerDst: oneway.to, flags: PAYLOAD_FLAG_ONEWAY } : {}),
      srcPortBase: this.cfg.srcPort,
      srcPortRange: this.cfg.srcPortRange,
      dscp,
      size: this.cfg.size,
      mtu: this.cfg.mtu,
      pathIndex,
      nonce: this.nonce,
      key: this.mac?.key,
    };
    const src = this.cfg.sources[af];
    if (src === null) throw new ProbeTemplateError("src", `no ${af} source (prober.source)`);
    if (af === "ipv6") return new ProbeTemplate6({ ...common, src, hopLimit: this.cfg.hopLimit, flowLabelBase: this.cfg.srcPort, flowLabelRange: this.cfg.flowLabelRange ?? this.cfg.srcPortRange });
    return new ProbeTemplate({ ...common, src, ttl: this.cfg.ttl });
  }

  /**
   * The probe of an entry in its encapsulation: the SR template (and its outer destination)
   * when `choice` is SR and it builds, else the tunnel's (the SR failure, e.g. a stack above
   * the MTU, becoming the fallback's reason).
   */
  private entryProbe(path: Path, af: Family, targets: FamilyTargets, choice: EncapChoice, dscp: number, index: number): { template: EntryTemplate; firstHop: string; encap: PathEncap; fallback?: string; reverse: boolean } {
    let fallback = choice.kind === "tunnel" ? choice.fallback : undefined;
    if (choice.kind !== "tunnel") {
      try {
        const reverse = this.cfg.return === "reverse";
        const template = this.srTemplate(choice.kind, af, targets, reverse, undefined, dscp, index);
        return { template, firstHop: template instanceof Srv6ProbeTemplate ? template.segments[0] : targets.srMpls!.entry!, encap: choice.kind, reverse };
      } catch (err) {
        if (!(err instanceof SrPacketTooLargeError || err instanceof ProbeTemplateError || err instanceof PacketTooLargeError)) throw err;
        fallback = `${choice.kind === "srv6" ? "SRv6" : "SR-MPLS"}: ${err.message}`;
        if (!targets.probeable) throw new EncapRefusedError(`${fallback}; tunnel: ${targets.unprobeableReason ?? "unprobeable"}`);
      }
    }
    const reverse = this.cfg.return === "reverse" && targets.greReverse.length === targets.gre.length && targets.gre.length > 0;
    if (this.cfg.return === "reverse" && !reverse)
      this.io.log.once(`routed-fallback:${path.id}:${af}`, "warn", "no pinned way back for this path; its probes return routed", { path: path.id, af });
    const layers = [...targets.gre, ...(reverse ? targets.greReverse : [])];
    let template: ProbeTemplateBase;
    try {
      template = this.template(af, path, layers, dscp, index);
    } catch (err) {
      if (fallback === undefined || !(err instanceof PacketTooLargeError || err instanceof ProbeTemplateError)) throw err;
      throw new EncapRefusedError(`${fallback}; tunnel: ${err.message}`);
    }
    const kinds = new Set(template.encaps);
    const encap: PathEncap = kinds.size > 1 ? "gre+ipip" : kinds.has("ipip") ? "ipip" : "gre";
    return { template, firstHop: layers[0].address, encap, reverse, ...(fallback !== undefined ? { fallback } : {}) };
  }

  /** An SRv6 or SR-MPLS probe over the path's SIDs (the first k links' in a trace). */
  private srTemplate(kind: "srv6" | "sr-mpls", af: Family, t: FamilyTargets, reverse: boolean, k: number | undefined, dscp: number, pathIndex: number): Srv6ProbeTemplate | SrMplsProbeTemplate {
    const src = this.cfg.sources[af];
    if (src === null) throw new ProbeTemplateError("src", `no ${af} source (prober.source)`);
    const common = { dstPort: this.cfg.port, srcPortBase: this.cfg.srcPort, srcPortRange: this.cfg.srcPortRange, dscp, size: this.cfg.size, mtu: this.cfg.mtu, pathIndex, nonce: this.nonce, key: this.mac?.key };
    if (kind === "srv6") {
      const segments = srSegments(t.srv6!.segments, reverse, k).map((g) => g.sid);
      return new Srv6ProbeTemplate({ ...common, src, segments, hopLimit: this.cfg.hopLimit, flowLabelBase: this.cfg.srcPort, flowLabelRange: this.cfg.flowLabelRange ?? this.cfg.srcPortRange });
    }
    const m = t.srMpls!;
    const labels = srSegments(m.segments, reverse, k).map((g) => g.sid);
    return new SrMplsProbeTemplate({ ...common, family: af, src, entry: m.entry!, labels, carrier: this.cfg.srMplsCarrier ?? "udp", ttl: af === "ipv6" ? this.cfg.hopLimit : this.cfg.ttl });
  }

  /** Logs an entry's fallback from the SR encap asked for to the tunnel, once per path and family. */
  private logFallback(path: Path, af: Family, fallback: string | undefined, encap: PathEncap): void {
    if (fallback === undefined) return;
    this.io.log.once(`encap-fallback:${path.id}:${af}:${fallback}`, "warn", "this path cannot take the segment-routing encapsulation asked for: probed over the tunnel instead", {
      path: path.id,
      hops: path.hops.map((h) => h.name).join(">"),
      af,
      asked: this.cfg.encap,
      encap,
      reason: fallback,
    });
  }

  /** A kept entry under a new path set: a new probe when its encapsulation or SIDs changed. */
  private reencap(e: Entry, choice: EncapChoice, dscp: number): void {
    const sig = encapSigOf(e.targets, choice);
    if (sig === e.encapSig) return;
    try {
      const p = this.entryProbe(e.path, e.af, e.targets, choice, dscp, e.index);
      this.logFallback(e.path, e.af, p.fallback, p.encap);
      if (p.encap !== e.encap) this.io.log.info("path encapsulation changed", { path: e.path.id, af: e.af, from: e.encap, to: p.encap });
      e.template = p.template;
      e.firstHop = p.firstHop;
      e.encap = p.encap;
      e.encapFallback = p.fallback;
      e.encapSig = sig;
      e.returns = p.reverse ? "reverse" : "routed";
    } catch (err) {
      if (!(err instanceof PacketTooLargeError || err instanceof ProbeTemplateError || err instanceof EncapRefusedError)) throw err;
      this.io.log.warn("the path's new encapsulation cannot be built: its probes stay as they were", { path: e.path.id, af: e.af, error: err.message });
    }
  }

  private makeEntry(key: string, index: number, path: Path, cls: { name: string; dscp: number }, af: Family, targets: FamilyTargets, mirrors: Map<string, Path[]>, choice: EncapChoice): Entry {
    const probe = this.entryProbe(path, af, targets, choice, cls.dscp, index);
    this.logFallback(path, af, probe.fallback, probe.encap);
    const { template, reverse } = probe;
    const links = path.links.map(linkElement);
    if (reverse) {
      const mirror = mirrorOf(path, mirrors, af);
      if (mirror) links.push(...mirror.links.map(linkElement));
    }
    const labels: PathLabels = { path: path.id, class: cls.name, af };
    const info = { src: path.src, dst: path.dst, hops: path.hops.map((h) => h.name).join(">") };
    const slots = this.trackerWindow(path);
    const tracker = new PathTracker(index, {
      window: slots,
      timeoutNs: this.cfg.timeout * 1e6,
      finalNs: this.cfg.timeout * 2e6,
      downAfter: this.cfg.downAfter,
      upAfter: this.cfg.upAfter,
    });
    const window = new LossWindow(Math.max(2, Math.round(this.cfg.lossWindow / 1000)));
    const e: Entry = {
      key,
      index,
      path,
      className: cls.name,
      af,
      targets,
      template,
      encap: probe.encap,
      ...(probe.fallback !== undefined ? { encapFallback: probe.fallback } : {}),
      encapSig: encapSigOf(targets, choice),
      firstHop: probe.firstHop,
      tracker,
      window,
      links,
      labels,
      info,
      returns: reverse ? "reverse" : "routed",
      rtts: new Float64Array(RTT_RING),
      rttCount: 0,
      rtt: new RttHistogram(),
      lossRatio: () => window.ratio(),
      slots,
      up: null,
      held: false,
      unknown: 0,
      lostSeen: 0,
      pathUp: () => (e.held ? null : e.up),
      unknownProbes: () => e.unknown,
    };
    return e;
  }

  /** Probes not sent because too many were in flight: the prober cannot keep up (CPU). */
  overloaded = 0;
  /** Datagrams dropped at the prober's socket since it started, by cause. */
  private readonly drops: ReplyDrops = { self: 0, flood: 0 };
  /** When roll() last ran (ns; undefined before the first). */
  private lastRollNs: number | undefined;
  /** Its own cap on the aggregate while replies are being dropped (Infinity: max-pps alone). */
  private sendLimit = Infinity;
  private sentTotal = 0;
  private adapted: { drops: number; sent: number; ns: number } | undefined;

  /** Send whatever is due now, then time out what is overdue. Returns the number sent. */
  tick(): number {
    const now = this.io.nowNs();
    let sent = 0;
    // Past its CPU's ceiling the prober would send on and drop the replies (its socket buffer
    // fills): every path would look lossy. Beyond a timeout's worth of probes in flight at the
    // global rate, it skips sends instead, and counts them.
    let inFlight = 0;
    for (const e of this.order) inFlight += e.tracker.inFlight;
    const inFlightCap = Math.max(64, (Math.min(this.cfg.maxPps, this.sendLimit) * this.cfg.timeout) / 1000);
    for (let k = this.scheduler.due(now); k > 0; k--) {
      if (inFlight >= inFlightCap) {
        this.overloaded += k;
        this.scheduler.skip(k);
        break;
      }
      const i = this.scheduler.next();
      const e = this.byIndex[i];
      if (e === undefined) {
        const o = this.owByIndex[i]; // else an idle position: never served
        if (o) this.sendOneway(o, now);
        sent++;
        continue;
      }
      inFlight++;
      const seq = e.tracker.send(now);
      const pkt = e.template.patch(seq >>> 0, BigInt(Math.round(now)));
      e.tracker.sentNow(seq, this.io.nowNs());
      this.io.send(pkt, e.firstHop, e.af);
      sent++;
    }
    this.sentTotal += sent;
    for (const e of this.order) e.tracker.expire(now, this.onTransition);
    return sent;
  }

  /**
   * A one-way probe: the next sequence of its (path, family), Send Time the realtime clock (the
   * receiver's one-way delay, when the clocks are synchronized), no tracker (nothing comes back).
   */
  private sendOneway(o: OnewayEntry, now: number): void {
    const seq = o.counter.send(now);
    const pkt = o.template.patch(seq >>> 0, BigInt(Math.round(now)) + this.realtimeOffset(now));
    this.io.send(pkt, o.firstHop, o.af);
  }

  /** CLOCK_REALTIME - the prober's clock (ns): taken when first needed, then once a minute. */
  private realtimeOffset(now: number): bigint {
    if (this.realOffset === undefined || now - this.realOffset.at >= 60e9) {
      const ns = this.io.realtimeOffsetNs ? this.io.realtimeOffsetNs() : realtimeOffsetNs(() => this.io.nowNs());
      this.realOffset = { ns, at: now };
    }
    return this.realOffset.ns;
  }

  /** Nanoseconds until the next probe is due. */
  untilNextNs(): number {
    const now = this.io.nowNs();
    return Math.min(this.scheduler.untilNextNs(now), this.tracer.untilNextNs(now));
  }

  /** The aggregate: probes per second over all entries, whether max-pps (or the prober's own
   *  limit, `limit`, while replies are dropped) slows them all. */
  get schedule(): { rate: number; capped: boolean; skipped: number; overloaded: number; limit: number | null; replyDrops: number; replyDropsFlood: number; replyFlood: boolean } {
    return {
      rate: this.scheduler.rate,
      capped: this.scheduler.capped,
      skipped: this.scheduler.skipped,
      overloaded: this.overloaded,
      limit: this.sendLimit === Infinity ? null : Math.round(this.sendLimit),
      replyDrops: this.drops.self + this.drops.flood,
      replyDropsFlood: this.drops.flood,
      replyFlood: this.flood.active,
    };
  }

  /**
   * A UDP payload came back to the probe port. Checked in order of cost, so that junk costs the
   * least (a flood of it must not keep the prober from reading its replies): length, magic,
   * version and nonce (a forged payload without this run's random nonce is refused before any
   * MAC is computed), path index, flag M, a sequence among the last `slots` the path sent (all
   * plain reads of the buffer, no allocation), and only then the MAC (an HMAC: most of the cost)
   * and the tracker's verdict. Rejecting issue 11's forged payloads (a wrong nonce) so costs
   * 25-30 ns instead of 4.2-4.4 us on this VM (bench/reject.ts: about 150 times less); one with
   * a sniffed nonce and sequence still costs its MAC. The socket's own cost per datagram comes
   * on top, which no handler can save. The reasons: malformed (not a probe payload), other_run (not this run's
   * nonce: an earlier run's, or forged), unknown_path, replay (a sequence outside the window,
   * or one the tracker no longer holds), bad_mac (flag M clear, or a wrong MAC), duplicate,
   * expired.
   */
  onReply(payload: Buffer, arrivalNs?: number, af: Family = "ipv4"): void {
    // Another prober's one-way probe (flag O): its Path Index is a tag, not one of ours, so it is
    // told apart before anything else (a tag may look like a trace's index, or like an entry's).
    if (payloadIsOneway(payload)) return this.onOneway(payload, arrivalNs, af);
    if (isTracePayload(payload)) return this.countTraceReply(this.tracer.onReply(payload, arrivalNs ?? this.io.nowNs()));
    const bad = screenPayload(payload, this.nonce);
    if (bad !== undefined) return this.reject(bad === "nonce" ? "other_run" : "malformed");
    const e = this.byIndex[payloadPathIndex(payload)];
    if (e === undefined) return this.reject("unknown_path");
    if (this.macFlagMissing(payload)) return this.reject("bad_mac");
    const seq = payloadSeq(payload);
    const sent = e.tracker.counters.sent;
    if (seq >= sent || sent - seq > e.slots) return this.reject("replay");
    // The kernel's receive time when the socket gives it (prober/udprx.ts); else the clock read
    // here, before the MAC, so that its cost stays out of the RTT.
    const now = arrivalNs ?? this.io.nowNs();
    if (this.macWrong(payload)) return this.reject("bad_mac");
    const v = e.tracker.receive(seq, now, this.onTransition);
    if (v === "received" || v === "late") {
      this.acceptedTotal++;
      e.rtts[e.rttCount++ % RTT_RING] = e.tracker.lastRtt;
      e.rtt.observe(e.tracker.lastRtt);
      this.io.onRtt?.(e, e.tracker.lastRtt);
    } else if (v === "expired") this.acceptedTotal++;
    else this.rejectedTotal++;
  }

  /**
   * A one-way probe arrived (flag O), in family `af`: counted on the incoming path its tag names
   * (onewayrx.ts), per sender nonce. In order of cost: the tag among the incoming paths of that
   * family, flag M, the MAC (a fleet shares prober.hmac-key-file), then the count. Rejections
   * are counted under the reasons replies have (unknown_path, bad_mac, duplicate).
   */
  private onOneway(payload: Buffer, arrivalNs: number | undefined, af: Family): void {
    const s = this.receiver.stream(payloadPathIndex(payload), af);
    if (s === undefined) return this.reject("unknown_path");
    if (this.macFlagMissing(payload)) return this.reject("bad_mac");
    const now = arrivalNs ?? this.io.nowNs();
    if (this.macWrong(payload)) return this.reject("bad_mac");
    const v = this.receiver.arrive(s, payload.readUInt32BE(PAYLOAD_OFF_NONCE), payloadSeq(payload), now);
    if (v === "duplicate") return this.reject("duplicate");
    this.acceptedTotal++;
    if (v === "received" && this.cfg.clockSynced) {
      const sent = payload.readBigUInt64BE(PAYLOAD_OFF_SENT_NS);
      const delay = Number(BigInt(Math.round(now)) + this.realtimeOffset(now) - sent) / 1e9;
      s.delay.observe(Math.max(0, delay)); // a clock step backwards reads as 0, not as a negative delay
    }
  }

  private readonly onTransition = (t: Transition): void => this.transition(t);

  /**
   * The tracker's up/down verdicts, as reported. A down verdict while a flood is on (or is
   * starting: the counts of this second so far say so) may be the flood's doing, the socket
   * having dropped the replies: it is held (the path reads unknown) until the next roll, which
   * knows whether the socket dropped. Then resolveHolds() reports it, or keeps it held while
   * the socket drops during the flood and until the probes sent after that have decided.
   * Without a flood nothing is held: a down is reported at once, as always.
   */
  private transition(t: Transition): void {
    const e = this.byIndex[t.path];
    if (!e) return;
    if (t.up) {
      e.held = false; // a held down undone: nothing was reported
      if (e.up === true) return;
      e.up = true;
      this.io.log.info("path up", { path: e.path.id, hops: e.info.hops, class: e.className, af: e.af });
      return;
    }
    if (this.flood.suspected(this.io.nowNs(), this.rejectedTotal, this.acceptedTotal)) {
      e.held = true;
      return;
    }
    this.reportDown(e, false);
  }

  private reportDown(e: Entry, wasHeld: boolean): void {
    e.held = false;
    if (e.up === false) return;
    e.up = false;
    this.io.log.warn("path down", { path: e.path.id, hops: e.info.hops, class: e.className, af: e.af, ...(wasHeld ? { heldForFlood: true } : {}) });
    this.requestTrace(e, "down");
  }

  /**
   * Held down verdicts, once a second after the socket's drops are known: a path whose tracker
   * is up again was never down (nothing is reported); one still down is reported once the last
   * second in which the socket dropped during a flood is more than `holdGraceNs` ago (at once
   * when it never dropped): by then the probes sent after the drops have decided, and a
   * healthy path would be up again.
   */
  private resolveHolds(now: number): void {
    for (const e of this.order) {
      if (!e.held) continue;
      if (e.tracker.up !== false) {
        e.held = false;
        continue;
      }
      if (now >= this.flood.lastRiskEndNs + this.holdGraceNs(e)) this.reportDown(e, true);
    }
  }

  /** The timeout plus upAfter + 1 of the entry's probes at the pace it is probed now. */
  private holdGraceNs(e: Entry): number {
    const demand = this.scheduler.demand;
    const pace = demand > 0 ? this.scheduler.rate / demand : 1;
    const pps = Math.max(1e-3, this.rateOf(e.path) * pace);
    return this.cfg.timeout * 1e6 + ((this.cfg.upAfter + 1) * 1e9) / pps;
  }

  /**
   * Once a second: loss windows, then the per-link inference over them (inference.ts: links and
   * routers estimated from every path's counts in the window). Returns links that changed
   * suspect state, and logs each change.
   */
  roll(): Array<{ link: string; af: Family; suspect: boolean }> {
    const now = this.io.nowNs();
    this.watchReplySocket(now);
    this.settleOneway(now);
    // Probes finalized since the last roll were sent from `since` on, and their replies could
    // have come back until now. If the socket dropped during a flood in that span, those lost
    // are unknown: kept out of the lost count, the loss window and the inference (and so out of
    // suspect links). Without a flood nothing changes: every probe not back is lost.
    const since = (this.lastRollNs ?? now - 1e9) - this.cfg.timeout * 2e6;
    const atRisk = this.flood.lastRiskEndNs > since;
    this.lastRollNs = now;
    for (const e of this.order) {
      const c = e.tracker.counters;
      if (atRisk) e.unknown += c.lost - e.lostSeen;
      e.lostSeen = c.lost;
      const lost = c.lost - e.unknown;
      e.window.sample(lost, c.received + c.late + lost);
    }
    this.resolveHolds(now);
    // The inference blocks the loop that sends and timestamps probes: on a big path set (a
    // fat tree's 30,000 paths: 0.1-2 s) it runs less often, so that it takes at most a tenth
    // of the time. Its input is the whole loss window, so a skipped second loses no counts.
    if (this.rollsToSkip > 0) {
      this.rollsToSkip--;
      return [];
    }
    const t0 = this.io.nowNs();
    const changed = this.infer();
    this.afterInference(changed);
    // roll() comes once a second: skip as many as keep the inference under a tenth of the time.
    this.rollsToSkip = Math.ceil((10 * (this.io.nowNs() - t0)) / 1e9) - 1;
    this.inferences++;
    return changed;
  }

  /**
   * The inference, once per family: each family's entries and links alone (an IPv6-only fault
   * is named in IPv6 only, and a link both families cross is two elements, one a family).
   */
  private infer(): Array<{ link: string; af: Family; suspect: boolean }> {
    const changed: Array<{ link: string; af: Family; suspect: boolean }> = [];
    const seen = new Set<string>();
    const devices = new Set<string>();
    for (const af of ["ipv4", "ipv6"] as const) {
      const entries = this.order.filter((e) => e.af === af);
      if (entries.length > 0) this.inferFamily(af, entries, changed, seen, devices);
    }
    for (const id of [...this.suspectState.keys()]) if (!seen.has(id)) this.suspectState.delete(id);
    for (const d of devices) if (!this.deviceSuspects.has(d)) this.io.log.warn("router suspect: every probed link of it loses", deviceFields(d));
    for (const d of this.deviceSuspects) if (!devices.has(d)) this.io.log.info("router cleared", deviceFields(d));
    this.deviceSuspects = devices;
    return changed;
  }

  private inferFamily(af: Family, entries: readonly Entry[], changed: Array<{ link: string; af: Family; suspect: boolean }>, seen: Set<string>, devices: Set<string>): void {
    const obs: Array<{ links: Array<string | string[]>; sent: number; lost: number }> = [];
    const ends = new Map<string, LinkEnds>();
    for (const e of entries) {
      const w = e.window.counts();
      if (w.done > 0) obs.push({ links: e.links.map((l) => l.parallel ?? l.id), sent: w.done, lost: w.lost });
      for (const l of e.links) ends.set(l.id, { from: l.from, to: l.to });
    }
    const inf = inferLinkLoss(obs, { suspectAbove: this.cfg.lossyAbove }, ends);
    for (const est of inf.links) {
      const l = ends.get(est.link);
      if (!l) continue;
      const key = linkKey(af, est.link);
      seen.add(key);
      const prev = this.suspectState.get(key);
      const state: LinkState = {
        link: est.link,
        from: l.from,
        to: l.to,
        af,
        suspect: est.suspect,
        loss: est.loss,
        low: est.low,
        high: est.high,
        identifiable: est.identifiable,
        group: est.group?.map((id) => {
          const g = ends.get(id);
          return g ? `${g.from}->${g.to}` : id;
        }),
        ...(est.parallel ? { parallel: est.parallel } : {}),
      };
      this.suspectState.set(key, state);
      if ((prev?.suspect ?? false) !== est.suspect) {
        changed.push({ link: est.link, af, suspect: est.suspect });
        this.io.log[est.suspect ? "warn" : "info"](est.suspect ? "link suspect" : "link cleared", {
          link: est.link,
          from: l.from,
          to: l.to,
          af,
          ...(est.suspect ? { loss: Number(est.loss.toFixed(4)), identifiable: est.identifiable, ...(state.group ? { group: state.group.join(",") } : {}), ...(state.parallel ? { parallel: state.parallel.join(",") } : {}) } : {}),
        });
      }
    }
    for (const d of inf.devices) if (d.suspect) devices.add(`${af}/${d.node}`);
  }

  /** One-way counts up to `now`: the senders' settled probes, the receiver's lost ones and idle records. */
  private settleOneway(now: number): void {
    for (const o of this.owByKey.values()) o.counter.settle(now);
    this.receiver.settle(now);
  }

  /**
   * GET /v1/counts (shared/counts.ts): every probed stream's counts since this prober started
   * (its nonce): out-and-back paths per class and family (done = received + late + lost, lost
   * as /paths says it: without the unknown ones), one-way paths it sends (settled), and the
   * one-way paths it receives, per sender start. `prober`: the id it registers under.
   */
  countsReport(prober: string | null): CountsReport {
    const now = this.io.nowNs();
    this.settleOneway(now);
    const incoming: CountsReport["incoming"] = [];
    const expecting: NonNullable<CountsReport["expecting"]> = [];
    for (const s of this.receiver.streams()) {
      for (const r of this.receiver.records(s)) incoming.push([s.path.id, s.af, s.path.from, r.nonce, r.received, r.lost, r.next]);
      expecting.push([s.path.id, s.af, Math.max(0, Math.floor((now - s.sinceNs) / 1e6))]);
    }
    return {
      schema: COUNTS_SCHEMA,
      version: COUNTS_VERSION,
      prober,
      nonce: this.nonce,
      generation: this.generation(),
      time: Date.now(),
      paths: this.order.map((e) => {
        const c = e.tracker.counters;
        const lost = c.lost - e.unknown;
        return [e.path.id, e.af, e.className, c.received + c.late + lost, lost];
      }),
      oneway: [...this.owByKey.values()].map((o) => [o.path.id, o.af, o.counter.settled]),
      incoming,
      expecting,
      timeout: this.cfg.timeout,
    };
  }

  /** The one-way (path, family) entries being sent (lsprobe_oneway_sent_total). */
  onewaySent(): Array<{ path: string; af: Family; to: string; sent: number }> {
    return [...this.owByKey.values()].map((o) => ({ path: o.path.id, af: o.af, to: o.to, sent: o.counter.sent }));
  }

  /** For /paths: the one-way paths sent and received, with their counts. */
  describeOneway(): { sending: unknown[]; receiving: unknown[] } {
    return {
      sending: [...this.owByKey.values()].map((o) => ({ path: o.path.id, af: o.af, to: o.to, src: o.path.src, dst: o.path.dst, firstHop: o.firstHop, ratePps: this.rateOf(o.path), sent: o.counter.sent, settled: o.counter.settled })),
      receiving: this.receiver.streams().map((s) => ({
        path: s.path.id,
        af: s.af,
        from: s.path.from,
        ...this.receiver.totals(s),
        senders: (s.current ? [s.current, ...s.retired] : s.retired).map((r) => ({ nonce: r.nonce, received: r.received, lost: r.lost, late: r.late, duplicate: r.duplicate, next: r.next })),
      })),
    };
  }

  /** The incoming one-way paths, with their totals since start and delay histogram (clock-synced). */
  onewayIncoming(): Array<{ path: string; af: Family; from: string; received: number; lost: number; delay?: RttHistogram }> {
    return this.receiver.streams().map((s: IncomingStream) => {
      const t = this.receiver.totals(s);
      return { path: s.path.id, af: s.af, from: s.path.from, received: t.received, lost: t.lost, ...(this.cfg.clockSynced ? { delay: s.delay } : {}) };
    });
  }

  /** Suspect links, the lossiest first (for /paths and tests). */
  rankedSuspects(): LinkState[] {
    return [...this.suspectState.values()].filter((s) => s.suspect).sort((a, b) => b.loss - a.loss || (a.link < b.link ? -1 : a.link > b.link ? 1 : 0) || (a.af < b.af ? -1 : a.af > b.af ? 1 : 0));
  }

  /** For /paths: each entry's state. */
  describe(): unknown[] {
    return this.order.map((e) => ({
      path: e.path.id,
      class: e.className,
      af: e.af,
      src: e.path.src,
      dst: e.path.dst,
      hops: e.info.hops,
      returns: e.returns,
      encap: e.encap,
      ...(e.encapFallback !== undefined ? { encapFallback: e.encapFallback } : {}),
      ratePps: this.rateOf(e.path),
      state: e.held || e.up === null ? "unknown" : e.up ? "up" : "down",
      ...(e.held ? { held: "reply flood" } : {}),
      lastRttSeconds: Number.isNaN(e.tracker.lastRtt) ? null : e.tracker.lastRtt,
      rttP50Seconds: rttQuantile(e, 0.5),
      rttP99Seconds: rttQuantile(e, 0.99),
      lossRatio: Number.isNaN(e.window.ratio()) ? null : e.window.ratio(),
      ...e.tracker.counters,
      lost: e.tracker.counters.lost - e.unknown,
      unknown: e.unknown,
      inFlight: e.tracker.inFlight,
      ...(this.tracer.lastOf(e.key) ? { trace: this.tracer.lastOf(e.key) } : {}),
    }));
  }

  // ---- pinned traces (trace.ts) ----

  private readonly tracer: Tracer;
  /** The trace pace the scheduler's cap was last lowered by. */
  private traceCapApplied = 0;
  /** Keyed by `${af}/${router}`. */
  private decapState = new Map<string, RouterDecap & { af: Family }>();

  private makeTracer(): Tracer {
    return new Tracer(
      {
        probesPerHop: TRACE_DEFAULTS.probesPerHop,
        // Half of max-pps at most, so that regular probes keep at least the other half.
        pps: Math.min(TRACE_DEFAULTS.pps, this.cfg.maxPps / 2),
        waitNs: this.cfg.timeout * 2e6,
        maxRunning: TRACE_DEFAULTS.maxRunning,
        maxQueued: TRACE_DEFAULTS.maxQueued,
        autoCooldownNs: TRACE_DEFAULTS.autoCooldownS * 1e9,
        lossyAbove: this.cfg.lossyAbove,
      },
      this.nonce,
      this.mac,
    );
  }

  /**
   * The scheduler's cap: max-pps (or the prober's own lower limit while replies are dropped),
   * less what running traces take, so that probes and traces together stay within max-pps
   * (traces take at most half of it).
   */
  private applySendCap(now: number): void {
    const cap = Math.min(this.cfg.maxPps, this.sendLimit);
    this.traceCapApplied = this.tracer.pps;
    this.scheduler.setMaxPps(Math.max(cap - this.traceCapApplied, cap / 2), now);
  }

  /** A datagram at the probe port rejected for `reason` (counted for the flood detector too). */
  private reject(reason: RejectReason): void {
    this.rejectedTotal++;
    this.rejected[reason]++;
  }

  /** With a key, flag M clear: bad_mac, told before the MAC's cost. */
  private macFlagMissing(payload: Buffer): boolean {
    return this.mac !== undefined && !payloadHasMac(payload);
  }

  /** With a key, a MAC that does not verify. */
  private macWrong(payload: Buffer): boolean {
    return this.mac !== undefined && !this.mac.verify(payload);
  }

  private countTraceReply(v: "accepted" | RejectReason): void {
    if (v === "accepted") this.acceptedTotal++;
    else {
      if (v === "expired") this.acceptedTotal++;
      else this.rejectedTotal++;
      this.rejected[v]++;
    }
  }

  /** Ask for a trace of entry `e` (trace.ts Tracer.request: one a path, a budget, a cooldown for automatic ones). */
  requestTrace(e: Entry, trigger: TraceTrigger): { state: TraceRequestState; id?: number } {
    const now = this.io.nowNs();
    const r = this.tracer.request(
      e.key,
      () => ({
        key: e.key,
        path: e.path.id,
        class: e.className,
        af: e.af,
        hops: String(e.info.hops),
        returns: e.returns,
        hopInfo: traceHops({ hops: e.path.hops, links: e.path.links, gre: e.targets.gre }),
        template: (k, pathIndex) => this.traceTemplate(e, k, pathIndex),
      }),
      trigger,
      now,
    );
    if (r.state === "started" || r.state === "queued") this.io.log.info("trace started", { path: e.path.id, hops: e.info.hops, class: e.className, af: e.af, trigger, id: r.id, queued: r.state === "queued" });
    if (this.tracer.pps !== this.traceCapApplied) this.applySendCap(now);
    return r;
  }

  /**
   * The entry of a path id or its hops ("r1>r2>r4>r6"), in `className` (default: the first
   * class) and family `af` (default: IPv4 when probed in it, else IPv6).
   */
  entryFor(path: string, className?: string, af?: Family): Entry | undefined {
    const match = (e: Entry): boolean => (e.path.id === path || e.info.hops === path) && (className === undefined || e.className === className) && (af === undefined || e.af === af);
    return this.order.find((e) => match(e) && (af !== undefined || e.af === "ipv4")) ?? this.order.find(match);
  }

  /** The probe of hop k of a trace of `e`: its truncated stack, built as the entry's own (trace.ts truncatedStack), in its family. */
  private traceTemplate(e: Entry, k: number, pathIndex: number): TraceTemplate {
    const dscp = this.cfg.classes.find((c) => c.name === e.className)?.dscp ?? 0;
    if (e.encap === "srv6" || e.encap === "sr-mpls") return this.srTemplate(e.encap, e.af, e.targets, e.returns === "reverse", k, dscp, pathIndex);
    const layers = truncatedStack(e.targets, k, e.returns);
    return this.template(e.af, e.path, layers, dscp, pathIndex);
  }

  /** Sends the trace probes due now and reports the traces that finished: beside tick(), from the same loop. */
  traceTick(): number {
    const now = this.io.nowNs();
    const before = this.tracer.sent;
    const done = this.tracer.tick(now, (pkt, dst, af) => this.io.send(pkt, dst, af));
    for (const r of done) this.logTrace(r);
    if (done.length > 0) this.judgeRouters();
    if (this.tracer.pps !== this.traceCapApplied) this.applySendCap(now);
    return this.tracer.sent - before;
  }

  private logTrace(r: TraceResult): void {
    const fields = {
      path: r.path,
      hops: r.hops,
      class: r.class,
      af: r.af,
      trigger: r.trigger,
      perHop: r.perHop.map((h) => `${h.k}:${h.from}->${h.to}:${h.received}/${h.sent}`).join(","),
      ...(r.failing ? { failingHop: r.failing.k, from: r.failing.from, to: r.failing.to } : {}),
    };
    if (r.failing) this.io.log.warn(r.summary, fields);
    else this.io.log.info(r.summary, fields);
  }

  /** After each inference: trace the paths across links that just became suspect; forget gone paths' traces; judge the routers. */
  private afterInference(changed: ReadonlyArray<{ link: string; af: Family; suspect: boolean }>): void {
    for (const c of changed) {
      if (!c.suspect) continue;
      for (const e of this.order) if (e.af === c.af && e.links.some((l) => l.id === c.link)) this.requestTrace(e, "suspect");
    }
    this.tracer.retain((key) => this.byKey.has(key));
    this.judgeRouters();
  }

  /**
   * Which routers decapsulate (trace.ts judgeDecap), from every entry's state and last trace,
   * per family (a router may strip IPv4 GRE and not IPv6's); changes logged.
   */
  private judgeRouters(): void {
    const judged: Array<RouterDecap & { af: Family }> = [];
    for (const af of ["ipv4", "ipv6"] as const) {
      const entries = this.order.filter((e) => e.af === af);
      if (entries.length === 0) continue;
      const verdicts = judgeDecap(
        entries.map((e) => ({
          hops: e.path.hops.map((h) => h.name),
          addresses: e.targets.gre.map((g) => g.address),
          up: e.held ? null : e.up,
          trace: this.tracer.lastOf(e.key)?.perHop,
        })),
      );
      for (const r of verdicts) judged.push({ ...r, af });
    }
    for (const r of judged) {
      const was = this.decapState.get(`${r.af}/${r.router}`)?.ok ?? true;
      if (was && !r.ok)
        this.io.log.error("router does not decapsulate: a configuration problem, not a link failure (every trace that reaches it stops right before it, from every direction, and other paths work); its links raise no link alert", {
          router: r.router,
          af: r.af,
          addresses: r.failingAddresses.join(","),
          from: r.from.join(","),
          fix: `configure decapsulation of the probes' ${r.af === "ipv6" ? "IPv6 " : ""}tunnel layers on it, from the prober's address (lsprobe-plugin routers --vendor VENDOR --router NAME; docs/routers.md)`,
        });
      else if (!was && r.ok) this.io.log.info("router decapsulates again", { router: r.router, af: r.af });
    }
    this.decapState = new Map(judged.map((r) => [`${r.af}/${r.router}`, r]));
  }

  /** Every router on a probed path, per family: decapsulating (ok) or not, for /paths and lsprobe_router_decap_ok. */
  routerDecap(): Array<RouterDecap & { af: Family }> {
    return [...this.decapState.values()];
  }

  /** The last trace of each probed (path, class). */
  traces(): TraceResult[] {
    return this.order.flatMap((e) => this.tracer.lastOf(e.key) ?? []);
  }

  /** The finished trace `id` (one of the last 64), for /trace. */
  traceResult(id: number): TraceResult | undefined {
    return this.tracer.result(id);
  }

  /** Traces started, by trigger. */
  tracesStarted(): Record<TraceTrigger, number> {
    return { ...this.tracer.started };
  }
}

/**
 * prober.max-paths: keep the first `max` wanted entries in (src, dst, path id, af, class) order
 * (plain code-unit comparison, so the same set keeps the same entries on every prober and at
 * every swap), delete the rest from `want`; returns how many were left out. One-way entries
 * have no class.
 */
export function capEntries(want: Map<string, { path: Path; cls?: { name: string }; af: Family }>, max: number): number {
  if (want.size <= max) return 0;
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const order = [...want].sort(
    ([, a], [, b]) => cmp(a.path.src, b.path.src) || cmp(a.path.dst, b.path.dst) || cmp(a.path.id, b.path.id) || cmp(a.af, b.af) || cmp(a.cls?.name ?? "", b.cls?.name ?? ""),
  );
  for (const [key] of order.slice(max)) want.delete(key);
  return order.length - max;
}

/** What the metrics read: the prober in force, which a reload replaces. */
export class CurrentProber implements ProberState {
  constructor(public prober: Prober) {}
  entries(): Iterable<Entry> {
    return this.prober.entries();
  }
  get rejected(): ProberState["rejected"] {
    return this.prober.rejected;
  }
  generation(): number {
    return this.prober.generation();
  }
  pathsetAge(): number {
    return this.prober.pathsetAge();
  }
  skipped(): number {
    return this.prober.skipped();
  }
  replyDrops(): number {
    return this.prober.replyDrops();
  }
  replyDropsByCause(): ReplyDrops {
    return this.prober.replyDropsByCause();
  }
  replyFlood(): boolean {
    return this.prober.replyFlood();
  }
  plan(): ReturnType<ProberState["plan"]> {
    return this.prober.plan();
  }
  families(): readonly Family[] {
    return this.prober.families();
  }
  suspects(): ReturnType<ProberState["suspects"]> {
    return this.prober.suspects();
  }
  traces(): TraceResult[] {
    return this.prober.traces();
  }
  routerDecap(): Array<RouterDecap & { af: Family }> {
    return this.prober.routerDecap();
  }
  tracesStarted(): Record<TraceTrigger, number> {
    return this.prober.tracesStarted();
  }
  rttHistogram(): ReturnType<Prober["rttHistogram"]> {
    return this.prober.rttHistogram();
  }
  pathsLeftOut(): number {
    return this.prober.pathsLeftOut();
  }
  onewaySent(): ReturnType<Prober["onewaySent"]> {
    return this.prober.onewaySent();
  }
  onewayIncoming(): ReturnType<Prober["onewayIncoming"]> {
    return this.prober.onewayIncoming();
  }
}
