// IP addresses and prefixes of both families, as the plugin compares them: the LSDB's (ExaBGP
// prints IPv6 in RFC 5952 form, Python's ipaddress) and the operator's (any valid spelling).
// Pure functions; IPv6 as a BigInt of 128 bits, IPv4 as a 32-bit unsigned number.

import type { Family } from "../shared/pathset.js";

export { FAMILIES, type Family } from "../shared/pathset.js";

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export const isIpv4 = (s: string): boolean => IPV4.test(s);

export function ipv4ToInt(a: string): number | undefined {
  if (!isIpv4(a)) return undefined;
  const o = a.split(".").map(Number);
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

/** An IPv6 address (RFC 4291 §2.2 text forms, the dotted-quad tail included) as 128 bits; undefined if it is none. */
export function ipv6ToBigInt(a: string): bigint | undefined {
  if (!a.includes(":") || a.includes("%")) return undefined;
  let s = a.toLowerCase();
  // A trailing dotted quad (::ffff:192.0.2.1) stands for the last two groups.
  const quad = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (quad) {
    const v4 = ipv4ToInt(quad[2]);
    if (v4 === undefined) return undefined;
    s = `${quad[1]}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] | undefined => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...head, ...new Array<string>(halves.length === 2 ? fill : 0).fill("0"), ...tail];
  let n = 0n;
  for (const g of all) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

export const isIpv6 = (s: string): boolean => ipv6ToBigInt(s) !== undefined;

/** The family of an address, or undefined when it is neither. */
export function familyOf(address: string): Family | undefined {
  return isIpv4(address) ? "ipv4" : isIpv6(address) ? "ipv6" : undefined;
}

/** RFC 5952 text of 128 bits: lower case, no leading zeros, the longest run (>= 2) of zero groups as "::". */
export function formatIpv6(n: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((n >> BigInt(16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** An IPv6 address in RFC 5952 form (so two spellings compare equal); anything else unchanged. */
export function canonicalAddress(a: string): string {
  const n = ipv6ToBigInt(a);
  return n === undefined ? a : formatIpv6(n);
}

/** A prefix "address/length" with its address canonical; anything else unchanged. */
export function canonicalPrefix(p: string): string {
  const slash = p.lastIndexOf("/");
  if (slash < 0) return canonicalAddress(p);
  return `${canonicalAddress(p.slice(0, slash))}${p.slice(slash)}`;
}

/** fe80::/10: never a probe target (only meaningful on one link). */
export function isLinkLocal6(a: string): boolean {
  const n = ipv6ToBigInt(a);
  return n !== undefined && n >> 118n === 0x3fan;
}

/** A parsed address of either family, as bits and a width. */
interface Bits {
  value: bigint;
  width: 32 | 128;
}

function bits(a: string): Bits | undefined {
  const v4 = ipv4ToInt(a);
  if (v4 !== undefined) return { value: BigInt(v4), width: 32 };
  const v6 = ipv6ToBigInt(a);
  return v6 === undefined ? undefined : { value: v6, width: 128 };
}

/** The prefix length of "address/length" (either family), or undefined when it is not a prefix. */
export function prefixLength(prefix: string): number | undefined {
  const slash = prefix.lastIndexOf("/");
  if (slash < 0) return undefined;
  const b = bits(prefix.slice(0, slash));
  const len = Number(prefix.slice(slash + 1));
  if (b === undefined || !Number.isInteger(len) || len < 0 || len > b.width || prefix.slice(slash + 1) === "") return undefined;
  return len;
}

/** Does prefix "a/len" contain `address`? Both of the same family, else false. */
export function prefixContains(prefix: string, address: string): boolean {
  const slash = prefix.lastIndexOf("/");
  const net = slash < 0 ? undefined : bits(prefix.slice(0, slash));
  const addr = bits(address);
  const len = prefixLength(prefix);
  if (net === undefined || addr === undefined || len === undefined || net.width !== addr.width) return false;
  const shift = BigInt(net.width - len);
  return net.value >> shift === addr.value >> shift;
}
