// What the prober exposes to Prometheus (prom-client).
//
// Hot counts live in the trackers' plain numbers and the entries' RTT histograms (typed
// arrays); the Prometheus metrics are rendered from them at scrape time (collect), so probing
// costs no label hashing. Every series of a path exists from the moment the path is probed
// (zeros), and disappears with the path.
// Names follow Prometheus conventions: base units (seconds), `_total` only on counters.
//
// Sizing (issue 14, docs/metrics.md): a per-path series carries path, class and af only; what
// describes the path (src, dst, hops) is on one lsprobe_path_info series per (path, af), joined
// in PromQL (`* on (job, instance, path, af) group_left (hops, src, dst) lsprobe_path_info`).
// The RTT histogram (23 series) is per path, per pair or off (prober.rtt-histogram).
import { Counter, Gauge, Registry, type LabelValues, type Metric } from "prom-client";
import type { PathTracker } from "./tracker.js";
import { RTT_BUCKETS, type RttHistogram } from "./rtthist.js";
import type { ProbePlan } from "../shared/pathset.js";
import type { RttHistogramMode } from "../shared/config.js";
import { registerStandardMetrics } from "../shared/metrics.js";
import type { TraceResult } from "./trace.js";

export { rttBuckets } from "./rtthist.js";

/** Every per-path series: `af` is the family of its probes, "ipv4" or "ipv6" (a dual-stack path has one entry a family). */
export const PATH_LABELS = ["path", "class", "af"] as const;
/** lsprobe_path_info: one series per probed (path, af), value 1; `pair` is "src>dst" (the dashboard's pair variable); `encap` how its probes are pinned (gre, ipip, gre+ipip, srv6, sr-mpls). */
export const PATH_INFO_LABELS = ["path", "af", "src", "dst", "pair", "hops", "encap"] as const;
/** lsprobe_probe_rtt_seconds under prober.rtt-histogram per-pair: the paths of a (src, dst, class, af) summed. */
export const PAIR_LABELS = ["src", "dst", "class", "af"] as const;
/**
 * Every per-link series: `af`, the family whose probes it was inferred from (each family's links
 * apart); `edge`, the link's two routers sorted and joined by "-" (edgeOf): both directions of a
 * link, and parallel links, share it, so Alertmanager groups them into one notification.
 */
export const LINK_LABELS = ["link", "from", "to", "edge", "af"] as const;

/** The undirected name of a link between routers `from` and `to`: "r2-r4" for r2 -> r4 and r4 -> r2. */
export function edgeOf(from: string, to: string): string {
  return from <= to ? `${from}-${to}` : `${to}-${from}`;
}
export type PathLabels = LabelValues<(typeof PATH_LABELS)[number]>;

/** Reasons a reply is rejected (the `reason` label of lsprobe_probes_rejected_total). */
export const REJECT_REASONS = ["malformed", "bad_mac", "unknown_path", "other_run", "duplicate", "replay", "expired"] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** One probed link: what the metrics read. */
export interface LinkView {
  link: string;
  from: string;
  to: string;
  af: string;
  suspect: boolean;
  loss: number;
  identifiable: boolean;
}

/** One probed (path, class): what the metrics read. */
export interface MetricEntry {
  labels: PathLabels;
  /** What describes the path: lsprobe_path_info's labels, and the per-pair histogram's key. */
  info: { src: string; dst: string; hops: string };
  /** How its probes are pinned (prober.encap, per path): lsprobe_path_info's encap; absent: not said. */
  encap?: string;
  tracker: PathTracker;
  rtt: RttHistogram;
  lossRatio(): number;
  /** The state reported, when it is not the tracker's (null: not known, e.g. a down held during a reply flood). */
  pathUp?(): boolean | null;
  /** Probes not back that may be a reply flood's, not the network's: counted apart from the lost ones. */
  unknownProbes?(): number;
  /** The links its probes cross (lsprobe_plan_unidentifiable_link's af). */
  links?: ReadonlyArray<{ id: string; parallel?: string[] }>;
}

export interface ProberState {
  entries(): Iterable<MetricEntry>;
  /** Rejections not attributable to a path (bad MAC, malformed, ...). */
  rejected: Record<RejectReason, number>;
  /** Probes not sent: the event loop fell behind (backlog forgiven) or too many in flight. */
  skipped(): number;
  /** Replies the kernel dropped at the probe socket (its buffer was full): counted as lost. */
  replyDrops(): number;
  /** The same by cause (prober.ts, flood.ts); without it, every drop is the prober's own. */
  replyDropsByCause?(): { self: number; flood: number };
  /** A flood of rejected datagrams is on at the probe port. */
  replyFlood?(): boolean;
  generation(): number;
  /** Seconds since the plugin last confirmed the set in force (0 while subscribed). */
  pathsetAge(): number;
  /** Every probed link as the last inference sees it. */
  suspects(): Iterable<LinkView>;
  /** The probe plan of the path set in force (plugin mode `plan`), if any. */
  plan(): ProbePlan | undefined;
  /** The families of the path set in force (version 3 `families`). */
  families?(): readonly string[];
  /** The last pinned trace of each probed path (trace.ts). */
  traces?(): Iterable<TraceResult>;
  /** Every router on a probed path: false when judged not decapsulating (trace.ts judgeDecap). */
  routerDecap?(): Iterable<{ router: string; ok: boolean; af?: string }>;
  /** Traces started, by trigger (down, suspect, demand). */
  tracesStarted?(): Record<string, number>;
  /** prober.rtt-histogram in force (default per-path). */
  rttHistogram?(): RttHistogramMode;
  /** Entries of the path set in force left out by prober.max-paths (0: the cap does not bind). */
  pathsLeftOut?(): number;
  /** One-way paths it sends (path set version 5 `oneway`), per family: probes sent. */
  onewaySent?(): Iterable<{ path: string; af: string; to: string; sent: number }>;
  /** One-way paths other probers send it (`incoming`), per family: totals since start; `delay` with prober.clock-synced. */
  onewayIncoming?(): Iterable<{ path: string; af: string; from: string; received: number; lost: number; delay?: RttHistogram }>;
}

type Sample = { metricName: string; labels: Record<string, string | number>; value: number };

/** One histogram's samples: cumulative buckets, +Inf, _sum and _count. */
function pushHistogram(values: Sample[], name: string, le: readonly string[], labels: Record<string, string>, counts: ArrayLike<number>, sum: number, count: number): void {
  let cum = 0;
  for (let i = 0; i < le.length; i++) {
    cum += counts[i];
    values.push({ metricName: `${name}_bucket`, labels: { le: le[i], ...labels }, value: cum });
  }
  values.push({ metricName: `${name}_bucket`, labels: { le: "+Inf", ...labels }, value: count });
  values.push({ metricName: `${name}_sum`, labels, value: sum });
  values.push({ metricName: `${name}_count`, labels, value: count });
}

/** One histogram's series with its samples: `collect` pushes each label set's buckets at scrape time. */
type PushSeries = (labels: Record<string, string>, counts: ArrayLike<number>, sum: number, count: number) => void;

/** A custom histogram metric (prom-client's custom-metric interface) on RTT_BUCKETS, whose samples `collect` gives at scrape time. */
function histogramMetric(name: string, help: string, collect: (push: PushSeries) => void): Metric<string> {
  const le = RTT_BUCKETS.map(String);
  return {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    async get() {
      const values: Sample[] = [];
      collect((labels, counts, sum, count) => pushHistogram(values, name, le, labels, counts, sum, count));
      return { name, help, type: "histogram", aggregator: "sum", values };
    },
  } as unknown as Metric<string>;
}

/** lsprobe_oneway_delay_seconds: the incoming one-way paths' delay histograms (prober.clock-synced only). */
function onewayDelayMetric(state: ProberState): Metric<string> {
  const help = "One-way delay of the probes other probers send this one (arrival minus the sender's send time, both realtime): only with prober.clock-synced, whose clocks it trusts.";
  return histogramMetric("lsprobe_oneway_delay_seconds", help, (push) => {
    for (const s of state.onewayIncoming?.() ?? []) if (s.delay) push({ path: s.path, af: s.af, from: s.from }, s.delay.counts, s.delay.sum, s.delay.count);
  });
}

/**
 * A Prometheus histogram rendered from the entries' RttHistograms: per path (labels path, class,
 * af), per pair (src, dst, class, af: the pair's paths summed at scrape time) or none
 * (prober.rtt-histogram).
 */
function rttHistogramMetric(state: ProberState): Metric<string> {
  const help = "Round-trip time of probes back within the timeout (late ones included); per path, or per (src, dst, class, af) pair, or absent (prober.rtt-histogram).";
  return histogramMetric("lsprobe_probe_rtt_seconds", help, (push) => {
    const mode = state.rttHistogram?.() ?? "per-path";
    if (mode === "per-path") {
      for (const e of state.entries()) push(e.labels as Record<string, string>, e.rtt.counts, e.rtt.sum, e.rtt.count);
    } else if (mode === "per-pair") {
      const pairs = new Map<string, { labels: Record<string, string>; counts: Float64Array; sum: number; count: number }>();
      for (const e of state.entries()) {
        const cls = String(e.labels.class);
        const af = String(e.labels.af);
        const key = `${e.info.src}\0${e.info.dst}\0${cls}\0${af}`;
        let p = pairs.get(key);
        if (!p) pairs.set(key, (p = { labels: { src: e.info.src, dst: e.info.dst, class: cls, af }, counts: new Float64Array(e.rtt.counts.length), sum: 0, count: 0 }));
        for (let i = 0; i < p.counts.length; i++) p.counts[i] += e.rtt.counts[i];
        p.sum += e.rtt.sum;
        p.count += e.rtt.count;
      }
      for (const p of pairs.values()) push(p.labels, p.counts, p.sum, p.count);
    }
  });
}

export class ProberMetrics {
  readonly registry = new Registry();

  constructor(state: ProberState) {
    const r = [this.registry];
    const perPath = (name: string, help: string, read: (t: PathTracker, e: MetricEntry) => number): void => {
      new Counter({
        name,
        help,
        labelNames: PATH_LABELS,
        registers: r,
        collect() {
          this.reset();
          for (const e of state.entries()) this.inc(e.labels, read(e.tracker, e));
        },
      });
    };
    const unknown = (e: MetricEntry): number => e.unknownProbes?.() ?? 0;
    perPath("lsprobe_probes_sent_total", "Probes sent.", (t) => t.counters.sent);
    perPath("lsprobe_probes_received_total", "Probes back within the timeout.", (t) => t.counters.received);
    perPath("lsprobe_probes_lost_total", "Probes never back (final after twice the timeout), except the unknown ones.", (t, e) => t.counters.lost - unknown(e));
    perPath(
      "lsprobe_probes_unknown_total",
      "Probes never back whose replies may have been dropped at the prober's socket during a reply flood: lost by the network or by the flood, not known; not counted as lost.",
      (_t, e) => unknown(e),
    );
    perPath("lsprobe_probes_late_total", "Probes back after the timeout but before being declared lost.", (t) => t.counters.late);
    perPath("lsprobe_probes_out_of_order_total", "Replies that arrived after a later probe's reply.", (t) => t.counters.outOfOrder);

    new Counter({
      name: "lsprobe_probes_rejected_total",
      help: "Replies rejected, by reason (never counted as received).",
      labelNames: ["reason"],
      registers: r,
      collect() {
        this.reset();
        const sum = { ...state.rejected };
        for (const e of state.entries()) {
          sum.duplicate += e.tracker.counters.duplicate;
          sum.replay += e.tracker.counters.replay;
          sum.expired += e.tracker.counters.expired;
        }
        for (const reason of REJECT_REASONS) this.inc({ reason }, sum[reason]);
      },
    });

    this.registry.registerMetric(rttHistogramMetric(state));
    new Counter({
      name: "lsprobe_probes_skipped_total",
      help: "Probes not sent because the prober fell behind its schedule (its CPU is the limit).",
      registers: r,
      collect() {
        this.reset();
        this.inc(state.skipped());
      },
    });

    new Counter({
      name: "lsprobe_reply_drops_total",
      help: "Datagrams the kernel dropped at the prober's reply socket (its receive buffer was full), by cause: self (no flood on: the prober's own doing, it slows down; those probes count as lost) or flood (during a reply flood; those probes count as unknown).",
      labelNames: ["cause"],
      registers: r,
      collect() {
        this.reset();
        const by = state.replyDropsByCause?.() ?? { self: state.replyDrops(), flood: 0 };
        this.inc({ cause: "self" }, by.self);
        this.inc({ cause: "flood" }, by.flood);
      },
    });
    new Gauge({
      name: "lsprobe_reply_flood",
      help: "1 while a flood of datagrams the prober rejects (more than replies, and at least 1000/s) arrives at the probe port; lsprobe_probes_rejected_total says why they are rejected.",
      registers: r,
      collect() {
        this.set(state.replyFlood?.() ? 1 : 0);
      },
    });

    new Gauge({
      name: "lsprobe_path_up",
      help: "1 when the path forwards, 0 when down (N consecutive probes missing); NaN until known, and while a down verdict is held during a reply flood.",
      labelNames: PATH_LABELS,
      registers: r,
      collect() {
        this.reset();
        for (const e of state.entries()) {
          const up = e.pathUp ? e.pathUp() : e.tracker.up;
          this.set(e.labels, up === null ? NaN : up ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: "lsprobe_path_loss_ratio",
      help: "Share of probes lost over the sliding loss window.",
      labelNames: PATH_LABELS,
      registers: r,
      collect() {
        this.reset();
        for (const e of state.entries()) this.set(e.labels, e.lossRatio());
      },
    });
    new Gauge({
      name: "lsprobe_path_rtt_last_seconds",
      help: "RTT of the last reply.",
      labelNames: PATH_LABELS,
      registers: r,
      collect() {
        this.reset();
        for (const e of state.entries()) this.set(e.labels, e.tracker.lastRtt);
      },
    });
    new Gauge({
      name: "lsprobe_path_info",
      help: "1 for each probed (path, af): its src, dst, pair (src>dst), hops (e.g. r1>r2>r4>r6) and encap (gre, ipip, gre+ipip, srv6, sr-mpls: how its probes are pinned), which the per-path series do not carry; join with * on (job, instance, path, af) group_left (hops, src, dst) lsprobe_path_info.",
      labelNames: PATH_INFO_LABELS,
      registers: r,
      collect() {
        this.reset();
        for (const e of state.entries()) {
          const { src, dst, hops } = e.info;
          this.set({ path: String(e.labels.path), af: String(e.labels.af), src, dst, pair: `${src}>${dst}`, hops, ...(e.encap !== undefined ? { encap: e.encap } : {}) }, 1);
        }
      },
    });
    new Gauge({
      name: "lsprobe_paths",
      help: "Paths (times classes) being probed.",
      registers: r,
      collect() {
        let n = 0;
        for (const _ of state.entries()) n++;
        this.set(n);
      },
    });
    new Gauge({
      name: "lsprobe_paths_capped",
      help: "1 while prober.max-paths binds: the path set in force has more paths (times classes and families) than the prober probes; lsprobe_paths_left_out says how many are left out.",
      registers: r,
      collect() {
        this.set((state.pathsLeftOut?.() ?? 0) > 0 ? 1 : 0);
      },
    });
    new Gauge({
      name: "lsprobe_paths_left_out",
      help: "Paths (times classes and families; one-way paths to other probers included) of the path set in force not probed because of prober.max-paths (the same ones every time: those after the first max-paths by src, dst, path id).",
      registers: r,
      collect() {
        this.set(state.pathsLeftOut?.() ?? 0);
      },
    });
    new Gauge({
      name: "lsprobe_pathset_generation",
      help: "Generation of the path set in force.",
      registers: r,
      collect() {
        this.set(state.generation());
      },
    });
    new Gauge({
      name: "lsprobe_pathset_age_seconds",
      help: "Seconds since the plugin last confirmed the path set in force (0 while subscribed to its socket).",
      registers: r,
      collect() {
        this.set(state.pathsetAge());
      },
    });
    const perLink = (name: string, help: string, read: (s: LinkView) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: LINK_LABELS,
        registers: r,
        collect() {
          this.reset();
          for (const s of state.suspects()) this.set({ link: s.link, from: s.from, to: s.to, edge: edgeOf(s.from, s.to), af: s.af }, read(s));
        },
      });
    };
    perLink("lsprobe_link_suspect", "1 when the link's estimated loss is at least prober.lossy-above and the data need it, significantly above the healthy background (it breaks the paths across it).", (s) => (s.suspect ? 1 : 0));
    perLink("lsprobe_link_loss_ratio", "Estimated loss ratio of the link over the loss window, inferred from every path's counts.", (s) => s.loss);
    for (const [name, help, read] of [
      ["lsprobe_plan_chosen_paths", "Probe plan (plugin mode plan): equal-cost paths chosen for probing.", (p: ProbePlan) => p.chosen],
      ["lsprobe_plan_candidate_paths", "Probe plan (plugin mode plan): equal-cost paths it chose from.", (p: ProbePlan) => p.candidates],
    ] as const) {
      new Gauge({
        name,
        help,
        registers: r,
        collect() {
          this.reset();
          const p = state.plan();
          if (p) this.set(read(p));
        },
      });
    }
    new Gauge({
      name: "lsprobe_plan_unidentifiable_link",
      help: "1 for a link the probe plan cannot tell apart from others (cause same-paths: always crossed together, e.g. in series or both directions out and back) or cannot see (budget); af: each family whose probed paths cross it (the path set's families when none does).",
      labelNames: [...LINK_LABELS, "cause"],
      registers: r,
      collect() {
        this.reset();
        const unidentifiable = state.plan()?.unidentifiable ?? [];
        if (unidentifiable.length === 0) return;
        // The plan names link ids; a link of one graph serving both families is probed in each.
        const probedIn = new Map<string, Set<string>>();
        for (const e of state.entries())
          for (const l of e.links ?? []) {
            const ids = l.parallel ?? [l.id];
            for (const id of ids) {
              let s = probedIn.get(id);
              if (!s) probedIn.set(id, (s = new Set()));
              s.add(String(e.labels.af));
            }
          }
        const fallback = state.families?.() ?? ["ipv4"];
        for (const u of unidentifiable)
          for (const l of u.links) for (const af of probedIn.get(l.id) ?? fallback) this.set({ link: l.id, from: l.from, to: l.to, edge: edgeOf(l.from, l.to), af, cause: u.cause }, 1);
      },
    });
    perLink("lsprobe_link_identifiable", "1 when the probed paths tell this link apart from every other (0: it always fails with others, e.g. both directions of a link under out-and-back probes).", (s) => (s.identifiable ? 1 : 0));
    // Pinned traces (trace.ts): the last trace of each path, per hop; the routers judged from them.
    const TRACE_LABELS = ["path", "class", "hops", "af"] as const;
    const HOP_LABELS = [...TRACE_LABELS, "hop", "from", "to"] as const;
    const perTrace = (name: string, help: string, read: (t: TraceResult) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: TRACE_LABELS,
        registers: r,
        collect() {
          this.reset();
          for (const t of state.traces?.() ?? []) this.set({ path: t.path, class: t.class, hops: t.hops, af: t.af }, read(t));
        },
      });
    };
    const perHop = (name: string, help: string, read: (h: TraceResult["perHop"][number]) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: HOP_LABELS,
        registers: r,
        collect() {
          this.reset();
          for (const t of state.traces?.() ?? [])
            for (const h of t.perHop) this.set({ path: t.path, class: t.class, hops: t.hops, af: t.af, hop: String(h.k), from: h.from, to: h.to }, read(h));
        },
      });
    };
    perHop("lsprobe_trace_hop_loss_ratio", "Last pinned trace of the path: share of the probes sent out to this hop (over its first `hop` links, and back the same way) that did not come back.", (h) => h.lossRatio ?? NaN);
    perHop("lsprobe_trace_hop_rtt_seconds", "Last pinned trace of the path: median RTT of the probes out to this hop and back (NaN: none came back).", (h) => h.rttP50Seconds ?? NaN);
    perTrace("lsprobe_trace_first_failing_hop", "Last pinned trace of the path: the first hop whose probes stop or lose significantly more than the hops before it (its link: from hops[k-1] to hops[k]); 0 when every hop answers.", (t) => t.firstLoss ?? 0);
    perTrace("lsprobe_trace_timestamp_seconds", "Last pinned trace of the path: when it finished (Unix time).", (t) => Date.parse(t.finishedAt) / 1000);
    new Counter({
      name: "lsprobe_traces_total",
      help: "Pinned traces started, by trigger: down (the path went down), suspect (it crosses a link that became suspect), demand (GET /trace).",
      labelNames: ["trigger"],
      registers: r,
      collect() {
        this.reset();
        const by = state.tracesStarted?.();
        if (by) for (const trigger of ["down", "suspect", "demand"]) this.inc({ trigger }, by[trigger] ?? 0);
      },
    });
    new Gauge({
      name: "lsprobe_router_decap_ok",
      help: "0 when the router is judged not decapsulating the probes' tunnel layers of family af (every trace that reaches it stops right before it, from at least two directions, while other paths work: a configuration problem; its links raise no link alert in that family), else 1. Every router on a probed path, per family probed.",
      labelNames: ["router", "af"],
      registers: r,
      collect() {
        this.reset();
        for (const d of state.routerDecap?.() ?? []) this.set({ router: d.router, af: d.af ?? "ipv4" }, d.ok ? 1 : 0);
      },
    });
    // One-way paths (issue 14, Must 4): what this prober sends, and what arrives from others.
    new Counter({
      name: "lsprobe_oneway_sent_total",
      help: "One-way probes sent to another prober (`to`) over a path pinned out with no way back; their fate is counted by the receiver (its lsprobe_oneway_received_total and lsprobe_oneway_lost_total).",
      labelNames: ["path", "af", "to"],
      registers: r,
      collect() {
        this.reset();
        for (const o of state.onewaySent?.() ?? []) this.inc({ path: o.path, af: o.af, to: o.to }, o.sent);
      },
    });
    const incoming = (name: string, help: string, read: (s: { received: number; lost: number }) => number): void => {
      new Counter({
        name,
        help,
        labelNames: ["path", "af", "from"],
        registers: r,
        collect() {
          this.reset();
          for (const s of state.onewayIncoming?.() ?? []) this.inc({ path: s.path, af: s.af, from: s.from }, read(s));
        },
      });
    };
    incoming("lsprobe_oneway_received_total", "One-way probes from another prober (`from`) that arrived (distinct sequences; duplicates are lsprobe_probes_rejected_total's).", (s) => s.received);
    incoming("lsprobe_oneway_lost_total", "One-way probes from another prober (`from`) missing for longer than prober.timeout after a later one arrived (a tail where nothing arrives at all is seen only by the one view, from the sender's counts).", (s) => s.lost);
    this.registry.registerMetric(onewayDelayMetric(state));
    // process_*, nodejs_* (lint-clean: promtool check metrics) and lsprobe_build_info.
    registerStandardMetrics(this.registry);
  }
}
