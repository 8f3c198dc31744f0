// The tunnel layers of a probe: one per hop, each an IPv4 header (ipv4.ts) addressed to the router
// that strips it, in one of two encapsulations.
//
// GRE (RFC 2784): outer IPv4, protocol 47, then the 4-byte GRE header (gre.ts), then the inner
// IPv4 packet: 24 bytes a layer.
//
//   +---------------------------+----------------+---------------------------+
//   | outer IPv4 (20, proto 47) | GRE (4, 0x0800) | inner IPv4 packet         |
//   +---------------------------+----------------+---------------------------+
//
// IP-in-IP (RFC 2003 §3, IANA protocol 4): the outer IPv4 header sits directly in front of the
// inner one, no other header: 20 bytes a layer.
//
//                                        +---------------------------+
//                                        |      Outer IP Header      |
//                                        +---------------------------+
//    +---------------------------+       +---------------------------+
//    |         IP Header         |       |         IP Header         |
//    +---------------------------+ ====> +---------------------------+
//    |                           |       |                           |
//    |         IP Payload        |       |         IP Payload        |
//    |                           |       |                           |
//    +---------------------------+       +---------------------------+
//
//   RFC 2003 §3.1, the outer header's fields as lsprobe writes them: Version 4, IHL 5 (no
//   options), TOS copied from the inner header (the class's DSCP, on every layer), Total Length
//   of the whole encapsulated datagram, Identification/Flags as for any datagram (the template's
//   constant id, DF set: §3.1 allows DF on the outer header), TTL "appropriate for delivery to
//   the tunnel exit point" (prober.ttl), Protocol 4, source the encapsulator (the prober), and
//   destination the tunnel exit point (the router that decapsulates this layer). The decapsulator
//   (§3.1, last paragraph) strips the outer header and forwards the inner datagram on its own
//   header, which is all a pinned path needs.
//
// Which layer gets which: the encap of the router that decapsulates it (the path set's
// gre[k].node / greReverse[k].node), chosen by EncapChooser from `prober.encap` and
// `prober.encap-per-router`.

import type { Encap, EncapRule } from "../../shared/config.js";
import { IPV4_HEADER_LENGTH, IPPROTO_GRE, IPPROTO_IPIP, writeIpv4Header, type Ipv4HeaderFields } from "./ipv4.js";
import { ETHERTYPE_IPV4, GRE_HEADER_LENGTH, writeGreHeader } from "./gre.js";
import { PerRouter, routerPatternMatches } from "../../shared/perrouter.js";

export type { Encap, EncapRule };

/** One GRE layer: an IPv4 header and the GRE header after it. */
export const GRE_LAYER_LENGTH = IPV4_HEADER_LENGTH + GRE_HEADER_LENGTH;
/** One IP-in-IP layer: the outer IPv4 header alone. */
export const IPIP_LAYER_LENGTH = IPV4_HEADER_LENGTH;

/** Octets one layer of `encap` adds in front of the inner packet. */
export const encapLayerLength = (encap: Encap): number => (encap === "ipip" ? IPIP_LAYER_LENGTH : GRE_LAYER_LENGTH);

/** The outer IPv4 protocol of a layer of `encap`. */
export const encapProtocol = (encap: Encap): number => (encap === "ipip" ? IPPROTO_IPIP : IPPROTO_GRE);

/** Names as messages print them. */
export const ENCAP_NAMES: Readonly<Record<Encap, string>> = { gre: "GRE", ipip: "IP-in-IP" };

/**
 * Writes one layer at buf[off]: the outer IPv4 header (protocol from `encap`, checksum final) and,
 * for GRE, the GRE header (protocol type IPv4). Returns the offset of the inner packet.
 */
export function writeEncapLayer(buf: Buffer, off: number, encap: Encap, h: Omit<Ipv4HeaderFields, "protocol">): number {
  const next = writeIpv4Header(buf, off, { ...h, protocol: encapProtocol(encap) });
  return encap === "ipip" ? next : writeGreHeader(buf, next, ETHERTYPE_IPV4);
}

// The router-name matcher is shared/perrouter.ts's (also used for plugin.paths.target-per-router).
export { routerPatternMatches };

/**
 * The encapsulation for each router: an exact name among the rules first, else the first rule
 * with a `*` that matches, in the rules' order, else the default (shared/perrouter.ts).
 */
export class EncapChooser extends PerRouter<Encap, EncapRule> {
  constructor(defaultEncap: Encap, rules: readonly EncapRule[] = []) {
    super(defaultEncap, rules, (r) => r.encap);
  }

  get defaultEncap(): Encap {
    return this.defaultValue;
  }
}
