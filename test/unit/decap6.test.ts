// The lab decapsulator's IPv6 parsing (test/lab/decap.ts: decap6Into, decapPacket6Into) by tables:
// GRE over IPv6 (RFC 7676, 0x86DD and 0x0800 inside), IPv6-in-IPv6 and IPv4-in-IPv6 (RFC 2473),
// both as an AF_INET6 raw socket hands them over (no outer IPv6 header) and as whole packets.
// Packets are built by the small builders below, independent of prober/packet.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DROP_REASONS, decap6Into, decapPacket6Into, decapsulate6, decapsulatePacket6, newDecap6Slot, type DecapResult } from "../lab/decap.js";

// ---- tiny builders ----

function ip6(a: string): Buffer {
  // Only the forms these tests use: "2001:2:0:18::5", "2001:2:0:19::1" (one "::").
  const [head, tail] = a.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill("0"), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), 2 * i));
  return b;
}

interface Ipv6Opts {
  src?: string;
  dst: string;
  nextHeader: number;
  version?: number;
  payloadLength?: number;
  hopLimit?: number;
}

function ipv6(o: Ipv6Opts, payload: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE((((o.version ?? 6) << 28) | 0x12345) >>> 0, 0); // flow label 0x12345
  h.writeUInt16BE(o.payloadLength ?? payload.length, 4);
  h[6] = o.nextHeader;
  h[7] = o.hopLimit ?? 64;
  ip6(o.src ?? "2001:2:0:18::252:1").copy(h, 8);
  ip6(o.dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

function checksum(b: Buffer, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i += 2) s += (b[i] << 8) | b[i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function ipv4(dst: string, payload: Buffer, o: { badChecksum?: boolean } = {}): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h[8] = 64;
  h[9] = 17;
  Buffer.from([198, 18, 252, 1]).copy(h, 12);
  Buffer.from(dst.split(".").map(Number)).copy(h, 16);
  h.writeUInt16BE(checksum(h, 0, 20) ^ (o.badChecksum ? 0x0101 : 0), 10);
  return Buffer.concat([h, payload]);
}

function gre(flags = 0, protocol = 0x86dd): Buffer {
  const g = Buffer.alloc(4);
  g.writeUInt16BE(flags, 0);
  g.writeUInt16BE(protocol, 2);
  return g;
}

const UDP = Buffer.from([0x9c, 0x40, 0x27, 0x0f, 0x00, 0x0d, 0x12, 0x34, 0x68, 0x65, 0x6c, 0x6c, 0x6f]); // 40000 -> 9999 "hello"
const INNER6 = ipv6({ dst: "2001:2:0:18::252:1", nextHeader: 17 }, UDP);
const INNER4 = ipv4("198.18.252.1", UDP);
/** The next layer of a stack: IPv6 to r4's address, GRE, the innermost packet. */
const NEXT6 = ipv6({ dst: "2001:2:0:18::5", nextHeader: 47 }, Buffer.concat([gre(), INNER6]));

const GRE = 47;
const IP6 = 41;
const IP4 = 4;

// ---- the payload as an AF_INET6 raw socket receives it: (next header, bytes) ----

interface Case {
  nextHeader: number;
  in: Buffer;
  want: { inner: Buffer; dst: string; family: "ipv4" | "ipv6" } | { drop: string };
}

const payloadCases: Record<string, Case> = {
  "GRE 0x86DD: the inner IPv6 packet after the 4-byte GRE header": { nextHeader: GRE, in: Buffer.concat([gre(), INNER6]), want: { inner: INNER6, dst: "2001:2:0:18::252:1", family: "ipv6" } },
  "GRE 0x86DD, stacked: only this layer comes off": { nextHeader: GRE, in: Buffer.concat([gre(), NEXT6]), want: { inner: NEXT6, dst: "2001:2:0:18::5", family: "ipv6" } },
  "GRE 0x0800: an IPv4 packet inside (RFC 7676 §3)": { nextHeader: GRE, in: Buffer.concat([gre(0, 0x0800), INNER4]), want: { inner: INNER4, dst: "198.18.252.1", family: "ipv4" } },
  "GRE reserved bits 6-12 are ignored": { nextHeader: GRE, in: Buffer.concat([gre(0x0208), INNER6]), want: { inner: INNER6, dst: "2001:2:0:18::252:1", family: "ipv6" } },
  "GRE padding after the inner payload length is not forwarded": { nextHeader: GRE, in: Buffer.concat([gre(), INNER6, Buffer.alloc(6)]), want: { inner: INNER6, dst: "2001:2:0:18::252:1", family: "ipv6" } },
  "GRE with checksum bit": { nextHeader: GRE, in: Buffer.concat([gre(0x8000), Buffer.alloc(4), INNER6]), want: { drop: "gre-checksum" } },
  "GRE with key bit": { nextHeader: GRE, in: Buffer.concat([gre(0x2000), Buffer.alloc(4), INNER6]), want: { drop: "gre-key" } },
  "GRE with sequence bit": { nextHeader: GRE, in: Buffer.concat([gre(0x1000), Buffer.alloc(4), INNER6]), want: { drop: "gre-sequence" } },
  "GRE with routing bit": { nextHeader: GRE, in: Buffer.concat([gre(0x4000), INNER6]), want: { drop: "gre-reserved" } },
  "GRE version 1": { nextHeader: GRE, in: Buffer.concat([gre(0x0001), INNER6]), want: { drop: "gre-version" } },
  "GRE protocol transparent ethernet 0x6558": { nextHeader: GRE, in: Buffer.concat([gre(0, 0x6558), INNER6]), want: { drop: "gre-protocol" } },
  "GRE header cut": { nextHeader: GRE, in: Buffer.from([0, 0, 0x86]), want: { drop: "truncated" } },
  "GRE 0x86DD but an IPv4 packet inside": { nextHeader: GRE, in: Buffer.concat([gre(), INNER4, Buffer.alloc(20)]), want: { drop: "inner-not-ipv6" } },
  "GRE 0x0800 but an IPv6 packet inside": { nextHeader: GRE, in: Buffer.concat([gre(0, 0x0800), INNER6]), want: { drop: "inner-not-ipv4" } },
  "GRE 0x0800, inner IPv4 header checksum wrong": { nextHeader: GRE, in: Buffer.concat([gre(0, 0x0800), ipv4("198.18.252.1", UDP, { badChecksum: true })]), want: { drop: "inner-bad-checksum" } },
  "GRE 0x86DD, inner shorter than an IPv6 header": { nextHeader: GRE, in: Buffer.concat([gre(), INNER6.subarray(0, 39)]), want: { drop: "inner-truncated" } },
  "GRE 0x86DD, inner payload length beyond the packet": { nextHeader: GRE, in: Buffer.concat([gre(), ipv6({ dst: "2001:2:0:18::252:1", nextHeader: 17, payloadLength: 200 }, UDP)]), want: { drop: "inner-truncated" } },
  "IPv6-in-IPv6 (41): the payload is the inner packet": { nextHeader: IP6, in: INNER6, want: { inner: INNER6, dst: "2001:2:0:18::252:1", family: "ipv6" } },
  "IPv6-in-IPv6 around GRE over IPv6 (mixed stack)": { nextHeader: IP6, in: NEXT6, want: { inner: NEXT6, dst: "2001:2:0:18::5", family: "ipv6" } },
  "IPv6-in-IPv6: padding is not forwarded": { nextHeader: IP6, in: Buffer.concat([INNER6, Buffer.alloc(3)]), want: { inner: INNER6, dst: "2001:2:0:18::252:1", family: "ipv6" } },
  "IPv6-in-IPv6: inner version 4": { nextHeader: IP6, in: Buffer.concat([INNER4, Buffer.alloc(20)]), want: { drop: "inner-not-ipv6" } },
  "IPv6-in-IPv6: empty": { nextHeader: IP6, in: Buffer.alloc(0), want: { drop: "inner-truncated" } },
  "IPv6-in-IPv6: inner payload length beyond the packet": { nextHeader: IP6, in: INNER6.subarray(0, INNER6.length - 1), want: { drop: "inner-truncated" } },
  "IPv4-in-IPv6 (4): an IPv4 packet": { nextHeader: IP4, in: INNER4, want: { inner: INNER4, dst: "198.18.252.1", family: "ipv4" } },
  "IPv4-in-IPv6: inner not IPv4": { nextHeader: IP4, in: INNER6, want: { drop: "inner-not-ipv4" } },
  "next header UDP is not a tunnel": { nextHeader: 17, in: UDP, want: { drop: "not-tunnel" } },
};

function check(got: DecapResult, want: Case["want"], input: Buffer): void {
  if ("drop" in want) {
    assert.deepEqual(got, want);
    return;
  }
  assert.ok("inner" in got, `expected a packet, got ${JSON.stringify(got)}`);
  assert.equal(got.dst, want.dst);
  assert.equal(got.family, want.family);
  assert.deepEqual(Buffer.from(got.inner), want.inner);
  assert.equal(got.inner.buffer, input.buffer, "inner must be a view of the input, not a copy");
}

for (const [name, c] of Object.entries(payloadCases)) {
  test(`decapsulate6 (raw socket payload): ${name}`, () => check(decapsulate6(c.in, c.nextHeader), c.want, c.in));
}

// ---- whole packets, outer IPv6 header first ----

const packetCases: Record<string, { in: Buffer; want: Case["want"] }> = {
  "GRE over IPv6 to r2": { in: ipv6({ dst: "2001:2:0:18::1", nextHeader: GRE }, Buffer.concat([gre(), NEXT6])), want: { inner: NEXT6, dst: "2001:2:0:18::5", family: "ipv6" } },
  "IPv6-in-IPv6 to r2's loopback": { in: ipv6({ dst: "2001:2:0:19::2", nextHeader: IP6 }, INNER6), want: { inner: INNER6, dst: "2001:2:0:18::252:1", family: "ipv6" } },
  "IPv4-in-IPv6": { in: ipv6({ dst: "2001:2:0:19::2", nextHeader: IP4 }, INNER4), want: { inner: INNER4, dst: "198.18.252.1", family: "ipv4" } },
  "GRE over IPv6 carrying IPv4": { in: ipv6({ dst: "2001:2:0:18::1", nextHeader: GRE }, Buffer.concat([gre(0, 0x0800), INNER4])), want: { inner: INNER4, dst: "198.18.252.1", family: "ipv4" } },
  "trailing bytes after the outer payload length are ignored": {
    in: Buffer.concat([ipv6({ dst: "2001:2:0:18::1", nextHeader: IP6 }, INNER6), Buffer.alloc(8, 0xee)]),
    want: { inner: INNER6, dst: "2001:2:0:18::252:1", family: "ipv6" },
  },
  "outer payload length cuts the inner packet": { in: ipv6({ dst: "2001:2:0:18::1", nextHeader: IP6, payloadLength: INNER6.length - 4 }, INNER6), want: { drop: "inner-truncated" } },
  "outer payload length beyond the packet": { in: ipv6({ dst: "2001:2:0:18::1", nextHeader: IP6, payloadLength: INNER6.length + 1 }, INNER6), want: { drop: "truncated" } },
  "shorter than an IPv6 header": { in: ipv6({ dst: "2001:2:0:18::1", nextHeader: IP6 }, INNER6).subarray(0, 39), want: { drop: "truncated" } },
  "outer version 4": { in: INNER4.length >= 40 ? INNER4 : Buffer.concat([INNER4, Buffer.alloc(40)]), want: { drop: "not-ipv6" } },
  "outer version 5": { in: ipv6({ dst: "2001:2:0:18::1", nextHeader: IP6, version: 5 }, INNER6), want: { drop: "not-ipv6" } },
  "an extension header first (hop-by-hop, 0) is not a tunnel": { in: ipv6({ dst: "2001:2:0:18::1", nextHeader: 0 }, Buffer.concat([Buffer.from([41, 0, 1, 4, 0, 0, 0, 0]), INNER6])), want: { drop: "not-tunnel" } },
};

for (const [name, c] of Object.entries(packetCases)) {
  test(`decapsulatePacket6 (whole packet): ${name}`, () => check(decapsulatePacket6(c.in), c.want, c.in));
}

test("decap6Into: reuses one slot, respects start and end, codes index DROP_REASONS", () => {
  const slot = newDecap6Slot();
  const buf = Buffer.alloc(2048, 0xaa);
  const pkt = ipv6({ dst: "2001:2:0:18::1", nextHeader: GRE }, Buffer.concat([gre(), INNER6]));
  pkt.copy(buf, 100);
  // As a raw socket hands it: the GRE header at 140.
  assert.equal(decap6Into(buf, slot, GRE, 140, 100 + pkt.length), 0);
  assert.deepEqual({ ...slot }, { offset: 144, length: INNER6.length, dst: slot.dst, family: 6, dst6: 144 + 24 });
  assert.equal(DROP_REASONS[decap6Into(buf, slot, GRE, 140, 143)], "truncated");
  assert.equal(DROP_REASONS[decap6Into(buf, slot, GRE, 140, 3000)], "truncated");
  // The same slot then takes an IPv4 inner packet.
  const p4 = ipv6({ dst: "2001:2:0:18::1", nextHeader: IP4 }, INNER4);
  p4.copy(buf);
  assert.equal(decapPacket6Into(buf, slot, p4.length), 0);
  assert.deepEqual({ offset: slot.offset, length: slot.length, family: slot.family, dst: slot.dst }, { offset: 40, length: INNER4.length, family: 4, dst: 0xc612fc01 });
  assert.equal(DROP_REASONS[decapPacket6Into(buf, slot, 39)], "truncated");
  assert.equal(new Set(DROP_REASONS).size, DROP_REASONS.length);
  assert.deepEqual(DROP_REASONS.slice(16), ["inner-not-ipv6", "not-ipv6"], "new reasons appended: the IPv4 codes keep their numbers");
});

test("decapsulate6: the inner packet is not modified (hop limit, flow label kept)", () => {
  const inner = ipv6({ dst: "2001:2:0:18::252:1", nextHeader: 17, hopLimit: 1 }, UDP);
  const got = decapsulate6(Buffer.concat([gre(), inner]), GRE);
  assert.ok("inner" in got);
  assert.equal(got.inner[7], 1);
  assert.equal(got.inner.readUInt32BE(0) & 0xfffff, 0x12345);
  assert.deepEqual(Buffer.from(got.inner), inner);
});
