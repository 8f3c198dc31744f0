import { test } from "node:test";
import assert from "node:assert/strict";
import { Scheduler } from "../../prober/scheduler.js";

const S = 1e9;
const MS = 1e6;

function run(s: Scheduler, fromNs: number, toNs: number, stepNs: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = fromNs; t <= toNs; t += stepNs) for (let k = s.due(t); k > 0; k--) out.push([t, s.next()]);
  return out;
}

function uniform(n: number, rate: number): number[] {
  return new Array<number>(n).fill(rate);
}

/** Distinct positive rates. */
const distinct = (rates: number[]): number => new Set(rates.filter((r) => r > 0)).size;

/** Send times of entry `e`. */
const timesOf = (sent: Array<[number, number]>, e: number): number[] => sent.filter(([, i]) => i === e).map(([t]) => t);
const gaps = (times: number[]): number[] => times.slice(1).map((t, k) => t - times[k]);

for (const c of [
  { n: 1, rate: 25 },
  { n: 4, rate: 25 },
  { n: 7, rate: 3 },
  { n: 100, rate: 1.5 },
]) {
  test(`scheduler: ${c.n} entries at one rate are served round robin in index order`, () => {
    const s = new Scheduler({ maxPps: 1e6 });
    s.setEntries(uniform(c.n, c.rate), 0);
    const order = Array.from({ length: 5 * c.n }, () => s.next());
    assert.deepEqual(order, Array.from({ length: 5 * c.n }, (_, k) => k % c.n));
  });
}

test("scheduler: equal rates, evenly spaced in time, one probe per aggregate slot", () => {
  const s = new Scheduler({ maxPps: 1e6 });
  s.setEntries(uniform(4, 25), 0);
  const sent = run(s, 0, 1 * S, MS); // 1 ms ticks for 1 s
  assert.equal(sent.length, 100);
  assert.equal(s.rate, 100);
  for (let e = 0; e < 4; e++) {
    const times = timesOf(sent, e);
    assert.equal(times.length, 25);
    for (const g of gaps(times)) assert.ok(Math.abs(g - 40 * MS) <= MS, `gap ${g}`);
  }
  // Aggregate: 10 ms apart, never two in the same tick.
  assert.equal(new Set(sent.map(([t]) => t)).size, 100);
});

for (const c of [
  { rates: [1, 2, 5] },
  { rates: [10, 40] },
  { rates: [3, 3, 7, 0.5] },
  { rates: [0, 5, 0, 10], note: "rate 0: idle" },
  { rates: [2.5, 7.25, 1, 1, 1, 12] },
]) {
  test(`scheduler: rates ${c.rates.join(":")} get shares in proportion, each evenly spaced`, () => {
    const s = new Scheduler({ maxPps: 1e6 });
    s.setEntries(c.rates, 0);
    const sum = c.rates.reduce((a, b) => a + b, 0);
    assert.equal(s.rate, sum);
    assert.equal(s.capped, false);
    // 200 s in slots: the k-th probe goes to next() in the k-th aggregate slot.
    const total = 200 * sum;
    const slack = Math.max(1, distinct(c.rates) - 1);
    const slots: number[][] = c.rates.map(() => []);
    for (let k = 0; k < total; k++) slots[s.next()].push(k);
    c.rates.forEach((r, i) => {
      assert.ok(Math.abs(slots[i].length - (total * r) / sum) <= 1, `entry ${i}: ${slots[i].length} of ${total}`);
      // Consecutive probes are sum/rate slots apart (1/rate in virtual time), within a slot per
      // other distinct rate (each rate is one evenly spaced substream; they jostle).
      for (const g of gaps(slots[i])) assert.ok(Math.abs(g - sum / r) <= slack, `entry ${i}: gap ${g} slots, want ${sum / r}`);
    });
  });
}

test("scheduler: rates 1:2:5 in time: counts in proportion, gaps 1/rate within one aggregate slot", () => {
  const s = new Scheduler({ maxPps: 1e6 });
  s.setEntries([10, 20, 50], 0); // 80/s: one slot is 12.5 ms
  const sent = run(s, 0, 30 * S, MS);
  assert.equal(sent.length, 30 * 80);
  for (const [i, r] of [10, 20, 50].entries()) {
    const times = timesOf(sent, i);
    assert.ok(Math.abs(times.length - 30 * r) <= 1, `entry ${i}: ${times.length}`);
    for (const g of gaps(times)) assert.ok(Math.abs(g - S / r) <= 12.5 * MS + MS, `entry ${i}: gap ${g / MS} ms`);
  }
  assert.equal(new Set(sent.map(([t]) => t)).size, sent.length, "never two in one tick");
});

for (const c of [
  { rates: uniform(10, 100), maxPps: 200 },
  { rates: [10, 30, 60], maxPps: 50 },
  { rates: [1, 2, 5], maxPps: 4 },
]) {
  test(`scheduler: max-pps ${c.maxPps} over rates ${c.rates.length > 3 ? `${c.rates.length} x ${c.rates[0]}` : c.rates.join(":")} scales every entry by the same factor`, () => {
    const s = new Scheduler({ maxPps: c.maxPps });
    s.setEntries(c.rates, 0);
    assert.equal(s.capped, true);
    assert.equal(s.rate, c.maxPps);
    const sum = c.rates.reduce((a, b) => a + b, 0);
    const f = c.maxPps / sum;
    const seconds = 20;
    const sent = run(s, 0, seconds * S, MS);
    assert.equal(sent.length, seconds * c.maxPps);
    c.rates.forEach((r, i) => {
      const times = timesOf(sent, i);
      assert.ok(Math.abs(times.length - seconds * r * f) <= 1, `entry ${i}: ${times.length}`);
      const slot = S / c.maxPps;
      const slack = Math.max(1, distinct(c.rates) - 1) * slot + MS;
      for (const g of gaps(times)) assert.ok(Math.abs(g - S / (r * f)) <= slack, `entry ${i}: gap ${g / MS} ms`);
    });
  });
}

test("scheduler: under max-pps, not capped", () => {
  const s = new Scheduler({ maxPps: 100 });
  s.setEntries([10, 30, 60], 0);
  assert.equal(s.capped, false);
  assert.equal(s.rate, 100);
});

for (const c of [
  { rates: [1000], maxBacklogS: 0.01, due: 10, skipped: 990 },
  { rates: [600, 400], maxBacklogS: 0.01, due: 10, skipped: 990 },
  { rates: [10, 20, 50], maxBacklogS: 0.05, due: 4, skipped: 76 },
]) {
  test(`scheduler: a stall is not caught up as a burst (rates ${c.rates.join(":")})`, () => {
    const s = new Scheduler({ maxPps: 1e6, maxBacklogS: c.maxBacklogS });
    s.setEntries(c.rates, 0);
    assert.equal(s.due(1 * S), c.due);
    assert.equal(s.skipped, c.skipped);
    s.skip(c.due);
    assert.equal(s.due(1 * S), 0);
    assert.ok(s.untilNextNs(1 * S) > 0);
  });
}

for (const c of [
  { name: "a new entry", before: [10, 10], after: [10, 10, 10] },
  { name: "a rate raised", before: [10, 10], after: [10, 40] },
  { name: "a rate lowered", before: [5, 40], after: [5, 2] },
  { name: "an entry gone", before: [10, 20, 30], after: [10, 0, 30] },
  { name: "new entries at other rates", before: [10], after: [10, 1, 2, 5] },
]) {
  test(`scheduler: ${c.name} continues the stream from now, without a gap or a burst`, () => {
    const s = new Scheduler({ maxPps: 1e6 });
    s.setEntries(c.before, 0);
    const a = run(s, 0, 0.5 * S, MS);
    s.setEntries(c.after, 0.5 * S);
    const b = run(s, 0.5 * S + MS, 10.5 * S, MS);
    const R = c.after.reduce((x, y) => x + y, 0);
    assert.equal(s.rate, R);
    // No gap: the first probe after the change within one new aggregate slot.
    assert.ok(b[0][0] - 0.5 * S <= S / R + MS, `first after ${(b[0][0] - 0.5 * S) / MS} ms`);
    assert.ok(b[0][0] - a[a.length - 1][0] <= S / c.before.reduce((x, y) => x + y, 0) + S / R + MS, "no hole across the change");
    // No burst: never two in one tick, and at most ceil(t x R) probes in any first t.
    assert.equal(new Set(b.map(([t]) => t)).size, b.length);
    for (const [k, [t]] of b.entries()) assert.ok(k + 1 <= Math.ceil(((t - 0.5 * S) / S) * R) + 1, `probe ${k} at ${t}`);
    // Each entry at its new rate from then on, none catching up.
    c.after.forEach((r, i) => {
      const times = timesOf(b, i);
      assert.ok(Math.abs(times.length - 10 * r) <= 1, `entry ${i}: ${times.length} in 10 s at ${r}/s`);
      if (r > 0) assert.ok(times[0] - 0.5 * S <= S / r + S / R + MS, `entry ${i} starts within one stride`);
      for (const g of gaps(times)) assert.ok(g >= S / r - S / R - MS, `entry ${i}: gap ${g / MS} ms`);
    });
  });
}

test("scheduler: frequent changes neither starve nor burst a slow entry (it keeps its place)", () => {
  const s = new Scheduler({ maxPps: 1e6 });
  const sent: Array<[number, number]> = [];
  // Entry 0 at 1/s; entry 1's rate changes every 300 ms, well inside entry 0's stride.
  for (let k = 0; k < 100; k++) {
    const t0 = k * 0.3 * S;
    s.setEntries([1, k % 2 === 0 ? 50 : 60], t0);
    sent.push(...run(s, t0 + MS, t0 + 0.3 * S, MS));
  }
  const slow = timesOf(sent, 0);
  assert.ok(Math.abs(slow.length - 30) <= 1, `${slow.length} probes of the slow entry in 30 s`);
  for (const g of gaps(slow)) assert.ok(Math.abs(g - S) <= (2 * S) / 51 + MS, `gap ${g / MS} ms`);
});

test("scheduler: a position marked fresh starts anew instead of inheriting its predecessor's place", () => {
  const s = new Scheduler({ maxPps: 1e6 });
  s.setEntries([1, 100], 0);
  const a = run(s, 0, 0.6 * S, MS); // entry 0 was served at 0.5 s: next due at 1.5 s
  assert.equal(timesOf(a, 0).length, 1);
  s.setEntries([1, 100], 0.6 * S, new Set([0])); // a new entry took position 0
  const b = run(s, 0.6 * S + MS, 1.2 * S, MS);
  assert.equal(timesOf(b, 0).length, 1, "served half a stride after the change, not a second later");
});

test("scheduler: no entries: nothing due, no timer", () => {
  const s = new Scheduler({ maxPps: 1e6 });
  s.setEntries([], 0);
  assert.equal(s.due(10 * S), 0);
  assert.equal(s.untilNextNs(10 * S), Infinity);
  assert.equal(s.rate, 0);
  s.setEntries([0, 0], 0);
  assert.equal(s.entries, 0);
  assert.equal(s.due(10 * S), 0);
});
