// The tunnel layers of an IPv6 probe: one per hop, each an IPv6 header (ipv6.ts) addressed to the
// router that strips it. The same two encapsulations as over IPv4 (encap.ts), chosen by the same
// `prober.encap` values and EncapChooser: "gre" and "ipip" ("IP in IP": over IPv6, IPv6-in-IPv6).
//
// GRE over IPv6 (RFC 7676 §3): the IPv6 delivery header, Next Header 47, then the 4-byte GRE
// header (gre.ts) with Protocol Type 0x86DD for an IPv6 payload (0x0800 for IPv4): 44 bytes a layer.
//
//   +------------------------------+-----------------+--------------------------+
//   | outer IPv6 (40, next hdr 47) | GRE (4, 0x86DD) | inner IPv6 packet        |
//   +------------------------------+-----------------+--------------------------+
//
// IPv6-in-IPv6 (RFC 2473 §3, Generic Packet Tunneling in IPv6): the tunnel IPv6 header sits
// directly in front of the original packet, Next Header 41 (4 would carry IPv4): 40 bytes a layer.
//
//                                  +----------------------------//------+
//                                  | Original |                         |
//                                  |          |   Original Packet       |
//                                  |  Header  |        Payload          |
//                                  +----------------------------//------+
//                                   <          Original Packet          >
//                                                     |
//                                                     v
//   <Tunnel IPv6 Packet Header>
//   +---------+ - - - - - +-------------------------//--------------+
//   | IPv6    | IPv6      |                                         |
//   |         | Extension |        Original Packet                  |
//   | Header  | Headers   |                                         |
//   +---------+ - - - - - +-------------------------//--------------+
//                          <            Original Packet              >
//
//   RFC 2473 §3.1 and §6, the tunnel header's fields as lsprobe writes them: no extension headers
//   (no Tunnel Encapsulation Limit option: the probe's inner packets are all lsprobe's own);
//   Traffic Class the probe's DSCP on every layer; Flow Label the probe's, on every layer (the
//   template patches it per probe, RFC 6438 §3: the encapsulator labels the tunnel from the
//   inner flow); Payload Length the original packet's length; Hop Limit prober.hop-limit; source
//   the prober, destination the tunnel exit point (the router that decapsulates this layer).
//
// Which layer gets which: as over IPv4, the encap of the router that strips it (EncapChooser).

import type { Encap } from "../../shared/config.js";
import { IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6 } from "./ipv4.js";
import { IPV6_HEADER_LENGTH, writeIpv6Header, type Ipv6HeaderFields } from "./ipv6.js";
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, GRE_HEADER_LENGTH, writeGreHeader } from "./gre.js";

export type { Encap };

/** What a layer carries: an IPv6 packet (every layer of an IPv6 probe) or an IPv4 one. */
export type InnerFamily = "ipv6" | "ipv4";

/** One GRE-over-IPv6 layer: an IPv6 header and the GRE header after it. */
export const GRE6_LAYER_LENGTH = IPV6_HEADER_LENGTH + GRE_HEADER_LENGTH;
/** One IPv6-in-IPv6 layer: the tunnel IPv6 header alone. */
export const IP6IP6_LAYER_LENGTH = IPV6_HEADER_LENGTH;

/** Octets one IPv6 layer of `encap` adds in front of the inner packet. */
export const encap6LayerLength = (encap: Encap): number => (encap === "ipip" ? IP6IP6_LAYER_LENGTH : GRE6_LAYER_LENGTH);

/** The outer IPv6 Next Header of a layer of `encap` carrying `inner`. */
export const encap6NextHeader = (encap: Encap, inner: InnerFamily = "ipv6"): number =>
  encap === "gre" ? IPPROTO_GRE : inner === "ipv6" ? IPPROTO_IPV6 : IPPROTO_IPIP;

/** Names as messages print them. */
export const ENCAP6_NAMES: Readonly<Record<Encap, string>> = { gre: "GRE over IPv6", ipip: "IPv6-in-IPv6" };

/**
 * Writes one IPv6 layer at buf[off]: the outer IPv6 header (next header from `encap` and `inner`)
 * and, for GRE, the GRE header (protocol type 0x86DD, or 0x0800 for an IPv4 inner packet).
 * `h.payloadLength` is everything after the outer IPv6 header (GRE included). Returns the offset
 * of the inner packet.
 */
export function writeEncap6Layer(buf: Buffer, off: number, encap: Encap, h: Omit<Ipv6HeaderFields, "nextHeader">, inner: InnerFamily = "ipv6"): number {
  const next = writeIpv6Header(buf, off, { ...h, nextHeader: encap6NextHeader(encap, inner) });
  return encap === "ipip" ? next : writeGreHeader(buf, next, inner === "ipv6" ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
}
