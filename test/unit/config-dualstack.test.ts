// prober.source in IPv6 and dual stack, prober.hop-limit and prober.flow-label-range (issue 13,
// Must 2): one invalid input per rule, each with its exact message (file:line:col and key path),
// and --check-config's source check for each family.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../shared/config.js";
import { sourceProblem } from "../../shared/checks.js";

const at = (source: string, extra = ""): string => `prober:\n  source: ${source}\n${extra}`;
const prober = (text: string) => parseConfig(text, "lsprobe.yaml", "prober").prober!;

const good: Record<string, { yaml: string; sources: { ipv4: string | null; ipv6: string | null }; source: string }> = {
  "a single IPv4 address, as before": { yaml: at("198.18.100.2"), sources: { ipv4: "198.18.100.2", ipv6: null }, source: "198.18.100.2" },
  "a single IPv6 address, kept canonical in sources": { yaml: at('"2001:2:0:0:0:0:100:2"'), sources: { ipv4: null, ipv6: "2001:2::100:2" }, source: "2001:2:0:0:0:0:100:2" },
  "dual stack, IPv4 first": { yaml: at('[198.18.100.2, "2001:2::100:2"]'), sources: { ipv4: "198.18.100.2", ipv6: "2001:2::100:2" }, source: "198.18.100.2" },
  "dual stack, IPv6 first": { yaml: at('["2001:2::100:2", 198.18.100.2]'), sources: { ipv4: "198.18.100.2", ipv6: "2001:2::100:2" }, source: "2001:2::100:2" },
  "a block list of one": { yaml: at("\n    - 2001:2::100:2"), sources: { ipv4: null, ipv6: "2001:2::100:2" }, source: "2001:2::100:2" },
};
for (const [name, c] of Object.entries(good))
  test(`prober.source: ${name}`, () => {
    const p = prober(c.yaml);
    assert.deepEqual(p.sources, c.sources);
    assert.equal(p.source, c.source);
  });

test("prober.hop-limit and prober.flow-label-range: defaults and values", () => {
  const d = prober(at("2001:2::100:2"));
  assert.equal(d.hopLimit, 64);
  assert.equal(d.flowLabelRange, null);
  const v = prober(at("2001:2::100:2", "  hop-limit: 9\n  flow-label-range: 4096\n"));
  assert.equal(v.hopLimit, 9);
  assert.equal(v.flowLabelRange, 4096);
});

const bad: Record<string, { yaml: string; error: string }> = {
  "two IPv4 addresses": {
    yaml: at("[198.18.100.2, 198.18.100.3]"),
    error: `lsprobe.yaml:2:26: prober.source[1]: expected one IPv4 and one IPv6 address, got two IPv4 addresses ("198.18.100.2" and "198.18.100.3"): the prober has one source per family`,
  },
  "two IPv6 addresses": {
    yaml: at('["2001:2::1", "2001:2::2"]'),
    error: `lsprobe.yaml:2:25: prober.source[1]: expected one IPv4 and one IPv6 address, got two IPv6 addresses ("2001:2::1" and "2001:2::2"): the prober has one source per family`,
  },
  "three addresses": {
    yaml: at('[198.18.100.2, "2001:2::1", 198.18.100.3]'),
    error: `lsprobe.yaml:2:3: prober.source: expected one address, or a list of one IPv4 and one IPv6 address, got 3 members`,
  },
  "not an address": {
    yaml: at("banana"),
    error: `lsprobe.yaml:2:3: prober.source: expected an IPv4 or IPv6 address such as "198.18.100.2" or "2001:2::100:2", or a list of one of each, got "banana"`,
  },
  "a bad IPv6 address in a list": {
    yaml: at('[198.18.100.2, "2001:2::1::2"]'),
    error: `lsprobe.yaml:2:26: prober.source[1]: expected an IPv4 or IPv6 address such as "198.18.100.2" or "2001:2::100:2", or a list of one of each, got "2001:2::1::2"`,
  },
  "a link-local IPv6 address": {
    yaml: at("fe80::1"),
    error: `lsprobe.yaml:2:3: prober.source: expected a global (or unique local) IPv6 address, got the link-local "fe80::1": probes are routed, and a link-local source is not`,
  },
  "an IPv4-mapped IPv6 address": {
    yaml: at('"::ffff:198.18.100.2"'),
    error: `lsprobe.yaml:2:3: prober.source: expected an IPv6 address, got the IPv4-mapped "::ffff:198.18.100.2": give the IPv4 address itself`,
  },
  "the unspecified address": {
    yaml: at('"::"'),
    error: `lsprobe.yaml:2:3: prober.source: expected an address of this host, got "::" (the unspecified address)`,
  },
  "a multicast IPv4 address": {
    yaml: at("239.1.1.1"),
    error: `lsprobe.yaml:2:3: prober.source: expected a unicast address, got "239.1.1.1" (multicast or reserved)`,
  },
  "an IPv6 source with an MTU below 1280": {
    yaml: at('[198.18.100.2, "2001:2::1"]', "  mtu: 1000\n"),
    error: `lsprobe.yaml:3:8: prober.mtu: expected at least 1280 with an IPv6 source (the IPv6 minimum MTU, RFC 8200 §5), got 1000`,
  },
  "a flow label range past 20 bits": {
    yaml: at('"2001:2::1"', "  flow-label-range: 1048576\n"),
    error: `lsprobe.yaml:3:21: prober.flow-label-range: expected src-port + flow-label-range - 1 <= 1048575 (a flow label has 20 bits), got 1097727`,
  },
  "a hop limit of 0": {
    yaml: at('"2001:2::1"', "  hop-limit: 0\n"),
    error: `lsprobe.yaml:3:3: prober.hop-limit: expected an integer from 1 to 255, got 0`,
  },
};
for (const [name, c] of Object.entries(bad))
  test(`invalid prober.source / IPv6 keys: ${name}`, () => {
    assert.throws(() => prober(c.yaml), (e: Error) => (assert.equal(e.message, c.error), true));
  });

test("an IPv4-only config with mtu below 1280 stays valid (the IPv6 minimum binds only an IPv6 source)", () => {
  assert.equal(prober(at("198.18.100.2", "  mtu: 576\n")).mtu, 576);
});

test("--check-config's source check: IPv6 loopback and unassigned addresses named with the family and the fix", () => {
  const ifaces = {
    lo: [{ address: "::1", family: "IPv6", internal: true, netmask: "", mac: "", cidr: null, scopeid: 0 }],
    eth0: [
      { address: "2001:2::100:2", family: "IPv6", internal: false, netmask: "", mac: "", cidr: null, scopeid: 0 },
      { address: "fe80::1", family: "IPv6", internal: false, netmask: "", mac: "", cidr: null, scopeid: 2 },
      { address: "198.18.100.2", family: "IPv4", internal: false, netmask: "", mac: "", cidr: null },
    ],
  } as unknown as Parameters<typeof sourceProblem>[1];
  assert.equal(sourceProblem("2001:2::100:2", ifaces), undefined);
  assert.equal(sourceProblem("2001:2:0:0::100:2", ifaces), undefined, "compared in canonical form");
  assert.match(sourceProblem("::1", ifaces)!, /^::1 is a loopback address: probes would leave with a martian source/);
  assert.equal(
    sourceProblem("2001:2::9", ifaces),
    "2001:2::9 is not assigned to any interface of this host (its IPv6 addresses: 2001:2::100:2); fix: set prober.source to one of them, or assign it (ip address add 2001:2::9/128 dev IFACE)",
  );
  assert.match(sourceProblem("198.18.100.9", ifaces)!, /its IPv4 addresses: 198\.18\.100\.2\); fix: .*\/32 dev IFACE/);
});
