import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { compileGraph, ecmp, EcmpSource, pairPaths, spf, type CompiledGraph, type EcmpResult } from "../../plugin/ecmp.js";
import { graphFromEdges, node, readTopologyJson, topologyFromJson, TOPOLOGY_DIR } from "../util/edgelist.js";
import { mulberry32 } from "../util/rng.js";

interface Expected {
  results: Array<{ src: string; dst: string; cost: number; count: number; paths: string[][] }>;
}
const expected = (name: string): Expected => JSON.parse(readFileSync(new URL(`expected/${name}.json`, TOPOLOGY_DIR), "utf8")) as Expected;

const names = (cg: CompiledGraph, src: number, edges: number[]): string[] => [cg.nodes[src].name, ...edges.map((e) => cg.nodes[cg.head[e]].name)];

function checkAgainstNetworkx(topology: string, expectedFile: string): void {
  const cg = compileGraph(topologyFromJson(readTopologyJson(topology)).graph);
  const exp = expected(expectedFile);
  const sources = new Map<string, EcmpSource>();
  let total = 0;
  for (const r of exp.results) {
    const s = cg.index.get(r.src)!;
    let src = sources.get(r.src);
    if (!src) sources.set(r.src, (src = new EcmpSource(cg, s)));
    const got = src.pathsTo(cg.index.get(r.dst)!, Infinity);
    assert.equal(got.cost, r.cost, `${r.src}->${r.dst} cost`);
    assert.equal(got.total, r.count, `${r.src}->${r.dst} count`);
    assert.deepEqual(got.paths.map((p) => names(cg, s, p)), r.paths, `${r.src}->${r.dst} paths`);
    total += got.paths.length;
  }
  assert.ok(total > 0);
}

test("ecmp: NANOG 6 r1->r6 is exactly the four paths of the hackathon", () => {
  const cg = compileGraph(topologyFromJson(readTopologyJson("nanog6.json")).graph);
  const r = ecmp(cg, cg.index.get("r1")!, cg.index.get("r6")!);
  assert.deepEqual(
    r.paths.map((p) => names(cg, cg.index.get("r1")!, p).join("-")),
    ["r1-r2-r4-r6", "r1-r2-r5-r6", "r1-r3-r4-r6", "r1-r3-r5-r6"],
  );
  assert.equal(r.cost, 30);
  assert.equal(r.truncated, false);
});

const oracle: Array<[string, string]> = [
  ["nanog6.json", "nanog6_r1_r6"],
  ["fattree_k8.json", "fattree_k8_pair"],
  ["fattree_k8.json", "fattree_k8_all_edge_pairs"],
  ["fattree_k16.json", "fattree_k16_pair"],
  ["random1000.json", "random1000_20_all_pairs"],
];
for (const [topo, exp] of oracle) {
  test(`ecmp: ${exp} matches networkx all_shortest_paths exactly`, () => checkAgainstNetworkx(topo, exp));
}

const tables: Record<string, { nodes: Parameters<typeof graphFromEdges>[0]; edges: Parameters<typeof graphFromEdges>[1]; undirected?: boolean; src: string; dst: string; cap?: number; want: string[]; total?: number; cost?: number | null }> = {
  "overloaded node is never transit": {
    nodes: ["a", node("b", { overload: true }), "c", "d"],
    edges: [{ src: "a", dst: "b", metric: 1 }, { src: "b", dst: "d", metric: 1 }, { src: "a", dst: "c", metric: 5 }, { src: "c", dst: "d", metric: 5 }],
    src: "a", dst: "d", want: ["a-c-d"], cost: 10,
  },
  "overloaded destination is still reachable": {
    nodes: ["a", "b", node("d", { overload: true })],
    edges: [{ src: "a", dst: "b", metric: 1 }, { src: "b", dst: "d", metric: 1 }],
    src: "a", dst: "d", want: ["a-b-d"],
  },
  "overloaded source may originate": {
    nodes: [node("a", { overload: true }), "b", "d"],
    edges: [{ src: "a", dst: "b", metric: 1 }, { src: "b", dst: "d", metric: 1 }],
    src: "a", dst: "d", want: ["a-b-d"],
  },
  "parallel links are distinct paths": {
    nodes: ["a", "b", "c"],
    edges: [{ src: "a", dst: "b", metric: 1 }, { src: "a", dst: "b", metric: 1 }, { src: "b", dst: "c", metric: 1 }],
    src: "a", dst: "c", want: ["a-b-c", "a-b-c"], total: 2,
  },
  "unequal metrics pick the cheaper": {
    nodes: ["a", "b", "c", "d"],
    edges: [{ src: "a", dst: "b", metric: 1 }, { src: "b", dst: "d", metric: 1 }, { src: "a", dst: "c", metric: 1 }, { src: "c", dst: "d", metric: 2 }],
    src: "a", dst: "d", want: ["a-b-d"],
  },
  "cap truncates and still counts all": {
    nodes: ["a", "b", "c", "d"],
    edges: [{ src: "a", dst: "b", metric: 1 }, { src: "b", dst: "d", metric: 1 }, { src: "a", dst: "c", metric: 1 }, { src: "c", dst: "d", metric: 1 }],
    src: "a", dst: "d", cap: 1, want: ["a-b-d"], total: 2,
  },
  unreachable: {
    nodes: ["a", "b", "z"],
    edges: [{ src: "a", dst: "b", metric: 1 }],
    src: "a", dst: "z", want: [], cost: null,
  },
  "a long ladder: the two searches meet in the middle, every rung combination is a path": {
    nodes: ["a", "b1", "b2", "c1", "c2", "d1", "d2", "e1", "e2", "z"],
    edges: [
      { src: "a", dst: "b1", metric: 1 }, { src: "a", dst: "b2", metric: 1 },
      { src: "b1", dst: "c1", metric: 1 }, { src: "b2", dst: "c2", metric: 1 }, { src: "b1", dst: "c2", metric: 1 },
      { src: "c1", dst: "d1", metric: 1 }, { src: "c2", dst: "d2", metric: 1 }, { src: "c2", dst: "d1", metric: 1 },
      { src: "d1", dst: "e1", metric: 1 }, { src: "d2", dst: "e2", metric: 1 },
      { src: "e1", dst: "z", metric: 1 }, { src: "e2", dst: "z", metric: 1 },
    ],
    src: "a", dst: "z", want: ["a-b1-c1-d1-e1-z", "a-b1-c2-d1-e1-z", "a-b1-c2-d2-e2-z", "a-b2-c2-d1-e1-z", "a-b2-c2-d2-e2-z"], cost: 5,
  },
  "parallel links on both sides of the meeting point multiply": {
    nodes: ["a", "b", "c"],
    edges: [{ src: "a", dst: "b", metric: 2 }, { src: "a", dst: "b", metric: 2 }, { src: "a", dst: "b", metric: 3 }, { src: "b", dst: "c", metric: 2 }, { src: "b", dst: "c", metric: 2 }],
    src: "a", dst: "c", want: ["a-b-c", "a-b-c", "a-b-c", "a-b-c"], total: 4, cost: 4,
  },
  "zero-metric link at the source (the forward queue's top stays 0)": {
    nodes: ["a", "x", "z"],
    edges: [{ src: "a", dst: "x", metric: 0 }, { src: "x", dst: "z", metric: 1 }, { src: "a", dst: "z", metric: 1 }],
    undirected: false,
    src: "a", dst: "z", want: ["a-x-z", "a-z"], cost: 1,
  },
  "overloaded node next to the destination is not transit for the backward search either": {
    nodes: ["a", node("b", { overload: true }), "c", "e", "z"],
    edges: [{ src: "a", dst: "b", metric: 1 }, { src: "b", dst: "z", metric: 1 }, { src: "a", dst: "c", metric: 1 }, { src: "c", dst: "e", metric: 1 }, { src: "e", dst: "z", metric: 1 }],
    src: "a", dst: "z", want: ["a-c-e-z"], cost: 3,
  },
  "zero-metric links (pseudonode to router) do not loop": {
    nodes: ["a", node("lan", { pseudo: true }), "b", "c"],
    edges: [{ src: "a", dst: "lan", metric: 10 }, { src: "lan", dst: "b", metric: 0 }, { src: "lan", dst: "c", metric: 0 }, { src: "b", dst: "c", metric: 0 }],
    src: "a", dst: "c", want: ["a-b-c", "a-lan-b-c", "a-lan-c"].filter((p) => p !== "a-b-c"), total: 2,
  },
};
for (const [name, c] of Object.entries(tables)) {
  test(`ecmp: ${name}`, () => {
    const cg = compileGraph(graphFromEdges(c.nodes, c.edges, c.undirected ?? true).graph);
    const s = cg.index.get(c.src)!;
    const r = ecmp(cg, s, cg.index.get(c.dst)!, c.cap ?? Infinity);
    assert.deepEqual(r.paths.map((p) => names(cg, s, p).join("-")), c.want);
    // The several-destinations strategy (one full SPF) gives the same answer.
    assert.deepEqual(new EcmpSource(cg, s, { fullSpf: true }).pathsTo(cg.index.get(c.dst)!, c.cap ?? Infinity), r);
    if (c.total !== undefined) assert.equal(r.total, c.total);
    if (c.cap !== undefined) assert.equal(r.truncated, r.total > c.cap);
    if (c.cost !== undefined) assert.equal(r.cost, c.cost);
  });
}

// ---- The two strategies (bidirectional search for one pair, full SPF for several) against each
// other and against brute force, on random graphs.

const rng = mulberry32;

interface RandomGraph {
  cg: CompiledGraph;
  desc: string;
}

/**
 * n nodes (names padded so name order is index order), about n * density edges between random
 * ends (repeats give parallel links), metrics drawn from `metrics` (ties likely), some nodes
 * overloaded, directed or not. Nodes with no edge at all stay unreachable.
 */
function randomGraph(seed: number, n: number, density: number, metrics: number[], opts: { undirected: boolean; overload: number }): RandomGraph {
  const r = rng(seed);
  const name = (i: number): string => `n${String(i).padStart(3, "0")}`;
  const nodes = Array.from({ length: n }, (_, i) => node(name(i), { overload: r() < opts.overload }));
  const edges: Array<{ src: string; dst: string; metric: number }> = [];
  const m = Math.round(n * density);
  for (let k = 0; k < m; k++) {
    const metric = metrics[Math.floor(r() * metrics.length)];
    // One edge in six doubles the previous one: parallel links, of equal metric or not.
    if (k > 0 && r() < 1 / 6) {
      edges.push({ ...edges[k - 1], metric: r() < 0.5 ? edges[k - 1].metric : metric });
      continue;
    }
    const a = Math.floor(r() * n);
    let b = Math.floor(r() * (n - 1));
    if (b >= a) b++;
    edges.push({ src: name(a), dst: name(b), metric });
  }
  const cg = compileGraph(graphFromEdges(nodes, edges, opts.undirected).graph);
  return { cg, desc: `seed ${seed}, ${n} nodes, ${m} ${opts.undirected ? "undirected" : "directed"} edges, metrics ${metrics.join("/")}` };
}

/** Every simple best path by exhaustive search (out-edges of an overloaded node only at src), in CSR order. */
function bruteForce(cg: CompiledGraph, src: number, dst: number): { cost: number | null; paths: number[][] } {
  if (src === dst) return { cost: 0, paths: [] };
  let best = Infinity;
  let paths: number[][] = [];
  const onPath = new Uint8Array(cg.ids.length);
  const path: number[] = [];
  const dfs = (u: number, cost: number): void => {
    if (cost > best) return;
    if (u === dst) {
      if (cost < best) {
        best = cost;
        paths = [];
      }
      paths.push(path.slice());
      return;
    }
    if (u !== src && cg.noTransit[u] === 1) return;
    onPath[u] = 1;
    for (let e = cg.off[u]; e < cg.off[u + 1]; e++) {
      const v = cg.head[e];
      if (onPath[v] === 1) continue;
      path.push(e);
      dfs(v, cost + cg.weight[e]);
      path.pop();
    }
    onPath[u] = 0;
  };
  dfs(src, 0);
  return { cost: best === Infinity ? null : best, paths };
}

const summary = (r: EcmpResult): string => JSON.stringify({ cost: r.cost, total: r.total, truncated: r.truncated, paths: r.paths });

/** What the random cases exercised (checked at the end, so a generator change cannot quietly drop a case). */
const seen = { pairs: 0, unreachable: 0, capped: 0, parallel: 0, overloadedTransitAvoided: 0, zeroMetricPaths: 0 };

/** pairPaths, a full-SPF EcmpSource and (when given) brute force agree on every pair, for each cap. */
function checkAgree(g: RandomGraph, caps: number[], brute: boolean): number {
  const { cg } = g;
  const n = cg.ids.length;
  let paths = 0;
  for (let e = 1; e < cg.head.length; e++) if (cg.tail[e] === cg.tail[e - 1] && cg.head[e] === cg.head[e - 1]) seen.parallel++;
  for (let s = 0; s < n; s++) {
    const full = new EcmpSource(cg, s, { fullSpf: true });
    const anyTransit = spfIgnoringOverload(cg, s);
    assert.deepEqual([...full.dist], [...spf(cg, s)], `${g.desc}: dist from ${s}`);
    for (let d = 0; d < n; d++) {
      const bf = brute ? bruteForce(cg, s, d) : undefined;
      for (const cap of caps) {
        const a = pairPaths(cg, s, d, cap);
        const b = full.pathsTo(d, cap);
        const where = `${g.desc}: ${cg.ids[s]} -> ${cg.ids[d]}, cap ${cap}`;
        assert.equal(summary(a), summary(b), `${where}: bidirectional vs full SPF`);
        if (bf) {
          const total = s === d ? 0 : bf.paths.length;
          const want = { cost: bf.cost, total, truncated: total > cap, paths: bf.paths.slice(0, cap) };
          assert.equal(summary(a), JSON.stringify(want), `${where}: vs brute force`);
        }
        if (cap === Infinity) {
          paths += a.paths.length;
          seen.pairs++;
          if (a.cost === null) seen.unreachable++;
          // A best path that would be shorter through an overloaded node.
          if (a.cost !== null && s !== d && anyTransit[d] < a.cost) seen.overloadedTransitAvoided++;
          if (a.paths.some((p) => p.some((e) => cg.weight[e] === 0))) seen.zeroMetricPaths++;
        }
        if (a.truncated) seen.capped++;
      }
    }
  }
  return paths;
}

/** Plain Bellman-Ford distances with every node transit (to tell when the overload bit mattered). */
function spfIgnoringOverload(cg: CompiledGraph, src: number): number[] {
  const dist = cg.ids.map(() => Infinity);
  dist[src] = 0;
  for (let round = 0; round < cg.ids.length; round++)
    for (let e = 0; e < cg.head.length; e++) dist[cg.head[e]] = Math.min(dist[cg.head[e]], dist[cg.tail[e]] + cg.weight[e]);
  return dist;
}

const randomCases: Array<{ name: string; metrics: number[]; undirected: boolean; overload: number; sizes: number[]; density: number }> = [
  { name: "equal metrics (BFS)", metrics: [10], undirected: true, overload: 0.15, sizes: [2, 5, 8, 9], density: 1.6 },
  { name: "equal metrics, directed", metrics: [1], undirected: false, overload: 0.15, sizes: [4, 7, 9], density: 2.2 },
  { name: "small integer metrics with ties", metrics: [1, 2, 3], undirected: true, overload: 0.15, sizes: [3, 6, 9], density: 1.5 },
  { name: "metrics with ties, directed", metrics: [1, 2, 2, 4], undirected: false, overload: 0.2, sizes: [5, 8, 9], density: 2.5 },
  { name: "zero metrics, directed (pseudonode-like)", metrics: [0, 1, 1, 2], undirected: false, overload: 0.1, sizes: [4, 7, 9], density: 2 },
  { name: "zero metrics, undirected (zero-metric cycles)", metrics: [0, 1, 2], undirected: true, overload: 0.1, sizes: [4, 6, 8], density: 1.3 },
  { name: "wide metrics", metrics: [1, 7, 13, 20, 31, 100], undirected: true, overload: 0.1, sizes: [6, 9], density: 1.8 },
];
for (const c of randomCases) {
  test(`ecmp: bidirectional = full SPF = brute force, random graphs, ${c.name}`, () => {
    let paths = 0;
    for (let seed = 1; seed <= 12; seed++)
      for (const n of c.sizes) paths += checkAgree(randomGraph(seed * 1000 + n, n, c.density, c.metrics, c), [Infinity, 0, 1, 2, 5], true);
    assert.ok(paths > 0);
  });
}

test("ecmp: bidirectional = full SPF on larger random graphs (every pair, caps)", () => {
  let paths = 0;
  for (const [seed, n, metrics, undirected] of [
    [1, 60, [1], true],
    [2, 60, [1, 2, 3], true],
    [3, 80, [1, 1, 2, 5, 10], false],
    [4, 50, [0, 1, 2, 3], false],
    [5, 120, [10, 20], true],
  ] as Array<[number, number, number[], boolean]>)
    paths += checkAgree(randomGraph(seed, n, 2.5, metrics, { undirected, overload: 0.05 }), [Infinity, 3], false);
  assert.ok(paths > 1000);
});

test("ecmp: an EcmpSource answers its first destination by the pair search, the next ones by one SPF: same results", () => {
  const { cg } = randomGraph(7, 40, 2.5, [1, 2, 3], { undirected: true, overload: 0.1 });
  for (let s = 0; s < cg.ids.length; s += 3) {
    const lazy = new EcmpSource(cg, s);
    for (let d = cg.ids.length - 1; d >= 0; d--) assert.equal(summary(lazy.pathsTo(d, 4)), summary(pairPaths(cg, s, d, 4)), `${s} -> ${d}`);
  }
});

test("ecmp: the random cases covered unreachable pairs, caps, parallel links, avoided overloaded transit and zero-metric paths", () => {
  // node:test runs a file's tests in order: this one comes after the random ones.
  for (const [k, v] of Object.entries(seen)) assert.ok(v > 0, `${k}: ${v}`);
});
