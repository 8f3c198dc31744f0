// The path set the plugin would publish for a lab topology (r1 <-> r6 unless told otherwise),
// computed in-process: for lab tests that run a prober without ExaBGP in the loop.
import { Engine } from "../../plugin/engine.js";
import { directedPairs } from "../../plugin/paths.js";
import { createLogger } from "../../shared/log.js";
import type { PathSet } from "../../shared/pathset.js";
import type { PathQuery } from "../../plugin/paths.js";
import { ExabgpLines } from "../util/exabgp-lines.js";
import type { LabFamily, nanogLab } from "./netns.js";
import { lsTopologyFromLab } from "./topology-file.js";

/**
 * `query`: more of the plugin's path query, e.g. `{ target: "router" }` (plugin.paths.target).
 * `family`: which of the lab's address families BGP-LS reports (default IPv4 only).
 */
export async function labPathSet(topo: ReturnType<typeof nanogLab>, pairs: Array<[string, string]> = [["r1", "r6"]], query: Partial<PathQuery> = {}, family: LabFamily = "ipv4"): Promise<PathSet> {
  let set: PathSet | undefined;
  const engine = new Engine(
    { query: { pairs: directedPairs(pairs), mode: "all", maxPerPair: 64, ...(family === "ipv6" ? { families: ["ipv6" as const] } : {}), ...query }, metric: "igp", debounceMs: 0, staleTimeoutMs: 1000, routeRefresh: false, generation: 0, sliceMs: 0 },
    { log: createLogger({ name: "t", level: "error", stream: { write: () => {} } }), command: () => {}, publish: async (s) => void (set = s), now: () => new Date() },
  );
  let n = 0;
  for (const l of new ExabgpLines(lsTopologyFromLab(topo, 65001, family)).fullTable()) engine.handleLine(l, ++n);
  await engine.recompute();
  return set!;
}
