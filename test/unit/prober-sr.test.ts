// The prober's encapsulation per path (issue 15, Must 4): prober.encap srv6, sr-mpls and auto
// against a simulated network of segment-routing routers. An SRv6 router owns End.X SIDs: a
// packet to one of them crosses that SID's adjacency, its SRH advanced (Segments Left - 1, the
// next segment in the destination address, RFC 8754 §4.3.1.1); an SR-MPLS router takes
// MPLS-in-UDP (6635) or MPLS-in-GRE (0x8847) at its own address and pops Adj-SID labels, each
// crossing its adjacency (TTL - 1), the bottom of stack's inner packet routed to the prober.
// Nothing is decapsulated by a tunnel anywhere. The path set is the plugin's NANOG 6 set made
// dual stack and version 4, each directed adjacency with its own End.X SID and Adj-SID label.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Prober } from "../../prober/prober.js";
import { ProberMetrics } from "../../prober/metrics.js";
import { readIpv4Header, IPPROTO_GRE, IPPROTO_UDP } from "../../prober/packet/ipv4.js";
import { bytesToIpv6, ipv6PseudoHeaderSum, ipv6ToBytes, readIpv6Header } from "../../prober/packet/ipv6.js";
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, GRE_HEADER_LENGTH } from "../../prober/packet/gre.js";
import { UDP_HEADER_LENGTH } from "../../prober/packet/udp.js";
import { onesComplementSum } from "../../prober/packet/checksum.js";
import { IPPROTO_ROUTING, readSrh, SRH_OFF_SEGMENTS_LEFT } from "../../prober/packet/srh.js";
import { GRE_PROTO_MPLS, MPLS_ENTRY_LENGTH, MPLS_UDP_PORT, readLabelEntry } from "../../prober/packet/mpls.js";
import { canonicalIpv6, ConfigError, parseConfig, type ProberConfig } from "../../shared/config.js";
import { parsePathSet, type GreHop, type Path, type PathSet, type SrMplsSegment, type Srv6Segment } from "../../shared/pathset.js";
import { captureLog, nanogPathSet, oneProber } from "../util/simnet.js";

const SOURCE4 = "198.18.100.2";
const SOURCE6 = "2001:2::100:2";
const DUAL = `[${SOURCE4}, "${SOURCE6}"]`;

const six = (v4: string): string => {
  const [, , a, b] = v4.split(".").map(Number);
  return canonicalIpv6(`2001:2:0:${a.toString(16)}::${b.toString(16)}`)!;
};

/** Router rN's own addresses (the SR-MPLS entry), its End.X SID of adjacency k and its Adj-SID label. */
const routerNo = (name: string): number => Number(name.slice(1));
const entry4 = (r: string): string => `198.18.0.${routerNo(r)}`;
const entry6 = (r: string): string => `2001:2::${routerNo(r)}`;
const endX = (from: string, to: string): string => canonicalIpv6(`2001:2:0:${(0x8000 + routerNo(from)).toString(16)}::e:${routerNo(to)}`)!;
const adjLabel = (from: string, to: string): number => 24000 + 10 * routerNo(from) + routerNo(to);

/** Each hop of `p` as (from, to) router names, out then back (last link first). */
function walk(p: Path): Array<{ from: string; to: string; link: string; direction: "out" | "back" }> {
  const name = (i: number): string => p.hops[i].name;
  const out = p.links.map((l, i) => ({ from: name(i), to: name(i + 1), link: l.id, direction: "out" as const }));
  const back = [...p.links].reverse().map((l, j) => {
    const i = p.links.length - 1 - j;
    return { from: name(i + 1), to: name(i), link: l.id, direction: "back" as const };
  });
  return [...out, ...back];
}

const ADJ_FLAGS = { F: false, B: false, V: true, L: true, S: false, P: false };

/** The set made dual stack and version 4: every path's srMpls in both families and srv6 in IPv6, on the lab plan's SIDs. */
async function srPathSet(): Promise<PathSet> {
  const doc = JSON.parse(JSON.stringify(await nanogPathSet())) as PathSet;
  const to6 = (g: GreHop): GreHop => ({ ...g, address: six(g.address) });
  doc.version = 4;
  doc.families = ["ipv4", "ipv6"];
  doc.pairs = [...doc.pairs.map((p) => ({ ...p, family: "ipv4" as const })), ...doc.pairs.map((p) => ({ ...p, family: "ipv6" as const }))];
  for (const p of doc.paths) {
    for (const l of p.links) {
      if (l.localAddress) l.localAddress6 = six(l.localAddress);
      if (l.remoteAddress) l.remoteAddress6 = six(l.remoteAddress);
    }
    const w = walk(p);
    const mpls = (af: "ipv4" | "ipv6") => ({
      segments: w.map((s): SrMplsSegment => ({ node: s.from, to: s.to, link: s.link, direction: s.direction, sid: adjLabel(s.from, s.to), flags: { ...ADJ_FLAGS, F: af === "ipv6" }, weight: 0 })),
      probeable: true,
      entry: af === "ipv4" ? entry4(p.hops[0].name) : entry6(p.hops[0].name),
    });
    const srv6 = { segments: w.map((s): Srv6Segment => ({ node: s.from, to: s.to, link: s.link, direction: s.direction, sid: endX(s.from, s.to), behavior: 5, flags: { B: false, S: false, P: false }, algorithm: 0, weight: 0 })), probeable: true };
    p.families = ["ipv4", "ipv6"];
    p.targets = {
      ipv4: { gre: p.gre, greReverse: p.greReverse, probeable: p.probeable, srMpls: mpls("ipv4") },
      ipv6: { gre: p.gre.map(to6), greReverse: p.greReverse.map(to6), probeable: p.probeable, srMpls: mpls("ipv6"), srv6 },
    };
  }
  return parsePathSet(JSON.parse(JSON.stringify(doc)));
}

function proberConfig(source: string, extra = ""): ProberConfig {
  return parseConfig(`prober:\n  source: ${source}\n  rate: 10\n  timeout: 200ms\n  loss-window: 2s\n  down-after: 2\n  up-after: 2\n${extra}`, "t.yaml", "prober").prober!;
}

function udp6ChecksumOk(pkt: Buffer, src: string, dst: string, udpOff: number, udpLen: number): boolean {
  if (pkt.readUInt16BE(udpOff + 6) === 0) return false;
  const s = Buffer.from(ipv6ToBytes(src));
  const d = Buffer.from(ipv6ToBytes(dst));
  return onesComplementSum(pkt, udpOff, udpOff + udpLen, ipv6PseudoHeaderSum(s, 0, d, 0, udpLen)) === 0xffff;
}

/**
 * The segment-routing network. `broken` holds directed adjacencies "rA>rB" that black-hole
 * what crosses them. `walks` records the adjacencies each delivered probe crossed; `seen` what
 * kinds of packet were sent (srv6, mpls-udp, mpls-gre, gre4, gre6): tunnel layers are peeled as
 * test/unit/prober-dualstack.test.ts does, for the entries that fall back to the tunnel.
 */
function network(deliver: (payload: Buffer) => void, broken: Set<string>) {
  const bySid = new Map<string, string>();
  const byLabel = new Map<number, string>();
  const routers = new Map<string, string>();
  for (let a = 1; a <= 6; a++)
    for (let b = 1; b <= 6; b++) {
      if (a === b) continue;
      bySid.set(endX(`r${a}`, `r${b}`), `r${a}>r${b}`);
      byLabel.set(adjLabel(`r${a}`, `r${b}`), `r${a}>r${b}`);
    }
  for (let a = 1; a <= 6; a++) (routers.set(entry4(`r${a}`), `r${a}`), routers.set(canonicalIpv6(entry6(`r${a}`))!, `r${a}`));
  const queue: Array<{ pkt: Buffer; dst: string; af: string }> = [];
  const seen = { srv6: 0, "mpls-udp": 0, "mpls-gre": 0, gre4: 0, gre6: 0 };
  const walks: string[] = [];
  const send = (pkt: Buffer, dst: string, af: "ipv4" | "ipv6"): void => void queue.push({ pkt: Buffer.from(pkt), dst, af });

  /** The bottom of an MPLS stack at `off` (the crossings so far in `path`): an IP/UDP probe to the prober. */
  const inner = (pkt: Buffer, off: number, path: string[]): void => {
    if (pkt[off] >> 4 === 6) {
      const ip = readIpv6Header(pkt, off);
      assert.equal(ip.dst, SOURCE6);
      assert.equal(ip.nextHeader, IPPROTO_UDP);
      assert.ok(udp6ChecksumOk(pkt, ip.src, ip.dst, ip.next, ip.payloadLength));
      walks.push(path.join(" "));
      deliver(pkt.subarray(ip.next + UDP_HEADER_LENGTH));
      return;
    }
    const ip = readIpv4Header(pkt, off);
    assert.ok(ip.checksumOk);
    assert.equal(ip.dst, SOURCE4);
    assert.equal(ip.protocol, IPPROTO_UDP);
    walks.push(path.join(" "));
    deliver(pkt.subarray(ip.next + UDP_HEADER_LENGTH));
  };

  /** Pops the stack at `off`: each label crosses its adjacency, TTL - 1. */
  const pop = (pkt: Buffer, off: number, first: string): void => {
    const path: string[] = [];
    let at = first;
    for (let o = off; ; o += MPLS_ENTRY_LENGTH) {
      const e = readLabelEntry(pkt, o);
      const adj = byLabel.get(e.label);
      assert.ok(adj, `label ${e.label} is an Adj-SID`);
      assert.equal(adj.split(">")[0], at, `label ${e.label} is ${at}'s own`);
      assert.ok(e.ttl > 1, "label TTL left");
      if (broken.has(adj)) return;
      path.push(adj);
      at = adj.split(">")[1];
      if (e.bottom) return inner(pkt, o + MPLS_ENTRY_LENGTH, path);
    }
  };

  const flush = (): void => {
    for (let q = queue.shift(); q; q = queue.shift()) {
      const { pkt, dst, af } = q;
      assert.equal(pkt[0] >> 4, af === "ipv6" ? 6 : 4, "the socket of the packet's family");
      if (af === "ipv6") {
        const ip = readIpv6Header(pkt, 0);
        assert.equal(ip.dst, dst, "sent to the outermost destination");
        if (ip.nextHeader === IPPROTO_ROUTING) {
          // SRv6: each End.X crosses its adjacency and advances the SRH.
          seen.srv6++;
          const srh = readSrh(pkt, ip.next);
          assert.equal(srh.nextHeader, IPPROTO_UDP);
          const path: string[] = [];
          let da = ip.dst;
          let sl = srh.segmentsLeft;
          assert.ok(sl <= srh.lastEntry + 1, "Segments Left within the list (reduced: Last Entry + 1)");
          let at = bySid.get(da)?.split(">")[0];
          while (da !== SOURCE6) {
            const adj = bySid.get(da);
            assert.ok(adj, `${da} is an End.X SID`);
            assert.equal(adj.split(">")[0], at, `${da} is ${at}'s`);
            assert.ok(sl > 0, "a segment left to go to");
            if (broken.has(adj)) break;
            path.push(adj);
            at = adj.split(">")[1];
            sl--;
            da = srh.list[sl];
            pkt[ip.next + SRH_OFF_SEGMENTS_LEFT] = sl;
            ipv6ToBytes(da, pkt, 24);
          }
          if (da !== SOURCE6) continue;
          assert.equal(sl, 0, "the prober is the last segment");
          assert.equal(bytesToIpv6(pkt, 24), SOURCE6);
          const udp = ip.next + srh.length;
          assert.ok(udp6ChecksumOk(pkt, SOURCE6, SOURCE6, udp, pkt.length - udp), "UDP checksum over the final destination");
          walks.push(path.join(" "));
          deliver(pkt.subarray(udp + UDP_HEADER_LENGTH));
          continue;
        }
        const r = routers.get(ip.dst);
        if (r && ip.nextHeader === IPPROTO_UDP && pkt.readUInt16BE(ip.next + 2) === MPLS_UDP_PORT) {
          seen["mpls-udp"]++;
          pop(pkt, ip.next + UDP_HEADER_LENGTH, r);
          continue;
        }
        if (r && ip.nextHeader === IPPROTO_GRE && pkt.readUInt16BE(ip.next + 2) === GRE_PROTO_MPLS) {
          seen["mpls-gre"]++;
          pop(pkt, ip.next + GRE_HEADER_LENGTH, r);
          continue;
        }
        // A tunnel stack (the fallback): GRE over IPv6 layers peeled to the probe.
        let off = 0;
        for (;;) {
          const l = readIpv6Header(pkt, off);
          if (l.nextHeader !== IPPROTO_GRE) break;
          assert.equal(pkt.readUInt16BE(l.next + 2), ETHERTYPE_IPV6);
          seen.gre6++;
          off = l.next + GRE_HEADER_LENGTH;
        }
        inner(pkt, off, ["tunnel"]);
        continue;
      }
      const ip = readIpv4Header(pkt, 0);
      assert.ok(ip.checksumOk);
      assert.equal(ip.dst, dst);
      const r = routers.get(ip.dst);
      if (r && ip.protocol === IPPROTO_UDP && pkt.readUInt16BE(ip.next + 2) === MPLS_UDP_PORT) {
        seen["mpls-udp"]++;
        pop(pkt, ip.next + UDP_HEADER_LENGTH, r);
        continue;
      }
      if (r && ip.protocol === IPPROTO_GRE && pkt.readUInt16BE(ip.next + 2) === GRE_PROTO_MPLS) {
        seen["mpls-gre"]++;
        pop(pkt, ip.next + GRE_HEADER_LENGTH, r);
        continue;
      }
      let off = 0;
      for (;;) {
        const l = readIpv4Header(pkt, off);
        if (l.protocol !== IPPROTO_GRE) break;
        assert.equal(pkt.readUInt16BE(l.next + 2), ETHERTYPE_IPV4);
        seen.gre4++;
        off = l.next + GRE_HEADER_LENGTH;
      }
      inner(pkt, off, ["tunnel"]);
    }
  };
  return { send, flush, seen, walks };
}

function setup(cfg: ProberConfig) {
  const broken = new Set<string>();
  const logs: string[] = [];
  const { prober, run, net } = oneProber(cfg, (deliver) => network(deliver, broken), { log: captureLog(logs), traces: true });
  return { prober, broken, logs, run, net };
}

const key = (e: { info: { hops: string }; labels: { af?: unknown } }): string => `${e.info.hops} ${String(e.labels.af)}`;
const encaps = (p: Prober): Record<string, string> => Object.fromEntries([...p.entries()].map((e) => [key(e), e.encap]));

test("encap srv6: the IPv6 entries pinned by their End.X SIDs out and back, no tunnel anywhere; the IPv4 ones fall back to GRE, said once per path", async () => {
  const s = setup(proberConfig(DUAL, "  encap: srv6\n"));
  const set = await srPathSet();
  const r = s.prober.setPathSet(set);
  assert.deepEqual({ added: r.added, refused: r.refused }, { added: 16, refused: [] });
  for (const e of s.prober.entries()) assert.equal(e.encap, e.af === "ipv6" ? "srv6" : "gre", key(e));
  s.run(3);
  for (const e of s.prober.entries()) {
    assert.equal(e.tracker.up, true, key(e));
    assert.equal(e.tracker.counters.lost, 0, key(e));
  }
  assert.ok(s.net.seen.srv6 > 0 && s.net.seen.gre4 > 0);
  assert.equal(s.net.seen.gre6, 0, "no IPv6 tunnel layer: every IPv6 probe is SRv6");
  // The SRv6 probes cross exactly their path's adjacencies, out and back.
  assert.ok(s.net.walks.includes("r1>r2 r2>r4 r4>r6 r6>r4 r4>r2 r2>r1"));
  assert.ok(s.net.walks.includes("r1>r3 r3>r5 r5>r6 r6>r5 r5>r3 r3>r1"));
  // The IPv4 fallback: one warning per path, with the reason; a new generation does not repeat it.
  const fallbacks = (): string[] => s.logs.filter((l) => /cannot take the segment-routing encapsulation/.test(l));
  assert.equal(fallbacks().length, 8);
  assert.ok(fallbacks().every((l) => /SRv6 probes are IPv6/.test(l) && / af=ipv4 /.test(l)));
  s.prober.setPathSet({ ...set, generation: set.generation + 1 });
  assert.equal(fallbacks().length, 8);
  // /paths and lsprobe_path_info say each entry's encap.
  const described = s.prober.describe() as Array<{ af: string; encap: string; encapFallback?: string }>;
  assert.ok(described.every((d) => d.encap === (d.af === "ipv6" ? "srv6" : "gre")));
  assert.ok(described.filter((d) => d.af === "ipv4").every((d) => /SRv6 probes are IPv6/.test(d.encapFallback ?? "")));
  const text = await new ProberMetrics(s.prober).registry.metrics();
  assert.match(text, /^lsprobe_path_info\{path="p-[^"]+",af="ipv6",src="r1",dst="r6",pair="r1>r6",hops="r1>r2>r4>r6",encap="srv6"\} 1$/m);
  assert.match(text, /^lsprobe_path_info\{path="p-[^"]+",af="ipv4",src="r1",dst="r6",pair="r1>r6",hops="r1>r2>r4>r6",encap="gre"\} 1$/m);
});

test("encap srv6: r2 -> r4 black-holed downs exactly the paths over it, names r2-r4, the pinned SRv6 trace stops at hop 2; repaired", async () => {
  const s = setup(proberConfig(`"${SOURCE6}"`, "  encap: srv6\n"));
  s.prober.setPathSet(await srPathSet());
  s.run(2);
  s.broken.add("r2>r4");
  s.run(3);
  const down = [...s.prober.entries()].filter((e) => e.tracker.up === false).map(key).sort();
  assert.deepEqual(down, ["r1>r2>r4>r6 ipv6", "r6>r4>r2>r1 ipv6"]);
  const sus = s.prober.rankedSuspects();
  assert.ok(sus.length > 0);
  assert.ok(sus.every((x) => [x.from, x.to].sort().join("-") === "r2-r4" && x.af === "ipv6"));
  s.run(3);
  const t = s.prober.traces().find((x) => x.hops === "r1>r2>r4>r6");
  assert.ok(t, "the failing entry was traced");
  assert.equal(t.failing?.k, 2);
  assert.deepEqual([t.failing?.from, t.failing?.to], ["r2", "r4"]);
  s.broken.clear();
  s.run(3);
  assert.ok([...s.prober.entries()].every((e) => e.tracker.up === true));
  assert.equal(s.prober.rankedSuspects().length, 0);
});

for (const carrier of ["udp", "gre"] as const) {
  test(`encap sr-mpls over ${carrier}: both families pinned by the Adj-SID stack from r1; r4 -> r2 black-holed names r2-r4; repaired`, async () => {
    const s = setup(proberConfig(DUAL, `  encap: sr-mpls\n  sr-mpls-carrier: ${carrier}\n`));
    const r = s.prober.setPathSet(await srPathSet());
    assert.deepEqual({ added: r.added, refused: r.refused.length }, { added: 16, refused: 0 });
    assert.ok([...s.prober.entries()].every((e) => e.encap === "sr-mpls" && e.firstHop === (e.af === "ipv4" ? entry4(e.path.hops[0].name) : entry6(e.path.hops[0].name))));
    s.run(3);
    assert.ok([...s.prober.entries()].every((e) => e.tracker.up === true && e.tracker.counters.lost === 0));
    assert.ok(s.net.seen[`mpls-${carrier}`] > 0);
    assert.equal(s.net.seen[carrier === "udp" ? "mpls-gre" : "mpls-udp"] + s.net.seen.gre4 + s.net.seen.gre6 + s.net.seen.srv6, 0, "nothing else sent");
    assert.ok(s.net.walks.includes("r1>r3 r3>r4 r4>r6 r6>r4 r4>r3 r3>r1"));
    s.broken.add("r4>r2");
    s.run(3);
    const down = [...s.prober.entries()].filter((e) => e.tracker.up === false).map(key).sort();
    assert.deepEqual(down, ["r1>r2>r4>r6 ipv4", "r1>r2>r4>r6 ipv6", "r6>r4>r2>r1 ipv4", "r6>r4>r2>r1 ipv6"]);
    assert.ok(s.prober.rankedSuspects().every((x) => [x.from, x.to].sort().join("-") === "r2-r4"));
    s.broken.clear();
    s.run(3);
    assert.ok([...s.prober.entries()].every((e) => e.tracker.up === true));
  });
}

test("encap auto: SRv6 where the hops advertise End.X SIDs, else SR-MPLS, else GRE; a path with neither SR nor tunnel layers refused with every reason", async () => {
  const set = await srPathSet();
  const [a, b, c, d] = set.paths.map((p) => p.id);
  const t = (id: string) => set.paths.find((p) => p.id === id)!.targets!;
  t(a).ipv6!.srv6 = { segments: [], probeable: false, unprobeableReason: "r4 advertises no End.X SID toward r6" };
  t(b).ipv6!.srv6 = { segments: [], probeable: false, unprobeableReason: "r2 advertises no End.X SID toward r5" };
  t(b).ipv6!.srMpls = { segments: [], probeable: false, unprobeableReason: "r2 advertises no unprotected Adj-SID toward r5" };
  t(c).ipv4!.srMpls = { segments: [], probeable: false, unprobeableReason: "r3 has no Adj-SID toward r1" };
  t(d).ipv6!.srv6 = { segments: [], probeable: false, unprobeableReason: "no End.X SID" };
  t(d).ipv6!.srMpls = { segments: [], probeable: false, unprobeableReason: "no Adj-SID" };
  t(d).ipv6!.probeable = false;
  t(d).ipv6!.unprobeableReason = "r5 has no IPv6 address on r5-r6";
  const s = setup(proberConfig(DUAL, "  encap: auto\n"));
  const r = s.prober.setPathSet(set);
  assert.deepEqual(r.refused, [{ path: d, af: "ipv6", reason: "SRv6: no End.X SID; SR-MPLS: no Adj-SID; tunnel: r5 has no IPv6 address on r5-r6" }]);
  const by = Object.fromEntries([...s.prober.entries()].map((e) => [`${e.path.id} ${e.af}`, e.encap]));
  assert.equal(by[`${a} ipv6`], "sr-mpls");
  assert.equal(by[`${b} ipv6`], "gre");
  assert.equal(by[`${c} ipv6`], "srv6");
  assert.equal(by[`${c} ipv4`], "gre");
  assert.equal(by[`${a} ipv4`], "sr-mpls");
  assert.equal(by[`${d} ipv4`], "sr-mpls");
  assert.equal(by[`${d} ipv6`], undefined);
  s.run(3);
  assert.ok([...s.prober.entries()].every((e) => e.tracker.up === true && e.tracker.counters.lost === 0));
  assert.ok(s.net.seen.srv6 > 0 && s.net.seen["mpls-udp"] > 0 && s.net.seen.gre4 > 0 && s.net.seen.gre6 > 0);
  const text = await new ProberMetrics(s.prober).registry.metrics();
  for (const encap of ["srv6", "sr-mpls", "gre"]) assert.match(text, new RegExp(`^lsprobe_path_info\\{[^}]*encap="${encap}"\\} 1$`, "m"));
});

test("encap srv6: a kept entry takes its path's new SIDs (and the tunnel when they go) under the next generation, keeping its counts", async () => {
  const s = setup(proberConfig(`"${SOURCE6}"`, "  encap: srv6\n"));
  const set = await srPathSet();
  s.prober.setPathSet(set);
  s.run(1);
  const p = set.paths.find((x) => x.hops.map((h) => h.name).join(">") === "r1>r2>r4>r6")!;
  const e = [...s.prober.entries()].find((x) => x.path.id === p.id)!;
  const sent = e.tracker.counters.sent;
  const next = JSON.parse(JSON.stringify(set)) as PathSet;
  next.generation++;
  const np = next.paths.find((x) => x.id === p.id)!;
  np.targets!.ipv6!.srv6 = { segments: [], probeable: false, unprobeableReason: "r2's End.X SID toward r4 is protected only (B set)" };
  const r = s.prober.setPathSet(parsePathSet(next));
  assert.equal(r.kept, 8);
  const kept = [...s.prober.entries()].find((x) => x.path.id === p.id)!;
  assert.equal(kept, e, "the same entry");
  assert.equal(kept.encap, "gre");
  assert.match(kept.encapFallback ?? "", /protected only/);
  assert.equal(kept.firstHop, six(p.gre[0].address));
  s.run(2);
  assert.ok(kept.tracker.counters.sent > sent);
  assert.equal(kept.tracker.up, true);
  assert.ok(s.logs.some((l) => /path encapsulation changed/.test(l) && /from=srv6 to=gre/.test(l)));
});

test("encap sr-mpls: a stack above prober.mtu is refused, saying the SR stack's size and the tunnel's", async () => {
  const s = setup(proberConfig(SOURCE4, "  encap: sr-mpls\n  mtu: 100\n"));
  const r = s.prober.setPathSet(await srPathSet());
  assert.equal(r.added, 0);
  assert.equal(r.refused.length, 8);
  for (const x of r.refused) assert.match(x.reason, /^SR-MPLS: path \d+: a stack of 6 labels with its outer headers \(52 bytes\) makes a 124-byte probe, above the MTU of 100 bytes; tunnel: .*100/);
});

test("config: prober.encap srv6 needs an IPv6 source; sr-mpls-carrier udp or gre", () => {
  assert.throws(() => proberConfig(SOURCE4, "  encap: srv6\n"), (e: unknown) => e instanceof ConfigError && /prober\.encap.*expected an IPv6 source \(prober\.source\) with encap srv6/s.test(e.message));
  assert.equal(proberConfig(SOURCE4, "  encap: sr-mpls\n").srMplsCarrier, "udp");
  assert.equal(proberConfig(SOURCE4, "  encap: auto\n  sr-mpls-carrier: gre\n").srMplsCarrier, "gre");
  assert.throws(() => proberConfig(SOURCE4, "  sr-mpls-carrier: ip\n"), /sr-mpls-carrier.*expected "udp" or "gre", got "ip"/s);
  assert.throws(() => proberConfig(SOURCE4, "  encap: mpls\n"), /expected "gre", "ipip", "srv6", "sr-mpls" or "auto", got "mpls"/);
});
