// GRE header (RFC 2784 §2), the 4-byte form lsprobe sends between every pair of IPv4 layers.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |C|       Reserved0       | Ver |         Protocol Type         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |      Checksum (optional)      |       Reserved1 (Optional)    |  (present iff C; never sent)
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   C (bit 0): checksum present. lsprobe writes 0 and the reader rejects it: probes never carry it.
//   Reserved0 (bits 1-12): bits 1-5 are the RFC 1701 R, K, S, s bits and recursion control; bit 2
//     is RFC 2890's Key and bit 3 its Sequence Number. RFC 2784 §2.3: a receiver MUST discard a
//     packet with any of bits 1-5 set (unless it implements RFC 1701); bits 6-12 are reserved,
//     sent as 0 and MAY be ignored on receipt, which this reader does.
//   Ver (bits 13-15): MUST be 0 (RFC 2784 §2.3.1); 1 is PPTP's enhanced GRE.
//   Protocol Type: an EtherType (RFC 2784 §2.4); 0x0800 for an IPv4 payload, 0x86DD for an IPv6
//     one (RFC 7676 §3, GRE over IPv6 delivery headers: encap6.ts).

import { PacketDecodeError } from "./ipv4.js";

// ---- IANA "IEEE 802 Numbers", EtherTypes ----
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;

// ---- layout ----
export const GRE_HEADER_LENGTH = 4;
export const GRE_OFF_FLAGS_VERSION = 0;
export const GRE_OFF_PROTOCOL = 2;

/** Bits of the first 16-bit word. */
export const GRE_FLAG_CHECKSUM = 0x8000; // C, bit 0
export const GRE_FLAG_ROUTING = 0x4000; // R, bit 1 (RFC 1701)
export const GRE_FLAG_KEY = 0x2000; // K, bit 2 (RFC 2890)
export const GRE_FLAG_SEQUENCE = 0x1000; // S, bit 3 (RFC 2890)
export const GRE_RESERVED_DISCARD_MASK = 0x0c00; // bits 4-5: strict source route, recursion (MUST discard)
export const GRE_RESERVED_IGNORED_MASK = 0x03f8; // bits 6-12: MAY be ignored
export const GRE_VERSION_MASK = 0x0007;
export const GRE_VERSION = 0;

export interface GreHeader {
  protocolType: number;
  /** Always 4: anything that would lengthen the header is rejected. */
  headerLength: number;
  /** Offset of this header. */
  start: number;
  /** Offset of the encapsulated packet. */
  next: number;
}

/** Writes a 4-byte GRE header (no flags, version 0). Returns the offset just past it. */
export function writeGreHeader(buf: Buffer, off: number, protocolType = ETHERTYPE_IPV4): number {
  if (!Number.isInteger(protocolType) || protocolType < 0 || protocolType > 0xffff) {
    throw new RangeError(`gre protocolType ${protocolType} is not an integer 0-65535`);
  }
  if (off < 0 || off + GRE_HEADER_LENGTH > buf.length) {
    throw new RangeError(`gre header at offset ${off} does not fit the ${buf.length}-byte buffer`);
  }
  buf.writeUInt16BE(0, off + GRE_OFF_FLAGS_VERSION);
  buf.writeUInt16BE(protocolType, off + GRE_OFF_PROTOCOL);
  return off + GRE_HEADER_LENGTH;
}

/** Reads the GRE header at buf[off]. Throws PacketDecodeError for C/R/K/S, bits 4-5, version != 0. */
export function readGreHeader(buf: Buffer, off: number): GreHeader {
  const avail = buf.length - off;
  if (off < 0 || avail < GRE_HEADER_LENGTH) {
    throw new PacketDecodeError("gre", "short", off, `${Math.max(avail, 0)} bytes, need ${GRE_HEADER_LENGTH}`);
  }
  const w = buf.readUInt16BE(off + GRE_OFF_FLAGS_VERSION);
  const version = w & GRE_VERSION_MASK;
  if (version !== GRE_VERSION) throw new PacketDecodeError("gre", "version", off, `version ${version}, expected 0`);
  if (w & GRE_FLAG_CHECKSUM) throw new PacketDecodeError("gre", "checksum", off, "C bit set (checksum present)");
  if (w & GRE_FLAG_ROUTING) throw new PacketDecodeError("gre", "routing", off, "R bit set (RFC 1701 routing)");
  if (w & GRE_FLAG_KEY) throw new PacketDecodeError("gre", "key", off, "K bit set (RFC 2890 key)");
  if (w & GRE_FLAG_SEQUENCE) throw new PacketDecodeError("gre", "sequence", off, "S bit set (RFC 2890 sequence number)");
  if (w & GRE_RESERVED_DISCARD_MASK) {
    throw new PacketDecodeError("gre", "reserved", off, `reserved0 bits 4-5 set (0x${w.toString(16).padStart(4, "0")})`);
  }
  return {
    protocolType: buf.readUInt16BE(off + GRE_OFF_PROTOCOL),
    headerLength: GRE_HEADER_LENGTH,
    start: off,
    next: off + GRE_HEADER_LENGTH,
  };
}
