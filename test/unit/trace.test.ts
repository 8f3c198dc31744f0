// Pinned traces (prober/trace.ts, trace-shell.ts): the truncated stacks, the verdict, the
// not-decapsulating judgement (tables), then the prober tracing over a simulated network that
// peels one layer per router (GRE or IP-in-IP): where probes stop, where loss starts, a router
// that does not decapsulate, the budget under max-pps, the rate limits, trace replies kept out
// of the paths' counts, /paths, /metrics, GET /trace and `lsprobe-prober trace`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Prober, CurrentProber } from "../../prober/prober.js";
import { ProberMetrics } from "../../prober/metrics.js";
import { readIpv4Header, IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_UDP } from "../../prober/packet/ipv4.js";
import { GRE_HEADER_LENGTH } from "../../prober/packet/gre.js";
import { UDP_HEADER_LENGTH } from "../../prober/packet/udp.js";
import { PAYLOAD_OFF_FLAGS, PAYLOAD_OFF_NONCE, PAYLOAD_OFF_PATH_INDEX, PAYLOAD_OFF_SEQ } from "../../prober/packet/payload.js";
import { TRACE_INDEX_BASE, analyzeTrace, formatTrace, isTracePayload, judgeDecap, truncatedStack, type TraceResult } from "../../prober/trace.js";
import { TRACE_CLI, traceCommand, traceRoute } from "../../prober/trace-shell.js";
import { parseConfig, type ProberConfig } from "../../shared/config.js";
import { createLogger } from "../../shared/log.js";
import { Engine } from "../../plugin/engine.js";
import { directedPairs } from "../../plugin/paths.js";
import type { Path, PathSet } from "../../shared/pathset.js";
import { ExabgpLines, lineTopology } from "../util/exabgp-lines.js";
import { readTopologyJson } from "../util/edgelist.js";
import { mulberry32 } from "../util/rng.js";

const SOURCE = "198.18.100.2";

// ---- pure: the truncated stacks ----

// (`target` is the path set's version 2 field: how the layer is addressed.)
const g = (address: string, node: string) => ({ address, node, source: "interface", target: "interface" }) as Path["gre"][number];
/** r1>r2>r4>r6 with its links' addresses: a.b.c.X where X names the router. */
const PATH: Pick<Path, "gre" | "greReverse"> = {
  gre: [g("198.18.12.2", "r2"), g("198.18.24.4", "r4"), g("198.18.46.6", "r6")],
  greReverse: [g("198.18.46.4", "r4"), g("198.18.24.2", "r2"), g("198.18.12.1", "r1")],
};

const STACKS: Record<string, { k: number; returns: "reverse" | "routed"; want: string[] | RegExp }> = {
  "k=1 reverse: out to r2 and back to r1": { k: 1, returns: "reverse", want: ["198.18.12.2", "198.18.12.1"] },
  "k=2 reverse: out over r1-r2, r2-r4 and back the same links": { k: 2, returns: "reverse", want: ["198.18.12.2", "198.18.24.4", "198.18.24.2", "198.18.12.1"] },
  "k=3 reverse: the whole probe": { k: 3, returns: "reverse", want: ["198.18.12.2", "198.18.24.4", "198.18.46.6", "198.18.46.4", "198.18.24.2", "198.18.12.1"] },
  "k=1 routed: the first layer only": { k: 1, returns: "routed", want: ["198.18.12.2"] },
  "k=2 routed": { k: 2, returns: "routed", want: ["198.18.12.2", "198.18.24.4"] },
  "k=0: refused": { k: 0, returns: "reverse", want: /hop 0 is not 1\.\.3/ },
  "k=4: refused": { k: 4, returns: "reverse", want: /hop 4 is not 1\.\.3/ },
  "k=1.5: refused": { k: 1.5, returns: "routed", want: /hop 1\.5 is not 1\.\.3/ },
};
for (const [name, c] of Object.entries(STACKS)) {
  test(`truncatedStack: ${name}`, () => {
    if (c.want instanceof RegExp) assert.throws(() => truncatedStack(PATH, c.k, c.returns), c.want);
    else assert.deepEqual(truncatedStack(PATH, c.k, c.returns).map((h) => h.address), c.want);
  });
}

test("truncatedStack: reverse without a way back is refused, routed is not", () => {
  const noBack = { gre: PATH.gre, greReverse: [] };
  assert.throws(() => truncatedStack(noBack, 2, "reverse"), /3 links out and 0 back/);
  assert.equal(truncatedStack(noBack, 2, "routed").length, 2);
});

// ---- pure: the verdict ----

const h = (sent: number, received: number) => ({ sent, received });
const VERDICTS: Record<string, { hops: Array<{ sent: number; received: number }>; lossyAbove?: number; stopsAt: number | null; firstLoss: number | null }> = {
  "every hop answers": { hops: [h(100, 100), h(100, 100), h(100, 100)], stopsAt: null, firstLoss: null },
  "stops at hop 2": { hops: [h(100, 100), h(100, 0), h(100, 0)], stopsAt: 2, firstLoss: 2 },
  "stops at hop 1": { hops: [h(100, 0), h(100, 0)], stopsAt: 1, firstLoss: 1 },
  "10% from hop 2 on: loss starts at 2, hop 3 adds none": { hops: [h(100, 100), h(100, 90), h(100, 89)], stopsAt: null, firstLoss: 2 },
  "one probe lost at hop 1 is background, not a failure": { hops: [h(100, 99), h(100, 100), h(100, 99)], stopsAt: null, firstLoss: null },
  "1% at every hop: under lossy-above 2%": { hops: [h(100, 99), h(100, 99), h(100, 99)], lossyAbove: 0.02, stopsAt: null, firstLoss: null },
  "background 3% at hop 1, 30% at hop 3": { hops: [h(100, 97), h(100, 96), h(100, 70)], lossyAbove: 0.02, stopsAt: null, firstLoss: 1 },
  "loss then a stop further on": { hops: [h(100, 100), h(100, 80), h(100, 0)], stopsAt: 3, firstLoss: 2 },
  "nothing sent at a hop (aborted): neither": { hops: [h(100, 100), h(0, 0)], stopsAt: null, firstLoss: null },
};
for (const [name, c] of Object.entries(VERDICTS)) {
  test(`analyzeTrace: ${name}`, () => {
    const v = analyzeTrace(c.hops, { lossyAbove: c.lossyAbove ?? 0.01 });
    assert.equal(v.stopsAt, c.stopsAt);
    assert.equal(v.firstLoss, c.firstLoss);
  });
}

test("analyzeTrace: loss below lossy-above is never lossy, however significant", () => {
  assert.equal(analyzeTrace([h(10000, 9900)], { lossyAbove: 0.02 }).firstLoss, null);
  assert.equal(analyzeTrace([h(10000, 9700)], { lossyAbove: 0.02 }).firstLoss, 1);
});

// ---- pure: not-decapsulating routers ----

const P124 = { hops: ["r1", "r2", "r4", "r6"], addresses: ["a12", "a24", "a46"] };
const P134 = { hops: ["r1", "r3", "r4", "r6"], addresses: ["a13", "a34", "a46"] };
const P125 = { hops: ["r1", "r2", "r5", "r6"], addresses: ["a12", "a25", "a56"] };
const P642 = { hops: ["r6", "r4", "r2", "r1"], addresses: ["a64", "a42", "a21"] };
const stopAt = (k: number, n = 3) => Array.from({ length: n }, (_, i) => h(100, i + 1 < k ? 100 : 0));
const JUDGE: Record<string, { paths: Parameters<typeof judgeDecap>[0]; bad: string[] }> = {
  "r4 stops every trace from two directions, r1>r2>r5>r6 works: r4 does not decapsulate": {
    paths: [
      { ...P124, up: false, trace: stopAt(2) },
      { ...P134, up: false, trace: stopAt(2) },
      { ...P125, up: true },
    ],
    bad: ["r4"],
  },
  "three directions, one of them at hop 1 (from the source r6)": {
    paths: [{ ...P124, up: false, trace: stopAt(2) }, { ...P134, up: false, trace: stopAt(2) }, { ...P642, up: false, trace: stopAt(1) }, { ...P125, up: true }],
    bad: ["r4"],
  },
  "one direction only: its link cannot be told from it": {
    paths: [{ ...P124, up: false, trace: stopAt(2) }, { ...P125, up: true }],
    bad: [],
  },
  "a working path across r4: it decapsulates (the r2 -> r4 link is broken)": {
    paths: [{ ...P124, up: false, trace: stopAt(2) }, { ...P134, up: true }, { ...P642, up: false, trace: stopAt(2) }],
    bad: [],
  },
  "a trace hop beyond r4 answers: it decapsulates": {
    paths: [{ ...P124, up: false, trace: stopAt(2) }, { ...P134, up: false, trace: [h(100, 100), h(100, 50), h(100, 0)] }, { ...P125, up: true }],
    bad: [],
  },
  "nothing works anywhere: the prober's own outage, no router is blamed": {
    paths: [{ ...P124, up: false, trace: stopAt(2) }, { ...P134, up: false, trace: stopAt(2) }, { ...P125, up: false }],
    bad: [],
  },
  "gray loss is not a stop": {
    paths: [{ ...P124, up: true, trace: [h(100, 100), h(100, 90), h(100, 90)] }, { ...P134, up: true }],
    bad: [],
  },
  "two paths through the same address are one direction": {
    paths: [{ ...P124, up: false, trace: stopAt(2) }, { hops: ["r1", "r2", "r4", "r5"], addresses: ["a12", "a24", "a45"], up: false, trace: stopAt(2) }, { ...P125, up: true }],
    bad: [],
  },
};
for (const [name, c] of Object.entries(JUDGE)) {
  test(`judgeDecap: ${name}`, () => {
    const judged = judgeDecap(c.paths);
    assert.deepEqual(judged.filter((r) => !r.ok).map((r) => r.router), c.bad);
    const names = [...new Set(c.paths.flatMap((p) => p.hops))].sort();
    assert.deepEqual(judged.map((r) => r.router), names, "every router listed");
  });
}

test("judgeDecap: the failing addresses and where the traces came from", () => {
  const [r4] = judgeDecap([{ ...P124, up: false, trace: stopAt(2) }, { ...P134, up: false, trace: stopAt(2) }, { ...P125, up: true }]).filter((r) => r.router === "r4");
  assert.deepEqual(r4, { router: "r4", ok: false, failingAddresses: ["a24", "a34"], from: ["r2", "r3"] });
});

// ---- the prober, tracing over a simulated network ----

async function nanogPathSet(): Promise<PathSet> {
  let set: PathSet | undefined;
  const engine = new Engine(
    { query: { pairs: directedPairs([["r1", "r6"]]), mode: "all", maxPerPair: 64 }, metric: "igp", debounceMs: 0, staleTimeoutMs: 1000, routeRefresh: false, generation: 0, sliceMs: 0 },
    { log: createLogger({ name: "t", level: "error", stream: { write: () => {} } }), command: () => {}, publish: async (s) => void (set = s), now: () => new Date(0) },
  );
  const t = readTopologyJson("nanog6.json");
  let n = 0;
  for (const l of new ExabgpLines(lineTopology(t.nodes, t.edges)).fullTable()) engine.handleLine(l, ++n);
  await engine.recompute();
  return set!;
}

function proberConfig(extra = "", rate = 10): ProberConfig {
  return parseConfig(`plugin:\n  endpoints:\n    pairs: [[r1, r6]]\nprober:\n  source: ${SOURCE}\n  router: r1\n  rate: ${rate}\n  timeout: 200ms\n  loss-window: 2s\n  down-after: 2\n  up-after: 2\n  lossy-above: 0.02\n${extra}`, "t.yaml").prober!;
}

/**
 * A network that peels one layer (GRE or IP-in-IP) per router; `loss` drops a share of what is
 * addressed to an address (1: a black hole), with a seeded generator. Records every packet sent
 * (its time and outermost destination) and the layers of each.
 */
function setup(cfg = proberConfig()) {
  let now = 0;
  const loss = new Map<string, number>();
  const rng = mulberry32(12);
  const logs: string[] = [];
  const sends: Array<{ ns: number; dst: string; trace: boolean }> = [];
  const stacks: Array<{ index: number; layers: Array<{ dst: string; protocol: number }> }> = [];
  const queue: Buffer[] = [];
  let prober!: Prober;
  const flush = (): void => {
    for (let pkt = queue.shift(); pkt; pkt = queue.shift()) {
      let off = 0;
      for (;;) {
        const ip = readIpv4Header(pkt, off);
        assert.ok(ip.checksumOk);
        const l = loss.get(ip.dst);
        if (l !== undefined && rng() < l) break;
        if (ip.protocol === IPPROTO_GRE) off = ip.next + GRE_HEADER_LENGTH;
        else if (ip.protocol === IPPROTO_IPIP) off = ip.next;
        else {
          assert.equal(ip.protocol, IPPROTO_UDP);
          assert.equal(ip.dst, SOURCE);
          prober.onReply(pkt.subarray(ip.next + UDP_HEADER_LENGTH));
          break;
        }
      }
    }
  };
  const send = (pkt: Buffer, dst: string): void => {
    const copy = Buffer.from(pkt);
    const layers: Array<{ dst: string; protocol: number }> = [];
    let off = 0;
    for (;;) {
      const ip = readIpv4Header(copy, off);
      if (ip.protocol === IPPROTO_UDP) {
        const index = copy.readUInt32BE(ip.next + UDP_HEADER_LENGTH + PAYLOAD_OFF_PATH_INDEX);
        stacks.push({ index, layers });
        sends.push({ ns: now, dst, trace: index >= TRACE_INDEX_BASE });
        break;
      }
      layers.push({ dst: ip.dst, protocol: ip.protocol });
      off = ip.protocol === IPPROTO_GRE ? ip.next + GRE_HEADER_LENGTH : ip.next;
    }
    queue.push(copy);
  };
  prober = new Prober(cfg, { send, nowNs: () => now, log: createLogger({ name: "t", level: "info", stream: { write: (s: string) => logs.push(s) } }) }, 7);
  const run = (seconds: number): void => {
    for (let ms = 0; ms < seconds * 1000; ms += 5) {
      now += 5e6;
      prober.tick();
      prober.traceTick();
      flush();
      if (Math.round(now / 1e6) % 1000 === 0) prober.roll();
    }
  };
  /** Runs until `ok` or `seconds` pass; returns whether it held. */
  const runUntil = (ok: () => boolean, seconds = 30): boolean => {
    for (let i = 0; i < seconds * 10; i++) {
      if (ok()) return true;
      run(0.1);
    }
    return ok();
  };
  return { prober, loss, logs, sends, stacks, run, runUntil, now: () => now };
}

const entry = (p: Prober, hops: string) => p.entryFor(hops)!;
const lastTrace = (p: Prober, hops: string): TraceResult | undefined => p.traces().find((t) => t.hops === hops);
/** Every address on `router` that some layer is sent to. */
const addressesOf = (set: PathSet, router: string): string[] => [...new Set(set.paths.flatMap((p) => [...p.gre, ...p.greReverse]).filter((x) => p2name(set, x.node) === router).map((x) => x.address))];
const p2name = (set: PathSet, node: string): string => set.paths.flatMap((p) => p.hops).find((x) => x.node === node)?.name ?? node;

test("prober trace: each hop's probe is the truncated stack, in the entry's encapsulations (r4 IP-in-IP)", async () => {
  const s = setup(proberConfig("  encap-per-router:\n    r4: ipip\n"));
  const set = await nanogPathSet();
  s.prober.setPathSet(set);
  s.run(1);
  const e = entry(s.prober, "r1>r2>r4>r6");
  assert.equal(s.prober.requestTrace(e, "demand").state, "started");
  s.run(0.1);
  const traced = s.stacks.filter((x) => x.index >= TRACE_INDEX_BASE);
  const firstOf = (k: number) => traced.find((x) => (x.index & 0xff) === k)!;
  for (const k of [1, 2, 3]) {
    const want = truncatedStack(e.path, k, "reverse");
    assert.deepEqual(firstOf(k).layers.map((l) => l.dst), want.map((x) => x.address), `hop ${k}: layer addresses`);
    assert.deepEqual(
      firstOf(k).layers.map((l) => l.protocol),
      want.map((x) => (p2name(set, x.node) === "r4" ? IPPROTO_IPIP : IPPROTO_GRE)),
      `hop ${k}: r4's layers IP-in-IP, the others GRE`,
    );
  }
});

test("prober trace: a black hole on r2 -> r4: paths across it go down, their traces stop at the r2 -> r4 hop; replies stay out of the paths' counts", async () => {
  const s = setup();
  const set = await nanogPathSet();
  s.prober.setPathSet(set);
  s.run(2);
  const regularBefore = s.sends.filter((x) => !x.trace).length;
  const l24 = set.paths.flatMap((p) => p.links).find((l) => l.from === "r2" && l.to === "r4")!;
  s.loss.set(l24.remoteAddress!, 1);
  assert.ok(s.runUntil(() => lastTrace(s.prober, "r1>r2>r4>r6") !== undefined), "a trace of the path that went down");
  const t = lastTrace(s.prober, "r1>r2>r4>r6")!;
  assert.equal(t.trigger, "down");
  assert.equal(t.stopsAt, 2);
  assert.equal(t.firstLoss, 2);
  assert.deepEqual(t.failing, { k: 2, from: "r2", to: "r4", link: l24.id });
  assert.deepEqual(t.perHop.map((x) => [x.k, x.from, x.to, x.sent, x.received]), [
    [1, "r1", "r2", 100, 100],
    [2, "r2", "r4", 100, 0],
    [3, "r4", "r6", 100, 0],
  ]);
  assert.ok(t.perHop[0].rttP50Seconds! >= 0 && t.perHop[1].rttP50Seconds === null);
  assert.match(t.summary, /probes stop at hop 2, r2 -> r4/);
  assert.ok(s.logs.some((l) => l.includes("probes stop at hop 2, r2 -> r4")), "logged");
  // Trace replies never reach a tracker: every tracker's sends are the regular probes, and
  // nothing was rejected as unknown.
  const trackerSent = [...s.prober.entries()].reduce((n, e) => n + e.tracker.counters.sent, 0);
  assert.equal(trackerSent, s.sends.filter((x) => !x.trace).length);
  assert.ok(s.sends.filter((x) => !x.trace).length > regularBefore);
  assert.deepEqual(Object.values(s.prober.rejected), [0, 0, 0, 0, 0, 0, 0], "no reply rejected");
  for (const e of s.prober.entries()) assert.ok(e.tracker.counters.received <= e.tracker.counters.sent);
  // r2 -> r4 alone is broken: r4 still carries r1>r3>r4>r6, it decapsulates.
  assert.ok(s.prober.routerDecap().every((r) => r.ok));
  // /paths: the path's last trace.
  const d = (s.prober.describe() as Array<{ hops: string; trace?: TraceResult }>).find((x) => x.hops === "r1>r2>r4>r6")!;
  assert.equal(d.trace?.firstLoss, 2);
});

test("prober trace: a gray 10% loss on r2 -> r4: the trace of r1>r2>r4>r6 says the loss starts at the r2 -> r4 hop", async () => {
  const s = setup();
  const set = await nanogPathSet();
  s.prober.setPathSet(set);
  s.run(2);
  const l24 = set.paths.flatMap((p) => p.links).find((l) => l.from === "r2" && l.to === "r4")!;
  s.loss.set(l24.remoteAddress!, 0.1);
  s.run(1);
  const r = s.prober.requestTrace(entry(s.prober, "r1>r2>r4>r6"), "demand");
  assert.ok(r.state === "started" || r.state === "running", r.state);
  assert.ok(s.runUntil(() => s.prober.traceResult(r.id!) !== undefined));
  const t = s.prober.traceResult(r.id!)!;
  assert.equal(t.stopsAt, null);
  assert.equal(t.firstLoss, 2, JSON.stringify(t.perHop.map((x) => x.lossRatio)));
  assert.equal(t.failing?.from, "r2");
  assert.equal(t.failing?.to, "r4");
  assert.equal(t.perHop[0].lost, 0);
  assert.ok(t.perHop[1].lossRatio! > 0.03 && t.perHop[1].lossRatio! < 0.2);
  assert.match(t.summary, /loss starts at hop 2, r2 -> r4/);
  // Metrics: per hop and the first failing hop.
  const text = await new ProberMetrics(new CurrentProber(s.prober)).registry.metrics();
  const lbl = `path="${t.path}",class="default",hops="r1>r2>r4>r6",af="ipv4"`;
  assert.ok(text.includes(`lsprobe_trace_first_failing_hop{${lbl}} 2\n`), text.match(/^lsprobe_trace.*$/gm)?.join("\n"));
  assert.ok(text.includes(`lsprobe_trace_hop_loss_ratio{${lbl},hop="1",from="r1",to="r2"} 0\n`));
  assert.match(text, new RegExp(`^lsprobe_trace_hop_loss_ratio\\{${lbl.replace(/[>]/g, "\\$&")},hop="2",from="r2",to="r4"\\} 0\\.\\d+$`, "m"));
  assert.match(text, new RegExp(`^lsprobe_traces_total\\{trigger="${t.trigger}"\\} [1-9]$`, "m"));
  assert.ok(text.includes(`lsprobe_router_decap_ok{router="r4",af="ipv4"} 1\n`));
  // The table the CLI and the demo print.
  const lines = formatTrace(t);
  assert.match(lines[2], /^1 +r1 -> r2 +100 +100 +0\.0%/);
  assert.match(lines[3], /^2 +r2 -> r4 +100 +\d+ .*<- loss starts$/);
});

test("prober trace: r4 not decapsulating: traces from r2 and r3 stop right before it; reported (metric, log), nothing else is", async () => {
  const s = setup();
  const set = await nanogPathSet();
  s.prober.setPathSet(set);
  s.run(2);
  const r4 = addressesOf(set, "r4");
  assert.ok(r4.length >= 3, r4.join());
  for (const a of r4) s.loss.set(a, 1);
  assert.ok(
    s.runUntil(() => s.prober.routerDecap().some((r) => r.router === "r4" && !r.ok)),
    JSON.stringify(s.prober.traces().map((t) => [t.hops, t.stopsAt])),
  );
  assert.deepEqual(s.prober.routerDecap().filter((r) => !r.ok).map((r) => r.router), ["r4"]);
  const bad = s.prober.routerDecap().find((r) => r.router === "r4")!;
  assert.deepEqual(bad.from, ["r2", "r3"]);
  for (const hops of ["r1>r2>r4>r6", "r1>r3>r4>r6"]) assert.equal(lastTrace(s.prober, hops)?.stopsAt, 2, hops);
  assert.ok(s.logs.some((l) => /router does not decapsulate/.test(l) && l.includes("r4")));
  const text = await new ProberMetrics(new CurrentProber(s.prober)).registry.metrics();
  assert.ok(text.includes(`lsprobe_router_decap_ok{router="r4",af="ipv4"} 0\n`));
  for (const r of ["r1", "r2", "r3", "r5", "r6"]) assert.ok(text.includes(`lsprobe_router_decap_ok{router="${r}",af="ipv4"} 1\n`), r);
  // Fixed: the paths come back up and r4 is ok again.
  s.loss.clear();
  assert.ok(s.runUntil(() => s.prober.routerDecap().every((r) => r.ok)));
  assert.ok(s.logs.some((l) => /router decapsulates again/.test(l)));
});

test("prober trace: probes and traces together never exceed max-pps", async () => {
  // 4 paths at 20/s = 80/s asked, max-pps 100: traces get 50/s, the probes the rest.
  const s = setup(proberConfig("  max-pps: 100\n", 20));
  s.prober.setPathSet(await nanogPathSet());
  s.run(2);
  const from = s.now();
  const ids = ["r1>r2>r4>r6", "r1>r3>r5>r6"].map((hops) => s.prober.requestTrace(entry(s.prober, hops), "demand").id!);
  assert.equal(s.prober.schedule.rate, 50, "the probes' share while traces run");
  assert.ok(s.runUntil(() => ids.every((id) => s.prober.traceResult(id) !== undefined)), "both traces done");
  const during = s.sends.filter((x) => x.ns > from);
  assert.ok(during.some((x) => x.trace) && during.some((x) => !x.trace));
  // While traces run (their last probe sent): 100/s on average, not the 80 + 50 asked. In any
  // 1 s window at most one more per stream (two: probes and traces), from the 5 ms ticks that
  // round each send up to the next tick.
  const lastTrace = during.filter((x) => x.trace).at(-1)!.ns;
  const span = during.filter((x) => x.ns <= lastTrace);
  const avg = span.length / ((lastTrace - from) / 1e9);
  assert.ok(avg <= 100, `${avg.toFixed(1)} probes/s on average`);
  assert.ok(avg > 90, `${avg.toFixed(1)} probes/s: the budget is used`);
  let worst = 0;
  for (let i = 0, j = 0; i < span.length; i++) {
    while (j < span.length && span[j].ns < span[i].ns + 1e9) j++;
    worst = Math.max(worst, j - i);
  }
  assert.ok(worst <= 100 + 2, `${worst} sent in one second`);
  // Traces are done: the probes have their rate back.
  assert.equal(s.prober.schedule.rate, 80);
});

test("prober trace: rate limits: one a path, a cooldown for automatic ones, a bounded queue", async () => {
  const s = setup();
  s.prober.setPathSet(await nanogPathSet());
  s.run(1);
  const e = entry(s.prober, "r1>r2>r4>r6");
  const first = s.prober.requestTrace(e, "down");
  assert.equal(first.state, "started");
  assert.deepEqual(s.prober.requestTrace(e, "demand"), { state: "running", id: first.id });
  assert.ok(s.runUntil(() => s.prober.traceResult(first.id!) !== undefined));
  assert.deepEqual(s.prober.requestTrace(e, "suspect"), { state: "cooldown" }, "automatic: once a minute a path");
  assert.equal(s.prober.requestTrace(e, "demand").state, "started", "on demand: whenever none runs");
  // Four paths at once: the fifth waits (there are four paths from r1; use a larger prober set).
  const states = ["r1>r2>r5>r6", "r1>r3>r4>r6", "r1>r3>r5>r6"].map((hops) => s.prober.requestTrace(entry(s.prober, hops), "demand").state);
  assert.deepEqual(states, ["started", "started", "started"]);
});

test("prober trace: forged, foreign, replayed and duplicate trace replies are rejected and counted", async () => {
  const s = setup();
  s.prober.setPathSet(await nanogPathSet());
  s.run(1);
  // Capture one trace probe's payload as the network would return it.
  const r = s.prober.requestTrace(entry(s.prober, "r1>r2>r4>r6"), "demand");
  const sent = s.stacks.length;
  s.run(0.01);
  assert.ok(s.stacks.length > sent);
  const payloads: Buffer[] = [];
  const orig = s.prober.onReply.bind(s.prober);
  s.prober.onReply = (p: Buffer, a?: number) => (payloads.push(Buffer.from(p)), orig(p, a));
  s.run(0.05);
  s.prober.onReply = orig;
  const p = payloads.find((x) => isTracePayload(x))!;
  assert.ok(p, "a trace reply");
  const variant = (f: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(p);
    f(b);
    return b;
  };
  const before = { ...s.prober.rejected };
  s.prober.onReply(p); // the same reply again
  s.prober.onReply(variant((b) => b.writeUInt32BE(b.readUInt32BE(PAYLOAD_OFF_NONCE) ^ 1, PAYLOAD_OFF_NONCE)));
  s.prober.onReply(variant((b) => b.writeUInt32BE(0xffffff01, PAYLOAD_OFF_PATH_INDEX)));
  s.prober.onReply(variant((b) => b.writeUInt32BE(999_999, PAYLOAD_OFF_SEQ)));
  const diff = Object.fromEntries(Object.entries(s.prober.rejected).map(([k, v]) => [k, v - before[k as keyof typeof before]]).filter(([, v]) => v !== 0));
  assert.deepEqual(diff, { duplicate: 1, other_run: 1, unknown_path: 1, replay: 1 });
  assert.ok(s.runUntil(() => s.prober.traceResult(r.id!) !== undefined));
  assert.equal(s.prober.traceResult(r.id!)!.firstLoss, null, "the rejected ones changed nothing");
});

test("prober trace: with a key, a trace reply without a good MAC is rejected", async () => {
  let now = 0;
  const keyed = new Prober(proberConfig(), { send: () => {}, nowNs: () => now, log: createLogger({ name: "t", level: "error", stream: { write: () => {} } }) }, 7, Buffer.alloc(32, 1));
  keyed.setPathSet(await nanogPathSet());
  const b = Buffer.alloc(44);
  b.write("LSPR", 0);
  b[4] = 1;
  b.writeUInt32BE(TRACE_INDEX_BASE + 256 + 1, PAYLOAD_OFF_PATH_INDEX);
  b.writeUInt32BE(7, PAYLOAD_OFF_NONCE);
  keyed.requestTrace(keyed.entryFor("r1>r2>r4>r6")!, "demand");
  now = 0.1e9;
  keyed.traceTick(); // probe 0 of hop 1 sent, among others
  keyed.onReply(b); // flag M clear
  b[PAYLOAD_OFF_FLAGS] = 1;
  keyed.onReply(b); // M set, MAC all zero
  assert.equal(keyed.rejected.bad_mac, 2);
});

test("GET /trace: runs a trace on demand and answers with it; 400, 404, wait=0", async () => {
  const s = setup();
  s.prober.setPathSet(await nanogPathSet());
  s.run(1);
  const route = traceRoute(() => s.prober, async () => s.run(0.1));
  const get = async (q: string) => {
    const r = (await route.handler({ url: `/trace${q}` } as never)) as { status?: number; body: string };
    return { status: r.status ?? 200, body: JSON.parse(r.body) as { state?: string; id?: number; error?: string; trace?: TraceResult } };
  };
  assert.equal((await get("")).status, 400);
  const none = await get("?path=r1>r9");
  assert.equal(none.status, 404);
  assert.match(none.body.error!, /no probed path "r1>r9"/);
  const ok = await get(`?path=${encodeURIComponent("r1>r3>r5>r6")}`);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.trace?.hops, "r1>r3>r5>r6");
  assert.equal(ok.body.trace?.trigger, "demand");
  assert.equal(ok.body.trace?.firstLoss, null);
  const byId = await get(`?path=${entry(s.prober, "r1>r2>r4>r6").path.id}&wait=0`);
  assert.equal(byId.status, 202);
  assert.equal(byId.body.state, "started");
});

const RESULT = (firstLoss: number | null): TraceResult => ({
  id: 3,
  key: "p-1/default/ipv4",
  path: "p-1",
  class: "default",
  af: "ipv4",
  hops: "r1>r2>r4>r6",
  trigger: "demand",
  returns: "reverse",
  finishedAt: "2026-01-01T00:00:00.000Z",
  durationSeconds: 1.7,
  probesPerHop: 100,
  perHop: [1, 2, 3].map((k) => ({
    k,
    from: ["r1", "r2", "r4"][k - 1],
    to: ["r2", "r4", "r6"][k - 1],
    link: `l-${k}`,
    address: `198.18.0.${k}`,
    sent: 100,
    received: firstLoss !== null && k >= firstLoss ? 90 : 100,
    lost: firstLoss !== null && k >= firstLoss ? 10 : 0,
    lossRatio: firstLoss !== null && k >= firstLoss ? 0.1 : 0,
    rttMinSeconds: 0.0003,
    rttP50Seconds: 0.0004,
    rttMaxSeconds: 0.002,
    lossy: k === firstLoss,
  })),
  stopsAt: null,
  firstLoss,
  failing: firstLoss === null ? null : { k: firstLoss, from: "r2", to: "r4", link: "l-2" },
  summary: firstLoss === null ? "trace r1>r2>r4>r6: every hop answers" : "trace r1>r2>r4>r6: loss starts at hop 2, r2 -> r4",
});

function io() {
  const out = { stdout: "", stderr: "" };
  return { out, streams: { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } } };
}

const CLI_CASES: Record<string, { argv: string[]; answer?: { status: number; body: unknown } | "down"; code: number; stdout?: RegExp; stderr?: RegExp; url?: string }> = {
  "--help: the usage on stdout": { argv: ["--help"], code: 0, stdout: /^Usage: lsprobe-prober trace PATH \[--url URL\][\s\S]*--url URL[\s\S]*Exit codes: 0 every hop answers/ },
  "no path: exit 2": { argv: [], code: 2, stderr: /^lsprobe-prober trace: which path\? .*\(see --help\)\n$/ },
  "two paths: exit 2": { argv: ["a", "b"], code: 2, stderr: /one path at a time, got 2 \(see --help\)/ },
  "unknown option: exit 2": { argv: ["p", "--ur", "x"], code: 2, stderr: /^lsprobe-prober trace: unknown option --ur \(see --help\)/ },
  "a failing hop: the table, exit 1": { argv: ["r1>r2>r4>r6", "--url", "http://198.18.0.9:9469"], answer: { status: 200, body: { state: "done", id: 3, trace: RESULT(2) } }, code: 1, stdout: /^trace of r1>r2>r4>r6[\s\S]*^2 +r2 -> r4 .*<- loss starts$[\s\S]*loss starts at hop 2, r2 -> r4\n$/m, url: "http://198.18.0.9:9469/trace?path=r1%3Er2%3Er4%3Er6" },
  "every hop answers: exit 0": { argv: ["p-1", "--class", "ef"], answer: { status: 200, body: { state: "done", id: 3, trace: RESULT(null) } }, code: 0, stdout: /every hop answers\n$/, url: "http://127.0.0.1:9469/trace?path=p-1&class=ef" },
  "--json": { argv: ["p-1", "--json"], answer: { status: 200, body: { trace: RESULT(2) } }, code: 1, stdout: /^\{\n {2}"id": 3,/ },
  "not probed: the prober's message, exit 3": { argv: ["r1>r9"], answer: { status: 404, body: { error: 'no probed path "r1>r9" (GET /paths lists them)' } }, code: 3, stderr: /^lsprobe-prober trace: no probed path "r1>r9"/ },
  "no prober: exit 3": { argv: ["p-1"], answer: "down", code: 3, stderr: /no answer from http:\/\/127\.0\.0\.1:9469: .*is the prober running/ },
};
for (const [name, c] of Object.entries(CLI_CASES)) {
  test(`lsprobe-prober trace: ${name}`, async () => {
    const { out, streams } = io();
    let asked: string | undefined;
    const fetchFn = (async (u: URL) => {
      asked = u.toString();
      if (c.answer === "down" || c.answer === undefined) throw new Error("connect ECONNREFUSED");
      return new Response(JSON.stringify(c.answer.body), { status: c.answer.status });
    }) as unknown as typeof fetch;
    assert.equal(await traceCommand(c.argv, streams, fetchFn), c.code, out.stdout + out.stderr);
    if (c.stdout) assert.match(out.stdout, c.stdout);
    if (c.stderr) assert.match(out.stderr, c.stderr);
    if (c.url) assert.equal(asked, c.url);
  });
}

test("lsprobe-prober trace: its usage follows shared/cli.ts (program name, options, epilog)", () => {
  assert.equal(TRACE_CLI.program, "lsprobe-prober trace");
  assert.equal(TRACE_CLI.positionals, true);
});
