// The IPv6 reply socket's drop counter (prober/sockdrops.ts udp6SocketDrops): /proc/net/udp6's
// layout, from a table as Linux prints it and from the kernel's own table for a bound socket.
import { test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import { udp6SocketDrops } from "../../prober/sockdrops.js";

const HEAD = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n";
const row = (addr: string, port: number, drops: number): string =>
  `  42: ${addr}:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4711 2 0000000000000000 ${drops}\n`;

test("udp6SocketDrops: the socket bound to the address (each 32-bit word in host order) or the wildcard; others ignored", () => {
  const table = HEAD + row("02000120000000000000000001000000", 9470, 7) + row("02000120000000000000000002000000", 9470, 100) + row("02000120000000000000000001000000", 9471, 100);
  assert.equal(udp6SocketDrops(table, 9470, "2001:2::1"), 7);
  assert.equal(udp6SocketDrops(table, 9470, "2001:2:0:0::1"), 7, "any spelling of the address");
  assert.equal(udp6SocketDrops(HEAD + row("0".repeat(32), 9470, 3), 9470, "2001:2::1"), 3, "the wildcard");
  assert.equal(udp6SocketDrops(HEAD, 9470, "2001:2::1"), undefined);
});

test("udp6SocketDrops: the kernel's /proc/self/net/udp6 lists a socket bound to ::1 with 0 drops", async (t) => {
  const s = dgram.createSocket("udp6");
  try {
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind(0, "::1", () => resolve());
    });
  } catch (e) {
    s.close();
    return t.skip(`no IPv6 loopback here: ${(e as Error).message}`);
  }
  try {
    assert.equal(udp6SocketDrops(readFileSync("/proc/self/net/udp6", "utf8"), s.address().port, "::1"), 0);
  } finally {
    s.close();
  }
});
