// Resolve a configured endpoint (node name, IGP router id, TE router id / loopback address, or
// prefix) to a graph node. Pseudonodes are never endpoints.
import type { Topology } from "./topology.js";

export type Resolved = { node: string } | { error: string };

function ipv4ToInt(a: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

/** Does IPv4 prefix "a.b.c.d/len" contain address `addr`? */
function contains(prefix: string, addr: number): boolean {
  const [net, lenS] = prefix.split("/");
  const base = ipv4ToInt(net);
  const len = Number(lenS);
  if (base === undefined || !(len >= 0 && len <= 32)) return false;
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return ((base & mask) >>> 0) === ((addr & mask) >>> 0);
}

export function resolveEndpoint(topo: Topology, spec: string): Resolved {
  return endpointResolver(topo)(spec);
}

/** resolveEndpoint() for many specs on one topology: the node list and name index are built once. */
export function endpointResolver(topo: Topology): (spec: string) => Resolved {
  const real = [...topo.nodes.values()].filter((n) => !n.pseudo);
  const byName = new Map<string, string[]>();
  for (const n of real) {
    const l = byName.get(n.name);
    byName.set(n.name, l === undefined ? [n.id] : l.concat(n.id));
  }
  return (spec) => {
    const unique = (matches: string[], how: string): Resolved | undefined => {
      const set = [...new Set(matches)];
      if (set.length === 1) return { node: set[0] };
      if (set.length > 1) return { error: `"${spec}" is ambiguous: ${how} matches ${set.length} nodes` };
      return undefined;
    };
    const plain = spec.replace(/\./g, "").toLowerCase();
    return (
      unique(byName.get(spec) ?? [], "name") ??
      unique(real.filter((n) => n.name.toLowerCase() === spec.toLowerCase()).map((n) => n.id), "name") ??
      unique(real.filter((n) => n.routerId === spec || n.routerId.toLowerCase() === plain).map((n) => n.id), "router id") ??
      unique(real.filter((n) => n.teRouterIds.includes(spec) || n.loopbacks.includes(spec)).map((n) => n.id), "address") ??
      unique(topo.prefixes.get(spec) ?? [], "prefix") ??
      longestMatch(topo, spec) ?? { error: `"${spec}" matches no node (by name, router id, address or prefix)` }
    );
  };
}

/** An address inside an advertised prefix: the longest match wins. */
function longestMatch(topo: Topology, spec: string): Resolved | undefined {
  const addr = ipv4ToInt(spec);
  if (addr === undefined) return undefined;
  let best = -1;
  let nodes: string[] = [];
  for (const [prefix, owners] of topo.prefixes) {
    const len = Number(prefix.split("/")[1]);
    if (len > best && contains(prefix, addr)) {
      best = len;
      nodes = owners;
    }
  }
  if (nodes.length === 1) return { node: nodes[0] };
  if (nodes.length > 1) return { error: `"${spec}" is ambiguous: its longest matching prefix is advertised by ${nodes.length} nodes` };
  return undefined;
}
