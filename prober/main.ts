#!/usr/bin/env node
// lsprobe-prober: GRE-stacked probes down every path of the plugin's path sets, with
// Prometheus metrics. The shell: argv, config, sockets, privileges, timers, HTTP, signals.
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { randomInt } from "node:crypto";
import { ConfigError, DEFAULT_CONFIG_PATH, describeConfig, loadConfig, type LsprobeConfig, type ProberConfig } from "../shared/config.js";
import { createLogger, type Logger } from "../shared/log.js";
import { nodeVersionProblem, parseCommandLine, type CliSpec } from "../shared/cli.js";
import { proberProblems } from "../shared/checks.js";
import { currentIdentity, identityOf, readUserDb } from "../shared/users.js";
import { hostname, networkInterfaces } from "node:os";
import { CurrentProber, Prober } from "./prober.js";
import { ProberMetrics } from "./metrics.js";
import { PathSource, countsUrl } from "./pathsource.js";
import { IPPROTO_RAW, RawSocket, RawSocketPermissionError } from "./rawsock.js";
import { ReplySocket } from "./udprx.js";
import { receiveBufferCap, udp6SocketDrops, udpSocketDrops } from "./sockdrops.js";
import type { Family } from "../shared/pathset.js";
import { retryUntil } from "../shared/retry.js";
import { listen, metricsRoute } from "../shared/http.js";
import { versionLine } from "../shared/buildinfo.js";
import { traceCommand, traceRoute } from "./trace-shell.js";
import { countsRoute } from "./countsroute.js";
import { Counter, Gauge } from "prom-client";

const CLI: CliSpec = {
  program: "lsprobe-prober",
  synopsis: "[--config FILE] [--check-config [--as-user USER]]\n       lsprobe-prober trace PATH [--url URL]   (a pinned trace from a running prober; trace --help)",
  summary: `Sends GRE-stacked UDP probes down every path of the lsprobe plugin's path sets (one GRE layer
per hop, so each probe is pinned to its path), receives them back, and exposes per-path RTT,
loss, up/down and suspect links on http://LISTEN/metrics for Prometheus (also /healthz, /paths).

Needs CAP_NET_RAW for its raw socket: under systemd the lsprobe-prober unit grants it
(AmbientCapabilities=CAP_NET_RAW, User=lsprobe); by hand, run it as root with prober.user set
(it drops to that user once its sockets are open).`,
  options: {
    config: { type: "string", short: "c", arg: "FILE", default: DEFAULT_CONFIG_PATH, doc: "configuration file; the prober reads its own section, prober:" },
    "check-config": { type: "boolean", doc: "check the configuration and what it needs (the source is assigned here and not loopback, the HMAC key file), print the result on stderr, exit 0 (good) or 1" },
    "as-user": { type: "string", arg: "USER", doc: "with --check-config: the user the prober runs as (default: prober.user, else the current user)" },
  },
  epilog: () => `Signals: SIGHUP reloads the configuration (sockets stay: source and port need a restart);
SIGTERM / SIGINT stop. Exit codes: 0 stopped, 1 failed, 2 bad argument, 77 no CAP_NET_RAW.

Configuration reference:

${describeConfig()}`,
};

const nowNs = (): number => performance.now() * 1e6;

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function readKey(file: string | null): Buffer | undefined {
  if (file === null) return undefined;
  let key: Buffer;
  try {
    key = readFileSync(file);
  } catch (e) {
    throw new Error(`prober.hmac-key-file: cannot read ${file}: ${(e as Error).message} (create it: head -c 32 /dev/urandom > ${file}; chmod 0640 ${file})`);
  }
  if (key.length < 16) throw new Error(`prober.hmac-key-file: ${file}: HMAC key too short (${key.length} bytes; use at least 16, e.g. head -c 32 /dev/urandom > ${file})`);
  return key;
}

function dropPrivileges(user: string | null, log: Logger): void {
  if (user === null || process.getuid?.() !== 0) return;
  // From /etc/passwd itself: no `id` from $PATH run as root.
  const who = identityOf(readUserDb(), user);
  if (who === undefined) throw new Error(`no user ${JSON.stringify(user)} in /etc/passwd (prober.user)`);
  const gid = who.gid;
  // Supplementary groups of the root process must not survive the switch.
  (process as unknown as { initgroups?: (u: string, g: number) => void }).initgroups?.(user, gid);
  process.setgid?.(gid);
  process.setuid?.(user);
  log.info("dropped privileges", { user, uid: process.getuid?.(), gid });
}

/** --check-config: the file, then what the prober needs of this host, as the user it will run as. */
function checkConfig(configPath: string, cfg: ProberConfig, asUser: string | undefined): number {
  const db = readUserDb();
  const name = asUser ?? cfg.user ?? undefined;
  const who = name === undefined ? currentIdentity(db) : identityOf(db, name);
  if (who === undefined) {
    process.stderr.write(`${CLI.program}: ${asUser !== undefined ? "--as-user" : "prober.user"} ${name}: no such user in /etc/passwd\n`);
    return 1;
  }
  const problems = proberProblems(cfg, who, db, networkInterfaces());
  for (const p of problems) process.stderr.write(`${configPath}: ${p.key}: ${p.message}\n`);
  if (problems.length > 0) return 1;
  process.stderr.write(`${configPath}: OK for user ${who.name} (${sourcesText(cfg)}, ${cfg.rate} probes/s per path, return ${cfg.return})\n`);
  return 0;
}

interface Loaded {
  all: LsprobeConfig;
  cfg: ProberConfig;
  key: Buffer | undefined;
}

/**
 * The configuration, waiting for a valid one if need be: under systemd an exit would only be
 * restarted into the same error. Re-read when the file changes and on SIGHUP.
 */
function loadWaiting(load: () => Loaded, configPath: string, log: () => Logger): Promise<Loaded> {
  const attempt = (why: string, last?: string): Loaded | string => {
    try {
      return load();
    } catch (e) {
      const msg = (e as Error).message;
      if (msg !== last) log().error(`configuration ${configPath} not valid (${why}); waiting for a good one: fix the file (it is re-read when it changes) or send SIGHUP`, { errors: msg });
      return msg;
    }
  };
  const first = attempt("start");
  if (typeof first !== "string") return Promise.resolve(first);
  return new Promise((resolve) => {
    let last = first;
    const again = (why: string): void => {
      const r = attempt(why, last);
      if (typeof r === "string") {
        last = r;
        return;
      }
      unwatchFile(configPath);
      process.off("SIGHUP", onHup);
      log().info("configuration valid now", { file: configPath });
      resolve(r);
    };
    const onHup = (): void => again("SIGHUP");
    process.on("SIGHUP", onHup);
    // persistent: nothing else keeps the process alive while it waits.
    watchFile(configPath, { interval: 2000, persistent: true }, () => again("the file changed"));
  });
}

/**
 * The reply socket's receive buffer (SO_RCVBUF; the kernel doubles it and caps it at
 * net.core.rmem_max). A small datagram costs ~830 bytes of it on a veth (measured: 10,082 of
 * 30,000 44-byte datagrams queued in 8 MiB), so 8 MiB asked holds ~20,000: 100 ms of replies at
 * max-pps's default 100,000/s plus 100 ms of a 100,000/s flood, for the event loop's stalls
 * (GC, an inference). No buffer outlasts a longer stall under such a flood.
 */
const REPLY_RCVBUF = 8 << 20;

/** The reply socket of one source, bound; a bind error (EADDRNOTAVAIL until the address is up) is retried. */
async function bindReplies(source: string, port: number): Promise<ReplySocket> {
  return ReplySocket.open(source, port, { recvBufferSize: REPLY_RCVBUF });
}

/** "source 198.18.100.2", "sources 198.18.100.2 and 2001:2::100:2": for messages. */
function sourcesText(cfg: ProberConfig): string {
  const list = [cfg.sources.ipv4, cfg.sources.ipv6].filter((a): a is string => a !== null);
  return list.length === 1 ? `source ${list[0]}` : `sources ${list.join(" and ")}`;
}

function udpBindProblem(e: unknown, source: string, af: Family, port: number): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "EADDRNOTAVAIL")
    return af === "ipv6"
      ? `prober.source ${source} is not assigned to any interface here (yet?, or still tentative: IPv6 duplicate address detection holds a new address for a second or two); fix: assign it (ip address add ${source}/128 dev IFACE; add nodad to skip the wait) or change prober.source`
      : `prober.source ${source} is not assigned to any interface here (yet?); fix: assign it (ip address add ${source}/32 dev IFACE) or change prober.source`;
  if (code === "EADDRINUSE") return `UDP port ${port} on ${source} is in use (another prober?); fix: stop it or change prober.port`;
  if (code === "EACCES") return `UDP port ${port} needs CAP_NET_BIND_SERVICE; fix: choose prober.port >= 1024`;
  return (e as Error).message;
}

const sameSources = (a: ProberConfig, b: ProberConfig): boolean => a.sources.ipv4 === b.sources.ipv4 && a.sources.ipv6 === b.sources.ipv6;

async function main(): Promise<number> {
  if (process.argv[2] === "trace") return traceCommand(process.argv.slice(3));
  const cli = parseCommandLine(CLI, process.argv.slice(2));
  if (cli.kind === "exit") return cli.code;
  const configPath = cli.values.config as string;
  const check = cli.values["check-config"] === true;
  const old = nodeVersionProblem();
  if (old) {
    process.stderr.write(`${CLI.program}: ${old}\n`);
    return 1;
  }
  const load = (): Loaded => {
    const all = loadConfig(configPath, "prober");
    if (all.prober === null) throw new ConfigError(configPath, [{ path: "prober", line: 0, col: 0, message: "missing: the prober needs a prober: section (at least prober.source)" }]);
    return { all, cfg: all.prober, key: readKey(all.prober.hmacKeyFile) };
  };
  if (check) {
    try {
      const all = loadConfig(configPath, "prober");
      if (all.prober === null) throw new Error(`${configPath}: the prober needs a prober: section (at least prober.source)`);
      return checkConfig(configPath, all.prober, cli.values["as-user"] as string | undefined);
    } catch (e) {
      process.stderr.write(`${CLI.program}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  let log = createLogger({ name: CLI.program });
  let stopping = false;
  // Until the probe loop runs, a stop signal just ends the process.
  const early = (): void => {
    stopping = true;
    log.info("stopping before the probe loop started");
    process.exit(0);
  };
  process.on("SIGTERM", early);
  process.on("SIGINT", early);
  let { all, cfg, key } = await loadWaiting(load, configPath, () => log);
  log = createLogger({ name: CLI.program, level: all.log.level, format: all.log.format });
  const families = (["ipv4", "ipv6"] as const).filter((af) => cfg.sources[af] !== null);
  for (const af of families) {
    const a = cfg.sources[af]!;
    if (a.startsWith("127.") || a === "::1") log.warn("prober.source is a loopback address: probes leave with a martian source (lsprobe-prober --check-config refuses it)", { source: a });
  }

  // Sockets first, as root; then drop privileges. One raw send socket and one reply socket per
  // family with a source (dual stack: both), on the same port.
  const raws: Partial<Record<Family, RawSocket>> = {};
  try {
    for (const af of families) raws[af] = RawSocket.open({ family: af, protocol: IPPROTO_RAW });
  } catch (e) {
    for (const r of Object.values(raws)) r.close();
    process.stderr.write(`lsprobe-prober: ${(e as Error).message}\n`);
    return e instanceof RawSocketPermissionError ? 77 : 1;
  }
  const udps: Partial<Record<Family, ReplySocket>> = {};
  for (const af of families) {
    const a = cfg.sources[af]!;
    const where = af === "ipv6" ? `[${a}]:${cfg.port}` : `${a}:${cfg.port}`;
    udps[af] = await retryUntil(() => bindReplies(a, cfg.port), { what: `binding the probe port ${where}`, log: () => log, describe: (e) => udpBindProblem(e, a, af, cfg.port) });
    if (stopping) return 0;
  }
  for (const udp of Object.values(udps)) {
    const rcvbuf = receiveBufferCap(REPLY_RCVBUF, udp.getRecvBufferSize(), readText("/proc/sys/net/core/rmem_max"));
    if (rcvbuf) {
      log.info("the reply socket's receive buffer is capped by net.core.rmem_max: fewer replies survive a stall or a flood (raise it: sysctl -w net.core.rmem_max=" + REPLY_RCVBUF + ")", rcvbuf);
      break;
    }
  }
  // Listening as root (prober.listen may be below 1024); the routes are set once the prober exists.
  const server = await retryUntil(
    () => listen(cfg.listen, { program: CLI.program, about: versionLine(CLI.program), log: () => log }),
    { what: `listening for HTTP on ${cfg.listen}`, log: () => log, describe: (e) => `${(e as Error).message}; fix: stop what holds the port, or change prober.listen` },
  );
  try {
    dropPrivileges(cfg.user, log);
  } catch (e) {
    log.error("cannot drop privileges", { user: cfg.user, error: (e as Error).message });
    return 1;
  }

  let sendErrors = 0;
  const onSent = (err?: Error): void => {
    if (err) {
      sendErrors++;
      log.once(`send:${(err as { code?: string }).code}`, "warn", "probe send failed (counted; logged once per error kind)", { error: err.message });
    }
  };
  // The reply sockets' drop counters (read by roll(), once a second; both families' summed): a
  // full buffer means the prober itself is too slow, and it slows down. `source` and `port`
  // need a restart, so fixed.
  const v4 = cfg.sources.ipv4;
  const v6 = cfg.sources.ipv6;
  const port = cfg.port;
  const replyDrops = (): number | undefined => {
    try {
      let drops: number | undefined;
      if (v4 !== null) drops = udpSocketDrops(readFileSync("/proc/self/net/udp", "utf8"), port, v4);
      if (v6 !== null) {
        const d6 = udp6SocketDrops(readFileSync("/proc/self/net/udp6", "utf8"), port, v6);
        if (d6 !== undefined) drops = (drops ?? 0) + d6;
      }
      return drops;
    } catch {
      return undefined;
    }
  };
  const raw4 = raws.ipv4;
  const raw6 = raws.ipv6;
  // Entries exist only for families with a source, so each send has its socket.
  const send = (pkt: Buffer, dst: string, af: Family): void => void (af === "ipv6" ? raw6 : raw4)?.send(pkt, dst, onSent);
  // The id it registers under (?prober=, pathsource.ts) and reports its counts as; fixed at start, as the fetch's.
  const proberId = cfg.id ?? hostname();
  const source = new PathSource({
    socket: cfg.paths.socket,
    file: cfg.paths.file,
    url: cfg.paths.url,
    id: proberId,
    router: cfg.router,
    address: cfg.sources.ipv4 ?? cfg.sources.ipv6,
    address6: cfg.sources.ipv4 !== null ? cfg.sources.ipv6 : null,
    port: cfg.port,
    counts: countsUrl(cfg.listen, cfg.sources),
    site: cfg.site,
    tokenFile: cfg.paths.tokenFile,
    caFile: cfg.paths.caFile,
    certFile: cfg.paths.certFile,
    keyFile: cfg.paths.keyFile,
    waitMs: cfg.paths.wait,
  });
  let confirmedAt = Date.now();
  const makeProber = (c: ProberConfig, k: Buffer | undefined, nonce: number): Prober => {
    const p = new Prober(c, { send, nowNs, log, replyDrops }, nonce, k);
    p.pathsetAge = () => (source.connected ? 0 : (Date.now() - confirmedAt) / 1000);
    return p;
  };
  const current = new CurrentProber(makeProber(cfg, key, randomInt(0, 2 ** 32)));
  const metrics = new ProberMetrics(current);
  const reloadOk = new Gauge({ name: "lsprobe_config_last_reload_successful", help: "1 when the last configuration reload succeeded.", registers: [metrics.registry] });
  reloadOk.set(1);
  new Counter({
    name: "lsprobe_send_errors_total",
    help: "Probes the kernel refused to send (sendto errors).",
    registers: [metrics.registry],
    collect() {
      this.reset();
      this.inc(sendErrors);
    },
  });

  const apply = (set: Parameters<Prober["setPathSet"]>[0], from: string): void => {
    const r = current.prober.setPathSet(set);
    log.info("path set in force", { generation: set.generation, from, added: r.added, removed: r.removed, kept: r.kept, refused: r.refused.length, rate: current.prober.schedule.rate, ...(set.oneway || set.incoming ? { oneway: r.oneway, incoming: set.incoming?.length ?? 0 } : {}) });
    for (const x of r.refused) log.once(`refused:${x.path}:${x.af}:${x.reason}`, "warn", "path not probed", x);
    for (const af of ["ipv4", "ipv6"] as const)
      if (r.noSource[af] > 0)
        log.once(`no-source:${af}`, "warn", `the path set has ${af === "ipv6" ? "IPv6" : "IPv4"} paths and prober.source has no ${af === "ipv6" ? "IPv6" : "IPv4"} address: they are not probed in ${af} (give prober.source a list of one IPv4 and one IPv6 address to probe both)`, { paths: r.noSource[af], af });
    if (current.prober.schedule.capped) log.once("capped", "warn", "max-pps caps the probe rate: every path is probed below its rate (the plan's, or prober.rate)", { maxPps: cfg.maxPps });
  };
  source.on("pathset", (set, from) => {
    confirmedAt = Date.now();
    apply(set, from);
  });
  source.on("invalid", (e, from) => log.warn("path set rejected; the last good one stays in force", { from, error: e.message }));
  source.on("connected", (via) => log.info(via === "http" ? "fetching path sets from the plugin's service" : "subscribed to the plugin's socket", via === "http" ? { url: cfg.paths.url } : { socket: cfg.paths.socket }));
  source.on("disconnected", (why) => {
    confirmedAt = Date.now();
    log.warn("plugin socket or service lost; probing the last path set", { reason: why });
  });
  source.on("unreachable", (why) => log.warn("path-set service unavailable; probing the last path set, retrying with backoff", { reason: why }));

  // Replies with the kernel's receive time (prober/udprx.ts: recvmmsg batches, one call from C
  // per batch). Junk is rejected with the least work (Prober.onReply), and floods are told apart
  // from the prober's own overload (flood.ts).
  for (const [af, udp] of Object.entries(udps)) {
    // The family it arrived on: a one-way probe is counted per family (onewayrx.ts).
    udp.on("message", (msg, arrivalNs) => current.prober.onReply(msg, arrivalNs, af as Family));
    udp.on("error", (e) => log.warn("UDP receive error", { af, error: e.message }));
  }

  // The send loop: a timer aimed at the next due probe (1 ms resolution; faster rates send
  // several per tick, evenly on average).
  let timer: NodeJS.Timeout | undefined;
  let lastTick = Date.now();
  const loop = (): void => {
    current.prober.tick();
    current.prober.traceTick();
    lastTick = Date.now();
    const waitMs = Math.min(100, Math.max(1, Math.floor(current.prober.untilNextNs() / 1e6)));
    timer = setTimeout(loop, waitMs);
  };
  const roller = setInterval(() => current.prober.roll(), 1000);

  server.setRoutes([
    metricsRoute(metrics.registry),
    traceRoute(() => current.prober),
    {
      path: "/healthz",
      help: "200 ok while probing a path set, else 503 and why",
      handler: () => {
        const stalled = Date.now() - lastTick > 2000;
        const ok = !stalled && current.prober.pathSet !== undefined;
        return { status: ok ? 200 : 503, body: ok ? "ok\n" : stalled ? "send loop stalled\n" : "no path set yet\n" };
      },
    },
    countsRoute(() => current.prober.countsReport(proberId)),
    {
      path: "/paths",
      help: "JSON: each path's rate, state, last RTT, loss and counters, its last pinned trace; the ranked suspect links; the routers' decapsulation; the one-way paths sent and received",
      handler: () => ({
        type: "application/json",
        body:
          JSON.stringify({
            generation: current.prober.generation(),
            schedule: current.prober.schedule,
            paths: current.prober.describe(),
            suspects: current.prober.rankedSuspects(),
            routers: current.prober.routerDecap(),
            oneway: current.prober.describeOneway(),
          }) + "\n",
      }),
    },
  ]);

  process.on("SIGHUP", () => {
    try {
      const next = load();
      if (!sameSources(next.cfg, cfg) || next.cfg.port !== cfg.port || next.cfg.listen !== cfg.listen)
        throw new Error("prober.source, prober.port and prober.listen need a restart");
      const k = readKey(next.cfg.hmacKeyFile);
      // A new nonce: the new prober's counters start at zero (/v1/counts: a new nonce is a
      // restart) and its one-way sequences at 0, which receivers must not take for duplicates.
      const p = makeProber(next.cfg, k, randomInt(0, 2 ** 32));
      cfg = next.cfg;
      current.prober = p;
      if (source.current) apply(source.current, "reload");
      reloadOk.set(1);
      log.info("configuration reloaded", { file: configPath });
    } catch (e) {
      reloadOk.set(0);
      log.error("configuration reload failed; keeping the running one", { error: (e as Error).message });
    }
  });
  const stop = (why: string): void => {
    log.info("stopping", { reason: why });
    if (timer) clearTimeout(timer);
    clearInterval(roller);
    source.close();
    for (const r of Object.values(raws)) r.close();
    for (const u of Object.values(udps)) u.close();
    void server.close();
    process.exit(0);
  };
  process.off("SIGTERM", early);
  process.off("SIGINT", early);
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  await source.start();
  log.info("started", { ...(v4 !== null ? { source: v4 } : {}), ...(v6 !== null ? { source6: v6 } : {}), port: cfg.port, listen: cfg.listen, rate: cfg.rate, return: cfg.return, classes: cfg.classes.map((c) => c.name).join(",") });
  loop();
  return new Promise<number>(() => {});
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`lsprobe-prober: fatal: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
