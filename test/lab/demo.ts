// `sudo npm run demo`: lsprobe on the embedded lab, telling the NANOG 76 story on its own.
//
//   healthy -> gray failure on r2 -> r4 (detected, r2-r4 named) -> repaired ->
//   control-plane failure of r2-r4 (withdrawn, the path set shrinks, probes follow) -> repaired
//
// Options: --topology FILE (lab YAML or ../shared/topologies JSON), --keep (leave the lab up
// until Ctrl-C), --no-tty (plain lines instead of a redrawn screen; what the test reads),
// --gray SHARE (default 0.2), --phase-seconds N (the healthy phase, default 6).
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LabStack, type ProberView } from "./stack.js";
import { Lab } from "./netns.js";
import { loadLabTopology } from "./topology-file.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const CONTROL_SOCKET = "/run/lsprobe-lab.sock";
const REPO = path.resolve(HERE, "../../..");

interface Args {
  topology: string;
  keep: boolean;
  tty: boolean;
  gray: number;
  phaseSeconds: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { topology: path.join(REPO, "test/lab/topologies/nanog6.yaml"), keep: false, tty: process.stdout.isTTY === true, gray: 0.2, phaseSeconds: 6 };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    if (x === "--topology") a.topology = path.resolve(argv[++i] ?? "");
    else if (x === "--keep") a.keep = true;
    else if (x === "--no-tty") a.tty = false;
    else if (x === "--gray") a.gray = Number(argv[++i]);
    else if (x === "--phase-seconds") a.phaseSeconds = Number(argv[++i]);
    else if (x === "--help" || x === "-h") {
      process.stdout.write("Usage: sudo npm run demo -- [--topology FILE] [--keep] [--no-tty] [--gray SHARE] [--phase-seconds N]\n");
      process.exit(0);
    } else throw new Error(`unknown argument ${x} (see --help)`);
  }
  if (!(a.gray > 0 && a.gray <= 1)) throw new Error("--gray: a share in (0, 1]");
  return a;
}

/** What the demo needs from the machine; installs what is missing when it can, else says what to run. */
function preflight(): void {
  if (process.getuid?.() !== 0) throw new Error("the lab needs root (network namespaces, raw sockets): run `sudo npm run demo`");
  const missing: string[] = [];
  if (!existsSync("/usr/sbin/exabgp") && !existsSync("/usr/bin/exabgp")) missing.push("exabgp");
  if (!existsSync("/usr/sbin/ip") && !existsSync("/usr/bin/ip") && !existsSync("/sbin/ip")) missing.push("iproute2");
  if (missing.length === 0) return;
  if (!existsSync("/usr/bin/apt-get")) throw new Error(`missing: ${missing.join(", ")}; install them with your package manager`);
  say(`installing ${missing.join(", ")} (apt-get install -y ${missing.join(" ")})`);
  const r = spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (r.status !== 0) throw new Error(`apt-get failed; run: sudo apt-get update && sudo apt-get install -y ${missing.join(" ")}`);
}

let tty = false;
const t0 = Date.now();
const clock = (): string => `${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s`;
/** The story so far: printed as it happens without a terminal, kept under the live view with one. */
const events: string[] = [];
function say(line: string): void {
  events.push(`[${clock()}] ${line}`);
  if (!tty) process.stdout.write(`${events[events.length - 1]}\n`);
}

const ms = (s: number | null): string => (s === null ? "-" : `${(s * 1000).toFixed(2)} ms`);
const pct = (r: number | null): string => (r === null ? "-" : `${(r * 100).toFixed(1)}%`);

function render(stack: LabStack, phase: string): string[] {
  const v = stack.view;
  const set = stack.pathSet();
  const lines = [
    `lsprobe demo  ${clock()}  phase: ${phase}`,
    `path set generation ${set?.generation ?? "-"}: ${set?.paths.filter((p) => p.src === stack.host.router).length ?? 0} paths from ${stack.host.router}; probing ${v?.paths.length ?? 0} at ${v?.schedule.rate ?? 0} probes/s`,
    "",
    `${"PATH".padEnd(24)} ${"STATE".padEnd(7)} ${"RTT p50".padStart(10)} ${"RTT p99".padStart(10)} ${"LOSS".padStart(7)} ${"SENT".padStart(7)} ${"LOST".padStart(6)}`,
  ];
  for (const p of v?.paths ?? [])
    lines.push(`${p.hops.padEnd(24)} ${p.state.padEnd(7)} ${ms(p.rttP50Seconds).padStart(10)} ${ms(p.rttP99Seconds).padStart(10)} ${pct(p.lossRatio).padStart(7)} ${String(p.sent).padStart(7)} ${String(p.lost).padStart(6)}`);
  const sus = v?.suspects ?? [];
  lines.push("", `suspect links: ${sus.length === 0 ? "none" : sus.map((s) => `${s.from} -> ${s.to} (loss ${pct(s.loss)}${s.identifiable ? "" : ", not told apart from its group"})`).join(", ")}`);
  if (tty) lines.push("", ...events.slice(-8));
  return lines;
}

async function phase(stack: LabStack, name: string, until: (v: ProberView) => boolean, timeoutS: number, minS = 0): Promise<boolean> {
  say(`== ${name}`);
  const start = Date.now();
  let lastPlain = 0;
  for (;;) {
    const elapsed = (Date.now() - start) / 1000;
    const done = stack.view !== undefined && elapsed >= minS && until(stack.view);
    if (tty) process.stdout.write(`\x1b[H\x1b[2J${render(stack, name).join("\n")}\n`);
    else if (Date.now() - lastPlain >= 2000 || done) {
      lastPlain = Date.now();
      for (const l of render(stack, name).slice(1)) if (l) process.stdout.write(`           ${l}\n`);
    }
    if (done) return true;
    if (elapsed > timeoutS) {
      say(`   (gave up after ${timeoutS} s)`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  tty = args.tty;
  preflight();
  const topo = loadLabTopology(args.topology);
  const stale = await Lab.cleanupStale();
  if (stale.length) say(`removed a stale lab: ${stale.join(", ")}`);
  say(`building the lab from ${path.relative(process.cwd(), args.topology) || args.topology}: ${topo.routers.length} routers, ${topo.links.length} links, prober in ${topo.hosts[0]?.name}`);
  const stack = await LabStack.start(topo, { convergenceMs: 1000 });
  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      say("tearing down the lab");
      if (tty) process.stdout.write(`${events.slice(-1)[0]}\n`);
      await stack.stop();
      const left = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n").filter((l) => l.startsWith(stack.lab.prefix));
      say(left.length === 0 ? "lab removed: no namespace, process or socket left" : `WARNING: namespaces left behind: ${left.join(", ")}`);
      if (tty) process.stdout.write(`${events.slice(-1)[0]}\n`);
    }
    process.exit(code);
  };
  process.once("SIGINT", () => void stop(130));
  process.once("SIGTERM", () => void stop(143));
  say(`lab up: ExaBGP with the plugin, two BGP-LS speakers (as ${topo.routers[0].name} and ${topo.routers[topo.routers.length - 1].name}), prober in ${stack.host.name}${stack.prometheusUrl ? ", Prometheus in " + stack.host.name : " (Prometheus not installed: skipped)"}`);

  // The link the story breaks: the middle link of the first path (r2 -> r4 on NANOG 6).
  const first = stack.pathSet()!.paths.find((p) => p.src === stack.host.router)!;
  const mid = first.links[Math.floor((first.links.length - 1) / 2)];
  const [a, b] = [mid.from, mid.to];
  const named = (v: ProberView): boolean => v.suspects.length > 0 && [v.suspects[0].from, v.suspects[0].to].sort().join() === [a, b].sort().join();
  const allUp = (v: ProberView): boolean => v.paths.length > 0 && v.paths.every((p) => p.state === "up") && v.suspects.length === 0;
  const before = first ? stack.pathSet()!.paths.filter((p) => p.src === stack.host.router).length : 0;
  let ok = true;

  ok = (await phase(stack, "1/5 healthy: every equal-cost path probed out and back", allUp, 30, args.phaseSeconds)) && ok;

  stack.gray(a, b, args.gray);
  say(`gray failure: ${a} -> ${b} drops ${Math.round(args.gray * 100)}% of packets one way; BGP-LS sees nothing`);
  if (await phase(stack, `2/5 gray failure on ${a} -> ${b}`, named, 30)) {
    const v = stack.view!;
    say(`DETECTED: link ${v.suspects[0].from} -> ${v.suspects[0].to} suspected; failing: ${v.paths.filter((p) => p.state !== "up" || (p.lossRatio ?? 0) > 0.02).map((p) => p.hops).join(", ")}`);
  } else ok = false;

  stack.clearFaults();
  say(`repaired ${a} -> ${b}`);
  ok = (await phase(stack, "3/5 repaired", allUp, 30)) && ok;
  if (stack.view && allUp(stack.view)) say("RECOVERED: all paths up, no suspect link");

  const gen = stack.pathSet()!.generation;
  await stack.linkDown(a, b);
  say(`control-plane failure: link ${a}-${b} down and withdrawn over BGP-LS`);
  const shrunk = (): boolean => {
    const s = stack.pathSet()!;
    const n = s.paths.filter((p) => p.src === stack.host.router).length;
    return s.generation > gen && n < before && (stack.view?.paths.length ?? 0) === n;
  };
  if (await phase(stack, `4/5 control-plane failure of ${a}-${b}`, (v) => shrunk() && v.paths.every((p) => p.state === "up"), 30)) {
    const s = stack.pathSet()!;
    say(`DETECTED: path set generation ${s.generation} has ${s.paths.filter((p) => p.src === stack.host.router).length} paths (was ${before}); probes follow, none crosses ${a}-${b}`);
  } else ok = false;

  await stack.linkUp(a, b);
  say(`repaired ${a}-${b}: announced again`);
  const restored = (v: ProberView): boolean => stack.pathSet()!.paths.filter((p) => p.src === stack.host.router).length === before && v.paths.length === before && allUp(v);
  if (await phase(stack, "5/5 repaired", restored, 30)) say(`RECOVERED: ${before} paths again, all up`);
  else ok = false;

  say(ok ? "the story is told: healthy, gray failure named, repaired, control-plane failure followed, repaired" : "some step of the story did not happen in time (see above)");
  if (args.keep) {
    say(`--keep: the lab stays up. Namespaces: ${stack.lab.namespaces().join(" ")}`);
    await stack.serveControl(CONTROL_SOCKET);
    say(`explore: ip netns exec ${stack.lab.ns(stack.host.name)} sh; path set: ${stack.pathsFile}`);
    say(`inject faults: sudo node dist/test/lab/labctl.js gray r2 r4 0.05 (also delay, congest, link-down, router-down, clear, status). Ctrl-C tears it down.`);
    await new Promise(() => {});
  }
  return stop(ok ? 0 : 1);
}

main().catch((e: unknown) => {
  process.stderr.write(`lsprobe demo: ${(e as Error).message}\n`);
  process.exit(1);
});
