// The lab's userspace SRv6 End.X core (test/lab/srv6.ts), for kernels without seg6local: which
// adjacency a packet's active SID names (full and reduced SRH, RFC 8754 §4.1.1, §4.3.1), what it
// sends (RFC 8986 §4.2: SL - 1, the next segment as destination, the rest untouched), and every
// drop. Packets are built with the prober's own SRH writer (prober/packet/srh.ts), as the raw
// socket of protocol 43 hands them over: the SRH first, no IPv6 header.
import { test } from "node:test";
import assert from "node:assert/strict";
import { IPV6_HEADER_LENGTH, bytesToIpv6, ipv6ToBytes } from "../../prober/packet/ipv6.js";
import { IPPROTO_ROUTING, srhLength, writeSrh } from "../../prober/packet/srh.js";
import { SRV6_DROP_REASONS, SRV6_HOP_LIMIT, endXInto, newSrv6Slot, srv6RouterConfig, srv6Table, type Srv6RouterConfig } from "../lab/srv6.js";
import { srPlan, type SrPlan } from "../lab/sr.js";
import { nanogLab } from "../lab/netns.js";

const PLAN: SrPlan = srPlan(nanogLab());
const H1 = "2001:2:0:18::252:1";
const BODY = Buffer.from("udp-header+payload");

const config = (router: string): Srv6RouterConfig => srv6RouterConfig(PLAN, router, (a) => `e${a.index}`);
const tableOf = (router: string) => srv6Table(config(router), (a) => ipv6ToBytes(a));
const sid = (router: string, peer: string): string => PLAN.adjacencies.find((a) => a.router === router && a.peer === peer)!.endX;
/** The End.X SIDs of `path` out and back, then the prober: the prober's segment order. */
const outAndBack = (path: string[]): string[] => {
  const hops = [...path, ...path.slice(0, -1).reverse()];
  return [...hops.slice(0, -1).map((r, i) => sid(r, hops[i + 1])), H1];
};

/** SRH + body, as received (no IPv6 header). */
function srhPacket(segments: string[], reduced: boolean, body = BODY): Buffer {
  const n = reduced ? segments.length - 1 : segments.length;
  const b = Buffer.alloc(srhLength(n) + body.length);
  writeSrh(b, 0, { nextHeader: 17, segments, reduced });
  body.copy(b, srhLength(n));
  return b;
}

function endX(router: string, pkt: Buffer, src = H1): { code: number; reason: string; adjacency?: { peer: string; dev: string }; sent?: Buffer } {
  const out = Buffer.alloc(IPV6_HEADER_LENGTH + pkt.length);
  const slot = newSrv6Slot();
  const code = endXInto(pkt, pkt.length, ipv6ToBytes(src), tableOf(router), out, slot);
  if (code !== 0) return { code, reason: SRV6_DROP_REASONS[code] };
  const a = config(router).adjacencies[slot.adjacency];
  return { code, reason: "ok", adjacency: { peer: a.peer, dev: a.dev }, sent: out.subarray(0, slot.length) };
}

test("End.X: the active SID's adjacency, hop by hop along an out-and-back path, full and reduced SRH alike, until the prober is the destination", () => {
  const path = ["r1", "r2", "r4", "r6"];
  const segments = outAndBack(path);
  for (const reduced of [false, true]) {
    let pkt = srhPacket(segments, reduced);
    const visited: string[] = [];
    let at = "r1";
    for (let hop = 0; hop < segments.length - 1; hop++) {
      const r = endX(at, pkt);
      assert.equal(r.reason, "ok", `${reduced ? "reduced" : "full"} SRH at ${at}`);
      const sent = r.sent!;
      // IPv6 header written anew: version 6, TC and flow label 0, the SRH next, our hop limit, the source kept.
      assert.equal(sent.readUInt32BE(0), 0x60000000);
      assert.equal(sent.readUInt16BE(4), pkt.length);
      assert.equal(sent[6], IPPROTO_ROUTING);
      assert.equal(sent[7], SRV6_HOP_LIMIT);
      assert.equal(bytesToIpv6(sent.subarray(8, 24)), H1);
      // The destination is the next segment, and Segments Left one less; nothing else changed.
      assert.equal(bytesToIpv6(sent.subarray(24, 40)), segments[hop + 1]);
      assert.equal(sent[IPV6_HEADER_LENGTH + 3], pkt[3] - 1);
      const rest = Buffer.from(sent.subarray(IPV6_HEADER_LENGTH));
      rest[3] = pkt[3];
      assert.deepEqual(rest, pkt);
      visited.push(`${at}>${r.adjacency!.peer}`);
      at = r.adjacency!.peer;
      pkt = Buffer.from(sent.subarray(IPV6_HEADER_LENGTH));
    }
    assert.deepEqual(visited, ["r1>r2", "r2>r4", "r4>r6", "r6>r4", "r4>r2", "r2>r1"], reduced ? "reduced" : "full");
    // Segments Left 0: for the prober (the kernel passes it up); a router has nothing to do.
    assert.equal(pkt[3], 0);
    assert.deepEqual(pkt.subarray(pkt.length - BODY.length), BODY);
    assert.equal(endX("r1", pkt).reason, "srv6-segments-left-0");
  }
});

test("End.X drops: truncated, not an SRH, inconsistent, nothing left, another router's SID, an ambiguous reduced first segment", () => {
  const segments = outAndBack(["r1", "r3", "r5", "r6"]);
  const good = srhPacket(segments, false);
  const patched = (off: number, v: number): Buffer => {
    const b = Buffer.from(good);
    b[off] = v;
    return b;
  };
  const cases: Array<[string, string, Buffer]> = [
    ["shorter than the fixed part", "srv6-truncated", good.subarray(0, 7)],
    ["shorter than its Hdr Ext Len", "srv6-truncated", good.subarray(0, srhLength(segments.length) - 1)],
    ["routing type 0 (deprecated, RFC 5095)", "srv6-not-srh", patched(2, 0)],
    ["Last Entry beyond the list", "srv6-bad-srh", patched(4, segments.length)],
    ["Segments Left beyond Last Entry + 1", "srv6-bad-srh", patched(3, segments.length + 1)],
    ["Segments Left 0", "srv6-segments-left-0", patched(3, 0)],
    ["active SID of r2's, at r1", "srv6-not-mine", srhPacket([sid("r2", "r4"), H1], false)],
    ["a locator no router owns", "srv6-not-mine", srhPacket(["2001:2:0:8001::e:9", H1], false)],
    // Reduced, one SID: the next segment is the prober, no router: which of r1's links is unknown.
    ["reduced first segment, next is no router's", "srv6-ambiguous", srhPacket([sid("r1", "r2"), H1], true)],
  ];
  for (const [what, reason, pkt] of cases) assert.equal(endX("r1", pkt).reason, reason, what);
  assert.equal(endX("r1", good).reason, "ok");
});

test("End.X, reduced: with two links to the next segment's router the adjacency cannot be told, and is never guessed", () => {
  const c: Srv6RouterConfig = {
    adjacencies: [
      { sid: "2001:2:0:8001::e:0", dev: "e0", peer: "r2", nexthop6: "2001:2:0:18::1" },
      { sid: "2001:2:0:8001::e:1", dev: "e1", peer: "r2", nexthop6: "2001:2:0:18::3" },
    ],
    locators: [
      { prefix: "2001:2:0:8001::/64", router: "r1" },
      { prefix: "2001:2:0:8002::/64", router: "r2" },
    ],
  };
  const table = srv6Table(c, (a) => ipv6ToBytes(a));
  const slot = newSrv6Slot();
  const out = Buffer.alloc(512);
  const reduced = srhPacket(["2001:2:0:8001::e:1", "2001:2:0:8002::e:0", H1], true);
  assert.equal(SRV6_DROP_REASONS[endXInto(reduced, reduced.length, ipv6ToBytes(H1), table, out, slot)], "srv6-ambiguous");
  // The full SRH names it.
  const full = srhPacket(["2001:2:0:8001::e:1", "2001:2:0:8002::e:0", H1], false);
  assert.equal(endXInto(full, full.length, ipv6ToBytes(H1), table, out, slot), 0);
  assert.equal(slot.adjacency, 1);
});

test("srv6Table: a SID named twice and a locator that is not a /64 are refused, naming them", () => {
  const c = config("r1");
  assert.throws(() => srv6Table({ ...c, adjacencies: [c.adjacencies[0], { ...c.adjacencies[1], sid: c.adjacencies[0].sid }] }, (a) => ipv6ToBytes(a)), /adjacency 1: SID 2001:2:0:8001::e:0 already names adjacency 0/);
  assert.throws(() => srv6Table({ ...c, locators: [{ prefix: "2001:2:0:8001::/48", router: "r1" }] }, (a) => ipv6ToBytes(a)), /locator 2001:2:0:8001::\/48 of r1: expected a \/64/);
  assert.throws(() => srv6RouterConfig(PLAN, "r9", () => "x"), /SR plan has no router "r9"/);
});
