// Alerting end to end, with the real thing: a gray failure on r2 -> r4 in the lab makes a real
// Prometheus (scraping the prober in h1, loading monitoring/'s rules) fire LsprobeLinkSuspect,
// and a real Alertmanager (monitoring/'s config, webhook route only, timers shortened) deliver
// it to a webhook receiver in the lab naming r2 and r4; the repair resolves it. Then every
// PromQL query of the Grafana dashboard and alert provisioning runs against that Prometheus.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { parse, stringify } from "yaml";
import { LabStack } from "./stack.js";
import { nanogLab } from "./netns.js";
import { exabgpPrograms, findExabgp } from "./exabgp.js";
import { grafanaExpressions } from "../util/grafana.js";
import { REPO_ROOT, SHARED_DIR } from "../util/shared.js";

const missing = ["/usr/bin/prometheus", "/usr/bin/prometheus-alertmanager"].filter((p) => !existsSync(p));
const skip =
  process.getuid?.() !== 0
    ? "needs root (network namespaces, raw sockets)"
    : findExabgp() === undefined
      ? "exabgp is not installed"
      : missing.length
        ? `not installed: ${missing.join(", ")} (Debian prometheus, prometheus-alertmanager)`
        : false;

interface WebhookAlert {
  /** The notification's group (Alertmanager's groupKey), copied onto each of its alerts. */
  groupKey: string;
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** monitoring/alertmanager/alertmanager.yml with the email route dropped (no mail relay in a lab) and timers for a test. */
function testAlertmanagerConfig(dir: string, webhook: string): string {
  const doc = parse(readFileSync(path.join(REPO_ROOT, "monitoring/alertmanager/alertmanager.yml"), "utf8")) as {
    global: Record<string, unknown>;
    route: { routes: Array<Record<string, unknown>> };
    receivers: Array<{ name: string; webhook_configs?: Array<{ url: string }> }>;
  };
  for (const k of Object.keys(doc.global)) if (k.startsWith("smtp_")) delete doc.global[k];
  doc.route.routes = doc.route.routes.filter((r) => r.receiver !== "lsprobe-email");
  for (const r of doc.route.routes) Object.assign(r, { group_wait: "1s", group_interval: "2s", repeat_interval: "1h" });
  doc.receivers = doc.receivers.filter((r) => r.name !== "lsprobe-email");
  for (const r of doc.receivers) for (const w of r.webhook_configs ?? []) w.url = webhook;
  const file = path.join(dir, "alertmanager.yml");
  writeFileSync(file, stringify(doc), { mode: 0o644 });
  return file;
}

// Under the newest ExaBGP only (5.0 beside this checkout, else 4.2): the alerting story is
// Prometheus's and Alertmanager's; localization runs under 4.2, and the plugin's decoding under
// both versions is exercised by the demo, IPv6 and SR lab tests.
for (const exabgp of exabgpPrograms(SHARED_DIR).slice(-1)) {
  test(`alerting (ExaBGP ${exabgp.version}): gray failure -> LsprobeLinkSuspect delivered naming r2 and r4; repair -> resolved; Grafana queries return series`, { skip, timeout: 300_000 }, async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-alerting-"));
    chmodSync(dir, 0o755);
    const logs: string[] = [];
    const stack = await LabStack.start(nanogLab(), {
      exabgp,
      onLog: (l) => logs.push(l),
      alerting: {
        ruleFiles: ["lsprobe-recording.rules.yml", "lsprobe-alerts.rules.yml"].map((f) => path.join(REPO_ROOT, "monitoring/prometheus", f)),
        alertmanagerConfig: testAlertmanagerConfig(dir, "http://127.0.0.1:9095/alerts"),
      },
    });
    t.after(async () => {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    assert.ok(stack.prometheusUrl, "Prometheus runs");

    // The webhook receiver: in h1 (Alertmanager's namespace), one JSON line per alert it is sent.
    const receiver = `require('http').createServer((q,s)=>{let b='';q.on('data',d=>b+=d);q.on('end',()=>{const n=JSON.parse(b);for(const a of n.alerts)process.stdout.write(JSON.stringify({...a,groupKey:n.groupKey})+'\\n');s.end('ok')})}).listen(9095,'127.0.0.1')`;
    const hook = stack.lab.spawnIn(stack.host.name, [process.execPath, "-e", receiver], { stdio: ["ignore", "pipe", "inherit"] });
    const delivered: WebhookAlert[] = [];
    createInterface({ input: hook.stdout! }).on("line", (l) => delivered.push(JSON.parse(l) as WebhookAlert));

    const linkAlert = (status: string): WebhookAlert | undefined =>
      delivered.find((a) => a.labels.alertname === "LsprobeLinkSuspect" && a.status === status && [a.labels.from, a.labels.to].sort().join() === "r2,r4");
    const wait = async (what: string, ok: () => unknown, ms: number): Promise<void> => {
      const end = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${JSON.stringify(delivered)}\n${logs.slice(-30).join("\n")}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };

    stack.gray("r2", "r4", 0.2);
    await wait("LsprobeLinkSuspect firing for r2-r4 at the webhook", () => linkAlert("firing"), 120_000);
    const fired = linkAlert("firing")!;
    assert.match(fired.annotations.summary, /^Link (r2 -> r4|r4 -> r2) is suspected/);
    assert.equal(fired.labels.severity, "critical");
    assert.ok(!delivered.some((a) => a.labels.alertname === "LsprobeLinkSuspect" && ![a.labels.from, a.labels.to].includes("r4")), "no other link blamed");
    // One notification group for the link, both directions together (edge r2-r4), whatever the paths across it.
    assert.equal(fired.labels.edge, "r2-r4");
    const groups = new Set(delivered.filter((a) => a.labels.alertname === "LsprobeLinkSuspect" && [a.labels.from, a.labels.to].sort().join() === "r2,r4").map((a) => a.groupKey));
    assert.equal(groups.size, 1, [...groups].join("\n"));
    assert.match([...groups][0], /edge="r2-r4"/);

    // Every Grafana query is valid PromQL against this Prometheus, and returns series.
    const query = async (expr: string): Promise<{ status: string; data?: { result: unknown[] }; error?: string }> => {
      const js = `fetch('http://127.0.0.1:9090/api/v1/query?query='+encodeURIComponent(process.argv[1])).then(r=>r.text()).then(t=>process.stdout.write(t))`;
      const r = await stack.lab.exec(stack.host.name, [process.execPath, "-e", js, expr]);
      return JSON.parse(r.stdout) as { status: string; data?: { result: unknown[] }; error?: string };
    };
    const exprs = grafanaExpressions();
    assert.ok(exprs.length > 10);
    for (const e of exprs) {
      const r = await query(e.expr);
      assert.equal(r.status, "success", `${e.source}: ${e.expr}: ${r.error}`);
      if (!e.mayBeEmpty) assert.ok((r.data?.result.length ?? 0) > 0, `${e.source}: no series for ${e.expr}`);
    }

    stack.clearFaults();
    await wait("LsprobeLinkSuspect resolved at the webhook", () => linkAlert("resolved"), 120_000);
  });
}
