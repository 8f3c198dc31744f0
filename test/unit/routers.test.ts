// `lsprobe-plugin routers`: per-vendor decapsulation config for the NANOG 6 LSDB, compared with
// snapshots in test/fixtures/routers/<vendor>.txt (UPDATE_ROUTER_SNAPSHOTS=1 rewrites them).
// The snapshot itself is made from ExaBGP lines fed through an Engine, and kept there too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Engine, type EngineIo } from "../../plugin/engine.js";
import { directedPairs } from "../../plugin/paths.js";
import { Lsdb } from "../../plugin/lsdb.js";
import { loadSnapshot } from "../../plugin/snapshot.js";
import { buildTopologySteps } from "../../plugin/topology.js";
import { buildPathSetSteps } from "../../plugin/paths.js";
import { drain } from "../../plugin/slice.js";
import { runRouters } from "../../plugin/routers/cli.js";
import { collectTargets } from "../../plugin/routers/targets.js";
import { planDecap } from "../../plugin/routers/plan.js";
import { coveringPrefix, inPrefix } from "../../plugin/routers/types.js";
import { VENDORS } from "../../plugin/routers/vendors.js";
import { junos, JUNOS_MAX_GRE_TUNNELS } from "../../plugin/routers/junos.js";
import { iosxr, IOSXR_MAX_DECAP_SOURCES } from "../../plugin/routers/iosxr.js";
import { sros } from "../../plugin/routers/sros.js";
import { eos } from "../../plugin/routers/eos.js";
import { linux } from "../../plugin/routers/linux.js";
import type { RouterJob } from "../../plugin/routers/types.js";
import { createLogger } from "../../shared/log.js";
import { ExabgpLines, lineTopology } from "../util/exabgp-lines.js";
import { readTopologyJson } from "../util/edgelist.js";

// dist/test/unit -> the source tree's test/fixtures/routers
const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/routers");
const SNAPSHOT = path.join(FIXTURES, "nanog6-lsdb.json");
const UPDATE = process.env.UPDATE_ROUTER_SNAPSHOTS === "1";
const SOURCES = ["192.0.2.1", "192.0.2.2"];

/** The NANOG 6 LSDB snapshot as the plugin writes it: ExabgpLines through an Engine. */
async function nanog6Snapshot(): Promise<string> {
  const io: EngineIo = {
    log: createLogger({ name: "test", level: "error", stream: { write: () => {} } }),
    command: () => {},
    publish: async () => {},
    now: () => new Date(0),
  };
  const engine = new Engine({ query: { pairs: directedPairs([["r1", "r6"]]), mode: "all", maxPerPair: 64 }, metric: "igp", debounceMs: 0, staleTimeoutMs: 60_000, routeRefresh: false, generation: 0, sliceMs: 0 }, io);
  const t = readTopologyJson("nanog6.json");
  const lines = new ExabgpLines(lineTopology(t.nodes, t.edges));
  let n = 0;
  for (const l of lines.fullTable()) engine.handleLine(l, ++n);
  await engine.recompute();
  await engine.close();
  return engine.snapshotText() + "\n";
}

function workdir(config: string): { dir: string; config: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-routers-"));
  const file = path.join(dir, "lsprobe.yaml");
  writeFileSync(file, config.replaceAll("@SNAPSHOT@", SNAPSHOT));
  return { dir, config: file };
}

const CONFIG = `plugin:
  endpoints:
    pairs: [[r1, r6]]
  state-file: @SNAPSHOT@
prober:
  source: 192.0.2.1
  router: r1
`;

function run(argv: string[]): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const code = runRouters(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

/** What the plugin would publish from the stored snapshot for r1 <-> r6: targets per router. */
function expectedTargets(): Map<string, string[]> {
  const db = new Lsdb();
  loadSnapshot(SNAPSHOT, db);
  const topo = drain(buildTopologySteps(db.entries.values(), "igp"));
  const body = drain(buildPathSetSteps(topo, { pairs: directedPairs([["r1", "r6"]]), mode: "all", maxPerPair: 64 }, { peers: [], stale: true, prefixes: 0 }));
  const t = collectTargets(body.paths, { router: "r1", return: "reverse" });
  return new Map([...t].map(([r, x]) => [r, x.targets]));
}

const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?\b/g;

test("routers: the stored NANOG 6 snapshot is what an Engine fed ExaBGP lines writes", async () => {
  const made = await nanog6Snapshot();
  if (UPDATE || !existsSync(SNAPSHOT)) writeFileSync(SNAPSHOT, made);
  assert.equal(readFileSync(SNAPSHOT, "utf8"), made);
});

for (const vendor of VENDORS.keys()) {
  test(`routers: ${vendor} output matches test/fixtures/routers/${vendor}.txt and names only targets and sources`, () => {
    const w = workdir(CONFIG);
    const r = run(["--vendor", vendor, "--config", w.config, ...SOURCES.flatMap((s) => ["--source", s])]);
    assert.equal(r.code, 0, r.err);
    const file = path.join(FIXTURES, `${vendor}.txt`);
    if (UPDATE || !existsSync(file)) writeFileSync(file, r.out);
    assert.equal(r.out, readFileSync(file, "utf8"));
    // Every router section names only its own targets, the prober sources (and for SR OS the covering prefix).
    const targets = expectedTargets();
    assert.deepEqual([...targets.keys()].sort(), ["r1", "r2", "r3", "r4", "r5", "r6"]);
    const sections = r.out.split(/^.*==== /m).slice(1);
    assert.equal(sections.length, 6);
    for (const s of sections) {
      const router = s.split(":")[0];
      const mine = targets.get(router)!;
      assert.ok(mine.length > 0, router);
      const named = new Set<string>();
      for (const m of s.matchAll(IPV4)) {
        const [a, len] = m[0].split("/");
        named.add(a);
        if ((mine.includes(a) || SOURCES.includes(a)) && (len === undefined || len === "32")) continue;
        if (vendor === "sros") {
          const p = coveringPrefix(mine);
          assert.deepEqual({ network: a, length: Number(len) }, p, `${router}: ${m[0]} is neither a target, a source nor the covering prefix`);
          continue;
        }
        assert.fail(`${vendor} ${router}: ${m[0]} is neither a target of ${router} nor a prober source`);
      }
      // ...and every target and source is there.
      for (const a of [...mine, ...SOURCES]) assert.ok(named.has(a), `${vendor} ${router}: ${a} missing`);
    }
  });
}

test("routers: targets are the gre and greReverse addresses naming each router", () => {
  const t = expectedTargets();
  const db = new Lsdb();
  loadSnapshot(SNAPSHOT, db);
  const topo = drain(buildTopologySteps(db.entries.values(), "igp"));
  const body = drain(buildPathSetSteps(topo, { pairs: directedPairs([["r1", "r6"]]), mode: "all", maxPerPair: 64 }, { peers: [], stale: true, prefixes: 0 }));
  const want = new Map<string, Set<string>>();
  for (const p of body.paths.filter((p) => p.src === "r1"))
    for (const g of [...p.gre, ...p.greReverse]) (want.get(g.node) ?? want.set(g.node, new Set()).get(g.node)!).add(g.address);
  for (const [r, s] of want) assert.deepEqual(new Set(t.get(r)), s, r);
  // Routed return: no greReverse layers, so r1 decapsulates nothing.
  const routed = collectTargets(body.paths, { router: "r1", return: "routed" });
  assert.equal(routed.has("r1"), false);
  // No prober.router: the r6 -> r1 paths count as well (same addresses here, by symmetry of reverse).
  const all = collectTargets(body.paths, { router: null, return: "reverse" });
  for (const [r, x] of t) assert.ok(x.every((a) => all.get(r)!.targets.includes(a)), r);
});

test("routers: --router restricts the output to one router; the config's prober.source is the default source", () => {
  const w = workdir(CONFIG);
  const r = run(["--vendor", "linux", "--config", w.config, "--router", "r4"]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.match(/^# ==== /gm)?.length, 1);
  assert.match(r.out, /==== r4:/);
  assert.match(r.out, /set sources \{ type ipv4_addr; elements = \{ 192\.0\.2\.1 \} \}/);
});

function job(o: Partial<RouterJob> = {}): RouterJob {
  return { router: "rx", targets: ["10.0.0.1"], ingress: [], sources: ["192.0.2.1"], encap: "gre", ownAddresses: ["10.0.0.1"], otherAddresses: [], ...o };
}

const many = (n: number, base = "10.0"): string[] => Array.from({ length: n }, (_, i) => `${base}.${Math.floor(i / 256)}.${i % 256}`);

test("routers: platform limits are warned about, in the text too", () => {
  const cases: Record<string, { v: typeof junos; job: RouterJob; warn: RegExp | null }> = {
    "junos at the limit": { v: junos, job: job({ targets: many(JUNOS_MAX_GRE_TUNNELS / 2).map((a) => a.replace(/^10\.0/, "10.1")), sources: ["192.0.2.1", "192.0.2.2"] }), warn: null },
    "junos past 512 tunnels": { v: junos, job: job({ targets: many(257), sources: ["192.0.2.1", "192.0.2.2"] }), warn: /514 GRE tunnels .*EX4600\/QFX5100 terminate at most 512/ },
    "junos ipip": { v: junos, job: job({ encap: "ipip" }), warn: /no IP-in-IP option/ },
    "iosxr at 16 sources": { v: iosxr, job: job({ targets: many(IOSXR_MAX_DECAP_SOURCES) }), warn: null },
    "iosxr past 16 sources": { v: iosxr, job: job({ targets: many(17) }), warn: /17 distinct tunnel sources .*at most 16/ },
    "sros in one /24": { v: sros, job: job({ targets: ["10.0.0.1", "10.0.0.5"], ownAddresses: ["10.0.0.1", "10.0.0.5"] }), warn: null },
    "sros wider than /16": { v: sros, job: job({ targets: ["10.0.0.1", "10.9.0.1"] }), warn: /need 10\.0\.0\.0\/12 .*wider than the \/16/ },
    "sros covers a neighbor": { v: sros, job: job({ targets: ["10.0.0.1", "10.0.0.5"], otherAddresses: [["10.0.0.2", "ry"]] }), warn: /10\.0\.0\.0\/29, .*also covers addresses of ry/ },
    "eos: CVE-2026-7473 always": { v: eos, job: job(), warn: /CVE-2026-7473/ },
    linux: { v: linux, job: job(), warn: null },
  };
  for (const [name, c] of Object.entries(cases)) {
    const r = c.v.render(c.job);
    if (c.warn === null) assert.deepEqual(r.warnings, [], name);
    else {
      assert.equal(r.warnings.length, 1, name);
      assert.match(r.warnings[0], c.warn, name);
      assert.ok(r.text.includes(`WARNING: ${r.warnings[0]}`), `${name}: warning not in the text`);
    }
  }
});

test("routers: IP-in-IP where the platform has it", () => {
  assert.match(eos.render(job({ encap: "ipip" })).text, /tunnel type ipip\n/);
  assert.match(iosxr.render(job({ encap: "ipip" })).text, / tunnel mode ipv4\n/);
  const l = linux.render(job({ encap: "ipip" })).text;
  assert.match(l, /modprobe ipip\nip link set tunl0 up/);
  assert.match(l, /ip protocol 4 ip saddr @sources ip daddr @targets accept/);
});

test("routers: covering prefix", () => {
  assert.deepEqual(coveringPrefix(["10.0.0.1"]), { network: "10.0.0.1", length: 32 });
  assert.deepEqual(coveringPrefix(["10.0.0.1", "10.0.0.2"]), { network: "10.0.0.0", length: 30 });
  assert.deepEqual(coveringPrefix(["1.0.0.0", "200.0.0.0"]), { network: "0.0.0.0", length: 0 });
  assert.equal(inPrefix("10.0.0.3", { network: "10.0.0.0", length: 30 }), true);
  assert.equal(inPrefix("10.0.0.4", { network: "10.0.0.0", length: 30 }), false);
  assert.equal(inPrefix("9.9.9.9", { network: "0.0.0.0", length: 0 }), true);
});

test("routers: errors: usage 2, unreadable snapshot or config 1 with the path", () => {
  const w = workdir(CONFIG);
  const cases: Record<string, { argv: string[]; code: number; err: RegExp }> = {
    "no vendor": { argv: ["--config", w.config], code: 2, err: /^lsprobe-plugin: routers: --vendor is required .*\(see --help\)\n$/ },
    "unknown vendor": { argv: ["--vendor", "ios", "--config", w.config], code: 2, err: /^lsprobe-plugin: routers: unknown vendor "ios": expected one of junos\|eos\|iosxr\|sros\|linux \(see --help\)\n$/ },
    "bad source": { argv: ["--vendor", "eos", "--config", w.config, "--source", "300.1.1.1"], code: 2, err: /--source "300\.1\.1\.1": expected an IPv4 or IPv6 address \(see --help\)/ },
    "unknown router": { argv: ["--vendor", "eos", "--config", w.config, "--router", "r9"], code: 2, err: /--router "r9": no such router in .*\(see --help\)/ },
    "unknown option": { argv: ["--vendr", "eos"], code: 2, err: /^lsprobe-plugin: unknown option --vendr \(see --help\)\n$/ },
    "missing state file": { argv: ["--vendor", "eos", "--config", w.config, "--state-file", path.join(w.dir, "none.json")], code: 1, err: new RegExp(`^lsprobe-plugin: ${w.dir}/none\\.json: cannot read the LSDB snapshot: ENOENT`) },
    "missing config": { argv: ["--vendor", "eos", "--config", path.join(w.dir, "none.yaml")], code: 1, err: /none\.yaml: cannot read the config file/ },
  };
  const noState = workdir("plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  state-file: null\nprober:\n  source: 192.0.2.1\n");
  cases["no snapshot"] = { argv: ["--vendor", "eos", "--config", noState.config], code: 2, err: /no LSDB snapshot: plugin\.state-file is disabled .*give --state-file FILE \(see --help\)/ };
  const noSource = workdir("plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  state-file: @SNAPSHOT@\n");
  cases["no source"] = { argv: ["--vendor", "eos", "--config", noSource.config], code: 2, err: /no prober source: give --source ADDR, or set prober\.source/ };
  const junk = path.join(w.dir, "junk.json");
  writeFileSync(junk, "{not json");
  cases["not JSON"] = { argv: ["--vendor", "eos", "--config", w.config, "--state-file", junk], code: 1, err: new RegExp(`${w.dir}/junk\\.json: cannot read the LSDB snapshot: .*not JSON`) };
  const other = path.join(w.dir, "other.json");
  writeFileSync(other, JSON.stringify({ schema: "lsprobe/pathset", version: 1 }));
  cases["not a snapshot"] = { argv: ["--vendor", "eos", "--config", w.config, "--state-file", other], code: 1, err: /other\.json: cannot read the LSDB snapshot: not an lsprobe LSDB snapshot/ };
  if (process.getuid?.() !== 0) {
    const locked = path.join(w.dir, "locked.json");
    writeFileSync(locked, readFileSync(SNAPSHOT));
    chmodSync(locked, 0);
    cases.unreadable = { argv: ["--vendor", "eos", "--config", w.config, "--state-file", locked], code: 1, err: /locked\.json: cannot read the LSDB snapshot: EACCES/ };
  }
  for (const [name, c] of Object.entries(cases)) {
    const r = run(c.argv);
    assert.equal(r.code, c.code, `${name}: ${r.err}`);
    assert.match(r.err, c.err, name);
    assert.equal(r.out, "", name);
  }
});

test("routers: --help on stdout, exit 0", () => {
  const r = run(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: lsprobe-plugin routers --vendor junos\|eos\|iosxr\|sros\|linux /);
  assert.equal(r.err, "");
});

test("routers: planDecap lists every router, one without targets included", () => {
  const db = new Lsdb();
  loadSnapshot(SNAPSHOT, db);
  const topo = drain(buildTopologySteps(db.entries.values(), "igp"));
  const body = drain(buildPathSetSteps(topo, { pairs: directedPairs([["r1", "r2"]]), mode: "all", maxPerPair: 64 }, { peers: [], stale: true, prefixes: 0 }));
  const plan = planDecap({ paths: body.paths, pairs: body.pairs, topology: topo, sources: ["192.0.2.1"], encapFor: () => "gre", probe: { router: "r1", return: "reverse" } });
  assert.deepEqual(plan.jobs.map((j) => [j.router, j.targets.length]), [["r1", 1], ["r2", 1], ["r3", 0], ["r4", 0], ["r5", 0], ["r6", 0]]);
});

test("routers: the encapsulation follows prober.encap and prober.encap-per-router as the prober decides it (patterns included)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-routers-encap-"));
  try {
    const config = path.join(dir, "lsprobe.yaml");
    writeFileSync(config, `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\nprober:\n  source: 198.18.100.2\n  encap-per-router: {r2: gre, "r*": ipip}\n`);
    const out: string[] = [];
    const code = runRouters(["--vendor", "linux", "--config", config, "--state-file", SNAPSHOT], { stdout: { write: (s: string) => out.push(s) }, stderr: { write: () => {} } });
    assert.equal(code, 0);
    const text = out.join("");
    assert.match(text, /^# ==== r2: \d+ target\(s\), GRE$/m);
    assert.match(text, /^# ==== r4: \d+ target\(s\), IP-in-IP$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// plugin.paths.target: router: the layers go to each router's TE router id (the NANOG 6 LSDB's
// 198.19.0.N), so that is all each router decapsulates; snapshots <vendor>-router.txt.
const ROUTER_TARGET = CONFIG.replace("  state-file: @SNAPSHOT@\n", "  paths:\n    target: router\n  state-file: @SNAPSHOT@\n");

for (const vendor of VENDORS.keys()) {
  test(`routers, target router: ${vendor} output matches test/fixtures/routers/${vendor}-router.txt: each router's TE router id, no interface`, () => {
    const w = workdir(ROUTER_TARGET);
    const r = run(["--vendor", vendor, "--config", w.config, ...SOURCES.flatMap((s) => ["--source", s])]);
    assert.equal(r.code, 0, r.err);
    const file = path.join(FIXTURES, `${vendor}-router.txt`);
    if (UPDATE || !existsSync(file)) writeFileSync(file, r.out);
    assert.equal(r.out, readFileSync(file, "utf8"));
    assert.notEqual(r.out, readFileSync(path.join(FIXTURES, `${vendor}.txt`), "utf8"));
    const sections = r.out.split(/^.*==== /m).slice(1);
    assert.equal(sections.length, 6);
    for (const s of sections) {
      const router = s.split(":")[0];
      assert.match(s, /^r\d: 1 target\(s\)/, router);
      const own = `198.19.0.${router.slice(1)}`;
      const named = new Set([...s.matchAll(IPV4)].map((m) => m[0].replace(/\/32$/, "")));
      assert.deepEqual([...named].sort(), [own, ...SOURCES].sort(), `${vendor} ${router}`);
    }
  });
}

test("routers: target-per-router {r4: router}: r4 decapsulates its router id, the others their interface addresses", () => {
  const w = workdir(CONFIG.replace("  state-file: @SNAPSHOT@\n", "  paths:\n    target-per-router:\n      r4: router\n  state-file: @SNAPSHOT@\n"));
  const r = run(["--vendor", "linux", "--config", w.config]);
  assert.equal(r.code, 0, r.err);
  const section = (router: string): string => r.out.split(/^# ==== /m).find((s) => s.startsWith(`${router}:`))!;
  assert.match(section("r4"), /set targets \{ type ipv4_addr; elements = \{ 198\.19\.0\.4 \} \}/);
  for (const other of ["r1", "r2", "r3", "r5", "r6"]) {
    const s = section(other);
    assert.doesNotMatch(s, /198\.19\./, other);
    assert.match(s, /elements = \{ 198\.18\./, other);
  }
});
