import { test } from "node:test";
import assert from "node:assert/strict";
import { PathTracker, type Transition } from "../../prober/tracker.js";

const MS = 1e6;
const mk = () => new PathTracker(0, { window: 64, timeoutNs: 100 * MS, finalNs: 300 * MS, downAfter: 3, upAfter: 2 });
const adds = (t: PathTracker) => {
  const c = t.counters;
  assert.equal(c.sent, c.received + c.late + c.lost + t.inFlight);
  assert.ok(t.inFlight >= 0);
};

test("tracker: received, late, lost and in flight always add up to sent", () => {
  const t = mk();
  const s0 = t.send(0);
  const s1 = t.send(10 * MS);
  const s2 = t.send(20 * MS);
  t.send(30 * MS);
  assert.equal(t.receive(s0, 5 * MS), "received");
  assert.equal(t.lastRtt, 0.005);
  t.expire(200 * MS); // s1..s3 timed out, none final
  adds(t);
  assert.equal(t.receive(s1, 250 * MS), "late");
  t.expire(400 * MS); // s2, s3 final: lost
  assert.deepEqual([t.counters.received, t.counters.late, t.counters.lost, t.inFlight], [1, 1, 2, 0]);
  assert.equal(t.receive(s2, 401 * MS), "expired");
  assert.equal(t.receive(s0, 402 * MS), "duplicate");
  assert.equal(t.receive(999, 403 * MS), "replay");
  assert.equal(t.receive(-1, 403 * MS), "replay");
  adds(t);
  assert.deepEqual([t.counters.duplicate, t.counters.expired, t.counters.replay], [1, 1, 2]);
});

test("tracker: a replay of a sequence whose slot was reused is a replay, not received", () => {
  const t = mk();
  const first = t.send(0);
  assert.equal(t.receive(first, 1 * MS), "received");
  for (let i = 1; i <= 64; i++) t.receive(t.send(i * MS), i * MS + 1);
  assert.equal(t.receive(first, 100 * MS), "replay");
  assert.equal(t.counters.received, 65);
});

test("tracker: out-of-order replies are counted and still received once", () => {
  const t = mk();
  const a = t.send(0);
  const b = t.send(1 * MS);
  assert.equal(t.receive(b, 2 * MS), "received");
  assert.equal(t.receive(a, 3 * MS), "received");
  assert.equal(t.counters.outOfOrder, 1);
  assert.equal(t.counters.received, 2);
});

test("tracker: down after N consecutive timeouts, up after M successes", () => {
  const t = mk();
  const seen: Transition[] = [];
  const on = (x: Transition) => seen.push(x);
  let now = 0;
  const ok = () => {
    const s = t.send(now);
    t.receive(s, now + MS, on);
    now += 10 * MS;
    t.expire(now, on);
  };
  const bad = () => {
    t.send(now);
    now += 150 * MS;
    t.expire(now, on);
  };
  assert.equal(t.up, null);
  ok();
  assert.equal(t.up, null);
  ok();
  assert.equal(t.up, true);
  bad();
  bad();
  assert.equal(t.up, true);
  bad();
  assert.equal(t.up, false);
  ok();
  ok();
  assert.deepEqual(seen.map((x) => x.up), [true, false, true]);
  now += 1000 * MS;
  t.expire(now, on);
  adds(t);
  assert.equal(t.counters.lost, 3);
});

test("tracker: grow keeps every probe's state, and a larger window stops early finalizing", () => {
  const t = new PathTracker(0, { window: 4, timeoutNs: 100 * MS, finalNs: 300 * MS, downAfter: 3, upAfter: 1 });
  for (let i = 0; i < 6; i++) t.send(i * MS); // seqs 0, 1 finalized early; 2..5 in flight
  assert.equal(t.receive(3, 10 * MS), "received");
  t.grow(16);
  assert.equal(t.receive(3, 11 * MS), "duplicate");
  assert.equal(t.receive(1, 11 * MS), "replay"); // its slot went to seq 5 before the growth
  for (let i = 6; i < 16; i++) t.send(i * MS); // 2..15 fit in 16 slots: nothing more lost
  adds(t);
  assert.equal(t.counters.lost, 2);
  assert.equal(t.receive(2, 20 * MS), "received");
  assert.equal(t.receive(15, 20 * MS), "received");
  t.grow(8); // never shrinks
  assert.equal(t.receive(5, 21 * MS), "received");
  adds(t);
});

test("tracker: a window too small for the rate finalizes the oldest probe early, still adding up", () => {
  const t = new PathTracker(0, { window: 4, timeoutNs: 100 * MS, finalNs: 300 * MS, downAfter: 3, upAfter: 1 });
  for (let i = 0; i < 10; i++) t.send(i * MS);
  adds(t);
  assert.equal(t.counters.lost, 6);
  assert.equal(t.inFlight, 4);
});
