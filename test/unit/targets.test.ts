// plugin.paths.target: where each probe layer is addressed (interface or router), per router by
// name or pattern, and what router targets do to parallel links (one path per group of them,
// each hop saying which links it may take).
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildPathSetSteps, directedPairs, targetChooser, type PathQuery } from "../../plugin/paths.js";
import { drain } from "../../plugin/slice.js";
import { graphFromEdges, node } from "../util/edgelist.js";
import { parallelGroupId, parsePathSet, PATHSET_VERSION, type Path } from "../../shared/pathset.js";
import type { Topology } from "../../plugin/topology.js";
import type { TargetRule } from "../../shared/config.js";

const build = (topo: Topology, q: Partial<PathQuery> & { pairs: PathQuery["pairs"] }) =>
  drain(buildPathSetSteps(topo, { mode: "all", maxPerPair: 64, ...q }, { peers: ["p"], stale: false, prefixes: 0 }));

/** a - b - c - d, every link numbered; b has a TE router id, c only a /32, d nothing of its own. */
const chain = (): Topology =>
  graphFromEdges(
    ["a", node("b", { teRouterIds: ["198.19.0.2"], loopbacks: ["198.19.1.2"] }), node("c", { loopbacks: ["198.19.0.3"] }), node("d")],
    [
      { src: "a", dst: "b", metric: 1, localAddress: "198.18.0.0", remoteAddress: "198.18.0.1" },
      { src: "b", dst: "c", metric: 1, localAddress: "198.18.0.2", remoteAddress: "198.18.0.3" },
      { src: "c", dst: "d", metric: 1, localAddress: "198.18.0.4", remoteAddress: "198.18.0.5" },
    ],
  );

const layers = (p: Path, key: "gre" | "greReverse") => p[key].map((g) => `${g.node}:${g.address}:${g.source}:${g.target}`);

const resolution: Record<string, { q: Partial<PathQuery>; pair: [string, string]; gre?: string[]; back?: string[]; reason?: RegExp }> = {
  "interface (default): far-end interface addresses": {
    q: {},
    pair: ["a", "c"],
    gre: ["b:198.18.0.1:interface:interface", "c:198.18.0.3:interface:interface"],
    back: ["b:198.18.0.2:interface:interface", "a:198.18.0.0:interface:interface"],
  },
  "router: the TE router id first (b has a loopback too), else the /32 (c)": {
    q: { target: "router" },
    pair: ["a", "c"],
    gre: ["b:198.19.0.2:te-router-id:router", "c:198.19.0.3:loopback:router"],
    // a has no address of its own: no pinned way back (the path stays probeable, routed back).
    back: [],
  },
  "router: a router without TE router id or /32 makes the path unprobeable": {
    q: { target: "router" },
    pair: ["a", "d"],
    reason: /^no router address for hop c->d: d has target router \(plugin\.paths\.target\) and advertises no TE router id or \/32 prefix$/,
  },
  "per router: only c by name": {
    q: { targetPerRouter: [{ router: "c", target: "router" }] },
    pair: ["a", "d"],
    gre: ["b:198.18.0.1:interface:interface", "c:198.19.0.3:loopback:router", "d:198.18.0.5:interface:interface"],
    back: ["c:198.19.0.3:loopback:router", "b:198.18.0.2:interface:interface", "a:198.18.0.0:interface:interface"],
  },
  "per router: router for all but d, by pattern, the exact name first": {
    q: { target: "router", targetPerRouter: [{ router: "*", target: "router" }, { router: "d", target: "interface" }] },
    pair: ["b", "d"],
    gre: ["c:198.19.0.3:loopback:router", "d:198.18.0.5:interface:interface"],
    back: ["c:198.19.0.3:loopback:router", "b:198.19.0.2:te-router-id:router"],
  },
  "per router: only * is special ([bc] and ? are names), then the first matching pattern": {
    q: { target: "router", targetPerRouter: [{ router: "[bc]", target: "interface" }, { router: "?", target: "router" }, { router: "*", target: "interface" }] },
    pair: ["a", "c"],
    gre: ["b:198.18.0.1:interface:interface", "c:198.18.0.3:interface:interface"],
    back: ["b:198.18.0.2:interface:interface", "a:198.18.0.0:interface:interface"],
  },
};
for (const [name, c] of Object.entries(resolution)) {
  test(`targets: ${name}`, () => {
    const set = build(chain(), { pairs: [c.pair], ...c.q });
    assert.equal(set.version, PATHSET_VERSION);
    const p = set.paths[0];
    if (c.reason) {
      assert.equal(p.probeable, false);
      assert.match(p.unprobeableReason!, c.reason);
      assert.deepEqual(p.gre, []);
      return;
    }
    assert.equal(p.probeable, true);
    assert.deepEqual(layers(p, "gre"), c.gre);
    assert.deepEqual(layers(p, "greReverse"), c.back);
    assert.ok(p.links.every((l) => l.parallel === undefined), "no parallel links here");
    parsePathSet(JSON.parse(JSON.stringify({ ...set, generation: 1, time: "t" })));
  });
}

test("targets: targetChooser is the prober's matcher (exact names, then patterns in order, else the default)", () => {
  const rules: TargetRule[] = [{ router: "edge-*", target: "router" }, { router: "edge-7", target: "interface" }, { router: "*-x", target: "interface" }];
  const t = targetChooser({ target: "interface", targetPerRouter: rules });
  assert.deepEqual(["edge-1", "edge-7", "edge-x", "core-x", "core"].map(t), ["router", "interface", "router", "interface", "interface"]);
  assert.equal(targetChooser({})("anything"), "interface");
});

/** a = b (two parallel links, metric 1), b - c; an unequal third a-b link of metric 5 is no parallel. */
const parallel = (): Topology =>
  graphFromEdges(
    [node("a", { teRouterIds: ["198.19.0.1"] }), node("b", { teRouterIds: ["198.19.0.2"] }), node("c", { teRouterIds: ["198.19.0.3"] })],
    [
      { src: "a", dst: "b", metric: 1, localAddress: "198.18.0.0", remoteAddress: "198.18.0.1" },
      { src: "a", dst: "b", metric: 1, localAddress: "198.18.0.2", remoteAddress: "198.18.0.3" },
      { src: "a", dst: "b", metric: 5, localAddress: "198.18.0.8", remoteAddress: "198.18.0.9" },
      { src: "b", dst: "c", metric: 1, localAddress: "198.18.0.4", remoteAddress: "198.18.0.5" },
    ],
  );

test("targets, parallel links: interface targets pin each (two paths), router targets give one path naming both", () => {
  const iface = build(parallel(), { pairs: [["a", "c"]] });
  assert.equal(iface.paths.length, 2);
  assert.deepEqual(iface.paths.map((p) => p.links[0].id), ["a>b#0", "a>b#1"]);
  assert.ok(iface.paths.every((p) => p.links.every((l) => l.parallel === undefined)));

  const router = build(parallel(), { pairs: directedPairs([["a", "c"]]), target: "router" });
  assert.equal(router.paths.length, 2);
  const p = router.paths[0];
  assert.deepEqual(p.links.map((l) => l.parallel), [["a>b#0", "a>b#1"], undefined]);
  assert.deepEqual(layers(p, "gre"), ["b:198.19.0.2:te-router-id:router", "c:198.19.0.3:te-router-id:router"]);
  assert.deepEqual(layers(p, "greReverse"), ["b:198.19.0.2:te-router-id:router", "a:198.19.0.1:te-router-id:router"]);
  // Its id is over the group: neither of the interface paths' ids.
  assert.ok(!iface.paths.some((q) => q.id === p.id));
  // The pair still counts every equal-cost path and every link of them.
  assert.deepEqual({ count: router.pairs[0].count, paths: router.pairs[0].paths, ecmpLinks: router.pairs[0].ecmpLinks }, { count: 2, paths: [p.id], ecmpLinks: 3 });
  // The way back is grouped the same way, in its own path.
  const back = router.paths.filter((x) => x.src === "c");
  assert.equal(back.length, 1);
  assert.deepEqual(back[0].links.map((l) => l.parallel), [undefined, ["b>a#0", "b>a#1"]]);
  assert.equal(parallelGroupId(p.links[0].parallel!), "a>b#0|a>b#1");
  // Stable: the same ids when computed again.
  assert.deepEqual(build(parallel(), { pairs: directedPairs([["a", "c"]]), target: "router" }).paths.map((x) => x.id), router.paths.map((x) => x.id));
});

test("targets, parallel links: router target into b, interface back into a: two paths (the way back pins), each naming the forward group", () => {
  const set = build(parallel(), { pairs: [["a", "c"]], target: "interface", targetPerRouter: [{ router: "b", target: "router" }] });
  const out = set.paths.filter((p) => p.src === "a");
  assert.equal(out.length, 2);
  assert.equal(new Set(out.map((p) => p.id)).size, 2);
  for (const p of out) {
    assert.deepEqual(p.links[0].parallel, ["a>b#0", "a>b#1"]);
    assert.equal(p.gre[0].target, "router");
    assert.equal(p.greReverse[1].target, "interface");
    assert.equal(p.greReverse[1].address, p.links[0].localAddress);
  }
});

test("targets, parallel links: mode cover keeps the one grouped path; mode plan sees the group as one link", () => {
  const cover = build(parallel(), { pairs: directedPairs([["a", "c"]]), mode: "cover", target: "router" });
  assert.equal(cover.paths.length, 2);
  const plan = build(parallel(), { pairs: directedPairs([["a", "c"]]), mode: "plan", target: "router", plan: { budgetPps: 100, alpha: 1, beta: 1 } });
  assert.equal(plan.plan!.candidates, 2);
  const named = plan.plan!.unidentifiable.flatMap((u) => u.links.map((l) => l.id));
  assert.ok(named.every((id) => !["a>b#0", "a>b#1"].includes(id)), `members never named alone: ${named.join(", ")}`);
  parsePathSet(JSON.parse(JSON.stringify({ ...plan, generation: 1, time: "t" })));
});
