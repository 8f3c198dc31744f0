// ProbeTemplate6 against an independent dissector (issue 13's acceptance): patched IPv6 probes
// for the NANOG 6 path r1-r2-r4-r6 (2001:2::/48 addresses, forward and reverse, with and without
// a MAC key) as GRE over IPv6 (RFC 7676), IPv6-in-IPv6 (RFC 2473) and mixed stacks go into a pcap,
// and tshark 4.0 must see every layer in order (each IPv6 header, each GRE with 0x86DD), the
// addresses in order, hop limit, DSCP and flow label on each, and "UDP checksum Good"
// (-o udp.check_checksum:TRUE). The files are LINKTYPE_RAW (101, either family: the IPv4 probes
// of the same paths ride along, as a dual-stack prober sends them) and LINKTYPE_IPV6 (229).
// A negative control: a corrupted UDP checksum reads Bad, a zero one Illegal (RFC 8200 §8.1).
//
// tshark -T json repeats a key ("ipv6", "gre") once per layer; --no-duplicate-keys merges them
// into arrays. udp.checksum.status is Wireshark's proto_checksum_enum_e: "0" Bad, "1" Good,
// "2" Unverified, "4" Illegal; the text view (-V) prints the names, checked in a second run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProbeTemplate6, type ProbeTemplate6Options } from "../../prober/packet/template6.js";
import { ProbeTemplate } from "../../prober/packet/template.js";
import { LINKTYPE_IPV6, LINKTYPE_RAW, writePcap } from "../../prober/packet/pcap.js";
import { encap6LayerLength, type Encap } from "../../prober/packet/encap6.js";

function tsharkMissing(): string | false {
  try {
    execFileSync("tshark", ["--version"], { stdio: "ignore" });
    return false;
  } catch {
    return "tshark is not installed (apt-get install tshark)";
  }
}
const SKIP = tsharkMissing();

const CHECKSUM_BAD = "0";
const CHECKSUM_GOOD = "1";
const CHECKSUM_ILLEGAL = "4";

const PROBER = "2001:2:0:100::2";
const FORWARD = ["2001:2::1", "2001:2::5", "2001:2::9"];
const REVERSE = [...FORWARD, "2001:2::8", "2001:2::4", "2001:2::"];
const SEQS = [0, 1, 2, 3, 1000, 0xffffffff];
const G: Encap = "gre";
const I: Encap = "ipip";

interface Probe {
  path: string;
  hops: string[];
  encaps: readonly Encap[];
  seq: number;
  srcPort: number;
  flowLabel: number;
  hopLimit: number;
  length: number;
  bytes: Buffer;
}

const paths: Record<string, Partial<ProbeTemplate6Options> & { hops: string[] }> = {
  "3-hop GRE over IPv6": { hops: FORWARD },
  "3-hop GRE over IPv6, key, 512 bytes": { hops: FORWARD, key: Buffer.from("k1"), size: 512 },
  "3-hop IPv6-in-IPv6": { hops: FORWARD, encaps: [I, I, I] },
  "3-hop mixed (gre, ipip, gre), key": { hops: FORWARD, encaps: [G, I, G], key: Buffer.from("k2") },
  "6-hop reverse GRE, hop limit 9": { hops: REVERSE, hopLimit: 9 },
  "6-hop reverse mixed, own flow labels, 1400 bytes": { hops: REVERSE, encaps: [I, G, I, G, I, G], size: 1400, flowLabelBase: 0xabc00, flowLabelRange: 5 },
};

function probes(): Probe[] {
  const out: Probe[] = [];
  for (const [path, o] of Object.entries(paths)) {
    const t = new ProbeTemplate6({
      src: PROBER, dstPort: 33434, srcPortBase: 40000, srcPortRange: 4, hopLimit: 64, dscp: 46, size: 0, mtu: 1500, pathIndex: 3, nonce: 0x5eed, ...o,
    });
    for (const seq of SEQS) {
      out.push({
        path, hops: o.hops, encaps: t.encaps, seq, srcPort: t.srcPortFor(seq), flowLabel: t.flowLabelFor(seq), hopLimit: t.hopLimit, length: t.length,
        bytes: Buffer.from(t.patch(seq, 10n ** 12n + BigInt(seq))), // patch() reuses its buffer: copy
      });
    }
  }
  return out;
}

type Layer = Record<string, unknown>;
const list = (x: unknown): Layer[] => (x === undefined ? [] : Array.isArray(x) ? (x as Layer[]) : [x as Layer]);

function tshark(file: string, view: "json" | "text"): string {
  const fmt = view === "json" ? ["-T", "json", "--no-duplicate-keys"] : ["-V"];
  return execFileSync("tshark", ["-r", file, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", ...fmt], {
    encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"],
  });
}
const frames = (file: string): Layer[] => (JSON.parse(tshark(file, "json")) as Array<{ _source: { layers: Layer } }>).map((f) => f._source.layers);

function checkProbe(layers: Layer, p: Probe, linkPrefix: string): void {
  const at = `${p.path} seq ${p.seq}`;
  const n = p.hops.length;
  const offsets = p.encaps.reduce((o, e) => [...o, o[o.length - 1] + encap6LayerLength(e)], [0]);
  const ip6 = list(layers.ipv6);
  const gre = list(layers.gre);
  const udp = list(layers.udp);
  const frame = layers.frame as Layer;
  assert.equal(frame["frame.len"], String(p.length), `${at}: frame.len`);
  assert.equal(frame["frame.protocols"], linkPrefix + p.encaps.map((e) => (e === "gre" ? "ipv6:gre:" : "ipv6:")).join("") + "ipv6:udp:data", `${at}: frame.protocols`);
  assert.equal(ip6.length, n + 1, `${at}: ipv6 layers`);
  assert.equal(gre.length, p.encaps.filter((e) => e === "gre").length, `${at}: gre layers`);
  assert.equal(list(layers.ip).length, 0, `${at}: no IPv4 layer`);
  assert.deepEqual(ip6.map((l) => l["ipv6.dst"]), [...p.hops, PROBER], `${at}: ipv6.dst in order`);
  ip6.forEach((l, k) => {
    const lat = `${at} ipv6[${k}]`;
    assert.equal(l["ipv6.version"], "6", `${lat}: version`);
    assert.equal(l["ipv6.src"], PROBER, `${lat}: src`);
    assert.equal(l["ipv6.plen"], String(p.length - offsets[k] - 40), `${lat}: payload length`);
    assert.equal(l["ipv6.nxt"], k === n ? "17" : p.encaps[k] === "ipip" ? "41" : "47", `${lat}: next header`);
    assert.equal(l["ipv6.hlim"], String(p.hopLimit), `${lat}: hop limit`);
    assert.equal((l["ipv6.tclass_tree"] as Layer)["ipv6.tclass.dscp"], "46", `${lat}: DSCP`);
    assert.equal(parseInt(l["ipv6.flow"] as string, 16), p.flowLabel, `${lat}: flow label`);
  });
  gre.forEach((l, k) => {
    assert.equal(l["gre.proto"], "0x86dd", `${at} gre[${k}]: protocol type IPv6`);
    assert.equal(l["gre.flags_and_version"], "0x0000", `${at} gre[${k}]: flags and version`);
  });
  assert.equal(udp.length, 1, `${at}: udp layers`);
  assert.equal(udp[0]["udp.srcport"], String(p.srcPort), `${at}: udp.srcport`);
  assert.equal(udp[0]["udp.dstport"], "33434", `${at}: udp.dstport`);
  assert.equal(udp[0]["udp.length"], String(p.length - offsets[n] - 40), `${at}: udp.length`);
  assert.equal(udp[0]["udp.checksum.status"], CHECKSUM_GOOD, `${at}: udp.checksum.status`);
}

test("tshark dissects every patched IPv6 probe: GRE over IPv6, IPv6-in-IPv6 and mixed stacks in order, UDP checksum Good (LINKTYPE_IPV6)", { skip: SKIP }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "lsprobe-tshark6-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ps = probes();
  const file = join(dir, "probes6.pcap");
  writePcap(file, ps.map((p) => p.bytes), LINKTYPE_IPV6);
  const fs = frames(file);
  assert.equal(fs.length, ps.length);
  fs.forEach((layers, i) => checkProbe(layers, ps[i], ""));

  const text = tshark(file, "text");
  assert.equal(text.match(/\[Checksum Status: Good\]/g)?.length, ps.length, "UDP 'Good' verdicts by name");
  assert.doesNotMatch(text, /Status: Bad|Status: Illegal|Malformed/);
  // The protocols as tshark names them, for the first of each path.
  assert.match(text, /Generic Routing Encapsulation \(IPv6\)/);
  assert.match(text, /Internet Protocol Version 6, Src: 2001:2:0:100::2, Dst: 2001:2::5/);
});

test("tshark: IPv4 and IPv6 probes of the same paths in one LINKTYPE_RAW file (dual stack), every checksum good", { skip: SKIP }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "lsprobe-tshark6-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const v6 = probes();
  const v4 = new ProbeTemplate({
    src: "198.18.100.2", hops: ["198.18.0.1", "198.18.0.5", "198.18.0.9"], encaps: [G, I, G], dstPort: 33434, srcPortBase: 40000, srcPortRange: 4,
    ttl: 64, dscp: 46, size: 0, mtu: 1500, pathIndex: 3, nonce: 0x5eed,
  });
  const v4bytes = SEQS.map((s) => Buffer.from(v4.patch(s, BigInt(s))));
  const file = join(dir, "dual.pcap");
  writePcap(file, [...v4bytes, ...v6.map((p) => p.bytes)], LINKTYPE_RAW);
  const fs = frames(file);
  assert.equal(fs.length, v4bytes.length + v6.length);
  fs.slice(0, v4bytes.length).forEach((layers, i) => {
    assert.equal((layers.frame as Layer)["frame.protocols"], "raw:ip:gre:ip:ip:gre:ip:udp:data", `IPv4 probe ${i}`);
    assert.deepEqual(list(layers.ip).map((l) => l["ip.checksum.status"]), [CHECKSUM_GOOD, CHECKSUM_GOOD, CHECKSUM_GOOD, CHECKSUM_GOOD]);
    assert.equal(list(layers.udp)[0]["udp.checksum.status"], CHECKSUM_GOOD);
  });
  fs.slice(v4bytes.length).forEach((layers, i) => checkProbe(layers, v6[i], "raw:"));
});

test("tshark negative control: a corrupted IPv6 UDP checksum reads Bad, a zero one Illegal", { skip: SKIP }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "lsprobe-tshark6-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tpl = new ProbeTemplate6({
    src: PROBER, hops: FORWARD, encaps: [G, I, G], dstPort: 33434, srcPortBase: 40000, srcPortRange: 1, hopLimit: 64, dscp: 0, size: 0, mtu: 1500, pathIndex: 0, nonce: 1,
  });
  const good = Buffer.from(tpl.patch(1, 1n));
  const bad = Buffer.from(good);
  bad[tpl.udpOffset + 6] ^= 0x01;
  const zero = Buffer.from(good);
  zero.writeUInt16BE(0, tpl.udpOffset + 6);
  // The inner source address changed: the pseudo-header no longer matches.
  const moved = Buffer.from(good);
  moved[tpl.innerOffset + 8 + 15] ^= 0x01;
  const file = join(dir, "bad6.pcap");
  writePcap(file, [good, bad, zero, moved], LINKTYPE_RAW);
  // With an expert item (the zero checksum) tshark nests the status in udp.checksum_tree.
  const status = (u: Layer): unknown => u["udp.checksum.status"] ?? (u["udp.checksum_tree"] as Layer | undefined)?.["udp.checksum.status"];
  assert.deepEqual(frames(file).map((f) => status(list(f.udp)[0])), [CHECKSUM_GOOD, CHECKSUM_BAD, CHECKSUM_ILLEGAL, CHECKSUM_BAD]);
  assert.match(tshark(file, "text"), /\[Checksum Status: Illegal\]/);
});
