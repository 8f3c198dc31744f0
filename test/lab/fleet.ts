// Many probers at many sites on a lab (issue 14): the routers as network namespaces, a prober in
// each site's host namespace behind its own router, and the whole control plane in the host
// `nms`: real ExaBGP running the plugin, which serves the path sets over HTTPS with a token
// (plugin.serve) and its /metrics (plugin.listen) on nms's lab address. Each prober fetches its
// slice from https://<nms>:9471/v1/paths (prober.paths.url, the token and the CA) under its id,
// site and router, and serves its own /paths and /metrics on its lab address, port 9469.
//
// Nothing runs in the root namespace on a lab address: ExaBGP runs in nms (startExabgp's netns),
// so the plugin under it does too. The two BGP-LS speakers stay in this process, where the tests
// drive them, on this loopback, and ExaBGP reaches them through a bridge (nsbridge.ts: a
// forwarder on nms's 127.x, a Unix socket in the temporary directory). Running the speakers in a
// child process in nms instead would need a control protocol for every announce and withdraw.
// Everything this process fetches from the lab goes through an agent inside the namespace
// (nsfetch.ts).
//
// Everything lives in a temporary directory and in namespaces named after this process; stop()
// removes it all, and so do exit/signal handlers if the caller dies (Lab, ExaBGP, and the
// directory's own exit hook).
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import { Lab, type LabTopology } from "./netns.js";
import { lsTopologyFromLab, loadLabTopology } from "./topology-file.js";
import type { LsTopology } from "./speaker/topology.js";
import { findExabgp, type ExabgpProgram } from "./exabgp.js";
import { ControlPlane } from "./controlplane.js";
import { NsFetcher, type FetchResult } from "./nsfetch.js";
import type { ProberView } from "./stack.js";
import { makePki, type TestPki } from "../util/tls.js";
import { parsePathSet, type PathSet } from "../../shared/pathset.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.resolve(HERE, "../..");
const PLUGIN = path.join(DIST, "plugin/parser.js");
const PROBER = path.join(DIST, "prober/main.js");
/** test/lab/topologies/ladder12.yaml of the source tree (dist/test/lab -> test/lab). */
export const LADDER12 = path.resolve(HERE, "../../../test/lab/topologies/ladder12.yaml");

export const SERVE_PORT = 9471;
export const PLUGIN_METRICS_PORT = 9468;
export const PROBER_PORT = 9469;

export interface FleetOptions {
  /** The lab (default ladder12.yaml). */
  topology?: LabTopology;
  /** Site -> the host its prober runs in (default { a: "pa", b: "pb", c: "pc" }). */
  sites?: Record<string, string>;
  /** The host of the control plane (default "nms"). */
  controller?: string;
  /** plugin.paths.mode over the group of the probers' routers (default all). */
  mode?: "all" | "plan";
  /** plugin.serve.probers-per-link (default 2). */
  probersPerLink?: number;
  /** plugin.serve.prober-timeout (default 3s: a stopped prober's share moves well within 30 s). */
  proberTimeout?: string;
  /** prober.rate, probes per second per path (default 10). */
  rate?: number;
  /** The ExaBGP to run (exabgpPrograms()); default Debian's 4.2. */
  exabgp?: ExabgpProgram;
  /** Extra plugin config lines (YAML, indented by two spaces under plugin:). */
  pluginExtra?: string;
  /** Extra config lines of every prober (YAML, indented by two spaces under prober:). */
  proberExtra?: string;
  /** Called with every log line of the probers (prefixed with the prober's id). */
  onLog?: (line: string) => void;
}

/** One site's prober. */
export interface FleetProber {
  site: string;
  /** prober.id: "prober-<site>". */
  id: string;
  /** The host namespace it runs in, and the router that host hangs off. */
  host: string;
  router: string;
  /** Its lab address (prober.source; its HTTP listens there on PROBER_PORT). */
  address: string;
  config: string;
  proc?: ChildProcess;
}

export class FleetStack {
  readonly dir: string;
  readonly ls: LsTopology;
  readonly controller: LabTopology["hosts"][number];
  readonly probers = new Map<string, FleetProber>();
  /** The bearer token plugin.serve accepts (and the probers send). */
  readonly token = randomBytes(16).toString("hex");
  private readonly fetcher: NsFetcher;
  private controlPlane?: ControlPlane;
  private pki?: TestPki;
  private stopped = false;
  private unhook: () => void;

  private constructor(
    readonly lab: Lab,
    readonly topology: LabTopology,
    private readonly o: FleetOptions,
  ) {
    this.dir = mkdtempSync(path.join(tmpdir(), "lsprobe-fleet-"));
    chmodSync(this.dir, 0o755);
    this.ls = lsTopologyFromLab(topology, 65001, "ipv4");
    this.controller = hostOf(topology, o.controller ?? "nms");
    for (const [site, host] of Object.entries(sitesOf(o))) {
      const h = hostOf(topology, host);
      this.probers.set(site, { site, id: `prober-${site}`, host, router: h.router, address: h.address, config: path.join(this.dir, `prober-${site}.yaml`) });
    }
    this.fetcher = new NsFetcher(lab);
    this.unhook = onExitOrSignal(() => this.removeFiles());
  }

  private removeFiles(): void {
    this.pki?.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
  }

  static async start(o: FleetOptions = {}): Promise<FleetStack> {
    if (o.exabgp === undefined && findExabgp() === undefined) throw new Error("exabgp is not installed: apt-get install exabgp");
    const topology = o.topology ?? loadLabTopology(LADDER12);
    const sites = Object.values(sitesOf(o)).map((h) => hostOf(topology, h));
    const group = [...new Set(sites.map((h) => h.router))];
    if (group.length !== sites.length) throw new Error(`fleet: every site's prober needs its own router, got ${sites.map((h) => `${h.name} behind ${h.router}`).join(", ")}`);
    const pairs = group.flatMap((a, i) => group.slice(i + 1).map((b) => [a, b] as [string, string]));
    const lab = await Lab.create(topology, { family: "dual", kernel: { pairs, sources: sites.map((h) => h.address) } });
    let s: FleetStack | undefined;
    try {
      s = new FleetStack(lab, topology, o);
      await s.startAll(group);
    } catch (e) {
      if (s) await s.stop();
      else await lab.destroy();
      throw e;
    }
    return s;
  }

  private log(component: string, line: string): void {
    this.o.onLog?.(`${component}: ${line}`);
  }

  /** The path-set service's URL (on nms's lab address). */
  get serveUrl(): string {
    return `https://${this.controller.address}:${SERVE_PORT}/v1/paths`;
  }

  /** The plugin's /metrics (on nms's lab address). */
  get metricsUrl(): string {
    return `http://${this.controller.address}:${PLUGIN_METRICS_PORT}/metrics`;
  }

  get pathsFile(): string {
    return path.join(this.dir, "paths.json");
  }

  /** The CA certificate (PEM file) that signed the service's certificate. */
  get caFile(): string {
    return this.pki!.caCert;
  }

  private async startAll(group: string[]): Promise<void> {
    this.log("lab", this.lab.decapSummary);
    const nms = this.controller;
    this.pki = makePki({ serverIps: [nms.address, nms.address6] });
    writeFileSync(path.join(this.dir, "serve-tokens"), `${this.token}\n`, { mode: 0o640 });
    writeFileSync(path.join(this.dir, "prober-token"), `${this.token}\n`, { mode: 0o600 });
    const config = this.writePluginConfig(group);
    for (const p of this.probers.values()) this.writeProberConfig(p);
    this.controlPlane = await ControlPlane.start({
      ls: this.ls,
      processCommand: [process.execPath, PLUGIN, "--config", config],
      exabgp: this.o.exabgp,
      inNamespace: { lab: this.lab, node: nms.name, dir: this.dir },
    });
    await this.until("the first path set", async () => existsSync(this.pathsFile), 20_000);
    await Promise.all([...this.probers.keys()].map((site) => this.startProber(site)));
  }

  private writePluginConfig(group: string[]): string {
    const file = path.join(this.dir, "lsprobe-plugin.yaml");
    const nms = this.controller.address;
    const lines = [
      "plugin:",
      "  endpoints:",
      `    groups: [${JSON.stringify(group)}]`,
      "  paths:",
      `    mode: ${this.o.mode ?? "all"}`,
      "  output:",
      `    file: ${this.pathsFile}`,
      "    socket: null",
      "  state-file: null",
      `  listen: ${nms}:${PLUGIN_METRICS_PORT}`,
      "  serve:",
      `    listen: ${nms}:${SERVE_PORT}`,
      "    auth: token",
      `    token-file: ${path.join(this.dir, "serve-tokens")}`,
      `    cert-file: ${this.pki!.serverCert}`,
      `    key-file: ${this.pki!.serverKey}`,
      `    prober-timeout: ${this.o.proberTimeout ?? "3s"}`,
      `    probers-per-link: ${this.o.probersPerLink ?? 2}`,
      ...(this.o.pluginExtra ? [this.o.pluginExtra] : []),
      "log:",
      "  level: info",
      "",
    ];
    writeFileSync(file, lines.join("\n"), { mode: 0o644 });
    return file;
  }

  private writeProberConfig(p: FleetProber): void {
    const lines = [
      "prober:",
      `  id: ${p.id}`,
      `  site: ${p.site}`,
      `  source: ${p.address}`,
      `  router: ${p.router}`,
      "  paths:",
      "    socket: null",
      "    file: null",
      `    url: ${this.serveUrl}`,
      `    token-file: ${path.join(this.dir, "prober-token")}`,
      `    ca-file: ${this.pki!.caCert}`,
      `  rate: ${this.o.rate ?? 10}`,
      "  timeout: 250ms",
      "  down-after: 3",
      "  up-after: 3",
      "  loss-window: 5s",
      `  listen: ${p.address}:${PROBER_PORT}`,
      ...(this.o.proberExtra ? [this.o.proberExtra] : []),
      "log:",
      "  level: info",
      "",
    ];
    writeFileSync(p.config, lines.join("\n"), { mode: 0o644 });
  }

  private prober(site: string): FleetProber {
    const p = this.probers.get(site);
    if (!p) throw new TypeError(`fleet: no site ${JSON.stringify(site)} (sites: ${[...this.probers.keys()].join(", ")})`);
    return p;
  }

  /** Starts the site's prober (again); resolves once its /paths answers. */
  async startProber(site: string): Promise<void> {
    const p = this.prober(site);
    if (p.proc && p.proc.exitCode === null && p.proc.signalCode === null) throw new Error(`fleet: the prober of site ${site} is running`);
    const proc = this.lab.spawnIn(p.host, [process.execPath, PROBER, "--config", p.config], { stdio: ["ignore", "ignore", "pipe"] });
    createInterface({ input: proc.stderr! }).on("line", (l) => this.log(p.id, l));
    p.proc = proc;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));
    await this.until(`${p.id}'s /paths`, async () => {
      if (gone) throw new Error(`fleet: ${p.id} exited (${proc.exitCode ?? proc.signalCode}) before answering`);
      return (await this.proberView(site).catch(() => undefined)) !== undefined;
    }, 15_000);
  }

  /** Stops the site's prober (SIGTERM, SIGKILL after 5 s): its long-poll to the plugin closes. */
  async stopProber(site: string): Promise<void> {
    const proc = this.prober(site).proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** GET from inside a lab node's namespace (e.g. the service from a prober's host). */
  fetchIn(node: string, url: string, o: { headers?: Record<string, string>; ca?: string } = {}): Promise<FetchResult> {
    return this.fetcher.get(node, url, o);
  }

  /** GET the path-set service's `pathAndQuery` (e.g. "/v1/probers") from inside `node`, checking its certificate, with the token unless `token` is false. */
  serve(node: string, pathAndQuery: string, o: { token?: boolean } = {}): Promise<FetchResult> {
    const url = `https://${this.controller.address}:${SERVE_PORT}${pathAndQuery}`;
    return this.fetcher.get(node, url, { ca: this.caFile, headers: o.token === false ? {} : { authorization: `Bearer ${this.token}` } });
  }

  /** The plugin's /metrics text, fetched from inside nms. */
  async pluginMetrics(): Promise<string> {
    const r = await this.fetcher.get(this.controller.name, this.metricsUrl);
    if (r.status !== 200) throw new Error(`fleet: plugin /metrics answered ${r.status}`);
    return r.body;
  }

  /** The site's prober's /paths, fetched from inside its namespace. */
  async proberView(site: string): Promise<ProberView> {
    const p = this.prober(site);
    const r = await this.fetcher.get(p.host, `http://${p.address}:${PROBER_PORT}/paths`);
    if (r.status !== 200) throw new Error(`fleet: ${p.id} /paths answered ${r.status}`);
    return JSON.parse(r.body) as ProberView;
  }

  /** The plugin's whole path set (its output file). */
  pathSet(): PathSet | undefined {
    return existsSync(this.pathsFile) ? parsePathSet(JSON.parse(readFileSync(this.pathsFile, "utf8"))) : undefined;
  }

  /** ExaBGP's log, with the plugin's (its API process's stderr). */
  controlLogs(): string {
    return this.controlPlane?.exabgp?.logs() ?? "";
  }

  /** Polls `ok` every 200 ms until it is true; throws naming `what` after `ms`. */
  async until(what: string, ok: () => Promise<boolean>, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > end) throw new Error(`fleet: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.fetcher.close();
    await Promise.all([...this.probers.keys()].map((site) => this.stopProber(site)));
    await this.controlPlane?.stop();
    await this.lab.destroy();
    this.removeFiles();
    this.unhook();
  }
}

/**
 * Runs `fn` at exit or on SIGINT/SIGTERM/SIGHUP (then dies of the signal when no other handler is
 * left: the Lab's and ExaBGP's kill their processes first); returns the unhook.
 */
function onExitOrSignal(fn: () => void): () => void {
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const onSignal = (sig: NodeJS.Signals): void => {
    unhook();
    fn();
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  const unhook = (): void => {
    process.removeListener("exit", fn);
    for (const sig of signals) process.removeListener(sig, onSignal);
  };
  process.once("exit", fn);
  for (const sig of signals) process.on(sig, onSignal);
  return unhook;
}

function sitesOf(o: FleetOptions): Record<string, string> {
  return o.sites ?? { a: "pa", b: "pb", c: "pc" };
}

function hostOf(t: LabTopology, name: string): LabTopology["hosts"][number] {
  const h = t.hosts.find((x) => x.name === name);
  if (!h) throw new TypeError(`fleet: the topology has no host ${JSON.stringify(name)} (hosts: ${t.hosts.map((x) => x.name).join(", ")})`);
  return h;
}
