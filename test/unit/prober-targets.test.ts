// The prober and plugin.paths.target: it probes a version 1 path set (written by a plugin not
// yet upgraded) as before, and with router targets it sends each layer to the router's own
// address and blames parallel links as one group.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseConfig, type ProberConfig } from "../../shared/config.js";
import { buildPathSetSteps, directedPairs } from "../../plugin/paths.js";
import { drain } from "../../plugin/slice.js";
import { parsePathSet, type PathSet } from "../../shared/pathset.js";
import { graphFromEdges, node } from "../util/edgelist.js";
import { captureLog, greNetwork, oneProber } from "../util/simnet.js";

const SOURCE = "198.18.100.2";
const V1_FILE = new URL("../../../test/fixtures/pathset/nanog6-v1.json", import.meta.url);

function proberConfig(extra = ""): ProberConfig {
  return parseConfig(`plugin:\n  endpoints:\n    pairs: [[a, c]]\nprober:\n  source: ${SOURCE}\n  rate: 10\n  timeout: 200ms\n  loss-window: 2s\n  down-after: 2\n  up-after: 2\n${extra}`, "t.yaml").prober!;
}

/** Peels GRE layers; a layer addressed to a `broken` address is black-holed. Records every layer's destination. */
function harness(cfg: ProberConfig) {
  const broken = new Set<string>();
  const dsts = new Set<string>();
  const logs: string[] = [];
  const { prober, run } = oneProber(cfg, (deliver) => greNetwork({ broken, onLayer: (dst) => dsts.add(dst), deliver }), { log: captureLog(logs) });
  return { prober, broken, dsts, run, logs };
}

test("prober: a version 1 path set (a plugin not upgraded yet) is probed as before: eight paths up, no loss", () => {
  const set = parsePathSet(JSON.parse(readFileSync(V1_FILE, "utf8")), "paths.json");
  assert.equal(set.version, 1);
  const h = harness(proberConfig());
  const r = h.prober.setPathSet(set);
  assert.deepEqual(r.refused, []);
  assert.equal(r.added, 8);
  h.run(3);
  for (const e of h.prober.entries()) {
    assert.equal(e.tracker.up, true, String(e.info.hops));
    assert.equal(e.tracker.counters.lost, 0);
    assert.ok(e.links.every((l) => l.parallel === undefined));
  }
  // Every layer went to an interface address (198.18.0.0/16 in the fixture), as version 1 says.
  assert.ok([...h.dsts].every((a) => a.startsWith("198.18.")), [...h.dsts].join(", "));
});

/** a = b (two parallel links), b - c, and a - d - c: two routes a -> c, one over the parallel pair. */
function parallelSet(target: "interface" | "router"): PathSet {
  const topo = graphFromEdges(
    ["a", "b", "c", "d"].map((n, i) => node(n, { teRouterIds: [`198.19.0.${i + 1}`] })),
    [
      { src: "a", dst: "b", metric: 1, localAddress: "198.18.0.0", remoteAddress: "198.18.0.1" },
      { src: "a", dst: "b", metric: 1, localAddress: "198.18.0.2", remoteAddress: "198.18.0.3" },
      { src: "b", dst: "c", metric: 1, localAddress: "198.18.0.4", remoteAddress: "198.18.0.5" },
      { src: "a", dst: "d", metric: 1, localAddress: "198.18.0.6", remoteAddress: "198.18.0.7" },
      { src: "d", dst: "c", metric: 1, localAddress: "198.18.0.8", remoteAddress: "198.18.0.9" },
    ],
  );
  const body = drain(buildPathSetSteps(topo, { pairs: directedPairs([["a", "c"]]), mode: "all", maxPerPair: 64, target }, { peers: [], stale: false, prefixes: 0 }));
  return parsePathSet(JSON.parse(JSON.stringify({ ...body, generation: 1, time: "1970-01-01T00:00:00.000Z" })));
}

test("prober, router targets: layers go to the TE router ids; a dead b names the parallel pair as one group, never a member", () => {
  const set = parallelSet("router");
  const h = harness(proberConfig("  router: a\n"));
  assert.equal(h.prober.setPathSet(set).added, 2, "a -> c over b (the pair) and over d");
  h.run(2);
  assert.deepEqual([...h.dsts].sort(), ["198.19.0.1", "198.19.0.2", "198.19.0.3", "198.19.0.4"]);
  const viaB = [...h.prober.entries()].find((e) => e.info.hops === "a>b>c")!;
  assert.deepEqual(
    viaB.links.map((l) => [l.id, l.parallel ?? null]),
    [
      ["a>b#0|a>b#1", ["a>b#0", "a>b#1"]],
      ["b>c#2", null],
      ["c>b#2", null],
      ["b>a#0|b>a#1", ["b>a#0", "b>a#1"]],
    ],
  );
  h.broken.add("198.19.0.2");
  h.run(3);
  assert.equal(viaB.tracker.up, false);
  assert.equal([...h.prober.entries()].find((e) => e.info.hops === "a>d>c")!.tracker.up, true);
  const sus = h.prober.rankedSuspects();
  const names = sus.map((s) => s.link).sort();
  assert.deepEqual(names, ["a>b#0|a>b#1", "b>a#0|b>a#1", "b>c#2", "c>b#2"]);
  for (const s of sus) if (s.link.includes("|")) assert.deepEqual(s.parallel, s.link.split("|"));
  assert.ok(h.logs.some((l) => /link suspect/.test(l) && l.includes("parallel=a>b#0,a>b#1")), h.logs.join(""));
});

test("prober, interface targets on the same topology: each parallel link is its own path and element", () => {
  const set = parallelSet("interface");
  const h = harness(proberConfig("  router: a\n"));
  assert.equal(h.prober.setPathSet(set).added, 3);
  const links = [...h.prober.entries()].flatMap((e) => e.links);
  assert.ok(links.every((l) => l.parallel === undefined && !l.id.includes("|")));
  // Each way back is its own path's mirror (addresses swapped), not whichever came last.
  const over = (id: string) => [...h.prober.entries()].find((e) => e.links[0].id === id)!;
  assert.equal(over("a>b#0").links[3].id, "b>a#0");
  assert.equal(over("a>b#1").links[3].id, "b>a#1");
});
