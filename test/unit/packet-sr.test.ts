// Segment-routing packets (issue 15, Must 2 and 3, the packet layer), by tables: the SRH (RFC
// 8754), MPLS label stack entries (RFC 3032), and the SRv6 and SR-MPLS probe templates: layout,
// the reduced SRH, the final destination in the UDP pseudo-header, labels and TTLs, MPLS-in-UDP
// (RFC 7510) and MPLS-in-GRE, per-probe patches checked against from-scratch checksums, the MTU
// check counting the SR headers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readSrh, srhLength, srhList, writeSrh, IPPROTO_ROUTING, SRH_ROUTING_TYPE } from "../../prober/packet/srh.js";
import { GRE_PROTO_MPLS, MPLS_UDP_PORT, readLabelEntry, readLabelStack, writeLabelEntry, writeLabelStack } from "../../prober/packet/mpls.js";
import { SrMplsProbeTemplate, Srv6ProbeTemplate, SrPacketTooLargeError, type SrMplsProbeTemplateOptions, type Srv6ProbeTemplateOptions } from "../../prober/packet/template-sr.js";
import { ProbeTemplateError } from "../../prober/packet/template.js";
import { bytesToIpv6, ipv6ToBytes, readIpv6Header } from "../../prober/packet/ipv6.js";
import { ipv4ToUint32, readIpv4Header } from "../../prober/packet/ipv4.js";
import { readUdpHeader, verifyUdp6Checksum, verifyUdpChecksum } from "../../prober/packet/udp.js";
import { parsePayload, verifyMac } from "../../prober/packet/payload.js";

// The NANOG lab's plan (test/lab/sr.ts): r1's adjacency to r2 2001:2:0:8001::e:0, ...
const P6 = "2001:2:0:100::2";
const P4 = "198.18.252.2";
const SIDS = ["2001:2:0:8001::e:0", "2001:2:0:8002::e:1", "2001:2:0:8004::e:2", "2001:2:0:8006::e:0", "2001:2:0:8004::e:0", "2001:2:0:8002::e:0"];
const LABELS = [24000, 24001, 24002, 24000, 24000, 24000];

// ---- SRH ----

const srhRows: Record<string, { segments: string[]; reduced: boolean; list: string[]; lastEntry: number; left: number }> = {
  "reduced, 3 segments: the first only in the DA": { segments: ["2001:2::a", "2001:2::b", "2001:2::c"], reduced: true, list: ["2001:2::c", "2001:2::b"], lastEntry: 1, left: 2 },
  "full, 3 segments": { segments: ["2001:2::a", "2001:2::b", "2001:2::c"], reduced: false, list: ["2001:2::c", "2001:2::b", "2001:2::a"], lastEntry: 2, left: 2 },
  "full, 1 segment": { segments: ["2001:2::a"], reduced: false, list: ["2001:2::a"], lastEntry: 0, left: 0 },
  "reduced, 2 segments": { segments: ["2001:2::a", "2001:2::b"], reduced: true, list: ["2001:2::b"], lastEntry: 0, left: 1 },
};
for (const [name, r] of Object.entries(srhRows)) {
  test(`srh: ${name}: written, read back, the list in reverse order`, () => {
    const b = Buffer.alloc(srhLength(r.list.length) + 4);
    const n = writeSrh(b, 2, { nextHeader: 17, segments: r.segments, reduced: r.reduced, tag: 0xabcd, flags: 0 });
    assert.equal(n, 8 + 16 * r.list.length);
    assert.deepEqual(srhList(r), r.list);
    const h = readSrh(b, 2);
    assert.deepEqual(h, { nextHeader: 17, hdrExtLen: 2 * r.list.length, routingType: 4, segmentsLeft: r.left, lastEntry: r.lastEntry, flags: 0, tag: 0xabcd, list: r.list, length: n });
  });
}
test("srh: bytes of a 2-segment reduced SRH, and the errors", () => {
  const b = Buffer.alloc(24);
  writeSrh(b, 0, { nextHeader: 17, segments: ["2001:2::1", "2001:2::2"] });
  assert.equal(b.toString("hex"), "11020401" + "00000000" + "20010002000000000000000000000002");
  assert.equal(SRH_ROUTING_TYPE, 4);
  assert.equal(IPPROTO_ROUTING, 43);
  assert.throws(() => writeSrh(b, 0, { nextHeader: 17, segments: ["2001:2::1"] }), /at least 2 segment/);
  assert.throws(() => readSrh(b.subarray(0, 20), 0), /Hdr Ext Len 2 says 24 octets, 20 there/);
  assert.throws(() => readSrh(b.subarray(0, 7), 0), /needs 8/);
  const t = Buffer.from(b);
  t[2] = 0;
  assert.throws(() => readSrh(t, 0), /type 0, not 4/);
});

// ---- MPLS ----

const labelRows: Array<[string, { label: number; tc: number; bottom: boolean; ttl: number }, string]> = [
  ["label 24000, bottom, TTL 64", { label: 24000, tc: 0, bottom: true, ttl: 64 }, "05dc0140"],
  ["largest label, TC 7, not bottom, TTL 255", { label: 0xfffff, tc: 7, bottom: false, ttl: 255 }, "fffffeff"],
  ["label 16, TTL 1", { label: 16, tc: 0, bottom: false, ttl: 1 }, "00010001"],
];
for (const [name, e, hex] of labelRows) {
  test(`mpls entry: ${name}`, () => {
    const b = Buffer.alloc(4);
    writeLabelEntry(b, 0, e);
    assert.equal(b.toString("hex"), hex);
    assert.deepEqual(readLabelEntry(b, 0), e);
  });
}
test("mpls: a stack has S on its last entry only, every TTL set; bad fields throw", () => {
  const b = Buffer.alloc(24);
  assert.equal(writeLabelStack(b, 0, LABELS, 63, 2), 24);
  const s = readLabelStack(b, 0);
  assert.deepEqual(s.map((e) => e.label), LABELS);
  assert.deepEqual(s.map((e) => e.bottom), [false, false, false, false, false, true]);
  assert.ok(s.every((e) => e.ttl === 63 && e.tc === 2));
  assert.throws(() => writeLabelEntry(b, 0, { label: 0x100000, tc: 0, bottom: true, ttl: 1 }), /label 1048576/);
  assert.throws(() => writeLabelEntry(b, 0, { label: 16, tc: 8, bottom: true, ttl: 1 }), /TC 8/);
  assert.throws(() => writeLabelStack(b, 0, [], 1), /at least one label/);
  assert.throws(() => readLabelEntry(b, 22), RangeError);
});

// ---- SRv6 template ----

const v6base: Srv6ProbeTemplateOptions = { src: P6, segments: SIDS, hopLimit: 64, dstPort: 33434, srcPortBase: 40000, srcPortRange: 64, dscp: 46, size: 0, mtu: 1500, pathIndex: 7, nonce: 0x1234 };
const v6rows: Record<string, Partial<Srv6ProbeTemplateOptions>> = {
  "reduced SRH, 6 End.X SIDs": {},
  "full SRH": { reduced: false },
  "one SID, a key, 600 bytes": { segments: SIDS.slice(0, 1), key: Buffer.from("k"), size: 600 },
};
for (const [name, over] of Object.entries(v6rows)) {
  test(`srv6 template: ${name}: DA the first SID, the SRH's list, UDP to the prober with a Good checksum on every patch`, () => {
    const o = { ...v6base, ...over };
    const t = new Srv6ProbeTemplate(o);
    const reduced = o.reduced ?? true;
    const listed = o.segments.length + (reduced ? 0 : 1);
    assert.equal(t.srhLength, 8 + 16 * listed);
    assert.equal(t.length, Math.max(o.size, 40 + t.srhLength + 8 + 44));
    assert.equal(Srv6ProbeTemplate.minimumSize(o.segments.length, reduced), 40 + t.srhLength + 52);
    for (const seq of [0, 1, 63, 64, 1000, 0xffffffff]) {
      const b = t.patch(seq, 123456789n + BigInt(seq));
      const ip = readIpv6Header(b, 0);
      assert.equal(ip.nextHeader, 43);
      assert.equal(bytesToIpv6(b, 24), o.segments[0]);
      assert.equal(bytesToIpv6(b, 8), P6);
      assert.equal(ip.flowLabel, t.flowLabelFor(seq));
      assert.equal(ip.hopLimit, 64);
      const h = readSrh(b, 40);
      assert.equal(h.nextHeader, 17);
      assert.equal(h.segmentsLeft, o.segments.length);
      assert.deepEqual([...h.list].reverse(), [...(reduced ? o.segments.slice(1) : o.segments), P6]);
      const udp = readUdpHeader(b, t.udpOffset);
      assert.equal(udp.srcPort, t.srcPortFor(seq));
      // RFC 8200 §8.1: the pseudo-header's destination is the final one, the prober.
      assert.equal(verifyUdp6Checksum(b, t.udpOffset, ipv6ToBytes(P6), ipv6ToBytes(P6)), "good", `seq ${seq}`);
      assert.equal(verifyUdp6Checksum(b, t.udpOffset, ipv6ToBytes(P6), ipv6ToBytes(o.segments[0])), "bad");
      const pl = parsePayload(b, t.payloadOffset);
      assert.ok(pl.ok);
      if (pl.ok) assert.deepEqual([pl.seq, pl.pathIndex, pl.sentNs], [seq, 7, 123456789n + BigInt(seq)]);
      if (o.key) assert.ok(verifyMac(b, o.key, t.payloadOffset));
    }
  });
}
test("srv6 template: the MTU check counts the SRH; bad options name the field", () => {
  const max = Srv6ProbeTemplate.minimumSize(SIDS.length);
  assert.ok(new Srv6ProbeTemplate({ ...v6base, size: 1280, mtu: 1280 }));
  const many = Array.from({ length: 80 }, (_, i) => `2001:2:0:8001::e:${i.toString(16)}`);
  assert.throws(() => new Srv6ProbeTemplate({ ...v6base, segments: many, mtu: 1280 }), (e: unknown) => e instanceof SrPacketTooLargeError && /an SRH of 80 segments \(1288 bytes\) makes a 1380-byte probe, above the MTU of 1280 bytes/.test(e.message));
  assert.equal(max, 40 + 8 + 16 * 6 + 8 + 44);
  assert.throws(() => new Srv6ProbeTemplate({ ...v6base, segments: [] }), (e: unknown) => e instanceof ProbeTemplateError && e.field === "segments");
  assert.throws(() => new Srv6ProbeTemplate({ ...v6base, segments: ["198.18.0.1"] }), (e: unknown) => e instanceof ProbeTemplateError && e.field === "segments[0]");
  assert.throws(() => new Srv6ProbeTemplate({ ...v6base, hopLimit: 0 }), (e: unknown) => e instanceof ProbeTemplateError && e.field === "hopLimit");
  assert.throws(() => new Srv6ProbeTemplate({ ...v6base, mtu: 1000 }), (e: unknown) => e instanceof ProbeTemplateError && e.field === "mtu");
});

// ---- SR-MPLS template ----

const mplsBase = (family: "ipv4" | "ipv6", carrier: "udp" | "gre"): SrMplsProbeTemplateOptions => ({
  family,
  carrier,
  src: family === "ipv4" ? P4 : P6,
  entry: family === "ipv4" ? "198.19.0.1" : "2001:2:0:ffff::1",
  labels: LABELS,
  ttl: 64,
  labelTtl: 32,
  dstPort: 33434,
  srcPortBase: 40000,
  srcPortRange: 64,
  dscp: 0,
  size: 0,
  mtu: 1500,
  pathIndex: 3,
  nonce: 9,
});
for (const family of ["ipv4", "ipv6"] as const) {
  for (const carrier of ["udp", "gre"] as const) {
    for (const key of [undefined, Buffer.from("key")]) {
      test(`sr-mpls template: ${family} MPLS-in-${carrier.toUpperCase()}${key ? ", key" : ""}: outer to the entry router, every label with its TTL and S on the last, the probe inside; both checksums Good on every patch`, () => {
        const o = { ...mplsBase(family, carrier), ...(key ? { key } : {}) };
        const t = new SrMplsProbeTemplate(o);
        assert.equal(t.length, SrMplsProbeTemplate.minimumSize(family, LABELS.length, carrier));
        const v4 = family === "ipv4";
        for (const seq of [0, 1, 17, 64, 65535, 0xffffffff]) {
          const b = t.patch(seq, 42n + BigInt(seq));
          if (v4) {
            const ip = readIpv4Header(b, 0);
            assert.deepEqual([ip.protocol, ip.totalLength], [carrier === "udp" ? 17 : 47, t.length]);
          } else {
            const ip = readIpv6Header(b, 0);
            assert.deepEqual([ip.nextHeader, ip.payloadLength], [carrier === "udp" ? 17 : 47, t.length - 40]);
          }
          if (carrier === "udp") {
            const outer = readUdpHeader(b, t.carrierOffset);
            assert.equal(outer.dstPort, MPLS_UDP_PORT);
            assert.equal(outer.srcPort, t.entropyPortFor(seq));
            assert.ok(outer.srcPort >= 49152);
            const good = v4
              ? verifyUdpChecksum(b, t.carrierOffset, ipv4ToUint32(o.src), ipv4ToUint32(o.entry))
              : verifyUdp6Checksum(b, t.carrierOffset, ipv6ToBytes(o.src), ipv6ToBytes(o.entry));
            assert.equal(good, "good", `outer, seq ${seq}`);
          } else assert.equal(b.readUInt32BE(t.carrierOffset), GRE_PROTO_MPLS);
          const stack = readLabelStack(b, t.labelOffset);
          assert.deepEqual(stack.map((e) => [e.label, e.ttl, e.bottom]), LABELS.map((l, i) => [l, 32, i === LABELS.length - 1]));
          assert.equal(t.innerOffset, t.labelOffset + 4 * LABELS.length);
          const inner = v4
            ? verifyUdpChecksum(b, t.udpOffset, ipv4ToUint32(o.src), ipv4ToUint32(o.src))
            : verifyUdp6Checksum(b, t.udpOffset, ipv6ToBytes(o.src), ipv6ToBytes(o.src));
          assert.equal(inner, "good", `inner, seq ${seq}`);
          assert.equal(readUdpHeader(b, t.udpOffset).srcPort, t.srcPortFor(seq));
          const pl = parsePayload(b, t.payloadOffset);
          assert.ok(pl.ok && pl.seq === seq);
          if (key) assert.ok(verifyMac(b, key, t.payloadOffset));
        }
      });
    }
  }
}
test("sr-mpls template: the MTU check counts the stack; reserved labels and bad options name the field", () => {
  const o = mplsBase("ipv4", "udp");
  const labels = Array.from({ length: 400 }, (_, i) => 24000 + i);
  assert.throws(() => new SrMplsProbeTemplate({ ...o, labels }), (e: unknown) => e instanceof SrPacketTooLargeError && /a stack of 400 labels with its outer headers \(1628 bytes\)/.test(e.message));
  assert.throws(() => new SrMplsProbeTemplate({ ...o, labels: [3] }), (e: unknown) => e instanceof ProbeTemplateError && e.field === "labels[0]");
  assert.throws(() => new SrMplsProbeTemplate({ ...o, labels: [] }), (e: unknown) => e instanceof ProbeTemplateError && e.field === "labels");
  assert.throws(() => new SrMplsProbeTemplate({ ...o, entry: "2001:2::1" }), (e: unknown) => e instanceof ProbeTemplateError && e.field === "entry");
  assert.throws(() => new SrMplsProbeTemplate({ ...o, carrier: "tcp" as "udp" }), (e: unknown) => e instanceof ProbeTemplateError && e.field === "carrier");
});
