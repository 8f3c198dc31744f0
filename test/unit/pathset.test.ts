// The plugin -> prober contract: the whole document is validated before it may replace the set
// in force, so a malformed value deep inside is refused with its key path, never a crash later.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../../plugin/engine.js";
import { directedPairs } from "../../plugin/paths.js";
import { createLogger } from "../../shared/log.js";
import { readFileSync } from "node:fs";
import { parsePathSet, PathSetError, PATHSET_VERSION, type PathSet } from "../../shared/pathset.js";
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
    ["a newer version", (d) => (d.version = 99), /version: version 99 is newer than this reader understands \(5\); upgrade lsprobe/],
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

// ---- versions: the plugin writes version 2; the prober still reads version 1 (an upgrade in
// either order). test/fixtures/pathset/nanog6-v1.json is a version 1 document of r1 <-> r6.

const V1_FILE = new URL("../../../test/fixtures/pathset/nanog6-v1.json", import.meta.url);

test("parsePathSet: the plugin writes version 4, every layer with its target", async () => {
  const set = await nanog();
  assert.equal(set.version, PATHSET_VERSION);
  assert.equal(PATHSET_VERSION, 5);
  for (const p of set.paths) for (const g of [...p.gre, ...p.greReverse]) assert.equal(g.target, "interface");
});

test("parsePathSet: a version 1 document is read, each layer's target taken from its source", async () => {
  const v1 = JSON.parse(readFileSync(V1_FILE, "utf8")) as Doc;
  assert.equal(v1.version, 1);
  assert.ok(v1.paths.every((p: Doc) => p.gre.every((g: Doc) => !("target" in g))), "the fixture has no target: as version 1 wrote it");
  const set = parsePathSet(v1, "paths.json");
  assert.equal(set.version, 1);
  assert.equal(set.paths.length, 8);
  // Same paths, same ids and addresses as version 2 writes today in interface mode.
  const v2 = await nanog();
  assert.deepEqual(set.paths.map((p) => p.id), v2.paths.map((p) => p.id));
  assert.deepEqual(set.paths.map((p) => p.gre), v2.paths.map((p) => p.gre));
  // An unnumbered hop in version 1 (source te-router-id or loopback) is a router target.
  const un = JSON.parse(readFileSync(V1_FILE, "utf8")) as Doc;
  un.paths[0].gre[1] = { address: "198.19.0.4", source: "te-router-id", node: "r4" };
  un.paths[0].greReverse[0] = { address: "198.19.0.6", source: "loopback", node: "r6" };
  const up = parsePathSet(un);
  assert.equal(up.paths[0].gre[1].target, "router");
  assert.equal(up.paths[0].greReverse[0].target, "router");
  // The prober's path source takes it like any other.
  const src = new PathSource({ socket: null, file: null });
  assert.equal(src.offer(JSON.parse(readFileSync(V1_FILE, "utf8")), "file"), true);
  assert.equal(src.current!.paths[0].gre[0].target, "interface");
});

test("parsePathSet: version 2's own rules (target, parallel), and versions out of range", async () => {
  const good = await nanog();
  const v1 = JSON.parse(readFileSync(V1_FILE, "utf8")) as Doc;
  const cases: Array<[string, Doc, (d: Doc) => void, RegExp]> = [
    ["a v2 layer without target", good, (d) => delete d.paths[0].gre[0].target, /paths\[0\]\.gre\[0\]\.target: expected one of interface, router, got undefined/],
    ["a v2 way back with another target", good, (d) => (d.paths[1].greReverse[2].target = "loopback"), /paths\[1\]\.greReverse\[2\]\.target: expected one of interface, router, got "loopback"/],
    ["parallel of one link", good, (d) => (d.paths[0].links[0].parallel = [d.paths[0].links[0].id]), /paths\[0\]\.links\[0\]\.parallel: expected at least 2 link ids, "l-\w+" among them, got 1/],
    ["parallel without the link itself", good, (d) => (d.paths[0].links[0].parallel = ["l-a", "l-b"]), /paths\[0\]\.links\[0\]\.parallel: expected at least 2 link ids/],
    ["parallel not a list", good, (d) => (d.paths[0].links[0].parallel = "l-a"), /paths\[0\]\.links\[0\]\.parallel: expected an array, got "l-a"/],
    ["parallel ids not strings", good, (d) => (d.paths[0].links[0].parallel = [d.paths[0].links[0].id, 7]), /paths\[0\]\.links\[0\]\.parallel\[1\]: expected a non-empty string, got 7/],
    ["parallel in a version 1 document", v1, (d) => (d.paths[0].links[0].parallel = [d.paths[0].links[0].id, "l-x"]), /paths\[0\]\.links\[0\]\.parallel: parallel links need version 2, the document is version 1/],
    ["version 0", good, (d) => (d.version = 0), /version: version 0 is older than this reader understands \(1 to 5\)/],
    ["version 6", good, (d) => (d.version = 6), /version: version 6 is newer than this reader understands \(5\); upgrade lsprobe/],
  ];
  for (const [what, base, mutate, message] of cases) {
    const d = JSON.parse(JSON.stringify(base)) as Doc;
    mutate(d);
    assert.throws(() => parsePathSet(d, "paths.json"), (e: unknown) => e instanceof PathSetError && message.test((e as Error).message), what);
  }
  // A well-formed parallel group passes.
  const d = JSON.parse(JSON.stringify(good)) as Doc;
  d.paths[0].links[0].parallel = [d.paths[0].links[0].id, "l-other"];
  assert.deepEqual(parsePathSet(d).paths[0].links[0].parallel, [good.paths[0].links[0].id, "l-other"]);
});
