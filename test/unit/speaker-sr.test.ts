// The lab speaker's segment-routing TLVs (issue 15, Must 2): Adj-SID / LAN Adj-SID (1099/1100)
// and SRv6 End.X SID (1106, RFC 9514 §4.1) byte for byte, and ExaBGP 5.0.13's decode of a link
// the speaker encodes with them, live (../shared/tools/exabgp5 decode), as the plugin reads it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { AdjSidFlag, EndXFlag, adjSidTlv, srv6EndXSidTlv } from "../lab/speaker/bgpls.js";
import { linkRoute, topologyFromEdgeList, withSegmentRouting, endXSidFor, adjSidLabelFor, srv6Locator } from "../lab/speaker/topology.js";
import * as bgp from "../lab/speaker/bgp.js";
import { decodeLine } from "../../plugin/exabgp/decode.js";
import type { LinkAttr } from "../../plugin/bgpls/link.js";
import { ADJ_FLAG, ENDX_FLAG } from "../../plugin/bgpls/sr.js";
import { sharedPath } from "../util/shared.js";

const rows: Array<[string, () => Buffer, string]> = [
  ["Adj-SID label 24000, V L", () => adjSidTlv({ sid: 24000 }), "044b0007" + "30000000" + "005dc0"],
  ["Adj-SID protected, weight 5", () => adjSidTlv({ sid: 56768, flags: AdjSidFlag.B | AdjSidFlag.V | AdjSidFlag.L, weight: 5 }), "044b0007" + "70050000" + "00ddc0"],
  ["Adj-SID index 7 (V L clear)", () => adjSidTlv({ sid: 7, flags: 0 }), "044b0008" + "00000000" + "00000007"],
  ["LAN Adj-SID with its neighbor", () => adjSidTlv({ sid: 24001, neighbor: "198000000002" }), "044c000d" + "30000000" + "198000000002" + "005dc1"],
  ["End.X SID, End.X with PSP, unprotected", () => srv6EndXSidTlv({ sid: "2001:2:0:8001::e:0", behavior: 6 }), "04520016" + "0006" + "00" + "00" + "00" + "00" + "200100020000800100000000000e0000"],
  ["End.X SID, protected, algorithm 128", () => srv6EndXSidTlv({ sid: "2001:2:0:8001::f:0", behavior: 6, flags: EndXFlag.B, algorithm: 128 }), "04520016" + "0006" + "80" + "80" + "00" + "00" + "200100020000800100000000000f0000"],
];
for (const [name, f, hex] of rows) test(`speaker sr TLV: ${name}`, () => assert.equal(f().toString("hex"), hex));

test("speaker sr TLV: bad values refused", () => {
  assert.throws(() => adjSidTlv({ sid: 0x100000 }), /exceeds 20 bits|24/);
  assert.throws(() => adjSidTlv({ sid: 1, flags: AdjSidFlag.V }), /V and L/);
  assert.throws(() => adjSidTlv({ sid: 1, neighbor: "r2" }), /12-hex-digit/);
  assert.throws(() => srv6EndXSidTlv({ sid: "198.18.0.1" }), /not an IPv6 address/);
  assert.throws(() => srv6Locator(0x7fff), RangeError);
  assert.equal(endXSidFor(2, 1), "2001:2:0:8002::e:1");
  assert.equal(adjSidLabelFor(3, true), 24000 + 0x8000 + 3);
});

test("speaker sr: ExaBGP 5.0.13 decodes the speaker's Adj-SIDs and End.X SIDs, and the plugin reads them back", { timeout: 60_000 }, () => {
  const nanog = { nodes: ["r1", "r2"], edges: [{ src: "r1", dst: "r2", metric: 10 }], undirected: true };
  const topo = withSegmentRouting(topologyFromEdgeList(nanog, { ipv6: "single" }));
  const route = linkRoute(topo, topo.links[1]); // r2 -> r1: r2's adjacency 0
  const attrs = [bgp.encodeOrigin(), bgp.encodeAsPath([]), bgp.encodeLocalPref(100), bgp.encodeMpReachNlri(bgp.AFI_BGP_LS, bgp.SAFI_BGP_LS, bgp.ipv4ToBytes("198.18.254.1"), [route.nlri]), bgp.encodeBgpLsAttribute(route.attribute)];
  const hex = bgp.encodeUpdate({ attributes: attrs }).toString("hex");
  const out = execFileSync(sharedPath("tools/exabgp5"), ["decode", "-f", "bgp-ls bgp-ls", hex], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const line = out.split("\n").find((l) => l.startsWith("{"));
  assert.ok(line, out);
  assert.match(line, /"sr-adj": \{"flags": \{"F": 0, "B": 0, "V": 1, "L": 1, "S": 0, "P": 0, "RSV": 0\}, "sids": \[24000\]/);
  assert.match(line, /"srv6-endx": \[ \{"flags": \{"B": 1, "S": 0, "P": 0, "RSV": 0\}, "behavior": 5, "algorithm": 0, "weight": 0, "sid": "2001:2:0:8002::f:0"\}/);
  const r = decodeLine(line);
  assert.ok(r.ok && r.event.kind === "update");
  const a = (r.event as Extract<typeof r.event, { kind: "update" }>).announce[0].attr as LinkAttr;
  assert.deepEqual(a.adj.map((s) => [s.sid, s.flags]), [[24000, ADJ_FLAG.V | ADJ_FLAG.L], [24000 + 0x8000, ADJ_FLAG.B | ADJ_FLAG.V | ADJ_FLAG.L]]);
  assert.deepEqual(a.endX.map((s) => [s.sid, s.behavior, s.flags, s.algorithm]), [["2001:2:0:8002::f:0", 5, ENDX_FLAG.B, 0], ["2001:2:0:8002::e:0", 5, 0, 0]]);
});
