// Runs the real (Debian) ExaBGP 4.2.x for tests: one neighbor 127.0.0.1 that dials the lab's
// BGP-LS speaker (`connect <peerPort>`) and feeds one API process, as in FORMAT.md §1.
//
// Shell only. Everything lives in a fresh temporary directory (config, an empty exabgp.env) that
// stop() removes. ExaBGP is spawned detached (its own process group), and three things make sure
// it cannot outlive the test:
//   1. stop(): SIGTERM, then after a timeout SIGKILL to its group and to the API process's group
//      (ExaBGP puts the API process in a group of its own, FORMAT.md §1);
//   2. a process "exit" hook and SIGINT/SIGTERM/SIGHUP hooks that do the same synchronously;
//   3. a tiny detached `sh` watchdog holding a pipe from us: when this Node process dies in a way
//      no hook sees (SIGKILL), the pipe closes and the watchdog kills ExaBGP's group.
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants as fsConstants, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";

export interface ExabgpOptions {
  /** TCP port the BGP-LS speaker listens on (127.0.0.1). */
  peerPort: number;
  /** More BGP-LS speakers (e.g. R1 and R6 exporting the same domain): each its own loopback address. */
  extraPeers?: Array<{ address: string; port: number }>;
  /** Plain IPv4 unicast neighbors beside the BGP-LS ones (no API process): bystander sessions. */
  plainPeers?: Array<{ address: string; port: number }>;
  /** argv of the API process; argv[0] must be an absolute path (ExaBGP execs it, no shell). */
  processCommand: string[];
  /** Extra environment for ExaBGP (and so for the API process); `exabgp_*` here override ours. */
  env?: Record<string, string>;
  /** Add `capability { route-refresh; }` (default true): needed for "announce route-refresh". */
  routeRefresh?: boolean;
  /** Parent of the fresh temporary directory (default os.tmpdir()). */
  workDir?: string;
  /** Name of the `process` block (default "lsprobe"). */
  processName?: string;
  /** `receive { ... }` keywords (default ["parsed", "update"]). */
  receive?: string[];
  /** Extra `api { ... }` statements, e.g. ["negotiated;"]. */
  apiExtra?: string[];
  holdTime?: number; // default 30
  localAs?: number; // default 65000
  peerAs?: number; // default 65001
  routerId?: string; // default 198.18.255.254
  /** exabgp.log.level=DEBUG with packet logging (default false: INFO). */
  debug?: boolean;
  /** Path of the exabgp program (default: findExabgp()). */
  exabgpPath?: string;
  /** Its version (default "4.2"): 5.0 takes no --env (its environment comes from variables). */
  exabgpVersion?: ExabgpProgram["version"];
  /**
   * Run ExaBGP (and so its API process) inside this network namespace (a lab node's, Lab.ns()):
   * `ip netns exec` execs it, so the pid and process group stay ExaBGP's; its 127.x peers are then
   * that namespace's loopback.
   */
  netns?: string;
}

export interface ExabgpHandle {
  proc: ChildProcess;
  /** The temporary directory (removed by stop()). */
  dir: string;
  confPath: string;
  /** Everything ExaBGP wrote to stdout and stderr so far (its log; capped at 4 MiB, oldest dropped). */
  logs(): string;
  /** Resolves with ExaBGP's exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves when the log matches, rejects after timeoutMs or if ExaBGP exits first. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, wait up to timeoutMs, then SIGKILL the process groups; removes the directory.
   *  Resolves with the exit code (null when it had to be killed). Idempotent. */
  stop(timeoutMs?: number): Promise<number | null>;
}

const LOG_CAP = 4 << 20;

// ------------------------------------------------------------------------------------------------
// Pure parts: where is exabgp, what config, what environment
// ------------------------------------------------------------------------------------------------

/** The exabgp program: /usr/sbin/exabgp (Debian), or the first on PATH; undefined if none. */
export function findExabgp(): string | undefined {
  const candidates = ["/usr/sbin/exabgp", "/usr/bin/exabgp", "/usr/local/bin/exabgp", "/usr/local/sbin/exabgp"];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir) candidates.push(join(dir, "exabgp"));
  for (const c of candidates) {
    try {
      accessSync(c, fsConstants.X_OK);
      return c;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** An ExaBGP the tests can run: Debian's package, and 5.0.13 from ../shared/tools. */
export interface ExabgpProgram {
  /** "4.2" (Debian 12's 4.2.21) or "5.0" (5.0.13, upstream source on Debian's python3). */
  version: "4.2" | "5.0";
  path: string;
}

/**
 * Every ExaBGP here, Debian's first: the integration and lab tests run under each (issue 13:
 * Debian packages 4.2.21, which cannot take what IPv6 and multi-topology networks send, so the
 * README's advice is 5.0). `sharedDir` holds tools/exabgp5 (test/util/shared.ts's SHARED_DIR).
 */
export function exabgpPrograms(sharedDir: string): ExabgpProgram[] {
  const out: ExabgpProgram[] = [];
  const debian = findExabgp();
  if (debian !== undefined) out.push({ version: "4.2", path: debian });
  const five = join(sharedDir, "tools", "exabgp5");
  try {
    accessSync(five, fsConstants.X_OK);
    out.push({ version: "5.0", path: five });
  } catch {
    // not beside this checkout
  }
  return out;
}

/**
 * argv to run a config: 4.2 reads an env file (an empty one: defaults and our variables only,
 * whatever /etc/exabgp/exabgp.env says); 5.0 has subcommands and no --env (`exabgp server
 * CONF`), and reads no file from /etc when run from source, so the variables alone apply.
 */
export function exabgpArgs(version: ExabgpProgram["version"], envPath: string, confPath: string): string[] {
  return version === "4.2" ? ["--env", envPath, confPath] : ["server", confPath];
}

/** argv that checks a config without running it: `--test` (4.2), `validate` (5.0). */
export function exabgpCheckArgs(version: ExabgpProgram["version"], confPath: string): string[] {
  return version === "4.2" ? ["--test", confPath] : ["validate", "-n", confPath];
}

/** ExaBGP's tokeniser splits on blanks and treats ; { } [ ] as syntax; no quoting is used here. */
function checkWord(word: string, what: string): string {
  if (word === "" || /[\s;{}[\]"'#\\]/.test(word)) {
    throw new RangeError(`${what} ${JSON.stringify(word)} cannot appear in an ExaBGP config`);
  }
  return word;
}

/** The exabgp.conf text (FORMAT.md §1). */
export function exabgpConfig(o: ExabgpOptions): string {
  const argv = o.processCommand;
  if (argv.length === 0 || !isAbsolute(argv[0])) throw new RangeError("processCommand[0] must be an absolute path");
  argv.forEach((a, i) => checkWord(a, `processCommand[${i}]`));
  if (!Number.isInteger(o.peerPort) || o.peerPort < 1 || o.peerPort > 65535) throw new RangeError(`bad peerPort ${o.peerPort}`);
  const name = checkWord(o.processName ?? "lsprobe", "processName");
  const receive = (o.receive ?? ["parsed", "update"]).map((k) => `            ${checkWord(k, "receive keyword")};`);
  const peers = [{ address: "127.0.0.1", port: o.peerPort }, ...(o.extraPeers ?? [])];
  for (const p of [...peers, ...(o.plainPeers ?? [])]) {
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(p.address)) throw new RangeError(`peer ${p.address}: test peers live on loopback (127.0.0.0/8)`);
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new RangeError(`bad peer port ${p.port}`);
  }
  const lines = [
    `process ${name} {`,
    `    run ${argv.join(" ")};`,
    "    encoder json;",
    "}",
    "",
  ];
  for (const p of peers) lines.push(...bgpLsNeighborBlock(o, name, receive, p));
  for (const p of o.plainPeers ?? []) lines.push(...neighborBlock(o, p, ["    family {", "        ipv4 unicast;", "    }"]));
  return lines.join("\n");
}

/** A neighbor that dials the test peer at 127.0.0.1:port; `body` adds its families and api. */
function neighborBlock(o: ExabgpOptions, p: { address: string; port: number }, body: string[]): string[] {
  return [
    `neighbor ${p.address} {`,
    `    router-id ${checkWord(o.routerId ?? "198.18.255.254", "routerId")};`,
    "    local-address 127.0.0.1;",
    `    local-as ${o.localAs ?? 65000};`,
    `    peer-as ${o.peerAs ?? 65001};`,
    `    connect ${p.port};`,
    `    hold-time ${o.holdTime ?? 30};`,
    ...body,
    "}",
    "",
  ];
}

function bgpLsNeighborBlock(o: ExabgpOptions, name: string, receive: string[], p: { address: string; port: number }): string[] {
  return neighborBlock(o, p, [
    "    family {",
    "        bgp-ls bgp-ls;",
    "    }",
    ...((o.routeRefresh ?? true) ? ["    capability {", "        route-refresh;", "    }"] : []),
    "    api {",
    `        processes [ ${name} ];`,
    "        neighbor-changes;",
    ...(o.apiExtra ?? []).map((s) => `        ${s}`),
    "        receive {",
    ...receive,
    "        }",
    "    }",
  ]);
}

/**
 * ExaBGP's environment for a test run (4.2.21 reads `exabgp_<section>_<option>` variables before
 * its env file; `exabgp --fe` lists them all):
 * - daemon.user = the current user: as root, ExaBGP otherwise drops to Debian's `exabgp` user
 *   (/etc/exabgp/exabgp.env), and the API process could not write into our 0700 temp dirs.
 * - daemon.drop = false: start the API process before that (now no-op) privilege drop.
 * - daemon.daemonize = false, daemon.pid = '': stay in the foreground, no pid file.
 * - log.destination = stderr: the log comes to our pipe; stdout stays unused.
 * - api.cli = false: do not look for /run/exabgp/exabgp.{in,out} FIFOs, no CLI helper process.
 * - tcp.bind = '': never listen (not on 179, not anywhere); ExaBGP only dials `connect <port>`.
 * `exabgp_cli_pipe` is removed: if inherited it turns exabgp into the CLI client. PYTHONHOME and
 * PYTHONPATH are removed so a pyenv on PATH cannot hijack Debian's /usr/bin/python3.
 */
export function exabgpEnvironment(extra: Record<string, string> = {}, debug = false): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^exabgp[._]/i.test(k) || k === "PYTHONHOME" || k === "PYTHONPATH") delete env[k];
  }
  Object.assign(env, {
    exabgp_daemon_user: userInfo().username,
    exabgp_daemon_drop: "false",
    exabgp_daemon_daemonize: "false",
    exabgp_daemon_pid: "",
    exabgp_log_destination: "stderr",
    exabgp_log_level: debug ? "DEBUG" : "INFO",
    exabgp_log_packets: debug ? "true" : "false",
    exabgp_api_cli: "false",
    exabgp_tcp_bind: "",
  });
  Object.assign(env, extra);
  delete env.exabgp_cli_pipe;
  return env;
}

// ------------------------------------------------------------------------------------------------
// Process bookkeeping (Linux /proc)
// ------------------------------------------------------------------------------------------------

interface Proc {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells a recycled pid from the process we saw. */
  start: string;
}

function statOf(pid: number): { ppid: number; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields[0] is field 3 (state)
    return { ppid: Number(fields[1]), start: fields[19] };
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (children first seen through /proc/<pid>/stat ppid). */
function descendants(root: number): Proc[] {
  const parentOf = new Map<number, { ppid: number; start: string }>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = statOf(Number(e));
    if (st !== undefined) parentOf.set(Number(e), st);
  }
  const out: Proc[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const [pid, st] of parentOf) {
      if (st.ppid === p) {
        out.push({ pid, start: st.start });
        queue.push(pid);
      }
    }
  }
  return out;
}

function alive(p: Proc): boolean {
  return statOf(p.pid)?.start === p.start;
}

/** SIGKILL the process's group if it leads one, else the process. Only processes we saw. */
function killProc(p: Proc): void {
  if (!alive(p)) return;
  try {
    process.kill(-p.pid, "SIGKILL");
  } catch {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

interface Live {
  pid: number;
  dir: string;
  exited: boolean;
  watchdog?: ChildProcess;
}

const live = new Set<Live>();
let hooked = false;

/** Synchronous last resort: kill every ExaBGP group we started and their API processes. */
function killAllSync(): void {
  for (const l of live) {
    if (!l.exited) {
      const kids = descendants(l.pid);
      try {
        process.kill(-l.pid, "SIGKILL");
      } catch {
        // gone
      }
      kids.forEach(killProc);
    }
    try {
      rmSync(l.dir, { recursive: true, force: true });
    } catch {
      // best effort at exit
    }
  }
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllSync();
  // Our listener was a `once`: with nobody else listening, re-raise for the default behaviour.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function hookProcessExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAllSync);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, onSignal);
}

/** A detached sh that, when our end of its stdin closes without "done", kills ExaBGP's group and
 *  removes the temporary directory. (dash's kill takes no "--": "-PGID" is the group.) */
function startWatchdog(pgid: number, dir: string): ChildProcess | undefined {
  const script = 'read -r line; [ "$line" = done ] || { kill -KILL "-$1" 2>/dev/null; rm -rf -- "$2"; }';
  try {
    const w = spawn("/bin/sh", ["-c", script, "lsprobe-exabgp-watchdog", String(pgid), dir], {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    });
    w.on("error", () => {});
    w.stdin?.on("error", () => {});
    w.unref();
    (w.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return w;
  } catch {
    return undefined;
  }
}

function releaseWatchdog(w: ChildProcess | undefined): void {
  if (w?.stdin && !w.stdin.destroyed) w.stdin.end("done\n");
}

// ------------------------------------------------------------------------------------------------
// Start / stop
// ------------------------------------------------------------------------------------------------

export async function startExabgp(o: ExabgpOptions): Promise<ExabgpHandle> {
  const exabgp = o.exabgpPath ?? findExabgp();
  if (exabgp === undefined) throw new Error("exabgp is not installed (looked in /usr/sbin and PATH)");
  const config = exabgpConfig(o); // validate before creating anything
  const dir = mkdtempSync(join(o.workDir ?? tmpdir(), "lsprobe-exabgp-"));
  const confPath = join(dir, "exabgp.conf");
  const envPath = join(dir, "exabgp.env");
  writeFileSync(confPath, config);
  // An empty env file: defaults + our variables only, whatever /etc/exabgp/exabgp.env says.
  writeFileSync(envPath, "");

  hookProcessExit();
  const args = exabgpArgs(o.exabgpVersion ?? "4.2", envPath, confPath);
  const [cmd, argv] = o.netns === undefined ? [exabgp, args] : ["ip", ["netns", "exec", o.netns, exabgp, ...args]];
  const proc = spawn(cmd, argv, {
    cwd: dir,
    detached: true, // own process group: stop() can kill it and anything it forked at once
    stdio: ["ignore", "pipe", "pipe"],
    env: exabgpEnvironment(o.env ?? {}, o.debug ?? false),
  });
  const entry: Live = { pid: -1, dir, exited: false };

  let log = "";
  const logWaiters = new Set<() => void>();
  const append = (chunk: Buffer) => {
    log += chunk.toString("utf8");
    if (log.length > LOG_CAP) log = log.slice(log.length - LOG_CAP);
    for (const w of [...logWaiters]) w();
  };
  proc.stdout?.on("data", append);
  proc.stderr?.on("data", append);

  const exited = new Promise<number | null>((resolve) => {
    proc.once("exit", (code) => {
      entry.exited = true;
      releaseWatchdog(entry.watchdog);
      for (const w of [...logWaiters]) w();
      resolve(code);
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      proc.once("spawn", resolve);
      proc.once("error", reject);
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  entry.pid = proc.pid!;
  entry.watchdog = startWatchdog(entry.pid, dir);
  live.add(entry);

  let stopping: Promise<number | null> | undefined;
  const stop = (timeoutMs = 10_000): Promise<number | null> => {
    stopping ??= (async () => {
      let code: number | null = null;
      if (!entry.exited) {
        // ExaBGP's SIGTERM path: `down` for the session, the "shutdown" line to the API process,
        // SIGTERM to it, wait for it (FORMAT.md §4.2).
        const kids = descendants(entry.pid);
        try {
          process.kill(entry.pid, "SIGTERM");
        } catch {
          // already gone
        }
        const timedOut = Symbol("timeout");
        let timer: NodeJS.Timeout | undefined;
        const r = await Promise.race([exited, new Promise<symbol>((res) => (timer = setTimeout(() => res(timedOut), timeoutMs)))]);
        clearTimeout(timer);
        if (r === timedOut) {
          // Hung (e.g. the MT-ID loop ignores SIGTERM): kill the group and the API process.
          const more = descendants(entry.pid);
          try {
            process.kill(-entry.pid, "SIGKILL");
          } catch {
            // gone
          }
          [...kids, ...more].forEach(killProc);
          code = await exited;
        } else {
          code = r as number | null;
        }
        // The API process has its own group; if it is still there, it ignored ExaBGP's SIGTERM.
        kids.filter(alive).forEach(killProc);
      } else {
        code = await exited;
      }
      releaseWatchdog(entry.watchdog);
      live.delete(entry);
      rmSync(dir, { recursive: true, force: true });
      return code;
    })();
    return stopping;
  };

  const waitForLog = (pattern: RegExp, timeoutMs = 20_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (pattern.test(log)) finish();
        else if (entry.exited) finish(new Error(`exabgp exited before its log matched ${pattern}`));
      };
      const timer = setTimeout(() => finish(new Error(`exabgp log did not match ${pattern} within ${timeoutMs} ms`)), timeoutMs);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        logWaiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      logWaiters.add(check);
      check();
    });

  return { proc, dir, confPath, logs: () => log, exited, waitForLog, stop };
}
