// The pure core of `lsprobe-plugin routers`: from the path set the plugin publishes, the
// addresses each router must decapsulate. A probe on a path carries one tunnel layer per hop,
// addressed to `gre[i].address` and decapsulated by `gre[i].node`; in the prober's `reverse`
// return mode the way back adds `greReverse` (prober/prober.ts: only when it has one layer per
// link). Every layer's outer source is the prober's address (prober.source).
import type { Path } from "../../shared/pathset.js";
import type { Topology } from "../topology.js";
import type { ReturnMode } from "../../shared/config.js";
import { byAddress, byAddress6, type Ingress } from "./types.js";

export interface TargetOptions {
  /** prober.router: only paths starting there are probed; null: every path. */
  router: string | null;
  /** prober.return: `routed` sends no greReverse layers. */
  return: ReturnMode;
}

export interface RouterTargets {
  targets: string[];
  ingress: Ingress[];
}

/** What the prober would send layers to, per decapsulating router (by name). */
export function collectTargets(paths: readonly Path[], o: TargetOptions): Map<string, RouterTargets> {
  const targets = new Map<string, Set<string>>();
  const ingress = new Map<string, Map<string, Ingress>>();
  const add = (node: string, address: string, from: string | undefined): void => {
    let t = targets.get(node);
    if (t === undefined) targets.set(node, (t = new Set()));
    t.add(address);
    if (from === undefined) return;
    let i = ingress.get(node);
    if (i === undefined) ingress.set(node, (i = new Map()));
    i.set(`${from}\n${address}`, { from, address });
  };
  for (const p of paths) {
    if (!p.probeable || p.gre.length === 0) continue;
    if (o.router !== null && p.src !== o.router) continue;
    // gre[i] enters links[i].to from links[i].from (an interface address pins that link).
    p.gre.forEach((g, i) => add(g.node, g.address, g.source === "interface" ? p.links[i]?.from : undefined));
    const reverse = o.return === "reverse" && p.greReverse.length === p.gre.length;
    if (!reverse) continue;
    // greReverse[j] crosses links[n-1-j] backwards: from its `to` into its `from`.
    const n = p.links.length;
    p.greReverse.forEach((g, j) => add(g.node, g.address, g.source === "interface" ? p.links[n - 1 - j]?.to : undefined));
  }
  const out = new Map<string, RouterTargets>();
  for (const [node, t] of targets) {
    const ing = [...(ingress.get(node)?.values() ?? [])].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : byAddress(a.address, b.address)));
    out.set(node, { targets: [...t].sort(byAddress), ingress: ing });
  }
  return out;
}

/**
 * The IPv6 layers (targets.ipv6: GRE over IPv6, IPv6-in-IPv6) the prober would send, per
 * decapsulating router: addresses only, which the vendor modules do not configure yet (a
 * warning names them).
 */
export function collectTargets6(paths: readonly Path[], o: TargetOptions): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  const add = (node: string, address: string): void => void (out.get(node) ?? out.set(node, new Set()).get(node)!).add(address);
  for (const p of paths) {
    const t = p.targets?.ipv6;
    if (t === undefined || !t.probeable || t.gre.length === 0) continue;
    if (o.router !== null && p.src !== o.router) continue;
    for (const g of t.gre) add(g.node, g.address);
    if (o.return === "reverse" && t.greReverse.length === t.gre.length) for (const g of t.greReverse) add(g.node, g.address);
  }
  return new Map([...out].map(([r, s]) => [r, [...s].sort(byAddress6)]));
}

/** Every IPv4 address the topology gives each router (by name): interfaces, TE router ids, loopbacks. */
export function routerAddresses(topo: Topology): Map<string, string[]> {
  const byId = new Map<string, Set<string>>();
  const get = (id: string): Set<string> => {
    let s = byId.get(id);
    if (s === undefined) byId.set(id, (s = new Set()));
    return s;
  };
  for (const n of topo.nodes.values()) {
    if (n.pseudo) continue;
    const s = get(n.id);
    for (const a of [...n.teRouterIds, ...n.loopbacks]) s.add(a);
  }
  for (const l of topo.links) {
    if (topo.nodes.get(l.from)?.pseudo !== true) for (const a of l.localAddresses) get(l.from).add(a);
    if (topo.nodes.get(l.to)?.pseudo !== true) for (const a of l.remoteAddresses) get(l.to).add(a);
  }
  const out = new Map<string, string[]>();
  const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
  for (const [id, s] of byId) {
    const n = topo.nodes.get(id);
    if (n === undefined) continue;
    out.set(n.name, [...s].filter((a) => IPV4.test(a)).sort(byAddress));
  }
  return out;
}
