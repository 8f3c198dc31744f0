// The plugin never takes ExaBGP down. Debian's ExaBGP 4.2.21 respawns a dead API process 5
// times, then exits with every BGP session it holds ("Too many death for lsprobe (5)
// terminating program"); 5.0.13 does the same. Two ExaBGPs of each version (Debian's 4.2.21,
// and 5.0.13 from ../shared/tools) run side by side for 2 minutes, each with the plugin (as
// an unprivileged user, as under Debian's exabgp.service) fed by a BGP-LS speaker, and a second,
// plain IPv4 unicast neighbor whose session must never drop:
//   A. the plugin's output directory cannot be created by its user;
//   B. the plugin's configuration is invalid.
// Both keep ExaBGP and the bystander session up, log the fix, and produce the path file once
// the directory is made writable (A, by the plugin's own retry) or the config fixed (B, SIGHUP),
// from the LSDB they kept meanwhile: the routes are not re-announced.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { exabgpPrograms, startExabgp, type ExabgpHandle, type ExabgpProgram } from "../lab/exabgp.js";
import { BgpLsSpeaker } from "../lab/speaker/speaker.js";
import { loadEdgeListFile } from "../lab/speaker/topology.js";
import { parsePathSet, type PathSet } from "../../shared/pathset.js";
import { SHARED_DIR, sharedPath } from "../util/shared.js";

const PARSER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../plugin/parser.js");
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));
const NOBODY = 65534;
const programs = exabgpPrograms(SHARED_DIR);
const skip =
  programs.length === 0 ? "exabgp is not installed (Debian package `exabgp`)" : process.getuid?.() !== 0 ? "needs root (the plugin runs as nobody)" : SETPRIV === undefined ? "setpriv (util-linux) missing" : false;
/** As the issue has it: ExaBGP still running, the bystander session still up, after 2 minutes. */
const HOLD_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => T | undefined, ms: number, logs: () => string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- ExaBGP log tail ---\n${logs().slice(-3000)}`);
    await sleep(100);
  }
}

/** The plugin's pid: ExaBGP's descendant whose command line names our config. */
function pluginPid(config: string): number | undefined {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
      if (argv.some((a) => a.endsWith("parser.js")) && argv.includes(config)) return Number(d);
    } catch {
      // gone
    }
  }
  return undefined;
}

interface Rig {
  dir: string;
  config: string;
  out: string;
  ex: ExabgpHandle;
  bystanderDowns: string[];
  bystander: BgpLsSpeaker;
  stop(): Promise<void>;
}

/** ExaBGP with the plugin (as nobody) on a BGP-LS speaker with NANOG 6, and a plain IPv4 neighbor. */
async function rig(name: string, exabgp: ExabgpProgram, configText: (out: string) => string, prepare: (dir: string, out: string) => void): Promise<Rig> {
  const dir = mkdtempSync(path.join(tmpdir(), `lsprobe-survive-${name}-${exabgp.version}-`));
  chmodSync(dir, 0o755); // root's, 0755: nobody can enter it but create nothing in it
  const out = path.join(dir, "out");
  prepare(dir, out);
  const config = path.join(dir, "lsprobe.yaml");
  writeFileSync(config, configText(out), { mode: 0o644 });
  const bgpls = new BgpLsSpeaker({ asn: 65001, routerId: "198.18.255.1", holdTime: 30, nextHop: "198.18.255.1", peerAsn: 65000 });
  const bystander = new BgpLsSpeaker({ asn: 65001, routerId: "198.18.255.2", holdTime: 30, peerAsn: 65000, family: "ipv4-unicast" });
  const bystanderDowns: string[] = [];
  bystander.on("down", (d: { reason: string }) => bystanderDowns.push(d.reason));
  const bgplsPort = await bgpls.listen(0, "127.0.0.1");
  const plainPort = await bystander.listen(0, "127.0.0.2");
  const ex = await startExabgp({
    peerPort: bgplsPort,
    plainPeers: [{ address: "127.0.0.2", port: plainPort }],
    processCommand: [SETPRIV!, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", process.execPath, PARSER, "--config", config],
    exabgpPath: exabgp.path,
    exabgpVersion: exabgp.version,
  });
  await Promise.all([bgpls.established(30_000), bystander.established(30_000)]);
  bgpls.announceTopology(loadEdgeListFile(sharedPath("topologies/nanog6.json")));
  return {
    dir,
    config,
    out,
    ex,
    bystander,
    bystanderDowns,
    stop: async () => {
      await ex.stop();
      await bgpls.stop();
      await bystander.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const outputConfig = (out: string): string =>
  `  output:\n    file: ${out}/paths.json\n    socket: ${out}/paths.sock\n  state-file: ${out}/lsdb.json\nlog:\n  level: debug\n`;

function readPaths(out: string): PathSet | undefined {
  const f = path.join(out, "paths.json");
  return existsSync(f) ? parsePathSet(JSON.parse(readFileSync(f, "utf8")), f) : undefined;
}

function assertSurvived(r: Rig, what: string): void {
  assert.equal(r.ex.proc.exitCode, null, `${what}: ExaBGP is still running`);
  assert.equal(r.ex.proc.signalCode, null, `${what}: ExaBGP is still running`);
  assert.doesNotMatch(r.ex.logs(), /Too many death/, `${what}: ExaBGP never gave up on the plugin`);
  assert.deepEqual(r.bystanderDowns, [], `${what}: the plain IPv4 session never dropped`);
  assert.equal(r.bystander.stats().sessionsEstablished, 1, `${what}: one bystander session, never re-established`);
}

const versions = programs.map((p) => p.version).join(" and ");
test(`ExaBGP ${versions} survive an unwritable output directory and an invalid config for 2 minutes; fixing them produces the path file without a restart`, { skip, timeout: 300_000 }, async (t) => {
  const rigs: Rig[] = [];
  t.after(async () => {
    for (const r of rigs) await r.stop();
  });
  for (const exabgp of programs) {
    // A: nobody cannot create <dir>/out (root's 0755 parent).
    const a = await rig("dir", exabgp, (out) => `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n${outputConfig(out)}`, () => {});
    rigs.push(a);
    // B: a writable output directory, and a config that is not valid.
    const b = await rig("config", exabgp, (out) => `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  debounce: soon\n${outputConfig(out)}`, (_dir, out) => {
      mkdirSync(out);
      chownSync(out, NOBODY, NOBODY);
    });
    rigs.push(b);
  }
  await Promise.all(programs.map((exabgp, i) => scenario(exabgp, rigs[2 * i], rigs[2 * i + 1])));
});

/** The two rigs of one ExaBGP version, from the fixes' logs to the path files. */
async function scenario(exabgp: ExabgpProgram, a: Rig, b: Rig): Promise<void> {
  const v = `ExaBGP ${exabgp.version}`;

  // The fix is logged (ExaBGP passes its process's stderr through to its own log).
  await until("A's fix in the log", () => (/permission denied as user nobody.*fix: install -d -o nobody/.test(a.ex.logs()) ? true : undefined), 30_000, a.ex.logs);
  assert.match(a.ex.logs(), new RegExp(`install -d -o nobody -g \\S+ -m 2750 ${a.out}`));
  await until("B's config error in the log", () => (/configuration .* not valid/.test(b.ex.logs()) ? true : undefined), 30_000, b.ex.logs);
  assert.match(b.ex.logs(), /plugin\.debounce: expected a duration/);

  await sleep(HOLD_MS);
  assertSurvived(a, `${v}, unwritable directory`);
  assertSurvived(b, `${v}, invalid config`);
  assert.equal(readPaths(a.out), undefined);
  assert.equal(readPaths(b.out), undefined);
  const pidA = pluginPid(a.config);
  const pidB = pluginPid(b.config);
  assert.ok(pidA && pidB, `${v}: both plugins are running`);

  // A: make the directory as the log said; the plugin's retry (30 s at most apart) writes the file.
  mkdirSync(a.out);
  chownSync(a.out, NOBODY, NOBODY);
  chmodSync(a.out, 0o2750);
  // B: fix the config and send SIGHUP.
  writeFileSync(b.config, `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n${outputConfig(b.out)}`);
  process.kill(pidB!, "SIGHUP");

  for (const [r, what] of [[a, `${v} A`], [b, `${v} B`]] as const) {
    const set = await until(`${what}'s path file`, () => readPaths(r.out), 45_000, r.ex.logs);
    // From the LSDB kept all along: the speaker announced NANOG 6 once, before the fix.
    assert.deepEqual(
      set.paths.filter((p) => p.src === "r1").map((p) => p.hops.map((h) => h.name).join("-")),
      ["r1-r2-r4-r6", "r1-r2-r5-r6", "r1-r3-r4-r6", "r1-r3-r5-r6"],
      what,
    );
    // The socket retries on its own backoff (1 s doubling to 30 s, outputs.ts), not the file's: it may come a little later.
    await until(`${what}: the socket listens too`, () => (existsSync(path.join(r.out, "paths.sock")) ? true : undefined), 35_000, r.ex.logs);
    assertSurvived(r, `${what} after the fix`);
  }
  assert.equal(pluginPid(a.config), pidA, `${v}: the same plugin process, never restarted`);
  assert.equal(pluginPid(b.config), pidB, `${v}: the same plugin process, never restarted`);
  // ExaBGP relays its process's stderr on its own schedule (5.0 may do so after the file is there).
  await until(`${v} A's "file: written again" in ExaBGP's log`, () => (/file: written again/.test(a.ex.logs()) ? true : undefined), 30_000, a.ex.logs);
}
