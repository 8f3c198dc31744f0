// One prober's slice of a path set (pure): the paths it probes, and the pairs they belong to.
//
// A prober probes the paths that start at the router it hangs off (prober.router; in reverse
// mode they test the way back too), so that is what its slice holds. The slice is a path set
// of its own (same schema, version, generation, topology and plan) that parsePathSet() reads
// like the whole one; a prober that names no router gets the whole set. A registered prober
// (an id and a router, publish/probers.ts) gets its assignment instead (plugin/assign.ts,
// shared coverage): assignedSlice(), the paths it was given, all of which start at its router.
import type { IncomingPath, OnewayPath, Path, PathSet } from "../../shared/pathset.js";

/** The set as `router`'s prober needs it; null: the whole set (the same object). */
export function pathSlice(set: PathSet, router: string | null): PathSet {
  if (router === null) return set;
  return {
    ...set,
    pairs: set.pairs.filter((p) => p.src === router),
    paths: set.paths.filter((p) => p.src === router),
  };
}

const routersOf = (p: Path): string => p.hops.map((h) => h.node).join(">");

/**
 * The slice of a registered prober: the paths `ids` names (all starting at `router`), their
 * mirrors (the paths back through the same routers: the prober does not probe them, it reads
 * the links its probes come back over from them), its router's pairs listing them, and its
 * one-way paths out and in (version 5).
 */
export function assignedSlice(set: PathSet, router: string, ids: ReadonlySet<string>, oneway: { oneway?: readonly OnewayPath[]; incoming?: readonly IncomingPath[] } = {}): PathSet {
  const back = new Set(set.paths.filter((p) => ids.has(p.id)).map((p) => [...p.hops].reverse().map((h) => h.node).join(">")));
  return {
    ...set,
    pairs: set.pairs.filter((p) => p.src === router).map((p) => ({ ...p, paths: p.paths.filter((id) => ids.has(id)) })),
    paths: set.paths.filter((p) => ids.has(p.id) || (p.src !== router && back.has(routersOf(p)))),
    ...(oneway.oneway?.length ? { oneway: [...oneway.oneway] } : {}),
    ...(oneway.incoming?.length ? { incoming: [...oneway.incoming] } : {}),
  };
}
