// The lab's kernel decapsulation applies what `lsprobe-plugin routers --vendor linux` prints
// (test/lab/kernel-decap.ts): that output for the NANOG 6 LSDB parses into exactly the commands
// the lab runs in each router namespace, and the lab's own generation of it (an LSDB from its
// BGP-LS topology) is the same text as the subcommand gives on the stored NANOG 6 snapshot.
// No root, no namespace: running the commands needs a kernel with GRE (test/lab/kernel-decap.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runRouters } from "../../plugin/routers/cli.js";
import { decapSummary, linuxDecapConfig, parseLinuxConfig, type LabCommand } from "../lab/kernel-decap.js";
import { nanogLab } from "../lab/netns.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/routers");
const H1 = "198.18.252.1"; // nanogLab()'s h1, the prober source

/** The lab's command list for one GRE router, written out (not computed from the generator). */
function greCommands(sources: string, targets: string): LabCommand[] {
  return [
    { argv: ["modprobe", "ip_gre"] },
    { argv: ["ip", "link", "set", "gre0", "up"] },
    { argv: ["sysctl", "-w", "net.ipv4.ip_forward=1"] },
    { argv: ["sysctl", "-w", "net.ipv4.conf.all.rp_filter=2"] },
    {
      argv: ["nft", "-f", "-"],
      input: [
        "table ip lsprobe_decap",
        "flush table ip lsprobe_decap",
        "table ip lsprobe_decap {",
        `  set sources { type ipv4_addr; elements = { ${sources} } }`,
        `  set targets { type ipv4_addr; elements = { ${targets} } }`,
        "  chain input {",
        "    type filter hook input priority filter - 10; policy accept;",
        "    ip protocol 47 ip saddr @sources ip daddr @targets accept",
        "    ip protocol { 4, 47 } ip daddr @targets drop",
        "  }",
        "}",
        "",
      ].join("\n"),
    },
  ];
}

const TARGETS: Record<string, string> = {
  r1: "198.18.0.0, 198.18.0.2",
  r2: "198.18.0.1, 198.18.0.4, 198.18.0.6",
  r3: "198.18.0.3, 198.18.0.8, 198.18.0.10",
  r4: "198.18.0.5, 198.18.0.9, 198.18.0.12",
  r5: "198.18.0.7, 198.18.0.11, 198.18.0.14",
  r6: "198.18.0.13, 198.18.0.15",
};

function expected(sources: string): ReturnType<typeof parseLinuxConfig> {
  return Object.entries(TARGETS).map(([router, t]) => ({ router, encap: "gre" as const, commands: greCommands(sources, t) }));
}

test("lab kernel decap: the stored routers --vendor linux output for the NANOG 6 LSDB parses into exactly the lab's commands", () => {
  const text = readFileSync(path.join(FIXTURES, "linux.txt"), "utf8");
  assert.deepEqual(parseLinuxConfig(text), expected("192.0.2.1, 192.0.2.2"));
});

test("lab kernel decap: the lab generates the same text the subcommand prints on the stored NANOG 6 snapshot, with h1 as the source", async () => {
  const topo = nanogLab();
  assert.equal(topo.hosts[0].address, H1);
  const mine = await linuxDecapConfig(topo);
  assert.deepEqual(parseLinuxConfig(mine), expected(H1));
  // The subcommand itself on the stored snapshot.
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-kd-"));
  try {
    const config = path.join(dir, "lsprobe.yaml");
    writeFileSync(config, `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  state-file: ${path.join(FIXTURES, "nanog6-lsdb.json")}\nprober:\n  source: ${H1}\n  router: r1\n`);
    let out = "";
    const code = runRouters(["--vendor", "linux", "--config", config], { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => {} } });
    assert.equal(code, 0);
    assert.equal(mine, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Every target is one of the router's own lab interface addresses.
  for (const [router, t] of Object.entries(TARGETS)) {
    const own = new Set(topo.links.flatMap((l) => (l.a === router ? [l.aAddress] : l.b === router ? [l.bAddress] : [])));
    for (const a of t.split(", ")) assert.ok(own.has(a), `${router}: ${a} is not its address in the lab`);
  }
});

test("lab kernel decap: IP-in-IP routers get tunl0 and ipip", async () => {
  const c = parseLinuxConfig(await linuxDecapConfig(nanogLab(), { encap: "ipip" }));
  assert.equal(c.length, 6);
  for (const r of c) {
    assert.equal(r.encap, "ipip");
    assert.deepEqual(r.commands.slice(0, 2), [{ argv: ["modprobe", "ipip"] }, { argv: ["ip", "link", "set", "tunl0", "up"] }]);
    assert.match(r.commands[4].input ?? "", /ip protocol 4 ip saddr @sources ip daddr @targets accept/);
  }
});

test("lab kernel decap: the parser refuses what it would only half understand", () => {
  const head = "# ==== r1: 1 target(s), GRE\n";
  const cases: Record<string, [string, RegExp]> = {
    "a shell variable": [`${head}ip link set $DEV up\n`, /"\$DEV" is not a plain word/],
    "a pipe": [`${head}echo x | nft -f -\n`, /"\|" is not a plain word/],
    "a quoted word": [`${head}nft add table "x"\n`, /not a plain word/],
    "an unterminated here-document": [`${head}nft -f - <<'EOF'\ntable ip x\n`, /here-document EOF of "nft -f -" never ends/],
    "a command before any router": ["modprobe ip_gre\n", /before any "# ==== ROUTER" section/],
  };
  for (const [name, [text, err]] of Object.entries(cases)) assert.throws(() => parseLinuxConfig(text), err, name);
  // A router without targets: a section, no commands.
  assert.deepEqual(parseLinuxConfig("# ==== r9: 0 target(s), GRE\n# no probe layer is addressed to this router: nothing to configure\n"), [{ router: "r9", commands: [] }]);
});

test("lab kernel decap: the line the lab says", () => {
  assert.equal(decapSummary("kernel", { encaps: ["gre"] }), "decap: kernel gre0 (ip_gre; config from lsprobe-plugin routers --vendor linux)");
  assert.equal(decapSummary("kernel", { encaps: ["gre", "ipip"] }), "decap: kernel gre0/tunl0 (ip_gre, ipip; config from lsprobe-plugin routers --vendor linux)");
  assert.equal(decapSummary("userspace", { why: "kernel has no GRE: ip link add type gre: Unknown device type." }), "decap: userspace helper (kernel has no GRE: ip link add type gre: Unknown device type.)");
});
