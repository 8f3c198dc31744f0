// From the LSDB to the graph SPF runs on (@dagrejs/graphlib, directed multigraph).
//
// As IS-IS / OSPF SPF does (ISO 10589 §7.2.6, RFC 2328 §16.1):
//  - a link is used only when the reverse direction is advertised too (two-way check);
//  - an overloaded node (IS-IS O bit) is kept in the graph but is never transit (ecmp.ts);
//  - pseudonodes (LAN DIS / DR) are ordinary graph nodes; path building hides them as hops;
//  - parallel links between two routers stay distinct edges (edge name = link id).
//
// One topology per address family (RFC 5120, IS-IS multi-topology; RFC 5340, OSPFv3):
//  - IS-IS (and direct/static): a link in the standard topology (no MT-ID TLV 263, or MT-ID 0)
//    is in the IPv4 topology; MT-ID 2 (IPv6 unicast) puts it in the IPv6 topology. Where no link
//    of an IS-IS instance has MT-ID 2, the instance runs single topology and its standard links
//    carry IPv6 too. Other MT-IDs (multicast, management: 1, 3, 4, 5, ...) are in neither.
//  - OSPFv2 links are IPv4 only, OSPFv3 links IPv6 only.
// The two-way check pairs directions within one family's topology, and each family's graph has
// the metrics of its own links: the IPv6 paths of a multi-topology network may differ.
import { createHash } from "node:crypto";
import { Graph as GraphlibGraph } from "@dagrejs/graphlib";
import type { LsEntry } from "./lsdb.js";
import { isPseudonode, protocolFamily, PROTOCOL_ID } from "./bgpls/descriptors.js";
import { canonicalAddress, canonicalPrefix, isIpv4, isIpv6, isLinkLocal6, type Family } from "./ip.js";
import type { LinkAttr, LsLink } from "./bgpls/link.js";
import type { AdjSid, EndXSid } from "./bgpls/sr.js";
import type { LsNode, NodeAttr } from "./bgpls/node.js";
import type { LsPrefix } from "./bgpls/prefix.js";
import type { Steps } from "./slice.js";
import { NONE } from "./bgpls/attr.js";

export type Graph = GraphlibGraph<unknown, TopoNode, TopoLink>;
export type MetricKind = "igp" | "te";

export interface TopoNode {
  id: string;
  name: string;
  routerId: string;
  /** IPv4 TE router ids (node attribute 1028; link attributes 1028/1030 of its links). */
  teRouterIds: string[];
  /** IPv4 /32 prefixes the node advertises (loopbacks). */
  loopbacks: string[];
  /** IPv6 TE router ids (node attribute 1029; link attributes 1029/1031), RFC 5952 form. */
  teRouterIds6?: string[];
  /** IPv6 /128 prefixes the node advertises (loopbacks), RFC 5952 form. */
  loopbacks6?: string[];
  prefixes: string[];
  overload: boolean;
  pseudo: boolean;
}

export interface TopoLink {
  /** Stable id: hash of the NLRI identity. */
  id: string;
  from: string;
  to: string;
  metric: number;
  igpMetric?: number;
  teMetric?: number;
  /** First IPv4 interface (TLV 259) and neighbor (TLV 260) address. */
  localAddress?: string;
  remoteAddress?: string;
  /** First global IPv6 interface (TLV 261) and neighbor (TLV 262) address, RFC 5952 form. */
  localAddress6?: string;
  remoteAddress6?: string;
  localAddresses: string[];
  remoteAddresses: string[];
  /** TLV 263 as advertised (empty or absent: the standard topology). */
  mtIds?: number[];
  /** The segment routing SIDs `from` advertises for this adjacency (absent: none). */
  sids?: LinkSids;
  /** Those `to` advertises for the way back: the reverse direction's (the mirror the two-way
   *  check paired this link with; for a link out of a pseudonode, `to`'s link into it). */
  reverseSids?: LinkSids;
}

/** Adj-SIDs and SRv6 End.X SIDs of one direction of an adjacency, as its near end advertises them. */
export interface LinkSids {
  adj: readonly AdjSid[];
  endX: readonly EndXSid[];
}

/** The SIDs of a link attribute, or undefined when it has none (or predates segment routing). */
function sidsOf(attr: LinkAttr): LinkSids | undefined {
  const adj = attr.adj ?? NONE;
  const endX = attr.endX ?? NONE;
  return adj.length === 0 && endX.length === 0 ? undefined : { adj, endX };
}

export interface UnusableLink {
  id: string;
  from: string;
  to: string;
  reason: string;
  /** The advertisement itself is invalid (a metric out of range), not merely unusable yet. */
  invalid?: boolean;
  /** Who advertised it (set for invalid ones: the operator's "where"). */
  peers?: readonly string[];
}

/**
 * The largest metric each kind can carry (RFC 7752 §3.3.2.4: the IGP Metric TLV is 1 to 3
 * octets, IS-IS wide metrics are 24 bits; §3.3.2.3: the TE Default Metric is 4 octets). A value
 * outside 0..max, or not an integer, cannot come from a router: ExaBGP or something on the way
 * made it up. Refusing it also keeps negative cycles, which SPF cannot handle, out of the graph.
 */
export const MAX_METRIC = { igp: 2 ** 24 - 1, te: 2 ** 32 - 1 } as const;

/** Why a metric cannot be used, or undefined when it can. */
export function metricProblem(value: number, kind: keyof typeof MAX_METRIC): string | undefined {
  if (Number.isInteger(value) && value >= 0 && value <= MAX_METRIC[kind]) return undefined;
  return `${kind === "igp" ? "IGP" : "TE"} metric ${value} is not an integer from 0 to ${MAX_METRIC[kind]} (RFC 7752 §3.3.2.${kind === "igp" ? 4 : 3})`;
}

export interface Topology {
  /** The family whose links make the graph (absent: ipv4). */
  family?: Family;
  /** The families the LSDB has addresses, prefixes or IPv6 topology links of (in FAMILIES order;
   *  absent: ipv4). */
  present?: Family[];
  /** The other family's topology would have exactly these links (no multi-topology, no OSPF of
   *  one family only): one graph serves both (absent: true). */
  sameForFamilies?: boolean;
  graph: Graph;
  nodes: Map<string, TopoNode>;
  links: TopoLink[];
  unusable: UnusableLink[];
  /** prefix -> advertising node ids */
  prefixes: Map<string, string[]>;
  digest: string;
}

export { isIpv4, isIpv6 };

/** Multi-topology ids (RFC 5120 §7.5) lsprobe routes on: the standard topology and IPv6 unicast. */
export const MT_ID = { STANDARD: 0, IPV6_UNICAST: 2 } as const;

/** Where a link's MT-IDs are read: protocol family and instance (an IS-IS instance runs MT or not). */
const mtScope = (l: LsLink): string => `${protocolFamily(l.protocolId)}:${l.instance}`;

/**
 * Is the link in `family`'s topology? `mtScopes`: the scopes with an IPv6 unicast (MT-ID 2)
 * link, which run multi-topology (their standard links are IPv4 only).
 */
export function linkInFamily(l: Pick<LsLink, "protocolId" | "instance" | "mtIds">, family: Family, mtScopes: ReadonlySet<string>): boolean {
  const standard = l.mtIds.length === 0 || l.mtIds.includes(MT_ID.STANDARD);
  if (l.protocolId === PROTOCOL_ID.OSPFV2) return family === "ipv4" && standard;
  if (l.protocolId === PROTOCOL_ID.OSPFV3) return family === "ipv6" && standard;
  if (family === "ipv4") return standard;
  return l.mtIds.includes(MT_ID.IPV6_UNICAST) || (standard && !mtScopes.has(mtScope(l as LsLink)));
}

/** Short stable hash id. */
export function stableId(prefix: string, key: string): string {
  return prefix + createHash("sha256").update(key).digest("hex").slice(0, 16);
}

/** IS-IS system ids read better as 1921.6800.1001. */
export function formatRouterId(routerId: string, protocolId: number): string {
  if ((protocolId === PROTOCOL_ID.ISIS_L1 || protocolId === PROTOCOL_ID.ISIS_L2) && /^[0-9a-f]{12}$/i.test(routerId))
    return `${routerId.slice(0, 4)}.${routerId.slice(4, 8)}.${routerId.slice(8)}`;
  return routerId;
}

const none = NONE as unknown as string[];

function ensureNode(nodes: Map<string, TopoNode>, id: string, routerId: string, pseudo: boolean): TopoNode {
  let n = nodes.get(id);
  if (n === undefined) {
    n = { id, name: "", routerId, teRouterIds: none, loopbacks: none, teRouterIds6: none, loopbacks6: none, prefixes: none, overload: false, pseudo };
    nodes.set(id, n);
  }
  return n;
}

/** `list` plus `v` when new. Lists are rebuilt at their exact size (mostly 0 or 1 element)
 *  rather than pushed to: a pushed array keeps room for 17, and 10,000s of nodes hold three. */
const withNew = (list: string[], v: string): string[] => (list.includes(v) ? list : list.concat(v));

const firstIpv4 = (list: string[]): string | undefined => list.find(isIpv4);
/** A probe target: a global IPv6 address (a link-local one means nothing off its link). */
const firstIpv6 = (list: string[]): string | undefined => {
  const a = list.find((x) => isIpv6(x) && !isLinkLocal6(x));
  return a === undefined ? undefined : canonicalAddress(a);
};

/** Add the TE router ids `ids` (either family) to the node. */
function addTeRouterIds(node: TopoNode, ids: readonly string[]): void {
  for (const id of ids) {
    if (isIpv4(id)) node.teRouterIds = withNew(node.teRouterIds, id);
    else if (isIpv6(id)) node.teRouterIds6 = withNew(node.teRouterIds6 ?? none, canonicalAddress(id));
  }
}

/** Two directions of one adjacency: addresses must mirror when both sides have them. */
function mirrors(a: LsLink, b: LsLink): boolean {
  if (a.linkIds && b.linkIds) return a.linkIds.local === b.linkIds.remote && a.linkIds.remote === b.linkIds.local;
  if (a.interfaceAddresses.length && b.neighborAddresses.length)
    return a.interfaceAddresses.some((x) => b.neighborAddresses.includes(x));
  return true;
}

/**
 * The topology of the LSDB's entries. `reuse`: the previous run's graph, brought up to date in
 * place (labels replaced, only edges and nodes that came or went added or removed): graphlib's
 * setEdge for a new edge is the costliest step of a rebuild, and one link change touches one.
 */
export function* buildTopologySteps(entries: Iterable<LsEntry>, metric: MetricKind = "igp", reuse?: Graph, family: Family = "ipv4"): Steps<Topology> {
  const nodes = new Map<string, TopoNode>();
  const nodeNames = new Map<string, { name?: string; protocolId: number }>();
  const allLinks: LsEntry[] = [];
  const prefixes = new Map<string, string[]>();
  const mtScopes = new Set<string>();
  let has4 = false;
  let has6 = false;
  const note = (a: string): void => {
    if (isIpv4(a)) has4 = true;
    else if (isIpv6(a)) has6 = true;
  };
  let n = 0;

  // Yield every 256 objects: a slice then stays within a few milliseconds.
  for (const e of entries) {
    if ((++n & 255) === 0) yield;
    const o = e.nlri;
    if (o.kind === "node") {
      const a = e.attr as NodeAttr;
      const node = ensureNode(nodes, o.node, o.desc.routerId, isPseudonode(o.desc));
      node.overload ||= a.overload;
      addTeRouterIds(node, a.teRouterIds);
      a.teRouterIds.forEach(note);
      nodeNames.set(o.node, { name: a.name, protocolId: (o as LsNode).protocolId });
    } else if (o.kind === "link") {
      ensureNode(nodes, o.from, o.local.routerId, isPseudonode(o.local));
      ensureNode(nodes, o.to, o.remote.routerId, isPseudonode(o.remote));
      allLinks.push(e);
      if (o.mtIds.includes(MT_ID.IPV6_UNICAST)) {
        mtScopes.add(mtScope(o));
        has6 = true;
      }
      if (o.protocolId === PROTOCOL_ID.OSPFV3) has6 = true;
      o.interfaceAddresses.forEach(note);
      o.neighborAddresses.forEach(note);
    } else {
      const p = o as LsPrefix;
      const node = ensureNode(nodes, p.node, p.desc.routerId, isPseudonode(p.desc));
      const prefix = p.family === 6 ? canonicalPrefix(p.prefix) : p.prefix;
      node.prefixes = withNew(node.prefixes, prefix);
      if (p.family === 4) has4 = true;
      else has6 = true;
      if (p.family === 4 && prefix.endsWith("/32")) node.loopbacks = withNew(node.loopbacks, prefix.slice(0, -3));
      if (p.family === 6 && prefix.endsWith("/128")) node.loopbacks6 = withNew(node.loopbacks6 ?? none, prefix.slice(0, -4));
      const list = prefixes.get(prefix);
      prefixes.set(prefix, list === undefined ? [p.node] : withNew(list, p.node));
    }
  }
  // This family's links; whether the other family's would be the same.
  const links: LsEntry[] = [];
  let sameForFamilies = true;
  const other: Family = family === "ipv4" ? "ipv6" : "ipv4";
  for (const e of allLinks) {
    if ((++n & 1023) === 0) yield;
    const l = e.nlri as LsLink;
    const mine = linkInFamily(l, family, mtScopes);
    if (mine) links.push(e);
    if (mine !== linkInFamily(l, other, mtScopes)) sameForFamilies = false;
    const attr = e.attr as LinkAttr;
    attr.localTeRouterIds.forEach(note);
    attr.remoteTeRouterIds.forEach(note);
  }
  const present: Family[] = [...(has4 ? ["ipv4" as const] : []), ...(has6 ? ["ipv6" as const] : [])];

  // Names: the node-name TLV, else the router id; a pseudonode is named after its DIS/DR.
  for (const node of nodes.values()) {
    if ((++n & 1023) === 0) yield;
    const known = nodeNames.get(node.id);
    const proto = known?.protocolId ?? (node.id.startsWith("isis:") ? PROTOCOL_ID.ISIS_L2 : PROTOCOL_ID.OSPFV2);
    node.name = known?.name ?? formatRouterId(node.routerId, proto);
  }
  for (const node of nodes.values()) {
    if (!node.pseudo) continue;
    const m = /^(.*?)([./])([^./]+)$/.exec(node.id);
    const dis = m ? nodes.get(m[1]) : undefined;
    if (dis && !nodeNames.get(node.id)?.name) node.name = `${dis.name}${m![2]}${m![3]}`;
  }

  // Two-way check: links by their two ends (nested maps: no key string per link).
  const byEnds = new Map<string, Map<string, LsEntry[]>>();
  for (const e of links) {
    if ((++n & 1023) === 0) yield;
    const nlri = e.nlri as LsLink;
    let to = byEnds.get(nlri.from);
    if (to === undefined) byEnds.set(nlri.from, (to = new Map()));
    const l = to.get(nlri.to);
    to.set(nlri.to, l === undefined ? [e] : l.concat(e));
  }
  const graph: Graph = reuse ?? new GraphlibGraph({ directed: true, multigraph: true });
  for (const node of nodes.values()) {
    if ((++n & 1023) === 0) yield;
    graph.setNode(node.id, node);
  }
  const usable: TopoLink[] = [];
  const unusable: UnusableLink[] = [];
  for (const e of links) {
    if ((++n & 255) === 0) yield;
    const nlri = e.nlri as LsLink;
    const attr = e.attr as LinkAttr;
    // The id hashes the NLRI identity: computed once per NLRI object, kept on it.
    const id = (nlri.id ??= stableId("l-", nlri.key.slice(nlri.key.indexOf("|") + 1)));
    const bad = (reason: string, invalid = false): void => void unusable.push({ id, from: nlri.from, to: nlri.to, reason, ...(invalid ? { invalid, peers: e.peers } : {}) });
    if (nlri.from === nlri.to) {
      bad("loop to itself");
      continue;
    }
    const reverse = byEnds.get(nlri.to)?.get(nlri.from)?.find((r) => mirrors(nlri, r.nlri as LsLink));
    if (reverse === undefined) {
      bad("reverse direction not advertised (two-way check)");
      continue;
    }
    const kind = metric === "te" && attr.teMetric !== undefined ? "te" : "igp";
    const cost = kind === "te" ? attr.teMetric : attr.igpMetric;
    if (cost === undefined) {
      bad("no IGP metric");
      continue;
    }
    const wrong = metricProblem(cost, kind);
    if (wrong !== undefined) {
      bad(wrong, true);
      continue;
    }
    const link: TopoLink = {
      id,
      from: nlri.from,
      to: nlri.to,
      metric: cost,
      igpMetric: attr.igpMetric,
      teMetric: attr.teMetric,
      localAddress: firstIpv4(nlri.interfaceAddresses),
      remoteAddress: firstIpv4(nlri.neighborAddresses),
      localAddress6: firstIpv6(nlri.interfaceAddresses),
      remoteAddress6: firstIpv6(nlri.neighborAddresses),
      localAddresses: nlri.interfaceAddresses,
      remoteAddresses: nlri.neighborAddresses,
      mtIds: nlri.mtIds,
    };
    const sids = sidsOf(attr);
    const reverseSids = sidsOf(reverse.attr as LinkAttr);
    if (sids) link.sids = sids;
    if (reverseSids) link.reverseSids = reverseSids;
    // TE router ids carried in the link attribute describe the two ends too.
    addTeRouterIds(nodes.get(nlri.from)!, attr.localTeRouterIds);
    addTeRouterIds(nodes.get(nlri.to)!, attr.remoteTeRouterIds);
    usable.push(link);
    graph.setEdge(link.from, link.to, link, link.id);
  }
  if (reuse) {
    const live = new Set(usable.map((l) => l.id));
    yield;
    for (const e of graph.edges()) {
      if ((++n & 1023) === 0) yield;
      if (!live.has(e.name!)) graph.removeEdge(e);
    }
    for (const id of graph.nodes()) if (!nodes.has(id)) graph.removeNode(id);
  }

  const digest = createHash("sha256");
  const nodeIds = [...nodes.keys()].sort();
  yield;
  for (const id of nodeIds) {
    if ((++n & 1023) === 0) yield;
    digest.update(`n ${id} ${nodes.get(id)!.overload ? 1 : 0}\n`);
  }
  const sorted = [...usable].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  yield;
  for (const l of sorted) {
    if ((++n & 1023) === 0) yield;
    digest.update(`l ${l.id} ${l.metric}\n`);
  }

  return { family, present, sameForFamilies, graph, nodes, links: usable, unusable, prefixes, digest: digest.digest("hex") };
}
