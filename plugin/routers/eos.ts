// Arista EOS: a decap group terminates tunnels to its decap IPs (EOS manual, "Decap Groups").
// A decap group ignores the outer source, and ingress ACLs match the inner header of what it
// decapsulates: the source restriction is an ACL that must see the outer header, before decap.
// CVE-2026-7473 (exploited in the wild): a decap IP also accepts other tunnel types.
import { commented, MPLS_UDP_PORT, type RouterJob, type SrMplsJob, type Vendor, type VendorOutput } from "./types.js";

const GROUP = "lsprobe";
const ACL = "lsprobe-decap";

function render(job: RouterJob): VendorOutput {
  const c = (lines: string[]): string[] => commented("!", lines);
  const warnings: string[] = [];
  const out: string[] = [];
  const cve = `${job.router}: CVE-2026-7473 (exploited): an EOS decap IP also accepts tunnel types other than the group's; apply the ACL below and run an EOS release with the fix`;
  warnings.push(cve);
  out.push(...c([`WARNING: ${cve}`]));
  out.push(`ip decap-group ${GROUP}`);
  out.push(`   tunnel type ${job.encap}`);
  for (const t of job.targets) out.push(`   tunnel decap-ip ${t}`);
  out.push("!");
  out.push(
    ...c([
      "The decap group ignores the outer source, and ingress ACLs see the inner header of what it decapsulates:",
      "the source restriction below must match the outer header, on the ingress interfaces, before decap.",
      "Check on your platform and release that it does; where it does not, apply it on the neighbors' egress",
      "interfaces toward this router instead.",
    ]),
  );
  const proto = job.encap === "gre" ? "gre" : "4";
  out.push(`ip access-list ${ACL}`);
  let seq = 10;
  for (const s of job.sources) for (const t of job.targets) {
    out.push(`   ${seq} permit ${proto} host ${s} host ${t}`);
    seq += 10;
  }
  for (const t of job.targets) {
    out.push(`   ${seq} deny gre any host ${t}`);
    out.push(`   ${seq + 1} deny 4 any host ${t}`);
    seq += 10;
  }
  out.push(`   ${seq} permit ip any any`);
  out.push("!");
  const froms = [...new Set(job.ingress.map((i) => i.from))];
  if (froms.length > 0) out.push(...c([`Probes arrive on the links from: ${froms.join(", ")}.`]));
  out.push("interface <INTERFACE>");
  out.push(`   ip access-group ${ACL} in`);
  out.push("!");
  return { text: out.join("\n") + "\n", warnings };
}

// SR-MPLS entry: a decap group of tunnel type udp (with the global `ip decap-group type udp
// destination port 6635 payload mpls`) or gre, MPLS forwarding on (`mpls ip`), so the label
// under the decapsulated header is switched. The statements are those of OpenConfig
// featureprofiles' Arista configuration for MPLS-in-GRE / MPLS-in-UDP decapsulation
// (feature/gribi/otg_tests/mpls_decap; the MPLSoGRE/MPLSoGUE QoS tests); the source
// restriction is the ACL as for the tunnel layers above.
const SR_GROUP = "lsprobe-sr-mpls";
const SR_ACL = "lsprobe-sr-mpls";

function renderSrMpls(job: SrMplsJob): VendorOutput {
  const c = (lines: string[]): string[] => commented("!", lines);
  const udp = job.carrier === "udp";
  const cve = `${job.router}: CVE-2026-7473 (exploited): an EOS decap IP also accepts tunnel types other than the group's; apply the ACL below and run an EOS release with the fix`;
  const out: string[] = [...c([`WARNING: ${cve}`])];
  out.push("mpls ip");
  if (udp) out.push(`ip decap-group type udp destination port ${MPLS_UDP_PORT} payload mpls`);
  out.push(`ip decap-group ${SR_GROUP}`);
  out.push(`   tunnel type ${job.carrier}`);
  for (const e of job.entries) out.push(`   tunnel decap-ip ${e}`);
  out.push("!");
  out.push(...c(["The decap group ignores the outer source: only the prober sources may reach it (outer header, ingress, before decap)."]));
  out.push(`ip access-list ${SR_ACL}`);
  const match = (src: string, e: string): string => (udp ? `udp ${src} host ${e} eq ${MPLS_UDP_PORT}` : `gre ${src} host ${e}`);
  let seq = 10;
  for (const s of job.sources) for (const e of job.entries) {
    out.push(`   ${seq} permit ${match(`host ${s}`, e)}`);
    seq += 10;
  }
  for (const e of job.entries) {
    out.push(`   ${seq} deny ${match("any", e)}`);
    seq += 10;
  }
  out.push(`   ${seq} permit ip any any`);
  out.push("!");
  out.push("interface <INTERFACE>");
  out.push(`   ip access-group ${SR_ACL} in`);
  out.push("!");
  return { text: out.join("\n") + "\n", warnings: [cve] };
}

export const eos: Vendor = { name: "eos", title: "Arista EOS", comment: "!", render, renderSrMpls };
