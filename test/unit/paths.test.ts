// Path objects: GRE hop choice, probeability, pseudonode merging, stable ids, pairs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildPathSetSteps, directedPairs, pathsDigest } from "../../plugin/paths.js";
import { drain } from "../../plugin/slice.js";
import { coverPaths } from "../../plugin/cover.js";
import { graphFromEdges, node } from "../util/edgelist.js";
import type { Topology } from "../../plugin/topology.js";

const build = (topo: Topology, pairs: Array<[string, string]>, mode: "all" | "cover" = "all", cap = 64) =>
  drain(buildPathSetSteps(topo, { pairs, mode, maxPerPair: cap }, { peers: ["p"], stale: false, prefixes: 0 }));

test("paths: GRE hop is the far-end interface address, else TE router id, else loopback, else unprobeable", () => {
  const topo = graphFromEdges(
    ["a", node("b", { teRouterIds: ["198.19.0.2"] }), node("c", { loopbacks: ["198.19.0.3"] }), "d"],
    [
      { src: "a", dst: "b", metric: 1 }, // unnumbered, b has a TE router id
      { src: "b", dst: "c", metric: 1 }, // unnumbered, c has a loopback
      { src: "c", dst: "d", metric: 1, localAddress: "198.18.0.4", remoteAddress: "198.18.0.5" },
    ],
  );
  const set = build(topo, directedPairs([["a", "d"]]));
  const p = set.paths.find((x) => x.src === "a")!;
  assert.equal(p.probeable, true);
  assert.deepEqual(p.gre, [
    { address: "198.19.0.2", source: "te-router-id", node: "b", target: "router" },
    { address: "198.19.0.3", source: "loopback", node: "c", target: "router" },
    { address: "198.18.0.5", source: "interface", node: "d", target: "interface" },
  ]);
  // d->c pins with c's address on c-d, c->b with b's TE id, but a has no address: no pinned way back.
  assert.deepEqual(p.greReverse, []);
  // Back from d: c's side of the c-d link is 198.18.0.4; b and a have no address for the way back to a.
  const back = set.paths.find((x) => x.src === "d")!;
  assert.equal(back.probeable, false);
  assert.match(back.unprobeableReason!, /no IPv4 address for hop b->a/);
  assert.deepEqual(back.gre, []);
});

test("paths: a pseudonode is crossed but is not a hop; its two halves are one LAN link", () => {
  const lan = node("lan", { pseudo: true });
  const topo = graphFromEdges(
    ["a", lan, "b"],
    [
      { src: "a", dst: "lan", metric: 10, localAddress: "198.18.1.1" },
      { src: "lan", dst: "b", metric: 0, remoteAddress: "198.18.1.2" },
    ],
  );
  const p = build(topo, [["a", "b"]]).paths.find((x) => x.src === "a")!;
  assert.deepEqual(p.hops.map((h) => h.name), ["a", "b"]);
  assert.equal(p.links.length, 1);
  assert.equal(p.links[0].lan, "lan");
  assert.equal(p.links[0].metric, 10);
  assert.equal(p.gre[0].address, "198.18.1.2");
});

test("paths: ids are stable across recomputation and differ for parallel links", () => {
  const mk = () =>
    graphFromEdges(["a", "b"], [
      { src: "a", dst: "b", metric: 1, localAddress: "198.18.0.0", remoteAddress: "198.18.0.1" },
      { src: "a", dst: "b", metric: 1, localAddress: "198.18.0.2", remoteAddress: "198.18.0.3" },
    ]);
  const s1 = build(mk(), [["a", "b"]]);
  const s2 = build(mk(), [["a", "b"]]);
  assert.deepEqual(s1.paths.map((p) => p.id), s2.paths.map((p) => p.id));
  assert.equal(new Set(s1.paths.map((p) => p.id)).size, 2);
  assert.equal(pathsDigest(s1), pathsDigest(s2));
});

test("paths: unnumbered parallel links cannot be pinned (the layer goes to the router): one path naming both", () => {
  const topo = graphFromEdges([node("a", { teRouterIds: ["198.19.0.1"] }), node("b", { teRouterIds: ["198.19.0.2"] })], [{ src: "a", dst: "b", metric: 1 }, { src: "a", dst: "b", metric: 1 }]);
  const set = build(topo, [["a", "b"]]);
  assert.equal(set.paths.length, 1);
  assert.deepEqual(set.paths[0].links[0].parallel, ["a>b#0", "a>b#1"]);
  assert.deepEqual(set.paths[0].gre, [{ address: "198.19.0.2", source: "te-router-id", node: "b", target: "router" }]);
  assert.equal(set.pairs[0].count, 2);
});

test("paths: the cap truncates and says so", () => {
  const topo = graphFromEdges(["a", "b", "c", "d"], [
    { src: "a", dst: "b", metric: 1 }, { src: "b", dst: "d", metric: 1 }, { src: "a", dst: "c", metric: 1 }, { src: "c", dst: "d", metric: 1 },
  ]);
  const set = build(topo, [["a", "d"]], "all", 1);
  assert.deepEqual(set.pairs[0], { src: "a", dst: "d", family: "ipv4", cost: 2, count: 2, paths: [set.paths[0].id], truncated: true, ecmpLinks: 2 });
});

test("paths: directed pairs from pairs and groups, without repeats", () => {
  assert.deepEqual(directedPairs([["a", "b"]], [["a", "b", "c"]]), [["a", "b"], ["b", "a"], ["a", "c"], ["b", "c"], ["c", "a"], ["c", "b"]]);
});

const covers: Record<string, { paths: string[][]; want: number[] }> = {
  "every path needed (NANOG-like mesh)": { paths: [["1", "3", "7"], ["1", "4", "8"], ["2", "5", "7"], ["2", "6", "8"]], want: [0, 1, 2, 3] },
  "shared segments: two of three": { paths: [["a", "b", "c"], ["a", "x", "c"], ["d", "b", "e"], ["d", "x", "e"]], want: [0, 3] },
  "one path covers all": { paths: [["a", "b"], ["a"], ["b"]], want: [0] },
  empty: { paths: [], want: [] },
};
for (const [name, c] of Object.entries(covers)) {
  test(`cover: ${name}`, () => {
    const got = coverPaths(c.paths);
    assert.deepEqual([...got].sort((x, y) => x - y), c.want);
    assert.deepEqual(new Set(got.flatMap((i) => c.paths[i])), new Set(c.paths.flat()));
  });
}

test("paths: mode plan keeps the paths the probe plan chooses, with rates, and reports what cannot be told apart", () => {
  // A ladder: a1..a3 over b1..b3 with rungs; from a1 to b3 several equal-cost paths share segments.
  const nodes = ["a1", "a2", "a3", "b1", "b2", "b3"];
  const edges = [
    { src: "a1", dst: "a2", metric: 1 }, { src: "a2", dst: "a3", metric: 1 }, { src: "b1", dst: "b2", metric: 1 }, { src: "b2", dst: "b3", metric: 1 },
    { src: "a1", dst: "b1", metric: 1 }, { src: "a2", dst: "b2", metric: 1 }, { src: "a3", dst: "b3", metric: 1 },
  ];
  const pairs = directedPairs([["a1", "b3"]]);
  const all = build(graphFromEdges(nodes, edges), pairs);
  const planned = drain(
    buildPathSetSteps(graphFromEdges(nodes, edges), { pairs, mode: "plan", maxPerPair: 64, plan: { budgetPps: 40, alpha: 1, beta: 1 } }, { peers: ["p"], stale: false, prefixes: 0 }),
  );
  assert.ok(planned.plan, "the plan is part of the path set");
  assert.equal(planned.plan!.candidates, all.paths.length);
  assert.equal(planned.plan!.chosen, planned.paths.length);
  assert.ok(planned.paths.length < all.paths.length, `${planned.paths.length} of ${all.paths.length} paths`);
  const rateSum = planned.paths.reduce((s, p) => s + (p.rate ?? 0), 0);
  assert.ok(rateSum <= 40 + 1e-9 && rateSum > 0, `rates add up to the budget: ${rateSum}`);
  for (const pr of planned.pairs) for (const id of pr.paths) assert.ok(planned.paths.some((p) => p.id === id));
  // Out and back, a link's two directions are always crossed together: reported as such.
  assert.ok(planned.plan!.unidentifiable.some((u) => u.cause === "same-paths" && u.links.length === 2 && u.links[0].from === u.links[1].to));
  // Every link of the ECMP set is still crossed by a chosen path.
  const crossed = new Set(planned.paths.flatMap((p) => p.links.map((l) => l.id)));
  for (const p of all.paths) for (const l of p.links) assert.ok(crossed.has(l.id) || planned.paths.some((q) => q.links.some((m) => m.from === l.to && m.to === l.from)), l.id);
});
