// The one view's verdict for one window (pure): prober/inference.ts over the union of every
// prober's streams, per family (an IPv6-only fault is named in IPv6 only), and for each link
// and router the probers whose streams across it lost probes ("the probers that saw it").
//
// With one-way streams in the union, a link's two directions have different signatures (the
// one-way paths across r2 -> r4 do not cross r4 -> r2), so the inference names r2 -> r4 alone
// when only it loses; with out-and-back streams only they stay one group, as in a prober.
import { inferLinkLoss, type InferenceOptions, type LinkEnds } from "../../prober/inference.js";
import type { Family } from "../../shared/pathset.js";
import { parallelGroupId } from "../../shared/pathset.js";
import type { Stream } from "./union.js";

export interface ViewLink {
  link: string;
  from: string;
  to: string;
  af: Family;
  loss: number;
  low: number;
  high: number;
  suspect: boolean;
  identifiable: boolean;
  /** Links it cannot be told apart from (itself included), as "from->to". */
  group?: string[];
  /** Streams across it in the window, and of them one-way ones. */
  streams: number;
  oneway: number;
  /** Probers whose streams across it lost probes in the window, sorted. */
  probers: string[];
}

export interface ViewRouter {
  router: string;
  af: Family;
  probers: string[];
}

export interface ViewResult {
  links: ViewLink[];
  routers: ViewRouter[];
  streams: { loop: number; oneway: number };
}

const keyOf = (e: string | readonly string[]): string => (typeof e === "string" ? e : parallelGroupId([...e]));

function inferFamily(af: Family, streams: readonly Stream[], ends: ReadonlyMap<string, LinkEnds>, opts: InferenceOptions, out: ViewResult): void {
  const inf = inferLinkLoss(streams, opts, ends);
  // Per element: the streams across it (a stream counted once however often it crosses), and
  // which of them lost probes (their probers are "the probers that saw it", listed for suspects).
  const across = new Map<string, { n: number; oneway: number; last: number; lossy: number[] }>();
  streams.forEach((s, i) => {
    for (const l of s.links) {
      const e = keyOf(l);
      let a = across.get(e);
      if (!a) across.set(e, (a = { n: 0, oneway: 0, last: -1, lossy: [] }));
      if (a.last === i) continue;
      a.last = i;
      a.n++;
      if (s.kind === "oneway") a.oneway++;
      if (s.lost > 0) a.lossy.push(i);
    }
  });
  const sawIt = (elements: readonly string[]): string[] => {
    const probers = new Set<string>();
    for (const e of elements) for (const i of across.get(e)?.lossy ?? []) for (const p of streams[i].probers) probers.add(p);
    return [...probers].sort();
  };
  const name = (id: string): string => {
    const l = ends.get(id);
    return l ? `${l.from}->${l.to}` : id;
  };
  for (const est of inf.links) {
    const l = ends.get(est.parallel?.[0] ?? est.link);
    if (!l) continue;
    const a = across.get(est.link);
    out.links.push({
      link: est.link,
      from: l.from,
      to: l.to,
      af,
      loss: est.loss,
      low: est.low,
      high: est.high,
      suspect: est.suspect,
      identifiable: est.identifiable,
      ...(est.group ? { group: est.group.map(name) } : {}),
      streams: a?.n ?? 0,
      oneway: a?.oneway ?? 0,
      probers: est.suspect ? sawIt([est.link]) : [],
    });
  }
  for (const d of inf.devices) {
    if (!d.suspect) continue;
    out.routers.push({ router: d.node, af, probers: sawIt(d.links) });
  }
}

/** The view over the window's streams; `ends` names every element's routers. */
export function inferView(streams: readonly Stream[], ends: ReadonlyMap<string, LinkEnds>, opts: InferenceOptions = {}): ViewResult {
  const out: ViewResult = { links: [], routers: [], streams: { loop: 0, oneway: 0 } };
  for (const s of streams) out.streams[s.kind]++;
  for (const af of ["ipv4", "ipv6"] as const) {
    const mine = streams.filter((s) => s.af === af);
    if (mine.length > 0) inferFamily(af, mine, ends, opts, out);
  }
  return out;
}
