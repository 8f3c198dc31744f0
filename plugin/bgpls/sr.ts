// Segment routing link attribute TLVs: what a probe pinned by SIDs needs of each adjacency.
//
//  1099 Adj-SID, 1100 LAN Adj-SID   RFC 9085 §2.2.1/§2.2.2 (the IS-IS sub-TLVs of RFC 8667 §2.2,
//                                   the OSPF ones of RFC 8665 §6)
//  1106 SRv6 End.X SID             RFC 9514 §4.1
//  1107 IS-IS SRv6 LAN End.X SID   RFC 9514 §4.2
//  1108 OSPFv3 SRv6 LAN End.X SID  RFC 9514 §4.2
//
// Adj-SID (1099), on the wire:
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |              Type             |              Length           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | Flags         |     Weight    |             Reserved          |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                   SID/Label/Index (variable)                  |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  IS-IS flags (RFC 8667 §2.2.1): F B V L S P . .   (F: IPv6 adjacency, B: backup (protected),
//  V: value (a label), L: local, S: set of adjacencies, P: persistent)
//  OSPF flags (RFC 8665 §6.1):    B V L G P . . .   (G: group, as IS-IS's S; no F)
//  LAN Adj-SID (1100) adds the neighbor's system id (IS-IS, 6 octets) or router id (OSPF, 4)
//  after the reserved field.
//
// SRv6 End.X SID (1106): Endpoint Behavior (2), Flags (1: B S P, RFC 9514 §4.1), Algorithm (1),
// Weight (1), Reserved (1), SID (16), sub-TLVs; the LAN End.X (1107/1108) puts the neighbor's
// system id / router id before the SID.
//
// ExaBGP's dialects (DIFFERENCES.md §4, FORMAT.md §7):
//  4.x  one group of flat keys per TLV, in wire order, repeated (duplicate keys):
//       `sr-adj-flags`, `sids` ([[n]]), `undecoded-sids`, `sr-adj-weight`;
//       `sr-adj-lan-flags`, `sids` ([n]), `undecoded-sids`, `sr-adj-lan-weight` (no neighbor id);
//       SRv6 TLVs never reach it (an IPv6 next hop resets the session).
//  5.0  `sr-adj` objects (one key per TLV, repeated), `sr-adj-lan-sids` list (with `system-id`),
//       `srv6-endx` and `srv6-lan-endx-isis` / `srv6-lan-endx-ospf` lists (`neighbor-id`).
//  6.0  `sr-adjs` list; `sr-adj-lan` (flags only: no SID, nothing to use).
// Both releases read the flags with the IS-IS layout, OSPF's too, so an OSPF label (its V and
// L, ExaBGP's B and V) lands in `undecoded-sids` as hex: the flags are mapped back here and the
// label read from that hex.
import { entriesOf, isObject, type JsonObject, type JsonValue } from "../exabgp/json.js";
import { all, NONE } from "./attr.js";
import { PROTOCOL_ID } from "./descriptors.js";
import { canonicalAddress, isIpv6 } from "../ip.js";

/** Adj-SID flag bits in the IS-IS layout (RFC 8667 §2.2.1), as AdjSid.flags holds them. */
export const ADJ_FLAG = { F: 0x80, B: 0x40, V: 0x20, L: 0x10, S: 0x08, P: 0x04 } as const;
/** SRv6 End.X flag bits (RFC 9514 §4.1). */
export const ENDX_FLAG = { B: 0x80, S: 0x40, P: 0x20 } as const;

export interface AdjSid {
  /** TLV 1100 (LAN Adj-SID) rather than 1099. */
  lan: boolean;
  /** The label (flags V and L set) or the SRGB index (V and L clear). */
  sid: number;
  /** ADJ_FLAG bits (OSPF's mapped onto them: B, V, L, G as S, P; F clear). */
  flags: number;
  weight: number;
  /** LAN Adj-SID: the neighbor's IS-IS system id (12 hex digits) or OSPF router id. ExaBGP 4.2
   *  does not print it (absent: which LAN neighbor it leads to is unknown). */
  neighbor?: string;
}

export interface EndXSid {
  /** TLV 1107/1108 (LAN End.X) rather than 1106. */
  lan: boolean;
  /** RFC 5952 form. */
  sid: string;
  /** SRv6 Endpoint Behavior (IANA registry, RFC 8986 §10.2). */
  behavior: number;
  /** ENDX_FLAG bits. */
  flags: number;
  algorithm: number;
  weight: number;
  /** LAN End.X: the neighbor's system id (12 hex digits) or router id. */
  neighbor?: string;
}

const bit = (o: JsonObject, k: string): boolean => o[k] === 1 || o[k] === true;

/** A flags object `{"F": 0, "B": 1, ...}` in ExaBGP's IS-IS labels -> ADJ_FLAG bits. */
function adjFlags(v: JsonValue | undefined, ospf: boolean): number {
  if (!isObject(v)) return 0;
  if (!ospf) {
    let f = 0;
    for (const [k, b] of Object.entries(ADJ_FLAG)) if (bit(v, k)) f |= b;
    return f;
  }
  // ExaBGP's F B V L S are the OSPF bits B V L G P (same positions).
  return (bit(v, "F") ? ADJ_FLAG.B : 0) | (bit(v, "B") ? ADJ_FLAG.V : 0) | (bit(v, "V") ? ADJ_FLAG.L : 0) | (bit(v, "L") ? ADJ_FLAG.S : 0) | (bit(v, "S") ? ADJ_FLAG.P : 0);
}

function endxFlags(v: JsonValue | undefined): number {
  if (!isObject(v)) return 0;
  return (bit(v, "B") ? ENDX_FLAG.B : 0) | (bit(v, "S") ? ENDX_FLAG.S : 0) | (bit(v, "P") ? ENDX_FLAG.P : 0);
}

/** SIDs: `[[n]]` (4.x Adj-SID), `[n]`; plus, for OSPF, the labels ExaBGP left undecoded. */
function sidValues(sids: JsonValue | undefined, undecoded: JsonValue | undefined, flags: number): number[] {
  const out: number[] = [];
  const visit = (v: JsonValue): void => {
    if (typeof v === "number" && Number.isInteger(v) && v >= 0) out.push(v);
    else if (Array.isArray(v)) v.forEach(visit);
  };
  if (sids !== undefined) visit(sids);
  if (out.length === 0 && Array.isArray(undecoded)) {
    // The V and L flags (as mapped) say the width: a 3-octet label or a 4-octet index.
    const label = (flags & (ADJ_FLAG.V | ADJ_FLAG.L)) === (ADJ_FLAG.V | ADJ_FLAG.L);
    const index = (flags & (ADJ_FLAG.V | ADJ_FLAG.L)) === 0;
    for (const h of undecoded) {
      if (typeof h !== "string") continue;
      const hex = h.replace(/^0x/i, "");
      if (!/^[0-9a-f]+$/i.test(hex)) continue;
      if (label && hex.length === 6) out.push(parseInt(hex, 16) & 0xfffff);
      else if (index && hex.length === 8) out.push(parseInt(hex, 16));
    }
  }
  return out;
}

const num = (v: JsonValue | undefined): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const neighborOf = (v: JsonValue | undefined): string | undefined => (typeof v === "string" && v !== "" ? v.replace(/\./g, "").toLowerCase() : undefined);
/** An OSPF neighbor is a router id (dotted quad): keep its dots. */
const ospfNeighborOf = (v: JsonValue | undefined): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function push(out: AdjSid[], lan: boolean, flags: number, weight: number, sids: number[], neighbor: string | undefined): void {
  for (const sid of sids) out.push(neighbor === undefined ? { lan, sid, flags, weight, neighbor: undefined } : { lan, sid, flags, weight, neighbor });
}

/** Every Adj-SID and LAN Adj-SID of a link attribute, in wire order (4.x) or dialect order. */
export function parseAdjSids(attr: JsonObject | undefined, protocolId?: number): AdjSid[] {
  if (attr === undefined) return NONE as unknown as AdjSid[];
  const ospf = protocolId === PROTOCOL_ID.OSPFV2 || protocolId === PROTOCOL_ID.OSPFV3;
  const nb = ospf ? ospfNeighborOf : neighborOf;
  const out: AdjSid[] = [];
  // 4.x: flat groups. A group starts at its flags key; `sids`, `undecoded-sids` and the weight
  // that follow belong to it.
  if (Object.hasOwn(attr, "sr-adj-flags") || Object.hasOwn(attr, "sr-adj-lan-flags")) {
    let cur: { lan: boolean; flags: number; weight: number; sids?: JsonValue; undecoded?: JsonValue } | undefined;
    const flush = (): void => {
      if (cur) push(out, cur.lan, cur.flags, cur.weight, sidValues(cur.sids, cur.undecoded, cur.flags), undefined);
      cur = undefined;
    };
    for (const [k, v] of entriesOf(attr)) {
      if (k === "sr-adj-flags" || k === "sr-adj-lan-flags") {
        flush();
        cur = { lan: k === "sr-adj-lan-flags", flags: adjFlags(v, ospf), weight: 0 };
      } else if (cur === undefined) continue;
      else if (k === "sids") cur.sids = v;
      else if (k === "undecoded-sids") cur.undecoded = v;
      else if (k === "sr-adj-weight" || k === "sr-adj-lan-weight") cur.weight = num(v);
    }
    flush();
  }
  // 5.0: repeated `sr-adj` objects; 6.0: an `sr-adjs` list.
  for (const v of all(attr, "sr-adj", "sr-adjs")) {
    for (const o of Array.isArray(v) ? v : [v]) {
      if (!isObject(o)) continue;
      const flags = adjFlags(o.flags, ospf);
      push(out, false, flags, num(o.weight), sidValues(o.sids, o["undecoded-sids"], flags), undefined);
    }
  }
  // 5.0.13: `sr-adj-lan-sids` (5.0.8 prints an empty list); 6.0's `sr-adj-lan` when it has SIDs.
  for (const v of all(attr, "sr-adj-lan-sids", "sr-adj-lan")) {
    for (const o of Array.isArray(v) ? v : [v]) {
      if (!isObject(o)) continue;
      const flags = adjFlags(o.flags, ospf);
      push(out, true, flags, num(o.weight), sidValues(o.sids, o.undecoded ?? o["undecoded-sids"], flags), nb(o["system-id"] ?? o["neighbor-id"]));
    }
  }
  return out.length === 0 ? (NONE as unknown as AdjSid[]) : out;
}

/** Every SRv6 End.X and LAN End.X SID of a link attribute (ExaBGP >= 5.0). */
export function parseEndXSids(attr: JsonObject | undefined, protocolId?: number): EndXSid[] {
  if (attr === undefined) return NONE as unknown as EndXSid[];
  const ospf = protocolId === PROTOCOL_ID.OSPFV2 || protocolId === PROTOCOL_ID.OSPFV3;
  const out: EndXSid[] = [];
  for (const [key, lan] of [["srv6-endx", false], ["srv6-end-x", false], ["srv6-lan-endx-isis", true], ["srv6-lan-endx-ospf", true]] as const) {
    for (const v of all(attr, key)) {
      for (const o of Array.isArray(v) ? v : [v]) {
        if (!isObject(o) || typeof o.sid !== "string" || !isIpv6(o.sid)) continue;
        const e: EndXSid = {
          lan,
          sid: canonicalAddress(o.sid),
          behavior: num(o.behavior),
          flags: endxFlags(o.flags),
          algorithm: num(o.algorithm),
          weight: num(o.weight),
          neighbor: lan ? (key.endsWith("ospf") || ospf ? ospfNeighborOf : neighborOf)(o["neighbor-id"]) : undefined,
        };
        out.push(e);
      }
    }
  }
  return out.length === 0 ? (NONE as unknown as EndXSid[]) : out;
}

// ------------------------------------------------------------------------------------------------
// Which SID a probe uses
// ------------------------------------------------------------------------------------------------

/**
 * SRv6 behaviors that send a packet over one adjacency and go on with the SRH (End.X and its
 * flavors), with a full 128-bit SID in a classic segment list:
 *   5-8   End.X, with PSP, USP, PSP & USP (RFC 8986)
 *   32-35 End.X with USD, PSP & USD, USP & USD, PSP & USP & USD (RFC 8986)
 *   52-59 End.X with NEXT-CSID and the same flavors (RFC 9800, "uA"): with a zero argument the
 *         SID is processed as a classic End.X against the SRH.
 * PSP pops the SRH at the penultimate segment: the prober, the last segment, gets a plain IPv6
 * packet. End.X with REPLACE-CSID wants CSID containers in the SRH: not usable.
 */
export const END_X_BEHAVIORS: ReadonlySet<number> = new Set([5, 6, 7, 8, 32, 33, 34, 35, 52, 53, 54, 55, 56, 57, 58, 59]);

/** What a hop's SID choice looks at: the near end's view of the adjacency. */
export interface SidChoiceContext {
  /** LAN crossing: the far router's IGP router id (a LAN SID names its neighbor). */
  lanNeighbor?: string;
  /** End.X algorithm wanted (plugin.paths.sr-algorithm; default 0, SPF). */
  algorithm: number;
  /** The probe's family: an Adj-SID of that family's adjacency (F flag) is preferred. */
  family?: "ipv4" | "ipv6";
}

const routerIdKey = (s: string): string => s.replace(/\./g, "").toLowerCase();
const lanNeighborMatches = (sidNeighbor: string | undefined, want: string): boolean =>
  sidNeighbor !== undefined && (sidNeighbor === want || routerIdKey(sidNeighbor) === routerIdKey(want));

/**
 * The Adj-SID a probe crossing the adjacency uses, or why there is none. The unprotected one
 * (B clear): a protected (backup) SID lets fast reroute carry the probe around the very failure
 * it must see, so a hop with only protected SIDs has none. Of those, a label (V and L set: an
 * index would need the SRGB), for one adjacency (S clear: a set lets the router pick any of its
 * adjacencies), on a LAN the one naming the far router; then one of the probe's family (F flag:
 * clear IPv4, set IPv6) where offered; then a persistent one (P set: it survives the adjacency
 * flapping) where offered; then the first advertised.
 */
export function chooseAdjSid(sids: readonly AdjSid[], ctx: SidChoiceContext): AdjSid | string {
  const lan = ctx.lanNeighbor !== undefined;
  const of = sids.filter((s) => s.lan === lan);
  if (of.length === 0) return lan ? "no LAN Adj-SID advertised" : "no Adj-SID advertised";
  const named = lan ? of.filter((s) => lanNeighborMatches(s.neighbor, ctx.lanNeighbor!)) : of;
  if (named.length === 0)
    return of.every((s) => s.neighbor === undefined)
      ? "LAN Adj-SIDs without their neighbor's id (ExaBGP 4.2 does not print it: use 5.0)"
      : `no LAN Adj-SID for neighbor ${ctx.lanNeighbor}`;
  const unprotected = named.filter((s) => (s.flags & ADJ_FLAG.B) === 0);
  if (unprotected.length === 0) return "only protected Adj-SIDs (B flag set: fast reroute would hide the failure)";
  const labels = unprotected.filter((s) => (s.flags & (ADJ_FLAG.V | ADJ_FLAG.L)) === (ADJ_FLAG.V | ADJ_FLAG.L) && s.sid <= 0xfffff);
  if (labels.length === 0) return "only index Adj-SIDs (V and L clear: the SRGB is not used)";
  const single = labels.filter((s) => (s.flags & ADJ_FLAG.S) === 0);
  if (single.length === 0) return "only Adj-SIDs for sets of adjacencies (S flag set)";
  const fam = ctx.family === undefined ? single : single.filter((s) => ((s.flags & ADJ_FLAG.F) !== 0) === (ctx.family === "ipv6"));
  const pool = fam.length > 0 ? fam : single;
  return pool.find((s) => (s.flags & ADJ_FLAG.P) !== 0) ?? pool[0];
}

/**
 * The SRv6 End.X SID a probe crossing the adjacency uses, or why there is none: as for
 * Adj-SIDs, the unprotected one (B clear), for one adjacency (S clear), of the configured
 * algorithm, with an End.X behavior (END_X_BEHAVIORS), persistent (P) where offered.
 */
export function chooseEndX(sids: readonly EndXSid[], ctx: SidChoiceContext): EndXSid | string {
  const lan = ctx.lanNeighbor !== undefined;
  const of = sids.filter((s) => s.lan === lan);
  if (of.length === 0) return lan ? "no SRv6 LAN End.X SID advertised" : "no SRv6 End.X SID advertised";
  const named = lan ? of.filter((s) => lanNeighborMatches(s.neighbor, ctx.lanNeighbor!)) : of;
  if (named.length === 0) return `no SRv6 LAN End.X SID for neighbor ${ctx.lanNeighbor}`;
  const algo = named.filter((s) => s.algorithm === ctx.algorithm);
  if (algo.length === 0) return `no End.X SID of algorithm ${ctx.algorithm} (advertised: ${[...new Set(named.map((s) => s.algorithm))].join(", ")})`;
  const behaved = algo.filter((s) => END_X_BEHAVIORS.has(s.behavior));
  if (behaved.length === 0) return `no End.X SID with an End.X behavior (advertised: ${[...new Set(algo.map((s) => s.behavior))].join(", ")})`;
  const unprotected = behaved.filter((s) => (s.flags & ENDX_FLAG.B) === 0);
  if (unprotected.length === 0) return "only protected End.X SIDs (B flag set: fast reroute would hide the failure)";
  const single = unprotected.filter((s) => (s.flags & ENDX_FLAG.S) === 0);
  if (single.length === 0) return "only End.X SIDs for sets of adjacencies (S flag set)";
  return single.find((s) => (s.flags & ENDX_FLAG.P) !== 0) ?? single[0];
}

/** ADJ_FLAG bits -> `{ F, B, V, L, S, P }`, as the path set shows them. */
export function adjFlagsObject(flags: number): { F: boolean; B: boolean; V: boolean; L: boolean; S: boolean; P: boolean } {
  return { F: (flags & ADJ_FLAG.F) !== 0, B: (flags & ADJ_FLAG.B) !== 0, V: (flags & ADJ_FLAG.V) !== 0, L: (flags & ADJ_FLAG.L) !== 0, S: (flags & ADJ_FLAG.S) !== 0, P: (flags & ADJ_FLAG.P) !== 0 };
}

/** ENDX_FLAG bits -> `{ B, S, P }`. */
export function endxFlagsObject(flags: number): { B: boolean; S: boolean; P: boolean } {
  return { B: (flags & ENDX_FLAG.B) !== 0, S: (flags & ENDX_FLAG.S) !== 0, P: (flags & ENDX_FLAG.P) !== 0 };
}
