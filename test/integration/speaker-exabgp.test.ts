// The lab's BGP-LS speaker against the real ExaBGP, over 127.0.0.1 only: Debian's 4.2.21 and
// 5.0.13 (../shared/tools/exabgp5), each read in its own JSON dialect (DIFFERENCES.md §3).
//
// ExaBGP dials the speaker, feeds every API line to test/fixtures/recorder.mjs, which appends it
// to a file; the test reads that file. It checks that the NANOG 6-router topology arrives as 6
// nodes, 16 links and 6 prefixes with the right metrics, then a two-way link withdrawal, a metric
// change, a Cease (`"state": "down"`), ExaBGP's reconnection with the table replayed, and a clean
// ExaBGP shutdown. Skipped only when exabgp is not installed.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { exabgpPrograms, startExabgp, type ExabgpHandle, type ExabgpProgram } from "../lab/exabgp.js";
import { BgpLsSpeaker } from "../lab/speaker/speaker.js";
import { SHARED_DIR, sharedPath } from "../util/shared.js";
import { loadEdgeListFile, type LsTopology } from "../lab/speaker/topology.js";

const here = dirname(fileURLToPath(import.meta.url)); // dist/test/integration
const RECORDER = resolve(here, "../../../test/fixtures/recorder.mjs");
const NANOG6 = sharedPath("topologies/nanog6.json");
const programs = exabgpPrograms(SHARED_DIR);
const skip =
  programs.length === 0
    ? "exabgp is not installed (Debian package `exabgp`; looked in /usr/sbin, /usr/bin and PATH)"
    : !existsSync(NANOG6)
      ? `reference topology missing: ${NANOG6}`
      : false;

// ------------------------------------------------------------------------------------------------
// Reading what ExaBGP wrote to the API process
// ------------------------------------------------------------------------------------------------

type Json = any; // ExaBGP's JSON, checked field by field below

interface Seen {
  /** Every line, in order. */
  lines: string[];
  /** Parsed JSON lines (line index kept), and the lines that were not valid JSON. */
  json: Array<{ i: number; v: Json }>;
  invalid: string[];
}

function read(path: string): Seen {
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  const lines = text.split("\n").filter((l) => l.length > 0);
  const json: Seen["json"] = [];
  const invalid: string[] = [];
  lines.forEach((l, i) => {
    try {
      json.push({ i, v: JSON.parse(l) });
    } catch {
      invalid.push(l);
    }
  });
  return { lines, json, invalid };
}

interface Nlri {
  nlri: Json;
  /** `attribute` of the UPDATE that carried it (announcements only). */
  attr?: Json;
  nexthop?: string;
  /** Index of the JSON line. */
  at: number;
}

function announced(s: Seen, from = 0): Nlri[] {
  const out: Nlri[] = [];
  for (const { i, v } of s.json) {
    const u = v?.neighbor?.message?.update;
    if (i < from || u?.announce === undefined) continue;
    for (const [nexthop, list] of Object.entries(u.announce["bgp-ls bgp-ls"] ?? {})) {
      for (const nlri of list as Json[]) out.push({ nlri, attr: u.attribute, nexthop, at: i });
    }
  }
  return out;
}

function withdrawn(s: Seen, from = 0): Nlri[] {
  const out: Nlri[] = [];
  for (const { i, v } of s.json) {
    const u = v?.neighbor?.message?.update;
    if (i < from || u?.withdraw === undefined) continue;
    for (const nlri of u.withdraw["bgp-ls bgp-ls"] ?? []) out.push({ nlri, at: i });
  }
  return out;
}

/** Node descriptors: an object in 4.2, a list of one-key objects in 5.0. */
const descriptors = (d: Json): Json => (Array.isArray(d) ? Object.assign({}, ...d) : d);
/** A link's interface or neighbor addresses: one-key objects in 4.2, lists in 5.0. */
function linkAddresses(nlri: Json, kind: "interface" | "neighbor"): string[] {
  const five = nlri[`${kind}-addresses`];
  if (five !== undefined) return five;
  const four = nlri[`${kind}-address`];
  return four === undefined ? [] : [four[`${kind}-address`]];
}

const isEor = (v: Json) => v?.neighbor?.message?.eor?.afi === "bgp-ls";
const isState = (v: Json, state: string) => v?.type === "state" && v?.neighbor?.state === state;
const byType = (list: Nlri[], type: string) => list.filter((n) => n.nlri["ls-nlri-type"] === type);

async function waitFor<T>(path: string, probe: (s: Seen) => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = probe(read(path));
    if (got !== undefined && got !== false) return got;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Line index of the n-th (1-based) line matching, or undefined. */
function nth(s: Seen, pred: (v: Json) => boolean, n: number): number | undefined {
  return s.json.filter(({ v }) => pred(v))[n - 1]?.i;
}

// ------------------------------------------------------------------------------------------------
// Expectations from the model
// ------------------------------------------------------------------------------------------------

function checkTable(topo: LsTopology, list: Nlri[], metricOf: (from: string, to: string) => number, absent: Array<[string, string]> = []): void {
  const sys = new Map(topo.routers.map((r) => [r.name, r.systemId]));
  const nodes = byType(list, "bgpls-node");
  const links = byType(list, "bgpls-link");
  const prefixes = byType(list, "bgpls-prefix-v4");
  const expectedLinks = topo.links.filter((l) => !absent.some(([a, b]) => l.from === a && l.to === b));

  assert.equal(nodes.length, topo.routers.length, "bgpls-node count");
  assert.equal(links.length, expectedLinks.length, "bgpls-link count");
  assert.equal(prefixes.length, topo.prefixes.length, "bgpls-prefix-v4 count");

  for (const r of topo.routers) {
    const n = nodes.find((x) => descriptors(x.nlri["node-descriptors"])["router-id"] === r.systemId);
    assert.ok(n, `node ${r.name}`);
    assert.equal(n.nlri["protocol-id"], 2);
    assert.equal(descriptors(n.nlri["node-descriptors"])["autonomous-system"], 65001);
    assert.equal(n.nexthop, "198.18.255.1");
    assert.equal(n.attr["bgp-ls"]["node-name"], r.name);
    assert.deepEqual(n.attr["bgp-ls"]["local-te-router-ids"], [r.routerId]);
    assert.equal(n.attr["bgp-ls"]["node-flags"].O, 0);
  }
  for (const l of expectedLinks) {
    const j = links.find(
      (x) =>
        descriptors(x.nlri["local-node-descriptors"])["router-id"] === sys.get(l.from) &&
        descriptors(x.nlri["remote-node-descriptors"])["router-id"] === sys.get(l.to),
    );
    assert.ok(j, `link ${l.from}->${l.to}`);
    assert.deepEqual(linkAddresses(j.nlri, "interface"), [l.localAddress]);
    assert.deepEqual(linkAddresses(j.nlri, "neighbor"), [l.remoteAddress]);
    assert.equal(j.attr["bgp-ls"]["igp-metric"], metricOf(l.from, l.to), `igp-metric ${l.from}->${l.to}`);
    assert.equal(j.attr["bgp-ls"]["remote-te-router-id"], topo.routers.find((r) => r.name === l.to)!.routerId);
  }
  for (const p of topo.prefixes) {
    const j = prefixes.find((x) => x.nlri["ip-reach-prefix"] === p.prefix);
    assert.ok(j, `prefix ${p.prefix}`);
    assert.equal(descriptors(j.nlri["node-descriptors"])["router-id"], sys.get(p.router));
    assert.equal(j.attr["bgp-ls"]["prefix-metric"], p.metric);
  }
}

// ------------------------------------------------------------------------------------------------
// The test
// ------------------------------------------------------------------------------------------------

for (const exabgp of programs.length > 0 ? programs : [undefined])
  test(`BGP-LS speaker -> real ExaBGP ${exabgp ? `${exabgp.version} ` : ""}-> API JSON: announce, withdraw, metric change, Cease, reconnect`, { skip, timeout: 120_000 }, (t) => run(t, exabgp!));

async function run(t: { after(f: () => Promise<void>): void; diagnostic(m: string): void }, exabgp: ExabgpProgram): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "lsprobe-speaker-it-"));
  const api = join(dir, "api.ndjson");
  const debug = process.env.LSPROBE_LAB_DEBUG ? (m: string) => process.stderr.write(`speaker: ${m}\n`) : undefined;
  const sp = new BgpLsSpeaker({ asn: 65001, routerId: "198.18.255.1", holdTime: 30, nextHop: "198.18.255.1", peerAsn: 65000, log: debug });
  let ex: ExabgpHandle | undefined;
  t.after(async () => {
    await ex?.stop(); // first, so that ExaBGP stops redialling
    await sp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  try {
    const port = await sp.listen(0, "127.0.0.1");
    ex = await startExabgp({ peerPort: port, processCommand: [process.execPath, RECORDER, api], exabgpPath: exabgp.path, exabgpVersion: exabgp.version });
    await sp.established(30_000);
    const topo = loadEdgeListFile(NANOG6);

    // 1. The whole table, then End-of-RIB.
    sp.announceTopology(topo);
    const eor1 = await waitFor(api, (s) => nth(s, isEor, 1), "the first End-of-RIB");
    let s = read(api);
    assert.deepEqual(s.invalid, [], "every line is valid JSON");
    const connected = nth(s, (v) => isState(v, "connected"), 1);
    const up = nth(s, (v) => isState(v, "up"), 1);
    assert.ok(connected !== undefined && up !== undefined && connected < up && up < eor1, "connected, then up, then the table");
    const table = announced(s).filter((n) => n.at < eor1);
    checkTable(topo, table, () => 10);
    assert.equal(table.length, 6 + 16 + 6);

    // 2. Withdraw r2-r4: two link withdrawals (both directions), nothing else.
    sp.withdrawLink(topo, "r2", "r4");
    const wd = await waitFor(api, (s2) => { const w = withdrawn(s2, eor1); return w.length >= 2 && w; }, "the r2-r4 withdrawals");
    assert.equal(wd.length, 2);
    const pairs = wd.map((w) => [w.nlri["ls-nlri-type"], descriptors(w.nlri["local-node-descriptors"])["router-id"], descriptors(w.nlri["remote-node-descriptors"])["router-id"]]);
    assert.deepEqual(pairs.sort(), [
      ["bgpls-link", "198000000002", "198000000004"],
      ["bgpls-link", "198000000004", "198000000002"],
    ]);

    // 3. r3-r5 to metric 30: both directions re-announced.
    const mark = read(api).lines.length;
    sp.setLinkMetric(topo, "r3", "r5", 30);
    const changed = await waitFor(api, (s2) => { const a = announced(s2, mark); return a.length >= 2 && a; }, "the r3-r5 metric change");
    assert.deepEqual(changed.map((c) => c.attr["bgp-ls"]["igp-metric"]), [30, 30]);

    // 4. Cease: ExaBGP reports the session down with the NOTIFICATION it received.
    await sp.closeSession();
    const down = await waitFor(api, (s2) => nth(s2, (v) => isState(v, "down"), 1), '"state": "down"');
    s = read(api);
    assert.match(s.lines[down], /"state": "down"/);
    assert.match(s.json.find((j) => j.i === down)!.v.neighbor.reason, /notification received \(6,2\)/);

    // 5. ExaBGP redials; the speaker replays its Adj-RIB-Out (without r2-r4, with r3-r5 at 30) + EoR.
    await sp.established(30_000);
    const eor2 = await waitFor(api, (s2) => nth(s2, isEor, 2), "the End-of-RIB after the reconnection");
    s = read(api);
    assert.ok(nth(s, (v) => isState(v, "up"), 2)! > down, "second session up after the down");
    const metric = (a: string, b: string) => ((a === "r3" && b === "r5") || (a === "r5" && b === "r3") ? 30 : 10);
    checkTable(topo, announced(s, down).filter((n) => n.at < eor2), metric, [["r2", "r4"], ["r4", "r2"]]);

    // 6. Clean shutdown: exit 0, the API process got ExaBGP's "shutdown" line.
    assert.equal(await ex.stop(), 0);
    s = read(api);
    assert.ok(s.json.some(({ v }) => v.type === "notification" && v.notification === "shutdown"), "shutdown line");
    assert.deepEqual(s.invalid, [], "every line is valid JSON");
  } catch (err) {
    t.diagnostic(`exabgp log (tail):\n${(ex?.logs() ?? "(not started)").slice(-8000)}`);
    t.diagnostic(`api lines (last 40, cut at 400 characters):\n${read(api).lines.slice(-40).map((l) => l.slice(0, 400)).join("\n")}`);
    throw err;
  }
}
