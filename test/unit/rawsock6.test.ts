// The raw IPv6 send socket (prober/rawsock.ts, family "ipv6": AF_INET6 + IPPROTO_RAW, header
// inclusion) for real, never to a non-loopback address from the root namespace:
//   - on loopback: the innermost IPv6/UDP packet of ProbeTemplate6 probes (::1 -> ::1) sent whole
//     through the raw socket arrives on a node:dgram udp6 socket with its payload, sequence and
//     source port; the kernel checks the UDP checksum on the way in (a corrupted one is dropped:
//     the next good probe arrives first), so every arrival is one more checksum verified;
//   - in two network namespaces joined by a veth (2001:2:0:ff::1 and ::2, created and removed
//     here): the same socket in namespace A sends a plain IPv6/UDP datagram to B's udp6 socket,
//     and 1-hop GRE-over-IPv6 and IPv6-in-IPv6 probes that B receives on raw sockets for next
//     headers 47 and 41 byte for byte as built (an IPv6 raw socket gets what follows the header);
//   - the IPv4 API is unchanged: an ipv4 socket refuses an IPv6 destination and the reverse.
// Needs root (CAP_NET_RAW, ip netns); skipped otherwise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { IPPROTO_RAW, RawSocket, RawSocketError } from "../../prober/rawsock.js";
import { ProbeTemplate6 } from "../../prober/packet/template6.js";
import { parsePayload } from "../../prober/packet/payload.js";

function cannotRun(): string | false {
  if (process.getuid?.() !== 0) return "needs root (raw sockets, network namespaces)";
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" });
  } catch {
    return "needs iproute2 (ip)";
  }
  return false;
}
const SKIP = cannotRun();

/** Resolves with the next `n` datagrams on `sock`. */
function datagrams(sock: Socket, n: number): Promise<Array<{ msg: Buffer; port: number; address: string }>> {
  return new Promise((resolve) => {
    const got: Array<{ msg: Buffer; port: number; address: string }> = [];
    const on = (msg: Buffer, r: { port: number; address: string }): void => {
      got.push({ msg, port: r.port, address: r.address });
      if (got.length === n) {
        sock.off("message", on);
        resolve(got);
      }
    };
    sock.on("message", on);
  });
}

test("ipv6 raw socket on loopback: whole IPv6/UDP probes reach a udp6 socket; the kernel drops a bad checksum", { skip: SKIP }, async (t) => {
  const rx = createSocket("udp6");
  t.after(() => rx.close());
  rx.bind(0, "::1");
  await once(rx, "listening");
  const port = rx.address().port;
  const s = RawSocket.open({ family: "ipv6", protocol: IPPROTO_RAW });
  t.after(() => s.close());
  assert.deepEqual([s.family, s.protocol, s.hdrincl], ["ipv6", 255, true]);

  const tpl = new ProbeTemplate6({
    src: "::1", hops: ["::1"], dstPort: port, srcPortBase: 40000, srcPortRange: 8, hopLimit: 64, dscp: 46, size: 300, mtu: 1500, pathIndex: 5, nonce: 0xabc,
  });
  const inner = tpl.innerOffset;
  const seqs = [0, 1, 2, 3, 7, 8, 1000, 0xffffffff];
  const arrivals = datagrams(rx, seqs.length + 1);
  for (const seq of seqs) {
    const b = tpl.patch(seq, BigInt(seq) + 10n);
    let sent = -1;
    assert.equal(s.sendFrom(b, inner, tpl.length - inner, "::1", (err, bytes) => {
      assert.ifError(err);
      sent = bytes ?? -1;
    }), true);
    assert.equal(sent, tpl.length - inner, "the callback ran before send() returned, with the byte count");
  }
  // A corrupted checksum, then a good probe: loopback delivers in order, so the good one is next.
  const b = tpl.patch(42, 42n);
  b[tpl.udpOffset + 6] ^= 0x10;
  assert.equal(s.sendFrom(b, inner, tpl.length - inner, "::1"), true, "the kernel takes it on send");
  s.sendFrom(tpl.patch(43, 53n), inner, tpl.length - inner, "::1");

  const got = await arrivals;
  const want = [...seqs, 43];
  assert.deepEqual(got.map((g) => parsePayload(g.msg, 0)), want.map((seq) => ({ ok: true, pathIndex: 5, seq, sentNs: BigInt(seq) + 10n, nonce: 0xabc, hasMac: false })));
  assert.deepEqual(got.map((g) => g.port), want.map((seq) => tpl.srcPortFor(seq)), "source port per probe");
  assert.ok(got.every((g) => g.address === "::1" && g.msg.length === tpl.length - tpl.payloadOffset));
});

test("raw sockets: each family takes only its own destinations; bad options are refused", { skip: SKIP }, (t) => {
  const s6 = RawSocket.open({ family: "ipv6", protocol: IPPROTO_RAW });
  const s4 = RawSocket.open({ protocol: IPPROTO_RAW });
  t.after(() => {
    s6.close();
    s4.close();
  });
  assert.equal(s4.family, "ipv4");
  const pkt = Buffer.alloc(60);
  assert.throws(() => s6.send(pkt, "198.18.0.1"), /destination "198.18.0.1" is not an IPv6 address/);
  assert.throws(() => s4.send(pkt, "::1"), /destination "::1" is not a dotted-quad IPv4 address/);
  assert.throws(() => RawSocket.open({ family: "ipv7" as "ipv6", protocol: IPPROTO_RAW }), /family "ipv7" is not "ipv4" or "ipv6"/);
  assert.throws(() => RawSocket.open({ family: "ipv6", protocol: IPPROTO_RAW, hdrincl: false }), /always has header inclusion/);
  // A packet shorter than an IPv6 header is refused by the kernel, as a typed error to the callback.
  let err: RawSocketError | undefined;
  assert.equal(s6.send(Buffer.alloc(20), "::1", (e) => (err = e)), false);
  assert.ok(err instanceof RawSocketError && err.code === "EINVAL" && err.syscall === "sendto", String(err));
  assert.match(err.message, /IPv6 raw socket, IP protocol 255/);
});

// ---------------------------------------------------------------- network namespaces

const NS_A = `lsp6a-${process.pid}`;
const NS_B = `lsp6b-${process.pid}`;
const ADDR_A = "2001:2:0:ff::1";
const ADDR_B = "2001:2:0:ff::2";
const RAWSOCK = new URL("../../prober/rawsock.js", import.meta.url).href;
const TEMPLATE6 = new URL("../../prober/packet/template6.js", import.meta.url).href;
const IPV6 = new URL("../../prober/packet/ipv6.js", import.meta.url).href;
const UDP = new URL("../../prober/packet/udp.js", import.meta.url).href;

const ip = (...args: string[]): void => void execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
function removeNamespaces(): void {
  for (const ns of [NS_A, NS_B]) {
    try {
      ip("netns", "del", ns);
    } catch {
      /* not there */
    }
  }
}

// Runs in B: a udp6 socket on [ADDR_B]:33434 and raw IPv6 sockets for next headers 47 and 41;
// prints "ready", then one JSON line per packet: {kind, src, hex}.
const RECEIVER = `
import { createSocket } from "node:dgram";
import { RawSocket } from ${JSON.stringify(RAWSOCK)};
const out = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
const u = createSocket("udp6");
u.on("message", (m, r) => out({ kind: "udp", src: r.address, port: r.port, hex: m.toString("hex") }));
const gre = RawSocket.open({ family: "ipv6", protocol: 47 });
gre.on("message", (b, src) => out({ kind: "gre", src, hex: Buffer.from(b).toString("hex") }));
const ipip = RawSocket.open({ family: "ipv6", protocol: 41 });
ipip.on("message", (b, src) => out({ kind: "ip6ip6", src, hex: Buffer.from(b).toString("hex") }));
u.bind(33434, ${JSON.stringify(ADDR_B)}, () => out({ kind: "ready" }));
`;

// Runs in A: sends through one ipv6 IPPROTO_RAW socket, prints the packets' hex (what B must see).
const SENDER = `
import { IPPROTO_RAW, RawSocket } from ${JSON.stringify(RAWSOCK)};
import { ProbeTemplate6 } from ${JSON.stringify(TEMPLATE6)};
import { writeIpv6Header, ipv6ToBytes } from ${JSON.stringify(IPV6)};
import { writeUdpHeader, writeUdp6Checksum } from ${JSON.stringify(UDP)};
const s = RawSocket.open({ family: "ipv6", protocol: IPPROTO_RAW });
const res = {};
const check = (err) => { if (err) { console.error(err.message); process.exit(1); } };
// A plain IPv6/UDP datagram A -> B:33434.
const d = Buffer.alloc(40 + 8 + 5);
writeIpv6Header(d, 0, { src: ${JSON.stringify(ADDR_A)}, dst: ${JSON.stringify(ADDR_B)}, nextHeader: 17, payloadLength: 13, hopLimit: 64, dscp: 0, flowLabel: 0x12345 });
writeUdpHeader(d, 40, { srcPort: 40123, dstPort: 33434, length: 13 });
d.write("hello", 48);
writeUdp6Checksum(d, 40, ipv6ToBytes(${JSON.stringify(ADDR_A)}), ipv6ToBytes(${JSON.stringify(ADDR_B)}));
s.send(d, ${JSON.stringify(ADDR_B)}, check);
res.udp = d.subarray(48).toString("hex");
for (const encap of ["gre", "ipip"]) {
  const t = new ProbeTemplate6({ src: ${JSON.stringify(ADDR_A)}, hops: [${JSON.stringify(ADDR_B)}], encaps: [encap], dstPort: 33434, srcPortBase: 40000, srcPortRange: 4,
    hopLimit: 64, dscp: 46, size: 0, mtu: 1500, pathIndex: 1, nonce: 7 });
  const b = t.patch(3, 3n);
  s.send(b, ${JSON.stringify(ADDR_B)}, check);
  res[encap] = b.subarray(40).toString("hex");
}
s.close();
process.stdout.write(JSON.stringify(res) + "\\n");
`;

test("ipv6 raw socket between two namespaces: a UDP datagram and GRE-over-IPv6 / IPv6-in-IPv6 probes arrive as built", { skip: SKIP }, async (t) => {
  removeNamespaces();
  t.after(removeNamespaces);
  ip("netns", "add", NS_A);
  ip("netns", "add", NS_B);
  ip("link", "add", "v6a", "netns", NS_A, "type", "veth", "peer", "name", "v6b", "netns", NS_B);
  for (const [ns, dev, addr] of [[NS_A, "v6a", ADDR_A], [NS_B, "v6b", ADDR_B]]) {
    ip("-n", ns, "link", "set", "lo", "up");
    ip("-n", ns, "-6", "addr", "add", `${addr}/64`, "dev", dev, "nodad");
    ip("-n", ns, "link", "set", dev, "up");
  }

  const rx = spawn("ip", ["netns", "exec", NS_B, process.execPath, "--input-type=module", "-e", RECEIVER], { stdio: ["ignore", "pipe", "inherit"] });
  t.after(() => {
    if (rx.exitCode === null) rx.kill("SIGKILL");
  });
  const lines = createInterface({ input: rx.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<{ kind: string; src?: string; port?: number; hex?: string }> => {
    const r = await lines.next();
    assert.ok(!r.done, "the receiver ended early");
    return JSON.parse(r.value) as { kind: string };
  };
  assert.equal((await next()).kind, "ready");

  const sent = JSON.parse(execFileSync("ip", ["netns", "exec", NS_A, process.execPath, "--input-type=module", "-e", SENDER], { encoding: "utf8" })) as Record<string, string>;
  const got = new Map<string, { src?: string; port?: number; hex?: string }>();
  // Neighbour discovery is ICMPv6 (58): B's raw sockets for 47 and 41 see only these probes.
  while (got.size < 3) {
    const m = await next();
    got.set(m.kind, m);
  }
  assert.deepEqual(got.get("udp"), { kind: "udp", src: ADDR_A, port: 40123, hex: sent.udp }, "UDP: checksum accepted by B's kernel");
  assert.deepEqual(got.get("gre"), { kind: "gre", src: ADDR_A, hex: sent.gre }, "GRE over IPv6: GRE header and inner IPv6 packet as built");
  assert.deepEqual(got.get("ip6ip6"), { kind: "ip6ip6", src: ADDR_A, hex: sent.ipip }, "IPv6-in-IPv6: the inner IPv6 packet as built");
  assert.ok(sent.gre.startsWith("000086dd6"), "GRE 0x86DD, then an IPv6 header");
  rx.kill("SIGTERM");
  await once(rx, "exit");
});
