// The whole of lsprobe on a lab: routers as network namespaces, two BGP-LS speakers exporting
// the IGP as R1 and R6 would, a real ExaBGP running the plugin, the prober in host h1, and
// (when installed) Prometheus next to it. Faults are injected from here: control-plane link and
// router failures (withdrawn over BGP-LS, routes reconverge after a delay, as an IGP would) and
// data-plane ones the control plane never sees (gray loss, delay, congestion).
//
// Everything lives in a temporary directory and in namespaces named after this process; stop()
// removes it all, and so do exit/signal handlers if the caller dies.
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import net from "node:net";
import type { ChildProcess } from "node:child_process";
import { Lab, type AddressFamily, type LabFamily, type LabTopology } from "./netns.js";
import type { BgpLsSpeaker } from "./speaker/speaker.js";
import { withSegmentRouting, type LsTopology } from "./speaker/topology.js";
import { findExabgp, type ExabgpProgram } from "./exabgp.js";
import { ControlPlane } from "./controlplane.js";
import { lsTopologyFromLab } from "./topology-file.js";
import { parsePathSet, type PathSet } from "../../shared/pathset.js";

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PLUGIN = path.join(DIST, "plugin/parser.js");
const PROBER = path.join(DIST, "prober/main.js");

export interface StackOptions {
  /** Endpoint pairs for the plugin (default: first and last router). */
  pairs?: Array<[string, string]>;
  /** Probes per second per path. */
  rate?: number;
  /** Delay before routes follow a control-plane change, ms (an IGP's SPF + FIB update). */
  convergenceMs?: number;
  /** Start Prometheus in h1 when installed (default true). */
  prometheus?: boolean;
  /** Extra prober config lines (YAML, indented by two spaces under prober:). */
  proberExtra?: string;
  /** prober.loss-window and prober.lossy-above (default 5s and 0.02: quick reactions for the demo). */
  lossWindow?: string;
  lossyAbove?: number;
  /** Called with every log line of the components (prefixed with the component). */
  onLog?: (line: string) => void;
  /** The ExaBGP to run (exabgpPrograms()); default Debian's 4.2. */
  exabgp?: ExabgpProgram;
  /**
   * What BGP-LS reports and the prober probes (default "ipv4"): "dual" gives the prober both of
   * h1's addresses and the plugin both families; "ipv6" an IPv6-only lab (no IPv4 address
   * anywhere), the plugin computing IPv6 only. The lab itself is dual stack unless "ipv6".
   */
  family?: LabFamily;
  /**
   * Segment routing (issue 15): "srv6" makes the lab SRv6 (LabOptions.srv6: the kernel's seg6local
   * End.X routes, or the routers' userspace End.X on a kernel without them), the speakers advertise the End.X SIDs (withSegmentRouting) and the prober
   * probes with `encap: srv6` from h1's IPv6 address (family "ipv6" or "dual"; ExaBGP 5.0
   * required: 4.2.21 cannot decode End.X SIDs); "sr-mpls" runs the userspace label switcher
   * (LabOptions.mpls), the speakers advertise Adj-SIDs and the prober probes with `encap: sr-mpls`.
   */
  sr?: "srv6" | "sr-mpls";
  /** Load these Prometheus rule files, and send alerts to an Alertmanager run in h1 with this config (none: Prometheus evaluates the rules, ALERTS shows them, nothing is sent). */
  alerting?: { ruleFiles: string[]; alertmanagerConfig?: string };
}

/** What the prober's /paths says (see prober/prober.ts describe()). */
export interface ProberView {
  generation: number;
  schedule: { rate: number };
  paths: Array<{
    path: string;
    hops: string;
    /** The address family probed ("ipv4", "ipv6"). */
    af: string;
    /** How its probes are pinned (gre, ipip, gre+ipip, srv6, sr-mpls), and why not the one asked for. */
    encap?: string;
    encapFallback?: string;
    /** Probes per second this path asks for (its plan rate, else prober.rate; max-pps may slow it). */
    ratePps: number;
    state: string;
    lastRttSeconds: number | null;
    rttP50Seconds: number | null;
    rttP99Seconds: number | null;
    lossRatio: number | null;
    sent: number;
    received: number;
    late: number;
    lost: number;
    inFlight: number;
  }>;
  /** Suspect links, lossiest first (prober/prober.ts LinkState). */
  suspects: Array<{ link: string; from: string; to: string; af: string; loss: number; identifiable: boolean; group?: string[] }>;
}

export class LabStack {
  readonly dir: string;
  readonly ls: LsTopology;
  readonly host: LabTopology["hosts"][number];
  private controlPlane?: ControlPlane;
  private prober?: ChildProcess;
  private watcher?: ChildProcess;
  private prometheusProc?: ChildProcess;
  private alertmanagerProc?: ChildProcess;
  private cross = new Map<string, ChildProcess>();
  private stopped = false;
  private control?: net.Server;
  /** Latest /paths document from the prober. */
  view?: ProberView;
  readonly prometheusUrl?: string;

  private constructor(
    readonly lab: Lab,
    readonly topology: LabTopology,
    private readonly o: StackOptions,
  ) {
    this.dir = mkdtempSync(path.join(tmpdir(), "lsprobe-stack-"));
    chmodSync(this.dir, 0o755);
    const ls = lsTopologyFromLab(topology, 65001, this.family);
    this.ls = o.sr ? withSegmentRouting(ls, { srv6: o.sr === "srv6", mpls: o.sr === "sr-mpls" }) : ls;
    const h = topology.hosts[0];
    if (!h) throw new Error("lab: the topology needs a host for the prober");
    this.host = h;
    if (o.prometheus !== false && existsSync("/usr/bin/prometheus")) this.prometheusUrl = "http://127.0.0.1:9090";
    process.once("exit", () => rmSync(this.dir, { recursive: true, force: true }));
  }

  static async start(topology: LabTopology, o: StackOptions = {}): Promise<LabStack> {
    if (o.exabgp === undefined && findExabgp() === undefined) throw new Error("exabgp is not installed: apt-get install exabgp");
    if (o.sr === "srv6" && o.exabgp?.version !== "5.0")
      throw new Error("lab: SRv6 needs ExaBGP 5.0 (exabgpPrograms(): ../shared/tools/exabgp5): 4.2.21 cannot decode the End.X SID TLV (1106), so the plugin would see no SRv6 SID");
    if (o.sr === "srv6" && (o.family ?? "ipv4") === "ipv4") throw new Error('lab: SRv6 probes are IPv6: give family "ipv6" or "dual" with sr "srv6"');
    // Kernel decap where the kernel has it, configured for the plugin's pairs and this prober's source.
    const lab = await Lab.create(topology, {
      family: o.family === "ipv6" ? "ipv6" : "dual",
      kernel: { pairs: o.pairs, sources: topology.hosts[0] ? [topology.hosts[0].address] : undefined },
      ...(o.sr === "srv6" ? { srv6: true } : o.sr === "sr-mpls" ? { mpls: "userspace" as const } : {}),
    });
    const s = new LabStack(lab, topology, o);
    try {
      await s.startAll();
    } catch (e) {
      await s.stop();
      throw e;
    }
    return s;
  }

  private log(component: string, line: string): void {
    this.o.onLog?.(`${component}: ${line}`);
  }

  /** The families BGP-LS reports and the prober probes (StackOptions.family). */
  get family(): LabFamily {
    return this.o.family ?? "ipv4";
  }

  /** prober.source: h1's address of each family probed. */
  private proberSource(): string {
    const h = this.host;
    return this.family === "ipv4" ? h.address : this.family === "ipv6" ? h.address6 : `[${h.address}, ${h.address6}]`;
  }

  get pathsFile(): string {
    return path.join(this.dir, "paths.json");
  }

  private writeConfig(): string {
    const routers = this.topology.routers.map((r) => r.name);
    const pairs = this.o.pairs ?? [[routers[0], routers[routers.length - 1]]];
    const file = path.join(this.dir, "lsprobe.yaml");
    writeFileSync(
      file,
      [
        "plugin:",
        "  endpoints:",
        `    pairs: ${JSON.stringify(pairs)}`,
        "  output:",
        `    file: ${this.pathsFile}`,
        `    socket: ${path.join(this.dir, "paths.sock")}`,
        `  state-file: ${path.join(this.dir, "lsdb.json")}`,
        ...(this.family === "ipv6" ? ["  paths:", "    families: [ipv6]"] : []),
        "prober:",
        `  source: ${this.proberSource()}`,
        `  router: ${this.host.router}`,
        "  paths:",
        `    socket: ${path.join(this.dir, "paths.sock")}`,
        `    file: ${this.pathsFile}`,
        `  rate: ${this.o.rate ?? 25}`,
        "  timeout: 250ms",
        "  down-after: 3",
        "  up-after: 3",
        `  loss-window: ${this.o.lossWindow ?? "5s"}`,
        `  lossy-above: ${this.o.lossyAbove ?? 0.02}`,
        ...(this.o.sr ? [`  encap: ${this.o.sr}`] : []),
        "  listen: 127.0.0.1:9469",
        ...(this.o.proberExtra ? [this.o.proberExtra] : []),
        "log:",
        "  level: info",
        "",
      ].join("\n"),
      { mode: 0o644 },
    );
    return file;
  }

  private async startAll(): Promise<void> {
    const config = this.writeConfig();
    this.log("lab", this.lab.decapSummary);
    if (this.o.sr) this.log("lab", this.lab.srSummary);
    // Two speakers export the same IGP domain, as R1 and R6 would; ExaBGP on this loopback.
    this.controlPlane = await ControlPlane.start({ ls: this.ls, processCommand: [process.execPath, PLUGIN, "--config", config], exabgp: this.o.exabgp });
    await this.until("the first path set", () => existsSync(this.pathsFile), 15_000);

    this.prober = this.lab.spawnIn(this.host.name, [process.execPath, PROBER, "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
    createInterface({ input: this.prober.stderr! }).on("line", (l) => this.log("prober", l));
    // A poller inside h1 (the prober's HTTP is on h1's loopback; nothing crosses from the root namespace).
    const poll = "setInterval(()=>fetch('http://127.0.0.1:9469/paths').then(r=>r.text()).then(t=>process.stdout.write(t),()=>{}),500)";
    this.watcher = this.lab.spawnIn(this.host.name, [process.execPath, "-e", poll], { stdio: ["ignore", "pipe", "ignore"] });
    createInterface({ input: this.watcher.stdout! }).on("line", (l) => {
      try {
        this.view = JSON.parse(l) as ProberView;
      } catch {
        /* partial */
      }
    });
    if (this.prometheusUrl) this.startPrometheus();
    await this.until("the prober's first view", () => (this.view?.paths.length ?? 0) > 0, 15_000);
  }

  private startPrometheus(): void {
    const cfg = path.join(this.dir, "prometheus.yml");
    const al = this.o.alerting;
    writeFileSync(
      cfg,
      "global:\n  scrape_interval: 2s\n  evaluation_interval: 2s\n" +
        (al ? `rule_files: ${JSON.stringify(al.ruleFiles)}\n` : "") +
        (al?.alertmanagerConfig ? `alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:9093']\n` : "") +
        "scrape_configs:\n  - job_name: lsprobe-prober\n    static_configs:\n      - targets: ['127.0.0.1:9469']\n",
    );
    if (al?.alertmanagerConfig) {
      this.alertmanagerProc = this.lab.spawnIn(
        this.host.name,
        ["/usr/bin/prometheus-alertmanager", `--config.file=${al.alertmanagerConfig}`, `--storage.path=${path.join(this.dir, "alertmanager")}`, "--web.listen-address=127.0.0.1:9093", "--cluster.listen-address="],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      createInterface({ input: this.alertmanagerProc.stderr! }).on("line", (l) => this.log("alertmanager", l));
    }
    this.prometheusProc = this.lab.spawnIn(this.host.name, ["/usr/bin/prometheus", `--config.file=${cfg}`, `--storage.tsdb.path=${path.join(this.dir, "tsdb")}`, "--web.listen-address=127.0.0.1:9090"], { stdio: ["ignore", "ignore", "pipe"] });
    createInterface({ input: this.prometheusProc.stderr! }).on("line", (l) => this.log("prometheus", l));
  }

  async until(what: string, ok: () => boolean, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`lab stack: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  pathSet(): PathSet | undefined {
    return existsSync(this.pathsFile) ? parsePathSet(JSON.parse(readFileSync(this.pathsFile, "utf8"))) : undefined;
  }

  private get speakers(): BgpLsSpeaker[] {
    return this.controlPlane?.speakers ?? [];
  }

  private reconverge(): void {
    setTimeout(() => void this.lab.installRoutes().catch((e: Error) => this.log("lab", `route install failed: ${e.message}`)), this.o.convergenceMs ?? 1000).unref();
  }

  // ---- faults ----

  /** Control plane sees it: the link goes down, both speakers withdraw it, routes reconverge. */
  async linkDown(a: string, b: string): Promise<void> {
    await this.lab.linkDown(a, b);
    for (const sp of this.speakers) sp.withdrawLink(this.ls, a, b);
    this.reconverge();
  }

  async linkUp(a: string, b: string): Promise<void> {
    await this.lab.linkUp(a, b);
    for (const sp of this.speakers) for (const l of this.ls.links) if ((l.from === a && l.to === b) || (l.from === b && l.to === a)) sp.announceLink(this.ls, l);
    this.reconverge();
  }

  /** The data plane drops `share` of what crosses a -> b (of one family, or both); the control plane sees nothing. */
  gray(a: string, b: string, share: number, family?: AddressFamily): void {
    this.lab.setFault(a, b, { loss: share, ...(family ? { family } : {}) });
  }

  /** The data plane drops all of one family's traffic a -> b (the other family and BGP-LS see nothing). */
  dropFamily(a: string, b: string, family: AddressFamily, drop = true): void {
    this.lab.setFamilyDrop(a, b, family, drop);
  }

  /** The data plane delays what crosses a -> b by `ms`. */
  delay(a: string, b: string, ms: number): void {
    this.lab.setFault(a, b, { delayMs: ms });
  }

  /** A real queue: a tbf bottleneck of `kbit` on a's side of a-b, filled by UDP cross traffic from a to b. */
  async congest(a: string, b: string, kbit: number, crossKbit = kbit * 2): Promise<void> {
    const dev = this.lab.ifname(a, b);
    const r = await this.lab.exec(a, ["tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate", `${kbit}kbit`, "burst", "16kbit", "latency", "200ms"]);
    if (r.code !== 0) throw new Error(`lab: tbf on ${a}-${b}: ${r.stderr}`);
    const dst = this.lab.addressOn(b, a);
    const pps = Math.max(1, Math.round((crossKbit * 1000) / 8 / 1000)); // 1000-byte datagrams
    const flood = `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(1000);setInterval(()=>{for(let i=0;i<${Math.ceil(pps / 100)};i++)s.send(b,9,'${dst}')},10)`;
    this.cross.get(`${a}>${b}`)?.kill();
    this.cross.set(`${a}>${b}`, this.lab.spawnIn(a, [process.execPath, "-e", flood], { stdio: "ignore" }));
  }

  async uncongest(a: string, b: string): Promise<void> {
    this.cross.get(`${a}>${b}`)?.kill();
    this.cross.delete(`${a}>${b}`);
    await this.lab.exec(a, ["tc", "qdisc", "del", "dev", this.lab.ifname(a, b), "root"]);
  }

  /** Router down: all its links down, the speakers withdraw it, routes reconverge. */
  async routerDown(name: string): Promise<void> {
    const peers = new Set(this.topology.links.flatMap((l) => (l.a === name ? [l.b] : l.b === name ? [l.a] : [])));
    for (const p of peers) await this.lab.linkDown(name, p);
    for (const sp of this.speakers) sp.withdrawRouter(this.ls, name);
    this.reconverge();
  }

  async routerUp(name: string): Promise<void> {
    const peers = new Set(this.topology.links.flatMap((l) => (l.a === name ? [l.b] : l.b === name ? [l.a] : [])));
    for (const p of peers) await this.lab.linkUp(name, p);
    for (const sp of this.speakers) {
      sp.announceNode(this.ls, name);
      for (const l of this.ls.links) if (l.from === name || l.to === name) sp.announceLink(this.ls, l);
      for (const p of this.ls.prefixes) if (p.router === name) sp.announcePrefix(this.ls, p);
    }
    this.reconverge();
  }

  /** Remove every data-plane fault. */
  clearFaults(): void {
    this.lab.clearFaults();
  }

  /** Run one fault command (the CLI's words): returns what happened, or throws with usage. */
  async command(words: string[]): Promise<string> {
    const [cmd, a, b, x] = words;
    const need = (n: number, usage: string): void => {
      if (words.length !== n) throw new Error(`usage: ${usage}`);
    };
    switch (cmd) {
      case "link-down":
        need(3, "link-down A B");
        await this.linkDown(a, b);
        return `link ${a}-${b} down, withdrawn over BGP-LS; routes reconverge`;
      case "link-up":
        need(3, "link-up A B");
        await this.linkUp(a, b);
        return `link ${a}-${b} up, announced again`;
      case "gray":
        need(4, "gray A B SHARE   (A -> B drops SHARE of packets, e.g. 0.03)");
        this.gray(a, b, Number(x));
        return `gray failure: ${a} -> ${b} drops ${Number(x) * 100}%`;
      case "delay":
        need(4, "delay A B MS");
        this.delay(a, b, Number(x));
        return `${a} -> ${b} delayed by ${x} ms`;
      case "congest":
        need(4, "congest A B KBIT");
        await this.congest(a, b, Number(x));
        return `${a} -> ${b} bottleneck of ${x} kbit/s with cross traffic`;
      case "uncongest":
        need(3, "uncongest A B");
        await this.uncongest(a, b);
        return `${a} -> ${b} bottleneck removed`;
      case "router-down":
        need(2, "router-down R");
        await this.routerDown(a);
        return `router ${a} down, withdrawn`;
      case "router-up":
        need(2, "router-up R");
        await this.routerUp(a);
        return `router ${a} up, announced`;
      case "clear":
        this.clearFaults();
        return "data-plane faults cleared";
      case "status":
        return JSON.stringify({ decap: this.lab.decapSummary, ...(this.view ?? {}) });
      default:
        throw new Error("commands: link-down|link-up A B, gray A B SHARE, delay A B MS, congest A B KBIT, uncongest A B, router-down|router-up R, clear, status");
    }
  }

  /** Accept fault commands on a Unix socket, one per line; each answered with one line ("ok ..." / "error ..."). */
  async serveControl(socketPath: string): Promise<void> {
    if (existsSync(socketPath)) rmSync(socketPath);
    const server = net.createServer((c) => {
      createInterface({ input: c }).on("line", (line) => {
        this.command(line.trim().split(/\s+/)).then(
          (r) => c.write(`ok ${r}\n`),
          (e: Error) => c.write(`error ${e.message}\n`),
        );
      });
      c.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    this.control = server;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.control?.close();
    for (const c of this.cross.values()) c.kill();
    this.watcher?.kill();
    this.prometheusProc?.kill();
    this.alertmanagerProc?.kill();
    this.prober?.kill("SIGTERM");
    await this.controlPlane?.stop();
    await this.lab.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
