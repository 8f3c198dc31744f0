// RFC 3032 §2.1: an MPLS label stack entry, 4 octets, the top of the stack first.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                Label                  | TC  |S|       TTL     |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Label 20 bits (0-15 reserved, §2.1), TC 3 bits (RFC 5462), S set on the bottom entry only,
// TTL 8 bits. Carried to the first router as MPLS-in-UDP (RFC 7510: UDP destination port 6635,
// the source port as entropy) or MPLS-in-GRE (RFC 4023: GRE protocol type 0x8847).

export const MPLS_ENTRY_LENGTH = 4;
export const MPLS_MAX_LABEL = 0xfffff;
/** Labels 0-15 are reserved (RFC 3032 §2.1, RFC 7274): never an Adj-SID. */
export const MPLS_FIRST_UNRESERVED_LABEL = 16;
/** RFC 7510 §3: the MPLS-in-UDP destination port. */
export const MPLS_UDP_PORT = 6635;
/** RFC 4023 §4 / RFC 5332: GRE protocol type of MPLS unicast. */
export const GRE_PROTO_MPLS = 0x8847;
/** RFC 7510 §3: a source port from the dynamic range 49152-65535 carries the entropy. */
export const MPLS_UDP_ENTROPY_BASE = 49152;

export interface LabelEntry {
  label: number;
  tc: number;
  bottom: boolean;
  ttl: number;
}

/** Writes one entry at `off`; returns 4. Throws RangeError on a field out of range. */
export function writeLabelEntry(buf: Uint8Array, off: number, e: LabelEntry): number {
  if (!Number.isInteger(e.label) || e.label < 0 || e.label > MPLS_MAX_LABEL) throw new RangeError(`MPLS label ${e.label} is not 0-${MPLS_MAX_LABEL}`);
  if (!Number.isInteger(e.tc) || e.tc < 0 || e.tc > 7) throw new RangeError(`MPLS TC ${e.tc} is not 0-7`);
  if (!Number.isInteger(e.ttl) || e.ttl < 0 || e.ttl > 255) throw new RangeError(`MPLS TTL ${e.ttl} is not 0-255`);
  const w = ((e.label << 12) | (e.tc << 9) | (e.bottom ? 0x100 : 0) | e.ttl) >>> 0;
  buf[off] = w >>> 24;
  buf[off + 1] = (w >>> 16) & 0xff;
  buf[off + 2] = (w >>> 8) & 0xff;
  buf[off + 3] = w & 0xff;
  return MPLS_ENTRY_LENGTH;
}

export function readLabelEntry(buf: Uint8Array, off: number): LabelEntry {
  if (off + MPLS_ENTRY_LENGTH > buf.length) throw new RangeError(`MPLS entry at ${off}: ${buf.length - off} octets, needs 4`);
  const w = ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
  return { label: w >>> 12, tc: (w >>> 9) & 7, bottom: (w & 0x100) !== 0, ttl: w & 0xff };
}

/** Writes `labels` top first, S on the last, every entry with `ttl` and `tc`; returns the octets written. */
export function writeLabelStack(buf: Uint8Array, off: number, labels: readonly number[], ttl: number, tc = 0): number {
  if (labels.length === 0) throw new RangeError("an MPLS label stack needs at least one label");
  labels.forEach((label, i) => writeLabelEntry(buf, off + MPLS_ENTRY_LENGTH * i, { label, tc, bottom: i === labels.length - 1, ttl }));
  return MPLS_ENTRY_LENGTH * labels.length;
}

/** Reads entries from `off` down to the one with S set. */
export function readLabelStack(buf: Uint8Array, off: number): LabelEntry[] {
  const out: LabelEntry[] = [];
  for (let o = off; ; o += MPLS_ENTRY_LENGTH) {
    const e = readLabelEntry(buf, o);
    out.push(e);
    if (e.bottom) return out;
  }
}
