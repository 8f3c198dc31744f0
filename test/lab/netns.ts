// A lab of routers and hosts as network namespaces, joined by veth pairs, with IGP-like ECMP
// routes (Dijkstra over the link metrics, installed as static multipath routes) and a GRE
// decapsulator on every router (userspace helper decap-main.ts, or kernel ip_gre when present).
//
//   const lab = await Lab.create(nanogLab());          // lsp-<pid>-<n>-r1 ... lsp-<pid>-<n>-h1
//   await lab.exec("h1", ["ip", "route"]);
//   await lab.linkDown("r2", "r4"); await lab.installRoutes();
//   await lab.destroy();                               // also on exit, SIGINT, SIGTERM
//
// Safety: every address is inside 198.18.0.0/15; veths are created directly inside the lab's
// namespaces (nothing is added to the root namespace); namespace names carry the creating
// process's pid, so Lab.cleanupStale() (run by every Lab.create) can remove what a killed lab
// left. Decap helpers also exit by themselves when the lab process dies (their stdin closes).
//
// Addressing (the plan of test/lab/speaker/topology.ts, so BGP-LS announcements and the data
// plane agree): router n (1-based, list order) has loopback 198.19.hi.lo/32; edge k (0-based)
// is the /31 198.18.0.0 + 2k, `a` (the edge list's src) taking the lower address; host j is on
// the /31 198.18.252.0 + 2j (router side lower). 198.18.254.0/23 stays free for BGP speakers.
//
// Every namespace gets ip_forward (routers only), rp_filter=0 and accept_local=1 on all, default,
// lo and every interface: a probe that comes back to its sender's own address is otherwise
// dropped as a martian, and pinned paths are asymmetric by design.
//
// IPv6 (LabOptions.family "dual", the default, or "ipv6"; "ipv4" leaves IPv6 disabled, as before):
// every address of the IPv4 plan has its counterpart in the benchmarking range 2001:2::/48
// (RFC 5180), 198.B.C.D -> 2001:2:0:B::C:D with each octet's decimal digits written as hex
// digits, so the IPv4 address reads off the IPv6 one: router loopback 198.19.0.6/32 ->
// 2001:2:0:19::6/128; link /31 198.18.0.4/31 -> the /127 2001:2:0:18::4/127 (its a end ::4, b end
// ::5: decimal even/odd pairs keep their last bit, so a /31 maps onto a /127, RFC 6164); host /31
// 198.18.252.0/31 -> 2001:2:0:18::252:0/127. IPv6 forwarding on routers; accept_dad=0 and nodad
// (addresses usable at once), accept_ra=0, router_solicitations=0, keep_addr_on_down=1 (a link
// down keeps its addresses, as IPv4's do) on all, default, lo and every interface; the same
// IGP-like ECMP routes as over IPv4 (`ip -6 route`, multipath), next hops the neighbours' global
// addresses. "ipv6" configures no IPv4 address or route at all (the model still has the IPv4
// plan: the IPv6 one derives from it).
//
// Segment routing (issue 15; the plan, locators, End.X SIDs and Adj-SID labels, is sr.ts's):
// LabOptions.srv6 routes every router's locator /64 along the IGP's ECMP routes as its loopback
// is, and sets net.ipv6.conf.{all,default,lo,<every interface>}.seg6_enabled=1 on the hosts (the
// kernel drops a packet with a segment routing header, even one with segments left 0, where
// seg6_enabled is 0 on `all` or on the interface it came in on: ipv6_srh_rcv). End.X runs on the
// kernel's own data plane where it has seg6local (srv6Mode "kernel", detectKernelSrv6), no
// userspace helper in its path: in every router one `seg6local action End.X nh6 <neighbour's link
// IPv6> dev <link>` route per adjacency (its SID /128, proto 200, gone while the link is down, back
// with installRoutes), seg6_enabled=1 on the routers too. Without seg6local (srv6Mode
// "userspace"), each router's decap helper runs End.X (srv6.ts, srv6-forwarder.ts): the locator
// is a local route of its owner (`local LOCATOR/64 dev lo table local`), seg6_enabled=0 on the
// routers so that the kernel leaves the packet to the helper, and the helper sends it out of the
// adjacency's link through the same per-adjacency rules and tables as the label switcher's
// below. LabOptions.mpls runs
// SR-MPLS on the userspace label switcher (mpls.ts, hosted by each router's decap helper:
// MPLS-in-UDP on port 6635 at every router address, MPLS-in-GRE 0x8847), since this kernel has no
// MPLS forwarding (kernel-decap.ts detectKernelMpls says why); for each adjacency a policy rule
// `oif <link> lookup <1000 + adjacency index>` (pref 300) whose table holds a default route via the
// neighbour, so that an inner packet the switcher sends out of the link (bottom of stack) goes to
// that neighbour whatever its destination.

import { spawn, execFileSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { readTopologyJson } from "../util/edgelist.js";
import { bytesToIpv6, ipv6ToBytes } from "../../prober/packet/ipv6.js";
import { KERNEL_DEVICES6, decapSummary, decapSummary6, detectKernelDecap, detectKernelDecap6, detectKernelMpls, detectKernelSrv6, kernelDecap6Reason, kernelDevice, linuxDecapConfig, parseLinuxConfig, type KernelDecapOptions, type KernelDecapSupport } from "./kernel-decap.js";
import type { MplsRouterConfig } from "./mpls.js";
import { srv6RouterConfig, type Srv6RouterConfig } from "./srv6.js";
import { adjacencyOf, srPlan, type SrAdjacency, type SrPlan } from "./sr.js";

// ------------------------------------------------------------------------------------------------
// Topology model
// ------------------------------------------------------------------------------------------------

export interface LabRouter {
  name: string;
  /** 198.19.x.y, installed as /32 on lo. */
  loopback: string;
  /** 2001:2:0:19::x:y (labIpv6For(loopback)), installed as /128 on lo when the lab has IPv6. */
  loopback6: string;
}

export interface LabLink {
  a: string;
  b: string;
  /** IGP metric, both directions. */
  metric: number;
  /** a's address on the link's /31 (the lower one). */
  aAddress: string;
  bAddress: string;
  /** a's address on the link's /127 (the lower one; default labIpv6For(aAddress)). */
  aAddress6: string;
  bAddress6: string;
}

export interface LabHost {
  name: string;
  /** The router it hangs off (its default route). */
  router: string;
  address: string;
  /** The router's address on the host's /31. */
  routerAddress: string;
  /** The host's IPv6 address on its /127 (labIpv6For(address)). */
  address6: string;
  /** The router's address on the host's /127. */
  routerAddress6: string;
}

/** Which address families a lab runs: IPv4 only, dual stack (the default), or IPv6 only. */
export type LabFamily = "ipv4" | "dual" | "ipv6";
export type AddressFamily = "ipv4" | "ipv6";

/** The address families of a LabFamily, IPv4 first. */
export function familiesOf(f: LabFamily): AddressFamily[] {
  return f === "dual" ? ["ipv4", "ipv6"] : [f];
}

export interface LabTopology {
  routers: LabRouter[];
  links: LabLink[];
  hosts: LabHost[];
}

export interface EdgeList {
  nodes: string[];
  edges: Array<{ src: string; dst: string; metric: number }>;
}

const MAX_ROUTERS = 65534;
const HOST_BASE_EDGE = 32256; // 198.18.252.0
const MAX_HOSTS = 256; // up to 198.18.253.255
const LAB_NET = (((198 << 24) >>> 0) + (18 << 16)) >>> 0; // 198.18.0.0/15
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

function ipv4FromNumber(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function ipv4ToNumber(s: string): number {
  const p = s.split(".").map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

/** 2001:2::/48, the IPv6 benchmarking range (RFC 5180 §5): its first 6 bytes. */
const LAB_NET6 = [0x20, 0x01, 0x00, 0x02, 0x00, 0x00];

/**
 * The IPv6 counterpart of a lab IPv4 address (inside 198.18.0.0/15): 198.B.C.D ->
 * 2001:2:0:B::C:D, each octet's decimal digits as hex digits (198.18.252.1 -> 2001:2:0:18::252:1,
 * 198.19.0.6 -> 2001:2:0:19::6). Injective, and a /31 pair (even, odd) maps onto a /127 pair.
 */
export function labIpv6For(ipv4: string): string {
  const n = ipv4ToNumber(ipv4);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ipv4) || n >>> 17 !== LAB_NET >>> 17) throw new RangeError(`${ipv4} is not inside 198.18.0.0/15: no lab IPv6 counterpart`);
  const digits = (x: number): number => parseInt(String(x), 16);
  const b = Buffer.alloc(16);
  b.set(LAB_NET6);
  b.writeUInt16BE(digits((n >>> 16) & 255), 6);
  b.writeUInt16BE(digits((n >>> 8) & 255), 12);
  b.writeUInt16BE(digits(n & 255), 14);
  return bytesToIpv6(b);
}

/** The canonical (RFC 5952) form of an IPv6 address; throws TypeError on a malformed one. */
export function canonicalIpv6(a: string): string {
  return bytesToIpv6(ipv6ToBytes(a));
}

/** The /127 holding an IPv6 address, as "prefix/127". */
function subnet127(a: string): string {
  const b = ipv6ToBytes(a);
  b[15] &= 0xfe;
  return `${bytesToIpv6(b)}/127`;
}

/** Router number n (1-based) -> 198.19.hi.lo. */
export function loopbackAddress(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_ROUTERS) throw new RangeError(`router number ${n} outside 1..${MAX_ROUTERS}`);
  return ipv4FromNumber(((198 << 24) >>> 0) + (19 << 16) + n);
}

/** Edge k (0-based) -> its /31 [lower, upper] from 198.18.0.0. */
export function edgeSubnet(k: number): [string, string] {
  if (!Number.isInteger(k) || k < 0 || k >= HOST_BASE_EDGE) throw new RangeError(`edge number ${k} outside 0..${HOST_BASE_EDGE - 1}`);
  const base = ((198 << 24) >>> 0) + (18 << 16) + 2 * k;
  return [ipv4FromNumber(base), ipv4FromNumber(base + 1)];
}

/** Host j (0-based) -> [router side, host side] of its /31 from 198.18.252.0. */
export function hostSubnet(j: number): [string, string] {
  if (!Number.isInteger(j) || j < 0 || j >= MAX_HOSTS) throw new RangeError(`host number ${j} outside 0..${MAX_HOSTS - 1}`);
  const base = ((198 << 24) >>> 0) + (18 << 16) + 2 * (HOST_BASE_EDGE + j);
  return [ipv4FromNumber(base), ipv4FromNumber(base + 1)];
}

/** The lab form of an edge list (/work/shared/topologies format), with hosts attached to routers. */
export function labFromEdgeList(json: EdgeList, hosts: Array<{ name: string; router: string }> = []): LabTopology {
  const routers = json.nodes.map((name, i) => {
    const loopback = loopbackAddress(i + 1);
    return { name, loopback, loopback6: labIpv6For(loopback) };
  });
  const links = json.edges.map((e, k) => {
    const [aAddress, bAddress] = edgeSubnet(k);
    return { a: e.src, b: e.dst, metric: e.metric, aAddress, bAddress, aAddress6: labIpv6For(aAddress), bAddress6: labIpv6For(bAddress) };
  });
  const labHosts = hosts.map((h, j) => {
    const [routerAddress, address] = hostSubnet(j);
    return { name: h.name, router: h.router, address, routerAddress, address6: labIpv6For(address), routerAddress6: labIpv6For(routerAddress) };
  });
  const topo = { routers, links, hosts: labHosts };
  validateTopology(topo);
  return topo;
}

/**
 * The NANOG 76 hackathon's 6 routers (/work/shared/topologies/nanog6.json, all metrics 10;
 * r1 to r6 has 4 equal-cost paths), with host h1 on r1 (where the prober lives) and, with
 * `h6: true`, host h6 on r6.
 */
export function nanogLab(opts: { h6?: boolean } = {}): LabTopology {
  const hosts = [{ name: "h1", router: "r1" }];
  if (opts.h6) hosts.push({ name: "h6", router: "r6" });
  return labFromEdgeList(readTopologyJson("nanog6.json"), hosts);
}

export function validateTopology(t: LabTopology): void {
  const names = new Set<string>();
  for (const n of [...t.routers.map((r) => r.name), ...t.hosts.map((h) => h.name)]) {
    if (!NAME_RE.test(n)) throw new TypeError(`lab node name ${JSON.stringify(n)}: letters, digits, "_" and "-" only, at most 32`);
    if (names.has(n)) throw new TypeError(`lab node name ${JSON.stringify(n)} used twice`);
    names.add(n);
  }
  const routers = new Set(t.routers.map((r) => r.name));
  const addrs = new Set<string>();
  const addr = (a: string, what: string): void => {
    const n = ipv4ToNumber(a);
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(a) || n >>> 17 !== LAB_NET >>> 17) throw new RangeError(`${what}: ${a} is not inside 198.18.0.0/15`);
    if (addrs.has(a)) throw new RangeError(`${what}: ${a} used twice`);
    addrs.add(a);
  };
  const addrs6 = new Set<string>();
  const addr6 = (a: string, what: string): Uint8Array => {
    let b: Uint8Array;
    try {
      b = ipv6ToBytes(a);
    } catch (e) {
      throw new RangeError(`${what}: ${(e as Error).message}`);
    }
    if (bytesToIpv6(b) !== a) throw new RangeError(`${what}: ${a} is not in canonical form (RFC 5952: ${bytesToIpv6(b)})`);
    if (!LAB_NET6.every((x, i) => b[i] === x)) throw new RangeError(`${what}: ${a} is not inside 2001:2::/48`);
    if (addrs6.has(a)) throw new RangeError(`${what}: ${a} used twice`);
    addrs6.add(a);
    return b;
  };
  const pair127 = (x: string, y: string, what: string): void => {
    const [bx, by] = [addr6(x, what), addr6(y, what)];
    if (!bx.every((v, i) => (i === 15 ? (v ^ by[i]) === 1 : v === by[i]))) throw new RangeError(`${what}: ${x} and ${y} are not one /127`);
  };
  for (const r of t.routers) {
    addr(r.loopback, `router ${r.name} loopback`);
    addr6(r.loopback6, `router ${r.name} loopback6`);
  }
  t.links.forEach((l, i) => {
    if (!routers.has(l.a) || !routers.has(l.b)) throw new TypeError(`links[${i}]: ${l.a}-${l.b} names an unknown router`);
    if (l.a === l.b) throw new TypeError(`links[${i}]: self-loop on ${l.a}`);
    if (!Number.isInteger(l.metric) || l.metric < 0) throw new TypeError(`links[${i}].metric must be a non-negative integer`);
    if ((ipv4ToNumber(l.aAddress) ^ ipv4ToNumber(l.bAddress)) !== 1) throw new RangeError(`links[${i}]: ${l.aAddress} and ${l.bAddress} are not one /31`);
    addr(l.aAddress, `links[${i}]`);
    addr(l.bAddress, `links[${i}]`);
    pair127(l.aAddress6, l.bAddress6, `links[${i}]`);
  });
  t.hosts.forEach((h, j) => {
    if (!routers.has(h.router)) throw new TypeError(`hosts[${j}]: ${h.name} hangs off unknown router ${h.router}`);
    if ((ipv4ToNumber(h.address) ^ ipv4ToNumber(h.routerAddress)) !== 1) throw new RangeError(`hosts[${j}]: ${h.address} and ${h.routerAddress} are not one /31`);
    addr(h.address, `hosts[${j}]`);
    addr(h.routerAddress, `hosts[${j}]`);
    pair127(h.routerAddress6, h.address6, `hosts[${j}]`);
  });
}

// ------------------------------------------------------------------------------------------------
// Routes: a pure function of the topology and the links in use
// ------------------------------------------------------------------------------------------------

/** One end of a link as seen from a node: its interface, its address, the far end. */
interface Port {
  link: number; // index in links, or -1 - j for host j
  node: string;
  peer: string;
  ifname: string;
  address: string;
  peerAddress: string;
  address6: string;
  peerAddress6: string;
  metric: number;
}

export interface LabRoute {
  prefix: string;
  nexthops: Array<{ via: string; dev: string }>;
}

function ifName(s: string): string {
  return s.slice(0, 15); // IFNAMSIZ - 1
}

function ports(t: LabTopology): Map<string, Port[]> {
  const m = new Map<string, Port[]>();
  for (const n of [...t.routers.map((r) => r.name), ...t.hosts.map((h) => h.name)]) m.set(n, []);
  t.links.forEach((l, i) => {
    m.get(l.a)!.push({ link: i, node: l.a, peer: l.b, ifname: ifName(`e${i}-${l.b}`), address: l.aAddress, peerAddress: l.bAddress, address6: l.aAddress6, peerAddress6: l.bAddress6, metric: l.metric });
    m.get(l.b)!.push({ link: i, node: l.b, peer: l.a, ifname: ifName(`e${i}-${l.a}`), address: l.bAddress, peerAddress: l.aAddress, address6: l.bAddress6, peerAddress6: l.aAddress6, metric: l.metric });
  });
  t.hosts.forEach((h, j) => {
    m.get(h.router)!.push({ link: -1 - j, node: h.router, peer: h.name, ifname: ifName(`h${j}-${h.name}`), address: h.routerAddress, peerAddress: h.address, address6: h.routerAddress6, peerAddress6: h.address6, metric: 0 });
    m.get(h.name)!.push({ link: -1 - j, node: h.name, peer: h.router, ifname: "eth0", address: h.address, peerAddress: h.routerAddress, address6: h.address6, peerAddress6: h.routerAddress6, metric: 0 });
  });
  return m;
}

function subnet31(a: string): string {
  return `${ipv4FromNumber(ipv4ToNumber(a) & ~1)}/31`;
}

/**
 * The routes each router needs, as an IGP would compute them: shortest paths over the links
 * neither `down` nor `excluded`, every equal-cost first hop. Destinations: loopbacks, host
 * subnets, and link subnets whose interfaces are up (a down link's /31 is advertised by nobody;
 * an excluded but up link's is still reachable). Directly connected prefixes are left to the
 * kernel. Hosts only get a default route via their router. `family` "ipv6": the same shortest
 * paths, over the IPv6 plan (loopback /128s, link and host /127s, next hops' IPv6 addresses).
 */
export function computeRoutes(t: LabTopology, down: ReadonlySet<number>, excluded: ReadonlySet<number>, family: AddressFamily = "ipv4", opts: { srv6?: SrPlan } = {}): Map<string, LabRoute[]> {
  const v6 = family === "ipv6";
  const idx = new Map(t.routers.map((r, i) => [r.name, i]));
  const n = t.routers.length;
  const adj: Array<Array<{ to: number; port: Port }>> = t.routers.map(() => []);
  const p = ports(t);
  for (const r of t.routers) {
    for (const port of p.get(r.name)!) {
      if (port.link < 0 || down.has(port.link) || excluded.has(port.link)) continue;
      adj[idx.get(r.name)!].push({ to: idx.get(port.peer)!, port });
    }
  }
  // All-pairs Dijkstra (labs are small: O(n^2) per source).
  const dist: Float64Array[] = [];
  for (let s = 0; s < n; s++) {
    const d = new Float64Array(n).fill(Infinity);
    const done = new Uint8Array(n);
    d[s] = 0;
    for (;;) {
      let u = -1;
      for (let v = 0; v < n; v++) if (!done[v] && d[v] < Infinity && (u < 0 || d[v] < d[u])) u = v;
      if (u < 0) break;
      done[u] = 1;
      for (const e of adj[u]) if (d[u] + e.port.metric < d[e.to]) d[e.to] = d[u] + e.port.metric;
    }
    dist.push(d);
  }
  // Prefixes and the routers that advertise them.
  const prefixes: Array<{ prefix: string; owners: number[] }> = [];
  t.routers.forEach((r, i) => prefixes.push({ prefix: v6 ? `${r.loopback6}/128` : `${r.loopback}/32`, owners: [i] }));
  t.links.forEach((l, i) => {
    if (!down.has(i)) prefixes.push({ prefix: v6 ? subnet127(l.aAddress6) : subnet31(l.aAddress), owners: [idx.get(l.a)!, idx.get(l.b)!] });
  });
  t.hosts.forEach((h) => prefixes.push({ prefix: v6 ? subnet127(h.address6) : subnet31(h.address), owners: [idx.get(h.router)!] }));
  // SRv6 locators, routed as the loopbacks are (`opts.srv6`: the lab's SR plan; IPv6 only).
  if (v6 && opts.srv6) opts.srv6.routers.forEach((r) => prefixes.push({ prefix: r.locator, owners: [idx.get(r.name)!] }));

  const out = new Map<string, LabRoute[]>();
  t.routers.forEach((r, s) => {
    const routes: LabRoute[] = [];
    for (const { prefix, owners } of prefixes) {
      if (owners.includes(s)) continue; // connected / local
      let cost = Infinity;
      for (const o of owners) cost = Math.min(cost, dist[s][o]);
      if (cost === Infinity) continue;
      const nexthops: LabRoute["nexthops"] = [];
      for (const e of adj[s]) {
        if (owners.some((o) => dist[s][o] === cost && e.port.metric + dist[e.to][o] === cost)) {
          const via = v6 ? e.port.peerAddress6 : e.port.peerAddress;
          if (!nexthops.some((h) => h.via === via)) nexthops.push({ via, dev: e.port.ifname });
        }
      }
      routes.push({ prefix, nexthops });
    }
    out.set(r.name, routes);
  });
  for (const h of t.hosts) out.set(h.name, [{ prefix: "default", nexthops: [{ via: v6 ? h.routerAddress6 : h.routerAddress, dev: "eth0" }] }]);
  return out;
}

// ------------------------------------------------------------------------------------------------
// Shell: running ip
// ------------------------------------------------------------------------------------------------

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code, or null when killed by `signal`. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

const ROUTE_PROTO = "200"; // marks the lab's routes in `ip route` output
// setFamilyDrop's policy rules in a router: keep (IPv6 link-local, multicast), drop, then the
// local table, moved there from preference 0 so that the drop also hits what is addressed to
// the router (tunnel packets, pings).
const RULE_PREF_KEEP = 100;
const RULE_PREF_DROP = 101;
const RULE_PREF_LOCAL = 200;
// The label switcher's per-adjacency tables (MPLS_TABLE_BASE + adjacency index), chosen by the
// interface the switcher sends on, after the local table wherever setFamilyDrop put it.
const RULE_PREF_MPLS = 300;
const MPLS_TABLE_BASE = 1000;

function collect(child: ChildProcess, input?: string | Buffer, timeoutMs = 30_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.stderr?.on("data", (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code, signal });
    });
    if (child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE when the command does not read
      child.stdin.end(input ?? "");
    }
  });
}

/** Runs a command in the root namespace (only ever `ip` on netns objects). */
async function run(argv: string[], input?: string): Promise<ExecResult> {
  return collect(spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] }), input);
}

async function runOk(argv: string[], input?: string): Promise<ExecResult> {
  const r = await run(argv, input);
  if (r.code !== 0) {
    throw new Error(`lab: \`${argv.join(" ")}\` failed (${r.code ?? r.signal}): ${r.stderr.trim()}${input ? `\nbatch:\n${input}` : ""}`);
  }
  return r;
}

async function listNetns(): Promise<string[]> {
  const r = await run(["ip", "-j", "netns", "list"]);
  if (r.code !== 0 || r.stdout.trim() === "") return [];
  return (JSON.parse(r.stdout) as Array<{ name: string }>).map((x) => x.name);
}

function listNetnsSync(): string[] {
  try {
    const s = execFileSync("ip", ["-j", "netns", "list"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return s ? (JSON.parse(s) as Array<{ name: string }>).map((x) => x.name) : [];
  } catch {
    return [];
  }
}

function netnsPidsSync(ns: string): number[] {
  try {
    return execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function netnsPids(ns: string): Promise<number[]> {
  const r = await run(["ip", "netns", "pids", ns]);
  return r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

/** A process that exists and is not a zombie (a killed lab's orphans can stay zombies a while). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Whether the kernel can make GRE devices (and the lab has what the generated config runs): see kernel-decap.ts. */
export async function detectKernelGre(prefix = "lsp-"): Promise<boolean> {
  return (await detectKernelDecap(prefix)).gre.ok;
}

// ------------------------------------------------------------------------------------------------
// Lab
// ------------------------------------------------------------------------------------------------

export type DecapMode = "auto" | "userspace" | "kernel" | "none";

export interface LabOptions {
  /** Namespace name prefix; the lab's namespaces are `<prefix><pid>-<n>-<node>`. Default "lsp-". */
  prefix?: string;
  /**
   * Decapsulation on routers: auto = the kernel's gre0/tunl0 when the kernel has them (and the
   * programs the generated config runs), configured by what `lsprobe-plugin routers --vendor
   * linux` prints for this lab (kernel-decap.ts); else the userspace helper. `decapSummary` says
   * which, and why.
   */
  decap?: DecapMode;
  /** For the kernel's config: prober sources, endpoint pairs, encap (defaults: every host, first-last router, gre). */
  kernel?: KernelDecapOptions;
  /**
   * Address families: "dual" (default: IPv4 and IPv6 on every link, loopback and host), "ipv4"
   * (IPv6 disabled in every namespace) or "ipv6" (no IPv4 address or route). Decapsulation
   * follows per family: IPv6 through the kernel's ip6gre0/ip6tnl0 where the kernel has ip6_gre
   * and ip6_tunnel (with `decap` auto or kernel), else the userspace helper.
   */
  family?: LabFamily;
  /**
   * SRv6 (sr.ts plan: locators, End.X SIDs, locator routes, seg6_enabled): "kernel" End.X as the
   * kernel's seg6local routes, "userspace" in the routers' decap helpers (srv6.ts), "auto" or true
   * the kernel where detectKernelSrv6 finds seg6local, else userspace. Needs IPv6 (family "dual"
   * or "ipv6").
   */
  srv6?: boolean | "auto" | "kernel" | "userspace";
  /**
   * SR-MPLS Adj-SIDs (sr.ts plan): "userspace" the label switcher in each router's decap helper
   * (mpls.ts, decap-main.ts), "kernel" the kernel's MPLS forwarding, "auto" the kernel where
   * detectKernelMpls finds it usable, else userspace; "none" (default) no MPLS.
   */
  mpls?: "auto" | "userspace" | "kernel" | "none";
}

export interface DecapCounters {
  received: number;
  forwarded: number;
  /** By reason (see decap.ts DROP_REASONS, plus send-<ERRNO>). */
  dropped: Record<string, number>;
  /** Of received and forwarded, those that came in with an outer IPv6 header (labs with IPv6). */
  ipv6?: { received: number; forwarded: number };
  /** SR-MPLS packets the label switcher received and forwarded (labs with LabOptions.mpls). */
  mpls?: { received: number; forwarded: number };
  /** SRv6 packets the userspace End.X received and forwarded (srv6Mode "userspace"). */
  srv6?: { received: number; forwarded: number };
}

interface Helper {
  router: string;
  child: ChildProcess;
  waiters: Array<(c: DecapCounters) => void>;
  final?: DecapCounters;
}

const DECAP_MAIN = fileURLToPath(new URL("./decap-main.js", import.meta.url));

/** A helper's counters line (stdout) or final line (stderr), as DecapCounters. */
function helperCounters(c: { received: number } & Partial<DecapCounters>): DecapCounters {
  return { received: c.received, forwarded: c.forwarded ?? 0, dropped: c.dropped ?? {}, ...(c.ipv6 ? { ipv6: c.ipv6 } : {}), ...(c.mpls ? { mpls: c.mpls } : {}), ...(c.srv6 ? { srv6: c.srv6 } : {}) };
}
const live = new Set<Lab>();
let labSeq = 0;
let handlersInstalled = false;

function installProcessHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", () => {
    for (const lab of live) lab.destroySync();
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const handler = (): void => {
      for (const lab of live) lab.destroySync();
      process.removeListener(sig, handler);
      // Nobody else handles it: die of the signal as we would have without this handler.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

export class Lab {
  readonly topology: LabTopology;
  /** This lab's namespace prefix, e.g. "lsp-4242-0-". */
  readonly prefix: string;
  /** The address families the lab runs (LabOptions.family). */
  family: LabFamily = "dual";
  /** IPv4's decapsulation (in an IPv6-only lab: IPv6's). */
  decapMode: "userspace" | "kernel" | "none" = "none";
  /** IPv6's decapsulation ("none" in an IPv4-only lab). */
  decapMode6: "userspace" | "kernel" | "none" = "none";
  /**
   * One line: which decapsulation runs, and why (e.g. "decap: userspace helper (kernel has no
   * GRE: ...)"; with IPv6, "; IPv6: userspace helper (kernel has no GRE over IPv6 ...)" after it).
   */
  decapSummary = "decap: none";
  /** SRv6 End.X SIDs installed (LabOptions.srv6). */
  srv6 = false;
  /** Who runs End.X: the kernel's seg6local routes, or the routers' helpers (see the header). */
  srv6Mode: "kernel" | "userspace" | "none" = "none";
  /** SR-MPLS forwarding (LabOptions.mpls). */
  mplsMode: "userspace" | "kernel" | "none" = "none";
  /**
   * One line on segment routing: "sr: SRv6 kernel seg6local End.X; SR-MPLS userspace label
   * switcher (why)" (or "SRv6 userspace End.X helper (why)"), or "sr: none".
   */
  srSummary = "sr: none";
  private srPlanCache?: SrPlan;
  /** Family drops in place (setFamilyDrop): "family router ifname". */
  private readonly familyDrops = new Set<string>();
  /** Routers whose `lookup local` rule was moved after the family-drop rules: "family router". */
  private readonly localRuleMoved = new Set<string>();
  private kernelOpts: KernelDecapOptions = {};
  /** SRv6 gray loss in place (setSrv6Loss): "router ifname" (the sending end) -> loss. */
  private readonly srv6Loss = new Map<string, number>();
  /** Kernel mode: gray loss per router, per ingress interface (an nft rule; see setFault). */
  private readonly kernelLoss = new Map<string, Map<string, number>>();

  private readonly ports: Map<string, Port[]>;
  private readonly children = new Set<ChildProcess>();
  private readonly helpers = new Map<string, Helper>();
  private readonly downLinks = new Set<number>();
  private readonly installed = new Map<string, Set<string>>();
  private destroying?: Promise<void>;
  private destroyed = false;

  private constructor(topology: LabTopology, prefix: string) {
    this.topology = topology;
    this.prefix = prefix;
    this.ports = ports(topology);
  }

  /**
   * Builds the lab: namespaces, veths, addresses, sysctls, routes, decap helpers running and
   * ready. Removes stale labs of dead processes first. On failure everything is torn down.
   */
  static async create(topo: LabTopology, opts: LabOptions = {}): Promise<Lab> {
    validateTopology(topo);
    const base = opts.prefix ?? "lsp-";
    if (!/^[A-Za-z0-9_-]{1,16}$/.test(base)) throw new TypeError(`lab prefix ${JSON.stringify(base)}: letters, digits, "_" and "-", at most 16`);
    await Lab.cleanupStale(base);
    const lab = new Lab(topo, `${base}${process.pid}-${labSeq++}-`);
    live.add(lab);
    installProcessHandlers();
    try {
      const family = opts.family ?? "dual";
      if (family !== "ipv4" && family !== "dual" && family !== "ipv6") throw new TypeError(`lab family ${JSON.stringify(family)}: expected "ipv4", "dual" or "ipv6"`);
      lab.family = family;
      const asked = opts.decap ?? "auto";
      lab.kernelOpts = opts.kernel ?? {};
      const encap = lab.kernelOpts.encap ?? "gre";
      const lines: string[] = [];
      if (family !== "ipv6") {
        let mode = asked;
        let k: KernelDecapSupport | undefined;
        if (mode === "auto" || mode === "kernel") k = await detectKernelDecap(base);
        if (mode === "auto") mode = k![encap].ok ? "kernel" : "userspace";
        if (mode === "kernel" && !k![encap].ok) throw new Error(`lab: decap "kernel" asked for, but ${k![encap].reason}`);
        lab.decapMode = mode;
        lines.push(decapSummary(mode, { encaps: [encap], why: k === undefined ? "asked for" : k[encap].reason }));
      }
      if (family !== "ipv4") {
        let mode = asked;
        let why: string | undefined;
        if (mode === "auto" || mode === "kernel") why = kernelDecap6Reason(await detectKernelDecap6(base));
        if (mode === "auto") mode = why === undefined ? "kernel" : "userspace";
        if (mode === "kernel" && why !== undefined) throw new Error(`lab: decap "kernel" asked for, but ${why}`);
        lab.decapMode6 = mode;
        if (family === "ipv6") lab.decapMode = mode;
        lines.push(decapSummary6(mode, { why: why ?? "asked for" }));
      }
      lab.decapSummary = family === "ipv6" ? `decap: ${lines[0]}` : lines.join("; ");
      const sr: string[] = [];
      if (opts.srv6) {
        if (family === "ipv4") throw new TypeError('lab: srv6 needs IPv6 (family "dual" or "ipv6")');
        const srv6 = opts.srv6 === true ? "auto" : opts.srv6;
        if (!["auto", "kernel", "userspace"].includes(srv6)) throw new TypeError(`lab srv6 ${JSON.stringify(srv6)}: expected true, "auto", "kernel" or "userspace"`);
        lab.srv6 = true;
        lab.sr; // the plan: throws on a topology it cannot number
        const k = srv6 === "userspace" ? undefined : await detectKernelSrv6(base);
        if (srv6 === "kernel" && !k!.ok) throw new Error(`lab: srv6 "kernel" asked for, but ${k!.reason}`);
        lab.srv6Mode = k?.ok ? "kernel" : "userspace";
        sr.push(k?.ok ? "SRv6 kernel seg6local End.X" : `SRv6 userspace End.X helper (${k === undefined ? "asked for" : k.reason})`);
      }
      const mpls = opts.mpls ?? "none";
      if (!["auto", "userspace", "kernel", "none"].includes(mpls)) throw new TypeError(`lab mpls ${JSON.stringify(mpls)}: expected "auto", "userspace", "kernel" or "none"`);
      if (mpls !== "none") {
        lab.sr;
        const k = mpls === "userspace" ? undefined : await detectKernelMpls(base);
        if (mpls === "kernel" && !k!.ok) throw new Error(`lab: mpls "kernel" asked for, but ${k!.reason}`);
        if (k?.ok) throw new Error("lab: the kernel has MPLS forwarding here, but the lab's kernel MPLS config is not written yet: start it with mpls \"userspace\"");
        lab.mplsMode = "userspace";
        sr.push(`SR-MPLS userspace label switcher (${k === undefined ? "asked for" : k.reason})`);
      }
      lab.srSummary = `sr: ${sr.length > 0 ? sr.join("; ") : "none"}`;
      await lab.build();
      return lab;
    } catch (e) {
      await lab.destroy().catch(() => {});
      throw e;
    }
  }

  /** Namespace name of a router or host. */
  ns(node: string): string {
    if (!this.ports.has(node)) throw new TypeError(`lab has no node ${JSON.stringify(node)}`);
    return `${this.prefix}${node}`;
  }

  /** All namespace names of this lab. */
  namespaces(): string[] {
    return [...this.ports.keys()].map((n) => this.ns(n));
  }

  /** The link(s) between two routers, in topology order. */
  linksBetween(a: string, b: string): LabLink[] {
    return this.topology.links.filter((l) => (l.a === a && l.b === b) || (l.a === b && l.b === a));
  }

  /** `node`'s address on its (first) link to `peer`: what a GRE hop to `node` over that link targets. */
  addressOn(node: string, peer: string): string {
    const port = this.ports.get(node)?.find((p) => p.peer === peer);
    if (!port) throw new TypeError(`lab: no link between ${node} and ${peer}`);
    return port.address;
  }

  /** addressOn() in the IPv6 plan: `node`'s IPv6 address on its (first) link to `peer`. */
  addressOn6(node: string, peer: string): string {
    const port = this.ports.get(node)?.find((p) => p.peer === peer);
    if (!port) throw new TypeError(`lab: no link between ${node} and ${peer}`);
    return port.address6;
  }

  /** The address families this lab runs, IPv4 first. */
  families(): AddressFamily[] {
    return familiesOf(this.family);
  }

  /** The lab's segment-routing plan (sr.ts): locators, End.X SIDs, Adj-SID labels, whether or not it runs SR. */
  get sr(): SrPlan {
    this.srPlanCache ??= srPlan(this.topology);
    return this.srPlanCache;
  }

  /** `router`'s adjacency to `peer` (the first link between them, or links[link]) in the SR plan. */
  srAdjacency(router: string, peer: string, link?: number): SrAdjacency {
    return adjacencyOf(this.sr, router, peer, link);
  }

  /** The End.X SID `router` has for its adjacency to `peer` (what a SRv6 probe lists to cross router -> peer). */
  endX(router: string, peer: string, link?: number): string {
    return this.srAdjacency(router, peer, link).endX;
  }

  /** The Adj-SID label `router` has for its adjacency to `peer`. */
  adjSid(router: string, peer: string, link?: number): number {
    return this.srAdjacency(router, peer, link).label;
  }

  /** `router`'s SRv6 locator ("2001:2:0:80NN::/64"). */
  locator(router: string): string {
    const r = this.sr.routers.find((x) => x.name === router);
    if (r === undefined) throw new TypeError(`lab has no router ${JSON.stringify(router)}`);
    return r.locator;
  }

  /** `node`'s interface name towards `peer`. */
  ifname(node: string, peer: string): string {
    const port = this.ports.get(node)?.find((p) => p.peer === peer);
    if (!port) throw new TypeError(`lab: no link between ${node} and ${peer}`);
    return port.ifname;
  }

  /** Runs argv inside the node's namespace (`ip netns exec`); resolves with its output and code. */
  exec(node: string, argv: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<ExecResult> {
    return collect(this.spawnIn(node, argv, { stdio: ["pipe", "pipe", "pipe"] }), opts.input, opts.timeoutMs);
  }

  /** Starts argv inside the node's namespace; tracked and killed by destroy(). */
  spawnIn(node: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    if (this.destroyed || this.destroying) throw new Error("lab: spawnIn after destroy()");
    const child = spawn("ip", ["netns", "exec", this.ns(node), ...argv], opts);
    this.children.add(child);
    child.on("exit", () => this.children.delete(child));
    child.on("error", () => this.children.delete(child));
    return child;
  }

  /** Data plane: both ends of the link(s) between a and b down. Routes stay as they are. */
  async linkDown(a: string, b: string): Promise<void> {
    await this.setLink(a, b, "down");
  }

  /** Data plane: both ends up again. Call installRoutes() to restore routes the kernel flushed. */
  async linkUp(a: string, b: string): Promise<void> {
    await this.setLink(a, b, "up");
  }

  /**
   * Data-plane fault on the link a -> b (that direction only), invisible to the control plane:
   * drop a `loss` share of what crosses it and delay the rest by `delayMs`. Emulated in b's
   * decapsulator (this kernel has no netem and no tc drop action), so it hits GRE probes only.
   * { loss: 0, delayMs: 0 } repairs it. `family`: what arrives in IPv4 or IPv6 tunnels only
   * (default: every family the lab runs); the IPv6 one is keyed by b's interface from a.
   * SR-MPLS (LabOptions.mpls) is switched by the same helper: the same faults hit it. SRv6
   * (LabOptions.srv6, kernel or userspace End.X alike): its loss (with IPv6 among the families) is a qdisc on
   * a's interface to b, dropping that share of the IPv6 packets with a routing header (next header
   * 43: SRv6 probes only) at random (setSrv6Loss); delay does not reach SRv6 (no netem here).
   */
  setFault(a: string, b: string, f: { loss?: number; delayMs?: number; family?: AddressFamily }): void {
    const loss = f.loss ?? 0;
    const delayMs = f.delayMs ?? 0;
    if (!(loss >= 0 && loss <= 1) || !(delayMs >= 0)) throw new RangeError(`lab: fault ${a}->${b}: loss must be 0..1 and delayMs >= 0`);
    const fams = this.checkFamily(f.family);
    if (this.linksBetween(a, b).length === 0) throw new TypeError(`lab: no link between ${a} and ${b}`);
    if (this.srv6 && fams.includes("ipv6")) this.setSrv6Loss(a, b, loss);
    for (const fam of fams) {
      const mode = fam === "ipv4" ? this.decapMode : this.decapMode6;
      if (mode === "kernel") {
        this.setKernelLoss(a, b, loss, delayMs, fam);
        continue;
      }
      if (mode !== "userspace") throw new Error("lab: data-plane faults need a decapsulator");
      const helper = this.helpers.get(b);
      if (!helper) throw new TypeError(`lab: ${b} is not a router with a decapsulator`);
      for (const l of this.linksBetween(a, b)) {
        if (fam === "ipv4") helper.child.stdin!.write(`fault ${l.a === b ? l.aAddress : l.bAddress} ${loss} ${delayMs}\n`);
        else helper.child.stdin!.write(`fault6 ${this.portOf(b, this.topology.links.indexOf(l)).ifname} ${loss} ${delayMs}\n`);
      }
    }
  }

  /**
   * Router `router`'s decapsulator stops (false) or resumes (true) decapsulating: what reaches
   * it encapsulated is dropped, as by a router without decapsulation configured (userspace only).
   * `family`: tunnels with that outer family only (default: all).
   */
  setDecap(router: string, on: boolean, family?: AddressFamily): void {
    for (const fam of this.checkFamily(family)) {
      if ((fam === "ipv4" ? this.decapMode : this.decapMode6) !== "userspace") throw new Error("lab: turning decapsulation off needs the userspace decapsulator");
    }
    const helper = this.helpers.get(router);
    if (!helper) throw new TypeError(`lab: ${router} is not a router with a decapsulator`);
    helper.child.stdin!.write(`decap ${on ? "on" : "off"}${family ? ` ${family}` : ""}\n`);
  }

  /**
   * Data-plane failure of one address family on the link a -> b (that direction only; the other
   * family and the control plane see nothing): every packet of `family` arriving at b over the
   * link from a is dropped by b's kernel, probes, pings and UDP alike, whatever the decapsulation.
   * A policy rule in b (`ip -4|-6 rule add iif DEV blackhole`, ahead of the local table, which
   * setFamilyDrop moves behind it once); for IPv6, link-local and multicast destinations are left
   * through (neighbour discovery keeps working in the other direction). `drop: false` repairs it.
   */
  setFamilyDrop(a: string, b: string, family: AddressFamily, drop = true): void {
    this.checkFamily(family);
    const links = this.linksBetween(a, b);
    if (links.length === 0) throw new TypeError(`lab: no link between ${a} and ${b}`);
    const ns = this.ns(b);
    const f = family === "ipv4" ? "-4" : "-6";
    const ip = (batch: string): void => {
      execFileSync("ip", [f, "-n", ns, "-batch", "-"], { input: batch, stdio: ["pipe", "ignore", "pipe"] });
    };
    if (drop && !this.localRuleMoved.has(`${family} ${b}`)) {
      ip(`rule add pref ${RULE_PREF_LOCAL} lookup local\nrule del pref 0 lookup local\n`);
      this.localRuleMoved.add(`${family} ${b}`);
    }
    for (const l of links) {
      const dev = this.portOf(b, this.topology.links.indexOf(l)).ifname;
      const key = `${family} ${b} ${dev}`;
      if (drop === this.familyDrops.has(key)) continue;
      const op = drop ? "add" : "del";
      const keep = family === "ipv6" ? ["fe80::/10", "ff00::/8"].map((p) => `rule ${op} pref ${RULE_PREF_KEEP} iif ${dev} to ${p} lookup local\n`).join("") : "";
      ip(`${keep}rule ${op} pref ${RULE_PREF_DROP} iif ${dev} blackhole\n`);
      if (drop) this.familyDrops.add(key);
      else this.familyDrops.delete(key);
    }
  }

  /**
   * SRv6 gray loss on a -> b: the kernel here has no netem and no tc drop action, but it has HTB,
   * pfifo and cls_bpf, and classic BPF has a random number (SKF_AD_RANDOM). So, on a's interface
   * to b: an HTB root whose default class passes everything, a class whose pfifo of limit 0 drops
   * everything put in it, and a classic BPF filter sending to that class the IPv6 packets whose
   * next header is 43 (a routing header) when a random 32-bit number is below loss * 2^32. Loss 0
   * removes the qdisc.
   */
  private setSrv6Loss(a: string, b: string, loss: number): void {
    for (const l of this.linksBetween(a, b)) {
      const dev = this.portOf(a, this.topology.links.indexOf(l)).ifname;
      const key = `${a} ${dev}`;
      if (loss === 0 && !this.srv6Loss.has(key)) continue;
      let script = this.srv6Loss.has(key) ? `tc qdisc del dev ${dev} root\n` : "";
      if (loss > 0) {
        const t = Math.min(0xffffffff, Math.round(loss * 2 ** 32));
        // ldh [12]; jeq #0x86dd; ldb [20] (IPv6 next header, after 14 bytes of Ethernet); jeq #43;
        // ld rand; jge #t -> pass (ret 0: no match, default class); else ret -1 (the filter's classid).
        const bpf = ["40 0 0 12", "21 0 5 34525", "48 0 0 20", "21 0 3 43", "32 0 0 4294963256", `53 1 0 ${t}`, "6 0 0 4294967295", "6 0 0 0"];
        script += [
          `tc qdisc add dev ${dev} root handle 1: htb default 1 r2q 100000`,
          `tc class add dev ${dev} parent 1: classid 1:1 htb rate 10gbit`,
          `tc class add dev ${dev} parent 1: classid 1:2 htb rate 10gbit`,
          `tc qdisc add dev ${dev} parent 1:2 handle 2: pfifo limit 0`,
          `tc filter add dev ${dev} parent 1: protocol ipv6 prio 1 bpf bytecode '${bpf.length},${bpf.join(",")}' classid 1:2`,
        ].join(" && ");
        this.srv6Loss.set(key, loss);
      } else this.srv6Loss.delete(key);
      execFileSync("ip", ["netns", "exec", this.ns(a), "sh", "-e", "-c", script], { stdio: ["ignore", "ignore", "pipe"] });
    }
  }

  /** Remove every data-plane fault (setFault, setFamilyDrop). */
  clearFaults(): void {
    for (const key of [...this.srv6Loss.keys()]) {
      const [router, dev] = key.split(" ");
      this.setSrv6Loss(router, this.ports.get(router)!.find((p) => p.ifname === dev)!.peer, 0);
    }
    for (const h of this.helpers.values()) h.child.stdin!.write("clear\n");
    for (const [key, m] of this.kernelLoss) if (m.size > 0) (m.clear(), this.applyKernelLoss(key.split(" ")[1], key.split(" ")[0] as AddressFamily));
    for (const key of [...this.familyDrops]) {
      const [family, router, dev] = key.split(" ") as [AddressFamily, string, string];
      const port = this.ports.get(router)!.find((p) => p.ifname === dev)!;
      this.setFamilyDrop(port.peer, router, family, false);
    }
  }

  /** The families a fault applies to: `family`, which the lab must run, or all of the lab's. */
  private checkFamily(family: AddressFamily | undefined): AddressFamily[] {
    if (family === undefined) return this.families();
    if (family !== "ipv4" && family !== "ipv6") throw new TypeError(`lab: family ${JSON.stringify(family)}: expected "ipv4" or "ipv6"`);
    if (!this.families().includes(family)) throw new TypeError(`lab: this lab (family ${this.family}) has no ${family}`);
    return [family];
  }

  /**
   * Kernel decap: no helper to drop in, so gray loss is an nft rule in b's prerouting, on the
   * interface from a, for tunnel packets only (as the helper's: probes only). nft is there (the
   * generated config needs it). Delay has no nft equivalent (and this lab assumes no netem).
   * Not run on this project's machine (no GRE there): see kernel-decap.ts.
   */
  private setKernelLoss(a: string, b: string, loss: number, delayMs: number, family: AddressFamily = "ipv4"): void {
    if (delayMs > 0) throw new Error("lab: delay faults need the userspace decapsulator (this lab runs kernel decap: start it with decap \"userspace\")");
    const key = `${family} ${b}`;
    const m = this.kernelLoss.get(key) ?? new Map<string, number>();
    this.kernelLoss.set(key, m);
    for (const l of this.linksBetween(a, b)) {
      const dev = this.portOf(b, this.topology.links.indexOf(l)).ifname;
      if (loss > 0) m.set(dev, loss);
      else m.delete(dev);
    }
    this.applyKernelLoss(b, family);
  }

  /** The nft table of kernel-mode gray loss in `router`: IPv4 tunnels (4, 47), or IPv6 ones (4, 41, 47; never run here). */
  private applyKernelLoss(router: string, family: AddressFamily = "ipv4"): void {
    const [table, match] = family === "ipv4" ? ["ip lsprobe_lab_faults", "ip protocol { 4, 47 }"] : ["ip6 lsprobe_lab_faults6", "meta l4proto { 4, 41, 47 }"];
    const rules = [...(this.kernelLoss.get(`${family} ${router}`) ?? new Map<string, number>())].map(
      ([dev, loss]) => `    iifname "${dev}" ${match} numgen random mod 1000000 < ${Math.round(loss * 1e6)} drop`,
    );
    const text = [`table ${table}`, `flush table ${table}`, `table ${table} {`, "  chain pre {", "    type filter hook prerouting priority raw; policy accept;", ...rules, "  }", "}", ""].join("\n");
    execFileSync("ip", ["netns", "exec", this.ns(router), "nft", "-f", "-"], { input: text, stdio: ["pipe", "ignore", "pipe"] });
  }

  private async setLink(a: string, b: string, state: "up" | "down"): Promise<void> {
    const idx = this.topology.links.flatMap((l, i) => ((l.a === a && l.b === b) || (l.a === b && l.b === a) ? [i] : []));
    if (idx.length === 0) throw new TypeError(`lab: no link between ${a} and ${b}`);
    await Promise.all(
      idx.flatMap((i) => {
        const l = this.topology.links[i];
        if (state === "down") this.downLinks.add(i);
        else this.downLinks.delete(i);
        return [
          runOk(["ip", "-n", this.ns(l.a), "link", "set", "dev", this.ifname(l.a, l.b), state]),
          runOk(["ip", "-n", this.ns(l.b), "link", "set", "dev", this.ifname(l.b, l.a), state]),
        ];
      }),
    );
  }

  /**
   * Installs IGP-like routes everywhere (ECMP multipath where there are several equal-cost
   * first hops), replacing what was there and deleting routes to what became unreachable. Links
   * taken down with linkDown() are never used; `exclude` also keeps links (router pairs) out of
   * the shortest paths while they stay up.
   */
  async installRoutes(opts: { exclude?: Array<[string, string]> } = {}): Promise<void> {
    const excluded = new Set<number>();
    for (const [a, b] of opts.exclude ?? []) {
      const idx = this.topology.links.flatMap((l, i) => ((l.a === a && l.b === b) || (l.a === b && l.b === a) ? [i] : []));
      if (idx.length === 0) throw new TypeError(`lab: installRoutes exclude: no link between ${a} and ${b}`);
      for (const i of idx) excluded.add(i);
    }
    await Promise.all(this.families().map((family) => this.installRoutesOf(family, excluded)));
  }

  private async installRoutesOf(family: AddressFamily, excluded: ReadonlySet<number>): Promise<void> {
    const routes = computeRoutes(this.topology, this.downLinks, excluded, family, this.srv6 ? { srv6: this.sr } : {});
    const f = family === "ipv4" ? "-4" : "-6";
    const sids = family === "ipv6" && this.srv6Mode === "kernel" ? this.endXRoutes() : new Map<string, string[]>();
    const tables = this.adjacencyTables(family) ? this.adjacencyTableRoutes(family) : new Map<string, string>();
    await Promise.all(
      [...routes].map(async ([node, list]) => {
        const ns = this.ns(node);
        const key = `${family} ${node}`;
        const before = this.installed.get(key) ?? new Set<string>();
        const now = new Set([...list.map((r) => r.prefix), ...(sids.get(node) ?? []).map((l) => l.split(" ")[2])]);
        const stale = [...before].filter((p) => !now.has(p));
        // Routes the kernel already flushed (device down) make `route del` fail: ignore those.
        if (stale.length > 0) await run(["ip", f, "-n", ns, "-force", "-batch", "-"], stale.map((p) => `route del ${p} proto ${ROUTE_PROTO}\n`).join(""));
        const batch = list
          .map((r) =>
            r.nexthops.length === 1
              ? `route replace ${r.prefix} proto ${ROUTE_PROTO} via ${r.nexthops[0].via} dev ${r.nexthops[0].dev}\n`
              : `route replace ${r.prefix} proto ${ROUTE_PROTO} ${r.nexthops.map((h) => `nexthop via ${h.via} dev ${h.dev}`).join(" ")}\n`,
          )
          .join("") + (sids.get(node) ?? []).join("") + (tables.get(node) ?? "");
        if (batch) await runOk(["ip", f, "-n", ns, "-batch", "-"], batch);
        this.installed.set(key, now);
      }),
    );
  }

  /**
   * Per router, its End.X SID routes (`route replace SID/128 ... encap seg6local action End.X nh6
   * NEIGHBOUR dev LINK` lines) for the adjacencies whose link is up.
   */
  private endXRoutes(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const a of this.sr.adjacencies) {
      if (this.downLinks.has(a.link)) continue;
      const line = `route replace ${a.endX}/128 proto ${ROUTE_PROTO} encap seg6local action End.X nh6 ${a.nexthop6} dev ${this.portOf(a.router, a.link).ifname}\n`;
      m.set(a.router, [...(m.get(a.router) ?? []), line]);
    }
    return m;
  }

  /**
   * Whether `family` has the per-adjacency rules and tables (what a helper sends out of a link
   * goes to its neighbour): the label switcher's bottom of stack, the userspace End.X (IPv6).
   */
  private adjacencyTables(family: AddressFamily): boolean {
    return this.mplsMode === "userspace" || (family === "ipv6" && this.srv6Mode === "userspace");
  }

  /** Per router, the default routes of its per-adjacency tables (see adjacencyTables), links up only. */
  private adjacencyTableRoutes(family: AddressFamily): Map<string, string> {
    const m = new Map<string, string>();
    for (const a of this.sr.adjacencies) {
      if (this.downLinks.has(a.link)) continue;
      const line = `route replace default via ${family === "ipv4" ? a.nexthop : a.nexthop6} dev ${this.portOf(a.router, a.link).ifname} onlink table ${MPLS_TABLE_BASE + a.index} proto ${ROUTE_PROTO}\n`;
      m.set(a.router, (m.get(a.router) ?? "") + line);
    }
    return m;
  }

  /** The userspace End.X's config for one router: its adjacencies (sr.ts), every router's locator. */
  private srv6Config(router: string): Srv6RouterConfig {
    return srv6RouterConfig(this.sr, router, (a) => this.portOf(router, a.link).ifname);
  }

  /** The label switcher's config for one router: its adjacencies (sr.ts), the addresses it listens on. */
  private mplsConfig(router: string): MplsRouterConfig {
    const plan = this.sr.routers.find((r) => r.name === router)!;
    const ports = this.ports.get(router)!;
    const r = this.topology.routers.find((x) => x.name === router)!;
    const [v4, v6] = [this.family !== "ipv6", this.family !== "ipv4"];
    return {
      adjacencies: plan.adjacencies.map((a) => ({ label: a.label, dev: this.portOf(router, a.link).ifname, local: a.local, nexthop: a.nexthop, local6: a.local6, nexthop6: a.nexthop6 })),
      listen: v4 ? [r.loopback, ...ports.map((p) => p.address)] : [],
      listen6: v6 ? [{ address: r.loopback6, dev: "lo" }, ...ports.map((p) => ({ address: p.address6, dev: p.ifname }))] : [],
    };
  }

  /**
   * Counters of every router's decap helper (userspace), or of its tunnel devices (kernel: rx
   * only), both families together (`ipv6`: the IPv6 share).
   */
  async decapCounters(): Promise<Record<string, DecapCounters>> {
    const got: Record<string, DecapCounters> = {};
    const out: Record<string, DecapCounters> = {};
    if (this.helpers.size > 0) {
      await Promise.all(
        [...this.helpers.values()].map(async (h) => {
          got[h.router] = await new Promise<DecapCounters>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`lab: decap helper of ${h.router} did not answer`)), 5000);
            h.waiters.push((c) => {
              clearTimeout(timer);
              resolve(c);
            });
            h.child.stdin!.write("counters\n");
          });
        }),
      );
    }
    const kernelDevs = [...(this.family !== "ipv6" && this.decapMode === "kernel" ? [["gre0", "ipv4"]] : []), ...(this.decapMode6 === "kernel" ? KERNEL_DEVICES6.map((d) => [d, "ipv6"]) : [])];
    if (kernelDevs.length > 0) {
      await Promise.all(
        this.topology.routers.map(async (r) => {
          const c: DecapCounters = got[r.name] ?? { received: 0, forwarded: 0, dropped: {} };
          for (const [dev, fam] of kernelDevs) {
            const res = await runOk(["ip", "-n", this.ns(r.name), "-s", "-j", "link", "show", "dev", dev]);
            const rx = (JSON.parse(res.stdout) as Array<{ stats64?: { rx?: { packets?: number; dropped?: number } } }>)[0]?.stats64?.rx;
            c.received += rx?.packets ?? 0;
            c.forwarded += rx?.packets ?? 0;
            if (rx?.dropped) c.dropped.kernel = (c.dropped.kernel ?? 0) + rx.dropped;
            if (fam === "ipv6") {
              c.ipv6 ??= { received: 0, forwarded: 0 };
              c.ipv6.received += rx?.packets ?? 0;
              c.ipv6.forwarded += rx?.packets ?? 0;
            }
          }
          got[r.name] = c;
        }),
      );
    }
    for (const r of this.topology.routers) if (got[r.name]) out[r.name] = got[r.name];
    return out;
  }

  /** Final counters the helpers printed when destroy() stopped them. */
  finalDecapCounters(): Record<string, DecapCounters> {
    const out: Record<string, DecapCounters> = {};
    for (const h of this.helpers.values()) if (h.final) out[h.router] = h.final;
    return out;
  }

  /** Pids of the running decap helpers. */
  helperPids(): number[] {
    return [...this.helpers.values()].flatMap((h) => (h.child.pid !== undefined && h.child.exitCode === null && h.child.signalCode === null ? [h.child.pid] : []));
  }

  // ---- build ----

  private async build(): Promise<void> {
    const t = this.topology;
    // 1. namespaces and veth pairs, created straight into their namespaces: one ip process.
    let root = "";
    for (const node of this.ports.keys()) root += `netns add ${this.ns(node)}\n`;
    t.links.forEach((l, i) => {
      root += `link add name ${this.portOf(l.a, i).ifname} netns ${this.ns(l.a)} type veth peer name ${this.portOf(l.b, i).ifname} netns ${this.ns(l.b)}\n`;
    });
    t.hosts.forEach((h, j) => {
      root += `link add name ${this.portOf(h.router, -1 - j).ifname} netns ${this.ns(h.router)} type veth peer name eth0 netns ${this.ns(h.name)}\n`;
    });
    await runOk(["ip", "-batch", "-"], root);

    // 2. per namespace, in parallel: sysctls, then addresses and links up in one `ip -batch`.
    const routerNames = new Set(t.routers.map((r) => r.name));
    const [v4, v6] = [this.family !== "ipv6", this.family !== "ipv4"];
    await Promise.all(
      [...this.ports].map(async ([node, ports]) => {
        const isRouter = routerNames.has(node);
        const router = t.routers.find((r) => r.name === node);
        const ifs = ["all", "default", "lo", ...ports.map((p) => p.ifname)];
        const sysctls = [`net.ipv4.ip_forward=${isRouter ? 1 : 0}`, ...ifs.flatMap((i) => [`net.ipv4.conf.${i}.rp_filter=0`, `net.ipv4.conf.${i}.accept_local=1`])];
        if (v6) {
          // Addresses usable at once (no DAD), no autoconfiguration from anyone's RAs, addresses
          // kept over a link down (as IPv4's); set before any link is up, so link-locals are not
          // tentative either.
          sysctls.push("net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0", `net.ipv6.conf.all.forwarding=${isRouter ? 1 : 0}`);
          for (const i of ifs) sysctls.push(`net.ipv6.conf.${i}.accept_dad=0`, `net.ipv6.conf.${i}.dad_transmits=0`, `net.ipv6.conf.${i}.accept_ra=0`, `net.ipv6.conf.${i}.router_solicitations=0`, `net.ipv6.conf.${i}.keep_addr_on_down=1`);
          // SRv6: segment routing headers accepted (ipv6_srh_rcv checks `all` and the ingress
          // interface), but on routers whose helper runs End.X: there the kernel must drop its copy.
          if (this.srv6) for (const i of ifs) sysctls.push(`net.ipv6.conf.${i}.seg6_enabled=${isRouter && this.srv6Mode === "userspace" ? 0 : 1}`);
        } else {
          // IPv6 off: no router solicitations, DAD or MLD chatter on the lab links (-e: a kernel
          // without IPv6 has no such key).
          sysctls.push("net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
        }
        let batch = "link set lo up\n";
        if (router && v4) batch += `addr add ${router.loopback}/32 dev lo\n`;
        if (router && v6) batch += `addr add ${router.loopback6}/128 dev lo nodad\n`;
        for (const p of ports) {
          if (v4) batch += `addr add ${p.address}/31 dev ${p.ifname}\n`;
          if (v6) batch += `addr add ${p.address6}/127 dev ${p.ifname} nodad\n`;
          batch += `link set ${p.ifname} up\n`;
        }
        // Userspace End.X: every SID of the router's locator is delivered to it (its helper's socket).
        if (router && this.srv6Mode === "userspace") batch += `route add local ${this.locator(node)} dev lo table local\n`;
        // SR-MPLS bottom of stack, userspace End.X: what the helper sends out of a link goes to that link's neighbour.
        let rules = "";
        if (isRouter && (this.adjacencyTables("ipv4") || this.adjacencyTables("ipv6"))) {
          for (const a of this.sr.routers.find((r) => r.name === node)!.adjacencies) rules += `rule add pref ${RULE_PREF_MPLS} oif ${this.portOf(node, a.link).ifname} lookup ${MPLS_TABLE_BASE + a.index}\n`;
        }
        await runOk(["ip", "netns", "exec", this.ns(node), "sh", "-c", 'sysctl -q -e -w "$@" >/dev/null && exec ip -batch -', "sh", ...sysctls], batch);
        if (rules && v4 && this.adjacencyTables("ipv4")) await runOk(["ip", "-4", "-n", this.ns(node), "-batch", "-"], rules);
        if (rules && v6 && this.adjacencyTables("ipv6")) await runOk(["ip", "-6", "-n", this.ns(node), "-batch", "-"], rules);
      }),
    );

    // 3. routes and GRE decapsulation.
    await Promise.all([this.installRoutes(), this.startDecap()]);
  }

  private portOf(node: string, link: number): Port {
    return this.ports.get(node)!.find((p) => p.link === link)!;
  }

  private async startDecap(): Promise<void> {
    if (this.decapMode6 === "kernel") {
      // The kernel's IPv6 fallback tunnels (kernel-decap.ts: detected in a new namespace), up:
      // decapsulated packets are routed on the inner header. Not run here (no ip6_gre/ip6_tunnel).
      await Promise.all(this.topology.routers.map((r) => runOk(["ip", "-n", this.ns(r.name), "-batch", "-"], KERNEL_DEVICES6.map((d) => `link set ${d} up\n`).join(""))));
    }
    // One helper per router for the families the kernel does not decapsulate.
    const helperFamilies = [...(this.family !== "ipv6" && this.decapMode === "userspace" ? ["ipv4"] : []), ...(this.decapMode6 === "userspace" ? ["ipv6"] : [])];
    // The label switcher lives in the helper: with kernel decapsulation of both families, a
    // helper that only switches labels (family none).
    const family = helperFamilies.length === 2 ? "dual" : (helperFamilies[0] ?? (this.mplsMode === "userspace" || this.srv6Mode === "userspace" ? "none" : undefined));
    await Promise.all([this.startKernelDecap4(), ...(family === undefined ? [] : this.topology.routers.map((r) => this.startHelper(r.name, family)))]);
  }

  private async startKernelDecap4(): Promise<void> {
    if (this.family !== "ipv6" && this.decapMode === "kernel") {
      // What `lsprobe-plugin routers --vendor linux` prints for this lab, run command by command
      // in each router's namespace: modprobe, the fallback device (gre0 / tunl0: local any,
      // remote any, no key, it takes every tunnel packet for the namespace; decapsulated packets
      // are routed on the inner header) up, the sysctls, the nft filter. One lab step before:
      // where the fallback device does not exist in new namespaces
      // (net.core.fb_tunnels_only_for_init_net), an explicit any/any tunnel of that name.
      // Not run on this project's machine (its kernel has no GRE): see kernel-decap.ts.
      const configs = parseLinuxConfig(await linuxDecapConfig(this.topology, this.kernelOpts));
      await Promise.all(
        configs.map(async (c) => {
          const ns = this.ns(c.router);
          if (c.encap !== undefined) {
            const { device } = kernelDevice(c.encap);
            if ((await run(["ip", "-n", ns, "link", "show", "dev", device])).code !== 0) await runOk(["ip", "-n", ns, "link", "add", device, "type", c.encap, "local", "any", "remote", "any"]);
          }
          for (const cmd of c.commands) {
            const r = await collect(spawn("ip", ["netns", "exec", ns, ...cmd.argv], { stdio: ["pipe", "pipe", "pipe"] }), cmd.input);
            if (r.code !== 0) throw new Error(`lab: ${c.router}: \`${cmd.argv.join(" ")}\` (from routers --vendor linux) failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
          }
        }),
      );
    }
  }

  private startHelper(router: string, family: string): Promise<void> {
    // IPv6: one socket per interface (decap-main.ts), lo for what the router sends itself; the
    // label switcher's IPv6 faults are keyed by those interfaces too.
    const mpls = this.mplsMode === "userspace" ? this.mplsConfig(router) : undefined;
    const devs = family === "ipv4" && !(mpls && mpls.listen6.length > 0) ? [] : ["lo", ...this.ports.get(router)!.map((p) => p.ifname)].flatMap((d) => ["--dev", d]);
    const srv6 = this.srv6Mode === "userspace" ? ["--srv6", JSON.stringify(this.srv6Config(router))] : [];
    const child = this.spawnIn(router, [process.execPath, DECAP_MAIN, "--name", router, "--family", family, ...devs, ...(mpls ? ["--mpls", JSON.stringify(mpls)] : []), ...srv6], { stdio: ["pipe", "pipe", "pipe"] });
    const helper: Helper = { router, child, waiters: [] };
    this.helpers.set(router, helper);
    child.stdin!.on("error", () => {});
    let stderr = "";
    createInterface({ input: child.stderr! }).on("line", (line) => {
      if (line.startsWith("{")) {
        try {
          const c = JSON.parse(line) as DecapCounters & { decap?: string };
          if (c.decap !== undefined) helper.final = helperCounters(c);
        } catch {
          /* not ours */
        }
      }
      stderr += `${line}\n`;
    });
    return new Promise((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => reject(new Error(`lab: decap helper of ${router} not ready after 15 s: ${stderr}`)), 15_000);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        let msg: { ready?: boolean; received?: number } & Partial<DecapCounters>;
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          return;
        }
        if (msg.ready && !ready) {
          ready = true;
          clearTimeout(timer);
          resolve();
        } else if (msg.received !== undefined) {
          helper.waiters.shift()?.(helperCounters({ ...msg, received: msg.received }));
        }
      });
      child.on("exit", (code, signal) => {
        if (!ready) {
          clearTimeout(timer);
          // Let stderr drain before reporting it.
          setImmediate(() => reject(new Error(`lab: decap helper of ${router} exited (${code ?? signal}) before ready: ${stderr.trim()}`)));
        }
      });
    });
  }

  // ---- teardown ----

  /** Stops every process of the lab and deletes its namespaces (with their veths). Idempotent. */
  destroy(): Promise<void> {
    this.destroying ??= this.doDestroy();
    return this.destroying;
  }

  private async doDestroy(): Promise<void> {
    // Helpers first, politely, so they print their final counters.
    const kids = [...this.children];
    const exited = kids.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : once(c, "exit").then(() => undefined)));
    for (const c of kids) c.kill("SIGTERM");
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 2000).unref());
    if ((await Promise.race([Promise.all(exited), timeout])) === "timeout") {
      for (const c of kids) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, 2000).unref())]);
    }
    // Anything else still in the namespaces (grandchildren, strays).
    const mine = new Set(this.namespaces());
    const existing = (await listNetns()).filter((n) => mine.has(n));
    const strays = (await Promise.all(existing.map(netnsPids))).flat();
    for (const pid of strays) killQuietly(pid, "SIGKILL");
    if (existing.length > 0) await run(["ip", "-force", "-batch", "-"], existing.map((n) => `netns del ${n}\n`).join(""));
    this.destroyed = true;
    live.delete(this);
    const left = (await listNetns()).filter((n) => n.startsWith(this.prefix));
    if (left.length > 0) throw new Error(`lab: namespaces left after destroy: ${left.join(" ")}`);
  }

  /** Synchronous last-resort teardown for exit and signal handlers. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    const existing = listNetnsSync().filter((n) => n.startsWith(this.prefix));
    for (const ns of existing) for (const pid of netnsPidsSync(ns)) killQuietly(pid, "SIGKILL");
    if (existing.length > 0) {
      try {
        execFileSync("ip", ["-force", "-batch", "-"], { input: existing.map((n) => `netns del ${n}\n`).join(""), stdio: ["pipe", "ignore", "ignore"] });
      } catch {
        /* best effort */
      }
    }
  }

  /**
   * Deletes namespaces named `<prefix><pid>-...` whose pid is no longer alive (labs of killed
   * processes), killing whatever still runs in them. Returns the names removed.
   */
  static async cleanupStale(prefix = "lsp-"): Promise<string[]> {
    const re = new RegExp(`^${escapeRe(prefix)}(\\d+)-`);
    const stale = (await listNetns()).filter((n) => {
      const m = re.exec(n);
      return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
    });
    if (stale.length === 0) return [];
    for (const pid of (await Promise.all(stale.map(netnsPids))).flat()) killQuietly(pid, "SIGKILL");
    await run(["ip", "-force", "-batch", "-"], stale.map((n) => `netns del ${n}\n`).join(""));
    return stale;
  }
}
