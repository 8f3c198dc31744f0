// The lab's SR-MPLS label switcher core (test/lab/mpls.ts) and segment-routing plan (sr.ts): label
// stack entries (RFC 3032 §2.1), pop and forward by tables, TTL (§2.4.1), the inner packet at the
// bottom of stack; locators, End.X SIDs and Adj-SID labels of the NANOG lab; locator routes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MPLS_DROP_REASONS, encodeLabelStack, labelTable, newMplsSlot, readLabelEntry, switchInto, switchLabel, writeLabelEntry, type MplsRouterConfig, type SwitchResult } from "../lab/mpls.js";
import { adjSidLabel, endXSid, srPlan, srv6Locator } from "../lab/sr.js";
import { computeRoutes, labIpv6For, nanogLab } from "../lab/netns.js";

// ---- tiny builders (independent of prober/packet) ----

function sum16(b: Uint8Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i += 2) s += (b[i] << 8) | b[i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function ipv4(ttl: number, body = Buffer.from("probe"), o: { badChecksum?: boolean; ihl?: number; totalLength?: number } = {}): Buffer {
  const p = Buffer.alloc(28 + body.length);
  p[0] = 0x40 | (o.ihl ?? 5);
  p.writeUInt16BE(o.totalLength ?? p.length, 2);
  p[8] = ttl;
  p[9] = 17;
  Buffer.from([198, 18, 252, 1]).copy(p, 12);
  Buffer.from([198, 18, 252, 1]).copy(p, 16);
  p.writeUInt16BE((~sum16(p, 0, 20) & 0xffff) ^ (o.badChecksum ? 1 : 0), 10);
  p.writeUInt16BE(8 + body.length, 24);
  body.copy(p, 28);
  return p;
}

function ipv6(hopLimit: number, body = Buffer.from("probe")): Buffer {
  const p = Buffer.alloc(48 + body.length);
  p.writeUInt32BE(0x60000000, 0);
  p.writeUInt16BE(8 + body.length, 4);
  p[6] = 17;
  p[7] = hopLimit;
  p[24] = 0x20;
  p[25] = 0x01;
  p[27] = 0x02;
  p[39] = 0x01;
  body.copy(p, 48);
  return p;
}

/** Entries as [label, tc, bos, ttl] words, then `rest`. */
function stack(entries: Array<[number, number, boolean, number]>, rest: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(4 * entries.length);
  entries.forEach(([l, tc, s, ttl], i) => b.writeUInt32BE(((l << 12) | (tc << 9) | (s ? 0x100 : 0) | ttl) >>> 0, 4 * i));
  return Buffer.concat([b, rest]);
}

// ---- label stack entries ----

const entries: Record<string, { bytes: number[]; entry: { label: number; tc: number; bos: boolean; ttl: number } }> = {
  "Adj-SID 24000, TTL 64, not bottom": { bytes: [0x05, 0xdc, 0x00, 0x40], entry: { label: 24000, tc: 0, bos: false, ttl: 64 } },
  "bottom of stack, TC 5, TTL 1": { bytes: [0x05, 0xdc, 0x1b, 0x01], entry: { label: 24001, tc: 5, bos: true, ttl: 1 } },
  "largest label (2^20 - 1), TTL 255": { bytes: [0xff, 0xff, 0xf1, 0xff], entry: { label: 0xfffff, tc: 0, bos: true, ttl: 255 } },
  "IPv4 explicit null (label 0)": { bytes: [0x00, 0x00, 0x01, 0x05], entry: { label: 0, tc: 0, bos: true, ttl: 5 } },
};
for (const [name, c] of Object.entries(entries)) {
  test(`label entry decode: ${name}`, () => assert.deepEqual(readLabelEntry(Buffer.from(c.bytes), 0), c.entry));
  test(`label entry round trip: ${name}`, () => {
    const b = Buffer.alloc(4);
    assert.equal(writeLabelEntry(b, 0, c.entry), 4);
    assert.deepEqual([...b], c.bytes);
  });
}

test("label entry: truncated and out-of-range values are refused", () => {
  assert.throws(() => readLabelEntry(Buffer.alloc(3), 0), RangeError);
  assert.throws(() => writeLabelEntry(Buffer.alloc(4), 0, { label: 0x100000, tc: 0, bos: true, ttl: 1 }), /label/);
  assert.throws(() => writeLabelEntry(Buffer.alloc(4), 0, { label: 16, tc: 8, bos: true, ttl: 1 }), /TC/);
  assert.throws(() => writeLabelEntry(Buffer.alloc(4), 0, { label: 16, tc: 0, bos: true, ttl: 256 }), /TTL/);
});

test("encodeLabelStack: S on the last entry only", () => {
  const s = encodeLabelStack([{ label: 24000, ttl: 64 }, { label: 24001, ttl: 63, tc: 2 }], Buffer.from([0xaa]));
  assert.deepEqual(readLabelEntry(s, 0), { label: 24000, tc: 0, bos: false, ttl: 64 });
  assert.deepEqual(readLabelEntry(s, 4), { label: 24001, tc: 2, bos: true, ttl: 63 });
  assert.equal(s[8], 0xaa);
});

// ---- switching by table ----

const TABLE = new Map([
  [24000, 0],
  [24001, 1],
  [24002, 2],
]);

interface Case {
  in: Buffer;
  want: SwitchResult | { drop: string };
}

const INNER4 = ipv4(64);
const INNER6 = ipv6(64);
function ttlSet4(ttl: number): Buffer {
  return ipv4(ttl); // same packet with that TTL and its checksum
}
function ttlSet6(h: number): Buffer {
  return ipv6(h);
}

const cases: Record<string, Case> = {
  "pop, stack goes on: forward the rest on adjacency 1, outgoing TTL (63) into the new top entry, its own TTL ignored": {
    in: stack([[24001, 0, false, 64], [24002, 3, false, 200], [24000, 0, true, 9]], INNER4),
    want: { adjacency: 1, label: 24001, bos: false, out: stack([[24002, 3, false, 63], [24000, 0, true, 9]], INNER4) },
  },
  "bottom of stack, inner IPv4: TTL set to the outgoing TTL, header checksum recomputed": {
    in: stack([[24000, 0, true, 10]], INNER4),
    want: { adjacency: 0, label: 24000, bos: true, out: ttlSet4(9), family: "ipv4" },
  },
  "bottom of stack, inner IPv6: hop limit set to the outgoing TTL": {
    in: stack([[24002, 0, true, 255]], INNER6),
    want: { adjacency: 2, label: 24002, bos: true, out: ttlSet6(254), family: "ipv6" },
  },
  "bottom of stack, padding after the inner total length is not forwarded": {
    in: stack([[24000, 0, true, 10]], Buffer.concat([INNER4, Buffer.alloc(6)])),
    want: { adjacency: 0, label: 24000, bos: true, out: ttlSet4(9), family: "ipv4" },
  },
  "TTL 1: outgoing TTL 0, not forwarded": { in: stack([[24000, 0, false, 1], [24001, 0, true, 64]], INNER4), want: { drop: "mpls-ttl" } },
  "TTL 0 on arrival": { in: stack([[24000, 0, true, 0]], INNER4), want: { drop: "mpls-ttl" } },
  "a label this router did not allocate": { in: stack([[24003, 0, true, 64]], INNER4), want: { drop: "mpls-unknown-label" } },
  "reserved label (IPv6 explicit null, 2)": { in: stack([[2, 0, true, 64]], INNER6), want: { drop: "mpls-reserved" } },
  "reserved label (router alert, 1)": { in: stack([[1, 0, false, 64], [24000, 0, true, 64]], INNER4), want: { drop: "mpls-reserved" } },
  "truncated: 3 bytes": { in: Buffer.from([0x05, 0xdc, 0x00]), want: { drop: "mpls-truncated" } },
  "truncated: S = 0 but nothing after the entry": { in: stack([[24000, 0, false, 64]]), want: { drop: "mpls-truncated" } },
  "bottom of stack with nothing inside": { in: stack([[24000, 0, true, 64]]), want: { drop: "mpls-inner-truncated" } },
  "inner IPv4 shorter than its total length": { in: stack([[24000, 0, true, 64]], INNER4.subarray(0, 30)), want: { drop: "mpls-inner-truncated" } },
  "inner IPv6 shorter than its payload length": { in: stack([[24000, 0, true, 64]], INNER6.subarray(0, 50)), want: { drop: "mpls-inner-truncated" } },
  "inner IPv4 header checksum wrong": { in: stack([[24000, 0, true, 64]], ipv4(64, undefined, { badChecksum: true })), want: { drop: "mpls-inner-bad-checksum" } },
  "inner IPv4 IHL 4": { in: stack([[24000, 0, true, 64]], ipv4(64, undefined, { ihl: 4 })), want: { drop: "mpls-inner-bad-ihl" } },
  "inner neither IPv4 nor IPv6 (an Ethernet frame, pseudowire without a control word)": { in: stack([[24000, 0, true, 64]], Buffer.from("0000000000010203", "hex")), want: { drop: "mpls-inner-not-ip" } },
};

for (const [name, c] of Object.entries(cases)) {
  test(`switch: ${name}`, () => {
    const got = switchLabel(c.in, TABLE);
    if ("drop" in c.want) assert.deepEqual(got, c.want);
    else {
      assert.ok(!("drop" in got), JSON.stringify(got));
      assert.deepEqual({ ...got, out: got.out.toString("hex") }, { ...c.want, out: c.want.out.toString("hex") });
      if (got.family === "ipv4") assert.equal(sum16(got.out, 0, 20), 0xffff, "inner IPv4 header checksum");
    }
  });
}

test("switchInto: in place, within [start, end) of a larger buffer (a GRE packet), drops leave the bytes untouched", () => {
  const pkt = Buffer.concat([Buffer.alloc(24, 0xee), stack([[24001, 0, false, 7], [24000, 0, true, 64]], INNER4)]);
  const slot = newMplsSlot();
  assert.equal(switchInto(pkt, TABLE, slot, 24, pkt.length), 0);
  assert.deepEqual([slot.adjacency, slot.offset, slot.length, slot.bos], [1, 28, pkt.length - 28, false]);
  assert.equal(pkt[31], 6, "next entry's TTL");
  const bad = stack([[24009, 0, true, 64]], INNER4);
  const copy = Buffer.from(bad);
  assert.equal(MPLS_DROP_REASONS[switchInto(bad, TABLE, slot)], "mpls-unknown-label");
  assert.deepEqual(bad, copy);
});

test("labelTable: label -> adjacency index; duplicate and reserved labels refused", () => {
  const adj = (label: number) => ({ label, dev: "e0-r2", local: "198.18.0.0", nexthop: "198.18.0.1", local6: "2001:2:0:18::", nexthop6: "2001:2:0:18::1" });
  const c = (labels: number[]): MplsRouterConfig => ({ adjacencies: labels.map(adj), listen: [], listen6: [] });
  assert.deepEqual([...labelTable(c([24000, 24001]))], [
    [24000, 0],
    [24001, 1],
  ]);
  assert.throws(() => labelTable(c([24000, 24000])), /already names adjacency 0/);
  assert.throws(() => labelTable(c([15])), /outside 16/);
});

// ---- the plan ----

test("SR plan: locators 2001:2:0:(8000 + n)::/64, End.X SIDs locator::e:k, labels 24000 + k, one per directed adjacency", () => {
  assert.equal(srv6Locator(1), "2001:2:0:8001::/64");
  assert.equal(srv6Locator(255), "2001:2:0:80ff::/64");
  assert.equal(endXSid(6, 1), "2001:2:0:8006::e:1");
  assert.equal(endXSid(1, 0xffff), "2001:2:0:8001::e:ffff");
  assert.equal(adjSidLabel(3), 24003);
  assert.throws(() => srv6Locator(32767), /outside 1\.\.32766/);
  assert.throws(() => endXSid(1, 65536), RangeError);
  const t = nanogLab();
  const plan = srPlan(t);
  assert.equal(plan.adjacencies.length, 2 * t.links.length);
  const r2 = plan.routers.find((r) => r.name === "r2")!;
  assert.deepEqual(
    r2.adjacencies.map((a) => [a.peer, a.endX, a.label, a.nexthop, a.nexthop6]),
    [
      ["r1", "2001:2:0:8002::e:0", 24000, "198.18.0.0", "2001:2:0:18::"],
      ["r4", "2001:2:0:8002::e:1", 24001, "198.18.0.5", "2001:2:0:18::5"],
      ["r5", "2001:2:0:8002::e:2", 24002, "198.18.0.7", "2001:2:0:18::7"],
    ],
  );
  for (const r of plan.routers) assert.equal(new Set(r.adjacencies.map((a) => a.label)).size, r.adjacencies.length, `${r.name}: labels unique`);
  assert.equal(new Set(plan.adjacencies.map((a) => a.endX)).size, plan.adjacencies.length, "SIDs unique");
});

test("SR plan: no SID or locator overlaps the lab's address plan (fourth group 0x18, 0x19) or the bench's 2001:2:0:200::/64", () => {
  const t = nanogLab({ h6: true });
  const fourth = (a: string): string => a.split(":")[3];
  const used = new Set([...t.routers.map((r) => r.loopback6), ...t.links.flatMap((l) => [l.aAddress6, l.bAddress6]), ...t.hosts.map((h) => h.address6), labIpv6For("198.19.255.255")].map(fourth));
  assert.deepEqual([...used].sort(), ["18", "19"]);
  for (const a of srPlan(t).adjacencies) {
    const g = parseInt(fourth(a.endX), 16);
    assert.ok(g >= 0x8000 && g <= 0xfffe, a.endX);
  }
});

test("computeRoutes with the SR plan: every other router's locator routed as its loopback is (ECMP), IPv6 only", () => {
  const t = nanogLab();
  const plan = srPlan(t);
  const with6 = computeRoutes(t, new Set(), new Set(), "ipv6", { srv6: plan }).get("r1")!;
  const loop = with6.find((r) => r.prefix === "2001:2:0:19::6/128")!;
  const loc = with6.find((r) => r.prefix === "2001:2:0:8006::/64")!;
  assert.deepEqual(loc.nexthops, loop.nexthops);
  assert.equal(loc.nexthops.length, 2);
  assert.equal(with6.find((r) => r.prefix === "2001:2:0:8001::/64"), undefined, "its own locator is not routed away");
  assert.equal(computeRoutes(t, new Set(), new Set(), "ipv6").get("r1")!.filter((r) => r.prefix.startsWith("2001:2:0:80")).length, 0);
  assert.equal(computeRoutes(t, new Set(), new Set(), "ipv4", { srv6: plan }).get("r1")!.filter((r) => r.prefix.includes(":")).length, 0);
});
