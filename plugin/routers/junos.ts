// Juniper Junos: filter-based GRE termination (Juniper, "Understanding Filter-Based Tunneling
// Across IPv4 Networks"; "decapsulate (Firewall Filter)"). One family inet input filter: a term
// that decapsulates GRE from the prober sources to the targets, a term that discards every
// other tunnel packet to the targets, and a last term that accepts the rest (a Junos filter
// discards what no term accepts).
import { commented, MPLS_UDP_PORT, type RouterJob, type SrMplsJob, type Vendor, type VendorOutput } from "./types.js";

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

// SR-MPLS entry: the same filter-based termination, carrying MPLS. `decapsulate gre` on MX with
// MPC/MIC: "If the payload is MPLS, the Packet Forwarding Engine performs route lookup on the
// MPLS path routing table using the route label" (Juniper, "Firewall Filter Terminating
// Actions"). `decapsulate mpls-in-udp` with `from protocol udp` and `from destination-port 6635`:
// Juniper, "decapsulate (Firewall Filter)" (PTX10003, PTX10004, PTX10008, PTX10016,
// PTX10001-36MR only) and "Next-Hop-Based Dynamic Tunnels" (the filter-based MPLS-over-UDP
// decapsulation example, PTX and QFX10000 from 18.2R1). The Adj-SIDs are in mpls.0 where the
// IGP's source-packet-routing allocated them.
const SR_FILTER = "lsprobe-sr-mpls";

function renderSrMpls(job: SrMplsJob): VendorOutput {
  const c = (lines: string[]): string[] => commented("#", lines);
  const out: string[] = [];
  const term = (name: string, rest: string): string => `set firewall family inet filter ${SR_FILTER} term ${name} ${rest}`;
  const udp = job.carrier === "udp";
  const match = (name: string): string[] =>
    udp ? [term(name, "from protocol udp"), term(name, `from destination-port ${MPLS_UDP_PORT}`)] : [term(name, "from protocol gre")];
  out.push(
    ...c(
      udp
        ? ["MPLS-in-UDP termination by firewall filter: `decapsulate mpls-in-udp` exists on PTX10003, PTX10004, PTX10008,", "PTX10016 and PTX10001-36MR only (elsewhere, e.g. MX, use --carrier gre). The label is then looked up in mpls.0."]
        : ["Filter-based GRE termination (MX with MPC/MIC): an MPLS payload is looked up in mpls.0 on its top label."],
    ),
  );
  out.push(...match("lsprobe-accept"));
  for (const s of job.sources) out.push(term("lsprobe-accept", `from source-address ${s}/32`));
  for (const e of job.entries) out.push(term("lsprobe-accept", `from destination-address ${e}/32`));
  out.push(term("lsprobe-accept", `then count ${SR_FILTER}`));
  out.push(term("lsprobe-accept", `then decapsulate ${udp ? "mpls-in-udp" : "gre"}`));
  out.push(...c([`Any other ${udp ? "MPLS-in-UDP" : "GRE"} packet to these addresses: a terminating address is an injection point.`]));
  out.push(...match("lsprobe-drop"));
  for (const e of job.entries) out.push(term("lsprobe-drop", `from destination-address ${e}/32`));
  out.push(term("lsprobe-drop", "then count lsprobe-sr-mpls-drop"));
  out.push(term("lsprobe-drop", "then discard"));
  out.push(...c(["Everything else as before (a Junos filter discards what no term accepts)."]));
  out.push(term("lsprobe-rest", "then accept"));
  out.push(...c(["Apply as input filter (family inet) on the interfaces probes arrive on from the prober; with an input", `filter there already, use \`filter input-list [ ${SR_FILTER} <existing> ]\` instead.`]));
  out.push(`set interfaces <INTERFACE> unit <UNIT> family inet filter input ${SR_FILTER}`);
  return { text: out.join("\n") + "\n", warnings: [] };
}

export const junos: Vendor = { name: "junos", title: "Juniper Junos", comment: "#", render, renderSrMpls };
