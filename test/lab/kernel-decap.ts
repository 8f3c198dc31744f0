// Kernel decapsulation for the lab, where the kernel has it: which one the lab can use, and the
// Linux config `lsprobe-plugin routers --vendor linux` prints, applied as it is inside each
// router namespace (parsed into commands, not re-typed here).
//
//   const k = await detectKernelDecap();          // { gre: {ok, reason}, ipip: {ok, reason} }
//   decapSummary("userspace", { why: k.gre.reason })   // "decap: userspace helper (kernel has no GRE: ...)"
//   const text = linuxDecapConfig(topo, { sources: ["198.18.252.1"] });
//   for (const r of parseLinuxConfig(text)) ... r.commands   // [{ argv: ["modprobe", "ip_gre"] }, ...]
//
// The generated config runs modprobe, ip, sysctl and nft (its filter: probe tunnels to the
// targets from the prober sources only), so the kernel path needs all four as well as the
// module. On this project's CI machine the kernel has neither GRE nor IP-in-IP ("Unknown device
// type") and there is no modprobe or nft: the lab uses the userspace helper (decap-main.ts) and
// says why. What cannot run here, and was therefore never run: applying the config (modprobe,
// `ip link set gre0 up`, the sysctls, `nft -f -`) and the nft gray-loss rule (netns.ts setFault).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Engine } from "../../plugin/engine.js";
import { directedPairs } from "../../plugin/paths.js";
import { runRouters } from "../../plugin/routers/cli.js";
import type { Encap } from "../../plugin/routers/types.js";
import { createLogger } from "../../shared/log.js";
import { ExabgpLines } from "../util/exabgp-lines.js";
import type { LabTopology } from "./netns.js";
import { lsTopologyFromLab } from "./topology-file.js";

// ---- the generated config, as commands ----

/** One command of the generated config: argv, and what a here-document feeds its stdin. */
export interface LabCommand {
  argv: string[];
  input?: string;
}

export interface RouterDecapConfig {
  router: string;
  /** From the section header; undefined when the router has no target (nothing to configure). */
  encap?: Encap;
  commands: LabCommand[];
}

const SECTION = /^# ==== ([^:]+): (\d+) target\(s\), (GRE|IP-in-IP)$/;
const HEREDOC = /^(.*\S)\s+<<'([A-Z]+)'$/;
// Words only: the generated config has no quoting, variables, pipes or redirections besides the
// here-document; anything else is refused rather than half-understood.
const WORD = /^[A-Za-z0-9_./=:@,+-]+$/;

/**
 * The output of `lsprobe-plugin routers --vendor linux` split into each router's commands, in
 * order. Comments and blank lines are dropped; `CMD <<'EOF'` ... `EOF` becomes CMD with the
 * lines between as its stdin. Throws on a line it does not understand.
 */
export function parseLinuxConfig(text: string): RouterDecapConfig[] {
  const out: RouterDecapConfig[] = [];
  const lines = text.split("\n");
  let cur: RouterDecapConfig | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const sec = SECTION.exec(line);
    if (sec) {
      cur = { router: sec[1], commands: [] };
      if (Number(sec[2]) > 0) cur.encap = sec[3] === "GRE" ? "gre" : "ipip";
      out.push(cur);
      continue;
    }
    if (line.trim() === "" || line.startsWith("#")) continue;
    if (cur === undefined) throw new Error(`linux config line ${i + 1}: a command before any "# ==== ROUTER" section: ${line}`);
    let input: string | undefined;
    let cmd = line;
    const hd = HEREDOC.exec(line);
    if (hd) {
      cmd = hd[1];
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== hd[2]; i++) body.push(lines[i]);
      if (i >= lines.length) throw new Error(`linux config: here-document ${hd[2]} of "${cmd}" never ends`);
      input = body.join("\n") + "\n";
    }
    const argv = cmd.trim().split(/\s+/);
    for (const w of argv) if (!WORD.test(w)) throw new Error(`linux config line ${i + 1}: ${JSON.stringify(w)} is not a plain word (the lab runs no shell): ${line}`);
    cur.commands.push(input === undefined ? { argv } : { argv, input });
  }
  return out;
}

// ---- generating it for a lab ----

export interface KernelDecapOptions {
  /** Prober source addresses (default: every host of the lab). */
  sources?: string[];
  /** Endpoint pairs (default: first and last router, as LabStack's plugin). */
  pairs?: Array<[string, string]>;
  /** prober.encap (default gre). */
  encap?: Encap;
}

/**
 * What `lsprobe-plugin routers --vendor linux` prints for this lab: the LSDB snapshot the plugin
 * would write from the lab's BGP-LS (an Engine fed the speaker's topology as ExaBGP lines), a
 * config naming the endpoints, the prober source and router, then the subcommand itself.
 */
export async function linuxDecapConfig(topo: LabTopology, o: KernelDecapOptions = {}): Promise<string> {
  const routers = topo.routers.map((r) => r.name);
  const pairs = o.pairs ?? [[routers[0], routers[routers.length - 1]]];
  const sources = o.sources ?? topo.hosts.map((h) => h.address);
  const engine = new Engine(
    { query: { pairs: directedPairs(pairs), mode: "all", maxPerPair: 64 }, metric: "igp", debounceMs: 0, staleTimeoutMs: 60_000, routeRefresh: false, generation: 0, sliceMs: 0 },
    { log: createLogger({ name: "lab", level: "error", stream: { write: () => {} } }), command: () => {}, publish: async () => {}, now: () => new Date(0) },
  );
  let n = 0;
  for (const l of new ExabgpLines(lsTopologyFromLab(topo)).fullTable()) engine.handleLine(l, ++n);
  await engine.recompute();
  await engine.close();
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-lab-decap-"));
  try {
    const snapshot = path.join(dir, "lsdb.json");
    const config = path.join(dir, "lsprobe.yaml");
    writeFileSync(snapshot, engine.snapshotText() + "\n");
    const prober = topo.hosts[0] ? [`prober:`, `  source: ${sources[0] ?? topo.hosts[0].address}`, `  router: ${topo.hosts[0].router}`, `  encap: ${o.encap ?? "gre"}`] : [];
    writeFileSync(config, [`plugin:`, `  endpoints:`, `    pairs: ${JSON.stringify(pairs)}`, `  state-file: ${snapshot}`, ...prober, ""].join("\n"));
    let out = "";
    let err = "";
    const code = runRouters(["--vendor", "linux", "--config", config, ...sources.flatMap((s) => ["--source", s])], {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
    });
    if (code !== 0) throw new Error(`lab: lsprobe-plugin routers --vendor linux exited ${code}: ${err.trim()}`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- detection ----

export interface EncapSupport {
  ok: boolean;
  /** Why not (when !ok): what failed, in its own words. */
  reason?: string;
}

export type KernelDecapSupport = Record<Encap, EncapSupport>;

const MODULE: Record<Encap, string> = { gre: "ip_gre", ipip: "ipip" };
const DEVICE: Record<Encap, string> = { gre: "gre0", ipip: "tunl0" };
const NAME: Record<Encap, string> = { gre: "GRE", ipip: "IP-in-IP" };
/** Programs the generated config runs, besides ip. */
const TOOLS = ["modprobe", "sysctl", "nft"];

function onPath(tool: string): boolean {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
  return dirs.some((d) => d !== "" && existsSync(path.join(d, tool)));
}

function run(argv: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    c.on("error", (e) => resolve({ code: -1, stderr: e.message }));
    c.on("close", (code) => resolve({ code, stderr }));
  });
}

const oneLine = (s: string): string => s.trim().replace(/\s+/g, " ").replace(/^Error: /, "");

/**
 * Whether the lab can decapsulate GRE and IP-in-IP in the kernel: `modprobe ip_gre` / `ipip`
 * where modprobe exists, then `ip link add ... type gre|ipip` in a throwaway namespace (which
 * autoloads the module where it can), deleted at once; and the programs the generated config
 * runs. Cached per process.
 */
export function detectKernelDecap(prefix = "lsp-"): Promise<KernelDecapSupport> {
  detected ??= (async () => {
    const missing = TOOLS.filter((t) => !onPath(t));
    const ns = `${prefix}${process.pid}-decapchk`;
    const add = await run(["ip", "netns", "add", ns]);
    if (add.code !== 0) {
      const reason = `cannot make a scratch namespace: ${oneLine(add.stderr)}`;
      return { gre: { ok: false, reason }, ipip: { ok: false, reason } };
    }
    try {
      const one = async (e: Encap): Promise<EncapSupport> => {
        const mod = missing.includes("modprobe") ? "" : await run(["modprobe", MODULE[e]]).then((r) => (r.code === 0 ? "" : `; modprobe ${MODULE[e]}: ${oneLine(r.stderr)}`));
        const r = await run(["ip", "-n", ns, "link", "add", `lspchk-${e}`, "type", e, "local", "198.18.255.1", "remote", "198.18.255.2"]);
        if (r.code !== 0) return { ok: false, reason: `kernel has no ${NAME[e]}: ip link add type ${e}: ${oneLine(r.stderr)}${mod}${missing.length ? `; not installed: ${missing.join(", ")}` : ""}` };
        if (missing.length > 0) return { ok: false, reason: `kernel has ${NAME[e]}, but the generated config needs ${missing.join(", ")}: not installed` };
        return { ok: true };
      };
      return { gre: await one("gre"), ipip: await one("ipip") };
    } finally {
      await run(["ip", "netns", "del", ns]);
    }
  })();
  return detected;
}
let detected: Promise<KernelDecapSupport> | undefined;

// ---- IPv6 ----
//
// GRE over IPv6 is the kernel's ip6_gre (fallback device ip6gre0), IPv6-in-IPv6 and IPv4-in-IPv6
// its ip6_tunnel (ip6tnl0, mode any). Like gre0 and tunl0 for IPv4, the fallback devices (local
// any, remote any) take every such tunnel packet for the namespace once up, and the decapsulated
// packet is routed on its inner header. The lab uses the kernel for IPv6 only with both modules
// and both fallback devices present in a new namespace (a raw socket beside a kernel handler would
// decapsulate twice); the lab brings ip6gre0 and ip6tnl0 up, the devices `lsprobe-plugin routers
// --vendor linux` configures for IPv6 layers (without its nftables scoping, which this kernel
// cannot run either). On this project's machine the kernel has neither ("Unknown
// device type"): the lab's IPv6 runs the userspace helper and says so. Never run here.

export type Encap6 = "gre6" | "ip6ip6";
export type KernelDecap6Support = Record<Encap6, EncapSupport>;

const MODULE6: Record<Encap6, string> = { gre6: "ip6_gre", ip6ip6: "ip6_tunnel" };
const DEVICE6: Record<Encap6, string> = { gre6: "ip6gre0", ip6ip6: "ip6tnl0" };
const TYPE6: Record<Encap6, string[]> = { gre6: ["ip6gre"], ip6ip6: ["ip6tnl", "mode", "ip6ip6"] };
const NAME6: Record<Encap6, string> = { gre6: "GRE over IPv6", ip6ip6: "IPv6-in-IPv6" };

/**
 * Whether the kernel decapsulates GRE over IPv6 (ip6_gre) and IPv6-in-IPv6 (ip6_tunnel): modprobe
 * where it exists, then `ip link add ... type ip6gre|ip6tnl` in a throwaway namespace, and the
 * fallback device (ip6gre0, ip6tnl0) there. Cached per process.
 */
export function detectKernelDecap6(prefix = "lsp-"): Promise<KernelDecap6Support> {
  detected6 ??= (async () => {
    const ns = `${prefix}${process.pid}-decapchk6`;
    const add = await run(["ip", "netns", "add", ns]);
    if (add.code !== 0) {
      const reason = `cannot make a scratch namespace: ${oneLine(add.stderr)}`;
      return { gre6: { ok: false, reason }, ip6ip6: { ok: false, reason } };
    }
    try {
      const one = async (e: Encap6): Promise<EncapSupport> => {
        const mod = onPath("modprobe") ? await run(["modprobe", MODULE6[e]]).then((r) => (r.code === 0 ? "" : `; modprobe ${MODULE6[e]}: ${oneLine(r.stderr)}`)) : "";
        const r = await run(["ip", "-n", ns, "link", "add", `lspchk-${e}`, "type", ...TYPE6[e], "local", "2001:2:0:ffff::1", "remote", "2001:2:0:ffff::2"]);
        if (r.code !== 0) return { ok: false, reason: `kernel has no ${NAME6[e]} (${MODULE6[e]}): ip link add type ${TYPE6[e][0]}: ${oneLine(r.stderr)}${mod}` };
        const fb = await run(["ip", "-n", ns, "link", "show", "dev", DEVICE6[e]]);
        if (fb.code !== 0) return { ok: false, reason: `kernel has ${NAME6[e]} but no ${DEVICE6[e]} in new namespaces (net.core.fb_tunnels_only_for_init_net?)` };
        return { ok: true };
      };
      return { gre6: await one("gre6"), ip6ip6: await one("ip6ip6") };
    } finally {
      await run(["ip", "netns", "del", ns]);
    }
  })();
  return detected6;
}
let detected6: Promise<KernelDecap6Support> | undefined;

/** The IPv6 kernel devices the lab brings up in kernel mode. */
export const KERNEL_DEVICES6: readonly string[] = [DEVICE6.gre6, DEVICE6.ip6ip6];

/** Why the lab's IPv6 cannot use the kernel, or undefined when it can. */
export function kernelDecap6Reason(k: KernelDecap6Support): string | undefined {
  const why = (["gre6", "ip6ip6"] as const).flatMap((e) => (k[e].ok ? [] : [k[e].reason ?? `no ${NAME6[e]}`]));
  return why.length > 0 ? why.join("; ") : undefined;
}

/** The IPv6 part of the lab's decap line: "IPv6: userspace helper (why)" or "IPv6: kernel ip6gre0/ip6tnl0 (ip6_gre, ip6_tunnel)". */
export function decapSummary6(mode: "userspace" | "kernel" | "none", o: { why?: string } = {}): string {
  if (mode === "kernel") return `IPv6: kernel ${DEVICE6.gre6}/${DEVICE6.ip6ip6} (${MODULE6.gre6}, ${MODULE6.ip6ip6})`;
  if (mode === "none") return "IPv6: none";
  return `IPv6: userspace helper (${o.why ?? "asked for"})`;
}

/** The kernel device and module an encapsulation uses. */
export function kernelDevice(e: Encap): { device: string; module: string } {
  return { device: DEVICE[e], module: MODULE[e] };
}

/** The one line the lab says about its decapsulation (labctl status, demo, stack and test logs). */
export function decapSummary(mode: "userspace" | "kernel" | "none", o: { encaps?: Encap[]; why?: string } = {}): string {
  if (mode === "kernel") {
    const used = o.encaps ?? ["gre"];
    return `decap: kernel ${used.map((e) => DEVICE[e]).join("/")} (${used.map((e) => MODULE[e]).join(", ")}; config from lsprobe-plugin routers --vendor linux)`;
  }
  if (mode === "none") return "decap: none";
  return `decap: userspace helper (${o.why ?? "asked for"})`;
}

// ---- MPLS ----
//
// SR-MPLS on the kernel would need its MPLS forwarding (mpls_router: the net.mpls sysctls, `ip -f
// mpls route`) and, for what the prober sends to the first router, MPLS-in-UDP reception (fou:
// `ip fou add port 6635 ipproto 137`) into an MPLS-in-IP tunnel (ipip mode mplsip). This
// project's kernel has MPLS but not its routing (CONFIG_MPLS_ROUTING unset: no net.mpls in any
// namespace) and no fou, so the lab runs the userspace label switcher (mpls.ts) and says why.

/**
 * Whether the kernel can forward MPLS for the lab: modprobe mpls_router, mpls_iptunnel and fou
 * where modprobe exists, then, in a throwaway namespace, net.mpls.platform_labels, `ip fou add
 * port 6635 ipproto 137` and an `ipip mode mplsip` device. Cached per process.
 */
export function detectKernelMpls(prefix = "lsp-"): Promise<EncapSupport> {
  detectedMpls ??= inScratchNamespace(`${prefix}${process.pid}-mplschk`, async (ns) => {
    let mod = "";
    if (onPath("modprobe")) {
      for (const m of ["mpls_router", "mpls_iptunnel", "fou"]) {
        const r = await run(["modprobe", m]);
        if (r.code !== 0) mod += `; modprobe ${m}: ${oneLine(r.stderr)}`;
      }
    }
    const sysctl = await run(["ip", "netns", "exec", ns, "sysctl", "-n", "net.mpls.platform_labels"]);
    if (sysctl.code !== 0) return { ok: false, reason: `kernel has no MPLS forwarding (mpls_router: no net.mpls.platform_labels)${mod}` };
    const fou = await run(["ip", "-n", ns, "fou", "add", "port", "6635", "ipproto", "137"]);
    if (fou.code !== 0) return { ok: false, reason: `kernel has MPLS forwarding but no MPLS-in-UDP reception: ip fou add: ${oneLine(fou.stderr)}${mod}` };
    const tun = await run(["ip", "-n", ns, "link", "add", "lspchk-mpls", "type", "ipip", "mode", "mplsip", "local", "198.18.255.1", "remote", "198.18.255.2"]);
    if (tun.code !== 0) return { ok: false, reason: `kernel has MPLS forwarding and fou but no MPLS-in-IP tunnel: ip link add type ipip mode mplsip: ${oneLine(tun.stderr)}${mod}` };
    return { ok: true };
  });
  return detectedMpls;
}
let detectedMpls: Promise<EncapSupport> | undefined;

/** `check` run in a throwaway namespace `ns`, deleted after whatever it answers. */
async function inScratchNamespace(ns: string, check: (ns: string) => Promise<EncapSupport>): Promise<EncapSupport> {
  const add = await run(["ip", "netns", "add", ns]);
  if (add.code !== 0) return { ok: false, reason: `cannot make a scratch namespace: ${oneLine(add.stderr)}` };
  try {
    return await check(ns);
  } finally {
    await run(["ip", "netns", "del", ns]);
  }
}

/**
 * Whether the kernel runs SRv6 End.X itself: a seg6local route in a scratch namespace
 * (CONFIG_IPV6_SEG6_LWTUNNEL; without it `ip route add ... encap seg6local` answers "lwt
 * encapsulation type not supported"). Once per process, as detectKernelMpls.
 */
export function detectKernelSrv6(prefix = "lsp-"): Promise<EncapSupport> {
  detectedSrv6 ??= inScratchNamespace(`${prefix}${process.pid}-seg6chk`, async (ns) => {
    const r = await run(["ip", "-6", "-n", ns, "route", "add", "2001:2:0:ffff::e/128", "encap", "seg6local", "action", "End", "dev", "lo"]);
    return r.code === 0 ? { ok: true } : { ok: false, reason: `kernel has no seg6local (CONFIG_IPV6_SEG6_LWTUNNEL): ip route add encap seg6local: ${oneLine(r.stderr)}` };
  });
  return detectedSrv6;
}
let detectedSrv6: Promise<EncapSupport> | undefined;
