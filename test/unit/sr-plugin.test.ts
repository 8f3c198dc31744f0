// Segment routing in the plugin (issue 15, Must 1): Adj-SIDs and LAN Adj-SIDs with flags and
// weight, SRv6 End.X and LAN End.X SIDs with behavior, flags and algorithm, decoded from both
// ExaBGP dialects, kept per directed adjacency, and published per hop in path set version 4
// with the SID a probe uses (the unprotected one) or why there is none.
//
// Inputs are real: ../shared/corpus/exabgp/samples (ExaBGP 4.2.21's lines for real routers'
// bytes) and test/fixtures/exabgp5 (what ExaBGP 5.0.13 printed for the same bytes, for SRv6
// samples 4.2.21 cannot take, and for the lab speaker's NANOG 6 with segment routing:
// generate.mjs there).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { decodeLine, type ExaEvent } from "../../plugin/exabgp/decode.js";
import type { LinkAttr } from "../../plugin/bgpls/link.js";
import { ADJ_FLAG, chooseAdjSid, chooseEndX, ENDX_FLAG, type AdjSid, type EndXSid } from "../../plugin/bgpls/sr.js";
import { Lsdb } from "../../plugin/lsdb.js";
import { buildPathSetSteps, PathComputer, topologySteps, type PathQuery } from "../../plugin/paths.js";
import { drain } from "../../plugin/slice.js";
import { ExabgpLines, lineTopology } from "../util/exabgp-lines.js";
import { parsePathSet, PathSetError, PATHSET_VERSION, type Path, type PathSet } from "../../shared/pathset.js";
import { parseConfig, ConfigError } from "../../shared/config.js";
import { sharedPath } from "../util/shared.js";

const CORPUS = pathToFileURL(sharedPath("corpus/exabgp/samples") + "/");
const FIX5 = new URL("../../../test/fixtures/exabgp5/", import.meta.url);
const linesOf = (url: URL): string[] => readFileSync(url, "utf8").split("\n").filter((l) => l.length > 0);
const corpus = (rel: string): string[] => linesOf(new URL(rel, CORPUS));
const five = (name: string): string[] => linesOf(new URL(name, FIX5));

type Update = Extract<ExaEvent, { kind: "update" }>;
function updates(lines: string[]): Update[] {
  const out: Update[] = [];
  for (const l of lines) {
    const r = decodeLine(l);
    assert.ok(r.ok, r.ok ? "" : r.reason);
    if (r.event.kind === "update") out.push(r.event);
  }
  return out;
}
const attrOf = (lines: string[]): LinkAttr => updates(lines)[0].announce[0].attr as LinkAttr;
const F = ADJ_FLAG;
const adj = (sid: number, flags: number, extra: Partial<AdjSid> = {}): AdjSid => ({ lan: false, sid, flags, weight: 0, neighbor: undefined, ...extra });

// ---- decode, by table: both dialects of the same bytes give the same SIDs ----

const decodeRows: Record<string, { lines: () => string[]; adj?: AdjSid[]; endX?: Array<Partial<EndXSid>> }> = {
  "4.2.21, two Adj-SIDs as duplicate key groups (Junos, qa05)": {
    lines: () => corpus("qa05-junos-isis-link-te-2adjsid.json"),
    adj: [adj(299792, F.V | F.L), adj(299776, F.B | F.V | F.L)],
  },
  "5.0.13, the same two as repeated sr-adj objects (qa05)": {
    lines: () => five("qa05-junos-isis-link-te-2adjsid.json"),
    adj: [adj(299792, F.V | F.L), adj(299776, F.B | F.V | F.L)],
  },
  "4.2.21, protected and unprotected (Cisco, yabgp)": {
    lines: () => corpus("yabgp-cisco-isis-link-2adjsid.json"),
    adj: [adj(25002, F.B | F.V | F.L), adj(25003, F.V | F.L)],
  },
  "5.0.13, the same (yabgp)": {
    lines: () => five("yabgp-cisco-isis-link-2adjsid.json"),
    adj: [adj(25002, F.B | F.V | F.L), adj(25003, F.V | F.L)],
  },
  "4.2.21, LAN Adj-SIDs: no neighbor id printed (Junos 17.4, pr738)": {
    lines: () => corpus("pr738-junos174-isis-lan-adjsid.json"),
    adj: [adj(61907, F.B | F.V | F.L, { lan: true }), adj(61928, F.V | F.L, { lan: true })],
  },
  "5.0.13, LAN Adj-SIDs with the neighbor's system id (pr738)": {
    lines: () => five("pr738-junos174-isis-lan-adjsid.json"),
    adj: [adj(61907, F.B | F.V | F.L, { lan: true, neighbor: "197155094120" }), adj(61928, F.V | F.L, { lan: true, neighbor: "197155094120" })],
  },
  "5.0.13, six SRv6 End.X SIDs: algorithms 0, 129, 130, protected and not (qa06)": {
    lines: () => five("qa06-srv6-link-ipv6-nexthop.json"),
    endX: [
      { sid: "fc00:1000:112:e002::", behavior: 57, flags: ENDX_FLAG.B, algorithm: 0, lan: false },
      { sid: "fc00:1000:112:e003::", behavior: 57, flags: 0, algorithm: 0, lan: false },
      { sid: "fc00:1001:112:e002::", behavior: 57, flags: ENDX_FLAG.B, algorithm: 129 },
      { sid: "fc00:1001:112:e003::", behavior: 57, flags: 0, algorithm: 129 },
      { sid: "fc00:1003:112:e002::", behavior: 57, flags: ENDX_FLAG.B, algorithm: 130 },
      { sid: "fc00:1003:112:e003::", behavior: 57, flags: 0, algorithm: 130 },
    ],
  },
  "5.0.13, SRv6 LAN End.X SIDs with their neighbor (qa10)": {
    lines: () => five("qa10-srv6-lan-endx-ipv6-nexthop.json"),
    endX: [
      { sid: "fc30:2200:d:e002::", flags: ENDX_FLAG.B, algorithm: 0, lan: true, neighbor: "000000000014" },
      { sid: "fc30:2200:d:e003::", flags: 0, algorithm: 0, lan: true, neighbor: "000000000014" },
      { sid: "fc30:2201:d:e006::", flags: ENDX_FLAG.B, algorithm: 128, lan: true, neighbor: "000000000014" },
      { sid: "fc30:2201:d:e007::", flags: 0, algorithm: 128, lan: true, neighbor: "000000000014" },
    ],
  },
  "5.0.13, the lab speaker's Adj-SIDs and End.X SIDs (nanog6-sr, r1->r2)": {
    lines: () => five("nanog6-sr.ndjson").filter((l) => l.includes('"bgpls-link"')).slice(0, 1),
    adj: [adj(24000, F.V | F.L), adj(24000 + 0x8000, F.B | F.V | F.L)],
    endX: [
      { sid: "2001:2:0:8001::f:0", behavior: 5, flags: ENDX_FLAG.B, algorithm: 0 },
      { sid: "2001:2:0:8001::e:0", behavior: 5, flags: 0, algorithm: 0 },
    ],
  },
};

for (const [name, row] of Object.entries(decodeRows)) {
  test(`sr decode: ${name}`, () => {
    const a = attrOf(row.lines());
    if (row.adj) assert.deepEqual(a.adj, row.adj);
    else assert.deepEqual(a.adj, []);
    if (row.endX) {
      assert.equal(a.endX.length, row.endX.length);
      row.endX.forEach((want, i) => assert.deepEqual({ ...a.endX[i], ...want }, a.endX[i], `End.X ${i}`));
    } else assert.deepEqual(a.endX, []);
  });
}

test("sr decode: OSPF Adj-SID flags are mapped back from ExaBGP's IS-IS labels, the label read from undecoded-sids", () => {
  // OSPF B V L G P = 0x80 0x40 0x20 0x10 0x08; ExaBGP prints them as F B V L S: an OSPF label
  // (V L = ExaBGP's B V) is undecoded hex.
  const line = `{ "exabgp": "4.0.1", "time": 1, "host" : "vm", "pid" : 1, "ppid" : 1, "counter": 1, "type": "update", "neighbor": { "address": { "local": "127.0.0.1", "peer": "127.0.0.1" }, "asn": { "local": 65000, "peer": 65001 } , "direction": "receive", "message": { "update": { "attribute": { "origin": "igp", "bgp-ls": { "igp-metric": 1, "sr-adj-flags": {"F": 0, "B": 1, "V": 1, "L": 0, "S": 1, "P": 0, "RSV": 0}, "sids": [], "undecoded-sids": ["0x005DC1"], "sr-adj-weight": 3 } }, "announce": { "bgp-ls bgp-ls": { "198.18.254.1": [ { "ls-nlri-type": "bgpls-link", "l3-routing-topology": 0, "protocol-id": 3, "local-node-descriptors": { "autonomous-system": 65001, "ospf-area-id": "0.0.0.0", "router-id": "198.19.0.1" }, "remote-node-descriptors": { "autonomous-system": 65001, "ospf-area-id": "0.0.0.0", "router-id": "198.19.0.2" }, "interface-address": { "interface-address": "198.18.0.0" }, "neighbor-address": { "neighbor-address": "198.18.0.1" } } ] } } } } } }`;
  assert.deepEqual(attrOf([line]).adj, [adj(0x5dc1, F.V | F.L | F.P, { weight: 3 })]);
});

// ---- which SID a probe uses, by table ----

const chooseRows: Record<string, { sids: AdjSid[]; ctx?: Parameters<typeof chooseAdjSid>[1]; want: number | RegExp }> = {
  "two Adj-SIDs on one adjacency: the unprotected one (qa05's labels)": { sids: [adj(299776, F.B | F.V | F.L), adj(299792, F.V | F.L)], want: 299792 },
  "unprotected first or last, the same": { sids: [adj(299792, F.V | F.L), adj(299776, F.B | F.V | F.L)], want: 299792 },
  "persistent preferred among unprotected": { sids: [adj(100, F.V | F.L), adj(101, F.V | F.L | F.P), adj(102, F.B | F.V | F.L | F.P)], want: 101 },
  "the probe's family preferred (F set: IPv6 adjacency)": { sids: [adj(200, F.V | F.L), adj(201, F.F | F.V | F.L)], ctx: { algorithm: 0, family: "ipv6" }, want: 201 },
  "the other family's when it is all there is": { sids: [adj(200, F.V | F.L)], ctx: { algorithm: 0, family: "ipv6" }, want: 200 },
  "only protected: none, fast reroute would hide the failure": { sids: [adj(1, F.B | F.V | F.L)], want: /only protected Adj-SIDs/ },
  "only an index: none": { sids: [adj(5, 0)], want: /only index Adj-SIDs/ },
  "only a set (S): none": { sids: [adj(7, F.V | F.L | F.S)], want: /sets of adjacencies/ },
  "none advertised": { sids: [], want: /no Adj-SID advertised/ },
  "LAN: the one naming the far router": {
    sids: [adj(10, F.V | F.L, { lan: true, neighbor: "198000000003" }), adj(11, F.V | F.L, { lan: true, neighbor: "198000000002" })],
    ctx: { algorithm: 0, lanNeighbor: "198000000002" },
    want: 11,
  },
  "LAN without neighbor ids (4.2.21): none, and why": { sids: [adj(61928, F.V | F.L, { lan: true })], ctx: { algorithm: 0, lanNeighbor: "197155094120" }, want: /ExaBGP 4.2 does not print it/ },
};

for (const [name, row] of Object.entries(chooseRows)) {
  test(`sr choose Adj-SID: ${name}`, () => {
    const c = chooseAdjSid(row.sids, row.ctx ?? { algorithm: 0 });
    if (typeof row.want === "number") assert.equal(typeof c === "string" ? c : c.sid, row.want);
    else assert.match(c as string, row.want);
  });
}

test("sr choose End.X: qa06's unprotected SID of each algorithm; none of an algorithm not advertised; LAN by neighbor (qa10)", () => {
  const endX = attrOf(five("qa06-srv6-link-ipv6-nexthop.json")).endX;
  const pick = (algorithm: number): string => {
    const c = chooseEndX(endX, { algorithm });
    return typeof c === "string" ? c : c.sid;
  };
  assert.equal(pick(0), "fc00:1000:112:e003::");
  assert.equal(pick(129), "fc00:1001:112:e003::");
  assert.equal(pick(130), "fc00:1003:112:e003::");
  assert.match(pick(128), /no End.X SID of algorithm 128 \(advertised: 0, 129, 130\)/);
  const lan = attrOf(five("qa10-srv6-lan-endx-ipv6-nexthop.json")).endX;
  const c = chooseEndX(lan, { algorithm: 0, lanNeighbor: "000000000014" });
  assert.equal(typeof c === "string" ? c : c.sid, "fc30:2200:d:e003::");
  assert.match(chooseEndX(lan, { algorithm: 0, lanNeighbor: "000000000015" }) as string, /no SRv6 LAN End.X SID for neighbor/);
  assert.match(chooseEndX(lan, { algorithm: 0 }) as string, /no SRv6 End.X SID advertised/);
  // A behavior that is no End.X (End.DT6, 18) is not used.
  assert.match(chooseEndX([{ lan: false, sid: "2001:2::1", behavior: 18, flags: 0, algorithm: 0, weight: 0 }], { algorithm: 0 }) as string, /no End.X SID with an End.X behavior \(advertised: 18\)/);
});

// ---- the path set: per hop, both ways, version 4 ----

const NANOG = { nodes: ["r1", "r2", "r3", "r4", "r5", "r6"], edges: [["r1", "r2"], ["r1", "r3"], ["r2", "r4"], ["r2", "r5"], ["r3", "r4"], ["r3", "r5"], ["r4", "r6"], ["r5", "r6"]] };

function lsdbOf(lines: string[]): Lsdb {
  const db = new Lsdb();
  for (const u of updates(lines)) {
    for (const a of u.announce) db.announce(u.peer, a.nlri, a.attr);
    for (const w of u.withdraw) db.withdraw(u.peer, w);
  }
  return db;
}

function pathSet(db: Lsdb, q: Partial<PathQuery> = {}, computer?: PathComputer): PathSet {
  const query: PathQuery = { pairs: [["r1", "r6"]], mode: "all", maxPerPair: 16, ...q };
  const topos = drain(topologySteps(() => db.entries.values(), query));
  const body = drain(computer ? computer.steps(topos, { peers: [], stale: false, prefixes: 0 }) : buildPathSetSteps(topos, query, { peers: [], stale: false, prefixes: 0 }));
  return parsePathSet(JSON.parse(JSON.stringify({ ...body, generation: 1, time: "2026-01-01T00:00:00Z" })));
}

const byHops = (ps: PathSet, hops: string): Path => {
  const p = ps.paths.find((x) => x.hops.map((h) => h.name).join(">") === hops);
  assert.ok(p, `no path ${hops}: ${ps.paths.map((x) => x.hops.map((h) => h.name).join(">")).join(", ")}`);
  return p;
};

test("sr path set: ExaBGP 5.0.13's NANOG 6 with SR: every path's SRv6 and SR-MPLS segments out and back, the unprotected SID of each hop", () => {
  const ps = pathSet(lsdbOf(five("nanog6-sr.ndjson")));
  assert.equal(ps.version, PATHSET_VERSION);
  assert.equal(PATHSET_VERSION, 5);
  assert.equal(ps.paths.length, 4);
  const p = byHops(ps, "r1>r2>r4>r6");
  assert.deepEqual(p.families, ["ipv4", "ipv6"]);
  const v6 = p.targets!.ipv6!;
  assert.equal(v6.srv6?.probeable, true, v6.srv6?.unprobeableReason);
  const walk = v6.srv6!.segments.map((s) => `${s.direction} ${s.node}->${s.to} ${s.sid}`);
  // Out r1->r2->r4->r6, back r6->r4->r2->r1; each SID its router's locator + ::e:k, k the
  // adjacency's index among the router's links (the protected ::f:k never used).
  const links = readFileSync(new URL("nanog6-sr.ndjson", FIX5), "utf8").split("\n").filter((l) => l.includes('"bgpls-link"'));
  assert.equal(links.length, 16);
  assert.deepEqual(walk, [
    "out r1->r2 2001:2:0:8001::e:0",
    "out r2->r4 2001:2:0:8002::e:1",
    "out r4->r6 2001:2:0:8004::e:2",
    "back r6->r4 2001:2:0:8006::e:0",
    "back r4->r2 2001:2:0:8004::e:0",
    "back r2->r1 2001:2:0:8002::e:0",
  ]);
  for (const s of v6.srv6!.segments) {
    assert.deepEqual(s.flags, { B: false, S: false, P: false });
    assert.equal(s.behavior, 5, "End.X, as the lab installs it");
    assert.equal(s.algorithm, 0);
  }
  for (const f of ["ipv4", "ipv6"] as const) {
    const m = p.targets![f]!.srMpls!;
    assert.equal(m.probeable, true, m.unprobeableReason);
    assert.deepEqual(m.segments.map((s) => s.sid), [24000, 24001, 24002, 24000, 24000, 24000]);
    assert.ok(m.segments.every((s) => !s.flags.B && s.flags.V && s.flags.L));
    assert.equal(m.entry, f === "ipv4" ? "198.19.0.1" : "2001:2:0:ffff::1");
  }
  assert.equal(p.targets!.ipv4!.srv6, undefined, "SRv6 is in the ipv6 family only");
  // Every SID of both ends is listed on the link, flags and all.
  const l0 = p.links[0];
  assert.deepEqual(l0.adjSids?.map((a) => [a.sid, a.flags.B]), [[24000, false], [56768, true]]);
  assert.deepEqual(l0.reverseAdjSids?.map((a) => [a.sid, a.flags.B]), [[24000, false], [56768, true]]);
  assert.deepEqual(l0.endX?.map((e) => e.sid), ["2001:2:0:8001::f:0", "2001:2:0:8001::e:0"]);
  assert.deepEqual(l0.reverseEndX?.map((e) => e.sid), ["2001:2:0:8002::f:0", "2001:2:0:8002::e:0"]);
});

test("sr path set: 4.2.21 lines (Adj-SIDs only): SR-MPLS per hop with the unprotected label; SRv6 unprobeable, said why", () => {
  const topo = lineTopology(NANOG.nodes, NANOG.edges.map(([src, dst]) => ({ src, dst, metric: 10 })));
  const lines = new ExabgpLines(topo).fullTable();
  const ps = pathSet(lsdbOf(lines));
  for (const p of ps.paths) {
    const m = p.targets!.ipv4!.srMpls!;
    assert.equal(m.probeable, true, m.unprobeableReason);
    assert.equal(m.segments.length, 2 * p.links.length);
    // ExabgpLines: link i has labels 24000 + 2i (B clear) and 24001 + 2i (B set).
    assert.ok(m.segments.every((s) => s.sid % 2 === 0 && !s.flags.B), JSON.stringify(m.segments.map((s) => s.sid)));
    assert.deepEqual(m.segments.map((s) => s.direction), [...p.links.map(() => "out"), ...p.links.map(() => "back")]);
    assert.deepEqual(m.segments.map((s) => s.link), [...p.links.map((l) => l.id), ...[...p.links].reverse().map((l) => l.id)]);
  }
});

test("sr path set: a hop with only a protected Adj-SID makes SR-MPLS unprobeable for the paths across it (and only those), with the reason; tunnel layers stay", () => {
  const topo = lineTopology(NANOG.nodes, NANOG.edges.map(([src, dst]) => ({ src, dst, metric: 10 })));
  const gen = new ExabgpLines(topo, { adjSids: 2 });
  const lines = gen.fullTable();
  // r2->r4 re-announced with its protected SID only.
  const i = topo.links.findIndex((l) => l.from === "r2" && l.to === "r4");
  const prot = new ExabgpLines(topo, { adjSids: 2 }).announceLink(topo.links[i], 24000 + 2 * i).replace(/"sr-adj-flags": \{"F": 0, "B": 0[^}]*\}, "sids": \[\[\d+\]\], "undecoded-sids": \[\], "sr-adj-weight": 0, /, "");
  assert.ok(!prot.includes('"B": 0,'), prot);
  const db = lsdbOf([...lines, prot]);
  const computer = new PathComputer({ pairs: [["r1", "r6"]], mode: "all", maxPerPair: 16 });
  const ps = pathSet(db, {}, computer);
  for (const p of ps.paths) {
    const m = p.targets!.ipv4!.srMpls!;
    const across = p.hops.map((h) => h.name).join(">").includes("r2>r4");
    assert.equal(m.probeable, !across, p.hops.map((h) => h.name).join(">"));
    if (across) {
      assert.match(m.unprobeableReason!, /hop r2->r4: only protected Adj-SIDs/);
      assert.deepEqual(m.segments, []);
      assert.equal(p.targets!.ipv4!.probeable, true, "the GRE layers are untouched");
    }
  }
  // The unprotected SID back: the same computer's next run sees it (a SID change with no metric
  // change still recomputes the paths across the link).
  for (const u of updates([gen.announceLink(topo.links[i], 24000 + 2 * i)])) for (const a of u.announce) db.announce(u.peer, a.nlri, a.attr);
  const again = pathSet(db, {}, computer);
  assert.ok(again.paths.every((p) => p.targets!.ipv4!.srMpls!.probeable));
  assert.equal(computer.lastRun.full, undefined, "incremental");
  assert.ok(computer.lastRun.pairsRecomputed > 0);
});

test("sr path set: plugin.paths.sr-algorithm picks End.X SIDs of that algorithm; a network without any says so in one line", () => {
  const db = lsdbOf(five("nanog6-sr.ndjson"));
  const ps = pathSet(db, { srAlgorithm: 128 });
  const r = ps.paths[0].targets!.ipv6!.srv6!;
  assert.equal(r.probeable, false);
  assert.match(r.unprobeableReason!, /^hop r1->r\d: no End.X SID of algorithm 128 \(advertised: 0\)/);
  const plain = pathSet(lsdbOf(five("nanog6-st.ndjson")));
  assert.deepEqual(plain.paths[0].targets!.ipv6!.srv6, { segments: [], probeable: false, unprobeableReason: "no SRv6 End.X SID advertised on the path's links" });
  assert.deepEqual(plain.paths[0].targets!.ipv4!.srMpls, { segments: [], probeable: false, unprobeableReason: "no Adj-SID advertised on the path's links" });
  assert.equal(plain.paths[0].links[0].adjSids, undefined);
});

test("sr config: plugin.paths.sr-algorithm, 0 by default, 0..255", () => {
  const base = "plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  output:\n    file: /tmp/p.json\n";
  assert.equal(parseConfig(base, "c.yaml").plugin!.paths.srAlgorithm, 0);
  assert.equal(parseConfig(base + "  paths:\n    sr-algorithm: 128\n", "c.yaml").plugin!.paths.srAlgorithm, 128);
  assert.throws(() => parseConfig(base + "  paths:\n    sr-algorithm: 256\n", "c.yaml"), (e: unknown) => e instanceof ConfigError && /sr-algorithm: expected an integer from 0 to 255, got 256/.test(e.message));
});

// ---- parsePathSet: version 4's rules, older versions upgraded ----

test("sr pathset: versions 1-3 are upgraded with unprobeable SR targets; version 4's SR fields are checked", () => {
  const ps = pathSet(lsdbOf(five("nanog6-sr.ndjson")));
  const doc = JSON.parse(JSON.stringify(ps));
  // Version 3: the same document without its SR fields reads, SR unprobeable and why.
  const v3 = JSON.parse(JSON.stringify(doc));
  v3.version = 3;
  for (const p of v3.paths) {
    for (const l of p.links) for (const k of ["adjSids", "endX", "reverseAdjSids", "reverseEndX"]) delete l[k];
    for (const t of Object.values(p.targets) as Array<Record<string, unknown>>) (delete t.srMpls, delete t.srv6);
  }
  const up = parsePathSet(v3);
  assert.deepEqual(up.paths[0].targets!.ipv6!.srv6, { segments: [], probeable: false, unprobeableReason: "path set version 3 predates segment routing (version 4)" });
  assert.equal(up.paths[0].targets!.ipv4!.srMpls!.probeable, false);
  assert.equal(up.paths[0].targets!.ipv4!.srv6, undefined);
  const bad = (mutate: (d: any) => void, message: RegExp): void => {
    const d = JSON.parse(JSON.stringify(doc));
    mutate(d);
    assert.throws(() => parsePathSet(d), (e: unknown) => e instanceof PathSetError && message.test(e.message), String(message));
  };
  bad((d) => delete d.paths[0].targets.ipv4.srMpls, /paths\[0\]\.targets\.ipv4\.srMpls: expected an object/);
  bad((d) => d.paths[0].targets.ipv6.srv6.segments.pop(), /srv6\.segments: a probeable path needs one segment per link out and back \(6\), got 5/);
  bad((d) => (d.paths[0].targets.ipv6.srv6.segments[0].sid = "198.18.0.1"), /srv6\.segments\[0\]\.sid: expected an IPv6 address/);
  bad((d) => (d.paths[0].targets.ipv4.srMpls.segments[0].sid = 2 ** 21), /a label stack entry needs a 20-bit label/);
  bad((d) => (d.paths[0].targets.ipv4.srMpls.segments[0].direction = "sideways"), /direction: expected "out" or "back"/);
  bad((d) => (d.paths[0].targets.ipv4.srMpls.entry = "2001:2::1"), /srMpls\.entry: expected an IPv4 address/);
  bad((d) => (d.paths[0].targets.ipv4.srv6 = d.paths[0].targets.ipv6.srv6), /SRv6 targets belong to the ipv6 family only/);
  bad((d) => (d.paths[0].links[0].adjSids[0].flags.B = 1), /links\[0\]\.adjSids\[0\]\.flags\.B: expected true or false/);
  bad((d) => (d.paths[0].targets.ipv6.srv6 = { segments: [], probeable: false }), /srv6\.unprobeableReason: expected the reason/);
  bad((d) => (d.version = 6), /version 6 is newer than this reader understands \(5\)/);
});
