// ProbeTemplate: one path's probe packet, built once, patched in place per probe.
//
// Layout for hops [h1 .. hn] from prober P (every layer: source P, TTL ttl, DSCP dscp, DF set),
// all GRE (the default):
//
//   offset            what
//   0                 IPv4  P -> h1, proto 47, total length L      (layer 0, outermost)
//   20                GRE   0x0800
//   24                IPv4  P -> h2, proto 47, total length L-24   (layer 1)
//   44                GRE   0x0800
//   ...               (layer i at i*24; total length L - i*24)
//   innerOffset=n*24  IPv4  P -> P,  proto 17, total length L-n*24 (innermost; a one-way probe's
//                                                                 is P -> the receiving prober)
//   udpOffset         UDP   srcPortBase + seq % srcPortRange -> dstPort, length L-n*24-20
//   payloadOffset     probe payload (payload.ts): 44-octet header, then zero padding to L
//
// Each layer has its own encapsulation (`encaps[i]`, encap.ts): a GRE layer is IPv4 (proto 47) +
// GRE, 24 bytes; an IP-in-IP layer (RFC 2003) is the IPv4 header alone (proto 4), 20 bytes. Layer
// i then starts at layerOffsets[i], the sum of the lengths of the layers before it, and its total
// length is L - layerOffsets[i]. Mixed, e.g. [gre, ipip, gre]:
//
//   0   IPv4 -> h1 proto 47 | 20 GRE | 24 IPv4 -> h2 proto 4 | 44 IPv4 -> h3 proto 47 | 64 GRE |
//   68  IPv4 P -> P proto 17 (innermost) | 88 UDP | 96 payload
//
// L = max(size, minimumSize(encaps)), minimumSize = sum of the layer lengths + 20 + 8 + 44. Each
// router on the path owns one hop address, decapsulates one layer and forwards the inner packet
// on its own header; the last inner packet comes back to P.
//
// Nothing in any IPv4 header changes per probe (constant ids, fixed lengths), so every IPv4
// checksum is final at construction. patch() writes only the payload's sequence and send time,
// the UDP source port, the MAC (with a key) and the UDP checksum. The UDP checksum is incremental
// (RFC 1071 §2 (C)): the folded sum of the pseudo-header and every constant octet is kept from
// construction, with the varying fields zero; per probe only the varying 16-bit words are added.
// All of them sit at even offsets from the UDP header, so they are whole words.
//
// Both families share this design: ProbeTemplateBase (below) lays the packet out, writes the UDP
// header and the payload, takes the checksum base and patches; ProbeTemplate writes the IPv4
// headers, ProbeTemplate6 (template6.ts) the IPv6 ones and patches their flow labels too.
//
// IPv4 id: 1 + pathIndex % 65535 on every layer, never 0: with IP_HDRINCL, Linux fills in an id
// of 0 (raw(7)), which would make the first header differ from the template. DF makes the
// packet atomic (RFC 6864), so a constant id is allowed.

import { IPV4_HEADER_LENGTH, IPPROTO_UDP, ipv4ToUint32, writeIpv4Header } from "./ipv4.js";
import { IPV6_HEADER_LENGTH, IPV6_MIN_MTU } from "./ipv6.js";
import { ENCAP_NAMES, GRE_LAYER_LENGTH, encapLayerLength, writeEncapLayer, type Encap } from "./encap.js";
import { encap6LayerLength } from "./encap6.js";
import { UDP_HEADER_LENGTH, UDP_OFF_CHECKSUM, UDP_OFF_SRC_PORT, udpChecksumFromSum, udpPseudoHeaderSum, writeUdpHeader } from "./udp.js";
import { onesComplementSum } from "./checksum.js";
import {
  PAYLOAD_FLAG_MAC,
  PAYLOAD_HEADER_LENGTH,
  PAYLOAD_MAC_LENGTH,
  PAYLOAD_OFF_FLAGS,
  PAYLOAD_OFF_MAC,
  PAYLOAD_OFF_NONCE,
  PAYLOAD_OFF_SENT_NS,
  PAYLOAD_OFF_SEQ,
  PayloadMac,
  writePayload,
} from "./payload.js";

export { GRE_LAYER_LENGTH, IPIP_LAYER_LENGTH } from "./encap.js";
/** The innermost IPv4 + UDP headers and the payload header. */
export const PROBE_INNER_MIN_LENGTH = IPV4_HEADER_LENGTH + UDP_HEADER_LENGTH + PAYLOAD_HEADER_LENGTH;
/** The innermost IPv6 + UDP headers and the payload header. */
export const PROBE6_INNER_MIN_LENGTH = IPV6_HEADER_LENGTH + UDP_HEADER_LENGTH + PAYLOAD_HEADER_LENGTH;
/** RFC 791: every IPv4 host accepts 68 octets unfragmented. */
export const MIN_MTU = 68;
export const MAX_PACKET_LENGTH = 0xffff;

/** The per-path metric label `af` takes these values. */
export type AddressFamily = "ipv4" | "ipv6";

/** What differs between the families in a template's layout. */
interface FamilyLayout {
  /** The innermost IP header. */
  readonly headerLength: number;
  readonly innerMinLength: number;
  readonly minMtu: number;
  layerLength(e: Encap): number;
}
const LAYOUT: Readonly<Record<AddressFamily, FamilyLayout>> = {
  ipv4: { headerLength: IPV4_HEADER_LENGTH, innerMinLength: PROBE_INNER_MIN_LENGTH, minMtu: MIN_MTU, layerLength: encapLayerLength },
  ipv6: { headerLength: IPV6_HEADER_LENGTH, innerMinLength: PROBE6_INNER_MIN_LENGTH, minMtu: IPV6_MIN_MTU, layerLength: encap6LayerLength },
};

/** Octets of the smallest probe of `family` with these layer encapsulations. */
export const minimumProbeSize = (family: AddressFamily, encaps: readonly Encap[]): number =>
  encaps.reduce((s, e) => s + LAYOUT[family].layerLength(e), 0) + LAYOUT[family].innerMinLength;

/** The options both families take. */
export interface ProbeTemplateCommonOptions {
  /** The prober's address (IPv4 for ProbeTemplate, IPv6 for ProbeTemplate6): source of every layer and destination of the innermost one. */
  src: string;
  /** Hop addresses, outermost first (reverse mode: forward hops then reverse hops). */
  hops: readonly string[];
  /** Encapsulation of each hop's layer, as `hops`; default: GRE everywhere. */
  encaps?: readonly Encap[];
  dstPort: number;
  srcPortBase: number;
  /** Source ports rotate over srcPortBase .. srcPortBase + srcPortRange - 1; 1 = fixed port. */
  srcPortRange: number;
  /** DSCP of every layer (IPv4 TOS, IPv6 Traffic Class). */
  dscp: number;
  /** Total octets of the outermost packet; raised to minimumSize(hops) if smaller. */
  size: number;
  mtu: number;
  pathIndex: number;
  nonce: number;
  /** HMAC key; without it the MAC field stays zero and flag M clear. */
  key?: Buffer;
  /**
   * The innermost destination (default `src`: the probe comes back). A one-way probe's is the
   * receiving prober's address (its UDP port is `dstPort`).
   */
  innerDst?: string;
  /** Payload flags besides M (PAYLOAD_FLAG_ONEWAY); constant, so in the checksum base. */
  flags?: number;
}

export interface ProbeTemplateOptions extends ProbeTemplateCommonOptions {
  /** The prober's IPv4 address: source of every layer and destination of the innermost one. */
  src: string;
  /** TTL of the outermost and every inner layer. */
  ttl: number;
}

/** A bad ProbeTemplate option: names the option (`hops[2]`, `srcPortRange`, ...). */
export class ProbeTemplateError extends Error {
  override name = "ProbeTemplateError";
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`probe template ${field}: ${detail}`);
  }
}

/** The probe would not fit the MTU (DF is set on every IPv4 layer and IPv6 routers never fragment, so it would be dropped). */
export class PacketTooLargeError extends Error {
  override name = "PacketTooLargeError";
  constructor(
    readonly pathIndex: number,
    readonly hopCount: number,
    /** Total octets of the probe (the outermost IPv4 total length, or IPv6 40 + payload length). */
    readonly length: number,
    readonly mtu: number,
    /** Each layer's encapsulation; default GRE on every one. */
    readonly encaps: readonly Encap[] = Array.from({ length: hopCount }, () => "gre" as const),
    readonly family: AddressFamily = "ipv4",
  ) {
    const stack = minimumProbeSize(family, encaps) - LAYOUT[family].innerMinLength;
    const ipip = encaps.filter((e) => e === "ipip").length;
    const gre = encaps.length - ipip;
    const kind =
      family === "ipv4"
        ? ipip === 0
          ? `${hopCount}-hop GRE stack (${stack} bytes of IPv4+GRE headers)`
          : gre === 0
            ? `${hopCount}-hop IP-in-IP stack (${stack} bytes of outer IPv4 headers)`
            : `${hopCount}-hop stack of ${gre} GRE and ${ipip} IP-in-IP layers (${stack} bytes of tunnel headers)`
        : ipip === 0
          ? `${hopCount}-hop GRE-over-IPv6 stack (${stack} bytes of IPv6+GRE headers)`
          : gre === 0
            ? `${hopCount}-hop IPv6-in-IPv6 stack (${stack} bytes of outer IPv6 headers)`
            : `${hopCount}-hop IPv6 stack of ${gre} GRE and ${ipip} IPv6-in-IPv6 layers (${stack} bytes of IPv6 tunnel headers)`;
    super(
      `path ${pathIndex}: a ${kind} makes a ${length}-byte probe ` +
        `(minimum for ${hopCount} hops: ${stack + LAYOUT[family].innerMinLength}), above the MTU of ${mtu} bytes`,
    );
  }
}

/** The integer option `field`, or a ProbeTemplateError naming it. */
export function templateInt(field: string, v: number, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new ProbeTemplateError(field, `${String(v)} is not an integer ${min}-${max}`);
  }
  return v;
}
const int = templateInt;

function parsed<A>(field: string, a: string, parse: (a: string) => A): A {
  try {
    return parse(a);
  } catch (e) {
    throw new ProbeTemplateError(field, (e as Error).message);
  }
}

/**
 * One path's probe, either family: the layout, the UDP datagram, the checksum base and patch().
 * A subclass writes its IP headers into `buffer` at `layerOffsets` once the base constructor has
 * returned, then calls seal(). `A` is the family's parsed address (IPv4: uint32, IPv6: 16 bytes).
 */
export abstract class ProbeTemplateBase<A = unknown> {
  readonly family: AddressFamily;
  /** The packet. patch() rewrites it in place and returns it. */
  readonly buffer: Buffer;
  /** Octets of the whole packet (= outermost IPv4 total length, or IPv6 40 + payload length). */
  readonly length: number;
  readonly hopCount: number;
  /** Encapsulation of each layer, outermost first. */
  readonly encaps: readonly Encap[];
  /** Offset of each layer's IP header; the last entry (index hopCount) is innerOffset. */
  readonly layerOffsets: readonly number[];
  /** Offset of the innermost IP header (P -> P, UDP). */
  readonly innerOffset: number;
  readonly udpOffset: number;
  readonly payloadOffset: number;
  readonly pathIndex: number;
  readonly srcPortBase: number;
  readonly srcPortRange: number;
  readonly dstPort: number;
  readonly dscp: number;

  /** The prober's address and the hops', parsed. */
  protected readonly srcAddress: A;
  /** The innermost destination, parsed (srcAddress unless innerDst). */
  protected readonly innerDstAddress: A;
  protected readonly hopAddresses: readonly A[];
  protected readonly view: DataView;
  private readonly mac: PayloadMac | undefined;
  /** Folded sum of the pseudo-header and the UDP datagram with every per-probe field zero. */
  private baseSum = 0;

  protected constructor(o: ProbeTemplateCommonOptions, family: AddressFamily, parse: (a: string) => A) {
    this.family = family;
    const layout = LAYOUT[family];
    this.srcAddress = parsed("src", o.src, parse);
    this.innerDstAddress = o.innerDst === undefined ? this.srcAddress : parsed("innerDst", o.innerDst, parse);
    if (!Array.isArray(o.hops) || o.hops.length === 0) {
      throw new ProbeTemplateError("hops", `a probe needs at least one ${family === "ipv4" ? "GRE " : ""}hop address (got an empty list)`);
    }
    this.hopAddresses = o.hops.map((h, i) => parsed(`hops[${i}]`, h, parse));
    const n = o.hops.length;
    const encaps: readonly Encap[] = o.encaps ?? o.hops.map(() => "gre" as const);
    if (!Array.isArray(encaps) || encaps.length !== n) {
      throw new ProbeTemplateError("encaps", `expected one encapsulation per hop (${n}), got ${Array.isArray(encaps) ? encaps.length : String(encaps)}`);
    }
    encaps.forEach((e, i) => {
      if (!Object.hasOwn(ENCAP_NAMES, e)) throw new ProbeTemplateError(`encaps[${i}]`, `${JSON.stringify(e)} is not "gre" or "ipip"`);
    });
    this.dstPort = int("dstPort", o.dstPort, 1, 0xffff);
    this.srcPortBase = int("srcPortBase", o.srcPortBase, 1, 0xffff);
    this.srcPortRange = int("srcPortRange", o.srcPortRange, 1, 0x10000 - this.srcPortBase);
    this.dscp = int("dscp", o.dscp, 0, 63);
    const size = int("size", o.size, 0, MAX_PACKET_LENGTH);
    const mtu = int("mtu", o.mtu, layout.minMtu, MAX_PACKET_LENGTH);
    this.pathIndex = int("pathIndex", o.pathIndex, 0, 0xffffffff);
    const nonce = int("nonce", o.nonce, 0, 0xffffffff);
    const flags = int("flags", o.flags ?? 0, 0, 0xff);
    if (flags & PAYLOAD_FLAG_MAC) throw new ProbeTemplateError("flags", "flag M follows `key`; give the other flags only");
    if (o.key !== undefined && (!Buffer.isBuffer(o.key) || o.key.length === 0)) {
      throw new ProbeTemplateError("key", "must be a non-empty Buffer when given");
    }

    const length = Math.max(size, minimumProbeSize(family, encaps));
    if (length > mtu) throw new PacketTooLargeError(this.pathIndex, n, length, mtu, [...encaps], family);

    const offsets = [0];
    for (const e of encaps) offsets.push(offsets[offsets.length - 1] + layout.layerLength(e));
    this.hopCount = n;
    this.encaps = Object.freeze([...encaps]);
    this.layerOffsets = Object.freeze(offsets);
    this.length = length;
    this.innerOffset = offsets[n];
    this.udpOffset = this.innerOffset + layout.headerLength;
    this.payloadOffset = this.udpOffset + UDP_HEADER_LENGTH;
    this.mac = o.key ? new PayloadMac(o.key) : undefined;
    const buf = (this.buffer = Buffer.alloc(length));
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);

    writeUdpHeader(buf, this.udpOffset, { srcPort: 0, dstPort: this.dstPort, length: length - this.udpOffset });
    // Per-probe fields zero (seq, time, MAC, source port, checksum) until seal() takes the base sum.
    writePayload(buf, this.payloadOffset, length - this.payloadOffset, { pathIndex: this.pathIndex, seq: 0, sentNs: 0n, nonce }, undefined);
    if (this.mac) buf[this.payloadOffset + PAYLOAD_OFF_FLAGS] |= PAYLOAD_FLAG_MAC; // constant, so part of the base sum
    buf[this.payloadOffset + PAYLOAD_OFF_FLAGS] |= flags;
  }

  /** Octets of the innermost UDP datagram (header and payload). */
  protected get udpLength(): number {
    return this.length - this.udpOffset;
  }

  /** Takes the checksum base (the family's pseudo-header sum + the constant datagram), then patches probe 0. */
  protected seal(pseudoHeaderSum: number): void {
    this.baseSum = onesComplementSum(this.buffer, this.udpOffset, this.length, pseudoHeaderSum);
    this.patch(0, 0n);
  }

  /** The UDP source port of probe `seq`. */
  srcPortFor(seq: number): number {
    return this.srcPortBase + (seq % this.srcPortRange);
  }

  /**
   * Writes probe `seq` (integer 0..2^32-1) sent at `sentNs` (u64 ns; wraps modulo 2^64) into the
   * buffer: sequence, send time, UDP source port, MAC (with a key) and UDP checksum. Returns the
   * template's own buffer: send it before the next patch().
   */
  patch(seq: number, sentNs: bigint): Buffer {
    const sum = this.baseSum + patchProbeFields(this.buffer, this.view, this.payloadOffset, this.udpOffset, this.srcPortBase + (seq % this.srcPortRange), seq, sentNs, this.mac);
    this.view.setUint16(this.udpOffset + UDP_OFF_CHECKSUM, udpChecksumFromSum(sum));
    return this.buffer;
  }
}

/**
 * The per-probe fields of a probe's UDP datagram: sequence, send time and source port written,
 * the MAC signed (with a key). Returns the unfolded sum of those words, which the caller adds to
 * the checksum base it kept (the other words never change). Shared by every template family.
 */
export function patchProbeFields(b: Buffer, v: DataView, p: number, u: number, sport: number, seq: number, sentNs: bigint, mac: PayloadMac | undefined): number {
  if (seq >>> 0 !== seq) throw new RangeError(`probe seq ${seq} is not an integer 0-4294967295`);
  v.setUint32(p + PAYLOAD_OFF_SEQ, seq);
  v.setBigUint64(p + PAYLOAD_OFF_SENT_NS, sentNs);
  v.setUint16(u + UDP_OFF_SRC_PORT, sport);
  let sum = sport;
  for (let i = p + PAYLOAD_OFF_SEQ; i < p + PAYLOAD_OFF_NONCE; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (mac) {
    mac.sign(b, p);
    const end = p + PAYLOAD_OFF_MAC + PAYLOAD_MAC_LENGTH;
    for (let i = p + PAYLOAD_OFF_MAC; i < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  }
  return sum;
}

/** An IPv4 probe: every layer an IPv4 header (GRE or IP-in-IP), the innermost IPv4/UDP to the prober. */
export class ProbeTemplate extends ProbeTemplateBase<number> {
  /**
   * Octets of the smallest probe for this many GRE hops (or this hop list, all GRE), or for these
   * layer encapsulations when `encaps` is given.
   */
  static minimumSize(hops: number | readonly string[], encaps?: readonly Encap[]): number {
    if (encaps) return minimumProbeSize("ipv4", encaps);
    const n = typeof hops === "number" ? hops : hops.length;
    return n * GRE_LAYER_LENGTH + PROBE_INNER_MIN_LENGTH;
  }

  /** Offset of layer i's IPv4 header in an all-GRE stack (i = hop count: the innermost); see layerOffsets. */
  static layerOffset(i: number): number {
    return i * GRE_LAYER_LENGTH;
  }

  constructor(o: ProbeTemplateOptions) {
    super(o, "ipv4", ipv4ToUint32);
    const ttl = int("ttl", o.ttl, 1, 255);
    const { buffer: buf, length, layerOffsets: offsets, encaps, dscp, srcAddress: src } = this;
    const id = 1 + (this.pathIndex % 0xffff);
    this.hopAddresses.forEach((dst, i) => {
      const off = offsets[i];
      writeEncapLayer(buf, off, encaps[i], { src, dst, totalLength: length - off, ttl, dscp, id, dontFragment: true });
    });
    const inner = this.innerOffset;
    const dst = this.innerDstAddress;
    writeIpv4Header(buf, inner, { src, dst, protocol: IPPROTO_UDP, totalLength: length - inner, ttl, dscp, id, dontFragment: true });
    this.seal(udpPseudoHeaderSum(src, dst, this.udpLength));
  }
}
