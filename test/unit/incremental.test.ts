// Incremental recomputation (plugin/incremental.ts, PathComputer): after each change the kept
// computer must publish exactly what a fresh computation publishes, and recompute only the
// pairs the change can affect.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildPathSetSteps, PathComputer, type PathQuery } from "../../plugin/paths.js";
import { drain } from "../../plugin/slice.js";
import { buildTopologySteps, type Graph, type TopoLink, type TopoNode } from "../../plugin/topology.js";
import { Lsdb } from "../../plugin/lsdb.js";
import { decodeLine } from "../../plugin/exabgp/decode.js";
import { ExabgpLines, lineTopology } from "../util/exabgp-lines.js";
import { graphFromEdges, node } from "../util/edgelist.js";
import { mulberry32 } from "../util/rng.js";

type Edge = { src: string; dst: string; metric: number; id: string };
const meta = { peers: ["p"], stale: false, prefixes: 0 };

function topo(nodes: TopoNode[], edges: Edge[]) {
  return graphFromEdges(nodes, edges as Array<Edge & Partial<TopoLink>>, false);
}

/** Both directions of an undirected link, with their own ids. */
const link = (a: string, b: string, metric: number, k: number): Edge[] => [
  { src: a, dst: b, metric, id: `${a}>${b}#${k}` },
  { src: b, dst: a, metric, id: `${b}>${a}#${k}` },
];

const rng = mulberry32;

test("incremental: a metric change recomputes only the pair whose paths cross the link", () => {
  const nodes = ["a", "b", "c", "d", "e"].map((n) => node(n));
  const edges = [...link("a", "b", 1, 0), ...link("b", "c", 1, 1), ...link("c", "d", 1, 2), ...link("d", "e", 1, 3)];
  const q: PathQuery = { pairs: [["a", "b"], ["b", "a"], ["d", "e"], ["e", "d"]], mode: "all", maxPerPair: 16 };
  const pc = new PathComputer(q);
  drain(pc.steps(topo(nodes, edges), meta));
  assert.equal(pc.lastRun.full, "first run");
  assert.equal(pc.lastRun.pairsRecomputed, 4);

  edges[0] = { ...edges[0], metric: 5 }; // a->b only
  const body = drain(pc.steps(topo(nodes, edges), meta));
  assert.equal(pc.lastRun.full, undefined);
  assert.equal(pc.lastRun.pairsRecomputed, 1, "only a->b");
  assert.equal(pc.lastRun.sourcesSpf, 1, "only a, whose pair changed, runs an SPF");
  assert.equal(body.pairs[0].cost, 5);
  assert.deepEqual(body, drain(buildPathSetSteps(topo(nodes, edges), q, meta)));

  // Nothing changed: nothing recomputed.
  drain(pc.steps(topo(nodes, edges), meta));
  assert.equal(pc.lastRun.pairsRecomputed, 0);
  assert.equal(pc.lastRun.sourcesSpf, 0);

  // A renamed node (same sort order) changes the hops of the pairs through it, and only those.
  const renamed = nodes.map((n) => (n.id === "e" ? node("e", { name: "ee" }) : n));
  drain(pc.steps(topo(renamed, edges), meta));
  assert.equal(pc.lastRun.pairsRecomputed, 2);
  assert.equal(pc.lastRun.sourcesSpf, 2, "d and e, to rebuild their pairs");
});

test("incremental: new nodes and overload flips recompute everything", () => {
  const nodes = ["a", "b", "c"].map((n) => node(n));
  const edges = [...link("a", "b", 1, 0), ...link("b", "c", 1, 1)];
  const q: PathQuery = { pairs: [["a", "c"], ["c", "a"]], mode: "all", maxPerPair: 16 };
  const pc = new PathComputer(q);
  drain(pc.steps(topo(nodes, edges), meta));
  drain(pc.steps(topo([...nodes, node("d")], edges), meta));
  assert.equal(pc.lastRun.full, "the nodes or their order (by name) changed");
  const over = [node("a"), node("b", { overload: true }), node("c"), node("d")];
  const body = drain(pc.steps(topo(over, edges), meta));
  assert.match(pc.lastRun.full ?? "", /overload bit of b/);
  assert.equal(body.pairs[0].cost, null, "b is no transit any more");
});

for (const [mode, maxMetric] of [["all", 3], ["cover", 3], ["plan", 3], ["all", 1]] as const) {
  test(`incremental: 60 random changes on random graphs give what a fresh computation gives (mode ${mode}, metrics 1..${maxMetric})`, () => {
    const r = rng(mode.length * 7919 + maxMetric);
    const metric = (): number => 1 + Math.floor(r() * maxMetric);
    const names = Array.from({ length: 24 }, (_, i) => `n${String(i).padStart(2, "0")}`);
    let nodes = names.map((n) => node(n, { teRouterIds: [`198.18.1.${names.indexOf(n) + 1}`] }));
    let edges: Edge[] = [];
    let k = 0;
    // A ring (connected) plus chords; small metrics so that ties, hence ECMP, are common
    // (all equal: the SPFs are BFSs until a metric change).
    for (let i = 0; i < names.length; i++) edges.push(...link(names[i], names[(i + 1) % names.length], metric(), k++));
    for (let i = 0; i < 24; i++) {
      const a = names[Math.floor(r() * names.length)];
      const b = names[Math.floor(r() * names.length)];
      if (a !== b) edges.push(...link(a, b, metric(), k++));
    }
    const ends = names.filter((_, i) => i % 3 === 0);
    const pairs: Array<[string, string]> = [];
    for (const a of ends) for (const b of ends) if (a !== b) pairs.push([a, b]);
    const q: PathQuery = { pairs, mode, maxPerPair: 8, plan: { budgetPps: 200, alpha: 1, beta: 1 } };
    const pc = new PathComputer(q);
    drain(pc.steps(topo(nodes, edges), meta));
    let recomputed = 0;
    let incremental = 0;
    for (let step = 0; step < 60; step++) {
      const pick = Math.floor(r() * edges.length);
      const what = Math.floor(r() * 6);
      if (what === 0) edges = edges.filter((_, i) => i !== pick && i !== (pick ^ 1)); // link down (both ways)
      else if (what === 1 && maxMetric > 1) edges[pick] = { ...edges[pick], metric: edges[pick].metric + 1 + Math.floor(r() * 2) };
      else if (what === 2 && maxMetric > 1) edges[pick] = { ...edges[pick], metric: Math.max(1, edges[pick].metric - 1 - Math.floor(r() * 2)) };
      else if (what <= 3) {
        const a = names[Math.floor(r() * names.length)];
        const b = names[Math.floor(r() * names.length)];
        if (a !== b) edges.push(...link(a, b, metric(), k++));
      } else if (what === 4) {
        const i = Math.floor(r() * nodes.length);
        nodes = nodes.map((n, j) => (j === i ? { ...n, teRouterIds: [`198.18.2.${step + 1}`] } : n));
      } else nodes = nodes.map((n, j) => (j === pick % nodes.length ? { ...n, overload: !n.overload } : n));
      const kept = drain(pc.steps(topo(nodes, edges), meta));
      const fresh = drain(buildPathSetSteps(topo(nodes, edges), q, meta));
      assert.deepEqual(kept, fresh, `step ${step} (change kind ${what})`);
      if (pc.lastRun.full === undefined) {
        incremental++;
        recomputed += pc.lastRun.pairsRecomputed;
      }
    }
    // Not a timing assertion: the point of the exercise is that most pairs are reused.
    assert.ok(incremental >= 30, `${incremental} incremental runs`);
    assert.ok(recomputed < incremental * pairs.length * 0.5, `recomputed ${recomputed} of ${incremental * pairs.length} pairs`);
  });
}

test("topology: a graph brought up to date in place equals one built afresh, over 80 random LSDB changes", () => {
  const r = mulberry32(4242);
  const names = Array.from({ length: 16 }, (_, i) => `r${String(i).padStart(2, "0")}`);
  const edges: Array<{ src: string; dst: string; metric: number }> = [];
  for (let i = 0; i < names.length; i++) edges.push({ src: names[i], dst: names[(i + 1) % names.length], metric: 1 + Math.floor(r() * 5) });
  for (let i = 0; i < 12; i++) {
    const a = names[Math.floor(r() * names.length)];
    const b = names[Math.floor(r() * names.length)];
    if (a !== b && !edges.some((e) => (e.src === a && e.dst === b) || (e.src === b && e.dst === a))) edges.push({ src: a, dst: b, metric: 1 + Math.floor(r() * 5) });
  }
  const t = lineTopology(names, edges);
  const lines = new ExabgpLines(t);
  const db = new Lsdb();
  const feed = (line: string): void => {
    const d = decodeLine(line);
    assert.ok(d.ok);
    if (d.event.kind !== "update") return;
    for (const a of d.event.announce) db.announce("p", a.nlri, a.attr);
    for (const w of d.event.withdraw) db.withdraw("p", w);
  };
  lines.fullTable().forEach(feed);
  const shape = (g: Graph) => ({
    nodes: g.nodes().sort().map((id) => [id, g.node(id)]),
    edges: g.edges().map((e) => [e.v, e.w, e.name, g.edge(e)]).sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
  });
  let graph = drain(buildTopologySteps(db.entries.values())).graph;
  for (let step = 0; step < 80; step++) {
    const l = t.links[Math.floor(r() * t.links.length)];
    const what = Math.floor(r() * 4);
    if (what === 0) feed(lines.withdrawLink(l)); // one direction: the other fails the two-way check
    else if (what === 1) feed(lines.announceLink({ ...l, metric: 1 + Math.floor(r() * 5) }));
    else if (what === 2) feed(lines.announceLink(l));
    else {
      const router = t.routers[Math.floor(r() * t.routers.length)];
      feed(r() < 0.5 ? lines.withdrawNode(router) : lines.announceNode({ ...router, overload: r() < 0.3 }));
    }
    const kept = drain(buildTopologySteps(db.entries.values(), "igp", graph));
    const fresh = drain(buildTopologySteps(db.entries.values()));
    assert.equal(kept.graph, graph, "the same graph object, updated");
    assert.deepEqual(shape(kept.graph), shape(fresh.graph), `step ${step}`);
    assert.equal(kept.digest, fresh.digest);
    graph = kept.graph;
  }
});
