// Table tests for the IPv6 side of prober/packet/: addresses (RFC 4291 text in, RFC 5952 text
// out), the IPv6 header (decode / round-trip / truncated rows), the RFC 8200 §8.1 pseudo-header
// and the mandatory UDP checksum (checked against a naive sum written here, not checksum.ts),
// the IPv6 layers (GRE over IPv6, IPv6-in-IPv6) and ProbeTemplate6 on the NANOG 6 path
// r1-r2-r4-r6 with 2001:2::/48 addresses: every layer field by field after each patch, patch()
// equal to a from-scratch build, the flow label and source port per probe, the MTU refusal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isIPv6 } from "node:net";
import { IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_UDP, PacketDecodeError, type PacketDecodeErrorKind } from "../../prober/packet/ipv4.js";
import {
  IPV6_HEADER_LENGTH,
  bytesToIpv6,
  ipv6PseudoHeaderSum,
  ipv6ToBytes,
  readIpv6Header,
  writeIpv6Header,
  type Ipv6Header,
  type Ipv6HeaderFields,
} from "../../prober/packet/ipv6.js";
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, readGreHeader, writeGreHeader } from "../../prober/packet/gre.js";
import { readUdpHeader, verifyUdp6Checksum, writeUdp6Checksum, writeUdpHeader } from "../../prober/packet/udp.js";
import { PAYLOAD_HEADER_LENGTH, parsePayload, verifyMac, writePayload } from "../../prober/packet/payload.js";
import { GRE6_LAYER_LENGTH, IP6IP6_LAYER_LENGTH, encap6LayerLength, writeEncap6Layer, type Encap } from "../../prober/packet/encap6.js";
import { PacketTooLargeError, ProbeTemplate, ProbeTemplateError } from "../../prober/packet/template.js";
import { ProbeTemplate6, type ProbeTemplate6Options } from "../../prober/packet/template6.js";
import { LINKTYPE_IPV6, LINKTYPE_RAW, encodePcap } from "../../prober/packet/pcap.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s:]/g, ""), "hex");

function decodeError(fn: () => unknown): PacketDecodeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PacketDecodeError, `expected PacketDecodeError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected a PacketDecodeError");
}

// ---- an independent checksum: the pseudo-header spelled out as bytes, summed word by word ----

function naiveSum16(bytes: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += bytes[i] * 256 + (i + 1 < bytes.length ? bytes[i + 1] : 0);
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}
/** RFC 8200 §8.1 UDP checksum of `dgram` (its checksum field taken as zero), 0 sent as 0xFFFF. */
function naiveUdp6Checksum(src: string, dst: string, dgram: Uint8Array): number {
  const d = Buffer.from(dgram);
  d[6] = 0;
  d[7] = 0;
  const len = d.length;
  const pseudo = [...ipv6ToBytes(src), ...ipv6ToBytes(dst), (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff, 0, 0, 0, 17];
  const c = 0xffff - naiveSum16([...pseudo, ...d]);
  return c === 0 ? 0xffff : c;
}

// ---------------------------------------------------------------- addresses

const addressCases: Record<string, { text: string; bytes: string; canonical: string }> = {
  "full form, leading zeros": { text: "2001:0002:0000:0000:0000:0000:0000:0001", bytes: "20010002000000000000000000000001", canonical: "2001:2::1" },
  "loopback": { text: "::1", bytes: "00000000000000000000000000000001", canonical: "::1" },
  "unspecified": { text: "::", bytes: "00000000000000000000000000000000", canonical: "::" },
  "trailing ::": { text: "2001:2::", bytes: "20010002000000000000000000000000", canonical: "2001:2::" },
  "upper case in, lower case out (RFC 5952 §4.3)": { text: "2001:2:0:AB::CD", bytes: "20010002000000ab00000000000000cd", canonical: "2001:2:0:ab::cd" },
  "longest run is shortened (§4.2.1)": { text: "2001:2:0:0:1:0:0:0", bytes: "20010002000000000001000000000000", canonical: "2001:2:0:0:1::" },
  "first of equal runs (§4.2.3)": { text: "2001:db8:0:0:1:0:0:1", bytes: "20010db8000000000001000000000001", canonical: "2001:db8::1:0:0:1" },
  "a single zero group stays (§4.2.2)": { text: "2001:db8:0:1:1:1:1:1", bytes: "20010db8000000010001000100010001", canonical: "2001:db8:0:1:1:1:1:1" },
  "embedded dotted quad": { text: "::ffff:198.18.0.1", bytes: "00000000000000000000ffffc6120001", canonical: "::ffff:c612:1" },
  "eight groups with a dotted quad": { text: "2001:2:0:0:0:0:198.18.0.1", bytes: "200100020000000000000000c6120001", canonical: "2001:2::c612:1" },
};
for (const [name, c] of Object.entries(addressCases)) {
  test(`ipv6 address: ${name}`, () => {
    assert.equal(Buffer.from(ipv6ToBytes(c.text)).toString("hex"), c.bytes);
    assert.equal(bytesToIpv6(hex(c.bytes)), c.canonical);
    assert.equal(Buffer.from(ipv6ToBytes(c.canonical)).toString("hex"), c.bytes, "canonical form parses back");
    assert.ok(isIPv6(c.text) && isIPv6(c.canonical), "node agrees both are IPv6");
  });
}

const badAddresses: Record<string, [string, RegExp]> = {
  "two ::": ["2001:2::1::2", /more than one '::'/],
  "seven groups": ["1:2:3:4:5:6:7", /7 groups, expected 8/],
  "nine groups": ["1:2:3:4:5:6:7:8:9", /9 groups, expected 8/],
  ":: standing for no group": ["1:2:3:4:5:6:7::8", /8 groups around '::', at most 7/],
  "five hex digits": ["12345::", /group "12345" is not 1-4 hex digits/],
  "not hex": ["::g", /group "g"/],
  "zone id": ["fe80::1%eth0", /group "1%eth0"/],
  "IPv4 address": ["198.18.0.1", /not a dotted quad|groups/],
  "dotted quad not last": ["::1.2.3.4:1", /dotted quad "1.2.3.4" is not the last 32 bits/],
  "bad dotted quad": ["::1.2.3.256", /"1.2.3.256" is not a dotted quad/],
  "leading colon": [":1::2", /empty group/],
  "trailing colon": ["1::2:", /empty group/],
  "empty string": ["", /0 groups, expected 8/],
};
for (const [name, [text, message]] of Object.entries(badAddresses)) {
  test(`ipv6 address: reject ${name}`, () => {
    assert.throws(() => ipv6ToBytes(text), (e: unknown) => e instanceof TypeError && message.test(e.message) && e.message.includes(`"${text}"`));
  });
}

test("ipv6 address: written at an offset; a range outside the buffer is a RangeError", () => {
  const b = Buffer.alloc(20, 0xee);
  ipv6ToBytes("2001:2::9", b, 2);
  assert.equal(b.toString("hex"), "eeee" + "20010002000000000000000000000009" + "eeee");
  assert.equal(bytesToIpv6(b, 2), "2001:2::9");
  assert.throws(() => ipv6ToBytes("::1", b, 5), RangeError);
  assert.throws(() => bytesToIpv6(b, 5), RangeError);
});

// ---------------------------------------------------------------- IPv6 header (RFC 8200 §3)

// Version 6, traffic class 0xb9 (DSCP 46, ECN 1), flow label 0x12345, payload length 8,
// next header 17, hop limit 64, 2001:2::1 -> 2001:2::2, then an 8-byte payload.
const HEADER = hex("6b912345 0008 11 40 20010002000000000000000000000001 20010002000000000000000000000002 0102030405060708");

test("ipv6: decode a header field by field", () => {
  const h = readIpv6Header(HEADER, 0);
  assert.deepEqual(h, {
    version: 6, trafficClass: 0xb9, dscp: 46, ecn: 1, flowLabel: 0x12345, payloadLength: 8, nextHeader: 17, hopLimit: 64,
    src: "2001:2::1", dst: "2001:2::2", start: 0, next: 40, end: 48,
  } satisfies Ipv6Header);
});

const roundTrips: Record<string, Ipv6HeaderFields> = {
  "UDP, all fields set": { src: "2001:2::1", dst: "2001:2::2", nextHeader: IPPROTO_UDP, payloadLength: 8, hopLimit: 64, dscp: 46, ecn: 1, flowLabel: 0x12345 },
  "GRE, defaults (ECN 0, unlabelled)": { src: "2001:2:0:1::100", dst: "2001:2::5", nextHeader: IPPROTO_GRE, payloadLength: 8, hopLimit: 1, dscp: 0 },
  "IPv6-in-IPv6, extremes": { src: "2001:2:ffff:ffff:ffff:ffff:ffff:ffff", dst: "::1", nextHeader: IPPROTO_IPV6, payloadLength: 8, hopLimit: 255, dscp: 63, ecn: 3, flowLabel: 0xfffff },
  "addresses as bytes": { src: ipv6ToBytes("2001:2::a"), dst: ipv6ToBytes("2001:2::b"), nextHeader: 59, payloadLength: 8, hopLimit: 9, dscp: 10 },
};
for (const [name, f] of Object.entries(roundTrips)) {
  test(`ipv6: round trip, ${name}`, () => {
    const b = Buffer.alloc(IPV6_HEADER_LENGTH + 8 + 2);
    assert.equal(writeIpv6Header(b, 2, f), 42);
    const h = readIpv6Header(b, 2);
    const text = (a: string | Uint8Array): string => (typeof a === "string" ? bytesToIpv6(ipv6ToBytes(a)) : bytesToIpv6(a));
    assert.deepEqual(
      [h.version, h.nextHeader, h.payloadLength, h.hopLimit, h.dscp, h.ecn, h.flowLabel, h.src, h.dst, h.start, h.next, h.end],
      [6, f.nextHeader, f.payloadLength, f.hopLimit, f.dscp, f.ecn ?? 0, f.flowLabel ?? 0, text(f.src), text(f.dst), 2, 42, 50],
    );
    assert.equal(h.trafficClass, (f.dscp << 2) | (f.ecn ?? 0));
  });
}
test("ipv6: the written bytes are the decode vector's", () => {
  const b = Buffer.alloc(48);
  writeIpv6Header(b, 0, { src: "2001:2::1", dst: "2001:2::2", nextHeader: 17, payloadLength: 8, hopLimit: 64, dscp: 46, ecn: 1, flowLabel: 0x12345 });
  HEADER.copy(b, 40, 40);
  assert.deepEqual(b, HEADER);
});

const ipv6Rejects: Record<string, { buf: Buffer; off?: number; kind: PacketDecodeErrorKind }> = {
  "39 bytes": { buf: HEADER.subarray(0, 39), kind: "short" },
  "an offset past the end": { buf: HEADER, off: 20, kind: "short" },
  "version 4": { buf: Buffer.concat([hex("4b912345"), HEADER.subarray(4)]), kind: "version" },
  "payload length past the buffer": { buf: HEADER.subarray(0, 47), kind: "truncated" },
};
for (const [name, c] of Object.entries(ipv6Rejects)) {
  test(`ipv6: reject ${name}`, () => {
    const e = decodeError(() => readIpv6Header(c.buf, c.off ?? 0));
    assert.deepEqual([e.layer, e.kind, e.offset], ["ipv6", c.kind, c.off ?? 0]);
  });
}
test("ipv6: partial accepts a cut-short packet (ICMPv6 quote) and clamps end", () => {
  const h = readIpv6Header(HEADER.subarray(0, 44), 0, { partial: true });
  assert.deepEqual([h.payloadLength, h.next, h.end], [8, 40, 44]);
});
test("ipv6: writeIpv6Header rejects out-of-range fields and bad addresses, naming them", () => {
  const ok: Ipv6HeaderFields = { src: "2001:2::1", dst: "2001:2::2", nextHeader: 17, payloadLength: 8, hopLimit: 64, dscp: 0 };
  const b = Buffer.alloc(48);
  const rows: Array<[Partial<Ipv6HeaderFields>, RegExp]> = [
    [{ dscp: 64 }, /ipv6 dscp 64 is not an integer 0-63/],
    [{ ecn: 4 }, /ipv6 ecn 4/],
    [{ flowLabel: 0x100000 }, /ipv6 flowLabel 1048576 is not an integer 0-1048575/],
    [{ hopLimit: 256 }, /ipv6 hopLimit 256/],
    [{ payloadLength: 65536 }, /ipv6 payloadLength 65536/],
    [{ nextHeader: -1 }, /ipv6 nextHeader -1/],
    [{ src: "198.18.0.1" }, /ipv6 src: invalid IPv6 address "198.18.0.1"/],
    [{ dst: new Uint8Array(4) }, /ipv6 dst: expected a string or 16 bytes/],
  ];
  for (const [o, message] of rows) assert.throws(() => writeIpv6Header(b, 0, { ...ok, ...o }), message);
  assert.throws(() => writeIpv6Header(b, 9, ok), /does not fit the 48-byte buffer/);
});

// ---------------------------------------------------------------- pseudo-header and UDP over IPv6

const udpCases: Record<string, { src: string; dst: string; data: Buffer }> = {
  "prober to itself, probe-sized": { src: "2001:2::100", dst: "2001:2::100", data: Buffer.from(Array.from({ length: 44 }, (_, i) => (i * 29 + 3) & 0xff)) },
  "odd length": { src: "2001:2::1", dst: "2001:2:0:ffff::2", data: Buffer.from("odd payload") },
  "loopback, empty": { src: "::1", dst: "::1", data: Buffer.alloc(0) },
  "all ones addresses, 1400 bytes": { src: "2001:2:ffff:ffff:ffff:ffff:ffff:ffff", dst: "2001:2:ffff:ffff:ffff:ffff:ffff:fffe", data: Buffer.alloc(1400, 0xff) },
};
for (const [name, c] of Object.entries(udpCases)) {
  test(`udp over ipv6: checksum = the naive pseudo-header sum, ${name}`, () => {
    const d = Buffer.alloc(8 + c.data.length);
    writeUdpHeader(d, 0, { srcPort: 40001, dstPort: 33434, length: d.length });
    c.data.copy(d, 8);
    const src = ipv6ToBytes(c.src);
    const dst = ipv6ToBytes(c.dst);
    const written = writeUdp6Checksum(d, 0, src, dst);
    assert.equal(written, naiveUdp6Checksum(c.src, c.dst, d));
    assert.equal(d.readUInt16BE(6), written);
    assert.equal(verifyUdp6Checksum(d, 0, src, dst), "good");
    // The pseudo-header alone, against its bytes.
    const pseudo = [...src, ...dst, 0, 0, d.length >> 8, d.length & 0xff, 0, 0, 0, 17];
    assert.equal(ipv6PseudoHeaderSum(src, 0, dst, 0, d.length), naiveSum16(pseudo));
    d[d.length - 1] ^= 0x40;
    if (d.length > 8) assert.equal(verifyUdp6Checksum(d, 0, src, dst), "bad");
  });
}

test("udp over ipv6: a computed 0 is sent as 0xFFFF (never 0), and verifies; a 0 field is 'absent'", () => {
  const src = ipv6ToBytes("2001:2::1");
  const dst = ipv6ToBytes("2001:2::2");
  const d = Buffer.alloc(12);
  writeUdpHeader(d, 0, { srcPort: 1, dstPort: 2, length: 12 });
  // Choose the last word so that the sum is 0xFFFF: the complement, the checksum, is then 0.
  d.writeUInt16BE(0, 10);
  const partial = naiveSum16([...src, ...dst, 0, 0, 0, 12, 0, 0, 0, 17, ...d]);
  d.writeUInt16BE(0xffff - partial, 10);
  assert.equal(writeUdp6Checksum(d, 0, src, dst), 0xffff);
  assert.equal(verifyUdp6Checksum(d, 0, src, dst), "good");
  d.writeUInt16BE(0, 6);
  assert.equal(verifyUdp6Checksum(d, 0, src, dst), "absent");
  assert.throws(() => writeUdp6Checksum(d, 0, src.subarray(0, 4), dst), /src must be 16 bytes/);
});

test("ipv6 pseudo-header: a 32-bit upper-layer length and another next header are summed", () => {
  const a = ipv6ToBytes("2001:2::1");
  const big = 0x12345;
  assert.equal(ipv6PseudoHeaderSum(a, 0, a, 0, big, 58), naiveSum16([...a, ...a, 0, 1, 0x23, 0x45, 0, 0, 0, 58]));
});

// ---------------------------------------------------------------- IPv6 layers (encap6.ts)

const layerCases: Record<string, { encap: Encap; inner: "ipv6" | "ipv4"; length: number; nextHeader: number; gre?: number }> = {
  "GRE over IPv6 carrying IPv6 (RFC 7676)": { encap: "gre", inner: "ipv6", length: 44, nextHeader: IPPROTO_GRE, gre: ETHERTYPE_IPV6 },
  "GRE over IPv6 carrying IPv4": { encap: "gre", inner: "ipv4", length: 44, nextHeader: IPPROTO_GRE, gre: ETHERTYPE_IPV4 },
  "IPv6-in-IPv6 (RFC 2473)": { encap: "ipip", inner: "ipv6", length: 40, nextHeader: IPPROTO_IPV6 },
  "IPv4-in-IPv6 (RFC 2473)": { encap: "ipip", inner: "ipv4", length: 40, nextHeader: IPPROTO_IPIP },
};
for (const [name, c] of Object.entries(layerCases)) {
  test(`writeEncap6Layer: ${name}`, () => {
    const b = Buffer.alloc(140);
    const next = writeEncap6Layer(b, 0, c.encap, { src: "2001:2::100", dst: "2001:2::1", payloadLength: 100, hopLimit: 64, dscp: 46, flowLabel: 7 }, c.inner);
    assert.equal(next, c.length);
    assert.equal(encap6LayerLength(c.encap), c.length);
    const h = readIpv6Header(b, 0);
    assert.deepEqual([h.nextHeader, h.dst, h.flowLabel, h.payloadLength], [c.nextHeader, "2001:2::1", 7, 100]);
    if (c.gre !== undefined) assert.equal(readGreHeader(b, 40).protocolType, c.gre);
    else assert.ok(b.subarray(40, 44).every((x) => x === 0), "nothing between the tunnel header and the inner packet");
  });
}
test("encap6: layer lengths, 44 GRE and 40 IPv6-in-IPv6", () => {
  assert.deepEqual([GRE6_LAYER_LENGTH, IP6IP6_LAYER_LENGTH], [44, 40]);
});

// ---------------------------------------------------------------- ProbeTemplate6

const PROBER = "2001:2:0:100::2";
// NANOG 6 r1 -> r2 -> r4 -> r6 and back, the lab's IPv6 counterparts of 198.18.0.x.
const FORWARD = ["2001:2::1", "2001:2::5", "2001:2::9"];
const REVERSE = [...FORWARD, "2001:2::8", "2001:2::4", "2001:2::"];
const KEY = Buffer.from("the lab key");
const G: Encap = "gre";
const I: Encap = "ipip";

const opts6 = (o: Partial<ProbeTemplate6Options> = {}): ProbeTemplate6Options => ({
  src: PROBER, hops: FORWARD, dstPort: 33434, srcPortBase: 40000, srcPortRange: 8, hopLimit: 64, dscp: 46, size: 0, mtu: 1500,
  pathIndex: 7, nonce: 0x5eed5eed, ...o,
});

/** The probe built from scratch with the header writers, no template: what patch() must equal. */
function freshProbe6(o: ProbeTemplate6Options, seq: number, sentNs: bigint): Buffer {
  const encaps = o.encaps ?? o.hops.map(() => G);
  const length = Math.max(o.size, encaps.reduce((s, e) => s + encap6LayerLength(e), 0) + 40 + 8 + PAYLOAD_HEADER_LENGTH);
  const flowLabel = (o.flowLabelBase ?? o.srcPortBase) + (seq % (o.flowLabelRange ?? o.srcPortRange));
  const b = Buffer.alloc(length);
  let off = 0;
  o.hops.forEach((dst, i) => {
    off = writeEncap6Layer(b, off, encaps[i], { src: o.src, dst, payloadLength: length - off - 40, hopLimit: o.hopLimit, dscp: o.dscp, flowLabel });
  });
  off = writeIpv6Header(b, off, { src: o.src, dst: o.src, nextHeader: IPPROTO_UDP, payloadLength: length - off - 40, hopLimit: o.hopLimit, dscp: o.dscp, flowLabel });
  const u = off;
  writeUdpHeader(b, u, { srcPort: o.srcPortBase + (seq % o.srcPortRange), dstPort: o.dstPort, length: length - u });
  writePayload(b, u + 8, length - u - 8, { pathIndex: o.pathIndex, seq, sentNs, nonce: o.nonce }, o.key);
  writeUdp6Checksum(b, u, ipv6ToBytes(o.src), ipv6ToBytes(o.src));
  return b;
}

/** Decodes a whole IPv6 probe with the readers: IPv6/GRE pairs and IPv6-in-IPv6 headers until next header 17. */
function walk6(buf: Buffer): { layers: Ipv6Header[]; udp: ReturnType<typeof readUdpHeader> } {
  const layers: Ipv6Header[] = [];
  let off = 0;
  for (;;) {
    const ip = readIpv6Header(buf, off);
    assert.equal(ip.end, buf.length, `layer ${layers.length}: payload length reaches the end of the packet`);
    layers.push(ip);
    if (ip.nextHeader === IPPROTO_GRE) {
      const gre = readGreHeader(buf, ip.next);
      assert.equal(gre.protocolType, ETHERTYPE_IPV6);
      off = gre.next;
    } else if (ip.nextHeader === IPPROTO_IPV6) {
      off = ip.next;
    } else {
      assert.equal(ip.nextHeader, IPPROTO_UDP);
      return { layers, udp: readUdpHeader(buf, ip.next) };
    }
  }
}

const SEQS: Array<[number, bigint]> = [
  [0, 0n], [1, 1_000_000_001n], [2, 2n ** 53n + 1n], [7, 123n], [8, 0xffffffffffffffffn], [65535, 42n], [0xffffffff, 9n],
];

const template6Cases: Record<string, { o: Partial<ProbeTemplate6Options>; length: number; offsets: number[] }> = {
  "forward, GRE over IPv6, minimum size, no key": { o: {}, length: 224, offsets: [0, 44, 88, 132] },
  "forward, GRE over IPv6, 512 bytes, key": { o: { key: KEY, size: 512 }, length: 512, offsets: [0, 44, 88, 132] },
  "forward, IPv6-in-IPv6": { o: { encaps: [I, I, I] }, length: 212, offsets: [0, 40, 80, 120] },
  "forward, r4 IPv6-in-IPv6 (gre, ipip, gre), key": { o: { encaps: [G, I, G], key: KEY }, length: 220, offsets: [0, 44, 84, 128] },
  "reverse, GRE, key, hop limit 9, DSCP 0": { o: { hops: REVERSE, key: KEY, hopLimit: 9, dscp: 0 }, length: 356, offsets: [0, 44, 88, 132, 176, 220, 264] },
  "reverse, mixed, 1500 bytes = MTU": { o: { hops: REVERSE, encaps: [I, G, I, G, I, G], size: 1500 }, length: 1500, offsets: [0, 40, 84, 124, 168, 208, 252] },
  "fixed flow label 0 (unlabelled), fixed port": { o: { flowLabelBase: 0, flowLabelRange: 1, srcPortRange: 1 }, length: 224, offsets: [0, 44, 88, 132] },
  "flow labels apart from the ports": { o: { flowLabelBase: 0xffff0, flowLabelRange: 16 }, length: 224, offsets: [0, 44, 88, 132] },
};
for (const [name, c] of Object.entries(template6Cases)) {
  test(`template6: ${name}: every layer, field by field, after each patch; equal to a fresh build`, () => {
    const o = opts6(c.o);
    const t = new ProbeTemplate6(o);
    const encaps = o.encaps ?? o.hops.map(() => G);
    const n = o.hops.length;
    assert.equal(t.family, "ipv6");
    assert.equal(t.length, c.length);
    assert.equal(t.buffer.length, c.length);
    assert.deepEqual(t.layerOffsets, c.offsets);
    assert.equal(t.innerOffset, c.offsets[n]);
    assert.equal(t.udpOffset, c.offsets[n] + 40);
    assert.equal(t.payloadOffset, c.offsets[n] + 48);
    assert.equal(ProbeTemplate6.minimumSize(o.hops, o.encaps), c.offsets[n] + 92);
    const addrs = [...o.hops, PROBER].map((a) => bytesToIpv6(ipv6ToBytes(a)));
    const base = o.flowLabelBase ?? o.srcPortBase;
    const range = o.flowLabelRange ?? o.srcPortRange;
    for (const [seq, sentNs] of SEQS) {
      const b = t.patch(seq, sentNs);
      const at = `seq ${seq}`;
      assert.equal(b, t.buffer, "patch returns the template's own buffer");
      const label = base + (seq % range);
      assert.equal(t.flowLabelFor(seq), label);
      for (let i = 0; i <= n; i++) {
        const off = c.offsets[i];
        const lat = `${at} layer ${i}`;
        assert.equal(b.readUInt32BE(off), ((6 << 28) | ((o.dscp << 2) << 20) | label) >>> 0, `${lat}: version 6, DSCP, ECN 0, flow label`);
        assert.equal(b.readUInt16BE(off + 4), c.length - off - 40, `${lat}: payload length`);
        assert.equal(b[off + 6], i === n ? 17 : encaps[i] === "ipip" ? 41 : 47, `${lat}: next header`);
        assert.equal(b[off + 7], o.hopLimit, `${lat}: hop limit`);
        assert.equal(bytesToIpv6(b, off + 8), bytesToIpv6(ipv6ToBytes(PROBER)), `${lat}: src`);
        assert.equal(bytesToIpv6(b, off + 24), addrs[i], `${lat}: dst`);
        if (i < n && encaps[i] === "gre") assert.equal(b.subarray(off + 40, off + 44).toString("hex"), "000086dd", `${lat}: GRE flags 0, version 0, 0x86DD`);
      }
      const w = walk6(b);
      assert.deepEqual(w.layers.map((l) => l.dst), addrs);
      assert.deepEqual(w.layers.map((l) => l.start), c.offsets);
      assert.ok(w.layers.every((l) => l.hopLimit === o.hopLimit && l.dscp === o.dscp && l.flowLabel === label));
      assert.equal(w.udp.srcPort, t.srcPortFor(seq));
      assert.equal(w.udp.srcPort, o.srcPortBase + (seq % o.srcPortRange));
      assert.equal(w.udp.dstPort, 33434);
      assert.equal(w.udp.length, c.length - t.udpOffset);
      assert.notEqual(w.udp.checksum, 0, `${at}: the UDP checksum is never 0 over IPv6`);
      assert.equal(w.udp.checksum, naiveUdp6Checksum(PROBER, PROBER, b.subarray(t.udpOffset)), `${at}: incremental = naive full checksum`);
      assert.equal(verifyUdp6Checksum(b, t.udpOffset, ipv6ToBytes(PROBER), ipv6ToBytes(PROBER)), "good");
      assert.deepEqual(parsePayload(b, t.payloadOffset), { ok: true, pathIndex: 7, seq, sentNs, nonce: 0x5eed5eed, hasMac: o.key !== undefined });
      if (o.key) assert.equal(verifyMac(b, o.key, t.payloadOffset), true, `${at}: MAC`);
      assert.ok(b.subarray(t.payloadOffset + PAYLOAD_HEADER_LENGTH).every((x) => x === 0), "padding is zero");
      assert.deepEqual(b, freshProbe6(o, seq, sentNs), `${at}: patched = built from scratch`);
    }
  });
}

test("template6: patch changes only seq, time, source port, MAC, UDP checksum and the flow label bits", () => {
  for (const key of [undefined, KEY]) {
    const t: ProbeTemplate6 = new ProbeTemplate6(opts6({ hops: REVERSE, encaps: [G, I, G, I, G, G], key, size: 400, flowLabelRange: 1 << 20, flowLabelBase: 0 }));
    const a = Buffer.from(t.patch(1, 1n));
    const b: Buffer = t.patch(0xffffe, 0xfffffffffffffffen); // flow label 1 -> 0xffffe: every label bit but the low ones changes
    const p = t.payloadOffset;
    const u = t.udpOffset;
    const allowed = new Set<number>([u, u + 1, u + 6, u + 7]);
    for (let i = p + 12; i < p + 24; i++) allowed.add(i);
    if (key) for (let i = p + 28; i < p + 44; i++) allowed.add(i);
    for (const off of t.layerOffsets) [off + 1, off + 2, off + 3].forEach((i) => allowed.add(i));
    const changed: number[] = [];
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changed.push(i);
    for (const i of changed) assert.ok(allowed.has(i), `byte ${i} changed`);
    for (const off of t.layerOffsets) {
      assert.equal(a.readUInt32BE(off) & 0xfff00000, b.readUInt32BE(off) & 0xfff00000, "version and traffic class untouched");
      assert.deepEqual([a.readUInt32BE(off) & 0xfffff, b.readUInt32BE(off) & 0xfffff], [1, 0xffffe]);
    }
  }
});

test("template6: after many patches, patch(seq) equals a new template's patch(seq)", () => {
  const o = opts6({ hops: REVERSE, encaps: [G, I, G, I, G, G], key: KEY, size: 333 });
  const t = new ProbeTemplate6(o);
  for (let s = 0; s < 5000; s++) t.patch((s * 2654435761) >>> 0, BigInt(s));
  assert.deepEqual(Buffer.from(t.patch(12345, 678n)), Buffer.from(new ProbeTemplate6(o).patch(12345, 678n)));
});

const flowCases: Record<string, { o: Partial<ProbeTemplate6Options>; seqs: number[]; labels: number[]; ports: number[] }> = {
  "default: flow label = source port": { o: { srcPortBase: 40000, srcPortRange: 4 }, seqs: [0, 1, 3, 4, 0xffffffff], labels: [40000, 40001, 40003, 40000, 40003], ports: [40000, 40001, 40003, 40000, 40003] },
  "own range: labels rotate apart from the ports": { o: { srcPortBase: 33000, srcPortRange: 2, flowLabelBase: 0x10000, flowLabelRange: 3 }, seqs: [0, 1, 2, 3, 5], labels: [0x10000, 0x10001, 0x10002, 0x10000, 0x10002], ports: [33000, 33001, 33000, 33001, 33001] },
  "top of the label space": { o: { flowLabelBase: 0xffffe, flowLabelRange: 2 }, seqs: [0, 1, 2], labels: [0xffffe, 0xfffff, 0xffffe], ports: [40000, 40001, 40002] },
  "fixed label": { o: { flowLabelBase: 0xabcde, flowLabelRange: 1 }, seqs: [0, 1, 99], labels: [0xabcde, 0xabcde, 0xabcde], ports: [40000, 40001, 40003] },
};
for (const [name, c] of Object.entries(flowCases)) {
  test(`template6: flow label and source port, ${name}`, () => {
    const t = new ProbeTemplate6(opts6(c.o));
    const got = c.seqs.map((s) => {
      const b = t.patch(s, 0n);
      assert.equal(verifyUdp6Checksum(b, t.udpOffset, ipv6ToBytes(PROBER), ipv6ToBytes(PROBER)), "good");
      const labels = t.layerOffsets.map((off) => b.readUInt32BE(off) & 0xfffff);
      assert.ok(labels.every((l) => l === labels[0]), "the same label on every layer");
      return [labels[0], b.readUInt16BE(t.udpOffset)];
    });
    assert.deepEqual(got.map((g) => g[0]), c.labels);
    assert.deepEqual(got.map((g) => g[1]), c.ports);
    assert.deepEqual(c.seqs.map((s) => t.flowLabelFor(s)), c.labels);
  });
}

const mtu6Cases: Record<string, { o: Partial<ProbeTemplate6Options>; length: number; mtu: number; message: RegExp }> = {
  "GRE over IPv6, size above the MTU": {
    o: { size: 1501 }, length: 1501, mtu: 1500,
    message: /^path 7: a 3-hop GRE-over-IPv6 stack \(132 bytes of IPv6\+GRE headers\) makes a 1501-byte probe \(minimum for 3 hops: 224\), above the MTU of 1500 bytes$/,
  },
  "IPv6-in-IPv6: 40 bytes a layer": {
    o: { encaps: [I, I, I], size: 1281 }, length: 1281, mtu: 1280,
    message: /^path 7: a 3-hop IPv6-in-IPv6 stack \(120 bytes of outer IPv6 headers\) makes a 1281-byte probe \(minimum for 3 hops: 212\), above the MTU of 1280 bytes$/,
  },
  "mixed: 44 for GRE, 40 for IPv6-in-IPv6": {
    o: { hops: REVERSE, encaps: [G, I, G, I, G, G], size: 1300 }, length: 1300, mtu: 1299,
    message: /^path 7: a 6-hop IPv6 stack of 4 GRE and 2 IPv6-in-IPv6 layers \(256 bytes of IPv6 tunnel headers\) makes a 1300-byte probe \(minimum for 6 hops: 348\), above the MTU of 1299 bytes$/,
  },
};
for (const [name, c] of Object.entries(mtu6Cases)) {
  test(`template6: MTU refusal, ${name}`, () => {
    assert.equal(new ProbeTemplate6(opts6({ ...c.o, mtu: c.mtu + 1 })).length, c.length, "one byte more fits exactly");
    assert.throws(
      () => new ProbeTemplate6(opts6({ ...c.o, mtu: c.mtu })),
      (e: unknown) => {
        assert.ok(e instanceof PacketTooLargeError);
        assert.match(e.message, c.message);
        assert.deepEqual([e.family, e.pathIndex, e.hopCount, e.length, e.mtu], ["ipv6", 7, (c.o.hops ?? FORWARD).length, c.length, c.mtu]);
        return true;
      },
    );
  });
}

test("template6: the MTU check counts 40-byte headers: 26 GRE hops fit 1280 bytes, 27 do not", () => {
  const hops = (k: number): string[] => Array.from({ length: k }, (_, i) => `2001:2::${(i + 1).toString(16)}`);
  // 26 * 44 + 92 = 1236 <= 1280; 27 * 44 + 92 = 1280; 28 * 44 + 92 = 1324.
  assert.equal(new ProbeTemplate6(opts6({ hops: hops(27), mtu: 1280 })).length, 1280);
  assert.throws(() => new ProbeTemplate6(opts6({ hops: hops(28), mtu: 1280 })), /a 28-hop GRE-over-IPv6 stack \(1232 bytes of IPv6\+GRE headers\) makes a 1324-byte probe/);
  // The same hops over IPv4 (24 a layer) would fit: the check is per family.
  assert.equal(ProbeTemplate.minimumSize(28), 28 * 24 + 72);
});

const option6Errors: Record<string, { o: Partial<ProbeTemplate6Options>; field: string; message: RegExp }> = {
  "no hops": { o: { hops: [] }, field: "hops", message: /probe template hops: a probe needs at least one hop address/ },
  "an IPv4 hop": { o: { hops: ["2001:2::1", "198.18.0.5"] }, field: "hops[1]", message: /hops\[1\]: invalid IPv6 address "198.18.0.5"/ },
  "an IPv4 source": { o: { src: "198.18.100.2" }, field: "src", message: /src: invalid IPv6 address "198.18.100.2"/ },
  "hostname hop": { o: { hops: ["r2"] }, field: "hops[0]", message: /hops\[0\]: invalid IPv6 address "r2"/ },
  "hop limit 0": { o: { hopLimit: 0 }, field: "hopLimit", message: /hopLimit: 0 is not an integer 1-255/ },
  "hop limit 256": { o: { hopLimit: 256 }, field: "hopLimit", message: /hopLimit: 256/ },
  "flow label past 20 bits": { o: { flowLabelBase: 0x100000 }, field: "flowLabelBase", message: /flowLabelBase: 1048576 is not an integer 0-1048575/ },
  "flow label range past 20 bits": { o: { flowLabelBase: 0xffff0, flowLabelRange: 17 }, field: "flowLabelRange", message: /flowLabelRange: 17 is not an integer 1-16/ },
  "flow label range 0": { o: { flowLabelRange: 0 }, field: "flowLabelRange", message: /flowLabelRange: 0/ },
  "mtu below IPv6's 1280": { o: { mtu: 1279 }, field: "mtu", message: /mtu: 1279 is not an integer 1280-65535/ },
  "dscp 64": { o: { dscp: 64 }, field: "dscp", message: /dscp: 64/ },
  "encaps of the wrong length": { o: { encaps: [G, G] }, field: "encaps", message: /one encapsulation per hop \(3\), got 2/ },
};
for (const [name, c] of Object.entries(option6Errors)) {
  test(`template6: reject ${name}`, () => {
    assert.throws(
      () => new ProbeTemplate6(opts6(c.o)),
      (e: unknown) => e instanceof ProbeTemplateError && e.field === c.field && c.message.test(e.message),
    );
  });
}

test("template6: patch rejects a sequence outside 0..2^32-1", () => {
  const t = new ProbeTemplate6(opts6());
  for (const s of [-1, 2 ** 32, 1.5, NaN]) assert.throws(() => t.patch(s, 0n), RangeError, String(s));
});

test("PacketTooLargeError: the IPv4 wording is the default family's", () => {
  const e = new PacketTooLargeError(1, 2, 200, 100);
  assert.equal(e.family, "ipv4");
  assert.match(e.message, /2-hop GRE stack \(48 bytes of IPv4\+GRE headers\)/);
});

// ---------------------------------------------------------------- pcap link types

test("pcap: LINKTYPE_RAW (101) and LINKTYPE_IPV6 (229) in the global header", () => {
  const pkt = new ProbeTemplate6(opts6()).buffer;
  assert.equal(encodePcap([pkt], undefined, LINKTYPE_RAW).readUInt32LE(20), 101);
  assert.equal(encodePcap([pkt], 65535, LINKTYPE_IPV6).readUInt32LE(20), 229);
  assert.equal(encodePcap([pkt]).readUInt32LE(20), 228, "default stays LINKTYPE_IPV4");
});

test("gre: writeGreHeader with 0x86DD reads back", () => {
  const b = Buffer.alloc(4);
  writeGreHeader(b, 0, ETHERTYPE_IPV6);
  assert.equal(b.toString("hex"), "000086dd");
  assert.equal(readGreHeader(b, 0).protocolType, 0x86dd);
});
