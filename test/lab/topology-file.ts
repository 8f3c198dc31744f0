// A lab topology from a file: the lab's YAML (routers, links with metrics and optional
// addresses, IPv4 and IPv6, hosts) or one of ../shared/topologies' edge lists (JSON). And the same topology as
// the BGP-LS speaker announces it, with the lab's own addresses, so the plugin's GRE hops are
// the lab's interfaces.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { canonicalIpv6, edgeSubnet, hostSubnet, labIpv6For, loopbackAddress, validateTopology, type LabFamily, type LabTopology } from "./netns.js";
import type { LsTopology } from "./speaker/topology.js";

type RawRouter = string | { name: string; loopback?: string; loopback6?: string };
type RawLink = [string, string, number?] | { a: string; b: string; metric?: number; "a-address"?: string; "b-address"?: string; "a-address6"?: string; "b-address6"?: string };

export function labTopologyFromText(text: string, file: string): LabTopology {
  const doc = (file.endsWith(".json") ? JSON.parse(text) : parse(text)) as Record<string, unknown>;
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}`);
  };
  // ../shared/topologies edge list: nodes + edges.
  if (Array.isArray(doc.nodes) && Array.isArray(doc.edges)) {
    const nodes = doc.nodes as string[];
    const edges = doc.edges as Array<{ src: string; dst: string; metric: number }>;
    return build(nodes.map((n) => n), edges.map((e) => [e.src, e.dst, e.metric] as RawLink), [{ name: "h1", router: nodes[0] }], fail);
  }
  if (!Array.isArray(doc.routers)) fail("routers: expected a list of router names or {name, loopback}");
  if (!Array.isArray(doc.links)) fail("links: expected a list of [a, b, metric] or {a, b, metric, a-address, b-address, a-address6, b-address6}");
  const hosts = (doc.hosts ?? [{ name: "h1", router: nameOf((doc.routers as RawRouter[])[0]) }]) as Array<{ name: string; router: string }>;
  return build(doc.routers as RawRouter[], doc.links as RawLink[], hosts, fail);
}

const nameOf = (r: RawRouter): string => (typeof r === "string" ? r : r.name);

/**
 * An IPv6 address of the file (canonicalised), or the counterpart of the IPv4 one (netns.ts
 * labIpv6For: 198.B.C.D -> 2001:2:0:B::C:D) when the file gives none.
 */
function ipv6Of(given: string | undefined, ipv4: string, what: string, fail: (m: string) => never): string {
  try {
    return given !== undefined ? canonicalIpv6(String(given)) : labIpv6For(ipv4);
  } catch (e) {
    return fail(`${what}: ${(e as Error).message}${given === undefined ? " (give it an IPv6 address of 2001:2::/48)" : ""}`);
  }
}

function build(rawRouters: RawRouter[], rawLinks: RawLink[], rawHosts: Array<{ name: string; router: string }>, fail: (m: string) => never): LabTopology {
  const routers = rawRouters.map((r, i) => {
    const name = nameOf(r);
    if (typeof name !== "string" || !/^[a-z][a-z0-9]{0,7}$/i.test(name)) fail(`routers[${i}]: expected a short name (letters and digits, at most 8), got ${JSON.stringify(name)}`);
    const loopback = (typeof r === "object" && r.loopback) || loopbackAddress(i + 1);
    return { name, loopback, loopback6: ipv6Of(typeof r === "object" ? r.loopback6 : undefined, loopback, `routers[${i}].loopback6`, fail) };
  });
  const links = rawLinks.map((l, k) => {
    const [a, b, metric] = Array.isArray(l) ? [l[0], l[1], l[2] ?? 10] : [l.a, l.b, l.metric ?? 10];
    const [da, db] = edgeSubnet(k);
    const aAddress = (!Array.isArray(l) && l["a-address"]) || da;
    const bAddress = (!Array.isArray(l) && l["b-address"]) || db;
    if (!Number.isInteger(metric) || metric < 1 || metric > 16777214) fail(`links[${k}]: metric must be an integer 1..16777214, got ${JSON.stringify(metric)}`);
    const aAddress6 = ipv6Of(Array.isArray(l) ? undefined : l["a-address6"], aAddress, `links[${k}].a-address6`, fail);
    const bAddress6 = ipv6Of(Array.isArray(l) ? undefined : l["b-address6"], bAddress, `links[${k}].b-address6`, fail);
    return { a, b, metric, aAddress, bAddress, aAddress6, bAddress6 };
  });
  const hosts = rawHosts.map((h, j) => {
    const [routerAddress, address] = hostSubnet(j);
    return { name: h.name, router: h.router, address, routerAddress, address6: labIpv6For(address), routerAddress6: labIpv6For(routerAddress) };
  });
  const topo = { routers, links, hosts };
  try {
    validateTopology(topo);
  } catch (e) {
    fail((e as Error).message);
  }
  return topo;
}

export function loadLabTopology(file: string): LabTopology {
  return labTopologyFromText(readFileSync(file, "utf8"), file);
}

/**
 * The lab as IS-IS would report it over BGP-LS: same names, loopbacks and link addresses, for the
 * families the lab's prober probes (`family`, default "ipv4"). "dual" is IS-IS single topology:
 * one link NLRI with both families' addresses (TLVs 259/260 and 261/262), IPv4 and IPv6 TE router
 * ids (1028/1029), /32 and /128 loopbacks. "ipv6" leaves every IPv4 address and prefix out, as an
 * IPv6-only underlay has none (the IPv4 TE router id stays: IS-IS and TE need a 32-bit id).
 */
export function lsTopologyFromLab(lab: LabTopology, asn = 65001, family: LabFamily = "ipv4"): LsTopology {
  const v4 = family !== "ipv6";
  const v6 = family !== "ipv4";
  const routers = lab.routers.map((r, i) => ({
    name: r.name,
    systemId: (0x198000000000 + i + 1).toString(16).padStart(12, "0"),
    routerId: r.loopback,
    ...(v6 ? { routerId6: r.loopback6 } : {}),
  }));
  const side = (local: string, remote: string, local6: string, remote6: string) => ({
    ...(v4 ? { localAddress: local, remoteAddress: remote } : {}),
    ...(v6 ? { localAddress6: local6, remoteAddress6: remote6 } : {}),
  });
  const links = lab.links.flatMap((l) => [
    { from: l.a, to: l.b, metric: l.metric, ...side(l.aAddress, l.bAddress, l.aAddress6, l.bAddress6) },
    { from: l.b, to: l.a, metric: l.metric, ...side(l.bAddress, l.aAddress, l.bAddress6, l.aAddress6) },
  ]);
  // A host's subnet: its router's address with the last bit cleared (the /31's and, through the
  // lab's IPv6 plan, the /127's first address).
  const hostBase = (h: LabTopology["hosts"][number]): string => h.routerAddress.replace(/\d+$/, (x) => String(Number(x) & ~1));
  const prefixes = [
    ...(v4 ? routers.map((r) => ({ router: r.name, prefix: `${r.routerId}/32`, metric: 0 })) : []),
    ...(v4 ? lab.hosts.map((h) => ({ router: h.router, prefix: `${hostBase(h)}/31`, metric: 10 })) : []),
    ...(v6 ? lab.routers.map((r) => ({ router: r.name, prefix: `${r.loopback6}/128`, metric: 0 })) : []),
    ...(v6 ? lab.hosts.map((h) => ({ router: h.router, prefix: `${labIpv6For(hostBase(h))}/127`, metric: 10 })) : []),
  ];
  return { protocol: "isis", asn, bgpLsId: 0, routers, links, prefixes };
}
