// What both programs' Prometheus registries share: prom-client's default process and Node.js
// metrics, minus the ones `promtool check metrics` rejects, and the build info gauge.
import { collectDefaultMetrics, type Registry } from "prom-client";
import { registerBuildInfo } from "./buildinfo.js";

/**
 * Gauges of prom-client's defaults whose names end in `_total` (promtool: "non-counter metrics
 * should not have _total suffix"). Dropped, not renamed: each is the sum of the per-type gauge
 * beside it, e.g. `sum(nodejs_active_handles)`.
 */
export const DROPPED_DEFAULT_METRICS = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"] as const;

/** process_* and nodejs_* (prom-client's collectDefaultMetrics), lint-clean. */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
}

/** Process metrics and `lsprobe_build_info`: call once per registry. */
export function registerStandardMetrics(registry: Registry): void {
  registerProcessMetrics(registry);
  registerBuildInfo(registry);
}
