// The lab routers' userspace SRv6 End.X (RFC 8986 §4.2), for kernels without seg6local
// (CONFIG_IPV6_SEG6_LWTUNNEL unset: `ip route add ... encap seg6local` answers "lwt encapsulation
// type not supported"): the pure core. decap-main.ts is its shell; netns.ts picks it when
// detectKernelSrv6 (kernel-decap.ts) finds no seg6local.
//
// How a packet reaches it: the router's locator is a local route (`local LOCATOR/64 dev lo`), so
// a packet for any of its SIDs is delivered locally; an AF_INET6 raw socket of protocol 43 (the
// routing header) gets a copy from the IPv6 header's payload on (the kernel strips the header:
// recvfrom gives the source, not the destination), and the kernel drops its own copy, since
// seg6_enabled is 0 on the router (ipv6_srh_rcv, which would otherwise do a plain End by routing,
// losing the adjacency).
//
// Segment Routing Header (RFC 8754 §2), at buf[0]:
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Next Header   |  Hdr Ext Len  | Routing Type=4| Segments Left |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Last Entry   |     Flags     |              Tag              |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |            Segment List[0] (128 bits), ... Segment List[n]    |
//
// Which SID the packet was sent to: with Segments Left (SL) <= Last Entry it is Segment List[SL]
// (the active segment, RFC 8754 §4.3.1). With SL = Last Entry + 1 it is the first segment of a
// reduced SRH (§4.1.1), which only the lost destination address held: the adjacency is then the
// one to the router owning the next segment (Segment List[Last Entry], by locator); with several
// adjacencies to that router (parallel links) it cannot be told, and the packet is dropped
// ("srv6-ambiguous"), never guessed.
//
// End.X: SL - 1, the destination becomes Segment List[SL - 1], and the packet goes out on the
// adjacency (netns.ts's `oif DEV lookup TABLE` rule sends it to the neighbour whatever its
// destination). The IPv6 header is written anew in front of the SRH: the source as received,
// traffic class and flow label 0 and hop limit 63, since a raw socket does not see the original
// header's (the lab's stories do not read them after the first router). The UDP checksum inside
// does not change: its pseudo-header has the final destination (RFC 8200 §8.1).
import { IPV6_ADDRESS_LENGTH as SEGMENT, IPV6_HEADER_LENGTH } from "../../prober/packet/ipv6.js";
import { IPPROTO_ROUTING, SRH_FIXED_LENGTH as SRH_FIXED, SRH_OFF_SEGMENTS_LEFT, SRH_ROUTING_TYPE } from "../../prober/packet/srh.js";
import type { SrAdjacency, SrPlan } from "./sr.js";

/** The hop limit of what End.X sends (the received one is not visible: see above). */
export const SRV6_HOP_LIMIT = 63;

/** Drop reasons, indexed by the (positive) code endXInto() returns. 0 is success. */
export const SRV6_DROP_REASONS = [
  "ok",
  "srv6-truncated", // 1: shorter than its fixed part or its Hdr Ext Len
  "srv6-not-srh", // 2: routing type not 4
  "srv6-bad-srh", // 3: Last Entry beyond the list, or SL beyond Last Entry + 1
  "srv6-segments-left-0", // 4: nothing left to do here (the kernel would pass it up)
  "srv6-not-mine", // 5: the active segment is none of this router's End.X SIDs
  "srv6-ambiguous", // 6: reduced first segment, and not exactly one adjacency to the next segment's router
] as const;
export type Srv6DropReason = (typeof SRV6_DROP_REASONS)[number];

export interface Srv6RouterConfig {
  /** Index = adjacency index (sr.ts): its End.X SID, interface, neighbour and the neighbour's address on the link. */
  adjacencies: Array<{ sid: string; dev: string; peer: string; nexthop6: string }>;
  /** Every router's locator (/64: the first 8 bytes), to tell whose the next segment is. */
  locators: Array<{ prefix: string; router: string }>;
}

/** `router`'s config from the lab's SR plan; `dev` names an adjacency's interface. */
export function srv6RouterConfig(plan: SrPlan, router: string, dev: (a: SrAdjacency) => string): Srv6RouterConfig {
  const r = plan.routers.find((x) => x.name === router);
  if (r === undefined) throw new TypeError(`SR plan has no router ${JSON.stringify(router)}`);
  return {
    adjacencies: r.adjacencies.map((a) => ({ sid: a.endX, dev: dev(a), peer: a.peer, nexthop6: a.nexthop6 })),
    locators: plan.routers.map((x) => ({ prefix: x.locator, router: x.name })),
  };
}

/** SID (16 bytes as hex) -> adjacency, and locator (8 bytes as hex) -> the adjacencies to its router. */
export interface Srv6Table {
  sids: Map<string, number>;
  toRouter: Map<string, number[]>;
}

export function srv6Table(c: Srv6RouterConfig, parse: (address: string) => Uint8Array): Srv6Table {
  const sids = new Map<string, number>();
  c.adjacencies.forEach((a, i) => {
    const key = Buffer.from(parse(a.sid)).toString("hex");
    if (sids.has(key)) throw new RangeError(`adjacency ${i}: SID ${a.sid} already names adjacency ${sids.get(key)}`);
    sids.set(key, i);
  });
  const toRouter = new Map<string, number[]>();
  for (const l of c.locators) {
    const [addr, len] = l.prefix.split("/");
    if (len !== "64") throw new RangeError(`locator ${l.prefix} of ${l.router}: expected a /64`);
    const adj = c.adjacencies.flatMap((a, i) => (a.peer === l.router ? [i] : []));
    toRouter.set(Buffer.from(parse(addr)).subarray(0, 8).toString("hex"), adj);
  }
  return { sids, toRouter };
}

/** Where endXInto() put the packet to send. */
export interface Srv6Slot {
  adjacency: number;
  /** Bytes of `out` to send (IPv6 header + what was received). */
  length: number;
  /** Offset in `out` of the new destination address. */
  dst: number;
}

export const newSrv6Slot = (): Srv6Slot => ({ adjacency: -1, length: 0, dst: 0 });

const hex = (b: Uint8Array, off: number, n: number): string => Buffer.from(b.buffer, b.byteOffset + off, n).toString("hex");

/**
 * End.X on `buf[0, length)` (an SRH and what follows, as a raw socket of protocol 43 gives it),
 * from `src` (16 bytes): writes the packet to send into `out` (IPv6 header, then the SRH with
 * SL - 1, then the rest) and fills `slot`. Returns 0, or the index of a SRV6_DROP_REASONS entry.
 */
export function endXInto(buf: Uint8Array, length: number, src: Uint8Array, table: Srv6Table, out: Buffer, slot: Srv6Slot): number {
  if (length < SRH_FIXED) return 1;
  const extLen = SRH_FIXED + buf[1] * 8;
  if (length < extLen) return 1;
  if (buf[2] !== SRH_ROUTING_TYPE) return 2;
  const sl = buf[3];
  const lastEntry = buf[4];
  if (SRH_FIXED + (lastEntry + 1) * SEGMENT > extLen || sl > lastEntry + 1) return 3;
  if (sl === 0) return 4;
  let adjacency: number | undefined;
  if (sl <= lastEntry) adjacency = table.sids.get(hex(buf, SRH_FIXED + sl * SEGMENT, SEGMENT));
  else {
    const to = table.toRouter.get(hex(buf, SRH_FIXED + lastEntry * SEGMENT, 8));
    if (to === undefined || to.length !== 1) return 6;
    adjacency = to[0];
  }
  if (adjacency === undefined) return 5;
  if (out.length < IPV6_HEADER_LENGTH + length) throw new RangeError(`End.X out buffer: ${out.length} bytes, ${IPV6_HEADER_LENGTH + length} needed`);
  out.writeUInt32BE(0x60000000, 0);
  out.writeUInt16BE(length, 4);
  out[6] = IPPROTO_ROUTING;
  out[7] = SRV6_HOP_LIMIT;
  out.set(src.subarray(0, 16), 8);
  out.set(buf.subarray(0, length), IPV6_HEADER_LENGTH);
  out[IPV6_HEADER_LENGTH + SRH_OFF_SEGMENTS_LEFT] = sl - 1;
  const next = IPV6_HEADER_LENGTH + SRH_FIXED + (sl - 1) * SEGMENT;
  out.copy(out, 24, next, next + SEGMENT);
  slot.adjacency = adjacency;
  slot.length = IPV6_HEADER_LENGTH + length;
  slot.dst = 24;
  return 0;
}
