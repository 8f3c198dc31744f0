// Replies the kernel dropped at the prober's own UDP socket (its receive buffer was full).
//
// Such a drop is a probe that came back and was counted lost: the prober's doing, not the
// network's. Linux counts them per socket in the last column of /proc/net/udp (the reader's
// network namespace). Node's dgram does not expose SO_RXQ_OVFL, so the table is read instead,
// once a second. The parser is pure; the shell reads the file.

import { ipv6ToBytes } from "./packet/ipv6.js";

/**
 * The drop counter of the IPv4 UDP socket bound to `port` (and to `address`, or the wildcard)
 * in /proc/net/udp text, or undefined when no such socket is listed.
 */
export function udpSocketDrops(table: string, port: number, address: string): number | undefined {
  const want = hexAddress(address);
  const portHex = port.toString(16).toUpperCase().padStart(4, "0");
  let drops: number | undefined;
  for (const line of table.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const [addr, p] = f[1].split(":");
    if (p !== portHex || (addr !== want && addr !== "00000000")) continue;
    const d = Number(f[f.length - 1]);
    if (Number.isFinite(d)) drops = (drops ?? 0) + d;
  }
  return drops;
}

/**
 * The drop counter of the IPv6 UDP socket bound to `port` (and to `address`, or the wildcard)
 * in /proc/net/udp6 text (the same columns; addresses as 32 hex digits, each 32-bit word in host
 * order), or undefined when no such socket is listed.
 */
export function udp6SocketDrops(table: string, port: number, address: string): number | undefined {
  const want = hexAddress6(address);
  const portHex = port.toString(16).toUpperCase().padStart(4, "0");
  let drops: number | undefined;
  for (const line of table.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const [addr, p] = f[1].split(":");
    if (p !== portHex || (addr !== want && addr !== "0".repeat(32))) continue;
    const d = Number(f[f.length - 1]);
    if (Number.isFinite(d)) drops = (drops ?? 0) + d;
  }
  return drops;
}

/** 2001:2::1 -> "02000120000000000000000001000000": each 32-bit word little-endian, as the kernel prints it (x86, arm64). */
function hexAddress6(address: string): string {
  const b = ipv6ToBytes(address);
  let out = "";
  for (let w = 0; w < 16; w += 4) for (let i = 3; i >= 0; i--) out += b[w + i].toString(16).toUpperCase().padStart(2, "0");
  return out;
}

/** 198.18.0.1 -> "010012C6": the kernel prints the address in host (little-endian) order. */
function hexAddress(address: string): string {
  return address
    .split(".")
    .reverse()
    .map((b) => Number(b).toString(16).toUpperCase().padStart(2, "0"))
    .join("");
}

/**
 * The reply socket's receive buffer, as the kernel set it. Linux caps the SO_RCVBUF asked for
 * at net.core.rmem_max (unless the process has CAP_NET_ADMIN and uses SO_RCVBUFFORCE, which
 * the reply socket tries first, native/udprx.c) and then doubles it for its bookkeeping, so what reads back (`got`)
 * below twice what was asked means capped. `rmemMax` is /proc/sys/net/core/rmem_max's text
 * (undefined: unreadable). Pure; returns undefined when the buffer is what was asked.
 */
export function receiveBufferCap(asked: number, got: number, rmemMax: string | undefined): { askedBytes: number; gotBytes: number; rmemMax?: number } | undefined {
  if (got >= 2 * asked) return undefined;
  const max = rmemMax === undefined ? NaN : Number(rmemMax.trim());
  return { askedBytes: asked, gotBytes: got, ...(Number.isInteger(max) && max > 0 ? { rmemMax: max } : {}) };
}
