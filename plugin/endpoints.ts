// Resolve a configured endpoint (node name, IGP router id, TE router id / loopback address, or
// prefix, of either family) to a graph node. Pseudonodes are never endpoints. IPv6 addresses and
// prefixes compare in RFC 5952 form, so any spelling of one matches (2001:2:0::6 = 2001:2::6).
import type { Topology } from "./topology.js";
import { canonicalAddress, canonicalPrefix, familyOf, prefixContains, prefixLength } from "./ip.js";

export type Resolved = { node: string } | { error: string };

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
    const address = canonicalAddress(spec);
    const addressOf = (n: (typeof real)[number]): boolean =>
      n.teRouterIds.includes(address) || n.loopbacks.includes(address) || (n.teRouterIds6?.includes(address) ?? false) || (n.loopbacks6?.includes(address) ?? false);
    return (
      unique(byName.get(spec) ?? [], "name") ??
      unique(real.filter((n) => n.name.toLowerCase() === spec.toLowerCase()).map((n) => n.id), "name") ??
      unique(real.filter((n) => n.routerId === spec || n.routerId.toLowerCase() === plain).map((n) => n.id), "router id") ??
      unique(real.filter(addressOf).map((n) => n.id), "address") ??
      unique(topo.prefixes.get(canonicalPrefix(spec)) ?? [], "prefix") ??
      longestMatch(topo, spec) ?? { error: `"${spec}" matches no node (by name, router id, address or prefix)` }
    );
  };
}

/** An address inside an advertised prefix of its family: the longest match wins. */
function longestMatch(topo: Topology, spec: string): Resolved | undefined {
  if (familyOf(spec) === undefined) return undefined;
  let best = -1;
  let nodes: string[] = [];
  for (const [prefix, owners] of topo.prefixes) {
    const len = prefixLength(prefix) ?? -1;
    if (len > best && prefixContains(prefix, spec)) {
      best = len;
      nodes = owners;
    }
  }
  if (nodes.length === 1) return { node: nodes[0] };
  if (nodes.length > 1) return { error: `"${spec}" is ambiguous: its longest matching prefix is advertised by ${nodes.length} nodes` };
  return undefined;
}
