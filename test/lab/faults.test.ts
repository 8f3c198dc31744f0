// Each fault the lab can inject, seen by the prober: added delay, congestion (a real tbf queue
// with cross traffic), a router down (withdrawn over BGP-LS, paths through it gone) and back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LabStack, type ProberView } from "./stack.js";
import { nanogLab } from "./netns.js";
import { exabgpPrograms, findExabgp } from "./exabgp.js";
import { SHARED_DIR } from "../util/shared.js";

const skip = process.getuid?.() !== 0 ? "needs root (network namespaces, raw sockets)" : findExabgp() === undefined ? "exabgp is not installed" : false;

for (const exabgp of exabgpPrograms(SHARED_DIR)) {
  test(`lab faults (ExaBGP ${exabgp.version}): delay, congestion, router down and up`, { skip, timeout: 180_000 }, async (t) => {
    const stack = await LabStack.start(nanogLab(), { prometheus: false, convergenceMs: 500, exabgp });
    t.after(() => stack.stop());
    const wait = async (what: string, ok: (v: ProberView) => boolean, ms = 20_000): Promise<ProberView> => {
      const end = Date.now() + ms;
      for (;;) {
        if (stack.view && ok(stack.view)) return stack.view;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(stack.view?.paths.map((p) => [p.hops, p.state, p.rttP50Seconds, p.lossRatio]))}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const path = (v: ProberView, hops: string) => v.paths.find((p) => p.hops === hops);
    await wait("all up", (v) => v.paths.length === 4 && v.paths.every((p) => p.state === "up"));

    // 30 ms one way on r3 -> r5: only the path across it slows down, by about that much.
    const before = await stack.command(["status"]).then((s) => JSON.parse(s) as ProberView);
    const base = path(before, "r1>r3>r5>r6")!.rttP50Seconds!;
    stack.delay("r3", "r5", 30);
    const slow = await wait("r1>r3>r5>r6 slower by 30 ms", (v) => (path(v, "r1>r3>r5>r6")?.lastRttSeconds ?? 0) > 0.03);
    assert.ok((path(slow, "r1>r3>r5>r6")!.lastRttSeconds ?? 0) < base + 0.1);
    for (const other of ["r1>r2>r4>r6", "r1>r2>r5>r6", "r1>r3>r4>r6"]) assert.ok((path(slow, other)!.lastRttSeconds ?? 1) < 0.02, other);
    stack.clearFaults();

    // A 64 kbit/s bottleneck on r2 -> r5 filled with cross traffic: a real queue, real delay.
    await stack.congest("r2", "r5", 64);
    await wait("r1>r2>r5>r6 delayed or losing behind the queue", (v) => {
      const p = path(v, "r1>r2>r5>r6")!;
      return (p.lastRttSeconds ?? 0) > 0.02 || (p.lossRatio ?? 0) > 0.05;
    });
    await stack.uncongest("r2", "r5");

    // Router r5 down: withdrawn over BGP-LS, the paths through it leave the path set.
    await stack.routerDown("r5");
    const without = await wait("paths through r5 gone", (v) => v.paths.length === 2 && v.paths.every((p) => !p.hops.includes("r5") && p.state === "up"));
    assert.deepEqual(without.paths.map((p) => p.hops).sort(), ["r1>r2>r4>r6", "r1>r3>r4>r6"]);
    await stack.routerUp("r5");
    await wait("four paths again, all up", (v) => v.paths.length === 4 && v.paths.every((p) => p.state === "up"));
  });
}
