// bench/sim: localization accuracy in simulation. No packets, no sockets: the reference
// topologies of /work/shared/topologies, their ECMP path sets (plugin/ecmp.ts), a probe plan
// (plugin/plan.ts), simulated per-path loss counts, and the real inference (prober/inference.ts).
//
//   node dist/bench/sim.js [--only topo,topo] [--trials N] [--seed S]
//
// Candidates. Every equal-cost path between the pairs below, probed out and back as the prober's
// default `reverse` mode does: the path's directed links, then its mirror's (a>b#k -> b>a#k).
//  - nanog6: all pairs of its 6 routers (15 pairs; r1<->r6, its configured query, is one of them);
//  - fattree_k8: all 496 pairs of its 32 edge switches;
//  - fattree_k16: a deterministic sample (seeded, independent of --seed) of 500 of the 8128 pairs
//    of its 128 edge switches;
//  - random1000: all pairs of the 20 nodes of its JSON query (all_pairs_among).
// Plans. ALL: every candidate at 25 probes/s. PLAN: planProbes(alpha 2, beta 1, budget = ALL's
// probes/s / 3); each chosen path gets the plan's rate (budget / paths, at most 100/s).
//
// Scenarios (failures drawn from a seeded PRNG, the same draw for ALL and PLAN): one black-holed
// directed link (p = 1); one at 10%; one at 1%; 2, 3 and 5 concurrent failed directed links
// (distinct undirected links, random direction, p uniform in [1%, 10%]); one router down (every
// link at either end of it, p = 1). Every link also loses 1e-4 (the background). Failed links
// and routers are drawn among those the candidates cross.
//
// Windows. Six 10 s windows per trial; a path at rate r gets round(10 r) probes a window; a probe
// survives with prod(1 - loss) over its (distinct) links; lost ~ Binomial(n, 1 - survive), drawn
// exactly by inversion when the smaller tail's mean is below 20, else by the normal approximation
// (rounded, clamped to [0, n]). Inference runs on the cumulative counts of windows 1..k (the
// prober's window grown to 10k s), with linkEnds so it can name routers.
//
// Scoring, at the granularity the probes can see: the unit is a link group of the inference (links
// crossing exactly the same observed paths; out-and-back always pairs a>b with b>a). The truth is
// the set of groups holding a failed link; a failed link on no probed path is a miss (a router's
// links that no probed path crosses are left out: invisible by construction).
//  - exact: the suspect groups equal the truth groups. Router down: the router is a suspect
//    device (alone, or in its device group) and every suspect link group touches it; or no device
//    and the suspect groups are exactly its probed link groups; or no device and the one suspect
//    group is a link of the router that every observed path through it crosses (inference.ts's
//    documented limit: that router looks exactly like that link; the table gives how often);
//  - FP rate: suspect groups that hold no failed link, over all groups that hold none (pooled
//    over trials); FN rate: truth groups not suspect over truth groups (router down: 0 when the
//    router is named as a device or its look-alike link is);
//  - detection: the first k (10 s windows, cumulative) at which every truth group is a suspect
//    (router: or as above); "-" when not within 6 windows.
// Accuracy, FP and FN are read at k = 6 (60 s). SIM_DEBUG=1 prints every inexact trial.
//
// Defaults: 50 trials per scenario and plan on nanog6 and random1000, 20 on fattree_k8, 10 on
// fattree_k16 (its ALL plan is 30,376 paths; a router-down inference on it takes ~1.5 s); about
// 2 minutes on 2 cores. --scenarios picks scenarios by key (blackhole, link10, link1, multi2,
// multi3, multi5, router).
// Nothing asserted: exit 1 only on a crash.
import { compileGraph, EcmpSource } from "../plugin/ecmp.js";
import { planProbes, type PlanCandidate } from "../plugin/plan.js";
import { inferLinkLoss, type LinkEnds, type PathObservation } from "../prober/inference.js";
import { readTopologyJson, topologyFromJson } from "../test/util/edgelist.js";
import { codeDigest, distDir } from "./lib/build.js";
import { cpus, loadavg } from "node:os";
import { readFileSync, writeFileSync } from "node:fs";

const RATE_ALL = 25;
const WINDOW_S = 10;
const WINDOWS = 6;
const BACKGROUND = 1e-4;
const K16_PAIRS = 500;
/** Trials per scenario and plan, by topology (about 2 min in all on 2 cores). */
const DEFAULT_TRIALS: Record<string, number> = { nanog6: 50, random1000: 50, fattree_k8: 20, fattree_k16: 10 };
/** SIM_DEBUG=1: print every trial that is not an exact localization. */
const DEBUG = process.env.SIM_DEBUG === "1";

// ---- Arguments. ---------------------------------------------------------------------------

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const ALL_TOPOS = ["nanog6", "fattree_k8", "fattree_k16", "random1000"];
const only = arg("--only")?.split(",") ?? ALL_TOPOS;
/** --doc FILE: also write the tables into FILE between <!-- sim:begin --> and <!-- sim:end -->. */
const docFile = arg("--doc");
const printed: string[] = [];
function say(...parts: unknown[]): void {
  const line = parts.map(String).join(" ");
  printed.push(line);
  process.stdout.write(`${line}\n`);
}
function writeDoc(file: string): void {
  const text = readFileSync(file, "utf8");
  const begin = "<!-- sim:begin -->";
  const end = "<!-- sim:end -->";
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file}: no ${begin} ... ${end} block to fill`);
  writeFileSync(file, `${text.slice(0, a + begin.length)}\n${printed.join("\n")}\n${text.slice(b)}`);
}
const trialsArg = arg("--trials");
/** --scenarios blackhole,link10,link1,multi2,multi3,multi5,router (default: all). */
const scenOnly = arg("--scenarios")?.split(",");
const seed = Number(arg("--seed") ?? 1);
for (const t of only) if (!ALL_TOPOS.includes(t)) throw new Error(`--only: unknown topology ${t} (${ALL_TOPOS.join(", ")})`);

// ---- Seeded randomness. -------------------------------------------------------------------

/** mulberry32 over a seed mixed from several integers. */
function rng(...parts: number[]): () => number {
  let h = 0x9e3779b9;
  for (const p of parts) h = Math.imul(h ^ (p | 0), 0x85ebca6b) ^ (h >>> 13);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(r: () => number): number {
  let u = r();
  while (u <= 0) u = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** Binomial(n, p): inversion when the smaller tail's mean < 20, else the normal approximation. */
function binomial(r: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(r, n, 1 - p);
  const mean = n * p;
  if (mean < 20) {
    // Inversion: walk the pmf from 0.
    const q = 1 - p;
    let pmf = Math.pow(q, n);
    let cdf = pmf;
    const u = r();
    let k = 0;
    while (u > cdf && k < n) {
      pmf *= ((n - k) / (k + 1)) * (p / q);
      k++;
      cdf += pmf;
      if (pmf < 1e-300 && k > mean) break;
    }
    return k;
  }
  const x = Math.round(mean + Math.sqrt(mean * (1 - p)) * gaussian(r));
  return Math.min(n, Math.max(0, x));
}

function shuffleInPlace<T>(a: T[], r: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// ---- Topologies and candidates. -----------------------------------------------------------

interface Setup {
  name: string;
  candidates: PlanCandidate[];
  linkEnds: Map<string, LinkEnds>;
  /** Directed links crossed by some candidate, and routers at their ends. */
  links: string[];
  routers: string[];
  pairs: number;
  pairNote: string;
}

const mirrorOf = (id: string): string => {
  const m = /^(.*)>(.*)#(\d+)$/.exec(id);
  if (!m) throw new Error(`link id ${id} is not from>to#k`);
  return `${m[2]}>${m[1]}#${m[3]}`;
};

function setup(name: string): Setup {
  const json = readTopologyJson(`${name}.json`);
  const topo = topologyFromJson(json);
  const cg = compileGraph(topo.graph);
  const linkEnds = new Map<string, LinkEnds>();
  for (const l of topo.links) linkEnds.set(l.id, { from: l.from, to: l.to });

  let pairs: Array<[string, string]> = [];
  let pairNote: string;
  const allPairs = (ns: string[]): Array<[string, string]> => {
    const out: Array<[string, string]> = [];
    for (let i = 0; i < ns.length; i++) for (let j = i + 1; j < ns.length; j++) out.push([ns[i], ns[j]]);
    return out;
  };
  if (name === "nanog6") {
    pairs = allPairs(json.nodes);
    pairNote = `all pairs of its ${json.nodes.length} routers`;
  } else if (name.startsWith("fattree")) {
    const edges = json.nodes.filter((n) => /-e\d+$/.test(n));
    pairs = allPairs(edges);
    if (name === "fattree_k16") {
      const total = pairs.length;
      pairs = shuffleInPlace(pairs, rng(16, 500)).slice(0, K16_PAIRS);
      pairs.sort((a, b) => (a[0] + " " + a[1] < b[0] + " " + b[1] ? -1 : 1));
      pairNote = `seeded sample of ${K16_PAIRS} of the ${total} pairs of its ${edges.length} edge switches`;
    } else pairNote = `all pairs of its ${edges.length} edge switches`;
  } else {
    const among = json.queries["all_pairs_among"] as string[] | undefined;
    if (!among) throw new Error(`${name}: no all_pairs_among query`);
    pairs = allPairs(among);
    pairNote = `all pairs of the ${among.length} nodes of its query`;
  }

  const candidates: PlanCandidate[] = [];
  const sources = new Map<number, EcmpSource>();
  for (const [a, b] of pairs) {
    const s = cg.index.get(a)!;
    const d = cg.index.get(b)!;
    let src = sources.get(s);
    if (!src) sources.set(s, (src = new EcmpSource(cg, s)));
    const res = src.pathsTo(d, Infinity);
    res.paths.forEach((p, i) => {
      const out = p.map((e) => cg.links[cg.link[e]].id);
      const back = [...out].reverse().map(mirrorOf);
      candidates.push({ id: `${a}->${b}#${i}`, links: [...out, ...back] });
    });
  }
  const linkSet = new Set<string>();
  for (const c of candidates) for (const l of c.links) linkSet.add(l);
  for (const l of linkSet) if (!linkEnds.has(l)) throw new Error(`${name}: mirror link ${l} does not exist`);
  const links = [...linkSet].sort();
  const routers = [...new Set(links.flatMap((l) => [linkEnds.get(l)!.from, linkEnds.get(l)!.to]))].sort();
  return { name, candidates, linkEnds, links, routers, pairs: pairs.length, pairNote };
}

// ---- Scenarios. ---------------------------------------------------------------------------

interface Scenario {
  key: string;
  label: string;
  draw(s: Setup, r: () => number): { loss: Map<string, number>; router?: string };
}

function drawLinks(s: Setup, r: () => number, count: number, p: () => number): Map<string, number> {
  const loss = new Map<string, number>();
  const undirected = new Set<string>();
  let guard = 0;
  while (loss.size < count && guard++ < 100000) {
    const l = s.links[Math.floor(r() * s.links.length)];
    const u = [l, mirrorOf(l)].sort().join("|");
    if (undirected.has(u)) continue;
    undirected.add(u);
    loss.set(l, p());
  }
  return loss;
}

const SCENARIOS: Scenario[] = [
  { key: "blackhole", label: "1 link black-holed (p=1)", draw: (s, r) => ({ loss: drawLinks(s, r, 1, () => 1) }) },
  { key: "link10", label: "1 link at 10%", draw: (s, r) => ({ loss: drawLinks(s, r, 1, () => 0.1) }) },
  { key: "link1", label: "1 link at 1%", draw: (s, r) => ({ loss: drawLinks(s, r, 1, () => 0.01) }) },
  ...[2, 3, 5].map(
    (k): Scenario => ({ key: `multi${k}`, label: `${k} links, p in 1..10%`, draw: (s, r) => ({ loss: drawLinks(s, r, k, () => 0.01 + 0.09 * r()) }) }),
  ),
  {
    key: "router",
    label: "1 router down",
    draw: (s, r) => {
      const router = s.routers[Math.floor(r() * s.routers.length)];
      const loss = new Map<string, number>();
      for (const [id, e] of s.linkEnds) if (e.from === router || e.to === router) loss.set(id, 1);
      return { loss, router };
    },
  },
];

// ---- One plan, one scenario. --------------------------------------------------------------

interface ProbeSet {
  name: "ALL" | "PLAN";
  paths: Array<{ links: string[]; rate: number }>;
  pps: number;
}

interface Tally {
  trials: number;
  exact: number;
  fp: number;
  negatives: number;
  fn: number;
  positives: number;
  detectAt: number[]; // windows to detection, or Infinity
  deviceNamed: number;
  aliased: number;
  inferMs: number;
  inferences: number;
}

function runTrial(s: Setup, set: ProbeSet, scen: Scenario, trial: number, tally: Tally, topoSeed: number, scenIndex: number): void {
  const drawR = rng(seed, topoSeed, scenIndex, trial, 1);
  const { loss, router } = scen.draw(s, drawR);
  const simR = rng(seed, topoSeed, scenIndex, trial, set.name === "ALL" ? 2 : 3);
  // Per path: survival probability and probes a window.
  const P = set.paths.length;
  const fail = new Float64Array(P);
  const perWindow = new Int32Array(P);
  for (let p = 0; p < P; p++) {
    let surv = 1;
    for (const l of set.paths[p].links) surv *= 1 - BACKGROUND - (1 - BACKGROUND) * (loss.get(l) ?? 0);
    fail[p] = 1 - surv;
    perWindow[p] = Math.round(set.paths[p].rate * WINDOW_S);
  }
  const sent = new Float64Array(P);
  const lost = new Float64Array(P);
  const truthLinks = new Set(loss.keys());

  let detected = Infinity;
  let final: ReturnType<typeof score> | undefined;
  for (let k = 1; k <= WINDOWS; k++) {
    for (let p = 0; p < P; p++) {
      sent[p] += perWindow[p];
      lost[p] += binomial(simR, perWindow[p], fail[p]);
    }
    if (detected < Infinity && k < WINDOWS) continue; // only the final window is still needed
    const obs: PathObservation[] = set.paths.map((q, p) => ({ links: q.links, sent: sent[p], lost: lost[p] }));
    const t0 = performance.now();
    const inf = inferLinkLoss(obs, { backgroundLoss: BACKGROUND }, s.linkEnds);
    tally.inferMs += performance.now() - t0;
    tally.inferences++;
    const sc = score(inf, truthLinks, router, s.linkEnds);
    if (DEBUG && k === WINDOWS && !sc.exact)
      console.error(
        `[debug] ${s.name} ${scen.key} ${set.name} trial ${trial}: truth ${[...loss].map(([l, p]) => `${l}@${p.toFixed(3)}`).join(" ")}${router ? ` router ${router}` : ""}; suspects ${inf.links
          .filter((e) => e.suspect)
          .map((e) => `${e.link}(${e.loss.toFixed(4)} [${e.low.toFixed(4)},${e.high.toFixed(4)}] paths ${e.paths})`)
          .join(" ")}; devices ${inf.devices.filter((d) => d.suspect).map((d) => d.node).join(" ")}; missed ${[...truthLinks]
          .map((l) => inf.links.find((e) => e.link === l))
          .filter((e) => e && !e.suspect)
          .map((e) => `${e!.link}(${e!.loss.toFixed(4)} [${e!.low.toFixed(4)},${e!.high.toFixed(4)}] paths ${e!.paths})`)
          .join(" ")}`,
      );
    if (sc.detected && detected === Infinity) detected = k;
    if (k === WINDOWS) final = sc;
  }
  const f = final!;
  tally.trials++;
  if (f.exact) tally.exact++;
  tally.fp += f.fp;
  tally.negatives += f.negatives;
  tally.fn += f.fn;
  tally.positives += f.positives;
  if (f.deviceNamed) tally.deviceNamed++;
  if (f.aliased) tally.aliased++;
  tally.detectAt.push(detected);
}

function score(inf: ReturnType<typeof inferLinkLoss>, truthLinks: Set<string>, router: string | undefined, ends: Map<string, LinkEnds>) {
  // Groups of the inference: key = sorted members.
  const groups = new Map<string, { members: string[]; suspect: boolean; paths: number }>();
  const groupKeyOf = new Map<string, string>();
  for (const e of inf.links) {
    if (e.paths === 0) continue;
    const members = e.group ?? [e.link];
    const key = members.join(" ");
    groupKeyOf.set(e.link, key);
    if (!groups.has(key)) groups.set(key, { members, suspect: e.suspect, paths: e.paths });
  }
  const truth = new Set<string>();
  // Failed links no observed path crosses: misses for failed links; for a router, its links the
  // probe set does not cross are invisible by construction and left out.
  let unseen = 0;
  for (const l of truthLinks) {
    const k = groupKeyOf.get(l);
    if (k === undefined) unseen += router === undefined ? 1 : 0;
    else truth.add(k);
  }
  const suspects = [...groups.entries()].filter(([, g]) => g.suspect).map(([k]) => k);
  const fp = suspects.filter((k) => !truth.has(k)).length;
  const negatives = groups.size - truth.size;
  const missedGroups = [...truth].filter((k) => !groups.get(k)!.suspect).length;
  const positives = truth.size + unseen;
  const allTruthSuspect = missedGroups === 0 && unseen === 0;
  let exact = allTruthSuspect && fp === 0;
  let fn = missedGroups + unseen;
  let deviceNamed = false;
  let detected = allTruthSuspect;
  let aliased = false;
  if (router !== undefined) {
    const suspectDevices = inf.devices.filter((d) => d.suspect);
    deviceNamed = suspectDevices.some((d) => d.node === router || (d.group ?? []).includes(router));
    const onlyRouter = suspectDevices.every((d) => d.node === router || (d.group ?? []).includes(router));
    const touches = (k: string): boolean => groups.get(k)!.members.some((l) => ends.get(l)!.from === router || ends.get(l)!.to === router);
    // A router whose every observed path crosses one of its link groups looks exactly like that
    // group failing (inference.ts says so): naming that group alone counts as exact.
    const routerPaths = inf.devices.find((d) => d.node === router)?.paths ?? 0;
    const alias = [...truth].filter((k) => groups.get(k)!.paths === routerPaths);
    aliased = alias.length > 0;
    if (deviceNamed) {
      exact = onlyRouter && suspects.every(touches);
      fn = 0;
      detected = true;
    } else if (suspectDevices.length === 0 && suspects.length === 1 && alias.includes(suspects[0])) {
      exact = true;
      fn = 0;
      detected = true;
    } else exact = exact && suspectDevices.length === 0;
    if (truth.size === 0) {
      // No probed path crosses the router at all: nothing to find (counted apart).
      exact = suspects.length === 0;
      detected = false;
    }
  }
  return { exact, fp, negatives, fn, positives, detected, deviceNamed, aliased };
}

// ---- Main. --------------------------------------------------------------------------------

interface Row {
  topology: string;
  scenario: string;
  plan: string;
  paths: number;
  pps: number;
  trials: number;
  exact: number;
  fpRate: number;
  fnRate: number;
  detectedPct: number;
  medianWindows: number | null;
  meanWindows: number | null;
  deviceNamedPct: number | null;
  aliasedPct: number | null;
  inferMsMean: number;
}

const pct = (x: number, d = 1): string => (Number.isFinite(x) ? (100 * x).toFixed(d) + "%" : "-");

function main(): void {
  for (const k of scenOnly ?? []) if (!SCENARIOS.some((x) => x.key === k)) throw new Error(`--scenarios: unknown scenario ${k} (${SCENARIOS.map((x) => x.key).join(", ")})`);
  const results: Array<{ topology: string; candidates: number; pairs: number; planMs: number; totalS: number; rows: Row[]; planPaths: number; planRate: number; budgetLimited: boolean; unidentifiable: number }> = [];
  const started = performance.now();
  const loadStart = loadavg()[0];
  const builds = { pluginBuild: codeDigest(distDir("plugin")), proberBuild: codeDigest(distDir("prober")) };
  say(`bench/sim: seed ${seed}, plugin build ${builds.pluginBuild}, prober build ${builds.proberBuild}, ${cpus().length} CPUs, load average (1 min) ${loadStart.toFixed(2)}`);
  only.forEach((name) => {
    const topoSeed = ALL_TOPOS.indexOf(name) + 1;
    const tStart = performance.now();
    const s = setup(name);
    const trials = Number(trialsArg ?? DEFAULT_TRIALS[name]);
    const allSet: ProbeSet = {
      name: "ALL",
      paths: s.candidates.map((c) => ({ links: [...c.links], rate: RATE_ALL })),
      pps: s.candidates.length * RATE_ALL,
    };
    const budget = (s.candidates.length * RATE_ALL) / 3;
    const t0 = performance.now();
    const plan = planProbes(s.candidates, { budgetPps: budget, alpha: 2, beta: 1 });
    const planMs = performance.now() - t0;
    const byId = new Map(s.candidates.map((c) => [c.id, c]));
    const planSet: ProbeSet = {
      name: "PLAN",
      paths: plan.paths.map((p) => ({ links: [...byId.get(p.id)!.links], rate: p.rate })),
      pps: plan.paths.reduce((a, p) => a + Math.round(p.rate * WINDOW_S) / WINDOW_S, 0),
    };
    const notIdent = plan.unidentifiable.filter((u) => u.cause !== "same-paths").length;
    console.error(
      `${name}: ${s.pairs} pairs (${s.pairNote}), ${s.candidates.length} candidate paths, ${s.links.length} directed links; plan ${plan.paths.length} paths at ${plan.paths[0]?.rate.toFixed(2)}/s in ${planMs.toFixed(0)} ms (budget ${budget.toFixed(0)} pps, limited ${plan.budgetLimited}, beta ${plan.beta}, ${notIdent} indistinct classes beyond same-paths); ${trials} trials`,
    );
    const rows: Row[] = [];
    SCENARIOS.forEach((scen, si) => {
      if (scenOnly && !scenOnly.includes(scen.key)) return;
      for (const set of [allSet, planSet]) {
        const tally: Tally = { trials: 0, exact: 0, fp: 0, negatives: 0, fn: 0, positives: 0, detectAt: [], deviceNamed: 0, aliased: 0, inferMs: 0, inferences: 0 };
        for (let t = 0; t < trials; t++) runTrial(s, set, scen, t, tally, topoSeed, si);
        const det = tally.detectAt.filter((x) => x < Infinity).sort((a, b) => a - b);
        rows.push({
          topology: name,
          scenario: scen.key,
          plan: set.name,
          paths: set.paths.length,
          pps: set.pps,
          trials: tally.trials,
          exact: tally.exact / tally.trials,
          fpRate: tally.negatives > 0 ? tally.fp / tally.negatives : 0,
          fnRate: tally.positives > 0 ? tally.fn / tally.positives : 0,
          detectedPct: det.length / tally.trials,
          medianWindows: det.length > 0 ? det[Math.floor((det.length - 1) / 2)] : null,
          meanWindows: det.length > 0 ? det.reduce((a, b) => a + b, 0) / det.length : null,
          deviceNamedPct: scen.key === "router" ? tally.deviceNamed / tally.trials : null,
          aliasedPct: scen.key === "router" ? tally.aliased / tally.trials : null,
          inferMsMean: tally.inferMs / Math.max(1, tally.inferences),
        });
        console.error(`  ${scen.key} ${set.name}: ${(performance.now() - tStart) / 1000 | 0} s so far`);
      }
    });
    const totalS = (performance.now() - tStart) / 1000;
    results.push({
      topology: name,
      candidates: s.candidates.length,
      pairs: s.pairs,
      planMs,
      totalS,
      rows,
      planPaths: plan.paths.length,
      planRate: plan.paths[0]?.rate ?? 0,
      budgetLimited: plan.budgetLimited,
      unidentifiable: notIdent,
    });

    say(`\n### ${name}: ${s.pairs} pairs (${s.pairNote}), ${s.candidates.length} candidate paths, ${s.links.length} directed links, ${trials} trials, ${totalS.toFixed(1)} s\n`);
    say(
      `ALL: ${allSet.paths.length} paths x ${RATE_ALL}/s = ${allSet.pps.toFixed(0)} probes/s. PLAN (alpha 2, beta 1, budget ${budget.toFixed(0)} pps): ${planSet.paths.length} paths at ${planSet.paths[0]?.rate.toFixed(2)}/s = ${planSet.pps.toFixed(0)} probes/s${plan.budgetLimited ? " (budget-limited)" : ""}, planned in ${planMs.toFixed(0)} ms.\n`,
    );
    say("| scenario | plan | paths | probes/s | exact | FP rate | FN rate | detected ≤60 s | windows to detect (median / mean) | infer ms |");
    say("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const r of rows) {
      const scen = SCENARIOS.find((x) => x.key === r.scenario)!;
      const dev = r.deviceNamedPct !== null ? ` (named as device ${pct(r.deviceNamedPct, 0)}; looks like one link ${pct(r.aliasedPct!, 0)})` : "";
      say(
        `| ${scen.label} | ${r.plan} | ${r.paths} | ${r.pps.toFixed(0)} | ${pct(r.exact)}${dev} | ${pct(r.fpRate, 3)} | ${pct(r.fnRate)} | ${pct(r.detectedPct, 0)} | ${r.medianWindows ?? "-"} / ${r.meanWindows?.toFixed(2) ?? "-"} | ${r.inferMsMean.toFixed(1)} |`,
      );
    }
  });
  say(
    "\nFor reference, deTector (Peng et al., USENIX ATC'17), its own simulation and probe matrix: single-link failure 96.0% accuracy, 1.73% false positives; 98.9% and 0.01-0.02% with a 2-identifiable probe set; 3.9x fewer probes than Pingmesh. Their setups and definitions differ from ours (their accuracy counts a link, not a group of links the probes cannot split; their figures are not on these topologies).",
  );
  say(`\nload average (1 min): ${loadStart.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end`);
  const load = { start: Number(loadStart.toFixed(2)), end: Number(loadavg()[0].toFixed(2)), cpus: cpus().length };
  process.stdout.write(`${JSON.stringify({ bench: "sim", seed, ...builds, load, totalS: (performance.now() - started) / 1000, topologies: results })}\n`);
}

main();
if (docFile) writeDoc(docFile);
