// Node descriptors (RFC 9552 §5.2.1.4): sub-TLVs 512 AS, 513 BGP-LS identifier, 514 OSPF area id,
// 515 IGP router id, inside the Local (256) and Remote (257) Node Descriptors TLVs, plus the
// Protocol-ID and Identifier fields of the NLRI header (§5.2).
//
// ExaBGP dialects: 4.0/4.2 give one object; 5.0/6.0 give a list of one-key objects.
// IS-IS pseudonodes carry `psn` (7-byte router id); OSPF pseudonodes carry the DR's interface
// address as `designated-router-id` (FORMAT.md §6.2).
import { isObject, entriesOf, type JsonValue } from "../exabgp/json.js";
import { LsDecodeError } from "./errors.js";

/** RFC 9552 §5.2, Protocol-ID registry. */
export const PROTOCOL_ID = {
  ISIS_L1: 1,
  ISIS_L2: 2,
  OSPFV2: 3,
  DIRECT: 4,
  STATIC: 5,
  OSPFV3: 6,
  BGP: 7,
} as const;

/** IS-IS L1 and L2 describe the same routers; a router in both levels is one graph node. */
export function protocolFamily(protocolId: number): string {
  switch (protocolId) {
    case PROTOCOL_ID.ISIS_L1:
    case PROTOCOL_ID.ISIS_L2:
      return "isis";
    case PROTOCOL_ID.OSPFV2:
      return "ospf";
    case PROTOCOL_ID.OSPFV3:
      return "ospf3";
    default:
      return `proto${protocolId}`;
  }
}

export interface NodeDescriptors {
  asn?: number;
  bgpLsId?: string;
  ospfArea?: string;
  /** IGP router id as ExaBGP prints it: 12 hex digits for IS-IS, dotted quad for OSPF. */
  routerId: string;
  /** IS-IS pseudonode id (decimal string). */
  psn?: string;
  /** OSPF pseudonode: the DR's interface address. */
  dr?: string;
}

/** Where a node lives: the NLRI header fields every descriptor is qualified by. */
export interface LsScope {
  protocolId: number;
  /** The NLRI's Identifier field ("l3-routing-topology" in ExaBGP). */
  instance: number;
}

export function parseScope(o: { [k: string]: JsonValue }, path: string): LsScope {
  const protocolId = o["protocol-id"];
  const instance = o["l3-routing-topology"] ?? 0;
  if (typeof protocolId !== "number") throw new LsDecodeError(`${path}.protocol-id`, "expected a number");
  if (typeof instance !== "number") throw new LsDecodeError(`${path}.l3-routing-topology`, "expected a number");
  return { protocolId, instance };
}

export function parseNodeDescriptors(v: JsonValue | undefined, path: string): NodeDescriptors {
  let pairs: Array<[string, JsonValue]>;
  if (isObject(v)) pairs = entriesOf(v);
  else if (Array.isArray(v)) {
    pairs = [];
    for (const item of v) if (isObject(item)) pairs.push(...entriesOf(item));
  } else throw new LsDecodeError(path, "expected an object or a list of descriptors");

  const d: Partial<NodeDescriptors> = {};
  for (const [k, val] of pairs) {
    switch (k) {
      case "autonomous-system":
        if (typeof val === "number") d.asn = val;
        break;
      case "bgp-ls-identifier":
        d.bgpLsId = String(val);
        break;
      case "ospf-area-id":
        d.ospfArea = String(val);
        break;
      case "router-id":
        if (typeof val === "string" && val !== "") d.routerId = val;
        break;
      case "psn":
        d.psn = String(val);
        break;
      case "designated-router-id":
        d.dr = String(val);
        break;
      // Anything else (a newer ExaBGP's extra descriptor) does not identify the node for us.
    }
  }
  if (d.routerId === undefined) throw new LsDecodeError(`${path}.router-id`, "missing IGP router id");
  // IS-IS pseudonode: 4.2 prints the 6-byte system id plus `psn`; 5.0+ prints all 7 bytes as
  // the router id plus `psn`. Keep the system id so both dialects name the same node.
  if (d.psn !== undefined && /^[0-9a-f]{14}$/i.test(d.routerId)) d.routerId = d.routerId.slice(0, 12);
  return d as NodeDescriptors;
}

export function isPseudonode(d: NodeDescriptors): boolean {
  return d.psn !== undefined || d.dr !== undefined;
}

// Identities are built with Array.join, not template literals: join makes one flat string,
// where `${a}${b}...` makes a rope of cons strings that V8 keeps (20 per link, 37 MB for a
// 10,000-node LSDB).

/**
 * Graph identity of a node: protocol family, instance, ASN, BGP-LS id and IGP router id (plus
 * the pseudonode part). The OSPF area is left out so an ABR is one node.
 */
export function nodeId(scope: LsScope, d: NodeDescriptors): string {
  const id = [protocolFamily(scope.protocolId), scope.instance, d.asn ?? "", d.bgpLsId ?? "", d.routerId].join(":");
  if (d.psn !== undefined) return [id, d.psn].join(".");
  if (d.dr !== undefined) return [id, d.dr].join("/");
  return id;
}

/** NLRI identity of a descriptor set: everything on the wire, area and protocol level included. */
export function descriptorKey(d: NodeDescriptors): string {
  return [d.asn ?? "", d.bgpLsId ?? "", d.ospfArea ?? "", d.routerId, d.psn ?? "", d.dr ?? ""].join(",");
}
