// Cisco IOS XR: one `interface tunnel-ip` per prober source and target (`tunnel source` the
// target, `tunnel destination` the prober), GRE (`tunnel mode gre ipv4`) or IP-in-IP
// (`tunnel mode ipv4`); the Cisco 8000 documents IP-in-IP stacked decapsulation for exactly
// this use. An ingress ACL drops other tunnel packets to the targets.
import { commented, type RouterJob, type SrMplsJob, type Vendor, type VendorOutput } from "./types.js";

/** Decapsulating tunnels with distinct sources (local addresses) at most. */
export const IOSXR_MAX_DECAP_SOURCES = 16;
/** First tunnel-ip number used (renumber if taken). */
export const IOSXR_FIRST_TUNNEL = 4000;

const ACL = "lsprobe-decap";

function render(job: RouterJob): VendorOutput {
  const c = (lines: string[]): string[] => commented("!", lines);
  const warnings: string[] = [];
  const out: string[] = [];
  if (job.targets.length > IOSXR_MAX_DECAP_SOURCES) {
    const w = `${job.router}: ${job.targets.length} distinct tunnel sources (targets): IOS XR decapsulates on at most ${IOSXR_MAX_DECAP_SOURCES} tunnels with distinct sources; target fewer addresses (TE router ids or loopbacks) on this router`;
    warnings.push(w);
    out.push(...c([`WARNING: ${w}`]));
  }
  if (job.encap === "gre")
    out.push(...c(["On the Cisco 8000, IP-in-IP is the documented encapsulation for stacked decapsulation (prober encap: ipip)."]));
  out.push(...c([`Tunnel numbers from ${IOSXR_FIRST_TUNNEL}: renumber if taken. Loopback0 lends the tunnels an address.`]));
  let n = IOSXR_FIRST_TUNNEL;
  for (const t of job.targets)
    for (const s of job.sources) {
      out.push(`interface tunnel-ip${n++}`);
      out.push(` description lsprobe decap ${s} -> ${t}`);
      out.push(" ipv4 unnumbered Loopback0");
      out.push(` tunnel mode ${job.encap === "gre" ? "gre ipv4" : "ipv4"}`);
      out.push(` tunnel source ${t}`);
      out.push(` tunnel destination ${s}`);
      out.push("!");
    }
  out.push(...c(["Other tunnel packets to these addresses: a decapsulating address is an injection point."]));
  const proto = job.encap === "gre" ? "gre" : "ipinip";
  out.push(`ipv4 access-list ${ACL}`);
  let seq = 10;
  for (const s of job.sources) for (const t of job.targets) {
    out.push(` ${seq} permit ${proto} host ${s} host ${t}`);
    seq += 10;
  }
  for (const t of job.targets) {
    out.push(` ${seq} deny gre any host ${t}`);
    out.push(` ${seq + 1} deny ipinip any host ${t}`);
    seq += 10;
  }
  out.push(` ${seq} permit ipv4 any any`);
  out.push("!");
  const froms = [...new Set(job.ingress.map((i) => i.from))];
  if (froms.length > 0) out.push(...c([`Probes arrive on the links from: ${froms.join(", ")}.`]));
  out.push("interface <INTERFACE>");
  out.push(` ipv4 access-group ${ACL} ingress`);
  out.push("!");
  return { text: out.join("\n") + "\n", warnings };
}

// SR-MPLS entry: no Cisco document we found gives IOS XR statements that terminate MPLS-in-UDP or
// MPLS-in-GRE addressed to a router address and then switch an Adj-SID; printed as a warning,
// not as guessed configuration.
function renderSrMpls(job: SrMplsJob): VendorOutput {
  const w = `${job.router}: lsprobe knows no documented IOS XR configuration that terminates ${job.carrier === "udp" ? "MPLS-in-UDP" : "MPLS-in-GRE"} to a router address and label-switches the Adj-SID under it: nothing printed; probe paths starting at this router by SRv6 (prober.encap srv6 or auto) or by the tunnel (--encap gre or ipip)`;
  return { text: commented("!", [`WARNING: ${w}`]).join("\n") + "\n", warnings: [w] };
}

export const iosxr: Vendor = { name: "iosxr", title: "Cisco IOS XR", comment: "!", render, renderSrMpls };
