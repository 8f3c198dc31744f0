// One-way paths between probers (issue 14, Must 4; pure).
//
// Out-and-back probes cross a->b and b->a together, so no count of theirs tells the two
// directions of a link apart (prober/inference.ts: one signature, one group). A probe that
// leaves the prober at a path's source and arrives at the prober at its far end crosses the
// outward links only: with those, r2 -> r4 and r4 -> r2 have different signatures.
//
// The rule, a function of the path set and the live probers alone (two plugins agree):
//  every path of the set whose source and far end both have a live prober that gave an address
//  of a family the path is probeable in is sent one way once: by the prober at the source with
//  the highest weight(`<path id>>`, prober), to the prober at the far end with the highest
//  weight(`<path id><`, prober), ties to the smaller id (rendezvous hashing, as plugin/assign.ts
//  hands out loops). A prober that leaves moves exactly the streams it sent or received.
//  Families: those the path is probeable in by tunnel layers that both ends have an address
//  of. Segment routing is not used one way (its segment lists are out and back).
import { onewayId, onewayTag, type Family, type FamilyTargets, type IncomingPath, type OnewayPath, type Path, type PathSet } from "../shared/pathset.js";
import { weight } from "./assign.js";

/** A live prober as the one-way assignment sees it. */
export interface OnewayProber {
  id: string;
  router: string;
  addresses: Partial<Record<Family, string>>;
  port: number;
}

export interface OnewayAssignment {
  /** Per sender: the paths it sends one way (set order). */
  oneway: Map<string, OnewayPath[]>;
  /** Per receiver: what it receives (set order). */
  incoming: Map<string, IncomingPath[]>;
}

const NO_SR = "one-way paths are pinned by tunnel layers only (segment lists go out and back)";

function pick(probers: readonly OnewayProber[], key: string, w: (path: string, prober: string) => string, not?: string): OnewayProber | undefined {
  let best: OnewayProber | undefined;
  let bw = "";
  for (const p of probers) {
    if (p.id === not) continue;
    const pw = w(key, p.id);
    if (best === undefined || pw > bw || (pw === bw && p.id < best.id)) [best, bw] = [p, pw];
  }
  return best;
}

/** The targets of `path` one way in family `af`: the outward layers, no way back, no SR. */
function onewayTargets(t: FamilyTargets, af: Family): FamilyTargets {
  const sr = { segments: [], probeable: false, unprobeableReason: NO_SR };
  return { gre: t.gre, greReverse: [], probeable: t.probeable, ...(t.unprobeableReason !== undefined ? { unprobeableReason: t.unprobeableReason } : {}), srMpls: sr, ...(af === "ipv6" ? { srv6: sr } : {}) };
}

function onewayPath(p: Path, families: Family[], from: OnewayProber, to: OnewayProber): OnewayPath {
  const id = onewayId(p.id, to.id);
  const targets: Partial<Record<Family, FamilyTargets>> = {};
  for (const af of families) targets[af] = onewayTargets(p.targets![af]!, af);
  const address: Partial<Record<Family, string>> = {};
  for (const af of families) address[af] = to.addresses[af];
  const v4 = targets.ipv4;
  return {
    ...p,
    id,
    base: p.id,
    to: { prober: to.id, address, port: to.port },
    tag: onewayTag(id),
    families,
    targets,
    gre: v4?.gre ?? [],
    greReverse: [],
    probeable: v4?.probeable ?? false,
    ...(v4 ? (v4.unprobeableReason !== undefined ? { unprobeableReason: v4.unprobeableReason } : {}) : { unprobeableReason: "not in IPv4" }),
  };
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/** Which prober sends which path one way to which (see the rule above). */
export function assignOneway(set: Pick<PathSet, "paths">, probers: readonly OnewayProber[], w: (path: string, prober: string) => string = weight): OnewayAssignment {
  const atRouter = new Map<string, OnewayProber[]>();
  for (const p of probers) push(atRouter, p.router, p);
  const out: OnewayAssignment = { oneway: new Map(), incoming: new Map() };
  for (const p of set.paths) {
    const senders = atRouter.get(p.src);
    const receivers = atRouter.get(p.dst);
    if (!senders || !receivers || p.src === p.dst) continue;
    const from = pick(senders, `${p.id}>`, w);
    const to = from && pick(receivers, `${p.id}<`, w, from.id);
    if (!from || !to) continue;
    const families = (p.families ?? ["ipv4"]).filter((af) => p.targets?.[af]?.probeable && from.addresses[af] !== undefined && to.addresses[af] !== undefined);
    if (families.length === 0) continue;
    const path = onewayPath(p, families, from, to);
    const fromAddress: Partial<Record<Family, string>> = {};
    for (const af of families) fromAddress[af] = from.addresses[af];
    const incoming: IncomingPath = { id: path.id, tag: path.tag, from: from.id, fromAddress, src: p.src, dst: p.dst, families, links: p.links.map((l) => l.id), ...(p.rate !== undefined ? { rate: p.rate } : {}) };
    push(out.oneway, from.id, path);
    push(out.incoming, to.id, incoming);
  }
  return out;
}
