// One-way arrivals counted per (incoming path, family, sender nonce) (prober/onewayrx.ts, issue
// 14 Must 4): in order, gaps, reorder within the timeout, late after declared lost, duplicates,
// a jump beyond the ring, a stream joined midway, a sender restart (the old record kept until
// reported settled), idle records dropped with the metrics' totals kept. Pure: the clock is an
// argument (ns).
import { test } from "node:test";
import assert from "node:assert/strict";
import { IDLE_DROP_NS, OnewayReceiver, SequenceCounter } from "../../prober/onewayrx.js";
import { onewayLoss } from "../../shared/counts.js";
import { onewayTag, type IncomingPath } from "../../shared/pathset.js";

const TIMEOUT = 200e6; // 200 ms
const MS = 1e6;
const counts = (r: SequenceCounter) => ({ received: r.received, lost: r.lost, late: r.late, duplicate: r.duplicate, next: r.next });

test("one-way counter: in order, nothing lost; next = highest + 1", () => {
  const r = new SequenceCounter(7, 256, TIMEOUT, 0, 0);
  for (let s = 0; s < 100; s++) assert.equal(r.arrive(s, s * 10 * MS), "received");
  r.settle(10_000 * MS);
  assert.deepEqual(counts(r), { received: 100, lost: 0, late: 0, duplicate: 0, next: 100 });
  assert.equal(r.settled, true);
});

test("one-way counter: a gap is lost only once it has been missing for the timeout after a later arrival", () => {
  const r = new SequenceCounter(7, 256, TIMEOUT, 0, 0);
  for (const s of [0, 1, 2, 4, 5, 6, 8, 9]) r.arrive(s, 100 * MS); // 3 and 7 missing from 100 ms
  r.settle(100 * MS + TIMEOUT - 1);
  assert.deepEqual(counts(r), { received: 8, lost: 0, late: 0, duplicate: 0, next: 10 }, "not yet: within the timeout");
  assert.equal(r.settled, false);
  r.settle(100 * MS + TIMEOUT);
  assert.deepEqual(counts(r), { received: 8, lost: 2, late: 0, duplicate: 0, next: 10 });
  assert.equal(r.settled, true);
  // The sender settled 12 (10 and 11 never came either: the tail): 4 lost of 12.
  assert.equal(onewayLoss(12, r), 4);
});

test("one-way counter: reordered within the timeout is received, not lost", () => {
  const r = new SequenceCounter(7, 256, TIMEOUT, 0, 0);
  r.arrive(0, 0);
  r.arrive(1, 1 * MS);
  r.arrive(3, 2 * MS); // 2 missing from 2 ms
  assert.equal(r.arrive(2, 150 * MS), "received");
  r.settle(10_000 * MS);
  assert.deepEqual(counts(r), { received: 4, lost: 0, late: 0, duplicate: 0, next: 4 });
});

test("one-way counter: arriving after being declared lost is late, not received (lost stays as reported)", () => {
  const r = new SequenceCounter(7, 256, TIMEOUT, 0, 0);
  r.arrive(0, 0);
  r.arrive(2, 10 * MS);
  r.settle(10 * MS + TIMEOUT);
  assert.equal(r.lost, 1);
  assert.equal(r.arrive(1, 500 * MS), "late");
  assert.equal(r.arrive(1, 501 * MS), "duplicate", "a second copy of a late one");
  assert.deepEqual(counts(r), { received: 2, lost: 1, late: 1, duplicate: 1, next: 3 });
});

test("one-way counter: duplicates are counted apart, never as received", () => {
  const r = new SequenceCounter(7, 256, TIMEOUT, 0, 0);
  assert.deepEqual([r.arrive(0, 0), r.arrive(1, 0), r.arrive(1, 0), r.arrive(0, 0)], ["received", "received", "duplicate", "duplicate"]);
  assert.deepEqual(counts(r), { received: 2, lost: 0, late: 0, duplicate: 2, next: 2 });
});

test("one-way counter: a record starts at its first arrival (a stream joined midway: nothing before it is lost)", () => {
  const late = new SequenceCounter(7, 256, TIMEOUT, 3, 0);
  late.arrive(3, 0);
  late.arrive(5, 1 * MS);
  late.settle(10_000 * MS);
  assert.deepEqual(counts(late), { received: 2, lost: 1, late: 0, duplicate: 0, next: 6 }, "4 is lost, 0-2 were never its to count");
  const midway = new SequenceCounter(7, 256, TIMEOUT, 10_000, 0);
  midway.arrive(10_000, 0);
  midway.arrive(10_001, 1 * MS);
  midway.settle(10_000 * MS);
  assert.deepEqual(counts(midway), { received: 2, lost: 0, late: 0, duplicate: 0, next: 10_002 });
  assert.equal(midway.arrive(9_000, 2 * MS), "late", "before the record began: it arrived, its fate unknown here");
});

test("one-way counter: a jump beyond the ring decides what leaves it (lost), the rest after the timeout", () => {
  const r = new SequenceCounter(7, 256, TIMEOUT, 0, 0);
  r.arrive(0, 0);
  r.arrive(1000, 5 * MS); // 1 .. 999 missing: 1 .. 744 leave the 256-slot ring at once
  assert.deepEqual(counts(r), { received: 2, lost: 744, late: 0, duplicate: 0, next: 1001 });
  r.settle(5 * MS + TIMEOUT);
  assert.deepEqual(counts(r), { received: 2, lost: 999, late: 0, duplicate: 0, next: 1001 });
  assert.equal(r.arrive(500, 6 * MS), "late", "out of the ring: it did arrive, after being counted lost");
  assert.equal(r.arrive(900, 6 * MS), "late", "in the ring, declared lost");
});

const INCOMING: IncomingPath = { id: "p1>B", tag: onewayTag("p1>B"), from: "A", fromAddress: { ipv4: "198.18.100.2" }, src: "r1", dst: "r6", families: ["ipv4"], links: ["l1", "l2"] };

function receiver() {
  const rx = new OnewayReceiver({ timeoutNs: TIMEOUT, window: () => 256 });
  rx.setPaths([INCOMING], 0);
  return rx;
}

test("one-way receiver: by tag and family; a sender restart (new nonce) starts a new record, the old one is kept until reported settled", () => {
  const rx = receiver();
  assert.equal(rx.stream(INCOMING.tag, "ipv6"), undefined, "not an IPv6 path");
  assert.equal(rx.stream(INCOMING.tag ^ 1, "ipv4"), undefined);
  const s = rx.stream(INCOMING.tag, "ipv4")!;
  for (const q of [0, 1, 2, 4]) rx.arrive(s, 111, q, 10 * MS); // 3 missing when it restarts
  for (const q of [0, 1]) rx.arrive(s, 222, q, 20 * MS);
  const rows = (): number[][] => rx.records(s).map((r) => [r.nonce, r.received, r.lost, r.next]);
  assert.deepEqual(rows(), [
    [222, 2, 0, 2],
    [111, 4, 0, 5],
  ]);
  assert.equal(rx.arrive(s, 111, 3, 30 * MS), "received", "a straggler of the old run goes to its own record");
  rx.arrive(s, 111, 6, 40 * MS); // 5 missing
  rx.settle(40 * MS + TIMEOUT);
  assert.deepEqual(rows(), [
    [222, 2, 0, 2],
    [111, 6, 1, 7],
  ], "reported settled: shown this once");
  rx.settle(41 * MS + TIMEOUT);
  assert.deepEqual(rows(), [[222, 2, 0, 2]], "then dropped");
  assert.deepEqual(rx.totals(s), { received: 8, lost: 1, late: 0, duplicate: 0 }, "the metrics' totals keep its counts");
});

test("one-way receiver: a retired record not yet settled when reported stays until it is, and is shown settled", () => {
  const rx = receiver();
  const s = rx.stream(INCOMING.tag, "ipv4")!;
  rx.arrive(s, 1, 0, 0);
  rx.arrive(s, 1, 2, 1 * MS); // 1 missing
  rx.arrive(s, 2, 0, 2 * MS);
  assert.equal(rx.records(s).length, 2, "reported unsettled");
  rx.settle(3 * MS);
  assert.equal(rx.records(s).length, 2, "still there");
  rx.settle(1 * MS + TIMEOUT);
  assert.deepEqual(rx.records(s).map((r) => [r.nonce, r.lost]), [[2, 0], [1, 1]], "its final counts reported");
  rx.settle(2 * MS + TIMEOUT);
  assert.deepEqual(rx.records(s).map((r) => r.nonce), [2]);
});

test("one-way receiver: records idle for 10 minutes are dropped (bounded memory), the totals stay; kept paths keep their records across path sets", () => {
  const rx = receiver();
  const s = rx.stream(INCOMING.tag, "ipv4")!;
  rx.arrive(s, 5, 0, 0);
  rx.arrive(s, 5, 1, 0);
  rx.setPaths([{ ...INCOMING, links: ["l1", "l2", "l3"] }], 0);
  assert.equal(rx.stream(INCOMING.tag, "ipv4"), s, "the same stream object");
  assert.equal(rx.records(s).length, 1);
  rx.settle(IDLE_DROP_NS - 1);
  assert.equal(rx.records(s).length, 1);
  rx.settle(IDLE_DROP_NS);
  assert.equal(rx.records(s).length, 0);
  assert.deepEqual(rx.totals(s), { received: 2, lost: 0, late: 0, duplicate: 0 });
  rx.setPaths([], 0);
  assert.equal(rx.stream(INCOMING.tag, "ipv4"), undefined, "a path gone from the incoming list is forgotten");
  assert.deepEqual(rx.streams(), []);
});

test("one-way receiver: at most four earlier senders' records per path (a forger without the key cannot grow it)", () => {
  const rx = receiver();
  const s = rx.stream(INCOMING.tag, "ipv4")!;
  for (let nonce = 1; nonce <= 10; nonce++) rx.arrive(s, nonce, 0, nonce * MS);
  assert.deepEqual(rx.records(s).map((r) => r.nonce), [10, 6, 7, 8, 9]);
  assert.equal(rx.totals(s).received, 10);
});
