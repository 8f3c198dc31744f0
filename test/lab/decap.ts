// Userspace GRE and IP-in-IP decapsulation for the lab routers (the kernel here has no ip_gre
// and no ipip): the pure core. decap-main.ts is the shell (raw sockets, counters, signals).
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
// The inner packet must be a well-formed IPv4 packet (version 4, IHL >= 5, correct header
// checksum, total length within what was received): a real tunnel endpoint would drop anything
// else at ip_rcv, and re-sending it through an IP_HDRINCL socket would let the kernel "repair"
// the checksum and length. Bytes after the inner total length (padding) are not forwarded.

// Header layouts: the prober's packet modules (one place per header).
import { IPPROTO_GRE, IPPROTO_IPIP, IPV4_HEADER_LENGTH as IPV4_MIN_HEADER, IPV4_OFF_VERSION_IHL, IPV4_OFF_TOTAL_LENGTH, IPV4_OFF_FLAGS_FRAGMENT, IPV4_OFF_PROTOCOL, IPV4_OFF_DST, IPV4_FLAG_MF, IPV4_FRAGMENT_OFFSET_MASK } from "../../prober/packet/ipv4.js";
import { ETHERTYPE_IPV4, GRE_HEADER_LENGTH as GRE_HEADER, GRE_OFF_FLAGS_VERSION, GRE_OFF_PROTOCOL, GRE_FLAG_CHECKSUM, GRE_FLAG_ROUTING, GRE_FLAG_KEY, GRE_FLAG_SEQUENCE, GRE_RESERVED_DISCARD_MASK as GRE_MUST_DISCARD_OTHER, GRE_VERSION_MASK } from "../../prober/packet/gre.js";

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
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** Where the inner packet is, filled by decapInto(): no allocation per packet. */
export interface DecapSlot {
  /** Offset of the inner IPv4 header in the buffer. */
  offset: number;
  /** Inner total length (bytes to forward). */
  length: number;
  /** Inner destination address, as an unsigned 32-bit integer. */
  dst: number;
}

export function newDecapSlot(): DecapSlot {
  return { offset: 0, length: 0, dst: 0 };
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

export function ipv4ToString(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export type DecapResult = { inner: Buffer; dst: string } | { drop: DropReason };

/** decapInto() as a value: the inner packet as a subarray (no copy) and its destination. */
export function decapsulate(buf: Buffer): DecapResult {
  const slot = newDecapSlot();
  const code = decapInto(buf, slot);
  if (code !== 0) return { drop: DROP_REASONS[code] };
  return { inner: buf.subarray(slot.offset, slot.offset + slot.length), dst: ipv4ToString(slot.dst) };
}
