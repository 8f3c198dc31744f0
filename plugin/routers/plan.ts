// From a computed path set to per-router jobs, and from jobs to one vendor's text. Pure.
import type { PathSet } from "../../shared/pathset.js";
import type { Topology } from "../topology.js";
import { collectTargets, collectTargets6, routerAddresses, type TargetOptions } from "./targets.js";
import { byAddress, byAddress6, commented, type Encap, type RouterJob, type Vendor } from "./types.js";

export interface PlanInput {
  paths: PathSet["paths"];
  pairs: PathSet["pairs"];
  topology: Topology;
  sources: readonly string[];
  /** IPv6 prober sources (prober.source's IPv6 address), for the IPv6 layers. */
  sources6?: readonly string[];
  /** The encapsulation for a router (prober encap / encap-per-router; GRE by default). */
  encapFor(router: string): Encap;
  probe: TargetOptions;
  /** Only this router (--router); undefined: every router of the LSDB. */
  only?: string;
}

export interface DecapPlan {
  /** Every router of the LSDB (or the one asked for), by name; a router without targets has an empty list. */
  jobs: RouterJob[];
  /** Paths the prober would probe. */
  probed: number;
  /** Problems of the computation itself: unresolved pairs, unprobeable paths. */
  notes: string[];
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function planDecap(i: PlanInput): DecapPlan {
  const targets = collectTargets(i.paths, i.probe);
  const targets6 = collectTargets6(i.paths, i.probe);
  const addresses = routerAddresses(i.topology);
  const names = [...i.topology.nodes.values()].filter((n) => !n.pseudo).map((n) => n.name).sort(byName);
  const sources = [...new Set(i.sources)].sort(byAddress);
  const sources6 = [...new Set(i.sources6 ?? [])].sort(byAddress6);
  const others = (router: string): Array<[string, string]> =>
    [...addresses].filter(([r]) => r !== router).flatMap(([r, as]) => as.map((a): [string, string] => [a, r]));
  const jobs = names
    .filter((r) => i.only === undefined || r === i.only)
    .map((router): RouterJob => ({
      router,
      targets: targets.get(router)?.targets ?? [],
      ingress: targets.get(router)?.ingress ?? [],
      sources,
      encap: i.encapFor(router),
      ownAddresses: addresses.get(router) ?? [],
      otherAddresses: others(router),
      ...(targets6.has(router) ? { targets6: targets6.get(router)!, sources6 } : {}),
    }));
  const notes: string[] = [];
  for (const p of i.pairs) if (p.reason !== undefined) notes.push(`pair ${p.src} -> ${p.dst}: ${p.reason}`);
  const unprobeable = i.paths.filter((p) => !p.probeable && p.targets?.ipv6?.probeable !== true);
  if (unprobeable.length > 0) notes.push(`${unprobeable.length} path(s) cannot be probed and need no decapsulation: ${unprobeable[0].unprobeableReason ?? "no address"}${unprobeable.length > 1 ? " (and others)" : ""}`);
  const layered = (p: PathSet["paths"][number]): boolean => (p.probeable && p.gre.length > 0) || (p.targets?.ipv6?.probeable === true && p.targets.ipv6.gre.length > 0);
  const probed = i.paths.filter((p) => layered(p) && (i.probe.router === null || p.src === i.probe.router)).length;
  if (probed === 0) notes.push(i.probe.router === null ? "no path to probe: nothing to decapsulate" : `no probed path starts at prober.router ${i.probe.router}: nothing to decapsulate`);
  return { jobs, probed, notes };
}

/** One vendor's configuration for every job, with its warnings (each also a comment in the text). */
export function renderPlan(vendor: Vendor, plan: DecapPlan): { text: string; warnings: string[] } {
  const c = (lines: string[]): string[] => commented(vendor.comment, lines);
  const warnings: string[] = [...plan.notes];
  const withTargets = plan.jobs.filter((j) => j.targets.length > 0 || (vendor.ipv6 === true && (j.targets6?.length ?? 0) > 0)).length;
  const out: string[] = c([
    `lsprobe-plugin routers --vendor ${vendor.name}: ${vendor.title} decapsulation for lsprobe's probes`,
    `${plan.jobs.length} router(s), ${withTargets} decapsulating; ${plan.probed} path(s) probed; prober source(s): ${[...(plan.jobs[0]?.sources ?? []), ...(plan.jobs.find((j) => j.sources6 !== undefined)?.sources6 ?? [])].join(", ") || "-"}`,
    "Each router decapsulates exactly the addresses probes are sent to, and only from the prober sources.",
    "Replace <INTERFACE> (and <UNIT>) with the interfaces the probes arrive on.",
  ]);
  for (const n of plan.notes) out.push(...c([`WARNING: ${n}`]));
  for (const job of plan.jobs) {
    out.push("", ...c([`==== ${job.router}: ${job.targets.length} target(s), ${job.encap === "gre" ? "GRE" : "IP-in-IP"}`]));
    const v6 = job.targets6 !== undefined && job.targets6.length > 0;
    if (v6 && vendor.ipv6 !== true) {
      const w = `${job.router}: ${job.targets6!.length} IPv6 target(s) (GRE over IPv6 or IPv6-in-IPv6 layers: ${job.targets6!.join(", ")}): this output covers IPv4 decapsulation only; configure those by hand, or probe the IPv6 family by SRv6`;
      warnings.push(w);
      out.push(...c([`WARNING: ${w}`]));
    }
    if (job.targets.length === 0 && !(v6 && vendor.ipv6 === true)) {
      out.push(...c([`no ${v6 ? "IPv4 " : ""}probe layer is addressed to this router: nothing to configure`]));
      continue;
    }
    const r = vendor.render(job);
    out.push(r.text.trimEnd());
    warnings.push(...r.warnings);
  }
  return { text: out.join("\n") + "\n", warnings };
}
