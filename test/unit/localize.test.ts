import { test } from "node:test";
import assert from "node:assert/strict";
import { suspectLinks, type PathHealth } from "../../prober/localize.js";

// NANOG 6, r1->r6 and back, out-and-back probes: each path crosses its links both ways.
const nanog = (failing: string[]): PathHealth[] =>
  [
    ["r1r2", "r2r4", "r4r6"],
    ["r1r2", "r2r5", "r5r6"],
    ["r1r3", "r3r4", "r4r6"],
    ["r1r3", "r3r5", "r5r6"],
  ].map((links) => ({ links, failing: failing.some((l) => links.includes(l)) }));

const cases: Record<string, { paths: PathHealth[]; want: Array<[string, number]> }> = {
  "all healthy: no suspect": { paths: nanog([]), want: [] },
  "r2-r4 broken: only r2-r4 is left": { paths: nanog(["r2r4"]), want: [["r2r4", 1]] },
  "r1-r2 broken: r1-r2 first (on both failing paths), the rest after": {
    paths: nanog(["r1r2"]),
    want: [["r1r2", 2], ["r2r4", 1], ["r2r5", 1]],
  },
  "everything failing: ranked by crossings": {
    paths: nanog(["r1r2", "r1r3"]),
    want: [["r1r2", 2], ["r1r3", 2], ["r4r6", 2], ["r5r6", 2], ["r2r4", 1], ["r2r5", 1], ["r3r4", 1], ["r3r5", 1]],
  },
  "a link repeated in one path counts once": { paths: [{ links: ["a", "a", "b"], failing: true }, { links: ["b"], failing: false }], want: [["a", 1]] },
};
for (const [name, c] of Object.entries(cases)) {
  test(`localize: ${name}`, () => {
    assert.deepEqual(suspectLinks(c.paths).map((s) => [s.link, s.failing]), c.want);
  });
}
