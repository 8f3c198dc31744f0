// The lab speaker's IPv6 and multi-topology TLVs (issue 13): 261/262 IPv6 interface/neighbor
// addresses, 263 MT-ID, 1029/1031 IPv6 TE router ids, the IPv6 prefix NLRI (type 4), checked
// byte for byte against RFC 9552 / RFC 6119, and decoded by a real ExaBGP 5.0.13
// (../shared/tools/exabgp5 decode) into what the plugin reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  encodeIpv6PrefixNlri,
  encodeLinkNlri,
  exabgp421Hazards,
  ipv6ToBytes,
  isisRouterId,
  localTeRouterId6Tlv,
  parseIpv6Prefix,
  readTlvs,
  remoteTeRouterId6Tlv,
} from "../lab/speaker/bgpls.js";
import { linkRoute, nodeRoute, prefixRoute, routerByName, topologyFromEdgeList, type LsTopology } from "../lab/speaker/topology.js";
import { AFI_BGP_LS, SAFI_BGP_LS, encodeAsPath, encodeBgpLsAttribute, encodeLocalPref, encodeMpReachNlri, encodeOrigin, encodeUpdate, ipv4ToBytes } from "../lab/speaker/bgp.js";
import { decodeLine } from "../../plugin/exabgp/decode.js";
import type { LinkAttr, LsLink } from "../../plugin/bgpls/link.js";
import type { NodeAttr } from "../../plugin/bgpls/node.js";
import type { LsPrefix } from "../../plugin/bgpls/prefix.js";
import { SHARED_DIR } from "../util/shared.js";

const d = (a: string) => ({ asn: 65001, igpRouterId: isisRouterId(a) });

test("speaker: IPv6 addresses to 16 octets, prefixes with their host bits checked", () => {
  const rows: Array<[string, string | RegExp]> = [
    ["2001:2::1", "20010002000000000000000000000001"],
    ["2001:2:0:ffff::6", "200100020000ffff0000000000000006"],
    ["::", "00000000000000000000000000000000"],
    ["::ffff:198.18.0.1", "00000000000000000000ffffc6120001"],
    ["2001:2::1::2", /not an IPv6 address/],
    ["2001:2:0:0:0:0:0:0:1", /not an IPv6 address/],
    ["198.18.0.1", /not an IPv6 address/],
  ];
  for (const [text, want] of rows) {
    if (typeof want === "string") assert.equal(ipv6ToBytes(text).toString("hex"), want, text);
    else assert.throws(() => ipv6ToBytes(text), want, text);
  }
  assert.deepEqual(parseIpv6Prefix("2001:2:6::/48").length, 48);
  assert.throws(() => parseIpv6Prefix("2001:2:6::1/48"), /host bits set/);
  assert.throws(() => parseIpv6Prefix("2001:2::/129"), /> 128/);
});

test("speaker: link descriptors 261, 262, 263 after 259/260, in ascending order (RFC 9552 §5.2.2)", () => {
  const nlri = encodeLinkNlri({
    protocolId: 2,
    local: d("198000000001"),
    remote: d("198000000002"),
    interfaceAddress: "198.18.0.0",
    neighborAddress: "198.18.0.1",
    interfaceAddress6: "2001:2::1",
    neighborAddress6: "2001:2::2",
    multiTopologyIds: [2],
  });
  const [outer] = readTlvs(nlri);
  assert.equal(outer.type, 2);
  const tlvs = readTlvs(outer.value.subarray(9));
  assert.deepEqual(tlvs.map((t) => t.type), [256, 257, 259, 260, 261, 262, 263]);
  const byType = new Map(tlvs.map((t) => [t.type, t.value.toString("hex")]));
  assert.equal(byType.get(261), "20010002000000000000000000000001");
  assert.equal(byType.get(262), "20010002000000000000000000000002");
  assert.equal(byType.get(263), "0002");
  // 4.2.21 consumes 261/262 (prints them); only the MT-ID hangs it.
  assert.deepEqual(exabgp421Hazards(nlri).length, 1);
  assert.match(exabgp421Hazards(nlri)[0], /MT-ID TLV 263/);
  const plain = encodeLinkNlri({ protocolId: 2, local: d("198000000001"), remote: d("198000000002"), interfaceAddress6: "2001:2::1", neighborAddress6: "2001:2::2" });
  assert.deepEqual(exabgp421Hazards(plain), []);
});

test("speaker: TLVs 1029 and 1031 (16 octets each), the IPv6 prefix NLRI (type 4, TLV 265 with 128 bits)", () => {
  assert.equal(localTeRouterId6Tlv("2001:2:0:ffff::1").toString("hex"), "04050010" + "200100020000ffff0000000000000001");
  assert.equal(remoteTeRouterId6Tlv("2001:2:0:ffff::2").toString("hex"), "04070010" + "200100020000ffff0000000000000002");
  const [outer] = readTlvs(encodeIpv6PrefixNlri({ protocolId: 2, local: d("198000000001"), prefix: "2001:2:0:ffff::1/128", multiTopologyIds: [2] }));
  assert.equal(outer.type, 4);
  const tlvs = readTlvs(outer.value.subarray(9));
  assert.deepEqual(tlvs.map((t) => t.type), [256, 263, 265]);
  assert.equal(tlvs[2].value.toString("hex"), "80" + "200100020000ffff0000000000000001");
  const [short] = readTlvs(encodeIpv6PrefixNlri({ protocolId: 2, local: d("198000000001"), prefix: "2001:2:6::/48" }));
  assert.equal(readTlvs(short.value.subarray(9))[1].value.toString("hex"), "30" + "200100020006", "only the significant octets");
});

test("speaker: edge lists with ipv6 single and multi (addresses from 2001:2::/48, MT-ID 2 NLRIs)", () => {
  const json = { nodes: ["a", "b"], edges: [{ src: "a", dst: "b", metric: 10 }], undirected: true };
  const single = topologyFromEdgeList(json, { ipv6: "single" });
  assert.deepEqual(single.links.map((l) => [l.from, l.to, l.localAddress, l.localAddress6, l.remoteAddress6, l.mtIds]), [
    ["a", "b", "198.18.0.0", "2001:2:0:0::1", "2001:2:0:0::2", undefined],
    ["b", "a", "198.18.0.1", "2001:2:0:0::2", "2001:2:0:0::1", undefined],
  ]);
  assert.deepEqual(single.routers.map((r) => r.routerId6), ["2001:2:0:ffff::1", "2001:2:0:ffff::2"]);
  assert.deepEqual(single.prefixes.map((p) => p.prefix), ["198.19.0.1/32", "198.19.0.2/32", "2001:2:0:ffff::1/128", "2001:2:0:ffff::2/128"]);
  const multi = topologyFromEdgeList(json, { ipv6: "multi" });
  assert.deepEqual(multi.links.map((l) => [l.from, l.to, l.localAddress ?? null, l.localAddress6 ?? null, l.mtIds ?? null]), [
    ["a", "b", "198.18.0.0", null, null],
    ["a", "b", null, "2001:2:0:0::1", [2]],
    ["b", "a", "198.18.0.1", null, null],
    ["b", "a", null, "2001:2:0:0::2", [2]],
  ]);
  assert.deepEqual(multi.prefixes.map((p) => p.mtIds ?? null), [null, null, [2], [2]]);
  assert.deepEqual(linkRoute(multi, multi.links[1]).label, "link a->b mt2");
  assert.throws(() => topologyFromEdgeList(json, { ipv6: "single", protocol: "ospf" }), /needs protocol isis/);
  // Single topology stays within what 4.2.21 digests; multi-topology does not (MT-ID).
  for (const r of [...single.links.map((l) => linkRoute(single, l)), ...single.prefixes.map((p) => prefixRoute(single, p)), nodeRoute(single, single.routers[0])]) assert.deepEqual(exabgp421Hazards(r.nlri, r.attribute), [], r.label);
  assert.match(exabgp421Hazards(linkRoute(multi, multi.links[1]).nlri).join(), /MT-ID/);
});

const EXABGP5 = join(SHARED_DIR, "tools", "exabgp5");

/** What ExaBGP 5.0.13 prints for one UPDATE carrying `route`, as the plugin decodes it. */
function viaExabgp5(route: { nlri: Buffer; attribute: Buffer }) {
  const attrs = [encodeOrigin(), encodeAsPath([]), encodeLocalPref(100), encodeMpReachNlri(AFI_BGP_LS, SAFI_BGP_LS, ipv4ToBytes("198.18.254.1"), [route.nlri])];
  if (route.attribute.length > 0) attrs.push(encodeBgpLsAttribute(route.attribute));
  const out = execFileSync(EXABGP5, ["decode", "-f", "bgp-ls bgp-ls", encodeUpdate({ attributes: attrs }).toString("hex")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const r = decodeLine(out.split("\n").find((l) => l.startsWith("{")) ?? "");
  assert.ok(r.ok && r.event.kind === "update", out);
  assert.deepEqual(r.event.problems, []);
  return r.event.announce[0];
}

test("speaker: ExaBGP 5.0.13 decodes the IPv6 link, node and prefix TLVs as announced", { skip: existsSync(EXABGP5) ? false : `no ${EXABGP5}` }, () => {
  const topo: LsTopology = topologyFromEdgeList({ nodes: ["a", "b"], edges: [{ src: "a", dst: "b", metric: 10 }], undirected: true }, { ipv6: "multi" });
  const l = viaExabgp5(linkRoute(topo, topo.links[1]));
  const nl = l.nlri as LsLink;
  const la = l.attr as LinkAttr;
  assert.deepEqual([nl.interfaceAddresses, nl.neighborAddresses, nl.mtIds, la.igpMetric], [["2001:2::1"], ["2001:2::2"], [2], 10]);
  assert.deepEqual([la.localTeRouterIds, la.remoteTeRouterIds], [["198.19.0.1", "2001:2:0:ffff::1"], ["198.19.0.2", "2001:2:0:ffff::2"]]);
  const n = viaExabgp5(nodeRoute(topo, routerByName(topo, "b")));
  assert.deepEqual((n.attr as NodeAttr).teRouterIds, ["198.19.0.2", "2001:2:0:ffff::2"]);
  const p = viaExabgp5(prefixRoute(topo, topo.prefixes[3]));
  assert.deepEqual([(p.nlri as LsPrefix).family, (p.nlri as LsPrefix).prefix], [6, "2001:2:0:ffff::2/128"]);
});
