// `sudo npm run demo`: lsprobe on the embedded lab, telling the NANOG 76 story on its own.
//
//   healthy -> gray failure on r2 -> r4 (detected, r2-r4 named, the pinned trace of the path
//   across it shows the loss starting at the r2 -> r4 hop) -> repaired ->
//   control-plane failure of r2-r4 (withdrawn, the path set shrinks, probes follow) -> repaired
//
// Options: see CLI below (`--help`). The screen: with a terminal, a live view redrawn every
// second (title, path table, suspect line, the latest events, and with --keep the lab's names and
// the labctl hints) that keeps refreshing while --keep holds the lab; without one (--no-tty,
// what the test reads), plain lines, and with --keep a status block every 5 s.
//
// The pure part (renderTable, renderScreen, timingsLine) takes values and returns lines; the
// shell below owns the lab, the clock, the timer and stdout. Importing this file runs nothing.
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LabStack, type ProberView } from "./stack.js";
import { Lab, type LabFamily } from "./netns.js";
import { exabgpPrograms, type ExabgpProgram } from "./exabgp.js";
import { SHARED_DIR } from "../util/shared.js";
import { loadLabTopology } from "./topology-file.js";
import { parseCommandLine, usageError, type CliSpec, type CliStreams } from "../../shared/cli.js";
import { formatDuration, parseConfig, type ProberConfig } from "../../shared/config.js";
import { formatTrace, type TraceResult } from "../../prober/trace.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const CONTROL_SOCKET = "/run/lsprobe-lab.sock";
const REPO = path.resolve(HERE, "../../..");
const DEFAULT_TOPOLOGY = "test/lab/topologies/nanog6.yaml";

/** --encap as the story says it. */
const ENCAP_NAMES: Readonly<Record<"srv6" | "sr-mpls", string>> = { srv6: "SRv6 End.X SIDs", "sr-mpls": "SR-MPLS Adj-SID labels" };

export const CLI: CliSpec = {
  program: "lsprobe-demo",
  synopsis: "[options]        (as root; from the repository: sudo npm run demo -- [options])",
  summary: `lsprobe on an embedded network-namespace lab, telling a story on its own in about 20 s:
healthy; a gray failure on one link (loss one way, which BGP-LS never sees) detected and the
link named; repaired; a control-plane failure of that link (withdrawn over BGP-LS: the path set
shrinks and the probes follow); repaired; teardown. Exits 0 when every step happened in time,
1 when one did not.`,
  options: {
    topology: { type: "string", arg: "FILE", doc: `the lab's YAML (test/lab/topologies/) or a ../shared/topologies edge list (JSON) (default ${DEFAULT_TOPOLOGY})` },
    keep: { type: "boolean", doc: "after the story, leave the lab up (live view refreshing, faults from labctl) until Ctrl-C" },
    "no-tty": { type: "boolean", doc: "plain lines instead of the redrawn screen (the default when stdout is not a terminal)" },
    gray: { type: "string", arg: "SHARE", default: "0.2", doc: "share of packets the gray failure drops, in (0, 1]" },
    "phase-seconds": { type: "string", arg: "N", default: "6", doc: "seconds of the healthy phase" },
    family: { type: "string", arg: "FAMILY", doc: "what the lab's BGP-LS reports and the prober probes: ipv4, ipv6 (an IPv6-only lab) or dual (default ipv4; ipv6 with --encap srv6)" },
    exabgp: { type: "string", arg: "VERSION", doc: "the ExaBGP to run: 4.2 (Debian's) or 5.0 (5.0.13 from ../shared/tools/exabgp5) (default 4.2; 5.0 with --encap srv6)" },
    encap: {
      type: "string",
      arg: "ENCAP",
      default: "gre",
      doc: "how the probes are pinned: gre (a GRE layer per hop, stripped by each router's decapsulator), srv6 (the routers' End.X SIDs on the kernel's seg6local where it has it, else on the routers' userspace End.X helper; no tunnel decapsulator anywhere; IPv6 and ExaBGP 5.0) or sr-mpls (Adj-SID labels on the lab's userspace label switcher, MPLS-in-UDP)",
    },
  },
  epilog: `With --keep, faults from another shell (labctl --help for the list):
  sudo node dist/test/lab/labctl.js gray r2 r4 0.05
  sudo node dist/test/lab/labctl.js link-down r2 r4

The lab's prober reacts faster than production's defaults do (a shorter loss window and probe
timeout, set in test/lab/stack.ts), so that the story fits in about 20 s; once the lab is up the
demo says which settings differ and what their defaults are.`,
};

export interface DemoArgs {
  topology: string;
  keep: boolean;
  tty: boolean;
  gray: number;
  phaseSeconds: number;
  exabgp: ExabgpProgram;
  family: LabFamily;
  /** prober.encap: the tunnel, or segment routing (StackOptions.sr). */
  encap: "gre" | "srv6" | "sr-mpls";
}

/** argv (without node and the script) to the demo's arguments, or how to exit (--help, --version, a bad argument). */
export function parseDemoArgs(argv: readonly string[], isTTY: boolean, io: CliStreams = process): { kind: "run"; args: DemoArgs } | { kind: "exit"; code: number } {
  const cli = parseCommandLine(CLI, argv, io);
  if (cli.kind === "exit") return cli;
  const bad = (message: string): { kind: "exit"; code: number } => {
    usageError(CLI, message, io);
    return { kind: "exit", code: 2 };
  };
  const v = cli.values;
  const gray = Number(v.gray);
  if (!(gray > 0 && gray <= 1)) return bad(`--gray: expected a share in (0, 1], got ${JSON.stringify(v.gray)}`);
  const phaseSeconds = Number(v["phase-seconds"]);
  if (!(Number.isFinite(phaseSeconds) && phaseSeconds >= 0)) return bad(`--phase-seconds: expected a number of seconds >= 0, got ${JSON.stringify(v["phase-seconds"])}`);
  const topology = path.resolve(typeof v.topology === "string" ? v.topology : path.join(REPO, DEFAULT_TOPOLOGY));
  if (!existsSync(topology)) return bad(`--topology: no such file ${topology}`);
  const encap = v.encap as DemoArgs["encap"];
  if (encap !== "gre" && encap !== "srv6" && encap !== "sr-mpls") return bad(`--encap: expected gre, srv6 or sr-mpls, got ${JSON.stringify(v.encap)}`);
  const srv6 = encap === "srv6";
  const family = (typeof v.family === "string" ? v.family : srv6 ? "ipv6" : "ipv4") as LabFamily;
  if (family !== "ipv4" && family !== "ipv6" && family !== "dual") return bad(`--family: expected ipv4, ipv6 or dual, got ${JSON.stringify(v.family)}`);
  if (srv6 && family === "ipv4") return bad("--encap srv6: SRv6 probes are IPv6: give --family ipv6 (the default with --encap srv6) or dual");
  const programs = exabgpPrograms(SHARED_DIR);
  const version = typeof v.exabgp === "string" ? v.exabgp : srv6 ? "5.0" : "4.2";
  if (srv6 && version !== "5.0") return bad(`--encap srv6: needs --exabgp 5.0 (the default with --encap srv6): ExaBGP 4.2.21 cannot decode the End.X SID TLV (1106), got ${JSON.stringify(version)}`);
  const exabgp = programs.find((p) => p.version === version);
  if (!exabgp) {
    if (srv6) return bad("--encap srv6: needs ExaBGP 5.0 (../shared/tools/exabgp5), which is not beside this checkout: 4.2.21 cannot decode the End.X SID TLV (1106)");
    return bad(`--exabgp: expected one of ${programs.map((p) => p.version).join(", ") || "(none installed)"}, got ${JSON.stringify(version)}`);
  }
  return { kind: "run", args: { topology, keep: v.keep === true, tty: isTTY && v["no-tty"] !== true, gray, phaseSeconds, exabgp, family, encap } };
}

// ---- the pure part: values in, lines out ----

/** What one frame shows, besides the events. */
export interface Snapshot {
  /** Seconds since the demo started. */
  elapsedS: number;
  phase: string;
  /** The router the prober hangs off; undefined until the lab is up. */
  router?: string;
  /** The plugin's path set: its generation and how many of its paths start at `router`. */
  generation?: number;
  pathsFromRouter?: number;
  /** The prober's latest /paths. */
  view?: ProberView;
}

export const clockText = (s: number): string => `${s.toFixed(1).padStart(5)}s`;
const ms = (s: number | null): string => (s === null ? "-" : `${(s * 1000).toFixed(2)} ms`);
const pct = (r: number | null): string => (r === null ? "-" : `${(r * 100).toFixed(1)}%`);

/** The path set, one row per probed path, the suspect links: the live view's middle and the plain status block. */
export function renderTable(s: Snapshot): string[] {
  const v = s.view;
  if (s.router === undefined) return ["(the lab is starting)"];
  const lines = [
    `path set generation ${s.generation ?? "-"}: ${s.pathsFromRouter ?? 0} paths from ${s.router}; probing ${v?.paths.length ?? 0} at ${v?.schedule.rate ?? 0} probes/s`,
    "",
    `${"PATH".padEnd(24)} ${"STATE".padEnd(7)} ${"RTT p50".padStart(10)} ${"RTT p99".padStart(10)} ${"LOSS".padStart(7)} ${"SENT".padStart(7)} ${"LOST".padStart(6)}`,
  ];
  // Dual stack: each path is probed once per family, so the rows and suspects say which.
  const dual = new Set((v?.paths ?? []).map((p) => p.af)).size > 1;
  const fam = (af: string): string => (dual ? ` ${af}` : "");
  for (const p of v?.paths ?? [])
    lines.push(`${(p.hops + fam(p.af)).padEnd(24)} ${p.state.padEnd(7)} ${ms(p.rttP50Seconds).padStart(10)} ${ms(p.rttP99Seconds).padStart(10)} ${pct(p.lossRatio).padStart(7)} ${String(p.sent).padStart(7)} ${String(p.lost).padStart(6)}`);
  const sus = v?.suspects ?? [];
  lines.push("", `suspect links: ${sus.length === 0 ? "none" : sus.map((x) => `${x.from} -> ${x.to}${fam(x.af)} (loss ${pct(x.loss)}${x.identifiable ? "" : ", not told apart from its group"})`).join(", ")}`);
  return lines;
}

/** Events shown when the terminal's height is unknown. */
const EVENTS_UNSIZED = 12;

/**
 * The whole redrawn screen: title, table, then the latest events (as many as fit in `rows`,
 * counting the rows a long line wraps onto, the newest always), then `footer` (pinned: with
 * --keep, the lab's names and the labctl hints). One row is left free for the cursor.
 */
export function renderScreen(s: Snapshot, events: readonly string[], footer: readonly string[] = [], size: { rows?: number; columns?: number } = {}): string[] {
  const head = [`lsprobe demo  ${clockText(s.elapsedS)}  phase: ${s.phase}`, "", ...renderTable(s), ""];
  const tail = footer.length > 0 ? ["", ...footer] : [];
  const cols = size.columns && size.columns > 0 ? size.columns : Infinity;
  const height = (l: string): number => (cols === Infinity ? 1 : Math.max(1, Math.ceil(l.length / cols)));
  const used = [...head, ...tail].reduce((n, l) => n + height(l), 0);
  let budget = size.rows && size.rows > 0 ? size.rows - 1 - used : EVENTS_UNSIZED;
  const shown: string[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const h = size.rows ? height(events[i]) : 1;
    // The newest event is shown even when it does not fit; the others only while they do, one row kept for the "earlier" note.
    const earlier = i > 0 ? 1 : 0;
    if (shown.length > 0 && h + earlier > budget) break;
    shown.unshift(events[i]);
    budget -= h;
  }
  const hidden = events.length - shown.length;
  return [...head, ...(hidden > 0 ? [`(${hidden} earlier event${hidden === 1 ? "" : "s"} not shown)`] : []), ...shown, ...tail];
}

type Timings = Pick<ProberConfig, "lossWindow" | "timeout">;
/** The prober's timing settings the story depends on, with their keys in the YAML. */
const TIMINGS: ReadonlyArray<readonly [keyof Timings, string]> = [
  ["lossWindow", "loss-window"],
  ["timeout", "timeout"],
];

/** One line: which timings the lab's prober changes from production's defaults, and why. */
export function timingsLine(lab: Timings, defaults: Timings): string {
  const changed = TIMINGS.filter(([k]) => lab[k] !== defaults[k]);
  if (changed.length === 0) return `timings: the lab's prober runs with production's defaults (${TIMINGS.map(([k, key]) => `${key} ${formatDuration(defaults[k])}`).join(", ")})`;
  const ours = changed.map(([k, key]) => `${key} ${formatDuration(lab[k])}`).join(" and ");
  const theirs = changed.map(([k]) => formatDuration(defaults[k])).join(" and ");
  return `timings: the lab's prober runs with ${ours} (production defaults: ${theirs}) so that a loss shows, and a repair clears, within seconds and the story fits in about 20 s`;
}

// ---- the shell: the lab, the clock, the screen ----

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

/** The lab's prober settings (the config LabStack.writeConfig wrote, test/lab/stack.ts) against the schema's defaults. */
function labTimings(stack: LabStack): string {
  const file = path.join(stack.dir, "lsprobe.yaml");
  try {
    const lab = parseConfig(readFileSync(file, "utf8"), file, "prober").prober;
    const defaults = parseConfig("prober:\n  source: 192.0.2.1\n", "(defaults)", "prober").prober;
    if (!lab || !defaults) throw new Error("no prober section");
    return timingsLine(lab, defaults);
  } catch (e) {
    return `timings: could not read the lab's prober config ${file} (${(e as Error).message})`;
  }
}

const t0 = Date.now();
const clock = (): string => clockText((Date.now() - t0) / 1000);
const sleep = (msec: number): Promise<void> => new Promise((r) => setTimeout(r, msec));

let tty = false;
/** The redrawn screen is up (from the lab's start to the exit). */
let live = false;
/** The story so far: printed as it happens without a terminal, drawn under the table with one. */
const events: string[] = [];
/** With a terminal and --keep: the lab's names and the labctl hints, pinned under the events. */
let footer: string[] = [];
let stackNow: LabStack | undefined;
/** Taken at teardown: the last frame's table, as the lab was. */
let frozen: Snapshot | undefined;
let phaseName = "starting the lab";
let lastPlain = 0;

function snapshot(): Snapshot {
  const elapsedS = (Date.now() - t0) / 1000;
  if (frozen) return { ...frozen, elapsedS, phase: phaseName };
  const st = stackNow;
  if (!st) return { elapsedS, phase: phaseName };
  const set = st.pathSet();
  return { elapsedS, phase: phaseName, router: st.host.router, generation: set?.generation, pathsFromRouter: set?.paths.filter((p) => p.src === st.host.router).length, view: st.view };
}

function draw(): void {
  if (!live) return;
  const lines = renderScreen(snapshot(), events, footer, { rows: process.stdout.rows, columns: process.stdout.columns });
  process.stdout.write(`\x1b[H\x1b[J${lines.join("\n")}\n`);
}

function say(line: string): void {
  events.push(`[${clock()}] ${line}`);
  if (live) draw();
  else process.stdout.write(`${events[events.length - 1]}\n`);
}

/** Without a terminal: the table as indented plain lines, under an optional header line. */
function plainBlock(header?: string): void {
  lastPlain = Date.now();
  if (header) process.stdout.write(`[${clock()}] ${header}\n`);
  for (const l of renderTable(snapshot())) if (l) process.stdout.write(`           ${l}\n`);
}

/** Without a terminal, a table every PLAIN_PHASE_MS during a phase and every PLAIN_KEEP_MS while --keep holds the lab. */
const PLAIN_PHASE_MS = 2000;
const PLAIN_KEEP_MS = 5000;
let plainEvery: number | undefined;

/** Redraws the screen every second (with a terminal), or prints the plain status block when due. */
function startTicker(): NodeJS.Timeout {
  return setInterval(() => {
    if (tty) draw();
    else if (plainEvery !== undefined && Date.now() - lastPlain >= plainEvery) plainBlock(plainEvery === PLAIN_KEEP_MS ? "status (lab kept up; Ctrl-C tears it down)" : undefined);
  }, 1000);
}

async function phase(stack: LabStack, name: string, until: (v: ProberView) => boolean, timeoutS: number, minS = 0): Promise<boolean> {
  phaseName = name;
  say(`== ${name}`);
  if (!tty) plainBlock();
  plainEvery = PLAIN_PHASE_MS;
  const start = Date.now();
  try {
    for (let first = true; ; first = false) {
      const elapsed = (Date.now() - start) / 1000;
      if (stack.view !== undefined && elapsed >= minS && until(stack.view)) {
        // The table as it was when the step happened (unless the one above, just printed, shows it).
        if (tty) draw();
        else if (!first) plainBlock();
        return true;
      }
      if (elapsed > timeoutS) {
        say(`   (gave up after ${timeoutS} s)`);
        return false;
      }
      await sleep(250);
    }
  } finally {
    plainEvery = undefined;
  }
}

/**
 * The second opinion: the prober traces a path that crosses a link turned suspect (out to each
 * hop and back, prober/trace.ts); its last trace, in /paths, names the hop where loss starts.
 */
async function traceStory(stack: LabStack, hops: string): Promise<void> {
  const traced = (): TraceResult | undefined => (stack.view?.paths as Array<{ hops: string; trace?: TraceResult }> | undefined)?.find((p) => p.hops === hops)?.trace;
  for (const end = Date.now() + 15_000; !traced() && Date.now() < end; ) await sleep(250);
  const t = traced();
  if (!t) return say(`TRACE: no trace of ${hops} within 15 s`);
  say(`TRACE: ${t.summary}`);
  for (const l of formatTrace(t).slice(1, -1)) say(`  ${l}`);
}

async function main(): Promise<number> {
  const parsed = parseDemoArgs(process.argv.slice(2), process.stdout.isTTY === true);
  if (parsed.kind === "exit") return parsed.code;
  const args = parsed.args;
  tty = args.tty;
  preflight();
  const topo = loadLabTopology(args.topology);
  live = tty;
  const ticker = startTicker();
  const stale = await Lab.cleanupStale();
  if (stale.length) say(`removed a stale lab: ${stale.join(", ")}`);
  say(`building the lab from ${path.relative(process.cwd(), args.topology) || args.topology}: ${topo.routers.length} routers, ${topo.links.length} links, prober in ${topo.hosts[0]?.name}, ExaBGP ${args.exabgp.version}, ${args.family === "dual" ? "dual stack" : args.family === "ipv6" ? "IPv6 only" : "IPv4"}${args.encap === "gre" ? "" : `, probes pinned by ${ENCAP_NAMES[args.encap]}`}`);
  const stack = await LabStack.start(topo, { convergenceMs: 1000, exabgp: args.exabgp, family: args.family, ...(args.encap === "gre" ? {} : { sr: args.encap }) });
  stackNow = stack;
  let stopping = false;
  const stop = async (code: number, why?: string): Promise<never> => {
    if (!stopping) {
      stopping = true;
      frozen = snapshot();
      phaseName = "teardown";
      footer = [];
      say(why ? `${why}: tearing down the lab` : "tearing down the lab");
      await stack.stop();
      clearInterval(ticker);
      const left = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n").filter((l) => l.startsWith(stack.lab.prefix));
      phaseName = "done";
      say(left.length === 0 ? "lab removed: no namespace, process or socket left" : `WARNING: namespaces left behind: ${left.join(", ")}`);
    }
    process.exit(code);
  };
  process.once("SIGINT", () => void stop(130, "interrupted (SIGINT)"));
  process.once("SIGTERM", () => void stop(143, "terminated (SIGTERM)"));
  say(`lab up: ExaBGP with the plugin, two BGP-LS speakers (as ${topo.routers[0].name} and ${topo.routers[topo.routers.length - 1].name}), prober in ${stack.host.name}${stack.prometheusUrl ? ", Prometheus in " + stack.host.name : " (Prometheus not installed: skipped)"}`);
  say(stack.lab.decapSummary);
  if (args.encap !== "gre") say(`${stack.lab.srSummary}; the prober pins every probe with ${ENCAP_NAMES[args.encap]} (prober.encap ${args.encap}): no router decapsulates a tunnel`);
  say(labTimings(stack));
  const decapBefore = await stack.lab.decapCounters();

  // The link the story breaks: the middle link of the first path (r2 -> r4 on NANOG 6).
  const first = stack.pathSet()!.paths.find((p) => p.src === stack.host.router)!;
  const mid = first.links[Math.floor((first.links.length - 1) / 2)];
  const [a, b] = [mid.from, mid.to];
  const named = (v: ProberView): boolean => v.suspects.length > 0 && [v.suspects[0].from, v.suspects[0].to].sort().join() === [a, b].sort().join();
  const allUp = (v: ProberView): boolean => v.paths.length > 0 && v.paths.every((p) => p.state === "up") && v.suspects.length === 0;
  const before = first ? stack.pathSet()!.paths.filter((p) => p.src === stack.host.router).length : 0;
  // Entries the prober probes per path: one per family (dual stack: two).
  const perPath = stack.family === "dual" ? 2 : 1;
  let ok = true;

  ok = (await phase(stack, "1/5 healthy: every equal-cost path probed out and back", allUp, 30, args.phaseSeconds)) && ok;
  if (args.encap !== "gre") {
    // The routers' tunnel decapsulators (IPv4 and IPv6) saw nothing while every path was probed.
    const now = await stack.lab.decapCounters();
    const sum = (c: typeof now, of: (x: (typeof now)[string]) => number): number => Object.values(c).reduce((n, x) => n + of(x), 0);
    const since = (of: (x: (typeof now)[string]) => number): number => sum(now, of) - sum(decapBefore, of);
    const entries = stack.view?.paths.filter((p) => p.encap === args.encap).length ?? 0;
    const kernel = args.encap === "srv6" && stack.lab.srv6Mode === "kernel";
    const by =
      args.encap === "sr-mpls"
        ? ` (the userspace label switchers forwarded ${since((x) => x.mpls?.forwarded ?? 0)} labelled packets)`
        : kernel
          ? " (the kernel's seg6local End.X routes forward them)"
          : ` (the routers' userspace End.X forwarded ${since((x) => x.srv6?.forwarded ?? 0)} SRv6 packets: this kernel has no seg6local)`;
    say(
      `${kernel ? "no userspace decapsulator in the path" : `no tunnel decapsulator in the path (${args.encap === "sr-mpls" ? "the labels are switched" : "End.X runs"} in userspace)`}: the routers' tunnel decapsulators received ${since((x) => x.received + (x.ipv6?.received ?? 0))} packets; ${entries} of ${stack.view?.paths.length ?? 0} paths pinned by ${ENCAP_NAMES[args.encap]}${by}`,
    );
  }

  stack.gray(a, b, args.gray);
  say(`gray failure: ${a} -> ${b} drops ${Math.round(args.gray * 100)}% of packets one way; BGP-LS sees nothing`);
  if (await phase(stack, `2/5 gray failure on ${a} -> ${b}`, named, 30)) {
    const v = stack.view!;
    say(`DETECTED: link ${v.suspects[0].from} -> ${v.suspects[0].to} suspected; failing: ${v.paths.filter((p) => p.state !== "up" || (p.lossRatio ?? 0) > 0.02).map((p) => (stack.family === "dual" ? `${p.hops} ${p.af}` : p.hops)).join(", ")}`);
    await traceStory(stack, first.hops.map((h) => h.name).join(">"));
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
    return s.generation > gen && n < before && (stack.view?.paths.length ?? 0) === n * perPath;
  };
  if (await phase(stack, `4/5 control-plane failure of ${a}-${b}`, (v) => shrunk() && v.paths.every((p) => p.state === "up"), 30)) {
    const s = stack.pathSet()!;
    say(`DETECTED: path set generation ${s.generation} has ${s.paths.filter((p) => p.src === stack.host.router).length} paths (was ${before}); probes follow, none crosses ${a}-${b}`);
  } else ok = false;

  await stack.linkUp(a, b);
  say(`repaired ${a}-${b}: announced again`);
  const restored = (v: ProberView): boolean => stack.pathSet()!.paths.filter((p) => p.src === stack.host.router).length === before && v.paths.length === before * perPath && allUp(v);
  if (await phase(stack, "5/5 repaired", restored, 30)) say(`RECOVERED: ${before} paths again, all up`);
  else ok = false;

  say(ok ? "the story is told: healthy, gray failure named, repaired, control-plane failure followed, repaired" : "some step of the story did not happen in time (see above)");
  if (args.keep) {
    // Every fault that comes in over the control socket (labctl) is an event of the story too.
    const command = stack.command.bind(stack);
    stack.command = async (words: string[]): Promise<string> => {
      const what = `labctl ${words.join(" ")}`;
      try {
        const r = await command(words);
        if (words[0] !== "status") say(`${what}: ${r}`);
        return r;
      } catch (e) {
        say(`${what}: ${(e as Error).message}`);
        throw e;
      }
    };
    await stack.serveControl(CONTROL_SOCKET);
    const labctl = path.relative(process.cwd(), path.join(HERE, "labctl.js"));
    const keepLines = [
      `--keep: the lab stays up, this view refreshing; Ctrl-C tears it down. Namespaces: ${stack.lab.namespaces().join(" ")}`,
      `explore: ip netns exec ${stack.lab.ns(stack.host.name)} sh; path set: ${stack.pathsFile}`,
      `inject faults: sudo node ${labctl} gray ${a} ${b} 0.05 (also delay, congest, link-down, router-down, clear, status; --help)`,
    ];
    phaseName = `${ok ? "the story is told" : "a step did not happen in time"}; the lab is kept up (--keep), Ctrl-C tears it down`;
    if (tty) {
      footer = keepLines;
      draw();
    } else {
      for (const l of keepLines) say(l);
      plainEvery = PLAIN_KEEP_MS;
    }
    await new Promise(() => {});
  }
  return stop(ok ? 0 : 1);
}

/** Run as a program (node dist/test/lab/demo.js), not imported (the test imports the pure part). */
function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}
if (isMain()) {
  main().then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`${CLI.program}: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
