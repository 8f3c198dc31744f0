// Dispatch an ExaBGP BGP-LS NLRI object on its type (RFC 9552 §5.2, NLRI Type registry).
// 4.0 prints the type as a number, 4.2+ as "bgpls-*"; an NLRI ExaBGP could not parse arrives as
// `{ "code": N, "parsed": false, "raw": "..." }` (e.g. SRv6 SID NLRI, type 6).
import { isObject, type JsonObject, type JsonValue } from "../exabgp/json.js";
import { LsDecodeError } from "./errors.js";
import { parseLinkAttr, parseLinkNlri, type LinkAttr, type LsLink } from "./link.js";
import { parseNodeAttr, parseNodeNlri, type LsNode, type NodeAttr } from "./node.js";
import { parsePrefixAttr, parsePrefixNlri, type LsPrefix, type PrefixAttr } from "./prefix.js";

export type LsObject = LsNode | LsLink | LsPrefix;
export type LsAttr = NodeAttr | LinkAttr | PrefixAttr;

export const NLRI_TYPE = { NODE: 1, LINK: 2, PREFIX_V4: 3, PREFIX_V6: 4, SRV6_SID: 6 } as const;

const TYPE_NAMES: Record<string, number> = {
  "bgpls-node": NLRI_TYPE.NODE,
  "bgpls-link": NLRI_TYPE.LINK,
  "bgpls-prefix-v4": NLRI_TYPE.PREFIX_V4,
  "bgpls-prefix-v6": NLRI_TYPE.PREFIX_V6,
};

/** An NLRI of a type lsprobe does not use: counted by type, not an error. */
export class UnknownNlriType extends Error {
  override name = "UnknownNlriType";
  constructor(readonly nlriType: string) {
    super(`unsupported BGP-LS NLRI type ${nlriType}`);
  }
}

function nlriType(o: JsonObject): number | string {
  const t: JsonValue | undefined = o["ls-nlri-type"];
  if (typeof t === "number") return t;
  if (typeof t === "string") return TYPE_NAMES[t] ?? t;
  if (typeof o.code === "number") return o.code;
  return "missing";
}

export function parseNlri(v: JsonValue, path: string): LsObject {
  if (!isObject(v)) throw new LsDecodeError(path, "expected an NLRI object");
  const t = nlriType(v);
  switch (t) {
    case NLRI_TYPE.NODE:
      return parseNodeNlri(v, path);
    case NLRI_TYPE.LINK:
      return parseLinkNlri(v, path);
    case NLRI_TYPE.PREFIX_V4:
      return parsePrefixNlri(v, path, 4);
    case NLRI_TYPE.PREFIX_V6:
      return parsePrefixNlri(v, path, 6);
    default:
      throw new UnknownNlriType(String(t));
  }
}

/** `protocolId`: the NLRI's (the link attribute's OSPF Adj-SID flags are read apart). */
export function parseAttr(kind: LsObject["kind"], attr: JsonObject | undefined, protocolId?: number): LsAttr {
  switch (kind) {
    case "node":
      return parseNodeAttr(attr);
    case "link":
      return parseLinkAttr(attr, protocolId);
    case "prefix":
      return parsePrefixAttr(attr);
  }
}
