// Node NLRI (RFC 9552 §5.2.1, type 1) and the node attribute TLVs (§5.3.1): 1024 node flags,
// 1026 node name, 1027 IS-IS area, 1028/1029 local TE router ids.
import { isObject, type JsonObject } from "../exabgp/json.js";
import { all, name, strings } from "./attr.js";
import { descriptorKey, nodeId, parseNodeDescriptors, parseScope, type LsScope, type NodeDescriptors } from "./descriptors.js";

export interface LsNode extends LsScope {
  kind: "node";
  /** NLRI identity (what announce and withdraw share). */
  key: string;
  /** Graph node id. */
  node: string;
  desc: NodeDescriptors;
}

export interface NodeAttr {
  name?: string;
  /** Node flag O (IS-IS overload): never transit. */
  overload: boolean;
  /** IPv4/IPv6 TE router ids (TLV 1028/1029). */
  teRouterIds: string[];
  areas: string[];
}

export function parseNodeNlri(o: JsonObject, path: string): LsNode {
  const scope = parseScope(o, path);
  const desc = parseNodeDescriptors(o["node-descriptors"], `${path}.node-descriptors`);
  return {
    kind: "node",
    protocolId: scope.protocolId,
    instance: scope.instance,
    key: ["node", scope.protocolId, scope.instance, descriptorKey(desc)].join("|"),
    node: nodeId(scope, desc),
    desc,
  };
}

export function parseNodeAttr(attr: JsonObject | undefined): NodeAttr {
  const allFlags = all(attr, "node-flags");
  const flags = allFlags[allFlags.length - 1];
  return {
    name: name(attr, "node-name"),
    overload: isObject(flags) && flags.O === 1,
    // 4.0: local-te-router-id (string); 4.2/5.0: local-te-router-ids (cumulative duplicates); 6.0: local-router-ids.
    teRouterIds: strings(attr, "local-te-router-id", "local-te-router-ids", "local-router-ids"),
    areas: strings(attr, "area-id", "area-ids"),
  };
}
