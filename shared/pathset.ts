// The plugin -> prober contract: one versioned JSON document per generation.
//
// The plugin writes it to a file (atomically) and streams it, one document per line (NDJSON), to
// every subscriber of its Unix socket. The prober (and anything else) reads it with
// parsePathSet(), which rejects a document of another schema or of a newer major version.
//
// Compatibility rule: `version` is bumped only for changes an older reader would misread
// (removed or re-typed fields, or a field whose meaning changes). Adding an optional field
// keeps the version.
//
// Versions:
//  1  every GRE layer pins the link it enters (the far-end interface address), except on
//     unnumbered links.
//  2  `plugin.paths.target: router`: a layer may be addressed to the next router's TE router id
//     or loopback, so it no longer pins a link: between two routers with parallel links the
//     probe takes any of them. Each gre/greReverse entry says how it is addressed (`target`,
//     required), and each link of a path whose layer does not pin it lists the parallel links
//     the hop may take (`parallel`); such paths are published once, not once per parallel
//     link. A version 1 reader would take `links` as the links crossed and blame the wrong
//     one. parsePathSet() reads both: a version 1 document is upgraded in memory (every entry
//     gets its `target` from its `source`, no link has `parallel`), so a prober keeps working
//     while the plugin is upgraded before or after it.
//  3  IPv6 and dual stack: the layers of a path exist per address family. Each path says the
//     families it is an equal-cost best path in (`families`) and carries, per such family, its
//     layers (`targets.ipv4`, `targets.ipv6`: gre, greReverse, probeable, unprobeableReason).
//     Each pair is listed once per family computed (`family`), with that family's cost, count
//     and paths; the document lists the families computed (`families`). With IS-IS
//     multi-topology the IPv6 topology (MT-ID 2) has its own links and metrics, so IPv6 paths
//     are their own entries (other link ids, maybe other routers); where one graph serves both
//     families (single topology) one entry stands for both. The top-level gre, greReverse,
//     probeable and unprobeableReason stay, and are the IPv4 ones (a path not in IPv4 has none:
//     probeable false), so an IPv4-only reader keeps working; a version 2 reader would probe
//     IPv6-only paths as unprobeable and miss nothing else, but would count each pair twice,
//     hence the bump. parsePathSet() reads 1, 2 and 3: an older document is upgraded in memory
//     to IPv4 only (families ["ipv4"], targets.ipv4 = its gre/greReverse/probeable, every pair
//     family "ipv4").
//  4  segment routing: every link lists the SIDs both of its ends advertise for the adjacency
//     (`adjSids`/`endX` from `from`, `reverseAdjSids`/`reverseEndX` from `to`: Adj-SIDs and
//     LAN Adj-SIDs with flags F B V L S P and weight, SRv6 End.X / LAN End.X SIDs with
//     behavior, flags B S P, algorithm and weight), and each family's targets say, per path,
//     the SIDs a probe pinned by segment routing uses and whether it can: `srMpls` (both
//     families: the Adj-SID label stack) and `srv6` (ipv6 only: the End.X SIDs), each
//     { segments, probeable, unprobeableReason? }: one segment per link out, then one per link
//     back (last link first), the unprotected SID of each hop (B clear), persistent where
//     offered, End.X of algorithm plugin.paths.sr-algorithm; a hop without one makes that
//     encapsulation unprobeable for the path, with the reason, and the tunnel layers stay. A
//     version 3 document has no word on segment routing at all, a version 4 one says per path
//     whether it can be used and why not; a reader must not take the one for the other, hence
//     the bump (and a v3 reader would take a path whose hops have SIDs but no addresses for
//     unprobeable, as it is by tunnel). parsePathSet() reads 1 to 4: an older document is
//     upgraded in memory as above, and every family's srMpls (and the ipv6 family's srv6) is
//     set unprobeable, with the reason that the document predates segment routing.
//  5  many probers (issue 14, Must 4): a prober's slice may list one-way paths (`oneway`): paths
//     it sends out pinned, with no way back, to another prober at the path's far end (`to`),
//     each with a wire `tag` (onewayTag(id): the probe's Path Index field, flag O set); and the
//     paths other probers send to it (`incoming`), which it counts per sender and sequence. A
//     one-way path's links are its outward links only. A version 4 reader would ignore both
//     lists, and the plugin's one view would then take the receiver's silence for loss, hence
//     the bump. parsePathSet() reads 1 to 5; an older document has neither list.

import { createHash } from "node:crypto";

export const PATHSET_SCHEMA = "lsprobe/pathset";
export const PATHSET_VERSION = 5;
/** The oldest version parsePathSet() still reads (and upgrades). */
export const PATHSET_MIN_VERSION = 1;

export type PathMode = "all" | "cover" | "plan";

/** An address family: the IP version of the probe layers (and the prober's `af` label). */
export type Family = "ipv4" | "ipv6";
/** Every family, in the order documents list them. */
export const FAMILIES: readonly Family[] = ["ipv4", "ipv6"];

/**
 * How a probe layer is addressed (`plugin.paths.target`): `interface`, the far-end interface
 * address of the link, which pins the link; `router`, an address of the router itself (TE
 * router id or loopback), which the previous router reaches over any of its equal-cost links.
 */
export type PathTarget = "interface" | "router";

/**
 * The id under which links that no probe can tell apart (the `parallel` links of a hop) are one
 * element: of the inference, the metrics and the plan. Sorted member ids joined by "|"; a lone
 * link is its own id.
 */
export function parallelGroupId(links: readonly string[]): string {
  const ids = [...new Set(links)].sort();
  return ids.length === 1 ? ids[0] : ids.join("|");
}

/** A router on a path. Pseudonodes (IS-IS DIS / OSPF DR) are never hops. */
export interface Hop {
  /** Stable node id: protocol, instance, ASN, BGP-LS id, area and IGP router id. */
  node: string;
  /** Node-name TLV, else the IGP router id. */
  name: string;
  /** IGP router id as the IGP carries it (IS-IS system id as 12 hex digits, OSPF dotted quad). */
  routerId: string;
  /** IPv4 TE router id(s) or loopback /32 of the router, when known. */
  addresses: string[];
  /** Version 3: IPv6 TE router id(s) or loopback /128 of the router, when known (else absent). */
  addresses6?: string[];
}

/** One directed link taken by a path (from -> to). */
export interface PathLink {
  /** Stable link id (same link, same id across recomputations and restarts). */
  id: string;
  /** Name of the near and far router. */
  from: string;
  to: string;
  /** Interface address on `from` and neighbor address on `to`; absent when unnumbered. */
  localAddress?: string;
  remoteAddress?: string;
  /** Version 3: the IPv6 ones (TLVs 261/262, global addresses only), when advertised. */
  localAddress6?: string;
  remoteAddress6?: string;
  /** Cost used for the path computation (IGP or TE metric). */
  metric: number;
  /** Set when the link crosses a LAN pseudonode: that pseudonode's node id. */
  lan?: string;
  /** Version 4: the Adj-SIDs and LAN Adj-SIDs `from` advertises for this adjacency (a LAN
   *  crossing: those of its link into the LAN naming `to`), when any. */
  adjSids?: AdjSidInfo[];
  /** Version 4: the SRv6 End.X and LAN End.X SIDs `from` advertises for it, when any. */
  endX?: EndXInfo[];
  /** Version 4: the same that `to` advertises for the way back (to -> from), when any. */
  reverseAdjSids?: AdjSidInfo[];
  reverseEndX?: EndXInfo[];
  /**
   * Version 2: set when the probe layer entering `to` is addressed to the router (target
   * `router`) and more than one equal-cost link from `from` to `to` exists: the ids of those
   * links (this one included, sorted), any of which the probe may cross. The path then stands
   * for all of them (its id is computed over the group, parallelGroupId()).
   */
  parallel?: string[];
}

export interface GreHop {
  /** Address the GRE layer for this hop is sent to: it pins the link into `node`. */
  address: string;
  /** How the address was chosen: far-end interface address, TE router id, or loopback /32. */
  source: "interface" | "te-router-id" | "loopback";
  /** The router that decapsulates this layer. */
  node: string;
  /**
   * Version 2: `interface` when the address pins the link into `node`, `router` when it is the
   * router's own (TE router id or loopback: target `router`, or an unnumbered link).
   */
  target: PathTarget;
}

/** Version 4: an Adj-SID (BGP-LS TLV 1099) or LAN Adj-SID (1100) as its router advertises it. */
export interface AdjSidInfo {
  /** The label (V and L set) or SRGB index (V and L clear). */
  sid: number;
  /** RFC 8667 §2.2.1 (OSPF's, RFC 8665 §6.1, mapped: G as S, F false). F: IPv6 adjacency; B:
   *  backup (protected); V: value; L: local; S: set of adjacencies; P: persistent. */
  flags: { F: boolean; B: boolean; V: boolean; L: boolean; S: boolean; P: boolean };
  weight: number;
  /** A LAN Adj-SID (TLV 1100). */
  lan?: true;
  /** LAN Adj-SID: the neighbor it leads to (IS-IS system id, 12 hex digits; OSPF router id). */
  neighbor?: string;
}

/** Version 4: an SRv6 End.X SID (TLV 1106) or LAN End.X SID (1107/1108, RFC 9514). */
export interface EndXInfo {
  /** The SID, RFC 5952 form. */
  sid: string;
  /** SRv6 Endpoint Behavior (IANA; 5-8 End.X and flavors, 52-59 with NEXT-CSID). */
  behavior: number;
  /** RFC 9514 §4.1: B backup (protected), S set of adjacencies, P persistent. */
  flags: { B: boolean; S: boolean; P: boolean };
  algorithm: number;
  weight: number;
  lan?: true;
  neighbor?: string;
}

/** Version 4: where a segment of an SR probe sends it: `node` applies it, over link `link`. */
export interface SrSegmentBase {
  /** The router whose SID it is (the near end of the adjacency crossed). */
  node: string;
  /** The router it sends the probe to. */
  to: string;
  /** The path link crossed (PathLink.id), either way. */
  link: string;
  direction: "out" | "back";
}

export interface Srv6Segment extends SrSegmentBase, EndXInfo {}

export interface SrMplsSegment extends SrSegmentBase, AdjSidInfo {}

/** Version 4: a path pinned by segment routing in one family. */
export interface SrTargets<S> {
  /** One per link out, then one per link back (last link first); empty when not probeable. */
  segments: S[];
  probeable: boolean;
  /** Why not (only when probeable is false). */
  unprobeableReason?: string;
}

/** Version 4: SR-MPLS also needs where the label stack enters the network. */
export interface SrMplsTargets extends SrTargets<SrMplsSegment> {
  /** The path's first router's own address of the family (TE router id, else /32 or /128
   *  loopback): the outer destination of the MPLS-in-UDP or MPLS-in-GRE packet. */
  entry?: string;
}

/** Version 3: the layers of a path in one address family. */
export interface FamilyTargets {
  /** One entry per link, in order: where each layer of a probe of this family is addressed. */
  gre: GreHop[];
  /** The way back, last link first (empty when some hop has no address of this family). */
  greReverse: GreHop[];
  probeable: boolean;
  /** Why the path cannot be probed in this family (only when probeable is false). */
  unprobeableReason?: string;
  /** Version 4: the Adj-SID label stack (set by the plugin and parsePathSet(); optional for
   *  hand-made paths). */
  srMpls?: SrMplsTargets;
  /** Version 4, ipv6 only: the SRv6 End.X SIDs. */
  srv6?: SrTargets<Srv6Segment>;
}

export interface Path {
  /** Stable path id: derived from the link ids in order. */
  id: string;
  src: string;
  dst: string;
  cost: number;
  hops: Hop[];
  links: PathLink[];
  /**
   * Version 3: the families this path is an equal-cost best path in (FAMILIES order, at least
   * one). Always set by the plugin and by parsePathSet() (older documents: ["ipv4"]); optional
   * in the type only so that hand-made IPv4 paths (tests, benches) need not spell it.
   */
  families?: Family[];
  /** Version 3: the layers per family of `families` (exactly those keys). Set as `families` is. */
  targets?: Partial<Record<Family, FamilyTargets>>;
  /**
   * One entry per link, in order: where each IPv4 layer of a probe is addressed (version 3:
   * targets.ipv4.gre; empty for a path not in IPv4).
   */
  gre: GreHop[];
  /**
   * The way back over the same links, last link first: per link the near-end (`from`) address,
   * so a probe can return pinned to the path (the prober's `reverse` mode). Empty when some
   * hop has no address (the path stays probeable in `routed` mode).
   */
  greReverse: GreHop[];
  probeable: boolean;
  /** Why the path cannot be probed (only when probeable is false). */
  unprobeableReason?: string;
  /** Mode `plan`: probes per second the plan gives this path. */
  rate?: number;
}

/** A link as the plan reports it. */
export interface PlanLink {
  id: string;
  from: string;
  to: string;
}

/** Mode `plan`: which paths to probe so every link is covered and told apart, within a budget. */
export interface ProbePlan {
  budgetPps: number;
  alpha: number;
  /** The beta planned for (1 when 2 was asked of too many links). */
  beta: number;
  /** Spare budget bought more paths while every link saw this many probes/s (plan.min-link-pps). */
  minLinkPps?: number;
  /** Paths chosen, of how many equal-cost candidates. */
  chosen: number;
  candidates: number;
  /** The budget could not give every chosen path its minimum rate: useful paths were dropped. */
  budgetLimited: boolean;
  /** Links whose failures the chosen paths cannot tell apart (or cannot see), and why. */
  unidentifiable: Array<{ links: PlanLink[]; cause: string; reason: string }>;
}

export interface PairResult {
  src: string;
  dst: string;
  /** Version 3: the family these paths are of (each pair is listed once per family). Set as
   *  Path.families is (older documents: "ipv4"). */
  family?: Family;
  /** Best cost; null when dst is unreachable from src (or an endpoint is unknown). */
  cost: number | null;
  /** Number of equal-cost best paths found (up to the cap). */
  count: number;
  /** Ids of the paths published for this pair (all of them, or the cover in mode `cover`). */
  paths: string[];
  /** True when more equal-cost paths exist than the configured cap. */
  truncated: boolean;
  /** Directed links of the pair's whole ECMP set (what mode `cover` must cross). */
  ecmpLinks: number;
  /** Why there is nothing for the pair (unknown endpoint, unreachable). */
  reason?: string;
}

export interface TopologySummary {
  /** sha256 over nodes, usable links and metrics: equal digests mean equal graphs. */
  digest: string;
  nodes: number;
  links: number;
  prefixes: number;
  /** BGP peers the topology was learned from. */
  peers: string[];
  /** True while some of it comes from the on-disk snapshot and has not been refreshed yet. */
  stale: boolean;
}

export interface PathSet {
  schema: typeof PATHSET_SCHEMA;
  version: number;
  /** Bumped only when the published paths change. */
  generation: number;
  /** ISO 8601 time the generation was computed. */
  time: string;
  mode: PathMode;
  /** Version 3: the families computed (plugin.paths.families, else what the topology has). Set
   *  as Path.families is (older documents: ["ipv4"]). */
  families?: Family[];
  topology: TopologySummary;
  pairs: PairResult[];
  paths: Path[];
  /** Mode `plan` only. */
  plan?: ProbePlan;
  /** Version 5, a prober's slice only: the paths it sends one way to another prober. */
  oneway?: OnewayPath[];
  /** Version 5, a prober's slice only: the one-way paths other probers send to it. */
  incoming?: IncomingPath[];
}

/** Where one-way probes go: the receiving prober and its address per family. */
export interface OnewayReceiver {
  prober: string;
  address: Partial<Record<Family, string>>;
  /** Its UDP port (prober.port). */
  port: number;
}

/**
 * Version 5: a path probed one way, from the prober at `src` to the prober at `dst`: `links`
 * and every family's `gre` are the outward ones, `greReverse` is empty, and segment routing is
 * unprobeable (one-way probes are pinned by tunnel layers only). `id` is unique in the set:
 * onewayId(base path id, receiver).
 */
export interface OnewayPath extends Path {
  /** The id of the path it follows (in the plugin's full set). */
  base: string;
  to: OnewayReceiver;
  /** onewayTag(id): what the probe's Path Index field carries. */
  tag: number;
}

/** Version 5: a one-way path another prober sends to this one. */
export interface IncomingPath {
  /** The OnewayPath's id. */
  id: string;
  tag: number;
  /** The sending prober's id, and its address per family. */
  from: string;
  fromAddress: Partial<Record<Family, string>>;
  src: string;
  dst: string;
  families: Family[];
  /** Directed link ids, in order (for the receiver's own view: which links its arrivals cross). */
  links: string[];
  /** Probes per second it is sent at (absent: the sender's prober.rate). */
  rate?: number;
}

/** The id of the one-way version of path `base` towards prober `receiver`. */
export function onewayId(base: string, receiver: string): string {
  return `${base}>${receiver}`;
}

/** The wire tag of a one-way path: the first 32 bits of SHA-256 of its id, big endian. */
export function onewayTag(id: string): number {
  return createHash("sha256").update(id).digest().readUInt32BE(0);
}

export class PathSetError extends Error {
  override name = "PathSetError";
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** One check per value: throws PathSetError naming the key path. */
class Checker {
  constructor(private readonly where: string) {}

  fail(path: string, msg: string): never {
    throw new PathSetError(`${this.where}: ${path}: ${msg}`);
  }

  obj(v: unknown, path: string): Record<string, unknown> {
    return isObj(v) ? v : this.fail(path, `expected an object, got ${show(v)}`);
  }

  str(v: unknown, path: string, nonEmpty = false): string {
    return typeof v === "string" && (!nonEmpty || v !== "") ? v : this.fail(path, `expected a ${nonEmpty ? "non-empty " : ""}string, got ${show(v)}`);
  }

  optStr(v: unknown, path: string): void {
    if (v !== undefined) this.str(v, path);
  }

  num(v: unknown, path: string, test: (n: number) => boolean = () => true, what = "a finite number"): number {
    return typeof v === "number" && Number.isFinite(v) && test(v) ? v : this.fail(path, `expected ${what}, got ${show(v)}`);
  }

  bool(v: unknown, path: string): boolean {
    return typeof v === "boolean" ? v : this.fail(path, `expected true or false, got ${show(v)}`);
  }

  arr(v: unknown, path: string): unknown[] {
    return Array.isArray(v) ? v : this.fail(path, `expected an array, got ${show(v)}`);
  }

  each(v: unknown, path: string, f: (item: unknown, at: string) => void): void {
    this.arr(v, path).forEach((item, i) => f(item, `${path}[${i}]`));
  }
}

function show(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  return String(v);
}

const GRE_SOURCES: readonly string[] = ["interface", "te-router-id", "loopback"];
const TARGETS: readonly string[] = ["interface", "router"];

const IPV4_TEXT = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6_TEXT = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/;

/** A list of families: known, without repeats, at least one. */
function checkFamilies(c: Checker, v: unknown, at: string): Family[] {
  const list = c.arr(v, at);
  list.forEach((f, i) => {
    if (!FAMILIES.includes(f as Family)) c.fail(`${at}[${i}]`, `expected "ipv4" or "ipv6", got ${show(f)}`);
    if (list.indexOf(f) !== i) c.fail(`${at}[${i}]`, `${show(f)} appears twice`);
  });
  if (list.length === 0) c.fail(at, "expected at least one family, got none");
  return list as Family[];
}

function checkLayers(c: Checker, o: Record<string, unknown>, at: string, links: number, version: number, family?: Family): void {
  for (const key of ["gre", "greReverse"] as const) {
    c.each(o[key], `${at}.${key}`, (g, gat) => {
      const e = c.obj(g, gat);
      const address = c.str(e.address, `${gat}.address`, true);
      if (family === "ipv4" && !IPV4_TEXT.test(address)) c.fail(`${gat}.address`, `expected an IPv4 address, got ${show(address)}`);
      if (family === "ipv6" && !IPV6_TEXT.test(address)) c.fail(`${gat}.address`, `expected an IPv6 address, got ${show(address)}`);
      if (!GRE_SOURCES.includes(e.source as string)) c.fail(`${gat}.source`, `expected one of ${GRE_SOURCES.join(", ")}, got ${show(e.source)}`);
      c.str(e.node, `${gat}.node`);
      // Version 1 had no target: the source says it (an interface address pins the link).
      if (version < 2) e.target = e.source === "interface" ? "interface" : "router";
      else if (!TARGETS.includes(e.target as string)) c.fail(`${gat}.target`, `expected one of ${TARGETS.join(", ")}, got ${show(e.target)}`);
    });
  }
  const probeable = c.bool(o.probeable, `${at}.probeable`);
  if (probeable && (o.gre as unknown[]).length !== links) c.fail(`${at}.gre`, `a probeable path needs one entry per link (${links}), got ${(o.gre as unknown[]).length}`);
  c.optStr(o.unprobeableReason, `${at}.unprobeableReason`);
  if (family === undefined) return; // the top-level IPv4 view: no SR targets there
  if (version < 4) {
    // No word on segment routing: unprobeable by SR, said so.
    const reason = `path set version ${version} predates segment routing (version 4)`;
    o.srMpls = { segments: [], probeable: false, unprobeableReason: reason };
    if (family === "ipv6") o.srv6 = { segments: [], probeable: false, unprobeableReason: reason };
    return;
  }
  checkSr(c, o.srMpls, `${at}.srMpls`, links, "mpls", family);
  if (family === "ipv6") checkSr(c, o.srv6, `${at}.srv6`, links, "srv6", family);
  else if (o.srv6 !== undefined) c.fail(`${at}.srv6`, "SRv6 targets belong to the ipv6 family only");
}

const bits = (c: Checker, v: unknown, at: string, keys: readonly string[]): void => {
  const o = c.obj(v, at);
  for (const k of keys) c.bool(o[k], `${at}.${k}`);
};
const ADJ_FLAGS = ["F", "B", "V", "L", "S", "P"] as const;
const ENDX_FLAGS = ["B", "S", "P"] as const;

function checkAdjSid(c: Checker, v: unknown, at: string): Record<string, unknown> {
  const o = c.obj(v, at);
  c.num(o.sid, `${at}.sid`, (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff, "a label or index (integer 0..2^32-1)");
  bits(c, o.flags, `${at}.flags`, ADJ_FLAGS);
  c.num(o.weight, `${at}.weight`, (n) => Number.isInteger(n) && n >= 0 && n <= 255, "a weight 0..255");
  c.optStr(o.neighbor, `${at}.neighbor`);
  return o;
}

function checkEndX(c: Checker, v: unknown, at: string): Record<string, unknown> {
  const o = c.obj(v, at);
  const sid = c.str(o.sid, `${at}.sid`, true);
  if (!IPV6_TEXT.test(sid)) c.fail(`${at}.sid`, `expected an IPv6 address, got ${show(sid)}`);
  c.num(o.behavior, `${at}.behavior`, (n) => Number.isInteger(n) && n >= 0 && n <= 0xffff, "an endpoint behavior 0..65535");
  bits(c, o.flags, `${at}.flags`, ENDX_FLAGS);
  c.num(o.algorithm, `${at}.algorithm`, (n) => Number.isInteger(n) && n >= 0 && n <= 255, "an algorithm 0..255");
  c.num(o.weight, `${at}.weight`, (n) => Number.isInteger(n) && n >= 0 && n <= 255, "a weight 0..255");
  c.optStr(o.neighbor, `${at}.neighbor`);
  return o;
}

/** Version 4: a family's srMpls / srv6 targets. */
function checkSr(c: Checker, v: unknown, at: string, links: number, kind: "mpls" | "srv6", family: Family): void {
  const o = c.obj(v, at);
  const probeable = c.bool(o.probeable, `${at}.probeable`);
  c.optStr(o.unprobeableReason, `${at}.unprobeableReason`);
  c.each(o.segments, `${at}.segments`, (sv, sat) => {
    const seg = kind === "mpls" ? checkAdjSid(c, sv, sat) : checkEndX(c, sv, sat);
    c.str(seg.node, `${sat}.node`);
    c.str(seg.to, `${sat}.to`);
    c.str(seg.link, `${sat}.link`, true);
    if (seg.direction !== "out" && seg.direction !== "back") c.fail(`${sat}.direction`, `expected "out" or "back", got ${show(seg.direction)}`);
    if (kind === "mpls" && (seg.sid as number) > 0xfffff) c.fail(`${sat}.sid`, `a label stack entry needs a 20-bit label, got ${seg.sid as number}`);
  });
  if (probeable && (o.segments as unknown[]).length !== 2 * links) c.fail(`${at}.segments`, `a probeable path needs one segment per link out and back (${2 * links}), got ${(o.segments as unknown[]).length}`);
  if (!probeable && o.unprobeableReason === undefined) c.fail(`${at}.unprobeableReason`, "expected the reason an unprobeable path gives");
  if (kind === "mpls" && probeable) {
    const entry = c.str(o.entry, `${at}.entry`, true);
    if (family === "ipv4" ? !IPV4_TEXT.test(entry) : !IPV6_TEXT.test(entry)) c.fail(`${at}.entry`, `expected an ${family === "ipv4" ? "IPv4" : "IPv6"} address, got ${show(entry)}`);
  }
}

function checkPath(c: Checker, v: unknown, at: string, version: number): void {
  const p = c.obj(v, at);
  c.str(p.id, `${at}.id`, true);
  c.str(p.src, `${at}.src`);
  c.str(p.dst, `${at}.dst`);
  c.num(p.cost, `${at}.cost`);
  c.each(p.hops, `${at}.hops`, (h, hat) => {
    const o = c.obj(h, hat);
    c.str(o.node, `${hat}.node`, true);
    c.str(o.name, `${hat}.name`);
    c.str(o.routerId, `${hat}.routerId`);
    c.each(o.addresses, `${hat}.addresses`, (a, aat) => c.str(a, aat));
    if (o.addresses6 !== undefined) c.each(o.addresses6, `${hat}.addresses6`, (a, aat) => c.str(a, aat));
  });
  c.each(p.links, `${at}.links`, (l, lat) => {
    const o = c.obj(l, lat);
    c.str(o.id, `${lat}.id`, true);
    c.str(o.from, `${lat}.from`);
    c.str(o.to, `${lat}.to`);
    c.num(o.metric, `${lat}.metric`);
    c.optStr(o.localAddress, `${lat}.localAddress`);
    c.optStr(o.remoteAddress, `${lat}.remoteAddress`);
    c.optStr(o.localAddress6, `${lat}.localAddress6`);
    c.optStr(o.remoteAddress6, `${lat}.remoteAddress6`);
    c.optStr(o.lan, `${lat}.lan`);
    if (version >= 4) {
      for (const k of ["adjSids", "reverseAdjSids"]) if (o[k] !== undefined) c.each(o[k], `${lat}.${k}`, (a, aat) => checkAdjSid(c, a, aat));
      for (const k of ["endX", "reverseEndX"]) if (o[k] !== undefined) c.each(o[k], `${lat}.${k}`, (a, aat) => checkEndX(c, a, aat));
    }
    if (o.parallel !== undefined) {
      if (version < 2) c.fail(`${lat}.parallel`, `parallel links need version 2, the document is version ${version}`);
      const ids = c.arr(o.parallel, `${lat}.parallel`);
      ids.forEach((id, i) => c.str(id, `${lat}.parallel[${i}]`, true));
      if (ids.length < 2 || !ids.includes(o.id)) c.fail(`${lat}.parallel`, `expected at least 2 link ids, ${show(o.id)} among them, got ${ids.length}`);
    }
  });
  const links = (p.links as unknown[]).length;
  if (version >= 3 && Array.isArray(p.families) && !p.families.includes("ipv4") && p.probeable === true) c.fail(`${at}.probeable`, "a path not in IPv4 has no IPv4 layers: expected false");
  checkLayers(c, p, at, links, version);
  if (version < 3) {
    // IPv4 only: the top-level layers are the IPv4 ones.
    p.families = ["ipv4"];
    const ipv4: Record<string, unknown> = { gre: p.gre, greReverse: p.greReverse, probeable: p.probeable, ...(p.unprobeableReason === undefined ? {} : { unprobeableReason: p.unprobeableReason }) };
    checkLayers(c, ipv4, `${at}.targets.ipv4`, links, version, "ipv4"); // only to add the SR targets' upgrade
    p.targets = { ipv4 };
  } else {
    const families = checkFamilies(c, p.families, `${at}.families`);
    const targets = c.obj(p.targets, `${at}.targets`);
    for (const k of Object.keys(targets)) if (!families.includes(k as Family)) c.fail(`${at}.targets.${k}`, `expected targets only for the path's families (${families.join(", ")}), got ${show(k)}`);
    for (const f of families) checkLayers(c, c.obj(targets[f], `${at}.targets.${f}`), `${at}.targets.${f}`, links, version, f);
  }
  if (p.rate !== undefined) c.num(p.rate, `${at}.rate`, (n) => n > 0, "a rate > 0");
}

function checkPair(c: Checker, v: unknown, at: string, version: number): void {
  const p = c.obj(v, at);
  c.str(p.src, `${at}.src`);
  c.str(p.dst, `${at}.dst`);
  if (version < 3) p.family = "ipv4";
  else if (!FAMILIES.includes(p.family as Family)) c.fail(`${at}.family`, `expected "ipv4" or "ipv6", got ${show(p.family)}`);
  if (p.cost !== null) c.num(p.cost, `${at}.cost`);
  c.num(p.count, `${at}.count`, (n) => Number.isInteger(n) && n >= 0, "a count");
  c.each(p.paths, `${at}.paths`, (id, iat) => c.str(id, iat, true));
  c.bool(p.truncated, `${at}.truncated`);
}

function checkPlan(c: Checker, v: unknown, at: string): void {
  const p = c.obj(v, at);
  c.num(p.budgetPps, `${at}.budgetPps`);
  c.each(p.unidentifiable, `${at}.unidentifiable`, (u, uat) => {
    const o = c.obj(u, uat);
    c.str(o.cause, `${uat}.cause`);
    c.each(o.links, `${uat}.links`, (l, lat) => {
      const k = c.obj(l, lat);
      c.str(k.id, `${lat}.id`, true);
      c.str(k.from, `${lat}.from`);
      c.str(k.to, `${lat}.to`);
    });
  });
}

function checkAddresses(c: Checker, v: unknown, at: string): void {
  const o = c.obj(v, at);
  for (const [k, a] of Object.entries(o)) {
    if (!FAMILIES.includes(k as Family)) c.fail(`${at}.${k}`, `expected "ipv4" or "ipv6" keys, got ${show(k)}`);
    const s = c.str(a, `${at}.${k}`, true);
    if (k === "ipv4" ? !IPV4_TEXT.test(s) : !IPV6_TEXT.test(s)) c.fail(`${at}.${k}`, `expected an ${k === "ipv4" ? "IPv4" : "IPv6"} address, got ${show(s)}`);
  }
}

const isTag = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/** Version 5: a slice's one-way paths (paths with a receiver, no way back) and incoming ones. */
function checkOneway(c: Checker, d: Record<string, unknown>, version: number): void {
  if (version < 5) {
    if (d.oneway !== undefined || d.incoming !== undefined) c.fail(d.oneway !== undefined ? "oneway" : "incoming", `one-way paths need version 5, the document is version ${version}`);
    return;
  }
  const ids = new Set<string>();
  if (d.oneway !== undefined)
    c.each(d.oneway, "oneway", (v, at) => {
      checkPath(c, v, at, version);
      const p = v as Record<string, unknown>;
      c.str(p.base, `${at}.base`, true);
      const to = c.obj(p.to, `${at}.to`);
      c.str(to.prober, `${at}.to.prober`, true);
      checkAddresses(c, to.address, `${at}.to.address`);
      c.num(to.port, `${at}.to.port`, (n) => Number.isInteger(n) && n > 0 && n < 65536, "a UDP port");
      const tag = c.num(p.tag, `${at}.tag`, isTag, "a 32-bit tag");
      if (tag !== onewayTag(p.id as string)) c.fail(`${at}.tag`, `expected onewayTag(${show(p.id)}) = ${onewayTag(p.id as string)}, got ${tag}`);
      if ((p.greReverse as unknown[]).length !== 0) c.fail(`${at}.greReverse`, "a one-way path has no way back: expected []");
      if (ids.has(p.id as string)) c.fail(`${at}.id`, `one-way path id ${p.id as string} appears twice`);
      ids.add(p.id as string);
    });
  if (d.incoming !== undefined)
    c.each(d.incoming, "incoming", (v, at) => {
      const p = c.obj(v, at);
      const id = c.str(p.id, `${at}.id`, true);
      const tag = c.num(p.tag, `${at}.tag`, isTag, "a 32-bit tag");
      if (tag !== onewayTag(id)) c.fail(`${at}.tag`, `expected onewayTag(${show(id)}) = ${onewayTag(id)}, got ${tag}`);
      c.str(p.from, `${at}.from`, true);
      checkAddresses(c, p.fromAddress, `${at}.fromAddress`);
      c.str(p.src, `${at}.src`);
      c.str(p.dst, `${at}.dst`);
      checkFamilies(c, p.families, `${at}.families`);
      c.each(p.links, `${at}.links`, (l, lat) => c.str(l, lat, true));
      if (p.rate !== undefined) c.num(p.rate, `${at}.rate`, (n) => n > 0, "a rate > 0");
    });
}

/**
 * Validate a decoded path-set document: the envelope strictly (schema, version, generation)
 * and every value the prober reads, all of it, before the set may replace the one in force:
 * a `null` link deep inside must be refused here, not crash the prober later. Throws
 * PathSetError naming the key path. An older document is upgraded in place to what version 4
 * says of it: version 1's gre/greReverse entries get their `target`; versions 1 and 2 become
 * IPv4 only (families ["ipv4"], targets.ipv4, every pair's family "ipv4"); versions 1 to 3 get
 * unprobeable srMpls (and ipv6 srv6) targets, the reason saying the version; `version` stays.
 */
export function parsePathSet(doc: unknown, where = "path set"): PathSet {
  const c = new Checker(where);
  const d = c.obj(doc, "$");
  if (d.schema !== PATHSET_SCHEMA) c.fail("schema", `expected "${PATHSET_SCHEMA}", got ${show(d.schema)}`);
  c.num(d.version, "version", Number.isInteger, "an integer");
  if ((d.version as number) > PATHSET_VERSION) c.fail("version", `version ${d.version} is newer than this reader understands (${PATHSET_VERSION}); upgrade lsprobe`);
  if ((d.version as number) < PATHSET_MIN_VERSION) c.fail("version", `version ${d.version} is older than this reader understands (${PATHSET_MIN_VERSION} to ${PATHSET_VERSION})`);
  const version = d.version as number;
  c.num(d.generation, "generation", (n) => Number.isInteger(n) && n >= 0, "a non-negative integer");
  c.str(d.time, "time");
  if (d.mode !== "all" && d.mode !== "cover" && d.mode !== "plan") c.fail("mode", `expected "all", "cover" or "plan", got ${show(d.mode)}`);
  const topo = c.obj(d.topology, "topology");
  c.str(topo.digest, "topology.digest");
  if (version < 3) d.families = ["ipv4"];
  else checkFamilies(c, d.families, "families");
  c.each(d.pairs, "pairs", (p, at) => checkPair(c, p, at, version));
  const ids = new Set<string>();
  c.each(d.paths, "paths", (p, at) => {
    checkPath(c, p, at, version);
    const id = (p as { id: string }).id;
    if (ids.has(id)) c.fail(`${at}.id`, `path id ${id} appears twice`);
    ids.add(id);
  });
  if (d.plan !== undefined) checkPlan(c, d.plan, "plan");
  checkOneway(c, d, version);
  return d as unknown as PathSet;
}
