// Mode `cover`: the fewest of a pair's equal-cost paths that still cross every link of them.
//
// Minimum set cover is NP-hard; the greedy rule (repeatedly take the path that crosses the most
// links not yet crossed; ties go to the earlier path, i.e. lexicographic order) is within a
// factor H(n) ~ ln n of the optimum (Chvatal 1979). It pays off where equal-cost paths share
// long segments; in a full mesh of stages (NANOG 6, fat trees) every path holds a link pair no
// other path holds, and the cover is all of them.

/** Indices of the chosen paths, in the order chosen. Each path is given as its link ids. */
export function coverPaths(paths: string[][]): number[] {
  const uncovered = new Set(paths.flat());
  const chosen: number[] = [];
  const used = new Uint8Array(paths.length);
  while (uncovered.size > 0) {
    let best = -1;
    let bestGain = 0;
    for (let i = 0; i < paths.length; i++) {
      if (used[i]) continue;
      let gain = 0;
      for (const l of new Set(paths[i])) if (uncovered.has(l)) gain++;
      if (gain > bestGain) {
        best = i;
        bestGain = gain;
      }
    }
    if (best < 0) break;
    used[best] = 1;
    chosen.push(best);
    for (const l of paths[best]) uncovered.delete(l);
  }
  return chosen;
}
