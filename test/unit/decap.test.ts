import { test } from "node:test";
import assert from "node:assert/strict";
import { DROP_REASONS, decapInto, decapsulate, ipv4ToString, newDecapSlot, type DecapResult } from "../lab/decap.js";

// ---- tiny builders (independent of prober/packet) ----

function checksum(b: Buffer, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i += 2) s += (b[i] << 8) | b[i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function ip(a: string): Buffer {
  return Buffer.from(a.split(".").map(Number));
}

interface Ipv4Opts {
  src?: string;
  dst: string;
  protocol: number;
  options?: Buffer;
  ttl?: number;
  version?: number;
  fragment?: number;
  totalLength?: number;
  badChecksum?: boolean;
}

function ipv4(o: Ipv4Opts, payload: Buffer): Buffer {
  const opt = o.options ?? Buffer.alloc(0);
  const hl = 20 + opt.length;
  const h = Buffer.alloc(hl);
  h[0] = ((o.version ?? 4) << 4) | (hl / 4);
  h.writeUInt16BE(o.totalLength ?? hl + payload.length, 2);
  h.writeUInt16BE(0x1234, 4);
  h.writeUInt16BE(o.fragment ?? 0, 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.protocol;
  ip(o.src ?? "198.18.252.1").copy(h, 12);
  ip(o.dst).copy(h, 16);
  opt.copy(h, 20);
  h.writeUInt16BE(checksum(h, 0, hl) ^ (o.badChecksum ? 0x0101 : 0), 10);
  return Buffer.concat([h, payload]);
}

function gre(flags = 0, protocol = 0x0800): Buffer {
  const g = Buffer.alloc(4);
  g.writeUInt16BE(flags, 0);
  g.writeUInt16BE(protocol, 2);
  return g;
}

function udp(dport: number, payload: Buffer): Buffer {
  const u = Buffer.alloc(8);
  u.writeUInt16BE(40000, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([u, payload]); // checksum 0: none (IPv4)
}

const INNER = ipv4({ dst: "198.18.252.1", protocol: 17 }, udp(9999, Buffer.from("hello")));
const outer = (o: Partial<Ipv4Opts> = {}, g = gre(), inner = INNER): Buffer =>
  ipv4({ dst: "198.18.0.1", protocol: 47, ...o }, Buffer.concat([g, inner]));
/** IP-in-IP (RFC 2003): protocol 4, the inner packet right after the outer header. */
const ipip = (o: Partial<Ipv4Opts> = {}, inner = INNER): Buffer => ipv4({ dst: "198.18.0.1", protocol: 4, ...o }, inner);

// ---- table ----

interface Case {
  in: Buffer;
  want: { inner: Buffer; dst: string } | { drop: string };
}

const cases: Record<string, Case> = {
  "good packet: inner is the subarray after outer IPv4 + GRE": { in: outer(), want: { inner: INNER, dst: "198.18.252.1" } },
  "good packet, stacked: only the outer layer comes off": {
    in: outer({}, gre(), ipv4({ dst: "198.18.0.5", protocol: 47 }, Buffer.concat([gre(), INNER]))),
    want: { inner: ipv4({ dst: "198.18.0.5", protocol: 47 }, Buffer.concat([gre(), INNER])), dst: "198.18.0.5" },
  },
  "outer IHL > 5 with options: GRE found after the options": {
    in: outer({ options: Buffer.from([0x01, 0x01, 0x01, 0x00]) }), // NOP NOP NOP EOL
    want: { inner: INNER, dst: "198.18.252.1" },
  },
  "inner IHL > 5 with options: forwarded whole": {
    in: outer({}, gre(), ipv4({ dst: "198.19.0.6", protocol: 17, options: Buffer.from([1, 1, 1, 0, 1, 1, 1, 0]) }, udp(7, Buffer.from("x")))),
    want: { inner: ipv4({ dst: "198.19.0.6", protocol: 17, options: Buffer.from([1, 1, 1, 0, 1, 1, 1, 0]) }, udp(7, Buffer.from("x"))), dst: "198.19.0.6" },
  },
  "trailing bytes after the outer total length are ignored": {
    in: Buffer.concat([outer(), Buffer.from([0, 0, 0, 0])]),
    want: { inner: INNER, dst: "198.18.252.1" },
  },
  "padding after the inner total length is not forwarded": {
    in: outer({}, gre(), Buffer.concat([INNER, Buffer.alloc(6)])),
    want: { inner: INNER, dst: "198.18.252.1" },
  },
  "not GRE nor IP-in-IP (UDP)": { in: ipv4({ dst: "198.18.0.1", protocol: 17 }, udp(9, Buffer.from("x"))), want: { drop: "not-tunnel" } },
  "not GRE nor IP-in-IP (IPv6-in-IPv4, protocol 41)": { in: ipv4({ dst: "198.18.0.1", protocol: 41 }, INNER), want: { drop: "not-tunnel" } },
  "IP-in-IP: inner is the subarray after the outer IPv4 header": { in: ipip(), want: { inner: INNER, dst: "198.18.252.1" } },
  "IP-in-IP with outer options: inner found after them": { in: ipip({ options: Buffer.from([1, 1, 1, 0]) }), want: { inner: INNER, dst: "198.18.252.1" } },
  "IP-in-IP around GRE (mixed stack): only the outer layer comes off": {
    in: ipip({}, outer({ dst: "198.18.0.5" })),
    want: { inner: outer({ dst: "198.18.0.5" }), dst: "198.18.0.5" },
  },
  "GRE around IP-in-IP (mixed stack): only the outer layer comes off": {
    in: outer({}, gre(), ipip({ dst: "198.18.0.5" })),
    want: { inner: ipip({ dst: "198.18.0.5" }), dst: "198.18.0.5" },
  },
  "IP-in-IP: padding after the inner total length is not forwarded": { in: ipip({}, Buffer.concat([INNER, Buffer.alloc(6)])), want: { inner: INNER, dst: "198.18.252.1" } },
  "IP-in-IP: outer header only": { in: ipip({}, Buffer.alloc(0)), want: { drop: "inner-truncated" } },
  "IP-in-IP: shorter than the outer total length": { in: ipip().subarray(0, 30), want: { drop: "truncated" } },
  "IP-in-IP: outer fragment (MF)": { in: ipip({ fragment: 0x2000 }), want: { drop: "fragment" } },
  "IP-in-IP: inner not IPv4": { in: ipip({}, ipv4({ dst: "198.18.252.1", protocol: 17, version: 6 }, udp(9999, Buffer.from("x")))), want: { drop: "inner-not-ipv4" } },
  "IP-in-IP: inner bad header checksum": { in: ipip({}, ipv4({ dst: "198.18.252.1", protocol: 17, badChecksum: true }, udp(9999, Buffer.from("x")))), want: { drop: "inner-bad-checksum" } },
  "IP-in-IP: inner total length beyond the packet": { in: ipip({}, ipv4({ dst: "198.18.252.1", protocol: 17, totalLength: 200 }, udp(9999, Buffer.from("x")))), want: { drop: "inner-truncated" } },
  "not IPv4 (version 6)": { in: outer({ version: 6 }), want: { drop: "not-ipv4" } },
  "GRE with key bit": { in: outer({}, Buffer.concat([gre(0x2000), Buffer.alloc(4)])), want: { drop: "gre-key" } },
  "GRE with checksum bit": { in: outer({}, Buffer.concat([gre(0x8000), Buffer.alloc(4)])), want: { drop: "gre-checksum" } },
  "GRE with sequence bit": { in: outer({}, Buffer.concat([gre(0x1000), Buffer.alloc(4)])), want: { drop: "gre-sequence" } },
  "GRE with routing bit (RFC 1701)": { in: outer({}, gre(0x4000)), want: { drop: "gre-reserved" } },
  "GRE with recursion control (bit 5)": { in: outer({}, gre(0x0400)), want: { drop: "gre-reserved" } },
  "GRE reserved bits 6-12 are ignored (RFC 2784 §2.3)": { in: outer({}, gre(0x0200 | 0x0008)), want: { inner: INNER, dst: "198.18.252.1" } },
  "GRE version 1 (PPTP)": { in: outer({}, gre(0x0001)), want: { drop: "gre-version" } },
  "wrong protocol type (IPv6 0x86dd)": { in: outer({}, gre(0, 0x86dd)), want: { drop: "gre-protocol" } },
  "wrong protocol type (transparent ethernet 0x6558)": { in: outer({}, gre(0, 0x6558)), want: { drop: "gre-protocol" } },
  "truncated: 10 bytes": { in: outer().subarray(0, 10), want: { drop: "truncated" } },
  "truncated: shorter than the outer total length": { in: outer().subarray(0, 40), want: { drop: "truncated" } },
  "truncated: outer header only": { in: ipv4({ dst: "198.18.0.1", protocol: 47 }, Buffer.alloc(0)), want: { drop: "truncated" } },
  "truncated: outer IHL beyond the data": { in: outer({ options: Buffer.alloc(40) }).subarray(0, 40), want: { drop: "truncated" } },
  "truncated: GRE header cut": { in: ipv4({ dst: "198.18.0.1", protocol: 47 }, Buffer.from([0, 0])), want: { drop: "truncated" } },
  "outer total length below the header length": { in: outer({ totalLength: 12 }), want: { drop: "truncated" } },
  "outer IHL < 5": {
    in: (() => {
      const b = outer();
      b[0] = 0x44;
      return b;
    })(),
    want: { drop: "bad-ihl" },
  },
  "outer fragment (MF)": { in: outer({ fragment: 0x2000 }), want: { drop: "fragment" } },
  "inner shorter than an IPv4 header": { in: outer({}, gre(), Buffer.alloc(12)), want: { drop: "inner-truncated" } },
  "inner total length beyond the packet": { in: outer({}, gre(), ipv4({ dst: "198.18.252.1", protocol: 17, totalLength: 200 }, udp(9999, Buffer.from("x")))), want: { drop: "inner-truncated" } },
  "inner not IPv4": { in: outer({}, gre(), ipv4({ dst: "198.18.252.1", protocol: 17, version: 6 }, udp(9999, Buffer.from("x")))), want: { drop: "inner-not-ipv4" } },
  "inner bad header checksum": { in: outer({}, gre(), ipv4({ dst: "198.18.252.1", protocol: 17, badChecksum: true }, udp(9999, Buffer.from("x")))), want: { drop: "inner-bad-checksum" } },
};

for (const [name, c] of Object.entries(cases)) {
  test(`decapsulate: ${name}`, () => {
    const got: DecapResult = decapsulate(c.in);
    if ("drop" in c.want) {
      assert.deepEqual(got, c.want);
    } else {
      assert.ok("inner" in got, `expected a packet, got ${JSON.stringify(got)}`);
      assert.equal(got.dst, c.want.dst);
      assert.deepEqual(Buffer.from(got.inner), c.want.inner);
      assert.equal(got.inner.buffer, c.in.buffer, "inner must be a view of the input, not a copy");
    }
  });
}

test("decapInto: reuses one slot, respects an explicit length, codes index DROP_REASONS", () => {
  const slot = newDecapSlot();
  const buf = Buffer.alloc(2048);
  const pkt = outer();
  pkt.copy(buf);
  assert.equal(decapInto(buf, slot, pkt.length), 0);
  assert.deepEqual({ ...slot, dst: ipv4ToString(slot.dst) }, { offset: 24, length: INNER.length, dst: "198.18.252.1" });
  assert.equal(DROP_REASONS[decapInto(buf, slot, 30)], "truncated");
  assert.equal(DROP_REASONS[decapInto(Buffer.alloc(0), slot)], "truncated");
  const ip4 = ipip();
  ip4.copy(buf);
  assert.equal(decapInto(buf, slot, ip4.length), 0);
  assert.deepEqual({ ...slot, dst: ipv4ToString(slot.dst) }, { offset: 20, length: INNER.length, dst: "198.18.252.1" });
  assert.equal(DROP_REASONS[0], "ok");
  assert.equal(new Set(DROP_REASONS).size, DROP_REASONS.length);
});

test("decapsulate: the inner packet is not modified (TTL, ID, checksum kept)", () => {
  const inner = ipv4({ dst: "198.18.252.1", protocol: 17, ttl: 1 }, udp(9999, Buffer.from("ttl one")));
  const got = decapsulate(outer({}, gre(), inner));
  assert.ok("inner" in got);
  assert.equal(got.inner[8], 1);
  assert.deepEqual(Buffer.from(got.inner), inner);
});

test("ipv4ToString: unsigned, big-endian", () => {
  assert.equal(ipv4ToString(0xc6120001), "198.18.0.1");
  assert.equal(ipv4ToString(0xffffffff), "255.255.255.255");
  assert.equal(ipv4ToString(0), "0.0.0.0");
});
