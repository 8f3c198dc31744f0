// Replies the kernel dropped at the prober's own UDP socket (its receive buffer was full).
//
// Such a drop is a probe that came back and was counted lost: the prober's doing, not the
// network's. Linux counts them per socket in the last column of /proc/net/udp (the reader's
// network namespace). Node's dgram does not expose SO_RXQ_OVFL, so the table is read instead,
// once a second. The parser is pure; the shell reads the file.

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

/** 198.18.0.1 -> "010012C6": the kernel prints the address in host (little-endian) order. */
function hexAddress(address: string): string {
  return address
    .split(".")
    .reverse()
    .map((b) => Number(b).toString(16).toUpperCase().padStart(2, "0"))
    .join("");
}
