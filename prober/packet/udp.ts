// UDP header (RFC 768) and its checksum over the IPv4 pseudo-header, or the IPv6 one (RFC 8200
// §8.1, summed in ipv6.ts: there the checksum is mandatory).
//
//    0      7 8     15 16    23 24    31
//   +--------+--------+--------+--------+
//   |     Source      |   Destination   |
//   |      Port       |      Port       |
//   +--------+--------+--------+--------+
//   |                 |                 |
//   |     Length      |    Checksum     |
//   +--------+--------+--------+--------+
//   |
//   |          data octets ...
//   +---------------- ...
//
// Length: this header plus the data, in octets (minimum 8).
// Checksum: RFC 1071 over the pseudo-header below, the UDP header (checksum field as zero) and the
// data, padded with a zero octet to a multiple of two. A computed 0 is sent as 0xFFFF (all ones);
// a transmitted 0 means "no checksum" over IPv4; over IPv6 it is invalid and the datagram is
// discarded (RFC 8200 §8.1).
//
//   IPv4 pseudo-header:
//    0      7 8     15 16    23 24    31
//   +--------+--------+--------+--------+
//   |          source address           |
//   +--------+--------+--------+--------+
//   |        destination address        |
//   +--------+--------+--------+--------+
//   |  zero  |protocol|   UDP length    |
//   +--------+--------+--------+--------+

import { finishChecksum, foldSum, onesComplementSum } from "./checksum.js";
import { IPPROTO_UDP, PacketDecodeError } from "./ipv4.js";
import { IPV6_ADDRESS_LENGTH, ipv6PseudoHeaderSum } from "./ipv6.js";

export const UDP_HEADER_LENGTH = 8;
export const UDP_OFF_SRC_PORT = 0;
export const UDP_OFF_DST_PORT = 2;
export const UDP_OFF_LENGTH = 4;
export const UDP_OFF_CHECKSUM = 6;

/** What a computed checksum of 0 is sent as (RFC 768). */
export const UDP_CHECKSUM_ZERO_AS = 0xffff;

export interface UdpHeaderFields {
  srcPort: number;
  dstPort: number;
  /** Header plus data. */
  length: number;
}

export interface UdpHeader extends UdpHeaderFields {
  checksum: number;
  start: number;
  /** Offset of the data. */
  next: number;
  /** start + length. */
  end: number;
}

function checkRange(field: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`udp ${field} ${v} is not an integer ${min}-${max}`);
}

/** Writes the 8-byte UDP header with checksum 0 (fill it with writeUdpChecksum). Returns the data offset. */
export function writeUdpHeader(buf: Buffer, off: number, h: UdpHeaderFields): number {
  checkRange("srcPort", h.srcPort, 0, 0xffff);
  checkRange("dstPort", h.dstPort, 0, 0xffff);
  checkRange("length", h.length, UDP_HEADER_LENGTH, 0xffff);
  if (off < 0 || off + UDP_HEADER_LENGTH > buf.length) {
    throw new RangeError(`udp header at offset ${off} does not fit the ${buf.length}-byte buffer`);
  }
  buf.writeUInt16BE(h.srcPort, off + UDP_OFF_SRC_PORT);
  buf.writeUInt16BE(h.dstPort, off + UDP_OFF_DST_PORT);
  buf.writeUInt16BE(h.length, off + UDP_OFF_LENGTH);
  buf.writeUInt16BE(0, off + UDP_OFF_CHECKSUM);
  return off + UDP_HEADER_LENGTH;
}

/** The folded one's complement sum of the IPv4 pseudo-header (addresses as host-order uint32). */
export function udpPseudoHeaderSum(srcU32: number, dstU32: number, udpLength: number): number {
  return foldSum((srcU32 >>> 16) + (srcU32 & 0xffff) + (dstU32 >>> 16) + (dstU32 & 0xffff) + IPPROTO_UDP + udpLength);
}

/** The value to put in the checksum field for a (folded or not) sum: complemented, 0 sent as 0xFFFF. */
export function udpChecksumFromSum(sum: number): number {
  const c = finishChecksum(sum);
  return c === 0 ? UDP_CHECKSUM_ZERO_AS : c;
}

/**
 * Computes and writes the checksum of the UDP datagram at buf[off, off + Length), Length read from
 * its header. Returns the value written.
 */
export function writeUdpChecksum(buf: Buffer, off: number, srcU32: number, dstU32: number): number {
  const length = buf.readUInt16BE(off + UDP_OFF_LENGTH);
  buf.writeUInt16BE(0, off + UDP_OFF_CHECKSUM);
  const c = udpChecksumFromSum(onesComplementSum(buf, off, off + length, udpPseudoHeaderSum(srcU32, dstU32, length)));
  buf.writeUInt16BE(c, off + UDP_OFF_CHECKSUM);
  return c;
}

export type UdpChecksumStatus = "good" | "bad" | "absent";

/** Verifies the checksum of the datagram at buf[off, off + Length): "absent" when the field is 0. */
export function verifyUdpChecksum(buf: Buffer, off: number, srcU32: number, dstU32: number): UdpChecksumStatus {
  const h = readUdpHeader(buf, off);
  if (h.checksum === 0) return "absent";
  const sum = onesComplementSum(buf, off, h.end, udpPseudoHeaderSum(srcU32, dstU32, h.length));
  return sum === 0xffff ? "good" : "bad";
}

function address16(field: string, a: Uint8Array): void {
  if (!(a instanceof Uint8Array) || a.length !== IPV6_ADDRESS_LENGTH) throw new TypeError(`udp over ipv6: ${field} must be 16 bytes`);
}

/**
 * writeUdpChecksum over IPv6: the checksum of the datagram at buf[off, off + Length) with the
 * RFC 8200 §8.1 pseudo-header of the 16-byte `src` and `dst`; never 0 (a computed 0 is 0xFFFF).
 */
export function writeUdp6Checksum(buf: Buffer, off: number, src: Uint8Array, dst: Uint8Array): number {
  address16("src", src);
  address16("dst", dst);
  const length = buf.readUInt16BE(off + UDP_OFF_LENGTH);
  buf.writeUInt16BE(0, off + UDP_OFF_CHECKSUM);
  const c = udpChecksumFromSum(onesComplementSum(buf, off, off + length, ipv6PseudoHeaderSum(src, 0, dst, 0, length)));
  buf.writeUInt16BE(c, off + UDP_OFF_CHECKSUM);
  return c;
}

/** verifyUdpChecksum over IPv6. "absent" (field 0) is not allowed over IPv6: receivers discard it. */
export function verifyUdp6Checksum(buf: Buffer, off: number, src: Uint8Array, dst: Uint8Array): UdpChecksumStatus {
  address16("src", src);
  address16("dst", dst);
  const h = readUdpHeader(buf, off);
  if (h.checksum === 0) return "absent";
  const sum = onesComplementSum(buf, off, h.end, ipv6PseudoHeaderSum(src, 0, dst, 0, h.length));
  return sum === 0xffff ? "good" : "bad";
}

/** Reads the UDP header at buf[off], checking Length against the buffer. Throws PacketDecodeError. */
export function readUdpHeader(buf: Buffer, off: number): UdpHeader {
  const avail = buf.length - off;
  if (off < 0 || avail < UDP_HEADER_LENGTH) {
    throw new PacketDecodeError("udp", "short", off, `${Math.max(avail, 0)} bytes, need ${UDP_HEADER_LENGTH}`);
  }
  const length = buf.readUInt16BE(off + UDP_OFF_LENGTH);
  if (length < UDP_HEADER_LENGTH) throw new PacketDecodeError("udp", "length", off, `length ${length} < ${UDP_HEADER_LENGTH}`);
  if (length > avail) throw new PacketDecodeError("udp", "truncated", off, `length ${length} > ${avail} bytes in the buffer`);
  return {
    srcPort: buf.readUInt16BE(off + UDP_OFF_SRC_PORT),
    dstPort: buf.readUInt16BE(off + UDP_OFF_DST_PORT),
    length,
    checksum: buf.readUInt16BE(off + UDP_OFF_CHECKSUM),
    start: off,
    next: off + UDP_HEADER_LENGTH,
    end: off + length,
  };
}
