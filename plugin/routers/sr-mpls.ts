// `lsprobe-plugin routers --encap sr-mpls`: what each path's first router needs for the prober's
// SR-MPLS probes (prober.encap sr-mpls). The prober sends the Adj-SID label stack to the path's
// `targets.<af>.srMpls.entry` (the first router's own address) in MPLS-in-UDP (RFC 7510,
// destination port 6635) or MPLS-in-GRE (RFC 4023, protocol type 0x8847), from prober.source;
// that router terminates the carrier and switches the top label, its own Adj-SID for the first
// hop. Every later hop is plain label switching on Adj-SIDs the IGP installed: no other router
// needs anything. Pure, as plan.ts.
import type { Family, Path } from "../../shared/pathset.js";
import type { Topology } from "../topology.js";
import { byAddress, byAddress6, commented, type EntryLabel, type SrCarrier, type SrMplsJob, type Vendor } from "./types.js";

export interface SrMplsPlanInput {
  paths: readonly Path[];
  topology: Topology;
  /** IPv4 prober sources. */
  sources: readonly string[];
  carrier: SrCarrier;
  /** prober.router: only paths starting there are probed; null: every path. */
  router: string | null;
  only?: string;
}

export interface SrMplsPlan {
  /** Every router of the LSDB (or the one asked for); a router no path starts at has no entries. */
  jobs: SrMplsJob[];
  /** (path, family) pairs the prober would send as SR-MPLS. */
  probed: number;
  notes: string[];
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Why the prober would not send this family's probe as SR-MPLS (prober.ts chooseEncap), or null. */
function unusable(path: Path, af: Family): string | null {
  const m = path.targets?.[af]?.srMpls;
  if (m === undefined) return "the path set has no SR-MPLS targets (version 4 needed)";
  if (!m.probeable) return m.unprobeableReason ?? "unprobeable";
  if (m.entry === undefined) return "no entry address for the first router";
  const index = m.segments.find((g) => !g.flags.V || !g.flags.L);
  if (index) return `${index.node}'s Adj-SID toward ${index.to} is an index (V or L clear), not a label`;
  return null;
}

export function planSrMpls(i: SrMplsPlanInput): SrMplsPlan {
  const entries = new Map<string, { v4: Set<string>; v6: Set<string>; labels: Map<number, EntryLabel> }>();
  const fallback: string[] = [];
  let probed = 0;
  for (const p of i.paths) {
    if (i.router !== null && p.src !== i.router) continue;
    for (const af of p.families ?? ["ipv4"]) {
      const why = unusable(p, af);
      if (why !== null) {
        if (p.targets?.[af]?.probeable ?? p.probeable) fallback.push(`${p.hops.map((h) => h.name).join(">")} (${af}): ${why}`);
        continue;
      }
      const m = p.targets![af]!.srMpls!;
      let e = entries.get(p.src);
      if (e === undefined) entries.set(p.src, (e = { v4: new Set(), v6: new Set(), labels: new Map() }));
      (af === "ipv4" ? e.v4 : e.v6).add(m.entry!);
      const top = m.segments[0];
      e.labels.set(top.sid, { label: top.sid, to: top.to });
      probed++;
    }
  }
  const names = [...i.topology.nodes.values()].filter((n) => !n.pseudo).map((n) => n.name).sort(byName);
  const sources = [...new Set(i.sources)].sort(byAddress);
  const jobs = names
    .filter((r) => i.only === undefined || r === i.only)
    .map((router): SrMplsJob => {
      const e = entries.get(router);
      return {
        router,
        entries: [...(e?.v4 ?? [])].sort(byAddress),
        entries6: [...(e?.v6 ?? [])].sort(byAddress6),
        sources,
        carrier: i.carrier,
        labels: [...(e?.labels.values() ?? [])].sort((a, b) => a.label - b.label),
      };
    });
  const notes: string[] = [];
  if (fallback.length > 0)
    notes.push(`${fallback.length} probed path(s) cannot take SR-MPLS and fall back to the tunnel (print their decapsulation with --encap gre or ipip): ${fallback[0]}${fallback.length > 1 ? " (and others)" : ""}`);
  if (probed === 0) notes.push(i.router === null ? "no path can be probed by SR-MPLS: nothing to terminate" : `no SR-MPLS path starts at prober.router ${i.router}: nothing to terminate`);
  return { jobs, probed, notes };
}

export const CARRIER_NAMES: Readonly<Record<SrCarrier, string>> = { udp: "MPLS-in-UDP (RFC 7510, UDP port 6635)", gre: "MPLS-in-GRE (RFC 4023, GRE protocol type 0x8847)" };

/** One vendor's SR-MPLS entry configuration for every job, with its warnings (each also a comment). */
export function renderSrMplsPlan(vendor: Vendor, plan: SrMplsPlan, carrier: SrCarrier): { text: string; warnings: string[] } {
  const c = (lines: string[]): string[] => commented(vendor.comment, lines);
  const warnings: string[] = [...plan.notes];
  const entering = plan.jobs.filter((j) => j.entries.length + j.entries6.length > 0).length;
  const out: string[] = c([
    `lsprobe-plugin routers --vendor ${vendor.name} --encap sr-mpls --carrier ${carrier}: ${vendor.title} SR-MPLS entry for lsprobe's probes`,
    `${plan.jobs.length} router(s), ${entering} entering; ${plan.probed} path(s) probed by SR-MPLS; prober source(s): ${plan.jobs[0]?.sources.join(", ") ?? "-"}`,
    `Each path's first router terminates ${CARRIER_NAMES[carrier]} sent to its entry address from the prober sources only,`,
    "then switches the top label (its own Adj-SID for the first hop); later hops switch the Adj-SIDs the IGP installed.",
    "Replace <INTERFACE> (and <UNIT>) with the interfaces the probes arrive on from the prober.",
  ]);
  for (const n of plan.notes) out.push(...c([`WARNING: ${n}`]));
  for (const job of plan.jobs) {
    const n = job.entries.length + job.entries6.length;
    out.push("", ...c([`==== ${job.router}: ${n} entry address(es), ${carrier === "udp" ? "MPLS-in-UDP" : "MPLS-in-GRE"}`]));
    if (n === 0) {
      out.push(...c(["no probed path starts here: nothing to configure (its Adj-SIDs are switched as the IGP installed them)"]));
      continue;
    }
    if (job.entries6.length > 0) {
      const w = `${job.router}: IPv6 entry address(es) ${job.entries6.join(", ")}: this output covers IPv4 entries only; terminate SR-MPLS over IPv6 by hand, or probe the IPv6 family by SRv6 (prober.encap srv6 or auto)`;
      warnings.push(w);
      out.push(...c([`WARNING: ${w}`]));
    }
    if (job.entries.length === 0) continue;
    out.push(...c([`Top labels switched here: ${job.labels.map((l) => `${l.label} (to ${l.to})`).join(", ")}.`]));
    const r = vendor.renderSrMpls(job);
    out.push(r.text.trimEnd());
    warnings.push(...r.warnings);
  }
  return { text: out.join("\n") + "\n", warnings };
}
