// Arista EOS: a decap group terminates tunnels to its decap IPs (EOS manual, "Decap Groups").
// A decap group ignores the outer source, and ingress ACLs match the inner header of what it
// decapsulates: the source restriction is an ACL that must see the outer header, before decap.
// CVE-2026-7473 (exploited in the wild): a decap IP also accepts other tunnel types.
import { commented, type RouterJob, type Vendor, type VendorOutput } from "./types.js";

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

export const eos: Vendor = { name: "eos", title: "Arista EOS", comment: "!", render };
