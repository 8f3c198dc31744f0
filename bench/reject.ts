// bench/reject: what a datagram at the probe port costs the prober's reply handler to reject,
// before (HEAD before issue 11: parse the payload into an object, then the MAC, then the nonce)
// and after (Prober.onReply: length, magic, version, nonce, path, flag, sequence window by plain
// reads, the MAC last), measured in the same run.
//
//   node dist/bench/reject.js [--budget SECONDS-PER-ROW]
//
// Rows: the junk of a flood and a genuine duplicate, against a Prober with an HMAC key and four
// one-hop paths that have sent and received probes (no sockets: the handler alone).
//   forged                 "LSPR", a random nonce, a wrong MAC: what issue 11's flood sent
//   forged, sniffed nonce  a copy of a recent reply with a wrong MAC: both must compute the MAC
//   not LSPR               64 bytes of something else
//   genuine duplicate      a reply already received: MAC, then the tracker's verdict
// "before" replays the former order of checks with the same functions (parsePayload, then
// PayloadMac.verify, then the nonce, path and tracker); "after" calls Prober.onReply. Each
// figure is the median of 5 timed runs after a warm-up, in ns per datagram.
//
// Correctness (exit 1 otherwise): both reject every row with the expected reason.
import { randomInt } from "node:crypto";
import { Prober } from "../prober/prober.js";
import { PayloadMac, parsePayload, PAYLOAD_OFF_MAC, PAYLOAD_OFF_NONCE } from "../prober/packet/payload.js";
import { readIpv4Header, IPPROTO_GRE } from "../prober/packet/ipv4.js";
import { GRE_HEADER_LENGTH } from "../prober/packet/gre.js";
import { UDP_HEADER_LENGTH } from "../prober/packet/udp.js";
import { createLogger } from "../shared/log.js";
import { parseConfig } from "../shared/config.js";
import { benchPathSet } from "./lib/benchset.js";
import { mdTable } from "./lib/table.js";

const args = process.argv.slice(2);
const i = args.indexOf("--budget");
const budgetMs = Number(i >= 0 ? args[i + 1] : "1") * 1000;

const KEY = Buffer.from("lsprobe bench key, 32 bytes long");
const cfg = parseConfig("plugin:\n  endpoints:\n    pairs: [[A, B]]\nprober:\n  source: 198.18.200.0\n  return: routed\n  rate: 1000\n  timeout: 10s\n", "bench.yaml").prober!;

let now = 1e9;
const sent: Buffer[] = [];
const prober = new Prober(cfg, { send: (pkt) => void sent.push(Buffer.from(pkt)), nowNs: () => now, log: createLogger({ name: "bench", level: "error" }) }, randomInt(0, 2 ** 32), KEY);
prober.setPathSet(benchPathSet(4));
/** The inner UDP payload of a probe (one GRE layer). */
const payloadOf = (pkt: Buffer): Buffer => {
  const outer = readIpv4Header(pkt, 0);
  if (outer.protocol !== IPPROTO_GRE) throw new Error("bench: not a GRE probe");
  const inner = readIpv4Header(pkt, outer.next + GRE_HEADER_LENGTH);
  return pkt.subarray(inner.next + UDP_HEADER_LENGTH);
};
for (let k = 0; k < 100; k++) {
  now += 1e6;
  prober.tick();
}
const replies = sent.map(payloadOf);
for (const r of replies) prober.onReply(r);
const genuine = replies[replies.length - 1];

// The former handler, check for check (prober.ts before issue 11), on the same prober's state.
const mac = new PayloadMac(KEY);
const byIndex = new Map([...prober.entries()].map((e) => [e.index, e]));
function before(payload: Buffer): string {
  const t = now;
  const p = parsePayload(payload);
  if (!p.ok) return "malformed";
  if (!mac.verify(payload)) return "bad_mac";
  if (p.nonce !== prober.nonce) return "other_run";
  const e = byIndex.get(p.pathIndex);
  if (e === undefined) return "unknown_path";
  return e.tracker.receive(p.seq, t);
}
/** The reason Prober.onReply counted (its rejected counters, the trackers' duplicates). */
function after(payload: Buffer): string {
  const snap = (): Record<string, number> => {
    const r: Record<string, number> = { ...prober.rejected, duplicate: 0 };
    for (const e of prober.entries()) r.duplicate += e.tracker.counters.duplicate;
    return r;
  };
  const a = snap();
  prober.onReply(payload);
  const b = snap();
  return Object.keys(b).find((k) => b[k] !== a[k]) ?? "accepted";
}

const forged = Buffer.from(genuine);
forged.writeUInt32BE((prober.nonce ^ 0x5a5a5a5a) >>> 0, PAYLOAD_OFF_NONCE);
forged.fill(0x42, PAYLOAD_OFF_MAC, PAYLOAD_OFF_MAC + 16);
const sniffed = Buffer.from(genuine);
sniffed.fill(0x42, PAYLOAD_OFF_MAC, PAYLOAD_OFF_MAC + 16);
const junk = Buffer.alloc(64, 0x41);

const rows: Array<{ name: string; payload: Buffer; before: string; after: string }> = [
  { name: "forged (issue 11's flood)", payload: forged, before: "bad_mac", after: "other_run" },
  { name: "forged, sniffed nonce", payload: sniffed, before: "bad_mac", after: "bad_mac" },
  { name: "not LSPR", payload: junk, before: "malformed", after: "malformed" },
  { name: "genuine duplicate", payload: genuine, before: "duplicate", after: "duplicate" },
];

function nsPer(f: (p: Buffer) => unknown, p: Buffer): number {
  let n = 1000;
  for (;;) {
    const t0 = performance.now();
    for (let k = 0; k < n; k++) f(p);
    const ms = performance.now() - t0;
    if (ms > budgetMs / 10 || n > 1e8) break;
    n *= 4;
  }
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let k = 0; k < n; k++) f(p);
    runs.push(((performance.now() - t0) * 1e6) / n);
  }
  return runs.sort((a, b) => a - b)[2];
}

let failed = false;
const out: string[][] = [];
for (const r of rows) {
  const got = { before: before(r.payload), after: after(r.payload) };
  if (got.before !== r.before || got.after !== r.after) {
    process.stderr.write(`bench/reject: ${r.name}: rejected as ${got.before} / ${got.after}, expected ${r.before} / ${r.after}\n`);
    failed = true;
  }
  // The hot loop calls onReply directly (after() snapshots counters for the check above only).
  const b = nsPer(before, r.payload);
  const a = nsPer((p) => prober.onReply(p), r.payload);
  out.push([r.name, `${r.before}`, `${r.after}`, b.toFixed(0), a.toFixed(0), (b / a).toFixed(1)]);
}
process.stdout.write(`${mdTable(["datagram", "reason before", "reason after", "before ns", "after ns", "before / after"], out, ["l", "l", "l", "r", "r", "r"])}\n`);
process.stdout.write(`node ${process.version}; median of 5 runs, ns per datagram rejected by the handler alone (the reply socket's own cost per datagram comes on top)\n`);
process.exit(failed ? 1 : 0);
