#!/usr/bin/python3
"""networkx baseline for bench/paths.ts (run with Debian's /usr/bin/python3, networkx 2.8.8).

For every case in <topologies>/expected/*.json: load the topology edge list, build the graph
(nx.Graph when `undirected`, else nx.DiGraph, edge attribute `metric`), and time only the
enumeration of every equal-cost shortest path of each (src, dst) pair of the case, in the
order of the expected file's results:

  networkx   list(nx.all_shortest_paths(G, s, t, weight="metric")) per pair
             (networkx runs one Dijkstra per call, i.e. per pair: its public API)
  grouped    one nx.dijkstra_predecessor_and_distance per source, then the paths of each of
             the source's destinations from that predecessor map (what lsprobe does: one SPF
             per source); informative, a second, stronger baseline

Each timing is the median of N runs; N adapts so a case takes about --budget seconds (at least
3 runs; fast cases are timed in batches so each sample lasts >= 5 ms). Graph construction and
the digest are outside the timed region.

digest: sha256 of, for each pair in order, for each path of the pair in lexicographic order
(element-wise by node name), the line "src<TAB>dst<TAB>n1,n2,...,nk\n". bench/paths.ts computes
the same digest from lsprobe's paths.

Prints one JSON object on stdout: {"networkx": version, "cases": [...]}.
Usage: paths_networkx.py [--budget SECONDS] [--no-grouped] [--only CASE,CASE...] TOPOLOGY_DIR
"""
import argparse
import hashlib
import json
import os
import statistics
import sys
import time

import networkx as nx
from networkx.algorithms.shortest_paths.generic import _build_paths_from_predecessors


def digest_of(pairs, results):
    h = hashlib.sha256()
    for (s, t), paths in zip(pairs, results):
        for p in sorted(paths):
            h.update(f"{s}\t{t}\t{','.join(p)}\n".encode())
    return h.hexdigest()


def run_networkx(G, pairs):
    return [list(nx.all_shortest_paths(G, s, t, weight="metric")) for s, t in pairs]


def run_grouped(G, pairs):
    out = []
    pred = None
    cur = None
    for s, t in pairs:
        if s != cur:
            pred, _dist = nx.dijkstra_predecessor_and_distance(G, s, weight="metric")
            cur = s
        out.append(list(_build_paths_from_predecessors({s}, t, pred)) if t in pred else [])
    return out


def measure(fn, budget):
    """Median ms of fn() over N runs; returns (median_ms, runs, result of the first call)."""
    t0 = time.perf_counter()
    result = fn()  # warm-up and estimate; not counted
    first = time.perf_counter() - t0
    batch = 1
    if first < 0.005:
        batch = max(1, int(0.005 / max(first, 1e-7)))
    per_sample = first * batch
    n = int(budget / max(per_sample, 1e-9))
    n = max(3, min(n, 200))
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - t0) / batch * 1000)
    return statistics.median(samples), n * batch, result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("topologies")
    ap.add_argument("--budget", type=float, default=1.5, help="seconds per case and variant (approximate)")
    ap.add_argument("--no-grouped", action="store_true")
    ap.add_argument("--only", default=None, help="comma-separated case names")
    a = ap.parse_args()

    exp_dir = os.path.join(a.topologies, "expected")
    cases = []
    graphs = {}
    for name in sorted(os.listdir(exp_dir)):
        if not name.endswith(".json"):
            continue
        case = name[:-5]
        if a.only and case not in a.only.split(","):
            continue
        with open(os.path.join(exp_dir, name)) as f:
            exp = json.load(f)
        topo_file = os.path.basename(exp["topology"])
        if topo_file not in graphs:
            with open(os.path.join(a.topologies, topo_file)) as f:
                t = json.load(f)
            G = nx.Graph() if t["undirected"] else nx.DiGraph()
            G.add_nodes_from(t["nodes"])
            for e in t["edges"]:
                G.add_edge(e["src"], e["dst"], metric=e["metric"])
            graphs[topo_file] = G
        G = graphs[topo_file]
        pairs = [(r["src"], r["dst"]) for r in exp["results"]]

        ms, runs, res = measure(lambda: run_networkx(G, pairs), a.budget)
        entry = {
            "case": case,
            "topology": topo_file,
            "pairs": len(pairs),
            "paths": sum(len(r) for r in res),
            "networkx_ms": ms,
            "networkx_runs": runs,
            "digest": digest_of(pairs, res),
        }
        if not a.no_grouped:
            gms, gruns, gres = measure(lambda: run_grouped(G, pairs), a.budget)
            entry["grouped_ms"] = gms
            entry["grouped_runs"] = gruns
            entry["grouped_digest"] = digest_of(pairs, gres)
        cases.append(entry)
        print(f"networkx: {case}: {ms:.3f} ms x{runs}", file=sys.stderr, flush=True)

    json.dump({"networkx": nx.__version__, "python": sys.version.split()[0], "cases": cases}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
