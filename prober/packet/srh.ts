// RFC 8754 §2: the IPv6 Segment Routing Header (a Routing header, RFC 8200 §4.4, type 4).
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | Next Header   |  Hdr Ext Len  | Routing Type  | Segments Left |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Last Entry   |     Flags     |              Tag              |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |            Segment List[0] (128-bit IPv6 address)             |
//  |                              ...                              |
//  |            Segment List[n] (128-bit IPv6 address)             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Hdr Ext Len: 8-octet units after the first 8 (2 per segment, no TLVs here). The list is in
// reverse order: Segment List[0] is the LAST segment of the path, and Segments Left indexes the
// active one (the one in the destination address). Reduced encoding (RFC 8754 §4.1.1): the first
// segment lives only in the destination address and is left out of the list, so Last Entry =
// segments - 2 while Segments Left starts at segments - 1 (one past the list's end).
import { IPV6_ADDRESS_LENGTH, bytesToIpv6, ipv6ToBytes } from "./ipv6.js";

/** IPv6 next header value of a Routing header (RFC 8200 §4.4). */
export const IPPROTO_ROUTING = 43;
export const SRH_ROUTING_TYPE = 4;
export const SRH_FIXED_LENGTH = 8;
export const SRH_OFF_NEXT_HEADER = 0;
export const SRH_OFF_HDR_EXT_LEN = 1;
export const SRH_OFF_ROUTING_TYPE = 2;
export const SRH_OFF_SEGMENTS_LEFT = 3;
export const SRH_OFF_LAST_ENTRY = 4;
export const SRH_OFF_FLAGS = 5;
export const SRH_OFF_TAG = 6;
export const SRH_OFF_SEGMENTS = 8;
/** Hdr Ext Len is one octet of 8-octet units: at most 127 segments of 2 units each. */
export const SRH_MAX_SEGMENTS = 127;

/** Octets of an SRH listing `listed` segments. */
export const srhLength = (listed: number): number => SRH_FIXED_LENGTH + IPV6_ADDRESS_LENGTH * listed;

export interface SrhFields {
  nextHeader: number;
  /** The path's segments in the order they are visited, the final destination last. */
  segments: readonly string[];
  /** Leave the first segment out of the list (it is the destination address). Default true. */
  reduced?: boolean;
  flags?: number;
  tag?: number;
}

/** The segments an SRH for `f` lists, Segment List[0] first (the reverse of the path). */
export function srhList(f: Pick<SrhFields, "segments" | "reduced">): string[] {
  const listed = f.reduced ?? true ? f.segments.slice(1) : [...f.segments];
  return listed.reverse();
}

/** Writes the SRH at `off`; returns its length. Segments Left = segments - 1 (the first active). */
export function writeSrh(buf: Uint8Array, off: number, f: SrhFields): number {
  const n = f.segments.length;
  const reduced = f.reduced ?? true;
  if (n < (reduced ? 2 : 1)) throw new RangeError(`an SRH needs at least ${reduced ? 2 : 1} segment(s) (reduced: the first is the destination only), got ${n}`);
  const list = srhList(f);
  if (list.length > SRH_MAX_SEGMENTS) throw new RangeError(`an SRH lists at most ${SRH_MAX_SEGMENTS} segments, got ${list.length}`);
  buf[off + SRH_OFF_NEXT_HEADER] = f.nextHeader;
  buf[off + SRH_OFF_HDR_EXT_LEN] = 2 * list.length;
  buf[off + SRH_OFF_ROUTING_TYPE] = SRH_ROUTING_TYPE;
  buf[off + SRH_OFF_SEGMENTS_LEFT] = n - 1;
  buf[off + SRH_OFF_LAST_ENTRY] = list.length - 1;
  buf[off + SRH_OFF_FLAGS] = f.flags ?? 0;
  buf[off + SRH_OFF_TAG] = ((f.tag ?? 0) >>> 8) & 0xff;
  buf[off + SRH_OFF_TAG + 1] = (f.tag ?? 0) & 0xff;
  list.forEach((s, i) => ipv6ToBytes(s, buf, off + SRH_OFF_SEGMENTS + IPV6_ADDRESS_LENGTH * i));
  return srhLength(list.length);
}

export interface Srh {
  nextHeader: number;
  hdrExtLen: number;
  routingType: number;
  segmentsLeft: number;
  lastEntry: number;
  flags: number;
  tag: number;
  /** Segment List[0..lastEntry] as stored (reverse path order). */
  list: string[];
  length: number;
}

/** Reads an SRH at `off`, checking every length before it reads. */
export function readSrh(buf: Uint8Array, off: number): Srh {
  if (off + SRH_FIXED_LENGTH > buf.length) throw new RangeError(`SRH at ${off}: ${buf.length - off} octets, needs ${SRH_FIXED_LENGTH}`);
  const hdrExtLen = buf[off + SRH_OFF_HDR_EXT_LEN];
  const length = SRH_FIXED_LENGTH + 8 * hdrExtLen;
  if (off + length > buf.length) throw new RangeError(`SRH at ${off}: Hdr Ext Len ${hdrExtLen} says ${length} octets, ${buf.length - off} there`);
  const routingType = buf[off + SRH_OFF_ROUTING_TYPE];
  if (routingType !== SRH_ROUTING_TYPE) throw new RangeError(`routing header at ${off}: type ${routingType}, not ${SRH_ROUTING_TYPE} (SRH)`);
  const lastEntry = buf[off + SRH_OFF_LAST_ENTRY];
  if (SRH_FIXED_LENGTH + IPV6_ADDRESS_LENGTH * (lastEntry + 1) > length) throw new RangeError(`SRH at ${off}: Last Entry ${lastEntry} past its ${length} octets`);
  const list: string[] = [];
  for (let i = 0; i <= lastEntry; i++) list.push(bytesToIpv6(buf, off + SRH_OFF_SEGMENTS + IPV6_ADDRESS_LENGTH * i));
  return {
    nextHeader: buf[off + SRH_OFF_NEXT_HEADER],
    hdrExtLen,
    routingType,
    segmentsLeft: buf[off + SRH_OFF_SEGMENTS_LEFT],
    lastEntry,
    flags: buf[off + SRH_OFF_FLAGS],
    tag: (buf[off + SRH_OFF_TAG] << 8) | buf[off + SRH_OFF_TAG + 1],
    list,
    length,
  };
}
