// The lab routers' userspace SRv6 End.X, the shell around srv6.ts: hosted by decap-main.ts
// (--srv6 JSON, a Srv6RouterConfig from netns.ts) on kernels without seg6local.
//
// One AF_INET6 raw socket of protocol 43 takes every routing header addressed to the router (its
// locator is a local route: netns.ts); endXInto rewrites the packet; it goes out through an
// IPPROTO_RAW socket bound to the adjacency's interface, sent to the neighbour's link address
// (netns.ts's `oif DEV lookup TABLE` rule and its default route via the neighbour take it there;
// the packet keeps the destination endXInto wrote). No allocation per packet but raw-socket's
// own (a Buffer view and the source string, whose bytes are cached).
import { IPV6_HEADER_LENGTH, ipv6ToBytes } from "../../prober/packet/ipv6.js";
import { IPPROTO_ROUTING } from "../../prober/packet/srh.js";
import { IPPROTO_RAW, RawSocket, type RawSocketError } from "../../prober/rawsock.js";
import { SRV6_DROP_REASONS, endXInto, newSrv6Slot, srv6Table, type Srv6RouterConfig, type Srv6Table } from "./srv6.js";

export interface Srv6Counters {
  received: number;
  forwarded: number;
  /** By SRV6_DROP_REASONS, and "srv6-send-<ERRNO>" when the kernel refuses a send (a link down). */
  dropped: Record<string, number>;
}

/** Checks a --srv6 argument: the parsed config and its table, or an error naming what is wrong. */
export function parseSrv6Config(json: string): { config: Srv6RouterConfig; table: Srv6Table } {
  const config = JSON.parse(json) as Srv6RouterConfig;
  if (!Array.isArray(config.adjacencies) || !Array.isArray(config.locators)) throw new TypeError("expected {adjacencies: [...], locators: [...]}");
  config.adjacencies.forEach((a, i) => {
    for (const k of ["sid", "dev", "peer", "nexthop6"] as const) if (typeof a[k] !== "string") throw new TypeError(`adjacencies[${i}].${k}: expected a string`);
  });
  return { config, table: srv6Table(config, (a) => ipv6ToBytes(a)) };
}

export class Srv6Forwarder {
  private readonly inbound: RawSocket;
  /** Per adjacency, bound to its interface. */
  private readonly outbound: RawSocket[];
  private readonly nexthops: string[];
  private readonly out = Buffer.alloc(IPV6_HEADER_LENGTH + 65535);
  private readonly slot = newSrv6Slot();
  private readonly sources = new Map<string, Uint8Array>();
  private readonly drops = new Float64Array(SRV6_DROP_REASONS.length);
  private readonly sendErrors = new Map<string, number>();
  private received = 0;
  private forwarded = 0;
  private readonly onSent = (err?: RawSocketError): void => {
    if (err === undefined) this.forwarded++;
    else this.sendErrors.set(err.code, (this.sendErrors.get(err.code) ?? 0) + 1);
  };

  constructor(
    config: Srv6RouterConfig,
    private readonly table: Srv6Table,
  ) {
    this.outbound = config.adjacencies.map((a) => RawSocket.open({ family: "ipv6", protocol: IPPROTO_RAW, device: a.dev, sendBufferSize: 1 << 19 }));
    this.nexthops = config.adjacencies.map((a) => a.nexthop6);
    this.inbound = RawSocket.open({ family: "ipv6", protocol: IPPROTO_ROUTING, bufferSize: 65535, receiveBufferSize: 1 << 20 });
    this.inbound.on("message", (buf, src) => this.onPacket(buf, src));
    this.inbound.on("error", (err) => this.sendErrors.set(`recv-${err.code}`, (this.sendErrors.get(`recv-${err.code}`) ?? 0) + 1));
  }

  private sourceBytes(src: string): Uint8Array {
    let b = this.sources.get(src);
    if (b === undefined) {
      if (this.sources.size > 4096) this.sources.clear();
      b = ipv6ToBytes(src);
      this.sources.set(src, b);
    }
    return b;
  }

  private onPacket(buf: Buffer, src: string): void {
    this.received++;
    const code = endXInto(buf, buf.length, this.sourceBytes(src), this.table, this.out, this.slot);
    if (code !== 0) {
      this.drops[code]++;
      return;
    }
    const a = this.slot.adjacency;
    // Synchronous (rawsock.ts): `out` is free again on return.
    this.outbound[a].sendFrom(this.out, 0, this.slot.length, this.nexthops[a], this.onSent);
  }

  counters(): Srv6Counters {
    const dropped: Record<string, number> = {};
    for (let i = 1; i < SRV6_DROP_REASONS.length; i++) if (this.drops[i] > 0) dropped[SRV6_DROP_REASONS[i]] = this.drops[i];
    for (const [code, n] of this.sendErrors) dropped[code.startsWith("recv-") ? `srv6-${code}` : `srv6-send-${code}`] = n;
    return { received: this.received, forwarded: this.forwarded, dropped };
  }

  close(): void {
    this.inbound.close();
    for (const s of this.outbound) s.close();
  }
}
