// bench/prober-rate: probes per second the prober sustains on one core, sent AND matched back,
// against scapy and a minimal C raw-socket loop, measured in the same run on the same wire.
//
//   node dist/bench/prober-rate.js [--seconds S] [--entries N] [--window W] [--batch B]
//                                  [--steps 50000,100000,...] [--cpu-prof DIR] [--skip-send-idiom]
//
// Topology (bench/lib/vethpair.ts): namespaces A (198.18.200.0, 2001:2:0:200::a) and B
// (198.18.200.1, 2001:2:0:200::b) joined by a veth. Every sender runs in A pinned to CPU 0; in B,
// pinned to CPU 1, bench/c/lsp_decap.c (a batched C GRE decapsulator, one process per family)
// strips the one GRE layer of each probe and sends the inner packet (A -> A, UDP) back. Probes
// are lsprobe 1-hop probes: hops [B], 96 bytes over IPv4; over IPv6 (GRE over IPv6, RFC 7676,
// ProbeTemplate6 through an AF_INET6 IPPROTO_RAW socket, replies on a udp6 socket) 136 bytes.
// The lsprobe rows run in both families, IPv6 after IPv4; the C loop and scapy are IPv4.
//
// Segment routing (issue 15), after those rows, the same 1-hop path pinned by SIDs instead of a
// GRE layer (prober.encap srv6 / sr-mpls, return routed):
//   SRv6      IPv6 A -> SID6_B with an SRH [A] (reduced encoding: Srv6ProbeTemplate), 116 bytes;
//             B's own kernel is the End router: a `seg6local action End` route for SID6_B
//             (net.ipv6.conf.*.seg6_enabled, forwarding on in B), so it advances the SRH and
//             forwards the probe back to A, which takes the UDP under the spent SRH. No userspace
//             reflector: B's End runs in softirq, on the CPU the veth delivers on (the sender's).
//             On a kernel without seg6local (the route is refused), bench/c/lsp_srv6end.c does
//             the same End in B's userspace, batched as lsp_mplsudp (SID6_B local, seg6 off in B);
//             the output says which End ran.
//   SR-MPLS   MPLS-in-UDP (SrMplsProbeTemplate, carrier udp): IPv4 A -> B:6635, one label
//             (LABEL_B, bottom of stack), inner IPv4 A -> A; 104 bytes. B has no kernel MPLS, so
//             bench/c/lsp_mplsudp.c (pinned as lsp_decap) takes it on a UDP socket, pops the label
//             and sends the inner packet back, as lsp_decap does for GRE.
//   Each as a daemon sweep and a hot path, as above, and a C raw loop row sending the same
//   template bytes (lsp_rawloop with its checksums updated per probe: the SRv6 probe's UDP
//   checksum, the MPLS-in-UDP probe's outer and inner ones).
//
// Rows (each its own process, one after the other; CPU = user + system of that process):
//   lsprobe daemon loop   the real Prober wired as prober/main.ts wires it: RawSocket (IPPROTO_RAW)
//                         send, a dgram udp4 socket (4 MiB receive buffer) -> Prober.onReply, the
//                         RTT histogram of ProberMetrics per reply, roll() every second, and
//                         main.ts's timer loop (tick(), then setTimeout(untilNextNs, >= 1 ms)).
//                         `--entries` paths at prober.rate 10000, prober.max-pps swept over
//                         --steps (2 s each); "sustained" is the highest step sent at >= 97% of
//                         its target with >= 99.9% matched. Then one run with max-pps 10,000,000
//                         (overdriven, 3x as long) shows what the daemon does past its limit: it
//                         reads its reply socket's drop counter and slows down while it drops.
//   lsprobe hot path      the same Prober, sockets and entries, but driven by a tight loop that
//                         does tick()'s per-probe work (tracker.send, template.patch with
//                         BigInt(now), RawSocket.send) without the scheduler and the 1 ms timer:
//                         up to --batch probes, then tick()'s expire pass over every entry, then
//                         setImmediate (so the UDP socket is read), with at most --window probes
//                         outstanding. Replies go through Prober.onReply (no metrics).
//   C raw loop            bench/c/lsp_rawloop.c: the same probe bytes, sendto() on IPPROTO_RAW,
//                         recv() on a UDP socket, same window and batch: the machine's ceiling.
//   scapy (L3socket)      bench/prober_rate_scapy.py under /usr/bin/python3: the same probe built
//                         per packet with scapy layers, sent on one conf.L3socket() opened once.
//   scapy send()          the same with send(pkt, verbose=0) per probe (skip: --skip-send-idiom).
// "probes/s" is matched replies per wall second of the timed part; ratios use it.
//
// Also per row: "other load %", the CPU that processes outside the bench used meanwhile (warned
// above 5%); for the daemon steps, drops at A's full UDP receive buffer and the busy share of the
// sender's CPU (softirq included).
//
// Correctness (exit 1 otherwise; exit 2 when the bench could not run): every row's replies are
// matched by nonce and sequence (lsprobe: tracker verdict "received"/"late" through
// Prober.onReply; nothing rejected); >= 99.9% of the probes of the lsprobe hot path and the C
// loop, and >= 99% of scapy's, are matched; the decapsulator dropped nothing and forwarded what
// it received.
import { randomInt } from "node:crypto";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { availableParallelism, cpus } from "node:os";
import { readFileSync } from "node:fs";
import { CurrentProber, Prober, type ProberIo } from "../prober/prober.js";
import { udp6SocketDrops, udpSocketDrops } from "../prober/sockdrops.js";
import { ProberMetrics } from "../prober/metrics.js";
import { ReplySocket } from "../prober/udprx.js";
import { IPPROTO_RAW, RawSocket } from "../prober/rawsock.js";
import { ProbeTemplate } from "../prober/packet/template.js";
import { ProbeTemplate6 } from "../prober/packet/template6.js";
import type { ProberConfig } from "../shared/config.js";
import type { PathSet } from "../shared/pathset.js";
import { Srv6ProbeTemplate, SrMplsProbeTemplate } from "../prober/packet/template-sr.js";
import { createLogger } from "../shared/log.js";
import { benchMain, ADDR_A, ADDR6_A, ADDR_B, ADDR6_B, VethPair, cpuPlan, lastJson, machineBusyPct, proberBuild, softnetDrops, udpSnmp, LoadMonitor, cpuJiffies } from "./lib/vethpair.js";
import { PORT, SRC_PORT, benchConfig, benchPathSet } from "./lib/benchset.js";
import { mdTable } from "./lib/table.js";

const SCRIPT = fileURLToPath(import.meta.url);
const SCAPY = fileURLToPath(new URL("../../bench/prober_rate_scapy.py", import.meta.url));
const PYTHON = "/usr/bin/python3";

// ------------------------------------------------------------------------------------------------
// Worker (runs in namespace A)
// ------------------------------------------------------------------------------------------------

interface WorkerArgs {
  mode: "daemon" | "hot";
  /** The probes' family: the source, sockets and path set (IPv6: GRE over IPv6 to B's IPv6 address). */
  family: "ipv4" | "ipv6";
  seconds: number;
  entries: number;
  window: number;
  batch: number;
  steps: number[];
  /** The CPU the worker is pinned to (for its busy share, softirq included), or null. */
  cpu: string | null;
  /** Segment routing instead of the GRE layer (srv6: family ipv6; sr-mpls: MPLS-in-UDP, family ipv4). */
  encap?: "srv6" | "sr-mpls";
}

/** B's SRv6 End SID (routed to B from A) and B's Adj-SID label back to A (lsp_mplsudp pops it). */
const SID6_B = "2001:2:0:201::b";
const LABEL_B = 16001;

/** benchPathSet's paths pinned by SIDs: the SRv6 End SID of B (ipv6), or B's label entered at B (ipv4, MPLS-in-UDP). */
function srPathSet(set: PathSet, encap: "srv6" | "sr-mpls" | undefined): PathSet {
  if (encap === undefined) return set;
  for (const p of set.paths) {
    const seg = { node: "B", to: "A", link: p.links[0].id, direction: "out" as const, weight: 0 };
    if (encap === "srv6") {
      const t = p.targets!.ipv6!;
      t.srv6 = { segments: [{ ...seg, sid: SID6_B, behavior: 1, flags: { B: false, S: false, P: false }, algorithm: 0 }], probeable: true };
      continue;
    }
    const srMpls = { segments: [{ ...seg, sid: LABEL_B, flags: { F: false, B: false, V: true, L: true, S: false, P: false } }], probeable: true, entry: ADDR_B };
    p.families = ["ipv4"];
    p.targets = { ipv4: { gre: p.gre, greReverse: p.greReverse, probeable: p.probeable, srMpls } };
  }
  return set;
}

/** benchConfig with prober.encap set (srMplsCarrier stays udp). */
const srConfig = (c: ProberConfig, encap: "srv6" | "sr-mpls" | undefined): ProberConfig => (encap === undefined ? c : { ...c, encap });

interface RunResult {
  label: string;
  target?: number;
  sent: number;
  matched: number;
  late: number;
  lost: number;
  sendErrors: number;
  rejected: number;
  rejectedBy: Record<string, number>;
  skipped?: number;
  /** Replies the kernel dropped because the UDP socket's receive buffer was full (A's /proc/net/snmp). */
  rcvbufErrors: number;
  /** Packets dropped at the kernel's per-CPU input backlogs meanwhile (whole machine). */
  softnetDrops: number;
  /** Busy share (%) of the CPU the sender is pinned to, softirq included (other processes too). */
  cpuBusyPct?: number;
  wallS: number;
  cpuS: number;
  ok?: boolean;
}

const nowNs = (): number => performance.now() * 1e6;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function worker(a: WorkerArgs): Promise<void> {
  const log = createLogger({ name: "bench", level: "error" });
  const v6 = a.family === "ipv6";
  const raw = RawSocket.open({ family: a.family, protocol: IPPROTO_RAW });
  // The reply socket main.ts uses (recvmmsg batches with kernel receive stamps).
  const udp = ReplySocket.open(v6 ? ADDR6_A : ADDR_A, PORT, { recvBufferSize: 4 << 20 });
  let sendErrors = 0;
  const onSent = (err?: Error): void => {
    if (err) sendErrors++;
  };
  const set = srPathSet(benchPathSet(a.entries, a.family), a.encap);
  let rtts = 0;

  // As main.ts: one metrics object reading whichever prober is current. The RTT histogram is
  // the Prober's own (observed per reply); the metrics render it only when scraped.
  const makeProber = (cfg: ProberConfig): Prober => {
    const io: ProberIo = {
      send: (pkt, dst) => raw.send(pkt, dst, onSent),
      nowNs,
      log,
      onRtt: () => void rtts++,
      // As main.ts: the reply socket's drop counter, so the daemon slows down while it drops.
      replyDrops: () => (v6 ? udp6SocketDrops(readFileSync("/proc/self/net/udp6", "utf8"), PORT, ADDR6_A) : udpSocketDrops(readFileSync("/proc/self/net/udp", "utf8"), PORT, ADDR_A)),
    };
    return new Prober(cfg, io, randomInt(0, 2 ** 32));
  };
  const current = new CurrentProber(makeProber(srConfig(benchConfig(1, 10_000, "200ms", a.family), a.encap)));
  // The daemon has its metrics registered (they cost nothing until scraped, as in main.ts).
  if (a.mode === "daemon") new ProberMetrics(current);
  udp.on("message", (msg, arrivalNs) => current.prober.onReply(msg, arrivalNs));

  const tally = (p: Prober, label: string, wallS: number, cpuS: number, sentErr: number, target?: number): RunResult => {
    let sent = 0;
    let received = 0;
    let late = 0;
    for (const e of p.entries()) {
      const c = e.tracker.counters;
      sent += c.sent;
      received += c.received;
      late += c.late;
    }
    const rejectedBy = { ...p.rejected };
    const rejected = Object.values(rejectedBy).reduce((x, y) => x + y, 0);
    return { label, target, sent, matched: received + late, late, lost: sent - received - late, sendErrors: sentErr, rejected, rejectedBy, skipped: p.schedule.skipped, rcvbufErrors: 0, softnetDrops: 0, wallS, cpuS };
  };

  /** Every entry must be probed in the encapsulation asked for (a fallback to GRE would measure GRE). */
  const checkEncap = (p: Prober): void => {
    const want = a.encap ?? "gre";
    for (const e of p.entries()) if (e.encap !== want) throw new Error(`bench: entry ${e.path.id} is probed as ${e.encap}, not ${want}`);
  };

  const results: RunResult[] = [];
  if (a.mode === "daemon") {
    const runStep = async (maxPps: number, seconds: number, label: string): Promise<RunResult> => {
      const p = makeProber(srConfig(benchConfig(maxPps, 10_000, "200ms", a.family), a.encap));
      current.prober = p;
      p.setPathSet(set);
      checkEncap(p);
      rtts = 0;
      const err0 = sendErrors;
      const snmp0 = udpSnmp();
      const sn0 = softnetDrops();
      const j0 = a.cpu !== null ? cpuJiffies(a.cpu) : undefined;
      // main.ts's loop, verbatim but for the end condition.
      let timer: NodeJS.Timeout | undefined;
      const roller = setInterval(() => p.roll(), 1000);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const end = t0 + seconds * 1000;
      await new Promise<void>((resolve) => {
        const loop = (): void => {
          p.tick();
          if (performance.now() >= end) return resolve();
          const waitMs = Math.min(100, Math.max(1, Math.floor(p.untilNextNs() / 1e6)));
          timer = setTimeout(loop, waitMs);
        };
        loop();
      });
      const t1 = performance.now();
      const c1 = process.cpuUsage(c0);
      const j1 = a.cpu !== null ? cpuJiffies(a.cpu) : undefined;
      if (timer) clearTimeout(timer);
      clearInterval(roller);
      await sleep(300); // replies of the last probes
      const r = tally(p, label, (t1 - t0) / 1000, (c1.user + c1.system) / 1e6, sendErrors - err0, maxPps);
      r.rcvbufErrors = udpSnmp().RcvbufErrors - snmp0.RcvbufErrors;
      r.softnetDrops = softnetDrops() - sn0;
      if (j0 && j1 && j1.total > j0.total) r.cpuBusyPct = (100 * (j1.busy - j0.busy)) / (j1.total - j0.total);
      if (rtts !== r.matched) throw new Error(`onRtt saw ${rtts} replies, trackers ${r.matched}`);
      return r;
    };
    await runStep(20_000, 1, "warm-up"); // JIT, ARP
    let failures = 0;
    for (const step of a.steps) {
      const r = await runStep(step, a.seconds, `daemon ${step}`);
      r.ok = r.sent / r.wallS >= 0.97 * step && r.matched >= 0.999 * r.sent && r.rejected === 0;
      results.push(r);
      process.stderr.write(`  daemon ${a.family} max-pps ${step}: sent ${(r.sent / r.wallS).toFixed(0)}/s matched ${(r.matched / r.wallS).toFixed(0)}/s lost ${r.lost} (receive buffer full: ${r.rcvbufErrors}) cpu ${((100 * r.cpuS) / r.wallS).toFixed(0)}%\n`);
      failures = r.ok ? 0 : failures + 1;
      if (failures >= 2) break;
    }
    // Overdriven for three times as long: its first second drops replies, then it slows itself.
    const over = await runStep(10_000_000, 3 * a.seconds, "daemon overdriven");
    results.push(over);
    process.stderr.write(`  daemon ${a.family} max-pps 10M: sent ${(over.sent / over.wallS).toFixed(0)}/s matched ${(over.matched / over.wallS).toFixed(0)}/s lost ${over.lost} (receive buffer full: ${over.rcvbufErrors}) skipped ${over.skipped}\n`);
  } else {
    const p = current.prober;
    p.setPathSet(set);
    checkEncap(p);
    const es = [...p.entries()];
    const onT = (): void => {};
    const run = async (seconds: number, label: string): Promise<RunResult> => {
      const before = tally(p, "", 0, 0, 0);
      const err0 = sendErrors;
      const snmp0 = udpSnmp();
      const sn0 = softnetDrops();
      const j0 = a.cpu !== null ? cpuJiffies(a.cpu) : undefined;
      let sent = 0;
      let writtenOff = 0;
      let i = 0;
      let lastMatched = -1;
      let stalledSince = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const end = t0 + seconds * 1000;
      await new Promise<void>((resolve) => {
        const pump = (): void => {
          const now = nowNs();
          const matched = rtts;
          let k = 0;
          while (k < a.batch && sent - matched - writtenOff < a.window) {
            const e = es[i];
            if (++i === es.length) i = 0;
            // tick()'s per-probe body:
            const seq = e.tracker.send(now);
            const pkt = e.template.patch(seq >>> 0, BigInt(Math.round(now)));
            raw.send(pkt, e.firstHop, onSent);
            sent++;
            k++;
          }
          for (const e of es) e.tracker.expire(now, onT);
          // A stalled window (replies lost): give up on what is out after 200 ms.
          if (k === 0 && matched === lastMatched) {
            if (stalledSince === 0) stalledSince = now;
            else if (now - stalledSince > 200e6) {
              writtenOff = sent - matched;
              stalledSince = 0;
            }
          } else stalledSince = 0;
          lastMatched = matched;
          if (performance.now() >= end) resolve();
          else setImmediate(pump);
        };
        pump();
      });
      const t1 = performance.now();
      const c1 = process.cpuUsage(c0);
      const j1 = a.cpu !== null ? cpuJiffies(a.cpu) : undefined;
      await sleep(300);
      const after = tally(p, label, (t1 - t0) / 1000, (c1.user + c1.system) / 1e6, sendErrors - err0);
      const rejectedBy: Record<string, number> = {};
      for (const k of Object.keys(after.rejectedBy)) rejectedBy[k] = after.rejectedBy[k] - before.rejectedBy[k];
      return {
        ...after,
        sent: after.sent - before.sent,
        matched: after.matched - before.matched,
        late: after.late - before.late,
        lost: after.lost - before.lost,
        rejected: after.rejected - before.rejected,
        rejectedBy,
        rcvbufErrors: udpSnmp().RcvbufErrors - snmp0.RcvbufErrors,
        softnetDrops: softnetDrops() - sn0,
        cpuBusyPct: j0 && j1 && j1.total > j0.total ? (100 * (j1.busy - j0.busy)) / (j1.total - j0.total) : undefined,
      };
    };
    rtts = 0;
    await run(1, "warm-up");
    rtts = 0;
    // rtts counts from 0 again, but the trackers' counters carry on: the window uses rtts.
    results.push(await run(a.seconds, "hot path"));
  }
  raw.close();
  udp.close();
  process.stdout.write(JSON.stringify({ results }) + "\n");
}

// ------------------------------------------------------------------------------------------------
// Orchestrator (root namespace: only `ip` and spawning into A and B)
// ------------------------------------------------------------------------------------------------

interface CResult {
  sent: number;
  matched: number;
  lost: number;
  duplicates: number;
  bad: number;
  sendErrors: number;
  wallS: number;
  cpuS: number;
}
interface ScapyResult {
  mode: string;
  scapy: string;
  python: string;
  l3socket: string;
  sent: number;
  matched: number;
  bad: number;
  duplicates: number;
  wallS: number;
  cpuS: number;
}
interface DecapCounters {
  received: number;
  forwarded: number;
  dropped: number;
  sendErrors: number;
  socketDrops: number;
}

async function orchestrate(argv: string[]): Promise<number> {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seconds = Number(opt("--seconds") ?? "5");
  const entries = Number(opt("--entries") ?? "64");
  const window = Number(opt("--window") ?? "1024");
  const batch = Number(opt("--batch") ?? "64");
  const steps = (opt("--steps") ?? "50000,75000,100000,125000,150000,175000,200000,250000").split(",").map(Number);
  const stepSeconds = 2;
  const profDir = opt("--cpu-prof");
  const skipSend = argv.includes("--skip-send-idiom");
  if (process.getuid?.() !== 0) {
    process.stderr.write("bench/prober-rate: needs root (network namespaces, raw sockets)\n");
    return 2;
  }
  const cpu = cpuPlan();
  const problems: string[] = [];
  const warnings: string[] = [];
  const busyBefore = await machineBusyPct(1000);
  if (busyBefore > 10) warnings.push(`the machine was ${busyBefore.toFixed(0)}% busy (all CPUs) before the run: other load skews every row`);
  const pair = VethPair.create(["lsp_decap", "lsp_rawloop", "lsp_mplsudp", "lsp_srv6end"], { ipv6: true });
  const monitor = (pair.monitor = new LoadMonitor());
  /** Other processes' CPU (% of one CPU) during each row. */
  const otherLoad: Record<string, number> = {};
  const measured = async <T>(row: string, fn: () => Promise<T>): Promise<T> => {
    monitor.begin();
    try {
      return await fn();
    } finally {
      otherLoad[row] = monitor.end();
    }
  };
  try {
    const decap = pair.spawnIn(pair.b, [pair.bin("lsp_decap"), "300"], cpu.reflector);
    const decap6 = pair.spawnIn(pair.b, [pair.bin("lsp_decap"), "300", "6"], cpu.reflector);
    await decap.firstLine;
    await decap6.firstLine;
    const nodeWorker = async (args: WorkerArgs): Promise<RunResult[]> => {
      const prof = profDir ? ["--cpu-prof", "--cpu-prof-dir", profDir, "--cpu-prof-name", `prober-rate-${args.mode}.cpuprofile`] : [];
      const w = pair.spawnIn(pair.a, [process.execPath, ...prof, SCRIPT, "--worker", JSON.stringify(args)], cpu.measured);
      const r = await w.done;
      process.stderr.write(r.stderr);
      if (r.code !== 0) throw new Error(`bench: lsprobe ${args.mode} ${args.family} worker failed (${r.code ?? r.signal})`);
      return lastJson<{ results: RunResult[] }>(r.stdout, `lsprobe ${args.mode} ${args.family} worker`).results;
    };
    process.stderr.write(`prober-rate: ${cpus()[0]?.model ?? "?"} x${availableParallelism()}, node ${process.version}; senders on CPU ${cpu.measured ?? "any"}, decap on CPU ${cpu.reflector ?? "any"}\n`);
    process.stderr.write("lsprobe daemon loop (max-pps sweep):\n");
    const daemon = await measured("daemon", () => nodeWorker({ mode: "daemon", family: "ipv4", seconds: stepSeconds, entries, window, batch, steps, cpu: cpu.measured }));
    process.stderr.write("lsprobe hot path...\n");
    const [hot] = await measured("hot", () => nodeWorker({ mode: "hot", family: "ipv4", seconds, entries, window, batch, steps: [], cpu: cpu.measured }));
    process.stderr.write("lsprobe daemon loop over IPv6 (max-pps sweep):\n");
    const daemon6 = await measured("daemon6", () => nodeWorker({ mode: "daemon", family: "ipv6", seconds: stepSeconds, entries, window, batch, steps, cpu: cpu.measured }));
    process.stderr.write("lsprobe hot path over IPv6...\n");
    const [hot6] = await measured("hot6", () => nodeWorker({ mode: "hot", family: "ipv6", seconds, entries, window, batch, steps: [], cpu: cpu.measured }));

    // C ceiling: the same probe bytes as the prober's first entry would carry.
    const nonce = randomInt(0, 2 ** 32);
    const t = new ProbeTemplate({ src: ADDR_A, hops: [ADDR_B], dstPort: PORT, srcPortBase: SRC_PORT, srcPortRange: 1, ttl: 64, dscp: 0, size: 0, mtu: 1500, pathIndex: 0, nonce });
    process.stderr.write("C raw loop...\n");
    const cr = await measured("c", () => pair.spawnIn(
      pair.a,
      [pair.bin("lsp_rawloop"), t.buffer.toString("hex"), ADDR_B, ADDR_A, String(PORT), String(seconds), String(window), String(batch), String(t.payloadOffset), String(t.udpOffset), String(nonce)],
      cpu.measured,
    ).done);
    if (cr.code !== 0) throw new Error(`bench: lsp_rawloop failed (${cr.code ?? cr.signal}): ${cr.stderr}`);
    const c = lastJson<CResult>(cr.stdout, "lsp_rawloop");

    const scapy = async (mode: "l3socket" | "send", count: number, cap: number): Promise<ScapyResult> => {
      process.stderr.write(`scapy ${mode}...\n`);
      const r = await measured(`scapy-${mode}`, () => pair.spawnIn(
        pair.a,
        [PYTHON, SCAPY, "--src", ADDR_A, "--hop", ADDR_B, "--port", String(PORT), "--nonce", String(nonce), "--count", String(count), "--cap-seconds", String(cap), "--mode", mode],
        cpu.measured,
      ).done);
      if (r.code !== 0) throw new Error(`bench: scapy ${mode} failed (${r.code ?? r.signal}): ${r.stderr}`);
      return lastJson<ScapyResult>(r.stdout, `scapy ${mode}`);
    };
    const sc = await scapy("l3socket", 50_000, seconds);
    const scSend = skipSend ? undefined : await scapy("send", 5_000, Math.min(seconds, 3));

    // ---- segment routing: B's kernel (or lsp_srv6end) as SRv6 End, lsp_mplsudp as B's label switcher ----
    const netns = (ns: string, args: string[]): string | undefined => {
      const r = spawnSync("ip", ["netns", "exec", ns, ...args], { encoding: "utf8" });
      return r.status === 0 ? undefined : `\`${args.join(" ")}\` in ${ns} failed: ${(r.stderr || r.error?.message || "").trim()}`;
    };
    const must = (ns: string, args: string[]): void => {
      const failed = netns(ns, args);
      if (failed !== undefined) throw new Error(`bench: ${failed}`);
    };
    must(pair.b, ["sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1"]);
    const noSeg6local = netns(pair.b, ["ip", "-6", "route", "add", `${SID6_B}/128`, "encap", "seg6local", "action", "End", "dev", "vb"]);
    let srv6end: ReturnType<typeof pair.spawnIn> | undefined;
    if (noSeg6local === undefined) must(pair.b, ["sysctl", "-q", "-w", "net.ipv6.conf.all.seg6_enabled=1", "net.ipv6.conf.vb.seg6_enabled=1"]);
    else {
      process.stderr.write(`B's kernel has no seg6local (${noSeg6local}): SRv6 End in userspace (lsp_srv6end)\n`);
      must(pair.b, ["ip", "-6", "route", "add", "local", `${SID6_B}/128`, "dev", "lo"]);
      srv6end = pair.spawnIn(pair.b, [pair.bin("lsp_srv6end"), SID6_B, "vb", "300"], cpu.reflector);
      await srv6end.firstLine;
    }
    const endName = srv6end ? "lsp_srv6end in B: this kernel has no seg6local" : "B's kernel End";
    must(pair.a, ["sysctl", "-q", "-w", "net.ipv6.conf.all.seg6_enabled=1", "net.ipv6.conf.va.seg6_enabled=1"]);
    must(pair.a, ["ip", "-6", "route", "add", `${SID6_B}/128`, "via", ADDR6_B, "dev", "va"]);
    const mplsudp = pair.spawnIn(pair.b, [pair.bin("lsp_mplsudp"), "300"], cpu.reflector);
    await mplsudp.firstLine;
    const srRows = async (encap: "srv6" | "sr-mpls", family: "ipv4" | "ipv6", key: string): Promise<{ daemon: RunResult[]; hot: RunResult }> => {
      process.stderr.write(`lsprobe daemon loop, ${encap} (max-pps sweep):\n`);
      const d = await measured(`daemon-${key}`, () => nodeWorker({ mode: "daemon", family, encap, seconds: stepSeconds, entries, window, batch, steps, cpu: cpu.measured }));
      process.stderr.write(`lsprobe hot path, ${encap}...\n`);
      const [h] = await measured(`hot-${key}`, () => nodeWorker({ mode: "hot", family, encap, seconds, entries, window, batch, steps: [], cpu: cpu.measured }));
      return { daemon: d, hot: h };
    };
    const srv6 = await srRows("srv6", "ipv6", "srv6");
    const srMpls = await srRows("sr-mpls", "ipv4", "sr-mpls");
    const t6 = new Srv6ProbeTemplate({ src: ADDR6_A, segments: [SID6_B], hopLimit: 64, dstPort: PORT, srcPortBase: SRC_PORT, srcPortRange: 1, dscp: 0, size: 0, mtu: 1500, pathIndex: 0, nonce });
    const tm = new SrMplsProbeTemplate({ family: "ipv4", src: ADDR_A, entry: ADDR_B, labels: [LABEL_B], carrier: "udp", ttl: 64, dstPort: PORT, srcPortBase: SRC_PORT, srcPortRange: 1, dscp: 0, size: 0, mtu: 1500, pathIndex: 0, nonce });
    const cLoop = async (key: string, tpl: { buffer: Buffer; payloadOffset: number; udpOffset: number }, dst: string, bind: string, csums: number[]): Promise<CResult> => {
      process.stderr.write(`C raw loop, ${key}...\n`);
      const r = await measured(`c-${key}`, () => pair.spawnIn(
        pair.a,
        [pair.bin("lsp_rawloop"), tpl.buffer.toString("hex"), dst, bind, String(PORT), String(seconds), String(window), String(batch), String(tpl.payloadOffset), String(tpl.udpOffset), String(nonce), csums.join(",")],
        cpu.measured,
      ).done);
      if (r.code !== 0) throw new Error(`bench: lsp_rawloop ${key} failed (${r.code ?? r.signal}): ${r.stderr}`);
      return lastJson<CResult>(r.stdout, `lsp_rawloop ${key}`);
    };
    const cSrv6 = await cLoop("srv6", t6, SID6_B, ADDR6_A, [t6.udpOffset]);
    const cMpls = await cLoop("sr-mpls", tm, ADDR_B, ADDR_A, [tm.carrierOffset, tm.udpOffset]);
    const dcMpls = lastJson<DecapCounters>((await pair.stop(mplsudp)).stdout, "lsp_mplsudp");
    const dcSrv6 = srv6end ? lastJson<DecapCounters>((await pair.stop(srv6end)).stdout, "lsp_srv6end") : undefined;

    const dc = lastJson<DecapCounters>((await pair.stop(decap)).stdout, "lsp_decap");
    const dc6 = lastJson<DecapCounters>((await pair.stop(decap6)).stdout, "lsp_decap 6");
    const busyAfter = await machineBusyPct(1000);
    if (busyAfter > 10) warnings.push(`the machine was ${busyAfter.toFixed(0)}% busy (all CPUs) right after the run: other load skews every row`);

    // ---- checks ----
    const steps_ = daemon.filter((r) => r.label.startsWith("daemon ") && r.label !== "daemon overdriven");
    const over = daemon.find((r) => r.label === "daemon overdriven")!;
    const sustained = steps_.filter((r) => r.ok).sort((x, y) => y.matched / y.wallS - x.matched / x.wallS)[0];
    if (!sustained) problems.push("lsprobe daemon loop: no max-pps step was sustained (>= 97% of target sent, >= 99.9% matched)");
    for (const r of [...steps_, over, hot]) if (r.rejected > 0) problems.push(`lsprobe ${r.label}: ${r.rejected} replies rejected ${JSON.stringify(r.rejectedBy)}`);
    if (hot.matched < 0.999 * hot.sent) problems.push(`lsprobe hot path: only ${hot.matched} of ${hot.sent} matched`);
    const steps6 = daemon6.filter((r) => r.label.startsWith("daemon ") && r.label !== "daemon overdriven");
    const over6 = daemon6.find((r) => r.label === "daemon overdriven")!;
    const sustained6 = steps6.filter((r) => r.ok).sort((x, y) => y.matched / y.wallS - x.matched / x.wallS)[0];
    if (!sustained6) problems.push("lsprobe daemon loop over IPv6: no max-pps step was sustained (>= 97% of target sent, >= 99.9% matched)");
    for (const r of [...steps6, over6, hot6]) if (r.rejected > 0) problems.push(`lsprobe IPv6 ${r.label}: ${r.rejected} replies rejected ${JSON.stringify(r.rejectedBy)}`);
    if (hot6.matched < 0.999 * hot6.sent) problems.push(`lsprobe hot path over IPv6: only ${hot6.matched} of ${hot6.sent} matched`);
    if (dc6.dropped > 0 || dc6.sendErrors > 0 || dc6.forwarded !== dc6.received) problems.push(`IPv6 decapsulator: ${JSON.stringify(dc6)}`);
    if (c.matched < 0.999 * c.sent) problems.push(`C raw loop: only ${c.matched} of ${c.sent} matched`);
    for (const s of [sc, scSend]) if (s && s.matched < 0.99 * s.sent) problems.push(`scapy ${s.mode}: only ${s.matched} of ${s.sent} matched`);
    if (dc.dropped > 0 || dc.sendErrors > 0 || dc.forwarded !== dc.received) problems.push(`decapsulator: ${JSON.stringify(dc)}`);
    const sustainedOf = (rs: RunResult[]): RunResult | undefined =>
      rs.filter((r) => r.label.startsWith("daemon ") && r.label !== "daemon overdriven" && r.ok).sort((x, y) => y.matched / y.wallS - x.matched / x.wallS)[0];
    const sr = [
      { name: "SRv6", key: "srv6", rows: srv6, c: cSrv6 },
      { name: "SR-MPLS (MPLS-in-UDP)", key: "sr-mpls", rows: srMpls, c: cMpls },
    ].map((x) => ({ ...x, sustained: sustainedOf(x.rows.daemon), over: x.rows.daemon.find((r) => r.label === "daemon overdriven")! }));
    for (const x of sr) {
      if (!x.sustained) problems.push(`lsprobe daemon loop, ${x.name}: no max-pps step was sustained (>= 97% of target sent, >= 99.9% matched)`);
      for (const r of [...x.rows.daemon, x.rows.hot]) if (r.rejected > 0) problems.push(`lsprobe ${x.name} ${r.label}: ${r.rejected} replies rejected ${JSON.stringify(r.rejectedBy)}`);
      if (x.rows.hot.matched < 0.999 * x.rows.hot.sent) problems.push(`lsprobe hot path, ${x.name}: only ${x.rows.hot.matched} of ${x.rows.hot.sent} matched`);
      if (x.c.matched < 0.999 * x.c.sent) problems.push(`C raw loop, ${x.name}: only ${x.c.matched} of ${x.c.sent} matched`);
    }
    if (dcMpls.dropped > 0 || dcMpls.sendErrors > 0 || dcMpls.forwarded !== dcMpls.received) problems.push(`label switcher: ${JSON.stringify(dcMpls)}${dcSrv6 ? `; SRv6 End: ${JSON.stringify(dcSrv6)}` : ""}`);
    // lsp_srv6end sees every IPv6 packet on vb (neighbour discovery too): only its send errors and socket drops count.
    if (dcSrv6 && (dcSrv6.sendErrors > 0 || dcSrv6.socketDrops > 0)) problems.push(`SRv6 End (lsp_srv6end): ${JSON.stringify(dcSrv6)}`);

    // ---- table ----
    const rate = (n: number, s: number): number => n / s;
    interface Row {
      name: string;
      sent: number;
      matched: number;
      lostPct: number;
      cpuPct: number;
      perCpuS: number;
      otherPct: number;
    }
    const row = (name: string, key: string, r: { sent: number; matched: number; wallS: number; cpuS: number }): Row => ({
      name,
      otherPct: otherLoad[key] ?? 0,
      sent: rate(r.sent, r.wallS),
      matched: rate(r.matched, r.wallS),
      lostPct: r.sent === 0 ? 0 : (100 * (r.sent - r.matched)) / r.sent,
      cpuPct: (100 * r.cpuS) / r.wallS,
      perCpuS: r.matched / r.cpuS,
    });
    const rows: Row[] = [];
    if (sustained) rows.push(row(`lsprobe daemon loop (sustained, max-pps ${sustained.target})`, "daemon", sustained));
    rows.push(row("lsprobe daemon loop (overdriven, max-pps 10M)", "daemon", over));
    rows.push(row("lsprobe hot path", "hot", hot));
    if (sustained6) rows.push(row(`lsprobe daemon loop, IPv6 (sustained, max-pps ${sustained6.target})`, "daemon6", sustained6));
    rows.push(row("lsprobe daemon loop, IPv6 (overdriven, max-pps 10M)", "daemon6", over6));
    rows.push(row("lsprobe hot path, IPv6", "hot6", hot6));
    rows.push(row(`scapy ${sc.scapy} (one ${sc.l3socket})`, "scapy-l3socket", sc));
    if (scSend) rows.push(row(`scapy ${scSend.scapy} (send() per probe)`, "scapy-send", scSend));
    rows.push(row("C raw loop (sendto + recv)", "c", c));
    for (const x of sr) {
      if (x.sustained) rows.push(row(`lsprobe daemon loop, ${x.name} (sustained, max-pps ${x.sustained.target})`, `daemon-${x.key}`, x.sustained));
      rows.push(row(`lsprobe daemon loop, ${x.name} (overdriven, max-pps 10M)`, `daemon-${x.key}`, x.over));
      rows.push(row(`lsprobe hot path, ${x.name}`, `hot-${x.key}`, x.rows.hot));
      rows.push(row(`C raw loop, ${x.name}`, `c-${x.key}`, x.c));
    }
    for (const [k, v] of Object.entries(otherLoad)) if (v > 5) warnings.push(`other processes used ${v.toFixed(0)}% of a CPU during the ${k} row: its figures are skewed`);
    const f0 = (x: number): string => Math.round(x).toLocaleString("en-US");
    const out: string[] = [];
    out.push(`prober-rate (prober build ${proberBuild()}): 1-hop GRE probes (${t.length} bytes; IPv6 rows: GRE over IPv6, ${ProbeTemplate6.minimumSize(1)} bytes) A -> decap in B -> A over one veth; SRv6 (${t6.length} bytes, ${endName}) and SR-MPLS (MPLS-in-UDP, ${tm.length} bytes, lsp_mplsudp in B); ${entries} paths; window ${window}, batch ${batch}; ${seconds} s per row (daemon steps ${stepSeconds} s)`);
    out.push("");
    out.push(
      mdTable(
        ["", "sent/s", "matched/s", "lost %", "CPU %", "matched/CPU-s", "other load %"],
        rows.map((r) => [r.name, f0(r.sent), f0(r.matched), r.lostPct.toFixed(2), r.cpuPct.toFixed(0), f0(r.perCpuS), r.otherPct.toFixed(0)]),
      ),
    );
    out.push("");
    out.push("CPU %: the sender's user + system time; other load %: CPU used by processes outside the bench meanwhile, in % of one CPU.");
    out.push("");
    out.push("daemon loop sweep:");
    out.push("");
    out.push(
      mdTable(
        ["max-pps", "sent/s", "matched/s", "lost", "rcvbuf", "backlog", "CPU %", "CPU0 busy %", ""],
        [...steps_, over, ...steps6, over6, ...sr.flatMap((x) => x.rows.daemon.filter((r) => r.label !== "warm-up"))].map((r) => [
          `${daemon6.includes(r) ? "IPv6 " : (sr.find((x) => x.rows.daemon.includes(r))?.name.concat(" ") ?? "")}${r.target}`,
          f0(rate(r.sent, r.wallS)),
          f0(rate(r.matched, r.wallS)),
          String(r.lost),
          String(r.rcvbufErrors),
          String(r.softnetDrops),
          ((100 * r.cpuS) / r.wallS).toFixed(0),
          r.cpuBusyPct === undefined ? "-" : r.cpuBusyPct.toFixed(0),
          r.label === "daemon overdriven" ? "overdriven" : r.ok ? "sustained" : "NOT sustained",
        ]),
        ["r", "r", "r", "r", "r", "r", "r", "r", "l"],
      ),
    );
    out.push("");
    out.push("lost: sent - matched; rcvbuf: replies dropped because A's UDP socket was full (A's /proc/net/snmp RcvbufErrors);");
    out.push(`backlog: softnet_stat drops; CPU0 busy: the sender's CPU, softirq included (hot path: ${hot.cpuBusyPct?.toFixed(0) ?? "-"}%).`);
    const lsDaemon = sustained ? rate(sustained.matched, sustained.wallS) : 0;
    const lsHot = rate(hot.matched, hot.wallS);
    const scR = rate(sc.matched, sc.wallS);
    const cR = rate(c.matched, c.wallS);
    out.push("");
    out.push(`lsprobe/scapy:  daemon ${(lsDaemon / scR).toFixed(1)}x, hot path ${(lsHot / scR).toFixed(1)}x   (target >= 30x)`);
    const cCpu = (100 * c.cpuS) / c.wallS;
    out.push(
      `C/lsprobe:      daemon ${(cR / lsDaemon).toFixed(2)}x, hot path ${(cR / lsHot).toFixed(2)}x   (target <= 3x)${cCpu < 80 ? `; the C loop used only ${cCpu.toFixed(0)}% CPU: its wall rate is the reflector's limit, see per CPU-second` : ""}`,
    );
    const perCpu = (r: { matched: number; cpuS: number }): number => r.matched / r.cpuS;
    out.push(
      `C/lsprobe per CPU-second: daemon ${sustained ? (perCpu(c) / perCpu(sustained)).toFixed(2) : "-"}x, hot path ${(perCpu(c) / perCpu(hot)).toFixed(2)}x   (the hot path spins while its window is full: its CPU is an upper bound)`,
    );
    out.push(`lsprobe probes/s: daemon ${f0(lsDaemon)}, hot path ${f0(lsHot)}   (target >= 100,000)`);
    const ls6Daemon = sustained6 ? rate(sustained6.matched, sustained6.wallS) : 0;
    const ls6Hot = rate(hot6.matched, hot6.wallS);
    out.push(`lsprobe IPv6 probes/s: daemon ${f0(ls6Daemon)}, hot path ${f0(ls6Hot)}; IPv6/IPv4: daemon ${lsDaemon > 0 ? (ls6Daemon / lsDaemon).toFixed(2) : "-"}x, hot path ${(ls6Hot / lsHot).toFixed(2)}x; C (IPv4)/lsprobe IPv6: daemon ${ls6Daemon > 0 ? (cR / ls6Daemon).toFixed(2) : "-"}x, hot path ${(cR / ls6Hot).toFixed(2)}x`);
    const srLine = (x: (typeof sr)[number], gre: number, greHot: number, family: string): string => {
      const d = x.sustained ? rate(x.sustained.matched, x.sustained.wallS) : 0;
      const h = rate(x.rows.hot.matched, x.rows.hot.wallS);
      const cx = rate(x.c.matched, x.c.wallS);
      return `lsprobe ${x.name} probes/s: daemon ${f0(d)}, hot path ${f0(h)}; /GRE ${family}: daemon ${gre > 0 ? (d / gre).toFixed(2) : "-"}x, hot path ${(h / greHot).toFixed(2)}x; C ${x.name} ${f0(cx)}/s, C/lsprobe: daemon ${d > 0 ? (cx / d).toFixed(2) : "-"}x, hot path ${(cx / h).toFixed(2)}x`;
    };
    out.push(srLine(sr[0], ls6Daemon, ls6Hot, "IPv6"));
    out.push(srLine(sr[1], lsDaemon, lsHot, "IPv4"));
    out.push(`decap in B: ${JSON.stringify(dc)}; IPv6: ${JSON.stringify(dc6)}; label switcher: ${JSON.stringify(dcMpls)}${dcSrv6 ? `; SRv6 End: ${JSON.stringify(dcSrv6)}` : ""}`);
    for (const w of warnings) out.push(`WARNING: ${w}`);
    for (const p of problems) out.push(`PROBLEM: ${p}`);
    process.stdout.write(out.join("\n") + "\n");
    const r0 = (x: number): number => Math.round(x);
    const r2 = (x: number): number => Number(x.toFixed(2));
    process.stdout.write(
      JSON.stringify({
        bench: "prober-rate",
        proberBuild: proberBuild(),
        node: process.version,
        cpu: cpus()[0]?.model,
        ok: problems.length === 0,
        probeBytes: t.length,
        entries,
        window,
        batch,
        lsprobeDaemonPps: r0(lsDaemon),
        lsprobeDaemonMaxPps: sustained?.target ?? null,
        lsprobeOverdrivenPps: r0(rate(over.matched, over.wallS)),
        lsprobeOverdrivenLostPct: r2(row("", "daemon", over).lostPct),
        lsprobeHotPps: r0(lsHot),
        lsprobeHotCpuBusyPct: hot.cpuBusyPct === undefined ? null : r2(hot.cpuBusyPct),
        lsprobe6DaemonPps: r0(ls6Daemon),
        lsprobe6DaemonMaxPps: sustained6?.target ?? null,
        lsprobe6OverdrivenPps: r0(rate(over6.matched, over6.wallS)),
        lsprobe6HotPps: r0(ls6Hot),
        ratio6Over4Daemon: lsDaemon > 0 ? r2(ls6Daemon / lsDaemon) : null,
        ratio6Over4Hot: r2(ls6Hot / lsHot),
        ratioCOverDaemon6: ls6Daemon > 0 ? r2(cR / ls6Daemon) : null,
        ratioCOverHot6: r2(cR / ls6Hot),
        scapyPps: r0(scR),
        scapySendPps: scSend ? r0(rate(scSend.matched, scSend.wallS)) : null,
        cPps: r0(cR),
        ratioDaemonOverScapy: r2(lsDaemon / scR),
        ratioHotOverScapy: r2(lsHot / scR),
        ratioCOverDaemon: r2(cR / lsDaemon),
        ratioCOverHot: r2(cR / lsHot),
        ratioCOverDaemonPerCpuS: sustained ? r2(c.matched / c.cpuS / (sustained.matched / sustained.cpuS)) : null,
        ratioCOverHotPerCpuS: r2(c.matched / c.cpuS / (hot.matched / hot.cpuS)),
        machineBusyPctBefore: r2(busyBefore),
        machineBusyPctAfter: r2(busyAfter),
        warnings,
        rows: rows.map((r) => ({ name: r.name, sentPps: r0(r.sent), matchedPps: r0(r.matched), lostPct: r2(r.lostPct), cpuPct: r2(r.cpuPct), matchedPerCpuS: r0(r.perCpuS), otherLoadPct: r2(r.otherPct) })),
        sweep: [...steps_, over, ...steps6, over6, ...sr.flatMap((x) => x.rows.daemon.filter((r) => r.label !== "warm-up"))].map((r) => ({ family: daemon6.includes(r) || srv6.daemon.includes(r) ? "ipv6" : "ipv4", encap: srv6.daemon.includes(r) ? "srv6" : srMpls.daemon.includes(r) ? "sr-mpls" : "gre", maxPps: r.target, sent: r.sent, matched: r.matched, lost: r.lost, rcvbufErrors: r.rcvbufErrors, softnetDrops: r.softnetDrops, cpuBusyPct: r.cpuBusyPct === undefined ? null : r2(r.cpuBusyPct), skipped: r.skipped, wallS: r2(r.wallS), cpuS: r2(r.cpuS), ok: r.ok ?? false })),
        sr: sr.map((x) => ({
          encap: x.key,
          probeBytes: x.key === "srv6" ? t6.length : tm.length,
          daemonPps: x.sustained ? r0(rate(x.sustained.matched, x.sustained.wallS)) : 0,
          daemonMaxPps: x.sustained?.target ?? null,
          overdrivenPps: r0(rate(x.over.matched, x.over.wallS)),
          hotPps: r0(rate(x.rows.hot.matched, x.rows.hot.wallS)),
          cPps: r0(rate(x.c.matched, x.c.wallS)),
        })),
        decap: dc,
        decap6: dc6,
        labelSwitcher: dcMpls,
        srv6End: dcSrv6 ?? "kernel",
        scapy: sc.scapy,
        python: sc.python,
        problems,
      }) + "\n",
    );
    return problems.length === 0 ? 0 : 1;
  } finally {
    await pair.destroy();
  }
}

benchMain<WorkerArgs>("prober-rate", worker, orchestrate);
