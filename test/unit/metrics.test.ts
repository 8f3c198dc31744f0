// The /metrics text: names, types, labels, series created with the path and removed with it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProberMetrics, rttBuckets, type ProberState, type MetricEntry } from "../../prober/metrics.js";
import { PathTracker } from "../../prober/tracker.js";
import { RttHistogram } from "../../prober/rtthist.js";
import { buildInfo } from "../../shared/buildinfo.js";
import { checkMetrics, SKIP_NO_PROMTOOL } from "../util/promtool.js";

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
  return { key: id, labels: { path: id, src: "r1", dst: "r6", hops: "r1>r2>r4>r6", class: "default", af: "ipv4" }, tracker, rtt, lossRatio: () => 0.25 };
};

test("metrics: Prometheus names, units and labels; series follow the paths", async () => {
  const e = entry("p-1");
  const entries: MetricEntry[] = [e];
  const m = new ProberMetrics(state(entries));
  let text = await m.registry.metrics();
  const labels = 'path="p-1",src="r1",dst="r6",hops="r1>r2>r4>r6",class="default",af="ipv4"';
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
    `lsprobe_paths 1`,
    `lsprobe_pathset_generation 7`,
    `lsprobe_pathset_age_seconds 0`,
    `lsprobe_link_suspect{link="l-1",from="r2",to="r4",af="ipv4"} 1`,
    `lsprobe_link_loss_ratio{link="l-1",from="r2",to="r4",af="ipv4"} 0.03`,
    `lsprobe_link_identifiable{link="l-1",from="r2",to="r4",af="ipv4"} 0`,
    `lsprobe_plan_chosen_paths 4`,
    `lsprobe_plan_candidate_paths 8`,
    `lsprobe_plan_unidentifiable_link{link="l-2",from="r4",to="r2",af="ipv4",cause="same-paths"} 1`,
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
