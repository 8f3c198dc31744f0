// One prober's slice of a path set (pure): the paths it probes, and the pairs they belong to.
//
// A prober probes the paths that start at the router it hangs off (prober.router; in reverse
// mode they test the way back too), so that is what its slice holds. The slice is a path set
// of its own (same schema, version, generation, topology and plan) that parsePathSet() reads
// like the whole one; a prober that names no router gets the whole set. Which prober asked
// (its id) does not change the slice yet: it is counted, and is where shared coverage (issue
// 14, Must 2) will hand out paths.
import type { PathSet } from "../../shared/pathset.js";

/** The set as `router`'s prober needs it; null: the whole set (the same object). */
export function pathSlice(set: PathSet, router: string | null): PathSet {
  if (router === null) return set;
  return {
    ...set,
    pairs: set.pairs.filter((p) => p.src === router),
    paths: set.paths.filter((p) => p.src === router),
  };
}
