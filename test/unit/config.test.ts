import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  ConfigError,
  describeConfig,
  formatDuration,
  loadConfig,
  parseConfig,
  parseDuration,
  type LsprobeConfig,
} from "../../shared/config.js";

const MINIMAL = `plugin:
  endpoints:
    pairs: [[r1, r6]]
  output:
    file: /var/lib/lsprobe/paths.json
`;

const MINIMAL_PARSED: LsprobeConfig = {
  plugin: {
    endpoints: { pairs: [["r1", "r6"]], groups: [] },
    paths: { mode: "all", maxPerPair: 64, metric: "igp", target: "interface", targetPerRouter: [], families: null, srAlgorithm: 0 },
    plan: { budgetPps: 1000, alpha: 2, beta: 1, minLinkPps: 25 },
    output: { file: "/var/lib/lsprobe/paths.json", socket: "/run/lsprobe/paths.sock", socketMode: 0o660 },
    stateFile: "/var/lib/lsprobe/lsdb.json",
    debounce: 200,
    staleTimeout: 120_000,
    routeRefresh: true,
    listen: null,
    serve: { listen: null, auth: "token", tokenFile: null, certFile: null, keyFile: null, clientCaFile: null, maxConnections: 1024, maxWaiting: 1000, maxWait: 60_000, proberTimeout: 30_000, maxProbers: 4096, probersPerLink: 2, oneWay: true },
    view: { interval: 1000, window: 30_000, timeout: 800, lossyAbove: 0.01 },
  },
  prober: null,
  log: { level: "info", format: "text" },
};

const PROBER_DEFAULTS = {
  source: "198.18.100.2",
  sources: { ipv4: "198.18.100.2", ipv6: null },
  router: null,
  port: 9470,
  paths: { socket: "/run/lsprobe/paths.sock", file: "/var/lib/lsprobe/paths.json", url: null, tokenFile: null, caFile: null, certFile: null, keyFile: null, wait: 30_000 },
  return: "reverse",
  encap: "gre",
  srMplsCarrier: "udp",
  encapPerRouter: [],
  rate: 25,
  maxPps: 100000,
  timeout: 1000,
  ttl: 64,
  hopLimit: 64,
  flowLabelRange: null,
  size: 0,
  mtu: 1500,
  srcPort: 49152,
  srcPortRange: 64,
  classes: [{ name: "default", dscp: 0 }],
  hmacKeyFile: null,
  downAfter: 3,
  upAfter: 3,
  lossWindow: 30000,
  rttHistogram: "per-path",
  maxPaths: 10000,
  lossyAbove: 0.01,
  listen: "127.0.0.1:9469",
  user: null,
  id: null,
  site: null,
  clockSynced: false,
};

/** Every key, each set to its default (plus the endpoints, which have none). */
const EVERY_DEFAULT = `plugin:
  endpoints:
    pairs: [[r1, r6]]
    groups: []
  paths:
    mode: all
    max-per-pair: 64
    metric: igp
    target: interface
    target-per-router: {}
    families: null
    sr-algorithm: 0
  plan:
    budget-pps: 1000
    alpha: 2
    beta: 1
    min-link-pps: 25
  output:
    file: /var/lib/lsprobe/paths.json
    socket: /run/lsprobe/paths.sock
    socket-mode: "0660"
  state-file: /var/lib/lsprobe/lsdb.json
  debounce: 200ms
  stale-timeout: 120s
  route-refresh: true
  listen: null
  serve:
    listen: null
    auth: token
    token-file: null
    cert-file: null
    key-file: null
    client-ca-file: null
    max-connections: 1024
    max-waiting: 1000
    max-wait: 60s
    prober-timeout: 30s
    max-probers: 4096
    probers-per-link: 2
    one-way: true
  view:
    interval: 1s
    window: 30s
    timeout: 800ms
    lossy-above: 0.01
prober:
  source: 198.18.100.2
  router: null
  port: 9470
  paths:
    socket: /run/lsprobe/paths.sock
    file: /var/lib/lsprobe/paths.json
    url: null
    token-file: null
    ca-file: null
    cert-file: null
    key-file: null
    wait: 30s
  return: reverse
  encap: gre
  sr-mpls-carrier: udp
  encap-per-router: {}
  rate: 25
  max-pps: 100000
  timeout: 1s
  ttl: 64
  hop-limit: 64
  flow-label-range: null
  size: 0
  mtu: 1500
  src-port: 49152
  src-port-range: 64
  classes: [{name: default, dscp: 0}]
  hmac-key-file: null
  down-after: 3
  up-after: 3
  loss-window: 30s
  rtt-histogram: per-path
  max-paths: 10000
  lossy-above: 0.01
  listen: 127.0.0.1:9469
  user: null
  id: null
  site: null
  clock-synced: false
log:
  level: info
  format: text
`;

test("minimal config", () => {
  assert.deepEqual(parseConfig(MINIMAL, "lsprobe.yaml"), MINIMAL_PARSED);
});

test("every key at its default gives the same config as the minimal one (plus the prober's source)", () => {
  assert.deepEqual(parseConfig(EVERY_DEFAULT, "lsprobe.yaml"), { ...MINIMAL_PARSED, prober: PROBER_DEFAULTS });
  assert.deepEqual(parseConfig(MINIMAL + "prober:\n  source: 198.18.100.2\n", "lsprobe.yaml").prober, PROBER_DEFAULTS);
});

test("every key of the schema is in describeConfig and in the full config", () => {
  const table = describeConfig();
  assert.match(table, /^\| Key \| Type \| Default \| Description \|\n/);
  const keys = [...table.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]);
  assert.equal(keys.length, 78);
  for (const key of keys) {
    const leaf = key.split(".").at(-1);
    assert.match(EVERY_DEFAULT, new RegExp(`^ *${leaf}:`, "m"), key);
  }
  assert.match(table, /\| `plugin.output.socket-mode` \| octal string \| `"0660"` \|/);
  assert.match(table, /\| `plugin.paths.mode` \| all \\\| cover \\\| plan \| `all` \|/);
});

test("other values", () => {
  const config = parseConfig(
    `plugin:
  endpoints:
    groups: [[r1, r2, 198.18.0.6/32]]
    pairs:
  paths: {mode: cover, max-per-pair: 100000, metric: te, target: router}
  output:
    file: /srv/paths.json
    socket: ""
    socket-mode: "600"
  state-file: null
  debounce: 0
  stale-timeout: 1m30s
  route-refresh: false
log: {level: debug, format: json}
`,
    "lsprobe.yaml",
  );
  assert.deepEqual(config, {
    plugin: {
      endpoints: { pairs: [], groups: [["r1", "r2", "198.18.0.6/32"]] },
      paths: { mode: "cover", maxPerPair: 100000, metric: "te", target: "router", targetPerRouter: [], families: null, srAlgorithm: 0 },
      plan: { budgetPps: 1000, alpha: 2, beta: 1, minLinkPps: 25 },
      output: { file: "/srv/paths.json", socket: null, socketMode: 0o600 },
      stateFile: null,
      debounce: 0,
      staleTimeout: 90_000,
      routeRefresh: false,
      listen: null,
      serve: MINIMAL_PARSED.plugin.serve,
      view: MINIMAL_PARSED.plugin.view,
    },
    prober: null,
    log: { level: "debug", format: "json" },
  });
});

test("the config is deeply frozen", () => {
  const config = parseConfig(MINIMAL, "lsprobe.yaml");
  assert.ok(Object.isFrozen(config.plugin.output));
  assert.ok(Object.isFrozen(config.plugin.endpoints.pairs[0]));
  assert.throws(() => {
    (config.plugin.paths as { maxPerPair: number }).maxPerPair = 1;
  }, TypeError);
});

/** Each case is one rule; `error` is the exact ConfigError message. */
const invalid: Record<string, { yaml: string; error: string }> = {
  "unknown key with a suggestion": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
  outptu:
    file: /x
`,
    error: `lsprobe.yaml:4:3: plugin.outptu: unknown key (did you mean "output"?)`,
  },
  "unknown key without a suggestion": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
probes: {}
`,
    error: `lsprobe.yaml:4:1: probes: unknown key (did you mean "prober"?)`,
  },
  "prober section without its required source": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
prober:
  rate: 10
`,
    error: `lsprobe.yaml:4:1: prober.source: missing required key`,
  },
  "prober: bad address, bad class, port range past 65535": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
prober:
  source: 198.18.300.1
  classes: [{name: ef, dscp: 46}, {name: ef, dscp: 99}]
`,
    error: [
      `lsprobe.yaml:5:3: prober.source: expected an IPv4 or IPv6 address such as "198.18.100.2" or "2001:2::100:2", or a list of one of each, got "198.18.300.1"`,
      `lsprobe.yaml:6:42: prober.classes[1].name: expected distinct class names, got "ef" twice`,
      `lsprobe.yaml:6:52: prober.classes[1].dscp: expected a DSCP from 0 to 63, got 99`,
    ].join("\n"),
  },
  "wrong type": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
  route-refresh: "yes"
`,
    error: `lsprobe.yaml:4:3: plugin.route-refresh: expected true or false, got "yes"`,
  },
  "section that is not a mapping": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
  paths: 5
`,
    error: `lsprobe.yaml:4:3: plugin.paths: expected a mapping, got 5`,
  },
  "not an integer": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
  output:
    file: /var/lib/lsprobe/paths.json
  paths:
    max-per-pair: lots
`,
    error: `lsprobe.yaml:7:5: plugin.paths.max-per-pair: expected an integer from 1 to 100000, got "lots"`,
  },
  "out of range": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
  paths:
    max-per-pair: 0
`,
    error: `lsprobe.yaml:5:5: plugin.paths.max-per-pair: expected an integer from 1 to 100000, got 0`,
  },
  "bad enum": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
log:
  level: verbose
`,
    error: `lsprobe.yaml:5:3: log.level: expected "debug", "info", "warn" or "error", got "verbose"`,
  },
  "bad duration": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
  stale-timeout: 2 minutes
`,
    error: `lsprobe.yaml:4:3: plugin.stale-timeout: expected a duration such as "200ms" or "1m30s", or a number of seconds, got "2 minutes"`,
  },
  "duration out of range": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
  debounce: 2m
`,
    error: `lsprobe.yaml:4:3: plugin.debounce: expected a duration from 0s to 1m, got "2m"`,
  },
  "file mode as a YAML integer": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
  output:
    socket-mode: 0660
`,
    error: `lsprobe.yaml:5:5: plugin.output.socket-mode: expected a quoted string of octal digits such as "0660", got 660`,
  },
  "relative path": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
  output:
    file: paths.json
`,
    error: `lsprobe.yaml:5:5: plugin.output.file: expected an absolute path, got "paths.json"`,
  },
  "socket path too long": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
  output:
    socket: /run/lsprobe/${"s".repeat(100)}.sock
`,
    error: `lsprobe.yaml:5:5: plugin.output.socket: expected a path of at most 107 bytes (the sun_path limit of a Unix socket), got 118 bytes`,
  },
  "pair with 3 members": {
    yaml: `plugin:
  endpoints:
    pairs:
      - [r1, r6]
      - [r1, r2, r3]
`,
    error: `lsprobe.yaml:5:9: plugin.endpoints.pairs[1]: expected a pair [a, b], got 3 members`,
  },
  "pair with the same member twice": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r1]]
`,
    error: `lsprobe.yaml:3:13: plugin.endpoints.pairs[0]: expected two different endpoints, got "r1" twice`,
  },
  "empty endpoint": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, ""]]
`,
    error: `lsprobe.yaml:3:18: plugin.endpoints.pairs[0][1]: expected an endpoint (a non-empty string), got ""`,
  },
  "group with one member": {
    yaml: `plugin:
  endpoints:
    groups: [[r1, r2], [r3]]
`,
    error: `lsprobe.yaml:3:24: plugin.endpoints.groups[1]: expected at least 2 endpoints, got 1 member`,
  },
  "empty endpoints": {
    yaml: `plugin:
  endpoints:
    pairs: []
    groups: []
`,
    error: `lsprobe.yaml:2:3: plugin.endpoints: expected at least one pair or group, got none`,
  },
  "empty file": {
    yaml: ``,
    error: `lsprobe.yaml:1:1: plugin.endpoints: expected at least one pair or group, got none`,
  },
  "YAML syntax error": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]
  debounce: 1s
`,
    error: `lsprobe.yaml:4:3: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`,
  },
  "duplicate key": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
  debounce: 1s
  debounce: 2s
`,
    error: `lsprobe.yaml:5:3: plugin.debounce: duplicate key (each key once per mapping)`,
  },
  "several errors, in file order": {
    yaml: `plugin:
  endpoints:
    pairs: [[r1, r6]]
  paths:
    mode: some
  output:
    file: out/paths.json
  debounce: -1
log:
  formt: json
`,
    error: [
      `lsprobe.yaml:5:5: plugin.paths.mode: expected "all", "cover" or "plan", got "some"`,
      `lsprobe.yaml:7:5: plugin.output.file: expected an absolute path, got "out/paths.json"`,
      `lsprobe.yaml:8:3: plugin.debounce: expected a duration such as "200ms" or "1m30s", or a number of seconds, got -1`,
      `lsprobe.yaml:10:3: log.formt: unknown key (did you mean "format"?)`,
    ].join("\n"),
  },
};

// Found by an adversarial tester (issue 11, item 13); each failed before its fix.
Object.assign(invalid, {
  "a key twice inside a list item": {
    yaml: `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\nprober:\n  source: 198.18.100.2\n  classes:\n    - {name: a, dscp: 1, dscp: 2}\n`,
    error: `lsprobe.yaml:7:26: prober.classes[0].dscp: duplicate key (each key once per mapping)`,
  },
  "a YAML alias bomb, reported at its key (was 1:1, no key)": {
    yaml: `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  x: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nlog:\n  level: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n`,
    error: [
      `lsprobe.yaml:4:3: plugin.x: unknown key (expected one of: endpoints, paths, plan, output, state-file, debounce, stale-timeout, route-refresh, listen, serve, view)`,
      `lsprobe.yaml:6:13: log.level: expected a value without runaway aliases (Excessive alias count indicates a resource exhaustion attack)`,
    ].join("\n"),
  },
  "a group of 3,000 endpoints (9 million pairs) is refused, counted not listed": {
    yaml: `plugin:\n  endpoints:\n    groups:\n      - [${Array.from({ length: 3000 }, (_, i) => `e${i}`).join(", ")}]\n`,
    error: `lsprobe.yaml:2:3: plugin.endpoints: expected at most 250000 directed pairs, got 8997000 (groups[0], 3000 endpoints, makes 8997000 alone: a group's pairs grow as n^2; split it, or list pairs)`,
  },
});

test("100k keys in one mapping: every one reported, in linear work (yaml's own duplicate check was quadratic: over a minute)", { timeout: 60_000 }, () => {
  const n = 100_000;
  const text = `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\nlog:\n${Array.from({ length: n }, (_, i) => `  k${i}: 1`).join("\n")}\n`;
  assert.throws(
    () => parseConfig(text, "lsprobe.yaml"),
    (err: unknown) => err instanceof ConfigError && err.errors.length === n && /^lsprobe\.yaml:5:3: log\.k0: unknown key/.test(err.message),
  );
});

test("prober.encap and encap-per-router: the rules in file order", () => {
  const p = parseConfig(
    `${MINIMAL}prober:\n  source: 198.18.100.2\n  encap: ipip\n  encap-per-router:\n    "edge-*": gre\n    r4: ipip\n    "*-7": ipip\n    12: gre\n`,
    "lsprobe.yaml",
  ).prober!;
  assert.equal(p.encap, "ipip");
  // Integer-like names come first in a JS object; they are exact names, matched before patterns anyway.
  assert.deepEqual(p.encapPerRouter, [
    { router: "12", encap: "gre" },
    { router: "edge-*", encap: "gre" },
    { router: "r4", encap: "ipip" },
    { router: "*-7", encap: "ipip" },
  ]);
  assert.deepEqual(parseConfig(`${MINIMAL}prober:\n  source: 198.18.100.2\n  encap-per-router:\n`, "lsprobe.yaml").prober!.encapPerRouter, []);
});

invalid["prober.encap: not gre, ipip, srv6, sr-mpls or auto"] = {
  yaml: `${MINIMAL}prober:\n  source: 198.18.100.2\n  encap: mpls\n`,
  error: `lsprobe.yaml:8:3: prober.encap: expected "gre", "ipip", "srv6", "sr-mpls" or "auto", got "mpls"`,
};
invalid["prober.encap: srv6 without an IPv6 source"] = {
  yaml: `${MINIMAL}prober:\n  source: 198.18.100.2\n  encap: srv6\n`,
  error: `lsprobe.yaml:8:10: prober.encap: expected an IPv6 source (prober.source) with encap srv6: SRv6 probes are IPv6`,
};
invalid["prober.sr-mpls-carrier: not udp or gre"] = {
  yaml: `${MINIMAL}prober:\n  source: 198.18.100.2\n  sr-mpls-carrier: ip\n`,
  error: `lsprobe.yaml:8:3: prober.sr-mpls-carrier: expected "udp" or "gre", got "ip"`,
};
invalid["prober.encap-per-router: a list"] = {
  yaml: `${MINIMAL}prober:\n  source: 198.18.100.2\n  encap-per-router: [r4]\n`,
  error: `lsprobe.yaml:8:3: prober.encap-per-router: expected a mapping of router name or pattern to "gre" or "ipip", got a list`,
};
invalid["prober.encap-per-router: a bad encap and an empty name"] = {
  yaml: `${MINIMAL}prober:\n  source: 198.18.100.2\n  encap-per-router:\n    r4: mpls\n    "": gre\n`,
  error: [
    `lsprobe.yaml:9:9: prober.encap-per-router.r4: expected "gre" or "ipip", got "mpls"`,
    `lsprobe.yaml:10:9: prober.encap-per-router.: expected a router name or pattern, got ""`,
  ].join("\n"),
};
invalid["prober.encap-per-router: a router twice"] = {
  yaml: `${MINIMAL}prober:\n  source: 198.18.100.2\n  encap-per-router:\n    r4: ipip\n    r4: gre\n`,
  error: `lsprobe.yaml:10:5: prober.encap-per-router.r4: duplicate key (each key once per mapping)`,
};

// plugin.paths.target and target-per-router: the same mapping, and the same matcher, as prober.encap-per-router.
const PATHS_AT = (body: string): string => `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  paths:\n${body}`;
const targets: Record<string, { yaml: string; target: string; rules: Array<{ router: string; target: string }> }> = {
  "absent: interface, no rules": { yaml: PATHS_AT("    mode: all\n"), target: "interface", rules: [] },
  "router for all": { yaml: PATHS_AT("    target: router\n"), target: "router", rules: [] },
  "rules in file order, exact names first as JS orders them": {
    yaml: PATHS_AT('    target: interface\n    target-per-router:\n      "core-*": router\n      r4: router\n      "*": interface\n      7: router\n'),
    target: "interface",
    rules: [{ router: "7", target: "router" }, { router: "core-*", target: "router" }, { router: "r4", target: "router" }, { router: "*", target: "interface" }],
  },
  "an empty mapping": { yaml: PATHS_AT("    target-per-router:\n"), target: "interface", rules: [] },
};
for (const [name, c] of Object.entries(targets)) {
  test(`plugin.paths.target: ${name}`, () => {
    const p = parseConfig(c.yaml, "lsprobe.yaml").plugin.paths;
    assert.equal(p.target, c.target);
    assert.deepEqual(p.targetPerRouter, c.rules);
  });
}
invalid["plugin.paths.target: not interface or router"] = {
  yaml: PATHS_AT("    target: loopback\n"),
  error: `lsprobe.yaml:5:5: plugin.paths.target: expected "interface" or "router", got "loopback"`,
};
invalid["plugin.paths.target-per-router: a list"] = {
  yaml: PATHS_AT("    target-per-router: [r4]\n"),
  error: `lsprobe.yaml:5:5: plugin.paths.target-per-router: expected a mapping of router name or pattern to "interface" or "router", got a list`,
};
invalid["plugin.paths.target-per-router: a bad target and an empty name"] = {
  yaml: PATHS_AT('    target-per-router:\n      r4: loopback\n      "": router\n'),
  error: [
    `lsprobe.yaml:6:11: plugin.paths.target-per-router.r4: expected "interface" or "router", got "loopback"`,
    `lsprobe.yaml:7:11: plugin.paths.target-per-router.: expected a router name or pattern, got ""`,
  ].join("\n"),
};
invalid["plugin.paths.target-per-router: a router twice"] = {
  yaml: PATHS_AT("    target-per-router:\n      r4: router\n      r4: interface\n"),
  error: `lsprobe.yaml:7:7: plugin.paths.target-per-router.r4: duplicate key (each key once per mapping)`,
};

for (const [name, c] of Object.entries(invalid)) {
  test(`invalid: ${name}`, () => {
    assert.throws(
      () => parseConfig(c.yaml, "lsprobe.yaml"),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.message, c.error);
        assert.equal(err.errors.length, c.error.split("\n").length);
        return true;
      },
    );
  });
}

test("ConfigError.errors holds path, line, col and message", () => {
  try {
    parseConfig(invalid["not an integer"].yaml, "lsprobe.yaml");
    assert.fail("no error");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.file, "lsprobe.yaml");
    assert.deepEqual(err.errors, [
      { path: "plugin.paths.max-per-pair", line: 7, col: 5, message: `expected an integer from 1 to 100000, got "lots"` },
    ]);
  }
});

test("loadConfig reads a file and names it in errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "lsprobe-config-"));
  try {
    const good = join(dir, "good.yaml");
    writeFileSync(good, MINIMAL);
    assert.deepEqual(loadConfig(good), MINIMAL_PARSED);

    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "plugin:\n  endpoints: {}\n");
    assert.throws(() => loadConfig(bad), { name: "ConfigError", message: `${bad}:2:3: plugin.endpoints: expected at least one pair or group, got none` });

    const missing = join(dir, "missing.yaml");
    assert.throws(() => loadConfig(missing), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, new RegExp(`^${missing}: cannot read the config file: ENOENT`));
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true });
  }
});

const durations: Record<string, { in: string | number; ms: number }> = {
  "milliseconds": { in: "200ms", ms: 200 },
  "seconds": { in: "1s", ms: 1000 },
  "minutes and seconds": { in: "1m30s", ms: 90_000 },
  "hours": { in: "2h", ms: 7_200_000 },
  "every unit": { in: "1y1w1d1h1m1s1ms", ms: 365 * 86_400_000 + 8 * 86_400_000 + 3_661_001 },
  "zero": { in: "0", ms: 0 },
  "a number of seconds": { in: 0.5, ms: 500 },
  "an integer number of seconds": { in: 30, ms: 30_000 },
};

for (const [name, c] of Object.entries(durations)) {
  test(`parseDuration: ${name}`, () => {
    assert.equal(parseDuration(c.in), c.ms);
  });
}

const badDurations: Record<string, string | number> = {
  "a word": "abc",
  "empty": "",
  "no unit": "30",
  "units out of order": "30s1m",
  "a fraction": "1.5s",
  "a space": "1m 30s",
  "negative seconds": -1,
  "infinite seconds": Infinity,
};

for (const [name, input] of Object.entries(badDurations)) {
  test(`parseDuration rejects ${name}`, () => {
    assert.throws(() => parseDuration(input), RangeError);
  });
}

const formatted: Record<string, { ms: number; out: string }> = {
  "zero": { ms: 0, out: "0s" },
  "milliseconds": { ms: 200, out: "200ms" },
  "seconds and milliseconds": { ms: 1500, out: "1s500ms" },
  "minutes and seconds": { ms: 90_000, out: "1m30s" },
  "a day": { ms: 86_400_000, out: "1d" },
};

for (const [name, c] of Object.entries(formatted)) {
  test(`formatDuration: ${name}`, () => {
    assert.equal(formatDuration(c.ms), c.out);
    assert.equal(parseDuration(c.out), c.ms);
  });
}
