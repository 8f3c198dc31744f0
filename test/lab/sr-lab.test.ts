// The lab's segment-routing data plane end to end (root only; issue 15, Must 5): a dual-stack
// NANOG 6 lab with LabOptions.srv6 (End.X SIDs as the kernel's seg6local routes where the kernel
// has them, else the userspace End.X in each router's helper: srv6Mode) and LabOptions.mpls (the userspace label switcher in each router's helper). An IPv6/UDP probe with a
// segment routing header listing End.X SIDs out and back, and MPLS-in-UDP / MPLS-in-GRE label
// stacks of Adj-SIDs, all built here by hand from the RFCs (not with prober/packet, so the lab
// checks the prober's encoders instead of sharing their mistakes), sent from h1 and received back
// on h1; a family drop, a link down and the helper's faults break exactly the paths crossing them.
//
//   npx tsc -p . && node --test dist/test/lab/sr-lab.test.js
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, type ChildProcess } from "node:child_process";
import { Lab, nanogLab, type DecapCounters } from "./netns.js";
import { Lines, netnsWithPrefix } from "./lines.js";
import { ipv6ToBytes } from "../../prober/packet/ipv6.js";

const RAWSOCK = new URL("../../prober/rawsock.js", import.meta.url).href;
const NODE = process.execPath;

function skipReason(): string | false {
  if (process.platform !== "linux") return "the lab needs Linux network namespaces";
  if (process.getuid?.() !== 0) return "the lab needs root (network namespaces, veth, raw sockets): run the lab tests as root";
  try {
    execFileSync("ip", ["netns", "list"], { stdio: "ignore" });
  } catch {
    return "`ip netns` is unavailable (install iproute2; the kernel needs network namespaces)";
  }
  return false;
}
const skip = skipReason();

// ---- scripts run inside the namespaces ----

/** Sends one whole packet (hex) through an IPPROTO_RAW socket of the family of `dst`. */
const SEND_RAW = `
const [hex, dst, mod] = process.argv.slice(1);
const { RawSocket } = await import(mod);
const s = RawSocket.open({ family: dst.includes(":") ? "ipv6" : "ipv4", protocol: 255 });
s.send(Buffer.from(hex, "hex"), dst, (err, n) => {
  if (err) { console.error(err.code + ": " + err.message); process.exitCode = 2; } else console.log(n);
});
s.close();
`;

/** Sends whole packets (hex, comma-separated) through one IPPROTO_RAW socket of the family of `dst`. */
const SEND_RAW_MANY = `
const [hexes, dst, mod] = process.argv.slice(1);
const { RawSocket } = await import(mod);
const s = RawSocket.open({ family: dst.includes(":") ? "ipv6" : "ipv4", protocol: 255 });
let sent = 0;
for (const hex of hexes.split(",")) s.send(Buffer.from(hex, "hex"), dst, (err) => { if (err) { console.error(err.code); process.exitCode = 2; } else sent++; });
console.log(sent);
s.close();
`;

/** Sends one UDP datagram (hex payload) from src to dst:port. */
const SEND_UDP = `
const [hex, src, dst, port] = process.argv.slice(1);
const s = require("node:dgram").createSocket(dst.includes(":") ? "udp6" : "udp4");
s.bind(0, src, () => s.send(Buffer.from(hex, "hex"), Number(port), dst, (err, n) => {
  if (err) { console.error(err.message); process.exitCode = 2; } else console.log(n);
  s.close();
}));
`;

/** A UDP socket printing every datagram (payload in hex, source address). */
const RECV = `
const [addr, port] = process.argv.slice(1);
const s = require("node:dgram").createSocket(addr.includes(":") ? "udp6" : "udp4");
s.on("message", (m, r) => console.log(JSON.stringify({ payload: m.toString("hex"), from: r.address })));
s.bind(Number(port), addr, () => console.log(JSON.stringify({ ready: true })));
`;



// ---- packet builders, from the RFCs ----

function sum16(b: Uint8Array, start: number, end: number, initial = 0): number {
  let s = initial;
  for (let i = start; i < end; i += 2) s += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** UDP (RFC 768) of `body` with its checksum over the IPv6 pseudo-header (RFC 8200 §8.1: the final destination). */
function udp6(src: string, finalDst: string, srcPort: number, dstPort: number, body: Buffer): Buffer {
  const u = Buffer.alloc(8 + body.length);
  u.writeUInt16BE(srcPort, 0);
  u.writeUInt16BE(dstPort, 2);
  u.writeUInt16BE(u.length, 4);
  body.copy(u, 8);
  const pseudo = Buffer.alloc(40);
  Buffer.from(ipv6ToBytes(src)).copy(pseudo, 0);
  Buffer.from(ipv6ToBytes(finalDst)).copy(pseudo, 16);
  pseudo.writeUInt32BE(u.length, 32);
  pseudo[39] = 17;
  const c = ~sum16(u, 0, u.length, sum16(pseudo, 0, 40)) & 0xffff;
  u.writeUInt16BE(c === 0 ? 0xffff : c, 6);
  return u;
}

function ipv6Header(src: string, dst: string, nextHeader: number, payloadLength: number, hopLimit = 64): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payloadLength, 4);
  h[6] = nextHeader;
  h[7] = hopLimit;
  Buffer.from(ipv6ToBytes(src)).copy(h, 8);
  Buffer.from(ipv6ToBytes(dst)).copy(h, 24);
  return h;
}

/**
 * An IPv6/UDP packet from `src` through `segments` (in the order they are visited, the last the
 * final destination) with a segment routing header (RFC 8754 §2):
 *   | Next Header | Hdr Ext Len | Routing Type 4 | Segments Left |
 *   | Last Entry  |    Flags    |          Tag                   |
 *   | Segment List[0] (the last segment) ... Segment List[n-1] (the first) |
 * the destination address the first segment, Segments Left n-1.
 */
function srv6Probe(src: string, segments: string[], body: Buffer): Buffer {
  const n = segments.length;
  const finalDst = segments[n - 1];
  const u = udp6(src, finalDst, 40000, 9999, body);
  const srh = Buffer.alloc(8 + 16 * n);
  srh[0] = 17;
  srh[1] = 2 * n; // 8-octet units after the first 8
  srh[2] = 4;
  srh[3] = n - 1;
  srh[4] = n - 1;
  segments.forEach((s, i) => Buffer.from(ipv6ToBytes(s)).copy(srh, 8 + 16 * (n - 1 - i)));
  return Buffer.concat([ipv6Header(src, segments[0], 43, srh.length + u.length), srh, u]);
}

/** IPv4/UDP (RFC 791, 768; UDP checksum 0: none) from and to `addr`. */
function ipv4Udp(addr: string, dstPort: number, body: Buffer): Buffer {
  const p = Buffer.alloc(28 + body.length);
  p[0] = 0x45;
  p.writeUInt16BE(p.length, 2);
  p.writeUInt16BE(0x5352, 4);
  p[8] = 64;
  p[9] = 17;
  const a = Buffer.from(addr.split(".").map(Number));
  a.copy(p, 12);
  a.copy(p, 16);
  p.writeUInt16BE(~sum16(p, 0, 20) & 0xffff, 10);
  p.writeUInt16BE(40000, 20);
  p.writeUInt16BE(dstPort, 22);
  p.writeUInt16BE(8 + body.length, 24);
  body.copy(p, 28);
  return p;
}

/** A label stack (RFC 3032 §2.1: label 20 bits, TC 3, S, TTL 8), top first, in front of `inner`. */
function labelStack(labels: number[], inner: Buffer, ttl = 64): Buffer {
  const s = Buffer.alloc(4 * labels.length);
  labels.forEach((l, i) => s.writeUInt32BE(((l << 12) | (i === labels.length - 1 ? 0x100 : 0) | ttl) >>> 0, 4 * i));
  return Buffer.concat([s, inner]);
}

/** Outer IPv4 + GRE (RFC 2784, protocol 0x8847: MPLS) around a label stack. */
function mplsInGre4(src: string, dst: string, stack: Buffer): Buffer {
  const p = Buffer.alloc(24 + stack.length);
  p[0] = 0x45;
  p.writeUInt16BE(p.length, 2);
  p[8] = 64;
  p[9] = 47;
  Buffer.from(src.split(".").map(Number)).copy(p, 12);
  Buffer.from(dst.split(".").map(Number)).copy(p, 16);
  p.writeUInt16BE(~sum16(p, 0, 20) & 0xffff, 10);
  p.writeUInt16BE(0x8847, 22);
  stack.copy(p, 24);
  return p;
}

// ------------------------------------------------------------------------------------------------

describe("lab, segment routing: SRv6 End.X (kernel seg6local, or the userspace helper without it), SR-MPLS on the label switcher (NANOG 6)", { skip }, () => {
  let lab: Lab;
  let recv6: Lines;
  let recv4: Lines;
  let H6: string;
  let H4: string;
  const children: ChildProcess[] = [];
  let nonce = 0;

  before(async () => {
    lab = await Lab.create(nanogLab(), { decap: "userspace", srv6: true, mpls: "userspace" });
    process.stderr.write(`${lab.decapSummary}\n${lab.srSummary}\n`);
    const h1 = lab.topology.hosts[0];
    [H6, H4] = [h1.address6, h1.address];
    const r6 = lab.spawnIn("h1", [NODE, "-e", RECV, H6, "9999"], { stdio: ["ignore", "pipe", "inherit"] });
    const r4 = lab.spawnIn("h1", [NODE, "-e", RECV, H4, "9998"], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(r6, r4);
    recv6 = new Lines(r6.stdout!);
    recv4 = new Lines(r4.stdout!);
    assert.deepEqual(JSON.parse((await recv6.next(10_000)) ?? "null"), { ready: true });
    assert.deepEqual(JSON.parse((await recv4.next(10_000)) ?? "null"), { ready: true });
  });

  after(async () => {
    await lab?.destroy();
  });

  /** Waits for `body` on `via` (from `from`); false when it does not come within waitMs. */
  async function arrives(via: Lines, body: Buffer, from: string, waitMs: number): Promise<boolean> {
    for (;;) {
      const line = await via.next(waitMs);
      if (line === undefined) return false;
      const msg = JSON.parse(line) as { payload: string; from: string };
      if (msg.payload === body.toString("hex")) {
        assert.equal(msg.from, from);
        return true;
      }
    }
  }

  /** End.X SIDs out along `path` and back, then h1: what an SRv6 probe lists. */
  function segmentsOf(path: string[]): string[] {
    const hops = [...path.slice(0, -1).map((r, i) => lab.endX(r, path[i + 1])), ...path.slice(1).reverse().map((r, i, back) => lab.endX(r, i + 1 < back.length ? back[i + 1] : path[0]))];
    return [...hops, H6];
  }

  /** Adj-SID labels out along `path` and back (the last one, bottom of stack, hands the inner packet to the first router). */
  function labelsOf(path: string[]): number[] {
    const out = path.slice(0, -1).map((r, i) => lab.adjSid(r, path[i + 1]));
    const rev = [...path].reverse();
    const back = rev.slice(0, -1).map((r, i) => lab.adjSid(r, rev[i + 1]));
    return [...out, ...back];
  }

  async function srv6RoundTrip(path: string[], waitMs = 3000): Promise<{ arrived: boolean; counters: Record<string, DecapCounters>; before: Record<string, DecapCounters> }> {
    const before = await lab.decapCounters();
    const segs = segmentsOf(path);
    const body = Buffer.from(`srv6-${++nonce}`);
    const pkt = srv6Probe(H6, segs, body);
    const r = await lab.exec("h1", [NODE, "--input-type=module", "-e", SEND_RAW, pkt.toString("hex"), segs[0], RAWSOCK]);
    assert.equal(r.code, 0, `sender failed: ${r.stderr}`);
    const arrived = await arrives(recv6, body, H6, waitMs);
    return { arrived, before, counters: await lab.decapCounters() };
  }

  /** `n` SRv6 probes listing `segs` (default: out along `path` and back) from one sender; resolves with how many came back. */
  async function srv6Burst(path: string[], n: number, waitMs = 1500, segs = segmentsOf(path)): Promise<number> {
    const bodies = Array.from({ length: n }, () => Buffer.from(`srv6-${++nonce}`));
    const want = new Set(bodies.map((b) => b.toString("hex")));
    const r = await lab.exec("h1", [NODE, "--input-type=module", "-e", SEND_RAW_MANY, bodies.map((b) => srv6Probe(H6, segs, b).toString("hex")).join(","), segs[0], RAWSOCK]);
    assert.equal(r.stdout.trim(), String(n), `sender failed: ${r.stderr}`);
    let got = 0;
    for (let line = await recv6.next(waitMs); line !== undefined && got < n; line = got < n ? await recv6.next(waitMs) : undefined) {
      if (want.delete((JSON.parse(line) as { payload: string }).payload)) got++;
    }
    return got;
  }

  const PATH = ["r1", "r2", "r4", "r6"];
  const OTHER = ["r1", "r2", "r5", "r6"];

  test("the SR plan: locators in 2001:2:0:8000::/49, End.X SIDs locator::e:k, Adj-SIDs 24000 + k", () => {
    const srv6 = lab.srv6Mode === "kernel" ? "SRv6 kernel seg6local End.X" : "SRv6 userspace End.X helper (kernel has no seg6local";
    assert.ok(lab.srSummary.startsWith(`sr: ${srv6}`), lab.srSummary);
    assert.ok(lab.srSummary.endsWith("; SR-MPLS userspace label switcher (asked for)"), lab.srSummary);
    assert.deepEqual(
      lab.topology.routers.map((r) => lab.locator(r.name)),
      ["2001:2:0:8001::/64", "2001:2:0:8002::/64", "2001:2:0:8003::/64", "2001:2:0:8004::/64", "2001:2:0:8005::/64", "2001:2:0:8006::/64"],
    );
    assert.deepEqual(segmentsOf(PATH), ["2001:2:0:8001::e:0", "2001:2:0:8002::e:1", "2001:2:0:8004::e:2", "2001:2:0:8006::e:0", "2001:2:0:8004::e:0", "2001:2:0:8002::e:0", H6]);
    assert.deepEqual(labelsOf(PATH), [24000, 24001, 24002, 24000, 24000, 24000]);
  });

  test("kernel: one seg6local End.X route per adjacency (nh6 the neighbour's link address, dev the link), seg6 enabled; userspace: the locator local, seg6 off on routers", async () => {
    for (const r of lab.topology.routers) {
      if (lab.srv6Mode === "userspace") {
        // The helper's protocol-43 socket sees the packet only if the kernel delivers it locally
        // (local route) and does not process the SRH itself (seg6_enabled 0: ipv6_srh_rcv drops it).
        const local = await lab.exec(r.name, ["ip", "-6", "route", "show", "table", "local", lab.locator(r.name)]);
        assert.match(local.stdout, new RegExp(`^local ${lab.locator(r.name).replace(/[.:/]/g, "\\$&")} dev lo`), r.name);
        const none = await lab.exec(r.name, ["ip", "-6", "route", "show", "proto", "200"]);
        assert.ok(!none.stdout.includes("seg6local"), `${r.name}: seg6local route in userspace mode`);
        continue;
      }
      const out = await lab.exec(r.name, ["ip", "-6", "route", "show", "proto", "200"]);
      const got = out.stdout
        .split("\n")
        .filter((l) => l.includes("seg6local"))
        .map((l) => l.trim().replace(/\s+/g, " ").replace(/ (proto 200|metric) .*$/, ""))
        .sort();
      const want = lab.sr.adjacencies
        .filter((a) => a.router === r.name)
        .map((a) => `${a.endX} encap seg6local action End.X nh6 ${a.nexthop6} dev ${lab.ifname(r.name, a.peer)}`)
        .sort();
      assert.deepEqual(got, want, r.name);
      // Every other router's locator is routed.
      for (const o of lab.topology.routers.filter((x) => x.name !== r.name)) {
        const loc = await lab.exec(r.name, ["ip", "-j", "-6", "route", "show", lab.locator(o.name)]);
        assert.equal((JSON.parse(loc.stdout) as unknown[]).length, 1, `${r.name}: no route to ${o.name}'s locator`);
      }
    }
    const six = await lab.exec("r6", ["ip", "-j", "-6", "route", "show", lab.locator("r1")]);
    const hops = (JSON.parse(six.stdout) as Array<{ nexthops?: Array<{ dev: string }> }>)[0].nexthops?.map((n) => n.dev).sort();
    assert.deepEqual(hops, [lab.ifname("r6", "r4"), lab.ifname("r6", "r5")].sort(), "r6 -> r1's locator is ECMP over r4 and r5");
    for (const node of ["r4", "h1"]) {
      const s = await lab.exec(node, ["sysctl", "-n", "net.ipv6.conf.all.seg6_enabled", `net.ipv6.conf.${node === "h1" ? "eth0" : lab.ifname("r4", "r2")}.seg6_enabled`]);
      const on = node === "h1" || lab.srv6Mode === "kernel" ? "1" : "0";
      assert.deepEqual(s.stdout.trim().split("\n"), [on, on], node);
    }
  });

  test("an SRv6 probe listing End.X SIDs r1 > r2 > r4 > r6 and back comes back to h1 (kernel: the kernel alone; userspace: End.X at each SID's router once)", async () => {
    const p = await srv6RoundTrip(PATH);
    assert.ok(p.arrived, "the SRv6 probe did not come back");
    for (const r of Object.keys(p.counters)) {
      assert.equal(p.counters[r].received, p.before[r].received, `${r}'s GRE decapsulator saw the SRv6 probe`);
      assert.equal(p.counters[r].mpls!.received, p.before[r].mpls!.received, `${r}'s label switcher saw the SRv6 probe`);
    }
    // Six End.X SIDs: r1, r2 and r4 out, r6, r4 and r2 back.
    const endX = Object.fromEntries(Object.keys(p.counters).map((r) => [r, (p.counters[r].srv6?.forwarded ?? 0) - (p.before[r].srv6?.forwarded ?? 0)]));
    const want = lab.srv6Mode === "kernel" ? { r1: 0, r2: 0, r3: 0, r4: 0, r5: 0, r6: 0 } : { r1: 1, r2: 2, r3: 0, r4: 2, r5: 0, r6: 1 };
    assert.deepEqual(endX, want);
  });

  test("each of the 4 equal-cost paths forwards its SRv6 probe", async () => {
    for (const path of [OTHER, ["r1", "r3", "r4", "r6"], ["r1", "r3", "r5", "r6"]]) assert.ok((await srv6RoundTrip(path)).arrived, path.join(">"));
  });

  test("setFamilyDrop r2 -> r4 ipv6: the SRv6 probe over r2 > r4 is lost, r1 > r2 > r5 > r6 still comes back; repair", async () => {
    lab.setFamilyDrop("r2", "r4", "ipv6");
    try {
      assert.equal((await srv6RoundTrip(PATH, 1000)).arrived, false, "arrived over a dropped link direction");
      assert.ok((await srv6RoundTrip(OTHER)).arrived, "r1 > r2 > r5 > r6 should be untouched");
    } finally {
      lab.setFamilyDrop("r2", "r4", "ipv6", false);
    }
    assert.ok((await srv6RoundTrip(PATH)).arrived, "repaired, still lost");
  });

  test("link r2-r4 down: its End.X SIDs are withdrawn (kernel) or find no route (userspace), the probe through them is lost, r2 > r5 still works; up again: back", async () => {
    const kernel = lab.srv6Mode === "kernel";
    await lab.linkDown("r2", "r4");
    await lab.installRoutes();
    try {
      const r2 = await lab.exec("r2", ["ip", "-6", "route", "show", `${lab.endX("r2", "r4")}/128`]);
      if (kernel) assert.equal(r2.stdout.trim(), "", "r2 still has an End.X SID over the down link");
      assert.equal((await srv6RoundTrip(PATH, 1000)).arrived, false);
      assert.ok((await srv6RoundTrip(OTHER)).arrived);
    } finally {
      await lab.linkUp("r2", "r4");
      await lab.installRoutes();
    }
    const r2 = await lab.exec("r2", ["ip", "-6", "route", "show", `${lab.endX("r2", "r4")}/128`]);
    if (kernel) assert.match(r2.stdout, /seg6local action End\.X/);
    assert.ok((await srv6RoundTrip(PATH)).arrived, "link back up, SRv6 probe still lost");
  });

  test("setFault r2 -> r4 on SRv6 (a qdisc on r2's link to r4): loss 1 drops every SRv6 probe over it, loss 0.5 some, other paths none; repair removes the qdisc", async () => {
    const dev = lab.ifname("r2", "r4");
    lab.setFault("r2", "r4", { loss: 1, family: "ipv6" });
    try {
      assert.equal(await srv6Burst(PATH, 10, 1000), 0, "SRv6 probes crossed a link direction losing all of them");
      assert.equal(await srv6Burst(OTHER, 10), 10, "r1 > r2 > r5 > r6 should be untouched");
      const around = [lab.endX("r1", "r3"), lab.endX("r3", "r4"), lab.endX("r4", "r2"), lab.endX("r2", "r1"), H6];
      assert.equal(await srv6Burst([], 10, 1500, around), 10, "r1 > r3 > r4 > r2 > r1 crosses r4 -> r2, the other direction: untouched");
      assert.equal((await mplsRoundTrip(OTHER, "udp6", "ipv6")).arrived, true, "IPv6 without a routing header passes the qdisc");
      lab.setFault("r2", "r4", { loss: 0.5, family: "ipv6" });
      // 40 probes at 50%: all or none would come back with a chance of 2^-39.
      const half = await srv6Burst(PATH, 40, 1000);
      assert.ok(half > 0 && half < 40, `${half} of 40 came back at 50% loss`);
    } finally {
      lab.clearFaults();
    }
    const q = await lab.exec("r2", ["tc", "qdisc", "show", "dev", dev]);
    assert.doesNotMatch(q.stdout, /htb|pfifo/, "clearFaults left the qdisc");
    assert.equal(await srv6Burst(PATH, 10), 10, "repaired, SRv6 probes still lost");
  });

  // ---- SR-MPLS ----

  type Outer = "udp4" | "udp6" | "gre4";

  async function mplsRoundTrip(path: string[], outer: Outer, inner: "ipv4" | "ipv6", o: { waitMs?: number; ttl?: number } = {}) {
    const before = await lab.decapCounters();
    const body = Buffer.from(`mpls-${outer}-${inner}-${++nonce}`);
    const ip = inner === "ipv4" ? ipv4Udp(H4, 9998, body) : Buffer.concat([ipv6Header(H6, H6, 17, 8 + body.length), udp6(H6, H6, 40000, 9999, body)]);
    const stack = labelStack(labelsOf(path), ip, o.ttl ?? 64);
    const h1 = lab.topology.hosts[0];
    const r =
      outer === "gre4"
        ? await lab.exec("h1", [NODE, "--input-type=module", "-e", SEND_RAW, mplsInGre4(H4, h1.routerAddress, stack).toString("hex"), h1.routerAddress, RAWSOCK])
        : await lab.exec("h1", [NODE, "-e", SEND_UDP, stack.toString("hex"), outer === "udp4" ? H4 : H6, outer === "udp4" ? h1.routerAddress : h1.routerAddress6, "6635"]);
    assert.equal(r.code, 0, `sender failed: ${r.stderr}`);
    const arrived = await arrives(inner === "ipv4" ? recv4 : recv6, body, inner === "ipv4" ? H4 : H6, o.waitMs ?? 3000);
    await new Promise((res) => setTimeout(res, 100)); // a lost packet may still be in flight
    const after = await lab.decapCounters();
    const switched = Object.fromEntries(Object.keys(after).map((k) => [k, after[k].mpls!.forwarded - before[k].mpls!.forwarded]));
    // Drops during this round trip only (an earlier test's SRv6 drops stay in the counters).
    const dropped = Object.fromEntries(Object.keys(after).map((k) => [k, Object.fromEntries(Object.entries(after[k].dropped).filter(([why, n]) => n !== (before[k].dropped[why] ?? 0)).map(([why, n]) => [why, n - (before[k].dropped[why] ?? 0)]))]));
    return { arrived, switched, after, dropped };
  }

  const SWITCHED = { r1: 1, r2: 2, r3: 0, r4: 2, r5: 0, r6: 1 };

  for (const [outer, inner] of [["udp4", "ipv4"], ["udp4", "ipv6"], ["udp6", "ipv6"], ["udp6", "ipv4"], ["gre4", "ipv4"]] as const) {
    test(`MPLS-in-${outer === "gre4" ? "GRE over IPv4" : `UDP over IPv${outer.slice(3)}`}, inner ${inner}: Adj-SIDs r1 > r2 > r4 > r6 and back come back to h1, switched by exactly those routers`, async () => {
      const p = await mplsRoundTrip(PATH, outer, inner);
      assert.ok(p.arrived, "the label stack did not come back");
      assert.deepEqual(p.switched, SWITCHED);
      for (const [r, d] of Object.entries(p.dropped)) assert.deepEqual(d, {}, `${r} dropped`);
    });
  }

  test("label TTL 3: the third pop (r4) finds the outgoing TTL 0 and drops it (RFC 3032), counted as mpls-ttl", async () => {
    const p = await mplsRoundTrip(PATH, "udp4", "ipv4", { ttl: 3, waitMs: 1000 });
    assert.equal(p.arrived, false);
    assert.deepEqual(p.switched, { r1: 1, r2: 1, r3: 0, r4: 0, r5: 0, r6: 0 });
    assert.equal(p.after.r4.dropped["mpls-ttl"], 1);
  });

  test("setFault r2 -> r4 (the helper's gray loss, here 100%) hits SR-MPLS over r2 > r4 only, both families (and SRv6); a delay still delivers; repair", async () => {
    lab.setFault("r2", "r4", { loss: 1 });
    try {
      for (const outer of ["udp4", "udp6", "gre4"] as const) {
        const lost = await mplsRoundTrip(PATH, outer, "ipv4", { waitMs: 1000 });
        assert.equal(lost.arrived, false, outer);
        assert.deepEqual(lost.switched, { r1: 1, r2: 1, r3: 0, r4: 0, r5: 0, r6: 0 }, outer);
      }
      assert.ok((await mplsRoundTrip(OTHER, "udp4", "ipv4")).arrived, "r1 > r2 > r5 > r6 should be untouched");
      assert.equal((await srv6RoundTrip(PATH, 1000)).arrived, false, "setFault without a family reaches SRv6 too (its qdisc, kernel or userspace End.X)");
    } finally {
      lab.setFault("r2", "r4", { loss: 0 });
    }
    lab.setFault("r2", "r4", { delayMs: 50 });
    try {
      const d = await mplsRoundTrip(PATH, "udp6", "ipv6");
      assert.ok(d.arrived, "delayed, not lost");
      assert.equal(d.after.r4.dropped.fault ?? 0, 3);
    } finally {
      lab.clearFaults();
    }
    assert.ok((await mplsRoundTrip(PATH, "udp4", "ipv4")).arrived, "repaired, still lost");
  });

  test("link r2-r4 down: SR-MPLS over it is lost (r2 has no way to r4), over r2 > r5 it comes back; up again: back", async () => {
    await lab.linkDown("r2", "r4");
    await lab.installRoutes();
    try {
      assert.equal((await mplsRoundTrip(PATH, "udp4", "ipv4", { waitMs: 1000 })).arrived, false);
      assert.ok((await mplsRoundTrip(OTHER, "udp6", "ipv6")).arrived);
    } finally {
      await lab.linkUp("r2", "r4");
      await lab.installRoutes();
    }
    assert.ok((await mplsRoundTrip(PATH, "udp4", "ipv4")).arrived, "link back up, still lost");
    assert.ok((await mplsRoundTrip(PATH, "udp6", "ipv4")).arrived, "link back up, bottom-of-stack table route not restored");
  });

  test("destroy() removes every namespace and helper", async () => {
    assert.equal(lab.helperPids().length, 6);
    await lab.destroy();
    assert.deepEqual(netnsWithPrefix(lab.prefix), []);
    assert.ok((lab.finalDecapCounters().r2.mpls?.forwarded ?? 0) > 0, JSON.stringify(lab.finalDecapCounters().r2));
  });
});
