// The prober's choice of encapsulation per layer: each layer of a path's template takes the encap
// of the router that strips it (the path set's gre[k].node / greReverse[k].node), from
// prober.encap and prober.encap-per-router, on the NANOG 6 paths r1 -> r6, out and back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Prober } from "../../prober/prober.js";
import { parseConfig, type ProberConfig } from "../../shared/config.js";
import { nanogPathSet, quiet } from "../util/simnet.js";
import type { ProbeTemplateBase } from "../../prober/packet/template.js";

const config = (extra: string): ProberConfig =>
  parseConfig(`plugin:\n  endpoints:\n    pairs: [[r1, r6]]\nprober:\n  source: 198.18.100.2\n  router: r1\n${extra}`, "t.yaml").prober!;

/** hops label -> each layer's encap, joined. */
async function layers(extra: string): Promise<Record<string, string>> {
  const p = new Prober(config(extra), { send: () => {}, nowNs: () => 0, log: quiet }, 1);
  p.setPathSet(await nanogPathSet());
  return Object.fromEntries([...p.entries()].map((e) => [String(e.info.hops), (e.template as ProbeTemplateBase).encaps.join(" ")]));
}

const cases: Record<string, { extra: string; want: Record<string, string> }> = {
  "default: GRE everywhere": {
    extra: "",
    want: {
      "r1>r2>r4>r6": "gre gre gre gre gre gre",
      "r1>r2>r5>r6": "gre gre gre gre gre gre",
      "r1>r3>r4>r6": "gre gre gre gre gre gre",
      "r1>r3>r5>r6": "gre gre gre gre gre gre",
    },
  },
  // Out r2 r4 r6, back r4 r2 r1: r4 strips layers 1 and 3.
  "r4 IP-in-IP: its layers out and back": {
    extra: "  encap-per-router: {r4: ipip}\n",
    want: {
      "r1>r2>r4>r6": "gre ipip gre ipip gre gre",
      "r1>r2>r5>r6": "gre gre gre gre gre gre",
      "r1>r3>r4>r6": "gre ipip gre ipip gre gre",
      "r1>r3>r5>r6": "gre gre gre gre gre gre",
    },
  },
  "IP-in-IP globally, r1 GRE by name, r5 by pattern": {
    extra: "  encap: ipip\n  encap-per-router:\n    \"*5\": gre\n    r1: gre\n",
    want: {
      "r1>r2>r4>r6": "ipip ipip ipip ipip ipip gre",
      "r1>r2>r5>r6": "ipip gre ipip gre ipip gre",
      "r1>r3>r4>r6": "ipip ipip ipip ipip ipip gre",
      "r1>r3>r5>r6": "ipip gre ipip gre ipip gre",
    },
  },
  "routed: only the forward layers": {
    extra: "  return: routed\n  encap-per-router: {r6: ipip}\n",
    want: { "r1>r2>r4>r6": "gre gre ipip", "r1>r2>r5>r6": "gre gre ipip", "r1>r3>r4>r6": "gre gre ipip", "r1>r3>r5>r6": "gre gre ipip" },
  },
};
for (const [name, c] of Object.entries(cases)) {
  test(`prober encap: ${name}`, async () => assert.deepEqual(await layers(c.extra), c.want));
}

test("prober encap: the MTU refusal counts 20 bytes an IP-in-IP layer, 24 a GRE layer", async () => {
  // Six layers: 6 x 24 + 72 = 216 all GRE; r4's two layers IP-in-IP: 208.
  const set = await nanogPathSet();
  const refusedAt = (extra: string): string[] => {
    const p = new Prober(config(extra), { send: () => {}, nowNs: () => 0, log: quiet }, 1);
    return p.setPathSet(set).refused.map((r) => r.reason);
  };
  assert.equal(refusedAt("  mtu: 215\n").length, 4);
  const mixed = refusedAt("  mtu: 215\n  encap-per-router: {r4: ipip}\n");
  assert.equal(mixed.length, 2, mixed.join("\n"));
  assert.ok(mixed.every((m) => /a 6-hop GRE stack \(144 bytes of IPv4\+GRE headers\) makes a 216-byte probe/.test(m)), mixed.join("\n"));
  assert.equal(refusedAt("  mtu: 208\n  encap-per-router: {r4: ipip}\n").length, 2);
  const tight = refusedAt("  mtu: 207\n  encap-per-router: {r4: ipip}\n");
  assert.equal(tight.length, 4);
  assert.equal(tight.filter((m) => /a 6-hop stack of 4 GRE and 2 IP-in-IP layers \(136 bytes of tunnel headers\) makes a 208-byte probe/.test(m)).length, 2, tight.join("\n"));
});
