// The probe plan: hand-checked tables, and invariants checked by brute force against the
// candidates themselves (signatures recomputed from the link lists, not from the planner).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BETA2_MAX_SETS, planProbes, type PlanCandidate, type PlanOptions, type PlanReport } from "../../plugin/plan.js";
import { compileGraph, EcmpSource } from "../../plugin/ecmp.js";
import { readTopologyJson, topologyFromJson } from "../util/edgelist.js";
import { mulberry32 } from "../util/rng.js";

/** "a-b-c" -> directed links a>b, b>c. */
const hops = (path: string): string[] => {
  const n = path.split("-");
  return n.slice(1).map((to, i) => `${n[i]}>${to}`);
};
const mirror = (link: string): string => link.split(">").reverse().join(">");
/** The prober's `reverse` mode: out over the path, back over its mirror. */
const outAndBack = (path: string): PlanCandidate => ({ id: path, links: [...hops(path), ...hops(path).reverse().map(mirror)] });
/** `routed` mode: out only. */
const routed = (path: string): PlanCandidate => ({ id: path, links: hops(path) });
/** Both directions of undirected links "a-b". */
const bothWays = (edges: string[]): string[] => edges.flatMap((e) => [e.replace("-", ">"), mirror(e.replace("-", ">"))]);
/** Links as undirected names, for short assertions: [a>b, b>a, b>c] -> "a-b+b-c". */
const edgeNames = (links: readonly string[]): string =>
  [...new Set(links.map((l) => l.split(">").sort().join("-")))].sort().join("+");

const NANOG_R1_R6 = ["r1-r2-r4-r6", "r1-r2-r5-r6", "r1-r3-r4-r6", "r1-r3-r5-r6"];
const NANOG_R2_R3 = ["r2-r1-r3", "r2-r4-r3", "r2-r5-r3"];
const NANOG_EDGES = ["r1-r2", "r1-r3", "r2-r4", "r2-r5", "r3-r4", "r3-r5", "r4-r6", "r5-r6"];

/** Sets of up to `beta` links, as link lists. */
function failureSets(links: string[], beta: number): string[][] {
  const out: string[][] = links.map((l) => [l]);
  if (beta >= 2) for (let i = 0; i < links.length; i++) for (let j = i + 1; j < links.length; j++) out.push([links[i], links[j]]);
  return out;
}

/** The paths of `paths` that cross at least one link of `failed`, as one string. */
const signature = (paths: readonly PlanCandidate[], failed: string[]): string =>
  paths.filter((p) => failed.some((l) => p.links.includes(l))).map((p) => p.id).join("|");

/**
 * Invariants, recomputed from the candidates: coverage counts; coverage >= min(alpha, k) unless
 * budget-limited; two failure sets of up to beta links have different signatures over the chosen
 * paths whenever they have different signatures over all candidates (and none is empty); the
 * same-paths groups are exactly the links every candidate crosses alike.
 */
function checkInvariants(cands: PlanCandidate[], opts: PlanOptions, r: PlanReport): void {
  const ids = new Set(r.paths.map((p) => p.id));
  const chosen = cands.filter((c) => ids.has(c.id));
  assert.equal(chosen.length, r.paths.length, "chosen ids are candidates");
  assert.deepEqual(r.paths.map((p) => p.id), chosen.map((c) => c.id), "paths in candidate order");
  const links = [...new Set(cands.flatMap((c) => c.links))];
  const alpha = opts.alpha ?? 2;
  const crossing = new Map<string, number>();
  const crossingChosen = new Map<string, number>();
  for (const c of cands) for (const l of new Set(c.links)) crossing.set(l, (crossing.get(l) ?? 0) + 1);
  for (const c of chosen) for (const l of new Set(c.links)) crossingChosen.set(l, (crossingChosen.get(l) ?? 0) + 1);
  for (const l of links) {
    assert.equal(r.coverage[l], crossingChosen.get(l) ?? 0, `coverage of ${l}`);
    if (!r.budgetLimited) assert.ok(r.coverage[l] >= Math.min(alpha, crossing.get(l)!), `${l}: coverage ${r.coverage[l]} < min(${alpha}, ${crossing.get(l)})`);
  }
  // Links every candidate crosses alike, grouped by their signature over all candidates.
  const byAll = new Map<string, string[]>();
  for (const l of links) {
    const s = signature(cands, [l]);
    byAll.set(s, [...(byAll.get(s) ?? []), l]);
  }
  const series = [...byAll.values()].filter((g) => g.length > 1).map((g) => [...g].sort());
  const reported = r.unidentifiable.filter((u) => u.cause === "same-paths" && u.sets === undefined).map((u) => [...u.links].sort());
  assert.deepEqual(reported.sort(), series.sort(), "same-paths groups");
  // Links the chosen paths do not tell apart though candidates do, or that no chosen path crosses.
  const byChosenLink = new Map<string, string[]>();
  for (const l of links) {
    const s = signature(chosen, [l]);
    byChosenLink.set(s, [...(byChosenLink.get(s) ?? []), l]);
  }
  const merged = [...byChosenLink]
    .filter(([s, g]) => s === "" || new Set(g.map((l) => signature(cands, [l]))).size > 1)
    .map(([, g]) => [...g].sort());
  const lost = r.unidentifiable.filter((u) => u.cause !== "same-paths" && u.sets === undefined).map((u) => [...u.links].sort());
  assert.deepEqual(lost.sort(), merged.sort(), "groups the chosen paths do not tell apart");
  if (r.budgetLimited || r.beta === 0) return;
  // Failure sets by signature over the chosen paths: one signature over all candidates each.
  const byChosen = new Map<string, Set<string>>();
  for (const f of failureSets(links, r.beta)) {
    const sc = signature(chosen, f);
    assert.notEqual(sc, "", `a failure of ${f.join(",")} would go unseen`);
    const g = byChosen.get(sc) ?? new Set<string>();
    g.add(signature(cands, f));
    byChosen.set(sc, g);
  }
  for (const [sc, all] of byChosen) assert.equal(all.size, 1, `failures told apart by candidates look alike over the chosen paths (${sc})`);
}

// --- NANOG 6 -------------------------------------------------------------------------------------

const nanogTables: Record<
  string,
  {
    cands: PlanCandidate[];
    opts: PlanOptions;
    allLinks?: string[];
    want: string[];
    rate: number;
    coverage: Record<string, number>;
    series: string[];
    uncovered?: string[];
  }
> = {
  // Each middle link (r2-r4, r2-r5, r3-r4, r3-r5) is on one r1->r6 path only, so every plan needs
  // all four, and they tell all eight links apart: signatures AB, CD, A, B, C, D, AC, BD.
  // alpha = 2 costs nothing more, and cannot lift the middle links above their one candidate.
  "r1->r6 out and back, alpha 2, beta 1: all four paths, every link identifiable": {
    cands: NANOG_R1_R6.map(outAndBack),
    opts: { budgetPps: 100 },
    want: NANOG_R1_R6,
    rate: 25,
    coverage: { "r1>r2": 2, "r2>r1": 2, "r2>r4": 1, "r4>r6": 2, "r1>r3": 2, "r3>r5": 1, "r5>r6": 2, "r6>r5": 2 },
    // Out and back, the two directions of a link are crossed by the same paths: one group each.
    series: NANOG_EDGES,
  },
  "r1->r6 out and back, alpha 1, beta 0 (coverage only): still all four": {
    cands: NANOG_R1_R6.map(outAndBack),
    opts: { budgetPps: 100, alpha: 1, beta: 0 },
    want: NANOG_R1_R6,
    rate: 25,
    coverage: { "r1>r2": 2, "r2>r4": 1 },
    series: NANOG_EDGES,
  },
  "r1->r6 routed: the way back is not probed, its links are uncovered": {
    cands: NANOG_R1_R6.map(routed),
    opts: { budgetPps: 10 },
    allLinks: bothWays(NANOG_EDGES),
    want: NANOG_R1_R6,
    rate: 2.5,
    coverage: { "r1>r2": 2, "r2>r1": 0, "r2>r4": 1, "r4>r6": 2 },
    series: [],
    uncovered: ["r2>r1", "r3>r1", "r4>r2", "r5>r2", "r4>r3", "r5>r3", "r6>r4", "r6>r5"],
  },
  // With r2<->r3 too (E = r2-r1-r3, F = r2-r4-r3, G = r2-r5-r3), each middle link has a second
  // candidate. alpha 1: the four r1->r6 paths come first (three links each) and already tell
  // every link apart; E, F, G gain nothing after them.
  "r1->r6 and r2->r3, alpha 1: four paths": {
    cands: [...NANOG_R1_R6, ...NANOG_R2_R3].map(outAndBack),
    opts: { budgetPps: 100, alpha: 1 },
    want: NANOG_R1_R6,
    rate: 25,
    coverage: { "r1>r2": 2, "r2>r4": 1, "r3>r4": 1 },
    series: NANOG_EDGES,
  },
  // alpha 2 costs two more paths: r2-r4 needs F (A is its other), r3-r5 needs G; E is not needed
  // (r1-r2 and r1-r3 have two already). A seventh path would leave r2-r4 two paths at 120/7 =
  // 17.1 pps, 34.3 pps in all: below minLinkPps 41, so no spare path (see "spare budget" below).
  "r1->r6 and r2->r3, alpha 2: six paths": {
    cands: [...NANOG_R1_R6, ...NANOG_R2_R3].map(outAndBack),
    opts: { budgetPps: 120, minLinkPps: 41 },
    want: [...NANOG_R1_R6, "r2-r4-r3", "r2-r5-r3"],
    rate: 20,
    coverage: { "r1>r2": 2, "r2>r4": 2, "r3>r4": 2, "r3>r5": 2, "r4>r6": 2 },
    series: NANOG_EDGES,
  },
  "r1->r6 and r2->r3, alpha 3: all seven (r2-r4 has only two candidates)": {
    cands: [...NANOG_R1_R6, ...NANOG_R2_R3].map(outAndBack),
    opts: { budgetPps: 7000, alpha: 3 },
    want: [...NANOG_R1_R6, ...NANOG_R2_R3],
    rate: 100,
    coverage: { "r1>r2": 3, "r2>r4": 2, "r1>r3": 3 },
    series: NANOG_EDGES,
  },
};
for (const [name, c] of Object.entries(nanogTables)) {
  test(`plan: NANOG 6 ${name}`, (t) => {
    const t0 = performance.now();
    const r = planProbes(c.cands, c.opts, c.allLinks);
    t.diagnostic(`${r.paths.length} of ${c.cands.length} candidate paths, planned in ${(performance.now() - t0).toFixed(2)} ms`);
    assert.deepEqual(r.paths.map((p) => p.id), c.want);
    for (const p of r.paths) assert.equal(p.rate, c.rate);
    for (const [l, n] of Object.entries(c.coverage)) assert.equal(r.coverage[l], n, `coverage of ${l}`);
    assert.deepEqual(r.unidentifiable.filter((u) => u.cause === "same-paths").map((u) => edgeNames(u.links)).sort(), [...c.series].sort());
    assert.ok(r.unidentifiable.every((u) => u.cause === "same-paths"), "nothing else is unidentifiable");
    assert.deepEqual(r.uncovered, c.uncovered ?? []);
    assert.equal(r.budgetLimited, false);
    checkInvariants(c.cands, c.opts, r);
  });
}

test("plan: NANOG 6 beta 2: the two-link failures no plan tells apart", () => {
  const cands = NANOG_R1_R6.map(outAndBack);
  const opts = { budgetPps: 100, beta: 2 };
  const r = planProbes(cands, opts);
  assert.equal(r.beta, 2);
  assert.deepEqual(r.paths.map((p) => p.id), NANOG_R1_R6);
  // A = r1-r2-r4-r6 ... D = r1-r3-r5-r6. Links: r1-r2 AB, r1-r3 CD, r2-r4 A, r2-r5 B, r3-r4 C,
  // r3-r5 D, r4-r6 AC, r5-r6 BD. Failure sets grouped by the union of their signatures; only
  // {r2-r4, r3-r5} (AD), {r2-r5, r3-r4} (BC) and the four middle links alone are unique.
  const groups = r.unidentifiable.filter((u) => u.sets).map((u) => ({ cause: u.cause, sets: u.sets!.map(edgeNames) }));
  assert.deepEqual(groups, [
    { cause: "same-paths", sets: ["r1-r2", "r1-r2+r2-r4", "r1-r2+r2-r5", "r2-r4+r2-r5"] }, // AB
    { cause: "same-paths", sets: ["r4-r6", "r2-r4+r4-r6", "r2-r4+r3-r4", "r3-r4+r4-r6"] }, // AC
    { cause: "same-paths", sets: ["r5-r6", "r2-r5+r5-r6", "r2-r5+r3-r5", "r3-r5+r5-r6"] }, // BD
    { cause: "same-paths", sets: ["r1-r3", "r1-r3+r3-r4", "r1-r3+r3-r5", "r3-r4+r3-r5"] }, // CD
    { cause: "same-paths", sets: ["r1-r2+r4-r6", "r1-r2+r3-r4", "r2-r5+r4-r6"] }, // ABC
    { cause: "same-paths", sets: ["r1-r2+r5-r6", "r1-r2+r3-r5", "r2-r4+r5-r6"] }, // ABD
    { cause: "same-paths", sets: ["r1-r2+r1-r3", "r4-r6+r5-r6"] }, // ABCD
    { cause: "same-paths", sets: ["r1-r3+r2-r4", "r1-r3+r4-r6", "r3-r5+r4-r6"] }, // ACD
    { cause: "same-paths", sets: ["r1-r3+r2-r5", "r1-r3+r5-r6", "r3-r4+r5-r6"] }, // BCD
  ]);
  checkInvariants(cands, opts, r);
});

test("plan: NANOG 6 r1->r6 out and back: the signature of each link (A..D = the four paths)", () => {
  const cands = NANOG_R1_R6.map(outAndBack);
  const r = planProbes(cands, { budgetPps: 100 });
  const letter = new Map(NANOG_R1_R6.map((id, i) => [id, "ABCD"[i]]));
  const sigs = Object.fromEntries(
    NANOG_EDGES.map((e) => [e, signature(cands.filter((c) => r.paths.some((p) => p.id === c.id)), [e.replace("-", ">")]).split("|").map((id) => letter.get(id)).join("")]),
  );
  assert.deepEqual(sigs, { "r1-r2": "AB", "r1-r3": "CD", "r2-r4": "A", "r2-r5": "B", "r3-r4": "C", "r3-r5": "D", "r4-r6": "AC", "r5-r6": "BD" });
});

// --- links in series ------------------------------------------------------------------------------

test("plan: links in series (a-b-c-d-e, no branch at c) are one group no plan splits", () => {
  // Routed (out only). b>c and c>d are crossed by a-e and a-d and by nothing else: every path
  // that crosses one crosses the other. a>b and d>e are told apart by a-b and d-e.
  const cands = ["a-b-c-d-e", "a-b", "d-e", "a-b-c-d"].map(routed);
  const all = bothWays(["a-b", "b-c", "c-d", "d-e"]);
  for (const alpha of [1, 2]) {
    const opts = { budgetPps: 30, alpha };
    const r = planProbes(cands, opts, all);
    // alpha 1: a-b-c-d-e first (it separates most), then a-b and d-e split the rest.
    // alpha 2: b>c and c>d need a second path: a-b-c-d.
    assert.deepEqual(r.paths.map((p) => p.id), alpha === 1 ? ["a-b-c-d-e", "a-b", "d-e"] : ["a-b-c-d-e", "a-b", "d-e", "a-b-c-d"]);
    assert.deepEqual(r.unidentifiable.map((u) => [u.cause, u.links]), [["same-paths", ["b>c", "c>d"]]]);
    assert.match(r.unidentifiable[0].reason, /in series/);
    assert.deepEqual(r.uncovered, ["b>a", "c>b", "d>c", "e>d"]);
    assert.equal(r.coverage["c>b"], 0);
    checkInvariants(cands, opts, r);
  }
});

// --- two diamonds in a line -------------------------------------------------------------------------

// s -< a | b >- m -< c | d >- t, out and back. Links pair up in series inside each branch, so the
// units are A = s-a-m, B = s-b-m, C = m-c-t, D = m-d-t; paths AC, AD, BC, BD.
const DIAMONDS = ["s-a-m-c-t", "s-a-m-d-t", "s-b-m-c-t", "s-b-m-d-t"];

test("plan: two diamonds in a line: beta 1 needs three of the four paths, and these three do", () => {
  const cands = DIAMONDS.map(outAndBack);
  const opts = { budgetPps: 30, alpha: 1 };
  const r = planProbes(cands, opts);
  // AC first; then AD (splits A from C, covers D); then BC (splits B from the empty signature).
  assert.deepEqual(r.paths.map((p) => p.id), ["s-a-m-c-t", "s-a-m-d-t", "s-b-m-c-t"]);
  assert.deepEqual(r.unidentifiable.map((u) => edgeNames(u.links)), ["a-m+a-s", "c-m+c-t", "d-m+d-t", "b-m+b-s"]);
  // Brute force: every single-link failure has a non-empty signature, distinct unless the links
  // are in series (same unit).
  const chosen = cands.filter((c) => r.paths.some((p) => p.id === c.id));
  const links = [...new Set(cands.flatMap((c) => c.links))];
  const unit = (l: string): string => r.unidentifiable.find((u) => u.links.includes(l))!.links.join();
  for (const x of links) {
    assert.notEqual(signature(chosen, [x]), "", x);
    for (const y of links) if (unit(x) !== unit(y)) assert.notEqual(signature(chosen, [x]), signature(chosen, [y]), `${x} vs ${y}`);
  }
  // And no two paths do it: the greedy is optimal here.
  for (let i = 0; i < 4; i++)
    for (let j = i + 1; j < 4; j++) {
      const two = [cands[i], cands[j]];
      const sigs = ["s>a", "s>b", "m>c", "m>d"].map((l) => signature(two, [l]));
      assert.ok(sigs.includes("") || new Set(sigs).size < 4, `${two.map((c) => c.id)} would do`);
    }
  checkInvariants(cands, opts, r);
});

test("plan: two diamonds in a line: alpha 2, or beta 2, takes all four", () => {
  const cands = DIAMONDS.map(outAndBack);
  const a2 = planProbes(cands, { budgetPps: 40 });
  assert.deepEqual(a2.paths.map((p) => p.id), DIAMONDS);
  checkInvariants(cands, { budgetPps: 40 }, a2);
  // beta 2 without alpha: with three paths (say no BD), A+B and A+C both fail AC, AD, BC.
  const b2 = planProbes(cands, { budgetPps: 40, alpha: 1, beta: 2 });
  assert.deepEqual(b2.paths.map((p) => p.id), DIAMONDS);
  // Still, A+B and C+D both fail every path: no plan tells them apart.
  assert.deepEqual(
    b2.unidentifiable.filter((u) => u.sets).map((u) => [u.cause, u.sets!.map(edgeNames)]),
    [["same-paths", ["a-m+a-s+b-m+b-s", "c-m+c-t+d-m+d-t"]]],
  );
  checkInvariants(cands, { budgetPps: 40, alpha: 1, beta: 2 }, b2);
});

// --- budget ---------------------------------------------------------------------------------------------

test("plan: budget for three paths of NANOG's four: drop the least useful, say what is lost", () => {
  const cands = NANOG_R1_R6.map(outAndBack);
  const r = planProbes(cands, { budgetPps: 3 });
  // Every path loses as much (three links to one path less, three pairs merged): the last goes.
  assert.deepEqual(r.paths, NANOG_R1_R6.slice(0, 3).map((id) => ({ id, rate: 1 })));
  assert.equal(r.budgetLimited, true);
  // Without D = r1-r3-r5-r6: r3-r5 is crossed by nothing; r1-r3 and r3-r4 only by C; r2-r5 and
  // r5-r6 only by B.
  const lost = r.unidentifiable.filter((u) => u.cause === "budget");
  assert.deepEqual(lost.map((u) => edgeNames(u.links)), ["r2-r5+r5-r6", "r1-r3+r3-r4", "r3-r5"]);
  assert.match(lost[2].reason, /no chosen path crosses these links.*allows 3 paths/);
  assert.match(lost[0].reason, /cross these links alike.*allows 3 paths/);
  assert.equal(r.coverage["r3>r5"], 0);
  assert.deepEqual(r.uncovered, []);
  checkInvariants(cands, { budgetPps: 3 }, r);
});

const rateTables: Record<string, { opts: PlanOptions; n: number; rate: number; limited: boolean }> = {
  "budget 4 at 1 pps: exactly enough": { opts: { budgetPps: 4 }, n: 4, rate: 1, limited: false },
  "budget 10: 2.5 pps each": { opts: { budgetPps: 10 }, n: 4, rate: 2.5, limited: false },
  "budget 1000: capped at maxRatePerPath 100": { opts: { budgetPps: 1000 }, n: 4, rate: 100, limited: false },
  "budget 5 at 2 pps or more: two paths": { opts: { budgetPps: 5, minRatePerPath: 2 }, n: 2, rate: 2.5, limited: true },
  "budget 0.3 at 0.1 pps or more: three paths (no float drop)": { opts: { budgetPps: 0.3, minRatePerPath: 0.1 }, n: 3, rate: 0.1, limited: true },
  "budget 0: nothing": { opts: { budgetPps: 0 }, n: 0, rate: 0, limited: true },
};
for (const [name, c] of Object.entries(rateTables)) {
  test(`plan: rates, ${name}`, () => {
    const r = planProbes(NANOG_R1_R6.map(outAndBack), c.opts);
    assert.equal(r.paths.length, c.n);
    for (const p of r.paths) assert.ok(Math.abs(p.rate - c.rate) < 1e-12, `${p.rate} != ${c.rate}`);
    assert.equal(r.budgetLimited, c.limited);
  });
}

test("plan: nothing chosen: every link unseen, for the budget", () => {
  const r = planProbes(NANOG_R1_R6.map(outAndBack), { budgetPps: 0 });
  const unseen = r.unidentifiable.filter((u) => u.cause === "budget");
  assert.equal(unseen.length, 1);
  assert.equal(unseen[0].links.length, 16);
});

const bad: Record<string, [PlanOptions, RegExp]> = {
  "negative budget": [{ budgetPps: -1 }, /budgetPps must be a finite number >= 0, got -1/],
  "beta 3": [{ budgetPps: 1, beta: 3 }, /beta must be 0, 1 or 2, got 3/],
  "fractional alpha": [{ budgetPps: 1, alpha: 1.5 }, /alpha must be an integer >= 0, got 1.5/],
  "min rate 0": [{ budgetPps: 1, minRatePerPath: 0 }, /minRatePerPath must be > 0, got 0/],
  "max below min": [{ budgetPps: 1, minRatePerPath: 5, maxRatePerPath: 2 }, /maxRatePerPath must be >= minRatePerPath \(5\), got 2/],
  "min link pps NaN": [{ budgetPps: 1, minLinkPps: NaN }, /minLinkPps must be a number >= 0, got NaN/],
};
for (const [name, [opts, msg]] of Object.entries(bad)) test(`plan: rejects ${name}`, () => assert.throws(() => planProbes([], opts), msg));

test("plan: no candidates, repeated links, empty paths, duplicate paths", () => {
  assert.deepEqual(planProbes([], { budgetPps: 10 }, ["x", "x"]), {
    paths: [],
    coverage: { x: 0 },
    uncovered: ["x"],
    unidentifiable: [],
    budgetLimited: false,
    beta: 1,
  });
  // a>b twice in one path counts once; an empty path is never chosen; of two equal paths, the first.
  const r = planProbes([{ id: "e", links: [] }, { id: "p", links: ["a>b", "a>b"] }, { id: "q", links: ["a>b"] }], { budgetPps: 10, alpha: 1 });
  assert.deepEqual(r.paths.map((p) => p.id), ["p"]);
  assert.equal(r.coverage["a>b"], 1);
});

test("plan: 300 random small inputs: invariants for beta 0, 1, 2 and budgets; greedy against the optimum", (t) => {
  const rnd = prng(2017);
  let greedy = 0;
  let optimum = 0;
  for (let trial = 0; trial < 300; trial++) {
    const nLinks = 2 + Math.floor(rnd() * 10);
    const cands: PlanCandidate[] = [];
    for (let p = 0, n = 1 + Math.floor(rnd() * 9); p < n; p++)
      cands.push({ id: `p${p}`, links: Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => `l${Math.floor(rnd() * nLinks)}`) });
    for (const beta of [0, 1, 2])
      for (const alpha of [0, 1, 2])
        for (const budgetPps of [1000, 3, 1]) {
          const opts = { budgetPps, alpha, beta };
          const r = planProbes(cands, opts);
          assert.equal(r.beta, beta);
          checkInvariants(cands, opts, r);
          assert.ok(r.paths.length <= budgetPps);
        }
    // The fewest paths meeting alpha 1, beta 1, by trying every subset.
    const links = [...new Set(cands.flatMap((c) => c.links))];
    const all = links.map((l) => signature(cands, [l]));
    let best = cands.length;
    for (let mask = 0; mask < 1 << cands.length; mask++) {
      const sub = cands.filter((_, i) => mask & (1 << i));
      if (sub.length >= best) continue;
      const sigs = links.map((l) => signature(sub, [l]));
      if (sigs.every((s, i) => s !== "" && sigs.every((s2, j) => (s === s2) === (all[i] === all[j])))) best = sub.length;
    }
    greedy += planProbes(cands, { budgetPps: 1000, alpha: 1, minLinkPps: Infinity }).paths.length;
    optimum += best;
  }
  assert.ok(greedy >= optimum);
  t.diagnostic(`alpha 1, beta 1: greedy ${greedy} paths in all, optimum ${optimum} (${((100 * (greedy - optimum)) / optimum).toFixed(1)}% more)`);
});

// --- spare budget: witnesses ------------------------------------------------------------------------

/** Units: links that every candidate crosses alike (what no plan tells apart), as link lists. */
function unitsOf(cands: readonly PlanCandidate[]): string[][] {
  const by = new Map<string, string[]>();
  for (const l of new Set(cands.flatMap((c) => c.links))) by.set(signature(cands, [l]), [...(by.get(signature(cands, [l])) ?? []), l]);
  return [...by.values()];
}

/** Subsets of `xs` with `d` members. */
function subsets<T>(xs: readonly T[], d: number): T[][] {
  if (d === 0) return [[]];
  return xs.flatMap((x, i) => subsets(xs.slice(i + 1), d - 1).map((rest) => [x, ...rest]));
}

/**
 * Pairs (unit u, set V of d other units) that some candidate witnesses (crosses u and no unit of
 * V) but no path of `paths` does, by brute force.
 */
function unwitnessed(cands: readonly PlanCandidate[], paths: readonly PlanCandidate[], d: number): string[] {
  const units = unitsOf(cands);
  const crosses = (p: PlanCandidate, unit: string[]): boolean => p.links.includes(unit[0]);
  const out: string[] = [];
  units.forEach((u, i) => {
    for (const V of subsets(units.filter((_, j) => j !== i), d)) {
      const w = (p: PlanCandidate): boolean => crosses(p, u) && !V.some((v) => crosses(p, v));
      if (cands.some(w) && !paths.some(w)) out.push(`${edgeNames(u)} vs ${V.map(edgeNames).sort().join(",")}`);
    }
  });
  return out;
}

/** The least probe rate through any link of the chosen paths. */
function floorOf(r: PlanReport): number {
  return Math.min(...Object.values(r.coverage).filter((k) => k > 0).map((k) => k * (r.paths[0]?.rate ?? 0)));
}

test("plan: spare budget buys witnesses: NANOG r1->r6 and r2->r3 takes r2-r1-r3 as well", () => {
  const cands = [...NANOG_R1_R6, ...NANOG_R2_R3].map(outAndBack);
  const minimal = planProbes(cands, { budgetPps: 120, minLinkPps: Infinity });
  const r = planProbes(cands, { budgetPps: 120 });
  // The six of the minimal plan cross r1-r2 only on r1-r2-r4-r6 and r1-r2-r5-r6: one failed link
  // of each (4 ways) hides whether r1-r2 failed. r2-r1-r3 shows it (a witness of r1-r2 against
  // those pairs); so for r1-r3 and its paths over r3-r4 or r4-r6, and r3-r5 or r5-r6.
  const six = cands.filter((c) => minimal.paths.some((p) => p.id === c.id));
  assert.equal(six.length, 6);
  assert.deepEqual(unwitnessed(cands, six, 1), []);
  const hidden = (u: string, a: string[], b: string[]): string[] => a.flatMap((x) => b.map((y) => `${u} vs ${[x, y].sort().join(",")}`));
  assert.deepEqual(
    unwitnessed(cands, six, 2).sort(),
    [...hidden("r1-r2", ["r2-r4", "r4-r6"], ["r2-r5", "r5-r6"]), ...hidden("r1-r3", ["r3-r4", "r4-r6"], ["r3-r5", "r5-r6"])].sort(),
  );
  assert.deepEqual(r.paths.map((p) => p.id), [...NANOG_R1_R6, ...NANOG_R2_R3]);
  assert.deepEqual(unwitnessed(cands, cands, 2), []);
  // The least-probed links (two paths) at 120/7 pps each: 34.3 >= 25.
  assert.ok(Math.abs(floorOf(r) - (2 * 120) / 7) < 1e-9);
  checkInvariants(cands, { budgetPps: 120 }, r);
});

test("plan: spare budget: the minimal plan is kept, the floor holds, and with room the plan is as disjunct as the candidates", () => {
  const rnd = prng(76);
  let grew = 0;
  for (let trial = 0; trial < 200; trial++) {
    const nLinks = 3 + Math.floor(rnd() * 8);
    const cands: PlanCandidate[] = [];
    for (let p = 0, n = 2 + Math.floor(rnd() * 10); p < n; p++)
      cands.push({ id: `p${p}`, links: Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => `l${Math.floor(rnd() * nLinks)}`) });
    for (const [budgetPps, minLinkPps] of [
      [60, 25],
      [100, 40],
      [1e6, 0],
    ]) {
      const opts = { budgetPps, minLinkPps };
      const minimal = planProbes(cands, { ...opts, minLinkPps: Infinity });
      const r = planProbes(cands, opts);
      checkInvariants(cands, opts, r);
      const ids = new Set(r.paths.map((p) => p.id));
      assert.ok(minimal.paths.every((p) => ids.has(p.id)), "the minimal plan's paths stay");
      if (r.paths.length > minimal.paths.length) {
        grew++;
        assert.ok(floorOf(r) >= minLinkPps - 1e-9, `floor ${floorOf(r)} < ${minLinkPps}`);
      }
      if (budgetPps === 1e6) {
        // Room for every path and no floor: every witness the candidates give, for d = 1..3.
        const chosen = cands.filter((c) => ids.has(c.id));
        for (const d of [1, 2, 3]) assert.deepEqual(unwitnessed(cands, chosen, d), [], `d = ${d}`);
      }
    }
  }
  assert.ok(grew > 100, `spare paths in ${grew} plans`);
});

// --- fat trees --------------------------------------------------------------------------------------------

/**
 * Candidates for pairs of edge switches (every equal-cost path): out and back, one direction of
 * each pair (the mirror is the same probe); routed, both directions.
 */
function fatTreeCandidates(file: string, mode: "reverse" | "routed", keep: (i: number, j: number) => boolean = () => true): PlanCandidate[] {
  const t = readTopologyJson(file);
  const cg = compileGraph(topologyFromJson(t).graph);
  const edges = t.queries.all_pairs_among as string[];
  const cands: PlanCandidate[] = [];
  for (let i = 0; i < edges.length; i++) {
    const src = new EcmpSource(cg, cg.index.get(edges[i])!);
    for (let j = mode === "reverse" ? i + 1 : 0; j < edges.length; j++) {
      if (j === i || !keep(i, j)) continue;
      for (const p of src.pathsTo(cg.index.get(edges[j])!, Infinity).paths) {
        const out = p.map((e) => cg.links[cg.link[e]]);
        // edgelist.ts names the links of undirected edge k "from>to#k" and "to>from#k".
        const back = out.map((l) => `${l.to}>${l.from}${l.id.slice(l.id.indexOf("#"))}`).reverse();
        cands.push({ id: `${edges[i]}:${out.map((l) => l.to).join("-")}`, links: mode === "reverse" ? [...out.map((l) => l.id), ...back] : out.map((l) => l.id) });
      }
    }
  }
  return cands;
}

const prng = mulberry32;

const fatTrees: Record<string, { cands: () => PlanCandidate[]; opts: PlanOptions; links: number; series: number; paths?: number }> = {
  // 128 paths is the least possible: 256 undirected links want 2 paths each, a path crosses 4.
  "k8, all 496 edge pairs, out and back": { cands: () => fatTreeCandidates("fattree_k8.json", "reverse"), opts: { budgetPps: 1e6 }, links: 512, series: 256, paths: 128 },
  "k8, all 992 directed edge pairs, routed": { cands: () => fatTreeCandidates("fattree_k8.json", "routed"), opts: { budgetPps: 1e6 }, links: 512, series: 0 },
  "k8, 120 random edge pairs, out and back, alpha 3": {
    cands: () => {
      const r = prng(8);
      return fatTreeCandidates("fattree_k8.json", "reverse", () => r() < 120 / 496);
    },
    opts: { budgetPps: 1e6, alpha: 3 },
    links: -1,
    series: -1,
  },
};
for (const [name, c] of Object.entries(fatTrees)) {
  test(`plan: fat tree ${name}: invariants by brute force, fewer paths than candidates`, (t) => {
    const cands = c.cands();
    const t0 = performance.now();
    const r = planProbes(cands, c.opts);
    const ms = performance.now() - t0;
    const links = Object.keys(r.coverage).length;
    if (c.links >= 0) assert.equal(links, c.links);
    if (c.series >= 0) assert.equal(r.unidentifiable.length, c.series);
    if (c.paths !== undefined) assert.equal(r.paths.length, c.paths);
    assert.equal(r.budgetLimited, false);
    assert.ok(r.paths.length < cands.length);
    checkInvariants(cands, c.opts, r);
    t.diagnostic(`${r.paths.length} of ${cands.length} candidate paths (${((100 * r.paths.length) / cands.length).toFixed(1)}%), ${links} directed links, ${r.unidentifiable.length} same-paths groups, planned in ${ms.toFixed(0)} ms`);
  });
}

test("plan: fat tree k8 routed at 100 pps (257 paths wanted): 100 paths; beta 2 falls back to 1 past BETA2_MAX_SETS", (t) => {
  const cands = fatTreeCandidates("fattree_k8.json", "routed");
  const t0 = performance.now();
  const r = planProbes(cands, { budgetPps: 100, beta: 2 });
  const ms = performance.now() - t0;
  // 512 directed links: 512·513/2 failure sets > BETA2_MAX_SETS, so the plan is for beta 1.
  assert.ok((512 * 513) / 2 > BETA2_MAX_SETS);
  assert.equal(r.beta, 1);
  assert.equal(r.paths.length, 100);
  assert.equal(r.budgetLimited, true);
  assert.ok(r.paths.every((p) => p.rate === 1));
  assert.ok(r.unidentifiable.some((u) => u.cause === "budget"));
  checkInvariants(cands, { budgetPps: 100, beta: 2 }, r);
  t.diagnostic(`budget 100 pps: ${r.paths.length} paths, ${r.unidentifiable.filter((u) => u.cause === "budget").length} groups lost to the budget, in ${ms.toFixed(0)} ms`);
});

test("plan: fat tree k16, all 8,128 edge pairs out and back (495,104 paths): time, coverage, distinct signatures", (t) => {
  let t0 = performance.now();
  const cands = fatTreeCandidates("fattree_k16.json", "reverse");
  const build = performance.now() - t0;
  t0 = performance.now();
  const opts = { budgetPps: 1e6 };
  const r = planProbes(cands, opts);
  const ms = performance.now() - t0;
  assert.equal(cands.length, 495104);
  assert.equal(Object.keys(r.coverage).length, 4096);
  // Linear checks (the pairwise ones above are too slow here): coverage >= 2 for every link, and
  // one signature per undirected link (both directions alike, out and back), all distinct.
  const ids = new Set(r.paths.map((p) => p.id));
  const sig = new Map<string, number[]>();
  cands.forEach((c, i) => {
    if (ids.has(c.id)) for (const l of c.links) sig.set(l, [...(sig.get(l) ?? []), i]);
  });
  const edgesBySig = new Map<string, Set<string>>();
  for (const [l, s] of sig) {
    const k = s.join(",");
    edgesBySig.set(k, (edgesBySig.get(k) ?? new Set()).add(l.slice(l.indexOf("#"))));
    assert.ok(s.length >= 2, `${l}: ${s.length}`);
  }
  assert.equal(sig.size, 4096);
  assert.equal(edgesBySig.size, 2048);
  for (const e of edgesBySig.values()) assert.equal(e.size, 1);
  assert.equal(r.paths.length, 1024);
  t.diagnostic(`${r.paths.length} of ${cands.length} candidate paths (${((100 * r.paths.length) / cands.length).toFixed(2)}%), 4096 directed links; candidates built in ${build.toFixed(0)} ms, planned in ${ms.toFixed(0)} ms`);
});
