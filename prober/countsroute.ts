// GET /v1/counts (issue 14, Must 3): the prober's cumulative per-path counts (shared/counts.ts),
// which the plugin's one view pulls every second from each live prober. Gzipped when the puller
// accepts it (shared/http.ts, as /metrics): 100,000 rows are a few MB of JSON, a tenth gzipped.
import type { Route } from "../shared/http.js";
import type { CountsReport } from "../shared/counts.js";

export const COUNTS_PATH = "/v1/counts";

export function countsRoute(report: () => CountsReport): Route {
  return {
    path: COUNTS_PATH,
    help: "JSON (shared/counts.ts): every probed path's counts since the prober started, out-and-back and one-way, for the plugin's one view; gzipped when asked",
    gzip: true,
    handler: () => ({ type: "application/json", body: JSON.stringify(report()) + "\n" }),
  };
}
