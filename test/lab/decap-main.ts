// The lab routers' userspace GRE and IP-in-IP decapsulator: the shell around decap.ts.
//
//   ip netns exec NS node dist/test/lab/decap-main.js [--name r2]
//
// Receives every GRE and every IP-in-IP packet addressed to the namespace (one raw socket for
// protocol 47, one for protocol 4), checks and strips outer IPv4 + GRE, or the outer IPv4 header
// of IP-in-IP (decapInto), and re-sends the inner packet unchanged through an
// IPPROTO_RAW (IP_HDRINCL) socket to the inner destination, so the kernel routes it on the
// inner header. Nothing is decremented.
//
// Control, for netns.ts:
//   stdout  one line `{"ready":true,...}` once both sockets are open; then one counters line
//           per "counters" command
//   stdin   "counters\n": print the counters (JSON) on stdout. End of stdin (the lab process is
//           gone, even if SIGKILLed): print the counters on stderr and exit 0
//           "fault ADDR LOSS DELAY_MS\n": data-plane fault on what arrives encapsulated (GRE or IP-in-IP) for
//           ADDR (this router's address on one link: the link's direction into this router):
//           drop a LOSS share (0..1) at random, delay the rest by DELAY_MS. "fault ADDR 0 0"
//           or "clear\n" (all) removes it. Answers "ok" on stdout. This kernel has no netem
//           and no tc drop actions, so the lab's gray failures and delays live here: they hit
//           the probes (GRE, IP-in-IP) and nothing else.
//           "decap off\n" / "decap on\n": stop (or resume) decapsulating: every tunnel packet
//           for the router is then dropped and counted ("decap-off"), as by a router without
//           decapsulation configured. Answers "ok".
//   SIGTERM, SIGINT: print the counters on stderr (one JSON line) and exit 0
// Per packet, this file and decap.ts allocate nothing (one reused slot, a cache of destination
// strings, a pre-bound send callback, counters in a typed array); raw-socket itself still makes a
// Buffer view and a source-address string for every packet it receives.
//
// Counters: {"decap": name, "received", "forwarded", "dropped": {reason: n}}, reasons from
// DROP_REASONS plus "send-<ERRNO>" when the kernel refuses the inner packet (e.g.
// send-ENETUNREACH when the router has no route for it).

import { createInterface } from "node:readline";
import { RawSocket, IPPROTO_GRE, IPPROTO_RAW, RawSocketError } from "../../prober/rawsock.js";
import { IPPROTO_IPIP } from "../../prober/packet/ipv4.js";
import { DROP_REASONS, decapInto, ipv4ToString, newDecapSlot } from "./decap.js";

interface Counters {
  decap: string;
  received: number;
  forwarded: number;
  dropped: Record<string, number>;
  delayed: number;
}

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const name = argValue("--name") ?? `pid-${process.pid}`;

let inbound: RawSocket;
let inboundIpip: RawSocket;
let outbound: RawSocket;
try {
  inbound = RawSocket.open({ protocol: IPPROTO_GRE, bufferSize: 65535, receiveBufferSize: 1 << 20 });
  inboundIpip = RawSocket.open({ protocol: IPPROTO_IPIP, bufferSize: 65535, receiveBufferSize: 1 << 20 });
  outbound = RawSocket.open({ protocol: IPPROTO_RAW, sendBufferSize: 1 << 20 });
} catch (e) {
  process.stderr.write(`decap ${name}: ${(e as Error).message}\n`);
  process.exit(1);
}

// ---- hot path: no allocation per forwarded packet ----
let received = 0;
let forwarded = 0;
const dropCodes = new Float64Array(DROP_REASONS.length);
const sendErrors = new Map<string, number>();
const slot = newDecapSlot();
const dstCache = new Map<number, string>();

function dstString(n: number): string {
  let s = dstCache.get(n);
  if (s === undefined) {
    s = ipv4ToString(n);
    if (dstCache.size < 65536) dstCache.set(n, s);
  }
  return s;
}

function onSent(err?: RawSocketError): void {
  if (err) sendErrors.set(err.code, (sendErrors.get(err.code) ?? 0) + 1);
  else forwarded++;
}

// Faults by outer destination (uint32): the link direction the packet arrived over.
const faults = new Map<number, { loss: number; delayMs: number }>();
let faultDropped = 0;
let decapOff = false;
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
function onReceiveError(err: RawSocketError): void {
  sendErrors.set(`recv-${err.code}`, (sendErrors.get(`recv-${err.code}`) ?? 0) + 1);
}
for (const s of [inbound, inboundIpip]) {
  s.on("message", onPacket);
  s.on("error", onReceiveError);
}

// ---- control ----
function counters(): Counters {
  const dropped: Record<string, number> = {};
  for (let i = 1; i < DROP_REASONS.length; i++) if (dropCodes[i] > 0) dropped[DROP_REASONS[i]] = dropCodes[i];
  for (const [code, n] of sendErrors) dropped[code.startsWith("recv-") ? code : `send-${code}`] = n;
  if (faultDropped > 0) dropped.fault = faultDropped;
  if (decapOffDropped > 0) dropped["decap-off"] = decapOffDropped;
  return { decap: name, received, forwarded, dropped, delayed };
}

let exiting = false;
function finish(why: string): void {
  if (exiting) return;
  exiting = true;
  inbound.close();
  inboundIpip.close();
  outbound.close();
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
    process.stdout.write("ok\n");
  } else if (words[0] === "decap" && (words[1] === "on" || words[1] === "off")) {
    decapOff = words[1] === "off";
    process.stdout.write("ok\n");
  } else if (words[0] === "fault" && words.length === 4) {
    const [addr, loss, delayMs] = [ipv4ToU32(words[1]), Number(words[2]), Number(words[3])];
    if (loss === 0 && delayMs === 0) faults.delete(addr);
    else faults.set(addr, { loss, delayMs });
    process.stdout.write("ok\n");
  }
});
rl.on("close", () => finish("stdin closed"));

process.stdout.write(`${JSON.stringify({ ready: true, decap: name, pid: process.pid })}\n`);
