// Parallel links in the inference: under router targets a probe crosses one of the parallel
// links into a router, nobody knows which; an observation gives them as one array entry, and
// the inference treats them as one element, named as the group, its blame never split.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inferLinkLoss, type LinkEnds, type PathObservation } from "../../prober/inference.js";
import { parallelGroupId } from "../../shared/pathset.js";

const ENDS: ReadonlyMap<string, LinkEnds> = new Map([
  ["ab1", { from: "a", to: "b" }],
  ["ab2", { from: "a", to: "b" }],
  ["bc", { from: "b", to: "c" }],
  ["ad", { from: "a", to: "d" }],
  ["dc", { from: "d", to: "c" }],
  ["xb", { from: "x", to: "b" }],
]);

interface Case {
  obs: PathObservation[];
  /** Element names reported as suspects, sorted. */
  suspects: string[];
  /** Links that must not appear as an estimate at all. */
  absent?: string[];
  check?: (r: ReturnType<typeof inferLinkLoss>) => void;
}

const cases: Record<string, Case> = {
  "a lossy hop over parallel links is one suspect, named as the group, with the path's whole loss": {
    obs: [
      { links: [["ab1", "ab2"], "bc"], sent: 1000, lost: 100 },
      { links: ["bc", "xb"], sent: 1000, lost: 0 }, // bc crossed without the group, healthy
      { links: ["ad", "dc"], sent: 1000, lost: 0 },
    ],
    suspects: ["ab1|ab2"],
    absent: ["ab1", "ab2"],
    check: (r) => {
      const g = r.links.find((l) => l.link === "ab1|ab2")!;
      assert.deepEqual(g.parallel, ["ab1", "ab2"]);
      assert.equal(g.identifiable, false, "which of the two loses, nobody can say");
      assert.ok(Math.abs(g.loss - 0.1) < 0.01, `the hop's loss is the path's, not split: ${g.loss}`);
      assert.equal(r.links.find((l) => l.link === "bc")!.suspect, false);
    },
  },
  "the members given in another order, or repeated, are the same group": {
    obs: [
      { links: [["ab2", "ab1", "ab2"], "bc"], sent: 1000, lost: 100 },
      { links: ["bc", "xb"], sent: 1000, lost: 0 },
    ],
    suspects: ["ab1|ab2"],
    absent: ["ab1", "ab2"],
  },
  "given as separate links instead, both would be named (the split blame the group avoids)": {
    obs: [
      { links: ["ab1", "ab2", "bc"], sent: 1000, lost: 100 },
      { links: ["bc", "xb"], sent: 1000, lost: 0 },
    ],
    suspects: ["ab1", "ab2"],
    check: (r) => {
      for (const l of ["ab1", "ab2"]) assert.deepEqual(r.links.find((x) => x.link === l)!.group, ["ab1", "ab2"]);
    },
  },
  "a member also crossed pinned (interface target) stays its own element: healthy there, the group is blamed": {
    obs: [
      { links: [["ab1", "ab2"], "bc"], sent: 1000, lost: 100 },
      { links: ["ab1", "bc"], sent: 1000, lost: 0 },
    ],
    suspects: ["ab1|ab2"],
    check: (r) => {
      const ab1 = r.links.find((l) => l.link === "ab1")!;
      assert.equal(ab1.suspect, false);
      assert.equal(ab1.parallel, undefined);
    },
  },
  "a healthy group is no suspect, and is still reported as one estimate": {
    obs: [
      { links: [["ab1", "ab2"], "bc"], sent: 1000, lost: 0 },
      { links: ["ad", "dc"], sent: 1000, lost: 0 },
    ],
    suspects: [],
    absent: ["ab1", "ab2"],
    check: (r) => assert.deepEqual(r.links.find((l) => l.link === "ab1|ab2")!.parallel, ["ab1", "ab2"]),
  },
  "an array of one link is that link": {
    obs: [
      { links: [["ab1"], "bc"], sent: 1000, lost: 100 },
      { links: ["bc", "xb"], sent: 1000, lost: 0 },
    ],
    suspects: ["ab1"],
    check: (r) => assert.equal(r.links.find((l) => l.link === "ab1")!.parallel, undefined),
  },
};

for (const [name, c] of Object.entries(cases)) {
  test(`inference, parallel links: ${name}`, () => {
    const r = inferLinkLoss(c.obs, {}, ENDS);
    assert.deepEqual(r.links.filter((l) => l.suspect).map((l) => l.link).sort(), c.suspects);
    for (const a of c.absent ?? []) assert.ok(!r.links.some((l) => l.link === a), `${a} is not an element of its own`);
    c.check?.(r);
  });
}

test("inference, parallel links: the group's ends come from its members (a router behind a dead group and its other links)", () => {
  // b dead: every path through b loses all; its links are the group a=>b, bc and xb.
  const obs: PathObservation[] = [
    { links: [["ab1", "ab2"], "bc"], sent: 500, lost: 500 },
    { links: ["xb", "bc"], sent: 500, lost: 500 },
    { links: [["ab1", "ab2"], "xb"], sent: 500, lost: 500 },
    { links: ["ad", "dc"], sent: 500, lost: 0 },
  ];
  const r = inferLinkLoss(obs, {}, ENDS);
  const b = r.devices.find((d) => d.node === "b")!;
  assert.ok(b.links.includes("ab1|ab2"), `b's links: ${b.links.join(", ")}`);
  assert.equal(b.suspect, true);
});

test("parallelGroupId: sorted, deduplicated, a lone link its own id", () => {
  assert.equal(parallelGroupId(["l-b", "l-a", "l-b"]), "l-a|l-b");
  assert.equal(parallelGroupId(["l-a"]), "l-a");
});
