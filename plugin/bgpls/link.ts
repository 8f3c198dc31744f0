// Link NLRI (RFC 9552 §5.2.2, type 2): local and remote node descriptors plus link descriptors
// (258 link local/remote ids, 259/260 IPv4 interface/neighbor, 261/262 IPv6, 263 MT-ID), and the
// link attribute TLVs (§5.3.2) lsprobe uses: 1092 TE metric, 1095 IGP metric, 1099/1100
// Adj-SIDs and 1106-1108 SRv6 End.X SIDs (sr.ts), 1030/1031 remote TE router ids, 1089
// bandwidth, 1096 SRLG, 1098 link name.
import { isObject, valuesOf, type JsonObject, type JsonValue } from "../exabgp/json.js";
import { all, compact, lastNumber, name, numbers, strings, NONE } from "./attr.js";
import { parseAdjSids, parseEndXSids, type AdjSid, type EndXSid } from "./sr.js";
import { descriptorKey, nodeId, parseNodeDescriptors, parseScope, type LsScope, type NodeDescriptors } from "./descriptors.js";

export interface LsLink extends LsScope {
  kind: "link";
  key: string;
  /** Graph ids of the two ends. */
  from: string;
  to: string;
  local: NodeDescriptors;
  remote: NodeDescriptors;
  interfaceAddresses: string[];
  neighborAddresses: string[];
  /** TLV 258 (ExaBGP >= 5.0.13 only; 4.2 drops it). */
  linkIds?: { local: number; remote: number };
  mtIds: number[];
  /** Stable link id (a hash of the key), cached here by topology.ts. */
  id?: string;
}

export interface LinkAttr {
  igpMetric?: number;
  teMetric?: number;
  /** Adj-SIDs (1099) and LAN Adj-SIDs (1100) with their flags and weight, in wire order.
   *  (Absent in LSDB snapshots written before segment routing: read as none.) */
  adj: AdjSid[];
  /** SRv6 End.X (1106) and LAN End.X (1107/1108) SIDs (ExaBGP >= 5.0). Absent as `adj`. */
  endX: EndXSid[];
  /** Local/remote TE router ids seen in the link attribute. */
  localTeRouterIds: string[];
  remoteTeRouterIds: string[];
  /** Maximum link bandwidth, bytes per second. */
  maxBandwidth?: number;
  srlgs: number[];
  name?: string;
}

/** 4.x: `"interface-address": { "interface-address": "a", ... }` (dup keys); 5.0+: `"interface-addresses": [...]`. */
function addresses(o: JsonObject, singular: string): string[] {
  const out: string[] = [];
  for (const wrapped of valuesOf(o, singular)) {
    if (isObject(wrapped)) for (const v of valuesOf(wrapped, singular)) if (typeof v === "string") out.push(v);
  }
  for (const list of valuesOf(o, `${singular}es`)) {
    if (Array.isArray(list)) for (const v of list) if (typeof v === "string") out.push(v);
  }
  return compact(out);
}

function linkIds(o: JsonObject): LsLink["linkIds"] {
  const v = o["link-identifiers"];
  const first: JsonValue | undefined = Array.isArray(v) ? v[0] : v;
  if (!isObject(first)) return undefined;
  const local = first["link-local-id"];
  const remote = first["link-remote-id"];
  return typeof local === "number" && typeof remote === "number" ? { local, remote } : undefined;
}

export function parseLinkNlri(o: JsonObject, path: string): LsLink {
  const scope = parseScope(o, path);
  const local = parseNodeDescriptors(o["local-node-descriptors"], `${path}.local-node-descriptors`);
  const remote = parseNodeDescriptors(o["remote-node-descriptors"], `${path}.remote-node-descriptors`);
  const interfaceAddresses = addresses(o, "interface-address");
  const neighborAddresses = addresses(o, "neighbor-address");
  const ids = linkIds(o);
  const mt = o["multi-topology-ids"];
  const mtIds = Array.isArray(mt) ? numbers(mt) : (NONE as unknown as number[]);
  const key = [
    "link",
    scope.protocolId,
    scope.instance,
    descriptorKey(local),
    descriptorKey(remote),
    interfaceAddresses.join(","),
    neighborAddresses.join(","),
    ids ? [ids.local, ids.remote].join("/") : "",
    mtIds.join(","),
  ].join("|");
  // Every field written here, none added later (`id` too): an object literal with a spread, or
  // a property added afterwards, moves fields out of the object (one more allocation per NLRI).
  return {
    kind: "link",
    protocolId: scope.protocolId,
    instance: scope.instance,
    key,
    from: nodeId(scope, local),
    to: nodeId(scope, remote),
    local,
    remote,
    interfaceAddresses,
    neighborAddresses,
    linkIds: ids,
    mtIds,
    id: undefined,
  };
}

/** `protocolId`: the link NLRI's (OSPF Adj-SID flags differ from IS-IS's, sr.ts). */
export function parseLinkAttr(attr: JsonObject | undefined, protocolId?: number): LinkAttr {
  return {
    igpMetric: lastNumber(attr, "igp-metric"),
    teMetric: lastNumber(attr, "te-metric"),
    adj: parseAdjSids(attr, protocolId),
    endX: parseEndXSids(attr, protocolId),
    localTeRouterIds: strings(attr, "local-te-router-id", "local-te-router-ids", "local-router-ids"),
    remoteTeRouterIds: strings(attr, "remote-te-router-id", "remote-router-ids"),
    maxBandwidth: lastNumber(attr, "maximum-link-bandwidth"),
    srlgs: numbers(all(attr, "shared-risk-link-groups")),
    name: name(attr, "link-name"),
  };
}
