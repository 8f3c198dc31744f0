// bench/lib/fleet-plugin: the real plugin process for bench/fleet (dist/plugin/parser.js with a
// temporary config, ExaBGP lines on stdin as the integration tests feed it), its CPU and RSS
// read from /proc, and plain GETs to its path-set service. Not a bench.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";

const PARSER = new URL("../../plugin/parser.js", import.meta.url).pathname;
const TICK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

export interface PluginOptions {
  /** Endpoint groups (node names). */
  groups: string[][];
  mode: "all" | "plan";
  /** plugin.paths.max-per-pair. */
  maxPerPair: number;
  /** plugin.plan.budget-pps (mode plan). */
  budgetPps?: number;
  token: string;
  /** plugin.serve.max-connections and max-waiting: room for the fleet. */
  maxConnections: number;
  maxWaiting: number;
}

export interface ProcUsage {
  /** utime + stime, seconds. */
  cpuS: number;
  rssMb: number;
  hwmMb: number;
}

export class PluginProcess {
  private readonly dir = mkdtempSync(path.join(tmpdir(), "lsprobe-bench-fleet-"));
  private readonly proc: ChildProcessWithoutNullStreams;
  /** The last 64 kB of stderr (its log). */
  private tail = "";
  private servingAt?: string;
  readonly exited: Promise<number | null>;

  constructor(o: PluginOptions) {
    const tokens = path.join(this.dir, "serve-tokens");
    writeFileSync(tokens, `${o.token}\n`, { mode: 0o600 });
    const config = path.join(this.dir, "lsprobe.yaml");
    writeFileSync(
      config,
      [
        "plugin:",
        "  endpoints:",
        `    groups: [${o.groups.map((g) => `[${g.join(", ")}]`).join(", ")}]`,
        "  paths:",
        `    mode: ${o.mode}`,
        `    max-per-pair: ${o.maxPerPair}`,
        ...(o.budgetPps !== undefined ? ["  plan:", `    budget-pps: ${o.budgetPps}`] : []),
        "  output:",
        `    file: ${path.join(this.dir, "paths.json")}`,
        "    socket: null",
        "  state-file: null",
        "  listen: null",
        "  debounce: 0ms",
        "  serve:",
        "    listen: 127.0.0.1:0",
        "    auth: token",
        `    token-file: ${tokens}`,
        `    max-connections: ${o.maxConnections}`,
        `    max-waiting: ${o.maxWaiting}`,
        "",
      ].join("\n"),
    );
    // FLEET_NODE_ARGS: extra node options for the plugin (say --cpu-prof --cpu-prof-dir=DIR, to see where a storm goes).
    const extra = (process.env.FLEET_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
    this.proc = spawn(process.execPath, [...extra, PARSER, "--config", config], { stdio: "pipe" });
    this.proc.stdout.resume();
    this.proc.stderr.on("data", (d: Buffer) => {
      this.tail = (this.tail + d.toString()).slice(-65536);
      this.servingAt ??= /serving path sets .*listen=(127\.0\.0\.1:\d+)/.exec(this.tail)?.[1];
    });
    this.exited = new Promise((resolve) => this.proc.on("exit", (code) => resolve(code)));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get log(): string {
    return this.tail;
  }

  /** http://127.0.0.1:PORT/v1/paths once it serves. */
  async url(ms = 30_000): Promise<string> {
    const end = Date.now() + ms;
    while (this.servingAt === undefined) {
      if (Date.now() > end) throw new Error(`the plugin did not start serving within ${ms / 1000} s; its log ends:\n${this.tail.slice(-2000)}`);
      await sleep(20);
    }
    return `http://${this.servingAt}/v1/paths`;
  }

  write(lines: string[]): void {
    this.proc.stdin.write(lines.join("\n") + "\n");
  }

  /** CPU and memory from /proc (the plugin is the node process itself: spawned without a shell). */
  usage(): ProcUsage {
    const stat = readFileSync(`/proc/${this.pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { cpuS: (Number(f[11]) + Number(f[12])) / TICK, rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
  }

  /** Until its CPU over `windowMs` stays under `share` of a core (the set computed, nothing pending). */
  async quiet(windowMs = 1000, share = 0.05, ms = 60_000): Promise<void> {
    const end = Date.now() + ms;
    let last = this.usage().cpuS;
    for (;;) {
      await sleep(windowMs);
      const now = this.usage().cpuS;
      if (now - last < (share * windowMs) / 1000) return;
      if (Date.now() > end) throw new Error(`the plugin stayed busy for ${ms / 1000} s`);
      last = now;
    }
  }

  /** Ends it as ExaBGP does (the shutdown line), SIGKILL after 10 s (120 s when profiled); removes the temporary files. */
  async stop(shutdownLine: string): Promise<void> {
    if (this.proc.exitCode === null) {
      this.proc.stdin.write(shutdownLine + "\n");
      // A profiled plugin (FLEET_NODE_ARGS) gets longer: its profile is written on a clean exit only.
      const t = setTimeout(() => this.proc.kill("SIGKILL"), process.env.FLEET_NODE_ARGS ? 120_000 : 10_000);
      await this.exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One GET (no keep-alive), the body as text; fails after `timeoutMs` (a saturated plugin may not accept). */
export function get(url: string, token: string, timeoutMs = 10_000): Promise<{ status: number; etag: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { authorization: `Bearer ${token}` }, agent: false, timeout: timeoutMs }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, etag: String(res.headers.etag ?? ""), body }));
      })
      .on("timeout", function (this: http.ClientRequest) {
        this.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`));
      })
      .on("error", reject);
  });
}
