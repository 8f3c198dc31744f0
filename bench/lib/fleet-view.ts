// bench/lib/fleet-view: the one view (plugin/view/view.ts, OneView) over simulated probers'
// counts for bench/fleet: each prober's GET /v1/counts report (shared/counts.ts, rows of
// cumulative done/lost per path) served on 127.0.0.1 by this process, pulled by the view's own
// fetchCounts each round, then its union and inference. Not a bench.
import { monitorEventLoopDelay } from "node:perf_hooks";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync, gzipSync } from "node:zlib";
import type { PathObservation } from "../../prober/inference.js";
import { COUNTS_SCHEMA, COUNTS_VERSION, type CountsReport } from "../../shared/counts.js";
import type { PathSet } from "../../shared/pathset.js";
import { OneView } from "../../plugin/view/view.js";
import type { ViewResult } from "../../plugin/view/infer.js";
import { linkIndex, streamsOf, type Round } from "../../plugin/view/union.js";
import { inferView } from "../../plugin/view/infer.js";
import { createLogger } from "../../shared/log.js";
import type { Fleet } from "./fleet-obs.js";
import { pathSetOf } from "./benchset.js";

/** The plugin's set as the view reads it: every prober's paths. */
export function fleetSet(fleet: Fleet): PathSet {
  return pathSetOf(fleet.paths.map((p) => p.path), ["ipv4"], { digest: "bench-fleet", nodes: fleet.nodes, links: fleet.links });
}

const NONCE = 0x5eed;
const gunzip = (b: Buffer): string => gunzipSync(b).toString("utf8");
/** The view logs its suspects as they change; the bench reads them from the result instead. */
const quiet = createLogger({ name: "bench-fleet-view", level: "error", stream: { write: () => true } });

/** Each prober's report of the cumulative counts `obs` (index-aligned with fleet.paths), gzipped as a prober serves it. */
function reports(fleet: Fleet, obs: readonly PathObservation[], probers: readonly number[]): Map<number, Buffer> {
  const rows = new Map<number, CountsReport["paths"]>(probers.map((k) => [k, []]));
  fleet.paths.forEach((p, i) => rows.get(p.prober)?.push([p.path.id, "ipv4", "default", obs[i].sent, obs[i].lost]));
  const out = new Map<number, Buffer>();
  for (const [k, paths] of rows) {
    const r: CountsReport = { schema: COUNTS_SCHEMA, version: COUNTS_VERSION, prober: `fleet-${k}`, nonce: NONCE + k, generation: 1, time: Date.now(), paths, oneway: [], incoming: [] };
    out.set(k, gzipSync(JSON.stringify(r)));
  }
  return out;
}

export interface ViewRound {
  /** OneView.round(): pulls over loopback, union, inference. */
  roundMs: number;
  /** The same rounds' union and inference alone (streamsOf + inferView, as round() calls them). */
  inferMs: number;
  /** The longest the event loop was held during round() (the main thread's share: pulls, union,
   *  the copy to the inference worker; the inference itself runs in the worker). */
  stallMs: number;
  streams: number;
  result: ViewResult;
}

/**
 * A OneView over `probers` (indices into fleet.probers), one window a round: `windows` are the
 * cumulative counts at the end of each (windows[0] the start). Round 0 only seeds the window.
 */
export async function runView(fleet: Fleet, probers: readonly number[], windows: readonly PathObservation[][], windowMs: number, lossyAbove: number): Promise<ViewRound[]> {
  let current = new Map<number, Buffer>();
  const server = http.createServer((req, res) => {
    const k = Number(/^\/counts\/(\d+)$/.exec(req.url ?? "")?.[1]);
    const body = current.get(k);
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "content-length": body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const set = fleetSet(fleet);
  let clock = 0;
  const view = new OneView(
    { interval: windowMs, window: windowMs, timeout: 10_000, lossyAbove },
    { set: () => set, probers: () => probers.map((k) => ({ id: `fleet-${k}`, counts: `http://127.0.0.1:${port}/counts/${k}` })) },
    () => quiet,
    undefined,
    () => clock,
  );
  const ix = linkIndex(set);
  const out: ViewRound[] = [];
  let prev: Round | undefined;
  try {
    for (let w = 0; w < windows.length; w++) {
      current = reports(fleet, windows[w], probers);
      clock = w * windowMs;
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      const t0 = performance.now();
      const result = await view.round();
      const roundMs = performance.now() - t0;
      loop.disable();
      const stallMs = loop.max / 1e6;
      // The union and inference alone, on the same two reports per prober.
      const now: Round = { time: clock, reports: new Map(probers.map((k) => [`fleet-${k}`, JSON.parse(gunzip(current.get(k)!)) as CountsReport])) };
      if (prev && result) {
        const t1 = performance.now();
        const streams = streamsOf(ix, [prev, now], windowMs);
        inferView(streams, ix.ends, { suspectAbove: lossyAbove });
        out.push({ roundMs, inferMs: performance.now() - t1, stallMs, streams: streams.length, result });
      }
      prev = now;
    }
  } finally {
    view.close();
    server.close();
  }
  return out;
}
