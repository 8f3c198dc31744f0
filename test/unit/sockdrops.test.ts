// The reply socket's drop counter: /proc/net/udp parsed by table, then read from this kernel
// while a socket with a tiny buffer overflows (loopback only).
import { test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import { receiveBufferCap, udpSocketDrops } from "../../prober/sockdrops.js";

const HEADER = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            ";
const row = (sl: number, local: string, drops: number): string =>
  `  ${sl}: ${local} 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 ${1000 + sl} 2 0000000000000000 ${drops}        `;
// 198.18.0.1:9000 is 010012C6:2328 (the address in host byte order, the port in hex).
const TABLE = [HEADER, row(1, "010012C6:2328", 17), row(2, "0100007F:2328", 5), row(3, "00000000:0035", 3), row(4, "010012C6:2329", 9), ""].join("\n");

const cases: Record<string, { port: number; address: string; want: number | undefined }> = {
  "the prober's socket, its own address": { port: 9000, address: "198.18.0.1", want: 17 },
  "the same port on another address is not it": { port: 9000, address: "127.0.0.2", want: undefined },
  "loopback on the same port": { port: 9000, address: "127.0.0.1", want: 5 },
  "a wildcard bind counts for any address": { port: 53, address: "198.18.0.1", want: 3 },
  "no socket on the port": { port: 9469, address: "198.18.0.1", want: undefined },
};
for (const [name, c] of Object.entries(cases)) test(`sockdrops: ${name}`, () => assert.equal(udpSocketDrops(TABLE, c.port, c.address), c.want));

test("sockdrops: a header-only or garbled table has no socket", () => {
  assert.equal(udpSocketDrops(HEADER + "\n", 9000, "198.18.0.1"), undefined);
  assert.equal(udpSocketDrops(HEADER + "\n  1: garbage\n", 9000, "198.18.0.1"), undefined);
});

test("sockdrops: this kernel counts the replies a full socket buffer dropped", async () => {
  const rx = dgram.createSocket({ type: "udp4", recvBufferSize: 4096 });
  const tx = dgram.createSocket("udp4");
  try {
    await new Promise<void>((resolve) => rx.bind(0, "127.0.0.1", resolve));
    const port = rx.address().port;
    const read = (): number | undefined => udpSocketDrops(readFileSync("/proc/self/net/udp", "utf8"), port, "127.0.0.1");
    assert.equal(read(), 0);
    // 2,000 datagrams of 512 bytes sent before the event loop reads any: a 4 KiB buffer overflows.
    const n = 2000;
    await new Promise<void>((resolve) => {
      let sent = 0;
      for (let i = 0; i < n; i++) tx.send(Buffer.alloc(512), port, "127.0.0.1", () => void (++sent === n && resolve()));
    });
    const drops = read()!;
    assert.ok(drops > n / 2 && drops <= n, `${drops} drops of ${n}`);
  } finally {
    rx.close();
    tx.close();
  }
});

const capCases: Record<string, { asked: number; got: number; rmemMax: string | undefined; want: ReturnType<typeof receiveBufferCap> }> = {
  "what was asked, doubled by the kernel: not capped": { asked: 8 << 20, got: 16 << 20, rmemMax: "16777216\n", want: undefined },
  "capped at rmem_max (4 MiB, doubled)": { asked: 8 << 20, got: 8 << 20, rmemMax: "4194304\n", want: { askedBytes: 8 << 20, gotBytes: 8 << 20, rmemMax: 4194304 } },
  "capped, rmem_max unreadable": { asked: 8 << 20, got: 425984, rmemMax: undefined, want: { askedBytes: 8 << 20, gotBytes: 425984 } },
  "capped, rmem_max garbled": { asked: 8 << 20, got: 425984, rmemMax: "x\n", want: { askedBytes: 8 << 20, gotBytes: 425984 } },
};
for (const [name, c] of Object.entries(capCases)) test(`sockdrops: receive buffer ${name}`, () => assert.deepEqual(receiveBufferCap(c.asked, c.got, c.rmemMax), c.want));

test("sockdrops: this kernel caps a receive buffer asked above net.core.rmem_max, and says so", async () => {
  const rmemMax = readFileSync("/proc/sys/net/core/rmem_max", "utf8");
  const asked = 2 * Number(rmemMax.trim());
  const rx = dgram.createSocket({ type: "udp4", recvBufferSize: asked });
  try {
    await new Promise<void>((resolve) => rx.bind(0, "127.0.0.1", resolve));
    assert.deepEqual(receiveBufferCap(asked, rx.getRecvBufferSize(), rmemMax), { askedBytes: asked, gotBytes: 2 * Number(rmemMax.trim()), rmemMax: Number(rmemMax.trim()) });
  } finally {
    rx.close();
  }
});
