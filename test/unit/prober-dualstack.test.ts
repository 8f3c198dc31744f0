// The prober in IPv6 and dual stack (issue 13, Must 2), against a simulated network that peels
// both families' layers: IPv4 GRE / IP-in-IP as test/unit/prober.test.ts, and GRE over IPv6
// (next header 47, GRE 0x86DD, RFC 7676) and IPv6-in-IPv6 (next header 41, RFC 2473), read with
// prober/packet/ipv6.ts. The path sets are the plugin's NANOG 6 set (version 3, IPv4), made dual
// stack as a single-topology IS-IS would give it (one entry stands for both families; the IPv6
// layers on the links' IPv6 addresses from 2001:2::/48), and passed through parsePathSet().
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProberMetrics } from "../../prober/metrics.js";
import { readIpv4Header, IPPROTO_GRE, IPPROTO_UDP } from "../../prober/packet/ipv4.js";
import { readIpv6Header } from "../../prober/packet/ipv6.js";
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, GRE_HEADER_LENGTH } from "../../prober/packet/gre.js";
import { UDP_HEADER_LENGTH } from "../../prober/packet/udp.js";
import { onesComplementSum } from "../../prober/packet/checksum.js";
import { ipv6PseudoHeaderSum } from "../../prober/packet/ipv6.js";
import { canonicalIpv6, parseConfig, type ProberConfig } from "../../shared/config.js";
import { parsePathSet, type GreHop, type PathSet } from "../../shared/pathset.js";
import { captureLog, linkOf, nanogPathSet, oneProber } from "../util/simnet.js";

const SOURCE4 = "198.18.100.2";
const SOURCE6 = "2001:2::100:2";
const IPPROTO_IPIP = 4;
const IPPROTO_IPV6 = 41;

/** 198.18.A.B -> 2001:2:0:A::B (hex): each IPv4 lab address's IPv6 twin, in the benchmarking range. */
const six = (v4: string): string => {
  const [, , a, b] = v4.split(".").map(Number);
  return canonicalIpv6(`2001:2:0:${a.toString(16)}::${b.toString(16)}`)!;
};

/** The set made dual stack (version 3): every path in both families, the IPv6 layers on the IPv6 twins of the IPv4 addresses. */
function dualStack(v4: PathSet): PathSet {
  const doc = JSON.parse(JSON.stringify(v4)) as PathSet;
  const to6 = (g: GreHop): GreHop => ({ ...g, address: six(g.address) });
  doc.version = 3;
  doc.families = ["ipv4", "ipv6"];
  doc.pairs = [...doc.pairs.map((p) => ({ ...p, family: "ipv4" as const })), ...doc.pairs.map((p) => ({ ...p, family: "ipv6" as const }))];
  for (const p of doc.paths) {
    for (const l of p.links) {
      if (l.localAddress) l.localAddress6 = six(l.localAddress);
      if (l.remoteAddress) l.remoteAddress6 = six(l.remoteAddress);
    }
    p.families = ["ipv4", "ipv6"];
    p.targets = {
      ipv4: { gre: p.gre, greReverse: p.greReverse, probeable: p.probeable },
      ipv6: { gre: p.gre.map(to6), greReverse: p.greReverse.map(to6), probeable: p.probeable },
    };
  }
  return parsePathSet(JSON.parse(JSON.stringify(doc)));
}

/** The same set as a version 2 document (IPv4 only, as a plugin before issue 13 wrote it). */
function version2(v4: PathSet): PathSet {
  const doc = JSON.parse(JSON.stringify(v4)) as Record<string, unknown> & PathSet;
  doc.version = 2;
  delete doc.families;
  for (const p of doc.pairs) delete p.family;
  for (const p of doc.paths) {
    delete p.families;
    delete p.targets;
  }
  return parsePathSet(JSON.parse(JSON.stringify(doc)));
}

function proberConfig(source: string, extra = ""): ProberConfig {
  return parseConfig(`prober:\n  source: ${source}\n  rate: 10\n  timeout: 200ms\n  loss-window: 2s\n  down-after: 2\n  up-after: 2\n${extra}`, "t.yaml", "prober").prober!;
}

/** Is the UDP checksum of the innermost IPv6 datagram right (RFC 8200 §8.1: over the pseudo-header, never 0)? */
function udp6ChecksumOk(pkt: Buffer, ipOff: number, udpOff: number, udpLen: number): boolean {
  if (pkt.readUInt16BE(udpOff + 6) === 0) return false;
  return onesComplementSum(pkt, udpOff, udpOff + udpLen, ipv6PseudoHeaderSum(pkt, ipOff + 8, pkt, ipOff + 24, udpLen)) === 0xffff;
}

/**
 * A network of routers that each strip the layer addressed to them: IPv4 (GRE 0x0800, IP-in-IP)
 * and IPv6 (GRE 0x86DD, IPv6-in-IPv6). `broken` addresses black-hole what is sent to them (a
 * link's far end, in one family). Records the family of every packet sent and the layer kinds seen.
 */
function network(deliver: (payload: Buffer) => void, broken: Set<string>) {
  const queue: Array<{ pkt: Buffer; dst: string; af: string }> = [];
  const sentBy = { ipv4: 0, ipv6: 0 };
  const layers = { gre4: 0, ipip4: 0, gre6: 0, ip6ip6: 0 };
  const send = (pkt: Buffer, dst: string, af: "ipv4" | "ipv6"): void => {
    sentBy[af]++;
    queue.push({ pkt: Buffer.from(pkt), dst, af });
  };
  const flush = (): void => {
    for (let q = queue.shift(); q; q = queue.shift()) {
      const { pkt, dst, af } = q;
      assert.equal(pkt[0] >> 4, af === "ipv6" ? 6 : 4, "the socket of the packet's family");
      let off = 0;
      let first = true;
      for (;;) {
        if (pkt[off] >> 4 === 6) {
          const ip = readIpv6Header(pkt, off);
          assert.equal(ip.end, pkt.length, "every IPv6 payload length runs to the end");
          if (first) assert.equal(ip.dst, dst, "sent to the outermost destination");
          first = false;
          if (broken.has(ip.dst)) break;
          if (ip.nextHeader === IPPROTO_GRE) {
            assert.equal(pkt.readUInt16BE(ip.next + 2), ETHERTYPE_IPV6, "GRE over IPv6 carries IPv6 (0x86DD)");
            layers.gre6++;
            off = ip.next + GRE_HEADER_LENGTH;
            continue;
          }
          if (ip.nextHeader === IPPROTO_IPV6) {
            layers.ip6ip6++;
            off = ip.next;
            continue;
          }
          assert.equal(ip.nextHeader, IPPROTO_UDP);
          assert.equal(ip.dst, SOURCE6, "the innermost IPv6 packet comes back to the prober");
          assert.equal(ip.src, SOURCE6);
          assert.ok(udp6ChecksumOk(pkt, off, ip.next, ip.payloadLength), "UDP checksum over IPv6 is right and not 0");
          deliver(pkt.subarray(ip.next + UDP_HEADER_LENGTH));
          break;
        }
        const ip = readIpv4Header(pkt, off);
        assert.ok(ip.checksumOk);
        if (first) assert.equal(ip.dst, dst);
        first = false;
        if (broken.has(ip.dst)) break;
        if (ip.protocol === IPPROTO_GRE) {
          assert.equal(pkt.readUInt16BE(ip.next + 2), ETHERTYPE_IPV4);
          layers.gre4++;
          off = ip.next + GRE_HEADER_LENGTH;
          continue;
        }
        if (ip.protocol === IPPROTO_IPIP) {
          layers.ipip4++;
          off = ip.next;
          continue;
        }
        assert.equal(ip.protocol, IPPROTO_UDP);
        assert.equal(ip.dst, SOURCE4);
        deliver(pkt.subarray(ip.next + UDP_HEADER_LENGTH));
        break;
      }
    }
  };
  return { send, flush, sentBy, layers };
}

function setup(cfg: ProberConfig) {
  const broken = new Set<string>();
  const logs: string[] = [];
  const { prober, run, net } = oneProber(cfg, (deliver) => network(deliver, broken), { log: captureLog(logs), traces: true });
  return { prober, broken, logs, run, net };
}

const DUAL = `[${SOURCE4}, "${SOURCE6}"]`;
const key = (e: { info: { hops: string }; labels: { af?: unknown } }): string => `${e.info.hops} ${String(e.labels.af)}`;

test("dual stack: every path probed in both families, each on its own socket; all up, accounting adds up", async () => {
  const s = setup(proberConfig(DUAL));
  const r = s.prober.setPathSet(dualStack(await nanogPathSet()));
  assert.deepEqual({ added: r.added, refused: r.refused.length, noSource: r.noSource }, { added: 16, refused: 0, noSource: { ipv4: 0, ipv6: 0 } });
  s.run(3);
  const entries = [...s.prober.entries()];
  assert.equal(entries.filter((e) => e.af === "ipv4").length, 8);
  assert.equal(entries.filter((e) => e.af === "ipv6").length, 8);
  for (const e of entries) {
    const c = e.tracker.counters;
    assert.equal(e.tracker.up, true, key(e));
    assert.equal(c.lost, 0, key(e));
    assert.equal(c.sent, c.received + c.late + c.lost + e.tracker.inFlight);
    assert.equal(e.returns, "reverse");
    assert.equal(e.template.family, e.af);
  }
  assert.ok(s.net.sentBy.ipv4 > 0 && s.net.sentBy.ipv6 > 0);
  assert.ok(s.net.layers.gre6 > 0 && s.net.layers.gre4 > 0, "GRE over IPv6 and over IPv4");
  // Per-path series carry af; both values.
  const text = await new ProberMetrics(s.prober).registry.metrics();
  for (const af of ["ipv4", "ipv6"]) {
    const id = new RegExp(`^lsprobe_path_info\\{path="(p-[^"]+)",af="${af}",src="r1",dst="r6",pair="r1>r6",hops="r1>r2>r4>r6",encap="gre"\\} 1$`, "m").exec(text)?.[1];
    assert.ok(id, `lsprobe_path_info of r1>r2>r4>r6 in ${af}`);
    assert.match(text, new RegExp(`^lsprobe_path_up\\{path="${id}",class="default",af="${af}"\\} 1$`, "m"));
  }
  // /paths says the family of each entry.
  const described = s.prober.describe() as Array<{ af: string; hops: string }>;
  assert.deepEqual(new Set(described.map((d) => d.af)), new Set(["ipv4", "ipv6"]));
});

test("dual stack: an IPv6-only break of r2 -> r4 downs those paths in IPv6 only and names r2-r4 in af=ipv6 only", async () => {
  const s = setup(proberConfig(DUAL));
  const set = dualStack(await nanogPathSet());
  s.prober.setPathSet(set);
  s.run(2);
  const l24 = linkOf(set, "r2", "r4");
  // The IPv6 data plane of r4's end of r2-r4 drops everything; IPv4 to the same interface works.
  s.broken.add(l24.remoteAddress6!);
  s.run(3);
  const down = [...s.prober.entries()].filter((e) => e.tracker.up === false).map(key).sort();
  assert.deepEqual(down, ["r1>r2>r4>r6 ipv6", "r6>r4>r2>r1 ipv6"]);
  const sus = s.prober.rankedSuspects();
  assert.ok(sus.length > 0);
  assert.ok(sus.every((x) => x.af === "ipv6"), "suspects in IPv6 only");
  assert.deepEqual(sus.map((x) => [x.from, x.to].sort().join("-")), ["r2-r4", "r2-r4"]);
  assert.ok(sus.some((x) => x.link === l24.id && x.from === "r2" && x.to === "r4"), "the link id and its ends, as in IPv4");
  // The IPv4 twin of the same link is estimated and healthy.
  const all = [...s.prober.suspects()];
  const v4 = all.find((x) => x.link === l24.id && x.af === "ipv4");
  assert.ok(v4 && !v4.suspect && v4.loss < 0.01, "r2 -> r4 in IPv4: not a suspect");
  assert.ok(s.logs.some((l) => /link suspect/.test(l) && l.includes(l24.id) && /ipv6/.test(l)));
  const text = await new ProberMetrics(s.prober).registry.metrics();
  assert.match(text, new RegExp(`^lsprobe_link_suspect\\{link="${l24.id}",from="r2",to="r4",edge="r2-r4",af="ipv6"\\} 1$`, "m"));
  assert.match(text, new RegExp(`^lsprobe_link_suspect\\{link="${l24.id}",from="r2",to="r4",edge="r2-r4",af="ipv4"\\} 0$`, "m"));
  // The IPv6 entry's pinned trace (started when it went down) stops at hop 2, r2 -> r4, in IPv6.
  s.run(3);
  const traces = s.prober.traces();
  const t6 = traces.find((t) => t.hops === "r1>r2>r4>r6" && t.af === "ipv6");
  assert.ok(t6, "the IPv6 entry was traced");
  assert.equal(t6.failing?.k, 2);
  assert.deepEqual([t6.failing?.from, t6.failing?.to], ["r2", "r4"]);
  assert.ok(!traces.some((t) => t.af === "ipv4" && t.failing !== null), "no IPv4 trace fails");
  // Repair: all up, no suspect.
  s.broken.clear();
  s.run(3);
  assert.ok([...s.prober.entries()].every((e) => e.tracker.up === true));
  assert.equal(s.prober.rankedSuspects().length, 0);
});

test("IPv6 only: an IPv6 source probes the IPv6 layers alone (GRE over IPv6, and IPv6-in-IPv6 where the router takes ipip)", async () => {
  const s = setup(proberConfig(`"${SOURCE6}"`, "  encap-per-router: {r4: ipip}\n  hop-limit: 17\n"));
  const r = s.prober.setPathSet(dualStack(await nanogPathSet()));
  assert.equal(r.added, 8);
  assert.equal(r.noSource.ipv4, 8, "the IPv4 families of the paths: no source, not probed");
  s.run(3);
  const entries = [...s.prober.entries()];
  assert.ok(entries.every((e) => e.af === "ipv6" && e.tracker.up === true && e.tracker.counters.lost === 0));
  assert.equal(s.net.sentBy.ipv4, 0);
  assert.ok(s.net.layers.ip6ip6 > 0 && s.net.layers.gre6 > 0, "r4's layers are IPv6-in-IPv6, the others GRE over IPv6");
  // The hop limit and the flow label (following the source port) are the configured ones.
  const pkt = entries[0].template.patch(5, 0n);
  const ip = readIpv6Header(pkt, 0);
  assert.equal(ip.hopLimit, 17);
  assert.equal(ip.flowLabel, 49152 + 5);
});

test("a version 2 path set is probed as IPv4 only by a dual-stack prober", async () => {
  const s = setup(proberConfig(DUAL));
  const r = s.prober.setPathSet(version2(await nanogPathSet()));
  assert.deepEqual({ added: r.added, refused: r.refused.length }, { added: 8, refused: 0 });
  s.run(3);
  const entries = [...s.prober.entries()];
  assert.ok(entries.every((e) => e.af === "ipv4" && e.tracker.up === true));
  assert.equal(s.net.sentBy.ipv6, 0);
});

test("a path unprobeable in IPv6 is probed in IPv4 and refused in IPv6, with the reason", async () => {
  const set = dualStack(await nanogPathSet());
  const p = set.paths[0];
  p.targets!.ipv6 = { gre: [], greReverse: [], probeable: false, unprobeableReason: "r2 has no IPv6 address on r1-r2" };
  const s = setup(proberConfig(DUAL));
  const r = s.prober.setPathSet(set);
  assert.equal(r.added, 15);
  assert.deepEqual(r.refused, [{ path: p.id, af: "ipv6", reason: "r2 has no IPv6 address on r1-r2" }]);
  assert.deepEqual([...s.prober.entries()].filter((e) => e.path.id === p.id).map((e) => e.af), ["ipv4"]);
});

test("dual stack: IPv4 and IPv6 trees of one path keep their series across a new generation; a family gone takes its entries", async () => {
  const s = setup(proberConfig(DUAL));
  const set = dualStack(await nanogPathSet());
  s.prober.setPathSet(set);
  s.run(1);
  const sent6 = new Map([...s.prober.entries()].filter((e) => e.af === "ipv6").map((e) => [e.key, e.tracker.counters.sent]));
  // The next generation has the same paths in IPv6 only: the IPv4 entries go, the IPv6 ones stay.
  const next = JSON.parse(JSON.stringify(set)) as PathSet;
  next.generation++;
  next.families = ["ipv6"];
  next.pairs = next.pairs.filter((p) => p.family === "ipv6");
  for (const p of next.paths) {
    p.families = ["ipv6"];
    p.targets = { ipv6: p.targets!.ipv6! };
    p.gre = [];
    p.greReverse = [];
    p.probeable = false;
  }
  const r = s.prober.setPathSet(parsePathSet(next));
  assert.deepEqual({ kept: r.kept, removed: r.removed, added: r.added }, { kept: 8, removed: 8, added: 0 });
  for (const e of s.prober.entries()) {
    assert.equal(e.af, "ipv6");
    assert.ok(e.tracker.counters.sent >= sent6.get(e.key)!, "kept entries keep counting");
  }
});
