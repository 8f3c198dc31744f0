// bench/lib/vethpair: two network namespaces joined by one veth pair, for the benches that put
// real packets on a wire (bench/prober-rate.ts, bench/rtt-overhead.ts). Not a bench itself.
//
//   A  lspb-<pid>-a   va  198.18.200.0/31   (the prober's side)
//   B  lspb-<pid>-b   vb  198.18.200.1/31   (the reflector's side)
//
// Safety: the veth is created directly inside A with its peer in B (nothing is added to the root
// namespace), every address is inside 198.18.0.0/15, and every process a bench starts runs in A or
// B. Teardown (kill the bench's children by pid, delete both namespaces, remove the temp dir of
// compiled C) runs from destroy(), and synchronously on exit, SIGINT, SIGTERM and SIGHUP; stale
// pairs and temp dirs of dead bench processes are removed by the next create().
//
// A gets rp_filter=0 and accept_local=1: a probe comes back with the prober's own address as its
// source (the innermost packet is prober -> prober), which is otherwise dropped as a martian.
// IPv6 is off in both so nothing but the bench's packets (and ARP) crosses the veth, unless
// create() is asked for it ({ ipv6: true }, bench/prober-rate's IPv6 rows): then A and B also get
// 2001:2:0:200::a/64 and ::b/64 (RFC 5180's benchmarking range), without duplicate address
// detection (nodad: usable at once) and without router solicitations or autoconfiguration, so
// that only neighbour discovery adds to the bench's packets.

import { spawn, execFileSync, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, readFileSync } from "node:fs";
import { tmpdir, availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { codeDigest, distDir } from "./build.js";
import { alive } from "../../test/lab/netns.js";

export const ADDR_A = "198.18.200.0";
export const ADDR_B = "198.18.200.1";
/** With create({ ipv6: true }): the IPv6 addresses of A and B, in 2001:2::/48. */
export const ADDR6_A = "2001:2:0:200::a";
export const ADDR6_B = "2001:2:0:200::b";
const PREFIX = "lspb-";

/** bench/c/ in the source tree (from dist/bench/lib/). */
export const C_DIR = fileURLToPath(new URL("../../../bench/c/", import.meta.url));


function ip(args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bench: \`ip ${args.join(" ")}\` failed: ${(r.stderr || r.error?.message || "").trim()}`);
}

function listNetns(): string[] {
  try {
    const s = execFileSync("ip", ["-j", "netns", "list"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return s ? (JSON.parse(s) as Array<{ name: string }>).map((x) => x.name) : [];
  } catch {
    return [];
  }
}

function killNetnsProcesses(ns: string): void {
  try {
    const pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  } catch {
    /* no such namespace */
  }
}

/** Removes pairs (and temp dirs) left by bench processes that are gone (killed with SIGKILL, say). */
function cleanupStale(): void {
  for (const d of readdirSync(tmpdir())) {
    const m = /^lsprobe-bench-(\d+)-/.exec(d);
    if (m && !alive(Number(m[1]))) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  }
  for (const ns of listNetns()) {
    const m = new RegExp(`^${PREFIX}(\\d+)-[ab]$`).exec(ns);
    if (!m || alive(Number(m[1]))) continue;
    killNetnsProcesses(ns);
    spawnSync("ip", ["netns", "del", ns]);
  }
}

/** CPUs to pin to: the measured process on `measured`, the reflector on `reflector` (null: no pinning). */
export function cpuPlan(): { measured: string | null; reflector: string | null } {
  const n = availableParallelism();
  return n >= 2 ? { measured: "0", reflector: "1" } : { measured: null, reflector: null };
}

export interface Spawned {
  child: ChildProcess;
  /** Resolves with everything the process wrote to stdout, when it exits. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves with the first stdout line (the C helpers' {"ready":true}). */
  firstLine: Promise<string>;
}

export class VethPair {
  readonly a: string;
  readonly b: string;
  /** Temp dir of the compiled C helpers. */
  readonly binDir: string;
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;
  /** Set it and every process spawnIn() starts counts as the bench's own load. */
  monitor?: LoadMonitor;
  private readonly onExit = (): void => this.destroySync();
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.destroySync();
    process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGHUP" ? 1 : 15));
  };

  private constructor() {
    this.a = `${PREFIX}${process.pid}-a`;
    this.b = `${PREFIX}${process.pid}-b`;
    this.binDir = mkdtempSync(join(tmpdir(), `lsprobe-bench-${process.pid}-`));
  }

  /** Builds the pair and compiles `programs` (names of bench/c/*.c without .c) into binDir. */
  static create(programs: string[], o: { ipv6?: boolean } = {}): VethPair {
    cleanupStale();
    const p = new VethPair();
    process.on("exit", p.onExit);
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, p.onSignal);
    try {
      for (const prog of programs) {
        const r = spawnSync("gcc", ["-O2", "-Wall", "-o", join(p.binDir, prog), join(C_DIR, `${prog}.c`)], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`bench: gcc ${prog}.c failed: ${r.stderr || r.error?.message}`);
      }
      ip(["netns", "add", p.a]);
      ip(["netns", "add", p.b]);
      ip(["-n", p.a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", p.b]);
      for (const [ns, dev, addr, addr6] of [
        [p.a, "va", `${ADDR_A}/31`, `${ADDR6_A}/64`],
        [p.b, "vb", `${ADDR_B}/31`, `${ADDR6_B}/64`],
      ] as const) {
        const v6 = o.ipv6
          ? ["net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.default.accept_ra=0", "net.ipv6.conf.default.router_solicitations=0", "net.ipv6.conf.default.autoconf=0"]
          : ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"];
        const sysctls = [...v6, "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"];
        if (ns === p.a) sysctls.push("net.ipv4.conf.all.accept_local=1", "net.ipv4.conf.default.accept_local=1", `net.ipv4.conf.${dev}.accept_local=1`, `net.ipv4.conf.${dev}.rp_filter=0`);
        ip(["netns", "exec", ns, "sysctl", "-q", "-w", ...sysctls]);
        ip(["-n", ns, "addr", "add", addr, "dev", dev]);
        if (o.ipv6) ip(["-n", ns, "addr", "add", addr6, "dev", dev, "nodad"]);
        ip(["-n", ns, "link", "set", "lo", "up"]);
        ip(["-n", ns, "link", "set", dev, "up"]);
      }
      return p;
    } catch (e) {
      p.destroySync();
      throw e;
    }
  }

  /** Path of a compiled helper. */
  bin(prog: string): string {
    return join(this.binDir, prog);
  }

  /**
   * Runs argv in namespace `ns` (A or B), pinned to `cpu` when given. `ip netns exec` and
   * `taskset` exec, so child.pid is the program's own pid.
   */
  spawnIn(ns: string, argv: string[], cpu: string | null, env?: NodeJS.ProcessEnv): Spawned {
    if (ns !== this.a && ns !== this.b) throw new Error(`bench: ${ns} is not one of this pair's namespaces`);
    const full = ["netns", "exec", ns, ...(cpu !== null ? ["taskset", "-c", cpu] : []), ...argv];
    const child = spawn("ip", full, { stdio: ["pipe", "pipe", "pipe"], env: env ?? process.env });
    this.children.add(child);
    this.monitor?.track(child.pid);
    const out: string[] = [];
    const err: string[] = [];
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (d: string) => err.push(d));
    child.stdin!.on("error", () => {});
    const firstLine = new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout! });
      let first = true;
      rl.on("line", (l) => {
        out.push(l + "\n");
        if (first) {
          first = false;
          resolve(l);
        }
      });
      child.on("close", () => {
        if (first) reject(new Error(`bench: ${argv[0]} in ${ns} exited before its first line: ${err.join("").trim()}`));
      });
    });
    firstLine.catch(() => {});
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
      child.on("close", (code, signal) => {
        this.children.delete(child);
        resolve({ code, signal, stdout: out.join(""), stderr: err.join("") });
      });
      child.on("error", (e) => {
        this.children.delete(child);
        resolve({ code: -1, signal: null, stdout: out.join(""), stderr: `${err.join("")}${e.message}` });
      });
    });
    return { child, done, firstLine };
  }

  /** Stops a helper with SIGTERM (SIGKILL after `graceMs`) and returns its output. */
  async stop(s: Spawned, graceMs = 2000): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGTERM");
    const t = setTimeout(() => s.child.kill("SIGKILL"), graceMs);
    try {
      return await s.done;
    } finally {
      clearTimeout(t);
    }
  }

  /** Kills what is left, deletes both namespaces and the temp dir. Idempotent. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.monitor?.stop();
    for (const c of this.children) {
      try {
        c.kill("SIGKILL");
      } catch {
        /* gone */
      }
    }
    for (const ns of [this.a, this.b]) {
      killNetnsProcesses(ns); // anything a child left behind in the namespace
      spawnSync("ip", ["netns", "del", ns]);
    }
    rmSync(this.binDir, { recursive: true, force: true });
    process.removeListener("exit", this.onExit);
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeListener(s, this.onSignal);
  }

  async destroy(): Promise<void> {
    for (const c of this.children) c.kill("SIGKILL");
    const waits = [...this.children].map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("close", () => r()))));
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 2000))]);
    this.destroySync();
  }
}

/** Parses the last non-empty stdout line as JSON. */
export function lastJson<T>(stdout: string, what: string): T {
  const line = stdout.trim().split("\n").filter(Boolean).pop();
  if (!line) throw new Error(`bench: ${what} printed nothing`);
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`bench: ${what} printed ${JSON.stringify(line.slice(0, 200))}, not JSON`);
  }
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]; // "cpu  user nice system idle iowait irq softirq steal ..."
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((x, y) => x + y, 0);
  return { busy: total - f[3] - f[4], total };
}

/**
 * Share of all CPUs (0-100) busy over `ms` milliseconds while this process waits: other load on
 * the machine, which makes every figure of a wire bench unreliable.
 */
export async function machineBusyPct(ms = 1000): Promise<number> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  return b.total === a.total ? 0 : (100 * (b.busy - a.busy)) / (b.total - a.total);
}

/** The Udp: counters of /proc/net/snmp in the caller's network namespace. */
export function udpSnmp(): Record<string, number> {
  const lines = readFileSync("/proc/net/snmp", "utf8").split("\n").filter((l) => l.startsWith("Udp:"));
  const keys = lines[0].split(/\s+/).slice(1);
  const vals = lines[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(keys.map((k, i) => [k, vals[i]]));
}

/** Packets dropped at the per-CPU input backlogs (2nd column of /proc/net/softnet_stat, all CPUs). */
export function softnetDrops(): number {
  return readFileSync("/proc/net/softnet_stat", "utf8")
    .split("\n")
    .filter(Boolean)
    .reduce((n, l) => n + parseInt(l.trim().split(/\s+/)[1], 16), 0);
}

function jiffiesOf(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]); // utime + stime
  } catch {
    return undefined;
  }
}

function userSystemJiffies(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return f[0] + f[1] + f[2]; // user + nice + system, all CPUs (irq, softirq and steal not included)
}

/**
 * Other load on the machine while a bench runs: user + system CPU time of every process that is
 * not the bench's (this process and the pids given to track()), sampled every `intervalMs`.
 * Intervals in which a tracked process exited are not counted (its last slice is unknown).
 * begin() ... end() returns that load averaged over the span, in % of one CPU.
 */
export class LoadMonitor {
  private readonly pids = new Set<number>([process.pid]);
  private timer?: NodeJS.Timeout;
  private last?: { all: number; ours: Map<number, number>; at: number };
  private other = 0;
  private span = 0;
  private readonly hz = 100; // USER_HZ: /proc jiffies are 1/100 s on Linux

  constructor(private readonly intervalMs = 100) {}

  track(pid: number | undefined): void {
    if (pid !== undefined) this.pids.add(pid);
  }

  private snapshot(): { all: number; ours: Map<number, number>; at: number } {
    const ours = new Map<number, number>();
    for (const pid of this.pids) {
      const j = jiffiesOf(pid);
      if (j === undefined) this.pids.delete(pid);
      else ours.set(pid, j);
    }
    return { all: userSystemJiffies(), ours, at: performance.now() };
  }

  private sample(): void {
    const now = this.snapshot();
    const prev = this.last;
    this.last = now;
    if (!prev) return;
    let ours = 0;
    for (const [pid, j] of prev.ours) {
      const k = now.ours.get(pid);
      if (k === undefined) return; // exited during the interval: skip it
      ours += k - j;
    }
    for (const [pid, k] of now.ours) if (!prev.ours.has(pid)) ours += k; // new: all of its time is ours
    this.other += Math.max(0, now.all - prev.all - ours) / this.hz;
    this.span += (now.at - prev.at) / 1000;
  }

  begin(): void {
    this.other = 0;
    this.span = 0;
    this.last = this.snapshot();
    this.timer ??= setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Other processes' CPU since begin(), in % of one CPU. */
  end(): number {
    this.sample();
    return this.span === 0 ? 0 : (100 * this.other) / this.span;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Busy and total jiffies of one CPU (/proc/stat cpuN: everything but idle and iowait is busy, softirq included). */
export function cpuJiffies(cpu: string): { busy: number; total: number } | undefined {
  const line = readFileSync("/proc/stat", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((x, y) => x + y, 0);
  return { busy: total - f[3] - f[4], total };
}

/** Which prober build was measured: sha256 (12 hex) over the path and bytes of every .js under dist/prober. */
export function proberBuild(): string {
  return codeDigest(distDir("prober"));
}

/**
 * The entry point of a bench that runs as an orchestrator and, in a namespace, as a worker
 * (`--worker JSON`): a worker stops when its orchestrator dies (it holds the worker's stdin).
 * Exit codes: 0 ok, 1 a check failed, 2 the bench could not run.
 */
export function benchMain<A>(name: string, worker: (args: A) => Promise<unknown>, orchestrate: (argv: string[]) => Promise<number>): void {
  if (process.argv[2] === "--worker") {
    process.stdin.on("end", () => process.exit(1));
    process.stdin.resume();
    worker(JSON.parse(process.argv[3]) as A).then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`${name} worker: ${(e as Error).stack ?? String(e)}\n`);
        process.exit(1);
      },
    );
  } else {
    orchestrate(process.argv.slice(2)).then(
      (code) => process.exit(code),
      (e: unknown) => {
        process.stderr.write(`bench/${name}: ${(e as Error).stack ?? String(e)}\n`);
        process.exit(2);
      },
    );
  }
}
