// The segment-routing probes against an independent dissector (issue 15's acceptance): patched
// SRv6 probes (the NANOG path r1-r2-r4-r6 out and back over the lab plan's End.X SIDs, reduced
// and full SRH, with and without a MAC key) and SR-MPLS probes (the same path's Adj-SID labels in
// MPLS-in-UDP over IPv4 and IPv6, and in MPLS-in-GRE) go into pcaps, and tshark 4.0 must see the
// SRH's segments in order, Segments Left, "UDP checksum Good" (over the final destination, RFC
// 8200 §8.1: tshark takes it from the SRH), every label with its TTL and S on the bottom one
// only, the inner packet to the prober, and both UDP checksums Good (-o udp.check_checksum:TRUE;
// -d udp.port==6635,mpls, though tshark 4.0 already dissects RFC 7510's port as MPLS).
// udp.checksum.status: "0" Bad, "1" Good. A corrupted probe reads Bad (the negative control).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SrMplsProbeTemplate, Srv6ProbeTemplate, type SrMplsProbeTemplateOptions } from "../../prober/packet/template-sr.js";
import { LINKTYPE_IPV6, LINKTYPE_RAW, writePcap } from "../../prober/packet/pcap.js";

function tsharkMissing(): string | false {
  try {
    execFileSync("tshark", ["--version"], { stdio: "ignore" });
    return false;
  } catch {
    return "tshark is not installed (apt-get install tshark)";
  }
}
const SKIP = tsharkMissing();

const P6 = "2001:2:0:100::2";
const P4 = "198.18.252.2";
const SIDS = ["2001:2:0:8001::e:0", "2001:2:0:8002::e:1", "2001:2:0:8004::e:2", "2001:2:0:8006::e:0", "2001:2:0:8004::e:0", "2001:2:0:8002::e:0"];
const LABELS = [24000, 24001, 24002, 24000, 24000, 24000];
const SEQS = [0, 1, 2, 1000, 0xffffffff];

function fields(file: string, f: string[], extra: string[] = []): string[][] {
  const out = execFileSync("tshark", ["-r", file, "-o", "udp.check_checksum:TRUE", ...extra, "-T", "fields", "-E", "separator=|", ...f.flatMap((x) => ["-e", x])], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return out.trimEnd().split("\n").map((l) => l.split("|"));
}

test("tshark: SRv6 probes: DA the first End.X SID, the SRH's segments in order (the prober last), Segments Left, UDP checksum Good", { skip: SKIP }, () => {
  const dir = mkdtempSync(join(tmpdir(), "lsprobe-srv6-"));
  try {
    const cases = [
      { reduced: true, key: undefined },
      { reduced: false, key: undefined },
      { reduced: true, key: Buffer.from("secret") },
    ];
    const packets: Buffer[] = [];
    const want: Array<{ reduced: boolean; seq: number; srcPort: number; flowLabel: number }> = [];
    for (const c of cases) {
      const t = new Srv6ProbeTemplate({ src: P6, segments: SIDS, hopLimit: 64, dstPort: 33434, srcPortBase: 40000, srcPortRange: 64, dscp: 10, size: 0, mtu: 1500, pathIndex: 1, nonce: 5, reduced: c.reduced, ...(c.key ? { key: c.key } : {}) });
      for (const seq of SEQS) {
        packets.push(Buffer.from(t.patch(seq, BigInt(seq) * 1000n)));
        want.push({ reduced: c.reduced, seq, srcPort: t.srcPortFor(seq), flowLabel: t.flowLabelFor(seq) });
      }
    }
    const bad = Buffer.from(packets[0]);
    bad[bad.length - 1] ^= 0xff;
    packets.push(bad);
    const file = join(dir, "srv6.pcap");
    writePcap(file, packets, LINKTYPE_IPV6);
    const rows = fields(file, ["ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.routing.type", "ipv6.routing.segleft", "ipv6.routing.srh.last_entry", "ipv6.routing.srh.addr", "udp.srcport", "udp.dstport", "udp.checksum.status", "ipv6.flow"]);
    assert.equal(rows.length, packets.length);
    want.forEach((w, i) => {
      const [src, dst, nxt, type, left, last, addrs, sport, dport, status, flow] = rows[i];
      const at = `packet ${i} (reduced ${w.reduced}, seq ${w.seq})`;
      assert.deepEqual([src, dst, nxt, type, left], [P6, SIDS[0], "43", "4", String(SIDS.length)], at);
      assert.equal(last, String(w.reduced ? SIDS.length - 1 : SIDS.length), at);
      // The list as stored: the prober first (Segment List[0] is the last segment).
      assert.deepEqual(addrs.split(","), [P6, ...[...SIDS].reverse().slice(0, w.reduced ? SIDS.length - 1 : SIDS.length)], at);
      assert.deepEqual([sport, dport, status], [String(w.srcPort), "33434", "1"], at);
      assert.equal(Number(flow), w.flowLabel, at);
    });
    assert.equal(rows[rows.length - 1][9], "0", "a corrupted probe reads Bad");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tshark: SR-MPLS probes: MPLS-in-UDP (port 6635, entropy source port) over IPv4 and IPv6, and MPLS-in-GRE: every label, its TTL, S on the bottom only, the inner packet to the prober, UDP checksums Good", { skip: SKIP }, () => {
  const dir = mkdtempSync(join(tmpdir(), "lsprobe-srmpls-"));
  try {
    const base = (family: "ipv4" | "ipv6", carrier: "udp" | "gre"): SrMplsProbeTemplateOptions => ({
      family,
      carrier,
      src: family === "ipv4" ? P4 : P6,
      entry: family === "ipv4" ? "198.19.0.1" : "2001:2:0:ffff::1",
      labels: LABELS,
      ttl: 64,
      labelTtl: 40,
      dstPort: 33434,
      srcPortBase: 40000,
      srcPortRange: 64,
      dscp: 0,
      size: 0,
      mtu: 1500,
      pathIndex: 2,
      nonce: 7,
    });
    const packets: Buffer[] = [];
    const want: Array<{ o: SrMplsProbeTemplateOptions; seq: number; t: SrMplsProbeTemplate }> = [];
    for (const [family, carrier] of [["ipv4", "udp"], ["ipv6", "udp"], ["ipv4", "gre"], ["ipv6", "gre"]] as const) {
      const o = base(family, carrier);
      const t = new SrMplsProbeTemplate(o);
      for (const seq of SEQS) {
        packets.push(Buffer.from(t.patch(seq, BigInt(seq))));
        want.push({ o, seq, t });
      }
    }
    const file = join(dir, "srmpls.pcap");
    writePcap(file, packets, LINKTYPE_RAW);
    const rows = fields(file, ["ip.dst", "ipv6.dst", "udp.srcport", "udp.dstport", "gre.proto", "mpls.label", "mpls.ttl", "mpls.bottom", "udp.checksum.status", "ip.proto", "ipv6.nxt"], ["-d", "udp.port==6635,mpls"]);
    assert.equal(rows.length, packets.length);
    want.forEach(({ o, seq, t }, i) => {
      const [ipDst, ip6Dst, sports, dports, greProto, labels, ttls, bottoms, statuses] = rows[i];
      const at = `packet ${i} (${o.family} ${o.carrier}, seq ${seq})`;
      // Outer to the entry router, inner to the prober.
      assert.deepEqual((o.family === "ipv4" ? ipDst : ip6Dst).split(","), [o.entry, o.src], at);
      assert.deepEqual(labels.split(",").map(Number), LABELS, at);
      assert.deepEqual(ttls.split(","), LABELS.map(() => "40"), at);
      assert.deepEqual(bottoms.split(","), LABELS.map((_, k) => (k === LABELS.length - 1 ? "1" : "0")), at);
      if (o.carrier === "udp") {
        assert.deepEqual(sports.split(","), [String(t.entropyPortFor(seq)), String(t.srcPortFor(seq))], at);
        assert.deepEqual(dports.split(","), ["6635", "33434"], at);
        assert.deepEqual(statuses.split(","), ["1", "1"], at);
      } else {
        assert.equal(greProto, "0x8847", at);
        assert.deepEqual([sports, dports, statuses], [String(t.srcPortFor(seq)), "33434", "1"], at);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
