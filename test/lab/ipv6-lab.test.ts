// IPv6 and dual stack end to end (issue 13): the lab's BGP-LS speakers announce the lab's IPv6
// plan, real ExaBGP and the plugin compute the IPv6 paths, and the prober in h1 probes them as
// GRE over IPv6 through the routers' decapsulators. Under each ExaBGP here.
//   IPv6 only: the four NANOG paths up with RTT and no loss; r2-r4 down in the data plane takes
//   exactly the paths across it down and names r2-r4; repair.
//   Dual stack: both families probed, series with both af values; dropping IPv6 only on r2 -> r4
//   is reported in af="ipv6" only; repair.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LabStack, type ProberView } from "./stack.js";
import { nanogLab } from "./netns.js";
import { exabgpPrograms, findExabgp } from "./exabgp.js";
import { SHARED_DIR } from "../util/shared.js";

const skip = process.getuid?.() !== 0 ? "needs root (network namespaces, raw sockets)" : findExabgp() === undefined ? "exabgp is not installed" : false;
const FOUR = ["r1>r2>r4>r6", "r1>r2>r5>r6", "r1>r3>r4>r6", "r1>r3>r5>r6"];
const ACROSS_R2_R4 = ["r1>r2>r4>r6"];

async function waitFor(stack: LabStack, what: string, ok: (v: ProberView) => boolean, ms = 25_000): Promise<ProberView> {
  const end = Date.now() + ms;
  for (;;) {
    if (stack.view && ok(stack.view)) return stack.view;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(stack.view?.paths.map((p) => [p.af, p.hops, p.state, p.lost]))} suspects ${JSON.stringify(stack.view?.suspects)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const of = (v: ProberView, af: string) => v.paths.filter((p) => p.af === af && p.hops.startsWith("r1>"));
const allUp = (v: ProberView, af: string): boolean => of(v, af).length === 4 && of(v, af).every((p) => p.state === "up" && p.received >= 20);
const pairOf = (s: { from: string; to: string }): string => [s.from, s.to].sort().join("-");

/** Prometheus text: the distinct values of label `af` on series named `name`. */
function afValues(metrics: string, name: string): string[] {
  const out = new Set<string>();
  for (const line of metrics.split("\n")) if (line.startsWith(`${name}{`)) out.add(/af="([^"]*)"/.exec(line)?.[1] ?? "(none)");
  return [...out].sort();
}

for (const exabgp of exabgpPrograms(SHARED_DIR)) {
  test(`IPv6 lab (ExaBGP ${exabgp.version}), IPv6 only: four paths up over GRE/IPv6; r2-r4 down takes exactly its paths down and names it; repair`, { skip, timeout: 120_000 }, async (t) => {
    const stack = await LabStack.start(nanogLab(), { prometheus: false, family: "ipv6", exabgp });
    t.after(() => stack.stop());
    const up = await waitFor(stack, "four IPv6 paths up", (v) => allUp(v, "ipv6"));
    assert.deepEqual(of(up, "ipv6").map((p) => p.hops).sort(), FOUR);
    assert.deepEqual(of(up, "ipv4"), [], "nothing probed in IPv4: the lab has no IPv4");
    for (const p of of(up, "ipv6")) {
      assert.ok(p.lastRttSeconds !== null && p.lastRttSeconds > 0 && p.lastRttSeconds < 0.1, `${p.hops} RTT ${p.lastRttSeconds}`);
      assert.equal(p.lost, 0, `${p.hops}: no loss`);
    }
    // The layers really are IPv6: every router's decapsulator saw IPv6 tunnels, none IPv4.
    const counters = await stack.lab.decapCounters();
    for (const r of ["r2", "r4", "r6"]) {
      assert.ok((counters[r].ipv6?.forwarded ?? 0) > 0, `${r} forwarded IPv6: ${JSON.stringify(counters[r])}`);
      assert.deepEqual(counters[r].dropped, {}, `${r} drops`);
    }

    // Data plane only (BGP-LS still announces the link): the probes across it are lost.
    await stack.lab.linkDown("r2", "r4");
    const down = await waitFor(stack, "r2-r4 named", (v) => of(v, "ipv6").some((p) => p.state === "down") && v.suspects.length > 0);
    assert.deepEqual(of(down, "ipv6").filter((p) => p.state === "down").map((p) => p.hops).sort(), ACROSS_R2_R4);
    assert.ok(down.suspects.every((s) => pairOf(s) === "r2-r4" && s.af === "ipv6"), JSON.stringify(down.suspects));

    await stack.lab.linkUp("r2", "r4");
    await waitFor(stack, "all up again, no suspect", (v) => allUp(v, "ipv6") && of(v, "ipv6").every((p) => p.state === "up") && v.suspects.length === 0);
  });

  test(`IPv6 lab (ExaBGP ${exabgp.version}), dual stack: both families probed with af series; dropping IPv6 on r2 -> r4 is reported in IPv6 only`, { skip, timeout: 120_000 }, async (t) => {
    const stack = await LabStack.start(nanogLab(), { prometheus: false, family: "dual", exabgp });
    t.after(() => stack.stop());
    await waitFor(stack, "four paths up in each family", (v) => allUp(v, "ipv4") && allUp(v, "ipv6"));
    const metrics = await stack.lab.exec("h1", [process.execPath, "-e", "fetch('http://127.0.0.1:9469/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))"]);
    assert.equal(metrics.code, 0, metrics.stderr);
    for (const name of ["lsprobe_path_up", "lsprobe_probes_sent_total", "lsprobe_probes_received_total"]) assert.deepEqual(afValues(metrics.stdout, name), ["ipv4", "ipv6"], name);

    // IPv6 only, one direction, data plane only: IPv4 and BGP-LS see nothing.
    stack.dropFamily("r2", "r4", "ipv6");
    const hit = await waitFor(stack, "the IPv6 fault named", (v) => of(v, "ipv6").some((p) => p.state === "down") && v.suspects.length > 0);
    assert.deepEqual(of(hit, "ipv6").filter((p) => p.state === "down").map((p) => p.hops).sort(), ACROSS_R2_R4);
    assert.ok(of(hit, "ipv4").every((p) => p.state === "up"), `IPv4 untouched: ${JSON.stringify(of(hit, "ipv4").map((p) => [p.hops, p.state]))}`);
    assert.ok(hit.suspects.every((s) => s.af === "ipv6" && pairOf(s) === "r2-r4"), JSON.stringify(hit.suspects));
    // And on /metrics: a suspect link in af="ipv6" only.
    const after = await stack.lab.exec("h1", [process.execPath, "-e", "fetch('http://127.0.0.1:9469/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))"]);
    const suspect = after.stdout.split("\n").filter((l) => l.startsWith("lsprobe_link_suspect{") && / 1$/.test(l));
    assert.ok(suspect.length > 0 && suspect.every((l) => l.includes('af="ipv6"')), suspect.join("\n"));

    stack.dropFamily("r2", "r4", "ipv6", false);
    await waitFor(stack, "both families up again, no suspect", (v) => allUp(v, "ipv4") && allUp(v, "ipv6") && v.suspects.length === 0);
  });
}
