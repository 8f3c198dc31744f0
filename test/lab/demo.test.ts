// The demo: headless, from start to teardown, the story's detections, its timings line and its
// verdict must be in its output; the redrawn screen draws the last events (the verdict, --keep's
// hints); demo and labctl follow the command-line convention (shared/cli.ts); `npm run demo`
// builds only a stale dist/, and says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { exabgpPrograms, findExabgp } from "./exabgp.js";
import { SHARED_DIR } from "../util/shared.js";
import { renderScreen, timingsLine, type Snapshot } from "./demo.js";
import type { ProberView } from "./stack.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEMO = path.join(HERE, "demo.js");
const LABCTL = path.join(HERE, "labctl.js");
const BUILD_IF_STALE = path.resolve(HERE, "../../../scripts/build-if-stale.mjs");
const skip = process.getuid?.() !== 0 ? "needs root (network namespaces, raw sockets)" : findExabgp() === undefined ? "exabgp is not installed" : false;

const run = (script: string, args: string[], env: NodeJS.ProcessEnv = process.env): { code: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: "utf8", env, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

// IPv4 under each ExaBGP; the same story IPv6 only (under the newest) and dual stack (under the
// first): the failing path's entries of every family probed are named. And pinned by SRv6 (under
// 5.0: 4.2.21 cannot decode End.X SIDs), no tunnel decapsulator in the path: End.X on the kernel's
// seg6local where it has it, else on the routers' userspace End.X (the demo says which).
const programs = exabgpPrograms(SHARED_DIR);
const runs: Array<{ exabgp: (typeof programs)[number]; family: string; encap?: "srv6" }> = [
  ...programs.map((exabgp) => ({ exabgp, family: "ipv4" })),
  ...programs.slice(-1).map((exabgp) => ({ exabgp, family: "ipv6" })),
  ...programs.slice(0, 1).map((exabgp) => ({ exabgp, family: "dual" })),
  ...programs.filter((p) => p.version === "5.0").map((exabgp) => ({ exabgp, family: "ipv6", encap: "srv6" as const })),
];
for (const { exabgp, family, encap } of runs) {
  test(`demo --no-tty --exabgp ${exabgp.version} --family ${family}${encap ? ` --encap ${encap}` : ""} tells the story, says its timings and verdict, and leaves nothing behind`, { skip, timeout: 240_000 }, async () => {
    const child = spawn(process.execPath, [DEMO, "--no-tty", "--phase-seconds", "3", "--exabgp", exabgp.version, "--family", family, ...(encap ? ["--encap", encap] : [])], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    assert.equal(code, 0, out);
    assert.match(out, /^\[[ \d.]+s\] timings: the lab's prober runs with loss-window \S+ and timeout \S+ \(production defaults: \S+ and \S+\) so that /m);
    const failing = family === "dual" ? "r1>r2>r4>r6 ipv4, r1>r2>r4>r6 ipv6" : "r1>r2>r4>r6";
    assert.match(out, new RegExp(`DETECTED: link (r2 -> r4|r4 -> r2) suspected; failing: ${failing}\n`));
    assert.match(out, new RegExp(`prober in h1, ExaBGP ${exabgp.version.replace(".", "\\.")}, ${{ ipv4: "IPv4", ipv6: "IPv6 only", dual: "dual stack" }[family]}${encap ? ", probes pinned by SRv6 End.X SIDs" : ""}\n`));
    if (encap) {
      const sr = /sr: SRv6 (kernel seg6local End\.X|userspace End\.X helper \(kernel has no seg6local .*\)); the prober pins every probe with SRv6 End\.X SIDs \(prober\.encap srv6\): no router decapsulates a tunnel\n/.exec(out);
      assert.ok(sr, out);
      if (sr[1].startsWith("kernel")) assert.match(out, /no userspace decapsulator in the path: the routers' tunnel decapsulators received 0 packets; 4 of 4 paths pinned by SRv6 End\.X SIDs \(the kernel's seg6local End\.X routes forward them\)/);
      else assert.match(out, /no tunnel decapsulator in the path \(End\.X runs in userspace\): the routers' tunnel decapsulators received 0 packets; 4 of 4 paths pinned by SRv6 End\.X SIDs \(the routers' userspace End\.X forwarded [1-9]\d* SRv6 packets: this kernel has no seg6local\)/);
    }
    assert.match(out, /TRACE: trace r1>r2>r4>r6: loss starts at hop 2, r2 -> r4 /, "the pinned trace shows where the fault is");
    assert.match(out, /^\[[ \d.]+s\] +2 +r2 -> r4 .*<- loss starts$/m);
    assert.match(out, /RECOVERED: all paths up, no suspect link/);
    assert.match(out, /DETECTED: path set generation \d+ has 3 paths \(was 4\); probes follow, none crosses r2-r4/);
    assert.match(out, /RECOVERED: 4 paths again, all up/);
    assert.match(out, /the story is told: healthy, gray failure named, repaired, control-plane failure followed, repaired\n/);
    assert.match(out, /lab removed: no namespace, process or socket left/);
    const ns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
    // The demo's own namespaces (lsp-PID-...): other labs may be up on this machine.
    assert.ok(!ns.split("\n").some((n) => n.startsWith(`lsp-${child.pid}-`)), ns);
  });
}

const view: ProberView = {
  generation: 3,
  schedule: { rate: 100 },
  paths: ["r1>r2>r4>r6", "r1>r3>r5>r6"].map((hops) => ({
    path: hops,
    hops,
    af: "ipv4",
    ratePps: 25,
    state: "up",
    lastRttSeconds: 0.0004,
    rttP50Seconds: 0.0004,
    rttP99Seconds: 0.003,
    lossRatio: hops === "r1>r2>r4>r6" ? 0.05 : 0,
    sent: 500,
    received: 480,
    late: 0,
    lost: hops === "r1>r2>r4>r6" ? 20 : 0,
    inFlight: 0,
  })),
  suspects: [{ link: "r2>r4", from: "r2", to: "r4", af: "ipv4", loss: 0.05, identifiable: false }],
};
const snap: Snapshot = { elapsedS: 42.5, phase: "the story is told", router: "r1", generation: 3, pathsFromRouter: 2, view };
const story = Array.from({ length: 30 }, (_, i) => `[${String(i).padStart(5)}.0s] event ${i}`).concat([
  "[ 30.0s] RECOVERED: 4 paths again, all up",
  "[ 30.1s] the story is told: healthy, gray failure named, repaired, control-plane failure followed, repaired",
]);

test("the live view draws the latest events, the verdict last, and the pinned --keep lines", () => {
  const footer = ["--keep: the lab stays up. Namespaces: lsp-1-0-r1 lsp-1-0-r2", "inject faults: sudo node dist/test/lab/labctl.js gray r2 r4 0.05"];
  const screen = renderScreen(snap, story, footer, { rows: 24, columns: 80 });
  const rows = screen.reduce((n, l) => n + Math.max(1, Math.ceil(l.length / 80)), 0);
  assert.ok(rows <= 23, `${rows} rows drawn on a 24-row terminal:\n${screen.join("\n")}`);
  assert.match(screen[0], /^lsprobe demo +42\.5s +phase: the story is told$/);
  assert.ok(screen.some((l) => /^r1>r2>r4>r6 +up +0\.40 ms +3\.00 ms +5\.0% +500 +20$/.test(l)), screen.join("\n"));
  assert.ok(screen.includes("suspect links: r2 -> r4 (loss 5.0%, not told apart from its group)"));
  // The newest events, in order, then the footer, at the bottom.
  assert.deepEqual(screen.slice(-5), [story[story.length - 2], story[story.length - 1], "", ...footer]);
  assert.ok(!screen.includes(story[0]), "the oldest events give way");
  assert.match(screen.find((l) => /earlier events? not shown/.test(l)) ?? "", /^\(\d+ earlier events not shown\)$/);
  // A tall terminal shows the whole story, with no note.
  const tall = renderScreen(snap, story, [], { rows: 60, columns: 160 });
  assert.deepEqual(tall.slice(-story.length), story);
  assert.ok(!tall.some((l) => /not shown/.test(l)));
  // Before the lab is up there is no table yet, only the events.
  const early = renderScreen({ elapsedS: 0.1, phase: "starting the lab" }, ["[  0.0s] building the lab"]);
  assert.deepEqual(early, ["lsprobe demo    0.1s  phase: starting the lab", "", "(the lab is starting)", "", "[  0.0s] building the lab"]);
});

test("the timings line names what differs from production's defaults", () => {
  assert.equal(
    timingsLine({ lossWindow: 5000, timeout: 250 }, { lossWindow: 30_000, timeout: 1000 }),
    "timings: the lab's prober runs with loss-window 5s and timeout 250ms (production defaults: 30s and 1s) so that a loss shows, and a repair clears, within seconds and the story fits in about 20 s",
  );
  assert.match(timingsLine({ lossWindow: 30_000, timeout: 1000 }, { lossWindow: 30_000, timeout: 1000 }), /production's defaults \(loss-window 30s, timeout 1s\)$/);
});

test("demo and labctl: --help, --version, a bad argument, labctl without a command", () => {
  const version = run(DEMO, ["--version"]);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^lsprobe-demo \S+ \(revision \S+, built \S+, node v\d+/);
  const help = run(DEMO, ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: lsprobe-demo /);
  assert.match(help.stdout, /--keep/);
  for (const [args, message] of [
    [["--bogus"], "lsprobe-demo: unknown option --bogus (see --help)\n"],
    [["--gray", "7"], 'lsprobe-demo: --gray: expected a share in (0, 1], got "7" (see --help)\n'],
    [["--encap", "srv6", "--exabgp", "4.2"], 'lsprobe-demo: --encap srv6: needs --exabgp 5.0 (the default with --encap srv6): ExaBGP 4.2.21 cannot decode the End.X SID TLV (1106), got "4.2" (see --help)\n'],
    [["--encap", "srv6", "--family", "ipv4"], "lsprobe-demo: --encap srv6: SRv6 probes are IPv6: give --family ipv6 (the default with --encap srv6) or dual (see --help)\n"],
    [["--encap", "ipip"], 'lsprobe-demo: --encap: expected gre, srv6 or sr-mpls, got "ipip" (see --help)\n'],
  ] as const) {
    const r = run(DEMO, [...args]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [2, "", message], args.join(" "));
  }

  const ctlHelp = run(LABCTL, ["--help"]);
  assert.equal(ctlHelp.code, 0);
  assert.match(ctlHelp.stdout, /^Usage: labctl COMMAND/);
  assert.match(ctlHelp.stdout, /gray A B SHARE/);
  assert.match(ctlHelp.stdout, /LSPROBE_LAB_SOCKET/);
  const none = run(LABCTL, []);
  assert.deepEqual([none.code, none.stdout], [2, ""]);
  assert.match(none.stderr, /^Usage: labctl COMMAND/);
  const bad = run(LABCTL, ["grey", "r2", "r4", "0.05"]);
  assert.deepEqual([bad.code, bad.stdout], [2, ""]);
  assert.match(bad.stderr, /^labctl: unknown command "grey" .*\(see --help\)\n$/);
  const noLab = run(LABCTL, ["clear"], { ...process.env, LSPROBE_LAB_SOCKET: "/nonexistent/lab.sock" });
  assert.equal(noLab.code, 1);
  assert.match(noLab.stderr, /^labctl: no lab at \/nonexistent\/lab\.sock /);
});

test("build-if-stale builds only when a source is newer than dist/buildinfo.json, and says so", () => {
  const root = mkdtempSync(path.join(tmpdir(), "lsprobe-build-if-stale-"));
  try {
    mkdirSync(path.join(root, "scripts"));
    mkdirSync(path.join(root, "src/deep"), { recursive: true });
    copyFileSync(BUILD_IF_STALE, path.join(root, "scripts/build-if-stale.mjs"));
    // A stand-in for tsc + buildinfo.mjs: counts its runs, writes the stamp last.
    const build = "node -e \"const f=require('fs');f.appendFileSync('builds','x');f.mkdirSync('dist',{recursive:true});f.writeFileSync('dist/buildinfo.json','{}')\"";
    writeFileSync(path.join(root, "package.json"), JSON.stringify({ name: "t", scripts: { build } }));
    writeFileSync(path.join(root, "tsconfig.json"), JSON.stringify({ include: ["src/**/*.ts"] }));
    writeFileSync(path.join(root, "src/deep/a.ts"), "export {};\n");
    const past = new Date(Date.now() - 60_000);
    for (const f of ["package.json", "tsconfig.json", "src/deep/a.ts"]) utimesSync(path.join(root, f), past, past);
    const go = (): { code: number | null; stdout: string; builds: number } => {
      const r = run(path.join(root, "scripts/build-if-stale.mjs"), []);
      let builds = 0;
      try {
        builds = readFileSync(path.join(root, "builds"), "utf8").length;
      } catch {
        /* none yet */
      }
      return { code: r.code, stdout: r.stdout, builds };
    };
    assert.deepEqual(go(), { code: 0, stdout: "building lsprobe (tsc, about 15 s; dist/ has no build yet)...\n", builds: 1 });
    assert.deepEqual(go(), { code: 0, stdout: "", builds: 1 }, "current: no build, not a word");
    const future = new Date(Date.now() + 60_000);
    utimesSync(path.join(root, "src/deep/a.ts"), future, future);
    assert.deepEqual(go(), { code: 0, stdout: "building lsprobe (tsc, about 15 s; src/deep/a.ts changed since the last build)...\n", builds: 2 });
    utimesSync(path.join(root, "src/deep/a.ts"), past, past);
    utimesSync(path.join(root, "tsconfig.json"), future, future);
    assert.match(go().stdout, /; tsconfig\.json changed since the last build\)\.\.\.\n$/);
    utimesSync(path.join(root, "tsconfig.json"), past, past);
    writeFileSync(path.join(root, "package.json"), JSON.stringify({ name: "t", scripts: { build: "exit 3" } }));
    const failed = run(path.join(root, "scripts/build-if-stale.mjs"), []);
    assert.equal(failed.code, 3);
    assert.match(failed.stderr, /^build-if-stale: the build failed \(3\)/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
