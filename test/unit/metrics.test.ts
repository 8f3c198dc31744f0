// The /metrics text: names, types, labels, series created with the path and removed with it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProberMetrics, rttBuckets, type ProberState, type MetricEntry } from "../../prober/metrics.js";
import { PathTracker } from "../../prober/tracker.js";
import { RttHistogram } from "../../prober/rtthist.js";
import { buildInfo } from "../../shared/buildinfo.js";
import { checkMetrics, SKIP_NO_PROMTOOL } from "../util/promtool.js";
import http from "node:http";
import { gunzipSync } from "node:zlib";
import { listen, metricsRoute } from "../../shared/http.js";

function state(entries: MetricEntry[]): ProberState {
  return {
    entries: () => entries,
    rejected: { malformed: 1, bad_mac: 2, unknown_path: 0, other_run: 0, duplicate: 0, replay: 0, expired: 0 },
    generation: () => 7,
    skipped: () => 0,
    replyDrops: () => 5,
    plan: () => ({ budgetPps: 100, alpha: 2, beta: 1, chosen: 4, candidates: 8, budgetLimited: false, unidentifiable: [{ links: [{ id: "l-1", from: "r2", to: "r4" }, { id: "l-2", from: "r4", to: "r2" }], cause: "same-paths", reason: "always crossed together" }] }),
    pathsetAge: () => 0,
    suspects: () => [{ link: "l-1", from: "r2", to: "r4", af: "ipv4", suspect: true, loss: 0.03, identifiable: false }],
  };
}

const entry = (id: string): MetricEntry & { key: string } => {
  const tracker = new PathTracker(0, { window: 64, timeoutNs: 1e9, finalNs: 2e9, downAfter: 3, upAfter: 1 });
  tracker.receive(tracker.send(0), 0.002e9);
  tracker.send(1);
  const rtt = new RttHistogram();
  rtt.observe(0.002);
  return { key: id, labels: { path: id, class: "default", af: "ipv4" }, info: { src: "r1", dst: "r6", hops: "r1>r2>r4>r6" }, tracker, rtt, lossRatio: () => 0.25 };
};

test("metrics: Prometheus names, units and labels; series follow the paths", async () => {
  const e = entry("p-1");
  const entries: MetricEntry[] = [e];
  const m = new ProberMetrics(state(entries));
  let text = await m.registry.metrics();
  const labels = 'path="p-1",class="default",af="ipv4"';
  for (const line of [
    `# TYPE lsprobe_probes_sent_total counter`,
    `lsprobe_probes_sent_total{${labels}} 2`,
    `lsprobe_probes_received_total{${labels}} 1`,
    `lsprobe_probes_lost_total{${labels}} 0`,
    `lsprobe_probes_late_total{${labels}} 0`,
    `lsprobe_probes_rejected_total{reason="bad_mac"} 2`,
    `lsprobe_probes_rejected_total{reason="malformed"} 1`,
    `# TYPE lsprobe_probe_rtt_seconds histogram`,
    `lsprobe_probe_rtt_seconds_bucket{le="0.0016",${labels}} 0`,
    `lsprobe_probe_rtt_seconds_bucket{le="0.0032",${labels}} 1`,
    `lsprobe_probe_rtt_seconds_bucket{le="+Inf",${labels}} 1`,
    `lsprobe_probe_rtt_seconds_sum{${labels}} 0.002`,
    `lsprobe_probe_rtt_seconds_count{${labels}} 1`,
    `lsprobe_path_up{${labels}} 1`,
    `lsprobe_path_loss_ratio{${labels}} 0.25`,
    `# TYPE lsprobe_path_info gauge`,
    `lsprobe_path_info{path="p-1",af="ipv4",src="r1",dst="r6",pair="r1>r6",hops="r1>r2>r4>r6"} 1`,
    `lsprobe_paths 1`,
    `lsprobe_paths_capped 0`,
    `lsprobe_paths_left_out 0`,
    `lsprobe_pathset_generation 7`,
    `lsprobe_pathset_age_seconds 0`,
    `lsprobe_link_suspect{link="l-1",from="r2",to="r4",edge="r2-r4",af="ipv4"} 1`,
    `lsprobe_link_loss_ratio{link="l-1",from="r2",to="r4",edge="r2-r4",af="ipv4"} 0.03`,
    `lsprobe_link_identifiable{link="l-1",from="r2",to="r4",edge="r2-r4",af="ipv4"} 0`,
    `lsprobe_plan_chosen_paths 4`,
    `lsprobe_plan_candidate_paths 8`,
    `lsprobe_plan_unidentifiable_link{link="l-2",from="r4",to="r2",edge="r2-r4",af="ipv4",cause="same-paths"} 1`,
  ]) assert.ok(text.includes(line), `missing: ${line}`);
  assert.match(text, /^process_cpu_seconds_total /m, "default process metrics");
  assert.ok(text.includes(`lsprobe_build_info{version="${buildInfo().version}",revision="${buildInfo().revision}",nodejs="${process.version}"} 1\n`), "build info");
  assert.doesNotMatch(text, /^nodejs_active_(handles|requests|resources)_total/m, "the _total gauges of the defaults are dropped");
  // Only counters end in _total.
  for (const [, name, type] of text.matchAll(/^# TYPE (lsprobe_\S+) (\S+)$/gm)) assert.equal(name.endsWith("_total"), type === "counter", name);

  entries.pop();
  text = await m.registry.metrics();
  assert.ok(!text.includes('path="p-1"'), "a removed path leaves no series");
});

test("metrics: RTT buckets start at 50 us and double", () => {
  const b = rttBuckets();
  assert.equal(b.length, 20);
  assert.equal(b[0], 50e-6);
  assert.equal(b[1], 100e-6);
  assert.ok(Math.abs(b[19] - 26.2144) < 1e-9);
});

test("promtool check metrics: the prober's whole /metrics is clean", { skip: SKIP_NO_PROMTOOL }, async () => {
  const m = new ProberMetrics(state([entry("p-1"), entry("p-2")]));
  assert.deepEqual(checkMetrics(await m.registry.metrics()), { status: 0, output: "" });
});

/** An entry of pair (src, dst) with `rtts` observed. */
const pathEntry = (id: string, src: string, dst: string, hops: string, rtts: number[], af = "ipv4", cls = "default"): MetricEntry => {
  const tracker = new PathTracker(0, { window: 64, timeoutNs: 1e9, finalNs: 2e9, downAfter: 3, upAfter: 1 });
  const rtt = new RttHistogram();
  for (const x of rtts) rtt.observe(x);
  return { labels: { path: id, class: cls, af }, info: { src, dst, hops }, tracker, rtt, lossRatio: () => 0 };
};

test("metrics: per-path series carry path, class and af only; lsprobe_path_info one per (path, af) with src, dst, pair and hops", async () => {
  const entries = [pathEntry("p-1", "r1", "r6", "r1>r2>r4>r6", [0.001]), pathEntry("p-1", "r1", "r6", "r1>r2>r4>r6", [0.001], "ipv4", "gold"), pathEntry("p-1", "r1", "r6", "r1>r2>r4>r6", [], "ipv6")];
  const text = await new ProberMetrics(state(entries)).registry.metrics();
  for (const [, name, labels] of text.matchAll(/^(lsprobe_(?:probes_(?:sent|received|lost|unknown|late|out_of_order)_total|path_up|path_loss_ratio|path_rtt_last_seconds|probe_rtt_seconds_\w+))\{([^}]*)\}/gm))
    assert.doesNotMatch(labels, /\b(src|dst|hops)=/, `${name}{${labels}}`);
  const info = [...text.matchAll(/^lsprobe_path_info\{([^}]*)\} (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(info, ['path="p-1",af="ipv4",src="r1",dst="r6",pair="r1>r6",hops="r1>r2>r4>r6" 1', 'path="p-1",af="ipv6",src="r1",dst="r6",pair="r1>r6",hops="r1>r2>r4>r6" 1']);
});

test("metrics: prober.rtt-histogram per-path, per-pair (the pair's paths summed) and off", async () => {
  const entries = [
    pathEntry("p-1", "r1", "r6", "r1>r2>r4>r6", [0.001, 0.002]),
    pathEntry("p-2", "r1", "r6", "r1>r3>r5>r6", [0.004]),
    pathEntry("p-3", "r6", "r1", "r6>r4>r2>r1", [0.001]),
  ];
  let mode: "per-path" | "per-pair" | "off" = "per-path";
  const m = new ProberMetrics({ ...state(entries), rttHistogram: () => mode });
  const series = (text: string): string[] => [...text.matchAll(/^lsprobe_probe_rtt_seconds_(?:bucket|sum|count)\{[^}]*\}/gm)].map((x) => x[0]);
  let text = await m.registry.metrics();
  assert.equal(series(text).length, 3 * 23);
  assert.ok(text.includes('lsprobe_probe_rtt_seconds_count{path="p-2",class="default",af="ipv4"} 1\n'));

  mode = "per-pair";
  text = await m.registry.metrics();
  assert.equal(series(text).length, 2 * 23, "one histogram per (src, dst, class, af)");
  assert.ok(text.includes('lsprobe_probe_rtt_seconds_count{src="r1",dst="r6",class="default",af="ipv4"} 3\n'));
  assert.ok(text.includes('lsprobe_probe_rtt_seconds_sum{src="r1",dst="r6",class="default",af="ipv4"} 0.007\n'));
  assert.ok(text.includes('lsprobe_probe_rtt_seconds_bucket{le="0.0008",src="r1",dst="r6",class="default",af="ipv4"} 0\n'));
  assert.ok(text.includes('lsprobe_probe_rtt_seconds_bucket{le="0.0016",src="r1",dst="r6",class="default",af="ipv4"} 1\n'));
  assert.ok(text.includes('lsprobe_probe_rtt_seconds_bucket{le="0.0032",src="r1",dst="r6",class="default",af="ipv4"} 2\n'));
  assert.ok(text.includes('lsprobe_probe_rtt_seconds_bucket{le="0.0064",src="r1",dst="r6",class="default",af="ipv4"} 3\n'));
  assert.ok(text.includes('lsprobe_probe_rtt_seconds_count{src="r6",dst="r1",class="default",af="ipv4"} 1\n'));

  mode = "off";
  text = await m.registry.metrics();
  assert.equal(series(text).length, 0);
  assert.match(text, /^lsprobe_path_rtt_last_seconds\{path="p-1"/m, "the last RTT stays per path");
});

test("metrics: the prober's /metrics is gzipped when the scraper asks (shared/http.ts metricsRoute), and unzips to the same text", async () => {
  const entries = Array.from({ length: 200 }, (_, i) => pathEntry(`p-${i}`, `pe${i % 5}`, "r6", `pe${i % 5}>r2>r4>r6`, [0.001 * (1 + (i % 4))]));
  const m = new ProberMetrics(state(entries));
  const h = await listen("127.0.0.1:0", { program: "lsprobe-prober", routes: [metricsRoute(m.registry)] });
  try {
    const get = (headers: Record<string, string>): Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }> =>
      new Promise((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port: h.port, path: "/metrics", headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
          })
          .on("error", reject);
      });
    const plain = await get({});
    assert.equal(plain.headers["content-encoding"], undefined);
    const gz = await get({ "accept-encoding": "gzip" }); // Prometheus sends "gzip"
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.equal(gz.headers.vary, "Accept-Encoding");
    const text = gunzipSync(gz.body).toString();
    // The same series (process metrics' values move between two scrapes).
    const lsprobe = (t: string): string[] => t.split("\n").filter((l) => l.startsWith("lsprobe_") && !l.startsWith("lsprobe_build_info"));
    assert.deepEqual(lsprobe(text), lsprobe(plain.body.toString()));
    assert.ok(lsprobe(text).length > 200 * 30);
    assert.ok(gz.body.length * 5 < plain.body.length, `gzipped ${gz.body.length} bytes of ${plain.body.length}`);
  } finally {
    await h.close();
  }
});
