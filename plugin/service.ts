// The running plugin under ExaBGP: stdin, configuration, outputs, signals.
//
// ExaBGP respawns a dead API process at most 5 times, then exits with every BGP session it
// holds (FORMAT.md §4), so this process ends only on SIGTERM, EOF on stdin or ExaBGP's shutdown
// message, always with 0. Everything else is survived: stdin is drained from the first moment
// and the LSDB kept whatever the configuration's state (ExaBGP never replays routes); an
// invalid or unreadable configuration waits for a good one (SIGHUP, or the file changing); an
// output that cannot be written is logged with its fix and retried (publish/outputs.ts).
import { existsSync, readFileSync, unwatchFile, watchFile, type Stats } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { ConfigError, loadConfig, type LsprobeConfig } from "../shared/config.js";
import { createLogger, type Logger } from "../shared/log.js";
import { parsePathSet } from "../shared/pathset.js";
import { currentIdentity, readUserDb, type Identity, type UserDb } from "../shared/users.js";
import { Engine, type EngineOptions } from "./engine.js";
import { directedPairs } from "./paths.js";
import { loadSnapshot } from "./snapshot.js";
import { CommandChannel } from "./exabgp/commands.js";
import { MAX_LINE } from "./exabgp/decode.js";
import { LineSplitter } from "./exabgp/lines.js";
import { writeFileAtomicSync } from "./publish/file.js";
import { FileOutput, SocketOutput, type OutputContext, type OutputHealth } from "./publish/outputs.js";
import { PathServer, registerServeMetrics } from "./publish/http.js";
import { OneView } from "./view/view.js";
import { registerViewMetrics } from "./view/metrics.js";
import { PluginMetrics } from "./metrics.js";
import { listen, type HttpHandle } from "../shared/http.js";
import { retryUntil } from "../shared/retry.js";
import { versionLine } from "../shared/buildinfo.js";

const PROGRAM = "lsprobe-plugin";
/** How often the config file's stat is polled (watchFile: survives editors that replace the file). */
const CONFIG_POLL_MS = 2000;

/** The generation to continue from: the path-set file's, so generations never go backwards. */
function lastGeneration(file: string, log: Logger): number {
  if (!existsSync(file)) return 0;
  try {
    return parsePathSet(JSON.parse(readFileSync(file, "utf8")), file).generation;
  } catch (e) {
    log.warn("existing path-set file unreadable; generations restart at 1", { file, error: (e as Error).message });
    return 0;
  }
}

function engineOptions(config: LsprobeConfig): Omit<EngineOptions, "generation"> {
  const pc = config.plugin;
  return {
    query: {
      pairs: directedPairs(pc.endpoints.pairs, pc.endpoints.groups),
      mode: pc.paths.mode,
      maxPerPair: pc.paths.maxPerPair,
      plan: pc.plan,
      target: pc.paths.target,
      targetPerRouter: pc.paths.targetPerRouter,
      ...(pc.paths.families ? { families: pc.paths.families } : {}),
      srAlgorithm: pc.paths.srAlgorithm,
    },
    metric: pc.paths.metric,
    debounceMs: pc.debounce,
    staleTimeoutMs: pc.staleTimeout,
    routeRefresh: pc.routeRefresh,
    sliceMs: 5,
  };
}

export class PluginService {
  log: Logger;
  readonly engine: Engine;
  /** The configuration in force; undefined until a valid one was read. */
  config?: LsprobeConfig;
  /** Did the last (re)load succeed? */
  configOk = false;
  internalErrors = 0;
  private file?: FileOutput;
  private socket?: SocketOutput;
  private state?: FileOutput;
  /** plugin.serve: the path sets over HTTP(S). */
  private serve?: PathServer;
  /** plugin.view: the one view of the links, from the registered probers' counts. */
  private view?: OneView;
  private readonly users: UserDb = readUserDb();
  private readonly who: Identity = currentIdentity(this.users);
  private lineNo = 0;
  private exiting = false;
  private reloading: Promise<void> = Promise.resolve();
  private readonly metrics: PluginMetrics;
  private http?: HttpHandle;
  /** The listen address being served (or tried): a reload that changes it moves the server. */
  private listening: string | null = null;

  constructor(private readonly configPath: string) {
    this.log = createLogger({ name: PROGRAM });
    const channel = new CommandChannel(process.stdout);
    const self = this;
    this.engine = new Engine(
      { query: null, metric: "igp", debounceMs: 200, staleTimeoutMs: 120_000, routeRefresh: false, generation: 0, sliceMs: 5 },
      {
        get log() {
          return self.log;
        },
        command: (line) => {
          self.log.debug("command to ExaBGP", { command: line });
          channel.send(line);
        },
        now: () => new Date(),
        publish: async (set, text) => {
          // Independent: a full disk must not keep the generation from the socket's subscribers.
          self.socket?.publish(text);
          self.serve?.publish(set, text);
          await self.file?.write(text + "\n");
        },
        saveSnapshot: async (text) => {
          await self.state?.write(text);
        },
      },
    );
    this.metrics = new PluginMetrics({
      engine: this.engine,
      outputs: () => this.outputs(),
      subscribers: () => this.subscribers,
      configOk: () => this.configOk,
      internalErrors: () => this.internalErrors,
    });
    registerServeMetrics(this.metrics.registry, () => this.serve);
    registerViewMetrics(this.metrics.registry, () => this.view);
  }

  /** The one view over the probers that plugin.serve registers. */
  private oneView(pc: LsprobeConfig["plugin"]): OneView {
    return new OneView(
      pc.view,
      {
        set: () => this.engine.current,
        probers: () => {
          const t = this.serve?.probers;
          return t ? t.fetching(Date.now()).map((e) => ({ id: e.id, counts: e.counts })) : [];
        },
        reported: (id, ok) => this.serve?.reported(id, ok),
      },
      () => this.log,
    );
  }

  outputs(): OutputHealth[] {
    return [this.file, this.socket, this.state, this.serve].filter((o) => o !== undefined).map((o) => o.health());
  }

  get subscribers(): number {
    return this.socket?.subscribers ?? 0;
  }

  /** Drain stdin, read the configuration, wire the signals. Returns at once; runs until finish(). */
  async start(): Promise<void> {
    this.guardProcess();
    this.readStdin();
    await this.reload("start");
    watchFile(this.configPath, { interval: CONFIG_POLL_MS, persistent: false }, (cur: Stats, prev: Stats) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.ino !== prev.ino || cur.size !== prev.size) void this.reload("the file changed");
    });
    process.on("SIGHUP", () => {
      for (const o of [this.file, this.socket, this.state]) void o?.retryNow();
      void this.serve?.reload(); // certificates, keys and tokens are read again
      void this.reload("SIGHUP");
    });
  }

  /**
   * Read the configuration again; a bad one keeps the one in force (or none: then we wait).
   * Reloads run one after the other (a file change and a SIGHUP may come together).
   */
  reload(why: string): Promise<void> {
    this.reloading = this.reloading.then(() => this.reloadNow(why));
    return this.reloading;
  }

  private async reloadNow(why: string): Promise<void> {
    if (this.exiting) return;
    let next: LsprobeConfig;
    try {
      next = loadConfig(this.configPath, "plugin");
    } catch (e) {
      this.configOk = false;
      const detail = e instanceof ConfigError ? e.message : (e as Error).message;
      const keeping = this.config ? "the running configuration stays in force" : "no path set is computed until it is valid (stdin is still read, the LSDB kept)";
      this.log.error(`configuration ${this.configPath} not valid (${why}); ${keeping}; fix the file: it is re-read when it changes, or on SIGHUP`, { errors: detail });
      return;
    }
    const first = this.config === undefined;
    if (!first && isDeepStrictEqual(next, this.config)) {
      this.configOk = true;
      this.log.debug("configuration unchanged", { reason: why });
      return;
    }
    await this.apply(next);
    this.configOk = true;
    this.log.info(first ? "started" : "configuration reloaded", {
      reason: why,
      pairs: directedPairs(next.plugin.endpoints.pairs, next.plugin.endpoints.groups).length,
      mode: next.plugin.paths.mode,
      file: next.plugin.output.file,
      socket: next.plugin.output.socket ?? "off",
      serve: next.plugin.serve.listen ?? "off",
      user: this.who.name,
    });
  }

  private async apply(next: LsprobeConfig): Promise<void> {
    const prev = this.config;
    const pc = next.plugin;
    if (!prev || prev.log.level !== next.log.level || prev.log.format !== next.log.format) {
      this.log = createLogger({ name: PROGRAM, level: next.log.level, format: next.log.format });
    }
    const ctx: OutputContext = { log: () => this.log, who: this.who, users: this.users };
    const current = this.engine.current ? JSON.stringify(this.engine.current) : undefined;
    if (this.file?.path !== pc.output.file) {
      this.file?.close();
      this.file = new FileOutput("file", pc.output.file, ctx);
      if (current !== undefined) void this.file.write(current + "\n");
    }
    const socketChanged = prev?.plugin.output.socket !== pc.output.socket || prev?.plugin.output.socketMode !== pc.output.socketMode;
    if (!prev || socketChanged) {
      await this.socket?.close();
      this.socket = pc.output.socket ? new SocketOutput(pc.output.socket, pc.output.socketMode, ctx) : undefined;
      if (current !== undefined) this.socket?.publish(current);
      await this.socket?.start();
    }
    if (!prev || !isDeepStrictEqual(prev.plugin.serve, pc.serve)) {
      await this.serve?.close();
      this.serve = pc.serve.listen !== null ? new PathServer(pc.serve, ctx) : undefined;
      if (this.engine.current && current !== undefined) this.serve?.publish(this.engine.current, current);
      void this.serve?.start(); // retried in the background: never blocks stdin
    } else void this.serve?.reload();
    if (!prev || !isDeepStrictEqual(prev.plugin.view, pc.view) || !isDeepStrictEqual(prev.plugin.serve, pc.serve)) {
      this.view?.close();
      this.view = this.serve && pc.view.interval > 0 ? this.oneView(pc) : undefined;
      this.view?.start();
    }
    if (this.state?.path !== (pc.stateFile ?? undefined)) {
      this.state?.close();
      this.state = pc.stateFile ? new FileOutput("state-file", pc.stateFile, ctx) : undefined;
    }
    if (!this.engine.configured) this.resume(next);
    this.config = next;
    this.engine.reconfigure(engineOptions(next));
    if (pc.listen !== this.listening) void this.serveHttp(pc.listen);
  }

  /** /metrics and /healthz on plugin.listen; retried in the background (never blocks stdin). */
  private async serveHttp(hostPort: string | null): Promise<void> {
    this.listening = hostPort;
    const old = this.http;
    this.http = undefined;
    await old?.close();
    if (hostPort === null) return;
    const wanted = (): boolean => this.listening === hostPort && !this.exiting;
    let h: HttpHandle;
    try {
      h = await retryUntil(
        () => listen(hostPort, { program: "lsprobe-plugin", about: versionLine("lsprobe-plugin"), routes: this.metrics.routes(), log: () => this.log }),
        { what: `listening for HTTP on ${hostPort}`, log: () => this.log, describe: (e) => `${(e as Error).message}; fix: stop what holds the port, or change plugin.listen`, cancelled: () => !wanted() },
      );
    } catch {
      return; // cancelled: another address, or exiting
    }
    if (!wanted()) return void h.close();
    this.http = h;
    this.log.info("HTTP listening", { listen: `${h.host}:${h.port}`, endpoints: "/metrics /healthz" });
  }

  /** First valid configuration: continue the generations and the LSDB of the last run. */
  private resume(config: LsprobeConfig): void {
    const pc = config.plugin;
    this.engine.generation = Math.max(this.engine.generation, lastGeneration(pc.output.file, this.log));
    if (!pc.stateFile || !existsSync(pc.stateFile)) return;
    const published = this.engine.generation;
    try {
      const s = loadSnapshot(pc.stateFile, this.engine.db, published);
      if (s.skipped) {
        // Killed between the path file and the snapshot: the snapshot holds an older LSDB than
        // the set the prober has. Republishing from it would go back in content under a
        // higher generation; the published set stays until the peers' refresh arrives.
        this.log.warn("snapshot older than the published path set; not used (the path set in force stays until the peers refresh)", { file: pc.stateFile, snapshotGeneration: s.generation, publishedGeneration: published });
        return;
      }
      this.engine.generation = Math.max(this.engine.generation, s.generation);
      this.log.info("snapshot loaded; stale until refreshed", { file: pc.stateFile, entries: s.entries, taken: s.time });
    } catch (e) {
      this.log.warn("snapshot ignored", { file: pc.stateFile, error: (e as Error).message });
    }
  }

  private readStdin(): void {
    const splitter = new LineSplitter(MAX_LINE, {
      line: (line) => {
        this.lineNo++;
        if (this.exiting) return;
        try {
          const ev = this.engine.handleLine(line, this.lineNo);
          if (ev?.kind === "shutdown") void this.finish("ExaBGP shutdown");
        } catch (e) {
          // A bug must not kill ExaBGP's session: count it as a malformed line and carry on.
          this.engine.stats.malformed++;
          this.engine.stats.malformedByReason.internal++;
          this.log.error("internal error on a line; skipped", { line: this.lineNo, error: (e as Error).stack ?? String(e) });
        }
      },
      tooLong: (bytes) => this.engine.refuseLine(bytes, ++this.lineNo),
    });
    process.stdin.on("data", (chunk: Buffer) => splitter.push(chunk));
    process.stdin.on("end", () => {
      splitter.end();
      void this.finish("EOF on stdin");
    });
    process.stdin.on("error", (e) => void this.finish(`stdin: ${e.message}`));
  }

  /** The exits that are allowed, and nothing else: an unexpected error is logged and survived. */
  private guardProcess(): void {
    process.on("SIGTERM", () => void this.finish("SIGTERM"));
    process.on("SIGINT", () => void this.finish("SIGINT"));
    process.on("SIGPIPE", () => {});
    const survive = (kind: string) => (e: unknown) => {
      this.internalErrors++;
      this.log.error(`${kind}; carrying on (please report it)`, { error: (e as Error)?.stack ?? String(e) });
    };
    process.on("uncaughtException", survive("internal error"));
    process.on("unhandledRejection", survive("unhandled rejection"));
  }

  async finish(why: string): Promise<never> {
    if (this.exiting) return new Promise<never>(() => {});
    this.exiting = true;
    unwatchFile(this.configPath);
    // ExaBGP waits for us without a timeout (FORMAT.md §4.2): be quick. A recompute still
    // running gets a short grace; the last published set is on disk already.
    await Promise.race([this.engine.close(), new Promise((r) => setTimeout(r, 1000).unref())]);
    const stateFile = this.config?.plugin.stateFile;
    if (stateFile && this.engine.configured) {
      try {
        writeFileAtomicSync(stateFile, this.engine.snapshotText());
      } catch (e) {
        this.log.error("final snapshot not written", { file: stateFile, error: (e as Error).message });
      }
    }
    this.file?.close();
    this.state?.close();
    await this.socket?.close();
    this.view?.close();
    await this.serve?.close();
    await this.http?.close();
    this.log.info("exiting", { reason: why, lines: this.engine.stats.lines, malformed: this.engine.stats.malformed, generation: this.engine.generation });
    process.exit(0);
  }
}
