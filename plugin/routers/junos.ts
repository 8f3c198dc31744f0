// Juniper Junos: filter-based GRE termination (Juniper, "Understanding Filter-Based Tunneling
// Across IPv4 Networks"; "decapsulate (Firewall Filter)"). One family inet input filter: a term
// that decapsulates GRE from the prober sources to the targets, a term that discards every
// other tunnel packet to the targets, and a last term that accepts the rest (a Junos filter
// discards what no term accepts).
import { commented, type RouterJob, type Vendor, type VendorOutput } from "./types.js";

/** EX4600/QFX5100: GRE tunnels at most, filter-based tunnels included. */
export const JUNOS_MAX_GRE_TUNNELS = 512;

const FILTER = "lsprobe-decap";

function render(job: RouterJob): VendorOutput {
  const c = (lines: string[]): string[] => commented("#", lines);
  const warnings: string[] = [];
  const out: string[] = [];
  const term = (name: string, rest: string): string => `set firewall family inet filter ${FILTER} term ${name} ${rest}`;
  if (job.encap === "ipip") {
    const w = `${job.router}: Junos' firewall decapsulate action has no IP-in-IP option (gre, inet-in-udp, mpls-in-udp, l2tp): give this router GRE (prober encap-per-router) or decapsulate elsewhere`;
    warnings.push(w);
    out.push(...c([`WARNING: ${w}`]));
    return { text: out.join("\n") + "\n", warnings };
  }
  const tunnels = job.targets.length * job.sources.length;
  if (tunnels > JUNOS_MAX_GRE_TUNNELS) {
    const w = `${job.router}: ${tunnels} GRE tunnels (${job.targets.length} targets x ${job.sources.length} sources): EX4600/QFX5100 terminate at most ${JUNOS_MAX_GRE_TUNNELS} GRE tunnels, filter-based ones included`;
    warnings.push(w);
    out.push(...c([`WARNING: ${w}`]));
  }
  out.push(
    ...c([
      "Filter-based GRE termination (MX with MPC/MIC; PTX needs `network-services enhanced-mode`).",
      "The decapsulate action drops GRE payloads other than IPv4, IPv6 and MPLS, and packets with IP options;",
      "lsprobe's layers carry IPv4 without options.",
    ]),
  );
  out.push(term("lsprobe-accept", "from protocol gre"));
  for (const s of job.sources) out.push(term("lsprobe-accept", `from source-address ${s}/32`));
  for (const t of job.targets) out.push(term("lsprobe-accept", `from destination-address ${t}/32`));
  out.push(term("lsprobe-accept", "then count lsprobe-decap"));
  out.push(term("lsprobe-accept", "then decapsulate gre"));
  out.push(...c(["Any other tunnel packet to these addresses: a decapsulating address is an injection point."]));
  out.push(term("lsprobe-drop", "from protocol gre"));
  out.push(term("lsprobe-drop", "from protocol ipip"));
  for (const t of job.targets) out.push(term("lsprobe-drop", `from destination-address ${t}/32`));
  out.push(term("lsprobe-drop", "then count lsprobe-drop"));
  out.push(term("lsprobe-drop", "then discard"));
  out.push(...c(["Everything else as before (a Junos filter discards what no term accepts)."]));
  out.push(term("lsprobe-rest", "then accept"));
  out.push(...c(["Apply as input filter (family inet) on every interface probes arrive on; with an input filter there", "already, use `filter input-list [ lsprobe-decap <existing> ]` instead."]));
  const froms = [...new Set(job.ingress.map((i) => i.from))];
  if (froms.length > 0) out.push(...c([`Probes arrive on the links from: ${froms.join(", ")}.`]));
  out.push(`set interfaces <INTERFACE> unit <UNIT> family inet filter input ${FILTER}`);
  return { text: out.join("\n") + "\n", warnings };
}

export const junos: Vendor = { name: "junos", title: "Juniper Junos", comment: "#", render };
