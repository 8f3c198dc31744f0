// The lab's IPv6 plan (test/lab/netns.ts, topology-file.ts): 2001:2::/48 addresses derived from
// the IPv4 plan, validation, and IPv6 ECMP routes computed as the IPv4 ones. Pure: no namespaces.
import { test } from "node:test";
import assert from "node:assert/strict";
import { computeRoutes, familiesOf, labIpv6For, nanogLab, validateTopology, type LabFamily, type LabTopology } from "../lab/netns.js";
import { labPathSet } from "../lab/pathset.js";
import { labTopologyFromText } from "../lab/topology-file.js";

const plan: Record<string, [string, string]> = {
  "first link, a end (the /127's zero address)": ["198.18.0.0", "2001:2:0:18::"],
  "first link, b end": ["198.18.0.1", "2001:2:0:18::1"],
  "decimal digits as hex digits": ["198.18.0.13", "2001:2:0:18::13"],
  "third octet too": ["198.18.1.254", "2001:2:0:18::1:254"],
  "host /31": ["198.18.252.1", "2001:2:0:18::252:1"],
  "router loopback": ["198.19.0.6", "2001:2:0:19::6"],
  "top of the /15": ["198.19.255.255", "2001:2:0:19::255:255"],
};
for (const [name, [v4, v6]] of Object.entries(plan)) {
  test(`labIpv6For: ${name}: ${v4} -> ${v6}`, () => assert.equal(labIpv6For(v4), v6));
}

test("labIpv6For: outside 198.18.0.0/15 has no counterpart", () => {
  assert.throws(() => labIpv6For("198.20.0.1"), /not inside 198\.18\.0\.0\/15/);
  assert.throws(() => labIpv6For("10.0.0.1"), RangeError);
});

test("labIpv6For: injective over the lab's /31s, and every /31 maps onto one /127", () => {
  const seen = new Set<string>();
  for (let n = 0; n < 65536; n += 2) {
    const base = `198.18.${n >> 8}.${n & 255}`;
    const [a, b] = [labIpv6For(base), labIpv6For(`198.18.${n >> 8}.${(n & 255) + 1}`)];
    for (const x of [a, b]) {
      assert.ok(!seen.has(x), x);
      seen.add(x);
    }
    const last = (s: string): number => parseInt(s.split(":").pop() || "0", 16);
    assert.equal(last(a) ^ last(b), 1, `${a} ${b}`);
  }
});

test("nanogLab: IPv6 fields on every router, link and host", () => {
  const t = nanogLab({ h6: true });
  assert.deepEqual(t.routers.map((r) => r.loopback6), ["2001:2:0:19::1", "2001:2:0:19::2", "2001:2:0:19::3", "2001:2:0:19::4", "2001:2:0:19::5", "2001:2:0:19::6"]);
  assert.deepEqual(t.links[6], { a: "r4", b: "r6", metric: 10, aAddress: "198.18.0.12", bAddress: "198.18.0.13", aAddress6: "2001:2:0:18::12", bAddress6: "2001:2:0:18::13" });
  assert.deepEqual(t.hosts.map((h) => [h.name, h.routerAddress6, h.address6]), [
    ["h1", "2001:2:0:18::252:0", "2001:2:0:18::252:1"],
    ["h6", "2001:2:0:18::252:2", "2001:2:0:18::252:3"],
  ]);
});

test("familiesOf", () => {
  assert.deepEqual(familiesOf("dual"), ["ipv4", "ipv6"]);
  assert.deepEqual(familiesOf("ipv6"), ["ipv6"]);
  assert.deepEqual(familiesOf("ipv4"), ["ipv4"]);
});

test("computeRoutes ipv6: the same next hops as IPv4, in the IPv6 plan", () => {
  const t = nanogLab({ h6: true });
  const v4 = computeRoutes(t, new Set(), new Set());
  const v6 = computeRoutes(t, new Set(), new Set(), "ipv6");
  const to6 = (a: string): string => (a === "default" ? a : a.includes("/") ? `${labIpv6For(a.split("/")[0])}/${a.endsWith("/32") ? 128 : 127}` : labIpv6For(a));
  for (const [node, routes] of v4) {
    assert.deepEqual(
      v6.get(node),
      routes.map((r) => ({ prefix: to6(r.prefix), nexthops: r.nexthops.map((h) => ({ via: labIpv6For(h.via), dev: h.dev })) })),
      node,
    );
  }
  const r1 = v6.get("r1")!.find((r) => r.prefix === "2001:2:0:19::6/128")!;
  assert.deepEqual(r1.nexthops, [
    { via: "2001:2:0:18::1", dev: "e0-r2" },
    { via: "2001:2:0:18::3", dev: "e1-r3" },
  ]);
  // r2-r4 down: its /127 is advertised by nobody, r1 reaches r4 via r3 only.
  const down = computeRoutes(t, new Set([2]), new Set(), "ipv6");
  assert.equal(down.get("r1")!.find((r) => r.prefix === "2001:2:0:18::4/127"), undefined);
  assert.deepEqual(down.get("r1")!.find((r) => r.prefix === "2001:2:0:19::4/128")!.nexthops, [{ via: "2001:2:0:18::3", dev: "e1-r3" }]);
});

function withLink(patch: Partial<LabTopology["links"][number]>): LabTopology {
  const t = nanogLab();
  t.links[0] = { ...t.links[0], ...patch };
  return t;
}

const invalid: Record<string, [LabTopology, RegExp]> = {
  "outside 2001:2::/48": [withLink({ aAddress6: "2001:db8::", bAddress6: "2001:db8::1" }), /links\[0\]: 2001:db8:: is not inside 2001:2::\/48/],
  "not one /127": [withLink({ bAddress6: "2001:2:0:18::7" }), /links\[0\]: 2001:2:0:18:: and 2001:2:0:18::7 are not one \/127/],
  "not canonical": [withLink({ aAddress6: "2001:0002:0:18::" }), /not in canonical form \(RFC 5952: 2001:2:0:18::\)/],
  "malformed": [withLink({ aAddress6: "2001:2::18::" }), /links\[0\]: invalid IPv6 address/],
  "used twice": [withLink({ aAddress6: "2001:2:0:18::2", bAddress6: "2001:2:0:18::3" }), /2001:2:0:18::2 used twice/],
};
for (const [name, [t, re]] of Object.entries(invalid)) {
  test(`validateTopology IPv6: ${name}`, () => assert.throws(() => validateTopology(t), re));
}

test("topology file: loopback6, a-address6, b-address6 given (canonicalised) or derived", () => {
  const t = labTopologyFromText(
    [
      "routers: [{ name: a, loopback6: '2001:2:0:99:0:0:0:1' }, b]",
      "links:",
      "  - { a: a, b: b, metric: 5, a-address6: '2001:2:0:77::10', b-address6: '2001:2:0:77::11' }",
      "  - [a, b, 7]",
      "",
    ].join("\n"),
    "t.yaml",
  );
  assert.deepEqual(t.routers.map((r) => r.loopback6), ["2001:2:0:99::1", "2001:2:0:19::2"]);
  assert.deepEqual(t.links.map((l) => [l.aAddress6, l.bAddress6]), [
    ["2001:2:0:77::10", "2001:2:0:77::11"],
    ["2001:2:0:18::2", "2001:2:0:18::3"],
  ]);
  assert.throws(() => labTopologyFromText("routers: [a, b]\nlinks:\n  - { a: a, b: b, a-address6: 'fe80::1', b-address6: 'fe80::' }\n", "bad.yaml"), /bad\.yaml: links\[0\]: fe80::1 is not inside 2001:2::\/48/);
});

// What the lab reports over BGP-LS for each family (lsTopologyFromLab, in ExaBGP 4.2.21's
// dual-stack form: duplicate address keys, cumulative TE router id lists), through the plugin:
// each family's layers are the lab's own addresses of that family.
test("lab path set per family: the plugin's layers are the lab's IPv4, IPv6 or both addresses", async () => {
  const topo = nanogLab();
  const far = new Map(topo.links.flatMap((l) => [[`${l.a}>${l.b}`, [l.bAddress, l.bAddress6]], [`${l.b}>${l.a}`, [l.aAddress, l.aAddress6]]] as const));
  const rows: Array<[LabFamily, string[]]> = [
    ["ipv4", ["ipv4"]],
    ["dual", ["ipv4", "ipv6"]],
    ["ipv6", ["ipv6"]],
  ];
  for (const [family, want] of rows) {
    const set = await labPathSet(topo, [["r1", "r6"]], {}, family);
    assert.deepEqual(set.families, want, family);
    const paths = set.paths.filter((p) => p.src === "r1");
    assert.deepEqual(paths.map((p) => p.hops.map((h) => h.name).join(">")).sort(), ["r1>r2>r4>r6", "r1>r2>r5>r6", "r1>r3>r4>r6", "r1>r3>r5>r6"], family);
    for (const p of paths) {
      assert.deepEqual(p.families, want, `${family}: ${p.id}`);
      const names = p.hops.map((h) => h.name);
      for (const f of want) {
        const t = p.targets?.[f as "ipv4" | "ipv6"];
        assert.ok(t?.probeable, `${family}: ${p.id} probeable in ${f}`);
        // Layer k goes to the far end of hop k's link, in that family.
        assert.deepEqual(
          t.gre.map((g) => g.address),
          names.slice(1).map((n, k) => far.get(`${names[k]}>${n}`)![f === "ipv4" ? 0 : 1]),
          `${family}: ${p.id} ${f}`,
        );
      }
    }
  }
});
