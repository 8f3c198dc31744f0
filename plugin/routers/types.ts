// What every vendor module takes and gives: a pure function from one router's decapsulation
// job (the addresses probes target on it, the prober sources, the encapsulation) to config
// text and warnings. No I/O here or in the vendor modules.
import { ipv6ToBigInt } from "../ip.js";

/** The tunnel the probes use on a router: GRE (IP protocol 47) or IP-in-IP (protocol 4). */
export type Encap = "gre" | "ipip";
export const ENCAPS: readonly Encap[] = ["gre", "ipip"];
export const IP_PROTOCOL: Readonly<Record<Encap, number>> = { gre: 47, ipip: 4 };

/** Where probes enter a router: the neighbor they come from and the target on that link. */
export interface Ingress {
  /** The neighbor's name (the link's `from`). */
  from: string;
  /** The address on this router the layer is sent to. */
  address: string;
}

export interface RouterJob {
  /** The router's name (node-name TLV, else IGP router id). */
  router: string;
  /** Addresses a probe layer decapsulated by this router is sent to, sorted numerically. */
  targets: string[];
  /** The neighbors probes arrive from, per target (interface targets only). */
  ingress: Ingress[];
  /** Prober source addresses, sorted numerically. */
  sources: string[];
  encap: Encap;
  /** Every IPv4 address the LSDB gives this router (interfaces, TE router ids, loopbacks). */
  ownAddresses: string[];
  /** Addresses the LSDB gives other routers, each with its router's name (SR OS: what a covering prefix must not take in). */
  otherAddresses: ReadonlyArray<readonly [string, string]>;
  /** IPv6 layers addressed to this router (targets.ipv6); configured by vendors with `ipv6`, else warned about. */
  targets6?: string[];
  /** IPv6 prober sources (canonical form, sorted), for `targets6`. */
  sources6?: string[];
}

export interface VendorOutput {
  /** Configuration text, comments included, ending in a newline. */
  text: string;
  /** Platform limits exceeded or hazards: also in `text` as comments. */
  warnings: string[];
}

export interface Vendor {
  name: string;
  /** Human name of the platform, e.g. "Juniper Junos". */
  title: string;
  /** Starts a comment line in the vendor's syntax. */
  comment: string;
  render(job: RouterJob): VendorOutput;
  /** render() configures job.targets6 too (GRE over IPv6, IPv6-in-IPv6); without it they are warned about. */
  ipv6?: true;
  /** --encap sr-mpls: the first router's termination of MPLS-in-UDP / MPLS-in-GRE. */
  renderSrMpls(job: SrMplsJob): VendorOutput;
}

/** Lines as comments in a vendor's syntax. */
export function commented(prefix: string, lines: readonly string[]): string[] {
  return lines.map((l) => (l === "" ? prefix : `${prefix} ${l}`));
}

// ---- address order and IPv4 arithmetic ----

export function ipv4ToInt(a: string): number {
  const p = a.split(".").map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export const byAddress = (a: string, b: string): number => ipv4ToInt(a) - ipv4ToInt(b);

/** IPv6 addresses in numeric order (unparsable ones last, as text). */
export const byAddress6 = (a: string, b: string): number => {
  const x = ipv6ToBigInt(a);
  const y = ipv6ToBigInt(b);
  if (x === undefined || y === undefined) return x !== undefined ? -1 : y !== undefined ? 1 : a < b ? -1 : a > b ? 1 : 0;
  return x < y ? -1 : x > y ? 1 : 0;
};

/** The smallest prefix holding every address (at least one). */
export function coveringPrefix(addresses: readonly string[]): { network: string; length: number } {
  const ints = addresses.map(ipv4ToInt);
  let length = 32;
  const lo = Math.min(...ints);
  const hi = Math.max(...ints);
  while (length > 0 && (lo >>> (32 - length)) !== (hi >>> (32 - length))) length--;
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return { network: intToIpv4((lo & mask) >>> 0), length };
}

export function inPrefix(address: string, p: { network: string; length: number }): boolean {
  if (p.length === 0) return true;
  const shift = 32 - p.length;
  return ipv4ToInt(address) >>> shift === ipv4ToInt(p.network) >>> shift;
}

// ---- SR-MPLS entry (--encap sr-mpls) ----

/** How SR-MPLS probes reach the path's first router (prober.sr-mpls-carrier): RFC 7510 or RFC 4023. */
export type SrCarrier = "udp" | "gre";
export const SR_CARRIERS: readonly SrCarrier[] = ["udp", "gre"];
/** RFC 7510 §3: the destination port of MPLS-in-UDP. */
export const MPLS_UDP_PORT = 6635;

/** One Adj-SID the entry router switches first: its label and the neighbor it sends the probe to. */
export interface EntryLabel {
  label: number;
  to: string;
}

/** A path's first router under --encap sr-mpls: it terminates the carrier and switches the top label. */
export interface SrMplsJob {
  router: string;
  /** IPv4 entry addresses (targets.ipv4.srMpls.entry) of the paths starting here, sorted. */
  entries: string[];
  /** IPv6 entry addresses (targets.ipv6.srMpls.entry), sorted as text. */
  entries6: string[];
  /** IPv4 prober sources, sorted. */
  sources: string[];
  carrier: SrCarrier;
  /** The top labels (this router's Adj-SIDs for the first hop) of those paths, by label. */
  labels: EntryLabel[];
}
