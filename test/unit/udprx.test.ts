// The reply socket (prober/udprx.ts over native/udprx.c), on loopback: datagrams intact and in
// order, batches past one recvmmsg, arrival stamps on the prober's clock between the send and
// the callback, cut datagrams counted, bind errors as node gives them.
import { test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { randomInt } from "node:crypto";
import { ReplySocket } from "../../prober/udprx.js";

const nowNs = (): number => performance.now() * 1e6;

/** A ReplySocket on a free loopback port (bind errors other than EADDRINUSE fail the test). */
function openFree(address = "127.0.0.1"): { sock: ReplySocket; port: number } {
  for (;;) {
    const port = randomInt(20000, 60000);
    try {
      return { sock: ReplySocket.open(address, port, { recvBufferSize: 1 << 20 }), port };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    }
  }
}

async function sender(type: "udp4" | "udp6"): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  await new Promise<void>((r) => s.bind(0, type === "udp4" ? "127.0.0.1" : "::1", r));
  return s;
}

function collect(sock: ReplySocket, n: number): Promise<Array<{ payload: Buffer; arrivalNs: number; seenNs: number }>> {
  const got: Array<{ payload: Buffer; arrivalNs: number; seenNs: number }> = [];
  return new Promise((resolve, reject) => {
    sock.on("error", reject);
    sock.on("message", (payload, arrivalNs) => {
      // The view is the socket's own memory: copied, as the contract says.
      got.push({ payload: Buffer.from(payload), arrivalNs, seenNs: nowNs() });
      if (got.length === n) resolve(got);
    });
  });
}

test("udprx: datagrams arrive intact, in order, each stamped between its send and its callback", async () => {
  const { sock, port } = openFree();
  const tx = await sender("udp4");
  try {
    const n = 20;
    const done = collect(sock, n);
    const sentNs: number[] = [];
    for (let i = 0; i < n; i++) {
      sentNs.push(nowNs());
      await new Promise<void>((r, j) => tx.send(Buffer.from(`probe ${i}`), port, "127.0.0.1", (e) => (e ? j(e) : r())));
      await new Promise((r) => setTimeout(r, 2));
    }
    const got = await done;
    assert.deepEqual(
      got.map((g) => g.payload.toString()),
      Array.from({ length: n }, (_, i) => `probe ${i}`),
    );
    for (const [i, g] of got.entries()) {
      assert.ok(g.arrivalNs >= sentNs[i] - 1000, `datagram ${i}: stamped ${g.arrivalNs - sentNs[i]} ns after its send began (the clocks agree to a microsecond)`);
      assert.ok(g.arrivalNs <= g.seenNs, `datagram ${i}: stamped before its callback ran`);
    }
  } finally {
    tx.close();
    sock.close();
  }
});

test("udprx: a burst larger than one batch is read whole; the stamps do not go back", async () => {
  const { sock, port } = openFree();
  const tx = await sender("udp4");
  try {
    const n = 500; // 16 batches of 32
    const done = collect(sock, n);
    for (let i = 0; i < n; i++) tx.send(Buffer.from(String(i).padStart(4, "0")), port, "127.0.0.1");
    const got = await done;
    assert.deepEqual(
      got.map((g) => Number(g.payload.toString())),
      Array.from({ length: n }, (_, i) => i),
    );
    for (let i = 1; i < n; i++) assert.ok(got[i].arrivalNs >= got[i - 1].arrivalNs, `stamp ${i} not before stamp ${i - 1}`);
  } finally {
    tx.close();
    sock.close();
  }
});

test("udprx: IPv6 works; a datagram longer than a slot is cut and counted", async () => {
  const { sock, port } = openFree("::1");
  const tx = await sender("udp6");
  try {
    const done = collect(sock, 2);
    tx.send(Buffer.alloc(12000, 7), port, "::1");
    tx.send(Buffer.from("short"), port, "::1");
    const got = await done;
    assert.equal(got[0].payload.length, 9216, "cut to the slot");
    assert.equal(got[1].payload.toString(), "short");
    assert.equal(sock.truncated, 1);
    assert.ok(sock.getRecvBufferSize() > 0);
  } finally {
    tx.close();
    sock.close();
  }
});

test("udprx: bind errors carry node's codes; close() stops delivery and may be repeated", async () => {
  const { sock, port } = openFree();
  assert.throws(() => ReplySocket.open("127.0.0.1", port, { recvBufferSize: 0 }), (e: NodeJS.ErrnoException) => e.code === "EADDRINUSE" && e.syscall === "bind" && e.message.includes(`127.0.0.1:${port}`));
  // 198.18.255.254 is assigned to no interface of this (root) namespace.
  assert.throws(() => ReplySocket.open("198.18.255.254", port, { recvBufferSize: 0 }), (e: NodeJS.ErrnoException) => e.code === "EADDRNOTAVAIL");
  assert.throws(() => ReplySocket.open("not-an-address", port, { recvBufferSize: 0 }), TypeError);
  let after = 0;
  sock.on("message", () => after++);
  sock.close();
  sock.close();
  const tx = await sender("udp4");
  await new Promise<void>((r) => tx.send(Buffer.from("late"), port, "127.0.0.1", () => r()));
  await new Promise((r) => setTimeout(r, 50));
  tx.close();
  assert.equal(after, 0, "nothing delivered after close()");
  // The port is free again.
  ReplySocket.open("127.0.0.1", port, { recvBufferSize: 0 }).close();
});
