// The plugin's state machine: lines in, path sets out.
//
// decode -> LSDB -> (debounce) -> topology -> paths -> publish when the paths changed.
// I/O is injected (publishers, the ExaBGP command channel, the logger), so tests drive it
// line by line. Long computations run in time slices (slice.ts): the stdin reader keeps
// draining ExaBGP's pipe while a big topology is recomputed.
import type { PathSet } from "../shared/pathset.js";
import type { Logger } from "../shared/log.js";
import { decodeLine, MALFORMED_REASONS, MAX_LINE, type ExaEvent, type MalformedReason } from "./exabgp/decode.js";
import { routeRefreshCommand } from "./exabgp/commands.js";
import { Lsdb, SNAPSHOT_PEER } from "./lsdb.js";
import type { Graph, MetricKind } from "./topology.js";
import type { Family } from "../shared/pathset.js";
import { PathComputer, pathsDigest, topologySteps, type EndpointResolution, type PathQuery, type PathSetBody } from "./paths.js";
import { drain, runSliced, type Steps } from "./slice.js";
import { serializeSnapshot } from "./snapshot.js";

export interface EngineOptions {
  /** null: no valid configuration yet. The LSDB is still kept (ExaBGP never replays routes),
   *  nothing is computed or published until reconfigure() gives one. */
  query: PathQuery | null;
  metric: MetricKind;
  debounceMs: number;
  staleTimeoutMs: number;
  routeRefresh: boolean;
  /** Generation to continue from (last published, e.g. read back from the path-set file). */
  generation: number;
  /** Time slice for recomputation; 0 runs it in one go (tests). */
  sliceMs: number;
}

export interface EngineIo {
  log: Logger;
  /** Write one ExaBGP API command (the shell appends the newline and writes stdout). */
  command(line: string): void;
  /** Publish a new generation: file and socket. */
  publish(set: PathSet, text: string): Promise<void>;
  /** Persist the LSDB snapshot (absent: no snapshot). */
  saveSnapshot?(text: string): Promise<void>;
  now(): Date;
}

export interface EngineStats {
  lines: number;
  byEvent: Record<string, number>;
  malformed: number;
  /** The lines of `malformed` that decodeLine refused, by kind (the shell's own failures are not here). */
  malformedByReason: Record<MalformedReason, number>;
  repaired: number;
  nlriProblems: Record<string, number>;
  generations: number;
  recomputes: number;
  lastRecomputeMs: number;
  /** Links of the last topology refused for an invalid advertisement (a metric out of range). */
  linksInvalid: number;
  /** Lines refused because they named a peer past MAX_PEERS. */
  peersRefused: number;
}

/** One finished recomputation (published or not), for onRecompute() observers. */
export interface RecomputeInfo {
  /** Wall time from start to finish (time slices included). */
  seconds: number;
  /** A new generation was published. */
  published: boolean;
  pairsRecomputed: number;
}

/** How a configured endpoint resolved in the last computation. */
export interface EndpointStatus {
  endpoint: string;
  resolved: boolean;
  /** The node's name, when resolved. */
  node?: string;
  /** Why not, when not. */
  reason?: string;
}

/** A BGP peer as the engine knows it. */
export interface PeerStatus {
  peer: string;
  /** ExaBGP's last state message for it (connected, up, down); "up" for a peer whose updates
   *  came without one (this process started mid-session: ExaBGP relays established sessions only). */
  state: string;
}

/** Distinct peers the engine keeps state for; lines from more are refused. */
export const MAX_PEERS = 256;
/** Distinct keys of a counting table fed by input (message types, NLRI types); past them the
 *  rest are counted under "<kind>:other", the kinds being a closed set (so a few keys more). */
export const MAX_TABLE_KEYS = 64;

/** Count `key` in a table of at most MAX_TABLE_KEYS keys (input decides the keys: keep them few and short). */
function bump(table: Record<string, number>, key: string): void {
  let k = key.length > 80 ? `${key.slice(0, 77)}...` : key;
  if (!(k in table) && Object.keys(table).length >= MAX_TABLE_KEYS) k = `${k.split(":")[0]}:other`;
  table[k] = (table[k] ?? 0) + 1;
}

export class Engine {
  readonly db = new Lsdb();
  readonly stats: EngineStats = {
    lines: 0,
    byEvent: {},
    malformed: 0,
    malformedByReason: Object.fromEntries(MALFORMED_REASONS.map((r) => [r, 0])) as Record<MalformedReason, number>,
    repaired: 0,
    nlriProblems: {},
    generations: 0,
    recomputes: 0,
    lastRecomputeMs: 0,
    linksInvalid: 0,
    peersRefused: 0,
  };
  generation: number;
  current?: PathSet;
  private lastDigest?: string;
  private timer?: NodeJS.Timeout;
  /** When the pending recompute is due (performance.now() ms). */
  private due = 0;
  private staleTimer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private everHadData = false;
  private readonly peerState = new Map<string, string>();
  private readonly peersSeen = new Set<string>();
  private readonly refreshAsked = new Set<string>();
  private closed = false;
  /** Keeps the last run's pairs: a change recomputes only the pairs it can affect. */
  private paths: PathComputer;
  private started = false;
  /** The last run's graphs, by family, updated in place by the next (buildTopologySteps). */
  private graphs: Partial<Record<Family, Graph>> = {};
  /** Each configured endpoint as the last computation resolved it (empty before the first). */
  private resolution = new Map<string, EndpointStatus>();
  private readonly recomputeObservers = new Set<(r: RecomputeInfo) => void>();

  constructor(
    private opts: EngineOptions,
    private readonly io: EngineIo,
  ) {
    this.generation = opts.generation;
    this.paths = new PathComputer(opts.query ?? { pairs: [], mode: "all", maxPerPair: 1 });
  }

  /**
   * After a snapshot was loaded into db: publish from it at once, and age it out if no refresh
   * comes. Called by the shell once configured (reconfigure() calls it for a late first config).
   */
  start(): void {
    if (this.opts.query === null || this.started) return;
    this.started = true;
    if (this.db.countFor(SNAPSHOT_PEER) > 0) {
      this.everHadData = true;
      this.staleTimer = setTimeout(() => {
        const n = this.db.flushPeer(SNAPSHOT_PEER);
        if (n > 0) {
          this.io.log.warn("snapshot entries not refreshed in time; dropped", { entries: n, staleTimeoutMs: this.opts.staleTimeoutMs });
          this.schedule(0);
        }
      }, this.opts.staleTimeoutMs);
      this.staleTimer.unref();
      this.schedule(0);
    }
    // ExaBGP does not replay routes to a (re)started process; a refresh makes the peers resend.
    if (this.opts.routeRefresh) this.io.command(routeRefreshCommand());
  }

  /** Feed one line of ExaBGP's stream. Returns the event (for the shell: shutdown handling). */
  /** A line the shell refused unread (longer than MAX_LINE): counted and logged as malformed. */
  refuseLine(bytes: number, lineNo: number): void {
    this.stats.lines++;
    this.stats.malformed++;
    this.stats.malformedByReason.too_long++;
    this.io.log.warn("malformed line skipped", { line: lineNo, reason: `line of ${bytes} bytes exceeds ${MAX_LINE}`, category: "too_long" });
  }

  handleLine(line: string, lineNo: number): ExaEvent | undefined {
    this.stats.lines++;
    const r = decodeLine(line);
    if (!r.ok) {
      this.stats.malformed++;
      this.stats.malformedByReason[r.category]++;
      this.io.log.warn("malformed line skipped", { line: lineNo, reason: r.reason, category: r.category, excerpt: line.slice(0, 120) });
      return undefined;
    }
    if (r.repaired) {
      this.stats.repaired++;
      this.io.log.once(`repaired:${r.repaired.split(" (")[0]}`, "warn", "invalid JSON from ExaBGP repaired (known 4.2 quirk: unescaped quote in a node name or link name)", { line: lineNo });
    }
    const ev = r.event;
    const tag = ev.kind === "ignored" || ev.kind === "unknown" ? `${ev.kind}:${ev.type}` : ev.kind;
    bump(this.stats.byEvent, tag);
    if ("peer" in ev && ev.kind !== "notification" && !this.admitPeer(ev.peer, lineNo)) return undefined;
    this.apply(ev, lineNo);
    return ev;
  }

  /**
   * Every per-peer table grows with the peers, so their number is bounded: a plugin hears a
   * handful of BGP-LS speakers, and junk naming ever new peers must not grow memory without end.
   */
  private admitPeer(peer: string, lineNo: number): boolean {
    if (this.peersSeen.has(peer)) return true;
    if (this.peersSeen.size >= MAX_PEERS) {
      this.stats.peersRefused++;
      this.io.log.once("too-many-peers", "warn", `more than ${MAX_PEERS} BGP peers: lines from further ones are refused (counted)`, { peer, line: lineNo });
      return false;
    }
    this.peersSeen.add(peer);
    return true;
  }

  private apply(ev: ExaEvent, lineNo: number): void {
    switch (ev.kind) {
      case "state": {
        this.peerState.set(ev.peer, ev.state);
        this.io.log.info("peer state", { peer: ev.peer, state: ev.state, ...(ev.reason ? { reason: ev.reason } : {}) });
        if (ev.state === "down") {
          const n = this.db.flushPeer(ev.peer);
          this.refreshAsked.delete(ev.peer);
          if (n > 0) {
            this.io.log.warn("peer down: flushed what only it announced", { peer: ev.peer, objects: n });
            this.schedule(0);
          }
        }
        return;
      }
      case "update": {
        this.everHadData = true;
        this.askRefreshIfMidSession(ev.peer);
        let changed = false;
        for (const a of ev.announce) changed = this.db.announce(ev.peer, a.nlri, a.attr) || changed;
        for (const w of ev.withdraw) changed = this.db.withdraw(ev.peer, w) || changed;
        for (const p of ev.problems) {
          const k = `${p.kind}:${p.kind === "bad-nlri" ? "" : p.detail}`;
          bump(this.stats.nlriProblems, k);
          if (p.kind === "bad-nlri") this.io.log.warn("NLRI skipped", { peer: ev.peer, line: lineNo, reason: p.detail });
          else this.io.log.once(k, "warn", p.kind === "other-family" ? "non BGP-LS family ignored" : "BGP-LS NLRI type not used by lsprobe ignored", { peer: ev.peer, detail: p.detail });
        }
        if (changed) this.schedule(this.opts.debounceMs);
        return;
      }
      case "eor": {
        this.io.log.info("end of RIB", { peer: ev.peer, family: ev.family });
        const stale = this.db.flushPeer(SNAPSHOT_PEER);
        if (stale > 0) this.io.log.info("snapshot refreshed; stale entries dropped", { entries: stale });
        this.schedule(0);
        return;
      }
      case "notification":
        this.io.log.warn("notification from peer", { peer: ev.peer, code: ev.code, subcode: ev.subcode });
        return;
      case "unknown":
        this.io.log.once(`unknown:${ev.type}`, "warn", "unknown ExaBGP message type ignored", { type: ev.type, line: lineNo });
        return;
      case "reply":
        if (ev.text === "error") this.io.log.warn("ExaBGP answered error to a command", { line: lineNo });
        return;
      case "shutdown":
      case "ignored":
        return;
    }
  }

  /** A peer that sends updates but whose "up" this process never saw: we restarted mid-session. */
  private askRefreshIfMidSession(peer: string): void {
    if (!this.opts.routeRefresh || this.peerState.has(peer) || this.refreshAsked.has(peer)) return;
    this.refreshAsked.add(peer);
    this.io.command(routeRefreshCommand(peer));
  }

  /**
   * Recompute after `delayMs` of quiet (0: now). A burst of changes re-arms no timer per
   * change: the timer, when it fires early, waits for the rest of the quiet time.
   */
  schedule(delayMs: number): void {
    if (this.closed) return;
    const due = performance.now() + delayMs;
    if (this.timer !== undefined) {
      if (due <= this.due) {
        // Sooner than planned (EoR, a flush): re-arm now.
        clearTimeout(this.timer);
        this.timer = undefined;
      } else {
        this.due = due;
        return;
      }
    }
    this.due = due;
    const fire = (): void => {
      const wait = this.due - performance.now();
      if (wait > 1) {
        this.timer = setTimeout(fire, wait);
        return;
      }
      this.timer = undefined;
      void this.recompute();
    };
    this.timer = setTimeout(fire, delayMs);
  }

  /** Run one recomputation now (or after the running one). Resolves when published. */
  recompute(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.compute()
      .catch((e: unknown) => this.io.log.error("recompute failed; last path set stays in force", { error: (e as Error).stack ?? String(e) }))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.closed) {
          this.again = false;
          void this.recompute();
        }
      });
    return this.running;
  }

  /**
   * A new configuration (a reload, or the first valid one). The LSDB, the generation and the
   * last digest stay, so a reload that moves no path publishes nothing new.
   */
  reconfigure(opts: Omit<EngineOptions, "generation">): void {
    const wasIdle = this.opts.query === null;
    if (opts.metric !== this.opts.metric) this.graphs = {};
    this.opts = { ...opts, generation: this.opts.generation };
    if (opts.query) this.paths = new PathComputer(opts.query);
    if (wasIdle) this.start();
    this.schedule(0);
  }

  get configured(): boolean {
    return this.opts.query !== null;
  }

  /** Observe every finished recomputation (metrics: the duration histogram). Returns the unsubscribe. */
  onRecompute(fn: (r: RecomputeInfo) => void): () => void {
    this.recomputeObservers.add(fn);
    return () => this.recomputeObservers.delete(fn);
  }

  /** The BGP peers: those ExaBGP reported a state for, and those seen only through updates. */
  peers(): PeerStatus[] {
    const out = new Map<string, string>(this.peerState);
    for (const p of this.db.peers()) if (p !== SNAPSHOT_PEER && !out.has(p)) out.set(p, "up");
    return [...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([peer, state]) => ({ peer, state }));
  }

  /** Each configured endpoint as the last computation resolved it (in the order it met them); empty until one ran. */
  endpoints(): EndpointStatus[] {
    return [...this.resolution.values()];
  }

  /** Directed pairs with an endpoint that did not resolve in the last computation; undefined until one ran. */
  unresolvedPairs(): number | undefined {
    if (this.resolution.size === 0 || this.opts.query === null) return undefined;
    let n = 0;
    for (const [a, b] of this.opts.query.pairs) if (this.resolution.get(a)?.resolved === false || this.resolution.get(b)?.resolved === false) n++;
    return n;
  }

  /**
   * After a computation: keep each endpoint's resolution, and log its transitions once each:
   * failing (the first time, or for another reason) at warn, resolving again at info.
   */
  private noteResolution(last: ReadonlyMap<string, EndpointResolution>): void {
    const next = new Map<string, EndpointStatus>();
    for (const [endpoint, r] of last) {
      const before = this.resolution.get(endpoint);
      const now: EndpointStatus = r.error === undefined ? { endpoint, resolved: true, node: r.name ?? r.node } : { endpoint, resolved: false, reason: r.error };
      if (!now.resolved && (before === undefined || before.resolved || before.reason !== now.reason)) {
        this.io.log.warn(`endpoint ${endpoint} unresolved: ${now.reason}; no path to or from it until it resolves`, { endpoint, reason: now.reason });
      } else if (now.resolved && before?.resolved === false) {
        this.io.log.info(`endpoint ${endpoint} resolves again, to node ${now.node}`, { endpoint, node: now.node });
      }
      next.set(endpoint, now);
    }
    this.resolution = next;
  }

  private async compute(): Promise<void> {
    if (!this.everHadData || this.opts.query === null) return;
    const t0 = performance.now();
    const version = this.db.version;
    const steps = this.computeSteps();
    const body = this.opts.sliceMs > 0 ? await runSliced(steps, this.opts.sliceMs) : drain(steps);
    this.stats.recomputes++;
    this.stats.lastRecomputeMs = performance.now() - t0;
    this.noteResolution(this.paths.lastResolution);
    if (this.db.version !== version) this.again = true; // changed meanwhile: go again
    const digest = pathsDigest(body);
    const observe = (published: boolean): void => {
      const info: RecomputeInfo = { seconds: this.stats.lastRecomputeMs / 1000, published, pairsRecomputed: this.paths.lastRun.pairsRecomputed };
      for (const fn of this.recomputeObservers) {
        try {
          fn(info);
        } catch (e) {
          // An observer (metrics) must never keep a path set from being published.
          this.io.log.once("recompute-observer", "error", "recompute observer failed (logged once)", { error: (e as Error).stack ?? String(e) });
        }
      }
    };
    if (digest === this.lastDigest) {
      observe(false);
      this.io.log.debug("recomputed: paths unchanged", { ms: Math.round(this.stats.lastRecomputeMs), pairsRecomputed: this.paths.lastRun.pairsRecomputed });
      return;
    }
    observe(true);
    this.lastDigest = digest;
    this.generation++;
    this.stats.generations++;
    const set: PathSet = { ...body, generation: this.generation, time: this.io.now().toISOString() };
    this.current = set;
    this.io.log.info("new path set", {
      generation: set.generation,
      paths: set.paths.length,
      pairs: set.pairs.length,
      nodes: set.topology.nodes,
      links: set.topology.links,
      stale: set.topology.stale,
      ms: Math.round(this.stats.lastRecomputeMs),
      pairsRecomputed: this.paths.lastRun.pairsRecomputed,
      ...(this.paths.lastRun.full ? { full: this.paths.lastRun.full } : {}),
    });
    await this.io.publish(set, JSON.stringify(set));
    if (this.io.saveSnapshot) await this.io.saveSnapshot(serializeSnapshot(this.db, this.generation, this.io.now()));
  }

  private *computeSteps(): Steps<PathSetBody> {
    const topos = yield* topologySteps(() => this.db.entries.values(), this.opts.query ?? {}, this.opts.metric, this.graphs);
    this.graphs = Object.fromEntries(topos.map((t) => [t.family ?? "ipv4", t.graph]));
    let invalid = 0;
    const unusable = new Map(topos.flatMap((t) => t.unusable.map((u) => [`${u.id}
${u.reason}`, u] as const)));
    for (const u of unusable.values()) {
      if (u.invalid) invalid++;
      this.io.log.once(`unusable:${u.id}:${u.reason}`, u.invalid ? "warn" : "debug", u.invalid ? "link refused: its advertisement is invalid" : "link not used", { ...u, peers: u.peers?.join(",") });
    }
    this.stats.linksInvalid = invalid;
    const counts = this.db.counts();
    return yield* this.paths.steps(topos, {
      peers: this.db.peers().filter((p) => p !== SNAPSHOT_PEER),
      stale: this.db.countFor(SNAPSHOT_PEER) > 0,
      prefixes: counts.prefixes,
    });
  }

  /** Stop timers; wait for a running computation. The shell writes the final snapshot. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.staleTimer) clearTimeout(this.staleTimer);
    await this.running;
  }

  snapshotText(): string {
    return serializeSnapshot(this.db, this.generation, this.io.now());
  }
}
