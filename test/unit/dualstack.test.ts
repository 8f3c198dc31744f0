// IPv6 and dual stack in the plugin (issue 13, Must 1): BGP-LS IPv6 link addresses (261/262),
// IPv6 TE router ids (1029/1031), IPv6 prefixes and multi-topology ids (263) decoded in both
// ExaBGP dialects, made part of the topology per family, and published as path set version 3.
//
// Inputs are real: ../shared/corpus/exabgp/samples (ExaBGP 4.2.21's lines), and
// test/fixtures/exabgp5 (what ExaBGP 5.0.13 printed for those samples' bytes and for the lab
// speaker's NANOG 6 topology; generate.mjs there). ExaBGP 4.2.21 cannot give 263 (it hangs on
// it, FORMAT.md §8) nor 1029/1031 of the corpus (qa06 has an IPv6 next hop, which resets its
// session), so those rows are 5.0.13's only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { decodeLine, type ExaEvent } from "../../plugin/exabgp/decode.js";
import type { LinkAttr, LsLink } from "../../plugin/bgpls/link.js";
import type { NodeAttr } from "../../plugin/bgpls/node.js";
import type { LsPrefix } from "../../plugin/bgpls/prefix.js";
import { Engine } from "../../plugin/engine.js";
import { resolveEndpoint } from "../../plugin/endpoints.js";
import { canonicalAddress, formatIpv6, ipv6ToBigInt, isLinkLocal6, prefixContains } from "../../plugin/ip.js";
import { Lsdb } from "../../plugin/lsdb.js";
import { buildPathSetSteps, directedPairs, topologySteps, type PathQuery } from "../../plugin/paths.js";
import { graphFromEdges, node } from "../util/edgelist.js";
import { drain } from "../../plugin/slice.js";
import { buildTopologySteps, linkInFamily } from "../../plugin/topology.js";
import { createLogger } from "../../shared/log.js";
import { ConfigError, parseConfig } from "../../shared/config.js";
import { parsePathSet, PathSetError, PATHSET_VERSION, type Family, type PathSet } from "../../shared/pathset.js";
import { sharedPath } from "../util/shared.js";

const CORPUS = pathToFileURL(sharedPath("corpus/exabgp/samples") + "/");
const FIX5 = new URL("../../../test/fixtures/exabgp5/", import.meta.url);
const PATHSETS = new URL("../../../test/fixtures/pathset/", import.meta.url);

const linesOf = (url: URL): string[] => readFileSync(url, "utf8").split("\n").filter((l) => l.length > 0);
const corpus = (rel: string): string[] => linesOf(new URL(rel, CORPUS));
const five = (name: string): string[] => linesOf(new URL(name, FIX5));

function updateOf(lines: string[]): Extract<ExaEvent, { kind: "update" }> {
  for (const l of lines) {
    const r = decodeLine(l);
    assert.ok(r.ok, r.ok ? "" : r.reason);
    if (r.event.kind === "update") {
      assert.deepEqual(r.event.problems, []);
      return r.event;
    }
  }
  throw new Error("no update");
}

// ---- decode, by table: [dialect, input, what it must give] ----

type Row = { lines: () => string[]; check: (u: Extract<ExaEvent, { kind: "update" }>) => void };
const link = (u: Extract<ExaEvent, { kind: "update" }>, i = 0): LsLink => u.announce[i].nlri as LsLink;
const linkAttr = (u: Extract<ExaEvent, { kind: "update" }>, i = 0): LinkAttr => u.announce[i].attr as LinkAttr;

const decodeRows: Record<string, Row> = {
  "4.2.21, 259-262 dual stack in one NLRI (duplicate keys), e03": {
    lines: () => corpus("edge/e03-link-dual-stack.json"),
    check: (u) => {
      assert.deepEqual(link(u).interfaceAddresses, ["1.3.0.1", "2001:db8::1"]);
      assert.deepEqual(link(u).neighborAddresses, ["1.3.0.2", "2001:db8::2"]);
      assert.deepEqual(link(u).mtIds, []);
    },
  },
  "5.0.13, 259-262 dual stack in one NLRI (lists), e03": {
    lines: () => five("e03-link-dual-stack.json"),
    check: (u) => {
      assert.deepEqual(link(u).interfaceAddresses, ["1.3.0.1", "2001:db8::1"]);
      assert.deepEqual(link(u).neighborAddresses, ["1.3.0.2", "2001:db8::2"]);
      assert.deepEqual(link(u).mtIds, []);
    },
  },
  "5.0.13, 261/262 IPv6 only with MT-ID 2 (263), e13": {
    lines: () => five("e13-link-ipv6-only-mtid.json"),
    check: (u) => {
      assert.deepEqual(link(u).interfaceAddresses, ["2001:db8::1"]);
      assert.deepEqual(link(u).neighborAddresses, ["2001:db8::2"]);
      assert.deepEqual(link(u).mtIds, [2]);
    },
  },
  "5.0.13, MT-ID 0 (263) on an IPv4 link, i842": {
    lines: () => five("i842-isis-link-mtid.json"),
    check: (u) => {
      assert.deepEqual(link(u).mtIds, [0]);
      assert.deepEqual(link(u).interfaceAddresses, ["10.0.0.1"]);
    },
  },
  "5.0.13, 1028+1029 local and 1030+1031 remote TE router ids in a link attribute, qa06 (SRv6 router)": {
    lines: () => five("qa06-srv6-link-ipv6-nexthop.json"),
    check: (u) => {
      assert.deepEqual(linkAttr(u).localTeRouterIds, ["10.0.202.1", "fc00:1000:112::1"]);
      assert.deepEqual(linkAttr(u).remoteTeRouterIds, ["10.0.2.1", "fc00:1000:2::1"]);
    },
  },
  "5.0.13, 1028+1029 in a node attribute (the lab speaker's bytes)": {
    lines: () => five("nanog6-mt.ndjson").slice(0, 1),
    check: (u) => assert.deepEqual((u.announce[0].attr as NodeAttr).teRouterIds, ["198.19.0.1", "2001:2:0:ffff::1"]),
  },
  "5.0.13, 1029/1031 of a MT-ID 2 link (the lab speaker's bytes)": {
    lines: () => five("nanog6-mt.ndjson").filter((l) => l.includes('"multi-topology-ids": [ 2 ]')).slice(0, 1),
    check: (u) => {
      assert.deepEqual(link(u).mtIds, [2]);
      assert.deepEqual(link(u).interfaceAddresses, ["2001:2:0:0:0:0:0:1"].map(canonicalAddress));
      assert.deepEqual(linkAttr(u).localTeRouterIds, ["198.19.0.1", "2001:2:0:ffff::1"]);
      assert.deepEqual(linkAttr(u).remoteTeRouterIds, ["198.19.0.2", "2001:2:0:ffff::2"]);
    },
  },
  "4.2.21, IPv6 prefix (bgpls-prefix-v6), pr837": {
    lines: () => corpus("pr837-uninett-isis-prefix-v6.json"),
    check: (u) => {
      const p = u.announce[0].nlri as LsPrefix;
      assert.deepEqual([p.family, p.prefix], [6, "2001:700:0:2519::/126"]);
    },
  },
  "5.0.13, IPv6 prefix (bgpls-prefix-v6), pr837": {
    lines: () => five("pr837-uninett-isis-prefix-v6.json"),
    check: (u) => {
      const p = u.announce[0].nlri as LsPrefix;
      assert.deepEqual([p.family, p.prefix], [6, "2001:700:0:2519::/126"]);
    },
  },
  "5.0.13, IPv6 prefixes whose 263 ExaBGP does not print, i1125": {
    lines: () => five("i1125-isis-prefix-v6-mtid.json"),
    check: (u) => assert.deepEqual(u.announce.map((a) => [(a.nlri as LsPrefix).prefix, (a.nlri as LsPrefix).mtIds]), [["2022::1/128", []], ["2000::1/128", []]]),
  },
};

for (const [name, row] of Object.entries(decodeRows)) test(`decode: ${name}`, () => row.check(updateOf(row.lines())));

// ---- addresses ----

test("ip: IPv6 text forms, RFC 5952 output, prefixes of both families", () => {
  const canon: Array<[string, string | undefined]> = [
    ["2001:db8::1", "2001:db8::1"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:2:0:ffff:0:0:0:6", "2001:2:0:ffff::6"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["::ffff:198.18.0.1", "::ffff:c612:1"],
    ["2001:db8::1::2", undefined],
    ["2001:db8:::1", undefined],
    ["1:2:3:4:5:6:7:8:9", undefined],
    ["12345::", undefined],
    ["198.18.0.1", undefined],
    ["fe80::1%eth0", undefined],
  ];
  for (const [text, want] of canon) {
    const n = ipv6ToBigInt(text);
    assert.equal(n === undefined ? undefined : formatIpv6(n), want, text);
  }
  assert.equal(isLinkLocal6("fe80::1"), true);
  assert.equal(isLinkLocal6("febf::1"), true);
  assert.equal(isLinkLocal6("fec0::1"), false);
  const within: Array<[string, string, boolean]> = [
    ["2001:2::/48", "2001:2:0:ffff::6", true],
    ["2001:2::/48", "2001:3::1", false],
    ["2001:2:0:ffff::6/128", "2001:2:0:ffff::6", true],
    ["::/0", "2001:db8::1", true],
    ["198.18.0.0/15", "198.19.0.6", true],
    ["198.18.0.0/15", "2001:2::1", false],
    ["2001:2::/48", "198.18.0.1", false],
  ];
  for (const [prefix, address, want] of within) assert.equal(prefixContains(prefix, address), want, `${prefix} ${address}`);
});

// ---- topology per family ----

test("topology: which family's topology a link is in (RFC 5120 MT-IDs, OSPFv2/v3)", () => {
  const mt = new Set(["isis:0"]);
  const none = new Set<string>();
  const rows: Array<[string, { protocolId: number; instance: number; mtIds: number[] }, Set<string>, Family[]]> = [
    ["IS-IS, no MT-ID, single topology", { protocolId: 2, instance: 0, mtIds: [] }, none, ["ipv4", "ipv6"]],
    ["IS-IS, no MT-ID, instance in multi-topology", { protocolId: 2, instance: 0, mtIds: [] }, mt, ["ipv4"]],
    ["IS-IS, MT-ID 0", { protocolId: 2, instance: 0, mtIds: [0] }, mt, ["ipv4"]],
    ["IS-IS, MT-ID 2", { protocolId: 1, instance: 0, mtIds: [2] }, mt, ["ipv6"]],
    ["IS-IS, MT-ID 3 (IPv4 multicast)", { protocolId: 2, instance: 0, mtIds: [3] }, mt, []],
    ["IS-IS, MT-ID 0 and 2 in one NLRI", { protocolId: 2, instance: 0, mtIds: [0, 2] }, mt, ["ipv4", "ipv6"]],
    ["IS-IS, another instance stays single topology", { protocolId: 2, instance: 7, mtIds: [] }, mt, ["ipv4", "ipv6"]],
    ["OSPFv2", { protocolId: 3, instance: 0, mtIds: [] }, none, ["ipv4"]],
    ["OSPFv3", { protocolId: 6, instance: 0, mtIds: [] }, none, ["ipv6"]],
  ];
  for (const [name, l, scopes, want] of rows) assert.deepEqual((["ipv4", "ipv6"] as const).filter((f) => linkInFamily(l, f, scopes)), want, name);
});

function lsdbOf(lines: string[]): Lsdb {
  const db = new Lsdb();
  for (const l of lines) {
    const r = decodeLine(l);
    if (r.ok && r.event.kind === "update") for (const x of r.event.announce) db.announce("198.18.254.1", x.nlri, x.attr);
  }
  return db;
}

test("topology: IS-IS multi-topology (ExaBGP 5.0.13, NANOG 6): an MT-2 link is in the IPv6 topology only, with its IPv6 targets and metric", () => {
  const db = lsdbOf(five("nanog6-mt.ndjson"));
  const [v4, v6] = drain(topologySteps(() => db.entries.values(), {}));
  assert.deepEqual([v4.family, v6.family, v4.present, v4.sameForFamilies], ["ipv4", "ipv6", ["ipv4", "ipv6"], false]);
  assert.equal(v4.links.length, 16);
  assert.equal(v6.links.length, 16);
  assert.deepEqual(new Set(v4.links.map((l) => l.id)).size + new Set(v6.links.map((l) => l.id)).size, 32, "the MT-0 and MT-2 NLRIs are different links");
  for (const l of v4.links) {
    assert.deepEqual(l.mtIds, []);
    assert.match(l.localAddress ?? "", /^198\.18\./);
    assert.equal(l.localAddress6, undefined);
  }
  for (const l of v6.links) {
    assert.deepEqual(l.mtIds, [2]);
    assert.ok(prefixContains("2001:2::/48", l.localAddress6 ?? "") && prefixContains("2001:2::/48", l.remoteAddress6 ?? ""), l.id);
    assert.equal(l.localAddress, undefined);
  }
  const name = (t: typeof v4, id: string) => t.nodes.get(id)!.name;
  const metric = (t: typeof v4, a: string, b: string) => t.links.find((l) => name(t, l.from) === a && name(t, l.to) === b)!.metric;
  assert.deepEqual([metric(v4, "r2", "r4"), metric(v6, "r2", "r4"), metric(v6, "r4", "r2"), metric(v6, "r2", "r5")], [10, 20, 20, 10]);
  const r6 = [...v6.nodes.values()].find((n) => n.name === "r6")!;
  assert.deepEqual([r6.teRouterIds, r6.teRouterIds6, r6.loopbacks, r6.loopbacks6], [["198.19.0.6"], ["2001:2:0:ffff::6"], ["198.19.0.6"], ["2001:2:0:ffff::6"]]);
});

test("topology: single topology (ExaBGP 5.0.13, NANOG 6 dual stack): one graph serves both families", () => {
  const db = lsdbOf(five("nanog6-st.ndjson"));
  const topos = drain(topologySteps(() => db.entries.values(), {}));
  assert.equal(topos.length, 1);
  assert.deepEqual([topos[0].present, topos[0].sameForFamilies], [["ipv4", "ipv6"], true]);
  for (const l of topos[0].links) {
    assert.match(l.localAddress ?? "", /^198\.18\./);
    assert.ok(prefixContains("2001:2::/48", l.localAddress6 ?? ""), l.id);
  }
});

test("topology: an IPv4-only LSDB has one family, and the plugin computes only it", () => {
  const db = lsdbOf(five("nanog6-st.ndjson").filter((l) => !l.includes("bgpls-prefix-v6")).map((l) => l.replace(/, "2001:2:[0-9a-f:]+"/g, "").replace(/"remote-te-router-id": "2001:[^"]+", /g, "").replace(/\[ "2001:2:[0-9a-f:]+" \]/g, "[  ]")));
  const [t] = drain(topologySteps(() => db.entries.values(), {}));
  assert.deepEqual(t.present, ["ipv4"]);
});

// ---- path sets ----

async function engineSet(lines: string[], q: Partial<PathQuery> = {}): Promise<PathSet> {
  let set: PathSet | undefined;
  const engine = new Engine(
    { query: { pairs: directedPairs([["r1", "r6"]]), mode: "all", maxPerPair: 64, ...q }, metric: "igp", debounceMs: 0, staleTimeoutMs: 1000, routeRefresh: false, generation: 0, sliceMs: 0 },
    { log: createLogger({ name: "t", level: "error", stream: { write: () => {} } }), command: () => {}, publish: async (s) => void (set = s), now: () => new Date(0) },
  );
  let n = 0;
  for (const l of lines) engine.handleLine(l, ++n);
  await engine.recompute();
  assert.ok(set, "published");
  return JSON.parse(JSON.stringify(set)) as PathSet;
}

const hopNames = (p: PathSet["paths"][number]): string => p.hops.map((h) => h.name).join(">");

test("paths: IS-IS multi-topology, r2<->r4 costs 20 in MT 2 only: the IPv6 paths avoid it, the IPv4 ones do not", async () => {
  const set = await engineSet(five("nanog6-mt.ndjson"));
  parsePathSet(JSON.parse(JSON.stringify(set)));
  assert.equal(set.version, PATHSET_VERSION);
  assert.deepEqual(set.families, ["ipv4", "ipv6"]);
  assert.deepEqual(
    set.pairs.map((p) => [p.src, p.dst, p.family, p.cost, p.count]),
    [["r1", "r6", "ipv4", 30, 4], ["r1", "r6", "ipv6", 30, 3], ["r6", "r1", "ipv4", 30, 4], ["r6", "r1", "ipv6", 30, 3]],
  );
  const byId = new Map(set.paths.map((p) => [p.id, p]));
  const of = (family: Family) => set.pairs.find((p) => p.src === "r1" && p.family === family)!.paths.map((id) => byId.get(id)!);
  assert.deepEqual(of("ipv4").map(hopNames), ["r1>r2>r4>r6", "r1>r2>r5>r6", "r1>r3>r4>r6", "r1>r3>r5>r6"]);
  assert.deepEqual(of("ipv6").map(hopNames), ["r1>r2>r5>r6", "r1>r3>r4>r6", "r1>r3>r5>r6"]);
  for (const p of of("ipv4")) {
    assert.deepEqual([p.families, Object.keys(p.targets!)], [["ipv4"], ["ipv4"]]);
    assert.equal(p.probeable, true);
    assert.deepEqual(p.targets!.ipv4!.gre, p.gre);
    for (const g of [...p.gre, ...p.greReverse]) assert.match(g.address, /^198\.18\./);
  }
  for (const p of of("ipv6")) {
    assert.deepEqual([p.families, Object.keys(p.targets!)], [["ipv6"], ["ipv6"]]);
    // No IPv4 layers: the top level (the IPv4 view) says so, an IPv4-only prober skips it.
    assert.deepEqual([p.gre, p.greReverse, p.probeable], [[], [], false]);
    assert.match(p.unprobeableReason ?? "", /not an IPv4 path/);
    const t = p.targets!.ipv6!;
    assert.equal(t.probeable, true);
    assert.equal(t.gre.length, 3);
    assert.equal(t.greReverse.length, 3);
    // Each layer goes to the far end's IPv6 interface address of its (MT 2) link.
    t.gre.forEach((g, i) => assert.deepEqual([g.address, g.source, g.target, g.node], [p.links[i].remoteAddress6, "interface", "interface", p.links[i].to]));
    t.greReverse.forEach((g, i) => assert.equal(g.address, p.links[p.links.length - 1 - i].localAddress6));
    assert.deepEqual(p.hops.at(-1)!.addresses6, ["2001:2:0:ffff::6"]);
  }
  // The two families' paths are their own links: no link id in common.
  const ids4 = new Set(of("ipv4").flatMap((p) => p.links.map((l) => l.id)));
  assert.ok(of("ipv6").every((p) => p.links.every((l) => !ids4.has(l.id))));
});

test("paths: plugin.paths.families restricts the computation (multi-topology)", async () => {
  const lines = five("nanog6-mt.ndjson");
  const only6 = await engineSet(lines, { families: ["ipv6"] });
  assert.deepEqual([only6.families, only6.pairs.map((p) => p.family)], [["ipv6"], ["ipv6", "ipv6"]]);
  assert.equal(only6.paths.length, 6);
  assert.ok(only6.paths.every((p) => p.families!.join() === "ipv6"));
  const only4 = await engineSet(lines, { families: ["ipv4"] });
  assert.deepEqual([only4.families, only4.paths.length], [["ipv4"], 8]);
  assert.ok(only4.paths.every((p) => p.families!.join() === "ipv4" && p.probeable));
});

test("paths: single topology: each path carries the layers of both families", async () => {
  const set = await engineSet(five("nanog6-st.ndjson"));
  assert.deepEqual(set.families, ["ipv4", "ipv6"]);
  assert.deepEqual(set.pairs.map((p) => [p.family, p.count]), [["ipv4", 4], ["ipv6", 4], ["ipv4", 4], ["ipv6", 4]]);
  assert.equal(set.paths.length, 8, "one entry per path, not per family");
  for (const p of set.paths) {
    assert.deepEqual(p.families, ["ipv4", "ipv6"]);
    assert.deepEqual(p.targets!.ipv4!.gre.map((g) => g.address), p.links.map((l) => l.remoteAddress));
    assert.deepEqual(p.targets!.ipv6!.gre.map((g) => g.address), p.links.map((l) => l.remoteAddress6));
    assert.ok(p.targets!.ipv6!.gre.every((g) => prefixContains("2001:2::/48", g.address)));
  }
  // Router targets: the IPv6 layers go to the IPv6 TE router ids (1029).
  const router = await engineSet(five("nanog6-st.ndjson"), { target: "router" });
  const p = router.paths.find((x) => hopNames(x) === "r1>r2>r4>r6")!;
  assert.deepEqual(p.targets!.ipv6!.gre.map((g) => [g.address, g.source]), [["2001:2:0:ffff::2", "te-router-id"], ["2001:2:0:ffff::4", "te-router-id"], ["2001:2:0:ffff::6", "te-router-id"]]);
  assert.deepEqual(p.targets!.ipv4!.gre.map((g) => g.address), ["198.19.0.2", "198.19.0.4", "198.19.0.6"]);
});

test("paths: an IPv6 hop without an IPv6 address makes the path unprobeable in IPv6 only, with the reason", () => {
  // a - b - c, dual stack, except b -> c: no IPv6 interface address (link-local only), and c
  // has no IPv6 router id or loopback to fall back to.
  const nodes = [node("a", { teRouterIds6: ["2001:2:0:ffff::a"] }), node("b", { teRouterIds6: ["2001:2:0:ffff::b"] }), node("c")];
  const topo = {
    ...graphFromEdges(nodes, [
      { src: "a", dst: "b", metric: 1, localAddress: "198.18.0.0", remoteAddress: "198.18.0.1", localAddress6: "2001:2:0:1::1", remoteAddress6: "2001:2:0:1::2" },
      { src: "b", dst: "a", metric: 1, localAddress: "198.18.0.1", remoteAddress: "198.18.0.0", localAddress6: "2001:2:0:1::2", remoteAddress6: "2001:2:0:1::1" },
      { src: "b", dst: "c", metric: 1, localAddress: "198.18.0.2", remoteAddress: "198.18.0.3" },
      { src: "c", dst: "b", metric: 1, localAddress: "198.18.0.3", remoteAddress: "198.18.0.2" },
    ], false),
    present: ["ipv4", "ipv6"] as Family[],
  };
  const set = drain(buildPathSetSteps(topo, { pairs: directedPairs([["a", "c"]]), mode: "all", maxPerPair: 8 }, { peers: [], stale: false, prefixes: 0 }));
  const [ac, ca] = set.paths;
  assert.deepEqual([ac.families, ac.targets!.ipv4!.probeable, ac.targets!.ipv6!.probeable], [["ipv4", "ipv6"], true, false]);
  assert.equal(ac.targets!.ipv6!.unprobeableReason, "no IPv6 address for hop b->c: no IPv6 interface address on the link and c advertises no IPv6 TE router id or /128 loopback");
  assert.deepEqual(ac.targets!.ipv6!.gre, []);
  // The way back enters b over b -> c's reverse, whose IPv6 address is missing too: b's IPv6 TE router id serves.
  assert.deepEqual(ca.targets!.ipv6!.gre.map((g) => [g.address, g.source, g.target]), [["2001:2:0:ffff::b", "te-router-id", "router"], ["2001:2:0:1::1", "interface", "interface"]]);
  assert.equal(ca.targets!.ipv6!.probeable, true);
  // The IPv4 view is unaffected.
  assert.deepEqual(ac.gre.map((g) => g.address), ["198.18.0.1", "198.18.0.3"]);
});

test("endpoints: IPv6 TE router id, loopback, prefix (any spelling) and an address inside an IPv6 prefix", () => {
  const db = lsdbOf(five("nanog6-mt.ndjson"));
  const [t] = drain(topologySteps(() => db.entries.values(), {}));
  const r6 = [...t.nodes.values()].find((n) => n.name === "r6")!.id;
  const cases: Record<string, string | RegExp> = {
    "2001:2:0:ffff::6": r6,
    "2001:2:0:FFFF:0:0:0:6": r6,
    "2001:2:0:ffff::6/128": r6,
    "2001:2:0:ffff:0::6/128": r6,
    "198.19.0.6": r6,
    "2001:2:0:ffff::99": /matches no node/,
  };
  for (const [spec, want] of Object.entries(cases)) {
    const r = resolveEndpoint(t, spec);
    if (typeof want === "string") assert.deepEqual(r, { node: want }, spec);
    else assert.match("error" in r ? r.error : "", want, spec);
  }
  // An address inside an advertised IPv6 prefix: the longest match.
  const wide = lsdbOf([...five("nanog6-mt.ndjson"), ...five("nanog6-mt.ndjson").filter((l) => l.includes('"ip-reach-prefix": "2001:2:0:ffff::6/128"')).map((l) => l.replace(/2001:2:0:ffff::6\/128/, "2001:2:6::/48").replace(/"ip-reachability-tlv": "[^"]+"/, '"ip-reachability-tlv": "2001:2:6::"'))]);
  const [w] = drain(topologySteps(() => wide.entries.values(), {}));
  assert.deepEqual(resolveEndpoint(w, "2001:2:6::1234"), { node: r6 });
});

test("paths: endpoints given as IPv6 addresses", async () => {
  const set = await engineSet(five("nanog6-mt.ndjson"), { pairs: directedPairs([["2001:2:0:ffff::1", "2001:2:0:ffff::6"]]) });
  assert.deepEqual(set.pairs.map((p) => [p.src, p.family, p.count]), [["2001:2:0:ffff::1", "ipv4", 4], ["2001:2:0:ffff::1", "ipv6", 3], ["2001:2:0:ffff::6", "ipv4", 4], ["2001:2:0:ffff::6", "ipv6", 3]]);
});

// ---- path set versions 1, 2 and 3 ----

type Doc = Record<string, any>;
const fixture = (name: string): Doc => JSON.parse(readFileSync(new URL(name, PATHSETS), "utf8")) as Doc;

test("parsePathSet: versions 1 to 4 are read; 1 and 2 as IPv4 only", async () => {
  const v3 = await engineSet(five("nanog6-st.ndjson"));
  for (const [name, doc] of [["v1", fixture("nanog6-v1.json")], ["v2", fixture("nanog6-v2.json")]] as const) {
    assert.equal(doc.version, name === "v1" ? 1 : 2);
    const set = parsePathSet(doc, name);
    assert.deepEqual(set.families, ["ipv4"], name);
    assert.equal(set.paths.length, 8, name);
    for (const p of set.paths) {
      assert.deepEqual(p.families, ["ipv4"], name);
      // Version 4's upgrade: no segment routing, said so.
      const srMpls: object = { segments: [], probeable: false, unprobeableReason: `path set version ${String(doc.version)} predates segment routing (version 4)` };
      assert.deepEqual(p.targets, { ipv4: { gre: p.gre, greReverse: p.greReverse, probeable: p.probeable, srMpls } }, name);
      assert.ok(p.gre.every((g) => g.target === "interface"), name);
    }
    assert.ok(set.pairs.every((p) => p.family === "ipv4"), name);
    // The same IPv4 paths as version 3 writes for the same topology.
    assert.deepEqual(set.paths.map((p) => p.gre.map((g) => g.address)), v3.paths.map((p) => p.gre.map((g) => g.address)), name);
  }
  const set = parsePathSet(JSON.parse(JSON.stringify(v3)), "v3");
  assert.equal(set.version, PATHSET_VERSION);
  assert.ok(set.paths.every((p) => p.families!.length === 2 && p.targets!.ipv6!.probeable));
});

test("parsePathSet: version 3's own rules", async () => {
  const good = await engineSet(five("nanog6-mt.ndjson"));
  const v6 = good.paths.findIndex((p) => p.families!.join() === "ipv6");
  const v4 = good.paths.findIndex((p) => p.families!.join() === "ipv4");
  const cases: Array<[string, (d: Doc) => void, RegExp]> = [
    ["no families in the document", (d) => delete d.families, /families: expected an array, got undefined/],
    ["no family on a pair", (d) => delete d.pairs[1].family, /pairs\[1\]\.family: expected "ipv4" or "ipv6", got undefined/],
    ["a pair of family ipv5", (d) => (d.pairs[0].family = "ipv5"), /pairs\[0\]\.family: expected "ipv4" or "ipv6", got "ipv5"/],
    ["a path without families", (d) => delete d.paths[v6].families, new RegExp(`paths\\[${v6}\\]\\.families: expected an array`)],
    ["a path with no family", (d) => (d.paths[v6].families = []), new RegExp(`paths\\[${v6}\\]\\.families: expected at least one family`)],
    ["a family twice", (d) => (d.paths[v6].families = ["ipv6", "ipv6"]), new RegExp(`paths\\[${v6}\\]\\.families\\[1\\]: "ipv6" appears twice`)],
    ["a path without targets", (d) => delete d.paths[v4].targets, new RegExp(`paths\\[${v4}\\]\\.targets: expected an object`)],
    ["targets of a family the path is not in", (d) => (d.paths[v4].targets.ipv6 = d.paths[v6].targets.ipv6), new RegExp(`paths\\[${v4}\\]\\.targets\\.ipv6: expected targets only for the path's families \\(ipv4\\)`)],
    ["a family without its targets", (d) => (d.paths[v4].families = ["ipv4", "ipv6"]), new RegExp(`paths\\[${v4}\\]\\.targets\\.ipv6: expected an object, got undefined`)],
    ["an IPv4 address in an IPv6 layer", (d) => (d.paths[v6].targets.ipv6.gre[0].address = "198.18.0.1"), new RegExp(`paths\\[${v6}\\]\\.targets\\.ipv6\\.gre\\[0\\]\\.address: expected an IPv6 address, got "198.18.0.1"`)],
    ["an IPv6 address in an IPv4 layer", (d) => (d.paths[v4].targets.ipv4.greReverse[1].address = "2001:2::1"), new RegExp(`paths\\[${v4}\\]\\.targets\\.ipv4\\.greReverse\\[1\\]\\.address: expected an IPv4 address, got "2001:2::1"`)],
    ["a probeable IPv6 path short of a layer", (d) => d.paths[v6].targets.ipv6.gre.pop(), new RegExp(`paths\\[${v6}\\]\\.targets\\.ipv6\\.gre: a probeable path needs one entry per link \\(3\\), got 2`)],
    ["an IPv6-only path probeable in IPv4", (d) => (d.paths[v6].probeable = true), new RegExp(`paths\\[${v6}\\]\\.probeable: a path not in IPv4 has no IPv4 layers: expected false`)],
  ];
  for (const [what, mutate, message] of cases) {
    const d = JSON.parse(JSON.stringify(good)) as Doc;
    mutate(d);
    assert.throws(() => parsePathSet(d, "paths.json"), (e: unknown) => e instanceof PathSetError && message.test((e as Error).message), what);
  }
});

// ---- configuration ----

test("config: plugin.paths.families, and its errors with file:line:col and key path", () => {
  const yaml = (families: string) => `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  paths:\n    families: ${families}\n`;
  assert.deepEqual(parseConfig(yaml("[ipv4, ipv6]"), "lsprobe.yaml").plugin.paths.families, ["ipv4", "ipv6"]);
  assert.deepEqual(parseConfig(yaml("[ipv6]"), "lsprobe.yaml").plugin.paths.families, ["ipv6"]);
  assert.equal(parseConfig(yaml("null"), "lsprobe.yaml").plugin.paths.families, null);
  const bad: Record<string, string> = {
    "[ipv5]": `lsprobe.yaml:5:16: plugin.paths.families[0]: expected "ipv4" or "ipv6", got "ipv5"`,
    "[ipv4, ipv4]": `lsprobe.yaml:5:22: plugin.paths.families[1]: expected distinct families, got "ipv4" twice`,
    "[]": `lsprobe.yaml:5:5: plugin.paths.families: expected a non-empty list of "ipv4" and "ipv6", or null, got an empty list`,
    ipv6: `lsprobe.yaml:5:5: plugin.paths.families: expected a non-empty list of "ipv4" and "ipv6", or null, got "ipv6"`,
  };
  for (const [value, message] of Object.entries(bad)) {
    assert.throws(() => parseConfig(yaml(value), "lsprobe.yaml"), (e: unknown) => e instanceof ConfigError && e.message === message, value);
  }
});

test("topology: OSPFv3 links are IPv6, OSPFv2 links IPv4 (a table of one-link LSDBs)", () => {
  const ospf = (proto: number, a: string, b: string): string =>
    `{ "exabgp": "5.0.0", "time": 1, "host" : "vm", "pid" : 1, "ppid" : 1, "counter": 1, "type": "update", "neighbor": { "address": { "local": "127.0.0.1", "peer": "127.0.0.1" }, "asn": { "local": 65000, "peer": 65001 }, "router-id": "10.0.0.2" , "direction": "receive", "message": { "update": { "attribute": { "origin": "igp", "local-preference": 100, "bgp-ls": { "igp-metric": 10 } }, "announce": { "bgp-ls bgp-ls": { "198.18.254.1": [ { "ls-nlri-type": "bgpls-link", "l3-routing-topology": 0, "protocol-id": ${proto}, "local-node-descriptors": [ { "autonomous-system": 65001 }, { "bgp-ls-identifier": "0" }, { "ospf-area-id": "0.0.0.0" }, { "router-id": "${a}" } ], "remote-node-descriptors": [ { "autonomous-system": 65001 }, { "bgp-ls-identifier": "0" }, { "ospf-area-id": "0.0.0.0" }, { "router-id": "${b}" } ], "interface-addresses": [  ], "neighbor-addresses": [  ], "multi-topology-ids": [  ], "link-identifiers": [  ] } ] } } } } } }`;
  for (const [proto, want] of [[3, ["ipv4", 1, 0]], [6, ["ipv6", 0, 1]]] as const) {
    const db = lsdbOf([ospf(proto, "198.19.0.1", "198.19.0.2"), ospf(proto, "198.19.0.2", "198.19.0.1")]);
    const v4 = drain(buildTopologySteps(db.entries.values(), "igp", undefined, "ipv4"));
    const v6 = drain(buildTopologySteps(db.entries.values(), "igp", undefined, "ipv6"));
    assert.deepEqual([v4.present!.at(-1) ?? "ipv4", v4.links.length / 2, v6.links.length / 2], [want[0] === "ipv6" ? "ipv6" : "ipv4", want[1], want[2]], `protocol ${proto}`);
  }
});

test("paths: modes cover and plan over both families (multi-topology): valid sets, IPv6 paths chosen on their own links", async () => {
  for (const mode of ["cover", "plan"] as const) {
    const set = await engineSet(five("nanog6-mt.ndjson"), { mode, plan: { budgetPps: 1000, alpha: 1, beta: 1, minLinkPps: 25 } });
    parsePathSet(JSON.parse(JSON.stringify(set)), mode);
    const six = set.pairs.filter((p) => p.family === "ipv6");
    assert.equal(six.length, 2, mode);
    // Every IPv6 pair's paths are IPv6 paths; mode plan may leave a pair none (out-and-back
    // probes of the other direction cross its links), but never the family.
    assert.ok(six.every((p) => (mode === "plan" || p.paths.length > 0) && p.paths.every((id) => set.paths.find((x) => x.id === id)!.families!.join() === "ipv6")), mode);
    assert.ok(six.some((p) => p.paths.length > 0), mode);
    if (mode === "plan") assert.ok(set.paths.every((p) => (p.rate ?? 0) > 0));
  }
});
