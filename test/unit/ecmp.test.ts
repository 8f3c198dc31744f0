import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { compileGraph, ecmp, EcmpSource, type CompiledGraph } from "../../plugin/ecmp.js";
import { graphFromEdges, node, readTopologyJson, topologyFromJson, TOPOLOGY_DIR } from "../util/edgelist.js";

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
    if (c.total !== undefined) assert.equal(r.total, c.total);
    if (c.cap !== undefined) assert.equal(r.truncated, r.total > c.cap);
    if (c.cost !== undefined) assert.equal(r.cost, c.cost);
  });
}
