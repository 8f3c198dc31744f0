// The namespace lab end to end (root only): NANOG 6 routers, hosts, ECMP routes, userspace GRE
// decapsulation, a hand-built GRE-stacked probe pinned to one path and back, link failure, and
// teardown (normal, crash, signal, SIGKILL + cleanupStale).
//
//   npx tsc -p . && node --test dist/test/lab/lab.test.js
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { Lab, nanogLab, type DecapCounters } from "./netns.js";
import { Lines, netnsWithPrefix } from "./lines.js";

const RAWSOCK = new URL("../../prober/rawsock.js", import.meta.url).href;
const NETNS = new URL("./netns.js", import.meta.url).href;
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

// ---- packets, built by hand (RFC 791 / 2784 / 768), independent of prober/packet ----

function ipv4(src: string, dst: string, protocol: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(0x4c50, 4); // ID: non-zero, so the kernel keeps it
  h[8] = 64;
  h[9] = protocol;
  Buffer.from(src.split(".").map(Number)).copy(h, 12);
  Buffer.from(dst.split(".").map(Number)).copy(h, 16);
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += h.readUInt16BE(i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  h.writeUInt16BE(~s & 0xffff, 10);
  return Buffer.concat([h, payload]);
}

const GRE = Buffer.from([0x00, 0x00, 0x08, 0x00]); // no flags, version 0, IPv4

function udpPacket(src: string, dst: string, port: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  const u = Buffer.alloc(8);
  u.writeUInt16BE(40000, 0);
  u.writeUInt16BE(port, 2);
  u.writeUInt16BE(8 + body.length, 4); // checksum 0: none, allowed for IPv4
  return ipv4(src, dst, 17, Buffer.concat([u, body]));
}

/** One GRE layer per hop around `inner`, the first hop outermost; every layer from `src`. */
function greStack(src: string, hops: string[], inner: Buffer): Buffer {
  let pkt = inner;
  for (let i = hops.length - 1; i >= 0; i--) pkt = ipv4(src, hops[i], 47, Buffer.concat([GRE, pkt]));
  return pkt;
}

/** "reverse" mode hops for a router path: out over each link, then back over the same links. */
function reverseHops(lab: Lab, path: string[]): string[] {
  const out = path.slice(1).map((r, i) => lab.addressOn(r, path[i]));
  const back = path.slice(0, -1).map((r, i) => lab.addressOn(r, path[i + 1])).reverse();
  return [...out, ...back];
}

// ---- child-process plumbing ----


const SEND_SCRIPT = `
const [hex, dst, mod] = process.argv.slice(1);
const { RawSocket } = await import(mod);
const s = RawSocket.open({ protocol: 255 });
s.send(Buffer.from(hex, "hex"), dst, (err, n) => {
  if (err) { console.error(err.code + ": " + err.message); process.exitCode = 2; } else console.log(n);
});
s.close();
`;

const RECV_SCRIPT = `
const [addr, port] = process.argv.slice(1);
const s = require("node:dgram").createSocket("udp4");
s.on("message", (m, r) => console.log(JSON.stringify({ payload: m.toString(), from: r.address })));
s.bind(Number(port), addr, () => console.log(JSON.stringify({ ready: true })));
`;

const ECHO_SERVER = `
const [addr, port] = process.argv.slice(1);
const s = require("node:dgram").createSocket("udp4");
s.on("message", (m, r) => s.send(m, r.port, r.address));
s.bind(Number(port), addr, () => console.log("ready"));
`;

const ECHO_CLIENT = `
const [addr, port] = process.argv.slice(1);
const s = require("node:dgram").createSocket("udp4");
let n = 0;
const go = () => { if (n++ >= 5) { console.error("no echo from " + addr); process.exit(1); } s.send("ping", Number(port), addr); };
s.on("message", (m, r) => { console.log(r.address + " " + m); process.exit(0); });
go();
setInterval(go, 300);
`;

/** Exists and is not a zombie (orphans of a killed process wait for init to reap them). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

async function waitDead(pids: number[], ms: number): Promise<number[]> {
  const end = Date.now() + ms;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > end) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}


function delta(after: Record<string, DecapCounters>, before: Record<string, DecapCounters>, field: "forwarded" | "received"): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((r) => [r, after[r][field] - before[r][field]]));
}

// ------------------------------------------------------------------------------------------------

describe("lab: NANOG 6 routers in network namespaces", { skip }, () => {
  let lab: Lab;
  let receiver: ChildProcess;
  let received: Lines;
  let P: string;
  let probeSeq = 0;

  before(async () => {
    const t0 = performance.now();
    lab = await Lab.create(nanogLab(), { decap: "userspace" });
    const ms = performance.now() - t0;
    process.stderr.write(`lab created in ${ms.toFixed(0)} ms (${lab.namespaces().length} namespaces, decap ${lab.decapMode})\n`);
    P = lab.topology.hosts.find((h) => h.name === "h1")!.address;
    receiver = lab.spawnIn("h1", [NODE, "-e", RECV_SCRIPT, P, "9999"], { stdio: ["ignore", "pipe", "inherit"] });
    received = new Lines(receiver.stdout!);
    assert.deepEqual(JSON.parse((await received.next(10_000)) ?? "null"), { ready: true });
  });

  after(async () => {
    await lab?.destroy();
  });

  async function sendFromH1(packet: Buffer, dst: string): Promise<void> {
    const r = await lab.exec("h1", [NODE, "--input-type=module", "-e", SEND_SCRIPT, packet.toString("hex"), dst, RAWSOCK]);
    assert.equal(r.code, 0, `sender failed: ${r.stderr}`);
    assert.equal(r.stdout.trim(), String(packet.length));
  }

  /** Sends a reverse-mode probe along `path`; resolves with whether it came back to h1. */
  async function probe(path: string[], waitMs: number): Promise<{ arrived: boolean; forwarded: Record<string, number>; after: Record<string, DecapCounters> }> {
    const payload = `probe-${++probeSeq}-${path.join("-")}`;
    const hops = reverseHops(lab, path);
    const before = await lab.decapCounters();
    await sendFromH1(greStack(P, hops, udpPacket(P, P, 9999, payload)), hops[0]);
    let arrived = false;
    for (;;) {
      const line = await received.next(waitMs);
      if (line === undefined) break;
      const msg = JSON.parse(line) as { payload: string; from: string };
      if (msg.payload === payload) {
        assert.equal(msg.from, P);
        arrived = true;
        break;
      }
    }
    // Let the decap helpers finish (a lost probe may still be in flight when arrival times out).
    await new Promise((r) => setTimeout(r, 100));
    const after = await lab.decapCounters();
    return { arrived, forwarded: delta(after, before, "forwarded"), after };
  }

  test("namespaces carry the pid prefix; sysctls against martians and rp_filter are set", async () => {
    assert.match(lab.prefix, new RegExp(`^lsp-${process.pid}-\\d+-$`));
    assert.deepEqual(netnsWithPrefix(lab.prefix).sort(), lab.namespaces().sort());
    assert.equal(lab.namespaces().length, 7);
    const r = await lab.exec("h1", ["sysctl", "-n", "net.ipv4.conf.all.accept_local", "net.ipv4.conf.eth0.accept_local", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.eth0.rp_filter"]);
    assert.deepEqual(r.stdout.trim().split("\n"), ["1", "1", "0", "0"]);
    const f = await lab.exec("r4", ["sysctl", "-n", "net.ipv4.ip_forward", `net.ipv4.conf.${lab.ifname("r4", "r6")}.rp_filter`]);
    assert.deepEqual(f.stdout.trim().split("\n"), ["1", "0"]);
    assert.equal(lab.helperPids().length, 6);
  });

  test("h1 reaches r6's loopback across the lab", async () => {
    const r6 = lab.topology.routers.find((r) => r.name === "r6")!.loopback;
    if (existsSync("/usr/bin/ping")) {
      const r = await lab.exec("h1", ["ping", "-c", "1", "-W", "1", r6]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      return;
    }
    // No ping here: a UDP echo with node dgram, server on r6's loopback.
    const server = lab.spawnIn("r6", [NODE, "-e", ECHO_SERVER, r6, "7007"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      assert.equal(await new Lines(server.stdout!).next(10_000), "ready");
      const r = await lab.exec("h1", [NODE, "-e", ECHO_CLIENT, r6, "7007"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `${r6} ping`);
    } finally {
      server.kill();
    }
  });

  test("r1's route to r6's loopback is multipath over r2 and r3", async () => {
    const r = await lab.exec("r1", ["ip", "-j", "route", "show", "198.19.0.6/32"]);
    const routes = JSON.parse(r.stdout) as Array<{ dst: string; nexthops?: Array<{ gateway: string; dev: string }> }>;
    assert.equal(routes.length, 1);
    assert.deepEqual(
      routes[0].nexthops?.map((h) => [h.gateway, h.dev]).sort(),
      [
        [lab.addressOn("r2", "r1"), lab.ifname("r1", "r2")],
        [lab.addressOn("r3", "r1"), lab.ifname("r1", "r3")],
      ].sort(),
    );
  });

  test("a GRE-stacked probe pinned to r1-r2-r4-r6 and back arrives, decapsulated by exactly those routers", async () => {
    const hops = reverseHops(lab, ["r1", "r2", "r4", "r6"]);
    assert.deepEqual(hops, ["198.18.0.1", "198.18.0.5", "198.18.0.13", "198.18.0.12", "198.18.0.4", "198.18.0.0"]);
    const p = await probe(["r1", "r2", "r4", "r6"], 3000);
    assert.ok(p.arrived, "the probe did not come back to h1");
    // r2, r4, r6 on the way out, r4, r2, r1 on the way back; r1 only decapsulates at the end.
    assert.deepEqual(p.forwarded, { r1: 1, r2: 2, r3: 0, r4: 2, r5: 0, r6: 1 });
    for (const [r, c] of Object.entries(p.after)) assert.deepEqual(c.dropped, {}, `${r} dropped`);
  });

  test("each of the 4 equal-cost paths forwards its pinned probe", async () => {
    for (const path of [["r1", "r2", "r5", "r6"], ["r1", "r3", "r4", "r6"], ["r1", "r3", "r5", "r6"]]) {
      const p = await probe(path, 3000);
      assert.ok(p.arrived, `${path.join("-")} did not come back`);
      const want: Record<string, number> = { r1: 1, r2: 0, r3: 0, r4: 0, r5: 0, r6: 1 };
      for (const r of path.slice(1, -1)) want[r] = 2;
      assert.deepEqual(p.forwarded, want, path.join("-"));
    }
  });

  test("without accept_local on h1 the returning probe is dropped as a martian (why the lab sets it)", async () => {
    const keys = ["net.ipv4.conf.all.accept_local", "net.ipv4.conf.eth0.accept_local"];
    await lab.exec("h1", ["sysctl", "-q", "-w", ...keys.map((k) => `${k}=0`)]);
    try {
      const p = await probe(["r1", "r2", "r4", "r6"], 1000);
      assert.equal(p.arrived, false, "arrived although h1 refuses its own source address");
      assert.equal(p.forwarded.r1, 1, "r1 did forward it: h1's kernel dropped it");
    } finally {
      await lab.exec("h1", ["sysctl", "-q", "-w", ...keys.map((k) => `${k}=1`)]);
    }
    assert.ok((await probe(["r1", "r2", "r4", "r6"], 3000)).arrived);
  });

  test("with strict rp_filter on r4 the probe dies where it comes back from r6 (why the lab sets 0)", async () => {
    const keys = ["net.ipv4.conf.all.rp_filter"];
    await lab.exec("r4", ["sysctl", "-q", "-w", ...keys.map((k) => `${k}=1`)]);
    try {
      const p = await probe(["r1", "r2", "r4", "r6"], 1000);
      assert.equal(p.arrived, false);
      // Out through r4 (from r2: the reverse path to h1 is via r2, fine), back from r6: refused.
      assert.deepEqual(p.forwarded, { r1: 0, r2: 1, r3: 0, r4: 1, r5: 0, r6: 1 });
    } finally {
      await lab.exec("r4", ["sysctl", "-q", "-w", ...keys.map((k) => `${k}=0`)]);
    }
  });

  test("link r2-r4 down: the probe pinned to it is lost, the one over r1-r3-r4-r6 still arrives", async () => {
    await lab.linkDown("r2", "r4");
    await lab.installRoutes();
    try {
      const lost = await probe(["r1", "r2", "r4", "r6"], 1000);
      assert.equal(lost.arrived, false, "arrived over a down link");
      assert.deepEqual(lost.forwarded, { r1: 0, r2: 0, r3: 0, r4: 0, r5: 0, r6: 0 });
      assert.ok((lost.after.r2.dropped["send-ENETUNREACH"] ?? 0) >= 1, `r2 should have no route to r4's address: ${JSON.stringify(lost.after.r2)}`);
      const other = await probe(["r1", "r3", "r4", "r6"], 3000);
      assert.ok(other.arrived, "r1-r3-r4-r6 did not come back");
      assert.deepEqual(other.forwarded, { r1: 1, r2: 0, r3: 2, r4: 2, r5: 0, r6: 1 });
      // The IGP view moved too: r1 reaches r4's loopback only via r3 now.
      const r = await lab.exec("r1", ["ip", "-j", "route", "show", "198.19.0.4/32"]);
      const route = (JSON.parse(r.stdout) as Array<{ gateway?: string; nexthops?: unknown[] }>)[0];
      assert.equal(route.gateway, lab.addressOn("r3", "r1"));
      assert.equal(route.nexthops, undefined);
    } finally {
      await lab.linkUp("r2", "r4");
      await lab.installRoutes();
    }
    assert.ok((await probe(["r1", "r2", "r4", "r6"], 3000)).arrived, "link r2-r4 back up, probe still lost");
  });

  test("RawSocket: typed send errors inside the lab (no route, bad arguments, closed socket)", async () => {
    const script = `
      const [mod] = process.argv.slice(1);
      const { RawSocket, RawSocketError } = await import(mod);
      const s = RawSocket.open({ protocol: 255 });
      const pkt = Buffer.alloc(28); pkt[0] = 0x45; pkt[9] = 17; pkt.set([198, 18, 255, 9], 16);
      const out = {};
      s.send(pkt, "198.18.255.9", (err) => { out.noRoute = err && [err instanceof RawSocketError, err.code, err.syscall]; });
      try { s.send(pkt, "not-an-address"); } catch (e) { out.badDst = e.constructor.name; }
      try { s.sendFrom(pkt, 20, 9, "198.18.255.9"); } catch (e) { out.badRange = e.constructor.name; }
      s.close();
      s.send(pkt, "198.18.255.9", (err) => { out.closed = err && err.code; });
      console.log(JSON.stringify(out));
    `;
    const r = await lab.exec("r3", [NODE, "--input-type=module", "-e", script, RAWSOCK]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { noRoute: [true, "ENETUNREACH", "sendto"], badDst: "TypeError", badRange: "RangeError", closed: "ERR_SOCKET_CLOSED" });
  });

  test("RawSocket: without CAP_NET_RAW, open() says which capability and how to grant it", async () => {
    const script = `
      const [mod] = process.argv.slice(1);
      const { RawSocket } = await import(mod);
      try { RawSocket.open({ protocol: 47 }); console.log("opened"); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }
    `;
    const r = await lab.exec("h1", ["setpriv", "--inh-caps=-all", "--bounding-set=-net_raw", NODE, "--input-type=module", "-e", script, RAWSOCK]);
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(r.stdout) as { name: string; code: string; message: string };
    assert.equal(e.name, "RawSocketPermissionError");
    assert.equal(e.code, "EPERM");
    assert.match(e.message, /CAP_NET_RAW/);
    assert.match(e.message, /setcap cap_net_raw\+ep \$\(readlink -f \$\(which node\)\)/);
    assert.match(e.message, /AmbientCapabilities=CAP_NET_RAW/);
    assert.match(e.message, /root/);
  });

  test("destroy() stops every helper and child and deletes every namespace; twice is fine", async () => {
    const pids = lab.helperPids();
    assert.equal(pids.length, 6);
    const recvPid = receiver.pid!;
    await lab.destroy();
    await lab.destroy();
    assert.deepEqual(netnsWithPrefix(lab.prefix), []);
    assert.deepEqual(await waitDead([...pids, recvPid], 1000), []);
    // The helpers exited on SIGTERM with their final counters.
    const final = lab.finalDecapCounters();
    assert.deepEqual(Object.keys(final).sort(), ["r1", "r2", "r3", "r4", "r5", "r6"]);
    assert.ok(final.r2.forwarded > 0);
  });
});

describe("lab teardown when the lab's process fails", { skip }, () => {
  const CHILD = `
    const [mod, mode] = process.argv.slice(1);
    const { Lab, nanogLab } = await import(mod);
    const lab = await Lab.create(nanogLab(), { prefix: "lspc-", decap: "userspace" });
    console.log(JSON.stringify({ prefix: lab.prefix, pids: lab.helperPids() }));
    if (mode === "throw") { await new Promise((r) => setTimeout(r, 50)); throw new Error("a test failing midway (on purpose)"); }
    setInterval(() => {}, 1000);
  `;

  async function startChild(mode: string): Promise<{ child: ChildProcess; info: { prefix: string; pids: number[] }; exit: Promise<unknown[]> }> {
    const child = spawn(NODE, ["--input-type=module", "-e", CHILD, NETNS, mode], { stdio: ["ignore", "pipe", "pipe"] });
    const exit = once(child, "exit");
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const line = await new Lines(child.stdout!).next(20_000);
    assert.ok(line, `child lab did not start: ${stderr}`);
    const info = JSON.parse(line) as { prefix: string; pids: number[] };
    assert.equal(info.pids.length, 6);
    return { child, info, exit };
  }

  after(async () => {
    await Lab.cleanupStale("lspc-");
  });

  test("an uncaught error: the exit handler removes namespaces and helpers", async () => {
    const { info, exit } = await startChild("throw");
    const [code] = await exit;
    assert.equal(code, 1);
    assert.deepEqual(netnsWithPrefix(info.prefix), []);
    assert.deepEqual(await waitDead(info.pids, 1000), []);
  });

  test("SIGTERM: cleaned up, then the process dies of the signal", async () => {
    const { child, info, exit } = await startChild("wait");
    child.kill("SIGTERM");
    const [code, signal] = await exit;
    assert.deepEqual([code, signal], [null, "SIGTERM"]);
    assert.deepEqual(netnsWithPrefix(info.prefix), []);
    assert.deepEqual(await waitDead(info.pids, 1000), []);
  });

  test("SIGKILL: helpers exit on their own, Lab.cleanupStale() removes the namespaces", async () => {
    const { child, info, exit } = await startChild("wait");
    child.kill("SIGKILL");
    await exit;
    assert.deepEqual(await waitDead(info.pids, 3000), [], "decap helpers outlived their lab process");
    const left = netnsWithPrefix(info.prefix);
    assert.equal(left.length, 7);
    assert.deepEqual((await Lab.cleanupStale("lspc-")).sort(), left.sort());
    assert.deepEqual(netnsWithPrefix(info.prefix), []);
  });
});
