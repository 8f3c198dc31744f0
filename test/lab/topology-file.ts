// A lab topology from a file: the lab's YAML (routers, links with metrics and optional
// addresses, hosts) or one of ../shared/topologies' edge lists (JSON). And the same topology as
// the BGP-LS speaker announces it, with the lab's own addresses, so the plugin's GRE hops are
// the lab's interfaces.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { edgeSubnet, hostSubnet, loopbackAddress, validateTopology, type LabTopology } from "./netns.js";
import type { LsTopology } from "./speaker/topology.js";

type RawRouter = string | { name: string; loopback?: string };
type RawLink = [string, string, number?] | { a: string; b: string; metric?: number; "a-address"?: string; "b-address"?: string };

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
  if (!Array.isArray(doc.links)) fail("links: expected a list of [a, b, metric] or {a, b, metric, a-address, b-address}");
  const hosts = (doc.hosts ?? [{ name: "h1", router: nameOf((doc.routers as RawRouter[])[0]) }]) as Array<{ name: string; router: string }>;
  return build(doc.routers as RawRouter[], doc.links as RawLink[], hosts, fail);
}

const nameOf = (r: RawRouter): string => (typeof r === "string" ? r : r.name);

function build(rawRouters: RawRouter[], rawLinks: RawLink[], rawHosts: Array<{ name: string; router: string }>, fail: (m: string) => never): LabTopology {
  const routers = rawRouters.map((r, i) => {
    const name = nameOf(r);
    if (typeof name !== "string" || !/^[a-z][a-z0-9]{0,7}$/i.test(name)) fail(`routers[${i}]: expected a short name (letters and digits, at most 8), got ${JSON.stringify(name)}`);
    return { name, loopback: (typeof r === "object" && r.loopback) || loopbackAddress(i + 1) };
  });
  const links = rawLinks.map((l, k) => {
    const [a, b, metric] = Array.isArray(l) ? [l[0], l[1], l[2] ?? 10] : [l.a, l.b, l.metric ?? 10];
    const [da, db] = edgeSubnet(k);
    const aAddress = (!Array.isArray(l) && l["a-address"]) || da;
    const bAddress = (!Array.isArray(l) && l["b-address"]) || db;
    if (!Number.isInteger(metric) || metric < 1 || metric > 16777214) fail(`links[${k}]: metric must be an integer 1..16777214, got ${JSON.stringify(metric)}`);
    return { a, b, metric, aAddress, bAddress };
  });
  const hosts = rawHosts.map((h, j) => {
    const [routerAddress, address] = hostSubnet(j);
    return { name: h.name, router: h.router, address, routerAddress };
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

/** The lab as IS-IS would report it over BGP-LS: same names, loopbacks and link addresses. */
export function lsTopologyFromLab(lab: LabTopology, asn = 65001): LsTopology {
  const routers = lab.routers.map((r, i) => ({ name: r.name, systemId: (0x198000000000 + i + 1).toString(16).padStart(12, "0"), routerId: r.loopback }));
  const links = lab.links.flatMap((l) => [
    { from: l.a, to: l.b, metric: l.metric, localAddress: l.aAddress, remoteAddress: l.bAddress },
    { from: l.b, to: l.a, metric: l.metric, localAddress: l.bAddress, remoteAddress: l.aAddress },
  ]);
  const prefixes = [
    ...routers.map((r) => ({ router: r.name, prefix: `${r.routerId}/32`, metric: 0 })),
    ...lab.hosts.map((h) => ({ router: h.router, prefix: `${h.routerAddress.replace(/\d+$/, (x) => String(Number(x) & ~1))}/31`, metric: 10 })),
  ];
  return { protocol: "isis", asn, bgpLsId: 0, routers, links, prefixes };
}
