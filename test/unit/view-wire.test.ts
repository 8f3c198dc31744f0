// The one view's streams as they go to its inference worker (plugin/view/wire.ts): decoding what
// was encoded gives the streams back, every field, in order; names are sent once; and the worker
// (transferred buffers, across a real thread) infers the same verdict as the main thread.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { decodeStreams, encodeStreams, transferList } from "../../plugin/view/wire.js";
import { inferView } from "../../plugin/view/infer.js";
import { InferenceWorker } from "../../plugin/view/worker.js";
import type { Stream } from "../../plugin/view/union.js";

const loop = (links: Stream["links"], sent: number, lost: number, prober = "a", af: Stream["af"] = "ipv4"): Stream => ({ kind: "loop", af, probers: [prober], links, sent, lost });
const oneway = (links: Stream["links"], sent: number, lost: number, af: Stream["af"] = "ipv6"): Stream => ({ kind: "oneway", af, probers: ["a", "b"], links, sent, lost });

const CASES: Array<[string, Stream[]]> = [
  ["no streams", []],
  ["one loop, IPv4", [loop(["l1", "l2", "l2r", "l1r"], 750, 3)]],
  ["one-way IPv6 with sender and receiver", [oneway(["l1", "l2"], 100, 0)]],
  ["parallel links as one element beside the same link alone", [loop([["p1", "p2"], "p1", "l3"], 10, 10, "c"), loop(["p1"], 5, 0, "d", "ipv6")]],
  ["a link named like a parallel group's join is still its own element", [loop(["p1|p2", ["p1", "p2"]], 1, 0)]],
  ["no links, nothing sent", [loop([], 0, 0), oneway([], 0, 0, "ipv4")]],
  ["counts beyond 2^31", [loop(["l1"], 2 ** 40, 2 ** 33)]],
];

for (const [what, streams] of CASES) {
  test(`wire: ${what}: decode(encode(streams)) gives them back`, () => {
    assert.deepEqual(decodeStreams(encodeStreams(streams)), streams);
  });
}

test("wire: each element and prober name is in the tables once; the arrays are what is transferred", () => {
  const streams = [loop(["l1", "l2"], 9, 1, "a"), loop(["l2", "l1", ["p1", "p2"]], 9, 0, "b"), oneway([["p1", "p2"], "l1"], 4, 4)];
  const w = encodeStreams(streams);
  assert.deepEqual(w.elements, ["l1", "l2", ["p1", "p2"]]);
  assert.deepEqual(w.probers, ["a", "b"]);
  assert.deepEqual([...w.links], [0, 1, 1, 0, 2, 2, 0]);
  assert.equal(transferList(w).length, 7);
  // Moved through a port: the encoder's arrays are detached, the receiver decodes the same streams.
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(w, transferList(w));
  assert.equal(w.sent.length, 0, "the sender's arrays were moved, not copied");
  const got = receiveMessageOnPort(port2);
  port1.close();
  assert.deepEqual(decodeStreams(got!.message), streams);
});

test("wire: the inference worker names the same suspect as inferView on the main thread", async (t) => {
  // Three parallel loops through r1 -> r2 -> r3 and back; r2 -> r3 loses 20 %.
  const ends = new Map([
    ["a", { from: "r1", to: "r2" }],
    ["b", { from: "r2", to: "r3" }],
    ["br", { from: "r3", to: "r2" }],
    ["ar", { from: "r2", to: "r1" }],
    ["c", { from: "r2", to: "r4" }],
    ["cr", { from: "r4", to: "r2" }],
  ]);
  const streams = [loop(["a", "b", "br", "ar"], 1000, 200, "p"), loop(["a", "c", "cr", "ar"], 1000, 0, "p"), oneway(["a", "b"], 1000, 190, "ipv4"), oneway(["a", "c"], 1000, 0, "ipv4")];
  const worker = new InferenceWorker();
  t.after(() => worker.close());
  const here = inferView(streams, ends);
  const there = await worker.infer(streams, ends, {});
  assert.deepEqual(there, here);
  assert.deepEqual(there.links.filter((l) => l.suspect).map((l) => `${l.from}->${l.to}`), ["r2->r3"]);
});
