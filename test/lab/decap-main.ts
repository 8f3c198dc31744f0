// The lab routers' userspace GRE and IP-in-IP decapsulator, IPv4 and IPv6: the shell around
// decap.ts.
//
//   ip netns exec NS node dist/test/lab/decap-main.js [--name r2] [--family ipv4|ipv6|dual|none]
//                                                      [--dev lo --dev e0-r1 ...] [--mpls JSON] [--srv6 JSON]
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
//
// SR-MPLS (--mpls JSON, a MplsRouterConfig from netns.ts: the router's Adj-SIDs and addresses):
// the userspace label switcher of mpls.ts. MPLS-in-UDP (RFC 7510: one UDP socket on port 6635 per
// router address, so the socket says the link direction, as the outer destination does for GRE)
// and MPLS-in-GRE (GRE protocol 0x8847, plain 4-byte GRE, over IPv4 or IPv6: the GRE raw sockets
// above) addressed to the router: the top label popped (switchInto), the packet forwarded on the
// adjacency the label names. The rest of the stack goes to the neighbour's address on that link
// in the encapsulation and family it came in (UDP: from the router's own link address, port
// 6635 both ends; GRE: an outer header written in front of the stack, TTL 64); an inner IP packet
// (bottom of stack) goes out through an IPPROTO_RAW socket bound to the adjacency's interface
// (SO_BINDTODEVICE), which a policy rule of netns.ts (`oif DEV lookup TABLE`: a default route via
// the neighbour) sends to that neighbour whatever the inner destination. Faults apply as to the
// tunnels: "fault ADDR" to what arrives for that IPv4 address, "fault6 DEV" to what arrives for
// the router's IPv6 address on DEV (UDP) or over DEV (GRE). Counters: "mpls": {"received",
// "forwarded"} beside the decapsulator's (which MPLS packets do not touch), drops by
// MPLS_DROP_REASONS (plus "mpls-no-ipv4"/"mpls-no-ipv6": an inner family the router has no
// adjacency address for) in "dropped".
// SRv6 (--srv6 JSON, a Srv6RouterConfig from netns.ts, on kernels without seg6local): End.X in
// userspace (srv6.ts, its shell srv6-forwarder.ts). Counters: "srv6": {"received", "forwarded"},
// drops by SRV6_DROP_REASONS in "dropped". Its faults are netns.ts's qdisc, not this helper's.
// Per packet, this file and decap.ts allocate nothing (one reused slot, caches of destination
// strings, pre-bound send callbacks and per-socket listeners, counters in typed arrays);
// raw-socket itself still makes a Buffer view and a source-address string for every packet it
// receives.
//
// Counters: {"decap": name, "received", "forwarded", "dropped": {reason: n}, "delayed"}, and with
// IPv6 on, "ipv6": {"received", "forwarded"}, the share of those whose outer header was IPv6.
// Reasons from DROP_REASONS plus "send-<ERRNO>" when the kernel refuses the inner packet (e.g.
// send-ENETUNREACH when the router has no route for it).

import dgram from "node:dgram";
import { createInterface } from "node:readline";
import { RawSocket, IPPROTO_GRE, IPPROTO_RAW, RawSocketError } from "../../prober/rawsock.js";
import { IPPROTO_IPIP, IPPROTO_IPV6 } from "../../prober/packet/ipv4.js";
import { IPV6_ADDRESS_LENGTH, bytesToIpv6, ipv6ToBytes } from "../../prober/packet/ipv6.js";
import { DROP_REASONS, decap6Into, decapInto, ipv4ToString, newDecap6Slot, newDecapSlot } from "./decap.js";
import { GRE_PROTOCOL_MPLS, MPLS_DROP_REASONS, MPLS_UDP_PORT, labelTable, newMplsSlot, switchInto, type MplsRouterConfig } from "./mpls.js";
import { Srv6Forwarder, parseSrv6Config, type Srv6Counters } from "./srv6-forwarder.js";

interface Counters {
  decap: string;
  received: number;
  forwarded: number;
  dropped: Record<string, number>;
  delayed: number;
  ipv6?: { received: number; forwarded: number };
  mpls?: { received: number; forwarded: number };
  srv6?: { received: number; forwarded: number };
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
if (family !== "ipv4" && family !== "ipv6" && family !== "dual" && family !== "none") {
  process.stderr.write(`decap ${name}: --family ${family}: expected ipv4, ipv6, dual or none (MPLS or SRv6 only)\n`);
  process.exit(2);
}
const v4 = family === "ipv4" || family === "dual";
const v6 = family === "ipv6" || family === "dual";
const devices = argValues("--dev");
let mpls: MplsRouterConfig | undefined;
let labels = new Map<number, number>();
try {
  const m = argValue("--mpls");
  if (m !== undefined) {
    mpls = JSON.parse(m) as MplsRouterConfig;
    labels = labelTable(mpls);
    for (const l of mpls.listen6) if (!devices.includes(l.dev)) throw new Error(`listen6 ${l.address}: its interface ${l.dev} is not one of the --dev interfaces`);
  }
} catch (e) {
  process.stderr.write(`decap ${name}: --mpls: ${(e as Error).message}\n`);
  process.exit(2);
}
let srv6Arg: ReturnType<typeof parseSrv6Config> | undefined;
try {
  const a = argValue("--srv6");
  if (a !== undefined) srv6Arg = parseSrv6Config(a);
} catch (e) {
  process.stderr.write(`decap ${name}: --srv6: ${(e as Error).message}\n`);
  process.exit(2);
}
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
/** MPLS bottom of stack: per adjacency, IPPROTO_RAW sockets bound to its interface. */
const bos4: Array<RawSocket | undefined> = [];
const bos6: Array<RawSocket | undefined> = [];
let srv6: Srv6Forwarder | undefined;
try {
  if (srv6Arg !== undefined) srv6 = new Srv6Forwarder(srv6Arg.config, srv6Arg.table);
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
  if (mpls !== undefined) {
    // Bottom-of-stack sends, one per adjacency and family, bound to the adjacency's interface.
    for (const a of mpls.adjacencies) {
      bos4.push(mpls.listen.length > 0 ? RawSocket.open({ protocol: IPPROTO_RAW, device: a.dev, sendBufferSize: 1 << 19 }) : undefined);
      bos6.push(mpls.listen6.length > 0 ? RawSocket.open({ family: "ipv6", protocol: IPPROTO_RAW, device: a.dev, sendBufferSize: 1 << 19 }) : undefined);
    }
    // MPLS-in-GRE over IPv6 is sent through outbound6, IPv6 GRE needs no inbound socket of its own.
    if (outbound6 === undefined && mpls.listen6.length > 0) outbound6 = RawSocket.open({ family: "ipv6", protocol: IPPROTO_RAW, sendBufferSize: 1 << 20 });
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
  if (mpls !== undefined && isMplsGre4(buf)) return onMplsGre4(buf);
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
  if (mpls !== undefined && protocol === IPPROTO_GRE && buf.length >= GRE_HEADER && buf.readUInt16BE(0) === 0 && buf.readUInt16BE(2) === GRE_PROTOCOL_MPLS) return onMplsGre6(buf, dev);
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

// ---- SR-MPLS label switching (mpls.ts); per packet: no allocation but dgram's own ----
const GRE_HEADER = 4;
let mplsReceived = 0;
let mplsForwarded = 0;
const mplsDrops = new Float64Array(MPLS_DROP_REASONS.length);
let mplsNoFamily4 = 0;
let mplsNoFamily6 = 0;
const mslot = newMplsSlot();
/** Per adjacency: the UDP sockets bound to the router's own address on the link (send side). */
const udp4: Array<dgram.Socket | undefined> = [];
const udp6: Array<dgram.Socket | undefined> = [];
/** Per adjacency: addresses as uint32 / 16 bytes, for the GRE headers written in front of a stack. */
const local4: number[] = [];
const nexthop4: number[] = [];
const local6: Buffer[] = [];
const nexthop6: Buffer[] = [];
/** IPv6 GRE out: IPv6 header + GRE + the rest of the stack, written here (the raw socket's buffer has no room in front). */
const scratch6 = Buffer.allocUnsafe(65536 + 44);

function onMplsSent(err?: Error | null | RawSocketError): void {
  if (err) countSendError(err as RawSocketError);
  else mplsForwarded++;
}

function isMplsGre4(buf: Buffer): boolean {
  if (buf.length < 28 || buf[9] !== IPPROTO_GRE || buf[0] >>> 4 !== 4) return false;
  const ihl = (buf[0] & 0x0f) * 4;
  return ihl >= 20 && buf.length >= ihl + GRE_HEADER && buf.readUInt16BE(ihl) === 0 && buf.readUInt16BE(ihl + 2) === GRE_PROTOCOL_MPLS;
}

type Fault = { loss: number; delayMs: number } | undefined;

/** Whether a fault drops the packet; counts it. */
function faultDrops(f: Fault): boolean {
  if (f !== undefined && f.loss > 0 && Math.random() < f.loss) {
    faultDropped++;
    return true;
  }
  return false;
}

/** The inner IP packet of a bottom-of-stack pop, out on the adjacency's interface. */
function sendBos(buf: Buffer, offset: number, length: number, fam: number, adjacency: number, dst: string): void {
  const sock = fam === 4 ? bos4[adjacency] : bos6[adjacency];
  if (sock === undefined) {
    if (fam === 4) mplsNoFamily4++;
    else mplsNoFamily6++;
    return;
  }
  sock.sendFrom(buf, offset, length, dst, onMplsSent);
}

function bosDst(buf: Buffer): string {
  return mslot.family === 4 ? dstString(mslot.dst) : dst6String(buf, mslot.dst6);
}

/** MPLS-in-UDP arriving on the socket for one router address (fault key: IPv4 address or IPv6 interface index). */
function onMplsUdp(msg: Buffer, is6: boolean, key: number): void {
  mplsReceived++;
  const code = switchInto(msg, labels, mslot);
  if (code !== 0) {
    mplsDrops[code]++;
    return;
  }
  const f = is6 ? faults6[key] : faults.get(key);
  if (faultDrops(f)) return;
  const { adjacency, offset, length } = mslot;
  if (mslot.bos) {
    const [fam, dst] = [mslot.family, bosDst(msg)];
    if (f !== undefined && f.delayMs > 0) {
      delayed++;
      setTimeout(() => sendBos(msg, offset, length, fam, adjacency, dst), f.delayMs);
    } else sendBos(msg, offset, length, fam, adjacency, dst);
    return;
  }
  const sock = is6 ? udp6[adjacency] : udp4[adjacency];
  const a = mpls!.adjacencies[adjacency];
  if (sock === undefined) {
    if (is6) mplsNoFamily6++;
    else mplsNoFamily4++;
    return;
  }
  const send = (): void => sock.send(msg, offset, length, MPLS_UDP_PORT, is6 ? a.nexthop6 : a.nexthop, onMplsSent);
  if (f !== undefined && f.delayMs > 0) {
    delayed++;
    setTimeout(send, f.delayMs);
  } else send();
}

/** The rest of the stack at buf[off, off + len) out as MPLS-in-GRE over IPv4, the outer header written in front of it (off >= 24). */
function sendGre4(buf: Buffer, off: number, len: number, adjacency: number): void {
  const h = off - 24;
  buf[h] = 0x45;
  buf[h + 1] = 0;
  buf.writeUInt16BE(24 + len, h + 2);
  buf.writeUInt32BE(0, h + 4); // id 0, no flags: the lab's links have room
  buf[h + 8] = 64;
  buf[h + 9] = IPPROTO_GRE;
  buf.writeUInt16BE(0, h + 10);
  buf.writeUInt32BE(local4[adjacency], h + 12);
  buf.writeUInt32BE(nexthop4[adjacency], h + 16);
  let sum = 0;
  for (let i = h; i < h + 20; i += 2) sum += buf.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  buf.writeUInt16BE(~sum & 0xffff, h + 10);
  buf.writeUInt16BE(0, h + 20);
  buf.writeUInt16BE(GRE_PROTOCOL_MPLS, h + 22);
  outbound.sendFrom(buf, h, 24 + len, mpls!.adjacencies[adjacency].nexthop, onMplsSent);
}

function onMplsGre4(buf: Buffer): void {
  mplsReceived++;
  const ihl = (buf[0] & 0x0f) * 4;
  const total = Math.min(buf.readUInt16BE(2), buf.length);
  const code = switchInto(buf, labels, mslot, ihl + GRE_HEADER, total);
  if (code !== 0) {
    mplsDrops[code]++;
    return;
  }
  const f = faults.get(buf.readUInt32BE(16)); // outer IPv4 destination: the link direction
  if (faultDrops(f)) return;
  const { adjacency, offset, length, bos } = mslot;
  const dst = bos ? bosDst(buf) : "";
  const fam = mslot.family;
  const go = (b: Buffer, o: number): void => (bos ? sendBos(b, o, length, fam, adjacency, dst) : local4.length > 0 && mpls!.listen.length > 0 ? sendGre4(b, o, length, adjacency) : void mplsNoFamily4++);
  if (f !== undefined && f.delayMs > 0) {
    // The raw socket's buffer is reused: keep a copy with room for the outer header.
    const copy = Buffer.alloc(24 + length);
    buf.copy(copy, 24, offset, offset + length);
    delayed++;
    setTimeout(() => go(copy, 24), f.delayMs);
  } else go(buf, offset);
}

/** The rest of the stack out as MPLS-in-GRE over IPv6 (built in scratch6). */
function sendGre6(buf: Buffer, off: number, len: number, adjacency: number): void {
  if (outbound6 === undefined) {
    mplsNoFamily6++;
    return;
  }
  scratch6.writeUInt32BE(0x60000000, 0);
  scratch6.writeUInt16BE(GRE_HEADER + len, 4);
  scratch6[6] = IPPROTO_GRE;
  scratch6[7] = 64;
  local6[adjacency].copy(scratch6, 8);
  nexthop6[adjacency].copy(scratch6, 24);
  scratch6.writeUInt16BE(0, 40);
  scratch6.writeUInt16BE(GRE_PROTOCOL_MPLS, 42);
  buf.copy(scratch6, 44, off, off + len);
  outbound6.sendFrom(scratch6, 0, 44 + len, mpls!.adjacencies[adjacency].nexthop6, onMplsSent);
}

/** MPLS-in-GRE over IPv6 (buf starts at the GRE header), received over interface `dev`. */
function onMplsGre6(buf: Buffer, dev: number): void {
  mplsReceived++;
  const code = switchInto(buf, labels, mslot, GRE_HEADER, buf.length);
  if (code !== 0) {
    mplsDrops[code]++;
    return;
  }
  const f = faults6[dev];
  if (faultDrops(f)) return;
  const { adjacency, offset, length, bos } = mslot;
  const dst = bos ? bosDst(buf) : "";
  const fam = mslot.family;
  const go = (b: Buffer, o: number): void => (bos ? sendBos(b, o, length, fam, adjacency, dst) : sendGre6(b, o, length, adjacency));
  if (f !== undefined && f.delayMs > 0) {
    const copy = Buffer.from(buf.subarray(offset, offset + length));
    delayed++;
    setTimeout(() => go(copy, 0), f.delayMs);
  } else go(buf, offset);
}

/** Opens the MPLS-in-UDP sockets; resolves when all are bound. */
function openMpls(c: MplsRouterConfig): Promise<void> {
  const waits: Array<Promise<void>> = [];
  const bind = (type: "udp4" | "udp6", address: string, onMsg: (m: Buffer) => void): dgram.Socket => {
    const s = dgram.createSocket({ type, reuseAddr: false });
    s.on("message", onMsg);
    s.on("error", (e: NodeJS.ErrnoException) => sendErrors.set(`udp-${e.code ?? "error"}`, (sendErrors.get(`udp-${e.code ?? "error"}`) ?? 0) + 1));
    waits.push(
      new Promise((resolve, reject) => {
        const fail = (e: Error): void => reject(new Error(`bind ${address} port ${MPLS_UDP_PORT}: ${e.message}`));
        s.once("error", fail);
        s.bind({ address, port: MPLS_UDP_PORT, exclusive: true }, () => {
          s.removeListener("error", fail);
          resolve();
        });
      }),
    );
    mplsSockets.push(s);
    return s;
  };
  const by4 = new Map<string, dgram.Socket>();
  const by6 = new Map<string, dgram.Socket>();
  for (const address of c.listen) {
    const key = ipv4ToU32(address);
    by4.set(address, bind("udp4", address, (m) => onMplsUdp(m, false, key)));
  }
  for (const { address, dev } of c.listen6) {
    const key = devices.indexOf(dev);
    by6.set(address, bind("udp6", address, (m) => onMplsUdp(m, true, key)));
  }
  for (const a of c.adjacencies) {
    udp4.push(by4.get(a.local));
    udp6.push(by6.get(a.local6));
    local4.push(c.listen.length > 0 ? ipv4ToU32(a.local) : 0);
    nexthop4.push(c.listen.length > 0 ? ipv4ToU32(a.nexthop) : 0);
    local6.push(Buffer.from(ipv6ToBytes(a.local6)));
    nexthop6.push(Buffer.from(ipv6ToBytes(a.nexthop6)));
  }
  return Promise.all(waits).then(() => undefined);
}
const mplsSockets: dgram.Socket[] = [];

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
  for (let i = 1; i < MPLS_DROP_REASONS.length; i++) if (mplsDrops[i] > 0) dropped[MPLS_DROP_REASONS[i]] = mplsDrops[i];
  if (mplsNoFamily4 > 0) dropped["mpls-no-ipv4"] = mplsNoFamily4;
  if (mplsNoFamily6 > 0) dropped["mpls-no-ipv6"] = mplsNoFamily6;
  const c: Counters = { decap: name, received, forwarded, dropped, delayed };
  if (v6) c.ipv6 = { received: received6, forwarded: forwarded6 };
  if (mpls !== undefined) c.mpls = { received: mplsReceived, forwarded: mplsForwarded };
  if (srv6 !== undefined) {
    const s: Srv6Counters = srv6.counters();
    Object.assign(dropped, s.dropped);
    c.srv6 = { received: s.received, forwarded: s.forwarded };
  }
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
  for (const x of [...bos4, ...bos6]) x?.close();
  for (const x of mplsSockets) x.close();
  srv6?.close();
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

function ready(): void {
  process.stdout.write(`${JSON.stringify({ ready: true, decap: name, pid: process.pid, family, devices: v6 || mpls ? devices : [], ...(mpls ? { mpls: mpls.adjacencies.map((a) => a.label) } : {}), ...(srv6Arg ? { srv6: srv6Arg.config.adjacencies.map((a) => a.sid) } : {}) })}\n`);
}
if (mpls === undefined) ready();
else
  openMpls(mpls).then(ready, (e: Error) => {
    process.stderr.write(`decap ${name}: MPLS: ${e.message}\n`);
    process.exit(1);
  });
