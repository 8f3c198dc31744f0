// The probe payload: what the innermost UDP datagram carries, all fields big endian.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  0|                   Magic 0x4C535052 ("LSPR")                   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  4|  Version = 1  |  Flags    |O|M|          Reserved = 0         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  8|                          Path Index                           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 12|                           Sequence                            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 16|                                                               |
//   +   Send Time (u64 ns: sender's monotonic clock; O: realtime)   +
// 20|                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 24|              Session Nonce (random per prober start)          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 28|                                                               |
//   +                                                               +
// 32|      MAC = HMAC-SHA256(key, octets 0..27), first 16 octets    |
//   +                  (all zero when there is no key)              +
// 36|                                                               |
//   +                                                               +
// 40|                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 44|              Padding (zeros) up to the configured size ...
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-
//
//   Flags: M (0x01, the least significant bit) = MAC present. O (0x02) = one way (issue 14,
//   Must 4): sent by another prober over a path pinned out with no way back, and counted by the
//   prober it arrives at; Path Index is then the path's tag (the path set's onewayTag(id)), not
//   an index of the receiver's, Sequence runs from 0 per (path, family) for the sender's Session
//   Nonce, and Send Time is the sender's CLOCK_REALTIME in ns (for the one-way delay, which only
//   means something when the probers' clocks are synchronized: prober.clock-synced). Other bits
//   0, ignored on receipt. The MAC covers the flags, so clearing M to skip verification is
//   itself detected: verifyMac() refuses a payload without M; and setting or clearing O breaks
//   the MAC too.
//
// MAC cost: PayloadMac calls createHmac() once per probe: about 2.1 us and a few small objects
// (a Hmac, its digest) on Node 20, steady across runs (bench/template.ts, last table). Precomputed
// ipad/opad states with Hash.copy() (1.8-3.8 us, more garbage) and the one-shot crypto.hash()
// over reusable scratch buffers (1.5-2.8 us; needs Node >= 20.12) were measured in the same bench
// and are within its noise, so the simplest form stays. This class is the one place to change.

import { createHmac, timingSafeEqual } from "node:crypto";

export const PAYLOAD_MAGIC = 0x4c535052; // "LSPR"
export const PAYLOAD_VERSION = 1;
export const PAYLOAD_FLAG_MAC = 0x01;
/** One way: a probe from another prober to this one (see the header). */
export const PAYLOAD_FLAG_ONEWAY = 0x02;

export const PAYLOAD_OFF_MAGIC = 0;
export const PAYLOAD_OFF_VERSION = 4;
export const PAYLOAD_OFF_FLAGS = 5;
export const PAYLOAD_OFF_RESERVED = 6;
export const PAYLOAD_OFF_PATH_INDEX = 8;
export const PAYLOAD_OFF_SEQ = 12;
export const PAYLOAD_OFF_SENT_NS = 16;
export const PAYLOAD_OFF_NONCE = 24;
export const PAYLOAD_OFF_MAC = 28;
export const PAYLOAD_MAC_LENGTH = 16;
/** Octets 0..27 are authenticated. */
export const PAYLOAD_MAC_COVERS = PAYLOAD_OFF_MAC;
export const PAYLOAD_HEADER_LENGTH = 44;

export const PAYLOAD_MAC_ALGORITHM = "sha256";

export interface ProbePayload {
  pathIndex: number;
  seq: number;
  /** Nanoseconds of the sender's monotonic clock (process.hrtime.bigint()). */
  sentNs: bigint;
  nonce: number;
}

export type ParsedPayload =
  | { ok: true; pathIndex: number; seq: number; sentNs: bigint; nonce: number; hasMac: boolean }
  | { ok: false; reason: "short" | "magic" | "version" };

/** A key bound to the payload MAC; one per prober, reused for every probe. */
export class PayloadMac {
  readonly key: Buffer;
  /** Scratch for verify(); never handed out. */
  private readonly scratch = Buffer.alloc(PAYLOAD_MAC_LENGTH);

  constructor(key: Buffer) {
    if (!Buffer.isBuffer(key) || key.length === 0) throw new TypeError("payload MAC key must be a non-empty Buffer");
    this.key = Buffer.from(key); // a private copy: later changes to the caller's buffer do not leak in
  }

  /** Writes the 16-byte MAC of the payload at buf[off] into out[outOff]. */
  compute(buf: Buffer, off: number, out: Buffer, outOff: number): void {
    const digest = createHmac(PAYLOAD_MAC_ALGORITHM, this.key).update(buf.subarray(off, off + PAYLOAD_MAC_COVERS)).digest();
    digest.copy(out, outOff, 0, PAYLOAD_MAC_LENGTH);
  }

  /** Fills the MAC field of the payload at buf[off] (flags must already say M). */
  sign(buf: Buffer, off: number): void {
    this.compute(buf, off, buf, off + PAYLOAD_OFF_MAC);
  }

  /** True when the payload at buf[off] has M set and a MAC that matches (constant-time compare). */
  verify(buf: Buffer, off = 0): boolean {
    if (buf.length - off < PAYLOAD_HEADER_LENGTH || off < 0) return false;
    if (buf.readUInt32BE(off + PAYLOAD_OFF_MAGIC) !== PAYLOAD_MAGIC) return false;
    if ((buf[off + PAYLOAD_OFF_FLAGS] & PAYLOAD_FLAG_MAC) === 0) return false;
    this.compute(buf, off, this.scratch, 0);
    return timingSafeEqual(this.scratch, buf.subarray(off + PAYLOAD_OFF_MAC, off + PAYLOAD_OFF_MAC + PAYLOAD_MAC_LENGTH));
  }
}

function checkU32(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`payload ${field} ${v} is not an integer 0-4294967295`);
}

/**
 * Writes a whole payload of `length` octets (>= PAYLOAD_HEADER_LENGTH) at buf[off]: the fields,
 * zero padding, and the MAC when `mac` is given (M set) or an all-zero MAC field (M clear).
 * Returns off + length. Setup-time code; ProbeTemplate.patch() is the per-probe path.
 */
export function writePayload(buf: Buffer, off: number, length: number, p: ProbePayload, mac?: PayloadMac | Buffer): number {
  if (!Number.isInteger(length) || length < PAYLOAD_HEADER_LENGTH) {
    throw new RangeError(`payload length ${length} is below the ${PAYLOAD_HEADER_LENGTH}-octet header`);
  }
  if (off < 0 || off + length > buf.length) throw new RangeError(`payload of ${length} octets at offset ${off} does not fit the ${buf.length}-byte buffer`);
  checkU32("pathIndex", p.pathIndex);
  checkU32("seq", p.seq);
  checkU32("nonce", p.nonce);
  const signer = mac === undefined || mac instanceof PayloadMac ? mac : new PayloadMac(mac);
  buf.fill(0, off, off + length);
  buf.writeUInt32BE(PAYLOAD_MAGIC, off + PAYLOAD_OFF_MAGIC);
  buf[off + PAYLOAD_OFF_VERSION] = PAYLOAD_VERSION;
  buf[off + PAYLOAD_OFF_FLAGS] = signer ? PAYLOAD_FLAG_MAC : 0;
  buf.writeUInt16BE(0, off + PAYLOAD_OFF_RESERVED);
  buf.writeUInt32BE(p.pathIndex, off + PAYLOAD_OFF_PATH_INDEX);
  buf.writeUInt32BE(p.seq, off + PAYLOAD_OFF_SEQ);
  buf.writeBigUInt64BE(p.sentNs, off + PAYLOAD_OFF_SENT_NS);
  buf.writeUInt32BE(p.nonce, off + PAYLOAD_OFF_NONCE);
  signer?.sign(buf, off);
  return off + length;
}

/** Reads the payload at buf[off]. Does not verify the MAC: see verifyMac(). */
export function parsePayload(buf: Buffer, off = 0): ParsedPayload {
  if (off < 0 || buf.length - off < PAYLOAD_HEADER_LENGTH) return { ok: false, reason: "short" };
  if (buf.readUInt32BE(off + PAYLOAD_OFF_MAGIC) !== PAYLOAD_MAGIC) return { ok: false, reason: "magic" };
  if (buf[off + PAYLOAD_OFF_VERSION] !== PAYLOAD_VERSION) return { ok: false, reason: "version" };
  return {
    ok: true,
    pathIndex: buf.readUInt32BE(off + PAYLOAD_OFF_PATH_INDEX),
    seq: buf.readUInt32BE(off + PAYLOAD_OFF_SEQ),
    sentNs: buf.readBigUInt64BE(off + PAYLOAD_OFF_SENT_NS),
    nonce: buf.readUInt32BE(off + PAYLOAD_OFF_NONCE),
    hasMac: (buf[off + PAYLOAD_OFF_FLAGS] & PAYLOAD_FLAG_MAC) !== 0,
  };
}

/**
 * The receive path's first look at a datagram, before anything costs: no allocation, no BigInt,
 * no MAC. Returns why it is not a reply of this run (`short`, `magic`, `version`: not a probe
 * payload at all; `nonce`: not this run's, i.e. an earlier run's or forged without the nonce),
 * or undefined when it may be one. Whatever passes still needs its path, sequence and MAC
 * checked (Prober.onReply). A payload at offset 0, as node:dgram delivers it.
 */
export function screenPayload(buf: Buffer, nonce: number): "short" | "magic" | "version" | "nonce" | undefined {
  if (buf.length < PAYLOAD_HEADER_LENGTH) return "short";
  if (buf.readUInt32BE(PAYLOAD_OFF_MAGIC) !== PAYLOAD_MAGIC) return "magic";
  if (buf[PAYLOAD_OFF_VERSION] !== PAYLOAD_VERSION) return "version";
  if (buf.readUInt32BE(PAYLOAD_OFF_NONCE) !== nonce) return "nonce";
  return undefined;
}

/**
 * A one-way probe (flag O) in a probe payload: another prober's, never a reply of this one's
 * (Prober.onReply asks this first). Plain reads of the buffer.
 */
export function payloadIsOneway(buf: Buffer): boolean {
  return buf.length >= PAYLOAD_HEADER_LENGTH && buf.readUInt32BE(PAYLOAD_OFF_MAGIC) === PAYLOAD_MAGIC && buf[PAYLOAD_OFF_VERSION] === PAYLOAD_VERSION && (buf[PAYLOAD_OFF_FLAGS] & PAYLOAD_FLAG_ONEWAY) !== 0;
}

/** Path index of a payload that passed screenPayload(). */
export const payloadPathIndex = (buf: Buffer): number => buf.readUInt32BE(PAYLOAD_OFF_PATH_INDEX);
/** Sequence of a payload that passed screenPayload(). */
export const payloadSeq = (buf: Buffer): number => buf.readUInt32BE(PAYLOAD_OFF_SEQ);
/** Flag M of a payload that passed screenPayload(). */
export const payloadHasMac = (buf: Buffer): boolean => (buf[PAYLOAD_OFF_FLAGS] & PAYLOAD_FLAG_MAC) !== 0;

/**
 * True when the payload at buf[off] carries M and a MAC made with `key`. False for a short or
 * foreign payload, a cleared M flag, or any changed octet among 0..43. Pass a PayloadMac to reuse
 * its scratch space on the receive path.
 */
export function verifyMac(buf: Buffer, key: Buffer | PayloadMac, off = 0): boolean {
  return (key instanceof PayloadMac ? key : new PayloadMac(key)).verify(buf, off);
}
