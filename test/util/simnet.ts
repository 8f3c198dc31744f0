// test/util/simnet: what the prober's unit tests run the real Prober on, without sockets: the
// plugin's NANOG 6 path set r1 <-> r6, a simulated clock, a network that peels IPv4 GRE layers as
// the lab's decapsulators do, and a Prober factory driven in 5 ms ticks. Networks of other kinds
// (dual stack, segment routing) live in their tests and plug into oneProber() the same way.
import assert from "node:assert/strict";
import { Prober, type ProberIo } from "../../prober/prober.js";
import { readIpv4Header, IPPROTO_GRE, IPPROTO_UDP } from "../../prober/packet/ipv4.js";
import { GRE_HEADER_LENGTH } from "../../prober/packet/gre.js";
import { UDP_HEADER_LENGTH } from "../../prober/packet/udp.js";
import type { ProberConfig } from "../../shared/config.js";
import { createLogger, type Logger } from "../../shared/log.js";
import { Engine } from "../../plugin/engine.js";
import { directedPairs } from "../../plugin/paths.js";
import type { PathSet } from "../../shared/pathset.js";
import { ExabgpLines, lineTopology } from "./exabgp-lines.js";
import { readTopologyJson } from "./edgelist.js";

/** A logger that says nothing (errors included): the tests read state, not logs. */
export const quiet: Logger = createLogger({ name: "t", level: "error", stream: { write: () => true } });

/** A logger that keeps every line from info up in `logs`, for the tests that read them. */
export const captureLog = (logs: string[]): Logger => createLogger({ name: "t", level: "info", stream: { write: (s: string) => logs.push(s) } });

/** The plugin's path set for r1 <-> r6 on NANOG 6 (every equal-cost path), after withdrawing the directed links `withdraw`. */
export async function nanogPathSet(withdraw: Array<[string, string]> = []): Promise<PathSet> {
  let set: PathSet | undefined;
  const engine = new Engine(
    { query: { pairs: directedPairs([["r1", "r6"]]), mode: "all", maxPerPair: 64 }, metric: "igp", debounceMs: 0, staleTimeoutMs: 1000, routeRefresh: false, generation: 0, sliceMs: 0 },
    { log: quiet, command: () => {}, publish: async (s) => void (set = s), now: () => new Date(0) },
  );
  const t = readTopologyJson("nanog6.json");
  const lines = new ExabgpLines(lineTopology(t.nodes, t.edges));
  let n = 0;
  for (const l of lines.fullTable()) engine.handleLine(l, ++n);
  for (const [a, b] of withdraw) engine.handleLine(lines.withdrawLink(lines.link(a, b)), ++n);
  await engine.recompute();
  return set!;
}

/** The monotonic clock, in ns, that the probers and the network share; only the test moves it. */
export class SimClock {
  ns = 0;
  readonly nowNs = (): number => this.ns;
}

/** What a simulated network gives a prober: its send, and flush() to deliver what was sent. */
export interface SimNet {
  send: ProberIo["send"];
  flush(): void;
}

export interface GreNetworkOptions {
  /** The innermost UDP payload, its IPv4 destination and the clock when it was sent. */
  deliver(payload: Buffer, dst: string, sentAt: number): void;
  /** The send time given to deliver (default 0). */
  now?: () => number;
  /** Addresses (a link's far end) that black-hole what is addressed to them. */
  broken?: ReadonlySet<string>;
  /** Each GRE layer's destination as it is reached, before a broken one drops the packet. */
  onLayer?(dst: string): void;
}

/** A network whose every router takes off the IPv4 GRE layer addressed to it (every header checksum valid), then delivers the UDP payload. */
export function greNetwork(o: GreNetworkOptions): SimNet & { delivered(): number } {
  const queue: Array<{ pkt: Buffer; at: number }> = [];
  let delivered = 0;
  const send = (pkt: Buffer): void => void queue.push({ pkt: Buffer.from(pkt), at: o.now?.() ?? 0 });
  const flush = (): void => {
    for (let q = queue.shift(); q; q = queue.shift()) {
      const { pkt } = q;
      for (let off = 0; ; ) {
        const ip = readIpv4Header(pkt, off);
        assert.ok(ip.checksumOk, "every IPv4 header checksum is valid");
        if (ip.protocol === IPPROTO_GRE) o.onLayer?.(ip.dst);
        if (o.broken?.has(ip.dst)) break;
        if (ip.protocol === IPPROTO_GRE) {
          off = ip.next + GRE_HEADER_LENGTH;
          continue;
        }
        assert.equal(ip.protocol, IPPROTO_UDP);
        delivered++;
        o.deliver(pkt.subarray(ip.next + UDP_HEADER_LENGTH), ip.dst, q.at);
        break;
      }
    }
  };
  return { send, flush, delivered: () => delivered };
}

export interface SimProberOptions {
  /** The run's Session Nonce (default 7). */
  nonce?: number;
  /** prober.hmac-key's key. */
  key?: Buffer;
  /** Default: quiet. */
  log?: Logger;
  /** The optional parts of its ProberIo (replyDrops, realtimeOffsetNs, ...). */
  io?: Partial<Omit<ProberIo, "send" | "nowNs" | "log">>;
}

/** A Prober on `clock` sending into `send`. */
export function simProber(cfg: ProberConfig, clock: SimClock, send: ProberIo["send"], o: SimProberOptions = {}): Prober {
  return new Prober(cfg, { send, nowNs: clock.nowNs, log: o.log ?? quiet, ...o.io }, o.nonce ?? 7, o.key);
}

export interface TickOptions {
  /** The probers that send: each tick()s (and traceTick()s with `traces`). */
  senders: readonly Prober[];
  /** The probers that roll each whole simulated second (default: the senders). */
  rolled?: readonly Prober[];
  /** The network's flush, after the senders' ticks. */
  flush(): void;
  traces?: boolean;
}

/** Moves `clock` on by `seconds` in 5 ms ticks: the senders tick, the network delivers, and once a second the probers roll. */
export function runTicks(clock: SimClock, seconds: number, o: TickOptions): void {
  for (let ms = 0; ms < seconds * 1000; ms += 5) {
    clock.ns += 5e6;
    for (const p of o.senders) {
      p.tick();
      if (o.traces) p.traceTick();
    }
    o.flush();
    if (Math.round(clock.ns / 1e6) % 1000 === 0) for (const p of o.rolled ?? o.senders) p.roll();
  }
}

/**
 * One prober on its own clock and the network `network` builds around its reply handler (looked
 * up at each delivery, so that a test may wrap prober.onReply): run(seconds) drives them
 * (runTicks), advance(ns) moves the clock alone.
 */
export function oneProber<N extends SimNet>(cfg: ProberConfig, network: (deliver: (payload: Buffer) => void, clock: SimClock) => N, o: SimProberOptions & { traces?: boolean } = {}) {
  const clock = new SimClock();
  let prober!: Prober;
  const net = network((payload) => prober.onReply(payload), clock);
  prober = simProber(cfg, clock, net.send, o);
  const run = (seconds: number): void => runTicks(clock, seconds, { senders: [prober], flush: net.flush, traces: o.traces });
  const advance = (ns: number): void => void (clock.ns += ns);
  return { prober, net, clock, run, advance };
}

/** The directed link from -> to as the set's paths name it (the first path crossing it). */
export function linkOf(set: PathSet, from: string, to: string): PathSet["paths"][number]["links"][number] {
  const l = set.paths.flatMap((p) => p.links).find((x) => x.from === from && x.to === to);
  assert.ok(l, `no path of the set crosses ${from} -> ${to}`);
  return l;
}
