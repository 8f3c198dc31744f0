// The prober's core against a simulated network: every router on the path takes off its GRE
// layer (as the lab's decapsulators do); a broken link drops what would cross it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CurrentProber, Prober } from "../../prober/prober.js";
import { ProberMetrics } from "../../prober/metrics.js";
import type { PathCounters } from "../../prober/tracker.js";
import { readIpv4Header, IPPROTO_GRE } from "../../prober/packet/ipv4.js";
import { GRE_HEADER_LENGTH } from "../../prober/packet/gre.js";
import { UDP_HEADER_LENGTH } from "../../prober/packet/udp.js";
import { PAYLOAD_OFF_MAC, PAYLOAD_OFF_NONCE, PAYLOAD_OFF_PATH_INDEX, PAYLOAD_OFF_SEQ, PayloadMac } from "../../prober/packet/payload.js";
import { parseConfig, type ProberConfig } from "../../shared/config.js";
import { mulberry32 } from "../util/rng.js";
import { captureLog, greNetwork, linkOf, nanogPathSet, oneProber, quiet } from "../util/simnet.js";
import type { ProbeTemplateBase } from "../../prober/packet/template.js";

const SOURCE = "198.18.100.2";

function proberConfig(extra = "", rate = 10): ProberConfig {
  return parseConfig(`plugin:\n  endpoints:\n    pairs: [[r1, r6]]\nprober:\n  source: ${SOURCE}\n  rate: ${rate}\n  timeout: 200ms\n  loss-window: 2s\n  down-after: 2\n  up-after: 2\n${extra}`, "t.yaml").prober!;
}

function setup(cfg = proberConfig(), key?: Buffer) {
  const broken = new Set<string>();
  const logs: string[] = [];
  /** The reply socket's drop counter, as the shell reads it (undefined: not known). */
  const socket: { drops: number | undefined } = { drops: undefined };
  // A network that peels GRE layers; `broken` addresses (a link's far end) black-hole the packet.
  const network = (deliver: (payload: Buffer) => void) =>
    greNetwork({
      broken,
      deliver: (payload, dst) => {
        assert.equal(dst, SOURCE);
        deliver(payload);
      },
    });
  const s = oneProber(cfg, network, { key, log: captureLog(logs), io: { replyDrops: () => socket.drops } });
  return { prober: s.prober, broken, logs, run: s.run, net: s.net, advance: s.advance, socket };
}

const byHops = (p: Prober) => new Map([...p.entries()].map((e) => [String(e.info.hops), e]));

test("prober: all eight NANOG paths come back; accounting adds up", async () => {
  const s = setup();
  s.prober.setPathSet(await nanogPathSet());
  s.run(3);
  const entries = [...s.prober.entries()];
  assert.equal(entries.length, 8);
  for (const e of entries) {
    const c = e.tracker.counters;
    assert.equal(e.tracker.up, true, String(e.info.hops));
    assert.ok(c.sent >= 28 && c.sent <= 31, `${c.sent} sent at 10/s in 3 s`);
    assert.equal(c.sent, c.received + c.late + c.lost + e.tracker.inFlight);
    assert.equal(c.lost, 0);
    assert.equal(e.returns, "reverse");
  }
});

test("prober: a broken r2-r4 takes down exactly the paths across it, both ways, and is the top suspect", async () => {
  const s = setup();
  const set = await nanogPathSet();
  s.prober.setPathSet(set);
  s.run(2);
  // r2->r4 eastbound: black-hole what is addressed to r4's interface on the r2-r4 link.
  const l24 = linkOf(set, "r2", "r4");
  s.broken.add(l24.remoteAddress!);
  s.run(3);
  const m = byHops(s.prober);
  const down = [...m].filter(([, e]) => e.tracker.up === false).map(([h]) => h).sort();
  // Out and back over the same links: r1>r2>r4>r6 crosses r2->r4 going out, r6>r4>r2>r1 coming back.
  assert.deepEqual(down, ["r1>r2>r4>r6", "r6>r4>r2>r1"]);
  // Out and back, r2->r4 and r4->r2 are crossed by the same probes: one group, both suspect,
  // not identifiable; nothing else is.
  const sus = s.prober.rankedSuspects();
  assert.deepEqual(sus.map((x) => [x.from, x.to].sort().join("-")), ["r2-r4", "r2-r4"]);
  assert.ok(sus.some((x) => x.link === l24.id));
  assert.ok(sus.every((x) => !x.identifiable && x.loss > 0.5));
  assert.ok(s.logs.some((l) => /link suspect/.test(l) && l.includes(l24.id)));
  // Repair: they come back, the suspect is cleared.
  s.broken.clear();
  s.run(3);
  assert.ok([...s.prober.entries()].every((e) => e.tracker.up === true));
  assert.equal(s.prober.rankedSuspects().length, 0);
  for (const e of s.prober.entries()) {
    const c = e.tracker.counters;
    assert.equal(c.sent, c.received + c.late + c.lost + e.tracker.inFlight);
  }
});

test("prober: a new path set keeps surviving paths' counters and drops the rest", async () => {
  const s = setup();
  s.prober.setPathSet(await nanogPathSet());
  s.run(1);
  const before = byHops(s.prober);
  const r = s.prober.setPathSet({ ...(await nanogPathSet([["r2", "r4"], ["r4", "r2"]])), generation: 2 });
  assert.deepEqual([r.added, r.removed, r.kept], [0, 2, 6]);
  const after = byHops(s.prober);
  assert.equal(after.has("r1>r2>r4>r6"), false);
  const kept = after.get("r1>r3>r5>r6")!;
  assert.equal(kept, before.get("r1>r3>r5>r6"), "same entry object: counters, template and index kept");
  assert.ok(kept.tracker.counters.sent > 0);
  s.run(1);
  assert.ok([...s.prober.entries()].every((e) => e.tracker.up === true));
});

test("prober: with a key, forged and replayed replies are rejected and counted, never received", async () => {
  const key = Buffer.alloc(32, 7);
  const s = setup(proberConfig(), key);
  s.prober.setPathSet(await nanogPathSet());
  // Capture one genuine reply, then replay it and forge one.
  let captured: Buffer | undefined;
  const orig = s.prober.onReply.bind(s.prober);
  s.prober.onReply = (p: Buffer) => {
    captured ??= Buffer.from(p);
    orig(p);
  };
  s.run(1);
  const e = [...s.prober.entries()][0];
  const received = [...s.prober.entries()].reduce((n, x) => n + x.tracker.counters.received, 0);
  orig(captured!); // replay of a probe already received
  const forged = Buffer.from(captured!);
  forged.writeUInt32BE(forged.readUInt32BE(PAYLOAD_OFF_SEQ) + 1, PAYLOAD_OFF_SEQ);
  orig(forged); // sequence changed: the MAC no longer matches
  const noMac = Buffer.from(captured!);
  noMac[5] = 0; // flag M cleared
  orig(noMac);
  assert.equal(s.prober.rejected.bad_mac, 2);
  const dups = [...s.prober.entries()].reduce((n, x) => n + x.tracker.counters.duplicate, 0);
  assert.equal(dups, 1);
  assert.equal([...s.prober.entries()].reduce((n, x) => n + x.tracker.counters.received, 0), received);
  assert.ok(e.tracker.counters.received > 0);
  orig(Buffer.from("not a probe at all, just some bytes here....."));
  assert.equal(s.prober.rejected.malformed, 1);
});

test("prober: an MTU too small for the stack refuses the path with a clear reason", async () => {
  const s = setup(proberConfig("  mtu: 150\n"));
  const r = s.prober.setPathSet(await nanogPathSet());
  assert.equal(r.added, 0);
  assert.equal(r.refused.length, 8);
  assert.match(r.refused[0].reason, /MTU|mtu/);
});

test("prober: with prober.router set, only the paths starting at that router are probed", async () => {
  const s = setup(proberConfig("  router: r1\n"));
  const r = s.prober.setPathSet(await nanogPathSet());
  assert.equal(r.added, 4);
  assert.ok([...s.prober.entries()].every((e) => e.path.src === "r1"));
  // Their probes still cross the r6->r1 links on the way back: localization knows them.
  const e = [...s.prober.entries()][0];
  assert.equal(e.links.length, 6);
});

test("prober: a probe plan's per-path rate replaces prober.rate", async () => {
  const s = setup();
  const set = await nanogPathSet();
  s.prober.setPathSet({ ...set, mode: "plan", paths: set.paths.map((p) => ({ ...p, rate: 5 })) });
  assert.equal(s.prober.schedule.rate, 8 * 5);
  s.prober.setPathSet({ ...set, generation: 2 });
  assert.equal(s.prober.schedule.rate, 8 * 10, "back to prober.rate without a plan");
});

test("prober: paths of a probe plan at different rates are probed in that ratio", async () => {
  const s = setup();
  const set = await nanogPathSet();
  const [a, b] = set.paths;
  s.prober.setPathSet({ ...set, mode: "plan", paths: [{ ...a, rate: 10 }, { ...b, rate: 40 }] });
  assert.equal(s.prober.schedule.rate, 50, "the aggregate");
  assert.equal(s.prober.schedule.capped, false);
  assert.deepEqual(
    (s.prober.describe() as Array<{ path: string; ratePps: number }>).map((d) => [d.path, d.ratePps]),
    [
      [a.id, 10],
      [b.id, 40],
    ],
    "/paths shows each path's rate",
  );
  s.run(10);
  const sent = new Map([...s.prober.entries()].map((e) => [e.path.id, e.tracker.counters]));
  assert.ok(Math.abs(sent.get(a.id)!.sent - 100) <= 1, `${sent.get(a.id)!.sent} probes at 10/s in 10 s`);
  assert.ok(Math.abs(sent.get(b.id)!.sent - 400) <= 1, `${sent.get(b.id)!.sent} probes at 40/s in 10 s`);
  for (const c of sent.values()) assert.equal(c.lost, 0);
  // A new plan changes one path's rate: the other keeps its pace.
  s.prober.setPathSet({ ...set, generation: 2, mode: "plan", paths: [{ ...a, rate: 30 }, { ...b, rate: 40 }] });
  assert.equal(s.prober.schedule.rate, 70);
  const before = [...sent.values()].map((c) => c.sent);
  s.run(10);
  assert.ok(Math.abs(sent.get(a.id)!.sent - before[0] - 300) <= 1);
  assert.ok(Math.abs(sent.get(b.id)!.sent - before[1] - 400) <= 1);
});

test("prober: max-pps slows planned paths by one factor and says so", async () => {
  const s = setup(proberConfig("  max-pps: 25\n"));
  const set = await nanogPathSet();
  const [a, b] = set.paths;
  s.prober.setPathSet({ ...set, mode: "plan", paths: [{ ...a, rate: 10 }, { ...b, rate: 40 }] });
  assert.deepEqual([s.prober.schedule.rate, s.prober.schedule.capped], [25, true]);
  s.run(10);
  const sent = [...s.prober.entries()].map((e) => e.tracker.counters.sent);
  assert.ok(Math.abs(sent[0] - 50) <= 1 && Math.abs(sent[1] - 200) <= 1, String(sent));
});

/** 3 s in 5 ms ticks, replies flushed every 150 ms (within the 200 ms timeout); the first entry's counters. */
function fastPathFor3s(s: ReturnType<typeof setup>): PathCounters {
  for (let tick = 1; tick <= 600; tick++) {
    s.advance(5e6);
    s.prober.tick();
    if (tick % 30 === 0) s.net.flush();
  }
  s.net.flush();
  return [...s.prober.entries()][0].tracker.counters;
}

test("prober: a fast planned path's tracker window holds what it has in flight", async () => {
  const s = setup(); // prober.rate 10, timeout 200 ms: a window sized for 10/s holds 64 probes
  const set = await nanogPathSet();
  s.prober.setPathSet({ ...set, mode: "plan", paths: [{ ...set.paths[0], rate: 1000 }] });
  // Replies come back after 150 ms (within the timeout): 150 probes in flight at 1000/s.
  const c = fastPathFor3s(s);
  assert.ok(Math.abs(c.sent - 3000) <= 1, `${c.sent} sent`);
  assert.equal(c.lost, 0, "no probe finalized early for want of a slot");
  assert.equal(c.received, c.sent);
});

test("prober: a kept path whose planned rate goes up gets a window for it", async () => {
  const s = setup(); // prober.rate 10, timeout 200 ms
  const set = await nanogPathSet();
  s.prober.setPathSet({ ...set, mode: "plan", paths: [{ ...set.paths[0], rate: 10 }] });
  s.advance(1e9);
  s.prober.tick();
  s.net.flush();
  s.prober.setPathSet({ ...set, mode: "plan", paths: [{ ...set.paths[0], rate: 1000 }] });
  const c = fastPathFor3s(s);
  assert.ok(c.sent > 3000, `${c.sent} sent`);
  assert.equal(c.lost, 0, "no probe finalized early for want of a slot");
  assert.equal(c.received, c.sent);
});

test("prober: replies dropped at its own socket slow it down (0.9 of what the socket took), then it speeds up by 5% a second", async () => {
  const s = setup(proberConfig("  max-pps: 1000\n", 100));
  const set = await nanogPathSet();
  s.prober.setPathSet(set); // 8 paths at 100/s: 800/s, under max-pps
  s.socket.drops = 0;
  s.run(2);
  assert.equal(s.prober.schedule.rate, 800);
  assert.equal(s.prober.schedule.limit, null, "no drops: max-pps alone");
  s.socket.drops = 50; // the kernel dropped 50 replies since the last second: it took 750
  s.run(1);
  assert.equal(s.prober.replyDrops(), 50);
  assert.ok(Math.abs(s.prober.schedule.limit! - 675) <= 2, `limit ${s.prober.schedule.limit}`);
  assert.ok(Math.abs(s.prober.schedule.rate - 675) <= 2);
  assert.equal(s.prober.schedule.capped, true);
  assert.ok(s.logs.some((l) => l.includes("replies dropped at the probe socket")));
  const before = [...s.prober.entries()].reduce((a, e) => a + e.tracker.counters.sent, 0);
  s.run(1);
  const sent = [...s.prober.entries()].reduce((a, e) => a + e.tracker.counters.sent, 0) - before;
  assert.ok(sent >= 675 * 0.98 && sent <= 709 * 1.02, `${sent} sent in the second after`);
  // No more drops: 5% a second back up (675 x 1.05^4 = 820 > 800), then no limit again.
  s.run(2);
  assert.ok(s.prober.schedule.limit! > 720, `limit ${s.prober.schedule.limit}`);
  s.run(3);
  assert.equal(s.prober.schedule.limit, null);
  assert.equal(s.prober.schedule.rate, 800);
  for (const e of s.prober.entries()) assert.equal(e.tracker.counters.lost, 0);
  // A flood: 780 of the second's 800 replies dropped. The socket took 20, but a flood starves
  // the reader, so the prober halves at once rather than fall to 18/s.
  s.socket.drops! += 780;
  s.run(1);
  assert.ok(Math.abs(s.prober.schedule.limit! - 400) <= 2, `limit ${s.prober.schedule.limit}`);
});

test("prober: without a drop counter (not Linux, or unreadable) the rate stays as configured", async () => {
  const s = setup(proberConfig("", 100));
  s.prober.setPathSet(await nanogPathSet());
  s.run(3);
  assert.equal(s.prober.schedule.limit, null);
  assert.equal(s.prober.replyDrops(), 0);
});

test("prober: routed mode stacks only the forward hops", async () => {
  const s = setup(proberConfig("  return: routed\n"));
  s.prober.setPathSet(await nanogPathSet());
  const e = [...s.prober.entries()][0];
  assert.equal(e.returns, "routed");
  assert.equal((e.template as ProbeTemplateBase).hopCount, 3);
});

test("prober: the RTT runs from the clock read just before the send to the reply's arrival stamp", async () => {
  // Building a packet takes 7 us (its MAC, say) and every clock read advances 1 us: a send time
  // taken before the packet is built, or an arrival read in the handler instead of the stamp
  // given, shows in the RTT.
  let now = 0;
  const sentAt: number[] = [];
  const sent: Buffer[] = [];
  const prober = new Prober(
    proberConfig(),
    {
      send: (pkt) => {
        sentAt.push(now); // the last clock read before the send
        sent.push(Buffer.from(pkt));
      },
      nowNs: () => (now += 1000),
      log: quiet,
    },
    7,
  );
  prober.setPathSet(await nanogPathSet());
  for (const e of prober.entries()) {
    const patch = e.template.patch.bind(e.template);
    e.template.patch = (seq, sentNs) => {
      now += 7000;
      return patch(seq, sentNs);
    };
  }
  for (let i = 0; i < 1000 && sent.length < 2; i++) {
    now += 5e6;
    prober.tick();
  }
  assert.ok(sent.length >= 2);
  const innermostPayload = (pkt: Buffer): Buffer => {
    let off = 0;
    for (;;) {
      const ip = readIpv4Header(pkt, off);
      if (ip.protocol !== IPPROTO_GRE) return pkt.subarray(ip.next + UDP_HEADER_LENGTH);
      off = ip.next + GRE_HEADER_LENGTH;
    }
  };
  const rtts: number[] = [];
  const orig = [...prober.entries()];
  for (const e of orig) e.rtt.observe = (v: number) => void rtts.push(v);
  // With a stamp: exactly stamp - send time.
  prober.onReply(innermostPayload(sent[0]), sentAt[0] + 250_000);
  assert.deepEqual(rtts, [250e-6]);
  // Without one (a socket that cannot stamp): the clock read in the handler, which is later.
  prober.onReply(innermostPayload(sent[1]));
  assert.equal(rtts.length, 2);
  assert.ok(rtts[1] > 0 && rtts[1] * 1e9 === now - sentAt[1], "the handler's own clock read");
});

test("prober: an inference that takes long runs less often (at most a tenth of the time)", async () => {
  let now = 0;
  let step = 0; // ns the clock advances on every read: the inference's own reads make it "slow"
  const prober = new Prober(proberConfig(), { send: () => {}, nowNs: () => (now += step), log: quiet }, 7);
  prober.setPathSet(await nanogPathSet());
  const rolls = (n: number): number => {
    const before = prober.inferences;
    for (let i = 0; i < n; i++) {
      now += 1e9;
      prober.roll();
    }
    return prober.inferences - before;
  };
  assert.equal(rolls(10), 10, "a fast inference runs every second");
  step = 150e6; // the two reads around it: 150 ms, so one run every 2 s
  const slow = rolls(30);
  assert.equal(slow, 15, "every other second");
  step = 0;
  rolls(5);
  assert.equal(rolls(10), 10, "back to every second once it is fast again");
});

// ------------------------------------------------------------------------------------------------
// Reply floods (issue 11, item 3): a 100,000/s flood of forged "LSPR" payloads at the probe port
// made the kernel drop 43% of what arrived at the reply socket, real replies included: every
// path went down, and the prober, reading the drops as its own overload, slowed to 100/s.
// ------------------------------------------------------------------------------------------------

/**
 * The reply socket between the simulated network and the prober: each 5 ms tick, what arrived
 * (replies and the flood's datagrams, shuffled) is read up to `capacity` datagrams; the kernel
 * drops the rest without looking, counted in the fake drop counter.
 */
function floodHarness(cfg: ProberConfig, key?: Buffer) {
  const s = setup(cfg, key);
  const read = s.prober.onReply.bind(s.prober);
  const arrivals: Buffer[] = [];
  s.prober.onReply = (p: Buffer) => void arrivals.push(Buffer.from(p));
  s.socket.drops = 0;
  const rand = mulberry32(11);
  const junk = { perTick: 0, capacity: Infinity, rejectedRead: 0 };
  // Forged datagrams: most without this run's nonce (what a flooder that never saw a probe
  // sends), one in ten a copy of a recent reply (its nonce, path and sequence sniffed), all
  // with a wrong MAC.
  let template: Buffer | undefined;
  const forged = (i: number): Buffer => {
    const b = Buffer.from(template!);
    if (i % 10 !== 0) b.writeUInt32BE((0x9e3779b9 * i) >>> 0, PAYLOAD_OFF_NONCE);
    b.writeUInt32BE(i & 0xffff, PAYLOAD_OFF_MAC); // a wrong MAC either way
    return b;
  };
  let n = 0;
  let clockMs = 0; // the harness alone moves the clock
  /** `seconds` of 5 ms ticks; `each` runs after every roll. */
  const run = (seconds: number, each: () => void = () => {}): void => {
    for (let ms = 0; ms < seconds * 1000; ms += 5) {
      s.advance(5e6);
      s.prober.tick();
      s.net.flush();
      template = arrivals[0] ?? template; // the latest genuine reply: what a sniffing flooder copies
      const batch = arrivals.splice(0);
      for (let k = 0; k < junk.perTick && template; k++) batch.push(forged(++n));
      for (let i = batch.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [batch[i], batch[j]] = [batch[j], batch[i]];
      }
      const keep = Math.min(batch.length, junk.capacity);
      s.socket.drops! += batch.length - keep;
      for (let i = 0; i < keep; i++) read(batch[i]);
      if ((clockMs += 5) % 1000 === 0) {
        s.prober.roll();
        each();
      }
    }
  };
  return { ...s, run, junk };
}

const total = (p: Prober, k: keyof PathCounters): number => [...p.entries()].reduce((n, e) => n + e.tracker.counters[k], 0);
const states = (p: Prober): string[] => (p.describe() as Array<{ state: string }>).map((d) => d.state);
const metricValue = (text: string, series: string): number => Number(new RegExp(`^${series.replace(/[{}"|]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1]);

test("prober: a flood of forged replies that makes the socket drop 43% marks no path down, slows nothing, and is reported", async () => {
  const key = Buffer.alloc(32, 7);
  const h = floodHarness(proberConfig("  max-pps: 1000\n", 100), key); // 8 paths at 100/s, timeout 200 ms, down after 2
  h.prober.setPathSet(await nanogPathSet());
  const metrics = new ProberMetrics(new CurrentProber(h.prober));
  h.run(3);
  assert.deepEqual(states(h.prober), Array(8).fill("up"));
  const lostBefore = total(h.prober, "lost");
  // 100,000 forged datagrams a second (500 a tick) against 800 replies; the socket reads 57%.
  h.junk.perTick = 500;
  h.junk.capacity = Math.round(0.57 * 504);
  const during = { downs: 0, limits: new Set<number | null>(), flood: 0 };
  h.run(8, () => {
    during.downs += states(h.prober).filter((x) => x === "down").length;
    during.limits.add(h.prober.schedule.limit);
    if (h.prober.schedule.replyFlood) during.flood++;
  });
  // Today's code: every path down within the first second, the limit halved each second to 100/s.
  assert.equal(during.downs, 0, "no path reported down during the flood");
  assert.deepEqual([...during.limits], [null], "probing not slowed");
  assert.equal(during.flood, 8, "the flood is on from its first second");
  assert.ok(h.socket.drops! > 300_000, `${h.socket.drops} drops`);
  assert.ok(total(h.prober, "lost") > lostBefore + 100, "replies were lost at the socket");
  const m = await metrics.registry.metrics();
  assert.equal(metricValue(m, "lsprobe_reply_flood"), 1);
  assert.equal(metricValue(m, 'lsprobe_reply_drops_total{cause="self"}'), 0);
  assert.ok(metricValue(m, 'lsprobe_reply_drops_total{cause="flood"}') > 300_000);
  // The probes the socket lost count as unknown, not lost: no loss, no suspect link.
  let unknown = 0;
  for (const e of h.prober.entries()) {
    const lost = metricValue(m, `lsprobe_probes_lost_total{path="${e.labels.path}",class="${e.labels.class}",af="${e.labels.af}"}`);
    unknown += metricValue(m, `lsprobe_probes_unknown_total{path="${e.labels.path}",class="${e.labels.class}",af="${e.labels.af}"}`);
    assert.equal(lost, 0, `${e.info.hops}: no probe counted lost`);
    assert.equal(e.lossRatio(), 0, `${e.info.hops}: loss ratio`);
  }
  assert.equal(unknown, total(h.prober, "lost"));
  assert.equal(h.prober.rankedSuspects().length, 0);
  assert.ok(h.prober.rejected.other_run > 350_000 && h.prober.rejected.bad_mac > 35_000, JSON.stringify(h.prober.rejected));
  assert.ok(h.logs.some((l) => /reply flood: /.test(l) && /rejectedPps=\d+/.test(l)), "the start is logged with the rate");
  // The flood stops: it ends after 3 quiet seconds, every path up, nothing ever reported down.
  h.junk.perTick = 0;
  h.junk.capacity = Infinity;
  h.run(5);
  assert.equal(h.prober.replyFlood(), false);
  assert.ok(h.logs.some((l) => /reply flood ended/.test(l) && /peakPps=\d+/.test(l)), "the end is logged");
  assert.deepEqual(states(h.prober), Array(8).fill("up"));
  assert.ok(!h.logs.some((l) => /path down/.test(l)), "no path down logged");
  assert.equal(metricValue(await metrics.registry.metrics(), "lsprobe_reply_flood"), 0);
  for (const e of h.prober.entries()) {
    const c = e.tracker.counters;
    assert.equal(c.sent, c.received + c.late + (c.lost - e.unknown) + e.unknown + e.tracker.inFlight, "accounting");
  }
});

test("prober: during a flood that fills the socket, a path that really breaks is reported down once the drops stop", async () => {
  const h = floodHarness(proberConfig("  max-pps: 1000\n", 100), Buffer.alloc(32, 7));
  const set = await nanogPathSet();
  h.prober.setPathSet(set);
  h.run(2);
  h.junk.perTick = 500;
  h.junk.capacity = 250;
  h.run(2);
  const l24 = linkOf(set, "r2", "r4");
  h.broken.add(l24.remoteAddress!);
  const seen = new Set<string>();
  h.run(4, () => states(h.prober).forEach((x) => seen.add(x)));
  assert.ok(!seen.has("down"), "held while the socket drops: not known to be the network");
  assert.ok(seen.has("unknown"), "the held paths read unknown");
  h.junk.perTick = 0;
  h.junk.capacity = Infinity;
  h.run(5);
  const down = [...byHops(h.prober)].filter(([, e]) => e.pathUp!() === false).map(([hops]) => hops).sort();
  assert.deepEqual(down, ["r1>r2>r4>r6", "r6>r4>r2>r1"], "the broken paths, and only they");
  assert.ok(h.logs.some((l) => /path down/.test(l) && /heldForFlood=true/.test(l)));
  // Its losses after the drops stopped are losses again.
  const broken = byHops(h.prober).get("r1>r2>r4>r6")!;
  assert.ok(broken.tracker.counters.lost - broken.unknown > 100, `${broken.tracker.counters.lost - broken.unknown} lost after the flood`);
});

test("prober: a flood the socket keeps up with hides no loss: a broken path goes down and its probes count as lost", async () => {
  const h = floodHarness(proberConfig("  max-pps: 1000\n", 100), Buffer.alloc(32, 7));
  const set = await nanogPathSet();
  h.prober.setPathSet(set);
  h.run(2);
  h.junk.perTick = 50; // 10,000/s, all of it read: no drops
  h.run(2);
  assert.equal(h.prober.replyFlood(), true);
  const l24 = linkOf(set, "r2", "r4");
  h.broken.add(l24.remoteAddress!);
  h.run(3);
  const m = byHops(h.prober);
  assert.deepEqual([...m].filter(([, e]) => e.pathUp!() === false).map(([hops]) => hops).sort(), ["r1>r2>r4>r6", "r6>r4>r2>r1"]);
  for (const e of m.values()) assert.equal(e.unknown, 0, "nothing unknown without drops");
  assert.ok(m.get("r1>r2>r4>r6")!.lossRatio() > 0.5);
  assert.equal(h.socket.drops, 0);
});

test("prober: drops with a trickle of junk (under 1000/s) are still its own: it slows down", async () => {
  const h = floodHarness(proberConfig("  max-pps: 1000\n", 100), Buffer.alloc(32, 7));
  h.prober.setPathSet(await nanogPathSet());
  h.run(2);
  h.junk.perTick = 2; // 400/s rejected, fewer than the 800 replies
  h.run(1);
  assert.equal(h.prober.schedule.limit, null);
  h.socket.drops! += 50;
  h.run(1);
  assert.equal(h.prober.replyFlood(), false);
  assert.ok(Math.abs(h.prober.schedule.limit! - 675) <= 2, `limit ${h.prober.schedule.limit}`);
  assert.deepEqual(h.prober.replyDropsByCause(), { self: 50, flood: 0 });
});

test("prober: an overdriven prober's own late replies (expired, thousands a second) are not a flood: it slows down", async () => {
  // bench/prober-rate's overdriven step: the reader falls behind, replies come after their
  // trackers gave up (expired) and half are dropped at the socket. Counted as rejected, the
  // expired replies read as a flood, and the prober did not slow down (3,162 of 183,471/s matched).
  const s = setup(proberConfig("  max-pps: 4000\n", 500));
  s.prober.setPathSet(await nanogPathSet());
  const read = s.prober.onReply.bind(s.prober);
  const held: Buffer[][] = [];
  s.prober.onReply = (p: Buffer) => void held[held.length - 1]?.push(Buffer.from(p));
  s.socket.drops = 0;
  for (let ms = 5; ms <= 5000; ms += 5) {
    s.advance(5e6);
    held.push([]);
    s.prober.tick();
    s.net.flush();
    // Read 600 ms late (the trackers finalize at twice the 200 ms timeout), half dropped.
    if (held.length > 120) {
      const batch = held.shift()!;
      const keep = batch.length >> 1;
      s.socket.drops += batch.length - keep;
      for (let i = 0; i < keep; i++) read(batch[i]);
    }
    if (ms % 1000 === 0) s.prober.roll();
  }
  assert.ok(total(s.prober, "expired") > 1000, `expired ${total(s.prober, "expired")}`);
  assert.equal(s.prober.replyFlood(), false, "its own replies, not a flood");
  assert.equal(s.prober.replyDropsByCause().flood, 0);
  assert.ok(s.prober.schedule.limit !== null && s.prober.schedule.limit < 4000, `slowed down: limit ${s.prober.schedule.limit}`);
});

test("prober: junk is rejected before the MAC is computed, in order of cost", async () => {
  const key = Buffer.alloc(32, 7);
  const s = setup(proberConfig(), key);
  s.prober.setPathSet(await nanogPathSet());
  let genuine: Buffer | undefined;
  const orig = s.prober.onReply.bind(s.prober);
  s.prober.onReply = (p: Buffer) => {
    genuine ??= Buffer.from(p);
    orig(p);
  };
  s.run(1);
  let macs = 0;
  const compute = PayloadMac.prototype.compute;
  PayloadMac.prototype.compute = function (this: PayloadMac, ...args: Parameters<typeof compute>) {
    macs++;
    return compute.apply(this, args);
  };
  try {
    const g = genuine!;
    const seq = g.readUInt32BE(PAYLOAD_OFF_SEQ);
    const sent = [...s.prober.entries()].find((e) => e.index === g.readUInt32BE(PAYLOAD_OFF_PATH_INDEX))!.tracker.counters.sent;
    const mutate = (f: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(g);
      f(b);
      return b;
    };
    const cases: Record<string, { payload: Buffer; reason: string; mac: boolean }> = {
      "short": { payload: g.subarray(0, 43), reason: "malformed", mac: false },
      "not LSPR": { payload: mutate((b) => b.write("XSPR")), reason: "malformed", mac: false },
      "version 2": { payload: mutate((b) => (b[4] = 2)), reason: "malformed", mac: false },
      "another nonce (forged, or an earlier run)": { payload: mutate((b) => b.writeUInt32BE(b.readUInt32BE(PAYLOAD_OFF_NONCE) ^ 1, PAYLOAD_OFF_NONCE)), reason: "other_run", mac: false },
      "a path index not probed": { payload: mutate((b) => b.writeUInt32BE(4096, PAYLOAD_OFF_PATH_INDEX)), reason: "unknown_path", mac: false },
      "flag M clear": { payload: mutate((b) => (b[5] = 0)), reason: "bad_mac", mac: false },
      "a sequence not sent yet": { payload: mutate((b) => b.writeUInt32BE(sent + 5, PAYLOAD_OFF_SEQ)), reason: "replay", mac: false },
      "a sequence older than the window": { payload: mutate((b) => b.writeUInt32BE(0xfffffff0, PAYLOAD_OFF_SEQ)), reason: "replay", mac: false },
      "in the window, wrong MAC": { payload: mutate((b) => b.writeUInt32BE(seq + 1, PAYLOAD_OFF_SEQ)), reason: "bad_mac", mac: true },
      "genuine, again": { payload: g, reason: "duplicate", mac: true },
    };
    for (const [name, c] of Object.entries(cases)) {
      const before = { ...s.prober.rejected, duplicate: total(s.prober, "duplicate") };
      const macsBefore = macs;
      orig(c.payload);
      const after: Record<string, number> = { ...s.prober.rejected, duplicate: total(s.prober, "duplicate") };
      const changed = Object.keys(after).filter((k) => after[k] !== before[k as keyof typeof before]);
      assert.deepEqual(changed, [c.reason], `${name}: rejected as ${c.reason}`);
      assert.equal(macs - macsBefore, c.mac ? 1 : 0, `${name}: ${c.mac ? "one MAC" : "no MAC"} computed`);
    }
  } finally {
    PayloadMac.prototype.compute = compute;
  }
});

test("prober: prober.max-paths keeps the first paths by src, dst, path id, warns, and says how many are left out", async () => {
  const set = await nanogPathSet();
  const s = setup(proberConfig("  max-paths: 3\n"));
  const r = s.prober.setPathSet(set);
  assert.equal(r.added, 3);
  assert.equal(r.leftOut, 5);
  assert.equal(s.prober.pathsLeftOut(), 5);
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const want = [...set.paths].sort((a, b) => cmp(a.src, b.src) || cmp(a.dst, b.dst) || cmp(a.id, b.id)).slice(0, 3).map((p) => p.id);
  assert.deepEqual([...s.prober.entries()].map((e) => e.path.id).sort(), [...want].sort());
  assert.ok(s.logs.some((l) => /prober\.max-paths binds/.test(l) && /leftOut=5|"leftOut":5/.test(l)), s.logs.join(""));
  const m = new ProberMetrics(new CurrentProber(s.prober));
  const text = await m.registry.metrics();
  assert.match(text, /^lsprobe_paths 3$/m);
  assert.match(text, /^lsprobe_paths_capped 1$/m);
  assert.match(text, /^lsprobe_paths_left_out 5$/m);
  // Deterministic: the same set in another order keeps the same paths, on another prober too.
  const other = setup(proberConfig("  max-paths: 3\n"));
  other.prober.setPathSet({ ...set, paths: [...set.paths].reverse() });
  assert.deepEqual([...other.prober.entries()].map((e) => e.path.id).sort(), [...want].sort());
  // A cap that does not bind: nothing left out, the metric says 0.
  const all = setup(proberConfig("  max-paths: 8\n"));
  assert.equal(all.prober.setPathSet(set).leftOut, 0);
  const text2 = await new ProberMetrics(new CurrentProber(all.prober)).registry.metrics();
  assert.match(text2, /^lsprobe_paths_capped 0$/m);
  assert.match(text2, /^lsprobe_paths_left_out 0$/m);
  assert.ok(!all.logs.some((l) => /max-paths/.test(l)));
});
