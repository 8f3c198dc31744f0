// The lab's IPv6 data plane end to end (root only): a dual-stack NANOG 6 lab (2001:2::/48 next to
// the unchanged IPv4 plan), IPv6 pings and UDP between hosts along the ECMP routes, probes pinned
// to r1 -> r2 -> r4 -> r6 and back as GRE over IPv6 and as IPv6-in-IPv6 (3 layers out, 3 back,
// built with prober/packet's ProbeTemplate6) and as GRE over IPv6 around an IPv4 probe, all
// decapsulated by the userspace helpers; per-family faults (the IPv6 data plane broken, IPv4
// untouched); IPv6-only and IPv4-only labs; teardown.
//
//   npx tsc -p . && node --test dist/test/lab/lab6.test.js
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, type ChildProcess } from "node:child_process";
import { ProbeTemplate6 } from "../../prober/packet/template6.js";
import { writeEncap6Layer, GRE6_LAYER_LENGTH } from "../../prober/packet/encap6.js";
import { writeIpv4Header, IPPROTO_UDP } from "../../prober/packet/ipv4.js";
import { writeUdpHeader } from "../../prober/packet/udp.js";
import { Lab, nanogLab, type DecapCounters } from "./netns.js";
import { Lines, netnsWithPrefix } from "./lines.js";

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
const SEND_SCRIPT = `
const [hex, dst, mod] = process.argv.slice(1);
const { RawSocket } = await import(mod);
const s = RawSocket.open({ family: dst.includes(":") ? "ipv6" : "ipv4", protocol: 255 });
s.send(Buffer.from(hex, "hex"), dst, (err, n) => {
  if (err) { console.error(err.code + ": " + err.message); process.exitCode = 2; } else console.log(n);
});
s.close();
`;

/** A UDP socket printing every datagram (payload in hex, source address). */
const RECV_SCRIPT = `
const [addr, port] = process.argv.slice(1);
const s = require("node:dgram").createSocket(addr.includes(":") ? "udp6" : "udp4");
s.on("message", (m, r) => console.log(JSON.stringify({ payload: m.toString("hex"), from: r.address })));
s.bind(Number(port), addr, () => console.log(JSON.stringify({ ready: true })));
`;

const ECHO_SERVER = `
const [addr, port] = process.argv.slice(1);
const s = require("node:dgram").createSocket(addr.includes(":") ? "udp6" : "udp4");
s.on("message", (m, r) => s.send(m, r.port, r.address));
s.bind(Number(port), addr, () => console.log("ready"));
`;

/** Sends "flow-i" from `flows` sockets (one source port each) to addr:port; prints the flows echoed back. */
const ECHO_CLIENT = `
const [addr, port, flows, src] = process.argv.slice(1);
const dgram = require("node:dgram");
const got = new Set();
const socks = [];
let tries = 0;
const done = () => { console.log(JSON.stringify([...got].sort())); for (const s of socks) s.close(); process.exit(0); };
for (let i = 0; i < Number(flows); i++) {
  const s = dgram.createSocket(addr.includes(":") ? "udp6" : "udp4");
  s.on("message", (m) => { got.add(m.toString()); if (got.size === Number(flows)) done(); });
  s.bind(0, src || undefined);
  socks.push(s);
}
const go = () => {
  if (tries++ >= 5) done();
  socks.forEach((s, i) => { if (!got.has("flow-" + i)) s.send("flow-" + i, Number(port), addr); });
};
setTimeout(go, 50);
setInterval(go, 300);
`;

/** ICMPv6 echo (RFC 4443 §4.1) through a raw socket (the kernel fills the checksum): prints the replies' sources. */
const PING6_SCRIPT = `
const [dst, count, mod] = process.argv.slice(1);
const { RawSocket } = await import(mod);
const s = RawSocket.open({ family: "ipv6", protocol: 58 });
const id = process.pid & 0xffff;
const got = new Set();
s.on("message", (buf, from) => {
  if (buf[0] === 129 && buf.readUInt16BE(4) === id && from === dst) got.add(buf.readUInt16BE(6));
  if (got.size === Number(count)) finish();
});
const finish = () => { console.log(JSON.stringify({ replies: got.size, from: dst })); s.close(); process.exit(0); };
let seq = 0;
const send = () => {
  if (seq >= Number(count) + 5) return finish();
  const req = Buffer.alloc(16); req[0] = 128; req.writeUInt16BE(id, 4); req.writeUInt16BE(seq % Number(count), 6); seq++;
  s.send(req, dst, (err) => { if (err) { console.error(err.code); process.exit(2); } });
};
for (let i = 0; i < Number(count); i++) send();
setInterval(send, 300);
`;



type Field = "forwarded" | "received";
function delta(after: Record<string, DecapCounters>, before: Record<string, DecapCounters>, field: Field, v6: boolean): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((r) => [r, v6 ? after[r].ipv6![field] - before[r].ipv6![field] : after[r][field] - before[r][field]]));
}

/** Hops of an out-and-back probe along `path` (each hop: the next router's address on the link crossed). */
function reverseHops(addressOn: (node: string, peer: string) => string, path: string[]): string[] {
  const out = path.slice(1).map((r, i) => addressOn(r, path[i]));
  const back = path.slice(0, -1).map((r, i) => addressOn(r, path[i + 1])).reverse();
  return [...out, ...back];
}

let probeNonce = 0;

/** An IPv6 probe (innermost IPv6/UDP from and to `src`) through ProbeTemplate6, one layer per hop. */
function probe6(src: string, hops: string[], encap: "gre" | "ipip"): { packet: Buffer; payload: Buffer } {
  const t = new ProbeTemplate6({ src, hops, encaps: hops.map(() => encap), dstPort: 9999, srcPortBase: 40000, srcPortRange: 1, dscp: 0, size: 0, mtu: 1500, pathIndex: 0, nonce: ++probeNonce, hopLimit: 64 });
  const packet = Buffer.from(t.patch(probeNonce, 1n));
  return { packet, payload: packet.subarray(t.udpOffset + 8) };
}

/** GRE over IPv6 layers (0x86DD, the last 0x0800) around an IPv4/UDP packet from and to `src4`: the mixed stack. */
function probe6Around4(src6: string, hops: string[], src4: string, text: string): { packet: Buffer; payload: Buffer } {
  const body = Buffer.from(text);
  const innerLength = 20 + 8 + body.length;
  const packet = Buffer.alloc(hops.length * GRE6_LAYER_LENGTH + innerLength);
  hops.forEach((dst, i) => {
    const off = i * GRE6_LAYER_LENGTH;
    writeEncap6Layer(packet, off, "gre", { src: src6, dst, payloadLength: packet.length - off - 40, hopLimit: 64, dscp: 0 }, i === hops.length - 1 ? "ipv4" : "ipv6");
  });
  const inner = hops.length * GRE6_LAYER_LENGTH;
  writeIpv4Header(packet, inner, { src: src4, dst: src4, protocol: IPPROTO_UDP, totalLength: innerLength, ttl: 64, id: 0x4c51, dscp: 0, dontFragment: false });
  writeUdpHeader(packet, inner + 20, { srcPort: 40000, dstPort: 9998, length: 8 + body.length });
  body.copy(packet, inner + 28);
  return { packet, payload: packet.subarray(inner + 28) };
}

// ------------------------------------------------------------------------------------------------

describe("lab, dual stack: NANOG 6 routers with IPv6 from 2001:2::/48", { skip }, () => {
  let lab: Lab;
  let recv6: Lines;
  let recv4: Lines;
  let P6: string;
  let P4: string;
  const children: ChildProcess[] = [];

  before(async () => {
    lab = await Lab.create(nanogLab({ h6: true }), { decap: "userspace" });
    process.stderr.write(`${lab.decapSummary}\n`);
    const h1 = lab.topology.hosts.find((h) => h.name === "h1")!;
    [P6, P4] = [h1.address6, h1.address];
    const r6 = lab.spawnIn("h1", [NODE, "-e", RECV_SCRIPT, P6, "9999"], { stdio: ["ignore", "pipe", "inherit"] });
    const r4 = lab.spawnIn("h1", [NODE, "-e", RECV_SCRIPT, P4, "9998"], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(r6, r4);
    recv6 = new Lines(r6.stdout!);
    recv4 = new Lines(r4.stdout!);
    assert.deepEqual(JSON.parse((await recv6.next(10_000)) ?? "null"), { ready: true });
    assert.deepEqual(JSON.parse((await recv4.next(10_000)) ?? "null"), { ready: true });
  });

  after(async () => {
    await lab?.destroy();
  });

  async function sendFromH1(packet: Buffer, dst: string): Promise<void> {
    const r = await lab.exec("h1", [NODE, "--input-type=module", "-e", SEND_SCRIPT, packet.toString("hex"), dst, RAWSOCK]);
    assert.equal(r.code, 0, `sender failed: ${r.stderr}`);
    assert.equal(r.stdout.trim(), String(packet.length));
  }

  /** Sends `packet` to hops[0] from h1; resolves with whether `payload` came back, and each router's decap counters. */
  async function roundTrip(packet: Buffer, first: string, payload: Buffer, via: Lines, from: string, waitMs: number) {
    const before = await lab.decapCounters();
    await sendFromH1(packet, first);
    let arrived = false;
    for (;;) {
      const line = await via.next(waitMs);
      if (line === undefined) break;
      const msg = JSON.parse(line) as { payload: string; from: string };
      if (msg.payload === payload.toString("hex")) {
        assert.equal(msg.from, from);
        arrived = true;
        break;
      }
    }
    // Let the helpers finish (a lost probe may still be in flight when arrival times out).
    await new Promise((r) => setTimeout(r, 100));
    const after = await lab.decapCounters();
    return { arrived, forwarded6: delta(after, before, "forwarded", true), forwarded4: delta(after, before, "forwarded", false), after };
  }

  const PATH = ["r1", "r2", "r4", "r6"];
  const ON_PATH = { r1: 1, r2: 2, r3: 0, r4: 2, r5: 0, r6: 1 };

  function pinned6(path: string[], encap: "gre" | "ipip", waitMs = 3000) {
    const hops = reverseHops((n, p) => lab.addressOn6(n, p), path);
    const { packet, payload } = probe6(P6, hops, encap);
    return roundTrip(packet, hops[0], payload, recv6, P6, waitMs);
  }

  function pinned4(path: string[], waitMs = 3000) {
    // The IPv4 twin: GRE over IPv4 all the way (what the IPv6 faults must leave alone).
    const hops = reverseHops((n, p) => lab.addressOn(n, p), path);
    const text = `v4-${++probeNonce}`;
    const body = Buffer.from(text);
    let pkt = Buffer.alloc(28 + body.length);
    writeIpv4Header(pkt, 0, { src: P4, dst: P4, protocol: IPPROTO_UDP, totalLength: pkt.length, ttl: 64, id: 0x4c52, dscp: 0, dontFragment: false });
    writeUdpHeader(pkt, 20, { srcPort: 40000, dstPort: 9998, length: 8 + body.length });
    body.copy(pkt, 28);
    for (let i = hops.length - 1; i >= 0; i--) {
      const outer = Buffer.alloc(24 + pkt.length);
      writeIpv4Header(outer, 0, { src: P4, dst: hops[i], protocol: 47, totalLength: outer.length, ttl: 64, id: 0x4c53, dscp: 0, dontFragment: false });
      outer.writeUInt16BE(0x0800, 22);
      pkt.copy(outer, 24);
      pkt = outer;
    }
    return roundTrip(pkt, hops[0], body, recv4, P4, waitMs);
  }

  test("every namespace has the model's IPv6 addresses, usable at once; forwarding on routers; the IPv4 plan is unchanged", async () => {
    assert.equal(lab.family, "dual");
    assert.match(lab.decapSummary, /^decap: userspace helper \(asked for\); IPv6: userspace helper \(asked for\)$/);
    const r1 = lab.topology.routers[0];
    assert.deepEqual([r1.loopback, r1.loopback6], ["198.19.0.1", "2001:2:0:19::1"]);
    assert.deepEqual(lab.topology.links.map((l) => [l.aAddress, l.aAddress6, l.bAddress6]).slice(0, 3), [
      ["198.18.0.0", "2001:2:0:18::", "2001:2:0:18::1"],
      ["198.18.0.2", "2001:2:0:18::2", "2001:2:0:18::3"],
      ["198.18.0.4", "2001:2:0:18::4", "2001:2:0:18::5"],
    ]);
    assert.deepEqual([P4, P6], ["198.18.252.1", "2001:2:0:18::252:1"]);
    assert.deepEqual(reverseHops((n, p) => lab.addressOn(n, p), PATH), ["198.18.0.1", "198.18.0.5", "198.18.0.13", "198.18.0.12", "198.18.0.4", "198.18.0.0"]);
    const want = new Map<string, string[]>();
    for (const r of lab.topology.routers) want.set(r.name, [r.loopback6]);
    for (const h of lab.topology.hosts) want.set(h.name, [h.address6]);
    for (const l of lab.topology.links) (want.get(l.a)!.push(l.aAddress6), want.get(l.b)!.push(l.bAddress6));
    for (const h of lab.topology.hosts) want.get(h.router)!.push(h.routerAddress6);
    for (const [node, addrs] of want) {
      const r = await lab.exec(node, ["ip", "-j", "-6", "addr", "show", "scope", "global"]);
      const got = (JSON.parse(r.stdout) as Array<{ addr_info: Array<{ local: string; tentative?: boolean; dadfailed?: boolean }> }>).flatMap((i) => i.addr_info).filter((a) => a.local !== undefined);
      assert.deepEqual(got.map((a) => a.local).sort(), [...addrs].sort(), node);
      assert.ok(got.every((a) => !a.tentative && !a.dadfailed), `${node}: tentative or DAD-failed addresses: ${r.stdout}`);
    }
    const f = await lab.exec("r4", ["sysctl", "-n", "net.ipv6.conf.all.forwarding", "net.ipv6.conf.all.accept_dad", `net.ipv6.conf.${lab.ifname("r4", "r6")}.accept_dad`]);
    assert.deepEqual(f.stdout.trim().split("\n"), ["1", "0", "0"]);
    const h = await lab.exec("h1", ["sysctl", "-n", "net.ipv6.conf.all.forwarding"]);
    assert.equal(h.stdout.trim(), "0");
  });

  test("r1's IPv6 route to r6's loopback is multipath over r2 and r3, as the IPv4 one", async () => {
    const r6 = lab.topology.routers.find((r) => r.name === "r6")!;
    const r = await lab.exec("r1", ["ip", "-j", "-6", "route", "show", `${r6.loopback6}/128`]);
    const routes = JSON.parse(r.stdout) as Array<{ dst: string; protocol: string; nexthops?: Array<{ gateway: string; dev: string }> }>;
    assert.equal(routes.length, 1);
    assert.deepEqual(
      routes[0].nexthops?.map((n) => [n.gateway, n.dev]).sort(),
      [
        [lab.addressOn6("r2", "r1"), lab.ifname("r1", "r2")],
        [lab.addressOn6("r3", "r1"), lab.ifname("r1", "r3")],
      ].sort(),
    );
    const h = await lab.exec("h1", ["ip", "-j", "-6", "route", "show", "default"]);
    assert.equal((JSON.parse(h.stdout) as Array<{ gateway: string }>)[0].gateway, lab.topology.hosts[0].routerAddress6);
  });

  test("IPv6 ping from h1 to r6's loopback and to h6", async () => {
    for (const dst of [lab.topology.routers.find((r) => r.name === "r6")!.loopback6, lab.topology.hosts.find((x) => x.name === "h6")!.address6]) {
      const r = await lab.exec("h1", [NODE, "--input-type=module", "-e", PING6_SCRIPT, dst, "3", RAWSOCK]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { replies: 3, from: dst });
    }
  });

  test("IPv6 UDP between h1 and h6: 32 flows all echoed, spread over both of r1's equal-cost next hops", async () => {
    const h6 = lab.topology.hosts.find((x) => x.name === "h6")!.address6;
    const server = lab.spawnIn("h6", [NODE, "-e", ECHO_SERVER, h6, "7007"], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(server);
    try {
      assert.equal(await new Lines(server.stdout!).next(10_000), "ready");
      const tx = async (): Promise<number[]> => {
        const out: number[] = [];
        for (const peer of ["r2", "r3"]) {
          const r = await lab.exec("r1", ["ip", "-j", "-s", "link", "show", "dev", lab.ifname("r1", peer)]);
          out.push((JSON.parse(r.stdout) as Array<{ stats64: { tx: { packets: number } } }>)[0].stats64.tx.packets);
        }
        return out;
      };
      const before = await tx();
      const r = await lab.exec("h1", [NODE, "-e", ECHO_CLIENT, h6, "7007", "32", P6]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), Array.from({ length: 32 }, (_, i) => `flow-${i}`).sort());
      const after = await tx();
      // Each flow hashes (addresses, flow label) onto one next hop: with 32 flows both carry some.
      assert.ok(after[0] - before[0] >= 1 && after[1] - before[1] >= 1, `r1 -> r2 ${after[0] - before[0]}, r1 -> r3 ${after[1] - before[1]} packets`);
    } finally {
      server.kill();
    }
  });

  test("GRE over IPv6, 3 layers out and 3 back (r1 > r2 > r4 > r6), comes back to h1, decapsulated by exactly those routers", async () => {
    const p = await pinned6(PATH, "gre");
    assert.ok(p.arrived, "the IPv6 GRE probe did not come back to h1");
    assert.deepEqual(p.forwarded6, ON_PATH);
    assert.deepEqual(p.forwarded4, ON_PATH, "no IPv4 tunnel packet in between");
    for (const [r, c] of Object.entries(p.after)) assert.deepEqual(c.dropped, {}, `${r} dropped`);
  });

  test("IPv6-in-IPv6, 3 layers out and 3 back, comes back to h1 the same way", async () => {
    const p = await pinned6(PATH, "ipip");
    assert.ok(p.arrived, "the IPv6-in-IPv6 probe did not come back to h1");
    assert.deepEqual(p.forwarded6, ON_PATH);
    for (const [r, c] of Object.entries(p.after)) assert.deepEqual(c.dropped, {}, `${r} dropped`);
  });

  test("each of the 4 equal-cost paths forwards its pinned IPv6 probe", async () => {
    for (const path of [["r1", "r2", "r5", "r6"], ["r1", "r3", "r4", "r6"], ["r1", "r3", "r5", "r6"]]) {
      const p = await pinned6(path, "gre");
      assert.ok(p.arrived, `${path.join("-")} did not come back`);
      const want: Record<string, number> = { r1: 1, r2: 0, r3: 0, r4: 0, r5: 0, r6: 1 };
      for (const r of path.slice(1, -1)) want[r] = 2;
      assert.deepEqual(p.forwarded6, want, path.join("-"));
    }
  });

  test("GRE over IPv6 carrying IPv4 (0x0800 in the last layer): r1 forwards the IPv4 probe to h1", async () => {
    const hops = reverseHops((n, p) => lab.addressOn6(n, p), PATH);
    const { packet, payload } = probe6Around4(P6, hops, P4, `mixed-${++probeNonce}`);
    const p = await roundTrip(packet, hops[0], payload, recv4, P4, 3000);
    assert.ok(p.arrived, "the IPv4 probe inside IPv6 GRE did not come back");
    assert.deepEqual(p.forwarded6, ON_PATH);
  });

  test("setFamilyDrop r2 -> r4 ipv6: IPv6 over r2-r4 is lost, ping and probes alike; IPv4 over it and IPv6 elsewhere still work; repair", async () => {
    lab.setFamilyDrop("r2", "r4", "ipv6");
    try {
      const lost = await pinned6(PATH, "gre", 1000);
      assert.equal(lost.arrived, false, "arrived although r4 drops IPv6 from r2");
      // r2 sent it towards r4, r4's kernel dropped it before any decapsulator saw it.
      assert.deepEqual(lost.forwarded6, { r1: 0, r2: 1, r3: 0, r4: 0, r5: 0, r6: 0 });
      assert.ok((await pinned4(PATH)).arrived, "IPv4 over r2-r4 should be untouched");
      assert.ok((await pinned6(["r1", "r3", "r4", "r6"], "gre")).arrived, "IPv6 over r3-r4 should be untouched");
      // A plain IPv6 ping from r2 to r4's address on the link: lost; the IPv4 one is not.
      const ping = await lab.exec("r2", [NODE, "--input-type=module", "-e", PING6_SCRIPT, lab.addressOn6("r4", "r2"), "1", RAWSOCK]);
      assert.deepEqual(JSON.parse(ping.stdout), { replies: 0, from: lab.addressOn6("r4", "r2") });
      const r4 = lab.addressOn("r4", "r2");
      const server = lab.spawnIn("r4", [NODE, "-e", ECHO_SERVER, r4, "7008"], { stdio: ["ignore", "pipe", "inherit"] });
      children.push(server);
      assert.equal(await new Lines(server.stdout!).next(10_000), "ready");
      const echo = await lab.exec("r2", [NODE, "-e", ECHO_CLIENT, r4, "7008", "1"]);
      server.kill();
      assert.deepEqual(JSON.parse(echo.stdout), ["flow-0"]);
      // The reverse direction r4 -> r2 is another link direction: not dropped.
      const back = await lab.exec("r4", [NODE, "--input-type=module", "-e", PING6_SCRIPT, lab.addressOn6("r2", "r4"), "1", RAWSOCK]);
      assert.deepEqual(JSON.parse(back.stdout), { replies: 0, from: lab.addressOn6("r2", "r4") }, "r2's echo reply crosses r2 -> r4: lost");
      // Neighbour discovery survives the drop: r4 forgets r2, then forwards a probe to r2 over the
      // link (r4 -> r2, not dropped): r4's solicitation goes out from its link-local address and
      // r2's advertisement, crossing r2 -> r4 to that link-local address, is let through.
      const flush = await lab.exec("r4", ["ip", "-6", "neigh", "flush", "dev", lab.ifname("r4", "r2")]);
      assert.equal(flush.code, 0, flush.stderr);
      const hops = [lab.addressOn6("r3", "r1"), lab.addressOn6("r4", "r3"), lab.addressOn6("r2", "r4"), lab.addressOn6("r1", "r2")];
      const { packet, payload } = probe6(P6, hops, "gre");
      const around = await roundTrip(packet, hops[0], payload, recv6, P6, 3000);
      assert.ok(around.arrived, "r1 > r3 > r4 > r2 > r1 (crossing r4 -> r2 only) did not come back");
      assert.deepEqual(around.forwarded6, { r1: 1, r2: 1, r3: 1, r4: 1, r5: 0, r6: 0 });
    } finally {
      lab.setFamilyDrop("r2", "r4", "ipv6", false);
    }
    assert.ok((await pinned6(PATH, "gre")).arrived, "repaired, the IPv6 probe is still lost");
  });

  test("setFamilyDrop r2 -> r4 ipv4 leaves IPv6 alone; clearFaults repairs it", async () => {
    lab.setFamilyDrop("r2", "r4", "ipv4");
    try {
      assert.equal((await pinned4(PATH, 1000)).arrived, false, "IPv4 arrived over a dropped family");
      assert.ok((await pinned6(PATH, "ipip")).arrived, "IPv6 over r2-r4 should be untouched");
    } finally {
      lab.clearFaults();
    }
    assert.ok((await pinned4(PATH)).arrived, "clearFaults did not repair IPv4");
  });

  test("setFault with family ipv6 (the decapsulator's gray loss, here 100%): r4 drops IPv6 tunnels from r2 only, counted as fault", async () => {
    lab.setFault("r2", "r4", { loss: 1, family: "ipv6" });
    try {
      const lost = await pinned6(PATH, "gre", 1000);
      assert.equal(lost.arrived, false);
      assert.equal(lost.after.r4.dropped.fault, 1);
      assert.ok((await pinned4(PATH)).arrived, "the IPv6 fault hit IPv4");
      // r4 still decapsulates IPv6 arriving from r6 (another interface) and from r3.
      assert.ok((await pinned6(["r1", "r3", "r4", "r6"], "gre")).arrived);
    } finally {
      lab.setFault("r2", "r4", { loss: 0, family: "ipv6" });
    }
    assert.ok((await pinned6(PATH, "gre")).arrived);
  });

  test("setFault without a family applies to both; decap off for IPv6 only drops IPv6 tunnels as decap-off", async () => {
    lab.setFault("r2", "r4", { loss: 1 });
    try {
      assert.equal((await pinned6(PATH, "gre", 1000)).arrived, false);
      assert.equal((await pinned4(PATH, 1000)).arrived, false);
    } finally {
      lab.clearFaults();
    }
    lab.setDecap("r4", false, "ipv6");
    try {
      const off = await pinned6(PATH, "ipip", 1000);
      assert.equal(off.arrived, false);
      assert.equal(off.after.r4.dropped["decap-off"], 1);
      assert.ok((await pinned4(PATH)).arrived, "IPv4 decap should still be on");
    } finally {
      lab.setDecap("r4", true);
    }
    assert.ok((await pinned6(PATH, "ipip")).arrived);
  });

  test("link r2-r4 down: IPv6 routes move to r3, the IPv6 probe pinned to r2-r4 is lost; up again: back", async () => {
    await lab.linkDown("r2", "r4");
    await lab.installRoutes();
    try {
      const r = await lab.exec("r1", ["ip", "-j", "-6", "route", "show", `${lab.topology.routers[3].loopback6}/128`]);
      const route = (JSON.parse(r.stdout) as Array<{ gateway?: string; nexthops?: unknown[] }>)[0];
      assert.equal(route.gateway, lab.addressOn6("r3", "r1"));
      assert.equal(route.nexthops, undefined);
      assert.equal((await pinned6(PATH, "gre", 1000)).arrived, false);
      assert.ok((await pinned6(["r1", "r3", "r4", "r6"], "gre")).arrived);
    } finally {
      await lab.linkUp("r2", "r4");
      await lab.installRoutes();
    }
    // keep_addr_on_down: the link's IPv6 addresses survived the down.
    assert.ok((await pinned6(PATH, "gre")).arrived, "link r2-r4 back up, IPv6 probe still lost");
  });

  test("destroy() removes every namespace and helper", async () => {
    const pids = lab.helperPids();
    assert.equal(pids.length, 6);
    await lab.destroy();
    assert.deepEqual(netnsWithPrefix(lab.prefix), []);
    const final = lab.finalDecapCounters();
    assert.ok((final.r2.ipv6?.forwarded ?? 0) > 0, JSON.stringify(final.r2));
  });
});

describe("lab, IPv6 only and IPv4 only", { skip }, () => {
  test("family ipv6: no IPv4 address or route in any namespace; IPv6 GRE and IPv6-in-IPv6 probes come back", async (t) => {
    const lab = await Lab.create(nanogLab(), { decap: "userspace", family: "ipv6" });
    t.after(() => lab.destroy());
    assert.deepEqual([lab.family, lab.decapMode, lab.decapMode6], ["ipv6", "userspace", "userspace"]);
    assert.equal(lab.decapSummary, "decap: IPv6: userspace helper (asked for)");
    for (const ns of ["r1", "r4", "h1"]) {
      const a = await lab.exec(ns, ["ip", "-j", "-4", "addr", "show"]);
      const v4 = (JSON.parse(a.stdout) as Array<{ addr_info: Array<{ local: string }> }>).flatMap((i) => i.addr_info.map((x) => x.local));
      assert.deepEqual(v4, ["127.0.0.1"], ns);
      const r = await lab.exec(ns, ["ip", "-j", "-4", "route", "show"]);
      assert.deepEqual(JSON.parse(r.stdout), [], ns);
    }
    const P6 = lab.topology.hosts[0].address6;
    const recv = lab.spawnIn("h1", [NODE, "-e", RECV_SCRIPT, P6, "9999"], { stdio: ["ignore", "pipe", "inherit"] });
    const lines = new Lines(recv.stdout!);
    assert.deepEqual(JSON.parse((await lines.next(10_000)) ?? "null"), { ready: true });
    for (const encap of ["gre", "ipip"] as const) {
      const hops = reverseHops((n, p) => lab.addressOn6(n, p), ["r1", "r2", "r4", "r6"]);
      const { packet, payload } = probe6(P6, hops, encap);
      const s = await lab.exec("h1", [NODE, "--input-type=module", "-e", SEND_SCRIPT, packet.toString("hex"), hops[0], RAWSOCK]);
      assert.equal(s.code, 0, s.stderr);
      let got: { payload: string; from: string } | undefined;
      for (let line = await lines.next(3000); line !== undefined; line = await lines.next(3000)) {
        got = JSON.parse(line) as { payload: string; from: string };
        if (got.payload === payload.toString("hex")) break;
      }
      assert.deepEqual(got, { payload: payload.toString("hex"), from: P6 }, encap);
    }
    const c = await lab.decapCounters();
    assert.deepEqual(Object.fromEntries(Object.entries(c).map(([r, x]) => [r, x.ipv6!.forwarded])), { r1: 2, r2: 4, r3: 0, r4: 4, r5: 0, r6: 2 });
  });

  test("family ipv4: IPv6 disabled everywhere, helpers without IPv6 sockets (the lab as before)", async (t) => {
    const lab = await Lab.create(nanogLab(), { decap: "userspace", family: "ipv4" });
    t.after(() => lab.destroy());
    assert.deepEqual([lab.family, lab.decapMode, lab.decapMode6], ["ipv4", "userspace", "none"]);
    assert.equal(lab.decapSummary, "decap: userspace helper (asked for)");
    const s = await lab.exec("r1", ["sysctl", "-n", "net.ipv6.conf.all.disable_ipv6"]);
    assert.equal(s.stdout.trim(), "1");
    const c = await lab.decapCounters();
    assert.equal(c.r1.ipv6, undefined);
    assert.throws(() => lab.setFault("r2", "r4", { loss: 1, family: "ipv6" }), /has no ipv6/);
  });
});
