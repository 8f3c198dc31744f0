// Table tests for prober/packet/: checksum vectors, each header's decode / round-trip / truncated
// rows, the payload layout and MAC, and ProbeTemplate on the NANOG 6 path r1-r2-r4-r6 (forward
// and reverse), checked layer by layer and field by field after several patches.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { finishChecksum, internetChecksum, onesComplementSum } from "../../prober/packet/checksum.js";
import {
  IPPROTO_GRE,
  IPPROTO_IPIP,
  IPPROTO_UDP,
  PacketDecodeError,
  ipv4ToUint32,
  readIpv4Header,
  uint32ToIpv4,
  writeIpv4Header,
  type Ipv4Header,
  type Ipv4HeaderFields,
  type PacketDecodeErrorKind,
} from "../../prober/packet/ipv4.js";
import { ETHERTYPE_IPV4, readGreHeader, writeGreHeader } from "../../prober/packet/gre.js";
import { readUdpHeader, udpPseudoHeaderSum, verifyUdpChecksum, writeUdpChecksum, writeUdpHeader } from "../../prober/packet/udp.js";
import {
  PAYLOAD_HEADER_LENGTH,
  PayloadMac,
  parsePayload,
  verifyMac,
  writePayload,
  type ProbePayload,
} from "../../prober/packet/payload.js";
import { PacketTooLargeError, ProbeTemplate, ProbeTemplateError, type ProbeTemplateOptions } from "../../prober/packet/template.js";
import { encodePcap, LINKTYPE_IPV4 } from "../../prober/packet/pcap.js";
import { EncapChooser, routerPatternMatches, writeEncapLayer, type Encap } from "../../prober/packet/encap.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s:]/g, ""), "hex");

/** Runs fn and returns the PacketDecodeError it throws (fails if it throws something else or nothing). */
function decodeError(fn: () => unknown): PacketDecodeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PacketDecodeError, `expected PacketDecodeError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected a PacketDecodeError");
}

// ---------------------------------------------------------------- checksum (RFC 1071)

const checksumCases: Record<string, { bytes: Buffer; initial?: number; sum: number; checksum: number }> = {
  // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to 2ddf0, folded ddf2; the checksum is its complement.
  "RFC 1071 §3 example": { bytes: hex("0001 f203 f4f5 f6f7"), sum: 0xddf2, checksum: 0x220d },
  // The classic IPv4 header (192.168.0.1 -> 192.168.0.199, UDP) with the checksum field zeroed: b861.
  "IPv4 header, checksum field 0": { bytes: hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7"), sum: 0x479e, checksum: 0xb861 },
  "IPv4 header, checksum in place verifies to 0": { bytes: hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7"), sum: 0xffff, checksum: 0 },
  "odd length pads with a zero byte": { bytes: hex("0001 f203 f4f5 f6f7 ab"), sum: 0x88f3, checksum: 0x770c },
  "empty range": { bytes: Buffer.alloc(0), sum: 0, checksum: 0xffff },
  "initial sum is added (pseudo-header)": { bytes: hex("0001"), initial: 0xfffe, sum: 0xffff, checksum: 0 },
  "many carries fold": { bytes: Buffer.alloc(4096, 0xff), sum: 0xffff, checksum: 0 },
};
for (const [name, c] of Object.entries(checksumCases)) {
  test(`checksum: ${name}`, () => {
    assert.equal(onesComplementSum(c.bytes, 0, c.bytes.length, c.initial), c.sum);
    assert.equal(internetChecksum(c.bytes, 0, c.bytes.length, c.initial), c.checksum);
  });
}

test("checksum: partial sums compose (incremental update, RFC 1071 §2 (C))", () => {
  const b = Buffer.from(Array.from({ length: 301 }, (_, i) => (i * 37 + 11) & 0xff));
  for (const cut of [0, 2, 100, 298, 300]) {
    assert.equal(internetChecksum(b, cut, b.length, onesComplementSum(b, 0, cut)), internetChecksum(b, 0, b.length), `cut ${cut}`);
  }
  assert.equal(finishChecksum(0x2ddf0), 0x220d);
});

test("checksum: a range outside the buffer is a RangeError", () => {
  assert.throws(() => onesComplementSum(Buffer.alloc(4), 2, 6), RangeError);
  assert.throws(() => onesComplementSum(Buffer.alloc(4), 3, 2), RangeError);
});

// ---------------------------------------------------------------- IPv4 (RFC 791)

test("ipv4: decode the classic header field by field", () => {
  const b = Buffer.concat([hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7"), Buffer.alloc(0x73 - 20)]);
  const h = readIpv4Header(b, 0);
  const want: Partial<Ipv4Header> = {
    version: 4, ihl: 5, headerLength: 20, dscp: 0, ecn: 0, totalLength: 0x73, id: 0, dontFragment: true, moreFragments: false,
    fragmentOffset: 0, ttl: 64, protocol: 17, checksum: 0xb861, checksumOk: true, src: "192.168.0.1", dst: "192.168.0.199",
    srcU32: 0xc0a80001, dstU32: 0xc0a800c7, start: 0, next: 20, end: 0x73,
  };
  for (const [k, v] of Object.entries(want)) assert.equal(h[k as keyof Ipv4Header], v, k);
});

const ipv4RoundTrip: Record<string, Ipv4HeaderFields> = {
  "GRE layer, DSCP EF, DF": { src: "198.18.100.2", dst: "198.18.0.1", protocol: IPPROTO_GRE, totalLength: 144, ttl: 64, dscp: 46, id: 4, dontFragment: true },
  "UDP, ECN CE, no DF": { src: "10.0.0.1", dst: "10.255.255.254", protocol: IPPROTO_UDP, totalLength: 20, ttl: 1, dscp: 0, ecn: 3, id: 0xffff, dontFragment: false },
  "numeric addresses, max values": { src: 0xffffffff, dst: 0, protocol: 255, totalLength: 0xffff, ttl: 255, dscp: 63, ecn: 1, id: 1, dontFragment: true },
};
for (const [name, f] of Object.entries(ipv4RoundTrip)) {
  test(`ipv4: round trip, ${name}`, () => {
    const b = Buffer.alloc(Math.max(f.totalLength, 20) + 3, 0xee);
    assert.equal(writeIpv4Header(b, 3, f), 23);
    assert.equal(internetChecksum(b, 3, 23), 0, "checksum verifies");
    const h = readIpv4Header(b, 3, { partial: true });
    assert.equal(h.version, 4);
    assert.equal(h.ihl, 5);
    assert.equal(b[3 + 1], (f.dscp << 2) | (f.ecn ?? 0), "TOS byte");
    assert.deepEqual(
      { src: h.srcU32, dst: h.dstU32, protocol: h.protocol, totalLength: h.totalLength, ttl: h.ttl, dscp: h.dscp, ecn: h.ecn, id: h.id, df: h.dontFragment, mf: h.moreFragments, frag: h.fragmentOffset },
      {
        src: typeof f.src === "number" ? f.src : ipv4ToUint32(f.src), dst: typeof f.dst === "number" ? f.dst : ipv4ToUint32(f.dst),
        protocol: f.protocol, totalLength: f.totalLength, ttl: f.ttl, dscp: f.dscp, ecn: f.ecn ?? 0, id: f.id, df: f.dontFragment, mf: false, frag: 0,
      },
    );
    assert.equal(h.checksumOk, true);
  });
}

const good = (): Buffer => Buffer.concat([hex("4500 0020 0000 4000 4011 0000 c0a8 0001 c0a8 00c7"), Buffer.alloc(12)]);
const ipv4Bad: Record<string, { bytes: () => Buffer; off?: number; kind: PacketDecodeErrorKind }> = {
  "truncated: 19 bytes": { bytes: () => good().subarray(0, 19), kind: "short" },
  "truncated: offset leaves 10 bytes": { bytes: good, off: 22, kind: "short" },
  "version 6": { bytes: () => { const b = good(); b[0] = 0x65; return b; }, kind: "version" },
  "IHL 4": { bytes: () => { const b = good(); b[0] = 0x44; return b; }, kind: "ihl" },
  "IHL 15 runs past a 32-byte buffer": { bytes: () => { const b = good(); b[0] = 0x4f; return b; }, kind: "short" },
  "total length 19 < header": { bytes: () => { const b = good(); b.writeUInt16BE(19, 2); return b; }, kind: "length" },
  "total length 33 > 32-byte buffer": { bytes: () => { const b = good(); b.writeUInt16BE(33, 2); return b; }, kind: "truncated" },
};
for (const [name, c] of Object.entries(ipv4Bad)) {
  test(`ipv4: reject ${name}`, () => {
    const e = decodeError(() => readIpv4Header(c.bytes(), c.off ?? 0));
    assert.equal(e.layer, "ipv4");
    assert.equal(e.kind, c.kind);
    assert.equal(e.offset, c.off ?? 0);
  });
}

test("ipv4: partial accepts a cut-short datagram (ICMP quote) and clamps end; a bad checksum is reported, not thrown", () => {
  const b = good();
  b.writeUInt16BE(1000, 2);
  const h = readIpv4Header(b, 0, { partial: true });
  assert.equal(h.totalLength, 1000);
  assert.equal(h.end, 32);
  assert.equal(h.checksumOk, false);
});

const addrCases: Record<string, { s: string; n?: number }> = {
  "0.0.0.0": { s: "0.0.0.0", n: 0 },
  "255.255.255.255": { s: "255.255.255.255", n: 0xffffffff },
  "198.18.100.2": { s: "198.18.100.2", n: 0xc6126402 },
  "octet 256": { s: "198.18.0.256" },
  "three octets": { s: "198.18.0" },
  "five octets": { s: "1.2.3.4.5" },
  "leading zero": { s: "198.018.0.1" },
  "sign": { s: "+1.2.3.4" },
  "space": { s: "1.2.3.4 " },
  "empty octet": { s: "1..3.4" },
  "hostname": { s: "r1" },
};
for (const [name, c] of Object.entries(addrCases)) {
  test(`ipv4: address ${name}`, () => {
    if (c.n === undefined) {
      assert.throws(() => ipv4ToUint32(c.s), /invalid IPv4 address/);
    } else {
      assert.equal(ipv4ToUint32(c.s), c.n);
      assert.equal(uint32ToIpv4(c.n), c.s);
    }
  });
}
test("ipv4: uint32ToIpv4 rejects non-uint32 values", () => {
  for (const n of [-1, 2 ** 32, 1.5, NaN]) assert.throws(() => uint32ToIpv4(n), RangeError, String(n));
});

test("ipv4: writeIpv4Header rejects out-of-range fields, naming them", () => {
  const base: Ipv4HeaderFields = { src: "1.2.3.4", dst: "5.6.7.8", protocol: 17, totalLength: 20, ttl: 64, dscp: 0, id: 1, dontFragment: true };
  const bad: Array<[Partial<Ipv4HeaderFields>, RegExp]> = [
    [{ ttl: 256 }, /ttl 256/], [{ dscp: 64 }, /dscp 64/], [{ ecn: 4 }, /ecn 4/], [{ id: 65536 }, /id 65536/],
    [{ totalLength: 19 }, /totalLength 19/], [{ protocol: -1 }, /protocol -1/], [{ dst: "1.2.3" }, /ipv4 dst: invalid IPv4 address/],
  ];
  for (const [patch, re] of bad) assert.throws(() => writeIpv4Header(Buffer.alloc(20), 0, { ...base, ...patch }), re);
  assert.throws(() => writeIpv4Header(Buffer.alloc(19), 0, base), /does not fit/);
});

// ---------------------------------------------------------------- GRE (RFC 2784)

test("gre: round trip and wire bytes", () => {
  const b = Buffer.alloc(6, 0xee);
  assert.equal(writeGreHeader(b, 2), 6);
  assert.deepEqual(b.subarray(2), hex("0000 0800"));
  assert.deepEqual(readGreHeader(b, 2), { protocolType: ETHERTYPE_IPV4, headerLength: 4, start: 2, next: 6 });
  writeGreHeader(b, 2, 0x86dd);
  assert.equal(readGreHeader(b, 2).protocolType, 0x86dd);
});

const greCases: Record<string, { bytes: Buffer; kind?: PacketDecodeErrorKind; proto?: number }> = {
  "plain IPv4": { bytes: hex("0000 0800"), proto: 0x0800 },
  "reserved bits 6-12 are ignored": { bytes: hex("03f8 0800"), proto: 0x0800 },
  "truncated: 3 bytes": { bytes: hex("0000 08"), kind: "short" },
  "C bit (checksum)": { bytes: hex("8000 0800 0000 0000"), kind: "checksum" },
  "R bit (RFC 1701 routing)": { bytes: hex("4000 0800"), kind: "routing" },
  "K bit (RFC 2890 key)": { bytes: hex("2000 0800 0000 0001"), kind: "key" },
  "S bit (RFC 2890 sequence)": { bytes: hex("1000 0800 0000 0001"), kind: "sequence" },
  "strict source route bit": { bytes: hex("0800 0800"), kind: "reserved" },
  "recursion control bit": { bytes: hex("0400 0800"), kind: "reserved" },
  "version 1 (PPTP)": { bytes: hex("0001 880b"), kind: "version" },
  "version 7": { bytes: hex("0007 0800"), kind: "version" },
};
for (const [name, c] of Object.entries(greCases)) {
  test(`gre: ${c.kind ? "reject " : ""}${name}`, () => {
    if (c.kind) {
      const e = decodeError(() => readGreHeader(c.bytes, 0));
      assert.equal(e.layer, "gre");
      assert.equal(e.kind, c.kind);
    } else {
      assert.equal(readGreHeader(c.bytes, 0).protocolType, c.proto);
    }
  });
}

// ---------------------------------------------------------------- UDP (RFC 768)

/** Independent UDP checksum: build the pseudo-header as bytes and sum the concatenation. */
function naiveUdpChecksum(src: string, dst: string, udp: Buffer): number {
  const pseudo = Buffer.alloc(12);
  pseudo.writeUInt32BE(ipv4ToUint32(src), 0);
  pseudo.writeUInt32BE(ipv4ToUint32(dst), 4);
  pseudo[9] = 17;
  pseudo.writeUInt16BE(udp.length, 10);
  const copy = Buffer.from(udp);
  copy.writeUInt16BE(0, 6);
  const c = internetChecksum(Buffer.concat([pseudo, copy]), 0, 12 + copy.length);
  return c === 0 ? 0xffff : c;
}

const udpCases: Record<string, { srcPort: number; dstPort: number; data: Buffer }> = {
  "empty datagram": { srcPort: 1, dstPort: 2, data: Buffer.alloc(0) },
  "odd-length data": { srcPort: 40000, dstPort: 33434, data: Buffer.from("lsprobe") },
  "44-byte payload": { srcPort: 65535, dstPort: 9, data: Buffer.alloc(44, 0x5a) },
};
for (const [name, c] of Object.entries(udpCases)) {
  test(`udp: round trip and checksum, ${name}`, () => {
    const len = 8 + c.data.length;
    const b = Buffer.alloc(len);
    assert.equal(writeUdpHeader(b, 0, { srcPort: c.srcPort, dstPort: c.dstPort, length: len }), 8);
    c.data.copy(b, 8);
    const cs = writeUdpChecksum(b, 0, ipv4ToUint32("198.18.100.2"), ipv4ToUint32("198.18.0.9"));
    assert.equal(cs, naiveUdpChecksum("198.18.100.2", "198.18.0.9", b));
    assert.deepEqual(readUdpHeader(b, 0), { srcPort: c.srcPort, dstPort: c.dstPort, length: len, checksum: cs, start: 0, next: 8, end: len });
    assert.equal(verifyUdpChecksum(b, 0, ipv4ToUint32("198.18.100.2"), ipv4ToUint32("198.18.0.9")), "good");
    assert.equal(verifyUdpChecksum(b, 0, ipv4ToUint32("198.18.100.3"), ipv4ToUint32("198.18.0.9")), "bad", "pseudo-header counts");
    b.writeUInt16BE(0, 6);
    assert.equal(verifyUdpChecksum(b, 0, 1, 2), "absent");
  });
}

test("udp: a computed checksum of 0 is sent as 0xFFFF", () => {
  const src = ipv4ToUint32("198.18.100.2");
  const b = Buffer.alloc(12);
  writeUdpHeader(b, 0, { srcPort: 1000, dstPort: 2000, length: 12 });
  // Choose the last data word so that the whole sum is 0xFFFF, i.e. the complement is 0.
  const s0 = onesComplementSum(b, 0, 12, udpPseudoHeaderSum(src, src, 12));
  b.writeUInt16BE(0xffff - s0, 10);
  assert.equal(writeUdpChecksum(b, 0, src, src), 0xffff);
  assert.equal(verifyUdpChecksum(b, 0, src, src), "good");
});

const udpBad: Record<string, { bytes: Buffer; kind: PacketDecodeErrorKind }> = {
  "truncated: 7 bytes": { bytes: hex("0001 0002 0008 00"), kind: "short" },
  "length 7 < header": { bytes: hex("0001 0002 0007 0000"), kind: "length" },
  "length 9 > 8-byte buffer": { bytes: hex("0001 0002 0009 0000"), kind: "truncated" },
};
for (const [name, c] of Object.entries(udpBad)) {
  test(`udp: reject ${name}`, () => {
    const e = decodeError(() => readUdpHeader(c.bytes, 0));
    assert.equal(e.layer, "udp");
    assert.equal(e.kind, c.kind);
  });
}

// ---------------------------------------------------------------- payload

const P: ProbePayload = { pathIndex: 0x01020304, seq: 0xa0b0c0d0, sentNs: 0x1122334455667788n, nonce: 0xdeadbeef };
const KEY = Buffer.from("lsprobe test key, 32 bytes long!");

test("payload: layout field by field (no key)", () => {
  const b = Buffer.alloc(64, 0xee);
  assert.equal(writePayload(b, 0, 60, P), 60);
  const expect: Array<[string, number, number, string]> = [
    ["magic", 0, 4, "4c535052"],
    ["version", 4, 5, "01"],
    ["flags (no MAC)", 5, 6, "00"],
    ["reserved", 6, 8, "0000"],
    ["path index", 8, 12, "01020304"],
    ["sequence", 12, 16, "a0b0c0d0"],
    ["send time", 16, 24, "1122334455667788"],
    ["nonce", 24, 28, "deadbeef"],
    ["MAC (zero without key)", 28, 44, "00".repeat(16)],
    ["padding", 44, 60, "00".repeat(16)],
    ["untouched past length", 60, 64, "eeeeeeee"],
  ];
  for (const [name, s, e, h] of expect) assert.equal(b.subarray(s, e).toString("hex"), h, name);
  assert.equal(PAYLOAD_HEADER_LENGTH, 44);
  assert.equal(Buffer.from("LSPR").readUInt32BE(0), 0x4c535052);
});

test("payload: with a key, flag M and MAC = HMAC-SHA256(key, octets 0..27)[0..15]", () => {
  const b = Buffer.alloc(44);
  writePayload(b, 0, 44, P, KEY);
  assert.equal(b[5], 0x01);
  const want = createHmac("sha256", KEY).update(b.subarray(0, 28)).digest().subarray(0, 16);
  assert.deepEqual(b.subarray(28, 44), want);
  const viaClass = Buffer.alloc(44);
  writePayload(viaClass, 0, 44, P, new PayloadMac(KEY));
  assert.deepEqual(viaClass, b);
});

test("payload: parse round trip, at an offset", () => {
  const b = Buffer.alloc(80);
  writePayload(b, 8, 72, P, KEY);
  assert.deepEqual(parsePayload(b, 8), { ok: true, ...P, hasMac: true });
  assert.deepEqual(parsePayload(b.subarray(8)), { ok: true, ...P, hasMac: true });
  const nokey = Buffer.alloc(44);
  writePayload(nokey, 0, 44, { ...P, sentNs: 0xffffffffffffffffn });
  assert.deepEqual(parsePayload(nokey), { ok: true, ...P, sentNs: 0xffffffffffffffffn, hasMac: false });
});

const parseBad: Record<string, { mutate: (b: Buffer) => Buffer; reason: string }> = {
  "truncated: 43 bytes": { mutate: (b) => b.subarray(0, 43), reason: "short" },
  "magic": { mutate: (b) => { b[3] ^= 1; return b; }, reason: "magic" },
  "version 2": { mutate: (b) => { b[4] = 2; return b; }, reason: "version" },
};
for (const [name, c] of Object.entries(parseBad)) {
  test(`payload: parse rejects ${name}`, () => {
    const b = Buffer.alloc(44);
    writePayload(b, 0, 44, P, KEY);
    assert.deepEqual(parsePayload(c.mutate(b)), { ok: false, reason: c.reason });
  });
}

test("payload: writePayload rejects a length below the header and out-of-range fields", () => {
  assert.throws(() => writePayload(Buffer.alloc(64), 0, 43, P), /below the 44-octet header/);
  assert.throws(() => writePayload(Buffer.alloc(64), 0, 44, { ...P, seq: -1 }), /seq -1/);
  assert.throws(() => writePayload(Buffer.alloc(64), 30, 44, P), /does not fit/);
});

// Flip one bit at (byte, bit) and expect verifyMac's verdict.
const macCases: Record<string, { byte?: number; bit?: number; key?: Buffer; accept: boolean }> = {
  "intact": { accept: true },
  "flipped bit in magic": { byte: 0, bit: 0, accept: false },
  "flipped M flag": { byte: 5, bit: 0, accept: false },
  "flipped bit in reserved": { byte: 7, bit: 3, accept: false },
  "flipped bit in path index": { byte: 11, bit: 0, accept: false },
  "flipped bit in sequence": { byte: 15, bit: 7, accept: false },
  "flipped bit in send time": { byte: 16, bit: 7, accept: false },
  "flipped bit in nonce": { byte: 27, bit: 1, accept: false },
  "flipped bit in MAC (first)": { byte: 28, bit: 0, accept: false },
  "flipped bit in MAC (last)": { byte: 43, bit: 7, accept: false },
  "padding is not covered": { byte: 50, bit: 0, accept: true },
  "wrong key": { key: Buffer.from("lsprobe test key, 32 bytes long?"), accept: false },
  "key prefix": { key: KEY.subarray(0, 31), accept: false },
};
for (const [name, c] of Object.entries(macCases)) {
  test(`payload: MAC ${c.accept ? "accepts" : "rejects"} ${name}`, () => {
    const b = Buffer.alloc(64);
    writePayload(b, 0, 64, P, KEY);
    if (c.byte !== undefined) b[c.byte] ^= 1 << (c.bit ?? 0);
    assert.equal(verifyMac(b, c.key ?? KEY), c.accept);
    assert.equal(verifyMac(b, new PayloadMac(c.key ?? KEY)), c.accept, "reusable PayloadMac");
  });
}

test("payload: verifyMac refuses a payload without M, a short one, and one at a bad offset", () => {
  const b = Buffer.alloc(44);
  writePayload(b, 0, 44, P);
  assert.equal(verifyMac(b, KEY), false);
  writePayload(b, 0, 44, P, KEY);
  assert.equal(verifyMac(b.subarray(0, 43), KEY), false);
  assert.equal(verifyMac(b, KEY, 1), false);
  assert.throws(() => new PayloadMac(Buffer.alloc(0)), /non-empty/);
});

// ---------------------------------------------------------------- ProbeTemplate

const PROBER = "198.18.100.2";
const FORWARD = ["198.18.0.1", "198.18.0.5", "198.18.0.9"]; // NANOG 6 r1 -> r2 -> r4 -> r6
const REVERSE = [...FORWARD, "198.18.0.8", "198.18.0.4", "198.18.0.0"]; // ... and back r6 -> r4 -> r2 -> r1

const baseOpts = (o: Partial<ProbeTemplateOptions> = {}): ProbeTemplateOptions => ({
  src: PROBER, hops: FORWARD, dstPort: 33434, srcPortBase: 40000, srcPortRange: 8, ttl: 64, dscp: 46, size: 0, mtu: 1500,
  pathIndex: 7, nonce: 0x5eed5eed, ...o,
});

interface Walked {
  layers: Ipv4Header[];
  udp: ReturnType<typeof readUdpHeader>;
}
/** Decodes a whole probe with the readers: IPv4/GRE pairs and IP-in-IP headers until protocol 17, then UDP. */
function walk(buf: Buffer): Walked {
  const layers: Ipv4Header[] = [];
  let off = 0;
  for (;;) {
    const ip = readIpv4Header(buf, off);
    assert.equal(ip.end, buf.length, `layer ${layers.length}: total length reaches the end of the packet`);
    layers.push(ip);
    if (ip.protocol === IPPROTO_GRE) {
      const gre = readGreHeader(buf, ip.next);
      assert.equal(gre.protocolType, ETHERTYPE_IPV4);
      off = gre.next;
      continue;
    }
    if (ip.protocol === IPPROTO_IPIP) {
      off = ip.next; // RFC 2003: the inner header follows at once
      continue;
    }
    assert.equal(ip.protocol, IPPROTO_UDP);
    return { layers, udp: readUdpHeader(buf, ip.next) };
  }
}

const templateCases: Record<string, { hops: string[]; key?: Buffer; size: number; length: number; innerOffset: number }> = {
  "forward r1-r2-r4-r6, minimum size, no key": { hops: FORWARD, size: 0, length: 144, innerOffset: 72 },
  "forward r1-r2-r4-r6, 512 bytes, key": { hops: FORWARD, key: KEY, size: 512, length: 512, innerOffset: 72 },
  "reverse r1-r2-r4-r6-r4-r2-r1, minimum size, key": { hops: REVERSE, key: KEY, size: 100, length: 216, innerOffset: 144 },
  "reverse, 1500 bytes = MTU, no key": { hops: REVERSE, size: 1500, length: 1500, innerOffset: 144 },
};
const SEQS: Array<[number, bigint]> = [
  [0, 0n], [1, 1_000_000_001n], [2, 2n ** 53n + 1n], [7, 123n], [8, 0xffffffffffffffffn], [65535, 42n], [0xffffffff, 9n],
];
for (const [name, c] of Object.entries(templateCases)) {
  test(`template: ${name}: every layer, field by field, after each patch`, () => {
    const t = new ProbeTemplate(baseOpts({ hops: c.hops, key: c.key, size: c.size }));
    const n = c.hops.length;
    assert.equal(t.length, c.length);
    assert.equal(t.buffer.length, c.length);
    assert.equal(t.hopCount, n);
    assert.equal(t.innerOffset, c.innerOffset);
    assert.equal(t.udpOffset, c.innerOffset + 20);
    assert.equal(t.payloadOffset, c.innerOffset + 28);
    assert.equal(ProbeTemplate.minimumSize(c.hops), n * 24 + 72);
    const addrs = [...c.hops, PROBER];
    for (const [seq, sentNs] of SEQS) {
      const b = t.patch(seq, sentNs);
      assert.equal(b, t.buffer, "patch returns the template's own buffer");
      // Raw bytes, layer by layer.
      for (let i = 0; i <= n; i++) {
        const o = i * 24;
        const at = `seq ${seq} layer ${i}`;
        assert.equal(b[o], 0x45, `${at}: version 4, IHL 5`);
        assert.equal(b[o + 1], 46 << 2, `${at}: TOS = DSCP 46, ECN 0`);
        assert.equal(b.readUInt16BE(o + 2), c.length - o, `${at}: total length`);
        assert.equal(b.readUInt16BE(o + 4), 8, `${at}: id = 1 + pathIndex`);
        assert.equal(b.readUInt16BE(o + 6), 0x4000, `${at}: DF, offset 0`);
        assert.equal(b[o + 8], 64, `${at}: TTL`);
        assert.equal(b[o + 9], i < n ? 47 : 17, `${at}: protocol`);
        assert.equal(internetChecksum(b, o, o + 20), 0, `${at}: header checksum`);
        assert.equal(uint32ToIpv4(b.readUInt32BE(o + 12)), PROBER, `${at}: src`);
        assert.equal(uint32ToIpv4(b.readUInt32BE(o + 16)), addrs[i], `${at}: dst`);
        if (i < n) assert.equal(b.subarray(o + 20, o + 24).toString("hex"), "00000800", `${at}: GRE flags 0, version 0, 0x0800`);
      }
      // The same through the readers.
      const w = walk(b);
      assert.deepEqual(w.layers.map((l) => l.dst), addrs);
      assert.ok(w.layers.every((l) => l.checksumOk && l.src === PROBER && l.ttl === 64 && l.dscp === 46 && l.dontFragment));
      const u = t.udpOffset;
      assert.equal(w.udp.start, u);
      assert.equal(w.udp.srcPort, 40000 + (seq % 8), "source port rotates");
      assert.equal(w.udp.dstPort, 33434);
      assert.equal(w.udp.length, c.length - u);
      assert.equal(verifyUdpChecksum(b, u, ipv4ToUint32(PROBER), ipv4ToUint32(PROBER)), "good", `seq ${seq}: UDP checksum`);
      assert.equal(w.udp.checksum, naiveUdpChecksum(PROBER, PROBER, b.subarray(u)), `seq ${seq}: incremental = full checksum`);
      // Payload and padding.
      const p = parsePayload(b, t.payloadOffset);
      assert.deepEqual(p, { ok: true, pathIndex: 7, seq, sentNs, nonce: 0x5eed5eed, hasMac: c.key !== undefined });
      if (c.key) assert.equal(verifyMac(b, c.key, t.payloadOffset), true, `seq ${seq}: MAC`);
      else assert.ok(b.subarray(t.payloadOffset + 28, t.payloadOffset + 44).every((x) => x === 0), "MAC field zero");
      assert.ok(b.subarray(t.payloadOffset + PAYLOAD_HEADER_LENGTH).every((x) => x === 0), "padding is zero");
    }
  });
}

test("template: patch changes only sequence, time, source port, MAC and UDP checksum", () => {
  for (const key of [undefined, KEY]) {
    const t = new ProbeTemplate(baseOpts({ hops: REVERSE, key, size: 300 }));
    const a = Buffer.from(t.patch(1, 1n));
    const b = t.patch(0xfffffffe, 0xfffffffffffffffen);
    const p = t.payloadOffset;
    const u = t.udpOffset;
    const allowed = new Set<number>([u, u + 1, u + 6, u + 7]);
    for (let i = p + 12; i < p + 24; i++) allowed.add(i);
    if (key) for (let i = p + 28; i < p + 44; i++) allowed.add(i);
    const changed: number[] = [];
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changed.push(i);
    assert.ok(changed.length > 0);
    for (const i of changed) assert.ok(allowed.has(i), `byte ${i} changed (payload at ${p}, key ${key ? "yes" : "no"})`);
  }
});

const portCases: Record<string, { base: number; range: number; seqs: number[]; ports: number[] }> = {
  "range 1 = fixed port": { base: 33000, range: 1, seqs: [0, 1, 2, 99], ports: [33000, 33000, 33000, 33000] },
  "range 4 rotates": { base: 40000, range: 4, seqs: [0, 1, 2, 3, 4, 5, 11], ports: [40000, 40001, 40002, 40003, 40000, 40001, 40003] },
  "top of the port space": { base: 65534, range: 2, seqs: [0, 1, 2, 0xffffffff], ports: [65534, 65535, 65534, 65535] },
};
for (const [name, c] of Object.entries(portCases)) {
  test(`template: source port, ${name}`, () => {
    const t = new ProbeTemplate(baseOpts({ srcPortBase: c.base, srcPortRange: c.range }));
    const got = c.seqs.map((s) => {
      t.patch(s, 0n);
      const port = t.buffer.readUInt16BE(t.udpOffset);
      assert.equal(verifyUdpChecksum(t.buffer, t.udpOffset, ipv4ToUint32(PROBER), ipv4ToUint32(PROBER)), "good");
      return port;
    });
    assert.deepEqual(got, c.ports);
    assert.deepEqual(c.seqs.map((s) => t.srcPortFor(s)), c.ports);
  });
}

const mtuCases: Record<string, { hops: string[]; size: number; mtu: number; message: RegExp; length: number }> = {
  "forward, size above MTU": {
    hops: FORWARD, size: 1501, mtu: 1500, length: 1501,
    message: /^path 7: a 3-hop GRE stack \(72 bytes of IPv4\+GRE headers\) makes a 1501-byte probe \(minimum for 3 hops: 144\), above the MTU of 1500 bytes$/,
  },
  "reverse, the minimum alone is above a tiny MTU": {
    hops: REVERSE, size: 0, mtu: 200, length: 216,
    message: /^path 7: a 6-hop GRE stack \(144 bytes of IPv4\+GRE headers\) makes a 216-byte probe \(minimum for 6 hops: 216\), above the MTU of 200 bytes$/,
  },
};
for (const [name, c] of Object.entries(mtuCases)) {
  test(`template: MTU refusal, ${name}`, () => {
    assert.throws(
      () => new ProbeTemplate(baseOpts({ hops: c.hops, size: c.size, mtu: c.mtu })),
      (e: unknown) => {
        assert.ok(e instanceof PacketTooLargeError);
        assert.match(e.message, c.message);
        assert.deepEqual([e.pathIndex, e.hopCount, e.length, e.mtu], [7, c.hops.length, c.length, c.mtu]);
        return true;
      },
    );
  });
}

const optionErrors: Record<string, { o: Partial<ProbeTemplateOptions>; field: string; message: RegExp }> = {
  "no hops": { o: { hops: [] }, field: "hops", message: /probe template hops: a probe needs at least one GRE hop address/ },
  "invalid hop": { o: { hops: ["198.18.0.1", "198.18.0.300"] }, field: "hops[1]", message: /hops\[1\]: invalid IPv4 address "198.18.0.300"/ },
  "hostname hop": { o: { hops: ["r2"] }, field: "hops[0]", message: /hops\[0\]: invalid IPv4 address "r2"/ },
  "invalid src": { o: { src: "198.18.100" }, field: "src", message: /src: invalid IPv4 address/ },
  "ttl 0": { o: { ttl: 0 }, field: "ttl", message: /ttl: 0 is not an integer 1-255/ },
  "dscp 64": { o: { dscp: 64 }, field: "dscp", message: /dscp: 64/ },
  "dstPort 0": { o: { dstPort: 0 }, field: "dstPort", message: /dstPort: 0/ },
  "srcPortRange 0": { o: { srcPortRange: 0 }, field: "srcPortRange", message: /srcPortRange: 0/ },
  "port range past 65535": { o: { srcPortBase: 65000, srcPortRange: 537 }, field: "srcPortRange", message: /srcPortRange: 537 is not an integer 1-536/ },
  "mtu 67": { o: { mtu: 67 }, field: "mtu", message: /mtu: 67/ },
  "fractional size": { o: { size: 100.5 }, field: "size", message: /size: 100.5/ },
  "empty key": { o: { key: Buffer.alloc(0) }, field: "key", message: /key: must be a non-empty Buffer/ },
};
for (const [name, c] of Object.entries(optionErrors)) {
  test(`template: reject ${name}`, () => {
    assert.throws(
      () => new ProbeTemplate(baseOpts(c.o)),
      (e: unknown) => e instanceof ProbeTemplateError && e.field === c.field && c.message.test(e.message),
    );
  });
}

test("template: patch rejects a sequence outside 0..2^32-1", () => {
  const t = new ProbeTemplate(baseOpts());
  for (const s of [-1, 2 ** 32, 1.5, NaN]) assert.throws(() => t.patch(s, 0n), RangeError, String(s));
});

// ---------------------------------------------------------------- encapsulation per layer

const G: Encap = "gre";
const I: Encap = "ipip";
const encapCases: Record<string, { hops: string[]; encaps: Encap[]; key?: Buffer; size: number; length: number; offsets: number[] }> = {
  "forward, all IP-in-IP": { hops: FORWARD, encaps: [I, I, I], size: 0, length: 132, offsets: [0, 20, 40, 60] },
  "forward, r4 IP-in-IP (gre, ipip, gre)": { hops: FORWARD, encaps: [G, I, G], size: 0, length: 140, offsets: [0, 24, 44, 68] },
  "reverse, r4 IP-in-IP both ways, key": { hops: REVERSE, encaps: [G, I, G, I, G, G], key: KEY, size: 0, length: 208, offsets: [0, 24, 44, 68, 88, 112, 136] },
  "reverse, mixed, 1500 bytes = MTU": { hops: REVERSE, encaps: [I, G, I, G, I, G], size: 1500, length: 1500, offsets: [0, 20, 44, 64, 88, 108, 132] },
};
for (const [name, c] of Object.entries(encapCases)) {
  test(`template: ${name}: each layer's protocol, offset, length and checksum after each patch`, () => {
    const t = new ProbeTemplate(baseOpts({ hops: c.hops, encaps: c.encaps, key: c.key, size: c.size }));
    const n = c.hops.length;
    assert.equal(t.length, c.length);
    assert.deepEqual(t.layerOffsets, c.offsets);
    assert.deepEqual(t.encaps, c.encaps);
    assert.equal(t.innerOffset, c.offsets[n]);
    assert.equal(t.udpOffset, c.offsets[n] + 20);
    assert.equal(ProbeTemplate.minimumSize(c.hops, c.encaps), c.offsets[n] + 72);
    const addrs = [...c.hops, PROBER];
    for (const [seq, sentNs] of SEQS) {
      const b = t.patch(seq, sentNs);
      for (let i = 0; i <= n; i++) {
        const o = c.offsets[i];
        const at = `seq ${seq} layer ${i}`;
        assert.equal(b[o], 0x45, `${at}: version 4, IHL 5`);
        assert.equal(b.readUInt16BE(o + 2), c.length - o, `${at}: total length`);
        assert.equal(b[o + 9], i === n ? 17 : c.encaps[i] === "ipip" ? 4 : 47, `${at}: protocol`);
        assert.equal(internetChecksum(b, o, o + 20), 0, `${at}: header checksum`);
        assert.equal(uint32ToIpv4(b.readUInt32BE(o + 16)), addrs[i], `${at}: dst`);
        if (i < n && c.encaps[i] === "gre") assert.equal(b.subarray(o + 20, o + 24).toString("hex"), "00000800", `${at}: GRE header`);
      }
      const w = walk(b);
      assert.deepEqual(w.layers.map((l) => l.dst), addrs);
      assert.deepEqual(w.layers.map((l) => l.start), c.offsets);
      assert.ok(w.layers.every((l) => l.checksumOk && l.src === PROBER && l.ttl === 64 && l.dscp === 46 && l.dontFragment));
      assert.equal(verifyUdpChecksum(b, t.udpOffset, ipv4ToUint32(PROBER), ipv4ToUint32(PROBER)), "good", `seq ${seq}: UDP checksum`);
      assert.equal(w.udp.checksum, naiveUdpChecksum(PROBER, PROBER, b.subarray(t.udpOffset)), `seq ${seq}: incremental = full checksum`);
      assert.deepEqual(parsePayload(b, t.payloadOffset), { ok: true, pathIndex: 7, seq, sentNs, nonce: 0x5eed5eed, hasMac: c.key !== undefined });
      if (c.key) assert.equal(verifyMac(b, c.key, t.payloadOffset), true);
    }
  });
}

test("template: encaps all GRE is byte for byte the default template", () => {
  const a = new ProbeTemplate(baseOpts({ hops: REVERSE, key: KEY, size: 300 }));
  const b = new ProbeTemplate(baseOpts({ hops: REVERSE, key: KEY, size: 300, encaps: REVERSE.map(() => G) }));
  assert.deepEqual(Buffer.from(a.patch(5, 5n)), Buffer.from(b.patch(5, 5n)));
  assert.deepEqual(a.layerOffsets, REVERSE.map((_, i) => ProbeTemplate.layerOffset(i)).concat(ProbeTemplate.layerOffset(REVERSE.length)));
});

test("writeEncapLayer: GRE writes IPv4 proto 47 + GRE, IP-in-IP the IPv4 header alone (proto 4)", () => {
  const h = { src: PROBER, dst: "198.18.0.1", totalLength: 100, ttl: 64, dscp: 0, id: 1, dontFragment: true };
  const b = Buffer.alloc(100);
  assert.equal(writeEncapLayer(b, 0, "gre", h), 24);
  assert.deepEqual([b[9], b.subarray(20, 24).toString("hex")], [47, "00000800"]);
  const c = Buffer.alloc(100);
  assert.equal(writeEncapLayer(c, 0, "ipip", h), 20);
  assert.deepEqual([c[9], c.subarray(20, 24).toString("hex"), internetChecksum(c, 0, 20)], [4, "00000000", 0]);
});

const encapMtuCases: Record<string, { hops: string[]; encaps: Encap[]; size: number; mtu: number; message: RegExp }> = {
  "all IP-in-IP: 20 bytes a layer": {
    hops: FORWARD, encaps: [I, I, I], size: 0, mtu: 131,
    message: /^path 7: a 3-hop IP-in-IP stack \(60 bytes of outer IPv4 headers\) makes a 132-byte probe \(minimum for 3 hops: 132\), above the MTU of 131 bytes$/,
  },
  "mixed: 24 for GRE, 20 for IP-in-IP": {
    hops: REVERSE, encaps: [G, I, G, I, G, G], size: 0, mtu: 207,
    message: /^path 7: a 6-hop stack of 4 GRE and 2 IP-in-IP layers \(136 bytes of tunnel headers\) makes a 208-byte probe \(minimum for 6 hops: 208\), above the MTU of 207 bytes$/,
  },
};
for (const [name, c] of Object.entries(encapMtuCases)) {
  test(`template: MTU refusal, ${name}`, () => {
    // One byte more fits exactly.
    assert.equal(new ProbeTemplate(baseOpts({ hops: c.hops, encaps: c.encaps, size: c.size, mtu: c.mtu + 1 })).length, c.mtu + 1);
    assert.throws(
      () => new ProbeTemplate(baseOpts({ hops: c.hops, encaps: c.encaps, size: c.size, mtu: c.mtu })),
      (e: unknown) => e instanceof PacketTooLargeError && c.message.test(e.message) && e.encaps.join() === c.encaps.join(),
    );
  });
}

test("template: reject encaps of the wrong length or an unknown encapsulation", () => {
  assert.throws(() => new ProbeTemplate(baseOpts({ encaps: [G, G] })), (e: unknown) => e instanceof ProbeTemplateError && e.field === "encaps" && /one encapsulation per hop \(3\), got 2/.test(e.message));
  assert.throws(() => new ProbeTemplate(baseOpts({ encaps: [G, "mpls" as Encap, G] })), (e: unknown) => e instanceof ProbeTemplateError && e.field === "encaps[1]" && /"mpls" is not "gre" or "ipip"/.test(e.message));
});

const patternCases: Record<string, [string, string, boolean]> = {
  "exact": ["r4", "r4", true],
  "exact, other name": ["r4", "r40", false],
  "star alone": ["*", "anything", true],
  "star matches empty": ["r*", "r", true],
  "prefix": ["edge-*", "edge-7", true],
  "prefix, no match": ["edge-*", "core-7", false],
  "suffix": ["*.pop1", "r1.pop1", true],
  "middle": ["r*-*x", "r12-abx", true],
  "middle, parts must not overlap": ["ab*ba", "aba", false],
  "other glob characters are literal": ["r?", "r4", false],
  "other glob characters are literal, matching": ["r[1]*", "r[1]x", true],
};
for (const [name, [pattern, router, want]] of Object.entries(patternCases)) {
  test(`encap pattern: ${name}`, () => assert.equal(routerPatternMatches(pattern, router), want));
}

test("EncapChooser: exact names before patterns, then the first matching pattern in order, else the default", () => {
  const c = new EncapChooser("gre", [
    { router: "edge-*", encap: "ipip" },
    { router: "edge-9", encap: "gre" },
    { router: "*-9", encap: "ipip" },
    { router: "e*", encap: "gre" },
    { router: "r4", encap: "ipip" },
  ]);
  assert.equal(c.for("edge-9"), "gre", "exact name beats an earlier pattern");
  assert.equal(c.for("edge-1"), "ipip", "first pattern");
  assert.equal(c.for("core-9"), "ipip", "second pattern");
  assert.equal(c.for("east"), "gre");
  assert.equal(c.for("r4"), "ipip");
  assert.equal(c.for("r5"), "gre", "default");
  assert.equal(c.for("edge-1"), "ipip", "cached answer");
  assert.equal(new EncapChooser("ipip").for("r1"), "ipip");
});

// ---------------------------------------------------------------- pcap

test("pcap: global and record headers (little endian, LINKTYPE_IPV4)", () => {
  const f = encodePcap([hex("4500"), { data: hex("450000"), tsSec: 5, tsUsec: 6 }]);
  assert.equal(f.subarray(0, 24).toString("hex"), "d4c3b2a1" + "0200" + "0400" + "00000000" + "00000000" + "ffff0000" + "e4000000");
  assert.equal(LINKTYPE_IPV4, 228);
  assert.equal(f.subarray(24, 42).toString("hex"), "00000000" + "00000000" + "02000000" + "02000000" + "4500");
  assert.equal(f.subarray(42).toString("hex"), "05000000" + "06000000" + "03000000" + "03000000" + "450000");
  const cut = encodePcap([Buffer.alloc(10)], 4);
  assert.deepEqual([cut.readUInt32LE(24 + 8), cut.readUInt32LE(24 + 12), cut.length], [4, 10, 24 + 16 + 4]);
});
