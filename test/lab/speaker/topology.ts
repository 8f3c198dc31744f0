// The IGP topology the lab's BGP-LS speaker announces, how it is loaded from the reference edge
// lists (/work/shared/topologies/*.json), and how each element looks on the wire as BGP-LS.
//
// Pure core apart from loadEdgeListFile(): the model is plain data, and nodeRoute / linkRoute /
// prefixRoute turn one element into the NLRI and BGP-LS attribute a router would send for it.
// They emit only what ExaBGP 4.2.21 digests (FORMAT.md §8): no link name, no opaque TLVs, node
// flags 0x00 or 0x80 only, node names in plain ASCII without `"` or `\`; and no MT-ID unless the
// model asks for IS-IS multi-topology (`mtIds` on links and prefixes, `ipv6: "multi"`), which
// hangs 4.2.21 and needs ExaBGP 5.0. IPv6 (interface/neighbor addresses 261/262, TE router ids
// 1029/1031, IPv6 prefixes) 4.2.21 prints.
import { readFileSync } from "node:fs";
import {
  MtId,
  NodeFlag,
  OspfRouteType,
  ProtocolId,
  encodeIpv4PrefixNlri,
  encodeIpv6PrefixNlri,
  encodeLinkNlri,
  encodeNodeNlri,
  igpMetricTlv,
  igpMetricWidthFor,
  isisRouterId,
  localTeRouterId6Tlv,
  localTeRouterIdTlv,
  nodeFlagsTlv,
  nodeNameTlv,
  ospfRouterId,
  parseIpv4Prefix,
  parseIpv6Prefix,
  prefixMetricTlv,
  remoteTeRouterId6Tlv,
  remoteTeRouterIdTlv,
  teDefaultMetricTlv,
  adjSidTlv,
  srv6EndXSidTlv,
  AdjSidFlag,
  EndXFlag,
  type AdjSidSpec,
  type EndXSpec,
  type NodeDescriptor,
} from "./bgpls.js";
import { ipv4ToBytes } from "./bgp.js";

// ------------------------------------------------------------------------------------------------
// Model
// ------------------------------------------------------------------------------------------------

export interface LsRouter {
  name: string;
  /** IS-IS system id, 12 hex digits (IGP router id for protocol "isis"). */
  systemId: string;
  /** IPv4 TE router id and loopback (IGP router id for protocol "ospf"). */
  routerId: string;
  /** IPv6 TE router id and loopback (TLV 1029), when the router runs IPv6. */
  routerId6?: string;
  /** IS-IS overload bit: announced as node flag O. */
  overload?: boolean;
}

/** One direction of a link: `from`'s interface address, `to`'s address on the same subnet. */
export interface LsLink {
  from: string;
  to: string;
  /** IGP metric (TLV 1095). */
  metric: number;
  /** TE default metric (TLV 1092), when the router has one. */
  teMetric?: number;
  localAddress?: string;
  remoteAddress?: string;
  /** IPv6 interface (TLV 261) and neighbor (TLV 262) address. */
  localAddress6?: string;
  remoteAddress6?: string;
  /** TLV 263 (MtId): absent for the standard topology; [2] for an IS-IS IPv6 (MT 2) adjacency. */
  mtIds?: number[];
  /** Adj-SIDs (TLV 1099; with `neighbor`, LAN Adj-SIDs 1100) `from` advertises for the adjacency. */
  adjSids?: AdjSidSpec[];
  /** SRv6 End.X SIDs (TLV 1106, RFC 9514 §4.1) `from` advertises for it. ExaBGP 4.2.21 prints
   *  them as `attribute-not-implemented` (and never gets them from a real SRv6 router, whose
   *  IPv6 next hop resets its session); 5.0 decodes them. */
  endX?: EndXSpec[];
}

export interface LsPrefix {
  router: string;
  /** "198.19.0.1/32", or IPv6 "2001:2:0:ffff::1/128" (an IPv6 prefix NLRI). */
  prefix: string;
  metric: number;
  /** TLV 263, as for links. */
  mtIds?: number[];
}

export interface LsTopology {
  protocol: "isis" | "ospf";
  asn: number;
  bgpLsId: number;
  routers: LsRouter[];
  links: LsLink[];
  prefixes: LsPrefix[];
  /** OSPF area of every router (default "0.0.0.0"); ignored for IS-IS. */
  ospfArea?: string;
  /** BGP-LS Identifier / instance (default 0). */
  identifier?: number;
}

/** The reference edge-list format (/work/shared/topologies/README.md). */
export interface EdgeListJson {
  nodes: string[];
  edges: Array<{ src: string; dst: string; metric: number }>;
  undirected?: boolean;
  [extra: string]: unknown;
}

export interface EdgeListOptions {
  protocol?: "isis" | "ospf";
  /** AS in the node descriptors (default 65001, the speaker's AS in the lab config). */
  asn?: number;
  /** BGP-LS identifier sub-TLV 513 (default 0). */
  bgpLsId?: number;
  /** Prefix metric of each router's loopback /32 (default 0, a passive loopback). */
  loopbackMetric?: number;
  /** Also set the TE default metric of every link to its IGP metric (default false). */
  teMetrics?: boolean;
  /**
   * IPv6 (addresses from 2001:2::/48): "single" puts IPv6 addresses on the same links (IS-IS
   * single topology: one link NLRI with both families); "multi" adds, per link, an MT-ID 2
   * link NLRI with the IPv6 addresses and the same metric, and MT-ID 2 on the IPv6 loopbacks
   * (IS-IS multi-topology: ExaBGP 5.0 only). Both give each router an IPv6 TE router id and
   * loopback /128. Default: none (IPv4 only).
   */
  ipv6?: "none" | "single" | "multi";
}

// ------------------------------------------------------------------------------------------------
// Addressing plan, all inside 198.18.0.0/15 (RFC 2544 benchmarking space)
// ------------------------------------------------------------------------------------------------

/** Routers are numbered from 1; 198.19.0.0/16 holds their loopbacks. */
export const MAX_ROUTERS = 65534;
/** /31 per edge from 198.18.0.0; 198.18.254.0/23 is left for the lab's BGP speakers. */
export const MAX_EDGES = 32512;

function ipv4FromNumber(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Router number n (1-based) -> loopback / TE router id 198.19.hi.lo. */
export function loopbackAddress(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_ROUTERS) throw new RangeError(`router number ${n} outside 1..${MAX_ROUTERS}`);
  return ipv4FromNumber(((198 << 24) >>> 0) + (19 << 16) + n);
}

/** Router number n (1-based) -> IPv6 loopback / TE router id 2001:2:0:ffff::n (RFC 5180 benchmarking space). */
export function loopbackAddress6(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_ROUTERS) throw new RangeError(`router number ${n} outside 1..${MAX_ROUTERS}`);
  return `2001:2:0:ffff::${n.toString(16)}`;
}

/** Edge k (0-based) -> its IPv6 subnet 2001:2:0:k::/64, addresses ::1 (src) and ::2 (never the
 *  all-zero subnet-router anycast address, RFC 4291 §2.6.1). */
export function edgeSubnet6(k: number): [string, string] {
  if (!Number.isInteger(k) || k < 0 || k >= MAX_EDGES) throw new RangeError(`edge number ${k} outside 0..${MAX_EDGES - 1}`);
  return [`2001:2:0:${k.toString(16)}::1`, `2001:2:0:${k.toString(16)}::2`];
}

// Segment routing, the lab's plan (test/lab/sr.ts, which installs the same SIDs in the routers):
// router n (1-based) has the locator 2001:2:0:(0x8000 + n)::/64; its adjacency k (0-based: its
// own links in model order) the End.X SID locator + ::e:k and the Adj-SID label 24000 + k. The
// protected twins this model adds for tests (B set: no probe may use them) are ::f:k and
// 24000 + 0x8000 + k.

/** Router number n's (1-based) SRv6 locator, "2001:2:0:80NN::" (a /64). */
export function srv6Locator(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 0x7ffe) throw new RangeError(`router number ${n} outside 1..${0x7ffe} (locators 2001:2:0:8001::/64 .. 2001:2:0:fffe::/64)`);
  return `2001:2:0:${(0x8000 + n).toString(16)}::`;
}

/** The End.X SID of router n's adjacency k: locator + ::e:k (protected: ::f:k), RFC 5952 form. */
export function endXSidFor(n: number, k: number, protectedSid = false): string {
  if (!Number.isInteger(k) || k < 0 || k > 0x7fff) throw new RangeError(`adjacency index ${k} outside 0..${0x7fff}`);
  return `${srv6Locator(n)}${protectedSid ? "f" : "e"}:${k.toString(16)}`;
}

/** The Adj-SID label of a router's adjacency k: 24000 + k (protected: 24000 + 0x8000 + k). */
export function adjSidLabelFor(k: number, protectedSid = false): number {
  if (!Number.isInteger(k) || k < 0 || k > 0x7fff) throw new RangeError(`adjacency index ${k} outside 0..${0x7fff}`);
  return 24000 + (protectedSid ? 0x8000 : 0) + k;
}

/**
 * The model with segment routing on every link, as an SR router advertises it: per directed
 * link (adjacency k of its `from`) two Adj-SIDs (the unprotected label and a protected one, B
 * set; F set on an IPv6-only MT-2 link) and, with `srv6`, two End.X SIDs of behavior End.X (5,
 * RFC 8986 §10.2: what the lab installs, `seg6local action End.X`, no PSP flavor), protected then
 * unprotected, algorithm 0, from the router's locator (srv6Locator, endXSidFor, adjSidLabelFor).
 */
export function withSegmentRouting(topo: LsTopology, opts: { mpls?: boolean; srv6?: boolean } = {}): LsTopology {
  const mpls = opts.mpls ?? true;
  const srv6 = opts.srv6 ?? true;
  const number = new Map(topo.routers.map((r, i) => [r.name, i + 1]));
  const adjacencies = new Map<string, number>();
  const links = topo.links.map((l, i): LsLink => {
    const n = number.get(l.from);
    if (n === undefined) throw new TypeError(`link ${i}: unknown router ${JSON.stringify(l.from)}`);
    const k = adjacencies.get(l.from) ?? 0;
    adjacencies.set(l.from, k + 1);
    const f = l.localAddress === undefined && l.localAddress6 !== undefined ? AdjSidFlag.F : 0;
    return {
      ...l,
      ...(mpls
        ? { adjSids: [{ sid: adjSidLabelFor(k), flags: f | AdjSidFlag.V | AdjSidFlag.L }, { sid: adjSidLabelFor(k, true), flags: f | AdjSidFlag.B | AdjSidFlag.V | AdjSidFlag.L }] }
        : {}),
      ...(srv6
        ? { endX: [{ sid: endXSidFor(n, k, true), behavior: 5, flags: EndXFlag.B }, { sid: endXSidFor(n, k), behavior: 5, flags: 0 }] }
        : {}),
    };
  });
  return { ...topo, links };
}

/** Router number n (1-based) -> IS-IS system id "1980" + 8 hex digits (1980.0000.000n). */
export function systemIdFor(n: number): string {
  return "1980" + n.toString(16).padStart(8, "0");
}

/** Edge k (0-based) -> its /31: [lower address, upper address]. */
export function edgeSubnet(k: number): [string, string] {
  if (!Number.isInteger(k) || k < 0 || k >= MAX_EDGES) throw new RangeError(`edge number ${k} outside 0..${MAX_EDGES - 1}`);
  const base = ((198 << 24) >>> 0) + (18 << 16) + 2 * k;
  return [ipv4FromNumber(base), ipv4FromNumber(base + 1)];
}

// ------------------------------------------------------------------------------------------------
// Loading
// ------------------------------------------------------------------------------------------------

/**
 * Builds the model from an edge list: routers get loopbacks 198.19.x.y/32 and system ids in
 * list order, each edge a /31 from 198.18.0.0 (src takes the lower address), undirected edges
 * become two directed links with the same metric, and each router announces its loopback.
 */
export function topologyFromEdgeList(json: EdgeListJson, opts: EdgeListOptions = {}): LsTopology {
  if (!Array.isArray(json.nodes) || !Array.isArray(json.edges)) throw new TypeError("edge list needs `nodes` and `edges` arrays");
  if (json.nodes.length > MAX_ROUTERS) throw new RangeError(`${json.nodes.length} nodes, at most ${MAX_ROUTERS}`);
  if (json.edges.length > MAX_EDGES) throw new RangeError(`${json.edges.length} edges, at most ${MAX_EDGES}`);
  const protocol = opts.protocol ?? "isis";
  const ipv6 = opts.ipv6 ?? "none";
  if (ipv6 !== "none" && protocol !== "isis") throw new RangeError(`ipv6: ${ipv6} needs protocol isis (OSPFv2 carries IPv4 only)`);
  const index = new Map<string, number>();
  const routers: LsRouter[] = json.nodes.map((name, i) => {
    if (typeof name !== "string" || name.length === 0) throw new TypeError(`nodes[${i}] must be a non-empty string`);
    if (index.has(name)) throw new TypeError(`nodes[${i}]: duplicate node ${JSON.stringify(name)}`);
    index.set(name, i);
    return { name, systemId: systemIdFor(i + 1), routerId: loopbackAddress(i + 1), ...(ipv6 !== "none" ? { routerId6: loopbackAddress6(i + 1) } : {}) };
  });
  const links: LsLink[] = [];
  json.edges.forEach((e, k) => {
    for (const end of [e.src, e.dst]) {
      if (!index.has(end)) throw new TypeError(`edges[${k}]: unknown node ${JSON.stringify(end)}`);
    }
    if (e.src === e.dst) throw new TypeError(`edges[${k}]: self-loop on ${JSON.stringify(e.src)}`);
    if (!Number.isInteger(e.metric) || e.metric < 0) throw new TypeError(`edges[${k}].metric must be a non-negative integer`);
    const [a, b] = edgeSubnet(k);
    const [a6, b6] = edgeSubnet6(k);
    const te = opts.teMetrics ? { teMetric: e.metric } : {};
    const one = (from: string, to: string, local: string, remote: string, local6: string, remote6: string): void => {
      if (ipv6 === "single") links.push({ from, to, metric: e.metric, ...te, localAddress: local, remoteAddress: remote, localAddress6: local6, remoteAddress6: remote6 });
      else links.push({ from, to, metric: e.metric, ...te, localAddress: local, remoteAddress: remote });
      if (ipv6 === "multi") links.push({ from, to, metric: e.metric, ...te, localAddress6: local6, remoteAddress6: remote6, mtIds: [MtId.IPV6_UNICAST] });
    };
    one(e.src, e.dst, a, b, a6, b6);
    if (json.undirected === true) one(e.dst, e.src, b, a, b6, a6);
  });
  const prefixes: LsPrefix[] = routers.map((r) => ({ router: r.name, prefix: `${r.routerId}/32`, metric: opts.loopbackMetric ?? 0 }));
  if (ipv6 !== "none") {
    for (const r of routers) prefixes.push({ router: r.name, prefix: `${r.routerId6}/128`, metric: opts.loopbackMetric ?? 0, ...(ipv6 === "multi" ? { mtIds: [MtId.IPV6_UNICAST] } : {}) });
  }
  return { protocol, asn: opts.asn ?? 65001, bgpLsId: opts.bgpLsId ?? 0, routers, links, prefixes };
}

/** Reads one of the reference topology files. */
export function loadEdgeListFile(path: string, opts: EdgeListOptions = {}): LsTopology {
  return topologyFromEdgeList(JSON.parse(readFileSync(path, "utf8")) as EdgeListJson, opts);
}

// ------------------------------------------------------------------------------------------------
// Look-ups
// ------------------------------------------------------------------------------------------------

export function routerByName(topo: LsTopology, name: string): LsRouter {
  const r = topo.routers.find((x) => x.name === name);
  if (r === undefined) throw new RangeError(`no router ${JSON.stringify(name)} in the topology`);
  return r;
}

/** The directed links a -> b and b -> a (either may be absent; none at all is an error). */
export function linksBetween(topo: LsTopology, a: string, b: string, direction: "both" | "forward" = "both"): LsLink[] {
  const out = topo.links.filter((l) => (l.from === a && l.to === b) || (direction === "both" && l.from === b && l.to === a));
  if (out.length === 0) throw new RangeError(`no link ${a} -> ${b} in the topology`);
  return out;
}

/** Every link touching the router, either direction. */
export function linksOf(topo: LsTopology, name: string): LsLink[] {
  return topo.links.filter((l) => l.from === name || l.to === name);
}

// ------------------------------------------------------------------------------------------------
// The model as BGP-LS
// ------------------------------------------------------------------------------------------------

/** One BGP-LS route: the NLRI, and the BGP-LS attribute TLVs that go with it. */
export interface LsRoute {
  kind: "node" | "link" | "prefix";
  /** Readable id for logs and tests ("node r1", "link r1->r2", "prefix r1 198.19.0.1/32"). */
  label: string;
  /** One NLRI TLV (type, length, value), as placed in MP_(UN)REACH_NLRI. */
  nlri: Buffer;
  /** The value of path attribute 29: a run of attribute TLVs (may be empty). */
  attribute: Buffer;
}

export function protocolIdOf(topo: LsTopology): number {
  return topo.protocol === "isis" ? ProtocolId.ISIS_L2 : ProtocolId.OSPFV2;
}

/** §3.2.1.4 descriptors of a router: AS, BGP-LS id, (OSPF area), IGP router id. */
export function nodeDescriptorOf(topo: LsTopology, r: LsRouter): NodeDescriptor {
  if (topo.protocol === "isis") {
    return { asn: topo.asn, bgpLsId: topo.bgpLsId, igpRouterId: isisRouterId(r.systemId) };
  }
  return { asn: topo.asn, bgpLsId: topo.bgpLsId, ospfAreaId: topo.ospfArea ?? "0.0.0.0", igpRouterId: ospfRouterId(r.routerId) };
}

/** A node name ExaBGP 4.2.21 prints as valid JSON: printable ASCII without `"` and `\`. */
function checkNodeName(name: string): void {
  if (!/^[\x20-\x7e]{1,255}$/.test(name) || name.includes('"') || name.includes("\\")) {
    throw new RangeError(`router name ${JSON.stringify(name)} must be 1..255 printable ASCII characters without " or \\`);
  }
}

/** Node NLRI + attribute: node flags (O when overloaded), node name, IPv4 TE router id (and IPv6, 1029). */
export function nodeRoute(topo: LsTopology, r: LsRouter): LsRoute {
  checkNodeName(r.name);
  const common = { protocolId: protocolIdOf(topo), identifier: topo.identifier ?? 0 };
  return {
    kind: "node",
    label: `node ${r.name}`,
    nlri: encodeNodeNlri({ ...common, local: nodeDescriptorOf(topo, r) }),
    attribute: Buffer.concat([
      nodeFlagsTlv(r.overload ? NodeFlag.OVERLOAD : 0),
      nodeNameTlv(r.name),
      localTeRouterIdTlv(r.routerId),
      ...(r.routerId6 !== undefined ? [localTeRouterId6Tlv(r.routerId6)] : []),
    ]),
  };
}

/** Link NLRI (descriptors of both ends, interface/neighbor addresses of each family, MT-ID) +
 *  attribute: local and remote TE router ids (1028/1030; IPv6 1029/1031 on a link with IPv6
 *  addresses), TE default metric (if any), IGP metric (3 octets IS-IS, 2 octets OSPF). */
export function linkRoute(topo: LsTopology, l: LsLink): LsRoute {
  const from = routerByName(topo, l.from);
  const to = routerByName(topo, l.to);
  const protocolId = protocolIdOf(topo);
  const six = l.localAddress6 !== undefined || l.remoteAddress6 !== undefined;
  const attribute = [localTeRouterIdTlv(from.routerId), remoteTeRouterIdTlv(to.routerId)];
  if (six && from.routerId6 !== undefined) attribute.splice(1, 0, localTeRouterId6Tlv(from.routerId6));
  if (six && to.routerId6 !== undefined) attribute.push(remoteTeRouterId6Tlv(to.routerId6));
  if (l.teMetric !== undefined) attribute.push(teDefaultMetricTlv(l.teMetric));
  attribute.push(igpMetricTlv(l.metric, igpMetricWidthFor(protocolId)));
  for (const a of l.adjSids ?? []) attribute.push(adjSidTlv(a));
  for (const e of l.endX ?? []) attribute.push(srv6EndXSidTlv(e));
  return {
    kind: "link",
    label: `link ${l.from}->${l.to}${l.mtIds?.length ? ` mt${l.mtIds.join(",")}` : ""}`,
    nlri: encodeLinkNlri({
      protocolId,
      identifier: topo.identifier ?? 0,
      local: nodeDescriptorOf(topo, from),
      remote: nodeDescriptorOf(topo, to),
      interfaceAddress: l.localAddress,
      neighborAddress: l.remoteAddress,
      interfaceAddress6: l.localAddress6,
      neighborAddress6: l.remoteAddress6,
      multiTopologyIds: l.mtIds,
    }),
    attribute: Buffer.concat(attribute),
  };
}

/** IPv4 prefix NLRI of the advertising router (+ OSPF route type intra-area) + prefix metric. */
export function prefixRoute(topo: LsTopology, p: LsPrefix): LsRoute {
  const r = routerByName(topo, p.router);
  const v6 = p.prefix.includes(":");
  if (v6) parseIpv6Prefix(p.prefix);
  else parseIpv4Prefix(p.prefix);
  return {
    kind: "prefix",
    label: `prefix ${p.router} ${p.prefix}`,
    nlri: (v6 ? encodeIpv6PrefixNlri : encodeIpv4PrefixNlri)({
      protocolId: protocolIdOf(topo),
      identifier: topo.identifier ?? 0,
      local: nodeDescriptorOf(topo, r),
      prefix: p.prefix,
      ospfRouteType: topo.protocol === "ospf" ? OspfRouteType.INTRA_AREA : undefined,
      multiTopologyIds: p.mtIds,
    }),
    attribute: prefixMetricTlv(p.metric),
  };
}

/** Every route of the topology: nodes, then links, then prefixes (the order routers use). */
export function topologyRoutes(topo: LsTopology): LsRoute[] {
  return [
    ...topo.routers.map((r) => nodeRoute(topo, r)),
    ...topo.links.map((l) => linkRoute(topo, l)),
    ...topo.prefixes.map((p) => prefixRoute(topo, p)),
  ];
}

/** Checks addresses and references once, so announcing fails before anything is sent. */
export function validateTopology(topo: LsTopology): void {
  for (const r of topo.routers) ipv4ToBytes(r.routerId);
  topologyRoutes(topo);
}
