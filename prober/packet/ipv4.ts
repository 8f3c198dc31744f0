// IPv4 header (RFC 791 §3.1), 20 bytes without options, as lsprobe writes every layer of a probe.
// The TOS octet is DSCP (RFC 2474, top six bits) and ECN (RFC 3168, bottom two bits).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version|  IHL  |    DSCP   |ECN|          Total Length         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Identification        |Flags|      Fragment Offset    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Time to Live |    Protocol   |         Header Checksum       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                       Source Address                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Destination Address                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Options                    |    Padding    |  (never written)
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   Flags: bit 0 reserved (0), bit 1 DF (Don't Fragment), bit 2 MF (More Fragments).
//   Total Length covers this header and everything after it, in octets.
//   Header Checksum: RFC 1071 over the header with the checksum field taken as zero.
//
// This file also holds the typed decode error shared by the ipv6.ts, gre.ts and udp.ts readers.

import { internetChecksum } from "./checksum.js";

// ---- IANA "Assigned Internet Protocol Numbers" (protocol-numbers registry) ----
export const IPPROTO_IPIP = 4; // IPv4 encapsulated in IPv4 (RFC 2003, "IP-in-IP"; encap.ts)
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41; // IPv6 encapsulation (RFC 2473 IPv6-in-IPv6, over IPv6; encap6.ts)
export const IPPROTO_GRE = 47;
// (IPv6's Next Header field takes its values from the same registry: ipv6.ts uses these.)

// ---- layout ----
export const IPV4_VERSION = 4;
export const IPV4_HEADER_LENGTH = 20; // IHL 5, no options
export const IPV4_MIN_IHL = 5;

export const IPV4_OFF_VERSION_IHL = 0;
export const IPV4_OFF_TOS = 1;
export const IPV4_OFF_TOTAL_LENGTH = 2;
export const IPV4_OFF_ID = 4;
export const IPV4_OFF_FLAGS_FRAGMENT = 6;
export const IPV4_OFF_TTL = 8;
export const IPV4_OFF_PROTOCOL = 9;
export const IPV4_OFF_CHECKSUM = 10;
export const IPV4_OFF_SRC = 12;
export const IPV4_OFF_DST = 16;

/** Flags/fragment-offset word: DF and MF bits and the 13-bit offset (units of 8 octets). */
export const IPV4_FLAG_DF = 0x4000;
export const IPV4_FLAG_MF = 0x2000;
export const IPV4_FRAGMENT_OFFSET_MASK = 0x1fff;

export const IPV4_MAX_TOTAL_LENGTH = 0xffff;

// ---- errors ----

export type PacketLayer = "ipv4" | "ipv6" | "gre" | "udp";
export type PacketDecodeErrorKind =
  | "short" // fewer bytes than the fixed header
  | "version" // IPv4 version != 4, IPv6 version != 6, GRE version != 0
  | "ihl" // IPv4 IHL < 5
  | "length" // a length field smaller than its own header
  | "truncated" // a length field that runs past the buffer
  | "checksum" // GRE C bit set (lsprobe never sends or accepts it)
  | "routing" // GRE R bit (RFC 1701)
  | "key" // GRE K bit (RFC 2890)
  | "sequence" // GRE S bit (RFC 2890)
  | "reserved"; // GRE reserved0 bits 4-5 (RFC 2784 §2.3: MUST discard)

/** A header that cannot be read: which layer, what was wrong, at which buffer offset. */
export class PacketDecodeError extends Error {
  override name = "PacketDecodeError";
  constructor(
    readonly layer: PacketLayer,
    readonly kind: PacketDecodeErrorKind,
    readonly offset: number,
    detail: string,
  ) {
    super(`${layer} header at offset ${offset}: ${kind}: ${detail}`);
  }
}

// ---- addresses ----

/** Strict dotted quad to a host-order uint32: four decimal octets 0-255, no leading zeros, no spaces. */
export function ipv4ToUint32(address: string): number {
  if (typeof address !== "string") throw new TypeError(`invalid IPv4 address ${String(address)}: not a string`);
  const parts = address.split(".");
  if (parts.length !== 4) throw new TypeError(`invalid IPv4 address "${address}": expected four dotted octets`);
  let n = 0;
  for (const p of parts) {
    // No leading zeros: "010" is octal to inet_aton and decimal to others; refuse the ambiguity.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) {
      throw new TypeError(`invalid IPv4 address "${address}": octet "${p}" is not a decimal 0-255`);
    }
    n = n * 256 + Number(p);
  }
  return n;
}

/** A uint32 (integer 0..2^32-1) to a dotted quad. */
export function uint32ToIpv4(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`invalid IPv4 address value ${n}: expected an integer 0..4294967295`);
  }
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

const toU32 = (a: string | number, field: string): number => {
  try {
    return typeof a === "number" ? (uint32ToIpv4(a), a) : ipv4ToUint32(a);
  } catch (e) {
    throw new TypeError(`ipv4 ${field}: ${(e as Error).message}`);
  }
};

// ---- encode ----

export interface Ipv4HeaderFields {
  /** Dotted quad or host-order uint32. */
  src: string | number;
  dst: string | number;
  protocol: number;
  /** This header plus everything after it. */
  totalLength: number;
  ttl: number;
  /** 0-63. */
  dscp: number;
  /** 0-3; default 0 (Not-ECT). */
  ecn?: number;
  id: number;
  dontFragment: boolean;
}

function checkRange(field: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`ipv4 ${field} ${v} is not an integer ${min}-${max}`);
}

/**
 * Writes a 20-byte IPv4 header (no options, fragment offset 0) at buf[off] with its checksum.
 * Returns the offset just past the header.
 */
export function writeIpv4Header(buf: Buffer, off: number, h: Ipv4HeaderFields): number {
  const ecn = h.ecn ?? 0;
  checkRange("protocol", h.protocol, 0, 255);
  checkRange("totalLength", h.totalLength, IPV4_HEADER_LENGTH, IPV4_MAX_TOTAL_LENGTH);
  checkRange("ttl", h.ttl, 0, 255);
  checkRange("dscp", h.dscp, 0, 63);
  checkRange("ecn", ecn, 0, 3);
  checkRange("id", h.id, 0, 0xffff);
  const src = toU32(h.src, "src");
  const dst = toU32(h.dst, "dst");
  if (off < 0 || off + IPV4_HEADER_LENGTH > buf.length) {
    throw new RangeError(`ipv4 header at offset ${off} does not fit the ${buf.length}-byte buffer`);
  }
  buf[off + IPV4_OFF_VERSION_IHL] = (IPV4_VERSION << 4) | IPV4_MIN_IHL;
  buf[off + IPV4_OFF_TOS] = (h.dscp << 2) | ecn;
  buf.writeUInt16BE(h.totalLength, off + IPV4_OFF_TOTAL_LENGTH);
  buf.writeUInt16BE(h.id, off + IPV4_OFF_ID);
  buf.writeUInt16BE(h.dontFragment ? IPV4_FLAG_DF : 0, off + IPV4_OFF_FLAGS_FRAGMENT);
  buf[off + IPV4_OFF_TTL] = h.ttl;
  buf[off + IPV4_OFF_PROTOCOL] = h.protocol;
  buf.writeUInt16BE(0, off + IPV4_OFF_CHECKSUM);
  buf.writeUInt32BE(src, off + IPV4_OFF_SRC);
  buf.writeUInt32BE(dst, off + IPV4_OFF_DST);
  buf.writeUInt16BE(internetChecksum(buf, off, off + IPV4_HEADER_LENGTH), off + IPV4_OFF_CHECKSUM);
  return off + IPV4_HEADER_LENGTH;
}

// ---- decode ----

export interface Ipv4Header {
  version: number;
  ihl: number;
  /** IHL * 4. */
  headerLength: number;
  dscp: number;
  ecn: number;
  totalLength: number;
  id: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** In octets (the field is in units of 8). */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  /** The header checksum verifies (over IHL * 4 bytes, options included). */
  checksumOk: boolean;
  srcU32: number;
  dstU32: number;
  src: string;
  dst: string;
  /** Offset of this header in the buffer. */
  start: number;
  /** Offset of the payload (start + headerLength). */
  next: number;
  /** start + totalLength, clamped to the buffer when read with `partial`. */
  end: number;
}

export interface Ipv4ReadOptions {
  /**
   * Accept a Total Length that runs past the buffer (the quoted datagram inside an ICMP error is
   * cut short); `end` is then clamped to the buffer. Default false: that is a "truncated" error.
   */
  partial?: boolean;
}

/** Reads the IPv4 header at buf[off], checking every length before use. Throws PacketDecodeError. */
export function readIpv4Header(buf: Buffer, off: number, opts: Ipv4ReadOptions = {}): Ipv4Header {
  const avail = buf.length - off;
  if (off < 0 || avail < IPV4_HEADER_LENGTH) {
    throw new PacketDecodeError("ipv4", "short", off, `${Math.max(avail, 0)} bytes, need at least ${IPV4_HEADER_LENGTH}`);
  }
  const vihl = buf[off + IPV4_OFF_VERSION_IHL];
  const version = vihl >> 4;
  if (version !== IPV4_VERSION) throw new PacketDecodeError("ipv4", "version", off, `version ${version}, expected 4`);
  const ihl = vihl & 0x0f;
  if (ihl < IPV4_MIN_IHL) throw new PacketDecodeError("ipv4", "ihl", off, `IHL ${ihl}, minimum 5`);
  const headerLength = ihl * 4;
  if (avail < headerLength) {
    throw new PacketDecodeError("ipv4", "short", off, `${avail} bytes, IHL says ${headerLength}`);
  }
  const totalLength = buf.readUInt16BE(off + IPV4_OFF_TOTAL_LENGTH);
  if (totalLength < headerLength) {
    throw new PacketDecodeError("ipv4", "length", off, `total length ${totalLength} < header length ${headerLength}`);
  }
  if (totalLength > avail && !opts.partial) {
    throw new PacketDecodeError("ipv4", "truncated", off, `total length ${totalLength} > ${avail} bytes in the buffer`);
  }
  const tos = buf[off + IPV4_OFF_TOS];
  const ff = buf.readUInt16BE(off + IPV4_OFF_FLAGS_FRAGMENT);
  const srcU32 = buf.readUInt32BE(off + IPV4_OFF_SRC);
  const dstU32 = buf.readUInt32BE(off + IPV4_OFF_DST);
  return {
    version,
    ihl,
    headerLength,
    dscp: tos >> 2,
    ecn: tos & 0x03,
    totalLength,
    id: buf.readUInt16BE(off + IPV4_OFF_ID),
    dontFragment: (ff & IPV4_FLAG_DF) !== 0,
    moreFragments: (ff & IPV4_FLAG_MF) !== 0,
    fragmentOffset: (ff & IPV4_FRAGMENT_OFFSET_MASK) * 8,
    ttl: buf[off + IPV4_OFF_TTL],
    protocol: buf[off + IPV4_OFF_PROTOCOL],
    checksum: buf.readUInt16BE(off + IPV4_OFF_CHECKSUM),
    checksumOk: internetChecksum(buf, off, off + headerLength) === 0,
    srcU32,
    dstU32,
    src: uint32ToIpv4(srcU32),
    dst: uint32ToIpv4(dstU32),
    start: off,
    next: off + headerLength,
    end: off + Math.min(totalLength, avail),
  };
}
