// Linux: the ip_gre module's fallback device gre0 decapsulates GRE to any local address that
// no configured tunnel claims (ipip's tunl0 the same for IP-in-IP). Up, it takes tunnels from
// anyone: nftables accepts them to the targets only from the prober sources. The decapsulated
// packet enters on gre0 with a source no route points back through, so strict reverse-path
// filtering drops it: rp_filter loose (2; the kernel uses the larger of `all` and the device's).
import { commented, IP_PROTOCOL, type RouterJob, type Vendor, type VendorOutput } from "./types.js";

function render(job: RouterJob): VendorOutput {
  const c = (lines: string[]): string[] => commented("#", lines);
  const dev = job.encap === "gre" ? "gre0" : "tunl0";
  const mod = job.encap === "gre" ? "ip_gre" : "ipip";
  const out: string[] = [];
  out.push(...c([`Run as root (a shell script; persist with /etc/modules-load.d, /etc/sysctl.d and /etc/nftables.conf).`]));
  out.push(`modprobe ${mod}`);
  out.push(`ip link set ${dev} up`);
  out.push("sysctl -w net.ipv4.ip_forward=1");
  out.push("sysctl -w net.ipv4.conf.all.rp_filter=2");
  out.push(...c(["Re-running replaces the table (created, flushed, defined)."]));
  out.push(...c([`IP protocol ${IP_PROTOCOL[job.encap]} (${job.encap === "gre" ? "GRE" : "IP-in-IP"}) to the targets from the prober sources only; other GRE (47) and IP-in-IP (4) to them dropped.`]));
  out.push("nft -f - <<'EOF'");
  out.push("table ip lsprobe_decap", "flush table ip lsprobe_decap", "table ip lsprobe_decap {");
  out.push(`  set sources { type ipv4_addr; elements = { ${job.sources.join(", ")} } }`);
  out.push(`  set targets { type ipv4_addr; elements = { ${job.targets.join(", ")} } }`);
  out.push("  chain input {");
  out.push("    type filter hook input priority filter - 10; policy accept;");
  out.push(`    ip protocol ${IP_PROTOCOL[job.encap]} ip saddr @sources ip daddr @targets accept`);
  out.push("    ip protocol { 4, 47 } ip daddr @targets drop");
  out.push("  }");
  out.push("}");
  out.push("EOF");
  return { text: out.join("\n") + "\n", warnings: [] };
}

export const linux: Vendor = { name: "linux", title: "Linux", comment: "#", render };
