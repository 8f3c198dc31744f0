// The lab routers' userspace GRE and IP-in-IP decapsulator, IPv4 and IPv6: the shell around
// decap.ts.
//
//   ip netns exec NS node dist/test/lab/decap-main.js [--name r2] [--family ipv4|ipv6|dual]
//                                                      [--dev lo --dev e0-r1 ...]
//
// IPv4 (--family ipv4, the default, or dual): receives every GRE and every IP-in-IP packet
// addressed to the namespace (one raw socket for protocol 47, one for protocol 4), checks and
// strips outer IPv4 + GRE, or the outer IPv4 header of IP-in-IP (decapInto), and re-sends the
// inner packet unchanged through an IPPROTO_RAW (IP_HDRINCL) socket to the inner destination, so
// the kernel routes it on the inner header. Nothing is decremented.
//
// IPv6 (--family ipv6 or dual): GRE over IPv6 (next header 47, GRE 0x86DD or 0x0800 inside),
// IPv6-in-IPv6 (41) and IPv4-in-IPv6 (4), addressed to any of the router's IPv6 addresses. An
// AF_INET6 raw socket hands the packet over without its IPv6 header (and raw-socket reads with
// recvfrom, so no IPV6_PKTINFO either): the kernel has checked that header and that the packet is
// for this router, but which link it came over would be lost. So there is one socket per
// interface and protocol, bound to it (SO_BINDTODEVICE; --dev, every interface of the router and
// lo), and the socket says the ingress link. decap6Into strips GRE (or nothing, for 41 and 4) and
// the inner packet, IPv6 or IPv4, goes out through the AF_INET6 (IPv4: AF_INET) IPPROTO_RAW
// socket to its own destination, as over IPv4.
//
// Control, for netns.ts:
//   stdout  one line `{"ready":true,...}` once all sockets are open; then one counters line
//           per "counters" command
//   stdin   "counters\n": print the counters (JSON) on stdout. End of stdin (the lab process is
//           gone, even if SIGKILLed): print the counters on stderr and exit 0
//           "fault ADDR LOSS DELAY_MS\n": data-plane fault on what arrives encapsulated in IPv4
//           (GRE or IP-in-IP) for ADDR (this router's IPv4 address on one link: the link's
//           direction into this router): drop a LOSS share (0..1) at random, delay the rest by
//           DELAY_MS. "fault ADDR 0 0" or "clear\n" (all, both families) removes it. Answers "ok".
//           This kernel has no netem and no tc drop actions, so the lab's gray failures and
//           delays live here: they hit the probes (GRE, IP-in-IP) and nothing else.
//           "fault6 DEV LOSS DELAY_MS\n": the same for what arrives encapsulated in IPv6 over
//           interface DEV (the link's direction into this router). Answers "ok".
//           "decap off [ipv4|ipv6]\n" / "decap on [ipv4|ipv6]\n": stop (or resume) decapsulating
//           (one outer family, or both): every such tunnel packet for the router is then dropped
//           and counted ("decap-off"), as by a router without decapsulation configured. "ok".
//   SIGTERM, SIGINT: print the counters on stderr (one JSON line) and exit 0
// Per packet, this file and decap.ts allocate nothing (one reused slot, caches of destination
// strings, pre-bound send callbacks and per-socket listeners, counters in typed arrays);
// raw-socket itself still makes a Buffer view and a source-address string for every packet it
// receives.
//
// Counters: {"decap": name, "received", "forwarded", "dropped": {reason: n}, "delayed"}, and with
// IPv6 on, "ipv6": {"received", "forwarded"}, the share of those whose outer header was IPv6.
// Reasons from DROP_REASONS plus "send-<ERRNO>" when the kernel refuses the inner packet (e.g.
// send-ENETUNREACH when the router has no route for it).

import { createInterface } from "node:readline";
import { RawSocket, IPPROTO_GRE, IPPROTO_RAW, RawSocketError } from "../../prober/rawsock.js";
import { IPPROTO_IPIP, IPPROTO_IPV6 } from "../../prober/packet/ipv4.js";
import { IPV6_ADDRESS_LENGTH, bytesToIpv6 } from "../../prober/packet/ipv6.js";
import { DROP_REASONS, decap6Into, decapInto, ipv4ToString, newDecap6Slot, newDecapSlot } from "./decap.js";

interface Counters {
  decap: string;
  received: number;
  forwarded: number;
  dropped: Record<string, number>;
  delayed: number;
  ipv6?: { received: number; forwarded: number };
}

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function argValues(flag: string): string[] {
  return process.argv.flatMap((a, i) => (a === flag && i + 1 < process.argv.length ? [process.argv[i + 1]] : []));
}

const name = argValue("--name") ?? `pid-${process.pid}`;
const family = argValue("--family") ?? "ipv4";
if (family !== "ipv4" && family !== "ipv6" && family !== "dual") {
  process.stderr.write(`decap ${name}: --family ${family}: expected ipv4, ipv6 or dual\n`);
  process.exit(2);
}
const v4 = family !== "ipv6";
const v6 = family !== "ipv4";
const devices = argValues("--dev");
if (v6 && devices.length === 0) {
  process.stderr.write(`decap ${name}: IPv6 needs the interfaces to receive on (--dev NAME, repeated)\n`);
  process.exit(2);
}
/** Outer next headers taken over IPv6: GRE, IPv6-in-IPv6, IPv4-in-IPv6. */
const PROTOCOLS6 = [IPPROTO_GRE, IPPROTO_IPV6, IPPROTO_IPIP];

const inbound: RawSocket[] = [];
/** Per IPv6 socket: its interface's index in `devices`. */
const inbound6: Array<{ sock: RawSocket; dev: number; protocol: number }> = [];
let outbound: RawSocket;
let outbound6: RawSocket | undefined;
try {
  if (v4) {
    inbound.push(RawSocket.open({ protocol: IPPROTO_GRE, bufferSize: 65535, receiveBufferSize: 1 << 20 }));
    inbound.push(RawSocket.open({ protocol: IPPROTO_IPIP, bufferSize: 65535, receiveBufferSize: 1 << 20 }));
  }
  // IPv4 inner packets come out of IPv6 tunnels too: the IPv4 send socket is always there.
  outbound = RawSocket.open({ protocol: IPPROTO_RAW, sendBufferSize: 1 << 20 });
  if (v6) {
    devices.forEach((device, dev) => {
      for (const protocol of PROTOCOLS6) inbound6.push({ sock: RawSocket.open({ family: "ipv6", protocol, device, bufferSize: 65535, receiveBufferSize: 1 << 19 }), dev, protocol });
    });
    outbound6 = RawSocket.open({ family: "ipv6", protocol: IPPROTO_RAW, sendBufferSize: 1 << 20 });
  }
} catch (e) {
  process.stderr.write(`decap ${name}: ${(e as Error).message}\n`);
  process.exit(1);
}

// ---- hot path: no allocation per forwarded packet ----
let received = 0;
let forwarded = 0;
let received6 = 0;
let forwarded6 = 0;
const dropCodes = new Float64Array(DROP_REASONS.length);
const sendErrors = new Map<string, number>();
const slot = newDecapSlot();
const slot6 = newDecap6Slot();
const dstCache = new Map<number, string>();

function dstString(n: number): string {
  let s = dstCache.get(n);
  if (s === undefined) {
    s = ipv4ToString(n);
    if (dstCache.size < 65536) dstCache.set(n, s);
  }
  return s;
}

// IPv6 destinations: cached under their last 32 bits, the whole 16 bytes compared on a hit.
const dst6Cache = new Map<number, { bytes: Buffer; text: string }>();

function dst6String(buf: Buffer, off: number): string {
  const key = buf.readUInt32BE(off + 12);
  const e = dst6Cache.get(key);
  if (e !== undefined && buf.compare(e.bytes, 0, IPV6_ADDRESS_LENGTH, off, off + IPV6_ADDRESS_LENGTH) === 0) return e.text;
  const text = bytesToIpv6(buf, off);
  if (dst6Cache.size < 65536 || e !== undefined) dst6Cache.set(key, { bytes: Buffer.from(buf.subarray(off, off + IPV6_ADDRESS_LENGTH)), text });
  return text;
}

function countSendError(err: RawSocketError): void {
  sendErrors.set(err.code, (sendErrors.get(err.code) ?? 0) + 1);
}

function onSent(err?: RawSocketError): void {
  if (err) countSendError(err);
  else forwarded++;
}

function onSent6(err?: RawSocketError): void {
  if (err) countSendError(err);
  else {
    forwarded++;
    forwarded6++;
  }
}

// Faults by outer IPv4 destination (uint32): the link direction the packet arrived over.
const faults = new Map<number, { loss: number; delayMs: number }>();
// IPv6 faults by ingress interface (index in `devices`).
const faults6: Array<{ loss: number; delayMs: number } | undefined> = devices.map(() => undefined);
let faultDropped = 0;
let decapOff = false;
let decapOff6 = false;
let decapOffDropped = 0;
let delayed = 0;

function onPacket(buf: Buffer): void {
  received++;
  if (decapOff) {
    decapOffDropped++;
    return;
  }
  const code = decapInto(buf, slot);
  if (code !== 0) {
    dropCodes[code]++;
    return;
  }
  if (faults.size > 0) {
    const f = faults.get(buf.readUInt32BE(16)); // outer IPv4 destination
    if (f !== undefined) {
      if (f.loss > 0 && Math.random() < f.loss) {
        faultDropped++;
        return;
      }
      if (f.delayMs > 0) {
        const copy = Buffer.from(buf.subarray(slot.offset, slot.offset + slot.length));
        const dst = dstString(slot.dst);
        delayed++;
        setTimeout(() => outbound.send(copy, dst, onSent), f.delayMs);
        return;
      }
    }
  }
  outbound.sendFrom(buf, slot.offset, slot.length, dstString(slot.dst), onSent);
}

/** The inner packet of an outer IPv6 packet, sent on its own family's socket. */
function send6(buf: Buffer): void {
  if (slot6.family === 6) outbound6!.sendFrom(buf, slot6.offset, slot6.length, dst6String(buf, slot6.dst6), onSent6);
  else outbound.sendFrom(buf, slot6.offset, slot6.length, dstString(slot6.dst), onSent6);
}

function onPacket6(buf: Buffer, protocol: number, dev: number): void {
  received++;
  received6++;
  if (decapOff6) {
    decapOffDropped++;
    return;
  }
  const code = decap6Into(buf, slot6, protocol);
  if (code !== 0) {
    dropCodes[code]++;
    return;
  }
  const f = faults6[dev];
  if (f !== undefined) {
    if (f.loss > 0 && Math.random() < f.loss) {
      faultDropped++;
      return;
    }
    if (f.delayMs > 0) {
      const copy = Buffer.from(buf.subarray(slot6.offset, slot6.offset + slot6.length));
      const [fam, dst] = slot6.family === 6 ? [6, dst6String(copy, slot6.dst6 - slot6.offset)] : [4, dstString(slot6.dst)];
      delayed++;
      setTimeout(() => (fam === 6 ? outbound6! : outbound).send(copy, dst, onSent6), f.delayMs);
      return;
    }
  }
  send6(buf);
}

function onReceiveError(err: RawSocketError): void {
  sendErrors.set(`recv-${err.code}`, (sendErrors.get(`recv-${err.code}`) ?? 0) + 1);
}
for (const s of inbound) {
  s.on("message", onPacket);
  s.on("error", onReceiveError);
}
for (const { sock, dev, protocol } of inbound6) {
  sock.on("message", (buf: Buffer) => onPacket6(buf, protocol, dev));
  sock.on("error", onReceiveError);
}

// ---- control ----
function counters(): Counters {
  const dropped: Record<string, number> = {};
  for (let i = 1; i < DROP_REASONS.length; i++) if (dropCodes[i] > 0) dropped[DROP_REASONS[i]] = dropCodes[i];
  for (const [code, n] of sendErrors) dropped[code.startsWith("recv-") ? code : `send-${code}`] = n;
  if (faultDropped > 0) dropped.fault = faultDropped;
  if (decapOffDropped > 0) dropped["decap-off"] = decapOffDropped;
  const c: Counters = { decap: name, received, forwarded, dropped, delayed };
  if (v6) c.ipv6 = { received: received6, forwarded: forwarded6 };
  return c;
}

let exiting = false;
function finish(why: string): void {
  if (exiting) return;
  exiting = true;
  for (const s of inbound) s.close();
  for (const { sock } of inbound6) sock.close();
  outbound.close();
  outbound6?.close();
  process.stderr.write(`${JSON.stringify({ ...counters(), exit: why })}\n`);
  process.exit(0);
}

process.on("SIGTERM", () => finish("SIGTERM"));
process.on("SIGINT", () => finish("SIGINT"));
const rl = createInterface({ input: process.stdin });
function ipv4ToU32(a: string): number {
  const o = a.split(".").map(Number);
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

rl.on("line", (line) => {
  const words = line.trim().split(/\s+/);
  if (words[0] === "counters") process.stdout.write(`${JSON.stringify(counters())}\n`);
  else if (words[0] === "clear") {
    faults.clear();
    faults6.fill(undefined);
    process.stdout.write("ok\n");
  } else if (words[0] === "decap" && (words[1] === "on" || words[1] === "off") && (words.length === 2 || words[2] === "ipv4" || words[2] === "ipv6")) {
    const off = words[1] === "off";
    if (words[2] !== "ipv6") decapOff = off;
    if (words[2] !== "ipv4") decapOff6 = off;
    process.stdout.write("ok\n");
  } else if (words[0] === "fault" && words.length === 4) {
    const [addr, loss, delayMs] = [ipv4ToU32(words[1]), Number(words[2]), Number(words[3])];
    if (loss === 0 && delayMs === 0) faults.delete(addr);
    else faults.set(addr, { loss, delayMs });
    process.stdout.write("ok\n");
  } else if (words[0] === "fault6" && words.length === 4) {
    const dev = devices.indexOf(words[1]);
    const [loss, delayMs] = [Number(words[2]), Number(words[3])];
    if (dev < 0) process.stdout.write(`error: no interface ${words[1]}\n`);
    else {
      faults6[dev] = loss === 0 && delayMs === 0 ? undefined : { loss, delayMs };
      process.stdout.write("ok\n");
    }
  }
});
rl.on("close", () => finish("stdin closed"));

process.stdout.write(`${JSON.stringify({ ready: true, decap: name, pid: process.pid, family, devices: v6 ? devices : [] })}\n`);
