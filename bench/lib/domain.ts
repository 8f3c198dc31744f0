// A random connected IGP domain for the benches (seeded): a random recursive tree plus random
// extra edges, metrics 1..100, and a few endpoint pairs spread over it.

import { mulberry32 } from "../../test/util/rng.js";

export { mulberry32 as rng };

export interface Domain {
  nodes: string[];
  edges: Array<{ src: string; dst: string; metric: number }>;
  pairs: Array<[string, string]>;
}

/** Connected: a random recursive tree, then random extra edges; no loops, no parallel edges. */
export function randomDomain(n: number, undirectedEdges: number, seed: number): Domain {
  const r = mulberry32(seed);
  const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
  const seen = new Set<number>();
  const edges: Domain["edges"] = [];
  const add = (a: number, b: number): boolean => {
    if (a === b) return false;
    const k = Math.min(a, b) * n + Math.max(a, b);
    if (seen.has(k)) return false;
    seen.add(k);
    edges.push({ src: nodes[a], dst: nodes[b], metric: 1 + Math.floor(r() * 100) });
    return true;
  };
  for (let i = 1; i < n; i++) add(i, Math.floor(r() * i));
  while (edges.length < undirectedEdges) add(Math.floor(r() * n), Math.floor(r() * n));
  // A few endpoint pairs spread over the domain (both directions are computed).
  const pairs: Array<[string, string]> = [
    [nodes[0], nodes[n - 1]],
    [nodes[1], nodes[n >> 1]],
    [nodes[2], nodes[Math.floor(n / 3)]],
    [nodes[n >> 2], nodes[n - 2]],
  ];
  return { nodes, edges, pairs };
}
