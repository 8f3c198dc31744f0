// The lab's choice of decapsulation, for real: what the kernel can do is detected (modprobe,
// `ip link add ... type gre|ipip` in a scratch namespace, removed at once) and said. Where the
// kernel has no GRE (this project's machine) the lab runs the userspace helper and says why;
// where it has GRE, the lab applies `lsprobe-plugin routers --vendor linux` in every router and
// the prober's four NANOG 6 paths come up through gre0 with no helper running (that test is
// skipped here, with the reason).
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Lab, nanogLab } from "./netns.js";
import { detectKernelDecap } from "./kernel-decap.js";
import { labPathSet } from "./pathset.js";

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../prober/main.js");
const root = process.getuid?.() === 0;
const support = root ? await detectKernelDecap() : undefined;
process.stderr.write(`kernel decap: gre ${support?.gre.ok ? "yes" : `no (${support?.gre.reason})`}; ipip ${support?.ipip.ok ? "yes" : `no (${support?.ipip.reason})`}\n`);

const netns = (): string[] => spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n").map((l) => l.split(" ")[0]).filter(Boolean);

test("lab decap: detection leaves no scratch namespace and gives a reason for what is missing", { skip: root ? false : "needs root (network namespaces)" }, () => {
  assert.ok(!netns().some((n) => n.endsWith("-decapchk")), "scratch namespace left");
  for (const e of ["gre", "ipip"] as const) {
    const s = support![e];
    if (s.ok) assert.equal(s.reason, undefined);
    else assert.match(s.reason ?? "", e === "gre" ? /^kernel has (no GRE: ip link add type gre: .+|GRE, but the generated config needs .+: not installed)$/ : /^kernel has (no IP-in-IP: ip link add type ipip: .+|IP-in-IP, but .+)$/);
  }
});

test("lab decap: without kernel GRE the lab runs the userspace helper and says why", { skip: !root ? "needs root (network namespaces)" : support!.gre.ok ? "this kernel has GRE: the kernel path runs instead (next test)" : false }, async (t) => {
  const lab = await Lab.create(nanogLab());
  t.after(() => lab.destroy());
  process.stderr.write(`${lab.decapSummary}\n`);
  assert.equal(lab.decapMode, "userspace");
  // The lab is dual stack by default: the IPv6 decapsulation follows, with its own reason.
  assert.equal(lab.decapSummary.split("; IPv6: ")[0], `decap: userspace helper (${support!.gre.reason})`);
  assert.match(lab.decapSummary, /; IPv6: (userspace helper \(kernel has no .+\)|kernel ip6gre0\/ip6tnl0 \(ip6_gre, ip6_tunnel\))$/);
  assert.equal(lab.helperPids().length, 6);
  // No gre0 in the routers: nothing kernel-side was touched.
  const r = await lab.exec("r1", ["ip", "link", "show", "dev", "gre0"]);
  assert.notEqual(r.code, 0);
});

test("lab decap: with kernel GRE the lab applies routers --vendor linux and the four paths come up through gre0, no helper", { skip: !root ? "needs root (network namespaces)" : support!.gre.ok ? false : `cannot run here: ${support!.gre.reason}`, timeout: 60_000 }, async (t) => {
  const topo = nanogLab();
  const lab = await Lab.create(topo);
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-kdecap-"));
  t.after(async () => {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  process.stderr.write(`${lab.decapSummary}\n`);
  assert.equal(lab.decapMode, "kernel");
  assert.match(lab.decapSummary, /^decap: kernel gre0 /);
  assert.deepEqual(lab.helperPids(), []);
  for (const r of topo.routers) {
    const link = await lab.exec(r.name, ["ip", "-j", "link", "show", "dev", "gre0"]);
    assert.match(link.stdout, /"UP"/, `${r.name}: gre0 up`);
    const nft = await lab.exec(r.name, ["nft", "list", "table", "ip", "lsprobe_decap"]);
    assert.equal(nft.code, 0, `${r.name}: ${nft.stderr}`);
  }
  chmodSync(dir, 0o755);
  const file = path.join(dir, "paths.json");
  writeFileSync(file, JSON.stringify(await labPathSet(topo)));
  const config = path.join(dir, "lsprobe.yaml");
  writeFileSync(config, `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\nprober:\n  source: ${topo.hosts[0].address}\n  router: r1\n  paths:\n    socket: null\n    file: ${file}\n  rate: 20\n  timeout: 200ms\n  listen: 127.0.0.1:9469\n`);
  const prober = lab.spawnIn("h1", [process.execPath, MAIN, "--config", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  prober.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  type Doc = { paths: Array<{ hops: string; state: string; received: number }> };
  let doc: Doc | undefined;
  for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 300))) {
    const r = await lab.exec("h1", [process.execPath, "-e", "fetch('http://127.0.0.1:9469/paths').then(r=>r.text()).then(t=>process.stdout.write(t))"]);
    if (r.code === 0) doc = JSON.parse(r.stdout) as Doc;
    if (doc?.paths.length === 4 && doc.paths.every((p) => p.state === "up" && p.received > 0)) break;
  }
  assert.deepEqual(doc?.paths.map((p) => p.state), ["up", "up", "up", "up"], stderr);
  const counters = await lab.decapCounters();
  for (const r of ["r2", "r3", "r4", "r5", "r6"]) assert.ok(counters[r].received > 0, `${r}: gre0 received nothing`);
  prober.kill("SIGTERM");
});
