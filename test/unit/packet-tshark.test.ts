// ProbeTemplate against an independent dissector: patched probes for the NANOG 6 path
// r1-r2-r4-r6 (forward and reverse, with and without a MAC key) go into a pcap (LINKTYPE_IPV4),
// and tshark 4.0 must see the whole GRE stack with every IPv4 and the UDP checksum good. The same
// for IP-in-IP stacks (RFC 2003, protocol 4: tshark shows each as one more "ip" layer) and mixed
// GRE/IP-in-IP stacks (r4 set to IP-in-IP): every layer, in order, addresses and checksums.
//
// tshark -T json repeats a key ("ip", "gre") once per layer, which JSON.parse would collapse to
// the last one; --no-duplicate-keys merges them into arrays. Checksum status in -T json is the
// raw value of Wireshark's proto_checksum_enum_e: "0" Bad, "1" Good, "2" Unverified; the text
// view (-V) prints the names, and a second run checks those too. A negative control with one
// corrupted IPv4 and one corrupted UDP checksum proves that tshark is really checking.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProbeTemplate, type ProbeTemplateOptions } from "../../prober/packet/template.js";
import { writePcap } from "../../prober/packet/pcap.js";
import { encapLayerLength, type Encap } from "../../prober/packet/encap.js";

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

const PROBER = "198.18.100.2";
const FORWARD = ["198.18.0.1", "198.18.0.5", "198.18.0.9"];
const REVERSE = [...FORWARD, "198.18.0.8", "198.18.0.4", "198.18.0.0"];
const SEQS = [0, 1, 2, 3, 1000, 0xffffffff];

interface Probe {
  path: string;
  hops: string[];
  encaps: readonly Encap[];
  seq: number;
  srcPort: number;
  length: number;
  bytes: Buffer;
}

const G: Encap = "gre";
const I: Encap = "ipip";
const paths: Record<string, Partial<ProbeTemplateOptions> & { hops: string[] }> = {
  "forward, no key": { hops: FORWARD },
  "forward, key, 512 bytes": { hops: FORWARD, key: Buffer.from("k1"), size: 512 },
  "reverse, key": { hops: REVERSE, key: Buffer.from("k2") },
  "reverse, no key, 1400 bytes": { hops: REVERSE, size: 1400 },
  "forward, all IP-in-IP": { hops: FORWARD, encaps: [I, I, I] },
  "reverse, all IP-in-IP, key, 600 bytes": { hops: REVERSE, encaps: [I, I, I, I, I, I], key: Buffer.from("k3"), size: 600 },
  "forward, r4 IP-in-IP (gre, ipip, gre)": { hops: FORWARD, encaps: [G, I, G] },
  "reverse, r4 IP-in-IP both ways, key": { hops: REVERSE, encaps: [G, I, G, I, G, G], key: Buffer.from("k4") },
  "reverse, alternating, 1400 bytes": { hops: REVERSE, encaps: [I, G, I, G, I, G], size: 1400 },
};

function probes(): Probe[] {
  const out: Probe[] = [];
  for (const [path, o] of Object.entries(paths)) {
    const t = new ProbeTemplate({
      src: PROBER, dstPort: 33434, srcPortBase: 40000, srcPortRange: 4, ttl: 64, dscp: 46, size: 0, mtu: 1500,
      pathIndex: 3, nonce: 0x5eed, ...o,
    });
    for (const seq of SEQS) {
      // patch() reuses the template's buffer: copy each probe before the next patch.
      out.push({ path, hops: o.hops, encaps: o.encaps ?? o.hops.map(() => G), seq, srcPort: t.srcPortFor(seq), length: t.length, bytes: Buffer.from(t.patch(seq, 10n ** 12n + BigInt(seq))) });
    }
  }
  return out;
}

type Layer = Record<string, unknown>;
const list = (x: unknown): Layer[] => (x === undefined ? [] : Array.isArray(x) ? (x as Layer[]) : [x as Layer]);

function tsharkJson(file: string): Array<Record<string, unknown>> {
  const out = execFileSync(
    "tshark",
    ["-r", file, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-T", "json", "--no-duplicate-keys"],
    { encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"] },
  );
  const frames = JSON.parse(out) as Array<{ _source: { layers: Record<string, unknown> } }>;
  return frames.map((f) => f._source.layers);
}

test("tshark dissects every patched probe: the GRE, IP-in-IP and mixed stacks in order, all checksums good", { skip: SKIP }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "lsprobe-tshark-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ps = probes();
  const file = join(dir, "probes.pcap");
  writePcap(file, ps.map((p) => p.bytes));

  const frames = tsharkJson(file);
  assert.equal(frames.length, ps.length);
  frames.forEach((layers, i) => {
    const p = ps[i];
    const at = `${p.path} seq ${p.seq}`;
    const n = p.hops.length;
    const greCount = p.encaps.filter((e) => e === "gre").length;
    // Offset of each layer: the sum of the lengths of the layers before it (24 GRE, 20 IP-in-IP).
    const offsets = p.encaps.reduce((o, e) => [...o, o[o.length - 1] + encapLayerLength(e)], [0]);
    const ip = list(layers.ip);
    const gre = list(layers.gre);
    const udp = list(layers.udp);
    const frame = layers.frame as Layer;
    assert.equal(frame["frame.len"], String(p.length), `${at}: frame.len`);
    assert.equal(frame["frame.protocols"], p.encaps.map((e) => (e === "gre" ? "ip:gre:" : "ip:")).join("") + "ip:udp:data", `${at}: frame.protocols`);
    assert.equal(ip.length, n + 1, `${at}: ip layers`);
    assert.equal(gre.length, greCount, `${at}: gre layers`);
    assert.equal(udp.length, 1, `${at}: udp layers`);
    assert.deepEqual(ip.map((l) => l["ip.dst"]), [...p.hops, PROBER], `${at}: ip.dst in order`);
    ip.forEach((l, k) => {
      const lat = `${at} ip[${k}]`;
      assert.equal(l["ip.src"], PROBER, `${lat}: ip.src`);
      assert.equal(l["ip.version"], "4", `${lat}: ip.version`);
      assert.equal(l["ip.hdr_len"], "20", `${lat}: ip.hdr_len`);
      assert.equal(l["ip.len"], String(p.length - offsets[k]), `${lat}: ip.len`);
      assert.equal(l["ip.proto"], k === n ? "17" : p.encaps[k] === "ipip" ? "4" : "47", `${lat}: ip.proto`);
      assert.equal(l["ip.ttl"], "64", `${lat}: ip.ttl`);
      assert.equal((l["ip.dsfield_tree"] as Layer)["ip.dsfield.dscp"], "46", `${lat}: ip.dsfield.dscp`);
      assert.equal((l["ip.flags_tree"] as Layer)["ip.flags.df"], "1", `${lat}: ip.flags.df`);
      assert.equal(l["ip.checksum.status"], CHECKSUM_GOOD, `${lat}: ip.checksum.status`);
    });
    gre.forEach((l, k) => {
      assert.equal(l["gre.proto"], "0x0800", `${at} gre[${k}]: gre.proto`);
      assert.equal(l["gre.flags_and_version"], "0x0000", `${at} gre[${k}]: gre.flags_and_version`);
    });
    assert.equal(udp[0]["udp.srcport"], String(p.srcPort), `${at}: udp.srcport`);
    assert.equal(udp[0]["udp.dstport"], "33434", `${at}: udp.dstport`);
    assert.equal(udp[0]["udp.length"], String(p.length - offsets[n] - 20), `${at}: udp.length`);
    assert.equal(udp[0]["udp.checksum.status"], CHECKSUM_GOOD, `${at}: udp.checksum.status`);
  });

  // The same verdicts by name, from the text view.
  const text = execFileSync(
    "tshark",
    ["-r", file, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-V"],
    { encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"] },
  );
  const ipLayers = ps.reduce((s, p) => s + p.hops.length + 1, 0);
  assert.equal(text.match(/\[Header checksum status: Good\]/g)?.length, ipLayers, "IPv4 'Good' verdicts");
  assert.equal(text.match(/\[Checksum Status: Good\]/g)?.length, ps.length, "UDP 'Good' verdicts");
  assert.doesNotMatch(text, /status: Bad|Status: Bad/);
});

test("tshark negative control: a corrupted inner IPv4 and a corrupted UDP checksum read as Bad", { skip: SKIP }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "lsprobe-tshark-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tpl = new ProbeTemplate({
    src: PROBER, hops: FORWARD, dstPort: 33434, srcPortBase: 40000, srcPortRange: 1, ttl: 64, dscp: 0, size: 0, mtu: 1500, pathIndex: 0, nonce: 1,
  });
  const badIp = Buffer.from(tpl.patch(1, 1n));
  badIp[tpl.innerOffset + 10] ^= 0x01; // innermost IPv4 header checksum
  const badUdp = Buffer.from(tpl.patch(2, 2n));
  badUdp[tpl.udpOffset + 6] ^= 0x01; // UDP checksum
  const file = join(dir, "bad.pcap");
  writePcap(file, [badIp, badUdp]);
  const [f1, f2] = tsharkJson(file);
  assert.deepEqual(list(f1.ip).map((l) => l["ip.checksum.status"]), [CHECKSUM_GOOD, CHECKSUM_GOOD, CHECKSUM_GOOD, CHECKSUM_BAD]);
  assert.deepEqual(list(f2.ip).map((l) => l["ip.checksum.status"]), [CHECKSUM_GOOD, CHECKSUM_GOOD, CHECKSUM_GOOD, CHECKSUM_GOOD]);
  assert.equal(list(f2.udp)[0]["udp.checksum.status"], CHECKSUM_BAD);
});
