// The plugin -> prober contract: one versioned JSON document per generation.
//
// The plugin writes it to a file (atomically) and streams it, one document per line (NDJSON), to
// every subscriber of its Unix socket. The prober (and anything else) reads it with
// parsePathSet(), which rejects a document of another schema or of a newer major version.
//
// Compatibility rule: `version` is bumped only for changes an older reader would misread
// (removed or re-typed fields). Adding an optional field keeps the version.

export const PATHSET_SCHEMA = "lsprobe/pathset";
export const PATHSET_VERSION = 1;

export type PathMode = "all" | "cover" | "plan";

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
  /** Cost used for the path computation (IGP or TE metric). */
  metric: number;
  /** Set when the link crosses a LAN pseudonode: that pseudonode's node id. */
  lan?: string;
}

export interface GreHop {
  /** Address the GRE layer for this hop is sent to: it pins the link into `node`. */
  address: string;
  /** How the address was chosen: far-end interface address, TE router id, or loopback /32. */
  source: "interface" | "te-router-id" | "loopback";
  /** The router that decapsulates this layer. */
  node: string;
}

export interface Path {
  /** Stable path id: derived from the link ids in order. */
  id: string;
  src: string;
  dst: string;
  cost: number;
  hops: Hop[];
  links: PathLink[];
  /** One entry per link, in order: where each GRE layer of a probe is addressed. */
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
  topology: TopologySummary;
  pairs: PairResult[];
  paths: Path[];
  /** Mode `plan` only. */
  plan?: ProbePlan;
}

export class PathSetError extends Error {
  override name = "PathSetError";
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Validate a decoded path-set document. Checks the envelope strictly (schema, version,
 * generation) and the shape of every path the prober relies on; throws PathSetError naming the
 * key path.
 */
export function parsePathSet(doc: unknown, where = "path set"): PathSet {
  const fail = (path: string, msg: string): never => {
    throw new PathSetError(`${where}: ${path}: ${msg}`);
  };
  if (!isObj(doc)) return fail("$", "expected a JSON object");
  if (doc.schema !== PATHSET_SCHEMA) fail("schema", `expected "${PATHSET_SCHEMA}", got ${JSON.stringify(doc.schema)}`);
  if (typeof doc.version !== "number" || !Number.isInteger(doc.version)) fail("version", "expected an integer");
  if ((doc.version as number) > PATHSET_VERSION)
    fail("version", `version ${doc.version} is newer than this reader understands (${PATHSET_VERSION}); upgrade lsprobe`);
  if (typeof doc.generation !== "number" || !Number.isInteger(doc.generation) || doc.generation < 0)
    fail("generation", "expected a non-negative integer");
  if (typeof doc.time !== "string") fail("time", "expected an ISO 8601 string");
  if (doc.mode !== "all" && doc.mode !== "cover" && doc.mode !== "plan") fail("mode", 'expected "all", "cover" or "plan"');
  if (!isObj(doc.topology) || typeof doc.topology.digest !== "string") fail("topology.digest", "expected a string");
  if (!Array.isArray(doc.pairs)) fail("pairs", "expected an array");
  if (!Array.isArray(doc.paths)) fail("paths", "expected an array");
  (doc.paths as unknown[]).forEach((p, i) => {
    const at = `paths[${i}]`;
    if (!isObj(p)) return fail(at, "expected an object");
    if (typeof p.id !== "string" || p.id === "") fail(`${at}.id`, "expected a non-empty string");
    if (typeof p.src !== "string" || typeof p.dst !== "string") fail(`${at}.src/dst`, "expected strings");
    if (typeof p.cost !== "number") fail(`${at}.cost`, "expected a number");
    if (!Array.isArray(p.hops) || !Array.isArray(p.links) || !Array.isArray(p.gre) || !Array.isArray(p.greReverse))
      fail(`${at}`, "expected hops, links, gre and greReverse arrays");
    if (typeof p.probeable !== "boolean") fail(`${at}.probeable`, "expected a boolean");
    for (const key of ["gre", "greReverse"] as const)
      (p[key] as unknown[]).forEach((g, j) => {
        if (!isObj(g) || typeof g.address !== "string") fail(`${at}.${key}[${j}].address`, "expected an address string");
      });
  });
  return doc as unknown as PathSet;
}
