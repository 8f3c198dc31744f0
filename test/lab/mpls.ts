// The lab routers' userspace SR-MPLS label switcher: the pure core (the kernel here has no MPLS
// forwarding, CONFIG_MPLS_ROUTING unset). decap-main.ts is its shell (sockets, faults, counters).
//
// What a router receives (RFC 7510 MPLS-in-UDP, UDP destination port 6635, or RFC 4023 MPLS-in-GRE,
// GRE protocol type 0x8847) carries a label stack, top entry first:
//
// Label stack entry (RFC 3032 §2.1):
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                Label                  | TC  |S|      TTL      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   Label 20 bits (0..15 reserved), TC 3 bits (RFC 5462), S bottom of stack, TTL 8 bits.
//
// The switcher knows only its own Adj-SIDs (sr.ts: label -> adjacency): it pops the top label,
// and forwards on the adjacency the label names (a label it does not have, or a reserved one, is
// dropped and counted). TTL (RFC 3032 §2.4.1, the uniform model): the outgoing TTL is the incoming
// (top entry's) TTL minus one; 0 means the packet is not forwarded (dropped, "mpls-ttl"; no ICMP
// is generated). It is written into the new top entry when the stack goes on (S = 0), or into the
// inner packet's IPv4 TTL (header checksum recomputed) or IPv6 hop limit when the popped entry was
// the bottom of stack; the inner packet must then be a well-formed IPv4 packet (version, IHL,
// header checksum, total length within what was received) or IPv6 packet (payload length within
// it): forwarded as IP, `length` bytes, padding after it not included. TC bits travel unchanged.
import { IPV4_OFF_CHECKSUM, IPV4_OFF_DST, IPV4_OFF_TOTAL_LENGTH, IPV4_OFF_TTL, IPV4_OFF_VERSION_IHL } from "../../prober/packet/ipv4.js";
import { IPV6_HEADER_LENGTH, IPV6_OFF_DST, IPV6_OFF_HOP_LIMIT, IPV6_OFF_PAYLOAD_LENGTH } from "../../prober/packet/ipv6.js";

/** RFC 7510 §3: UDP destination port of MPLS-in-UDP. */
export const MPLS_UDP_PORT = 6635;
/** RFC 4023 / IEEE: GRE protocol type (ethertype) of MPLS unicast. */
export const GRE_PROTOCOL_MPLS = 0x8847;
/** One label stack entry. */
export const MPLS_ENTRY_LENGTH = 4;
export const MPLS_OFF_TTL = 3;
const MPLS_LABEL_SHIFT = 12;
const MPLS_TC_SHIFT = 9;
const MPLS_BOS_BIT = 0x100;
export const MPLS_MAX_LABEL = 0xfffff;
/** RFC 3032 §2.1: labels 0..15 are reserved (explicit null, router alert, implicit null, ...). */
export const MPLS_MAX_RESERVED_LABEL = 15;

/** Drop reasons, indexed by the (positive) code switchInto() returns. 0 is success. */
export const MPLS_DROP_REASONS = [
  "ok",
  "mpls-truncated", // 1: shorter than one label stack entry
  "mpls-reserved", // 2: top label 0..15
  "mpls-unknown-label", // 3: not one of this router's Adj-SIDs
  "mpls-ttl", // 4: outgoing TTL 0
  "mpls-inner-truncated", // 5: bottom of stack, inner packet shorter than its header or length
  "mpls-inner-not-ip", // 6: bottom of stack, inner version neither 4 nor 6
  "mpls-inner-bad-ihl", // 7: inner IPv4 IHL < 5
  "mpls-inner-bad-checksum", // 8: inner IPv4 header checksum wrong
] as const;
export type MplsDropReason = (typeof MPLS_DROP_REASONS)[number];

/** One label stack entry, decoded. */
export interface LabelEntry {
  label: number;
  tc: number;
  bos: boolean;
  ttl: number;
}

/** Decodes the entry at buf[off] (4 bytes must be there). */
export function readLabelEntry(buf: Uint8Array, off: number): LabelEntry {
  if (off < 0 || off + MPLS_ENTRY_LENGTH > buf.length) throw new RangeError(`label stack entry at ${off}: needs 4 bytes, ${Math.max(0, buf.length - off)} there`);
  const w = ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
  return { label: w >>> MPLS_LABEL_SHIFT, tc: (w >>> MPLS_TC_SHIFT) & 7, bos: (w & MPLS_BOS_BIT) !== 0, ttl: w & 0xff };
}

/** Writes one entry at buf[off]; returns off + 4. */
export function writeLabelEntry(buf: Uint8Array, off: number, e: LabelEntry): number {
  if (!Number.isInteger(e.label) || e.label < 0 || e.label > MPLS_MAX_LABEL) throw new RangeError(`label ${e.label} outside 0..${MPLS_MAX_LABEL}`);
  if (!Number.isInteger(e.tc) || e.tc < 0 || e.tc > 7) throw new RangeError(`TC ${e.tc} outside 0..7`);
  if (!Number.isInteger(e.ttl) || e.ttl < 0 || e.ttl > 255) throw new RangeError(`TTL ${e.ttl} outside 0..255`);
  const w = ((e.label << MPLS_LABEL_SHIFT) | (e.tc << MPLS_TC_SHIFT) | (e.bos ? MPLS_BOS_BIT : 0) | e.ttl) >>> 0;
  buf[off] = w >>> 24;
  buf[off + 1] = (w >>> 16) & 0xff;
  buf[off + 2] = (w >>> 8) & 0xff;
  buf[off + 3] = w & 0xff;
  return off + MPLS_ENTRY_LENGTH;
}

/** A label stack (top first; S set on the last entry) in front of `inner`, as one buffer. */
export function encodeLabelStack(labels: ReadonlyArray<{ label: number; ttl: number; tc?: number }>, inner: Uint8Array): Buffer {
  if (labels.length === 0) throw new RangeError("a label stack has at least one entry");
  const out = Buffer.alloc(labels.length * MPLS_ENTRY_LENGTH + inner.length);
  labels.forEach((l, i) => writeLabelEntry(out, i * MPLS_ENTRY_LENGTH, { label: l.label, tc: l.tc ?? 0, bos: i === labels.length - 1, ttl: l.ttl }));
  out.set(inner, labels.length * MPLS_ENTRY_LENGTH);
  return out;
}

/** What switchInto() decided, filled in place: no allocation per packet. */
export interface MplsSlot {
  /** The adjacency (the table's value for the popped label) to forward on. */
  adjacency: number;
  /** The popped label. */
  label: number;
  /** Whether the popped entry was the bottom of stack: what follows is then an IP packet. */
  bos: boolean;
  /** Where what is forwarded starts: the rest of the stack (S = 0) or the inner IP packet. */
  offset: number;
  /** Its length (bottom of stack: the inner packet's own length). */
  length: number;
  /** Bottom of stack: 4 or 6. */
  family: number;
  /** Inner IPv4 destination (uint32; family 4). */
  dst: number;
  /** Offset of the inner IPv6 destination (family 6). */
  dst6: number;
}

export function newMplsSlot(): MplsSlot {
  return { adjacency: -1, label: 0, bos: false, offset: 0, length: 0, family: 0, dst: 0, dst6: 0 };
}

/** RFC 1071 one's-complement sum over buf[start, end) (even length), folded. */
function onesSum(buf: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * Pops the top label of the stack at buf[start, end) and fills `slot` with where to forward what
 * is left; the outgoing TTL is written in place (the next entry, or the inner IPv4 TTL with its
 * checksum, or the IPv6 hop limit). `table`: this router's labels -> adjacency index. Returns 0, or
 * the index in MPLS_DROP_REASONS of why the packet must be dropped (then buf is untouched).
 */
export function switchInto(buf: Buffer, table: ReadonlyMap<number, number>, slot: MplsSlot, start = 0, end = buf.length): number {
  if (start < 0 || end > buf.length || end - start < MPLS_ENTRY_LENGTH) return 1;
  const w = buf.readUInt32BE(start);
  const label = w >>> MPLS_LABEL_SHIFT;
  if (label <= MPLS_MAX_RESERVED_LABEL) return 2;
  const adjacency = table.get(label);
  if (adjacency === undefined) return 3;
  const ttl = (w & 0xff) - 1;
  if (ttl <= 0) return 4;
  const bos = (w & MPLS_BOS_BIT) !== 0;
  const next = start + MPLS_ENTRY_LENGTH;
  slot.adjacency = adjacency;
  slot.label = label;
  slot.bos = bos;
  slot.offset = next;
  if (!bos) {
    if (end - next < MPLS_ENTRY_LENGTH) return 1;
    buf[next + MPLS_OFF_TTL] = ttl;
    slot.length = end - next;
    slot.family = 0;
    return 0;
  }
  const room = end - next;
  if (room < 1) return 5;
  const version = buf[next] >>> 4;
  if (version === 4) {
    if (room < 20) return 5;
    const ihl = (buf[next + IPV4_OFF_VERSION_IHL] & 0x0f) * 4;
    if (ihl < 20) return 7;
    const total = buf.readUInt16BE(next + IPV4_OFF_TOTAL_LENGTH);
    if (ihl > room || total > room || total < ihl) return 5;
    if (onesSum(buf, next, next + ihl) !== 0xffff) return 8;
    buf[next + IPV4_OFF_TTL] = ttl;
    buf.writeUInt16BE(0, next + IPV4_OFF_CHECKSUM);
    buf.writeUInt16BE(~onesSum(buf, next, next + ihl) & 0xffff, next + IPV4_OFF_CHECKSUM);
    slot.length = total;
    slot.family = 4;
    slot.dst = buf.readUInt32BE(next + IPV4_OFF_DST);
    return 0;
  }
  if (version === 6) {
    if (room < IPV6_HEADER_LENGTH) return 5;
    const length = IPV6_HEADER_LENGTH + buf.readUInt16BE(next + IPV6_OFF_PAYLOAD_LENGTH);
    if (length > room) return 5;
    buf[next + IPV6_OFF_HOP_LIMIT] = ttl;
    slot.length = length;
    slot.family = 6;
    slot.dst6 = next + IPV6_OFF_DST;
    return 0;
  }
  return 6;
}

/** switchInto() as a value (a copy of the packet is switched): for tests and tools. */
export type SwitchResult = { drop: MplsDropReason } | { adjacency: number; label: number; bos: boolean; out: Buffer; family?: "ipv4" | "ipv6" };

export function switchLabel(packet: Uint8Array, table: ReadonlyMap<number, number>): SwitchResult {
  const buf = Buffer.from(packet);
  const slot = newMplsSlot();
  const code = switchInto(buf, table, slot);
  if (code !== 0) return { drop: MPLS_DROP_REASONS[code] };
  const out = buf.subarray(slot.offset, slot.offset + slot.length);
  return slot.bos ? { adjacency: slot.adjacency, label: slot.label, bos: true, out, family: slot.family === 4 ? "ipv4" : "ipv6" } : { adjacency: slot.adjacency, label: slot.label, bos: false, out };
}

/**
 * The switcher's per-router configuration, from the lab (netns.ts) to the helper (decap-main.ts
 * --mpls JSON): its Adj-SIDs, and the addresses it receives MPLS-in-UDP on.
 */
export interface MplsRouterConfig {
  /** Index = adjacency index (sr.ts). */
  adjacencies: Array<{ label: number; dev: string; local: string; nexthop: string; local6: string; nexthop6: string }>;
  /** Router IPv4 addresses to receive MPLS-in-UDP on (empty without IPv4). */
  listen: string[];
  /** Router IPv6 addresses to receive on, each with its interface (the link direction it stands for). */
  listen6: Array<{ address: string; dev: string }>;
}

/** label -> adjacency index, checked: labels unique and outside the reserved range. */
export function labelTable(c: MplsRouterConfig): Map<number, number> {
  const m = new Map<number, number>();
  c.adjacencies.forEach((a, i) => {
    if (!Number.isInteger(a.label) || a.label <= MPLS_MAX_RESERVED_LABEL || a.label > MPLS_MAX_LABEL) throw new RangeError(`adjacency ${i}: label ${a.label} outside ${MPLS_MAX_RESERVED_LABEL + 1}..${MPLS_MAX_LABEL}`);
    if (m.has(a.label)) throw new RangeError(`adjacency ${i}: label ${a.label} already names adjacency ${m.get(a.label)}`);
    m.set(a.label, i);
  });
  return m;
}
