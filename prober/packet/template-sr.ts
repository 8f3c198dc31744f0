// Segment-routing probe templates: one path's probe pinned by SIDs instead of tunnel layers,
// built once and patched in place per probe, as ProbeTemplate (template.ts): per probe only the
// payload's sequence and send time, the UDP source port (and the flow label / entropy port), the
// MAC with a key, and the UDP checksum(s), incrementally (RFC 1071 §2 (C)) from a base summed
// once with every varying field zero. All varying fields sit at even offsets from every UDP
// header they are under, so each is whole 16-bit words.
//
// Srv6ProbeTemplate, from prober P over End.X SIDs S1..Sk (the path out, then back):
//
//   offset        what
//   0             IPv6  P -> S1, next header 43, payload length L-40, flow label per probe
//   40            SRH   (srh.ts) next header 17, type 4, Segments Left k, segment list
//                       [P, Sk, ..., S2] (reduced: S1 only in the destination address;
//                       full encoding: [P, Sk, ..., S1], 16 octets more)
//   48 + 16m      UDP   srcPortBase + seq % srcPortRange -> dstPort
//   56 + 16m      payload (payload.ts)
//
// Each End.X router advances the SRH and sends the packet over its adjacency; the last segment
// is P itself, so the probe comes back with no decapsulation anywhere. The UDP checksum's
// pseudo-header uses the final destination (RFC 8200 §8.1: the last element of the routing
// header): P, not S1. L = max(size, 40 + SRH + 8 + 44); the MTU check counts the SRH.
//
// SrMplsProbeTemplate, from P over Adj-SID labels A1..Ak (out and back) entering at router R:
//
//   offset        what
//   0             IPv4 (20) or IPv6 (40)  P -> R, protocol 17 (MPLS-in-UDP) or 47 (MPLS-in-GRE)
//   h             UDP   entropy port -> 6635 (RFC 7510), or GRE 0x8847 (4 octets)
//   h + e         label stack A1 (top) .. Ak (S set), each with TTL `labelTtl`
//   h + e + 4k    IPv4 or IPv6  P -> P, UDP: the probe, as ProbeTemplate's innermost packet
//
// R pops nothing of its own first: A1 is R's Adj-SID for the first hop (it decapsulates the UDP
// or GRE, then pops A1 and forwards over that adjacency); the router that pops Ak hands the
// inner packet to R's neighbour... back at R, which routes it to P. The outer UDP source port is
// the entropy (RFC 7510 §3: 49152 + the probe's source port mod 16384, so it follows the
// probe's); its checksum is computed (RFC 7510 §3 allows 0 over IPv4; over IPv6 it must be
// there) and patched incrementally too: it covers the inner packet, whose varying words are
// added a second time.
import { IPPROTO_GRE, IPPROTO_UDP, IPV4_HEADER_LENGTH, ipv4ToUint32, writeIpv4Header } from "./ipv4.js";
import { IPV6_HEADER_LENGTH, IPV6_MAX_FLOW_LABEL, IPV6_MIN_MTU, IPV6_OFF_DST, IPV6_OFF_SRC, ipv6FirstWord, ipv6PseudoHeaderSum, ipv6ToBytes, writeIpv6Header } from "./ipv6.js";
import { GRE_HEADER_LENGTH, writeGreHeader } from "./gre.js";
import { IPPROTO_ROUTING, srhLength, srhList, writeSrh } from "./srh.js";
import { GRE_PROTO_MPLS, MPLS_ENTRY_LENGTH, MPLS_FIRST_UNRESERVED_LABEL, MPLS_MAX_LABEL, MPLS_UDP_ENTROPY_BASE, MPLS_UDP_PORT, writeLabelStack } from "./mpls.js";
import { UDP_HEADER_LENGTH, UDP_OFF_CHECKSUM, UDP_OFF_SRC_PORT, udpChecksumFromSum, udpPseudoHeaderSum, writeUdpHeader } from "./udp.js";
import { onesComplementSum } from "./checksum.js";
import {
  PAYLOAD_FLAG_MAC,
  PAYLOAD_HEADER_LENGTH,
  PAYLOAD_OFF_FLAGS,
  PayloadMac,
  writePayload,
} from "./payload.js";
import { MAX_PACKET_LENGTH, MIN_MTU, ProbeTemplateError, patchProbeFields, templateInt, type AddressFamily } from "./template.js";

/** The probe would not fit the MTU: names the SR stack and its size. */
export class SrPacketTooLargeError extends Error {
  override name = "SrPacketTooLargeError";
  constructor(
    readonly pathIndex: number,
    readonly kind: "srv6" | "sr-mpls",
    readonly segments: number,
    /** Octets of the SR headers (SRH; or outer IP + UDP/GRE + label stack). */
    readonly stackLength: number,
    readonly length: number,
    readonly mtu: number,
  ) {
    super(
      `path ${pathIndex}: ${kind === "srv6" ? `an SRH of ${segments} segments (${stackLength} bytes)` : `a stack of ${segments} labels with its outer headers (${stackLength} bytes)`} makes a ${length}-byte probe, above the MTU of ${mtu} bytes`,
    );
  }
}

/** What both SR templates take (ProbeTemplateCommonOptions without hops and encaps). */
export interface SrProbeTemplateCommonOptions {
  dstPort: number;
  srcPortBase: number;
  srcPortRange: number;
  dscp: number;
  size: number;
  mtu: number;
  pathIndex: number;
  nonce: number;
  key?: Buffer;
}

/** The probe datagram (UDP + payload) of an SR template and its incremental patch. */
abstract class SrTemplateBase {
  readonly buffer: Buffer;
  readonly length: number;
  readonly udpOffset: number;
  readonly payloadOffset: number;
  readonly pathIndex: number;
  readonly srcPortBase: number;
  readonly srcPortRange: number;
  readonly dstPort: number;
  readonly dscp: number;
  protected readonly view: DataView;
  private readonly mac: PayloadMac | undefined;
  private baseSum = 0;

  protected constructor(o: SrProbeTemplateCommonOptions, minMtu: number, headersLength: number, describe: (length: number, mtu: number) => Error) {
    this.dstPort = templateInt("dstPort", o.dstPort, 1, 0xffff);
    this.srcPortBase = templateInt("srcPortBase", o.srcPortBase, 1, 0xffff);
    this.srcPortRange = templateInt("srcPortRange", o.srcPortRange, 1, 0x10000 - this.srcPortBase);
    this.dscp = templateInt("dscp", o.dscp, 0, 63);
    const size = templateInt("size", o.size, 0, MAX_PACKET_LENGTH);
    const mtu = templateInt("mtu", o.mtu, minMtu, MAX_PACKET_LENGTH);
    this.pathIndex = templateInt("pathIndex", o.pathIndex, 0, 0xffffffff);
    const nonce = templateInt("nonce", o.nonce, 0, 0xffffffff);
    if (o.key !== undefined && (!Buffer.isBuffer(o.key) || o.key.length === 0)) throw new ProbeTemplateError("key", "must be a non-empty Buffer when given");
    const length = Math.max(size, headersLength + UDP_HEADER_LENGTH + PAYLOAD_HEADER_LENGTH);
    if (length > mtu) throw describe(length, mtu);
    this.length = length;
    this.udpOffset = headersLength;
    this.payloadOffset = headersLength + UDP_HEADER_LENGTH;
    this.mac = o.key ? new PayloadMac(o.key) : undefined;
    const buf = (this.buffer = Buffer.alloc(length));
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    writeUdpHeader(buf, this.udpOffset, { srcPort: 0, dstPort: this.dstPort, length: length - this.udpOffset });
    writePayload(buf, this.payloadOffset, length - this.payloadOffset, { pathIndex: this.pathIndex, seq: 0, sentNs: 0n, nonce }, undefined);
    if (this.mac) buf[this.payloadOffset + PAYLOAD_OFF_FLAGS] |= PAYLOAD_FLAG_MAC;
  }

  /** Takes the probe UDP checksum's base (pseudo-header sum + the datagram with the varying fields zero). */
  protected sealProbe(pseudoHeaderSum: number): void {
    this.baseSum = onesComplementSum(this.buffer, this.udpOffset, this.length, pseudoHeaderSum);
  }

  srcPortFor(seq: number): number {
    return this.srcPortBase + (seq % this.srcPortRange);
  }

  /**
   * Writes seq, time, source port, MAC and the probe's UDP checksum; returns the unfolded sum of
   * every word that varies in the datagram (its checksum included), for an outer checksum.
   */
  protected patchProbe(seq: number, sentNs: bigint): number {
    const varying = patchProbeFields(this.buffer, this.view, this.payloadOffset, this.udpOffset, this.srcPortBase + (seq % this.srcPortRange), seq, sentNs, this.mac);
    const ck = udpChecksumFromSum(this.baseSum + varying);
    this.view.setUint16(this.udpOffset + UDP_OFF_CHECKSUM, ck);
    return varying + ck;
  }

  abstract patch(seq: number, sentNs: bigint): Buffer;
}

export interface Srv6ProbeTemplateOptions extends SrProbeTemplateCommonOptions {
  /** The prober's IPv6 address: the source, and the last segment (the final destination). */
  src: string;
  /** The End.X SIDs in the order they are visited (out, then back); at least one. */
  segments: readonly string[];
  hopLimit: number;
  /** Reduced SRH (RFC 8754 §4.1.1: the first SID only in the destination address); default true. */
  reduced?: boolean;
  flowLabelBase?: number;
  flowLabelRange?: number;
}

/** An SRv6 probe: IPv6 + SRH over the path's End.X SIDs, the prober last, UDP inside. */
export class Srv6ProbeTemplate extends SrTemplateBase {
  readonly family: AddressFamily = "ipv6";
  /** Every segment visited, the prober last. */
  readonly segments: readonly string[];
  readonly reduced: boolean;
  /** Octets of the SRH. */
  readonly srhLength: number;
  readonly hopLimit: number;
  readonly flowLabelBase: number;
  readonly flowLabelRange: number;
  private readonly firstWord: number;

  /** Octets of the smallest probe over `sids` End.X SIDs (reduced SRH unless said). */
  static minimumSize(sids: number, reduced = true): number {
    return IPV6_HEADER_LENGTH + srhLength(sids + 1 - (reduced ? 1 : 0)) + UDP_HEADER_LENGTH + PAYLOAD_HEADER_LENGTH;
  }

  constructor(o: Srv6ProbeTemplateOptions) {
    if (!Array.isArray(o.segments) || o.segments.length === 0) throw new ProbeTemplateError("segments", "an SRv6 probe needs at least one End.X SID (got an empty list)");
    const parse = (field: string, a: string): Uint8Array => {
      try {
        return ipv6ToBytes(a);
      } catch (e) {
        throw new ProbeTemplateError(field, (e as Error).message);
      }
    };
    const src = parse("src", o.src);
    o.segments.forEach((s, i) => parse(`segments[${i}]`, s));
    const reduced = o.reduced ?? true;
    const all = [...o.segments, o.src];
    const listed = srhList({ segments: all, reduced }).length;
    if (listed > 127) throw new ProbeTemplateError("segments", `an SRH lists at most 127 segments, this path needs ${listed}`);
    const srh = srhLength(listed);
    super(o, IPV6_MIN_MTU, IPV6_HEADER_LENGTH + srh, (length, mtu) => new SrPacketTooLargeError(templateInt("pathIndex", o.pathIndex, 0, 0xffffffff), "srv6", o.segments.length, srh, length, mtu));
    this.segments = Object.freeze(all);
    this.reduced = reduced;
    this.srhLength = srh;
    this.hopLimit = templateInt("hopLimit", o.hopLimit, 1, 255);
    this.flowLabelBase = templateInt("flowLabelBase", o.flowLabelBase ?? this.srcPortBase, 0, IPV6_MAX_FLOW_LABEL);
    this.flowLabelRange = templateInt("flowLabelRange", o.flowLabelRange ?? this.srcPortRange, 1, IPV6_MAX_FLOW_LABEL + 1 - this.flowLabelBase);
    this.firstWord = ipv6FirstWord(this.dscp, 0, 0);
    const buf = this.buffer;
    writeIpv6Header(buf, 0, { src, dst: o.segments[0], nextHeader: IPPROTO_ROUTING, payloadLength: this.length - IPV6_HEADER_LENGTH, hopLimit: this.hopLimit, dscp: this.dscp });
    writeSrh(buf, IPV6_HEADER_LENGTH, { nextHeader: IPPROTO_UDP, segments: all, reduced });
    // RFC 8200 §8.1: the final destination, the prober.
    this.sealProbe(ipv6PseudoHeaderSum(buf, IPV6_OFF_SRC, buf, IPV6_OFF_SRC, this.length - this.udpOffset));
    this.patch(0, 0n);
  }

  flowLabelFor(seq: number): number {
    return this.flowLabelBase + (seq % this.flowLabelRange);
  }

  /** Probe `seq` sent at `sentNs`: payload, source port, MAC, UDP checksum, flow label. Returns the buffer. */
  patch(seq: number, sentNs: bigint): Buffer {
    this.patchProbe(seq, sentNs);
    this.view.setUint32(0, this.firstWord | (this.flowLabelBase + (seq % this.flowLabelRange)));
    return this.buffer;
  }
}

export interface SrMplsProbeTemplateOptions extends SrProbeTemplateCommonOptions {
  family: AddressFamily;
  /** The prober's address (of `family`): source of both IP headers, destination of the inner one. */
  src: string;
  /** The first router's address (of `family`): the outer destination (the path set's srMpls.entry). */
  entry: string;
  /** Adj-SID labels, top (the first hop's) first; at least one. */
  labels: readonly number[];
  /** How the stack reaches the first router: MPLS-in-UDP (RFC 7510) or MPLS-in-GRE (RFC 4023). */
  carrier: "udp" | "gre";
  /** TTL / hop limit of both IP headers. */
  ttl: number;
  /** TTL of every label stack entry; default `ttl`. */
  labelTtl?: number;
  /** Traffic class of every entry (RFC 5462), 0-7; default 0. */
  tc?: number;
}

/** An SR-MPLS probe: the Adj-SID label stack in MPLS-in-UDP or MPLS-in-GRE, an IP/UDP probe to the prober at the bottom. */
export class SrMplsProbeTemplate extends SrTemplateBase {
  readonly family: AddressFamily;
  readonly carrier: "udp" | "gre";
  readonly labels: readonly number[];
  readonly labelTtl: number;
  /** Offsets of the outer carrier header (UDP or GRE), the first label, the inner IP header. */
  readonly carrierOffset: number;
  readonly labelOffset: number;
  readonly innerOffset: number;
  private outerBase = 0;

  static minimumSize(family: AddressFamily, labels: number, carrier: "udp" | "gre"): number {
    const ip = family === "ipv4" ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    return 2 * ip + (carrier === "udp" ? UDP_HEADER_LENGTH : GRE_HEADER_LENGTH) + MPLS_ENTRY_LENGTH * labels + UDP_HEADER_LENGTH + PAYLOAD_HEADER_LENGTH;
  }

  /** The outer UDP source port of probe `seq` (RFC 7510 entropy, from the probe's source port). */
  entropyPortFor(seq: number): number {
    return MPLS_UDP_ENTROPY_BASE + (this.srcPortFor(seq) % 16384);
  }

  constructor(o: SrMplsProbeTemplateOptions) {
    if (o.family !== "ipv4" && o.family !== "ipv6") throw new ProbeTemplateError("family", `${String(o.family)} is not "ipv4" or "ipv6"`);
    if (o.carrier !== "udp" && o.carrier !== "gre") throw new ProbeTemplateError("carrier", `${String(o.carrier)} is not "udp" or "gre"`);
    if (!Array.isArray(o.labels) || o.labels.length === 0) throw new ProbeTemplateError("labels", "an SR-MPLS probe needs at least one label (got an empty list)");
    o.labels.forEach((l, i) => templateInt(`labels[${i}]`, l, MPLS_FIRST_UNRESERVED_LABEL, MPLS_MAX_LABEL));
    const v4 = o.family === "ipv4";
    const parse = (field: string, a: string): number | Uint8Array => {
      try {
        return v4 ? ipv4ToUint32(a) : ipv6ToBytes(a);
      } catch (e) {
        throw new ProbeTemplateError(field, (e as Error).message);
      }
    };
    const src = parse("src", o.src);
    const entry = parse("entry", o.entry);
    const ip = v4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    const carrierLength = o.carrier === "udp" ? UDP_HEADER_LENGTH : GRE_HEADER_LENGTH;
    const stack = MPLS_ENTRY_LENGTH * o.labels.length;
    const headers = ip + carrierLength + stack + ip;
    super(o, v4 ? MIN_MTU : IPV6_MIN_MTU, headers, (length, mtu) => new SrPacketTooLargeError(templateInt("pathIndex", o.pathIndex, 0, 0xffffffff), "sr-mpls", o.labels.length, ip + carrierLength + stack, length, mtu));
    this.family = o.family;
    this.carrier = o.carrier;
    this.labels = Object.freeze([...o.labels]);
    const ttl = templateInt("ttl", o.ttl, 1, 255);
    this.labelTtl = templateInt("labelTtl", o.labelTtl ?? ttl, 1, 255);
    const tc = templateInt("tc", o.tc ?? 0, 0, 7);
    this.carrierOffset = ip;
    this.labelOffset = ip + carrierLength;
    this.innerOffset = ip + carrierLength + stack;
    const buf = this.buffer;
    const L = this.length;
    const id = 1 + (this.pathIndex % 0xffff);
    const proto = o.carrier === "udp" ? IPPROTO_UDP : IPPROTO_GRE;
    if (v4) writeIpv4Header(buf, 0, { src: src as number, dst: entry as number, protocol: proto, totalLength: L, ttl, dscp: this.dscp, id, dontFragment: true });
    else writeIpv6Header(buf, 0, { src: src as Uint8Array, dst: entry as Uint8Array, nextHeader: proto, payloadLength: L - IPV6_HEADER_LENGTH, hopLimit: ttl, dscp: this.dscp });
    if (o.carrier === "udp") writeUdpHeader(buf, this.carrierOffset, { srcPort: 0, dstPort: MPLS_UDP_PORT, length: L - this.carrierOffset });
    else writeGreHeader(buf, this.carrierOffset, GRE_PROTO_MPLS);
    writeLabelStack(buf, this.labelOffset, this.labels, this.labelTtl, tc);
    const inner = this.innerOffset;
    if (v4) writeIpv4Header(buf, inner, { src: src as number, dst: src as number, protocol: IPPROTO_UDP, totalLength: L - inner, ttl, dscp: this.dscp, id, dontFragment: true });
    else writeIpv6Header(buf, inner, { src: src as Uint8Array, dst: src as Uint8Array, nextHeader: IPPROTO_UDP, payloadLength: L - inner - IPV6_HEADER_LENGTH, hopLimit: ttl, dscp: this.dscp });
    const udpLength = L - this.udpOffset;
    this.sealProbe(v4 ? udpPseudoHeaderSum(src as number, src as number, udpLength) : ipv6PseudoHeaderSum(buf, inner + IPV6_OFF_SRC, buf, inner + IPV6_OFF_SRC, udpLength));
    if (o.carrier === "udp") {
      // The outer checksum's base: its pseudo-header (P -> entry) and everything after its header
      // with the probe's varying fields (and its checksum) zero, as they are now.
      const outerLength = L - this.carrierOffset;
      const pseudo = v4 ? udpPseudoHeaderSum(src as number, entry as number, outerLength) : ipv6PseudoHeaderSum(buf, IPV6_OFF_SRC, buf, IPV6_OFF_DST, outerLength);
      this.outerBase = onesComplementSum(buf, this.carrierOffset, L, pseudo);
    }
    this.patch(0, 0n);
  }

  /** Probe `seq` sent at `sentNs`: the probe's fields and checksum, then the outer entropy port and checksum. Returns the buffer. */
  patch(seq: number, sentNs: bigint): Buffer {
    const varying = this.patchProbe(seq, sentNs);
    if (this.carrier === "udp") {
      const eport = MPLS_UDP_ENTROPY_BASE + ((this.srcPortBase + (seq % this.srcPortRange)) % 16384);
      this.view.setUint16(this.carrierOffset + UDP_OFF_SRC_PORT, eport);
      this.view.setUint16(this.carrierOffset + UDP_OFF_CHECKSUM, udpChecksumFromSum(this.outerBase + varying + eport));
    }
    return this.buffer;
  }
}
