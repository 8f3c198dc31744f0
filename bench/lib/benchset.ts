// bench/lib/benchset: the prober configuration and path set the wire benches give the real Prober
// (bench/prober-rate.ts, bench/rtt-overhead.ts). Not a bench itself.
import { parseConfig, type ProberConfig } from "../../shared/config.js";
import { PATHSET_SCHEMA, PATHSET_VERSION, type Family, type Path, type PathSet } from "../../shared/pathset.js";
import { ADDR6_A, ADDR6_B, ADDR_A, ADDR_B } from "./vethpair.js";

export const PORT = 9470;
export const SRC_PORT = 49152;

/** A prober section: source A (its IPv4 address, or with `family` ipv6 its IPv6 one), routed return, `rate` per path, `maxPps` cap, `timeout`. */
export function benchConfig(maxPps: number, rate = 10_000, timeout = "200ms", family: Family = "ipv4"): ProberConfig {
  const yaml = [
    "plugin:",
    "  endpoints:",
    "    pairs: [[A, B]]",
    "prober:",
    `  source: "${family === "ipv6" ? ADDR6_A : ADDR_A}"`,
    `  port: ${PORT}`,
    "  return: routed",
    `  rate: ${rate}`,
    `  max-pps: ${maxPps}`,
    `  timeout: ${timeout}`,
    `  src-port: ${SRC_PORT}`,
    "",
  ].join("\n");
  return parseConfig(yaml, "bench.yaml").prober!;
}

/**
 * `n` one-hop paths A -> B, each a GRE layer to B's veth address (distinct ids and links); with
 * `family` ipv6, the same paths in IPv6 only (path set version 3: a GRE-over-IPv6 layer to B's
 * IPv6 address).
 */
export function benchPathSet(n: number, family: Family = "ipv4"): PathSet {
  const hop = (name: string, addr: string) => ({ node: `bench:${name}`, name, routerId: addr, addresses: [addr] });
  const paths: Path[] = Array.from({ length: n }, (_, i) => ({
    id: `bench-${i}`,
    src: "A",
    dst: "B",
    cost: 1,
    hops: [hop("A", ADDR_A), hop("B", ADDR_B)],
    links: [{ id: `bench-link-${i}`, from: "A", to: "B", localAddress: ADDR_A, remoteAddress: ADDR_B, metric: 1 }],
    gre: [{ address: ADDR_B, source: "interface", node: "bench:B", target: "interface" }],
    greReverse: [],
    probeable: true,
  }));
  if (family === "ipv6")
    for (const p of paths) {
      p.links[0].localAddress6 = ADDR6_A;
      p.links[0].remoteAddress6 = ADDR6_B;
      p.families = ["ipv6"];
      p.targets = { ipv6: { gre: [{ address: ADDR6_B, source: "interface", node: "bench:B", target: "interface" }], greReverse: [], probeable: true } };
      p.gre = [];
      p.probeable = false;
    }
  return pathSetOf(paths, [family], { digest: "bench", nodes: 2, links: n });
}

/** A generation-1 path set (mode all, no pairs) of `paths`, as a plugin would publish it, for a bench's own topology. */
export function pathSetOf(paths: Path[], families: Family[], topology: { digest: string; nodes: number; links: number }): PathSet {
  return {
    schema: PATHSET_SCHEMA,
    version: PATHSET_VERSION,
    generation: 1,
    time: new Date().toISOString(),
    mode: "all",
    families,
    topology: { ...topology, prefixes: 0, peers: [], stale: false },
    pairs: [],
    paths,
  };
}
