// Per-link loss inference for one window: from per-path counts (sent, lost) and each path's
// directed links, estimate every link's loss, say how sure we are, and name suspects. Pure: no
// I/O, no clock, deterministic. It replaced the first version's set rule (a link on failing paths
// only is a suspect), which only knew whether a path failed: it could not weigh 3 probes against
// 3000 nor tell a lossy link from background loss.
//
// Method, after NetBouncer (Tan et al., "NetBouncer: Active Device and Link Failure Localization
// in Data Center Networks", NSDI'19): a product model fitted with a sparsity-favouring
// regularizer by coordinate descent, and failed devices reported before links.
//
// Links. Path success is the product of its links' successes: P_p = prod s_l. With
// x_l = -ln s_l >= 0 and X_p = sum x_l, the negative log-likelihood of the observed counts,
//   L(x) = sum_p (sent_p - lost_p) X_p - lost_p ln(1 - e^-X_p),
// is convex in x. We minimize L(x) + lambda * meanSent * sum x_l over x >= 0 by projected
// coordinate descent: a one-dimensional safeguarded Newton step per variable, clipped to
// [0, 30]. Every link also carries the healthy background loss as a fixed floor of x, so
// background drops are explained by it rather than by a suspect.
// NetBouncer minimizes sum_p (y_p - prod s_l)^2 + lambda sum s_l (1 - s_l) by coordinate
// descent. We keep its shape (a product model, a regularizer that prefers few bad links,
// coordinate descent with clipping) but change both terms. The binomial likelihood weighs each
// path by its probes: 3 probes do not count as much as 3000, which a least-squares fit on ratios
// ignores. An L1 term on -ln s keeps the problem convex, so coordinate descent has no local
// optimum to get stuck in (s(1 - s) is concave), and it does not push a 3% gray link towards
// 0 or 1 the way s(1 - s) does. L1 picks the sparsest explanation: one link on two failing
// paths beats two links on one path each.
// Why not deTector's PLL (Peng et al., ATC'17): it picks links greedily by how many lossy paths
// (paths over a loss threshold) they explain, so it works on a yes/no verdict per path, drops
// the counts (which are what we have) and gives no loss per link nor an interval. Our windows
// hold tens to thousands of paths, so an iterative fit is cheap.
//
// Loss and confidence. The fit decides who shares the drops, the counts give the numbers. As in
// the E-step of EM (links drop independently), a lost probe on path p is charged to variable v
// with probability q_v / (1 - P_p), where q_v and P_p come from the fit. The drops d charged
// to v out of the n probes through it give the reported loss d/n (unshrunk by the penalty, since
// the counts are the observed ones), its two-sided Clopper-Pearson interval [low, high] at
// `confidence`, and an exact one-sided binomial test against suspectAbove: suspect when
// P(Bin(n, suspectAbove) >= d) < (1 - confidence) / 2, which is exactly when the interval lies
// above suspectAbove. So 3 of 3 lost is a suspect with [0.17, 1], 300 of 3000 one with
// [0.086, 0.115], and 1 of 3 none. The per-link `confidence` is 1 - that p-value, divided by
// the group size: with no way to tell the members apart, and one culprit, each is it with
// probability 1/size.
//
// Devices. A router whose every probed link looks bad is a device failure: every path through
// it is significantly lossy, it has at least two link groups (with one, it is that link), and
// every one of them is a suspect in the links-only fit. Routers with the same path set (the
// prober's router and the far end of a single-source path set) cannot be told apart and are
// reported together. Suspect devices then enter a second fit as variables of their own, placed
// first, so their loss is not smeared over their links, which are reported net of them. Such a
// link is nearly collinear with its device (a router's paths cross two of its link groups each),
// so the split between them rests on little data; it stays a suspect only if capping it at
// suspectAbove, with the device and the rest refitted, fits significantly worse (a one-sided
// likelihood-ratio test at the same level), and its confidence is the lower of the two tests.
// Limit: a router whose paths all share one of its links (r2 behind r1->r2 seen from r1) looks
// exactly like that link failing; the sparse fit names the link.
//
// Identifiability. A link's signature is the set of observed paths crossing it. Links with the
// same signature are indistinguishable by any method (out-and-back probes always cross a->b and
// b->a together), so they share one variable: a group, reported with the group's combined loss,
// identifiable false, and its members listed. Distinct signatures are told apart only by the
// sparsity assumption: a link whose signature is the union of others' is not identifiable
// without it, and where two equally sparse answers fit (every path lost: the source's links or
// the destination's) the fit picks one.

export interface PathObservation {
  /** Directed links the probes cross, out and back. A link repeated in one path counts once. */
  links: readonly string[];
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
  suspect: boolean;
  /** Observed paths (sent > 0) crossing it. */
  paths: number;
}

export interface DeviceEstimate {
  node: string;
  suspect: boolean;
  /** Its probed links (either end), sorted. */
  links: string[];
  /** Observed paths through it, and how many of them are significantly lossy. */
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
  /** Loss ratio a link must significantly exceed to be a suspect (default 0.005). */
  suspectAbove?: number;
  /** Two-sided level of the intervals; the suspect test is one-sided at (1 + c) / 2 (default 0.99). */
  confidence?: number;
  /** Sparsity weight, in units of the mean probes sent per path (default 0.1). */
  lambda?: number;
  /** Coordinate-descent sweeps per stage (default 1000). */
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
  /** Coordinate-descent sweeps done, over every fit (links, devices, likelihood-ratio tests). */
  iterations: number;
}

const DEFAULTS = { backgroundLoss: 1e-4, suspectAbove: 0.005, confidence: 0.99, lambda: 0.1, maxIterations: 1000 };
/** Upper bound of -ln s: a loss of 1 - e^-30, as good as a black hole. */
const XMAX = 30;
const TOL = 1e-10;

interface Var {
  /** Observed path indices whose success it multiplies. */
  paths: number[];
  /** Fixed part of -ln s (the background floor of its links). */
  floor: number;
  /** Fitted excess over the floor. */
  x: number;
  /** Upper bound of x while testing it (XMAX otherwise). */
  cap?: number;
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
  obs.forEach((p, i) => {
    checkCount(p.sent, `obs[${i}].sent`);
    checkCount(p.lost, `obs[${i}].lost`);
    if (p.lost > p.sent) throw new RangeError(`inferLinkLoss: obs[${i}].lost (${p.lost}) exceeds obs[${i}].sent (${p.sent})`);
    const links = [...new Set(p.links)];
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

  // Link groups: links with the same signature.
  const groupOf = new Map<string, number>();
  const groups: Array<{ key: string; members: string[]; paths: number[] }> = [];
  const byKey = new Map<string, number>();
  for (const [link, paths] of sig) {
    if (paths.length === 0) continue;
    const key = paths.join(",");
    let g = byKey.get(key);
    if (g === undefined) {
      g = groups.length;
      byKey.set(key, g);
      groups.push({ key, members: [], paths });
    }
    groups[g].members.push(link);
    groupOf.set(link, g);
  }
  for (const g of groups) g.members.sort(cmp);

  // The fit: suspect devices (if any) first, then link groups, the widest signatures first.
  const order = groups.map((_, i) => i).sort((a, b) => groups[b].paths.length - groups[a].paths.length || cmp(groups[a].key, groups[b].key));
  const penalty = nPaths > 0 ? (o.lambda * sent.reduce((a, b) => a + b, 0)) / nPaths : 0;
  let iterations = 0;
  const runFit = (devicePaths: number[][]) => {
    const vars: Var[] = [
      ...devicePaths.map((paths) => ({ paths, floor: 0, x: 0 })),
      ...order.map((g) => ({ paths: groups[g].paths, floor: groups[g].members.length * floorPerLink, x: 0 })),
    ];
    const X = new Float64Array(nPaths);
    for (let p = 0; p < nPaths; p++) X[p] = pathLinks[p].length * floorPerLink;
    const f = { sent, lost, X };
    iterations += descend(f, vars, penalty, o.maxIterations);
    const judge = (v: Var) => judgeVar(v, f, o.suspectAbove, o.confidence);
    const deviceVars = vars.slice(0, devicePaths.length);
    const links = new Map(order.map((g, i) => [g, judge(vars[devicePaths.length + i])]));
    // A link group whose every path crosses a suspect device is nearly collinear with it: its
    // attributed drops could as well be the device's. It stays a suspect only if capping it at
    // suspectAbove, and letting the device (and all else) take up the slack, fits significantly
    // worse: a one-sided likelihood-ratio test.
    order.forEach((g, i) => {
      const v = vars[devicePaths.length + i];
      const j = links.get(g)!;
      if (!j.suspect || !deviceVars.some((d) => v.paths.every((p) => d.paths.includes(p)))) return;
      const cap = Math.max(0, -Math.log1p(-o.suspectAbove) - v.floor);
      const saved = vars.map((w) => w.x);
      const savedX = Float64Array.from(X);
      const before = negLogLikelihood(f);
      setVar(f, v, Math.min(v.x, cap));
      v.cap = cap;
      iterations += descend(f, vars, penalty, o.maxIterations);
      const lr = 2 * (negLogLikelihood(f) - before);
      vars.forEach((w, k) => (w.x = saved[k]));
      X.set(savedX);
      v.cap = undefined;
      const pValue = lr > 0 ? erfc(Math.sqrt(lr / 2)) / 2 : 1;
      j.sure = Math.min(j.sure, 1 - pValue);
      j.suspect = pValue < alpha;
    });
    return { devices: deviceVars.map(judge), links };
  };

  // 1. Links alone, to see which look bad.
  let fit = runFit([]);

  // 2. Devices (see the top of the file), then the final fit with them first.
  const devices: DeviceEstimate[] = [];
  if (linkEnds) {
    const incident = new Map<string, Set<string>>();
    for (const link of groupOf.keys()) {
      const ends = linkEnds.get(link);
      if (!ends) continue;
      for (const n of [ends.from, ends.to]) {
        let s = incident.get(n);
        if (!s) incident.set(n, (s = new Set()));
        s.add(link);
      }
    }
    const seen: Array<{ node: string; key: string; paths: number[]; allLossy: boolean }> = [];
    const candidateSets = new Map<string, number[]>();
    for (const [node, set] of incident) {
      const links = [...set].sort(cmp);
      const vGroups = [...new Set(links.map((l) => groupOf.get(l)!))];
      const paths = [...new Set(vGroups.flatMap((g) => groups[g].paths))].sort((a, b) => a - b);
      const lossyPaths = paths.filter((p) => lossy[p]).length;
      const key = paths.join(",");
      const allLossy = lossyPaths === paths.length;
      if (allLossy && vGroups.length >= 2 && vGroups.every((g) => fit.links.get(g)!.suspect)) candidateSets.set(key, paths);
      seen.push({ node, key, paths, allLossy });
      devices.push({ node, suspect: false, links, paths: paths.length, lossyPaths, loss: 0 });
    }
    const keys = [...candidateSets.keys()].sort(cmp);
    if (keys.length > 0) {
      fit = runFit(keys.map((k) => candidateSets.get(k)!));
      devices.forEach((d, i) => {
        const { key, allLossy } = seen[i];
        const at = keys.indexOf(key);
        if (at < 0 || !allLossy) return;
        const j = fit.devices[at];
        d.loss = j.loss;
        d.suspect = j.suspect;
        const group = seen.filter((s) => s.key === key && s.allLossy).map((s) => s.node);
        if (group.length > 1) d.group = group.sort(cmp);
      });
    }
    devices.sort((a, b) => Number(b.suspect) - Number(a.suspect) || cmp(a.node, b.node));
  }

  const links: LinkEstimate[] = [];
  for (const link of sig.keys()) {
    const g = groupOf.get(link);
    if (g === undefined) {
      links.push({ link, loss: NaN, low: 0, high: 1, confidence: 0, identifiable: false, suspect: false, paths: 0 });
      continue;
    }
    const j = fit.links.get(g)!;
    const { members, paths } = groups[g];
    const e: LinkEstimate = {
      link,
      loss: j.loss,
      low: j.low,
      high: j.high,
      confidence: j.sure / members.length,
      identifiable: members.length === 1,
      suspect: j.suspect,
      paths: paths.length,
    };
    if (members.length > 1) e.group = [...members];
    links.push(e);
  }
  links.sort((a, b) => Number(b.suspect) - Number(a.suspect) || byLossDesc(a.loss, b.loss) || cmp(a.link, b.link));
  return { links, devices, iterations };
}

interface Judgement {
  loss: number;
  low: number;
  high: number;
  /** 1 - p-value of the one-sided test against suspectAbove. */
  sure: number;
  suspect: boolean;
}

/**
 * Charge each lost probe of a path to variable v with probability q_v / (1 - P_p) (the E-step
 * of EM: links drop independently), then test the drops d out of the n probes through v.
 */
function judgeVar(v: Var, f: { sent: number[]; lost: number[]; X: Float64Array }, above: number, confidence: number): Judgement {
  const q = -Math.expm1(-(v.x + v.floor));
  let d = 0;
  let n = 0;
  for (const p of v.paths) {
    n += f.sent[p];
    const pathLoss = -Math.expm1(-f.X[p]);
    if (f.lost[p] > 0 && pathLoss > 0) d += (f.lost[p] * Math.min(q, pathLoss)) / pathLoss;
  }
  d = Math.min(d, n);
  const pValue = binomialUpperTail(d, n, above);
  const [low, high] = clopperPearson(d, n, confidence);
  return { loss: n > 0 ? d / n : NaN, low, high, sure: 1 - pValue, suspect: pValue < (1 - confidence) / 2 };
}

/**
 * Projected coordinate descent on L(x) + lambda * sum x over x in [0, XMAX] (or a cap), in place; keeps
 * X[p] = floor + sum of the variables on p. Returns the sweeps done.
 */
function descend(f: { sent: number[]; lost: number[]; X: Float64Array }, vars: Var[], lambda: number, maxSweeps: number): number {
  if (vars.length === 0) return 0;
  for (let sweep = 1; sweep <= maxSweeps; sweep++) {
    let change = 0;
    for (const v of vars) change = Math.max(change, setVar(f, v, solveCoordinate(f, v, lambda)));
    if (change < TOL) return sweep;
  }
  return maxSweeps;
}

/** Set v to x, keeping X in step; returns the size of the move. */
function setVar(f: { X: Float64Array }, v: Var, x: number): number {
  const dx = x - v.x;
  if (dx === 0) return 0;
  for (const p of v.paths) f.X[p] += dx;
  v.x = x;
  return Math.abs(dx);
}

/**
 * Minimize over t in [0, cap or XMAX] the convex h(t) = lambda t + sum_p (n_p - k_p)(c_p + t) -
 * k_p ln(1 - e^-(c_p + t)), where c_p is path p's -ln success without v. Its derivative
 * g(t) = lambda + sum_p (n_p - k_p) - k_p / (e^(c_p + t) - 1) is increasing and concave, so
 * Newton from the left of the root never overshoots; a step that leaves the bracket [lo, hi]
 * is replaced by its geometric midpoint (losses span orders of magnitude).
 */
function solveCoordinate(f: { sent: number[]; lost: number[]; X: Float64Array }, v: Var, lambda: number): number {
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
  let hi = v.cap ?? XMAX;
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

/** L(x) of the current fit (the penalty left out). */
function negLogLikelihood(f: { sent: number[]; lost: number[]; X: Float64Array }): number {
  let l = 0;
  for (let p = 0; p < f.X.length; p++) {
    l += (f.sent[p] - f.lost[p]) * f.X[p];
    if (f.lost[p] > 0) l -= f.lost[p] * Math.log(-Math.expm1(-f.X[p]));
  }
  return l;
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
