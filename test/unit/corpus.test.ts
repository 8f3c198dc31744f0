// Every real ExaBGP sample of ../shared/corpus/exabgp decodes, and what it carries survives.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { decodeLine, type ExaEvent } from "../../plugin/exabgp/decode.js";
import type { LinkAttr } from "../../plugin/bgpls/link.js";
import type { NodeAttr } from "../../plugin/bgpls/node.js";
import type { LsObject } from "../../plugin/bgpls/nlri.js";
import { Lsdb } from "../../plugin/lsdb.js";
import { buildTopologySteps } from "../../plugin/topology.js";
import { drain } from "../../plugin/slice.js";
import { pathToFileURL } from "node:url";
import { sharedPath } from "../util/shared.js";

const CORPUS = pathToFileURL(sharedPath("corpus/exabgp/samples") + "/");
const read = (rel: string): string[] => readFileSync(new URL(rel, CORPUS), "utf8").split("\n").filter((l) => l.length > 0);
const events = (rel: string): ExaEvent[] =>
  read(rel).map((l) => {
    const r = decodeLine(l);
    assert.ok(r.ok, `${rel}: ${r.ok ? "" : r.reason}`);
    return r.event;
  });
const update = (rel: string): Extract<ExaEvent, { kind: "update" }> => {
  const u = events(rel).find((e) => e.kind === "update");
  assert.ok(u && u.kind === "update", `${rel} has an update`);
  return u;
};

const files = [
  ...readdirSync(CORPUS).filter((f) => f.endsWith(".json") && !["catalog.json", "results.json"].includes(f)),
  ...readdirSync(new URL("edge/", CORPUS)).filter((f) => f.endsWith(".json") && !["catalog.json", "results.json"].includes(f)).map((f) => `edge/${f}`),
  ...readdirSync(new URL("streams/", CORPUS)).map((f) => `streams/${f}`),
  ...readdirSync(new URL("edge/streams/", CORPUS)).map((f) => `edge/streams/${f}`),
];

test("corpus: the samples are there", () => assert.ok(files.length >= 90, `${files.length} files`));

for (const f of files) {
  test(`corpus: ${f} decodes without loss`, () => {
    for (const e of events(f)) {
      if (e.kind === "update") {
        for (const p of e.problems) assert.equal(p.kind, "unknown-nlri-type", `${f}: ${p.detail}`);
        for (const a of [...e.announce.map((x) => x.nlri), ...e.withdraw]) assert.ok(a.key.length > 0);
      }
    }
  });
}

const linkAttr = (rel: string, i = 0): LinkAttr => update(rel).announce[i].attr as LinkAttr;
const nodeAttr = (rel: string): NodeAttr => update(rel).announce[0].attr as NodeAttr;

test("corpus: both Adj-SIDs of a Junos link survive the duplicate keys (qa05)", () => {
  const a = linkAttr("qa05-junos-isis-link-te-2adjsid.json");
  assert.deepEqual(a.adj.map((s) => s.sid), [299792, 299776]);
  assert.equal(a.igpMetric, 10);
  assert.equal(a.teMetric, 20);
});

test("corpus: LAN Adj-SIDs survive (pr738)", () => assert.equal(linkAttr("pr738-junos174-isis-lan-adjsid.json").adj.length, 2));

test("corpus: three cumulative TE router ids give three ids (qa07)", () => assert.equal(nodeAttr("qa07-nokia-isis-node-3terids.json").teRouterIds.length, 3));

test("corpus: dual-stack link keeps IPv4 and IPv6 addresses (e03)", () => {
  const l = update("edge/e03-link-dual-stack.json").announce[0].nlri;
  assert.equal(l.kind, "link");
  if (l.kind === "link") {
    assert.equal(l.interfaceAddresses.length, 2);
    assert.equal(l.neighborAddresses.length, 2);
  }
});

test("corpus: overload flag is read (e04)", () => assert.equal(nodeAttr("edge/e04-node-overload.json").overload, true));

test("corpus: node name with a quote is repaired, not lost (e15)", () => {
  const r = decodeLine(read("edge/e15-node-name-with-quote.json")[0]);
  assert.ok(r.ok && r.repaired);
  assert.equal(nodeAttr("edge/e15-node-name-with-quote.json").name, 'r"1');
});

test("corpus: link with a link-name TLV is repaired, the link kept, the garbage name dropped (e09)", () => {
  const a = linkAttr("edge/e09-link-name.json");
  assert.equal(a.igpMetric, 10);
  assert.equal(a.name, undefined);
  assert.deepEqual(a.adj.map((s) => s.sid), [25002, 25003]);
});

test("corpus: SRv6 SID NLRI (type 6) is reported as unknown type, not an error (e16)", () => {
  assert.deepEqual(update("edge/e16-srv6-sid-nlri-type6.json").problems, [{ kind: "unknown-nlri-type", detail: "6" }]);
});

test("corpus: the refresh message (always invalid JSON) is recognised", () => {
  const line = `{ "exabgp": "4.0.1", "time": 1.0, "host" : "vm", "pid" : 1, "ppid" : 1, "counter": 7, "type": "refresh", "neighbor": { "address": { "local": "127.0.0.1", "peer": "127.0.0.1" }, "asn": { "local": 65000, "peer": 65001 } , "direction": "receive", "route-refresh": { "afi": ""bgp-ls"", "safi": ""bgp-ls"", "subtype": ""query"" } } }`;
  const r = decodeLine(line);
  assert.ok(r.ok && r.event.kind === "ignored" && r.event.type === "refresh");
});

const withdrawPairs: Array<[string, string]> = [
  ["i653-junos172-isis-node-srcap.json", "wd-i653-junos-node.json"],
  ["qa02-ospf-link-to-dr.json", "wd-qa02-ospf-link.json"],
  ["i1074-ospf-prefix-intra.json", "wd-i1074-ospf-prefix.json"],
  ["pr837-uninett-isis-prefix-v6.json", "wd-pr837-isis-prefix-v6.json"],
];
for (const [ann, wd] of withdrawPairs) {
  test(`corpus: withdraw ${wd} matches the announcement's identity ("nexthop": "None" ignored)`, () => {
    const db = new Lsdb();
    for (const a of update(ann).announce) db.announce("p", a.nlri, a.attr);
    assert.equal(db.entries.size, 1);
    for (const w of update(wd).withdraw) db.withdraw("p", w);
    assert.equal(db.entries.size, 0);
  });
}

test("corpus: ExaBGP 4.2, 5.0.8 and 5.0.13 streams of one session give the same NLRI identities", () => {
  const keys = (rel: string): string[] => {
    const out: string[] = [];
    for (const e of events(rel)) if (e.kind === "update") out.push(...e.announce.map((a) => a.nlri.key), ...e.withdraw.map((w: LsObject) => w.key));
    return out;
  };
  const k42 = keys("streams/session-mixed.txt");
  assert.ok(k42.length > 10);
  assert.deepEqual(keys("streams/session-mixed.exabgp-5.0.8.txt"), k42);
  assert.deepEqual(keys("streams/session-mixed.exabgp-5.0.13.txt"), k42);
});

test("corpus: IS-IS pseudonode and OSPF DR links land on pseudonodes (pr564, i823, qa02)", () => {
  for (const f of ["pr564-isis-link-to-pseudonode.json", "i823-isis-l1-link-to-pseudonode.json", "qa02-ospf-link-to-dr.json"]) {
    const db = new Lsdb();
    for (const a of update(f).announce) db.announce("p", a.nlri, a.attr);
    const topo = drain(buildTopologySteps(db.entries.values()));
    assert.ok([...topo.nodes.values()].some((n) => n.pseudo), f);
  }
});
