// Userspace GRE and IP-in-IP decapsulation for the lab routers (the kernel here has no ip_gre
// and no ipip, nor ip6_gre and ip6_tunnel): the pure core, IPv4 and IPv6. decap-main.ts is the
// shell (raw sockets, counters, signals).
//
// A router's protocol-47 raw socket hands over every GRE packet addressed to the router as
//
//   outer IPv4 header (RFC 791, protocol 47) | GRE header (RFC 2784, 4 bytes) | inner IPv4 packet
//
// and its protocol-4 raw socket every IP-in-IP packet (RFC 2003 §3: no header between the two) as
//
//   outer IPv4 header (RFC 791, protocol 4) | inner IPv4 packet
//
// and the router forwards the inner packet, unchanged, as if it had just arrived: the kernel
// routes it on the inner destination. Every router takes both, whatever prober.encap says. Independent of prober/packet on purpose, so the lab checks
// the prober's encoder instead of sharing its mistakes.
//
// IPv4 header (RFC 791 §3.1):
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version|  IHL  |Type of Service|          Total Length         |
//   |         Identification        |Flags|      Fragment Offset    |
//   |  Time to Live |    Protocol   |         Header Checksum       |
//   |                       Source Address                          |
//   |                    Destination Address                        |
//   |                    Options                    |    Padding    |  (IHL > 5)
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// GRE header (RFC 2784 §2):
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |C|       Reserved0       | Ver |         Protocol Type         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   C (bit 0) checksum present; bits 1-5 the RFC 1701 R, K, S, s bits and recursion control (a
//   receiver MUST discard a packet with any of them set, §2.3); bits 6-12 reserved, ignored on
//   receipt; Ver (bits 13-15) MUST be 0; Protocol Type 0x0800 for IPv4.
//   lsprobe only accepts the plain 4-byte form: C, K (RFC 2890 key), S (sequence), the other
//   bits 1-5, a version other than 0, or a payload other than IPv4 are dropped and counted.
//
// IP-in-IP (RFC 2003 §3.1): the decapsulator strips the outer header (of its own IHL) and the
// inner datagram follows at once; nothing else is checked there, the inner packet's checks below
// apply to both encapsulations.
//
// IPv6 (below decapInto): GRE over IPv6 (RFC 7676: next header 47, GRE protocol 0x86DD for an
// IPv6 payload, 0x0800 for IPv4) and generic packet tunneling in IPv6 (RFC 2473: next header 41
// for IPv6 inside, 4 for IPv4 inside), forwarded on the inner header of either family.
//
// The inner packet must be a well-formed IPv4 packet (version 4, IHL >= 5, correct header
// checksum, total length within what was received): a real tunnel endpoint would drop anything
// else at ip_rcv, and re-sending it through an IP_HDRINCL socket would let the kernel "repair"
// the checksum and length. Bytes after the inner total length (padding) are not forwarded.

// Header layouts: the prober's packet modules (one place per header).
import { IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6, IPV4_HEADER_LENGTH as IPV4_MIN_HEADER, IPV4_OFF_VERSION_IHL, IPV4_OFF_TOTAL_LENGTH, IPV4_OFF_FLAGS_FRAGMENT, IPV4_OFF_PROTOCOL, IPV4_OFF_DST, IPV4_FLAG_MF, IPV4_FRAGMENT_OFFSET_MASK } from "../../prober/packet/ipv4.js";
import { IPV6_HEADER_LENGTH, IPV6_OFF_DST, IPV6_OFF_NEXT_HEADER, IPV6_OFF_PAYLOAD_LENGTH, bytesToIpv6 } from "../../prober/packet/ipv6.js";
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, GRE_HEADER_LENGTH as GRE_HEADER, GRE_OFF_FLAGS_VERSION, GRE_OFF_PROTOCOL, GRE_FLAG_CHECKSUM, GRE_FLAG_ROUTING, GRE_FLAG_KEY, GRE_FLAG_SEQUENCE, GRE_RESERVED_DISCARD_MASK as GRE_MUST_DISCARD_OTHER, GRE_VERSION_MASK } from "../../prober/packet/gre.js";

const IPV4_MF_OFFSET_MASK = IPV4_FLAG_MF | IPV4_FRAGMENT_OFFSET_MASK; // MF bit and fragment offset

/** Drop reasons, indexed by the (positive) code decapInto() returns. 0 is success. */
export const DROP_REASONS = [
  "ok",
  "truncated", // 1: shorter than its headers or its IPv4 total length says
  "not-ipv4", // 2: outer version is not 4
  "bad-ihl", // 3: outer IHL < 5
  "not-tunnel", // 4: outer protocol is neither 47 (GRE) nor 4 (IP-in-IP)
  "fragment", // 5: outer MF or fragment offset set (raw sockets normally see reassembled packets)
  "gre-checksum", // 6: C bit
  "gre-key", // 7: K bit
  "gre-sequence", // 8: S bit
  "gre-reserved", // 9: R, s or recursion bits (RFC 2784 bits 1, 4, 5)
  "gre-version", // 10: version != 0
  "gre-protocol", // 11: protocol type != 0x0800
  "inner-truncated", // 12: inner packet shorter than 20 bytes, its IHL or its total length
  "inner-not-ipv4", // 13: inner version is not 4
  "inner-bad-ihl", // 14: inner IHL < 5
  "inner-bad-checksum", // 15: inner header checksum wrong
  "inner-not-ipv6", // 16: IPv6 expected inside (GRE 0x86DD, next header 41), version is not 6
  "not-ipv6", // 17: a whole IPv6 packet expected (decapPacket6Into), version is not 6
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** Where the inner packet is, filled by decapInto(): no allocation per packet. */
export interface DecapSlot {
  /** Offset of the inner IPv4 (IPv6) header in the buffer. */
  offset: number;
  /** Inner total length (IPv6: 40 + payload length): the bytes to forward. */
  length: number;
  /** Inner IPv4 destination address, as an unsigned 32-bit integer. */
  dst: number;
}

/** The slot of an outer IPv6 packet, whose inner packet may be of either family. */
export interface Decap6Slot extends DecapSlot {
  /** Inner IP version: 4 (then `dst`) or 6 (then `dst6`). */
  family: number;
  /** Offset of the inner IPv6 destination address in the buffer (family 6). */
  dst6: number;
}

export function newDecapSlot(): DecapSlot {
  return { offset: 0, length: 0, dst: 0 };
}

export function newDecap6Slot(): Decap6Slot {
  return { offset: 0, length: 0, dst: 0, family: 4, dst6: 0 };
}

/** RFC 1071 one's-complement sum over buf[start, end) (even length); 0xffff when a header checks. */
function onesSum(buf: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * Checks `buf` (length `len`, default buf.length) as outer IPv4 + GRE + inner IPv4 (protocol 47)
 * or outer IPv4 + inner IPv4 (protocol 4) and fills `slot`. Returns 0, or the index in
 * DROP_REASONS of why the packet must be dropped.
 */
export function decapInto(buf: Buffer, slot: DecapSlot, len = buf.length): number {
  if (len < IPV4_MIN_HEADER) return 1;
  const vihl = buf[IPV4_OFF_VERSION_IHL];
  if (vihl >>> 4 !== 4) return 2;
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < IPV4_MIN_HEADER) return 3;
  const total = buf.readUInt16BE(IPV4_OFF_TOTAL_LENGTH);
  if (ihl > len || total > len || total < ihl) return 1;
  const protocol = buf[IPV4_OFF_PROTOCOL];
  if (protocol !== IPPROTO_GRE && protocol !== IPPROTO_IPIP) return 4;
  if ((buf.readUInt16BE(IPV4_OFF_FLAGS_FRAGMENT) & IPV4_MF_OFFSET_MASK) !== 0) return 5;
  if (protocol === IPPROTO_IPIP) return innerInto(buf, slot, ihl, total);
  if (ihl + GRE_HEADER > total) return 1;

  const flags = buf.readUInt16BE(ihl + GRE_OFF_FLAGS_VERSION);
  if (flags & GRE_FLAG_CHECKSUM) return 6;
  if (flags & GRE_FLAG_KEY) return 7;
  if (flags & GRE_FLAG_SEQUENCE) return 8;
  if (flags & (GRE_FLAG_ROUTING | GRE_MUST_DISCARD_OTHER)) return 9;
  if ((flags & GRE_VERSION_MASK) !== 0) return 10;
  if (buf.readUInt16BE(ihl + GRE_OFF_PROTOCOL) !== ETHERTYPE_IPV4) return 11;

  return innerInto(buf, slot, ihl + GRE_HEADER, total);
}

/** Checks the inner IPv4 packet at buf[inner] (within the outer `total`) and fills `slot`. */
function innerInto(buf: Buffer, slot: DecapSlot, inner: number, total: number): number {
  const room = total - inner;
  if (room < IPV4_MIN_HEADER) return 12;
  const ivihl = buf[inner + IPV4_OFF_VERSION_IHL];
  if (ivihl >>> 4 !== 4) return 13;
  const iihl = (ivihl & 0x0f) * 4;
  if (iihl < IPV4_MIN_HEADER) return 14;
  const itotal = buf.readUInt16BE(inner + IPV4_OFF_TOTAL_LENGTH);
  if (iihl > room || itotal > room || itotal < iihl) return 12;
  if (onesSum(buf, inner, inner + iihl) !== 0xffff) return 15;

  slot.offset = inner;
  slot.length = itotal;
  slot.dst = buf.readUInt32BE(inner + IPV4_OFF_DST);
  return 0;
}

// ---- IPv6 ----
//
// IPv6 header (RFC 8200 §3; layout constants in prober/packet/ipv6.ts):
//   | Version (4) | Traffic Class (8) | Flow Label (20) |
//   | Payload Length (16)  | Next Header (8) | Hop Limit (8) |
//   | Source Address (128) | Destination Address (128) |
// 40 bytes, no checksum; Payload Length counts what follows the 40 bytes.
//
// An AF_INET6 raw socket hands over the outer packet WITHOUT its IPv6 header (raw(7)): for next
// header 47 the buffer starts at the GRE header, for 41 and 4 at the inner packet, and the kernel
// has already checked the outer header and that it is addressed to this router (only packets for
// local delivery reach a raw socket). decap6Into() takes that form (the next header known from the
// socket's protocol); decapPacket6Into() a whole packet, outer IPv6 header first (no extension
// headers: lsprobe writes none), for tests and captures.
//
//   next header 47: GRE (RFC 2784, the same checks as over IPv4), protocol 0x86DD -> inner IPv6,
//                   0x0800 -> inner IPv4 (RFC 7676 §3)
//   next header 41: inner IPv6 (RFC 2473 §3)
//   next header 4:  inner IPv4 (RFC 2473 §3, "IPv4 in IPv6")
//
// The inner IPv6 packet must be version 6 with its payload within what was received; it is
// forwarded as it is, 40 + payload length bytes (its extension headers included), hop limit
// untouched, as the IPv4 path leaves the TTL.

/**
 * Checks buf[start, end) as the payload of an outer IPv6 packet whose next header is `nextHeader`
 * (what an AF_INET6 raw socket for that protocol receives) and fills `slot` with the inner packet,
 * IPv4 or IPv6. Returns 0, or the index in DROP_REASONS of why the packet must be dropped.
 */
export function decap6Into(buf: Buffer, slot: Decap6Slot, nextHeader: number, start = 0, end = buf.length): number {
  if (start < 0 || end > buf.length || end < start) return 1;
  if (nextHeader === IPPROTO_IPV6) return inner6Into(buf, slot, start, end);
  if (nextHeader === IPPROTO_IPIP) return inner4Into(buf, slot, start, end);
  if (nextHeader !== IPPROTO_GRE) return 4;
  if (start + GRE_HEADER > end) return 1;
  const flags = buf.readUInt16BE(start + GRE_OFF_FLAGS_VERSION);
  if (flags & GRE_FLAG_CHECKSUM) return 6;
  if (flags & GRE_FLAG_KEY) return 7;
  if (flags & GRE_FLAG_SEQUENCE) return 8;
  if (flags & (GRE_FLAG_ROUTING | GRE_MUST_DISCARD_OTHER)) return 9;
  if ((flags & GRE_VERSION_MASK) !== 0) return 10;
  const protocol = buf.readUInt16BE(start + GRE_OFF_PROTOCOL);
  if (protocol === ETHERTYPE_IPV6) return inner6Into(buf, slot, start + GRE_HEADER, end);
  if (protocol === ETHERTYPE_IPV4) return inner4Into(buf, slot, start + GRE_HEADER, end);
  return 11;
}

function inner4Into(buf: Buffer, slot: Decap6Slot, inner: number, end: number): number {
  slot.family = 4;
  return innerInto(buf, slot, inner, end);
}

/** decap6Into() of a whole IPv6 packet (outer header first, no extension headers) of `len` bytes. */
export function decapPacket6Into(buf: Buffer, slot: Decap6Slot, len = buf.length): number {
  if (len < IPV6_HEADER_LENGTH || len > buf.length) return 1;
  if (buf[0] >>> 4 !== 6) return 17;
  const end = IPV6_HEADER_LENGTH + buf.readUInt16BE(IPV6_OFF_PAYLOAD_LENGTH);
  if (end > len) return 1;
  return decap6Into(buf, slot, buf[IPV6_OFF_NEXT_HEADER], IPV6_HEADER_LENGTH, end);
}

/** Checks the inner IPv6 packet at buf[inner] (within the outer `end`) and fills `slot`. */
function inner6Into(buf: Buffer, slot: Decap6Slot, inner: number, end: number): number {
  if (end - inner < IPV6_HEADER_LENGTH) return 12;
  if (buf[inner] >>> 4 !== 6) return 16;
  const length = IPV6_HEADER_LENGTH + buf.readUInt16BE(inner + IPV6_OFF_PAYLOAD_LENGTH);
  if (length > end - inner) return 12;
  slot.offset = inner;
  slot.length = length;
  slot.family = 6;
  slot.dst6 = inner + IPV6_OFF_DST;
  return 0;
}

export function ipv4ToString(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export type DecapResult = { inner: Buffer; dst: string; family: "ipv4" | "ipv6" } | { drop: DropReason };

function result(buf: Buffer, slot: DecapSlot | Decap6Slot, code: number): DecapResult {
  if (code !== 0) return { drop: DROP_REASONS[code] };
  const inner = buf.subarray(slot.offset, slot.offset + slot.length);
  return "family" in slot && slot.family === 6 ? { inner, dst: bytesToIpv6(buf, slot.dst6), family: "ipv6" } : { inner, dst: ipv4ToString(slot.dst), family: "ipv4" };
}

/** decapInto() as a value: the inner packet as a subarray (no copy) and its destination. */
export function decapsulate(buf: Buffer): DecapResult {
  const slot = newDecapSlot();
  return result(buf, slot, decapInto(buf, slot));
}

/** decap6Into() as a value: `payload` is what an AF_INET6 raw socket for `nextHeader` received. */
export function decapsulate6(payload: Buffer, nextHeader: number): DecapResult {
  const slot = newDecap6Slot();
  return result(payload, slot, decap6Into(payload, slot, nextHeader));
}

/** decapPacket6Into() as a value: a whole outer IPv6 packet. */
export function decapsulatePacket6(packet: Buffer): DecapResult {
  const slot = newDecap6Slot();
  return result(packet, slot, decapPacket6Into(packet, slot));
}
