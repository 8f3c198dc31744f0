// Shared coverage (issue 14, Must 2): which registered prober probes which path (pure).
//
// Input: a path set (any mode; in mode `plan` the plan's paths, in `all` every equal-cost path)
// and the live probers, each behind a router. A prober can only start paths at its own router,
// but a probe goes out and back (the prober's `reverse` mode): a path and its mirror (the same
// hops reversed, over the reverse links) cross the same links both ways. So the unit handed out
// is a loop: a path together with its mirror when the set has it, startable by a prober at
// either end (each probes the member that starts at its own router).
//
// The rule:
//  1. Base: every loop goes to exactly one prober, the highest random weight (rendezvous
//     hashing, Thaler and Ravishankar 1998) among the candidates, the (member path, prober)
//     pairs with the prober at the member's source: weight = the first 64 bits of
//     sha256(path id "\n" prober id), ties to the smaller prober id. A prober that leaves moves
//     exactly the loops it won, each to the runner-up; when it comes back it wins them again.
//     No other loop moves.
//  2. Links (deTector's rule, Peng et al., USENIX ATC'17): every link must be probed by at least
//     `perLink` (default 2) distinct probers where the probers allow. For each link whose base
//     probers are fewer than min(perLink, probers that could start a path across it), the missing
//     probers are the candidates not yet on it with the highest weight on a loop across it, each
//     taking that loop. Each link is decided from the base alone (not from other links' extras),
//     so an arrival or a departure changes the extras of the links it touches only.
//  The result is a function of the path set and the set of live probers alone (input order,
//  time and history do not matter): two plugins with the same LSDB and probers agree.
//
// Links that cannot get `perLink` probers, and why (LinkCoverage.reason):
//  - no live prober can start a path across it: every path across it starts (and, for a loop,
//    ends) at routers with no live prober;
//  - only one prober's paths cross it: all the loops across it start or end at routers where,
//    together, fewer than perLink probers live (say, r2-r4 of NANOG 6 with probers behind r1, r3
//    and r6 once r6's is gone: only r1 <-> r6 paths cross it).
//  A path set is not changed here: links the set's paths do not cross (mode plan's choice, or
//  pairs not configured) are not in the coverage at all, and the reverse of a link is known only
//  when some path of the set crosses it outward (else a loop counts its links out only).
import { createHash } from "node:crypto";
import { parallelGroupId, type Path, type PathLink, type PathSet } from "../shared/pathset.js";

/** A live prober as the assignment sees it. */
export interface ProberRef {
  id: string;
  /** The router it hangs off (a path's `src`). */
  router: string;
}

export interface LinkCoverage {
  /** Link id (a parallel group's id where the probes cannot tell its links apart). */
  link: string;
  from: string;
  to: string;
  /** Probers that probe a path across it, sorted. */
  probers: string[];
  /** Live probers that could (they can start a path across it). */
  possible: number;
  /** Why fewer than perLink probers probe it (absent when enough do). */
  reason?: string;
}

export interface Assignment {
  /** Every prober given, with the ids of the paths it probes (set order). */
  byProber: Map<string, string[]>;
  /** Rule 1: each loop's winner, as (the member path it probes -> prober id). */
  base: Map<string, string>;
  /** Every link the set's paths cross (and their reverses, where known), by id. */
  links: LinkCoverage[];
  /** Links probed by fewer than perLink probers. */
  undercovered: number;
  /** Paths no live prober probes (neither it nor its mirror can be started by one). */
  unprobed: string[];
  perLink: number;
}

/** The weight of (path, prober) in rendezvous hashing: 16 hex digits, compared as strings. */
export function weight(pathId: string, proberId: string): string {
  return createHash("sha256").update(pathId).update("\n").update(proberId).digest("hex").slice(0, 16);
}

/** The id the coverage counts a link under (the inference's, for parallel groups). */
export function linkElement(l: PathLink): string {
  return l.parallel && l.parallel.length > 1 ? parallelGroupId(l.parallel) : l.id;
}

interface End {
  id: string;
  from: string;
  to: string;
}

/** Do l (a -> b) and r (b -> a) look like the two directions of one adjacency? */
function mirrored(l: PathLink, r: PathLink, unique: boolean): boolean {
  if ((l.lan ?? null) !== (r.lan ?? null)) return false;
  let compared = false;
  for (const [a, b, c, d] of [
    [l.localAddress, l.remoteAddress, r.localAddress, r.remoteAddress],
    [l.localAddress6, l.remoteAddress6, r.localAddress6, r.remoteAddress6],
  ] as const) {
    if (a === undefined || b === undefined || c === undefined || d === undefined) continue;
    if (a !== d || b !== c) return false;
    compared = true;
  }
  return compared || unique;
}

/** link element -> its reverse's element, for the links of the set whose reverse the set has too. */
export function reverseLinks(paths: readonly Path[]): { reverse: Map<string, string>; ends: Map<string, End> } {
  const byEnds = new Map<string, Map<string, PathLink>>();
  const ends = new Map<string, End>();
  for (const p of paths)
    for (const l of p.links) {
      const e = linkElement(l);
      ends.set(e, { id: e, from: l.from, to: l.to });
      const k = `${l.from}\n${l.to}`;
      let m = byEnds.get(k);
      if (!m) byEnds.set(k, (m = new Map()));
      if (!m.has(e)) m.set(e, l);
    }
  const reverse = new Map<string, string>();
  for (const m of byEnds.values())
    for (const [e, l] of m) {
      const back = byEnds.get(`${l.to}\n${l.from}`);
      if (!back) continue;
      const found = [...back].filter(([, r]) => mirrored(l, r, back.size === 1));
      if (found.length === 1) reverse.set(e, found[0][0]);
    }
  return { reverse, ends };
}

interface Loop {
  /** Its paths (one, or a path and its mirror), set order. */
  members: Path[];
  /** Link elements crossed, out and back. */
  links: string[];
}

/** The set's paths grouped into loops (a path with its mirror). */
export function loopsOf(paths: readonly Path[]): { loops: Loop[]; ends: Map<string, End> } {
  const { reverse, ends } = reverseLinks(paths);
  const byKey = new Map<string, Loop>();
  for (const p of paths) {
    const crossed = new Set<string>();
    for (const l of p.links) {
      const e = linkElement(l);
      crossed.add(e);
      const r = reverse.get(e);
      if (r !== undefined) crossed.add(r);
    }
    const links = [...crossed].sort();
    const fwd = p.hops.map((h) => h.node).join(">");
    const rev = [...p.hops].reverse().map((h) => h.node).join(">");
    const key = `${fwd < rev ? fwd : rev}\n${links.join(",")}`;
    const loop = byKey.get(key);
    if (loop) loop.members.push(p);
    else byKey.set(key, { members: [p], links });
  }
  return { loops: [...byKey.values()], ends };
}

interface Candidate {
  path: string;
  prober: string;
  w: string;
}

/** Higher weight first; ties: smaller prober id, then smaller path id. */
function better(a: Candidate, b: Candidate): boolean {
  if (a.w !== b.w) return a.w > b.w;
  if (a.prober !== b.prober) return a.prober < b.prober;
  return a.path < b.path;
}

/**
 * Assign the set's paths to the probers (the live ones: the caller decides liveness). Probers
 * whose router starts no path of the set get an empty list. `w` is weight() (a caller may pass
 * a memo of it: the plugin recomputes on every arrival and departure).
 */
export function assignPaths(set: Pick<PathSet, "paths">, probers: readonly ProberRef[], perLink = 2, w: (pathId: string, proberId: string) => string = weight): Assignment {
  const atRouter = new Map<string, string[]>();
  const ids = [...new Set(probers.map((p) => p.id))].sort();
  const routerOf = new Map(probers.map((p) => [p.id, p.router]));
  for (const id of ids) {
    const r = routerOf.get(id)!;
    atRouter.set(r, [...(atRouter.get(r) ?? []), id]);
  }
  const { loops, ends } = loopsOf(set.paths);
  const given = new Map<string, Set<string>>(ids.map((id) => [id, new Set()]));
  const candidatesOf = (loop: Loop): Candidate[] => loop.members.flatMap((m) => (atRouter.get(m.src) ?? []).map((prober) => ({ path: m.id, prober, w: w(m.id, prober) })));

  // 1. Base: each loop to its highest-weight candidate.
  const cands = loops.map(candidatesOf);
  const unprobed: string[] = [];
  const base = new Map<string, string>();
  const onLink = new Map<string, Set<string>>();
  const loopsOnLink = new Map<string, number[]>();
  loops.forEach((loop, i) => {
    for (const l of loop.links) {
      let s = loopsOnLink.get(l);
      if (!s) loopsOnLink.set(l, (s = []));
      s.push(i);
      if (!onLink.has(l)) onLink.set(l, new Set());
    }
    if (cands[i].length === 0) {
      unprobed.push(...loop.members.map((m) => m.id));
      return;
    }
    const best = cands[i].reduce((a, b) => (better(b, a) ? b : a));
    given.get(best.prober)!.add(best.path);
    base.set(best.path, best.prober);
    for (const l of loop.links) onLink.get(l)!.add(best.prober);
  });

  // 2. Each link up to min(perLink, possible) probers, decided from the base alone.
  const extra: Candidate[] = [];
  const possibleOf = new Map<string, Set<string>>();
  for (const [link, idx] of loopsOnLink) {
    const base = onLink.get(link)!;
    const bestOf = new Map<string, Candidate>();
    for (const i of idx)
      for (const c of cands[i]) {
        const b = bestOf.get(c.prober);
        if (!b || better(c, b)) bestOf.set(c.prober, c);
      }
    possibleOf.set(link, new Set(bestOf.keys()));
    const want = Math.min(perLink, bestOf.size) - base.size;
    if (want <= 0) continue;
    const ranked = [...bestOf.values()].filter((c) => !base.has(c.prober)).sort((a, b) => (better(a, b) ? -1 : 1));
    extra.push(...ranked.slice(0, want));
  }
  const loopOfPath = new Map<string, Loop>();
  for (const loop of loops) for (const m of loop.members) loopOfPath.set(m.id, loop);
  const covered = new Map<string, Set<string>>([...onLink].map(([l, s]) => [l, new Set(s)]));
  for (const c of extra) {
    given.get(c.prober)!.add(c.path);
    for (const l of loopOfPath.get(c.path)!.links) covered.get(l)!.add(c.prober);
  }

  const links: LinkCoverage[] = [...covered.keys()].sort().map((link) => {
    const probersOn = [...covered.get(link)!].sort();
    const possible = possibleOf.get(link)!.size;
    const end = ends.get(link) ?? { id: link, from: "?", to: "?" };
    const lc: LinkCoverage = { link, from: end.from, to: end.to, probers: probersOn, possible };
    if (probersOn.length < perLink)
      lc.reason =
        possible === 0
          ? "no live prober can start a path across it (the paths across it start and end at routers without one)"
          : `only ${possible === 1 ? `one prober's paths cross it (${[...possibleOf.get(link)!][0]})` : `${possible} probers' paths cross it`}: the other routers its paths start or end at have no live prober`;
    return lc;
  });
  const order = new Map(set.paths.map((p, i) => [p.id, i]));
  const byProber = new Map<string, string[]>();
  for (const id of ids) byProber.set(id, [...given.get(id)!].sort((a, b) => order.get(a)! - order.get(b)!));
  return { byProber, base, links, undercovered: links.filter((l) => l.probers.length < perLink).length, unprobed: unprobed.sort((a, b) => order.get(a)! - order.get(b)!), perLink };
}
