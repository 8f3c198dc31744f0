// IPv6 header (RFC 8200 §3), the fixed 40 bytes lsprobe writes on every layer of an IPv6 probe.
// No extension headers are ever written; the reader reports Next Header as it finds it.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version| Traffic Class |           Flow Label                  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Payload Length        |  Next Header  |   Hop Limit   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                                               |
//   +                                                               +
//   |                                                               |
//   +                         Source Address                        +
//   |                                                               |
//   +                                                               +
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                                               |
//   +                                                               +
//   |                                                               |
//   +                      Destination Address                      +
//   |                                                               |
//   +                                                               +
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   Traffic Class: DSCP (RFC 2474, top six bits) and ECN (RFC 3168, bottom two), as IPv4's TOS.
//   Flow Label (20 bits, RFC 6437): 0 = unlabelled; lsprobe varies it per probe as ECMP entropy
//     (RFC 6438: routers hash on source, destination and flow label of the outer header).
//   Payload Length: the octets after this header (extension headers included), unlike IPv4's
//     Total Length. No header checksum: the upper layer's pseudo-header (below) covers the
//     addresses.
//   Next Header: from the IANA protocol-numbers registry, as IPv4's Protocol (ipv4.ts holds the
//     constants): 17 UDP, 41 IPv6 (RFC 2473), 47 GRE (RFC 7676).
//   Hop Limit: decremented by each forwarding node, as TTL.
//
//   Pseudo-header for upper-layer checksums (RFC 8200 §8.1), summed by ipv6PseudoHeaderSum:
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                     Source Address (16 octets)                |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                  Destination Address (16 octets)              |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                   Upper-Layer Packet Length                   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                      zero                     |  Next Header  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   The UDP checksum is mandatory over IPv6 (§8.1): a computed 0 is sent as 0xFFFF, and a
//   receiver discards a datagram whose checksum field is 0 (udp.ts: writeUdp6Checksum).

import { onesComplementSum } from "./checksum.js";
import { IPPROTO_UDP, PacketDecodeError } from "./ipv4.js";

// ---- layout ----
export const IPV6_VERSION = 6;
export const IPV6_HEADER_LENGTH = 40;
export const IPV6_ADDRESS_LENGTH = 16;

export const IPV6_OFF_VERSION_TC_FLOW = 0; // one 32-bit word: version 4 bits, TC 8, flow label 20
export const IPV6_OFF_PAYLOAD_LENGTH = 4;
export const IPV6_OFF_NEXT_HEADER = 6;
export const IPV6_OFF_HOP_LIMIT = 7;
export const IPV6_OFF_SRC = 8;
export const IPV6_OFF_DST = 24;

export const IPV6_FLOW_LABEL_MASK = 0xfffff;
export const IPV6_MAX_FLOW_LABEL = 0xfffff;
export const IPV6_MAX_PAYLOAD_LENGTH = 0xffff; // no jumbograms (RFC 2675)
/** RFC 8200 §5: every link carries 1280-octet packets unfragmented. */
export const IPV6_MIN_MTU = 1280;

// ---- addresses ----

/**
 * Strict textual IPv6 address (RFC 4291 §2.2: eight groups of 1-4 hex digits, one `::` for a run
 * of zero groups, optionally a dotted quad as the last 32 bits) to its 16 bytes. No zone id
 * (`%eth0`), no brackets, no prefix length.
 */
export function ipv6ToBytes(address: string, out: Uint8Array = new Uint8Array(IPV6_ADDRESS_LENGTH), off = 0): Uint8Array {
  if (typeof address !== "string") throw new TypeError(`invalid IPv6 address ${String(address)}: not a string`);
  const bad = (why: string): never => {
    throw new TypeError(`invalid IPv6 address "${address}": ${why}`);
  };
  if (off < 0 || off + IPV6_ADDRESS_LENGTH > out.length) throw new RangeError(`ipv6 address at offset ${off} does not fit the ${out.length}-byte buffer`);
  const halves = address.split("::");
  if (halves.length > 2) bad("more than one '::'");
  const groups = (s: string): string[] => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  // A trailing dotted quad stands for two groups.
  const words: number[][] = [[], []];
  [head, tail].forEach((part, h) => {
    part.forEach((g, i) => {
      if (g.includes(".")) {
        if (i !== part.length - 1 || (h === 0 && halves.length === 2)) bad(`dotted quad "${g}" is not the last 32 bits`);
        const q = g.split(".");
        if (q.length !== 4 || !q.every((o) => /^(0|[1-9][0-9]{0,2})$/.test(o) && Number(o) <= 255)) bad(`"${g}" is not a dotted quad`);
        words[h].push((Number(q[0]) << 8) | Number(q[1]), (Number(q[2]) << 8) | Number(q[3]));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) bad(g === "" ? "empty group" : `group "${g}" is not 1-4 hex digits`);
        words[h].push(parseInt(g, 16));
      }
    });
  });
  const n = words[0].length + words[1].length;
  if (halves.length === 1 ? n !== 8 : n > 7) bad(halves.length === 1 ? `${n} groups, expected 8` : `${n} groups around '::', at most 7`);
  const all = [...words[0], ...new Array<number>(8 - n).fill(0), ...words[1]];
  all.forEach((w, i) => {
    out[off + 2 * i] = w >> 8;
    out[off + 2 * i + 1] = w & 0xff;
  });
  return out;
}

/** 16 bytes at buf[off] to the RFC 5952 text form: lower case, no leading zeros, the longest run (>= 2) of zero groups as `::`. */
export function bytesToIpv6(buf: Uint8Array, off = 0): string {
  if (off < 0 || off + IPV6_ADDRESS_LENGTH > buf.length) throw new RangeError(`ipv6 address at offset ${off} does not fit the ${buf.length}-byte buffer`);
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((buf[off + 2 * i] << 8) | buf[off + 2 * i + 1]);
  let best = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not shortened
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(":");
  return best < 0 ? hex(w) : `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

const toBytes = (a: string | Uint8Array, field: string): Uint8Array => {
  if (typeof a !== "string") {
    if (!(a instanceof Uint8Array) || a.length !== IPV6_ADDRESS_LENGTH) throw new TypeError(`ipv6 ${field}: expected a string or 16 bytes`);
    return a;
  }
  try {
    return ipv6ToBytes(a);
  } catch (e) {
    throw new TypeError(`ipv6 ${field}: ${(e as Error).message}`);
  }
};

// ---- pseudo-header ----

/**
 * The folded one's complement sum of the RFC 8200 §8.1 pseudo-header: the 16-byte source and
 * destination at src[srcOff] and dst[dstOff], the 32-bit upper-layer length and the next header
 * (default UDP). A valid `initial` for onesComplementSum over the upper-layer packet.
 */
export function ipv6PseudoHeaderSum(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, upperLength: number, nextHeader = IPPROTO_UDP): number {
  const s = onesComplementSum(src, srcOff, srcOff + IPV6_ADDRESS_LENGTH);
  return onesComplementSum(dst, dstOff, dstOff + IPV6_ADDRESS_LENGTH, s + Math.floor(upperLength / 0x10000) + (upperLength & 0xffff) + nextHeader);
}

// ---- encode ----

export interface Ipv6HeaderFields {
  /** Text form or 16 bytes. */
  src: string | Uint8Array;
  dst: string | Uint8Array;
  nextHeader: number;
  /** The octets after this header. */
  payloadLength: number;
  hopLimit: number;
  /** 0-63. */
  dscp: number;
  /** 0-3; default 0 (Not-ECT). */
  ecn?: number;
  /** 0-0xFFFFF; default 0 (unlabelled). */
  flowLabel?: number;
}

function checkRange(field: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`ipv6 ${field} ${v} is not an integer ${min}-${max}`);
}

/** The first 32-bit word: version 6, traffic class (dscp << 2 | ecn), flow label. */
export function ipv6FirstWord(dscp: number, ecn: number, flowLabel: number): number {
  return ((IPV6_VERSION << 28) | (((dscp << 2) | ecn) << 20) | flowLabel) >>> 0;
}

/** Writes the 40-byte IPv6 header at buf[off]. Returns the offset just past it. */
export function writeIpv6Header(buf: Buffer, off: number, h: Ipv6HeaderFields): number {
  const ecn = h.ecn ?? 0;
  const flowLabel = h.flowLabel ?? 0;
  checkRange("nextHeader", h.nextHeader, 0, 255);
  checkRange("payloadLength", h.payloadLength, 0, IPV6_MAX_PAYLOAD_LENGTH);
  checkRange("hopLimit", h.hopLimit, 0, 255);
  checkRange("dscp", h.dscp, 0, 63);
  checkRange("ecn", ecn, 0, 3);
  checkRange("flowLabel", flowLabel, 0, IPV6_MAX_FLOW_LABEL);
  const src = toBytes(h.src, "src");
  const dst = toBytes(h.dst, "dst");
  if (off < 0 || off + IPV6_HEADER_LENGTH > buf.length) {
    throw new RangeError(`ipv6 header at offset ${off} does not fit the ${buf.length}-byte buffer`);
  }
  buf.writeUInt32BE(ipv6FirstWord(h.dscp, ecn, flowLabel), off + IPV6_OFF_VERSION_TC_FLOW);
  buf.writeUInt16BE(h.payloadLength, off + IPV6_OFF_PAYLOAD_LENGTH);
  buf[off + IPV6_OFF_NEXT_HEADER] = h.nextHeader;
  buf[off + IPV6_OFF_HOP_LIMIT] = h.hopLimit;
  buf.set(src, off + IPV6_OFF_SRC);
  buf.set(dst, off + IPV6_OFF_DST);
  return off + IPV6_HEADER_LENGTH;
}

// ---- decode ----

export interface Ipv6Header {
  version: number;
  trafficClass: number;
  dscp: number;
  ecn: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: string;
  dst: string;
  /** Offset of this header in the buffer. */
  start: number;
  /** Offset of the payload (start + 40). */
  next: number;
  /** next + payloadLength, clamped to the buffer when read with `partial`. */
  end: number;
}

export interface Ipv6ReadOptions {
  /** Accept a Payload Length that runs past the buffer (an ICMPv6 quote); `end` is clamped. */
  partial?: boolean;
}

/** Reads the IPv6 header at buf[off], checking lengths before use. Throws PacketDecodeError. */
export function readIpv6Header(buf: Buffer, off: number, opts: Ipv6ReadOptions = {}): Ipv6Header {
  const avail = buf.length - off;
  if (off < 0 || avail < IPV6_HEADER_LENGTH) {
    throw new PacketDecodeError("ipv6", "short", off, `${Math.max(avail, 0)} bytes, need ${IPV6_HEADER_LENGTH}`);
  }
  const w = buf.readUInt32BE(off + IPV6_OFF_VERSION_TC_FLOW);
  const version = w >>> 28;
  if (version !== IPV6_VERSION) throw new PacketDecodeError("ipv6", "version", off, `version ${version}, expected 6`);
  const payloadLength = buf.readUInt16BE(off + IPV6_OFF_PAYLOAD_LENGTH);
  if (payloadLength > avail - IPV6_HEADER_LENGTH && !opts.partial) {
    throw new PacketDecodeError("ipv6", "truncated", off, `payload length ${payloadLength} > ${avail - IPV6_HEADER_LENGTH} bytes after the header`);
  }
  const trafficClass = (w >>> 20) & 0xff;
  return {
    version,
    trafficClass,
    dscp: trafficClass >> 2,
    ecn: trafficClass & 0x03,
    flowLabel: w & IPV6_FLOW_LABEL_MASK,
    payloadLength,
    nextHeader: buf[off + IPV6_OFF_NEXT_HEADER],
    hopLimit: buf[off + IPV6_OFF_HOP_LIMIT],
    src: bytesToIpv6(buf, off + IPV6_OFF_SRC),
    dst: bytesToIpv6(buf, off + IPV6_OFF_DST),
    start: off,
    next: off + IPV6_HEADER_LENGTH,
    end: off + IPV6_HEADER_LENGTH + Math.min(payloadLength, avail - IPV6_HEADER_LENGTH),
  };
}
