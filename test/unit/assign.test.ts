// Shared coverage (issue 14, Must 2): plugin/assign.ts as tables. Paths are made by hand (the
// equal-cost paths of NANOG 6 and of the ladder), links numbered so that a link and its reverse
// mirror their addresses, as BGP-LS gives them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assignPaths, loopsOf, weight, type Assignment, type ProberRef } from "../../plugin/assign.js";
import type { Path } from "../../shared/pathset.js";
import { handPath } from "../util/handpath.js";

const path = (...hops: string[]): Path => handPath(hops);

/** Every path and its mirror. */
const bothWays = (...ps: string[][]): Path[] => ps.flatMap((h) => [path(...h), path(...[...h].reverse())]);

// NANOG 6 (r1-r2, r1-r3, r2-r4, r2-r5, r3-r4, r3-r5, r4-r6, r5-r6, all metric 10): the
// equal-cost paths among r1, r3 and r6.
const NANOG = bothWays(
  ["r1", "r2", "r4", "r6"],
  ["r1", "r2", "r5", "r6"],
  ["r1", "r3", "r4", "r6"],
  ["r1", "r3", "r5", "r6"],
  ["r1", "r3"],
  ["r3", "r4", "r6"],
  ["r3", "r5", "r6"],
);
const P1 = { id: "p1", router: "r1" };
const P3 = { id: "p3", router: "r3" };
const P6 = { id: "p6", router: "r6" };

const assign = (paths: Path[], probers: ProberRef[], perLink?: number): Assignment => assignPaths({ paths }, probers, perLink);
const cov = (a: Assignment): Record<string, number> => Object.fromEntries(a.links.map((l) => [l.link, l.probers.length]));
const asObject = (a: Assignment) => ({ byProber: Object.fromEntries(a.byProber), base: Object.fromEntries([...a.base].sort()), links: a.links, unprobed: a.unprobed });
const srcOf = new Map(NANOG.map((p) => [p.id, p.src]));

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

test("loops: a path and its mirror are one loop crossing both directions of its links", () => {
  const { loops } = loopsOf(NANOG);
  assert.equal(loops.length, 7);
  const l = loops.find((x) => x.members.some((m) => m.id === "r1>r2>r4>r6"))!;
  assert.deepEqual(l.members.map((m) => m.id).sort(), ["r1>r2>r4>r6", "r6>r4>r2>r1"]);
  assert.deepEqual(l.links, ["r1>r2", "r2>r1", "r2>r4", "r4>r2", "r4>r6", "r6>r4"]);
  // A path without its mirror in the set: a loop of one, its reverse links known from others.
  const alone = loopsOf([path("r1", "r2", "r4"), path("r4", "r2")]).loops;
  assert.deepEqual(alone.map((x) => x.links), [["r1>r2", "r2>r4", "r4>r2"], ["r2>r4", "r4>r2"]]);
});

const CASES: Record<string, { paths: Path[]; probers: ProberRef[]; perLink?: number; coverage: Record<string, number>; undercovered: number; unprobed?: number }> = {
  "NANOG 6, probers behind r1, r3 and r6: every link by two": {
    paths: NANOG,
    probers: [P1, P3, P6],
    coverage: Object.fromEntries(["r1>r2", "r2>r1", "r1>r3", "r3>r1", "r2>r4", "r4>r2", "r2>r5", "r5>r2", "r3>r4", "r4>r3", "r3>r5", "r5>r3", "r4>r6", "r6>r4", "r5>r6", "r6>r5"].map((l) => [l, 2])),
    undercovered: 0,
  },
  "NANOG 6 without r6's prober: the links only r1 <-> r6 paths cross have one prober (p1); the rest two": {
    paths: NANOG,
    probers: [P1, P3],
    coverage: { "r1>r2": 1, "r2>r1": 1, "r2>r4": 1, "r4>r2": 1, "r2>r5": 1, "r5>r2": 1, "r1>r3": 2, "r3>r1": 2, "r3>r4": 2, "r4>r3": 2, "r3>r5": 2, "r5>r3": 2, "r4>r6": 2, "r6>r4": 2, "r5>r6": 2, "r6>r5": 2 },
    undercovered: 6,
  },
  "one prober: every loop is its, every link has one": {
    paths: NANOG,
    probers: [P1],
    coverage: Object.fromEntries(["r1>r2", "r2>r1", "r1>r3", "r3>r1", "r2>r4", "r4>r2", "r2>r5", "r5>r2", "r3>r4", "r4>r3", "r3>r5", "r5>r3", "r4>r6", "r6>r4", "r5>r6", "r6>r5"].map((l) => [l, 1])),
    undercovered: 16,
    unprobed: 4, // r3 <-> r6, both ways: neither end has a prober
  },
  "no prober: nothing probed, every link undercovered": {
    paths: NANOG,
    probers: [],
    coverage: Object.fromEntries(["r1>r2", "r2>r1", "r1>r3", "r3>r1", "r2>r4", "r4>r2", "r2>r5", "r5>r2", "r3>r4", "r4>r3", "r3>r5", "r5>r3", "r4>r6", "r6>r4", "r5>r6", "r6>r5"].map((l) => [l, 0])),
    undercovered: 16,
    unprobed: 14,
  },
  "two probers behind one router (r1 <-> r6 only, r6 without one): two per link from the same router": {
    paths: NANOG.filter((p) => [p.src, p.dst].sort().join() === "r1,r6"),
    probers: [P1, { id: "p1b", router: "r1" }],
    coverage: Object.fromEntries(["r1>r2", "r2>r1", "r1>r3", "r3>r1", "r2>r4", "r4>r2", "r2>r5", "r5>r2", "r3>r4", "r4>r3", "r3>r5", "r5>r3", "r4>r6", "r6>r4", "r5>r6", "r6>r5"].map((l) => [l, 2])),
    undercovered: 0,
  },
  "perLink 3 where three probers can, two where two can": {
    paths: NANOG,
    probers: [P1, P3, P6],
    perLink: 3,
    coverage: { "r1>r2": 2, "r2>r1": 2, "r2>r4": 2, "r4>r2": 2, "r2>r5": 2, "r5>r2": 2, "r1>r3": 3, "r3>r1": 3, "r3>r4": 3, "r4>r3": 3, "r3>r5": 3, "r5>r3": 3, "r4>r6": 3, "r6>r4": 3, "r5>r6": 3, "r6>r5": 3 },
    undercovered: 6,
  },
  "a prober behind a router no path starts at gets nothing": {
    paths: NANOG,
    probers: [P1, P3, P6, { id: "p2", router: "r2" }],
    coverage: Object.fromEntries(["r1>r2", "r2>r1", "r1>r3", "r3>r1", "r2>r4", "r4>r2", "r2>r5", "r5>r2", "r3>r4", "r4>r3", "r3>r5", "r5>r3", "r4>r6", "r6>r4", "r5>r6", "r6>r5"].map((l) => [l, 2])),
    undercovered: 0,
  },
};

for (const [name, c] of Object.entries(CASES)) {
  test(`assign: ${name}`, () => {
    const a = assign(c.paths, c.probers, c.perLink);
    // Coverage as far as it is asked for (a link may get more: another link's extra crosses it).
    const k = c.perLink ?? 2;
    assert.deepEqual(Object.fromEntries(Object.entries(cov(a)).map(([l, n]) => [l, Math.min(n, k)])), c.coverage);
    assert.equal(a.undercovered, c.undercovered);
    assert.equal(a.unprobed.length, c.unprobed ?? 0);
    // A prober only starts paths at its own router; every path with a prober at either end is probed.
    for (const p of c.probers) for (const id of a.byProber.get(p.id)!) assert.equal(c.paths.find((x) => x.id === id)!.src, p.router, `${p.id} given ${id}`);
    const probed = new Set([...a.byProber.values()].flat());
    for (const { members } of loopsOf(c.paths).loops) {
      const startable = members.some((m) => c.probers.some((p) => p.router === m.src));
      assert.equal(members.some((m) => probed.has(m.id)), startable, members[0].id);
    }
    // Where a link has fewer than perLink probers, the reason says why.
    for (const l of a.links) assert.equal(l.reason !== undefined, l.probers.length < (c.perLink ?? 2), l.link);
  });
}

test("assign: a link short of probers says why (one prober's paths, or none)", () => {
  const a = assign(NANOG, [P1, P3]);
  assert.equal(a.links.find((l) => l.link === "r2>r4")!.reason, "only one prober's paths cross it (p1): the other routers its paths start or end at have no live prober");
  const none = assign(NANOG, []);
  assert.match(none.links[0].reason!, /^no live prober can start a path across it/);
});

test("assign: deterministic whatever the order of the paths and of the probers", () => {
  const want = asObject(assign(NANOG, [P1, P3, P6, { id: "p1b", router: "r1" }]));
  for (let seed = 1; seed <= 20; seed++) {
    const got = assign(shuffle(NANOG, seed), shuffle([P1, P3, P6, { id: "p1b", router: "r1" }], seed * 7));
    // Lists are in the order of the set given: compare them as sets.
    const norm = (o: ReturnType<typeof asObject>) => ({ ...o, byProber: Object.fromEntries(Object.entries(o.byProber).map(([k, v]) => [k, [...v].sort()])), unprobed: [...o.unprobed].sort() });
    assert.deepEqual(norm(asObject(got)), norm(want), `seed ${seed}`);
  }
});

test("assign: a prober that leaves moves only the loops it won; when it returns it gets them back, exactly", () => {
  const all = [P1, { id: "p1b", router: "r1" }, P3, P6, { id: "p6b", router: "r6" }];
  const before = assign(NANOG, all);
  for (const gone of all) {
    const after = assign(NANOG, all.filter((p) => p !== gone));
    for (const [pathId, prober] of before.base) {
      if (prober !== gone.id) assert.equal(after.base.get(pathId), prober, `${pathId} stays with ${prober} when ${gone.id} leaves`);
    }
    // What it won went to others (the same router's, or the other end's through the mirror).
    const won = [...before.base].filter(([, p]) => p === gone.id).map(([id]) => id);
    const loops = loopsOf(NANOG).loops;
    for (const id of won) {
      const loop = loops.find((l) => l.members.some((m) => m.id === id))!;
      const heir = loop.members.map((m) => after.base.get(m.id)).find((p) => p !== undefined);
      assert.ok(heir !== undefined && heir !== gone.id, `${id} has another prober`);
    }
    assert.deepEqual(asObject(assign(NANOG, all)), asObject(before), "back: the same assignment");
  }
  // The spread is the hash's: with two probers behind r1 and r6 each, each one wins some.
  const counts = new Map<string, number>();
  for (const p of before.base.values()) counts.set(p, (counts.get(p) ?? 0) + 1);
  assert.ok([...counts.keys()].length >= 3, JSON.stringify([...counts]));
});

test("assign: every prober's list holds only paths of its router, and the weight is the hash of (path id, prober id)", () => {
  const a = assign(NANOG, [P1, P3, P6]);
  for (const [prober, ids] of a.byProber) for (const id of ids) assert.equal(srcOf.get(id), { p1: "r1", p3: "r3", p6: "r6" }[prober]);
  assert.equal(weight("r1>r3", "p1"), weight("r1>r3", "p1"));
  assert.notEqual(weight("r1>r3", "p1"), weight("r1>r3", "p3"));
  assert.match(weight("x", "y"), /^[0-9a-f]{16}$/);
});

test("assign: the ladder with probers behind a1, a4 and b4: every link the paths cross by two", () => {
  // The ladder's rungs a_i-b_i and rails; paths among a1, a4 and b4 (equal cost, by hand).
  const ladder = bothWays(["a1", "a2", "a3", "a4"], ["a4", "b4"], ["a1", "a2", "a3", "a4", "b4"], ["a1", "a2", "a3", "b3", "b4"], ["a1", "a2", "b2", "b3", "b4"], ["a1", "b1", "b2", "b3", "b4"]);
  const a = assign(ladder, [
    { id: "x", router: "a1" },
    { id: "y", router: "a4" },
    { id: "z", router: "b4" },
  ]);
  assert.equal(a.undercovered, 0);
  assert.ok(Object.values(cov(a)).every((n) => n === 2 || n === 3), JSON.stringify(cov(a)));
});
