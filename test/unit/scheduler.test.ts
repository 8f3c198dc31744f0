import { test } from "node:test";
import assert from "node:assert/strict";
import { Scheduler } from "../../prober/scheduler.js";

const S = 1e9;

function run(s: Scheduler, fromNs: number, toNs: number, stepNs: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = fromNs; t <= toNs; t += stepNs) for (let k = s.due(t); k > 0; k--) out.push([t, s.next()]);
  return out;
}

test("scheduler: each entry gets its rate, evenly spaced, round robin", () => {
  const s = new Scheduler({ ratePerEntry: 25, maxPps: 1e6 });
  s.setEntries(4, 0);
  const sent = run(s, 0, 1 * S, 1e6); // 1 ms ticks for 1 s
  assert.equal(sent.length, 100);
  for (let e = 0; e < 4; e++) {
    const times = sent.filter(([, i]) => i === e).map(([t]) => t);
    assert.equal(times.length, 25);
    const gaps = times.slice(1).map((t, k) => t - times[k]);
    for (const g of gaps) assert.ok(Math.abs(g - 40e6) <= 1e6, `gap ${g}`);
  }
  // Aggregate: 10 ms apart, never two in the same tick.
  assert.equal(new Set(sent.map(([t]) => t)).size, 100);
});

test("scheduler: the global cap scales every entry down", () => {
  const s = new Scheduler({ ratePerEntry: 100, maxPps: 200 });
  s.setEntries(10, 0);
  assert.equal(s.capped, true);
  assert.equal(s.rate, 200);
  assert.equal(run(s, 0, 1 * S, 1e6).length, 200);
});

test("scheduler: a stall is not caught up as a burst", () => {
  const s = new Scheduler({ ratePerEntry: 1000, maxPps: 1e6, maxBacklogS: 0.01 });
  s.setEntries(1, 0);
  assert.equal(s.due(1 * S), 10);
  assert.equal(s.skipped, 990);
});

test("scheduler: a new entry count continues the stream without a gap", () => {
  const s = new Scheduler({ ratePerEntry: 10, maxPps: 1e6 });
  s.setEntries(2, 0);
  const a = run(s, 0, 0.5 * S, 1e6);
  s.setEntries(3, 0.5 * S);
  const b = run(s, 0.5 * S + 1e6, 1.5 * S, 1e6);
  assert.equal(a.length, 10);
  assert.equal(b.length, 30);
  assert.ok(b[0][0] - a[a.length - 1][0] <= 34e6);
});
