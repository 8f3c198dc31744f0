// Telling a reply flood from the prober's own overload (prober/flood.ts), second by second.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FLOOD_MIN_PPS, FLOOD_QUIET_S, FloodDetector, type FloodSecond } from "../../prober/flood.js";

/** Seconds of [rejected, accepted, dropped] counts fed to a new detector; what each second said. */
function feed(seconds: Array<[number, number, number | undefined]>): { d: FloodDetector; out: FloodSecond[] } {
  const d = new FloodDetector();
  let rejected = 0;
  let accepted = 0;
  d.second(0, 0, 0, 0); // the baseline
  const out = seconds.map(([j, a, drops], i) => d.second((i + 1) * 1e9, (rejected += j), (accepted += a), drops));
  return { d, out };
}

const cases: Record<string, { seconds: Array<[number, number, number | undefined]>; flood: boolean[]; risk: boolean[]; events: Array<string | undefined> }> = {
  "replies only, dropping (the prober's own overload)": { seconds: [[0, 800, 0], [0, 750, 50], [0, 800, 0]], flood: [false, false, false], risk: [false, false, false], events: [undefined, undefined, undefined] },
  "100,000/s rejected against 800 replies: a flood from its first second": { seconds: [[57_000, 456, 43_000], [57_000, 456, 43_000]], flood: [true, true], risk: [true, true], events: ["start", undefined] },
  "a flood the socket keeps up with: no risk second": { seconds: [[10_000, 800, 0]], flood: [true], risk: [false], events: ["start"] },
  "many rejected, but fewer than the replies: not a flood": { seconds: [[5_000, 150_000, 200]], flood: [false], risk: [false], events: [undefined] },
  [`more rejected than replies, but under ${FLOOD_MIN_PPS}/s: not a flood`]: { seconds: [[FLOOD_MIN_PPS - 1, 10, 5]], flood: [false], risk: [false], events: [undefined] },
  [`ends after ${FLOOD_QUIET_S} quiet seconds; drops in them are still the flood's`]: {
    seconds: [[50_000, 100, 10], [0, 800, 7], [0, 800, 0], [0, 800, 0], [0, 800, 3]],
    flood: [true, true, true, true, false],
    risk: [true, true, false, false, false],
    events: ["start", undefined, undefined, "end", undefined],
  },
  "a flood second among quiet ones keeps it on": { seconds: [[50_000, 100, 0], [0, 800, 0], [50_000, 100, 0], [0, 800, 0], [0, 800, 0]], flood: [true, true, true, true, true], risk: [false, false, false, false, false], events: ["start", undefined, undefined, undefined, undefined] },
  "without a drop counter: a flood, never a risk second": { seconds: [[50_000, 100, undefined]], flood: [true], risk: [false], events: ["start"] },
};
for (const [name, c] of Object.entries(cases)) {
  test(`flood: ${name}`, () => {
    const { out } = feed(c.seconds);
    assert.deepEqual(out.map((s) => s.flood), c.flood, "flood");
    assert.deepEqual(out.map((s) => s.risk), c.risk, "risk");
    assert.deepEqual(out.map((s) => s.event?.kind), c.events, "events");
  });
}

test("flood: the events carry the rates and totals the logs print", () => {
  const { d, out } = feed([[60_000, 500, 40_000], [80_000, 400, 20_000], [0, 800, 0], [0, 800, 0], [0, 800, 0]]);
  assert.deepEqual(out[0].event, { kind: "start", rejectedPps: 60_000, acceptedPps: 500, dropsPps: 40_000 });
  assert.deepEqual(out[4].event, { kind: "end", seconds: 5, rejected: 140_000, peakPps: 80_000, drops: 60_000, riskSeconds: 2 });
  assert.equal(d.lastRiskEndNs, 2e9, "the end of the last second that dropped during it");
  assert.equal(d.active, false);
});

test("flood: suspected() sees a flood starting before the second ends", () => {
  const d = new FloodDetector();
  assert.equal(d.suspected(0, 0, 0), false, "no baseline yet");
  d.second(0, 0, 0, 0);
  assert.equal(d.suspected(0.5e9, 5_000, 400), true, "10,000/s so far, more than the replies");
  assert.equal(d.suspected(0.5e9, 300, 400), false, "fewer than the replies");
  assert.equal(d.suspected(0.5e9, 450, 400), false, "900/s: under the threshold");
  assert.equal(d.suspected(1e6, 5, 0), false, "5 in the first millisecond: at least 10 ms of counts decide");
  d.second(1e9, 50_000, 400, 0);
  assert.equal(d.suspected(1.1e9, 50_000, 480), true, "on until it ends");
});
