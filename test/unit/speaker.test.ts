// Table tests of the lab's BGP-LS speaker (test/lab/speaker/): encoders against real captured
// messages (/work/shared/corpus/exabgp/samples, rebuilt byte for byte from named fields), header
// and length fields, IGP metric widths, extended-length attributes, the decoder, the ExaBGP 4.2.21
// hazard check against what ExaBGP really did with every sample, the topology loader, and the
// speaker's session handling against a scripted peer on 127.0.0.1.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { describe, test } from "node:test";
import {
  AFI_BGP_LS,
  AS_TRANS,
  AttrType,
  BgpError,
  MessageFramer,
  MessageType,
  SAFI_BGP_LS,
  bgpLsCapabilities,
  decodeMessage,
  decodeOpen,
  decodeUpdate,
  encodeAsPath,
  encodeBgpLsAttribute,
  encodeEndOfRib,
  encodeKeepalive,
  encodeLocalPref,
  encodeMed,
  encodeMessage,
  encodeMpReachNlri,
  encodeMpUnreachNlri,
  encodeNotification,
  encodeOpen,
  encodeOrigin,
  encodePathAttribute,
  encodeRouteRefresh,
  encodeUpdate,
  endOfRibFamily,
  ipv4ToBytes,
  type BgpMessage,
} from "../lab/speaker/bgp.js";
import {
  NodeFlag,
  OspfRouteType,
  ProtocolId,
  encodeIpv4PrefixNlri,
  encodeLinkNlri,
  encodeNodeNlri,
  encodeTlv,
  exabgp421Hazards,
  igpMetricTlv,
  isisAreaTlv,
  isisRouterId,
  linkNameTlv,
  localTeRouterIdTlv,
  nodeFlagsTlv,
  nodeNameTlv,
  opaqueTlv,
  ospfRouterId,
  prefixMetricTlv,
  readTlvs,
  remoteTeRouterIdTlv,
  type NodeDescriptor,
} from "../lab/speaker/bgpls.js";
import { BgpLsSpeaker, nextState } from "../lab/speaker/speaker.js";
import { sharedPath } from "../util/shared.js";
import {
  edgeSubnet,
  linkRoute,
  loadEdgeListFile,
  nodeRoute,
  prefixRoute,
  topologyFromEdgeList,
  topologyRoutes,
} from "../lab/speaker/topology.js";

const SAMPLES = sharedPath("corpus/exabgp/samples");
const NANOG6 = sharedPath("topologies/nanog6.json");
const noSamples = existsSync(SAMPLES) ? false : `corpus not found at ${SAMPLES}`;
const noNanog = existsSync(NANOG6) ? false : `topology not found at ${NANOG6}`;

function sample(name: string): string {
  const dir = name.startsWith("e") && /^e\d\d-/.test(name) ? `${SAMPLES}/edge` : SAMPLES;
  return readFileSync(`${dir}/${name}.hex`, "utf8").trim().toLowerCase();
}

const hex = (b: Buffer) => b.toString("hex");
const MARKER = "ff".repeat(16);
const AFI = AFI_BGP_LS;
const SAFI = SAFI_BGP_LS;
const nh = ipv4ToBytes;

// Junos 17.2 node descriptors of issue #653: AS + IS-IS router id only, no BGP-LS identifier.
const junos = (sysid: string): NodeDescriptor => ({ asn: 65000, igpRouterId: isisRouterId(sysid) });
const ospf = (routerId: string, dr?: string): NodeDescriptor => ({
  asn: 65001,
  bgpLsId: 0,
  ospfAreaId: "0.0.0.0",
  igpRouterId: ospfRouterId(routerId, dr),
});

// ------------------------------------------------------------------------------------------------
// Byte for byte against captured messages
// ------------------------------------------------------------------------------------------------

const qa02Link = () =>
  encodeLinkNlri({
    protocolId: ProtocolId.OSPFV2,
    local: ospf("10.1.1.1"),
    remote: ospf("10.1.4.1", "10.1.1.2"), // LAN pseudonode: DR router id + DR interface address
    interfaceAddress: "10.1.1.1",
    neighborAddress: "10.1.1.2",
  });

const i1074Prefix = () =>
  encodeIpv4PrefixNlri({
    protocolId: ProtocolId.OSPFV2,
    local: ospf("10.1.4.1"),
    ospfRouteType: OspfRouteType.INTRA_AREA,
    prefix: "10.1.4.0/24",
  });

const i653Node = () => encodeNodeNlri({ protocolId: ProtocolId.ISIS_L2, local: junos("100000000005") });

const samples: Record<string, () => Buffer> = {
  // Node NLRI withdrawal: MP_UNREACH_NLRI alone.
  "wd-i653-junos-node": () => encodeUpdate({ attributes: [encodeMpUnreachNlri(AFI, SAFI, [i653Node()])] }),

  // Node announcement: flags, name, IS-IS area, TE router id, then SR capability/algorithm TLVs
  // (not modelled by the speaker: written with encodeTlv). Junos uses the extended length for
  // MP_REACH_NLRI even when it is short.
  "i653-junos172-isis-node-srcap": () =>
    encodeUpdate({
      attributes: [
        encodeOrigin(),
        encodeAsPath([]),
        encodeLocalPref(100),
        encodeBgpLsAttribute([
          nodeFlagsTlv(0),
          nodeNameTlv("Access1"),
          isisAreaTlv("490004"),
          localTeRouterIdTlv("192.0.2.5"),
          encodeTlv(1034, Buffer.from("c000001000048900030c3500", "hex")), // SR Capabilities
          encodeTlv(1035, Buffer.from("00", "hex")), // SR Algorithm
        ]),
        encodeMpReachNlri(AFI, SAFI, nh("192.0.2.1"), [i653Node()], { extendedLength: true }),
      ],
    }),

  // Link NLRI with node descriptors only (no link descriptors), IGP metric 10000 in 3 octets;
  // this router puts MP_REACH_NLRI first.
  "i998-isis-link-no-descriptors": () =>
    encodeUpdate({
      attributes: [
        encodeMpReachNlri(
          AFI,
          SAFI,
          nh("10.124.0.141"),
          [
            encodeLinkNlri({
              protocolId: ProtocolId.ISIS_L2,
              local: { asn: 4837, bgpLsId: 0, igpRouterId: isisRouterId("192168000003") },
              remote: { asn: 4837, bgpLsId: 0, igpRouterId: isisRouterId("192168000002") },
            }),
          ],
          { extendedLength: true },
        ),
        encodeOrigin(),
        encodeAsPath([]),
        encodeLocalPref(100),
        encodeBgpLsAttribute([igpMetricTlv(10000, 3)]),
      ],
    }),

  // Link from an IS-IS pseudonode (7-octet router id: system id + pseudonode id 1) to its DIS.
  "pr564-isis-link-to-pseudonode": () => {
    const d = (psn?: number): NodeDescriptor => ({ asn: 65200, bgpLsId: 0xac10ff0a, igpRouterId: isisRouterId("223202049003", psn) });
    return encodeUpdate({
      attributes: [
        encodeMpReachNlri(AFI, SAFI, nh("172.16.255.10"), [encodeLinkNlri({ protocolId: ProtocolId.ISIS_L2, local: d(1), remote: d() })], {
          extendedLength: true,
        }),
        encodeOrigin(),
        encodeAsPath([]),
        encodeLocalPref(100),
        encodeBgpLsAttribute([remoteTeRouterIdTlv("172.16.255.2"), igpMetricTlv(0, 3)]),
      ],
    });
  },

  // IS-IS level 1 link to a pseudonode, with MED; short MP_REACH_NLRI length.
  "i823-isis-l1-link-to-pseudonode": () => {
    const d = (sysid: string, psn?: number): NodeDescriptor => ({ asn: 1, bgpLsId: 0, igpRouterId: isisRouterId(sysid, psn) });
    return encodeUpdate({
      attributes: [
        encodeMpReachNlri(AFI, SAFI, nh("192.168.56.3"), [
          encodeLinkNlri({ protocolId: ProtocolId.ISIS_L1, local: d("192168058001"), remote: d("192168058001", 1) }),
        ]),
        encodeOrigin(),
        encodeAsPath([]),
        encodeMed(0),
        encodeLocalPref(100),
        encodeBgpLsAttribute([igpMetricTlv(10, 3)]),
      ],
    });
  },

  // OSPFv2 link to a DR, interface/neighbor addresses (TLVs 259/260); this router sends the OSPF
  // metric in 3 octets.
  "qa02-ospf-link-to-dr": () =>
    encodeUpdate({
      attributes: [
        encodeMpReachNlri(AFI, SAFI, nh("192.168.255.29"), [qa02Link()]),
        encodeOrigin(),
        encodeAsPath([65001]),
        encodeMed(0),
        encodeBgpLsAttribute([igpMetricTlv(1, 3)]),
      ],
    }),
  "wd-qa02-ospf-link": () => encodeUpdate({ attributes: [encodeMpUnreachNlri(AFI, SAFI, [qa02Link()])] }),

  // OSPFv2 prefix: OSPF route type (264) + IP reachability (265, 3 octets for a /24).
  "i1074-ospf-prefix-intra": () =>
    encodeUpdate({
      attributes: [
        encodeMpReachNlri(AFI, SAFI, nh("192.168.255.29"), [i1074Prefix()]),
        encodeOrigin(),
        encodeAsPath([65001]),
        encodeMed(0),
        encodeBgpLsAttribute([prefixMetricTlv(1)]),
      ],
    }),
  "wd-i1074-ospf-prefix": () => encodeUpdate({ attributes: [encodeMpUnreachNlri(AFI, SAFI, [i1074Prefix()])] }),

  // Four link withdrawals in one MP_UNREACH_NLRI (> 255 octets: extended length by itself).
  "i678-junos172-withdraw-4links": () => {
    const link = (a: string, b: string, ifa: string, nbr: string) =>
      encodeLinkNlri({ protocolId: ProtocolId.ISIS_L2, local: junos(a), remote: junos(b), interfaceAddress: ifa, neighborAddress: nbr });
    return encodeUpdate({
      attributes: [
        encodeMpUnreachNlri(AFI, SAFI, [
          link("100000000006", "100000000004", "198.51.100.30", "198.51.100.29"),
          link("100000000002", "100000000004", "198.51.100.9", "198.51.100.10"),
          link("100000000004", "100000000003", "198.51.100.18", "198.51.100.17"),
          link("100000000005", "100000000004", "198.51.100.34", "198.51.100.33"),
        ]),
      ],
    });
  },
};

describe("encoders reproduce captured messages byte for byte", { skip: noSamples }, () => {
  for (const [name, build] of Object.entries(samples)) {
    test(name, () => {
      assert.equal(hex(build()), sample(name));
    });
  }
});

// ------------------------------------------------------------------------------------------------
// Header, fixed messages, length fields
// ------------------------------------------------------------------------------------------------

describe("message header and fixed messages", () => {
  const cases: Record<string, [Buffer, string]> = {
    KEEPALIVE: [encodeKeepalive(), MARKER + "0013" + "04"],
    "NOTIFICATION Cease/Admin shutdown": [encodeNotification(6, 2), MARKER + "0015" + "03" + "0602"],
    "NOTIFICATION with data": [encodeNotification(1, 2, Buffer.from([0, 18])), MARKER + "0017" + "03" + "0102" + "0012"],
    "ROUTE-REFRESH BGP-LS": [encodeRouteRefresh(), MARKER + "0017" + "05" + "4004" + "00" + "47"],
    // RFC 4724: UPDATE, no withdrawn routes, one attribute: MP_UNREACH_NLRI 16388/71, nothing else.
    "End-of-RIB BGP-LS": [encodeEndOfRib(), MARKER + "001d" + "02" + "0000" + "0006" + "800f03" + "400447"],
  };
  for (const [name, [got, want]] of Object.entries(cases)) test(name, () => assert.equal(hex(got), want));

  test("length field counts the 19-octet header", () => {
    const body = Buffer.alloc(100, 1);
    const m = encodeMessage(MessageType.UPDATE, body);
    assert.equal(m.length, 119);
    assert.equal(m.readUInt16BE(16), 119);
    assert.equal(m[18], 2);
    assert.equal(hex(m.subarray(0, 16)), MARKER);
  });

  test("4096 octets is the limit (RFC 4271 §4)", () => {
    assert.equal(encodeMessage(2, Buffer.alloc(4096 - 19)).length, 4096);
    assert.throws(
      () => encodeMessage(2, Buffer.alloc(4096 - 18)),
      (e: unknown) => e instanceof BgpError && e.code === 1 && e.subcode === 2,
    );
  });

  test("OPEN: fields, capabilities, round trip", () => {
    const m = encodeOpen({ asn: 65001, holdTime: 30, routerId: "198.18.255.1", capabilities: bgpLsCapabilities(65001) });
    assert.equal(m.readUInt16BE(16), m.length);
    // version 4, AS 65001, hold 30, id, opt len 20: three capability parameters (MP, RR, AS4)
    assert.equal(hex(m.subarray(19, 29)), "04" + "fde9" + "001e" + "c612ff01" + "14");
    assert.equal(hex(m.subarray(29)), "020601044004" + "0047" + "02020200" + "0206410400" + "00fde9");
    const o = decodeOpen(decodeMessage(m).body);
    assert.deepEqual(
      { version: o.version, asn: o.asn, holdTime: o.holdTime, routerId: o.routerId, families: o.families, rr: o.routeRefresh },
      { version: 4, asn: 65001, holdTime: 30, routerId: "198.18.255.1", families: [{ afi: 16388, safi: 71 }], rr: true },
    );
  });

  test("OPEN: a 4-octet AS goes in capability 65, My AS is AS_TRANS", () => {
    const m = encodeOpen({ asn: 4200000000, holdTime: 90, routerId: "10.0.0.1", capabilities: bgpLsCapabilities(4200000000) });
    assert.equal(m.readUInt16BE(20), AS_TRANS);
    assert.equal(decodeOpen(decodeMessage(m).body).asn, 4200000000);
  });

  test("OPEN: hold time 1 or 2 is refused (RFC 4271 §4.2)", () => {
    assert.throws(() => encodeOpen({ asn: 1, holdTime: 2, routerId: "10.0.0.1", capabilities: [] }), BgpError);
  });

  test("AS_PATH: 4-octet AS_SEQUENCE; empty for iBGP", () => {
    assert.equal(hex(encodeAsPath([65001])), "400206" + "0201" + "0000fde9");
    assert.equal(hex(encodeAsPath([])), "400200");
  });
});

// ------------------------------------------------------------------------------------------------
// Attributes: extended length, IGP metric widths
// ------------------------------------------------------------------------------------------------

describe("extended-length attributes", () => {
  const tlvOf = (valueLength: number) => encodeTlv(1026, Buffer.alloc(valueLength, 0x61)); // 4 + n octets
  const cases: Record<string, [number, string, number]> = {
    // [attribute value length, expected flags+type, header length]
    "255 octets: one-octet length": [255, "801d", 3],
    "256 octets: Extended Length bit, two-octet length": [256, "901d", 4],
    "1000 octets": [1000, "901d", 4],
  };
  for (const [name, [length, head, hdr]] of Object.entries(cases)) {
    test(name, () => {
      const a = encodeBgpLsAttribute(tlvOf(length - 4));
      assert.equal(hex(a.subarray(0, 2)), head);
      assert.equal(a.length, length + hdr);
      assert.equal(hdr === 3 ? a[2] : a.readUInt16BE(2), length);
    });
  }
  test("forced extended length on a short value", () => {
    assert.equal(hex(encodePathAttribute(0x80, 14, Buffer.from("ab", "hex"), { extendedLength: true })), "900e0001ab");
  });
  test("flags: ORIGIN/AS_PATH well-known transitive, MP_* and BGP-LS optional non-transitive", () => {
    assert.equal(encodeOrigin()[0], 0x40);
    assert.equal(encodeMpReachNlri(AFI, SAFI, nh("1.2.3.4"), [])[0], 0x80);
    assert.equal(encodeMpUnreachNlri(AFI, SAFI, [])[0], 0x80);
    assert.equal(encodeBgpLsAttribute([])[0], 0x80);
  });
  test("MP_REACH_NLRI for BGP-LS: 4-octet next hop and a reserved octet", () => {
    assert.equal(hex(encodeMpReachNlri(AFI, SAFI, nh("198.18.255.1"), [Buffer.from("0001", "hex")])), "800e0b" + "4004" + "47" + "04" + "c612ff01" + "00" + "0001");
  });
});

describe("IGP metric widths (TLV 1095)", () => {
  const cases: Record<string, [number, 1 | 2 | 3, string | null]> = {
    "IS-IS small metric, 1 octet": [63, 1, "044700013f"],
    "IS-IS small metric overflow": [64, 1, null],
    "OSPF, 2 octets": [65535, 2, "04470002ffff"],
    "OSPF overflow": [65536, 2, null],
    "IS-IS wide metric, 3 octets": [10, 3, "0447000300000a"],
    "IS-IS wide maximum": [0xffffff, 3, "04470003ffffff"],
    "IS-IS wide overflow": [0x1000000, 3, null],
    negative: [-1, 3, null],
  };
  for (const [name, [metric, width, want]] of Object.entries(cases)) {
    test(name, () => {
      if (want === null) assert.throws(() => igpMetricTlv(metric, width), BgpError);
      else assert.equal(hex(igpMetricTlv(metric, width)), want);
    });
  }
  test("the topology announcer uses 3 octets for IS-IS and 2 for OSPF", { skip: noNanog }, () => {
    for (const [protocol, width] of [["isis", 3], ["ospf", 2]] as const) {
      const topo = loadEdgeListFile(NANOG6, { protocol });
      const metric = readTlvs(linkRoute(topo, topo.links[0]).attribute).find((t) => t.type === 1095);
      assert.equal(metric?.value.length, width, protocol);
      assert.equal(metric?.value.readUIntBE(0, width), 10);
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Decoder
// ------------------------------------------------------------------------------------------------

describe("decoder", () => {
  test("framer splits messages across arbitrary chunk boundaries", () => {
    const stream = Buffer.concat([encodeKeepalive(), encodeEndOfRib(), encodeNotification(6, 2)]);
    const f = new MessageFramer();
    const got: BgpMessage[] = [];
    for (const cut of [[0, 5], [5, 30], [30, 31], [31, stream.length]]) got.push(...f.push(stream.subarray(cut[0], cut[1])));
    assert.deepEqual(got.map((m) => m.type), [4, 2, 3]);
    assert.equal(f.buffered, 0);
  });

  const bad: Record<string, [string, number, number]> = {
    "marker not all ones": ["00" + MARKER.slice(2) + "001304", 1, 1],
    "length below 19": [MARKER + "001204", 1, 2],
    "length above 4096": [MARKER + "100104", 1, 2],
    "unknown type": [MARKER + "001309", 1, 3],
    "KEEPALIVE with a body": [MARKER + "00140400", 1, 2],
    "OPEN too short": [MARKER + "001401" + "04", 1, 2],
  };
  for (const [name, [h, code, subcode]] of Object.entries(bad)) {
    test(`rejects: ${name} -> NOTIFICATION ${code}/${subcode}`, () => {
      assert.throws(
        () => new MessageFramer().push(Buffer.from(h, "hex")),
        (e: unknown) => e instanceof BgpError && e.code === code && e.subcode === subcode,
      );
    });
  }

  test("End-of-RIB recognised in both encodings (ours and ExaBGP's extended-length one)", () => {
    assert.deepEqual(endOfRibFamily(decodeMessage(encodeEndOfRib()).body), { afi: 16388, safi: 71 });
    assert.deepEqual(endOfRibFamily(Buffer.from("0000" + "0007" + "900f0003400447", "hex")), { afi: 16388, safi: 71 });
    assert.deepEqual(endOfRibFamily(Buffer.from("00000000", "hex")), { afi: 1, safi: 1 });
    assert.equal(endOfRibFamily(decodeMessage(samples["wd-i653-junos-node"]()).body), undefined);
  });

  test("decodeUpdate rejects an attribute overrunning the list", () => {
    assert.throws(() => decodeUpdate(Buffer.from("0000" + "0004" + "400105" + "00", "hex")), BgpError);
  });

  test("readTlvs checks every length before slicing", () => {
    assert.deepEqual(readTlvs(Buffer.from("0400000180", "hex")).map((t) => [t.type, hex(t.value)]), [[1024, "80"]]);
    assert.throws(() => readTlvs(Buffer.from("04000002", "hex")), BgpError);
    assert.throws(() => readTlvs(Buffer.from("0400", "hex")), BgpError);
  });
});

// ------------------------------------------------------------------------------------------------
// ExaBGP 4.2.21 hazards, checked against what it did with every captured sample
// ------------------------------------------------------------------------------------------------

interface SampleResult {
  hung: boolean;
  session_reset_by_exabgp: boolean;
  eor_seen: boolean;
  lines: Array<{ valid_json: boolean }>;
}

/** NLRIs, BGP-LS attribute and next-hop length of an UPDATE. */
function lsParts(message: Buffer): { nlri: Buffer; attribute?: Buffer; nextHopLength: number } {
  const u = decodeUpdate(decodeMessage(message).body);
  let nlri: Buffer = Buffer.alloc(0);
  let attribute: Buffer | undefined;
  let nextHopLength = 4;
  for (const a of u.attributes) {
    if (a.type === AttrType.MP_REACH_NLRI) {
      nextHopLength = a.value[3];
      nlri = a.value.subarray(4 + nextHopLength + 1);
    }
    if (a.type === AttrType.MP_UNREACH_NLRI) nlri = a.value.subarray(3);
    if (a.type === AttrType.BGP_LS) attribute = a.value;
  }
  return { nlri, attribute, nextHopLength };
}

describe("exabgp421Hazards matches ExaBGP 4.2.21's recorded behaviour", { skip: noSamples }, () => {
  const results: Record<string, SampleResult> = existsSync(SAMPLES)
    ? {
        ...(JSON.parse(readFileSync(`${SAMPLES}/results.json`, "utf8")) as Record<string, SampleResult>),
        ...(JSON.parse(readFileSync(`${SAMPLES}/edge/results.json`, "utf8")) as Record<string, SampleResult>),
      }
    : {};
  for (const [name, r] of Object.entries(results)) {
    const broken = r.hung || r.session_reset_by_exabgp || !r.eor_seen || r.lines.some((l) => !l.valid_json);
    test(`${name}: ${broken ? "flagged" : "clean"}`, () => {
      let hazards: string[];
      try {
        const p = lsParts(Buffer.from(sample(name), "hex"));
        hazards = exabgp421Hazards(p.nlri, p.attribute, p.nextHopLength);
      } catch (e) {
        hazards = [`malformed: ${(e as Error).message}`];
      }
      if (broken) assert.notDeepEqual(hazards, [], "expected a hazard");
      else assert.deepEqual(hazards, []);
    });
  }

  test("the low-level encoders can still produce every hazard (for negative tests)", () => {
    const node = i653Node();
    const link = (mt?: number[]) => encodeLinkNlri({ protocolId: 2, local: junos("100000000001"), remote: junos("100000000002"), multiTopologyIds: mt });
    const cases: Array<[Buffer, Buffer | undefined, RegExp]> = [
      [link([2]), undefined, /MT-ID/],
      [node, nodeFlagsTlv(NodeFlag.V6), /Invalid SR flags mask/],
      [node, nodeNameTlv('r"1'), /invalid JSON/],
      [node, nodeNameTlv("réseau"), /printable ASCII/],
      [node, opaqueTlv(1025, Buffer.from("00", "hex")), /opaque/],
      [link(), linkNameTlv("ge-0/0/0.0"), /link name/],
      [encodeNodeNlri({ protocolId: ProtocolId.BGP, local: junos("100000000001") }), undefined, /Protocol-ID 7/],
      [encodeNodeNlri({ protocolId: 2, local: { ...junos("100000000001"), extraSubTlvs: [encodeTlv(516, Buffer.alloc(4))] } }), undefined, /516/],
    ];
    for (const [nlri, attr, re] of cases) assert.match(exabgp421Hazards(nlri, attr).join("; "), re);
    assert.match(exabgp421Hazards(node, undefined, 16).join(), /next hop of 16/);
    assert.deepEqual(exabgp421Hazards(node, nodeFlagsTlv(NodeFlag.OVERLOAD)), []);
  });
});

// ------------------------------------------------------------------------------------------------
// Topology model
// ------------------------------------------------------------------------------------------------

describe("topology", { skip: noNanog }, () => {
  test("nanog6: 6 routers, 16 directed links, 6 loopbacks, addressing plan", () => {
    const t = loadEdgeListFile(NANOG6);
    assert.equal(t.routers.length, 6);
    assert.equal(t.links.length, 16);
    assert.equal(t.prefixes.length, 6);
    assert.deepEqual(t.routers[0], { name: "r1", systemId: "198000000001", routerId: "198.19.0.1" });
    assert.deepEqual(t.prefixes[5], { router: "r6", prefix: "198.19.0.6/32", metric: 0 });
    // edge 0 is r1-r2: 198.18.0.0/31, r1 takes .0; the reverse link mirrors it
    assert.deepEqual(t.links[0], { from: "r1", to: "r2", metric: 10, localAddress: "198.18.0.0", remoteAddress: "198.18.0.1" });
    assert.deepEqual(t.links[1], { from: "r2", to: "r1", metric: 10, localAddress: "198.18.0.1", remoteAddress: "198.18.0.0" });
    assert.deepEqual(edgeSubnet(300), ["198.18.2.88", "198.18.2.89"]);
  });

  test("routes: kinds in announcement order, nothing ExaBGP 4.2.21 chokes on", () => {
    for (const protocol of ["isis", "ospf"] as const) {
      const t = loadEdgeListFile(NANOG6, { protocol });
      const routes = topologyRoutes(t);
      assert.deepEqual(routes.map((r) => r.kind), [...Array(6).fill("node"), ...Array(16).fill("link"), ...Array(6).fill("prefix")]);
      for (const r of routes) assert.deepEqual(exabgp421Hazards(r.nlri, r.attribute), [], `${protocol} ${r.label}`);
    }
  });

  test("node route: flags (O when overloaded), name, TE router id", () => {
    const t = loadEdgeListFile(NANOG6);
    const attr = (overload: boolean) => readTlvs(nodeRoute(t, { ...t.routers[1], overload }).attribute).map((x) => [x.type, hex(x.value)]);
    assert.deepEqual(attr(false), [[1024, "00"], [1026, hex(Buffer.from("r2"))], [1028, "c6130002"]]);
    assert.deepEqual(attr(true)[0], [1024, "80"]);
    // Node NLRI: type 1, IS-IS L2, identifier 0, AS 65001, BGP-LS id 0, system id
    assert.equal(hex(nodeRoute(t, t.routers[1]).nlri), "0001" + "0027" + "02" + "0000000000000000" + "0100" + "001a" + "0200000400" + "00fde9" + "0201000400000000" + "02030006" + "198000000002");
  });

  test("prefix route: OSPF adds route type intra-area", () => {
    const t = loadEdgeListFile(NANOG6, { protocol: "ospf", loopbackMetric: 5 });
    const p = prefixRoute(t, t.prefixes[0]);
    // ... 264 OSPF Route Type = 1, 265 IP Reachability = /32 198.19.0.1 (4 octets)
    assert.ok(hex(p.nlri).endsWith("0108" + "0001" + "01" + "0109" + "0005" + "20" + "c6130001"), hex(p.nlri));
    assert.equal(hex(p.attribute), "048300040000" + "0005");
  });

  const badEdgeLists: Record<string, unknown> = {
    "unknown node": { nodes: ["a"], edges: [{ src: "a", dst: "b", metric: 1 }], undirected: true },
    "duplicate node": { nodes: ["a", "a"], edges: [] },
    "self loop": { nodes: ["a"], edges: [{ src: "a", dst: "a", metric: 1 }] },
    "fractional metric": { nodes: ["a", "b"], edges: [{ src: "a", dst: "b", metric: 1.5 }] },
    "no edges array": { nodes: ["a"] },
  };
  for (const [name, json] of Object.entries(badEdgeLists)) {
    test(`rejects: ${name}`, () => assert.throws(() => topologyFromEdgeList(json as never)));
  }

  test("directed edge lists give one link per edge", () => {
    const t = topologyFromEdgeList({ nodes: ["a", "b"], edges: [{ src: "a", dst: "b", metric: 7 }], undirected: false });
    assert.equal(t.links.length, 1);
  });
});

// ------------------------------------------------------------------------------------------------
// Session state machine
// ------------------------------------------------------------------------------------------------

describe("nextState (RFC 4271 §8.2.2, RFC 6608 subcodes)", () => {
  const { OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE_REFRESH } = MessageType;
  const cases: Array<[string, number, string, number | null]> = [
    ["open-sent", OPEN, "open-confirm", null],
    ["open-confirm", KEEPALIVE, "established", null],
    ["established", UPDATE, "established", null],
    ["established", KEEPALIVE, "established", null],
    ["established", ROUTE_REFRESH, "established", null],
    ["established", NOTIFICATION, "idle", null],
    ["open-sent", UPDATE, "idle", 1],
    ["open-confirm", OPEN, "idle", 2],
    ["established", OPEN, "idle", 3],
  ];
  for (const [state, type, next, subcode] of cases) {
    test(`${state} + type ${type} -> ${next}${subcode === null ? "" : ` (5/${subcode})`}`, () => {
      const t = nextState(state as never, type);
      assert.equal(t.next, next);
      assert.equal(t.error?.subcode ?? null, subcode);
      if (subcode !== null) assert.equal(t.error?.code, 5);
    });
  }
});

// ------------------------------------------------------------------------------------------------
// The speaker against a scripted peer on 127.0.0.1
// ------------------------------------------------------------------------------------------------

/** A scripted BGP peer: connects, collects messages, waits for them. */
class ScriptedPeer {
  readonly messages: BgpMessage[] = [];
  private readonly framer = new MessageFramer();
  private wake: (() => void) | undefined;
  closed = false;
  constructor(readonly socket: Socket) {
    socket.on("data", (c: Buffer) => {
      this.messages.push(...this.framer.push(c));
      this.wake?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on("error", () => {});
  }
  static async connect(port: number): Promise<ScriptedPeer> {
    const s = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => s.once("connect", resolve).once("error", reject));
    return new ScriptedPeer(s);
  }
  /** Waits until `pred` holds over the messages received so far. */
  async until(pred: (m: BgpMessage[]) => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.messages)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
  count(type: number): number {
    return this.messages.filter((m) => m.type === type).length;
  }
  send(b: Buffer): void {
    this.socket.write(b);
  }
  open(holdTime: number, asn = 65000): void {
    this.send(encodeOpen({ asn, holdTime, routerId: "198.18.255.254", capabilities: bgpLsCapabilities(asn) }));
  }
  close(): void {
    this.socket.destroy();
  }
}

/** NLRI types of every UPDATE (MP_REACH: +type, MP_UNREACH: -type, End-of-RIB: 0). */
function nlriTypes(messages: BgpMessage[]): number[] {
  const out: number[] = [];
  for (const m of messages.filter((x) => x.type === MessageType.UPDATE)) {
    if (endOfRibFamily(m.body) !== undefined) {
      out.push(0);
      continue;
    }
    for (const a of decodeUpdate(m.body).attributes) {
      if (a.type === AttrType.MP_REACH_NLRI) for (const t of readTlvs(a.value.subarray(4 + a.value[3] + 1))) out.push(t.type);
      if (a.type === AttrType.MP_UNREACH_NLRI) for (const t of readTlvs(a.value.subarray(3))) out.push(-t.type);
    }
  }
  return out;
}

function resourceCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) if (/TCP|Timeout/.test(r)) out[r] = (out[r] ?? 0) + 1;
  return out;
}

describe("BgpLsSpeaker session handling", { skip: noNanog }, () => {
  test("OPEN/KEEPALIVE exchange, announce, route-refresh replay, keepalives, withdraw, Cease, clean stop", async (t) => {
    const before = resourceCounts();
    const sp = new BgpLsSpeaker({ asn: 65001, routerId: "198.18.255.1", holdTime: 3, peerAsn: 65000 });
    const refreshes: unknown[] = [];
    sp.on("route-refresh", (r) => refreshes.push(r));
    const port = await sp.listen(0);
    const peer = await ScriptedPeer.connect(port);
    t.after(async () => {
      peer.close();
      await sp.stop();
    });

    await peer.until((m) => m.some((x) => x.type === MessageType.OPEN), "the speaker's OPEN");
    const open = decodeOpen(peer.messages[0].body);
    assert.deepEqual([open.asn, open.holdTime, open.routerId, open.routeRefresh], [65001, 3, "198.18.255.1", true]);
    assert.deepEqual(open.families, [{ afi: 16388, safi: 71 }]);

    peer.open(3);
    peer.send(encodeKeepalive());
    await sp.established(5000);
    assert.equal(sp.state, "established");
    await peer.until((m) => m.some((x) => x.type === MessageType.KEEPALIVE), "KEEPALIVE confirming our OPEN");

    const topo = loadEdgeListFile(NANOG6);
    sp.announceTopology(topo);
    // 6 nodes, 16 links (one UPDATE each: different attributes), 6 prefixes packed in one UPDATE, EoR
    await peer.until((m) => nlriTypes(m).includes(0), "End-of-RIB");
    assert.deepEqual(nlriTypes(peer.messages), [...Array(6).fill(1), ...Array(16).fill(2), ...Array(6).fill(3), 0]);
    assert.equal(peer.count(MessageType.UPDATE), 6 + 16 + 1 + 1);
    // eBGP: ORIGIN, AS_PATH [65001], MP_REACH_NLRI, BGP-LS, in ascending type order
    const first = decodeUpdate(peer.messages.find((m) => m.type === MessageType.UPDATE)!.body);
    assert.deepEqual(first.attributes.map((a) => a.type), [1, 2, 14, 29]);
    assert.equal(hex(first.attributes[1].value), "02010000fde9");

    // ROUTE-REFRESH (RFC 2918): the whole Adj-RIB-Out again, no End-of-RIB
    const updatesBefore = peer.count(MessageType.UPDATE);
    peer.send(encodeRouteRefresh());
    await peer.until((m) => m.filter((x) => x.type === MessageType.UPDATE).length === updatesBefore + 23, "the replayed table");
    assert.deepEqual(refreshes, [{ afi: 16388, subtype: 0, safi: 71 }]);

    // KEEPALIVE every hold/3 = 1 s
    const ka = peer.count(MessageType.KEEPALIVE);
    await peer.until((m) => m.filter((x) => x.type === MessageType.KEEPALIVE).length >= ka + 2, "two periodic KEEPALIVEs", 3500);
    peer.send(encodeKeepalive());

    // withdraw r2-r4: one MP_UNREACH_NLRI with both directions; metric change re-announces both
    const n = peer.messages.length;
    assert.equal(sp.withdrawLink(topo, "r2", "r4"), 2);
    sp.setLinkMetric(topo, "r3", "r5", 30);
    await peer.until((m) => nlriTypes(m.slice(n)).length === 4, "withdraw + 2 re-announcements");
    assert.deepEqual(nlriTypes(peer.messages.slice(n)), [-2, -2, 2, 2]);
    assert.equal(sp.ribSize, 28 - 2);

    // Cease / Administrative Shutdown, then the connection closes
    await sp.closeSession();
    await peer.until((_m) => peer.closed, "the connection to close");
    const last = peer.messages[peer.messages.length - 1];
    assert.equal(last.type, MessageType.NOTIFICATION);
    assert.equal(hex(last.body), "0602");

    await sp.stop();
    await new Promise((resolve) => setTimeout(resolve, 10)); // let libuv run its close callbacks
    assert.deepEqual(resourceCounts(), before, "stop() left sockets or timers behind");
  });

  test("a reconnection gets the Adj-RIB-Out replayed, with End-of-RIB", async (t) => {
    const sp = new BgpLsSpeaker({ asn: 65001, routerId: "198.18.255.1", holdTime: 30 });
    const port = await sp.listen(0);
    t.after(() => sp.stop());
    const topo = loadEdgeListFile(NANOG6);
    sp.announceTopology(topo); // not Established: kept for the session
    for (let round = 0; round < 2; round++) {
      const peer = await ScriptedPeer.connect(port);
      peer.open(30);
      peer.send(encodeKeepalive());
      await sp.established(5000);
      await peer.until((m) => nlriTypes(m).includes(0), `End-of-RIB, round ${round}`);
      assert.equal(nlriTypes(peer.messages).filter((x) => x > 0).length, 28);
      peer.close();
      await new Promise<void>((resolve) => sp.once("down", () => resolve()));
    }
    assert.equal(sp.stats().sessionsEstablished, 2);
  });

  test("hold timer expiry sends NOTIFICATION 4/0", async (t) => {
    const sp = new BgpLsSpeaker({ asn: 65001, routerId: "198.18.255.1", holdTime: 3 });
    const port = await sp.listen(0);
    const peer = await ScriptedPeer.connect(port);
    t.after(async () => {
      peer.close();
      await sp.stop();
    });
    peer.open(3);
    peer.send(encodeKeepalive());
    await sp.established(5000);
    await peer.until(() => peer.closed, "the hold timer", 5000);
    const last = peer.messages[peer.messages.length - 1];
    assert.deepEqual([last.type, hex(last.body)], [MessageType.NOTIFICATION, "0400"]);
  });

  const faults: Record<string, [(p: ScriptedPeer) => void, string]> = {
    "UPDATE before OPEN -> FSM error 5/1": [(p) => p.send(encodeEndOfRib()), "0501"],
    "bad marker -> 1/1": [(p) => p.send(Buffer.from("00".repeat(16) + "001304", "hex")), "0101"],
    "wrong peer AS -> 2/2": [(p) => p.open(30, 64999), "0202"],
  };
  for (const [name, [act, notification]] of Object.entries(faults)) {
    test(name, async (t) => {
      const sp = new BgpLsSpeaker({ asn: 65001, routerId: "198.18.255.1", peerAsn: 65000 });
      const port = await sp.listen(0);
      const peer = await ScriptedPeer.connect(port);
      t.after(async () => {
        peer.close();
        await sp.stop();
      });
      act(peer);
      await peer.until(() => peer.closed, "the speaker to close");
      const last = peer.messages[peer.messages.length - 1];
      assert.equal(last.type, MessageType.NOTIFICATION);
      assert.equal(hex(last.body).slice(0, 4), notification);
    });
  }

  test("announceRoutes refuses what ExaBGP 4.2.21 chokes on unless {unsafe: true}", () => {
    const topo = loadEdgeListFile(NANOG6);
    const sp = new BgpLsSpeaker({ asn: 65001, routerId: "198.18.255.1" });
    const r = nodeRoute(topo, topo.routers[0]);
    const bad = { ...r, attribute: Buffer.concat([r.attribute, linkNameTlv("x")]) };
    assert.throws(() => sp.announceRoutes([bad]), /link name 1098/);
    assert.equal(sp.ribSize, 0);
    sp.announceRoutes([bad], { unsafe: true });
    assert.equal(sp.ribSize, 1);
  });
});
