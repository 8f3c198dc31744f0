// BGP-LS NLRIs and attribute TLVs. Section numbers are RFC 7752's, the ones ExaBGP's source and
// the lab's samples cite; RFC 9552 obsoletes RFC 7752 and keeps these encodings.
//
// Pure core: descriptors in, Buffers out. The low-level encoders produce whatever they are asked
// for, including what ExaBGP 4.2.21 cannot digest (MT-ID, opaque and link-name TLVs, odd node
// flags, quoted node names: FORMAT.md §8), because negative tests need those bytes.
// exabgp421Hazards() names those hazards so the speaker can refuse them unless told otherwise.
import { BgpError, ErrorCode, ipv4ToBytes } from "./bgp.js";

// ------------------------------------------------------------------------------------------------
// Constants, named after the IANA "Border Gateway Protocol - Link State (BGP-LS) Parameters"
// ------------------------------------------------------------------------------------------------

/** BGP-LS NLRI Types (§3.2). */
export const NlriType = {
  NODE: 1,
  LINK: 2,
  IPV4_PREFIX: 3,
  IPV6_PREFIX: 4,
} as const;

/** BGP-LS Protocol-IDs (§3.2). */
export const ProtocolId = {
  ISIS_L1: 1,
  ISIS_L2: 2,
  OSPFV2: 3,
  DIRECT: 4,
  STATIC: 5,
  OSPFV3: 6,
  BGP: 7, // RFC 9086
} as const;

/** BGP-LS NLRI and descriptor TLVs (§3.2.1 .. §3.2.3). */
export const NlriTlv = {
  LOCAL_NODE_DESCRIPTORS: 256,
  REMOTE_NODE_DESCRIPTORS: 257,
  LINK_LOCAL_REMOTE_IDENTIFIERS: 258,
  IPV4_INTERFACE_ADDRESS: 259,
  IPV4_NEIGHBOR_ADDRESS: 260,
  IPV6_INTERFACE_ADDRESS: 261,
  IPV6_NEIGHBOR_ADDRESS: 262,
  MULTI_TOPOLOGY_ID: 263,
  OSPF_ROUTE_TYPE: 264,
  IP_REACHABILITY_INFORMATION: 265,
} as const;

/** Node Descriptor Sub-TLVs (§3.2.1.4). */
export const NodeDescriptorTlv = {
  AUTONOMOUS_SYSTEM: 512,
  BGP_LS_IDENTIFIER: 513,
  OSPF_AREA_ID: 514,
  IGP_ROUTER_ID: 515,
} as const;

/** BGP-LS attribute TLVs (§3.3.1 node, §3.3.2 link, §3.3.3 prefix). */
export const AttrTlv = {
  NODE_FLAG_BITS: 1024,
  OPAQUE_NODE_ATTRIBUTE: 1025,
  NODE_NAME: 1026,
  ISIS_AREA_IDENTIFIER: 1027,
  IPV4_LOCAL_TE_ROUTER_ID: 1028, // RFC 5305 §4.3
  IPV6_LOCAL_TE_ROUTER_ID: 1029, // RFC 6119 §4.1
  IPV4_REMOTE_TE_ROUTER_ID: 1030, // RFC 5305 §4.3 (of the far end)
  IPV6_REMOTE_TE_ROUTER_ID: 1031,
  TE_DEFAULT_METRIC: 1092,
  IGP_METRIC: 1095,
  OPAQUE_LINK_ATTRIBUTE: 1097,
  LINK_NAME: 1098,
  ADJACENCY_SID: 1099, // RFC 9085 §2.2.1
  LAN_ADJACENCY_SID: 1100, // RFC 9085 §2.2.2
  SRV6_END_X_SID: 1106, // RFC 9514 §4.1
  ISIS_SRV6_LAN_END_X_SID: 1107, // RFC 9514 §4.2
  IGP_FLAGS: 1152,
  PREFIX_METRIC: 1155,
  OPAQUE_PREFIX_ATTRIBUTE: 1157,
} as const;

//  §3.3.1.1 Node Flag Bits
//   0 1 2 3 4 5 6 7
//  +-+-+-+-+-+-+-+-+
//  |O|T|E|B|R|V| Rsvd
//  +-+-+-+-+-+-+-+-+
export const NodeFlag = {
  OVERLOAD: 0x80,
  ATTACHED: 0x40,
  EXTERNAL: 0x20,
  ABR: 0x10,
  ROUTER: 0x08, // OSPFv3
  V6: 0x04, // OSPFv3
} as const;

/** OSPF Route Type values (§3.2.3.1). */
export const OspfRouteType = {
  INTRA_AREA: 1,
  INTER_AREA: 2,
  EXTERNAL_1: 3,
  EXTERNAL_2: 4,
  NSSA_1: 5,
  NSSA_2: 6,
} as const;

/** Multi-Topology IDs (RFC 5120 §7.5) the lab uses: the standard topology and IPv6 unicast. */
export const MtId = {
  STANDARD: 0,
  IPV6_UNICAST: 2,
} as const;

/** §3.2: Identifier 0 is the default Layer 3 routing topology (ExaBGP: "l3-routing-topology"). */
export const DEFAULT_IDENTIFIER = 0n;

// ------------------------------------------------------------------------------------------------
// TLV framing
// ------------------------------------------------------------------------------------------------

/** A BGP-LS wire fault; decoding of UPDATE contents is "UPDATE Message Error" territory. */
export class LsWireError extends BgpError {
  constructor(message: string) {
    super(ErrorCode.UPDATE_MESSAGE, 0, message);
    this.name = "LsWireError";
  }
}

function need(ok: boolean, message: string): asserts ok {
  if (!ok) throw new LsWireError(message);
}

/** An IPv6 address (RFC 4291 §2.2 text, "::" and a dotted-quad tail included) to 16 octets. */
export function ipv6ToBytes(address: string): Buffer {
  const bad = `not an IPv6 address: ${JSON.stringify(address)}`;
  let s = address.toLowerCase();
  const quad = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (quad) {
    const v4 = ipv4ToBytes(quad[2]);
    s = `${quad[1]}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const halves = s.split("::");
  need(halves.length <= 2 && s.includes(":"), bad);
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const tail = halves.length === 2 && halves[1] !== "" ? halves[1].split(":") : [];
  const fill = 8 - head.length - tail.length;
  need(halves.length === 2 ? fill >= 1 : fill === 0, bad);
  const groups = [...head, ...new Array<string>(halves.length === 2 ? fill : 0).fill("0"), ...tail];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    need(/^[0-9a-f]{1,4}$/.test(g), bad);
    out.writeUInt16BE(parseInt(g, 16), 2 * i);
  });
  return out;
}

function uint(value: number, bits: 8 | 16 | 24 | 32, what: string): void {
  need(Number.isInteger(value) && value >= 0 && value < 2 ** bits, `${what} must be an integer in 0..${2 ** bits - 1}, got ${value}`);
}

function beUint(value: number, octets: 1 | 2 | 3 | 4): Buffer {
  const b = Buffer.alloc(octets);
  b.writeUIntBE(value, 0, octets);
  return b;
}

//  §3.1 TLV Format (every NLRI, descriptor and attribute TLV)
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |              Type             |            Length             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  //                      Value (variable)                       //
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
export function encodeTlv(type: number, value: Buffer): Buffer {
  uint(type, 16, "TLV type");
  need(value.length <= 0xffff, `TLV ${type} value of ${value.length} octets exceeds 65535`);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value]);
}

export interface Tlv {
  type: number;
  /** A view into the input, not a copy. */
  value: Buffer;
}

/** Reads a run of TLVs, checking every length before slicing (no silent truncation). */
export function readTlvs(buf: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let off = 0;
  while (off < buf.length) {
    need(off + 4 <= buf.length, `TLV header truncated at offset ${off}`);
    const type = buf.readUInt16BE(off);
    const length = buf.readUInt16BE(off + 2);
    need(off + 4 + length <= buf.length, `TLV ${type} at offset ${off} declares ${length} octets, ${buf.length - off - 4} left`);
    out.push({ type, value: buf.subarray(off + 4, off + 4 + length) });
    off += 4 + length;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Node descriptors
// ------------------------------------------------------------------------------------------------

/** IS-IS IGP Router-ID (§3.2.1.4): 6-octet system id, plus the pseudonode id for a LAN (7). */
export function isisRouterId(systemId: string, pseudonode?: number): Buffer {
  const hex = systemId.replace(/\./g, "");
  need(/^[0-9a-fA-F]{12}$/.test(hex), `IS-IS system id must be 12 hex digits, got ${JSON.stringify(systemId)}`);
  const id = Buffer.from(hex, "hex");
  if (pseudonode === undefined) return id;
  uint(pseudonode, 8, "pseudonode id");
  return Buffer.concat([id, Buffer.from([pseudonode])]);
}

/** OSPF IGP Router-ID (§3.2.1.4): 4-octet router id, plus the DR's interface address for a LAN (8). */
export function ospfRouterId(routerId: string, drInterfaceAddress?: string): Buffer {
  const id = ipv4ToBytes(routerId);
  return drInterfaceAddress === undefined ? id : Buffer.concat([id, ipv4ToBytes(drInterfaceAddress)]);
}

export interface NodeDescriptor {
  /** Sub-TLV 512. */
  asn?: number;
  /** Sub-TLV 513 (a 32-bit number; often the speaker's router id read as an integer). */
  bgpLsId?: number;
  /** Sub-TLV 514, OSPF only: dotted quad or number. */
  ospfAreaId?: string | number;
  /** Sub-TLV 515: isisRouterId(...) or ospfRouterId(...). */
  igpRouterId: Buffer;
  /** Extra, already encoded sub-TLVs appended after 515 (negative tests: 516 resets ExaBGP). */
  extraSubTlvs?: readonly Buffer[];
}

//  §3.2.1.4 Node Descriptor Sub-TLVs, inside TLV 256 (local) / 257 (remote);
//  written in ascending type order as §3.1 asks: 512 AS (4), 513 BGP-LS id (4),
//  514 OSPF area (4), 515 IGP router id (4/6/7/8).
export function encodeNodeDescriptors(tlvType: number, d: NodeDescriptor): Buffer {
  const subs: Buffer[] = [];
  if (d.asn !== undefined) {
    uint(d.asn, 32, "AS number");
    subs.push(encodeTlv(NodeDescriptorTlv.AUTONOMOUS_SYSTEM, beUint(d.asn, 4)));
  }
  if (d.bgpLsId !== undefined) {
    uint(d.bgpLsId, 32, "BGP-LS identifier");
    subs.push(encodeTlv(NodeDescriptorTlv.BGP_LS_IDENTIFIER, beUint(d.bgpLsId, 4)));
  }
  if (d.ospfAreaId !== undefined) {
    let area: Buffer;
    if (typeof d.ospfAreaId === "string") area = ipv4ToBytes(d.ospfAreaId);
    else {
      uint(d.ospfAreaId, 32, "OSPF area id");
      area = beUint(d.ospfAreaId, 4);
    }
    subs.push(encodeTlv(NodeDescriptorTlv.OSPF_AREA_ID, area));
  }
  need([4, 6, 7, 8].includes(d.igpRouterId.length), `IGP router id of ${d.igpRouterId.length} octets (4, 6, 7 or 8)`);
  subs.push(encodeTlv(NodeDescriptorTlv.IGP_ROUTER_ID, d.igpRouterId));
  subs.push(...(d.extraSubTlvs ?? []));
  return encodeTlv(tlvType, Buffer.concat(subs));
}

// ------------------------------------------------------------------------------------------------
// NLRIs
// ------------------------------------------------------------------------------------------------

export interface NlriCommon {
  /** ProtocolId.ISIS_L2, ProtocolId.OSPFV2, ... */
  protocolId: number;
  /** §3.2 Identifier (instance); 0 = default topology. */
  identifier?: bigint | number;
}

//  §3.2 Link-State NLRI, and the common head of Node/Link/Prefix NLRIs
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |            NLRI Type          |     Total NLRI Length         |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  +-+-+-+-+-+-+-+-+
//  |  Protocol-ID  |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                           Identifier                          |
//  |                            (64 bits)                          |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  //   Local Node Descriptors, then per type: Remote Node Descriptors,  //
//  //   Link Descriptors (type 2) or Prefix Descriptors (types 3, 4)     //
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
function encodeNlri(nlriType: number, common: NlriCommon, tlvs: readonly Buffer[]): Buffer {
  uint(common.protocolId, 8, "Protocol-ID");
  const identifier = BigInt(common.identifier ?? DEFAULT_IDENTIFIER);
  need(identifier >= 0n && identifier < 2n ** 64n, `Identifier must fit in 64 bits, got ${identifier}`);
  const head = Buffer.alloc(9);
  head[0] = common.protocolId;
  head.writeBigUInt64BE(identifier, 1);
  return encodeTlv(nlriType, Buffer.concat([head, ...tlvs]));
}

export interface NodeNlri extends NlriCommon {
  local: NodeDescriptor;
}

/** §3.2 Node NLRI (type 1): Protocol-ID, Identifier, Local Node Descriptors. */
export function encodeNodeNlri(n: NodeNlri): Buffer {
  return encodeNlri(NlriType.NODE, n, [encodeNodeDescriptors(NlriTlv.LOCAL_NODE_DESCRIPTORS, n.local)]);
}

export interface LinkNlri extends NlriCommon {
  local: NodeDescriptor;
  remote: NodeDescriptor;
  /** TLV 258 (RFC 5307 §1.1): dropped silently by ExaBGP 4.2.21 (FORMAT.md §6.3). */
  linkIds?: { local: number; remote: number };
  /** TLV 259: the local end's interface address. */
  interfaceAddress?: string;
  /** TLV 260: the remote end's address on this link. */
  neighborAddress?: string;
  /** TLV 261 (RFC 6119 §4.2): the local end's IPv6 interface address. */
  interfaceAddress6?: string;
  /** TLV 262 (RFC 6119 §4.3): the remote end's IPv6 address on this link. */
  neighborAddress6?: string;
  /** TLV 263: IS-IS multi-topology (MtId). Hangs ExaBGP 4.2.21 (FORMAT.md §8): ExaBGP 5.0 only. */
  multiTopologyIds?: readonly number[];
}

//  §3.2.2 Link Descriptors, after the two node descriptor TLVs, in ascending order:
//  258 Link Local/Remote Identifiers (4+4), 259 IPv4 interface (4), 260 IPv4 neighbor (4),
//  261 IPv6 interface (16), 262 IPv6 neighbor (16), 263 MT-ID.
/** Link NLRI (type 2). */
export function encodeLinkNlri(l: LinkNlri): Buffer {
  const tlvs = [
    encodeNodeDescriptors(NlriTlv.LOCAL_NODE_DESCRIPTORS, l.local),
    encodeNodeDescriptors(NlriTlv.REMOTE_NODE_DESCRIPTORS, l.remote),
  ];
  if (l.linkIds !== undefined) {
    uint(l.linkIds.local, 32, "link local identifier");
    uint(l.linkIds.remote, 32, "link remote identifier");
    tlvs.push(encodeTlv(NlriTlv.LINK_LOCAL_REMOTE_IDENTIFIERS, Buffer.concat([beUint(l.linkIds.local, 4), beUint(l.linkIds.remote, 4)])));
  }
  if (l.interfaceAddress !== undefined) tlvs.push(encodeTlv(NlriTlv.IPV4_INTERFACE_ADDRESS, ipv4ToBytes(l.interfaceAddress)));
  if (l.neighborAddress !== undefined) tlvs.push(encodeTlv(NlriTlv.IPV4_NEIGHBOR_ADDRESS, ipv4ToBytes(l.neighborAddress)));
  if (l.interfaceAddress6 !== undefined) tlvs.push(encodeTlv(NlriTlv.IPV6_INTERFACE_ADDRESS, ipv6ToBytes(l.interfaceAddress6)));
  if (l.neighborAddress6 !== undefined) tlvs.push(encodeTlv(NlriTlv.IPV6_NEIGHBOR_ADDRESS, ipv6ToBytes(l.neighborAddress6)));
  if (l.multiTopologyIds !== undefined) tlvs.push(multiTopologyIdTlv(l.multiTopologyIds));
  return encodeNlri(NlriType.LINK, l, tlvs);
}

//  §3.2.1.5 Multi-Topology ID TLV: a list of 2-octet entries, 12-bit MT-ID each.
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |R R R R|  Multi-Topology ID 1   |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
export function multiTopologyIdTlv(ids: readonly number[]): Buffer {
  const v = Buffer.alloc(2 * ids.length);
  ids.forEach((id, i) => {
    need(Number.isInteger(id) && id >= 0 && id < 4096, `MT-ID must be 0..4095, got ${id}`);
    v.writeUInt16BE(id, 2 * i);
  });
  return encodeTlv(NlriTlv.MULTI_TOPOLOGY_ID, v);
}

/** Parses "a.b.c.d/len"; host bits must be zero. */
export function parseIpv4Prefix(prefix: string): { address: Buffer; length: number } {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(prefix);
  need(m !== null, `not an IPv4 prefix: ${JSON.stringify(prefix)}`);
  const length = Number(m[2]);
  need(length <= 32, `prefix length ${length} > 32 in ${prefix}`);
  const address = ipv4ToBytes(m[1]);
  const host = length === 32 ? 0 : (address.readUInt32BE(0) & (0xffffffff >>> length)) >>> 0;
  need(host === 0, `host bits set in ${prefix}`);
  return { address, length };
}

//  §3.2.3.2 IP Reachability Information TLV (265) value
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | Prefix Length | IP Prefix (variable: only the significant octets)
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/** Parses "x:y::/len" (IPv6); host bits must be zero. */
export function parseIpv6Prefix(prefix: string): { address: Buffer; length: number } {
  const m = /^([0-9A-Fa-f:.]+)\/(\d{1,3})$/.exec(prefix);
  need(m !== null, `not an IPv6 prefix: ${JSON.stringify(prefix)}`);
  const length = Number(m[2]);
  need(length <= 128, `prefix length ${length} > 128 in ${prefix}`);
  const address = ipv6ToBytes(m[1]);
  for (let bit = length; bit < 128; bit++) need((address[bit >> 3] & (0x80 >> (bit & 7))) === 0, `host bits set in ${prefix}`);
  return { address, length };
}

export function ipReachabilityTlv(prefix: string): Buffer {
  const { address, length } = prefix.includes(":") ? parseIpv6Prefix(prefix) : parseIpv4Prefix(prefix);
  const octets = Math.ceil(length / 8);
  return encodeTlv(NlriTlv.IP_REACHABILITY_INFORMATION, Buffer.concat([Buffer.from([length]), address.subarray(0, octets)]));
}

export interface Ipv4PrefixNlri extends NlriCommon {
  /** The advertising router. */
  local: NodeDescriptor;
  /** "198.19.0.1/32" (encodeIpv6PrefixNlri: "2001:2:0:ffff::1/128") */
  prefix: string;
  /** TLV 264, OSPF only (OspfRouteType). */
  ospfRouteType?: number;
  /** TLV 263: IS-IS multi-topology. Hangs ExaBGP 4.2.21: ExaBGP 5.0 only. */
  multiTopologyIds?: readonly number[];
}

//  §3.2.3 Prefix Descriptors, ascending: 263 MT-ID, 264 OSPF Route Type (1), 265 IP Reachability.
/** IPv4 Topology Prefix NLRI (type 3). */
export function encodeIpv4PrefixNlri(p: Ipv4PrefixNlri): Buffer {
  parseIpv4Prefix(p.prefix);
  return encodePrefixNlri(NlriType.IPV4_PREFIX, p);
}

/** IPv6 Topology Prefix NLRI (type 4): the same descriptors, an IPv6 prefix in TLV 265
 *  ("2001:2:0:ffff::1/128"); IS-IS multi-topology puts MT-ID 2 in TLV 263. */
export function encodeIpv6PrefixNlri(p: Ipv4PrefixNlri): Buffer {
  parseIpv6Prefix(p.prefix);
  return encodePrefixNlri(NlriType.IPV6_PREFIX, p);
}

function encodePrefixNlri(type: number, p: Ipv4PrefixNlri): Buffer {
  const tlvs = [encodeNodeDescriptors(NlriTlv.LOCAL_NODE_DESCRIPTORS, p.local)];
  if (p.multiTopologyIds !== undefined) tlvs.push(multiTopologyIdTlv(p.multiTopologyIds));
  if (p.ospfRouteType !== undefined) {
    need(p.ospfRouteType >= 1 && p.ospfRouteType <= 6, `OSPF route type must be 1..6, got ${p.ospfRouteType}`);
    tlvs.push(encodeTlv(NlriTlv.OSPF_ROUTE_TYPE, Buffer.from([p.ospfRouteType])));
  }
  tlvs.push(ipReachabilityTlv(p.prefix));
  return encodeNlri(type, p, tlvs);
}

// ------------------------------------------------------------------------------------------------
// BGP-LS attribute TLVs (the value of path attribute 29 is a run of these)
// ------------------------------------------------------------------------------------------------

/** §3.3.1.1 Node Flag Bits (1 octet, NodeFlag bits). */
export function nodeFlagsTlv(flags: number): Buffer {
  uint(flags, 8, "node flags");
  return encodeTlv(AttrTlv.NODE_FLAG_BITS, Buffer.from([flags]));
}

/** §3.3.1.3 Node Name (1..255 octets; the IGP's dynamic hostname, RFC 5301). Strings are UTF-8. */
export function nodeNameTlv(name: string | Buffer): Buffer {
  const v = typeof name === "string" ? Buffer.from(name, "utf8") : name;
  need(v.length >= 1 && v.length <= 255, `node name of ${v.length} octets (1..255)`);
  return encodeTlv(AttrTlv.NODE_NAME, v);
}

/** §3.3.1.2 IS-IS Area Identifier (1..13 octets), given as hex ("490001"). */
export function isisAreaTlv(areaHex: string): Buffer {
  need(/^([0-9a-fA-F]{2}){1,13}$/.test(areaHex), `IS-IS area must be 1..13 octets of hex, got ${JSON.stringify(areaHex)}`);
  return encodeTlv(AttrTlv.ISIS_AREA_IDENTIFIER, Buffer.from(areaHex, "hex"));
}

/** TLV 1028 (§3.3.1.4, node and link attribute): the router's IPv4 TE router id. */
export function localTeRouterIdTlv(address: string): Buffer {
  return encodeTlv(AttrTlv.IPV4_LOCAL_TE_ROUTER_ID, ipv4ToBytes(address));
}

/** TLV 1030 (§3.3.2.1, link attribute): the far end's IPv4 TE router id. */
export function remoteTeRouterIdTlv(address: string): Buffer {
  return encodeTlv(AttrTlv.IPV4_REMOTE_TE_ROUTER_ID, ipv4ToBytes(address));
}

/** TLV 1029 (§3.3.1.4, node and link attribute; RFC 6119 §4.1): the router's IPv6 TE router id. */
export function localTeRouterId6Tlv(address: string): Buffer {
  return encodeTlv(AttrTlv.IPV6_LOCAL_TE_ROUTER_ID, ipv6ToBytes(address));
}

/** TLV 1031 (§3.3.2.1, link attribute): the far end's IPv6 TE router id. */
export function remoteTeRouterId6Tlv(address: string): Buffer {
  return encodeTlv(AttrTlv.IPV6_REMOTE_TE_ROUTER_ID, ipv6ToBytes(address));
}

/** §3.3.2.3 TE Default Metric: 4 octets. */
export function teDefaultMetricTlv(metric: number): Buffer {
  uint(metric, 32, "TE default metric");
  return encodeTlv(AttrTlv.TE_DEFAULT_METRIC, beUint(metric, 4));
}

export type IgpMetricWidth = 1 | 2 | 3;

//  §3.3.2.4 IGP Metric TLV (1095)
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |              Type             |             Length            |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  //      IGP Link Metric (variable length)      //
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  IS-IS small metrics: 1 octet (6 bits used), OSPF: 2 octets, IS-IS wide metrics: 3 octets.
export function igpMetricTlv(metric: number, width: IgpMetricWidth): Buffer {
  const max = width === 1 ? 0x3f : width === 2 ? 0xffff : 0xffffff;
  need(Number.isInteger(metric) && metric >= 0 && metric <= max, `IGP metric ${metric} does not fit ${width} octet(s) (max ${max})`);
  return encodeTlv(AttrTlv.IGP_METRIC, beUint(metric, width));
}

/** The width a router of this protocol uses: 3 (IS-IS wide metrics) or 2 (OSPF). */
export function igpMetricWidthFor(protocolId: number): IgpMetricWidth {
  return protocolId === ProtocolId.OSPFV2 || protocolId === ProtocolId.OSPFV3 ? 2 : 3;
}

/** §3.3.3.4 Prefix Metric: 4 octets. */
export function prefixMetricTlv(metric: number): Buffer {
  uint(metric, 32, "prefix metric");
  return encodeTlv(AttrTlv.PREFIX_METRIC, beUint(metric, 4));
}

/** Adj-SID flags, IS-IS layout (RFC 8667 §2.2.1): F IPv6 adjacency, B backup (protected), V
 *  value, L local, S set, P persistent. */
export const AdjSidFlag = { F: 0x80, B: 0x40, V: 0x20, L: 0x10, S: 0x08, P: 0x04 } as const;
/** SRv6 End.X SID flags (RFC 9514 §4.1): B backup, S set, P persistent. */
export const EndXFlag = { B: 0x80, S: 0x40, P: 0x20 } as const;

export interface AdjSidSpec {
  /** A 20-bit label (flags V and L set, the default) or, with V and L clear, a 32-bit index. */
  sid: number;
  /** AdjSidFlag bits; default V | L (an unprotected local label). */
  flags?: number;
  weight?: number;
  /** LAN Adj-SID (1100): the neighbor's IS-IS system id, 12 hex digits. */
  neighbor?: string;
}

//  RFC 9085 §2.2.1 Adj-SID TLV (1099) / §2.2.2 LAN Adj-SID TLV (1100, IS-IS)
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |              Type             |              Length           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | Flags         |     Weight    |             Reserved          |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | (LAN only) Neighbor System-ID (6 octets)                       |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |   SID/Label (3 octets, V and L set) or Index (4 octets)        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
export function adjSidTlv(a: AdjSidSpec): Buffer {
  const flags = a.flags ?? AdjSidFlag.V | AdjSidFlag.L;
  uint(flags, 8, "Adj-SID flags");
  uint(a.weight ?? 0, 8, "Adj-SID weight");
  const vl = flags & (AdjSidFlag.V | AdjSidFlag.L);
  need(vl === (AdjSidFlag.V | AdjSidFlag.L) || vl === 0, "Adj-SID flags V and L must be both set (label) or both clear (index)");
  const label = vl !== 0;
  if (label) uint(a.sid, 24, "Adj-SID label");
  else uint(a.sid, 32, "Adj-SID index");
  need(!label || a.sid <= 0xfffff, `Adj-SID label ${a.sid} exceeds 20 bits`);
  const parts: Buffer[] = [Buffer.from([flags, a.weight ?? 0, 0, 0])];
  if (a.neighbor !== undefined) {
    need(/^[0-9a-f]{12}$/i.test(a.neighbor), `LAN Adj-SID neighbor must be a 12-hex-digit system id, got ${JSON.stringify(a.neighbor)}`);
    parts.push(Buffer.from(a.neighbor, "hex"));
  }
  parts.push(beUint(a.sid, label ? 3 : 4));
  return encodeTlv(a.neighbor !== undefined ? AttrTlv.LAN_ADJACENCY_SID : AttrTlv.ADJACENCY_SID, Buffer.concat(parts));
}

export interface EndXSpec {
  sid: string;
  /** SRv6 Endpoint Behavior: 5 End.X, 6 with PSP, ... (RFC 8986 §10.2). Default 5. */
  behavior?: number;
  /** EndXFlag bits; default 0 (unprotected). */
  flags?: number;
  algorithm?: number;
  weight?: number;
}

//  RFC 9514 §4.1 SRv6 End.X SID TLV (1106)
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |               Type            |          Length               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |        Endpoint Behavior      |      Flags    |   Algorithm   |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |     Weight    |   Reserved    |  SID (16 octets) ...          |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |    SID (cont ...)             |   Sub-TLVs (none here)        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
export function srv6EndXSidTlv(e: EndXSpec): Buffer {
  const behavior = e.behavior ?? 5;
  uint(behavior, 16, "End.X behavior");
  uint(e.flags ?? 0, 8, "End.X flags");
  uint(e.algorithm ?? 0, 8, "End.X algorithm");
  uint(e.weight ?? 0, 8, "End.X weight");
  const head = Buffer.alloc(6);
  head.writeUInt16BE(behavior, 0);
  head[2] = e.flags ?? 0;
  head[3] = e.algorithm ?? 0;
  head[4] = e.weight ?? 0;
  return encodeTlv(AttrTlv.SRV6_END_X_SID, Buffer.concat([head, ipv6ToBytes(e.sid)]));
}

/** §3.3.2.7 Link Name (1098): makes ExaBGP 4.2.21 write invalid JSON. Negative tests only. */
export function linkNameTlv(name: string): Buffer {
  return encodeTlv(AttrTlv.LINK_NAME, Buffer.from(name, "utf8"));
}

/** Opaque node/link/prefix attribute (1025/1097/1157, §3.3.1.5/§3.3.2.6/§3.3.3.6): crashes ExaBGP 4.2.21's JSON encoder. */
export function opaqueTlv(type: 1025 | 1097 | 1157, bytes: Buffer): Buffer {
  return encodeTlv(type, bytes);
}

// ------------------------------------------------------------------------------------------------
// What ExaBGP 4.2.21 cannot take (FORMAT.md §8)
// ------------------------------------------------------------------------------------------------

/** Attribute TLVs whose presence alone breaks 4.2.21: JSON encoder crash or invalid JSON. */
const UNSAFE_ATTR_TLVS: ReadonlyMap<number, string> = new Map([
  [AttrTlv.OPAQUE_NODE_ATTRIBUTE, "opaque node attribute 1025 crashes the JSON encoder (session drop)"],
  [AttrTlv.OPAQUE_LINK_ATTRIBUTE, "opaque link attribute 1097 crashes the JSON encoder (session drop)"],
  [AttrTlv.OPAQUE_PREFIX_ATTRIBUTE, "opaque prefix attribute 1157 crashes the JSON encoder (session drop)"],
  [AttrTlv.LINK_NAME, "link name 1098 gives an invalid JSON line"],
]);

/** Protocol-IDs 4.2.21 decodes and prints (others reset the session). */
const SAFE_PROTOCOLS: ReadonlySet<number> = new Set([1, 2, 3, 6]);

/** NLRI TLVs each 4.2.21 decoder consumes; any other TLV stalls its parsing loop (the MT-ID
 *  hang). The node decoder reads only its first TLV (256), so it has no such list. */
const CONSUMED_NLRI_TLVS: ReadonlyMap<number, ReadonlySet<number>> = new Map([
  [NlriType.LINK, new Set([256, 257, 258, 259, 260, 261, 262])],
  [NlriType.IPV4_PREFIX, new Set([256, 264, 265])],
  [NlriType.IPV6_PREFIX, new Set([256, 264, 265])],
]);

/** IGP router id lengths 4.2.21 accepts per protocol (IS-IS 6/7, OSPF 4/8). */
function igpRouterIdOk(protocol: number, length: number): boolean {
  return protocol === 1 || protocol === 2 ? length === 6 || length === 7 : length === 4 || length === 8;
}

/**
 * Reasons why ExaBGP 4.2.21 would hang, reset, or write invalid JSON on these NLRIs (one or
 * more NLRI TLVs) and this BGP-LS attribute value; [] when it is safe. `nextHopLength` is the
 * MP_REACH_NLRI next-hop length. Throws LsWireError when the bytes are not even well-formed TLVs.
 */
export function exabgp421Hazards(nlri: Buffer, attribute?: Buffer, nextHopLength = 4): string[] {
  const out: string[] = [];
  if (nextHopLength !== 4) out.push(`next hop of ${nextHopLength} octets resets the session (expects 4)`);
  for (const n of readTlvs(nlri)) {
    const consumed = CONSUMED_NLRI_TLVS.get(n.type);
    if (n.type !== NlriType.NODE && consumed === undefined) continue; // printed raw, not decoded (e16)
    need(n.value.length >= 9, `NLRI type ${n.type} shorter than its 9-octet head`);
    const protocol = n.value[0];
    if (!SAFE_PROTOCOLS.has(protocol)) out.push(`Protocol-ID ${protocol} resets the session`);
    const tlvs = readTlvs(n.value.subarray(9));
    for (const t of n.type === NlriType.NODE ? tlvs.slice(0, 1) : tlvs) {
      if (t.type === NlriTlv.LOCAL_NODE_DESCRIPTORS || t.type === NlriTlv.REMOTE_NODE_DESCRIPTORS) {
        for (const d of readTlvs(t.value)) {
          if (d.type < 512 || d.type > 515) out.push(`node descriptor sub-TLV ${d.type} resets the session`);
          else if ((d.type === 512 || d.type === 513) && d.value.length !== 4) {
            out.push(`sub-TLV ${d.type} of ${d.value.length} octets resets the session`);
          }
          else if (d.type === 515 && !igpRouterIdOk(protocol, d.value.length)) {
            out.push(`IGP router id of ${d.value.length} octets for protocol ${protocol} resets the session`);
          }
        }
      } else if (t.type === NlriTlv.MULTI_TOPOLOGY_ID) {
        out.push("MT-ID TLV 263 in the NLRI hangs ExaBGP (100% CPU, needs SIGKILL)");
      } else if (consumed !== undefined && !consumed.has(t.type)) {
        out.push(`NLRI TLV ${t.type} is never consumed by the decoder (hang)`);
      }
    }
  }
  for (const t of attribute === undefined ? [] : readTlvs(attribute)) {
    const reason = UNSAFE_ATTR_TLVS.get(t.type);
    if (reason !== undefined) out.push(reason);
    if (t.type === AttrTlv.NODE_NAME) {
      if (t.value.some((b) => b > 0x7e || b < 0x20)) {
        out.push("node name outside printable ASCII (non-ASCII resets the session, control characters break the JSON)");
      }
      if (t.value.includes(0x22) || t.value.includes(0x5c)) out.push('node name with " or \\ gives an invalid JSON line');
    }
    if (t.type === AttrTlv.NODE_FLAG_BITS) {
      // ExaBGP rebuilds the bits from hex(int(value)), so 0x01..0x0f come out as 4 bits and fail
      // its mask check, as do the two reserved bits: NOTIFICATION 3/5 "Invalid SR flags mask".
      const v = t.value.length === 1 ? t.value[0] : -1;
      if (v < 0) out.push("node flags TLV must be 1 octet");
      else if ((v >= 0x01 && v <= 0x0f) || (v & 0x03) !== 0) {
        out.push(`node flags 0x${v.toString(16)} reset the session ("Invalid SR flags mask")`);
      }
    }
  }
  return out;
}
