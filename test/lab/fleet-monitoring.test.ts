// Many sites' monitoring in the lab, with real probers (issue 14, the third acceptance point):
// the 2x6 ladder (FleetStack, fleet.ts) with probers pa (site a, behind a1) and pc (site c,
// behind b6), and the shipped monitoring/ config run inside the lab's namespaces:
//  - in pa and pc, a per-site Prometheus from monitoring/prometheus/site.yml scraping its own
//    prober (site a's a full server, site c's an agent, from the same file) and remote-writing to
//  - a central Prometheus from central.yml in nms (--web.enable-remote-write-receiver), which
//    scrapes the plugin's /metrics, evaluates the shipped rules and sends to
//  - an Alertmanager from monitoring/alertmanager/alertmanager.yml in nms, whose webhook is a
//    small node server in nms appending every notification to a file this test reads.
// The substitutions are the site label, the remote_write URL, the scrape targets, the
// Alertmanager and webhook addresses, the email route dropped (no mail relay) and the intervals
// (1s scrapes, sends and evaluation; short group_wait and group_interval): the rules and the
// grouping and inhibitions are the shipped ones.
// Healthy: the central server holds both sites' series (site label, each site's own prober as
// instance) and the plugin's, no link alert. Then a3 -> a4 loses everything (data plane only:
// BGP-LS sees nothing), which both probers' paths a1 <-> b6 cross: LsprobeLinkSuspect fires at
// the central server for edge a3-a4 with site a and site c, and Alertmanager delivers exactly
// one notification for the link carrying both sites' alerts, both directions each (and the
// plugin's one view's alert for it, when the rules have one: same name, edge and af, so the
// same group), still one after a group interval; nothing else: LsprobePathDown fires centrally
// for exactly each site's paths across a3 - a4, all held back in Alertmanager; the recording
// rule keeps the site and records those paths' loss above the floor LsprobePathDown's `for`
// implies, the others' below it. Site c's server is checked to be an agent (no query API).
// Exact loss ratios per site are promtool's (monitoring/prometheus/tests/lsprobe-sites.test.yml).
// Nothing runs in the root namespace on a lab address: every server is in a lab namespace, and
// this process queries them through FleetStack.fetchIn (nsfetch.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { parse } from "yaml";
import { FleetStack, PLUGIN_METRICS_PORT, PROBER_PORT } from "./fleet.js";
import { findExabgp } from "./exabgp.js";
import type { ProberView } from "./stack.js";
import { PROM_DIR, alertmanagerConfig, centralConfig, siteConfig } from "../util/monitoring-config.js";
import { SKIP_NO_OPENSSL } from "../util/tls.js";

const PROMETHEUS = "/usr/bin/prometheus";
const ALERTMANAGER = "/usr/bin/prometheus-alertmanager";
const notInstalled = [PROMETHEUS, ALERTMANAGER].filter((p) => !existsSync(p));
const skip =
  process.getuid?.() !== 0
    ? "needs root (network namespaces, raw sockets)"
    : findExabgp() === undefined
      ? "exabgp is not installed"
      : notInstalled.length > 0
        ? `not installed: ${notInstalled.join(", ")} (Debian prometheus, prometheus-alertmanager)`
        : SKIP_NO_OPENSSL;

type Json = Record<string, any>;
/** Site -> its prober's host (pa behind a1, pc behind b6: their paths cross every link). */
const SITES = { a: "pa", c: "pc" } as const;
const CENTRAL_PORT = 9090;
const SITE_PORT = 9090;
const ALERTMANAGER_PORT = 9093;
const WEBHOOK_PORT = 9095;
/** group_wait covers the two sites' skew and a path alert's lead on its link alert (the shipped 15s does in production). */
const GROUP_WAIT_S = 8;
const GROUP_INTERVAL_S = 5;

// The webhook: node FILE HOST PORT; every POST body becomes one JSON line of FILE.
const WEBHOOK = [
  "const http=require('http'),fs=require('fs');const [file,host,port]=process.argv.slice(1);",
  "http.createServer((q,s)=>{let b='';q.setEncoding('utf8');q.on('data',(c)=>b+=c);",
  "q.on('end',()=>{fs.appendFileSync(file,JSON.stringify(JSON.parse(b))+'\\n');s.end('ok');});}).listen(Number(port),host);",
].join("");

interface Proc {
  name: string;
  child: ChildProcess;
  /** The end of its stderr, for failure messages. */
  log(): string;
}

interface Notification {
  status: string;
  groupLabels: Record<string, string>;
  alerts: Array<{ status: string; labels: Record<string, string> }>;
}

type Sample = { metric: Record<string, string>; value: [number, string] };

/** The monitoring servers in the lab's namespaces, read from inside them. */
class LabMonitoring {
  readonly central: string;
  private readonly procs: Proc[] = [];
  private readonly dir: string;
  private readonly hookFile: string;

  constructor(private readonly s: FleetStack) {
    this.dir = path.join(s.dir, "monitoring");
    mkdirSync(this.dir);
    this.hookFile = path.join(this.dir, "notifications.jsonl");
    this.central = `http://${s.controller.address}:${CENTRAL_PORT}`;
  }

  /** The site's prober as its Prometheus scrapes it (the `instance` of its series). */
  prober(site: string): string {
    return `${this.s.probers.get(site)!.address}:${PROBER_PORT}`;
  }

  /** Starts the webhook, Alertmanager and the central server in nms, a server per site in its prober's host; resolves once all are ready. */
  async start(): Promise<void> {
    const nms = this.s.controller.address;
    const am = `${nms}:${ALERTMANAGER_PORT}`;
    this.spawn("webhook", "nms", [process.execPath, "-e", WEBHOOK, this.hookFile, nms, String(WEBHOOK_PORT)]);
    this.spawn("alertmanager", "nms", [ALERTMANAGER, `--config.file=${this.file("alertmanager.yml", alertmanagerConfig(`http://${nms}:${WEBHOOK_PORT}/alerts`, { groupWaitS: GROUP_WAIT_S, groupIntervalS: GROUP_INTERVAL_S }))}`, `--storage.path=${this.data("am")}`, `--web.listen-address=${am}`, "--cluster.listen-address="]);
    this.spawn("central prometheus", "nms", [PROMETHEUS, `--config.file=${this.file("central.yml", centralConfig(am, `${nms}:${PLUGIN_METRICS_PORT}`))}`, `--storage.tsdb.path=${this.data("central")}`, `--web.listen-address=${nms}:${CENTRAL_PORT}`, "--web.enable-remote-write-receiver"]);
    const ready: Array<[string, string]> = [["nms", `http://${am}`], ["nms", this.central]];
    // Site a: a full server; site c: an agent (scrape and remote_write only), from the same file.
    for (const [site, host] of Object.entries(SITES)) {
      const listen = `${this.s.probers.get(site)!.address}:${SITE_PORT}`;
      const storage = site === "c" ? ["--enable-feature=agent", `--storage.agent.path=${this.data(`site-${site}`)}`] : [`--storage.tsdb.path=${this.data(`site-${site}`)}`];
      this.spawn(`site ${site} prometheus`, host, [PROMETHEUS, `--config.file=${this.file(`site-${site}.yml`, siteConfig(site, this.prober(site), this.central))}`, ...storage, `--web.listen-address=${listen}`]);
      ready.push([host, `http://${listen}`]);
    }
    await Promise.all(ready.map(([node, url]) => this.until(`${url} ready (from ${node})`, 30_000, async () => ((await this.s.fetchIn(node, `${url}/-/ready`)).status === 200 ? true : undefined))));
  }

  private spawn(name: string, node: string, argv: string[]): void {
    const child = this.s.lab.spawnIn(node, argv, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (log = (log + c).slice(-3000)));
    this.procs.push({ name, child, log: () => `--- ${name} (exit ${child.exitCode ?? child.signalCode}):\n${log}` });
  }

  private file(name: string, text: string): string {
    const f = path.join(this.dir, name);
    writeFileSync(f, text, { mode: 0o644 });
    return f;
  }

  private data(name: string): string {
    const d = path.join(this.dir, name);
    mkdirSync(d);
    return d;
  }

  /** Polls `f` every 250 ms until it returns a value; fails naming `what`, with the servers' logs. */
  async until<T>(what: string, ms: number, f: () => Promise<T | undefined>): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const dead = this.procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
      if (dead) assert.fail(`${dead.name} exited while waiting for ${what}\n${dead.log()}`);
      const v = await f().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > end) assert.fail(`timed out (${ms} ms) waiting for ${what}\n${this.procs.map((p) => p.log()).join("\n")}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private async centralJson(pathAndQuery: string): Promise<Json> {
    const r = await this.s.fetchIn("nms", `${this.central}${pathAndQuery}`);
    assert.equal(r.status, 200, `GET ${pathAndQuery} from nms: ${r.status} ${r.body}`);
    return JSON.parse(r.body) as Json;
  }

  /** An instant query at the central server. */
  async query(expr: string): Promise<Sample[]> {
    const r = await this.centralJson(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    assert.equal(r.status, "success", `${expr}: ${r.error}`);
    return r.data.result as Sample[];
  }

  /** The central server's alerts of that name in that state. */
  async alerts(name: string, state: "pending" | "firing"): Promise<Json[]> {
    return ((await this.centralJson("/api/v1/alerts")).data.alerts as Json[]).filter((a) => a.labels.alertname === name && a.state === state);
  }

  /** Alertmanager's alerts of that name, as it holds them (status.state: active, suppressed). */
  async alertmanagerAlerts(name: string): Promise<Json[]> {
    const r = await this.s.fetchIn("nms", `http://${this.s.controller.address}:${ALERTMANAGER_PORT}/api/v2/alerts?filter=${encodeURIComponent(`alertname="${name}"`)}`);
    assert.equal(r.status, 200, `Alertmanager's alerts from nms: ${r.status} ${r.body}`);
    return JSON.parse(r.body) as Json[];
  }

  /** The HTTP status of an instant query at a site's own server, from its prober's host. */
  async siteQueryStatus(site: string): Promise<number> {
    const url = `http://${this.s.probers.get(site)!.address}:${SITE_PORT}/api/v1/query?query=up`;
    return (await this.s.fetchIn(SITES[site as keyof typeof SITES], url)).status;
  }

  /** Every notification the webhook received, in order. */
  notifications(): Notification[] {
    if (!existsSync(this.hookFile)) return [];
    return readFileSync(this.hookFile, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Notification);
  }

  /** SIGTERM, SIGKILL after 5 s (the lab's destroy() would kill them too, sooner and harder). */
  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

/** LsprobePathDown's `for` in the shipped rules: how long a path firing it has lost every probe. */
function pathDownForS(): number {
  const rules = (parse(readFileSync(path.join(PROM_DIR, "lsprobe-alerts.rules.yml"), "utf8")).groups as Json[]).flatMap((g) => g.rules as Json[]);
  const f = /^(\d+)s$/.exec(String(rules.find((r) => r.alert === "LsprobePathDown")?.for));
  assert.ok(f, "lsprobe-alerts.rules.yml: LsprobePathDown has a `for` in seconds");
  return Number(f[1]);
}

/**
 * The site's probed paths that lose every probe once a3 -> a4 does: those crossing it on the
 * way out, or on the way back when the return leg is pinned to the reverse hops (a routed
 * return would follow the routers' own choice: none of the lab's probers uses one, checked).
 */
function acrossBroken(view: ProberView): Set<string> {
  const across = new Set<string>();
  for (const p of view.paths as Array<ProberView["paths"][number] & { returns?: string }>) {
    assert.equal(p.returns, "reverse", `${p.path} ${p.hops}: return leg pinned to the reverse hops`);
    const hops = p.hops.split(">").map((h) => h.replace(/#.*$/, ""));
    const legs = hops.slice(1).map((h, i) => `${hops[i]}>${h}`);
    if (legs.includes("a3>a4") || legs.includes("a4>a3")) across.add(p.path);
  }
  return across;
}

const fromProbers = (a: Json): boolean => a.labels.job === "lsprobe-prober";
const describe = (a: Json): string => `${a.labels.job}${a.labels.site ? ` site ${a.labels.site}` : ""} ${a.labels.from}->${a.labels.to}`;
const isLink = (n: Notification): boolean => n.groupLabels.alertname === "LsprobeLinkSuspect";

test("many sites' monitoring in the lab: per-site Prometheus at sites a and c remote-write to a central one in nms; a3 -> a4 broken: LsprobeLinkSuspect fires centrally with both sites' labels, one Alertmanager notification for the link, the path alerts inhibited", { skip, timeout: 180_000 }, async (t) => {
  const s = await FleetStack.start({ sites: { ...SITES } });
  const m = new LabMonitoring(s);
  t.after(async () => {
    await m.stop();
    await s.stop();
  });
  await m.start();
  const across = await healthy(s, m);

  // a3 -> a4 drops everything (in a4's decapsulator: the probes only, BGP-LS sees nothing).
  s.lab.setFault("a3", "a4", { loss: 1 });
  const t0 = Date.now();
  const since = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const firing = await m.until("LsprobeLinkSuspect firing at the central server for sites a and c", 60_000, async () => {
    const a = await m.alerts("LsprobeLinkSuspect", "firing");
    return new Set(a.filter(fromProbers).map((x) => x.labels.site)).size === 2 ? a : undefined;
  });
  t.diagnostic(`LsprobeLinkSuspect firing for both sites ${since()} after the fault: ${firing.map(describe).join(", ")}`);
  await linkFiring(m, firing);

  await m.until("the link's notification at the webhook", 30_000, async () => (m.notifications().some(isLink) ? true : undefined));
  t.diagnostic(`the link's notification ${since()} after the fault`);
  // After more than a group interval still one (an alert joining the group late would make a second).
  await new Promise((r) => setTimeout(r, (GROUP_INTERVAL_S + 2) * 1000));
  const link = m.notifications().filter(isLink);
  assert.equal(link.length, 1, JSON.stringify(link, null, 1));
  t.diagnostic(`in it: ${link[0].alerts.map(describe).join(", ")}`);
  await oneNotification(m, link[0]);
  t.diagnostic(await pathsAcross(m, across));
});

/**
 * Every site's series at the central server, with its site label and its own prober as instance,
 * one per path it probes; the plugin scraped there; nothing suspect; site c an agent (no query
 * API), site a a full server. Returns each site's paths across a3 - a4 (some at each).
 */
async function healthy(s: FleetStack, m: LabMonitoring): Promise<Map<string, Set<string>>> {
  const views = new Map(await Promise.all(Object.keys(SITES).map(async (site) => [site, await s.proberView(site)] as const)));
  const probed = new Map([...views].map(([site, v]) => [site, v.paths.length]));
  const across = new Map([...views].map(([site, v]) => [site, acrossBroken(v)]));
  for (const [site, a] of across) assert.ok(a.size > 0, `site ${site} probes paths across a3 - a4`);
  const bySite = await m.until("both sites' series at the central server", 30_000, async () => {
    const r = await m.query('count by (site, instance) (lsprobe_path_up{job="lsprobe-prober"})');
    return r.length === 2 ? r : undefined;
  });
  assert.deepEqual(bySite.map((x) => `${x.metric.site} ${x.metric.instance} ${x.value[1]}`).sort(), ["a", "c"].map((site) => `${site} ${m.prober(site)} ${probed.get(site)}`));
  assert.deepEqual((await m.query('up{job="lsprobe-prober"}')).map((x) => `${x.metric.site}=${x.value[1]}`).sort(), ["a=1", "c=1"]);
  assert.deepEqual((await m.query('up{job="lsprobe-plugin"}')).map((x) => `${x.metric.instance}=${x.value[1]}`), [`${s.controller.address}:${PLUGIN_METRICS_PORT}=1`], "the central server scrapes the plugin");
  assert.deepEqual(await m.query("lsprobe_link_suspect == 1 or lsprobe_view_link_suspect == 1"), [], "healthy: no link suspect");
  // Prometheus in agent mode answers 422 ("unavailable with Prometheus Agent") to queries.
  assert.deepEqual([await m.siteQueryStatus("a"), await m.siteQueryStatus("c")], [200, 422], "site a a full server, site c an agent");
  return across;
}

/** The firing link alerts name a3-a4 only, each site's prober both its directions. */
async function linkFiring(m: LabMonitoring, firing: Json[]): Promise<void> {
  for (const a of firing) assert.equal(a.labels.edge, "a3-a4", `only the broken link: ${JSON.stringify(a.labels)}`);
  // Out-and-back probes cross both directions: each site's prober names the pair.
  assert.deepEqual(firing.filter(fromProbers).map((a) => `${a.labels.site} ${a.labels.from}->${a.labels.to} ${a.labels.instance}`).sort(), ["a a3->a4", "a a4->a3", "c a3->a4", "c a4->a3"].map((x) => `${x} ${m.prober(x[0])}`));
}

/** The link's one notification carries both sites' alerts (and the one view's, if any); nothing else reached the webhook; the path alerts fire centrally. */
async function oneNotification(m: LabMonitoring, link: Notification): Promise<void> {
  assert.deepEqual(link.groupLabels, { alertname: "LsprobeLinkSuspect", edge: "a3-a4", af: "ipv4" });
  assert.equal(link.status, "firing");
  assert.deepEqual(link.alerts.filter(fromProbers).map((a) => `${a.labels.site} ${a.labels.from}->${a.labels.to}`).sort(), ["a a3->a4", "a a4->a3", "c a3->a4", "c a4->a3"], "both sites' alerts, both directions each, in the one notification");
  for (const a of link.alerts) {
    assert.equal(a.status, "firing");
    assert.equal(a.labels.edge, "a3-a4");
    if (fromProbers(a)) assert.equal(a.labels.instance, m.prober(a.labels.site), `site ${a.labels.site}'s alert from its own prober`);
    // Anything else is the plugin's one view naming the same link (no site: it sees every prober).
    else assert.deepEqual([a.labels.job, a.labels.site], ["lsprobe-plugin", undefined], JSON.stringify(a.labels));
  }
  // The one view's alert for the link, when the rules have one and it fires, is in it (not a notification of its own).
  const view = (await m.alerts("LsprobeLinkSuspect", "firing")).filter((a) => !fromProbers(a));
  for (const v of view) assert.ok(link.alerts.some((a) => a.labels.job === v.labels.job && a.labels.from === v.labels.from && a.labels.to === v.labels.to), `the one view's ${describe(v)} in the link's notification`);
  const others = m.notifications().filter((n) => !isLink(n));
  assert.deepEqual(others.map((n) => ({ groupLabels: n.groupLabels, alerts: n.alerts.map((a) => a.labels) })), [], "no notification but the link's");
}

const bySite = (xs: Array<Record<string, string>>): string[] => xs.map((l) => `${l.site} ${l.path}`).sort();
const expected = (across: Map<string, Set<string>>): string[] => [...across].flatMap(([site, ps]) => [...ps].map((p) => `${site} ${p}`)).sort();

/**
 * LsprobePathDown fires centrally for exactly each site's paths across a3 - a4 and Alertmanager
 * holds every one back; the recording rule keeps the site and records, for those paths, at
 * least the loss the alert's `for` implies (no reply for that long in the 1m window; 5 s off for
 * the prober's loss deadline and increase()'s extrapolation), below it for the others.
 */
async function pathsAcross(m: LabMonitoring, across: Map<string, Set<string>>): Promise<string> {
  const want = expected(across);
  const firing = await m.until("LsprobePathDown firing centrally for every path across a3 - a4", 15_000, async () => {
    const r = await m.query('ALERTS{alertname="LsprobePathDown", alertstate="firing"}');
    return bySite(r.map((x) => x.metric)).length >= want.length ? r : undefined;
  });
  assert.deepEqual(bySite(firing.map((x) => x.metric)), want, "path alerts firing centrally: each site's paths across a3 - a4");
  const held = await m.until("Alertmanager holding every path alert", 15_000, async () => {
    const r = await m.alertmanagerAlerts("LsprobePathDown");
    return r.length >= want.length ? r : undefined;
  });
  assert.deepEqual(bySite(held.map((a) => a.labels)), want, "Alertmanager has each site's path alerts");
  for (const a of held) assert.ok(a.status.state === "suppressed" && a.status.inhibitedBy.length > 0, `site ${a.labels.site} ${a.labels.path} inhibited: ${JSON.stringify(a.status)}`);
  const floor = (pathDownForS() - 5) / 60;
  const recorded = await m.query("lsprobe:path_loss_ratio:rate1m");
  assert.deepEqual([...new Set(recorded.map((x) => x.metric.site))].sort(), ["a", "c"], "lsprobe:path_loss_ratio:rate1m recorded centrally with the site");
  for (const x of recorded) {
    const broken = across.get(x.metric.site)!.has(x.metric.path);
    const v = Number(x.value[1]);
    assert.ok(broken ? v >= floor : v < floor, `site ${x.metric.site} ${x.metric.path} (${broken ? "across" : "not across"} a3 - a4): loss ratio ${v}, floor ${floor.toFixed(3)}`);
  }
  for (const site of across.keys()) for (const p of across.get(site)!) assert.ok(recorded.some((x) => x.metric.site === site && x.metric.path === p), `site ${site} ${p}: its loss recorded`);
  const lowest = (site: string): number => Math.min(...recorded.filter((x) => x.metric.site === site && across.get(site)!.has(x.metric.path)).map((x) => Number(x.value[1])));
  return `path alerts firing and inhibited: ${[...across].map(([site, ps]) => `site ${site} ${ps.size} (lowest loss ratio ${lowest(site).toFixed(3)})`).join(", ")}; floor ${floor.toFixed(3)}; ${recorded.length} paths recorded`;
}
