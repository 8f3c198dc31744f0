// Segment routing end to end (issue 15, acceptance): the lab's BGP-LS speakers advertise the SIDs
// the lab installs (withSegmentRouting), real ExaBGP carries them to the plugin, the path set
// (version 4) gives each path's SIDs, and the prober in h1 pins its probes with them: no
// decapsulation anywhere.
//   SRv6 (ExaBGP 5.0.13 only: 4.2.21 cannot decode the End.X SID TLV 1106): an IPv6-only lab
//   whose routers forward on the kernel's seg6local End.X routes (or, on a kernel without
//   seg6local, the routers' userspace End.X: Lab srv6Mode), the prober with encap srv6.
//   SR-MPLS (both ExaBGPs: 4.2.21 decodes Adj-SIDs): the userspace label switcher in each
//   router's helper, the prober with encap sr-mpls (MPLS-in-UDP over IPv4; MPLS-in-GRE over IPv6).
// Each: the four NANOG paths up with RTT and no loss, no tunnel decapsulated by any router; r2-r4
// down in the data plane (BGP-LS still announces it) takes exactly the path across it down and
// names r2-r4; a gray loss on r2 -> r4 is named; repair.
//
//   npx tsc -p . && node --test dist/test/lab/sr-stack.test.js
import { test } from "node:test";
import assert from "node:assert/strict";
import { LabStack, type ProberView } from "./stack.js";
import { nanogLab, type DecapCounters } from "./netns.js";
import { exabgpPrograms, findExabgp, type ExabgpProgram } from "./exabgp.js";
import { SHARED_DIR } from "../util/shared.js";

const skip = process.getuid?.() !== 0 ? "needs root (network namespaces, raw sockets)" : findExabgp() === undefined ? "exabgp is not installed" : false;
const FOUR = ["r1>r2>r4>r6", "r1>r2>r5>r6", "r1>r3>r4>r6", "r1>r3>r5>r6"];
const ACROSS_R2_R4 = ["r1>r2>r4>r6"];

async function waitFor(stack: LabStack, what: string, ok: (v: ProberView) => boolean, ms = 30_000): Promise<ProberView> {
  const end = Date.now() + ms;
  for (;;) {
    if (stack.view && ok(stack.view)) return stack.view;
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(stack.view?.paths.map((p) => [p.af, p.hops, p.encap, p.encapFallback, p.state, p.lost]))} suspects ${JSON.stringify(stack.view?.suspects)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const of = (v: ProberView, af: string) => v.paths.filter((p) => p.af === af && p.hops.startsWith("r1>"));
const pairOf = (s: { from: string; to: string }): string => [s.from, s.to].sort().join("-");

/** What the routers' tunnel decapsulators received (IPv4 GRE / IP-in-IP and IPv6 tunnels), summed. */
const tunnelled = (c: Record<string, DecapCounters>): number => Object.values(c).reduce((n, x) => n + x.received + (x.ipv6?.received ?? 0), 0);

async function story(stack: LabStack, af: "ipv4" | "ipv6", encap: "srv6" | "sr-mpls", grayFamily?: "ipv6"): Promise<void> {
  const allUp = (v: ProberView): boolean => of(v, af).length === 4 && of(v, af).every((p) => p.state === "up" && p.received >= 20 && p.encap === encap);
  const before = await stack.lab.decapCounters();
  const up = await waitFor(stack, `four paths up over ${encap}`, allUp);
  assert.deepEqual(of(up, af).map((p) => p.hops).sort(), FOUR);
  for (const p of of(up, af)) {
    assert.equal(p.encap, encap, `${p.hops}: ${p.encapFallback ?? ""}`);
    assert.ok(p.lastRttSeconds !== null && p.lastRttSeconds > 0 && p.lastRttSeconds < 0.1, `${p.hops} RTT ${p.lastRttSeconds}`);
    assert.equal(p.lost, 0, `${p.hops}: no loss`);
  }
  // No tunnel decapsulated anywhere: the routers' GRE / IP-in-IP decapsulators saw nothing.
  const counters = await stack.lab.decapCounters();
  assert.equal(tunnelled(counters) - tunnelled(before), 0, `tunnel decapsulation: ${JSON.stringify(counters)}`);
  if (encap === "sr-mpls") for (const r of ["r1", "r2", "r4", "r6"]) assert.ok((counters[r].mpls?.forwarded ?? 0) > 0, `${r}'s label switcher forwarded: ${JSON.stringify(counters[r])}`);
  else {
    for (const r of Object.keys(counters)) assert.equal(counters[r].mpls?.received ?? 0, before[r].mpls?.received ?? 0, `${r}: no label switched`);
    // End.X in userspace (a kernel without seg6local): every router of the paths ran it; else none did.
    for (const r of ["r1", "r2", "r3", "r4", "r5", "r6"]) {
      const endX = (counters[r].srv6?.forwarded ?? 0) - (before[r].srv6?.forwarded ?? 0);
      if (stack.lab.srv6Mode === "userspace") assert.ok(endX > 0, `${r}'s userspace End.X forwarded: ${JSON.stringify(counters[r])}`);
      else assert.equal(endX, 0, `${r}: the kernel's End.X, not the helper`);
    }
  }

  // Data plane only (BGP-LS still announces the link): the probes across it are lost.
  await stack.lab.linkDown("r2", "r4");
  const down = await waitFor(stack, "r2-r4 named", (v) => of(v, af).some((p) => p.state === "down") && v.suspects.length > 0);
  assert.deepEqual(of(down, af).filter((p) => p.state === "down").map((p) => p.hops).sort(), ACROSS_R2_R4);
  assert.ok(down.suspects.every((s) => pairOf(s) === "r2-r4" && s.af === af), JSON.stringify(down.suspects));
  await stack.lab.linkUp("r2", "r4");
  await stack.lab.installRoutes(); // the kernel flushed the routes (the End.X SIDs among them) over the down link
  await waitFor(stack, "all up again, no suspect", (v) => allUp(v) && v.suspects.length === 0);

  // A gray loss one way on r2 -> r4: named, never another link.
  stack.gray("r2", "r4", 0.3, grayFamily);
  const gray = await waitFor(stack, "the gray loss named", (v) => v.suspects.length > 0);
  assert.ok(gray.suspects.every((s) => pairOf(s) === "r2-r4" && s.af === af), JSON.stringify(gray.suspects));
  stack.gray("r2", "r4", 0, grayFamily);
  await waitFor(stack, "repaired: all up, no suspect", (v) => allUp(v) && v.suspects.length === 0);
}

const programs = exabgpPrograms(SHARED_DIR);
const five: ExabgpProgram | undefined = programs.find((p) => p.version === "5.0");

test("SRv6 stack: needs ExaBGP 5.0 (4.2.21 cannot decode End.X SIDs), says so", { skip }, async () => {
  const four = programs.find((p) => p.version === "4.2");
  if (!four) return;
  await assert.rejects(LabStack.start(nanogLab(), { prometheus: false, family: "ipv6", sr: "srv6", exabgp: four }), /SRv6 needs ExaBGP 5\.0.*4\.2\.21 cannot decode the End\.X SID TLV/);
});

test(
  "SRv6 stack (ExaBGP 5.0.13, End.X on kernel seg6local or the userspace helper): four paths up over SRv6, no decapsulator; r2-r4 down names it; a gray loss is named; repair",
  { skip: skip || (five === undefined ? "ExaBGP 5.0 is not beside this checkout (../shared/tools/exabgp5): 4.2.21 cannot decode End.X SIDs" : false), timeout: 180_000 },
  async (t) => {
    const stack = await LabStack.start(nanogLab(), { prometheus: false, family: "ipv6", sr: "srv6", exabgp: five });
    t.after(() => stack.stop());
    await story(stack, "ipv6", "srv6", "ipv6");
  },
);

// MPLS-in-UDP over IPv4 under the first ExaBGP (4.2: Adj-SIDs decoded in its dialect); MPLS-in-GRE
// (prober.sr-mpls-carrier gre) over IPv6 under the newest (5.0's dialect).
const mplsRuns: Array<{ exabgp: ExabgpProgram; carrier: "udp" | "gre"; af: "ipv4" | "ipv6" }> = [
  ...programs.slice(0, 1).map((exabgp) => ({ exabgp, carrier: "udp" as const, af: "ipv4" as const })),
  ...programs.slice(-1).map((exabgp) => ({ exabgp, carrier: "gre" as const, af: "ipv6" as const })),
];
for (const { exabgp, carrier, af } of mplsRuns) {
  test(`SR-MPLS stack (ExaBGP ${exabgp.version}, userspace label switcher, MPLS-in-${carrier.toUpperCase()} over ${af === "ipv4" ? "IPv4" : "IPv6"}): four paths up, no decapsulator; r2-r4 down names it; a gray loss is named; repair`, { skip, timeout: 180_000 }, async (t) => {
    const stack = await LabStack.start(nanogLab(), { prometheus: false, family: af, sr: "sr-mpls", exabgp, proberExtra: `  sr-mpls-carrier: ${carrier}` });
    t.after(() => stack.stop());
    await story(stack, af, "sr-mpls");
  });
}
