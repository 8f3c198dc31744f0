// What the plugin exposes to Prometheus (prom-client) on plugin.listen, and its /healthz.
//
// Everything is read at scrape time (collect) from the engine's stats and accessors and from
// the shell's view of its outputs, so ingesting a line costs no label hashing; only the
// recompute histogram is observed as it happens (engine.onRecompute, a few times a second at
// most). Names: a lsprobe_plugin_ prefix, base units (seconds), `_total` only on counters;
// every label has a small bounded set of values (peers, configured endpoints, outputs, kinds).
import { Counter, Gauge, Histogram, Registry, exponentialBuckets } from "prom-client";
import type { Engine } from "./engine.js";
import { MALFORMED_REASONS } from "./exabgp/decode.js";
import { metricsRoute, type Route } from "../shared/http.js";
import { registerStandardMetrics } from "../shared/metrics.js";
import type { OutputHealth } from "./publish/outputs.js";

export type { OutputHealth };

/** What the metrics read: the engine, and what only the shell knows. */
export interface PluginView {
  engine: Engine;
  /** The outputs configured now (absent ones, e.g. socket: null, are not listed). */
  outputs(): readonly OutputHealth[];
  /** Clients subscribed to the path-set socket. */
  subscribers(): number;
  /** Did the last configuration load (start, SIGHUP, file change) succeed? */
  configOk(): boolean;
  /** Unexpected errors survived (uncaughtException, unhandledRejection); absent: 0. */
  internalErrors?(): number;
  /** ms since the epoch (default Date.now): the clock of lsprobe_plugin_pathset_age_seconds. */
  now?(): number;
}

/** The `state` label of lsprobe_plugin_peer_state: ExaBGP's neighbor-changes states, and other. */
export const PEER_STATES = ["connected", "up", "down", "other"] as const;
/** The `kind` label of lsprobe_plugin_nlri_skipped_total (decode.ts NlriProblem kinds). */
export const NLRI_SKIP_KINDS = ["bad-nlri", "unknown-nlri-type", "other-family"] as const;
/** Recompute durations: 1 ms doubling to 32.8 s. */
export const RECOMPUTE_BUCKETS = exponentialBuckets(0.001, 2, 16);

export class PluginMetrics {
  readonly registry = new Registry();
  private readonly unsubscribe: () => void;

  constructor(private readonly view: PluginView) {
    const r = [this.registry];
    const engine = view.engine;

    new Gauge({
      name: "lsprobe_plugin_peer_up",
      help: "1 when the BGP-LS session with the peer is up (ExaBGP's last state message said so, or its updates arrive), 0 otherwise.",
      labelNames: ["peer"],
      registers: r,
      collect() {
        this.reset();
        for (const p of engine.peers()) this.set({ peer: p.peer }, p.state === "up" ? 1 : 0);
      },
    });
    new Gauge({
      name: "lsprobe_plugin_peer_state",
      help: "1 for the peer's current session state (connected: TCP up, up: BGP established, down, other), 0 for the others.",
      labelNames: ["peer", "state"],
      registers: r,
      collect() {
        this.reset();
        for (const p of engine.peers()) {
          const now = (PEER_STATES as readonly string[]).includes(p.state) ? p.state : "other";
          for (const state of PEER_STATES) this.set({ peer: p.peer, state }, state === now ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: "lsprobe_plugin_lsdb_objects",
      help: "BGP-LS objects in the link-state database, by kind (node, link, prefix; snapshot entries included).",
      labelNames: ["kind"],
      registers: r,
      collect() {
        const c = engine.db.counts();
        this.set({ kind: "node" }, c.nodes);
        this.set({ kind: "link" }, c.links);
        this.set({ kind: "prefix" }, c.prefixes);
      },
    });
    new Gauge({
      name: "lsprobe_plugin_links_invalid",
      help: "Links of the last topology refused because their advertisement is invalid (a metric out of range).",
      registers: r,
      collect() {
        this.set(engine.stats.linksInvalid);
      },
    });
    new Counter({
      name: "lsprobe_plugin_lines_total",
      help: "Lines read from ExaBGP (JSON messages and command replies).",
      registers: r,
      collect() {
        this.reset();
        this.inc(engine.stats.lines);
      },
    });
    new Counter({
      name: "lsprobe_plugin_malformed_lines_total",
      help: "Lines skipped as malformed, by reason: too_long, invalid_json, not_object, bad_shape (an ExaBGP message without its type, neighbor, state or message), internal (an unexpected error: a bug).",
      labelNames: ["reason"],
      registers: r,
      collect() {
        this.reset();
        const by = engine.stats.malformedByReason;
        // The shell counts the lines it failed on in stats.malformed alone: those are internal.
        let known = 0;
        for (const reason of MALFORMED_REASONS) known += by[reason];
        for (const reason of MALFORMED_REASONS) this.inc({ reason }, by[reason] + (reason === "internal" ? Math.max(0, engine.stats.malformed - known) : 0));
      },
    });
    new Counter({
      name: "lsprobe_plugin_repaired_lines_total",
      help: "Lines of invalid JSON from ExaBGP 4.2 (unescaped quote in a node or link name) repaired and used.",
      registers: r,
      collect() {
        this.reset();
        this.inc(engine.stats.repaired);
      },
    });
    new Counter({
      name: "lsprobe_plugin_nlri_skipped_total",
      help: "NLRIs skipped inside otherwise good updates, by kind: bad-nlri (cannot be decoded), unknown-nlri-type (a BGP-LS type lsprobe does not use), other-family (not BGP-LS).",
      labelNames: ["kind"],
      registers: r,
      collect() {
        this.reset();
        const sum = Object.fromEntries(NLRI_SKIP_KINDS.map((k) => [k, 0])) as Record<string, number>;
        for (const [key, n] of Object.entries(engine.stats.nlriProblems)) {
          const kind = key.slice(0, key.indexOf(":"));
          if (kind in sum) sum[kind] += n;
        }
        for (const kind of NLRI_SKIP_KINDS) this.inc({ kind }, sum[kind]);
      },
    });
    const recompute = new Histogram({
      name: "lsprobe_plugin_recompute_duration_seconds",
      help: "Time to recompute the path set after a change (topology and paths, time slices included), whether or not it published a generation.",
      buckets: RECOMPUTE_BUCKETS,
      registers: r,
    });
    this.unsubscribe = engine.onRecompute((x) => recompute.observe(x.seconds));
    new Gauge({
      name: "lsprobe_plugin_pathset_generation",
      help: "Generation of the path set in force (continues across restarts).",
      registers: r,
      collect() {
        this.set(engine.generation);
      },
    });
    new Gauge({
      name: "lsprobe_plugin_pathset_age_seconds",
      help: "Seconds since the path set in force was published by this process (NaN before its first).",
      registers: r,
      collect() {
        const t = engine.current ? Date.parse(engine.current.time) : NaN;
        this.set(Number.isFinite(t) ? Math.max(0, ((view.now?.() ?? Date.now()) - t) / 1000) : NaN);
      },
    });
    new Gauge({
      name: "lsprobe_plugin_paths",
      help: "Paths in the path set in force (NaN before its first).",
      registers: r,
      collect() {
        this.set(engine.current ? engine.current.paths.length : NaN);
      },
    });
    new Gauge({
      name: "lsprobe_plugin_pairs_unresolved",
      help: "Directed endpoint pairs of the configuration with an endpoint that matched no node in the last computation (NaN before the first).",
      registers: r,
      collect() {
        this.set(engine.unresolvedPairs() ?? NaN);
      },
    });
    new Gauge({
      name: "lsprobe_plugin_endpoint_resolved",
      help: "1 when the configured endpoint matched a node (name, router id, address or prefix) in the last computation, 0 when it matched none or several.",
      labelNames: ["endpoint"],
      registers: r,
      collect() {
        this.reset();
        for (const e of engine.endpoints()) this.set({ endpoint: e.endpoint }, e.resolved ? 1 : 0);
      },
    });
    new Counter({
      name: "lsprobe_plugin_output_errors_total",
      help: "Failed attempts to write an output (file, socket, state-file), retries included.",
      labelNames: ["output"],
      registers: r,
      collect() {
        this.reset();
        for (const o of view.outputs()) this.inc({ output: o.output }, o.errors);
      },
    });
    new Gauge({
      name: "lsprobe_plugin_output_ok",
      help: "1 when the output's last write (or listen) succeeded, 0 while it is failing and being retried.",
      labelNames: ["output"],
      registers: r,
      collect() {
        this.reset();
        for (const o of view.outputs()) this.set({ output: o.output }, o.ok ? 1 : 0);
      },
    });
    new Gauge({
      name: "lsprobe_plugin_socket_subscribers",
      help: "Clients subscribed to the path-set socket (the probers).",
      registers: r,
      collect() {
        this.set(view.subscribers());
      },
    });
    new Gauge({
      name: "lsprobe_plugin_configured",
      help: "1 when a valid configuration is in force, 0 while the plugin waits for one (it keeps the LSDB, computes nothing).",
      registers: r,
      collect() {
        this.set(engine.configured ? 1 : 0);
      },
    });
    new Gauge({
      name: "lsprobe_config_last_reload_successful",
      help: "1 when the last configuration load (start, SIGHUP, file change) succeeded.",
      registers: r,
      collect() {
        this.set(view.configOk() ? 1 : 0);
      },
    });
    new Counter({
      name: "lsprobe_plugin_internal_errors_total",
      help: "Unexpected errors the plugin survived (a bug: please report it; the log has the stack).",
      registers: r,
      collect() {
        this.reset();
        this.inc(view.internalErrors?.() ?? 0);
      },
    });
    // process_*, nodejs_* (lint-clean: promtool check metrics) and lsprobe_build_info.
    registerStandardMetrics(this.registry);
  }

  /** Why the plugin is not healthy: no valid configuration, or an output failing (empty: healthy). */
  problems(): string[] {
    const out: string[] = [];
    if (!this.view.engine.configured) out.push("no valid configuration: waiting for one (fix the file; it is re-read when it changes, or on SIGHUP)");
    for (const o of this.view.outputs()) if (!o.ok) out.push(`output ${o.output} ${o.path} failing: ${o.lastError ?? "unknown error"}`);
    return out;
  }

  /** The plugin's HTTP routes: /metrics, and /healthz (200 "ok", else 503 with one reason a line). */
  routes(): Route[] {
    return [
      metricsRoute(this.registry),
      {
        path: "/healthz",
        help: "200 ok when configured and every output works, else 503 and why",
        handler: () => {
          const p = this.problems();
          return p.length === 0 ? { body: "ok\n" } : { status: 503, body: p.join("\n") + "\n" };
        },
      },
    ];
  }

  /** Stop observing the engine. */
  close(): void {
    this.unsubscribe();
  }
}
