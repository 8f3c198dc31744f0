// Per-link loss inference for one window: from per-path counts (sent, lost) and each path's
// directed links, estimate every link's loss, say how sure we are, and name suspects: failed
// routers first, then links. Pure: no I/O, no clock, deterministic.
//
// Model. Path success is the product of its elements' successes: P_p = prod s_e. With
// x_e = -ln s_e >= 0 and X_p = sum x_e, the binomial negative log-likelihood of the counts,
//   L(x) = sum_p (sent_p - lost_p) X_p - lost_p ln(1 - e^-X_p),
// is convex in x. Every link carries the healthy background loss (1e-4) as a fixed floor of x,
// so background drops are explained by it. Each fit below minimizes L (plus, in step 1, an L1
// term) over the elements of a model, each x in [0, 30] (30: a black hole): step 1 by
// projected coordinate descent (a safeguarded one-dimensional Newton step per element), the
// later refits of a few elements by projected Newton.
//
// Which elements failed is a model choice, made by penalized likelihood (a minimum description
// length: every failed element must pay for itself):
//  1. Candidates. One fit over every link group with an L1 term, lambda * meanSent * sum x, as
//     NetBouncer (Tan et al., NSDI'19) fits its product model with a sparsity regularizer by
//     coordinate descent. Its nonzero groups are the candidate support.
//  2. Prune, grow, swap. Refit the support without the penalty (the L1 term shrinks estimates
//     and tilts likelihood ratios; the refits are projected Newton). Drop each element in turn,
//     weakest first, while the likelihood-ratio statistic 2 (L(without) - L(with)) stays under
//     T; then add any group whose one-dimensional fit, the rest fixed, gains more than T/2, and
//     prune again. So a healthy neighbour that only soaked up a lossy link's extra drops (one of
//     its paths lost a few more by chance) leaves the model: the lossy link takes them back.
//     Then swaps: take each element out, let the groups on its paths compete for its drops
//     (grow, prune), keep the result if the cost below falls. The L1 fit can pick a wide group
//     that carries two failures' paths at once, and no single drop or addition undoes that.
//  3. Devices first. A router is a candidate when at least two elements of the links-only model
//     lie wholly on its paths. Its model: the links-only model plus the router as one element (a
//     loss on every path through it), pruned with the router kept (its links go as it takes
//     their drops), then its own link groups added back where they gain. The cost of a model is
//     L + T/2 per element (a minimum description length: an element must pay for itself at the
//     test's level). The router wins when it makes the story shorter, fewer elements at a lower
//     cost: a dead router covered by k >= 2 of its links costs k elements as links and 1 as a
//     device, at the same likelihood, while a lossy link next to a router costs the router
//     model a worse likelihood on the router's healthy paths. At as many elements it must fit
//     better by a whole element (two fits of the same size differ by noise of a few nats), or
//     tie with every one of its link groups (three or more) in the links-only model:
//     NetBouncer's rule, a router whose links all lose is the router. Greedy: the best router
//     is accepted, then the next, while the cost falls.
//  T is the chi-square critical value of a one-sided test (x >= 0: half chi2(1)) at level
//  alpha / G, alpha = (1 - confidence) / 2 and G the number of observed link groups: a
//  family-wise level, so healthy links anywhere in the window do not add up to a suspect.
//
// Why not deTector's PLL (Peng et al., ATC'17): it picks links greedily by how many lossy paths
// (paths over a loss threshold) they explain, so it works on a yes/no verdict per path, drops
// the counts (which are what we have) and gives no loss per link nor an interval. Why not
// NetBouncer's objective as is: it minimizes sum_p (y_p - prod s)^2 + lambda sum s (1 - s); a
// least-squares fit on ratios weighs 3 probes like 3,000, and s(1 - s) is concave (local optima)
// and pushes a 3% link towards 0 or 1. The binomial likelihood and L1 on -ln s keep it convex.
//
// Loss, interval, suspect, confidence. The fit decides who shares the drops, the counts give the
// numbers. As in the E-step of EM (elements drop independently), a lost probe on path p is
// charged to element v with probability q_v / (1 - P_p). The drops d charged to v out of the n
// probes through it give the reported loss d/n, its two-sided Clopper-Pearson interval at
// `confidence`, and the tests. An element is a suspect when all three hold:
//  - it is in the chosen model (the data need it, at the family-wise level);
//  - its loss d/n is at least suspectAbove (NetBouncer also thresholds the estimate);
//  - background cannot explain its drops: P(Bin(n, b) >= d) < alpha / G, b being the background
//    loss of its paths as a whole (every link's floor), an exact test that, unlike the
//    likelihood ratio, holds for a handful of probes (1 of 3 lost is no suspect, 3 of 3 is).
// `confidence` says how sure we are it loses more than suspectAbove: 1 - P(Bin(n, suspectAbove)
// >= d), divided by the group size (with no way to tell the members apart and one culprit,
// each is it with probability 1/size). With the interval it shows the sample size: 3 of 3 lost
// gives 1 - 1.25e-7 over [0.17, 1]; 1 of 3 gives 0.985 over [0.002, 0.86] and is no suspect
// (a 6-link path's background alone loses 1 of 3 once in 550 windows).
//
// Identifiability. A link's signature is the set of observed paths crossing it. Links with the
// same signature are indistinguishable by any method (out-and-back probes always cross a->b and
// b->a together), so they share one variable: a group, reported with the group's combined loss,
// identifiable false, and its members listed. Routers with the same paths (the prober's router
// and the far end of a single-source path set) are one device element, reported together. A
// router whose paths all cross one of its link groups looks exactly like that group failing: it
// is not a device candidate, the group is named. Distinct signatures are told apart only by the
// sparsity assumption; where two equally sparse answers fit equally well, the fit picks one.
//
// Parallel links. A probe layer addressed to a router (plugin.paths.target: router) crosses
// one of the parallel links into it, and nobody knows which: the path set lists them per hop
// (`parallel`), and an observation gives them as one entry, an array of link ids. The array is
// one element, named parallelGroupId(members) ("l-a|l-b"): the product model's factor for that
// hop (the probe crosses exactly one of them, so the members are not each a factor: that would
// charge the hop's drops to every member and call two links lossy where one is). It is reported
// once, under that name, with its members in `parallel`, never split between them. The same
// link crossed pinned by other probes (interface targets) stays an element of its own.

import { parallelGroupId } from "../shared/pathset.js";

export interface PathObservation {
  /**
   * Directed links the probes cross, out and back. A link repeated in one path counts once. An
   * array: parallel links, one of which the probe crosses (router targets): one element.
   */
  links: ReadonlyArray<string | readonly string[]>;
  sent: number;
  /** Probes not back (the caller decides whether late ones count). */
  lost: number;
}

export interface LinkEstimate {
  link: string;
  /** Drops charged to it over probes through it; a group's combined loss; NaN if never observed. */
  loss: number;
  /** Clopper-Pearson interval of the loss at `confidence` (two-sided). */
  low: number;
  high: number;
  /** How sure we are this link loses more than suspectAbove: 1 - p-value, over the group size. */
  confidence: number;
  /** False when other links cross exactly the same paths (or when no observed path crosses it). */
  identifiable: boolean;
  /** All the links that cross exactly the same paths, itself included; only when more than one. */
  group?: string[];
  /** A parallel group (`link` is its parallelGroupId()): the links it stands for, sorted. */
  parallel?: string[];
  suspect: boolean;
  /** Observed paths (sent > 0) crossing it. */
  paths: number;
}

export interface DeviceEstimate {
  node: string;
  suspect: boolean;
  /** Its probed links (either end), sorted. */
  links: string[];
  /** Observed paths through it, and how many of them are significantly lossy (above suspectAbove). */
  paths: number;
  lossyPaths: number;
  /** Drops charged to the device over probes through it; 0 unless suspect (only suspects are fitted). */
  loss: number;
  /** Suspect devices with exactly the same paths, itself included; only when more than one. */
  group?: string[];
}

export interface InferenceOptions {
  /** Healthy loss of every link, explained by a fixed floor (default 1e-4). */
  backgroundLoss?: number;
  /** Loss ratio a suspect's estimate must reach (default 0.005). */
  suspectAbove?: number;
  /** Two-sided level of the intervals; the tests are one-sided at (1 - c) / 2, over the groups (default 0.99). */
  confidence?: number;
  /** Sparsity weight of the candidate fit, in units of the mean probes sent per path (default 0.1). */
  lambda?: number;
  /** Coordinate-descent sweeps per fit (default 1000). */
  maxIterations?: number;
}

export interface LinkEnds {
  from: string;
  to: string;
}

export interface Inference {
  /** Suspects first, then by loss (highest first), then by name. */
  links: LinkEstimate[];
  /** Every router with a probed link (needs linkEnds): suspects first, then by name. */
  devices: DeviceEstimate[];
  /** Coordinate-descent sweeps done, over every fit. */
  iterations: number;
}

const DEFAULTS = { backgroundLoss: 1e-4, suspectAbove: 0.005, confidence: 0.99, lambda: 0.1, maxIterations: 1000 };
/** Upper bound of -ln s: a loss of 1 - e^-30, as good as a black hole. */
const XMAX = 30;
/** Convergence of the candidate fit (step 1) and of the unpenalized refits, in x = -ln s. */
const TOL_L1 = 1e-10;
const TOL_REFIT = 1e-9;
/** The largest model a refit solves by Newton (its Hessian is m x m); coordinate descent above. */
const NEWTON_MAX = 200;
/** Rounds of "best router in" (step 3): more failed routers at once than this is not a window to name them in. */
const MAX_DEVICES = 8;
/** Costs this close (nats) are equal: the refits stop at TOL_REFIT, not at the exact optimum. */
const TIE = 1e-3;

interface Var {
  /** Observed path indices whose success it multiplies. */
  paths: number[];
  /** Fixed part of -ln s (the background floor of its links), for the charge of drops. */
  floor: number;
  /** Fitted excess over the floor; 0 while the variable is out of the model. */
  x: number;
}

interface Judgement {
  loss: number;
  low: number;
  high: number;
  /** 1 - p-value of the one-sided test against suspectAbove. */
  sure: number;
  suspect: boolean;
}

export function inferLinkLoss(
  obs: readonly PathObservation[],
  opts: InferenceOptions = {},
  linkEnds?: ReadonlyMap<string, LinkEnds>,
): Inference {
  const o = resolveOptions(opts);
  const alpha = (1 - o.confidence) / 2;
  const floorPerLink = -Math.log1p(-o.backgroundLoss);

  // Observed paths and signatures.
  const sent: number[] = [];
  const lost: number[] = [];
  const pathLinks: string[][] = [];
  const sig = new Map<string, number[]>();
  /** Parallel groups by element id: their members. */
  const parallel = new Map<string, string[]>();
  const element = (l: string | readonly string[]): string => {
    if (typeof l === "string") return l;
    const id = parallelGroupId(l);
    if (id.includes("|") && !parallel.has(id)) parallel.set(id, [...new Set(l)].sort(cmp));
    return id;
  };
  obs.forEach((p, i) => {
    checkCount(p.sent, `obs[${i}].sent`);
    checkCount(p.lost, `obs[${i}].lost`);
    if (p.lost > p.sent) throw new RangeError(`inferLinkLoss: obs[${i}].lost (${p.lost}) exceeds obs[${i}].sent (${p.sent})`);
    const links = [...new Set(p.links.map(element))];
    for (const l of links) if (!sig.has(l)) sig.set(l, []);
    if (p.sent === 0 || links.length === 0) return;
    const idx = sent.length;
    sent.push(p.sent);
    lost.push(p.lost);
    pathLinks.push(links);
    for (const l of links) sig.get(l)!.push(idx);
  });
  const nPaths = sent.length;
  const lossy = sent.map((n, p) => binomialUpperTail(lost[p], n, o.suspectAbove) < alpha);

  // Link groups: links with the same signature; ordered by signature so that input order does
  // not matter, the widest first (the candidate fit visits them in this order).
  const groupOf = new Map<string, number>();
  const groups: Array<{ key: string; members: string[]; paths: number[] }> = [];
  {
    const byKey = new Map<string, { key: string; members: string[]; paths: number[] }>();
    for (const [link, paths] of sig) {
      if (paths.length === 0) continue;
      const key = paths.join(",");
      let g = byKey.get(key);
      if (!g) byKey.set(key, (g = { key, members: [], paths }));
      g.members.push(link);
    }
    for (const g of byKey.values()) g.members.sort(cmp);
    groups.push(...[...byKey.values()].sort((a, b) => b.paths.length - a.paths.length || cmp(a.members[0], b.members[0])));
    groups.forEach((g, i) => g.members.forEach((l) => groupOf.set(l, i)));
  }

  // The family-wise level, the likelihood-ratio threshold T (in 2 * nats) and the cost of an element.
  const level = alpha / Math.max(1, groups.length);
  const T = lrCritical(level);
  const elementCost = T / 2;

  const base = new Float64Array(nPaths);
  for (let p = 0; p < nPaths; p++) base[p] = pathLinks[p].length * floorPerLink;
  const f: Fit = { sent, lost, X: Float64Array.from(base) };
  const linkVars: Var[] = groups.map((g) => ({ paths: g.paths, floor: g.members.length * floorPerLink, x: 0 }));
  let iterations = 0;

  // L at the floors alone, by path: a refit computes L only on its model's paths.
  const baseNll = new Float64Array(nPaths);
  let baseTotal = 0;
  for (let p = 0; p < nPaths; p++) baseTotal += baseNll[p] = pathNll(f, p);
  const stamp = new Int32Array(nPaths);
  let epoch = 0;
  let touched: number[] = [];
  /** Set X to the floors plus `model`'s elements, touching only the paths that moved; returns the model's paths. */
  const place = (model: Var[]): number[] => {
    for (const p of touched) f.X[p] = base[p];
    epoch++;
    const paths: number[] = [];
    for (const v of model)
      for (const p of v.paths) {
        f.X[p] += v.x;
        if (stamp[p] !== epoch) {
          stamp[p] = epoch;
          paths.push(p);
        }
      }
    touched = paths;
    return paths;
  };
  /** Make `model` the fit's elements, warm-started from their current x, refit it unpenalized, and return L. */
  const refit = (model: Var[]): number => {
    const paths = place(model);
    // Projected Newton: elements that share most of their paths (a link and the next one in
    // series, on all but a few paths) make coordinate descent crawl along a valley and stop, by
    // its step size, far from the optimum.
    if (model.length <= NEWTON_MAX) iterations += newton(f, model, o.maxIterations);
    else iterations += descend(f, model, 0, o.maxIterations, TOL_REFIT);
    let l = baseTotal;
    for (const p of paths) l += pathNll(f, p) - baseNll[p];
    return l;
  };
  const snapshot = (model: Var[]) => model.map((v) => v.x);
  const restore = (model: Var[], xs: number[]) => {
    model.forEach((v, i) => (v.x = xs[i]));
    place(model);
  };
  /** L on v's paths with v taken out, less L as it is: what dropping v costs before the rest refits (an upper bound). */
  const dropBound = (v: Var): number => {
    const before = nllOn(f, v.paths);
    for (const p of v.paths) f.X[p] -= v.x;
    const after = nllOn(f, v.paths);
    for (const p of v.paths) f.X[p] += v.x;
    return after - before;
  };

  /** Backward elimination: drop elements (weakest first) while 2 * (L without - L with) < T. */
  const prune = (model: Var[], keep?: Var): Var[] => {
    let m = [...model];
    refit(m);
    // Sure drops first, without refitting: if taking v out costs less than T/2 with the rest as
    // it is, it costs no more once the rest refits. (The L1 fit's support holds many such.)
    for (const { v } of m.map((v) => ({ v, bound: dropBound(v) })).sort((a, b) => a.bound - b.bound)) {
      if (v === keep || 2 * dropBound(v) >= T) continue;
      for (const p of v.paths) f.X[p] -= v.x;
      v.x = 0;
      m = m.filter((w) => w !== v);
    }
    let l = refit(m);
    for (let changed = true; changed; ) {
      changed = false;
      const order = m.filter((v) => v !== keep).map((v) => ({ v, bound: dropBound(v) })).sort((a, b) => a.bound - b.bound);
      for (const { v } of order) {
        const xs = snapshot(m);
        const rest = m.filter((w) => w !== v);
        const x = v.x;
        v.x = 0;
        const lWithout = refit(rest);
        if (2 * (lWithout - l) < T) {
          m = rest;
          l = lWithout;
          changed = true;
        } else {
          v.x = x;
          restore(m, xs);
        }
      }
    }
    return m;
  };

  /** Forward step: add the candidate whose one-dimensional fit (the rest fixed) gains most, while 2 * gain > T; prune after each. */
  const grow = (model: Var[], candidates: Var[]): Var[] => {
    let m = [...model];
    refit(m);
    for (;;) {
      let best: Var | undefined;
      let bestGain = T / 2;
      let bestX = 0;
      for (const v of candidates) {
        if (m.includes(v)) continue;
        const x = solveCoordinate(f, v, 0, XMAX);
        if (x <= 0) continue;
        const before = nllOn(f, v.paths);
        for (const p of v.paths) f.X[p] += x;
        const gain = before - nllOn(f, v.paths);
        for (const p of v.paths) f.X[p] -= x;
        if (gain > bestGain) {
          best = v;
          bestGain = gain;
          bestX = x;
        }
      }
      if (!best) return m;
      best.x = bestX;
      m = prune([...m, best]);
      if (!m.includes(best)) return m; // it was not needed after all
    }
  };

  // 1. Candidates: the L1 fit over every link group.
  const penalty = nPaths > 0 ? (o.lambda * sent.reduce((a, b) => a + b, 0)) / nPaths : 0;
  iterations += descend(f, linkVars, penalty, o.maxIterations, TOL_L1);
  let model = linkVars.filter((v) => v.x > 0);
  for (const v of linkVars) if (v.x <= 0) v.x = 0;
  f.X.set(base);
  touched = [];

  // 2. Prune, grow, prune; then swaps.
  model = prune(model);
  model = grow(model, linkVars);
  let cost = refit(model) + elementCost * model.length;
  // Swaps: the candidate fit can pick a wide group that explains two failures' paths at once
  // (a link in series with one failure, on a few paths of another), after which no single drop
  // or addition helps. So: take each element out, let the groups sharing its paths compete for
  // its drops (grow, prune), and keep the result if the cost falls.
  const varsOnPath: number[][] = Array.from({ length: nPaths }, () => []);
  linkVars.forEach((v, i) => v.paths.forEach((p) => varsOnPath[p].push(i)));
  for (let round = 0, improved = true; improved && round < 2 * model.length + 4; round++) {
    improved = false;
    for (const v of [...model]) {
      const before = snapshot(model);
      const neighbours = [...new Set(v.paths.flatMap((p) => varsOnPath[p]))].map((i) => linkVars[i]).filter((w) => w !== v);
      const rest = model.filter((w) => w !== v);
      v.x = 0;
      let m = grow(rest, neighbours);
      m = prune(m);
      const c = refit(m) + elementCost * m.length;
      if (c < cost - 1e-6 * (1 + Math.abs(cost))) {
        for (const w of model) if (!m.includes(w)) w.x = 0;
        model = m;
        cost = c;
        improved = true;
        break;
      }
      for (const w of m) w.x = 0;
      restore(model, before);
    }
  }
  cost = refit(model) + elementCost * model.length;

  // 3. Devices.
  const devices: DeviceEstimate[] = [];
  const deviceVars: Array<{ v: Var; key: string }> = [];
  const nodeInfo: Array<{ node: string; key: string; paths: number[]; groups: number[] }> = [];
  /** Device elements tried, by path set. */
  const tried = new Map<string, Var>();
  if (linkEnds) {
    const incident = new Map<string, Set<string>>();
    for (const link of groupOf.keys()) {
      const ends = linkEnds.get(link) ?? (parallel.has(link) ? linkEnds.get(parallel.get(link)![0]) : undefined);
      if (!ends) continue;
      for (const n of [ends.from, ends.to]) {
        let s = incident.get(n);
        if (!s) incident.set(n, (s = new Set()));
        s.add(link);
      }
    }
    const candidates = new Map<string, { paths: number[]; groups: Set<number> }>();
    for (const [node, set] of [...incident].sort((a, b) => cmp(a[0], b[0]))) {
      const links = [...set].sort(cmp);
      const gs = [...new Set(links.map((l) => groupOf.get(l)!))];
      const paths = [...new Set(gs.flatMap((g) => groups[g].paths))].sort((a, b) => a - b);
      const key = paths.join(",");
      nodeInfo.push({ node, key, paths, groups: gs });
      devices.push({ node, suspect: false, links, paths: paths.length, lossyPaths: paths.filter((p) => lossy[p]).length, loss: 0 });
      // A router whose paths all cross one of its groups looks exactly like that group: no candidate.
      if (gs.length < 2 || gs.some((g) => groups[g].paths.length === paths.length)) continue;
      const c = candidates.get(key);
      if (c) gs.forEach((g) => c.groups.add(g));
      else candidates.set(key, { paths, groups: new Set(gs) });
    }
    for (let round = 0; round < MAX_DEVICES; round++) {
      let best: { key: string; model: Var[]; cost: number; xs: number[] } | undefined;
      const before = snapshot(model);
      for (const [key, c] of candidates) {
        if (deviceVars.some((d) => d.key === key)) continue;
        const on = new Set(c.paths);
        const covered = model.filter((v) => !deviceVars.some((d) => d.v === v) && v.paths.every((p) => on.has(p)));
        if (covered.length < 2) continue;
        let dv = tried.get(key);
        if (!dv) tried.set(key, (dv = { paths: c.paths, floor: 0, x: 0 }));
        // From the links-only fit plus the device at 0, pruning (the device kept) can only lower
        // the cost: its links go one by one as the device takes their drops. Starting from the
        // device alone and adding links back one at a time would miss fits that need them jointly.
        dv.x = 0;
        let m = prune([...model, dv], dv);
        m = grow(m, [...c.groups].map((g) => linkVars[g]));
        const l = refit(m);
        const mc = l + elementCost * m.length;
        // The device must make the story shorter: fewer elements at a lower cost. At as many
        // elements, two non-nested fits of the same size differ by noise of a few nats, so it
        // must fit better by a whole element's cost; or, at equal cost, be a router with three
        // link groups or more, every one of them in the links-only model (NetBouncer's device
        // rule: links at different losses on one router fit the device and its worst links as
        // well). With two groups, the device and one link are the two links written another way,
        // and two failed links is the likelier story.
        const allIn = c.groups.size >= 3 && [...c.groups].every((g) => model.includes(linkVars[g]));
        const better =
          (m.length < model.length && mc < cost - 1e-9 * (1 + Math.abs(cost))) ||
          (m.length === model.length && (mc < cost - elementCost || (allIn && mc <= cost + TIE)));
        if (m.includes(dv) && better && (!best || mc < best.cost)) best = { key, model: m, cost: mc, xs: snapshot(m) };
        // Back to the links-only state for the next candidate.
        for (const v of m) v.x = 0;
        restore(model, before);
      }
      if (!best) break;
      for (const v of model) v.x = 0;
      model = best.model;
      restore(model, best.xs);
      cost = best.cost;
      deviceVars.push({ v: tried.get(best.key)!, key: best.key });
    }
  }

  // 4. The chosen model's fit, then every element judged from the drops charged to it.
  const inModel = new Set(model);
  for (const v of [...linkVars, ...tried.values()]) if (!inModel.has(v)) v.x = 0;
  refit(model);
  const judge = (v: Var): Judgement => {
    const j = judgeVar(v, f, base, o.suspectAbove, o.confidence, level);
    j.suspect = j.suspect && inModel.has(v);
    return j;
  };

  if (linkEnds) {
    devices.forEach((d, i) => {
      const dv = deviceVars.find((e) => e.key === nodeInfo[i].key);
      if (!dv || !inModel.has(dv.v)) return;
      const j = judge(dv.v);
      if (!j.suspect) return;
      d.suspect = true;
      d.loss = j.loss;
      const group = nodeInfo.filter((n) => n.key === dv.key).map((n) => n.node);
      if (group.length > 1) d.group = group.sort(cmp);
    });
    devices.sort((a, b) => Number(b.suspect) - Number(a.suspect) || cmp(a.node, b.node));
  }

  const judged = linkVars.map(judge);
  const links: LinkEstimate[] = [];
  for (const link of sig.keys()) {
    const g = groupOf.get(link);
    if (g === undefined) {
      const par = parallel.get(link);
      links.push({ link, loss: NaN, low: 0, high: 1, confidence: 0, identifiable: false, suspect: false, paths: 0, ...(par ? { parallel: [...par] } : {}) });
      continue;
    }
    const j = judged[g];
    const { members, paths } = groups[g];
    const par = parallel.get(link);
    const e: LinkEstimate = {
      link,
      loss: j.loss,
      low: j.low,
      high: j.high,
      confidence: j.sure / members.length,
      // A parallel group is one element, but which of its links loses nobody can say.
      identifiable: members.length === 1 && par === undefined,
      suspect: j.suspect,
      paths: paths.length,
    };
    if (members.length > 1) e.group = [...members];
    if (par) e.parallel = [...par];
    links.push(e);
  }
  links.sort((a, b) => Number(b.suspect) - Number(a.suspect) || byLossDesc(a.loss, b.loss) || cmp(a.link, b.link));
  return { links, devices, iterations };
}

interface Fit {
  sent: number[];
  lost: number[];
  /** -ln success of every path under the current elements (floors included). */
  X: Float64Array;
}

/**
 * Charge each lost probe of a path to v with probability q_v / (1 - P_p) (the E-step of EM:
 * elements drop independently), then judge the drops d out of the n probes through v: the
 * estimate d/n against suspectAbove, and an exact test against the background of v's paths.
 */
function judgeVar(v: Var, f: Fit, base: Float64Array, above: number, confidence: number, level: number): Judgement {
  const q = -Math.expm1(-(v.x + v.floor));
  let d = 0;
  let n = 0;
  let floor = 0;
  for (const p of v.paths) {
    n += f.sent[p];
    floor += f.sent[p] * base[p];
    const pathLoss = -Math.expm1(-f.X[p]);
    if (f.lost[p] > 0 && pathLoss > 0) d += (f.lost[p] * Math.min(q, pathLoss)) / pathLoss;
  }
  d = Math.min(d, n);
  const background = n > 0 ? -Math.expm1(-floor / n) : 0;
  const pAbove = binomialUpperTail(d, n, above);
  const [low, high] = clopperPearson(d, n, confidence);
  const loss = n > 0 ? d / n : NaN;
  return { loss, low, high, sure: 1 - pAbove, suspect: loss >= above && binomialUpperTail(d, n, background) < level };
}

/**
 * Projected coordinate descent on L(x) + lambda * sum x over x in [0, XMAX], in place; keeps
 * X[p] = floor + sum of the variables on p. Returns the sweeps done.
 */
function descend(f: Fit, vars: Var[], lambda: number, maxSweeps: number, tol: number): number {
  if (vars.length === 0) return 0;
  for (let sweep = 1; sweep <= maxSweeps; sweep++) {
    let change = 0;
    for (const v of vars) {
      const x = solveCoordinate(f, v, lambda, XMAX);
      const dx = x - v.x;
      if (dx === 0) continue;
      for (const p of v.paths) f.X[p] += dx;
      v.x = x;
      change = Math.max(change, Math.abs(dx));
    }
    if (change < tol) return sweep;
  }
  return maxSweeps;
}

/**
 * Projected Newton (Bertsekas 1982) on L over the box [0, XMAX]^m, in place: elements at a bound
 * that the gradient pushes outwards stay there; the others take the Newton step (Cholesky, with
 * a small ridge where the Hessian is near singular), projected on the box and halved until L
 * falls. Returns the iterations done.
 */
function newton(f: Fit, vars: Var[], maxIter: number): number {
  const m = vars.length;
  if (m === 0) return 0;
  // Paths of the model, and the model's elements on each.
  const on = new Map<number, number[]>();
  vars.forEach((v, i) => {
    for (const p of v.paths) {
      const l = on.get(p);
      if (l) l.push(i);
      else on.set(p, [i]);
    }
  });
  const paths = [...on.keys()];
  const g = new Float64Array(m);
  const H = new Float64Array(m * m);
  const x0 = new Float64Array(m);
  const X0 = new Float64Array(paths.length);
  for (let it = 1; it <= maxIter; it++) {
    g.fill(0);
    H.fill(0);
    for (const p of paths) {
      const k = f.lost[p];
      const s = f.X[p];
      let gp = f.sent[p] - k;
      let hp = 0;
      if (k > 0) {
        const em1 = Math.expm1(s);
        gp -= k / em1;
        hp = k / (em1 * -Math.expm1(-s));
      }
      const es = on.get(p)!;
      for (const i of es) {
        g[i] += gp;
        if (hp > 0) for (const j of es) H[i * m + j] += hp;
      }
    }
    const free: number[] = [];
    for (let i = 0; i < m; i++) {
      const x = vars[i].x;
      if ((x <= 0 && g[i] >= 0) || (x >= XMAX && g[i] <= 0)) continue;
      free.push(i);
    }
    if (free.length === 0) return it;
    const d = solveSpd(H, m, free, g);
    // Newton decrement: the fall in L the step promises.
    let decrement = 0;
    free.forEach((i, a) => (decrement -= g[i] * d[a]));
    if (!(decrement > 1e-10)) return it;
    const before = nllOn(f, paths);
    vars.forEach((v, i) => (x0[i] = v.x));
    paths.forEach((p, a) => (X0[a] = f.X[p]));
    let t = 1;
    for (let halvings = 0; ; halvings++) {
      let slope = 0;
      free.forEach((i, a) => {
        const x = Math.min(XMAX, Math.max(0, x0[i] + t * d[a]));
        slope += g[i] * (x - x0[i]);
        vars[i].x = x;
      });
      paths.forEach((p, a) => (f.X[p] = X0[a]));
      for (const i of free) {
        const dx = vars[i].x - x0[i];
        if (dx !== 0) for (const p of vars[i].paths) f.X[p] += dx;
      }
      const after = nllOn(f, paths);
      if (after <= before + 1e-4 * slope || halvings >= 40) {
        if (after > before) {
          // No descent along this direction (rounding): keep the old point.
          vars.forEach((v, i) => (v.x = x0[i]));
          paths.forEach((p, a) => (f.X[p] = X0[a]));
          return it;
        }
        if (before - after < 1e-12 * (1 + Math.abs(after))) return it;
        break;
      }
      t /= 2;
    }
  }
  return maxIter;
}

/** Solve H[free, free] d = -g[free] by Cholesky, adding a ridge until it is positive definite. */
function solveSpd(H: Float64Array, m: number, free: number[], g: Float64Array): Float64Array {
  const n = free.length;
  let trace = 0;
  for (const i of free) trace += H[i * m + i];
  let ridge = 1e-12 * (trace / n) + 1e-300;
  for (;;) {
    const L = new Float64Array(n * n);
    let ok = true;
    for (let a = 0; a < n && ok; a++) {
      for (let b = 0; b <= a; b++) {
        let sum = H[free[a] * m + free[b]] + (a === b ? ridge : 0);
        for (let c = 0; c < b; c++) sum -= L[a * n + c] * L[b * n + c];
        if (a === b) {
          if (!(sum > 0)) {
            ok = false;
            break;
          }
          L[a * n + a] = Math.sqrt(sum);
        } else L[a * n + b] = sum / L[b * n + b];
      }
    }
    if (ok) {
      const y = new Float64Array(n);
      for (let a = 0; a < n; a++) {
        let sum = -g[free[a]];
        for (let c = 0; c < a; c++) sum -= L[a * n + c] * y[c];
        y[a] = sum / L[a * n + a];
      }
      const d = new Float64Array(n);
      for (let a = n - 1; a >= 0; a--) {
        let sum = y[a];
        for (let c = a + 1; c < n; c++) sum -= L[c * n + a] * d[c];
        d[a] = sum / L[a * n + a];
      }
      return d;
    }
    ridge = Math.max(ridge * 100, 1e-9 * (trace / n + 1));
  }
}

/**
 * Minimize over t in [0, cap] the convex h(t) = lambda t + sum_p (n_p - k_p)(c_p + t) -
 * k_p ln(1 - e^-(c_p + t)), where c_p is path p's -ln success without v. Its derivative
 * g(t) = lambda + sum_p (n_p - k_p) - k_p / (e^(c_p + t) - 1) is increasing and concave, so
 * Newton from the left of the root never overshoots; a step that leaves the bracket [lo, hi]
 * is replaced by its geometric midpoint (losses span orders of magnitude).
 */
function solveCoordinate(f: Fit, v: Var, lambda: number, cap: number): number {
  let anyLost = false;
  for (const p of v.paths) if (f.lost[p] > 0) anyLost = true;
  if (!anyLost) return 0;
  const derivs = (t: number): [number, number] => {
    let g = lambda;
    let h = 0;
    for (const p of v.paths) {
      const n = f.sent[p];
      const k = f.lost[p];
      const s = f.X[p] - v.x + t; // -ln success of p with v at t
      g += n - k;
      if (k === 0) continue;
      const em1 = Math.expm1(s);
      g -= k / em1;
      h += k / (em1 * -Math.expm1(-s));
    }
    return [g, h];
  };
  let lo = 0;
  let hi = cap;
  if (hi === 0 || derivs(lo)[0] >= 0) return 0;
  if (derivs(hi)[0] <= 0) return hi;
  let t = v.x > 0 && v.x < hi ? v.x : Math.min(1e-6, hi / 2);
  for (let i = 0; i < 200; i++) {
    const [g, h] = derivs(t);
    if (g === 0) return t;
    if (g > 0) hi = t;
    else lo = t;
    let next = t - g / h;
    if (!(next > lo && next < hi)) next = lo > 0 ? Math.sqrt(lo * hi) : hi / 16;
    if (Math.abs(next - t) <= 1e-14 * (1 + t)) return next;
    t = next;
  }
  return t;
}

/** L restricted to some paths. */
function nllOn(f: Fit, paths: readonly number[]): number {
  let l = 0;
  for (const p of paths) l += pathNll(f, p);
  return l;
}

function pathNll(f: Fit, p: number): number {
  let l = (f.sent[p] - f.lost[p]) * f.X[p];
  if (f.lost[p] > 0) l -= f.lost[p] * Math.log(-Math.expm1(-f.X[p]));
  return l;
}

/**
 * The likelihood-ratio statistic a one-sided test at `level` needs: under the null (x = 0, on
 * the boundary) 2 dL is half chi2(0), half chi2(1), so P(2 dL > T) = P(Z > sqrt T) = level.
 */
export function lrCritical(level: number): number {
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (erfc(mid / Math.SQRT2) / 2 > level) lo = mid;
    else hi = mid;
  }
  const z = (lo + hi) / 2;
  return z * z;
}

/** erfc(x) for x >= 0: Maclaurin series of erf below 2.5, Laplace's continued fraction above. */
function erfc(x: number): number {
  if (x < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  let tail = 0;
  for (let k = 80; k >= 1; k--) tail = k / 2 / (x + tail);
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / (x + tail);
}

// ---- Binomial tails and the Clopper-Pearson interval, for real-valued counts. -------------

/** P(X >= k) for X ~ Bin(n, p), continued to real k through the regularized incomplete beta. */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  return regularizedBeta(p, k, n - k + 1);
}

/** P(X <= k) for X ~ Bin(n, p), continued to real k. */
export function binomialLowerTail(k: number, n: number, p: number): number {
  if (k >= n) return 1;
  if (k < 0) return 0;
  return regularizedBeta(1 - p, n - k, k + 1);
}

/** Two-sided Clopper-Pearson interval at level c for k successes out of n (k may be real). */
export function clopperPearson(k: number, n: number, c: number): [number, number] {
  if (n <= 0) return [0, 1];
  const a = (1 - c) / 2;
  const low = k <= 0 ? 0 : bisect((x) => binomialUpperTail(k, n, x) - a);
  const high = k >= n ? 1 : bisect((x) => a - binomialLowerTail(k, n, x));
  return [low, high];
}

/** Root in [0, 1] of an increasing function. */
function bisect(fn: (x: number) => number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 100 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (fn(mid) < 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** I_x(a, b), by its continued fraction (Abramowitz & Stegun 26.5.8) on the convergent side. */
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaFraction(1 - x, b, a)) / b;
}

/** The continued fraction of I_x(a, b), evaluated by the modified Lentz method. */
function betaFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  const clamp = (v: number) => (Math.abs(v) < TINY ? TINY : v);
  let c = 1;
  let d = 1 / clamp(1 - ((a + b) * x) / (a + 1));
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 / clamp(1 + num * d);
    c = clamp(1 + num / c);
    h *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 / clamp(1 + num * d);
    c = clamp(1 + num / c);
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** ln Gamma(x) for x > 0: shift up to x >= 10, then Stirling's series (error < 1e-12). */
function lnGamma(x: number): number {
  let shift = 0;
  while (x < 10) {
    shift -= Math.log(x);
    x += 1;
  }
  const r = 1 / (x * x);
  const series = (1 / (12 * x)) * (1 - r * (1 / 30 - r * (1 / 105 - r / 140)));
  return shift + (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series;
}

// ---- Validation and small helpers. --------------------------------------------------------

function resolveOptions(opts: InferenceOptions): Required<InferenceOptions> {
  const o = { ...DEFAULTS };
  for (const [k, v] of Object.entries(opts) as Array<[keyof InferenceOptions, number | undefined]>) {
    if (!(k in DEFAULTS)) throw new RangeError(`inferLinkLoss: unknown option "${k}"`);
    if (v !== undefined) o[k] = v;
  }
  const within = (name: keyof InferenceOptions, ok: boolean, bound: string) => {
    if (!ok) throw new RangeError(`inferLinkLoss: "${name}" must be ${bound}, got ${o[name]}`);
  };
  within("backgroundLoss", o.backgroundLoss >= 0 && o.backgroundLoss < 1, "in [0, 1)");
  within("suspectAbove", o.suspectAbove > 0 && o.suspectAbove < 1, "in (0, 1)");
  within("confidence", o.confidence > 0 && o.confidence < 1, "in (0, 1)");
  within("lambda", o.lambda >= 0 && Number.isFinite(o.lambda), "a finite number >= 0");
  within("maxIterations", Number.isInteger(o.maxIterations) && o.maxIterations >= 1, "an integer >= 1");
  return o;
}

function checkCount(v: number, name: string): void {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`inferLinkLoss: ${name} must be a finite number >= 0, got ${v}`);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byLossDesc(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return b - a;
}
