// Endpoints by name, IGP router id, TE router id / loopback, prefix; and the TE metric.
import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveEndpoint } from "../../plugin/endpoints.js";
import { Engine } from "../../plugin/engine.js";
import { directedPairs } from "../../plugin/paths.js";
import { createLogger } from "../../shared/log.js";
import type { PathSet } from "../../shared/pathset.js";
import { drain } from "../../plugin/slice.js";
import { buildTopologySteps } from "../../plugin/topology.js";
import { ExabgpLines, lineTopology } from "../util/exabgp-lines.js";
import { readTopologyJson } from "../util/edgelist.js";

const t = readTopologyJson("nanog6.json");

function nanogEngine(metric: "igp" | "te" = "igp") {
  let set: PathSet | undefined;
  const engine = new Engine(
    { query: { pairs: directedPairs([["r1", "r6"]]), mode: "all", maxPerPair: 64 }, metric, debounceMs: 0, staleTimeoutMs: 1000, routeRefresh: false, generation: 0, sliceMs: 0 },
    { log: createLogger({ name: "t", level: "error", stream: { write: () => {} } }), command: () => {}, publish: async (s) => void (set = s), now: () => new Date(0) },
  );
  const lines = new ExabgpLines(lineTopology(t.nodes, t.edges));
  let n = 0;
  const feed = async (...ls: string[]): Promise<PathSet> => {
    for (const l of ls) engine.handleLine(l, ++n);
    await engine.recompute();
    return set!;
  };
  return { engine, lines, feed };
}

test("endpoints: name, IGP router id (dotted or not), TE router id, loopback prefix, address inside a prefix", async () => {
  const { engine, lines, feed } = nanogEngine();
  await feed(...lines.fullTable());
  const topo = drain(buildTopologySteps(engine.db.entries.values()));
  const r6 = [...topo.nodes.values()].find((n) => n.name === "r6")!;
  const cases: Record<string, string | RegExp> = {
    r6: r6.id,
    R6: r6.id,
    "1980.0000.0006": r6.id,
    "198000000006": r6.id,
    "198.19.0.6": r6.id,
    "198.19.0.6/32": r6.id,
    nowhere: /matches no node/,
    "10.9.9.9": /matches no node/,
  };
  for (const [spec, want] of Object.entries(cases)) {
    const r = resolveEndpoint(topo, spec);
    if (typeof want === "string") assert.deepEqual(r, { node: want }, spec);
    else assert.match("error" in r ? r.error : "", want, spec);
  }
});

test("metric te: the TE metric where advertised decides the best paths", async () => {
  const igp = nanogEngine("igp");
  const te = nanogEngine("te");
  const penalize = (x: ReturnType<typeof nanogEngine>) => x.lines.announceLink({ ...x.lines.link("r2", "r4"), teMetric: 100 });
  const a = await igp.feed(...igp.lines.fullTable(), penalize(igp));
  const b = await te.feed(...te.lines.fullTable(), penalize(te));
  const hops = (s: PathSet) => s.paths.filter((p) => p.src === "r1").map((p) => p.hops.map((h) => h.name).join("-"));
  assert.equal(hops(a).length, 4, "IGP metric unchanged: four paths");
  assert.deepEqual(hops(b), ["r1-r2-r5-r6", "r1-r3-r4-r6", "r1-r3-r5-r6"], "TE metric 100 on r2->r4 only: that path drops out");
});
