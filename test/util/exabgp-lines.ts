// Test/bench helper: what ExaBGP 4.2.21 would write to its API process for a topology, in the
// exact shape of the recorded samples (../shared/corpus/exabgp/FORMAT.md §3, §5): spacing
// quirks, "4.0.1" envelope, duplicate Adj-SID keys on links, "nexthop": "None" on withdrawn
// nodes.
import type { LsLink, LsPrefix, LsRouter, LsTopology } from "../lab/speaker/topology.js";

// The same model the lab's BGP-LS speaker announces (test/lab/speaker/topology.ts).
export type LineRouter = LsRouter;
export type LineLink = LsLink;
export type LinePrefix = LsPrefix;
export type LineTopology = Pick<LsTopology, "asn" | "routers" | "links" | "prefixes">;

export interface LineOptions {
  peer?: string;
  nextHop?: string;
  /** Adj-SIDs per link (4.2 prints each as a group of duplicate keys). */
  adjSids?: number;
}

export class ExabgpLines {
  private counter = 0;
  private time = 1795419500;
  readonly peer: string;
  readonly nextHop: string;
  private readonly sysIds = new Map<string, string>();

  constructor(
    readonly topo: LineTopology,
    readonly opts: LineOptions = {},
  ) {
    this.peer = opts.peer ?? "127.0.0.1";
    this.nextHop = opts.nextHop ?? "198.18.255.1";
    for (const r of topo.routers) this.sysIds.set(r.name, r.systemId);
  }

  private envelope(type: string, body: string): string {
    this.counter++;
    this.time += 0.001;
    return `{ "exabgp": "4.0.1", "time": ${this.time.toFixed(7)}, "host" : "vm", "pid" : 4242, "ppid" : 1, "counter": ${this.counter}, "type": "${type}", "neighbor": { "address": { "local": "127.0.0.1", "peer": "${this.peer}" }, "asn": { "local": 65000, "peer": ${this.topo.asn} } ${body} } }`;
  }

  state(state: "connected" | "up" | "down", reason?: string): string {
    return this.envelope("state", `, "state": "${state}"${reason ? `, "reason": "${reason}"` : ""}`);
  }

  private update(inner: string): string {
    return this.envelope("update", `, "direction": "receive", "message": { "update": { ${inner} } }`);
  }

  eor(): string {
    return this.envelope("update", `, "direction": "receive", "message": { "eor": { "afi" : "bgp-ls", "safi" : "bgp-ls" } }`);
  }

  shutdown(): string {
    this.time += 0.001;
    return `{ "exabgp": "4.0.1", "time": ${this.time.toFixed(7)}, "host" : "vm", "pid" : 4242, "ppid" : 1, "type": "notification", "notification": "shutdown" }`;
  }

  private desc(router: string): string {
    const id = this.sysIds.get(router);
    if (id === undefined) throw new Error(`unknown router ${router}`);
    return `{ "autonomous-system": ${this.topo.asn}, "bgp-ls-identifier": "0", "router-id": "${id}" }`;
  }

  private nodeNlri(r: LineRouter, withdrawn: boolean): string {
    return `{ "ls-nlri-type": "bgpls-node", "l3-routing-topology": 0, "protocol-id": 2, "node-descriptors": ${this.desc(r.name)}, "nexthop": "${withdrawn ? "None" : this.nextHop}" }`;
  }

  private linkNlri(l: LineLink): string {
    // TLVs 259 and 261 (260 and 262) land in one object: a dual-stack link gives duplicate keys.
    const wrap = (key: string, list: Array<string | undefined>): string => {
      const present = list.filter((a): a is string => a !== undefined);
      return present.length ? `{ ${present.map((a) => `"${key}": "${a}"`).join(", ")} }` : "{  }";
    };
    const ifa = wrap("interface-address", [l.localAddress, l.localAddress6]);
    const nba = wrap("neighbor-address", [l.remoteAddress, l.remoteAddress6]);
    return `{ "ls-nlri-type": "bgpls-link", "l3-routing-topology": 0, "protocol-id": 2, "local-node-descriptors": ${this.desc(l.from)}, "remote-node-descriptors": ${this.desc(l.to)}, "interface-address": ${ifa}, "neighbor-address": ${nba} }`;
  }

  private prefixNlri(p: LinePrefix, withdrawn: boolean): string {
    const addr = p.prefix.split("/")[0];
    return `{ "ls-nlri-type": "bgpls-prefix-v${p.prefix.includes(":") ? 6 : 4}", "l3-routing-topology": 0, "protocol-id": 2, "node-descriptors": ${this.desc(p.router)}, "ip-reachability-tlv": "${addr}", "ip-reach-prefix": "${p.prefix}", "nexthop": "${withdrawn ? "None" : this.nextHop}" }`;
  }

  private attr(bgpls: string): string {
    return `"attribute": { "origin": "igp", "local-preference": 100, "bgp-ls": { ${bgpls} } }`;
  }

  announceNode(r: LineRouter): string {
    const o = r.overload ? 1 : 0;
    return this.update(
      `${this.attr(`"node-flags": {"O": ${o}, "T": 0, "E": 0, "B": 0, "R": 0, "V": 0, "RSV": 0}, "node-name": "${r.name}", "area-id": "490001", ${teRouterIds(r)}`)}, "announce": { "bgp-ls bgp-ls": { "${this.nextHop}": [ ${this.nodeNlri(r, false)} ] } }`,
    );
  }

  announceLink(l: LineLink, sidBase = 24000): string {
    const sids: string[] = [];
    for (let i = 0; i < (this.opts.adjSids ?? 2); i++)
      sids.push(`"sr-adj-flags": {"F": 0, "B": ${i & 1}, "V": 1, "L": 1, "S": 0, "P": 0, "RSV": 0}, "sids": [[${sidBase + i}]], "undecoded-sids": [], "sr-adj-weight": 0`);
    const te = l.teMetric !== undefined ? `"te-metric": ${l.teMetric}, ` : "";
    return this.update(
      `${this.attr(`"admin-group-mask": [0], "maximum-link-bandwidth": 125000000.0, ${te}"igp-metric": ${l.metric}${sids.length ? ", " + sids.join(", ") : ""}`)}, "announce": { "bgp-ls bgp-ls": { "${this.nextHop}": [ ${this.linkNlri(l)} ] } }`,
    );
  }

  announcePrefix(p: LinePrefix): string {
    return this.update(`${this.attr(`"prefix-metric": ${p.metric}`)}, "announce": { "bgp-ls bgp-ls": { "${this.nextHop}": [ ${this.prefixNlri(p, false)} ] } }`);
  }

  withdrawLink(l: LineLink): string {
    return this.update(`"withdraw": { "bgp-ls bgp-ls": [ ${this.linkNlri(l)} ] }`);
  }

  withdrawNode(r: LineRouter): string {
    return this.update(`"withdraw": { "bgp-ls bgp-ls": [ ${this.nodeNlri(r, true)} ] }`);
  }

  /** connected, up, every node, link and prefix, End-of-RIB. */
  fullTable(): string[] {
    return [
      this.state("connected"),
      this.state("up"),
      ...this.topo.routers.map((r) => this.announceNode(r)),
      ...this.topo.links.map((l, i) => this.announceLink(l, 24000 + 2 * i)),
      ...this.topo.prefixes.map((p) => this.announcePrefix(p)),
      this.eor(),
    ];
  }

  link(from: string, to: string): LineLink {
    const l = this.topo.links.find((x) => x.from === from && x.to === to);
    if (!l) throw new Error(`no link ${from}->${to}`);
    return l;
  }
}

/** A synthetic IS-IS topology from an edge list: addresses in 198.18.0.0/15 (RFC 2544 benchmark space). */
export function lineTopology(nodes: string[], edges: Array<{ src: string; dst: string; metric: number }>, asn = 65001): LineTopology {
  const index = new Map(nodes.map((n, i) => [n, i + 1]));
  const routers: LineRouter[] = nodes.map((name, i) => ({
    name,
    systemId: (0x198000000000 + i + 1).toString(16).padStart(12, "0"),
    routerId: `198.19.${((i + 1) >> 8) & 255}.${(i + 1) & 255}`,
  }));
  const links: LineLink[] = [];
  edges.forEach((e, k) => {
    // One /31 per edge in 198.18.0.0/16: 32768 edges.
    const base = 2 * k;
    const a = `198.18.${(base >> 8) & 255}.${base & 255}`;
    const b = `198.18.${((base + 1) >> 8) & 255}.${(base + 1) & 255}`;
    if (!index.has(e.src) || !index.has(e.dst)) throw new Error(`edge ${e.src}-${e.dst}: unknown node`);
    links.push({ from: e.src, to: e.dst, metric: e.metric, localAddress: a, remoteAddress: b });
    links.push({ from: e.dst, to: e.src, metric: e.metric, localAddress: b, remoteAddress: a });
  });
  const prefixes = routers.map((r) => ({ router: r.name, prefix: `${r.routerId}/32`, metric: 0 }));
  return { asn, routers, links, prefixes };
}

/** TLVs 1028 and 1029 as 4.2.21 prints them: one key per TLV, each list cumulative (qa07). */
function teRouterIds(r: LineRouter): string {
  const ids = [r.routerId, ...(r.routerId6 !== undefined ? [r.routerId6] : [])];
  return ids.map((_, i) => `"local-te-router-ids": [${ids.slice(0, i + 1).map((a) => `"${a}"`).join(", ")}]`).join(", ");
}
