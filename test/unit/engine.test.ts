// The plugin's state machine fed with ExaBGP 4.2-shaped lines for the NANOG topology.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, MAX_PEERS, MAX_TABLE_KEYS, type EngineIo } from "../../plugin/engine.js";
import { directedPairs } from "../../plugin/paths.js";
import { createLogger } from "../../shared/log.js";
import type { PathSet } from "../../shared/pathset.js";
import { ExabgpLines, lineTopology } from "../util/exabgp-lines.js";
import { readTopologyJson } from "../util/edgelist.js";

function setup(opts: { mode?: "all" | "cover"; routeRefresh?: boolean; pairs?: Array<[string, string]> } = {}) {
  const published: PathSet[] = [];
  const commands: string[] = [];
  const logs: string[] = [];
  const io: EngineIo = {
    log: createLogger({ name: "test", level: "debug", stream: { write: (s: string) => logs.push(s) } }),
    command: (c) => commands.push(c),
    publish: async (set) => void published.push(set),
    now: () => new Date(0),
  };
  const engine = new Engine(
    {
      query: { pairs: directedPairs(opts.pairs ?? [["r1", "r6"]]), mode: opts.mode ?? "all", maxPerPair: 64 },
      metric: "igp",
      debounceMs: 0,
      staleTimeoutMs: 60_000,
      routeRefresh: opts.routeRefresh ?? false,
      generation: 0,
      sliceMs: 0,
    },
    io,
  );
  const t = readTopologyJson("nanog6.json");
  const lines = new ExabgpLines(lineTopology(t.nodes, t.edges));
  let n = 0;
  const feed = async (...ls: string[]): Promise<void> => {
    for (const l of ls) engine.handleLine(l, ++n);
    await engine.recompute();
  };
  const last = (): PathSet => published[published.length - 1];
  const hops = (set: PathSet, src = "r1", dst = "r6"): string[] =>
    set.paths.filter((p) => p.src === src && p.dst === dst).map((p) => p.hops.map((h) => h.name).join("-"));
  return { engine, published, commands, logs, lines, feed, last, hops };
}

test("engine: full table gives the four NANOG paths each way, one generation", async () => {
  const s = setup();
  await s.feed(...s.lines.fullTable());
  assert.equal(s.published.length, 1);
  const set = s.last();
  assert.equal(set.generation, 1);
  assert.deepEqual(s.hops(set), ["r1-r2-r4-r6", "r1-r2-r5-r6", "r1-r3-r4-r6", "r1-r3-r5-r6"]);
  assert.deepEqual(s.hops(set, "r6", "r1"), ["r6-r4-r2-r1", "r6-r4-r3-r1", "r6-r5-r2-r1", "r6-r5-r3-r1"]);
  assert.equal(set.topology.nodes, 6);
  assert.equal(set.topology.links, 16);
  const p = set.paths[0];
  assert.equal(p.probeable, true);
  assert.equal(p.gre.length, 3);
  // The GRE hop for each link is the far end's interface address on that link.
  p.links.forEach((l, i) => assert.equal(p.gre[i].address, l.remoteAddress));
  // The way back over the same links: each link's near-end address, last link first.
  assert.deepEqual(p.greReverse.map((g) => g.address), [...p.links].reverse().map((l) => l.localAddress));
  assert.deepEqual(p.greReverse.map((g) => g.node), ["r4", "r2", "r1"]);
  assert.deepEqual(set.pairs.map((x) => [x.src, x.dst, x.cost, x.count, x.truncated]), [["r1", "r6", 30, 4, false], ["r6", "r1", 30, 4, false]]);
});

test("engine: withdrawing r2-r4 leaves two paths; a metric change re-ranks; down flushes", async () => {
  const s = setup();
  await s.feed(...s.lines.fullTable());
  const ids = new Map(s.last().paths.map((p) => [p.hops.map((h) => h.name).join("-"), p.id]));
  await s.feed(s.lines.withdrawLink(s.lines.link("r2", "r4")), s.lines.withdrawLink(s.lines.link("r4", "r2")));
  assert.deepEqual(s.hops(s.last()), ["r1-r2-r5-r6", "r1-r3-r4-r6", "r1-r3-r5-r6"]);
  // Stable ids: surviving paths keep theirs.
  for (const p of s.last().paths) assert.equal(p.id, ids.get(p.hops.map((h) => h.name).join("-")));
  // One direction withdrawn is enough to drop the link (two-way check).
  await s.feed(s.lines.withdrawLink(s.lines.link("r3", "r4")));
  assert.deepEqual(s.hops(s.last()), ["r1-r2-r5-r6", "r1-r3-r5-r6"]);
  const l = { ...s.lines.link("r1", "r2"), metric: 20 };
  await s.feed(s.lines.announceLink(l));
  assert.deepEqual(s.hops(s.last()), ["r1-r3-r5-r6"]);
  assert.equal(s.last().pairs[0].cost, 30);
  await s.feed(s.lines.state("down", "peer reset"));
  assert.equal(s.last().paths.length, 0);
  assert.equal(s.last().topology.nodes, 0);
  assert.equal(s.last().generation, 5);
});

test("engine: a change that alters no path does not bump the generation", async () => {
  const s = setup();
  await s.feed(...s.lines.fullTable());
  await s.feed(s.lines.announceLink({ ...s.lines.link("r1", "r2"), teMetric: 99 }));
  await s.feed(s.lines.announceNode(s.lines.topo.routers[0]));
  assert.equal(s.published.length, 1);
});

test("engine: two peers export the same domain; one going down removes nothing", async () => {
  const s = setup();
  await s.feed(...s.lines.fullTable());
  const t = readTopologyJson("nanog6.json");
  const other = new ExabgpLines(lineTopology(t.nodes, t.edges), { peer: "127.0.0.6" });
  await s.feed(...other.fullTable());
  assert.equal(s.published.length, 1);
  await s.feed(s.lines.state("down"));
  assert.equal(s.published.length, 1);
  assert.equal(s.last().paths.length, 8);
  await s.feed(other.state("down"));
  assert.equal(s.last().paths.length, 0);
});

test("engine: mode cover keeps paths that cross every link", async () => {
  const s = setup({ mode: "cover" });
  await s.feed(...s.lines.fullTable());
  const set = s.last();
  const links = new Set(set.paths.filter((p) => p.src === "r1").flatMap((p) => p.links.map((l) => l.id)));
  assert.equal(links.size, set.pairs[0].ecmpLinks);
});

test("engine: unknown endpoints are reported per pair, not fatal", async () => {
  const s = setup({ pairs: [["r1", "nowhere"]] });
  await s.feed(...s.lines.fullTable());
  assert.match(s.last().pairs[0].reason ?? "", /nowhere.*matches no node/);
});

test("engine: objects announced without a BGP-LS attribute are kept, with empty attributes", async () => {
  const s = setup();
  await s.feed(...s.lines.fullTable());
  const bare = s.lines.announceNode(s.lines.topo.routers[1]).replace(/"bgp-ls": \{[^}]*\}[^}]*\}/, '"x": 1');
  assert.doesNotMatch(bare, /"bgp-ls": \{/);
  s.engine.handleLine(bare, 999);
  assert.equal(s.engine.stats.malformed, 0);
  await s.engine.recompute();
  assert.ok(s.last().paths.length > 0);
});

test("engine: overloaded router is not transit", async () => {
  const s = setup();
  const r2 = { ...s.lines.topo.routers[1], overload: true };
  await s.feed(...s.lines.fullTable(), s.lines.announceNode(r2));
  assert.deepEqual(s.hops(s.last()), ["r1-r3-r4-r6", "r1-r3-r5-r6"]);
});

test("engine: route refresh is asked at start and for a peer seen mid-session", async () => {
  const s = setup({ routeRefresh: true });
  s.engine.start();
  assert.deepEqual(s.commands, ["announce route-refresh bgp-ls bgp-ls"]);
  await s.feed(s.lines.announceNode(s.lines.topo.routers[0]));
  assert.deepEqual(s.commands.slice(1), ["neighbor 127.0.0.1 announce route-refresh bgp-ls bgp-ls"]);
});

test("engine: bad input is counted and skipped; the last good path set stays in force", async () => {
  const s = setup();
  await s.feed(...s.lines.fullTable());
  const good = s.last();
  const junk = [
    s.lines.announceLink(s.lines.link("r1", "r2")).slice(0, 200), // truncated
    '{ "exabgp": "4.0.1", "type": "update", "neighbor": { "address": { "peer": "127.0.0.1" }, "message": { "update": { "withdraw": { "bgp-ls bgp-ls": "r2" } } } } }', // wrong type
    '{ "exabgp": "4.0.1", "type": "update", "neighbor": { "address": { "peer": "127.0.0.1" }, "message": { "update": { "announce": { "bgp-ls bgp-ls": { "1.1.1.1": [ { "ls-nlri-type": "bgpls-link", "protocol-id": "x" } ] } } } } } }', // wrong field type
    '{ "exabgp": "4.0.1", "type": "update", "neighbor": { "address": { "peer": "127.0.0.1" }, "message": { "update": { "announce": { "bgp-ls bgp-ls": { "1.1.1.1": [ { "ls-nlri-type": "bgpls-srv6-sid" } ] } } } } } }', // unknown NLRI type
    "{" + "x".repeat(2 << 20), // huge
    "\u0000\u0001\u00fe\u00ff{}\u0007", // binary junk
    "{\u0000\u0001\u00fe",
    '{ "type": 7 }',
    "[1,2,3]",
    '{ "exabgp": "4.0.1", "type": "teleport" }',
    "done",
    "error",
  ];
  await s.feed(...junk);
  assert.equal(s.published.length, 1);
  assert.equal(s.last(), good);
  assert.equal(s.engine.stats.malformed, 4); // truncated, huge, NUL after "{", type not a string
  assert.equal(s.engine.stats.nlriProblems["unknown-nlri-type:bgpls-srv6-sid"], 1);
  assert.equal(s.engine.stats.nlriProblems["bad-nlri:"], 2);
  assert.equal(s.engine.stats.byEvent["unknown:teleport"], 1);
  assert.equal(s.engine.stats.byEvent.reply, 4); // not starting with "{": command replies (FORMAT.md §2)
  assert.ok(s.logs.some((l) => /malformed line skipped.*line=\d+/.test(l)));
});

test("engine: metrics outside the protocol's range are refused per link with a warning, never a hang (negative cycles included)", async () => {
  // Each case: r2 -> r4 and r4 -> r2 metrics. Before the range check a negative cycle looped forever.
  const cases: Array<[string, number, number, number]> = [
    // [what, r2->r4, r4->r2, links refused]
    ["-1 both ways (a negative cycle)", -1, -1, 2],
    ["-20 / 10", -20, 10, 1],
    ["-1 / 0", -1, 0, 1],
    ["1e308", 1e308, 1e308, 2],
    ["Infinity (ExaBGP's [1e400])", Infinity, Infinity, 2],
    ["not an integer", 1.5, 10, 1],
    ["above 2^24-1 (IS-IS wide)", 2 ** 24, 10, 1],
  ];
  for (const [what, ab, ba, refused] of cases) {
    const s = setup();
    s.lines.link("r2", "r4").metric = ab;
    s.lines.link("r4", "r2").metric = ba;
    // JSON has no Infinity: ExaBGP would print an overflowing literal, which JSON.parse reads as Infinity.
    await s.feed(...s.lines.fullTable().map((l) => l.replace('"igp-metric": Infinity', '"igp-metric": [1e400]')));
    assert.equal(s.engine.stats.linksInvalid, refused, what);
    assert.deepEqual(s.hops(s.last()), ["r1-r2-r5-r6", "r1-r3-r4-r6", "r1-r3-r5-r6"], `${what}: r2-r4 is out of the graph`);
    assert.equal(s.logs.filter((l) => /WARN .*link refused: its advertisement is invalid .*is not an integer from 0 to 16777215 \(RFC 7752 §3\.3\.2\.4\).* peers=127\.0\.0\.1/.test(l)).length, refused, what);
  }
  // The edges of the range are fine: 0 and 2^24-1.
  const s = setup();
  s.lines.link("r2", "r4").metric = 0;
  s.lines.link("r4", "r2").metric = 2 ** 24 - 1;
  await s.feed(...s.lines.fullTable());
  assert.equal(s.engine.stats.linksInvalid, 0);
});

test("engine: a peer that is not an IP address is refused as malformed (no internal error, the next update is not lost); 'snapshot' is not a peer", async () => {
  for (const bad of ["snapshot", "not-an-address", "198.18.0.300", ""]) {
    const s = setup();
    const lines = s.lines.fullTable();
    const first = lines.find((l) => /"type": "update"/.test(l))!;
    const forged = first.replace('"peer": "127.0.0.1"', `"peer": ${JSON.stringify(bad)}`);
    await s.feed(forged, ...lines);
    assert.equal(s.engine.stats.malformed, 1, bad);
    assert.equal(s.engine.stats.malformedByReason.bad_shape, 1, bad);
    assert.ok(s.logs.some((l) => /malformed line skipped line=1 reason="neighbor\.address\.peer: expected an IP address/.test(l)), bad);
    assert.deepEqual(s.hops(s.last()), ["r1-r2-r4-r6", "r1-r2-r5-r6", "r1-r3-r4-r6", "r1-r3-r5-r6"], `${bad}: the real updates all count`);
    assert.deepEqual(s.last().topology.peers, ["127.0.0.1"]);
  }
});

test("engine: junk naming ever new message types, NLRI types and peers grows no table past its bound", async () => {
  const s = setup();
  const real = s.lines.fullTable();
  await s.feed(...real);
  const state = real.find((l) => /"type": "state"/.test(l))!;
  const update = real.find((l) => /"type": "update"/.test(l))!;
  const junk: string[] = [];
  for (let i = 0; i < 3000; i++) {
    junk.push(state.replace('"type": "state"', `"type": "teleport-${i}-${"x".repeat(500)}"`));
    junk.push(update.replace('"peer": "127.0.0.1"', `"peer": "198.19.${i >> 8}.${i & 255}"`));
    junk.push(update.replace(/"ls-nlri-type": "bgpls-node"/, `"ls-nlri-type": "bgpls-made-up-${i}"`));
  }
  await s.feed(...junk);
  // The bound, plus one "<kind>:other" per kind (a closed set).
  assert.ok(Object.keys(s.engine.stats.byEvent).length <= MAX_TABLE_KEYS + 3);
  assert.ok(s.engine.stats.byEvent["unknown:other"] > 0, "new types past the bound are counted together");
  assert.ok(Object.keys(s.engine.stats.byEvent).every((k) => k.length <= 80));
  assert.ok(Object.keys(s.engine.stats.nlriProblems).length <= MAX_TABLE_KEYS + 3);
  assert.ok(s.engine.stats.nlriProblems["unknown-nlri-type:other"] > 0);
  assert.ok(s.engine.peers().length <= MAX_PEERS, `${s.engine.peers().length} peers kept`);
  assert.equal(s.engine.stats.peersRefused, 3000 + 1 - MAX_PEERS);
  assert.equal(s.logs.filter((l) => /more than 256 BGP peers/.test(l)).length, 1, "said once");
  assert.ok(s.engine.db.peers().length <= MAX_PEERS);
});
