// The plugin's /metrics and /healthz (plugin/metrics.ts) after a NANOG 6 feed with one bad line
// and one endpoint that matches no node; malformed-line categories; endpoint resolution logs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Engine, type EngineIo } from "../../plugin/engine.js";
import { decodeLine, MAX_LINE, MALFORMED_REASONS } from "../../plugin/exabgp/decode.js";
import { PluginMetrics, type OutputHealth, type PluginView } from "../../plugin/metrics.js";
import { directedPairs } from "../../plugin/paths.js";
import { listen } from "../../shared/http.js";
import { createLogger } from "../../shared/log.js";
import { ExabgpLines, lineTopology } from "../util/exabgp-lines.js";
import { readTopologyJson } from "../util/edgelist.js";
import { checkMetrics, SKIP_NO_PROMTOOL } from "../util/promtool.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const T0 = Date.UTC(2026, 11, 3, 8, 0, 0);

function setup(pairs: Array<[string, string]> = [["r1", "r6"], ["r1", "r9"]]) {
  const logs: Array<{ level: string; msg: string; endpoint?: string }> = [];
  const io: EngineIo = {
    log: createLogger({ name: "test", level: "debug", format: "json", stream: { write: (s: string) => void logs.push(JSON.parse(s)) } }),
    command: () => {},
    publish: async () => {},
    now: () => new Date(T0),
  };
  const engine = new Engine({ query: { pairs: directedPairs(pairs), mode: "all", maxPerPair: 64 }, metric: "igp", debounceMs: 0, staleTimeoutMs: 60_000, routeRefresh: false, generation: 0, sliceMs: 0 }, io);
  const t = readTopologyJson("nanog6.json");
  const lines = new ExabgpLines(lineTopology(t.nodes, t.edges));
  const other = new ExabgpLines(lineTopology(t.nodes, t.edges), { peer: "198.51.100.2" });
  let n = 0;
  const feed = async (...ls: string[]): Promise<void> => {
    for (const l of ls) engine.handleLine(l, ++n);
    await engine.recompute();
  };
  const outputs: OutputHealth[] = [
    { output: "file", path: "/var/lib/lsprobe/paths.json", ok: true, errors: 0 },
    { output: "socket", path: "/run/lsprobe/paths.sock", ok: false, errors: 3, lastError: "cannot listen on /run/lsprobe/paths.sock: permission denied (EACCES)" },
  ];
  const view: PluginView & { ok: boolean } = {
    engine,
    ok: true,
    outputs: () => outputs,
    subscribers: () => 2,
    configOk() {
      return this.ok;
    },
    internalErrors: () => 0,
    now: () => T0 + 42_000,
  };
  const metrics = new PluginMetrics(view);
  const warnings = (endpoint: string) => logs.filter((l) => l.endpoint === endpoint).map((l) => `${l.level} ${l.msg}`);
  return { engine, lines, other, feed, outputs, view, metrics, logs, warnings };
}

/** The full NANOG 6 table, a second peer that connected and went down, and one line of bad JSON. */
async function fed() {
  const s = setup();
  const table = s.lines.fullTable();
  await s.feed(...table, s.other.state("connected"), s.other.state("down"), "{ this is not JSON");
  await s.engine.close(); // no recompute left running or pending: the counts are final
  return { ...s, lineCount: table.length + 3 };
}

test("plugin metrics: names, values and labels after a feed with a bad line and an unresolvable endpoint", async () => {
  const s = await fed();
  const text = await s.metrics.registry.metrics();
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
  const prefixes = s.lines.topo.prefixes.length;
  for (const line of [
    `# TYPE lsprobe_plugin_peer_up gauge`,
    `lsprobe_plugin_peer_up{peer="127.0.0.1"} 1`,
    `lsprobe_plugin_peer_up{peer="198.51.100.2"} 0`,
    `lsprobe_plugin_peer_state{peer="127.0.0.1",state="connected"} 0`,
    `lsprobe_plugin_peer_state{peer="127.0.0.1",state="up"} 1`,
    `lsprobe_plugin_peer_state{peer="127.0.0.1",state="down"} 0`,
    `lsprobe_plugin_peer_state{peer="127.0.0.1",state="other"} 0`,
    `lsprobe_plugin_peer_state{peer="198.51.100.2",state="down"} 1`,
    `lsprobe_plugin_peer_state{peer="198.51.100.2",state="up"} 0`,
    `lsprobe_plugin_lsdb_objects{kind="node"} 6`,
    `lsprobe_plugin_lsdb_objects{kind="link"} 16`,
    `lsprobe_plugin_lsdb_objects{kind="prefix"} ${prefixes}`,
    `lsprobe_plugin_links_invalid 0`,
    `# TYPE lsprobe_plugin_lines_total counter`,
    `lsprobe_plugin_lines_total ${s.lineCount}`,
    `# TYPE lsprobe_plugin_malformed_lines_total counter`,
    `lsprobe_plugin_malformed_lines_total{reason="invalid_json"} 1`,
    `lsprobe_plugin_malformed_lines_total{reason="too_long"} 0`,
    `lsprobe_plugin_malformed_lines_total{reason="not_object"} 0`,
    `lsprobe_plugin_malformed_lines_total{reason="bad_shape"} 0`,
    `lsprobe_plugin_malformed_lines_total{reason="internal"} 0`,
    `lsprobe_plugin_repaired_lines_total 0`,
    `lsprobe_plugin_nlri_skipped_total{kind="bad-nlri"} 0`,
    `# TYPE lsprobe_plugin_recompute_duration_seconds histogram`,
    `lsprobe_plugin_recompute_duration_seconds_bucket{le="+Inf"} ${s.engine.stats.recomputes}`,
    `lsprobe_plugin_recompute_duration_seconds_count ${s.engine.stats.recomputes}`,
    `lsprobe_plugin_pathset_generation 1`,
    `lsprobe_plugin_pathset_age_seconds 42`,
    `lsprobe_plugin_paths 8`,
    `lsprobe_plugin_pairs_unresolved 2`,
    `lsprobe_plugin_endpoint_resolved{endpoint="r1"} 1`,
    `lsprobe_plugin_endpoint_resolved{endpoint="r6"} 1`,
    `lsprobe_plugin_endpoint_resolved{endpoint="r9"} 0`,
    `# TYPE lsprobe_plugin_output_errors_total counter`,
    `lsprobe_plugin_output_errors_total{output="file"} 0`,
    `lsprobe_plugin_output_errors_total{output="socket"} 3`,
    `lsprobe_plugin_output_ok{output="file"} 1`,
    `lsprobe_plugin_output_ok{output="socket"} 0`,
    `lsprobe_plugin_socket_subscribers 2`,
    `lsprobe_plugin_configured 1`,
    `lsprobe_config_last_reload_successful 1`,
    `lsprobe_plugin_internal_errors_total 0`,
    `lsprobe_build_info{version="${pkg.version}",`,
  ]) assert.ok(text.includes(line + (line.endsWith(",") ? "" : "\n")), `missing: ${line}`);
  assert.ok(s.engine.stats.recomputes >= 1);
  assert.match(text, /^process_cpu_seconds_total /m, "default process metrics");
  assert.doesNotMatch(text, /^nodejs_active_handles_total/m, "the _total gauges of the defaults are dropped");
  assert.match(text, /^nodejs_active_handles\{/m);
  // Only counters end in _total; every lsprobe name has the plugin prefix but the shared two.
  for (const [, name, type] of text.matchAll(/^# TYPE (lsprobe_\S+) (\S+)$/gm)) {
    assert.equal(name.endsWith("_total"), type === "counter", name);
    assert.ok(name.startsWith("lsprobe_plugin_") || name === "lsprobe_config_last_reload_successful" || name === "lsprobe_build_info", name);
  }
  // Reload failure, an internal error the shell counted itself.
  s.view.ok = false;
  s.engine.stats.malformed++;
  const after = await s.metrics.registry.metrics();
  assert.ok(after.includes(`lsprobe_config_last_reload_successful 0\n`));
  assert.ok(after.includes(`lsprobe_plugin_malformed_lines_total{reason="internal"} 1\n`));
});

test("plugin metrics: before any data, path set, age and unresolved pairs are NaN, no endpoint or peer series; recompute histogram at zero", async () => {
  const s = setup();
  const text = await s.metrics.registry.metrics();
  for (const name of ["lsprobe_plugin_pathset_age_seconds", "lsprobe_plugin_paths", "lsprobe_plugin_pairs_unresolved"]) assert.match(text, new RegExp(`^${name} NaN$`, "mi"), name); // prom-client writes Nan
  for (const name of ["lsprobe_plugin_endpoint_resolved", "lsprobe_plugin_peer_up", "lsprobe_plugin_peer_state"]) assert.doesNotMatch(text, new RegExp(`^${name}[ {]`, "m"), name);
  assert.ok(text.includes("lsprobe_plugin_recompute_duration_seconds_count 0\n"));
  assert.ok(text.includes("lsprobe_plugin_pathset_generation 0\n"));
  await s.engine.close();
});

test("promtool check metrics: the plugin's whole /metrics is clean", { skip: SKIP_NO_PROMTOOL }, async () => {
  const s = await fed();
  const r = checkMetrics(await s.metrics.registry.metrics());
  assert.deepEqual(r, { status: 0, output: "" });
});

test("plugin /healthz: 200 ok when configured and every output works, else 503 with each reason", async () => {
  const s = await fed();
  const h = await listen("127.0.0.1:0", { program: "lsprobe-plugin", routes: s.metrics.routes() });
  try {
    const get = async (p: string) => {
      const r = await fetch(`http://127.0.0.1:${h.port}${p}`);
      return [r.status, await r.text()] as const;
    };
    assert.deepEqual(await get("/healthz"), [503, "output socket /run/lsprobe/paths.sock failing: cannot listen on /run/lsprobe/paths.sock: permission denied (EACCES)\n"]);
    s.outputs[1] = { ...s.outputs[1], ok: true, lastError: undefined };
    assert.deepEqual(await get("/healthz"), [200, "ok\n"]);
    const m = await get("/metrics");
    assert.equal(m[0], 200);
    assert.match(m[1], /^lsprobe_plugin_output_ok\{output="socket"\} 1$/m);
  } finally {
    await h.close();
  }
  const idle = new Engine({ query: null, metric: "igp", debounceMs: 0, staleTimeoutMs: 1000, routeRefresh: false, generation: 0, sliceMs: 0 }, { log: createLogger({ name: "t", level: "error" }), command: () => {}, publish: async () => {}, now: () => new Date() });
  const m = new PluginMetrics({ engine: idle, outputs: () => [{ output: "file", path: "/x/paths.json", ok: false, errors: 1, lastError: "ENOSPC" }], subscribers: () => 0, configOk: () => false });
  assert.deepEqual(m.problems(), ["no valid configuration: waiting for one (fix the file; it is re-read when it changes, or on SIGHUP)", "output file /x/paths.json failing: ENOSPC"]);
  assert.match(await m.registry.metrics(), /^lsprobe_plugin_configured 0$/m);
  m.close();
});

test("endpoint resolution: logged at warn when it first fails, at info when it resolves again, once per transition", async () => {
  const s = setup();
  await s.feed(...s.lines.fullTable());
  assert.deepEqual(s.warnings("r9"), ['warn endpoint r9 unresolved: "r9" matches no node (by name, router id, address or prefix); no path to or from it until it resolves']);
  // Recomputed again (nothing changed, then a metric change): no repeat.
  await s.feed(s.lines.eor());
  await s.feed(s.lines.announceLink({ ...s.lines.link("r1", "r2"), metric: 20 }));
  assert.equal(s.warnings("r9").length, 1);
  assert.deepEqual(s.warnings("r6"), []);
  // r6's node NLRI withdrawn: no node is named r6 any more.
  const r6 = s.lines.topo.routers.find((r) => r.name === "r6")!;
  await s.feed(s.lines.withdrawNode(r6));
  await s.feed(s.lines.eor());
  assert.deepEqual(s.warnings("r6"), ['warn endpoint r6 unresolved: "r6" matches no node (by name, router id, address or prefix); no path to or from it until it resolves']);
  assert.deepEqual(s.engine.endpoints(), [
    { endpoint: "r1", resolved: true, node: "r1" },
    { endpoint: "r6", resolved: false, reason: '"r6" matches no node (by name, router id, address or prefix)' },
    { endpoint: "r9", resolved: false, reason: '"r9" matches no node (by name, router id, address or prefix)' },
  ]);
  assert.equal(s.engine.unresolvedPairs(), 4);
  await s.feed(s.lines.announceNode(r6));
  assert.deepEqual(s.warnings("r6").slice(1), ["info endpoint r6 resolves again, to node r6"]);
  await s.feed(s.lines.eor());
  assert.equal(s.warnings("r6").length, 2);
  assert.equal(s.engine.unresolvedPairs(), 2);
  await s.engine.close();
});

test("decodeLine: each malformed line has one category of the closed set", () => {
  const cases: Record<string, [string, (typeof MALFORMED_REASONS)[number]]> = {
    "too long": ["{" + " ".repeat(MAX_LINE), "too_long"],
    "invalid JSON": ["{ nope", "invalid_json"],
    "two values": ["{}{}", "invalid_json"],
    "no message type": ['{"exabgp": "4.2.21"}', "bad_shape"],
    "update without neighbor": ['{"exabgp": "4.2.21", "type": "update"}', "bad_shape"],
    "state without state": ['{"type": "state", "neighbor": {"address": {"peer": "192.0.2.1"}}}', "bad_shape"],
    "update without message": ['{"type": "update", "neighbor": {"address": {"peer": "192.0.2.1"}}}', "bad_shape"],
  };
  for (const [name, [line, category]] of Object.entries(cases)) {
    const r = decodeLine(line);
    assert.equal(r.ok, false, name);
    if (!r.ok) assert.equal(r.category, category, name);
  }
});
