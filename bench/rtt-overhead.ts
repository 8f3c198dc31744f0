// bench/rtt-overhead: how much the prober adds to the RTT it reports, against a C UDP echo
// client timing the same wire with clock_gettime, measured in the same run.
//
//   node dist/bench/rtt-overhead.js [--count N] [--rate PPS] [--rounds R] [--warmup W]
//
// Topology (bench/lib/vethpair.ts): namespaces A (198.18.200.0) and B (198.18.200.1) joined by a
// veth; the measuring process runs in A pinned to CPU 0, the reflectors in B pinned to CPU 1.
//   lsprobe  the real Prober (one 1-hop path, prober.rate = PPS, timeout 1 s) wired and looped
//            as prober/main.ts does (RawSocket send, ReplySocket receive -> Prober.onReply,
//            tick() on a setTimeout aimed at the next due probe). Its figure is what the tracker
//            hands to onRtt (the RTT the metrics observe): from the clock read just before the
//            send (after the packet is built) to the kernel's receive time of the reply
//            (SO_TIMESTAMPNS via prober/udprx.ts). Path: a 96-byte GRE probe to B, where
//            bench/c/lsp_decap.c strips the GRE layer and sends the inner 72-byte packet back.
//   C UDP    bench/c/lsp_udprtt.c: a 68-byte UDP datagram (a 96-byte IPv4 packet, as the probe)
//            to bench/c/lsp_udpecho.c in B, which sends the first 44 bytes back (a 72-byte
//            packet, as the probe's return); timed with clock_gettime(CLOCK_MONOTONIC) just
//            before send() and just after the blocking recv() returns. Same rate, same veth.
//   C GRE    bench/c/lsp_grertt.c: the prober's own probe bytes sent from C (IPPROTO_RAW) through
//            the same lsp_decap, the reply read from a UDP socket, timed the same way: same
//            packets and reflector as lsprobe, only the endpoint differs. It also reports the
//            RTT to the reply's kernel receive time (C GRE kstamp), the prober's own method.
// Every side waits in the kernel between packets and has one userspace hop in B (receive +
// send), so the difference of the medians is what the prober's own send and receive paths
// (JS, libuv, the dgram socket) add; against C GRE nothing else differs. The rounds alternate
// C UDP, C GRE and lsprobe (N/R probes each) so drift hits all; the first W replies of every
// round (ARP, JIT warm-up) are not counted.
//
// Correctness (exit 1 otherwise; exit 2 when the bench could not run): every counted probe came
// back (lsprobe: tracker "received", nothing lost, late or rejected; C: no timeouts, replies of
// the expected size), and the decapsulator dropped nothing. Rounds during which processes outside
// the bench used more than 5% of a CPU are warned about (their RTTs are skewed).
import { randomInt } from "node:crypto";
import { fileURLToPath } from "node:url";
import { availableParallelism, cpus } from "node:os";
import { Prober } from "../prober/prober.js";
import { IPPROTO_RAW, RawSocket } from "../prober/rawsock.js";
import { ReplySocket } from "../prober/udprx.js";
import { ProbeTemplate } from "../prober/packet/template.js";
import { createLogger } from "../shared/log.js";
import { benchMain, ADDR_A, ADDR_B, VethPair, cpuPlan, lastJson, machineBusyPct, proberBuild, quantile, LoadMonitor } from "./lib/vethpair.js";
import { PORT, benchConfig, benchPathSet } from "./lib/benchset.js";
import { mdTable } from "./lib/table.js";

const ECHO_PORT = PORT + 1;
const SCRIPT = fileURLToPath(import.meta.url);
const nowNs = (): number => performance.now() * 1e6;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface WorkerArgs {
  count: number;
  rate: number;
  warmup: number;
}

interface LsprobeRound {
  rttNs: number[];
  sent: number;
  received: number;
  late: number;
  lost: number;
  rejected: number;
  sendErrors: number;
}

async function worker(a: WorkerArgs): Promise<void> {
  const raw = RawSocket.open({ protocol: IPPROTO_RAW });
  const udp = ReplySocket.open(ADDR_A, PORT, { recvBufferSize: 4 << 20 });
  let sendErrors = 0;
  const onSent = (err?: Error): void => {
    if (err) sendErrors++;
  };
  const rtts: number[] = [];
  const prober = new Prober(
    benchConfig(100_000, a.rate, "1s"),
    { send: (pkt, dst) => raw.send(pkt, dst, onSent), nowNs, log: createLogger({ name: "bench", level: "error" }), onRtt: (_e, s) => void rtts.push(s * 1e9) },
    randomInt(0, 2 ** 32),
  );
  udp.on("message", (msg, arrivalNs) => prober.onReply(msg, arrivalNs));
  prober.setPathSet(benchPathSet(1));
  const total = a.warmup + a.count;
  let sent = 0;
  // main.ts's send loop, until `total` probes are out.
  await new Promise<void>((resolve) => {
    const loop = (): void => {
      sent += prober.tick();
      if (sent >= total) return resolve();
      const waitMs = Math.min(100, Math.max(1, Math.floor(prober.untilNextNs() / 1e6)));
      setTimeout(loop, waitMs);
    };
    loop();
  });
  const [e] = prober.entries();
  for (let i = 0; i < 100 && e.tracker.counters.received + e.tracker.counters.late < sent; i++) await sleep(10);
  const c = e.tracker.counters;
  raw.close();
  udp.close();
  const out: LsprobeRound = {
    rttNs: rtts.slice(a.warmup, a.warmup + a.count),
    sent: c.sent,
    received: c.received,
    late: c.late,
    lost: c.sent - c.received - c.late,
    rejected: Object.values(prober.rejected).reduce((x, y) => x + y, 0),
    sendErrors,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

interface CRound {
  rttNs: number[];
  kernelRttNs?: number[];
  lost: number;
  wrongSize: number;
}

type Side = "c" | "gre" | "lsprobe";
const SIDE_NAME: Record<Side, string> = { c: "C UDP", gre: "C GRE", lsprobe: "lsprobe" };

interface Stats {
  n: number;
  medianUs: number;
  p99Us: number;
  p90Us: number;
  minUs: number;
  meanUs: number;
}

function stats(ns: number[]): Stats {
  const s = [...ns].sort((x, y) => x - y);
  const us = (x: number): number => x / 1000;
  return {
    n: s.length,
    minUs: us(s[0]),
    medianUs: us(quantile(s, 0.5)),
    p90Us: us(quantile(s, 0.9)),
    p99Us: us(quantile(s, 0.99)),
    meanUs: us(s.reduce((x, y) => x + y, 0) / s.length),
  };
}

async function orchestrate(argv: string[]): Promise<number> {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const count = Number(opt("--count") ?? "1000");
  const rate = Number(opt("--rate") ?? "200");
  const rounds = Number(opt("--rounds") ?? "2");
  const warmup = Number(opt("--warmup") ?? "20");
  if (process.getuid?.() !== 0) {
    process.stderr.write("bench/rtt-overhead: needs root (network namespaces, raw sockets)\n");
    return 2;
  }
  const per = Math.ceil(count / rounds);
  const cpu = cpuPlan();
  const problems: string[] = [];
  const warnings: string[] = [];
  const busyBefore = await machineBusyPct(1000);
  if (busyBefore > 10) warnings.push(`the machine was ${busyBefore.toFixed(0)}% busy (all CPUs) before the run: other load skews the RTTs`);
  const pair = VethPair.create(["lsp_decap", "lsp_udpecho", "lsp_udprtt", "lsp_grertt"]);
  const monitor = (pair.monitor = new LoadMonitor());
  const otherLoad: Record<Side, number[]> = { c: [], gre: [], lsprobe: [] };
  const measured = async <T>(side: Side, fn: () => Promise<T>): Promise<T> => {
    monitor.begin();
    try {
      return await fn();
    } finally {
      otherLoad[side].push(monitor.end());
    }
  };
  try {
    process.stderr.write(`rtt-overhead: ${cpus()[0]?.model ?? "?"} x${availableParallelism()}, node ${process.version}; measuring on CPU ${cpu.measured ?? "any"}, reflectors on CPU ${cpu.reflector ?? "any"}\n`);
    const decap = pair.spawnIn(pair.b, [pair.bin("lsp_decap"), "300"], cpu.reflector);
    const t = new ProbeTemplate({ src: ADDR_A, hops: [ADDR_B], dstPort: PORT, srcPortBase: 49152, srcPortRange: 1, ttl: 64, dscp: 0, size: 0, mtu: 1500, pathIndex: 0, nonce: 0 });
    const reqBytes = t.length - 28; // UDP payload of a datagram whose IPv4 packet is as long as the probe
    const repBytes = t.length - t.innerOffset - 28; // and of one as long as the probe's return
    const echo = pair.spawnIn(pair.b, [pair.bin("lsp_udpecho"), ADDR_B, String(ECHO_PORT), String(repBytes), "300"], cpu.reflector);
    await Promise.all([decap.firstLine, echo.firstLine]);

    const cRtt: number[] = [];
    const gRtt: number[] = [];
    const kRtt: number[] = [];
    const lRtt: number[] = [];
    const lRounds: LsprobeRound[] = [];
    const cRounds: CRound[] = [];
    const gRounds: CRound[] = [];
    for (let r = 0; r < rounds; r++) {
      process.stderr.write(`round ${r + 1}/${rounds}: C UDP ${per} probes at ${rate}/s...\n`);
      const cr = await measured("c", () =>
        pair.spawnIn(pair.a, [pair.bin("lsp_udprtt"), ADDR_A, ADDR_B, String(ECHO_PORT), String(per + warmup), String(rate), String(reqBytes), String(repBytes)], cpu.measured).done,
      );
      if (cr.code !== 0) throw new Error(`bench: lsp_udprtt failed (${cr.code ?? cr.signal}): ${cr.stderr}`);
      const c = lastJson<CRound>(cr.stdout, "lsp_udprtt");
      c.rttNs = c.rttNs.slice(warmup);
      cRounds.push(c);
      cRtt.push(...c.rttNs);
      process.stderr.write(`round ${r + 1}/${rounds}: C GRE ${per} probes at ${rate}/s...\n`);
      const gr = await measured("gre", () =>
        pair.spawnIn(
          pair.a,
          [pair.bin("lsp_grertt"), t.buffer.toString("hex"), ADDR_B, ADDR_A, String(PORT), String(per + warmup), String(rate), String(t.payloadOffset), String(t.udpOffset)],
          cpu.measured,
        ).done,
      );
      if (gr.code !== 0) throw new Error(`bench: lsp_grertt failed (${gr.code ?? gr.signal}): ${gr.stderr}`);
      const g = lastJson<CRound>(gr.stdout, "lsp_grertt");
      g.rttNs = g.rttNs.slice(warmup);
      g.wrongSize = 0;
      gRounds.push(g);
      gRtt.push(...g.rttNs);
      kRtt.push(...(g.kernelRttNs ?? []).slice(warmup));
      process.stderr.write(`round ${r + 1}/${rounds}: lsprobe ${per} probes at ${rate}/s...\n`);
      const w = await measured("lsprobe", () => pair.spawnIn(pair.a, [process.execPath, SCRIPT, "--worker", JSON.stringify({ count: per, rate, warmup } satisfies WorkerArgs)], cpu.measured).done);
      process.stderr.write(w.stderr);
      if (w.code !== 0) throw new Error(`bench: lsprobe worker failed (${w.code ?? w.signal})`);
      const l = lastJson<LsprobeRound>(w.stdout, "lsprobe worker");
      lRounds.push(l);
      lRtt.push(...l.rttNs);
    }
    const dc = lastJson<{ received: number; forwarded: number; dropped: number; sendErrors: number }>((await pair.stop(decap)).stdout, "lsp_decap");
    const ec = lastJson<{ echoed: number; sendErrors: number }>((await pair.stop(echo)).stdout, "lsp_udpecho");
    const busyAfter = await machineBusyPct(1000);
    if (busyAfter > 10) warnings.push(`the machine was ${busyAfter.toFixed(0)}% busy (all CPUs) right after the run: other load skews the RTTs`);

    for (const side of ["c", "gre", "lsprobe"] as const)
      for (const [i, v] of otherLoad[side].entries())
        if (v > 5) warnings.push(`other processes used ${v.toFixed(0)}% of a CPU during ${SIDE_NAME[side]} round ${i + 1}: its RTTs are skewed`);
    for (const [i, l] of lRounds.entries()) {
      if (l.lost > 0 || l.late > 0 || l.rejected > 0 || l.sendErrors > 0 || l.received !== l.sent)
        problems.push(`lsprobe round ${i + 1}: sent ${l.sent}, received ${l.received}, late ${l.late}, lost ${l.lost}, rejected ${l.rejected}, send errors ${l.sendErrors}`);
      if (l.rttNs.length !== per) problems.push(`lsprobe round ${i + 1}: ${l.rttNs.length} RTTs counted, expected ${per}`);
    }
    for (const [name, list] of [
      ["C UDP", cRounds],
      ["C GRE", gRounds],
    ] as const)
      for (const [i, c] of list.entries()) {
        if (c.lost > 0 || c.wrongSize > 0) problems.push(`${name} round ${i + 1}: ${c.lost} lost, ${c.wrongSize} replies of the wrong size`);
        if (c.rttNs.length !== per) problems.push(`${name} round ${i + 1}: ${c.rttNs.length} RTTs counted, expected ${per}`);
      }
    if (dc.dropped > 0 || dc.sendErrors > 0 || dc.forwarded !== dc.received) problems.push(`decapsulator: ${JSON.stringify(dc)}`);

    const cs = stats(cRtt);
    const gs = stats(gRtt);
    if (kRtt.length !== gRtt.length) problems.push(`C GRE: ${kRtt.length} kernel-stamped RTTs for ${gRtt.length} replies`);
    const ks = stats(kRtt);
    const ls = stats(lRtt);
    const addedMedian = ls.medianUs - cs.medianUs;
    const addedP99 = ls.p99Us - cs.p99Us;
    const addedMedianGre = ls.medianUs - gs.medianUs;
    const addedP99Gre = ls.p99Us - gs.p99Us;
    const addedMedianK = ls.medianUs - ks.medianUs;
    const addedP99K = ls.p99Us - ks.p99Us;
    const f = (x: number): string => x.toFixed(1);
    const out: string[] = [];
    out.push(`rtt-overhead (prober build ${proberBuild()}): ${rounds} x (${per} C UDP + ${per} C GRE + ${per} lsprobe) probes at ${rate}/s, alternating; first ${warmup} of each round dropped; ${t.length}-byte packets out, ${t.length - t.innerOffset}-byte back`);
    out.push("");
    const row = (label: string, st: Stats): string[] => [label, String(st.n), f(st.minUs), f(st.medianUs), f(st.p90Us), f(st.p99Us), f(st.meanUs)];
    out.push(
      mdTable(
        ["", "n", "min µs", "median µs", "p90 µs", "p99 µs", "mean µs"],
        [
          row("C UDP echo (clock_gettime around send/recv)", cs),
          row("C GRE probe via the same decap (same clock)", gs),
          row("C GRE, to the kernel receive stamp", ks),
          row("lsprobe (Prober tracker RTT via onRtt)", ls),
        ],
      ),
    );
    out.push("");
    out.push(`added error (lsprobe - C UDP echo): median ${f(addedMedian)} µs (target < 30 µs), p99 ${f(addedP99)} µs (target < 200 µs)`);
    out.push(`added error (lsprobe - C GRE, same path): median ${f(addedMedianGre)} µs, p99 ${f(addedP99Gre)} µs`);
    out.push(`added error (lsprobe - C GRE to the kernel stamp, same path and method): median ${f(addedMedianK)} µs, p99 ${f(addedP99K)} µs`);
    out.push(`decap in B: ${JSON.stringify(dc)}; echo in B: ${JSON.stringify(ec)}`);
    for (const w of warnings) out.push(`WARNING: ${w}`);
    for (const p of problems) out.push(`PROBLEM: ${p}`);
    process.stdout.write(out.join("\n") + "\n");
    const r2 = (x: number): number => Number(x.toFixed(2));
    const rs = (s: Stats) => ({ n: s.n, minUs: r2(s.minUs), medianUs: r2(s.medianUs), p90Us: r2(s.p90Us), p99Us: r2(s.p99Us), meanUs: r2(s.meanUs) });
    process.stdout.write(
      JSON.stringify({
        bench: "rtt-overhead",
        proberBuild: proberBuild(),
        node: process.version,
        cpu: cpus()[0]?.model,
        ok: problems.length === 0,
        count: cs.n,
        rate,
        rounds,
        probeBytes: t.length,
        c: rs(cs),
        cGre: rs(gs),
        cGreKernel: rs(ks),
        lsprobe: rs(ls),
        addedMedianUs: r2(addedMedian),
        addedP99Us: r2(addedP99),
        addedMedianVsGreUs: r2(addedMedianGre),
        addedP99VsGreUs: r2(addedP99Gre),
        addedMedianVsGreKernelUs: r2(addedMedianK),
        addedP99VsGreKernelUs: r2(addedP99K),
        targetMedianUs: 30,
        targetP99Us: 200,
        met: addedMedian < 30 && addedP99 < 200,
        machineBusyPctBefore: r2(busyBefore),
        machineBusyPctAfter: r2(busyAfter),
        otherLoadPct: { c: otherLoad.c.map(r2), cGre: otherLoad.gre.map(r2), lsprobe: otherLoad.lsprobe.map(r2) },
        warnings,
        decap: dc,
        echo: ec,
        problems,
      }) + "\n",
    );
    return problems.length === 0 ? 0 : 1;
  } finally {
    await pair.destroy();
  }
}

benchMain<WorkerArgs>("rtt-overhead", worker, orchestrate);
