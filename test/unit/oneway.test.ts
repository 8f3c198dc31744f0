// One-way paths (issue 14, Must 4) between two Prober instances in one simulated network: prober
// A (at r1) sends the r1 -> r6 paths pinned out to prober B (at r6), B counts what arrives per
// sender and sequence. The network peels GRE layers (as the lab's decapsulators do) and hands
// the innermost datagram to the prober whose address it is for, with an arrival time; it can
// drop one-way probes. Path sets are the plugin's NANOG 6 set made into version 5 slices
// (shared/pathset.ts onewayId/onewayTag) and passed through parsePathSet().
import { test } from "node:test";
import assert from "node:assert/strict";
import { Prober, type ProberIo } from "../../prober/prober.js";
import { ProberMetrics } from "../../prober/metrics.js";
import { readIpv4Header, ipv4ToUint32, IPPROTO_GRE } from "../../prober/packet/ipv4.js";
import { GRE_HEADER_LENGTH } from "../../prober/packet/gre.js";
import { UDP_HEADER_LENGTH, readUdpHeader, verifyUdp6Checksum, verifyUdpChecksum } from "../../prober/packet/udp.js";
import { ipv6ToBytes, readIpv6Header } from "../../prober/packet/ipv6.js";
import { ProbeTemplate6 } from "../../prober/packet/template6.js";
import { ProbeTemplate, ProbeTemplateError } from "../../prober/packet/template.js";
import { PAYLOAD_FLAG_MAC, PAYLOAD_FLAG_ONEWAY, PAYLOAD_OFF_FLAGS, PayloadMac, parsePayload, verifyMac, writePayload } from "../../prober/packet/payload.js";
import { parseCounts, onewayLoss } from "../../shared/counts.js";
import { linkIndex, streamsOf, type Round } from "../../plugin/view/union.js";
import { parseConfig } from "../../shared/config.js";
import { onewayId, onewayTag, parsePathSet, type IncomingPath, type OnewayPath, type PathSet } from "../../shared/pathset.js";
import { mulberry32 } from "../util/rng.js";
import { captureLog, greNetwork, nanogPathSet, runTicks, SimClock, simProber } from "../util/simnet.js";
import dgram from "node:dgram";
import { randomInt } from "node:crypto";
import { ReplySocket } from "../../prober/udprx.js";

const A_SRC = "198.18.100.2";
const B_SRC = "198.18.100.6";
const NONCE_A = 0xa0a0a0a0;
const NONCE_B = 0x0b0b0b0b;
/** CLOCK_REALTIME - the simulated monotonic clock, in ns (a 2026 date). */
const REAL = 1_780_000_000_000_000_000n;
const KEY = Buffer.alloc(32, 9);

/** A's slice (its r1 -> r6 paths out and back, and one way to B) and B's (the incoming ones). */
async function slices(): Promise<{ a: PathSet; b: PathSet; oneway: OnewayPath[] }> {
  const set = await nanogPathSet();
  const fwd = set.paths.filter((p) => p.src === "r1");
  const oneway: OnewayPath[] = fwd.map((p) => {
    const id = onewayId(p.id, "B");
    const copy = JSON.parse(JSON.stringify(p)) as OnewayPath;
    return { ...copy, id, base: p.id, greReverse: [], targets: { ipv4: { ...copy.targets!.ipv4!, greReverse: [] } }, to: { prober: "B", address: { ipv4: B_SRC }, port: 9470 }, tag: onewayTag(id) };
  });
  const incoming: IncomingPath[] = oneway.map((o) => ({ id: o.id, tag: o.tag, from: "A", fromAddress: { ipv4: A_SRC }, src: o.src, dst: o.dst, families: ["ipv4"], links: o.links.map((l) => l.id) }));
  const a = parsePathSet(JSON.parse(JSON.stringify({ ...set, version: 5, paths: fwd, oneway })), "A's slice");
  const b = parsePathSet(JSON.parse(JSON.stringify({ ...set, version: 5, paths: [], incoming })), "B's slice");
  return { a, b, oneway };
}

const config = (source: string, id: string, extra = "") =>
  parseConfig(`plugin:\n  endpoints:\n    pairs: [[r1, r6]]\nprober:\n  source: ${source}\n  id: ${id}\n  router: ${id === "A" ? "r1" : "r6"}\n  rate: 20\n  timeout: 200ms\n${extra}`, "t.yaml").prober!;

interface FleetOptions {
  keyA?: Buffer;
  keyB?: Buffer;
  extraA?: string;
  extraB?: string;
  /** Drop this one-way probe (path tag, sequence)? */
  drop?: (tag: number, seq: number) => boolean;
  /** ns from send to arrival. */
  latencyNs?: number;
  /** B's realtime offset (A's is REAL). */
  realB?: bigint;
  /** A's log lines (default: quiet). */
  logsA?: string[];
}

function fleet(o: FleetOptions = {}) {
  const clock = new SimClock();
  const sent: Buffer[] = [];
  const dropped = new Map<number, number>(); // tag -> one-way probes dropped
  const offsetCalls = { a: 0, b: 0 };
  const net = greNetwork({
    now: clock.nowNs,
    deliver: (payload, dst, sentAt) => {
      const p = parsePayload(payload);
      if (p.ok && (payload[PAYLOAD_OFF_FLAGS] & PAYLOAD_FLAG_ONEWAY) !== 0 && o.drop?.(p.pathIndex, p.seq)) {
        dropped.set(p.pathIndex, (dropped.get(p.pathIndex) ?? 0) + 1);
        return;
      }
      at.get(dst)!.onReply(payload, sentAt + (o.latencyNs ?? 0), "ipv4");
    },
  });
  const send: ProberIo["send"] = (pkt, dst, af) => {
    net.send(pkt, dst, af);
    sent.push(Buffer.from(pkt));
  };
  const a = simProber(config(A_SRC, "A", o.extraA), clock, send, { nonce: NONCE_A, key: o.keyA, log: o.logsA && captureLog(o.logsA), io: { realtimeOffsetNs: () => (offsetCalls.a++, REAL) } });
  const b = simProber(config(B_SRC, "B", o.extraB), clock, send, { nonce: NONCE_B, key: o.keyB, io: { realtimeOffsetNs: () => (offsetCalls.b++, o.realB ?? REAL) } });
  const at = new Map([
    [A_SRC, a],
    [B_SRC, b],
  ]);
  /** `seconds` in 5 ms ticks; `senders` tick (B is rolled whatever), both roll once a second. */
  const run = (seconds: number, senders: Prober[] = [a, b]): void => runTicks(clock, seconds, { senders, rolled: [a, b], flush: net.flush });
  return { a, b, run, sent, dropped, offsetCalls, now: clock.nowNs };
}

test("one-way sender: each probe is its path's outward GRE layers, then A -> B at B's port, flag O, Path Index the tag, sequences from 0, realtime Send Time, MAC", async () => {
  const { a: sliceA, b: sliceB, oneway } = await slices();
  const f = fleet({ keyA: KEY, keyB: KEY });
  const r = f.a.setPathSet(sliceA);
  f.b.setPathSet(sliceB);
  assert.equal(r.oneway, 4, "the four r1 -> r6 paths, IPv4");
  assert.deepEqual(r.refused, []);
  f.run(1);
  const byTag = new Map(oneway.map((p) => [p.tag, p]));
  const seqs = new Map<number, number[]>();
  let checked = 0;
  for (const pkt of f.sent) {
    const layers: string[] = [];
    let off = 0;
    let ip = readIpv4Header(pkt, off);
    while (ip.protocol === IPPROTO_GRE) {
      layers.push(ip.dst);
      off = ip.next + GRE_HEADER_LENGTH;
      ip = readIpv4Header(pkt, off);
    }
    const udpOff = ip.next;
    const payload = pkt.subarray(udpOff + UDP_HEADER_LENGTH);
    if ((payload[PAYLOAD_OFF_FLAGS] & PAYLOAD_FLAG_ONEWAY) === 0) continue; // A's own out-and-back probes
    const p = parsePayload(payload);
    assert.ok(p.ok);
    const path = byTag.get(p.pathIndex);
    assert.ok(path, `Path Index ${p.pathIndex} is a one-way path's tag`);
    assert.deepEqual(layers, path.targets!.ipv4!.gre.map((g) => g.address), "its outward layers only, no way back");
    assert.deepEqual([ip.src, ip.dst], [A_SRC, B_SRC], "innermost: A -> B");
    const udp = readUdpHeader(pkt, udpOff);
    assert.equal(udp.dstPort, 9470, "B's probe port");
    assert.equal(verifyUdpChecksum(pkt, udpOff, ipv4ToUint32(A_SRC), ipv4ToUint32(B_SRC)), "good");
    assert.equal(p.nonce, NONCE_A);
    assert.equal(payload[PAYLOAD_OFF_FLAGS], PAYLOAD_FLAG_ONEWAY | PAYLOAD_FLAG_MAC);
    assert.ok(verifyMac(payload, KEY));
    assert.ok(p.sentNs > REAL && p.sentNs - REAL <= BigInt(f.now()), "Send Time: the sender's realtime clock");
    seqs.set(p.pathIndex, [...(seqs.get(p.pathIndex) ?? []), p.seq]);
    checked++;
  }
  assert.equal(seqs.size, 4);
  for (const [tag, list] of seqs) assert.deepEqual(list, [...list.keys()], `${byTag.get(tag)!.id}: consecutive from 0`);
  assert.ok(checked >= 76 && checked <= 84, `${checked} one-way probes: 4 paths at 20/s for 1 s`);
  // No tracker, no up/down, no local inference: the out-and-back entries alone.
  assert.deepEqual([...f.a.entries()].map((e) => e.path.src), ["r1", "r1", "r1", "r1"]);
  assert.ok([...f.a.entries()].every((e) => !e.path.id.includes(">B")));
  assert.ok(f.offsetCalls.a >= 1);
});

test("one-way: A sends, B counts; 10% of A -> B dropped and one path black-holed later: A's settled and B's rows give onewayLoss() = the drops exactly", async () => {
  const { a: sliceA, b: sliceB, oneway } = await slices();
  const rng = mulberry32(14);
  const hole = oneway[0].tag;
  let t = 0;
  // Sequence 0 always arrives: a receiver's record starts at its first arrival (onewayrx.ts).
  const f = fleet({ keyA: KEY, keyB: KEY, drop: (tag, seq) => seq > 0 && (tag === hole ? t >= 5e9 : rng() < 0.1) });
  f.a.setPathSet(sliceA);
  f.b.setPathSet(sliceB);
  for (let s = 0; s < 10; s++) {
    f.run(1);
    t = f.now();
  }
  f.run(1, []); // A stops: every probe it sent settles, B declares every gap
  const a = parseCounts(JSON.parse(JSON.stringify(f.a.countsReport("A"))), "A's counts");
  const b = parseCounts(JSON.parse(JSON.stringify(f.b.countsReport("B"))), "B's counts");
  assert.equal(a.oneway.length, 4);
  assert.equal(b.incoming.length, 4);
  assert.deepEqual(b.paths, [], "B probes nothing out and back");
  let sent = 0;
  let lost = 0;
  for (const [id, af, settled] of a.oneway) {
    const path = oneway.find((p) => p.id === id)!;
    const row = b.incoming.find((r) => r[0] === id && r[1] === af);
    assert.ok(row, id);
    const [, , sender, senderNonce, received, rlost, next] = row;
    assert.deepEqual([sender, senderNonce], ["A", NONCE_A]);
    const loss = onewayLoss(settled, { lost: rlost, next });
    assert.equal(loss, f.dropped.get(path.tag) ?? 0, `${id}: lost by the rule = dropped in the network`);
    assert.equal(received + loss, settled, `${id}: every settled probe received or lost`);
    assert.ok(settled >= 195 && settled <= 205, `${id}: ${settled} settled (20/s, 10 s)`);
    if (path.tag === hole) {
      assert.ok(settled - next >= 95, `the black hole is the tail the receiver never saw (${settled - next})`);
      continue;
    }
    sent += settled;
    lost += loss;
  }
  assert.ok(lost / sent > 0.06 && lost / sent < 0.14, `${lost} of ${sent} lost: about the 10% dropped`);
  // Nothing rejected at either end; A's own paths unharmed (one-way probes are not its replies).
  for (const p of [f.a, f.b]) assert.deepEqual(Object.values(p.rejected), [0, 0, 0, 0, 0, 0, 0]);
  for (const e of f.a.entries()) assert.equal(e.tracker.counters.lost, 0);
  // The metrics: sent at A (to B), received and lost at B (from A).
  const metric = async (p: Prober, name: string) => (await new ProberMetrics(p).registry.getMetricsAsJSON()).find((m) => m.name === name)!.values;
  const sentM = await metric(f.a, "lsprobe_oneway_sent_total");
  assert.equal(sentM.length, 4);
  assert.ok(sentM.every((v) => v.labels.to === "B" && v.labels.af === "ipv4" && (v.value as number) >= 195));
  const recvM = await metric(f.b, "lsprobe_oneway_received_total");
  const lostM = await metric(f.b, "lsprobe_oneway_lost_total");
  for (const [id, , , , received, rlost] of b.incoming) {
    assert.equal(recvM.find((v) => v.labels.path === id && v.labels.from === "A")!.value, received);
    assert.equal(lostM.find((v) => v.labels.path === id && v.labels.from === "A")!.value, rlost);
  }
  assert.deepEqual(await metric(f.b, "lsprobe_oneway_delay_seconds"), [], "no delay without prober.clock-synced");
  // /paths says the same.
  const d = f.b.describeOneway().receiving as Array<{ path: string; received: number; lost: number; senders: unknown[] }>;
  assert.deepEqual(d.map((x) => [x.path, x.received, x.lost, x.senders.length]), b.incoming.map((r) => [r[0], r[4], r[5], 1]));
  assert.deepEqual((f.a.describeOneway().sending as Array<{ to: string }>).map((x) => x.to), ["B", "B", "B", "B"]);
});

test("one-way: with prober.clock-synced the receiver measures the one-way delay (arrival minus Send Time, both realtime)", async () => {
  const { a: sliceA, b: sliceB } = await slices();
  const f = fleet({ extraB: "  clock-synced: true\n", latencyNs: 3e6 });
  f.a.setPathSet(sliceA);
  f.b.setPathSet(sliceB);
  f.run(2);
  const values = (await new ProberMetrics(f.b).registry.getMetricsAsJSON()).find((m) => m.name === "lsprobe_oneway_delay_seconds")!.values;
  const counts = values.filter((v) => (v as { metricName?: string }).metricName === "lsprobe_oneway_delay_seconds_count");
  const sums = values.filter((v) => (v as { metricName?: string }).metricName === "lsprobe_oneway_delay_seconds_sum");
  assert.equal(counts.length, 4, "one histogram per incoming (path, af)");
  for (const c of counts) {
    assert.deepEqual(Object.keys(c.labels).sort(), ["af", "from", "path"]);
    const sum = sums.find((s) => s.labels.path === c.labels.path)!.value as number;
    assert.ok((c.value as number) >= 35, `${c.value} delays`);
    assert.ok(Math.abs(sum / (c.value as number) - 0.003) < 1e-6, `mean delay ${sum / (c.value as number)} s: the network's 3 ms`);
  }
  // B's clock 2 ms behind A's: the delay reads 1 ms (what synchronized clocks are trusted for).
  const g = fleet({ extraB: "  clock-synced: true\n", latencyNs: 3e6, realB: REAL - 2_000_000n });
  g.a.setPathSet(sliceA);
  g.b.setPathSet(sliceB);
  g.run(1);
  const v2 = (await new ProberMetrics(g.b).registry.getMetricsAsJSON()).find((m) => m.name === "lsprobe_oneway_delay_seconds")!.values;
  const c2 = v2.find((v) => (v as { metricName?: string }).metricName === "lsprobe_oneway_delay_seconds_count")!;
  const s2 = v2.find((v) => (v as { metricName?: string }).metricName === "lsprobe_oneway_delay_seconds_sum" && v.labels.path === c2.labels.path)!;
  assert.ok(Math.abs((s2.value as number) / (c2.value as number) - 0.001) < 1e-6);
});

test("one-way: the realtime offset is taken when first needed and refreshed once a minute", async () => {
  const { a: sliceA, b: sliceB } = await slices();
  const f = fleet({ extraB: "  clock-synced: true\n" });
  f.a.setPathSet(sliceA);
  f.b.setPathSet(sliceB);
  f.run(1);
  assert.deepEqual(f.offsetCalls, { a: 1, b: 1 });
  f.run(59);
  assert.deepEqual(f.offsetCalls, { a: 1, b: 1 }, "within the minute");
  f.run(2);
  assert.deepEqual(f.offsetCalls, { a: 2, b: 2 });
  const quietF = fleet();
  quietF.a.setPathSet((await nanogPathSet()) as PathSet);
  quietF.run(1);
  assert.equal(quietF.offsetCalls.a, 0, "no one-way path: the clocks are never read for it");
});

test("one-way: a wrong key, no MAC, or an unknown tag is rejected under today's reasons and counted nowhere", async () => {
  const { a: sliceA, b: sliceB } = await slices();
  const wrong = fleet({ keyA: Buffer.alloc(32, 1), keyB: KEY });
  wrong.a.setPathSet(sliceA);
  wrong.b.setPathSet(sliceB);
  wrong.run(1);
  assert.ok(wrong.b.rejected.bad_mac >= 76, `${wrong.b.rejected.bad_mac} bad_mac`);
  assert.deepEqual(wrong.b.countsReport("B").incoming, []);
  const none = fleet({ keyB: KEY });
  none.a.setPathSet(sliceA);
  none.b.setPathSet(sliceB);
  none.run(1);
  assert.ok(none.b.rejected.bad_mac >= 76, "flag M clear while B has a key");
  const unknown = fleet();
  unknown.a.setPathSet(sliceA);
  unknown.b.setPathSet({ ...sliceB, incoming: [] });
  unknown.run(1);
  assert.ok(unknown.b.rejected.unknown_path >= 76);
});

test("one-way: an arrival is never matched as a reply of the prober's own paths, even with its nonce and an entry's index", async () => {
  const { a: sliceA } = await slices();
  const f = fleet({ keyA: KEY });
  f.a.setPathSet(sliceA);
  f.run(1);
  const e = [...f.a.entries()][0];
  const before = { ...e.tracker.counters };
  const forged = Buffer.alloc(64);
  writePayload(forged, 0, 64, { pathIndex: e.index, seq: 0, sentNs: 0n, nonce: NONCE_A }, new PayloadMac(KEY));
  forged[PAYLOAD_OFF_FLAGS] |= PAYLOAD_FLAG_ONEWAY;
  new PayloadMac(KEY).sign(forged, 0);
  f.a.onReply(forged, f.now(), "ipv4");
  assert.equal(f.a.rejected.unknown_path, 1, "taken as a one-way probe: A has no incoming path of that tag");
  assert.deepEqual(e.tracker.counters, before);
});

test("one-way: max-pps paces one-way probes with the others; a path that leaves and comes back goes on numbering", async () => {
  const { a: sliceA, b: sliceB, oneway } = await slices();
  const f = fleet({ extraA: "  max-pps: 40\n" });
  f.a.setPathSet(sliceA);
  f.b.setPathSet(sliceB);
  assert.deepEqual([f.a.schedule.rate, f.a.schedule.capped], [40, true], "8 streams at 20/s, capped at 40");
  f.run(5);
  const total = f.a.onewaySent().reduce((n, o) => n + o.sent, 0) + [...f.a.entries()].reduce((n, e) => n + e.tracker.counters.sent, 0);
  assert.ok(Math.abs(total - 200) <= 2, `${total} probes in 5 s at 40/s`);
  const before = f.a.onewaySent().find((o) => o.path === oneway[0].id)!.sent;
  f.a.setPathSet({ ...sliceA, generation: sliceA.generation + 1, oneway: sliceA.oneway!.slice(1) });
  assert.equal(f.a.onewaySent().length, 3);
  f.run(1);
  f.a.setPathSet({ ...sliceA, generation: sliceA.generation + 2 });
  f.run(1);
  const row = f.b.countsReport("B").incoming.find((r) => r[0] === oneway[0].id)!;
  assert.equal(row[6], f.a.onewaySent().find((o) => o.path === oneway[0].id)!.sent, "B saw every sequence, no restart");
  assert.ok(row[6] > before);
  assert.equal(row[4], row[6], "all received: no duplicate, no gap");
});

test("one-way: prober.max-paths counts one-way paths too, after the prober's own: the same ones kept every time, the warning and lsprobe_paths_left_out say how many", async () => {
  const { a: sliceA, oneway } = await slices();
  const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  const kept = [...oneway].sort((x, y) => cmp(x.id, y.id)).slice(0, 2).map((p) => p.id);
  // A's four own paths and four one-way ones, 6 allowed: its own four, and two one-way.
  const logs: string[] = [];
  const f = fleet({ extraA: "  max-paths: 6\n", logsA: logs });
  const r = f.a.setPathSet(sliceA);
  assert.deepEqual([r.added, r.oneway, r.leftOut], [4, 2, 2]);
  assert.deepEqual(f.a.onewaySent().map((o) => o.path).sort(), kept, "the first two by src, dst, id");
  const text = await new ProberMetrics(f.a).registry.metrics();
  assert.match(text, /^lsprobe_paths_capped 1$/m);
  assert.match(text, /^lsprobe_paths_left_out 2$/m);
  assert.ok(logs.some((l) => /prober\.max-paths binds/.test(l) && /"onewayLeftOut":2|onewayLeftOut=2/.test(l)), logs.join(""));
  // The same set in another order keeps the same ones; below its own paths' count, no one-way at all.
  const g = fleet({ extraA: "  max-paths: 6\n" });
  g.a.setPathSet({ ...sliceA, oneway: [...sliceA.oneway!].reverse() });
  assert.deepEqual(g.a.onewaySent().map((o) => o.path).sort(), kept);
  const h = fleet({ extraA: "  max-paths: 3\n" });
  assert.deepEqual(((x) => [x.added, x.oneway, x.leftOut])(h.a.setPathSet(sliceA)), [3, 0, 5]);
  // Room for all: nothing left out, no warning.
  const all = fleet({ extraA: "  max-paths: 8\n" });
  assert.deepEqual(((x) => [x.oneway, x.leftOut])(all.a.setPathSet(sliceA)), [4, 0]);
  assert.equal(all.a.pathsLeftOut(), 0);
});

test("one-way: a path the receiver has no address for in a family, or without layers, is refused with the reason", async () => {
  const { a: sliceA } = await slices();
  const f = fleet();
  const bad: PathSet = { ...sliceA, oneway: sliceA.oneway!.map((p, i) => (i === 0 ? { ...p, to: { ...p.to, address: {} } } : i === 1 ? { ...p, targets: { ipv4: { ...p.targets!.ipv4!, probeable: false, unprobeableReason: "r4 has no address" } } } : p)) };
  const r = f.a.setPathSet(bad);
  assert.equal(r.oneway, 2);
  assert.deepEqual(
    r.refused.map((x) => x.reason),
    ["one-way: the receiving prober B has no ipv4 address", "one-way: r4 has no address"],
  );
});


test("one-way templates: the innermost destination and flag O, over IPv4 and IPv6, the UDP checksum over the receiver's address", () => {
  const common = { hops: ["198.18.0.1", "198.18.0.2"], dstPort: 9471, srcPortBase: 49152, srcPortRange: 64, dscp: 0, size: 0, mtu: 1500, pathIndex: 0xdeadbeef, nonce: 5, key: KEY };
  const t4 = new ProbeTemplate({ ...common, src: A_SRC, ttl: 64, innerDst: B_SRC, flags: PAYLOAD_FLAG_ONEWAY });
  const b4 = t4.patch(3, REAL + 17n);
  const in4 = readIpv4Header(b4, t4.innerOffset);
  assert.deepEqual([in4.src, in4.dst], [A_SRC, B_SRC]);
  assert.equal(verifyUdpChecksum(b4, t4.udpOffset, ipv4ToUint32(A_SRC), ipv4ToUint32(B_SRC)), "good");
  const p4 = b4.subarray(t4.payloadOffset);
  assert.deepEqual(parsePayload(p4), { ok: true, pathIndex: 0xdeadbeef, seq: 3, sentNs: REAL + 17n, nonce: 5, hasMac: true });
  assert.equal(p4[PAYLOAD_OFF_FLAGS], PAYLOAD_FLAG_ONEWAY | PAYLOAD_FLAG_MAC);
  assert.ok(verifyMac(p4, KEY));
  const [s6, d6] = ["2001:2::100:2", "2001:2::100:6"];
  const t6 = new ProbeTemplate6({ ...common, hops: ["2001:2::1", "2001:2::2"], src: s6, hopLimit: 64, innerDst: d6, flags: PAYLOAD_FLAG_ONEWAY });
  const b6 = t6.patch(4, REAL);
  const in6 = readIpv6Header(b6, t6.innerOffset);
  assert.deepEqual([in6.src, in6.dst], [s6, d6]);
  assert.equal(verifyUdp6Checksum(b6, t6.udpOffset, ipv6ToBytes(s6), ipv6ToBytes(d6)), "good");
  assert.equal(b6[t6.payloadOffset + PAYLOAD_OFF_FLAGS], PAYLOAD_FLAG_ONEWAY | PAYLOAD_FLAG_MAC);
  // Without innerDst: the probe comes back, as always.
  const back = new ProbeTemplate({ ...common, src: A_SRC, ttl: 64 });
  assert.equal(readIpv4Header(back.patch(0, 0n), back.innerOffset).dst, A_SRC);
  assert.throws(() => new ProbeTemplate({ ...common, src: A_SRC, ttl: 64, flags: PAYLOAD_FLAG_MAC }), ProbeTemplateError, "flag M follows the key");
  assert.throws(() => new ProbeTemplate({ ...common, src: A_SRC, ttl: 64, innerDst: "198.18.0.256" }), /innerDst/);
});

test("one-way: a receiver that hears of the paths a second late counts from its first arrival: no false loss", async () => {
  const { a: sliceA, b: sliceB } = await slices();
  const f = fleet();
  f.a.setPathSet(sliceA);
  f.b.setPathSet({ ...sliceB, incoming: [] });
  f.run(1);
  assert.ok(f.b.rejected.unknown_path >= 76, "refused while not in its incoming list");
  f.b.setPathSet({ ...sliceB, generation: sliceB.generation + 1 });
  f.run(3);
  const rows = f.b.countsReport("B").incoming;
  assert.equal(rows.length, 4);
  for (const [id, , , , received, lost, next] of rows) {
    assert.equal(lost, 0, id);
    assert.ok(next >= 75 && received >= 55 && received <= next - 15, `${id}: ${received} received up to ${next}, counted from the first arrival`);
  }
});

test("one-way: a path black-holed from its first probe leaves no row at the receiver; its `expecting` age makes the one view count it all lost, the late receiver's paths not", async () => {
  const { a: sliceA, b: sliceB, oneway } = await slices();
  const hole = oneway[0].tag;
  const f = fleet({ drop: (tag) => tag === hole });
  f.a.setPathSet(sliceA);
  f.b.setPathSet(sliceB);
  const round = (): Round => ({ time: f.now() / 1e6, reports: new Map([["A", f.a.countsReport("A")], ["B", f.b.countsReport("B")]].map(([id, r]) => [id as string, parseCounts(JSON.parse(JSON.stringify(r)))])) });
  f.run(10);
  const r0 = round();
  const b0 = r0.reports.get("B")!;
  assert.equal(b0.timeout, 200, "prober.timeout, ms");
  assert.deepEqual(b0.expecting!.map((e) => [e[0], e[2]]), oneway.map((p) => [p.id, 10_000]), "every incoming path, known for 10 s");
  assert.equal(b0.incoming.filter((r) => r[0] === oneway[0].id).length, 0, "nothing arrived: no row");
  f.run(20);
  const r1 = round();
  const ix = linkIndex(await nanogPathSet());
  const streams = streamsOf(ix, [r0, r1], 30_000, 1_000);
  const settled = (r: Round) => r.reports.get("A")!.oneway.find((o) => o[0] === oneway[0].id)![2];
  const h = streams.find((x) => x.kind === "oneway" && x.probers.join() === "A,B" && x.sent === x.lost);
  assert.ok(h, JSON.stringify(streams.map((x) => [x.kind, x.sent, x.lost])));
  assert.equal(h.sent, settled(r1) - settled(r0), "all settled since the first round lost");
  assert.equal(streams.filter((x) => x.kind === "oneway" && x.lost > 0).length, 1, "the other three lose nothing");
  // B learns of its paths only now: their age is below A's timeout + skew at the first round, so nothing is counted yet.
  const g = fleet({ drop: (tag) => tag === hole });
  g.a.setPathSet(sliceA);
  g.b.setPathSet({ ...sliceB, incoming: [] });
  g.run(10);
  g.b.setPathSet({ ...sliceB, generation: sliceB.generation + 1 });
  const q0: Round = { time: g.now() / 1e6, reports: new Map([["A", g.a.countsReport("A")], ["B", g.b.countsReport("B")]]) };
  g.run(5);
  const q1: Round = { time: g.now() / 1e6, reports: new Map([["A", g.a.countsReport("A")], ["B", g.b.countsReport("B")]]) };
  assert.equal(streamsOf(ix, [q0, q1], 30_000, 1_000).filter((x) => x.kind === "oneway" && x.lost > 0).length, 0);
});

test("one-way: the prober's reply socket takes one-way probes from another prober's address (loopback: 127.0.0.2 -> 127.0.0.1)", async (t) => {
  const { a: sliceA, b: sliceB } = await slices();
  const f = fleet({ keyA: KEY, keyB: KEY, drop: () => true }); // the simulated network delivers none: the socket does
  f.a.setPathSet(sliceA);
  f.b.setPathSet(sliceB);
  let sock: ReplySocket | undefined;
  let port = 0;
  while (!sock) {
    port = randomInt(20000, 60000);
    try {
      sock = ReplySocket.open("127.0.0.1", port, { recvBufferSize: 1 << 20 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    }
  }
  const tx = dgram.createSocket("udp4");
  t.after(() => {
    sock!.close();
    tx.close();
  });
  await new Promise<void>((r) => tx.bind(0, "127.0.0.2", r));
  // A's first one-way probes, as the last router would forward them: the innermost datagram.
  const payloads: Buffer[] = [];
  for (let i = 0; i < 400 && payloads.length < 8; i++) {
    f.run(0.005, [f.a]);
    for (const pkt of f.sent.splice(0)) {
      let off = 0;
      let ip = readIpv4Header(pkt, off);
      while (ip.protocol === IPPROTO_GRE) ip = readIpv4Header(pkt, (off = ip.next + GRE_HEADER_LENGTH));
      const pl = pkt.subarray(ip.next + UDP_HEADER_LENGTH);
      if (ip.dst === B_SRC) payloads.push(Buffer.from(pl));
    }
  }
  assert.ok(payloads.length >= 8, `${payloads.length} one-way probes built`);
  const arrived = new Promise<void>((resolve) => {
    let n = 0;
    sock!.on("message", (msg, arrivalNs) => {
      f.b.onReply(msg, arrivalNs, "ipv4");
      if (++n === 8) resolve();
    });
  });
  for (const p of payloads.slice(0, 8)) await new Promise<void>((r, j) => tx.send(p, port, "127.0.0.1", (e) => (e ? j(e) : r())));
  await arrived;
  const received = f.b.countsReport("B").incoming.reduce((n, r) => n + r[4], 0);
  assert.equal(received, 8, "every one counted");
  assert.deepEqual(Object.values(f.b.rejected), [0, 0, 0, 0, 0, 0, 0]);
});

test("prober.clock-synced: a boolean, false by default; anything else refused naming the key", () => {
  assert.equal(config(A_SRC, "A").clockSynced, false);
  assert.equal(config(A_SRC, "A", "  clock-synced: true\n").clockSynced, true);
  assert.throws(() => config(A_SRC, "A", "  clock-synced: sometimes\n"), /t\.yaml:\d+:\d+: prober\.clock-synced: expected true or false/);
});
