// ProbeTemplate6: one path's IPv6 probe, built once, patched in place per probe, as ProbeTemplate
// (template.ts: the layout, UDP datagram, checksum base and patch() are ProbeTemplateBase's).
//
// Layout for hops [h1 .. hn] from prober P (every layer: source P, hop limit, DSCP, flow label F),
// all GRE over IPv6 (the default):
//
//   offset            what
//   0                 IPv6  P -> h1, next header 47, payload length L-40     (layer 0, outermost)
//   40                GRE   0x86DD
//   44                IPv6  P -> h2, next header 47, payload length L-44-40  (layer 1)
//   84                GRE   0x86DD
//   ...               (layer i at i*44)
//   innerOffset=n*44  IPv6  P -> P, next header 17                           (innermost; one way:
//                                                                             P -> the receiver)
//   udpOffset         UDP   srcPortBase + seq % srcPortRange -> dstPort, checksum never 0
//   payloadOffset     probe payload (payload.ts): 44-octet header, then zero padding to L
//
// An IPv6-in-IPv6 layer (RFC 2473, next header 41) is the IPv6 header alone, 40 bytes; mixed
// stacks as over IPv4, e.g. [gre, ipip, gre]:
//
//   0   IPv6 -> h1 nh 47 | 40 GRE 86DD | 44 IPv6 -> h2 nh 41 | 84 IPv6 -> h3 nh 47 | 124 GRE |
//   128 IPv6 P -> P nh 17 (innermost) | 168 UDP | 176 payload
//
// L = max(size, minimumSize), minimumSize = sum of the layer lengths + 40 + 8 + 44; the MTU check
// (PacketTooLargeError, family "ipv6") counts the 40-byte headers. mtu must be >= 1280 (RFC 8200 §5).
//
// ECMP entropy, per probe: the UDP source port (as IPv4) and the flow label (RFC 6437, 20 bits),
// which routers hash on for the tunnel layers that carry no ports (RFC 6438). Both are
// deterministic in the sequence: flow label = flowLabelBase + seq % flowLabelRange, by default
// base = srcPortBase and range = srcPortRange, so probe seq carries flow label == its source port.
// Every layer gets the same label (RFC 6438 §3: the tunnel's label from the inner flow). The flow
// label is in no checksum (IPv6 has no header checksum, the pseudo-header leaves it out), so
// patch() writes the first word of each IPv6 header and the UDP checksum stays incremental.

import { IPPROTO_UDP } from "./ipv4.js";
import { IPV6_HEADER_LENGTH, IPV6_MAX_FLOW_LABEL, IPV6_OFF_DST, IPV6_OFF_SRC, ipv6FirstWord, ipv6PseudoHeaderSum, ipv6ToBytes, writeIpv6Header } from "./ipv6.js";
import { GRE6_LAYER_LENGTH, writeEncap6Layer } from "./encap6.js";
import type { Encap } from "./encap.js";
import { ProbeTemplateBase, minimumProbeSize, templateInt, type ProbeTemplateCommonOptions } from "./template.js";

export { GRE6_LAYER_LENGTH, IP6IP6_LAYER_LENGTH } from "./encap6.js";
export { PROBE6_INNER_MIN_LENGTH } from "./template.js";

export interface ProbeTemplate6Options extends ProbeTemplateCommonOptions {
  /** The prober's IPv6 address: source of every layer and destination of the innermost one. */
  src: string;
  /** Hop Limit of the outermost and every inner layer, 1-255. */
  hopLimit: number;
  /** First flow label, 0-0xFFFFF; default srcPortBase (0 with range 1 = unlabelled). */
  flowLabelBase?: number;
  /** Flow labels rotate over flowLabelBase .. + flowLabelRange - 1; default srcPortRange; 1 = fixed. */
  flowLabelRange?: number;
}

export class ProbeTemplate6 extends ProbeTemplateBase<Uint8Array> {
  readonly hopLimit: number;
  readonly flowLabelBase: number;
  readonly flowLabelRange: number;
  /** Version 6 and the traffic class, flow label 0: OR the label in. */
  private readonly firstWord: number;
  private readonly headerOffsets: Int32Array;

  /** Octets of the smallest IPv6 probe for these layer encapsulations (or this many GRE hops). */
  static minimumSize(hops: number | readonly string[], encaps?: readonly Encap[]): number {
    const n = typeof hops === "number" ? hops : hops.length;
    return minimumProbeSize("ipv6", encaps ?? Array.from({ length: n }, () => "gre" as const));
  }

  /** Offset of layer i's IPv6 header in an all-GRE stack (i = hop count: the innermost). */
  static layerOffset(i: number): number {
    return i * GRE6_LAYER_LENGTH;
  }

  constructor(o: ProbeTemplate6Options) {
    super(o, "ipv6", (a) => ipv6ToBytes(a));
    this.hopLimit = templateInt("hopLimit", o.hopLimit, 1, 255);
    this.flowLabelBase = templateInt("flowLabelBase", o.flowLabelBase ?? this.srcPortBase, 0, IPV6_MAX_FLOW_LABEL);
    this.flowLabelRange = templateInt("flowLabelRange", o.flowLabelRange ?? this.srcPortRange, 1, IPV6_MAX_FLOW_LABEL + 1 - this.flowLabelBase);
    this.firstWord = ipv6FirstWord(this.dscp, 0, 0);
    this.headerOffsets = Int32Array.from(this.layerOffsets);

    const { buffer: buf, length, layerOffsets: offsets, encaps, dscp, hopLimit, srcAddress: src } = this;
    this.hopAddresses.forEach((dst, i) => {
      const off = offsets[i];
      writeEncap6Layer(buf, off, encaps[i], { src, dst, payloadLength: length - off - IPV6_HEADER_LENGTH, hopLimit, dscp });
    });
    const inner = this.innerOffset;
    writeIpv6Header(buf, inner, { src, dst: this.innerDstAddress, nextHeader: IPPROTO_UDP, payloadLength: length - inner - IPV6_HEADER_LENGTH, hopLimit, dscp });
    this.seal(ipv6PseudoHeaderSum(buf, inner + IPV6_OFF_SRC, buf, inner + IPV6_OFF_DST, this.udpLength));
  }

  /** The flow label of probe `seq` (on every layer). */
  flowLabelFor(seq: number): number {
    return this.flowLabelBase + (seq % this.flowLabelRange);
  }

  /** ProbeTemplateBase.patch(), then the flow label of every IPv6 header. */
  override patch(seq: number, sentNs: bigint): Buffer {
    const b = super.patch(seq, sentNs);
    const w = this.firstWord | (this.flowLabelBase + (seq % this.flowLabelRange));
    const v = this.view;
    const offs = this.headerOffsets;
    for (let i = 0; i < offs.length; i++) v.setUint32(offs[i], w);
    return b;
  }
}
