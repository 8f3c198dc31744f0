// monitoring/: the Prometheus configuration, recording and alert rules (and their promtool unit
// tests), the Alertmanager configuration and the Grafana files, checked with the real tools:
// promtool (Debian's prometheus package), amtool and alertmanager (prometheus-alertmanager).
// A tool that is not installed skips the subtests needing it, saying so; nothing else skips.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { filtersAtTopLevel, grafanaExpressions, readAlerting, readDashboard } from "../util/grafana.js";
import { alertmanagerConfig, freePort } from "../util/monitoring-config.js";

/** The repository, from the compiled test (dist/test/unit -> ../../..). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const PROM = path.join(ROOT, "monitoring/prometheus");
const ALERTS_FILE = path.join(PROM, "lsprobe-alerts.rules.yml");
const RECORDING_FILE = path.join(PROM, "lsprobe-recording.rules.yml");
const PROM_TESTS = path.join(PROM, "tests");
const AM_FILE = path.join(ROOT, "monitoring/alertmanager/alertmanager.yml");
const GRAFANA = path.join(ROOT, "monitoring/grafana");

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

const PROMTOOL = which("promtool");
const AMTOOL = which("amtool");
const ALERTMANAGER = which("prometheus-alertmanager") ?? which("alertmanager");
const NO_PROMTOOL = PROMTOOL ? false : "promtool is not installed (Debian: apt-get install prometheus)";
const NO_AMTOOL = AMTOOL ? false : "amtool is not installed (Debian: apt-get install prometheus-alertmanager)";
const NO_ALERTMANAGER = ALERTMANAGER ? false : "alertmanager is not installed (Debian: apt-get install prometheus-alertmanager)";

/** Run a tool; on failure, fail with its whole output. */
function run(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const x = e as { status?: number; stdout?: string; stderr?: string };
    assert.fail(`${path.basename(file)} ${args.join(" ")} exited ${x.status}:\n${x.stdout ?? ""}${x.stderr ?? ""}`);
  }
}

type Json = Record<string, any>;
const readYaml = (file: string): Json => parse(readFileSync(file, "utf8")) as Json;
const promTestFiles = (): string[] =>
  readdirSync(PROM_TESTS)
    .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
    .sort()
    .map((f) => path.join(PROM_TESTS, f));
const rulesOf = (file: string): Json[] => (readYaml(file).groups as Json[]).flatMap((g) => g.rules as Json[]);

/** Metric names the prober and the plugin export, read from their source (prom-client `name:`, perPath()); the path-set service's are in plugin/publish/http.ts, the one view's in plugin/view/metrics.ts. */
function exportedMetrics(): Set<string> {
  const names = new Set<string>();
  for (const f of ["prober/metrics.ts", "prober/main.ts", "plugin/metrics.ts", "plugin/publish/http.ts", "plugin/view/metrics.ts"]) {
    const src = readFileSync(path.join(ROOT, f), "utf8");
    for (const m of src.matchAll(/(?:name:\s*|name\s*=\s*|per(?:Path|Link)\(\s*|histogramMetric\(\s*)"(lsprobe_[a-z0-9_]+)"/g)) names.add(m[1]);
  }
  for (const n of [...names]) {
    if (n === "lsprobe_probe_rtt_seconds" || n === "lsprobe_oneway_delay_seconds") for (const s of ["_bucket", "_sum", "_count"]) names.add(n + s);
  }
  return names;
}

/** lsprobe metric and recording-rule names an expression refers to (outside strings). */
function lsprobeNames(expr: string): string[] {
  const s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  return [...s.matchAll(/\blsprobe[a-zA-Z0-9_:]*/g)].map((m) => m[0]);
}

test("promtool check config: monitoring/prometheus/prometheus.yml", { skip: NO_PROMTOOL }, () => {
  const out = run(PROMTOOL!, ["check", "config", "monitoring/prometheus/prometheus.yml"]);
  assert.match(out, /SUCCESS: 2 rule files found/);
  assert.match(out, /is valid prometheus config file syntax/);
  const cfg = readYaml(path.join(PROM, "prometheus.yml"));
  const job = (cfg.scrape_configs as Json[]).find((j) => j.job_name === "lsprobe-prober");
  assert.ok(job, "a scrape job named lsprobe-prober");
  assert.equal(job.scrape_interval, "5s");
  assert.deepEqual(job.static_configs[0].targets, ["127.0.0.1:9469"]);
  const plugin = (cfg.scrape_configs as Json[]).find((j) => j.job_name === "lsprobe-plugin");
  assert.ok(plugin, "a scrape job named lsprobe-plugin");
  assert.deepEqual(plugin.static_configs[0].targets, ["127.0.0.1:9468"]);
  assert.deepEqual(cfg.alerting.alertmanagers[0].static_configs[0].targets, ["127.0.0.1:9093"]);
});

test("promtool check config: site.yml (scrape, site label, remote_write; no rules) and central.yml (rules, Alertmanager, the plugin)", { skip: NO_PROMTOOL }, () => {
  assert.match(run(PROMTOOL!, ["check", "config", "monitoring/prometheus/site.yml"]), /is valid prometheus config file syntax/);
  const site = readYaml(path.join(PROM, "site.yml"));
  assert.ok(site.global.external_labels?.site, "site.yml: external_labels has site");
  assert.equal(site.rule_files, undefined, "site.yml evaluates no rules (central.yml does)");
  assert.equal(site.alerting, undefined, "site.yml sends no alerts");
  assert.match(site.remote_write[0].url, /\/api\/v1\/write$/);
  const prober = (site.scrape_configs as Json[]).find((j) => j.job_name === "lsprobe-prober");
  assert.equal(prober?.scrape_interval, "5s");
  assert.deepEqual((site.scrape_configs as Json[]).map((j) => j.job_name), ["lsprobe-prober"]);

  const out = run(PROMTOOL!, ["check", "config", "monitoring/prometheus/central.yml"]);
  assert.match(out, /SUCCESS: 2 rule files found/);
  const central = readYaml(path.join(PROM, "central.yml"));
  assert.deepEqual(central.rule_files, ["lsprobe-recording.rules.yml", "lsprobe-alerts.rules.yml"]);
  assert.equal(central.global.external_labels?.site, undefined, "no site label of its own: alerts keep their series' site");
  assert.ok(central.alerting.alertmanagers[0].static_configs[0].targets.length);
  assert.deepEqual((central.scrape_configs as Json[]).map((j) => j.job_name), ["lsprobe-plugin"]);
});

test("every by() and on() of the rules that keeps probers apart (names instance) names site too", () => {
  const clauses: string[] = [];
  for (const r of [...rulesOf(RECORDING_FILE), ...rulesOf(ALERTS_FILE)]) {
    for (const m of (r.expr as string).matchAll(/\b(by|on)\s*\(([^)]*)\)/g)) {
      const labels = m[2].split(",").map((l) => l.trim());
      clauses.push(`${r.record ?? r.alert}: ${m[0]}`);
      if (labels.includes("instance")) assert.ok(labels.includes("site"), `${r.record ?? r.alert}: ${m[0]} without site`);
    }
  }
  assert.ok(clauses.length >= 15, clauses.join("\n"));
});

test("promtool check rules: the recording and alert rules", { skip: NO_PROMTOOL }, () => {
  const out = run(PROMTOOL!, ["check", "rules", RECORDING_FILE, ALERTS_FILE]);
  assert.match(out, new RegExp(`lsprobe-recording\\.rules\\.yml\\n  SUCCESS: 11 rules found`));
  assert.match(out, new RegExp(`lsprobe-alerts\\.rules\\.yml\\n  SUCCESS: 17 rules found`));
});

test("promtool test rules: monitoring/prometheus/tests/*.yml", { skip: NO_PROMTOOL }, () => {
  const files = promTestFiles();
  assert.deepEqual(files.map((f) => path.basename(f)), ["lsprobe-alerts.test.yml", "lsprobe-plugin-alerts.test.yml", "lsprobe-recording.test.yml", "lsprobe-sites.test.yml", "lsprobe-view-alerts.test.yml"]);
  const out = run(PROMTOOL!, ["test", "rules", ...files]);
  assert.equal(out.match(/SUCCESS/g)?.length, files.length, out);
});

test("the promtool tests cover every alert (firing with labels and annotations, and not firing) and every recording rule", () => {
  const alerts = rulesOf(ALERTS_FILE).filter((r) => r.alert);
  const names = alerts.map((r) => r.alert as string);
  assert.deepEqual(
    [...names].sort(),
    ["LsprobeEndpointUnresolved", "LsprobeLinkSuspect", "LsprobeLinksUndercovered", "LsprobeNoPaths", "LsprobePathDown", "LsprobePathLoss", "LsprobePathRttHigh", "LsprobePathSetStale", "LsprobePluginDown", "LsprobePluginOutputFailing", "LsprobeProberDown", "LsprobeProberOverloaded", "LsprobeReplyFlood", "LsprobeRouterNotDecapsulating", "LsprobeSiteSilent", "LsprobeViewBlind", "LsprobeViewRouterSuspect"],
  );
  for (const a of alerts) {
    assert.match(a.labels?.severity ?? "", /^(critical|warning)$/, `${a.alert}: severity label`);
    assert.ok(a.annotations?.summary && a.annotations?.description, `${a.alert}: summary and description`);
  }
  // The path alerts name the path by its hops, the link alert by its routers.
  for (const a of alerts.filter((r) => /^LsprobePath(Down|Loss|RttHigh)$/.test(r.alert))) {
    assert.match(a.annotations.summary, /\{\{ \$labels\.hops \}\}/, `${a.alert}: summary names the hops`);
  }
  const link = alerts.find((r) => r.alert === "LsprobeLinkSuspect")!;
  assert.match(link.annotations.summary, /Link \{\{ \$labels\.from \}\} -> \{\{ \$labels\.to \}\}/);
  // A router the traces find not decapsulating raises no alert for its links (at either end).
  assert.match(link.expr, /unless on \(site, job, instance, af, from\)\s+label_replace\(lsprobe_router_decap_ok == 0, "from", "\$1", "router", "\(\.\*\)"\)/);
  assert.match(link.expr, /unless on \(site, job, instance, af, to\)\s+label_replace\(lsprobe_router_decap_ok == 0, "to", "\$1", "router", "\(\.\*\)"\)/);
  // The one view's links are folded in (one alert name: one Alertmanager group per edge with the
  // probers'), without `probers` in the labels (it changes as probers come and go: `for` restarts).
  assert.match(link.expr, /\bor\s+max without \(probers\) \(lsprobe_view_link_suspect == 1\)/);
  for (const end of ["from", "to"]) assert.match(link.expr, new RegExp(`unless on \\(af, ${end}\\)\\s+label_replace\\(lsprobe_view_router_suspect == 1, "${end}"`));
  assert.match(link.annotations.description, /label "probers"/, "the view's probers in the description");
  const router = alerts.find((r) => r.alert === "LsprobeViewRouterSuspect")!;
  assert.match(router.expr, /^max without \(probers\) \(lsprobe_view_router_suspect == 1\)/);

  const firing = new Map<string, number>();
  const silent = new Map<string, number>();
  const exprTests: string[] = [];
  for (const f of promTestFiles()) {
    for (const t of readYaml(f).tests as Json[]) {
      for (const c of (t.alert_rule_test ?? []) as Json[]) {
        const name = c.alertname as string;
        assert.ok(names.includes(name), `${path.basename(f)} "${t.name}": alert ${name} is not defined in the alerts file`);
        const exp = (c.exp_alerts ?? []) as Json[];
        (exp.length ? firing : silent).set(name, ((exp.length ? firing : silent).get(name) ?? 0) + 1);
        for (const e of exp) {
          assert.ok(e.exp_labels?.severity, `${name} at ${c.eval_time}: exp_labels checks the severity`);
          assert.ok(e.exp_annotations?.summary && e.exp_annotations?.description, `${name} at ${c.eval_time}: exp_annotations checks summary and description`);
        }
      }
      for (const c of (t.promql_expr_test ?? []) as Json[]) exprTests.push(c.expr as string);
    }
  }
  for (const n of names) {
    assert.ok(firing.get(n), `no promtool test where ${n} fires`);
    assert.ok(silent.get(n), `no promtool test where ${n} does not fire`);
  }
  for (const r of rulesOf(RECORDING_FILE)) {
    assert.ok(exprTests.some((e) => lsprobeNames(e).includes(r.record)), `no promql_expr_test of ${r.record}`);
  }
});

test("every lsprobe name in the rules and Grafana queries is exported by the prober or the plugin, or recorded", () => {
  const exported = exportedMetrics();
  for (const n of ["lsprobe_probes_sent_total", "lsprobe_path_up", "lsprobe_link_suspect", "lsprobe_pathset_age_seconds", "lsprobe_config_last_reload_successful", "lsprobe_send_errors_total", "lsprobe_probe_rtt_seconds_bucket", "lsprobe_plugin_endpoint_resolved", "lsprobe_plugin_output_ok", "lsprobe_plugin_output_errors_total", "lsprobe_plugin_links_undercovered", "lsprobe_view_link_suspect", "lsprobe_view_router_suspect", "lsprobe_view_rounds_total", "lsprobe_view_pull_errors_total"]) {
    assert.ok(exported.has(n), `${n} not found in the prober's or the plugin's source: the pattern needs updating`);
  }
  const known = new Set([...exported, ...rulesOf(RECORDING_FILE).map((r) => r.record as string)]);
  const exprs = [
    ...rulesOf(RECORDING_FILE).map((r) => ({ source: `recording rule ${r.record}`, expr: r.expr as string })),
    ...rulesOf(ALERTS_FILE).map((r) => ({ source: `alert ${r.alert}`, expr: r.expr as string })),
    ...grafanaExpressions(ROOT),
  ];
  for (const e of exprs) {
    for (const n of lsprobeNames(e.expr)) assert.ok(known.has(n), `${e.source}: ${n} is neither exported by the prober or the plugin nor recorded`);
  }
});

test("Grafana expressions: more than 10, all found, variables substituted", () => {
  const exprs = grafanaExpressions(ROOT);
  assert.ok(exprs.length > 10, `only ${exprs.length} expressions found`);
  for (const e of exprs) {
    assert.ok(!/\$(?!\d)/.test(e.expr), `${e.source}: unsubstituted variable in ${e.expr}`); // $1: label_replace's group
    assert.ok(e.expr.trim(), `${e.source}: empty`);
  }
  const sources = exprs.map((e) => e.source);
  assert.equal(new Set(sources).size, sources.length, "sources name each expression once");
  for (const want of [/^dashboard variable \$hops$/, /^dashboard annotation /, /^dashboard panel "RTT distribution/, /^grafana alert rule "lsprobe path down" query A$/, /^grafana alert rule "lsprobe link suspect" query A$/]) {
    assert.ok(sources.some((s) => want.test(s)), `no expression from ${want}`);
  }
  assert.equal(exprs.find((e) => e.source === "dashboard variable $hops")!.expr, 'lsprobe_path_info{site=~".*", instance=~".+", src=~".+", dst=~".+", pair=~".+"}');
  // Path panels and alerts name a path by joining lsprobe_path_info: no per-path series carries hops, src or dst.
  const perPath = /\b(lsprobe_(?:probes_(?:sent|received|lost|unknown|late|out_of_order)_total|path_up|path_loss_ratio|path_rtt_last_seconds|probe_rtt_seconds_bucket)|lsprobe:path_\w+)\{([^}]*)\}/g;
  const all = [...exprs, ...rulesOf(ALERTS_FILE).map((r) => ({ source: `alert ${r.alert}`, expr: r.expr as string })), ...rulesOf(RECORDING_FILE).map((r) => ({ source: `recording rule ${r.record}`, expr: r.expr as string }))];
  for (const e of all) for (const m of e.expr.matchAll(perPath)) assert.doesNotMatch(m[2], /\b(hops|src|dst|pair)\s*=/, `${e.source}: ${m[1]} has no ${m[2]}`);
  for (const e of all.filter((x) => /\b(hops|src|dst)\b/.test(x.expr.replace(/lsprobe_path_info\{[^}]*\}/g, "")) && /lsprobe_path_(up|loss)|lsprobe:path_/.test(x.expr)))
    assert.match(e.expr, /on \(site, job, instance, path, af\) group_left \((hops, src, dst|src, dst)\)/, `${e.source}: joins lsprobe_path_info (site: two sites' probers may share instance and path ids)`);
  // Only the annotation, the "suspected now" filters and the one view's lists may legitimately
  // return nothing (the one view is the plugin's, and optional: its counts stats say 0 instead).
  assert.deepEqual(exprs.filter((e) => e.mayBeEmpty).map((e) => e.source).sort(), [
    'dashboard annotation "Path-set generation changes"',
    'dashboard panel "Links suspected now" target A',
    'dashboard panel "One view: directed link loss" target A',
    'dashboard panel "One view: directed links not told apart" target A',
    'dashboard panel "One view: links suspected now, and who saw them" target A',
    'dashboard panel "One view: routers suspected now" target A',
  ]);
  assert.equal(filtersAtTopLevel("count(x == 0) or vector(0)"), false);
  assert.equal(filtersAtTopLevel('a{b=~"c"} / (d > 0)'), false);
  assert.equal(filtersAtTopLevel("changes(g[1m]) > 0"), true);
  assert.equal(filtersAtTopLevel("a != bool a"), false);
});

test("Grafana expressions: each parses (promtool check rules, one recording rule each)", { skip: NO_PROMTOOL }, () => {
  const exprs = grafanaExpressions(ROOT);
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-grafana-exprs-"));
  try {
    const file = path.join(dir, "grafana-expressions.rules.yml");
    const write = (list: typeof exprs): void =>
      writeFileSync(file, stringify({ groups: [{ name: "grafana-expressions", rules: list.map((e, i) => ({ record: `check:${i}`, expr: e.expr })) }] }));
    write(exprs);
    try {
      const out = run(PROMTOOL!, ["check", "rules", file]);
      assert.match(out, new RegExp(`SUCCESS: ${exprs.length} rules found`));
    } catch (err) {
      // Name the culprits.
      const bad = exprs.filter((e) => {
        write([e]);
        try {
          execFileSync(PROMTOOL!, ["check", "rules", file], { stdio: "pipe" });
          return false;
        } catch {
          return true;
        }
      });
      assert.fail(`${(err as Error).message}\nfailing: ${bad.map((e) => `${e.source}: ${e.expr}`).join("\n")}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Grafana dashboard: provisionable, every panel on the datasource variable, the required panels", () => {
  const d = readDashboard(ROOT) as Json;
  assert.equal(d.uid, "lsprobe");
  assert.equal(d.schemaVersion, 39);
  assert.equal(d.id, null);
  const vars = d.templating.list as Json[];
  const dsVar = vars.find((v) => v.name === "datasource")!;
  assert.equal(dsVar.type, "datasource");
  assert.equal(dsVar.query, "prometheus");
  const hops = vars.find((v) => v.name === "hops")!;
  assert.match(hops.query.query, /^label_values\(lsprobe_path_info\b.*, hops\)$/);
  // Source, destination, pair (lsprobe_path_info) and link (the link series' edge) variables, multi-valued with All.
  for (const [name, re] of [["src", /^label_values\(lsprobe_path_info\b.*, src\)$/], ["dst", /^label_values\(lsprobe_path_info\b.*, dst\)$/], ["pair", /^label_values\(lsprobe_path_info\b.*, pair\)$/], ["link", /^label_values\(lsprobe_link_\w+\b.*, edge\)$/]] as const) {
    const v = vars.find((x) => x.name === name);
    assert.ok(v && v.multi && v.includeAll && v.allValue === ".+", `a ${name} variable`);
    assert.match(v.query.query, re, `variable ${name}`);
  }
  const af = vars.find((v) => v.name === "af");
  assert.ok(af && af.multi && af.includeAll && /, af\)$/.test(af.query.query), "an af (address family) variable");
  for (const v of vars.filter((x) => x.type === "query")) assert.equal(v.datasource.uid, "${datasource}", `variable ${v.name}`);

  const all: Json[] = [];
  const walk = (ps: Json[]): void => ps.forEach((p) => (all.push(p), walk(p.panels ?? [])));
  walk(d.panels);
  const ids = all.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
  const panels = all.filter((p) => p.type !== "row");
  for (const p of panels) {
    assert.equal(p.datasource?.uid, "${datasource}", `panel "${p.title}" uses the datasource variable`);
    assert.ok(p.targets?.length, `panel "${p.title}" has targets`);
    for (const t of p.targets) assert.equal(t.datasource?.uid, "${datasource}", `panel "${p.title}" target ${t.refId}`);
    assert.ok(p.gridPos && p.gridPos.w > 0 && p.gridPos.h > 0, `panel "${p.title}" gridPos`);
  }
  const has = (type: string, re: RegExp, extra: (p: Json, t: Json) => boolean = () => true): boolean =>
    panels.some((p) => p.type === type && p.targets.some((t: Json) => re.test(t.expr) && extra(p, t)));
  assert.ok(has("heatmap", /lsprobe_probe_rtt_seconds_bucket/, (p, t) => t.format === "heatmap" && p.repeat === "hops"), "RTT heatmap per path");
  assert.ok(has("timeseries", /lsprobe:path_rtt_seconds:p99_rate1m/), "RTT quantiles");
  assert.ok(has("timeseries", /lsprobe:path_loss_ratio:rate1m/), "loss ratio");
  assert.ok(has("state-timeline", /^lsprobe_path_up\{/), "up/down state timeline");
  assert.ok(has("state-timeline", /^lsprobe_link_suspect\{/, (_p, t) => t.legendFormat === "{{from}} -> {{to}} ({{af}})"), "suspect links timeline");
  assert.ok(has("table", /lsprobe_link_suspect\{.*\} == 1$/), "suspect links table");
  assert.ok(has("timeseries", /lsprobe_probes_sent_total/) && has("timeseries", /lsprobe_probes_rejected_total/), "probe rates and rejections");
  assert.ok(has("timeseries", /^lsprobe_link_loss_ratio\{.*edge=~"\$link"/, (_p, t) => t.legendFormat === "{{from}} -> {{to}} ({{af}})"), "link loss per link");
  assert.ok(has("state-timeline", /^lsprobe_link_identifiable\{.*edge=~"\$link"/), "link identifiability");
  assert.ok(has("stat", /lsprobe_link_identifiable\{.*\} == 0\) or vector\(0\)$/), "links not identifiable (count)");
  assert.ok(has("stat", /lsprobe_paths_left_out/), "paths left out by max-paths");
  assert.ok(has("timeseries", /^lsprobe:pair_rtt_seconds:p99_rate1m\{/), "RTT per pair");
  // The one view (the plugin's lsprobe_view_*): a row of its own; its link panels under the af and
  // link (edge) variables, never under site or instance (the plugin has neither: it serves every site).
  const rowAt = (title: string): number => (d.panels as Json[]).findIndex((p) => p.type === "row" && p.title === title);
  assert.ok(rowAt("One view") > rowAt("Links") && rowAt("One view") < rowAt("Probes"), "a One view row between Links and Probes");
  const view = (d.panels as Json[]).slice(rowAt("One view") + 1, rowAt("Probes"));
  assert.ok(view.every((p) => p.gridPos.y > d.panels[rowAt("One view")].gridPos.y && p.gridPos.y < d.panels[rowAt("Probes")].gridPos.y), "the One view panels lie in its row");
  const viewHas = (type: string, re: RegExp, legend?: string): boolean => view.some((p) => p.type === type && (p.targets as Json[]).some((t) => re.test(t.expr) && (legend === undefined || t.legendFormat === legend)));
  assert.ok(viewHas("timeseries", /^lsprobe_view_link_loss_ratio\{af=~"\$af", edge=~"\$link"\} > 0$/, "{{from}} -> {{to}} ({{af}})"), "directed link loss, from -> to");
  assert.ok(viewHas("table", /^lsprobe_view_link_suspect\{af=~"\$af", edge=~"\$link"\} == 1$/), "suspect links table");
  assert.equal(view.find((p) => /suspected now, and who/.test(p.title))!.transformations[0].options.renameByName.probers, "Seen by probers");
  assert.ok(viewHas("table", /^lsprobe_view_router_suspect\{af=~"\$af"\} == 1$/), "suspect routers table");
  assert.ok(viewHas("stat", /^count\(lsprobe_view_link_identifiable\{af=~"\$af", edge=~"\$link"\} == 0\) or vector\(0\)$/, "not told apart") && viewHas("table", /^lsprobe_view_link_identifiable\{af=~"\$af", edge=~"\$link"\} == 0$/), "identifiability");
  for (const k of ["loop", "oneway"]) assert.ok(viewHas("stat", new RegExp(`^sum\\(lsprobe_view_streams\\{kind="${k}"\\}\\) or vector\\(0\\)$`), k), `streams ${k}`);
  for (const k of ["ok", "failing"]) assert.ok(viewHas("stat", new RegExp(`^sum\\(lsprobe_view_probers\\{state="${k}"\\}\\) or vector\\(0\\)$`), k), `probers ${k}`);
  assert.ok(viewHas("timeseries", /^max\(lsprobe_view_round_duration_seconds\) or vector\(0\)$/), "round duration");
  for (const p of view) for (const t of p.targets as Json[]) assert.doesNotMatch(t.expr, /\$(site|instance)\b/, `panel "${p.title}": the plugin's series have no site and the plugin is no prober instance`);
  // Every path panel filters by source, destination, pair and hops through lsprobe_path_info.
  for (const p of panels)
    for (const t of p.targets as Json[])
      if (/lsprobe_path_up|lsprobe:path_|lsprobe_probes_sent_total|lsprobe_probe_rtt_seconds_bucket/.test(t.expr))
        assert.match(t.expr, /lsprobe_path_info\{site=~"\$site", instance=~"\$instance", src=~"\$src", dst=~"\$dst", pair=~"\$pair", hops=~"\$hops", af=~"\$af"\}/, `panel "${p.title}" ${t.refId}`);
  // Many sites: a site variable (All also matching series without a site: a single Prometheus), and every prober selector under it.
  const siteVar = vars.find((v) => v.name === "site")!;
  assert.equal(siteVar?.allValue, ".*");
  assert.equal(siteVar.query.query, 'label_values(lsprobe_paths{job="lsprobe-prober"}, site)');
  assert.equal(vars.find((v) => v.name === "instance")!.query.query, 'label_values(lsprobe_paths{job="lsprobe-prober", site=~"$site"}, instance)');
  const text = JSON.stringify(d);
  assert.equal(text.split('instance=~\\"$instance\\"').length, text.split('site=~\\"$site\\", instance=~\\"$instance\\"').length, "every $instance filter is under $site");
  const ann = (d.annotations.list as Json[]).find((a) => typeof a.expr === "string")!;
  assert.match(ann.expr, /^changes\(lsprobe_pathset_generation\b.*\[1m\]\) > 0$/);
  assert.equal(ann.datasource.uid, "${datasource}");
});

test("Grafana provisioning: dashboards provider, datasource, alert rules on that datasource", () => {
  const prov = readYaml(path.join(GRAFANA, "provisioning/dashboards/lsprobe.yml"));
  assert.equal(prov.apiVersion, 1);
  assert.equal(prov.providers[0].type, "file");
  assert.ok(prov.providers[0].options.path);
  const ds = readYaml(path.join(GRAFANA, "provisioning/datasources/prometheus.yml"));
  assert.equal(ds.apiVersion, 1);
  const prom = (ds.datasources as Json[]).find((x) => x.type === "prometheus")!;
  assert.ok(prom.uid, "the datasource has a uid");

  const al = readAlerting(ROOT) as Json;
  assert.equal(al.apiVersion, 1);
  const rules = (al.groups as Json[]).flatMap((g) => {
    assert.ok(g.name && g.folder && g.interval, `group ${g.name}: name, folder, interval`);
    return g.rules as Json[];
  });
  const titles = rules.map((r) => r.title as string);
  assert.ok(titles.includes("lsprobe path down") && titles.includes("lsprobe link suspect"), titles.join(", "));
  for (const r of rules) {
    const refs = new Map((r.data as Json[]).map((x) => [x.refId as string, x]));
    assert.ok(r.uid && r.for && r.labels?.severity && r.annotations?.summary, `${r.title}: uid, for, severity, summary`);
    assert.ok(refs.has(r.condition), `${r.title}: condition ${r.condition} is one of the queries`);
    const a = refs.get("A");
    assert.equal(a?.datasourceUid, prom.uid, `${r.title}: query A on the provisioned datasource`);
    assert.ok(a?.model?.expr && a.model.refId === "A", `${r.title}: query A has an expr`);
    for (const x of refs.values()) {
      assert.equal(x.model.refId, x.refId, `${r.title}: model.refId of ${x.refId}`);
      if (x.datasourceUid !== "__expr__") continue;
      assert.ok(["reduce", "threshold", "math", "classic_conditions"].includes(x.model.type), `${r.title} ${x.refId}: expression type`);
      if (x.model.expression) assert.ok(refs.has(x.model.expression), `${r.title} ${x.refId}: refers to ${x.model.expression}`);
    }
    const types = [...refs.values()].map((x) => x.model.type);
    assert.ok(types.includes("reduce") && types.includes("threshold"), `${r.title}: reduce and threshold expressions`);
  }
  const link = rules.find((r) => r.title === "lsprobe link suspect")!;
  assert.match(link.annotations.summary, /\{\{ \$labels\.from \}\} -> \{\{ \$labels\.to \}\}/);
  // The one view folded in, as in the Prometheus rule.
  assert.match((link.data as Json[])[0].model.expr, /\bor\s+max without \(probers\) \(lsprobe_view_link_suspect\)/);
});

test("amtool check-config: monitoring/alertmanager/alertmanager.yml, and lsprobe alerts reach both receivers", { skip: NO_AMTOOL }, () => {
  const out = run(AMTOOL!, ["check-config", AM_FILE]);
  assert.match(out, /SUCCESS/);
  assert.match(out, /7 inhibit rules/);
  for (const labels of [
    ["alertname=LsprobePathDown", "path=p-a", "hops=r1>r2>r4>r6", "af=ipv4"],
    ["alertname=LsprobeLinkSuspect", "link=l-24", "from=r2", "to=r4", "edge=r2-r4", "af=ipv4"],
    ["alertname=LsprobeRouterNotDecapsulating", "router=r4", "af=ipv6"],
    ["alertname=LsprobeLinkSuspect", "job=lsprobe-plugin", "link=l-24", "from=r2", "to=r4", "edge=r2-r4", "af=ipv4"],
    ["alertname=LsprobeViewRouterSuspect", "job=lsprobe-plugin", "router=r4", "af=ipv4"],
    ["alertname=LsprobeViewBlind", "job=lsprobe-plugin", "prober=b"],
    ["alertname=LsprobeProberDown"],
  ]) {
    run(AMTOOL!, ["config", "routes", "test", `--config.file=${AM_FILE}`, "--verify.receivers=lsprobe-webhook,lsprobe-email", ...labels]);
  }
  run(AMTOOL!, ["config", "routes", "test", `--config.file=${AM_FILE}`, "--verify.receivers=default", "alertname=NodeDown"]);
  // Grouped by link (edge: both directions, parallel links) or router, never by path: the
  // number of paths through a broken link does not multiply the notifications (the
  // alertmanager test below counts them).
  const am = readYaml(AM_FILE);
  for (const r of am.route.routes as Json[]) {
    assert.deepEqual(r.group_by, ["alertname", "edge", "router", "af"]);
    for (const l of ["path", "hops", "src", "dst", "link", "instance"]) assert.ok(!(r.group_by as string[]).includes(l), `group_by without ${l}`);
  }
});

/**
 * A real Alertmanager with the configuration's routes and inhibit rules. Without `webhook`,
 * receivers without integrations (nothing is sent); with it, the webhook receiver posts there,
 * the email route is dropped (no mail relay here) and the timers are short (group_wait 2s,
 * group_interval 4s), so that notifications can be counted.
 */
async function startAlertmanager(webhook?: string): Promise<{ url: string; stop(): Promise<void> }> {
  let text: string;
  if (webhook) text = alertmanagerConfig(webhook, { groupWaitS: 2, groupIntervalS: 4 });
  else {
    const cfg = readYaml(AM_FILE);
    cfg.receivers = (cfg.receivers as Json[]).map((r) => ({ name: r.name }));
    delete cfg.global;
    text = stringify(cfg);
  }
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-alertmanager-"));
  writeFileSync(path.join(dir, "alertmanager.yml"), text);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const am = spawn(ALERTMANAGER!, [`--config.file=${path.join(dir, "alertmanager.yml")}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address="], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  am.stderr.setEncoding("utf8").on("data", (c: string) => (log += c));
  const stop = async (): Promise<void> => {
    am.kill("SIGTERM");
    await new Promise((r) => (am.exitCode !== null ? r(null) : am.once("exit", r)));
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() >= deadline || am.exitCode !== null) {
      await stop();
      assert.fail(`alertmanager did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop };
}

type AmGroup = { labels: Record<string, string>; receiver: { name: string }; alerts: Array<{ labels: Record<string, string>; status: { state: string } }> };

test("alertmanager: one broken link is one notification, whatever the number of paths through it and of probers that see it", { skip: NO_ALERTMANAGER, timeout: 60_000 }, async () => {
  const am = await startAlertmanager();
  try {
    const probers = ["127.0.0.1:9469", "192.0.2.7:9469"].map((instance) => ({ job: "lsprobe-prober", instance }));
    const post = async (alerts: Array<Record<string, string>>): Promise<void> => {
      const r = await fetch(`${am.url}/api/v2/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(alerts.map((labels) => ({ labels: { severity: "critical", ...labels }, annotations: { summary: labels.alertname } }))) });
      assert.equal(r.status, 200, await r.text());
    };
    /** The groups of a receiver that would notify: those with an alert neither inhibited nor silenced. */
    const notifying = async (receiver: string, want: number, ready: (g: AmGroup[]) => boolean = () => true): Promise<AmGroup[]> => {
      let groups: AmGroup[] = [];
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        groups = ((await (await fetch(`${am.url}/api/v2/alerts/groups`)).json()) as AmGroup[]).filter((g) => g.receiver.name === receiver && g.alerts.some((a) => a.status.state === "active"));
        // Alertmanager ingests a POST's alerts asynchronously: wait for all of them, not the first.
        if (groups.length === want && ready(groups)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      return groups;
    };
    // 40 paths across r2 -> r4 (out and back: r4 -> r2 too), seen by two probers: down; and 40
    // others losing (other path ids: a path down holds back its own loss alert).
    const paths = Array.from({ length: 40 }, (_, i) => ({ path: `p-${i}`, class: "default", af: "ipv4", src: `pe${i % 8}`, dst: "r6", hops: `pe${i % 8}>r2>r4>r6#${i}` }));
    const pathAlerts = probers.flatMap((p) => paths.flatMap((x) => [{ alertname: "LsprobePathDown", ...p, ...x }, { alertname: "LsprobePathLoss", ...p, ...x, path: `${x.path}-loss` }]));
    await post(pathAlerts);
    // Before any link is named: each kind is one notification for all its paths (not 80).
    let groups = await notifying("lsprobe-webhook", 2, (g) => g.every((x) => x.alerts.length === 80));
    assert.deepEqual(groups.map((g) => `${g.labels.alertname} ${g.alerts.length}`).sort(), ["LsprobePathDown 80", "LsprobePathLoss 80"]);
    // The prober names the link, both directions, on both probers: one notification in all.
    await post(probers.flatMap((p) => [
      { alertname: "LsprobeLinkSuspect", ...p, link: "l-24", from: "r2", to: "r4", edge: "r2-r4", af: "ipv4" },
      { alertname: "LsprobeLinkSuspect", ...p, link: "l-42", from: "r4", to: "r2", edge: "r2-r4", af: "ipv4" },
    ]));
    groups = await notifying("lsprobe-webhook", 1, (g) => g[0].alerts.length === 4);
    assert.equal(groups.length, 1, JSON.stringify(groups.map((g) => g.labels)));
    assert.deepEqual(groups[0].labels, { alertname: "LsprobeLinkSuspect", edge: "r2-r4", af: "ipv4" });
    assert.equal(groups[0].alerts.length, 4);
    assert.equal((await notifying("lsprobe-email", 1)).length, 1, "the same for email");
    // A router that does not decapsulate, seen by both probers: one more, for the router.
    await post(probers.map((p) => ({ alertname: "LsprobeRouterNotDecapsulating", ...p, router: "r5", af: "ipv4" })));
    groups = await notifying("lsprobe-webhook", 2);
    assert.deepEqual(groups.map((g) => JSON.stringify(g.labels)).sort(), [JSON.stringify({ af: "ipv4", alertname: "LsprobeLinkSuspect", edge: "r2-r4" }), JSON.stringify({ af: "ipv4", alertname: "LsprobeRouterNotDecapsulating", router: "r5" })].sort());
  } finally {
    await am.stop();
  }
});

test("alertmanager: two sites (same prober instance) seeing one broken link are one notification with both sites' alerts; one site's alerts never silence the other's", { skip: NO_ALERTMANAGER, timeout: 60_000 }, async () => {
  const am = await startAlertmanager();
  try {
    const post = async (alerts: Array<Record<string, string>>): Promise<void> => {
      const r = await fetch(`${am.url}/api/v2/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(alerts.map((labels) => ({ labels: { severity: "critical", ...labels }, annotations: { summary: labels.alertname } }))) });
      assert.equal(r.status, 200, await r.text());
    };
    // Each site's Prometheus scrapes its prober locally: the same instance at both.
    const at = (site: string): Record<string, string> => ({ site, job: "lsprobe-prober", instance: "127.0.0.1:9469" });
    const link = { link: "l-24", from: "r2", to: "r4", edge: "r2-r4", af: "ipv4" };
    const pathDown = { alertname: "LsprobePathDown", path: "p-a", class: "default", af: "ipv4", src: "r1", dst: "r6", hops: "r1>r2>r4>r6" };
    await post([
      { alertname: "LsprobeLinkSuspect", ...at("ams"), ...link },
      { alertname: "LsprobeLinkSuspect", ...at("fra"), ...link },
      { ...pathDown, ...at("ams") }, // held back by ams's link alert
      { ...pathDown, ...at("fra"), path: "p-b" }, // held back by fra's
      { alertname: "LsprobeProberDown", ...at("par") }, // par's prober: silences par's alerts only
      { alertname: "LsprobeNoPaths", ...at("par") },
      { alertname: "LsprobeNoPaths", ...at("lon") }, // lon's prober has the same instance: not silenced
      { ...pathDown, ...at("lon"), path: "p-c" }, // no link alert at lon: notifies
      { alertname: "LsprobeSiteSilent", site: "osl" }, // osl's Prometheus sends nothing: silences osl's alerts only
      { alertname: "LsprobeLinkSuspect", ...at("osl"), ...link, link: "l-42", from: "r4", to: "r2" },
    ]);
    const want = {
      "LsprobeLinkSuspect@ams": "active",
      "LsprobeLinkSuspect@fra": "active",
      "LsprobePathDown@ams": "suppressed",
      "LsprobePathDown@fra": "suppressed",
      "LsprobeProberDown@par": "active",
      "LsprobeNoPaths@par": "suppressed",
      "LsprobeNoPaths@lon": "active",
      "LsprobePathDown@lon": "active",
      "LsprobeSiteSilent@osl": "active",
      "LsprobeLinkSuspect@osl": "suppressed",
    };
    let got: Record<string, string> = {};
    let groups: AmGroup[] = [];
    const active = (g: AmGroup): AmGroup["alerts"] => g.alerts.filter((a) => a.status.state === "active");
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      const list = (await (await fetch(`${am.url}/api/v2/alerts`)).json()) as Array<{ labels: Record<string, string>; status: { state: string } }>;
      got = Object.fromEntries(list.map((a) => [`${a.labels.alertname}@${a.labels.site}`, a.status.state]));
      groups = ((await (await fetch(`${am.url}/api/v2/alerts/groups`)).json()) as AmGroup[]).filter((g) => g.receiver.name === "lsprobe-webhook" && g.labels.alertname === "LsprobeLinkSuspect");
      if (JSON.stringify(Object.entries(got).sort()) === JSON.stringify(Object.entries(want).sort()) && groups.length === 1 && active(groups[0]).length === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(Object.fromEntries(Object.entries(got).sort()), Object.fromEntries(Object.entries(want).sort()));
    assert.equal(groups.length, 1, JSON.stringify(groups.map((g) => g.labels)));
    assert.deepEqual(groups[0].labels, { alertname: "LsprobeLinkSuspect", edge: "r2-r4", af: "ipv4" });
    // The notification carries the active alerts: ams's and fra's (osl's is inhibited).
    assert.deepEqual(active(groups[0]).map((a) => a.labels.site).sort(), ["ams", "fra"]);
  } finally {
    await am.stop();
  }
});

interface Notification {
  groupKey: string;
  groupLabels: Record<string, string>;
  alerts: Array<{ status: string; labels: Record<string, string> }>;
}

test("alertmanager: a link the probers and the one view both name is one webhook notification; the view holds back every prober's path alerts of its family", { skip: NO_ALERTMANAGER, timeout: 60_000 }, async () => {
  const notifications: Notification[] = [];
  const hook = http.createServer((q, s) => {
    let body = "";
    q.setEncoding("utf8").on("data", (c: string) => (body += c));
    q.on("end", () => {
      notifications.push(JSON.parse(body) as Notification);
      s.end("ok");
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", () => r()));
  const am = await startAlertmanager(`http://127.0.0.1:${(hook.address() as net.AddressInfo).port}/alerts`);
  try {
    const post = async (alerts: Array<Record<string, string>>): Promise<void> => {
      const r = await fetch(`${am.url}/api/v2/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(alerts.map((labels) => ({ labels: { severity: "critical", ...labels }, annotations: { summary: labels.alertname } }))) });
      assert.equal(r.status, 200, await r.text());
    };
    const received = async (what: string, ok: () => boolean): Promise<void> => {
      const until = Date.now() + 20_000;
      while (!ok()) {
        assert.ok(Date.now() < until, `no ${what} at the webhook: ${JSON.stringify(notifications.map((n) => n.groupLabels))}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const at = (site: string): Record<string, string> => ({ site, job: "lsprobe-prober", instance: "127.0.0.1:9469" });
    const view = { job: "lsprobe-plugin", instance: "127.0.0.1:9468" };
    const edge = { edge: "r2-r4", af: "ipv4" };
    await post([
      // Two sites' probers name the pair (out-and-back: both directions); the view names r2 -> r4 alone.
      ...["ams", "fra"].flatMap((site) => [
        { alertname: "LsprobeLinkSuspect", ...at(site), link: "l-24", from: "r2", to: "r4", ...edge },
        { alertname: "LsprobeLinkSuspect", ...at(site), link: "l-42", from: "r4", to: "r2", ...edge },
      ]),
      { alertname: "LsprobeLinkSuspect", ...view, link: "l-24", from: "r2", to: "r4", ...edge },
      // par's prober names no link (it cannot tell the loss apart), so its 20 lossy paths would
      // notify on their own: the view holds them back (same family). Its IPv6 path down is not
      // the view's (another family): it notifies.
      ...Array.from({ length: 20 }, (_, i) => ({ alertname: "LsprobePathLoss", ...at("par"), path: `p-${i}`, class: "default", af: "ipv4", src: `pe${i % 4}`, dst: "r6", hops: `pe${i % 4}>r2>r4>r6#${i}` })),
      { alertname: "LsprobePathDown", ...at("par"), path: "p-v6", class: "default", af: "ipv6", src: "pe1", dst: "r6", hops: "pe1>r3>r6" },
      // A router the view names: one more notification, its own.
      { alertname: "LsprobeViewRouterSuspect", ...view, router: "r7", af: "ipv4" },
    ]);
    const isLink = (n: Notification): boolean => n.groupLabels.alertname === "LsprobeLinkSuspect";
    await received("link notification", () => notifications.some(isLink));
    await received("router and IPv6 path notifications", () => notifications.length >= 3);
    // Past a group interval more (4s): a second notification for any of these groups would be in.
    await new Promise((r) => setTimeout(r, 6_000));
    const labelsOf = (l: Record<string, string>): string => Object.entries(l).sort().map(([k, v]) => `${k}=${v}`).join(",");
    assert.deepEqual(notifications.map((n) => labelsOf(n.groupLabels)).sort(), [
      "af=ipv4,alertname=LsprobeLinkSuspect,edge=r2-r4",
      "af=ipv4,alertname=LsprobeViewRouterSuspect,router=r7",
      "af=ipv6,alertname=LsprobePathDown",
    ]);
    const link = notifications.find(isLink)!;
    assert.deepEqual(link.alerts.map((a) => `${a.labels.job} ${a.labels.site ?? "-"} ${a.labels.from}->${a.labels.to} ${a.status}`).sort(), [
      "lsprobe-plugin - r2->r4 firing",
      "lsprobe-prober ams r2->r4 firing",
      "lsprobe-prober ams r4->r2 firing",
      "lsprobe-prober fra r2->r4 firing",
      "lsprobe-prober fra r4->r2 firing",
    ]);

    // Another edge named by a prober first, by the view a group interval later: the view's alert
    // joins the same group (an update of that notification, same group key), not a new one.
    await post([{ alertname: "LsprobeLinkSuspect", ...at("ams"), link: "l-56", from: "r5", to: "r6", edge: "r5-r6", af: "ipv4" }]);
    const r56 = (): Notification[] => notifications.filter((n) => isLink(n) && n.groupLabels.edge === "r5-r6");
    await received("r5-r6 notification", () => r56().length === 1);
    await post([{ alertname: "LsprobeLinkSuspect", ...view, link: "l-56", from: "r5", to: "r6", edge: "r5-r6", af: "ipv4" }]);
    await received("r5-r6 update with the view's alert", () => r56().length === 2);
    assert.equal(r56()[1].groupKey, r56()[0].groupKey);
    assert.deepEqual(r56()[1].alerts.map((a) => a.labels.job).sort(), ["lsprobe-plugin", "lsprobe-prober"]);
  } finally {
    await am.stop();
    await new Promise((r) => hook.close(r));
  }
});

test("alertmanager: the inhibit rules silence what they should, and only that", { skip: NO_ALERTMANAGER, timeout: 60_000 }, async () => {
  // The configuration's routes and inhibit rules, receivers without integrations (nothing is sent).
  const cfg = readYaml(AM_FILE);
  cfg.receivers = (cfg.receivers as Json[]).map((r) => ({ name: r.name }));
  delete cfg.global;
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-alertmanager-"));
  writeFileSync(path.join(dir, "alertmanager.yml"), stringify(cfg));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const am = spawn(ALERTMANAGER!, [`--config.file=${path.join(dir, "alertmanager.yml")}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address="], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  am.stderr.setEncoding("utf8").on("data", (c: string) => (log += c));
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
      if (ok) break;
      assert.ok(Date.now() < deadline && am.exitCode === null, `alertmanager did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const p = { job: "lsprobe-prober", instance: "127.0.0.1:9469" };
    const pathA = { ...p, path: "p-a", src: "r1", dst: "r6", hops: "r1>r2>r4>r6", class: "default", af: "ipv4" };
    const pathB = { ...p, path: "p-b", src: "r1", dst: "r6", hops: "r1>r3>r5>r6", class: "default", af: "ipv4" };
    const pathC = { ...p, path: "p-c", src: "r1", dst: "r6", hops: "r1>r2>r5>r6", class: "default", af: "ipv6" };
    const other = { job: "lsprobe-prober", instance: "192.0.2.7:9469" };
    const alerts: Array<[string, Record<string, string>]> = [
      ["LsprobePathDown", pathA],
      ["LsprobePathLoss", pathA], // inhibited: its path is down
      ["LsprobePathRttHigh", pathA], // inhibited: its path is down
      ["LsprobePathLoss", pathB], // not inhibited: another path
      ["LsprobePathSetStale", p],
      ["LsprobePluginDown", p], // inhibited: the stale set says it
      ["LsprobeProberDown", other], // up == 0 of 192.0.2.7
      ["LsprobeNoPaths", other], // inhibited: its prober is down
      ["LsprobeLinkSuspect", { ...p, link: "l-24", from: "r2", to: "r4", edge: "r2-r4", af: "ipv6" }], // not inhibited
      ["LsprobePathDown", pathC], // inhibited: an IPv6 link of its prober is named
    ];
    const body = alerts.map(([alertname, labels]) => ({ labels: { alertname, severity: "critical", ...labels }, annotations: { summary: alertname } }));
    const post = await fetch(`${url}/api/v2/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    assert.equal(post.status, 200, await post.text());
    const key = (l: Record<string, string>): string => `${l.alertname}@${l.instance}${l.path ? `/${l.path}` : ""}`;
    const want = new Map<string, string>([
      ["LsprobePathDown@127.0.0.1:9469/p-a", "active"],
      ["LsprobePathLoss@127.0.0.1:9469/p-a", "suppressed"],
      ["LsprobePathRttHigh@127.0.0.1:9469/p-a", "suppressed"],
      ["LsprobePathLoss@127.0.0.1:9469/p-b", "active"],
      ["LsprobePathSetStale@127.0.0.1:9469", "active"],
      ["LsprobePluginDown@127.0.0.1:9469", "suppressed"],
      ["LsprobeProberDown@192.0.2.7:9469", "active"],
      ["LsprobeNoPaths@192.0.2.7:9469", "suppressed"],
      ["LsprobeLinkSuspect@127.0.0.1:9469", "active"],
      ["LsprobePathDown@127.0.0.1:9469/p-c", "suppressed"],
    ]);
    let got = new Map<string, string>();
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      const list = (await (await fetch(`${url}/api/v2/alerts`)).json()) as Array<{ labels: Record<string, string>; status: { state: string } }>;
      got = new Map(list.map((a) => [key(a.labels), a.status.state]));
      if ([...want].every(([k, v]) => got.get(k) === v)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(Object.fromEntries([...got].sort()), Object.fromEntries([...want].sort()));

    // absent(up{job="lsprobe-prober"}): no instance label; it silences the whole job.
    const absent = await fetch(`${url}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ labels: { alertname: "LsprobeProberDown", job: "lsprobe-prober", severity: "critical" } }]),
    });
    assert.equal(absent.status, 200);
    const until2 = Date.now() + 10_000;
    let states: string[] = [];
    while (Date.now() < until2) {
      const list = (await (await fetch(`${url}/api/v2/alerts`)).json()) as Array<{ labels: Record<string, string>; status: { state: string } }>;
      states = list.filter((a) => a.labels.alertname !== "LsprobeProberDown").map((a) => `${key(a.labels)}=${a.status.state}`);
      if (states.length === 9 && states.every((s) => s.endsWith("=suppressed"))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(states.length === 9 && states.every((s) => s.endsWith("=suppressed")), states.join("\n"));
  } finally {
    am.kill("SIGTERM");
    await new Promise((r) => (am.exitCode !== null ? r(null) : am.once("exit", r)));
    rmSync(dir, { recursive: true, force: true });
  }
});
