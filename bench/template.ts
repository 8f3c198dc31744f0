// bench/template: per-probe cost of ProbeTemplate.patch() (prober/packet/template.ts) against
// the naive way, building the whole GRE stack from scratch for every probe with Buffer.concat,
// measured in the same run.
//
//   node dist/bench/template.js [--budget SECONDS-PER-ROW] [--size BYTES]
//
// Rows: NANOG 6 r1-r2-r4-r6, 3-hop forward and 6-hop reverse stacks, without and with a MAC key.
//   patch:  t.patch(seq, time) on the one buffer of the template (the prober's hot path).
//   naive:  per probe, a Buffer per header (addresses parsed from strings, every IPv4 checksum
//           computed), the payload written and MACed (createHmac), Buffer.concat, then the full
//           UDP checksum. Same encoders, so the difference is allocation and repeated work.
// Each figure is the median of 5 timed runs of N probes (N sized from --budget), after a warm-up.
// "GC/1M" counts garbage collections (perf_hooks "gc" entries) per million probes: a measure of
// what each probe allocates. A second table puts ProbeTemplate6 (IPv6, template6.ts) beside
// ProbeTemplate (IPv4, the baseline) on the same paths (2001:2::/48 twins of the IPv4 hops):
// IPv6 patch() also writes the flow label of every layer, and the ratio says what that costs.
// A last table isolates the HMAC (payload.ts uses createHmac per probe) against the
// alternatives that were considered.
//
// Correctness: for every row, naive and patch must produce identical bytes (IPv6: patch and a
// from-scratch IPv6 build with the header writers); exit 1 otherwise.
import { createHash, createHmac, hash } from "node:crypto";
import { PerformanceObserver } from "node:perf_hooks";
import { writeIpv4Header, IPPROTO_GRE, IPPROTO_IPV6, IPPROTO_UDP, ipv4ToUint32 } from "../prober/packet/ipv4.js";
import { ipv6ToBytes, writeIpv6Header } from "../prober/packet/ipv6.js";
import { ETHERTYPE_IPV6, writeGreHeader } from "../prober/packet/gre.js";
import { verifyUdp6Checksum, verifyUdpChecksum, writeUdp6Checksum, writeUdpChecksum, writeUdpHeader } from "../prober/packet/udp.js";
import { writePayload } from "../prober/packet/payload.js";
import { ProbeTemplate, type ProbeTemplateOptions } from "../prober/packet/template.js";
import { ProbeTemplate6, type ProbeTemplate6Options } from "../prober/packet/template6.js";
import { SrMplsProbeTemplate, Srv6ProbeTemplate } from "../prober/packet/template-sr.js";
import type { Encap } from "../prober/packet/encap.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const budgetMs = Number(opt("--budget") ?? "1") * 1000;
const size = Number(opt("--size") ?? "0");

const PROBER = "198.18.100.2";
const FORWARD = ["198.18.0.1", "198.18.0.5", "198.18.0.9"];
const REVERSE = [...FORWARD, "198.18.0.8", "198.18.0.4", "198.18.0.0"];
const KEY = Buffer.from("lsprobe bench key, 32 bytes long");
const PROBER6 = "2001:2:0:100::2";
const FORWARD6 = ["2001:2::1", "2001:2::5", "2001:2::9"];
const REVERSE6 = [...FORWARD6, "2001:2::8", "2001:2::4", "2001:2::"];

let gcCount = 0;
const obs = new PerformanceObserver((list) => {
  gcCount += list.getEntries().length;
});
obs.observe({ entryTypes: ["gc"] });
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** The naive builder: everything from scratch, one Buffer per header, Buffer.concat. */
function naiveProbe(o: ProbeTemplateOptions, seq: number, sentNs: bigint): Buffer {
  const n = o.hops.length;
  const length = Math.max(o.size, ProbeTemplate.minimumSize(n));
  const id = 1 + (o.pathIndex % 0xffff);
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const ip = Buffer.alloc(20);
    writeIpv4Header(ip, 0, { src: o.src, dst: o.hops[i], protocol: IPPROTO_GRE, totalLength: length - 24 * i, ttl: o.ttl, dscp: o.dscp, id, dontFragment: true });
    const gre = Buffer.alloc(4);
    writeGreHeader(gre, 0);
    parts.push(ip, gre);
  }
  const innerLength = length - 24 * n;
  const ip = Buffer.alloc(20);
  writeIpv4Header(ip, 0, { src: o.src, dst: o.src, protocol: IPPROTO_UDP, totalLength: innerLength, ttl: o.ttl, dscp: o.dscp, id, dontFragment: true });
  const payload = Buffer.alloc(innerLength - 28);
  writePayload(payload, 0, payload.length, { pathIndex: o.pathIndex, seq, sentNs, nonce: o.nonce }, o.key);
  const udp = Buffer.alloc(8);
  writeUdpHeader(udp, 0, { srcPort: o.srcPortBase + (seq % o.srcPortRange), dstPort: o.dstPort, length: 8 + payload.length });
  const dgram = Buffer.concat([udp, payload]);
  const src = ipv4ToUint32(o.src);
  writeUdpChecksum(dgram, 0, src, src);
  parts.push(ip, dgram);
  return Buffer.concat(parts);
}

/** The naive IPv6 builder, as naiveProbe: a Buffer per header (GRE over IPv6 or IPv6-in-IPv6), Buffer.concat. */
function naiveProbe6(o: ProbeTemplate6Options, seq: number, sentNs: bigint): Buffer {
  const encaps = o.encaps ?? o.hops.map(() => "gre" as const);
  const length = Math.max(o.size, ProbeTemplate6.minimumSize(o.hops, encaps));
  const flowLabel = (o.flowLabelBase ?? o.srcPortBase) + (seq % (o.flowLabelRange ?? o.srcPortRange));
  const parts: Buffer[] = [];
  let off = 0;
  o.hops.forEach((dst, i) => {
    const ip = Buffer.alloc(40);
    writeIpv6Header(ip, 0, { src: o.src, dst, nextHeader: encaps[i] === "gre" ? IPPROTO_GRE : IPPROTO_IPV6, payloadLength: length - off - 40, hopLimit: o.hopLimit, dscp: o.dscp, flowLabel });
    parts.push(ip);
    off += 40;
    if (encaps[i] === "gre") {
      const gre = Buffer.alloc(4);
      writeGreHeader(gre, 0, ETHERTYPE_IPV6);
      parts.push(gre);
      off += 4;
    }
  });
  const ip = Buffer.alloc(40);
  writeIpv6Header(ip, 0, { src: o.src, dst: o.src, nextHeader: IPPROTO_UDP, payloadLength: length - off - 40, hopLimit: o.hopLimit, dscp: o.dscp, flowLabel });
  const payload = Buffer.alloc(length - off - 48);
  writePayload(payload, 0, payload.length, { pathIndex: o.pathIndex, seq, sentNs, nonce: o.nonce }, o.key);
  const udp = Buffer.alloc(8);
  writeUdpHeader(udp, 0, { srcPort: o.srcPortBase + (seq % o.srcPortRange), dstPort: o.dstPort, length: 8 + payload.length });
  const dgram = Buffer.concat([udp, payload]);
  const src = ipv6ToBytes(o.src);
  writeUdp6Checksum(dgram, 0, src, src);
  parts.push(ip, dgram);
  return Buffer.concat(parts);
}

interface Timing {
  nsPerOp: number;
  gcPer1M: number;
}

/** Median ns/op over 5 runs of `n` calls of fn(i), plus GCs per million calls. */
async function time(fn: (i: number) => unknown): Promise<Timing> {
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink ^= fn(i) ? 1 : 0; // warm-up (JIT)
  // Size N so the 5 runs take about the budget.
  let n = 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink ^= fn(i) ? 1 : 0;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > 20 || n >= 1 << 26) {
      n = Math.max(1000, Math.round((n * budgetMs) / 5 / Math.max(ms, 0.001)));
      break;
    }
    n *= 4;
  }
  await settle();
  const gc0 = gcCount;
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink ^= fn(i) ? 1 : 0;
    runs.push(Number(process.hrtime.bigint() - t0) / n);
  }
  await settle();
  if (sink === 42) console.log(""); // keep the results alive
  runs.sort((a, b) => a - b);
  return { nsPerOp: runs[2], gcPer1M: ((gcCount - gc0) * 1e6) / (5 * n) };
}

const fmt = (x: number, d = 0): string => x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
function table(head: string[], rows: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  console.log(line(head));
  console.log(w.map((x) => "-".repeat(x)).join("  "));
  for (const r of rows) console.log(line(r));
}

const cases: Array<{ name: string; hops: string[]; key?: Buffer }> = [
  { name: "forward 3 hops", hops: FORWARD },
  { name: "forward 3 hops", hops: FORWARD, key: KEY },
  { name: "reverse 6 hops", hops: REVERSE },
  { name: "reverse 6 hops", hops: REVERSE, key: KEY },
];

console.log(`lsprobe bench/template: node ${process.version}, ${process.arch}, budget ${budgetMs / 1000} s per figure, size ${size || "minimum"}\n`);
const rows: string[][] = [];
let failed = false;
for (const c of cases) {
  const o: ProbeTemplateOptions = {
    src: PROBER, hops: c.hops, dstPort: 33434, srcPortBase: 40000, srcPortRange: 16, ttl: 64, dscp: 46, size, mtu: 9000,
    pathIndex: 3, nonce: 0x5eed5eed, key: c.key,
  };
  const t = new ProbeTemplate(o);
  for (const [seq, ns] of [[0, 0n], [17, 123456789n], [0xffffffff, 2n ** 63n]] as Array<[number, bigint]>) {
    if (!naiveProbe(o, seq, ns).equals(t.patch(seq, ns))) {
      console.error(`MISMATCH: ${c.name} key=${!!c.key} seq ${seq}: naive and patch differ`);
      failed = true;
    }
  }
  const base = process.hrtime.bigint();
  const patch = await time((i) => t.patch(i >>> 0, base + BigInt(i)));
  const naive = await time((i) => naiveProbe(o, i >>> 0, base + BigInt(i)));
  rows.push([
    c.name, c.key ? "yes" : "no", String(t.length),
    fmt(patch.nsPerOp), fmt(1e3 / patch.nsPerOp, 2), fmt(patch.gcPer1M, 1),
    fmt(naive.nsPerOp), fmt(1e3 / naive.nsPerOp, 2), fmt(naive.gcPer1M, 1),
    `${fmt(naive.nsPerOp / patch.nsPerOp, 1)}x`,
  ]);
}
table(["stack", "key", "bytes", "patch ns", "patch Mpps", "GC/1M", "naive ns", "naive Mpps", "GC/1M", "speedup"], rows);

// ---- IPv6 beside IPv4: the same paths, the same options, patch() per probe ----
const G: Encap = "gre";
const I: Encap = "ipip";
const cases6: Array<{ name: string; hops: string[]; hops6: string[]; encaps: Encap[]; key?: Buffer }> = [
  { name: "forward 3 hops, GRE", hops: FORWARD, hops6: FORWARD6, encaps: [G, G, G] },
  { name: "forward 3 hops, GRE", hops: FORWARD, hops6: FORWARD6, encaps: [G, G, G], key: KEY },
  { name: "forward 3 hops, IP-in-IP", hops: FORWARD, hops6: FORWARD6, encaps: [I, I, I] },
  { name: "reverse 6 hops, GRE", hops: REVERSE, hops6: REVERSE6, encaps: REVERSE.map(() => G) },
  { name: "reverse 6 hops, GRE", hops: REVERSE, hops6: REVERSE6, encaps: REVERSE.map(() => G), key: KEY },
];
const rows6: string[][] = [];
for (const c of cases6) {
  const common = { dstPort: 33434, srcPortBase: 40000, srcPortRange: 16, dscp: 46, size, mtu: 9000, pathIndex: 3, nonce: 0x5eed5eed, key: c.key, encaps: c.encaps };
  const t4 = new ProbeTemplate({ ...common, src: PROBER, hops: c.hops, ttl: 64 });
  const o6: ProbeTemplate6Options = { ...common, src: PROBER6, hops: c.hops6, hopLimit: 64 };
  const t6 = new ProbeTemplate6(o6);
  for (const [seq, ns] of [[0, 0n], [17, 123456789n], [0xffffffff, 2n ** 63n]] as Array<[number, bigint]>) {
    if (!naiveProbe6(o6, seq, ns).equals(t6.patch(seq, ns))) {
      console.error(`MISMATCH: IPv6 ${c.name} key=${!!c.key} seq ${seq}: naive and patch differ`);
      failed = true;
    }
  }
  const base = process.hrtime.bigint();
  const v4 = await time((i) => t4.patch(i >>> 0, base + BigInt(i)));
  const v6 = await time((i) => t6.patch(i >>> 0, base + BigInt(i)));
  rows6.push([
    c.name, c.key ? "yes" : "no",
    String(t4.length), fmt(v4.nsPerOp), fmt(1e3 / v4.nsPerOp, 2),
    String(t6.length), fmt(v6.nsPerOp), fmt(1e3 / v6.nsPerOp, 2), fmt(v6.gcPer1M, 1),
    `${fmt(v6.nsPerOp / v4.nsPerOp, 2)}x`,
  ]);
}
console.log("");
table(["stack", "key", "IPv4 bytes", "IPv4 patch ns", "IPv4 Mpps", "IPv6 bytes", "IPv6 patch ns", "IPv6 Mpps", "GC/1M", "IPv6/IPv4 time"], rows6);

// ---- segment routing beside GRE: the same 6-hop out-and-back path (issue 15) ----
// SRv6: IPv6 + a reduced SRH of 6 End.X SIDs and the prober; SR-MPLS: 6 Adj-SID labels in
// MPLS-in-UDP (two UDP checksums patched) or MPLS-in-GRE, over IPv4. Each patch is checked
// against the checksums computed from scratch first.
const SR_SIDS = ["2001:2:0:8001::e:0", "2001:2:0:8002::e:1", "2001:2:0:8004::e:2", "2001:2:0:8006::e:0", "2001:2:0:8004::e:0", "2001:2:0:8002::e:0"];
const SR_LABELS = [24000, 24001, 24002, 24000, 24000, 24000];
const srRows: string[][] = [];
for (const key of [undefined, KEY]) {
  const common = { dstPort: 33434, srcPortBase: 40000, srcPortRange: 16, dscp: 46, size, mtu: 9000, pathIndex: 3, nonce: 0x5eed5eed, key };
  const gre = new ProbeTemplate({ ...common, src: PROBER, hops: REVERSE, ttl: 64 });
  const v6 = new Srv6ProbeTemplate({ ...common, src: PROBER6, segments: SR_SIDS, hopLimit: 64 });
  const mu = new SrMplsProbeTemplate({ ...common, family: "ipv4", carrier: "udp", src: PROBER, entry: "198.19.0.1", labels: SR_LABELS, ttl: 64 });
  const mg = new SrMplsProbeTemplate({ ...common, family: "ipv4", carrier: "gre", src: PROBER, entry: "198.19.0.1", labels: SR_LABELS, ttl: 64 });
  for (const [seq, ns] of [[0, 0n], [17, 123456789n], [0xffffffff, 2n ** 63n]] as Array<[number, bigint]>) {
    const p6 = ipv6ToBytes(PROBER6);
    const ok =
      verifyUdp6Checksum(v6.patch(seq, ns), v6.udpOffset, p6, p6) === "good" &&
      verifyUdpChecksum(mu.patch(seq, ns), mu.udpOffset, ipv4ToUint32(PROBER), ipv4ToUint32(PROBER)) === "good" &&
      verifyUdpChecksum(mu.buffer, mu.carrierOffset, ipv4ToUint32(PROBER), ipv4ToUint32("198.19.0.1")) === "good" &&
      verifyUdpChecksum(mg.patch(seq, ns), mg.udpOffset, ipv4ToUint32(PROBER), ipv4ToUint32(PROBER)) === "good";
    if (!ok) {
      console.error(`MISMATCH: an SR template's checksum is not Good at seq ${seq} key=${!!key}`);
      failed = true;
    }
  }
  const base = process.hrtime.bigint();
  for (const [name, t] of [["GRE, IPv4 (6 layers)", gre], ["SRv6, reduced SRH (6 SIDs)", v6], ["SR-MPLS, MPLS-in-UDP (6 labels)", mu], ["SR-MPLS, MPLS-in-GRE (6 labels)", mg]] as const) {
    const r = await time((i) => t.patch(i >>> 0, base + BigInt(i)));
    srRows.push([name, key ? "yes" : "no", String(t.length), fmt(r.nsPerOp), fmt(1e3 / r.nsPerOp, 2), fmt(r.gcPer1M, 1)]);
  }
}
console.log("");
table(["6-hop out-and-back path", "key", "bytes", "patch ns", "Mpps", "GC/1M"], srRows);

// ---- the MAC alone: 28 octets in, 16 out ----
const msg = Buffer.alloc(28, 0xa5);
const out = Buffer.alloc(16);
const k64 = Buffer.alloc(64);
KEY.copy(k64);
const ipad = Buffer.from(k64.map((b) => b ^ 0x36));
const opad = Buffer.from(k64.map((b) => b ^ 0x5c));
const innerState = createHash("sha256").update(ipad);
const outerState = createHash("sha256").update(opad);
const s1 = Buffer.alloc(64 + 28);
ipad.copy(s1);
const s2 = Buffer.alloc(64 + 32);
opad.copy(s2);
const macRows: Array<[string, (i: number) => unknown]> = [
  ["createHmac per probe (used)", () => createHmac("sha256", KEY).update(msg).digest().copy(out, 0, 0, 16)],
  ["ipad/opad states + Hash.copy()", () => outerState.copy().update(innerState.copy().update(msg).digest()).digest().copy(out, 0, 0, 16)],
  ["crypto.hash one-shot, scratch", () => {
    msg.copy(s1, 64);
    hash("sha256", s1, "buffer").copy(s2, 64);
    return hash("sha256", s2, "buffer").copy(out, 0, 0, 16);
  }],
];
const want = createHmac("sha256", KEY).update(msg).digest().subarray(0, 16);
const macTable: string[][] = [];
for (const [name, fn] of macRows) {
  out.fill(0);
  fn(0);
  if (!out.equals(want)) {
    console.error(`MISMATCH: HMAC variant "${name}"`);
    failed = true;
  }
  const r = await time(fn);
  macTable.push([name, fmt(r.nsPerOp), fmt(r.gcPer1M, 1)]);
}
console.log("");
table(["HMAC-SHA256/16 of 28 octets", "ns", "GC/1M"], macTable);
obs.disconnect();
if (failed) process.exit(1);
