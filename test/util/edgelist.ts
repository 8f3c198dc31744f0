// Test/bench helper: the reference topologies of ../shared/topologies (edge lists) as the
// plugin's graph, without going through BGP-LS.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { sharedPath } from "./shared.js";
import { Graph as GraphlibGraph } from "@dagrejs/graphlib";
import type { Graph, TopoLink, TopoNode, Topology } from "../../plugin/topology.js";

export interface EdgeListJson {
  name: string;
  nodes: string[];
  edges: Array<{ src: string; dst: string; metric: number }>;
  undirected: boolean;
  queries: { pairs?: Array<[string, string]>; all_pairs_of?: string[]; [k: string]: unknown };
}

export const TOPOLOGY_DIR = pathToFileURL(sharedPath("topologies") + "/");

export function readTopologyJson(name: string): EdgeListJson {
  return JSON.parse(readFileSync(new URL(name, TOPOLOGY_DIR), "utf8")) as EdgeListJson;
}

export function node(name: string, extra: Partial<TopoNode> = {}): TopoNode {
  return { id: name, name, routerId: name, teRouterIds: [], loopbacks: [], prefixes: [], overload: false, pseudo: false, ...extra };
}

/** A graph from an edge list; undirected edges become two directed links. Link ids are from>to#k. */
export function graphFromEdges(
  nodes: Array<string | TopoNode>,
  edges: Array<{ src: string; dst: string; metric: number } & Partial<TopoLink>>,
  undirected = true,
): Topology {
  const g: Graph = new GraphlibGraph({ directed: true, multigraph: true });
  const map = new Map<string, TopoNode>();
  for (const n of nodes) {
    const tn = typeof n === "string" ? node(n) : n;
    map.set(tn.id, tn);
    g.setNode(tn.id, tn);
  }
  const links: TopoLink[] = [];
  const add = (from: string, to: string, e: Partial<TopoLink> & { metric: number }, k: number): void => {
    const l: TopoLink = { id: `${from}>${to}#${k}`, from, to, localAddresses: [], remoteAddresses: [], ...e, metric: e.metric };
    l.from = from;
    l.to = to;
    links.push(l);
    g.setEdge(from, to, l, l.id);
  };
  edges.forEach((e, k) => {
    const { src, dst, ...rest } = e;
    add(src, dst, rest, k);
    if (undirected) add(dst, src, { ...rest, localAddress: rest.remoteAddress, remoteAddress: rest.localAddress }, k);
  });
  return { graph: g, nodes: map, links, unusable: [], prefixes: new Map(), digest: "" };
}

export function topologyFromJson(t: EdgeListJson): Topology {
  return graphFromEdges(t.nodes, t.edges, t.undirected);
}
