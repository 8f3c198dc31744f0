// Many sites with the real programs (issue 14, Must 5): two per-site Prometheus servers from
// monitoring/prometheus/site.yml (one a full server, one in agent mode) scrape a fake prober
// each and remote-write into a central Prometheus from central.yml, which evaluates
// monitoring/'s rules and sends to a real Alertmanager (monitoring/alertmanager/alertmanager.yml,
// webhook route only) whose webhook is this test. Both sites' probers see r2 <-> r4 broken,
// with several paths through it. The central server must hold both sites' series, fire
// LsprobeLinkSuspect with each site's label, and Alertmanager deliver exactly one
// notification for the link carrying both sites' alerts (the path alerts held back).
// Everything on 127.0.0.1, free ports; the substitutions are ports, targets, the site name,
// paths and intervals (short, so the test takes about a minute).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { REPO_ROOT } from "../util/shared.js";

const PROMETHEUS = "/usr/bin/prometheus";
const ALERTMANAGER = "/usr/bin/prometheus-alertmanager";
const PROM_DIR = path.join(REPO_ROOT, "monitoring/prometheus");
const missing = [PROMETHEUS, ALERTMANAGER].filter((p) => !existsSync(p));
const skip = missing.length ? `not installed: ${missing.join(", ")} (Debian prometheus, prometheus-alertmanager; .ci/run installs them)` : false;

type Json = Record<string, any>;
const SITES = ["ams", "fra"] as const;
/** Alertmanager's timers for the test: group_wait covers the two sites' skew (as 15s does in the shipped file). */
const GROUP_WAIT_S = 5;
const GROUP_INTERVAL_S = 10;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A prober's /metrics as the rules read it (names and labels of prober/metrics.ts), `s`
 * seconds after it started: six paths across r2 -> r4, their counters losing 10% of 100 probes
 * a second, r4 decapsulating, another link healthy; once `broken`, the paths are down and the
 * link suspect in both directions (out-and-back probes cannot tell them apart).
 */
function proberMetrics(s: number, broken: boolean): string {
  const lines = ["# TYPE lsprobe_path_info gauge", "# TYPE lsprobe_path_up gauge", "# TYPE lsprobe_probes_received_total counter", "# TYPE lsprobe_probes_lost_total counter", "# TYPE lsprobe_probes_late_total counter"];
  for (let i = 0; i < 6; i++) {
    const src = `pe${i % 3}`;
    const p = `path="p-00000000000024${i}",af="ipv4"`;
    lines.push(`lsprobe_path_info{${p},src="${src}",dst="r6",pair="${src}>r6",hops="${src}>r2>r4>r6"} 1`);
    lines.push(`lsprobe_path_up{${p},class="default"} ${broken ? 0 : 1}`);
    lines.push(`lsprobe_probes_received_total{${p},class="default"} ${90 * s}`, `lsprobe_probes_lost_total{${p},class="default"} ${10 * s}`, `lsprobe_probes_late_total{${p},class="default"} 0`);
  }
  lines.push(
    "# TYPE lsprobe_link_suspect gauge",
    `lsprobe_link_suspect{link="l-24",from="r2",to="r4",edge="r2-r4",af="ipv4"} ${broken ? 1 : 0}`,
    `lsprobe_link_suspect{link="l-42",from="r4",to="r2",edge="r2-r4",af="ipv4"} ${broken ? 1 : 0}`,
    'lsprobe_link_suspect{link="l-12",from="r1",to="r2",edge="r1-r2",af="ipv4"} 0',
    "# TYPE lsprobe_router_decap_ok gauge",
    'lsprobe_router_decap_ok{router="r4",af="ipv4"} 1',
    "# TYPE lsprobe_paths gauge",
    "lsprobe_paths 6",
    "# TYPE lsprobe_pathset_age_seconds gauge",
    "lsprobe_pathset_age_seconds 0",
  );
  return lines.join("\n") + "\n";
}

/** An HTTP server on 127.0.0.1 at a free port. */
async function serve(handler: http.RequestListener): Promise<{ port: number; server: http.Server }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as net.AddressInfo).port, server };
}
const metricsServer = (text: () => string) => serve((_q, s) => s.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(text()));

/** site.yml for one site: its name, its prober, the central URL, 1s scrapes and sends. */
function siteConfig(site: string, prober: number, central: number): string {
  const doc = parse(readFileSync(path.join(PROM_DIR, "site.yml"), "utf8")) as Json;
  doc.global.scrape_interval = "1s";
  doc.global.external_labels.site = site;
  assert.equal(doc.remote_write.length, 1);
  doc.remote_write[0].url = `http://127.0.0.1:${central}/api/v1/write`;
  doc.remote_write[0].queue_config = { batch_send_deadline: "1s" };
  const job = (doc.scrape_configs as Json[]).find((j) => j.job_name === "lsprobe-prober")!;
  Object.assign(job, { scrape_interval: "1s", scrape_timeout: "1s" });
  job.static_configs = [{ targets: [`127.0.0.1:${prober}`] }];
  return stringify(doc);
}

/** central.yml: the rule files by absolute path, Alertmanager and the plugin at the test's ports, 1s evaluation. */
function centralConfig(alertmanager: number, plugin: number): string {
  const doc = parse(readFileSync(path.join(PROM_DIR, "central.yml"), "utf8")) as Json;
  doc.global.evaluation_interval = "1s";
  doc.rule_files = (doc.rule_files as string[]).map((f) => path.join(PROM_DIR, f));
  doc.alerting.alertmanagers[0].static_configs[0].targets = [`127.0.0.1:${alertmanager}`];
  const job = (doc.scrape_configs as Json[]).find((j) => j.job_name === "lsprobe-plugin")!;
  job.scrape_interval = "1s";
  job.static_configs = [{ targets: [`127.0.0.1:${plugin}`] }];
  return stringify(doc);
}

/** alertmanager.yml with the email route dropped (no mail relay here), the webhook at the test, short timers. */
function alertmanagerConfig(webhook: string): string {
  const doc = parse(readFileSync(path.join(REPO_ROOT, "monitoring/alertmanager/alertmanager.yml"), "utf8")) as Json;
  for (const k of Object.keys(doc.global)) if (k.startsWith("smtp_")) delete doc.global[k];
  doc.route.routes = (doc.route.routes as Json[]).filter((r) => r.receiver !== "lsprobe-email");
  for (const r of doc.route.routes as Json[]) Object.assign(r, { group_wait: `${GROUP_WAIT_S}s`, group_interval: `${GROUP_INTERVAL_S}s`, repeat_interval: "1h" });
  doc.receivers = (doc.receivers as Json[]).filter((r) => r.name !== "lsprobe-email");
  for (const r of doc.receivers as Json[]) for (const w of r.webhook_configs ?? []) w.url = webhook;
  return stringify(doc);
}

interface Proc {
  name: string;
  child: ChildProcess;
  /** The end of its log, for failure messages. */
  log(): string;
}

function start(name: string, file: string, args: string[]): Proc {
  const child = spawn(file, args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (log = (log + c).slice(-4000)));
  return { name, child, log: () => `--- ${name} (exit ${child.exitCode}):\n${log}` };
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once("exit", r));
  p.child.kill("SIGTERM");
  const t = setTimeout(() => p.child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(t);
}

/** Poll `f` until it returns a value (not undefined), or fail naming `what` with the processes' logs. */
async function until<T>(what: string, ms: number, procs: Proc[], f: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const dead = procs.find((p) => p.child.exitCode !== null);
    if (dead) assert.fail(`${dead.name} exited while waiting for ${what}\n${dead.log()}`);
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`timed out (${ms} ms) waiting for ${what}\n${procs.map((p) => p.log()).join("\n")}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Notification {
  status: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  alerts: Array<{ status: string; labels: Record<string, string> }>;
}

test("remote write: two sites' Prometheus into a central one; LsprobeLinkSuspect fires there with both sites' labels, one Alertmanager notification for the link", { skip, timeout: 150_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-remote-write-"));
  const procs: Proc[] = [];
  const servers: http.Server[] = [];
  t.after(async () => {
    for (const p of procs) await stop(p);
    for (const s of servers) await new Promise((r) => s.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  // The webhook receiver: every notification Alertmanager delivers.
  const notifications: Notification[] = [];
  const hook = await serve((q, s) => {
    let body = "";
    q.setEncoding("utf8").on("data", (c: string) => (body += c));
    q.on("end", () => {
      notifications.push(JSON.parse(body) as Notification);
      s.end("ok");
    });
  });
  servers.push(hook.server);
  // The link breaks at both sites at once, when both sites' series are at the central server:
  // the alerts then fire there within a scrape and a send of each other, well inside group_wait
  // (a site starting late would otherwise make a second notification, as it would in production
  // beyond the shipped 15s).
  const t0 = Date.now();
  let broken = false;
  const probers = await Promise.all(SITES.map(() => metricsServer(() => proberMetrics((Date.now() - t0) / 1000, broken))));
  const plugin = await metricsServer(() => "# TYPE lsprobe_plugin_links_undercovered gauge\nlsprobe_plugin_links_undercovered 0\n");
  servers.push(...probers.map((p) => p.server), plugin.server);

  const [amPort, centralPort, ...sitePorts] = await Promise.all([freePort(), freePort(), ...SITES.map(() => freePort())]);
  const write = (name: string, text: string): string => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const data = (name: string): string => {
    const d = path.join(dir, name);
    mkdirSync(d);
    return d;
  };
  procs.push(start("alertmanager", ALERTMANAGER, [`--config.file=${write("alertmanager.yml", alertmanagerConfig(`http://127.0.0.1:${hook.port}/alerts`))}`, `--storage.path=${data("am")}`, `--web.listen-address=127.0.0.1:${amPort}`, "--cluster.listen-address="]));
  const central = `http://127.0.0.1:${centralPort}`;
  procs.push(start("central prometheus", PROMETHEUS, [`--config.file=${write("central.yml", centralConfig(amPort, plugin.port))}`, `--storage.tsdb.path=${data("central")}`, `--web.listen-address=127.0.0.1:${centralPort}`, "--web.enable-remote-write-receiver"]));
  // ams: a full server; fra: an agent (scrape and remote_write only), from the same file.
  SITES.forEach((site, i) => {
    const storage = site === "fra" ? ["--enable-feature=agent", `--storage.agent.path=${data(site)}`] : [`--storage.tsdb.path=${data(site)}`];
    procs.push(start(`${site} prometheus`, PROMETHEUS, [`--config.file=${write(`${site}.yml`, siteConfig(site, probers[i].port, centralPort))}`, ...storage, `--web.listen-address=127.0.0.1:${sitePorts[i]}`]));
  });
  for (const [name, url] of [["alertmanager", `http://127.0.0.1:${amPort}`], ["central", central], ...SITES.map((s, i) => [s, `http://127.0.0.1:${sitePorts[i]}`])])
    await until(`${name} ready`, 30_000, procs, async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined));

  const query = async (expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
    const r = (await (await fetch(`${central}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as Json;
    assert.equal(r.status, "success", `${expr}: ${r.error}`);
    return r.data.result;
  };
  // The central server has every site's series, each with its site label and its own instance.
  const bySite = await until("both sites' series at the central server", 30_000, procs, async () => {
    const r = await query('count by (site, instance) (lsprobe_path_up{job="lsprobe-prober"})');
    return r.length === 2 ? r : undefined;
  });
  assert.deepEqual(bySite.map((s) => [s.metric.site, s.metric.instance, s.value[1]]).sort(), SITES.map((s, i) => [s, `127.0.0.1:${probers[i].port}`, "6"]));
  assert.deepEqual((await query('up{job="lsprobe-prober"}')).map((s) => `${s.metric.site}=${s.value[1]}`).sort(), ["ams=1", "fra=1"]);
  assert.deepEqual((await query('up{job="lsprobe-plugin"}')).map((s) => s.value[1]), ["1"], "the central server scrapes the plugin");
  broken = true;
  // The recording rules run centrally, over the remote-written counters, and keep the site.
  const loss = await until("lsprobe:path_loss_ratio:rate1m of both sites", 30_000, procs, async () => {
    const r = await query("lsprobe:path_loss_ratio:rate1m");
    return r.length === 12 ? r : undefined;
  });
  assert.deepEqual([...new Set(loss.map((s) => s.metric.site))].sort(), ["ams", "fra"]);
  for (const s of loss) assert.ok(Math.abs(Number(s.value[1]) - 0.1) < 1e-6, `${JSON.stringify(s.metric)}: ${s.value[1]}`);

  // LsprobeLinkSuspect fires centrally (for: 30s), once per site and direction.
  const firing = await until("LsprobeLinkSuspect firing at the central server", 60_000, procs, async () => {
    const r = (await (await fetch(`${central}/api/v1/alerts`)).json()) as Json;
    const a = (r.data.alerts as Json[]).filter((x) => x.labels.alertname === "LsprobeLinkSuspect" && x.state === "firing");
    return a.length === 4 ? a : undefined;
  });
  assert.deepEqual(firing.map((a) => `${a.labels.site} ${a.labels.from}->${a.labels.to} ${a.labels.edge}`).sort(), ["ams r2->r4 r2-r4", "ams r4->r2 r2-r4", "fra r2->r4 r2-r4", "fra r4->r2 r2-r4"]);

  // Alertmanager: one notification for the link, with both sites' alerts; after more than a
  // group interval, still one (a site's alerts arriving late would have made a second).
  const isLink = (n: Notification): boolean => n.groupLabels.alertname === "LsprobeLinkSuspect";
  await until("the link's notification at the webhook", 30_000, procs, async () => (notifications.some(isLink) ? true : undefined));
  await new Promise((r) => setTimeout(r, (GROUP_INTERVAL_S + 3) * 1000));
  const link = notifications.filter(isLink);
  assert.equal(link.length, 1, JSON.stringify(link, null, 1));
  assert.deepEqual(link[0].groupLabels, { alertname: "LsprobeLinkSuspect", edge: "r2-r4", af: "ipv4" });
  assert.equal(link[0].status, "firing");
  assert.deepEqual(link[0].alerts.map((a) => `${a.labels.site} ${a.labels.link} ${a.status}`).sort(), ["ams l-24 firing", "ams l-42 firing", "fra l-24 firing", "fra l-42 firing"]);
  for (const a of link[0].alerts) assert.equal(a.labels.instance, `127.0.0.1:${probers[SITES.indexOf(a.labels.site as (typeof SITES)[number])].port}`);
  // Nothing else reached the webhook: the 12 path alerts (6 paths x 2 sites) are held back by their site's link alert.
  assert.deepEqual(notifications.filter((n) => !isLink(n)).map((n) => n.groupLabels), []);
  const pathDown = await query('ALERTS{alertname="LsprobePathDown", alertstate="firing"}');
  assert.equal(pathDown.length, 12, "the path alerts fire at the central server (and are inhibited in Alertmanager)");
});
