// The plugin as the API process of a real ExaBGP, fed by the project's BGP-LS speaker over
// 127.0.0.1: the NANOG 6-router topology in, path sets out. Under each ExaBGP here (Debian's
// 4.2.21, and 5.0.13 from ../shared/tools/exabgp5); skipped only when there is none.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { exabgpCheckArgs, exabgpPrograms, startExabgp, type ExabgpHandle } from "../lab/exabgp.js";
import { BgpLsSpeaker } from "../lab/speaker/speaker.js";
import { loadEdgeListFile } from "../lab/speaker/topology.js";
import { parsePathSet, type PathSet } from "../../shared/pathset.js";
import { REPO_ROOT, SHARED_DIR, sharedPath } from "../util/shared.js";

const PARSER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../plugin/parser.js");
const programs = exabgpPrograms(SHARED_DIR);
const skip = programs.length === 0 ? "exabgp is not installed (Debian package `exabgp`)" : false;
if (programs.length === 0) test("plugin under real ExaBGP", { skip }, () => {});

async function until<T>(what: string, f: () => T | undefined, ms = 15_000, logs?: () => string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${logs ? `\n--- ExaBGP log tail ---\n${logs().slice(-3000)}` : ""}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const { version, path: exabgp } of programs) {
  test(`exabgp.conf.example passes ExaBGP ${version}'s check (4.2: --test, 5.0: validate)`, () => {
    const r = spawnSync(exabgp, exabgpCheckArgs(version, path.join(REPO_ROOT, "exabgp.conf.example")), {
      encoding: "utf8",
      env: { ...process.env, exabgp_log_destination: "stderr" },
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test(`plugin under real ExaBGP ${version}: NANOG paths, withdraw, metric change, session close`, async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-exabgp-"));
    const file = path.join(dir, "paths.json");
    const config = path.join(dir, "lsprobe.yaml");
    writeFileSync(
      config,
      `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  output:\n    file: ${file}\n    socket: ${path.join(dir, "paths.sock")}\n  state-file: ${path.join(dir, "lsdb.json")}\nlog:\n  level: debug\n`,
    );
    const sp = new BgpLsSpeaker({ asn: 65001, routerId: "198.18.255.1", holdTime: 30, nextHop: "198.18.255.1", peerAsn: 65000 });
    let ex: ExabgpHandle | undefined;
    t.after(async () => {
      await ex?.stop();
      await sp.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const topo = loadEdgeListFile(sharedPath("topologies/nanog6.json"));
    const port = await sp.listen(0, "127.0.0.1");
    const refreshes: unknown[] = [];
    sp.on("route-refresh", (r: unknown) => refreshes.push(r));
    ex = await startExabgp({ peerPort: port, processCommand: [process.execPath, PARSER, "--config", config], exabgpPath: exabgp, exabgpVersion: version });
    await sp.established(30_000);
    sp.announceTopology(topo);

    const read = (): PathSet | undefined => (existsSync(file) ? parsePathSet(JSON.parse(readFileSync(file, "utf8"))) : undefined);
    const at = (gen: number): PathSet | undefined => {
      const s = read();
      return s && s.generation >= gen ? s : undefined;
    };
    const hops = (s: PathSet): string[] => s.paths.filter((p) => p.src === "r1").map((p) => p.hops.map((h) => h.name).join("-"));

    const g1 = await until("the first path set", () => at(1), 15_000, ex.logs);
    assert.equal(g1.generation, 1, "the full table gives one generation");
    assert.deepEqual(hops(g1), ["r1-r2-r4-r6", "r1-r2-r5-r6", "r1-r3-r4-r6", "r1-r3-r5-r6"]);
    assert.equal(g1.topology.nodes, 6);
    assert.equal(g1.topology.links, 16);
    assert.deepEqual(g1.topology.peers, ["127.0.0.1"]);
    for (const p of g1.paths) {
      assert.equal(p.probeable, true);
      assert.equal(p.gre.length, 3);
      for (const g of p.gre) assert.match(g.address, /^198\.18\./);
    }
    // The plugin asked for a route refresh at start: ExaBGP turned it into a ROUTE-REFRESH.
    await until("route refresh", () => (refreshes.length > 0 ? true : undefined), 5_000);

    sp.withdrawLink(topo, "r2", "r4");
    const g2 = await until("withdrawal of r2-r4", () => at(2), 15_000, ex.logs);
    // The two paths across r2-r4 are gone; three equal-cost paths remain.
    assert.deepEqual(hops(g2), ["r1-r2-r5-r6", "r1-r3-r4-r6", "r1-r3-r5-r6"]);
    const kept = new Map(g1.paths.map((p) => [p.hops.map((h) => h.name).join("-"), p.id]));
    for (const p of g2.paths) assert.equal(p.id, kept.get(p.hops.map((h) => h.name).join("-")), "stable path ids");

    sp.setLinkMetric(topo, "r1", "r2", 20);
    const g3 = await until("metric change", () => at(3), 15_000, ex.logs);
    assert.deepEqual(hops(g3), ["r1-r3-r4-r6", "r1-r3-r5-r6"]);
    assert.equal(g3.pairs.find((p) => p.src === "r1")!.cost, 30);

    sp.refuseConnections(true);
    await sp.closeSession();
    const g4 = await until("flush on session down", () => at(4), 15_000, ex.logs);
    assert.equal(g4.paths.length, 0);
    assert.equal(g4.topology.nodes, 0);

    // ExaBGP's shutdown: the plugin exits 0 and leaves its snapshot.
    assert.equal(await ex.stop(), 0);
    assert.ok(existsSync(path.join(dir, "lsdb.json")));
    assert.doesNotMatch(ex.logs(), /command from process not understood/);
  });
}
