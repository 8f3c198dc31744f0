// IPv4/IPv6 Topology Prefix NLRI (RFC 9552 §5.2.3, types 3 and 4): the advertising node's
// descriptors plus 263 MT-ID, 264 OSPF route type and 265 IP reachability; prefix attribute TLVs
// (§5.3.3): 1155 prefix metric, 1158 Prefix-SID (RFC 9085).
import { type JsonObject } from "../exabgp/json.js";
import { all, lastNumber, numbers, NONE } from "./attr.js";
import { descriptorKey, nodeId, parseNodeDescriptors, parseScope, type LsScope, type NodeDescriptors } from "./descriptors.js";
import { LsDecodeError } from "./errors.js";

export interface LsPrefix extends LsScope {
  kind: "prefix";
  key: string;
  /** Graph id of the advertising node. */
  node: string;
  desc: NodeDescriptors;
  /** "address/length", IPv6 compressed as ExaBGP prints it. */
  prefix: string;
  family: 4 | 6;
  ospfRouteType?: number;
  mtIds: number[];
}

export interface PrefixAttr {
  metric?: number;
  prefixSids: number[];
}

export function parsePrefixNlri(o: JsonObject, path: string, family: 4 | 6): LsPrefix {
  const scope = parseScope(o, path);
  const desc = parseNodeDescriptors(o["node-descriptors"], `${path}.node-descriptors`);
  let prefix = o["ip-reach-prefix"];
  if (typeof prefix !== "string") {
    // Older dialects: address only, length unknown.
    const addr = o["ip-reachability-tlv"];
    if (typeof addr !== "string") throw new LsDecodeError(`${path}.ip-reach-prefix`, "missing prefix");
    prefix = `${addr}/${family === 4 ? 32 : 128}`;
  }
  const rt = o["ospf-route-type"];
  const mt = o["multi-topology-ids"];
  const mtIds = Array.isArray(mt) ? numbers(mt) : (NONE as unknown as number[]);
  return {
    kind: "prefix",
    protocolId: scope.protocolId,
    instance: scope.instance,
    key: [`prefix${family}`, scope.protocolId, scope.instance, descriptorKey(desc), prefix, mtIds.join(",")].join("|"),
    node: nodeId(scope, desc),
    desc,
    prefix,
    family,
    ospfRouteType: typeof rt === "number" ? rt : undefined,
    mtIds,
  };
}

export function parsePrefixAttr(attr: JsonObject | undefined): PrefixAttr {
  return {
    metric: lastNumber(attr, "prefix-metric"),
    // Prefix-SID `sids` is a flat [n]; in a prefix attribute no other TLV uses that key.
    prefixSids: numbers(all(attr, "sids")),
  };
}
