// The shipped monitoring/ configuration, adapted to run in a test: each function reads the
// shipped file and substitutes only addresses, the site name and intervals (short, so a test
// sees alerts and notifications in seconds), so the rules, routes and inhibitions under test are
// the shipped ones. Used by test/lab/fleet-monitoring.test.ts and test/unit/monitoring.test.ts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { parse, stringify } from "yaml";
import { REPO_ROOT } from "./shared.js";

type Json = Record<string, any>;

export const PROM_DIR = path.join(REPO_ROOT, "monitoring/prometheus");
export const ALERTMANAGER_FILE = path.join(REPO_ROOT, "monitoring/alertmanager/alertmanager.yml");

const readYaml = (file: string): Json => parse(readFileSync(file, "utf8")) as Json;

/** site.yml for one site: its name (external label), its prober's address, the central server's URL; 1s scrapes and sends. */
export function siteConfig(site: string, prober: string, central: string): string {
  const doc = readYaml(path.join(PROM_DIR, "site.yml"));
  doc.global.scrape_interval = "1s";
  doc.global.external_labels.site = site;
  assert.equal(doc.remote_write.length, 1, "site.yml: one remote_write");
  doc.remote_write[0].url = `${central}/api/v1/write`;
  doc.remote_write[0].queue_config = { batch_send_deadline: "1s" };
  const job = (doc.scrape_configs as Json[]).find((j) => j.job_name === "lsprobe-prober");
  assert.ok(job, "site.yml: a scrape job lsprobe-prober");
  Object.assign(job, { scrape_interval: "1s", scrape_timeout: "1s", static_configs: [{ targets: [prober] }] });
  return stringify(doc);
}

/** central.yml: the rule files by absolute path, Alertmanager and the plugin at the given addresses; 1s evaluation and plugin scrapes. */
export function centralConfig(alertmanager: string, plugin: string): string {
  const doc = readYaml(path.join(PROM_DIR, "central.yml"));
  doc.global.evaluation_interval = "1s";
  doc.rule_files = (doc.rule_files as string[]).map((f) => path.join(PROM_DIR, f));
  doc.alerting.alertmanagers[0].static_configs[0].targets = [alertmanager];
  const job = (doc.scrape_configs as Json[]).find((j) => j.job_name === "lsprobe-plugin");
  assert.ok(job, "central.yml: a scrape job lsprobe-plugin");
  Object.assign(job, { scrape_interval: "1s", static_configs: [{ targets: [plugin] }] });
  return stringify(doc);
}

/**
 * alertmanager.yml with the email route, receiver and SMTP settings dropped (no mail relay in a
 * test), every webhook posting to `webhook`, and the routes' timers short (repeat_interval 1h:
 * no repeat within a test).
 */
export function alertmanagerConfig(webhook: string, timers: { groupWaitS: number; groupIntervalS: number }): string {
  const doc = readYaml(ALERTMANAGER_FILE);
  for (const k of Object.keys(doc.global ?? {})) if (k.startsWith("smtp_")) delete doc.global[k];
  doc.route.routes = (doc.route.routes as Json[]).filter((r) => r.receiver !== "lsprobe-email");
  for (const r of doc.route.routes as Json[]) Object.assign(r, { group_wait: `${timers.groupWaitS}s`, group_interval: `${timers.groupIntervalS}s`, repeat_interval: "1h" });
  doc.receivers = (doc.receivers as Json[]).filter((r) => r.name !== "lsprobe-email");
  for (const r of doc.receivers as Json[]) for (const w of r.webhook_configs ?? []) w.url = webhook;
  return stringify(doc);
}

/** A TCP port free on 127.0.0.1 now (for a server the test starts next). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
