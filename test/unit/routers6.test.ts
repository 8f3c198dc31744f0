// `lsprobe-plugin routers` and IPv6 layers (targets.ipv6: GRE over IPv6, IPv6-in-IPv6): Linux
// configures them (ip6gre0 / ip6tnl0 and an ip6 nftables table), compared with
// test/fixtures/routers/linux-ipv6*.txt (UPDATE_ROUTER_SNAPSHOTS=1 rewrites them); the other
// vendors name them in a warning. The dual-stack path set is the NANOG 6 one with an IPv6
// address beside every IPv4 layer address.
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
import { planDecap, renderPlan } from "../../plugin/routers/plan.js";
import { runRouters } from "../../plugin/routers/cli.js";
import { VENDORS } from "../../plugin/routers/vendors.js";
import { linux } from "../../plugin/routers/linux.js";
import { byAddress6 } from "../../plugin/routers/types.js";
import type { Path } from "../../shared/pathset.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/routers");
const SNAPSHOT = path.join(FIXTURES, "nanog6-lsdb.json");
const UPDATE = process.env.UPDATE_ROUTER_SNAPSHOTS === "1";
const SOURCES6 = ["2001:db8::1", "2001:db8::2"];
const probe = { router: "r1", return: "reverse" as const };

/** The NANOG 6 path set, each layer also in IPv6 (2001:2:<c+100>:<d+1>::6 for 198.18.<c>.<d>). */
function dualStack(only6 = false): { paths: Path[]; topo: ReturnType<typeof topology> } {
  const topo = topology();
  const body = drain(buildPathSetSteps(topo, { pairs: directedPairs([["r1", "r6"]]), mode: "all", maxPerPair: 64 }, { peers: [], stale: true, prefixes: 0 }));
  const six = (a: string): string => `2001:2:${a.split(".").slice(2).map((o, k) => Number(o) + 100 * (1 - k) + k).join(":")}::6`;
  const paths = body.paths.map((p): Path => {
    const ipv6 = { gre: p.gre.map((g) => ({ ...g, address: six(g.address) })), greReverse: p.greReverse.map((g) => ({ ...g, address: six(g.address) })), probeable: true };
    if (only6) return { ...p, families: ["ipv6"], targets: { ipv6 }, gre: [], greReverse: [], probeable: false };
    return { ...p, families: ["ipv4", "ipv6"], targets: { ipv4: { gre: p.gre, greReverse: p.greReverse, probeable: p.probeable }, ipv6 } };
  });
  return { paths, topo };
}

function topology() {
  const db = new Lsdb();
  loadSnapshot(SNAPSHOT, db);
  return drain(buildTopologySteps(db.entries.values(), "igp"));
}

/** IPv6 layer addresses per router, for r1's paths out and back. */
function expected6(paths: Path[]): Map<string, string[]> {
  const want = new Map<string, Set<string>>();
  for (const p of paths.filter((x) => x.src === "r1"))
    for (const g of [...p.targets!.ipv6!.gre, ...p.targets!.ipv6!.greReverse]) (want.get(g.node) ?? want.set(g.node, new Set()).get(g.node)!).add(g.address);
  return new Map([...want].map(([r, s]) => [r, [...s].sort(byAddress6)]));
}

const sectionsOf = (out: string): Map<string, string> => new Map(out.split(/^.*==== /m).slice(1).map((s) => [s.split(":")[0], s]));
const IPV6 = /\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}\b/g;

for (const [name, only6] of [["linux-ipv6", false], ["linux-ipv6-only", true]] as const)
  test(`routers, IPv6 layers: linux matches ${name}.txt; each router decapsulates exactly its IPv6 targets from the IPv6 sources`, () => {
    const { paths, topo } = dualStack(only6);
    const plan = planDecap({ paths, pairs: [], topology: topo, sources: only6 ? [] : ["192.0.2.1"], sources6: SOURCES6, encapFor: (r) => (r === "r4" ? "ipip" : "gre"), probe });
    const r = renderPlan(linux, plan);
    assert.deepEqual(r.warnings, []);
    const file = path.join(FIXTURES, `${name}.txt`);
    if (UPDATE || !existsSync(file)) writeFileSync(file, r.text);
    assert.equal(r.text, readFileSync(file, "utf8"));
    const want = expected6(paths);
    const sections = sectionsOf(r.text);
    assert.equal(sections.size, 6);
    for (const [router, s] of sections) {
      const mine = want.get(router)!;
      assert.ok(mine.length > 0, router);
      const six = s.slice(s.indexOf("table ip6 lsprobe_decap6"));
      assert.ok(six.length > 0, router);
      assert.ok(s.includes(`  set targets { type ipv6_addr; elements = { ${mine.join(", ")} } }`), `${router}: its IPv6 targets`);
      assert.ok(s.includes(`  set sources { type ipv6_addr; elements = { ${SOURCES6.join(", ")} } }`), router);
      const named = new Set([...s.matchAll(IPV6)].map((m) => m[0]));
      for (const a of named) assert.ok(mine.includes(a) || SOURCES6.includes(a), `${router}: ${a} is neither an IPv6 target nor a source`);
      const gre = router !== "r4";
      assert.match(s, gre ? /^modprobe ip6_gre\nip link set ip6gre0 up$/m : /^modprobe ip6_tunnel\nip link set ip6tnl0 up$/m, router);
      assert.match(s, new RegExp(`^    meta l4proto ${gre ? 47 : 41} ip6 saddr @sources ip6 daddr @targets accept$`, "m"), router);
      assert.equal(/table ip lsprobe_decap\b/.test(s), !only6, `${router}: the IPv4 part ${only6 ? "absent" : "kept"}`);
    }
  });

test("routers, IPv6 layers: no IPv6 source is a warning; the other vendors name the IPv6 targets in a warning", () => {
  const { paths, topo } = dualStack();
  const plan = planDecap({ paths, pairs: [], topology: topo, sources: ["192.0.2.1"], encapFor: () => "gre", probe });
  const r = renderPlan(linux, plan);
  assert.equal(r.warnings.length, 6);
  for (const w of r.warnings) assert.match(w, /^r\d: \d+ IPv6 target\(s\) but no IPv6 prober source \(prober\.source lists none\): IPv6 decapsulation not printed$/);
  assert.doesNotMatch(r.text, /lsprobe_decap6/);
  const want = expected6(paths);
  for (const [name, vendor] of VENDORS) {
    if (vendor.ipv6) continue;
    const t = renderPlan(vendor, planDecap({ paths, pairs: [], topology: topo, sources: ["192.0.2.1"], sources6: SOURCES6, encapFor: () => "gre", probe }));
    for (const [router, mine] of want) {
      const w = t.warnings.find((x) => x.startsWith(`${router}: ${mine.length} IPv6 target(s)`));
      assert.equal(w, `${router}: ${mine.length} IPv6 target(s) (GRE over IPv6 or IPv6-in-IPv6 layers: ${mine.join(", ")}): this output covers IPv4 decapsulation only; configure those by hand, or probe the IPv6 family by SRv6`, `${name} ${router}`);
      assert.ok(t.text.includes(`${vendor.comment} WARNING: ${w}`), `${name} ${router}`);
    }
  }
  // IPv6 only, a vendor without IPv6: every router warned, none configured, the paths still probed.
  const only6 = dualStack(true).paths;
  const plan6 = planDecap({ paths: only6, pairs: [], topology: topo, sources: ["192.0.2.1"], sources6: SOURCES6, encapFor: () => "gre", probe });
  assert.equal(plan6.probed, 4);
  const e = renderPlan(VENDORS.get("eos")!, plan6).text;
  assert.equal(e.match(/^! no IPv4 probe layer is addressed to this router: nothing to configure$/gm)?.length, 6);
  assert.doesNotMatch(e, /decap-group/);
});

test("routers: --source takes IPv6 addresses too; SR-MPLS needs an IPv4 one", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-routers6-"));
  try {
    const config = path.join(dir, "lsprobe.yaml");
    writeFileSync(config, `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  state-file: ${SNAPSHOT}\nprober:\n  source: 192.0.2.1\n  router: r1\n`);
    const run = (argv: string[]): { code: number; out: string; err: string } => {
      let out = "";
      let err = "";
      const code = runRouters([...argv, "--config", config], { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
      return { code, out, err };
    };
    const ok = run(["--vendor", "linux", "--source", "2001:DB8:0::1", "--source", "192.0.2.9"]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /prober source\(s\): 192\.0\.2\.9$/m);
    const bad = run(["--vendor", "linux", "--source", "2001:db8::zz"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--source "2001:db8::zz": expected an IPv4 or IPv6 address \(see --help\)/);
    const sr = run(["--vendor", "linux", "--encap", "sr-mpls", "--source", "2001:db8::1"]);
    assert.equal(sr.code, 2);
    assert.match(sr.err, /--encap sr-mpls covers IPv4 entries: give an IPv4 --source/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
