// The one view (issue 14, Musts 3 and 4) as tables: one-way assignment (plugin/oneway.ts), the
// union of every prober's counts over a window (plugin/view/union.ts) and its inference
// (plugin/view/infer.ts), and a round of the shell (plugin/view/view.ts) with a fake fetch.
// Counts are made from a ground truth: per link a loss ratio, per stream the expected drops.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assignOneway, type OnewayProber } from "../../plugin/oneway.js";
import { assignedSlice } from "../../plugin/publish/pathslice.js";
import { inferView } from "../../plugin/view/infer.js";
import { linkIndex, splitOnewayId, streamsOf, windowStart, type Round } from "../../plugin/view/union.js";
import { OneView } from "../../plugin/view/view.js";
import { COUNTS_SCHEMA, COUNTS_VERSION, onewayLoss, parseCounts, type CountsReport } from "../../shared/counts.js";
import { onewayTag, parsePathSet, PATHSET_SCHEMA, PATHSET_VERSION, type Path, type PathSet } from "../../shared/pathset.js";
import { createLogger } from "../../shared/log.js";
import { handPath } from "../util/handpath.js";

/** A path over `hops` with lab-like addresses, probeable in IPv4 (and IPv6 with `v6`). */
const path = (hops: string[], v6 = false): Path => handPath(hops, { targets: true, v6, address: (a, b) => `198.18.${a.slice(1)}.${b.slice(1)}` });

// NANOG 6: the equal-cost paths between r1 and r6, both ways.
const ROUTES = [
  ["r1", "r2", "r4", "r6"],
  ["r1", "r2", "r5", "r6"],
  ["r1", "r3", "r4", "r6"],
  ["r1", "r3", "r5", "r6"],
];
const PATHS = ROUTES.flatMap((h) => [path(h, true), path([...h].reverse(), true)]);
const SET: PathSet = {
  schema: PATHSET_SCHEMA,
  version: PATHSET_VERSION,
  generation: 7,
  time: "2026-12-03T00:00:00Z",
  mode: "all",
  families: ["ipv4", "ipv6"],
  topology: { digest: "d", nodes: 6, links: 16, prefixes: 0, peers: [], stale: false },
  pairs: [],
  paths: PATHS,
};

const A: OnewayProber = { id: "a", router: "r1", addresses: { ipv4: "198.18.100.2", ipv6: "2001:2::100:2" }, port: 9470 };
const B: OnewayProber = { id: "b", router: "r6", addresses: { ipv4: "198.18.106.2" }, port: 9471 };

test("one-way: every path with probers at both ends is sent once, source to far end, in the families both ends have", () => {
  const a = assignOneway(SET, [A, B]);
  const out = a.oneway.get("a")!;
  const back = a.oneway.get("b")!;
  assert.equal(out.length, 4);
  assert.equal(back.length, 4);
  for (const o of out) {
    assert.equal(o.src, "r1");
    assert.equal(o.to.prober, "b");
    assert.deepEqual(o.to.address, { ipv4: "198.18.106.2" });
    assert.equal(o.to.port, 9471);
    assert.deepEqual(o.families, ["ipv4"], "b has no IPv6 address");
    assert.equal(o.tag, onewayTag(o.id));
    assert.deepEqual(o.greReverse, []);
    assert.equal(o.targets!.ipv4!.srMpls!.probeable, false);
    assert.deepEqual(splitOnewayId(o.id), { base: o.base, receiver: "b" });
  }
  assert.deepEqual(a.incoming.get("b")!.map((i) => i.id).sort(), out.map((o) => o.id).sort());
  assert.deepEqual(a.incoming.get("b")![0].fromAddress, { ipv4: "198.18.100.2" });
});

test("one-way: no stream without a prober at both ends, none to itself, none in a family an end has no address of", () => {
  assert.equal(assignOneway(SET, [A]).oneway.size, 0);
  const noAddr = assignOneway(SET, [A, { ...B, addresses: {} }]);
  assert.equal(noAddr.oneway.size, 0);
  const loop = assignOneway({ paths: [path(["r1", "r2", "r1"])] }, [A, { ...A, id: "a2" }]);
  assert.equal(loop.oneway.size, 0, "src = dst: no far-end prober");
});

test("one-way: deterministic (input order does not matter), and a prober leaving moves its own streams only", () => {
  const c: OnewayProber = { id: "c", router: "r6", addresses: { ipv4: "198.18.106.3" }, port: 9470 };
  const x = assignOneway(SET, [A, B, c]);
  const y = assignOneway({ paths: [...PATHS].reverse() }, [c, B, A]);
  const ids = (m: Map<string, { id: string }[]>): string[] => [...m.values()].flat().map((o) => o.id).sort();
  assert.deepEqual(ids(x.oneway), ids(y.oneway));
  assert.ok((x.incoming.get("b")?.length ?? 0) > 0 && (x.incoming.get("c")?.length ?? 0) > 0, "both r6 probers receive some");
  const without = assignOneway(SET, [A, B]);
  for (const o of x.oneway.get("a")!.filter((o) => o.to.prober === "b")) assert.ok(without.oneway.get("a")!.some((w) => w.id === o.id), `${o.id} stays`);
});

test("one-way: an assigned slice with one-way paths out and in is a valid version 5 path set, with the mirrors", () => {
  const a = assignOneway(SET, [A, B]);
  const ids = new Set(PATHS.filter((p) => p.src === "r1").map((p) => p.id));
  const slice = parsePathSet(JSON.parse(JSON.stringify(assignedSlice(SET, "r1", ids, { oneway: a.oneway.get("a"), incoming: a.incoming.get("a") }))));
  assert.equal(slice.oneway!.length, 4);
  assert.equal(slice.incoming!.length, 4);
  assert.equal(slice.paths.filter((p) => p.src === "r1").length, 4);
  assert.equal(slice.paths.filter((p) => p.src === "r6").length, 4, "the mirrors come along: the prober reads its way back from them");
  const bad = JSON.parse(JSON.stringify(slice));
  bad.oneway[0].tag = 1;
  assert.throws(() => parsePathSet(bad), /oneway\[0\]\.tag: expected onewayTag/);
  const v4 = { ...JSON.parse(JSON.stringify(slice)), version: 4 };
  assert.throws(() => parsePathSet(v4), /oneway: one-way paths need version 5/);
});

// ---- counts from a ground truth ----

type Truth = Record<string, number>;
const survive = (links: readonly string[], truth: Truth): number => links.reduce((s, l) => s * (1 - (truth[l] ?? 0)), 1);
const reverseOf = (l: string): string => l.split(">").reverse().join(">");

/** Each prober's cumulative report after `seconds` at `pps` per stream, the drops the truth expects. */
function reports(seconds: number, pps: number, truth: Truth, o: { oneway: boolean; nonce?: Record<string, number> }): Map<string, CountsReport> {
  const a = assignOneway(SET, [A, B]);
  const n = seconds * pps;
  const out = new Map<string, CountsReport>();
  for (const p of [A, B]) {
    const mine = PATHS.filter((x) => x.src === p.router);
    const rep: CountsReport = { schema: COUNTS_SCHEMA, version: COUNTS_VERSION, prober: p.id, nonce: o.nonce?.[p.id] ?? 1, generation: 7, time: 0, paths: [], oneway: [], incoming: [] };
    for (const x of mine) {
      const links = x.links.map((l) => l.id);
      const lost = Math.round(n * (1 - survive([...links, ...links.map(reverseOf)], truth)));
      rep.paths.push([x.id, "ipv4", "default", n, lost]);
    }
    if (o.oneway) {
      for (const w of a.oneway.get(p.id) ?? []) rep.oneway.push([w.id, "ipv4", n]);
      for (const i of a.incoming.get(p.id) ?? []) {
        const lost = Math.round(n * (1 - survive(i.links, truth)));
        rep.incoming.push([i.id, "ipv4", i.from, o.nonce?.[i.from] ?? 1, n - lost, lost, n]);
      }
    }
    out.set(p.id, parseCounts(JSON.parse(JSON.stringify(rep))));
  }
  return out;
}

const rounds = (truth: Truth, oneway: boolean): Round[] => [
  { time: 0, reports: reports(10, 25, {}, { oneway }) },
  { time: 30_000, reports: reports(40, 25, truth, { oneway }) },
];

test("union: each stream counted once over the window: loops by their sender, one-way by the pair", () => {
  const ix = linkIndex(SET);
  const s = streamsOf(ix, rounds({}, true), 30_000);
  assert.equal(s.filter((x) => x.kind === "loop").length, 8);
  assert.equal(s.filter((x) => x.kind === "oneway").length, 8);
  for (const x of s) assert.equal(x.sent, 750, "the window's difference, not the cumulative count");
  const loop = s.find((x) => x.kind === "loop" && x.probers[0] === "a")!;
  assert.equal(loop.links.length, 6, "out and back");
  const ow = s.find((x) => x.kind === "oneway" && x.probers[0] === "a")!;
  assert.equal(ow.links.length, 3, "out only");
  assert.deepEqual(ow.probers, ["a", "b"]);
});

test("one view: a 3% loss on r2 -> r4 alone is a group with out-and-back streams, and named alone with one-way ones", () => {
  const ix = linkIndex(SET);
  const truth = { "r2>r4": 0.03 };
  const loops = inferView(streamsOf(ix, rounds(truth, false), 30_000), ix.ends, { suspectAbove: 0.01 });
  const g = loops.links.find((l) => l.link === "r2>r4" || l.group?.includes("r2->r4"))!;
  assert.equal(g.identifiable, false, "out and back cross both directions together");
  const both = inferView(streamsOf(ix, rounds(truth, true), 30_000), ix.ends, { suspectAbove: 0.01 });
  const suspects = both.links.filter((l) => l.suspect);
  assert.deepEqual(suspects.map((l) => `${l.from}->${l.to}`), ["r2->r4"]);
  assert.equal(suspects[0].identifiable, true);
  assert.ok(Math.abs(suspects[0].loss - 0.03) < 0.01, `loss ${suspects[0].loss}`);
  assert.deepEqual(suspects[0].probers, ["a", "b"], "a's loops and a -> b one-way streams lost");
  assert.equal(both.links.find((l) => l.link === "r4>r2")!.suspect, false);
  // The other direction alone: named alone too.
  const rev = inferView(streamsOf(ix, rounds({ "r4>r2": 0.03 }, true), 30_000), ix.ends, { suspectAbove: 0.01 });
  assert.deepEqual(rev.links.filter((l) => l.suspect).map((l) => `${l.from}->${l.to}`), ["r4->r2"]);
  // Healthy: nothing.
  assert.equal(inferView(streamsOf(ix, rounds({}, true), 30_000), ix.ends, { suspectAbove: 0.01 }).links.filter((l) => l.suspect).length, 0);
});

test("union: a restarted prober counts from its restart; a receiver that has no row yet is no loss", () => {
  const ix = linkIndex(SET);
  const r: Round[] = [
    { time: 0, reports: reports(100, 25, {}, { oneway: true }) },
    { time: 30_000, reports: reports(20, 25, {}, { oneway: true, nonce: { a: 2 } }) },
  ];
  const s = streamsOf(ix, r, 30_000);
  const fromA = s.filter((x) => x.probers[0] === "a");
  assert.ok(fromA.length > 0);
  for (const x of fromA) assert.equal(x.sent, 500, `${x.kind}: since the restart`);
  for (const x of s) assert.equal(x.lost, 0);
  // b has not heard of a's streams yet: no incoming rows at all.
  const empty = reports(40, 25, {}, { oneway: true });
  empty.get("b")!.incoming = [];
  const s2 = streamsOf(ix, [{ time: 0, reports: reports(10, 25, {}, { oneway: true }) }, { time: 30_000, reports: empty }], 30_000);
  assert.equal(s2.filter((x) => x.kind === "oneway" && x.probers[0] === "a").length, 0);
});

test("union: a one-way black hole from the first probe (no arrival, no row) is all lost once the receiver provably knew of the stream; named in its direction alone", () => {
  const ix = linkIndex(SET);
  const truth = { "r2>r4": 1 };
  const through = (id: string): boolean => ix.paths.get(splitOnewayId(id)!.base)!.links.some((l) => l.id === "r2>r4");
  /** Reports as a prober of today's makes them: b has no row for what never arrived, and says how long it has known each incoming path. */
  const round = (time: number, seconds: number, o: { knownMs: number; nonceB?: number; timeout?: boolean }): Round => {
    const reps = reports(seconds, 25, time === 0 ? {} : truth, { oneway: true, nonce: { b: o.nonceB ?? 1 } });
    for (const rep of reps.values()) {
      if (o.timeout !== false) rep.timeout = 1000;
      rep.expecting = rep.incoming.map((r) => [r[0], r[1], o.knownMs]);
    }
    const b = reps.get("b")!;
    b.incoming = b.incoming.filter((r) => !through(r[0])); // (a's loops across r2 -> r4 lose all, as the truth says)
    return { time, reports: reps };
  };
  const holes = (s: ReturnType<typeof streamsOf>) => s.filter((x) => x.kind === "oneway" && x.probers[0] === "a" && x.links.includes("r2>r4"));
  // b had known of a's streams a minute before the window began: every probe a settled since is lost.
  const s = streamsOf(ix, [round(0, 10, { knownMs: 60_000 }), round(30_000, 40, { knownMs: 90_000 })], 30_000, 5_000);
  assert.equal(holes(s).length, 1, "a's r1 -> r6 path across r2 -> r4 (r1 r2 r4 r6)");
  for (const x of holes(s)) assert.deepEqual([x.sent, x.lost], [750, 750]);
  const v = inferView(s, ix.ends, { suspectAbove: 0.01 });
  assert.deepEqual(v.links.filter((l) => l.suspect).map((l) => `${l.from}->${l.to}`), ["r2->r4"], "b -> a one-way streams clear r4 -> r2");
  assert.equal(v.links.find((l) => l.link === "r2>r4")!.identifiable, true);
  // Not (yet) provably known: b learned of them within the sender's timeout + skew of the first round: nothing.
  assert.equal(holes(streamsOf(ix, [round(0, 10, { knownMs: 5_000 }), round(30_000, 40, { knownMs: 35_000 })], 30_000, 5_000)).length, 0);
  // Dropped and re-added in between (b's age went back), b restarted (another nonce), or a's report without its timeout (an older prober): nothing.
  assert.equal(holes(streamsOf(ix, [round(0, 10, { knownMs: 60_000 }), round(30_000, 40, { knownMs: 10_000 })], 30_000, 5_000)).length, 0);
  assert.equal(holes(streamsOf(ix, [round(0, 10, { knownMs: 60_000 }), round(30_000, 40, { knownMs: 90_000, nonceB: 2 })], 30_000, 5_000)).length, 0);
  assert.equal(holes(streamsOf(ix, [round(0, 10, { knownMs: 60_000, timeout: false }), round(30_000, 40, { knownMs: 90_000, timeout: false })], 30_000, 5_000)).length, 0);
  // A later first round qualifies: counted from there.
  const r3 = [round(0, 10, { knownMs: 1_000 }), round(10_000, 20, { knownMs: 11_000 }), round(30_000, 40, { knownMs: 31_000 })];
  for (const x of holes(streamsOf(ix, r3, 30_000, 5_000))) assert.deepEqual([x.sent, x.lost], [500, 500], "from the round at 10 s");
});

test("union: the window starts at the oldest round inside it", () => {
  const r = [0, 10_000, 20_000, 30_000, 40_000].map((time) => ({ time, reports: new Map() }));
  assert.equal(windowStart(r, 30_000), 1);
  assert.equal(windowStart(r, 5_000), 4);
  assert.equal(windowStart(r.slice(0, 1), 30_000), 0);
});

test("onewayLoss: gaps the receiver saw, and the tail it never saw", () => {
  const table: Array<[number, { lost: number; next: number } | undefined, number]> = [
    [100, { lost: 0, next: 100 }, 0],
    [100, { lost: 3, next: 100 }, 3],
    [100, { lost: 3, next: 90 }, 13],
    [100, { lost: 0, next: 120 }, 0],
    [100, undefined, 100],
    [10, { lost: 50, next: 60 }, 10],
  ];
  for (const [settled, row, want] of table) assert.equal(onewayLoss(settled, row), want, JSON.stringify([settled, row]));
});

test("parseCounts names what is wrong and where", () => {
  const good = { schema: COUNTS_SCHEMA, version: 1, prober: "a", nonce: 1, generation: 1, time: 1, paths: [["p", "ipv4", "default", 1, 0]], oneway: [], incoming: [] };
  assert.equal(parseCounts(good).paths.length, 1);
  assert.throws(() => parseCounts({ ...good, paths: [["p", "ipv5", "default", 1, 0]] }, "http://x/v1/counts"), /http:\/\/x\/v1\/counts: paths\[0\]\[1\]: af: expected "ipv4" or "ipv6", got "ipv5"/);
  assert.throws(() => parseCounts({ ...good, incoming: [["p", "ipv4", "a", 1, 1, 0]] }), /incoming\[0\]: expected \[id, af, sender, senderNonce, received, lost, next\]/);
  assert.throws(() => parseCounts({ ...good, schema: "x" }), /schema: expected "lsprobe\/counts"/);
  assert.deepEqual(parseCounts({ ...good, expecting: [["p", "ipv4", 1500]], timeout: 1000 }).expecting, [["p", "ipv4", 1500]], "a newer prober's optional keys");
  assert.equal(parseCounts(good).expecting, undefined, "an older prober's report has none");
  assert.throws(() => parseCounts({ ...good, expecting: [["p", "ipv4", -1]] }), /expecting\[0\]\[2\]: knownMs: expected a non-negative integer/);
  assert.throws(() => parseCounts({ ...good, timeout: "1s" }), /timeout: expected the prober's timeout in milliseconds/);
});

test("OneView: a round pulls every prober with a URL, survives one that fails, and names the link (inferred in its worker thread)", async (t2) => {
  const lines: string[] = [];
  const log = createLogger({ name: "test", stream: { write: (s: string) => lines.push(s) } });
  let t = 0;
  const truth = { "r2>r4": 0.03 };
  const fetch = async (url: string): Promise<CountsReport> => {
    if (url.includes("/c/")) throw new Error(`${url}: connect ECONNREFUSED`);
    const id = url.includes("/a/") ? "a" : "b";
    return reports(t === 0 ? 10 : 40, 25, t === 0 ? {} : truth, { oneway: true }).get(id)!;
  };
  let probers: Array<{ id: string; counts: string | null }> = [{ id: "a", counts: "http://p/a/v1/counts" }, { id: "b", counts: "http://p/b/v1/counts" }, { id: "c", counts: "http://p/c/v1/counts" }, { id: "d", counts: null }];
  const view = new OneView({ interval: 1000, window: 30_000, timeout: 800, lossyAbove: 0.01 }, { set: () => SET, probers: () => probers }, () => log, fetch, () => t);
  t2.after(() => view.close());
  await view.round();
  t = 30_000;
  const r = await view.round();
  assert.deepEqual(r!.links.filter((l) => l.suspect).map((l) => l.link), ["r2>r4"]);
  const st = view.view();
  assert.equal(st.pullErrors.get("c"), 2);
  assert.equal(st.pulls.get("a")!.ok, true);
  assert.equal(st.pulls.has("d"), false, "no URL: not pulled");
  assert.ok(lines.some((l) => l.includes("one view: link suspect") && l.includes("r2>r4")), lines.join(""));
  assert.equal(lines.filter((l) => l.includes("counts not pulled")).length, 1, "a failing prober is logged once, not every round");
  assert.ok(!lines.some((l) => l.includes("inference worker failed")), "the worker thread did the inference");
  probers = probers.filter((p) => p.id !== "c");
  await view.round();
  assert.equal(view.view().pulls.has("c"), false, "a prober that left is forgotten (no failing state for ever)");
});
