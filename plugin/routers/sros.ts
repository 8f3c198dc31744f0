// Nokia SR OS: GRE termination on one router interface per router, for the destinations in
// that interface's subnet (at most a /16). The targets must then fall into one subnet: the
// smallest prefix covering them, which must be a /16 or longer and should hold no other
// router's address. An ingress ip-filter keeps GRE to that subnet to the prober sources.
import { commented, coveringPrefix, inPrefix, type RouterJob, type SrMplsJob, type Vendor, type VendorOutput } from "./types.js";

/** The widest subnet SR OS terminates GRE for. */
export const SROS_MAX_PREFIX = 16;

const FILTER = "lsprobe-decap";

function render(job: RouterJob): VendorOutput {
  const c = (lines: string[]): string[] => commented("#", lines);
  const warnings: string[] = [];
  const out: string[] = [];
  const warn = (w: string): void => {
    warnings.push(w);
    out.push(...c([`WARNING: ${w}`]));
  };
  if (job.encap === "ipip") {
    warn(`${job.router}: this output covers SR OS GRE termination only; give this router GRE (prober encap-per-router)`);
    return { text: out.join("\n") + "\n", warnings };
  }
  const p = coveringPrefix(job.targets);
  const prefix = `${p.network}/${p.length}`;
  if (p.length < SROS_MAX_PREFIX)
    warn(`${job.router}: the targets need ${prefix} to fit in one subnet, wider than the /${SROS_MAX_PREFIX} SR OS terminates GRE for (lsprobe targets each link's interface address; over unnumbered links it targets the TE router id or loopback)`);
  const others = [...new Set(job.otherAddresses.filter(([a]) => inPrefix(a, p)).map(([, r]) => r))].sort();
  if (others.length > 0)
    warn(`${job.router}: ${prefix}, the smallest prefix covering the targets, also covers addresses of ${others.join(", ")}: more than this router's own (GRE to them would be terminated here; lsprobe targets each link's interface address, over unnumbered links the TE router id or loopback)`);
  else if (job.targets.length > 1 && !job.ownAddresses.every((a) => job.targets.includes(a) || !inPrefix(a, p)))
    out.push(...c([`${prefix} also covers addresses of this router that no probe targets.`]));
  out.push(...c([`Targets: ${job.targets.join(", ")}; covering prefix ${prefix}.`, "GRE termination on the interface whose subnet is the covering prefix (MD-CLI; verify on your release):"]));
  out.push(`/configure router "Base" interface "<INTERFACE>" gre-termination`);
  out.push(...c(["Only the prober sources may tunnel to that subnet: a decapsulating subnet is an injection point."]));
  const f = `/configure filter ip-filter "${FILTER}"`;
  out.push(`${f} default-action accept`);
  let entry = 10;
  for (const s of job.sources) {
    out.push(`${f} entry ${entry} match protocol gre`);
    out.push(`${f} entry ${entry} match src-ip address ${s}/32`);
    out.push(`${f} entry ${entry} match dst-ip address ${prefix}`);
    out.push(`${f} entry ${entry} action accept`);
    entry += 10;
  }
  out.push(...c(["Then drop every other tunnel packet to it: GRE, and IP-in-IP (IP protocol 4)."]));
  for (const proto of ["gre", "4"]) {
    out.push(`${f} entry ${entry} match protocol ${proto}`);
    out.push(`${f} entry ${entry} match dst-ip address ${prefix}`);
    out.push(`${f} entry ${entry} action drop`);
    entry += 10;
  }
  const froms = [...new Set(job.ingress.map((i) => i.from))];
  if (froms.length > 0) out.push(...c([`Probes arrive on the links from: ${froms.join(", ")}.`]));
  out.push(`/configure router "Base" interface "<INTERFACE>" ingress filter ip "${FILTER}"`);
  return { text: out.join("\n") + "\n", warnings };
}

// SR-MPLS entry: SR OS terminates MPLS-over-UDP only to its system IP address, for BGP next hops
// resolved to UDP tunnels (Nokia, Layer 3 Services Guide, "Inter-AS VPRN Model B Using MPLS over
// UDP"), and GRE only as SDP tunnels carrying service labels ("GRE SDP termination on router
// interface IP address"); neither is documented to switch an Adj-SID arriving in it. Printed as
// a warning, not as guessed configuration.
function renderSrMpls(job: SrMplsJob): VendorOutput {
  const how =
    job.carrier === "udp"
      ? "SR OS terminates MPLS-over-UDP only to its system address, for service tunnels of BGP next hops"
      : "SR OS terminates GRE as SDP tunnels carrying service labels";
  const w = `${job.router}: ${how}, and documents no label switching of an Adj-SID arriving in it: nothing printed; probe paths starting at this router by SRv6 (prober.encap srv6 or auto) or by GRE (--encap gre)`;
  return { text: commented("#", [`WARNING: ${w}`]).join("\n") + "\n", warnings: [w] };
}

export const sros: Vendor = { name: "sros", title: "Nokia SR OS", comment: "#", render, renderSrMpls };
