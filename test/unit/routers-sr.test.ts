// `lsprobe-plugin routers --encap sr-mpls --carrier udp|gre`: each probed path's first router
// terminates MPLS-in-UDP / MPLS-in-GRE to its entry address from the prober sources, for the
// NANOG 6 LSDB (two Adj-SIDs per adjacency), compared with snapshots in
// test/fixtures/routers/<vendor>-sr-mpls-<carrier>.txt (UPDATE_ROUTER_SNAPSHOTS=1 rewrites them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Lsdb } from "../../plugin/lsdb.js";
import { loadSnapshot } from "../../plugin/snapshot.js";
import { buildTopologySteps } from "../../plugin/topology.js";
import { buildPathSetSteps, directedPairs } from "../../plugin/paths.js";
import { drain } from "../../plugin/slice.js";
import { runRouters } from "../../plugin/routers/cli.js";
import { planSrMpls, renderSrMplsPlan } from "../../plugin/routers/sr-mpls.js";
import { VENDORS } from "../../plugin/routers/vendors.js";
import { linux } from "../../plugin/routers/linux.js";
import type { Path } from "../../shared/pathset.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/routers");
const SNAPSHOT = path.join(FIXTURES, "nanog6-lsdb.json");
const UPDATE = process.env.UPDATE_ROUTER_SNAPSHOTS === "1";
const SOURCES = ["192.0.2.1", "192.0.2.2"];
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?\b/g;

function run(config: string, argv: string[]): { code: number; out: string; err: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-routers-sr-"));
  try {
    const file = path.join(dir, "lsprobe.yaml");
    writeFileSync(file, config.replaceAll("@SNAPSHOT@", SNAPSHOT));
    let out = "";
    let err = "";
    const code = runRouters([...argv, "--config", file], { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
    return { code, out, err };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const config = (prober = "  router: r1\n"): string => `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  state-file: @SNAPSHOT@\nprober:\n  source: 192.0.2.1\n${prober}`;

/** The path set the plugin would publish for r1 <-> r6 from the stored snapshot. */
function nanog6(): { paths: Path[]; topo: ReturnType<typeof buildTopologySteps> extends Generator<unknown, infer T> ? T : never } {
  const db = new Lsdb();
  loadSnapshot(SNAPSHOT, db);
  const topo = drain(buildTopologySteps(db.entries.values(), "igp"));
  const body = drain(buildPathSetSteps(topo, { pairs: directedPairs([["r1", "r6"]]), mode: "all", maxPerPair: 64 }, { peers: [], stale: true, prefixes: 0 }));
  return { paths: body.paths, topo };
}

/** Entry addresses per first router, from the path set itself (prober.router: only its paths). */
function expectedEntries(router: string | null): Map<string, Set<string>> {
  const want = new Map<string, Set<string>>();
  for (const p of nanog6().paths) {
    if (router !== null && p.src !== router) continue;
    const m = p.targets?.ipv4?.srMpls;
    assert.ok(m?.probeable && m.entry !== undefined, `${p.id}: the NANOG 6 snapshot's paths all take SR-MPLS`);
    (want.get(p.src) ?? want.set(p.src, new Set()).get(p.src)!).add(m.entry);
  }
  return want;
}

const sectionsOf = (out: string): Map<string, string> => new Map(out.split(/^.*==== /m).slice(1).map((s) => [s.split(":")[0], s]));

for (const vendor of VENDORS.keys())
  for (const carrier of ["udp", "gre"] as const) {
    test(`routers --encap sr-mpls --carrier ${carrier}: ${vendor} matches ${vendor}-sr-mpls-${carrier}.txt; only the entry router and the prober sources appear`, () => {
      const r = run(config(), ["--vendor", vendor, "--encap", "sr-mpls", "--carrier", carrier, ...SOURCES.flatMap((s) => ["--source", s])]);
      assert.equal(r.code, 0, r.err);
      const file = path.join(FIXTURES, `${vendor}-sr-mpls-${carrier}.txt`);
      if (UPDATE || !existsSync(file)) writeFileSync(file, r.out);
      assert.equal(r.out, readFileSync(file, "utf8"));
      const entries = expectedEntries("r1");
      assert.deepEqual([...entries.keys()], ["r1"]);
      assert.deepEqual([...entries.get("r1")!], ["198.19.0.1"], "r1's TE router id");
      const sections = sectionsOf(r.out);
      assert.deepEqual([...sections.keys()], ["r1", "r2", "r3", "r4", "r5", "r6"]);
      for (const [router, s] of sections) {
        const named = new Set([...s.matchAll(IPV4)].map((m) => m[0].replace(/\/32$/, "")));
        const mine = [...(entries.get(router) ?? [])];
        if (mine.length === 0) {
          assert.match(s, /nothing to configure/, router);
          assert.deepEqual([...named], [], `${vendor} ${router}: names addresses but starts no path`);
          continue;
        }
        for (const a of named) assert.ok(mine.includes(a) || SOURCES.includes(a), `${vendor} ${router}: ${a} is neither its entry nor a prober source`);
        assert.doesNotMatch(s, /198\.18\./, `${vendor} ${router}: an interface address (tunnel targets are not SR-MPLS entries)`);
        if (vendor === "iosxr" || vendor === "sros") {
          assert.match(s, /WARNING: r1: .*nothing printed/, `${vendor}: says it prints nothing rather than guessing`);
          continue;
        }
        for (const a of [...mine, ...SOURCES]) assert.ok(named.has(a), `${vendor} ${router}: ${a} missing`);
        assert.match(s, carrier === "udp" ? /6635/ : /\bgre\b/, `${vendor}: the carrier`);
        if (carrier === "gre") assert.doesNotMatch(s, /6635/, vendor);
      }
    });
  }

test("routers --encap sr-mpls: the carrier's statements per vendor", () => {
  const out = (vendor: string, carrier: string): string => run(config(), ["--vendor", vendor, "--encap", "sr-mpls", "--carrier", carrier]).out;
  assert.match(out("junos", "udp"), /term lsprobe-accept from protocol udp\n.* term lsprobe-accept from destination-port 6635\n(?:.*\n){3}.* term lsprobe-accept then decapsulate mpls-in-udp\n/);
  assert.match(out("junos", "gre"), /term lsprobe-accept then decapsulate gre\n/);
  assert.match(out("eos", "udp"), /^ip decap-group type udp destination port 6635 payload mpls\nip decap-group lsprobe-sr-mpls\n {3}tunnel type udp\n {3}tunnel decap-ip 198\.19\.0\.1$/m);
  assert.match(out("eos", "udp"), /permit udp host 192\.0\.2\.1 host 198\.19\.0\.1 eq 6635/);
  assert.doesNotMatch(out("eos", "gre"), /type udp/);
  const l = out("linux", "udp");
  assert.match(l, /^ip fou add port 6635 ipproto 137$/m);
  assert.match(l, /^ip link add lspmpls0 type ipip mode mplsip remote 192\.0\.2\.1 local 198\.19\.0\.1$/m);
  assert.match(l, /^sysctl -w net\.mpls\.conf\.lspmpls0\.input=1$/m);
  assert.match(out("linux", "gre"), /^ip link add lspmpls0 type gre remote 192\.0\.2\.1 local 198\.19\.0\.1$/m);
  // The top label is the entry router's unprotected Adj-SID (B clear) for each first hop.
  const firsts = new Set(nanog6().paths.filter((p) => p.src === "r1").map((p) => p.targets!.ipv4!.srMpls!.segments[0]));
  for (const g of firsts) assert.equal(g.flags.B, false);
  const labels = [...new Set([...firsts].map((g) => g.sid))].sort((a, b) => a - b);
  assert.ok(l.includes(`# Top labels switched here: ${labels.map((x) => `${x} (to ${[...firsts].find((g) => g.sid === x)!.to})`).join(", ")}.`), l);
});

test("routers --encap sr-mpls without prober.router: every path's first router (r1 and r6) terminates its own entry", () => {
  const r = run(config(""), ["--vendor", "linux", "--encap", "sr-mpls"]);
  assert.equal(r.code, 0, r.err);
  const entries = expectedEntries(null);
  assert.deepEqual([...entries.keys()].sort(), ["r1", "r6"]);
  const sections = sectionsOf(r.out);
  for (const [router, s] of sections) {
    const mine = [...(entries.get(router) ?? [])];
    const named = new Set([...s.matchAll(IPV4)].map((m) => m[0]));
    assert.deepEqual([...named].sort(), mine.length ? [...mine, "192.0.2.1"].sort() : [], router);
  }
});

test("routers: prober.encap sr-mpls and prober.sr-mpls-carrier are the defaults; --encap gre|ipip picks the tunnel", () => {
  const sr = run(config("  router: r1\n  encap: sr-mpls\n  sr-mpls-carrier: gre\n"), ["--vendor", "eos"]);
  assert.equal(sr.code, 0, sr.err);
  assert.match(sr.out, /--encap sr-mpls --carrier gre:/);
  assert.match(sr.out, /^ {3}tunnel type gre$/m);
  const tunnel = run(config("  router: r1\n  encap: sr-mpls\n"), ["--vendor", "linux", "--encap", "ipip"]);
  assert.equal(tunnel.code, 0, tunnel.err);
  assert.match(tunnel.out, /^# ==== r2: \d+ target\(s\), IP-in-IP$/m);
  assert.match(run(config(), ["--vendor", "linux"]).out, /^# ==== r2: \d+ target\(s\), GRE$/m);
});

test("routers: bad --encap / --carrier are usage errors; --help shows them", () => {
  const cases: Record<string, { argv: string[]; err: RegExp }> = {
    "bad encap": { argv: ["--vendor", "eos", "--encap", "srv6"], err: /--encap "srv6": expected gre, ipip or sr-mpls \(see --help\)/ },
    "bad carrier": { argv: ["--vendor", "eos", "--encap", "sr-mpls", "--carrier", "ip"], err: /--carrier "ip": expected udp or gre \(see --help\)/ },
    "carrier without sr-mpls": { argv: ["--vendor", "eos", "--carrier", "udp"], err: /--carrier is for --encap sr-mpls/ },
  };
  for (const [name, c] of Object.entries(cases)) {
    const r = run(config(), c.argv);
    assert.equal(r.code, 2, name);
    assert.match(r.err, c.err, name);
    assert.equal(r.out, "", name);
  }
  let out = "";
  assert.equal(runRouters(["--help"], { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => {} } }), 0);
  assert.match(out, /\[--encap gre\|ipip\|sr-mpls\] \[--carrier udp\|gre\]/);
  assert.match(out, /--carrier CARRIER/);
});

test("routers --encap sr-mpls: paths that cannot take it are named as falling back; IPv6 entries are warned about", () => {
  const { paths, topo } = nanog6();
  const r1 = paths.filter((p) => p.src === "r1");
  const broken = r1.map((p, i): Path => {
    const t = p.targets!.ipv4!;
    if (i === 0) return { ...p, targets: { ipv4: { ...t, srMpls: { segments: [], probeable: false, unprobeableReason: "r4 advertises no Adj-SID toward r6" } } } };
    if (i === 1) return { ...p, targets: { ipv4: { ...t, srMpls: { ...t.srMpls!, segments: t.srMpls!.segments.map((g, k) => (k === 2 ? { ...g, flags: { ...g.flags, V: false, L: false } } : g)) } } } };
    return p;
  });
  const plan = planSrMpls({ paths: broken, topology: topo, sources: ["192.0.2.1"], carrier: "udp", router: "r1" });
  assert.equal(plan.probed, r1.length - 2);
  assert.equal(plan.notes.length, 1);
  assert.match(plan.notes[0], /^2 probed path\(s\) cannot take SR-MPLS and fall back to the tunnel \(print their decapsulation with --encap gre or ipip\): r1>.* \(ipv4\): r4 advertises no Adj-SID toward r6 \(and others\)$/);
  const none = planSrMpls({ paths: broken, topology: topo, sources: ["192.0.2.1"], carrier: "udp", router: "r3" });
  assert.deepEqual(none.notes, ["no SR-MPLS path starts at prober.router r3: nothing to terminate"]);
  const six = { ...plan, jobs: plan.jobs.map((j) => (j.router === "r1" ? { ...j, entries6: ["2001:2:0:ffff::1"] } : j)) };
  const r = renderSrMplsPlan(linux, six, "udp");
  const w = r.warnings.find((x) => x.includes("IPv6"));
  assert.match(w ?? "", /^r1: IPv6 entry address\(es\) 2001:2:0:ffff::1: this output covers IPv4 entries only/);
  assert.ok(r.text.includes(`# WARNING: ${w}`));
});
