// The plugin -> prober contract: the whole document is validated before it may replace the set
// in force, so a malformed value deep inside is refused with its key path, never a crash later.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../../plugin/engine.js";
import { directedPairs } from "../../plugin/paths.js";
import { createLogger } from "../../shared/log.js";
import { parsePathSet, PathSetError, type PathSet } from "../../shared/pathset.js";
import { PathSource } from "../../prober/pathsource.js";
import { ExabgpLines, lineTopology } from "../util/exabgp-lines.js";
import { readTopologyJson } from "../util/edgelist.js";

async function nanog(mode: "all" | "plan" = "all"): Promise<PathSet> {
  let set: PathSet | undefined;
  const engine = new Engine(
    { query: { pairs: directedPairs([["r1", "r6"]]), mode, maxPerPair: 64, plan: { budgetPps: 1000, alpha: 2, beta: 1, minLinkPps: 25 } }, metric: "igp", debounceMs: 0, staleTimeoutMs: 1000, routeRefresh: false, generation: 0, sliceMs: 0 },
    { log: createLogger({ name: "t", level: "error", stream: { write: () => {} } }), command: () => {}, publish: async (s) => void (set = s), now: () => new Date(0) },
  );
  const t = readTopologyJson("nanog6.json");
  const lines = new ExabgpLines(lineTopology(t.nodes, t.edges));
  let n = 0;
  for (const l of lines.fullTable()) engine.handleLine(l, ++n);
  await engine.recompute();
  return JSON.parse(JSON.stringify(set)) as PathSet;
}

/** A document to break on purpose: any shape goes. */
type Doc = Record<string, any>;

test("parsePathSet: the plugin's own documents pass (modes all and plan)", async () => {
  for (const mode of ["all", "plan"] as const) {
    const set = await nanog(mode);
    assert.equal(parsePathSet(set).paths.length, set.paths.length, mode);
  }
});

test("parsePathSet: a malformed value anywhere is refused with its key path", async () => {
  const good = await nanog("plan");
  const cases: Array<[string, (d: Doc) => void, RegExp]> = [
    ["a null link (crashed the prober)", (d) => (d.paths[0].links[1] = null), /paths\[0\]\.links\[1\]: expected an object, got null/],
    ["a link without an id", (d) => delete d.paths[0].links[0].id, /paths\[0\]\.links\[0\]\.id: expected a non-empty string/],
    ["a link metric that is a string", (d) => (d.paths[1].links[0].metric = "10"), /paths\[1\]\.links\[0\]\.metric: expected a finite number, got "10"/],
    ["a null hop", (d) => (d.paths[0].hops[0] = null), /paths\[0\]\.hops\[0\]: expected an object/],
    ["hop addresses that are not strings", (d) => (d.paths[0].hops[0].addresses = [1]), /paths\[0\]\.hops\[0\]\.addresses\[0\]: expected a string/],
    ["a GRE address that is null", (d) => (d.paths[0].gre[0].address = null), /paths\[0\]\.gre\[0\]\.address: expected a non-empty string, got null/],
    ["a GRE source of another kind", (d) => (d.paths[0].greReverse[0].source = "magic"), /paths\[0\]\.greReverse\[0\]\.source: expected one of interface, te-router-id, loopback/],
    ["a probeable path short of a GRE layer", (d) => d.paths[0].gre.pop(), /paths\[0\]\.gre: a probeable path needs one entry per link \(3\), got 2/],
    ["a negative rate", (d) => (d.paths[0].rate = -1), /paths\[0\]\.rate: expected a rate > 0, got -1/],
    ["the same path id twice", (d) => (d.paths[1].id = d.paths[0].id), /paths\[1\]\.id: path id p-\w+ appears twice/],
    ["a pair count that is a string", (d) => (d.pairs[0].count = "4"), /pairs\[0\]\.count: expected a count, got "4"/],
    ["a null plan link", (d) => d.plan.unidentifiable[0] && (d.plan.unidentifiable[0].links[0] = null), /plan\.unidentifiable\[0\]\.links\[0\]: expected an object, got null/],
    ["paths not an array", (d) => (d.paths = {}), /paths: expected an array, got an object/],
    ["a newer version", (d) => (d.version = 99), /version: version 99 is newer than this reader understands \(1\); upgrade lsprobe/],
  ];
  for (const [what, mutate, message] of cases) {
    const d = JSON.parse(JSON.stringify(good)) as Doc;
    mutate(d);
    assert.throws(() => parsePathSet(d, "paths.json"), (e: unknown) => e instanceof PathSetError && /^paths\.json: /.test((e as Error).message) && message.test((e as Error).message), what);
  }
});

test("PathSource: an invalid document never replaces the set in force", async () => {
  const good = await nanog();
  const src = new PathSource({ socket: null, file: null });
  const invalid: string[] = [];
  src.on("invalid", (e) => invalid.push(e.message));
  assert.equal(src.offer(good, "socket"), true);
  const bad = JSON.parse(JSON.stringify(good)) as Doc;
  bad.generation = 2;
  bad.paths[0].links[0] = null;
  assert.equal(src.offer(bad, "socket"), false);
  assert.equal(src.current!.generation, good.generation);
  assert.equal(invalid.length, 1);
  assert.match(invalid[0], /paths\[0\]\.links\[0\]: expected an object, got null/);
});
