// The lab's segment-routing plan (issue 15, Must 5): SRv6 locators and End.X SIDs (RFC 8986) and
// SR-MPLS Adj-SID labels (RFC 8660), one per directed adjacency, a pure function of the topology
// so that the data plane (netns.ts installs the SIDs, mpls.ts switches the labels) and the BGP-LS
// speaker (which advertises them) agree without talking to each other.
//
// SRv6 (only inside 2001:2::/48, like every lab address):
//   SRv6 block 2001:2:0:8000::/49: the /64s whose fourth group is 0x8000..0xfffe. The lab's own
//   plan (labIpv6For) only uses fourth groups 0x18 and 0x19 (198.18.x.x, 198.19.x.x), the prober
//   bench 0x200 (2001:2:0:200::/64), kernel-decap.ts's scratch namespace 0xffff: no overlap.
//   Router n (1-based, topology order) has the locator 2001:2:0:(0x8000 + n)::/64, n <= 32766
//   (r1: 2001:2:0:8001::/64, r6: 2001:2:0:8006::/64).
//   Its adjacency k (0-based: its links in topology order, hosts not counted) has the End.X SID
//   locator + ::e:k (function 0x000e, the adjacency index in the last 16 bits: r1's first
//   adjacency 2001:2:0:8001::e:0), installed in the router as
//     seg6local action End.X nh6 <the neighbour's IPv6 address on that link> dev <the link>
//   A parallel link is its own adjacency with its own SID.
//
// SR-MPLS:
//   Router R's adjacency k has the Adj-SID label 24000 + k (locally significant, as Adj-SIDs are:
//   unique per router, the same value on several routers), k < 65536. Labels 0..15 are reserved
//   (RFC 3032 §2.1) and never used.
import type { LabTopology } from "./netns.js";
import { bytesToIpv6 } from "../../prober/packet/ipv6.js";

/** The SRv6 block all locators come from. */
export const SRV6_BLOCK = "2001:2:0:8000::/49";
const SRV6_BLOCK_GROUP = 0x8000;
/** Largest router number with a locator (0x8000 + n <= 0xfffe). */
export const SRV6_MAX_ROUTERS = 0xfffe - SRV6_BLOCK_GROUP;
/** The End.X function value (the SID's 7th group). */
export const SRV6_FUNCTION_END_X = 0x000e;
/** First Adj-SID label: adjacency k of a router gets ADJ_SID_BASE + k. */
export const ADJ_SID_BASE = 24000;
/** Most adjacencies per router the plans number (16 bits of the SID, labels 24000..89535). */
export const MAX_ADJACENCIES = 65536;

/** One directed adjacency and its SIDs. */
export interface SrAdjacency {
  /** The router owning the SIDs (the adjacency's local end). */
  router: string;
  /** The neighbour the adjacency leads to. */
  peer: string;
  /** Index of the link in topology.links. */
  link: number;
  /** The adjacency's index among `router`'s adjacencies (0-based). */
  index: number;
  /** The SRv6 End.X SID (canonical text). */
  endX: string;
  /** The SR-MPLS Adj-SID label. */
  label: number;
  /** The router's addresses on the link, and the neighbour's (the End.X / Adj-SID next hop). */
  local: string;
  local6: string;
  nexthop: string;
  nexthop6: string;
}

export interface SrRouterPlan {
  name: string;
  /** The SRv6 locator, "2001:2:0:80NN::/64". */
  locator: string;
  adjacencies: SrAdjacency[];
}

export interface SrPlan {
  block: string;
  routers: SrRouterPlan[];
  /** Every directed adjacency, router by router. */
  adjacencies: SrAdjacency[];
}

function locatorBytes(n: number): Buffer {
  if (!Number.isInteger(n) || n < 1 || n > SRV6_MAX_ROUTERS) throw new RangeError(`SRv6: router number ${n} outside 1..${SRV6_MAX_ROUTERS} (locators 2001:2:0:8001::/64 .. 2001:2:0:fffe::/64)`);
  const b = Buffer.from([0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  b.writeUInt16BE(SRV6_BLOCK_GROUP + n, 6);
  return b;
}

/** Router number n's (1-based) locator: "2001:2:0:(8000+n)::/64". */
export function srv6Locator(n: number): string {
  return `${bytesToIpv6(locatorBytes(n))}/64`;
}

/** The End.X SID of router n's (1-based) adjacency k (0-based): locator + ::e:k. */
export function endXSid(n: number, k: number): string {
  if (!Number.isInteger(k) || k < 0 || k >= MAX_ADJACENCIES) throw new RangeError(`SRv6: adjacency index ${k} outside 0..${MAX_ADJACENCIES - 1}`);
  const b = locatorBytes(n);
  b.writeUInt16BE(SRV6_FUNCTION_END_X, 12);
  b.writeUInt16BE(k, 14);
  return bytesToIpv6(b);
}

/** The Adj-SID label of a router's adjacency k (0-based). */
export function adjSidLabel(k: number): number {
  if (!Number.isInteger(k) || k < 0 || k >= MAX_ADJACENCIES) throw new RangeError(`SR-MPLS: adjacency index ${k} outside 0..${MAX_ADJACENCIES - 1}`);
  return ADJ_SID_BASE + k;
}

/** The segment-routing plan of a lab topology (see the top of this file). */
export function srPlan(t: LabTopology): SrPlan {
  const routers: SrRouterPlan[] = t.routers.map((r, i) => ({ name: r.name, locator: srv6Locator(i + 1), adjacencies: [] }));
  const byName = new Map(routers.map((r, i) => [r.name, { plan: r, n: i + 1 }]));
  t.links.forEach((l, link) => {
    for (const [router, peer, local, local6, nexthop, nexthop6] of [
      [l.a, l.b, l.aAddress, l.aAddress6, l.bAddress, l.bAddress6],
      [l.b, l.a, l.bAddress, l.bAddress6, l.aAddress, l.aAddress6],
    ] as const) {
      const r = byName.get(router);
      if (r === undefined) throw new TypeError(`SR plan: links[${link}] names unknown router ${router}`);
      const index = r.plan.adjacencies.length;
      r.plan.adjacencies.push({ router, peer, link, index, endX: endXSid(r.n, index), label: adjSidLabel(index), local, local6, nexthop, nexthop6 });
    }
  });
  return { block: SRV6_BLOCK, routers, adjacencies: routers.flatMap((r) => r.adjacencies) };
}

/**
 * The adjacency `router` -> `peer` in a plan: the first link between them in topology order, or
 * the one with index `link` in topology.links. Throws when there is none.
 */
export function adjacencyOf(plan: SrPlan, router: string, peer: string, link?: number): SrAdjacency {
  const a = plan.adjacencies.find((x) => x.router === router && x.peer === peer && (link === undefined || x.link === link));
  if (a === undefined) throw new TypeError(`SR plan: no adjacency ${router} -> ${peer}${link === undefined ? "" : ` over links[${link}]`}`);
  return a;
}
