// Linux: the ip_gre module's fallback device gre0 decapsulates GRE to any local address that
// no configured tunnel claims (ipip's tunl0 the same for IP-in-IP). Up, it takes tunnels from
// anyone: nftables accepts them to the targets only from the prober sources. The decapsulated
// packet enters on gre0 with a source no route points back through, so strict reverse-path
// filtering drops it: rp_filter loose (2; the kernel uses the larger of `all` and the device's).
import { commented, IP_PROTOCOL, MPLS_UDP_PORT, type RouterJob, type SrMplsJob, type Vendor, type VendorOutput } from "./types.js";

function render(job: RouterJob): VendorOutput {
  const v4 = job.targets.length > 0 ? render4(job) : { text: "", warnings: [] };
  if ((job.targets6?.length ?? 0) === 0) return v4;
  const v6 = render6(job);
  return { text: v4.text + v6.text, warnings: [...v4.warnings, ...v6.warnings] };
}

function render4(job: RouterJob): VendorOutput {
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
  out.push(...nftTable("ip", "lsprobe_decap", job.sources, "targets", job.targets, `ip protocol ${IP_PROTOCOL[job.encap]}`, "ip protocol { 4, 47 }"));
  return { text: out.join("\n") + "\n", warnings: [] };
}

// SR-MPLS entry, as Alan Maguire's MPLS-over-UDP / MPLS-over-GRE test script sets it up (netdev,
// "MPLS encapsulation and arp table overflow", 1 May 2019: `modprobe fou`, `ip fou add port 6635
// ipproto 137`, an ipip tunnel taking MPLS-in-IP or a gre tunnel, `net.mpls.conf.<tunnel>.input=1`,
// net.mpls.platform_labels); `mode mplsip` is iproute2's (`ip link help ipip`).
// fou hands UDP port 6635 to IP protocol 137 (MPLS-in-IP, RFC 4023), which only an ipip tunnel
// of mode mplsip (or any) takes; tunl0, the fallback, is ipip-only. One tunnel per prober source
// and entry address, so the kernel itself takes MPLS from the sources only; nftables drops the
// rest before it reaches the fou socket. The label under it is then switched by the kernel's
// MPLS table, where the routing daemon's segment routing (e.g. FRR) installs the Adj-SIDs.
const SR_PREFIX = "lspmpls";

function renderSrMpls(job: SrMplsJob): VendorOutput {
  const c = (lines: string[]): string[] => commented("#", lines);
  const udp = job.carrier === "udp";
  const out: string[] = [...c(["Run as root (a shell script; persist with /etc/modules-load.d, /etc/sysctl.d, systemd-networkd and /etc/nftables.conf)."])];
  out.push("modprobe mpls_router");
  out.push(udp ? "modprobe fou" : "modprobe ip_gre");
  if (udp) out.push("modprobe ipip", `ip fou add port ${MPLS_UDP_PORT} ipproto 137`);
  out.push(...c(["Labels up to the largest (20 bits): the Adj-SIDs must fit."]));
  out.push("sysctl -w net.mpls.platform_labels=1048575");
  let n = 0;
  for (const e of job.entries)
    for (const s of job.sources) {
      const dev = `${SR_PREFIX}${n++}`;
      out.push(`ip link add ${dev} type ${udp ? "ipip mode mplsip" : "gre"} remote ${s} local ${e}`);
      out.push(`ip link set ${dev} up`);
      out.push(`sysctl -w net.mpls.conf.${dev}.input=1`);
    }
  out.push(...c([`Check that the top labels are in the kernel's MPLS table (installed by the IGP's segment routing): ${job.labels.map((l) => l.label).join(", ")}.`]));
  out.push("ip -f mpls route show");
  out.push(...c(["Re-running replaces the table (created, flushed, defined)."]));
  const what = udp ? `udp dport ${MPLS_UDP_PORT}` : `ip protocol ${IP_PROTOCOL.gre}`;
  out.push(...c([`${udp ? `MPLS-in-UDP (UDP port ${MPLS_UDP_PORT})` : "GRE (47)"} to the entry addresses from the prober sources only.`]));
  out.push(...nftTable("ip", "lsprobe_sr_mpls", job.sources, "entries", job.entries, what, what));
  return { text: out.join("\n") + "\n", warnings: [] };
}

// IPv6 layers: ip6_gre's fallback device ip6gre0 decapsulates GRE over IPv6 (RFC 7676), ip6_tunnel's
// ip6tnl0 IPv6-in-IPv6 (RFC 2473, next header 41), to any local address no configured tunnel
// claims, as gre0 and tunl0 do for IPv4 (ip-link(8): ip6gre, ip6tnl; test/lab/kernel-decap.ts
// brings the same two devices up). nftables (table ip6) keeps them to the prober's IPv6 sources.
// IPv6 has no rp_filter; forwarding must be on.
const PROTO6 = { gre: 47, ipip: 41 } as const;

function render6(job: RouterJob): VendorOutput {
  const c = (lines: string[]): string[] => commented("#", lines);
  const targets = job.targets6 ?? [];
  const sources = job.sources6 ?? [];
  const out: string[] = [...c([`IPv6: ${targets.length} target(s), ${job.encap === "gre" ? "GRE over IPv6" : "IPv6-in-IPv6"}.`])];
  if (sources.length === 0) {
    const w = `${job.router}: ${targets.length} IPv6 target(s) but no IPv6 prober source (prober.source lists none): IPv6 decapsulation not printed`;
    out.push(...c([`WARNING: ${w}`]));
    return { text: out.join("\n") + "\n", warnings: [w] };
  }
  const dev = job.encap === "gre" ? "ip6gre0" : "ip6tnl0";
  out.push(`modprobe ${job.encap === "gre" ? "ip6_gre" : "ip6_tunnel"}`);
  out.push(`ip link set ${dev} up`);
  out.push("sysctl -w net.ipv6.conf.all.forwarding=1");
  out.push(...c([`Next header ${PROTO6[job.encap]} to the IPv6 targets from the prober's IPv6 sources only; other GRE (47), IPv4-in-IPv6 (4) and IPv6-in-IPv6 (41) to them dropped.`]));
  out.push(...nftTable("ip6", "lsprobe_decap6", sources, "targets", targets, `meta l4proto ${PROTO6[job.encap]}`, "meta l4proto { 4, 41, 47 }"));
  return { text: out.join("\n") + "\n", warnings: [] };
}

/**
 * The nftables script every Linux output ends with: a table `name` of `family` (re-running
 * replaces it: created, flushed, defined) whose input chain accepts `accept` from the prober
 * sources to the addresses of set `set`, and drops `drop` to them from anyone else.
 */
function nftTable(family: "ip" | "ip6", name: string, sources: readonly string[], set: string, addresses: readonly string[], accept: string, drop: string): string[] {
  const type = family === "ip" ? "ipv4_addr" : "ipv6_addr";
  return [
    "nft -f - <<'EOF'",
    `table ${family} ${name}`,
    `flush table ${family} ${name}`,
    `table ${family} ${name} {`,
    `  set sources { type ${type}; elements = { ${sources.join(", ")} } }`,
    `  set ${set} { type ${type}; elements = { ${addresses.join(", ")} } }`,
    "  chain input {",
    "    type filter hook input priority filter - 10; policy accept;",
    `    ${accept} ${family} saddr @sources ${family} daddr @${set} accept`,
    `    ${drop} ${family} daddr @${set} drop`,
    "  }",
    "}",
    "EOF",
  ];
}

export const linux: Vendor = { name: "linux", title: "Linux", comment: "#", render, renderSrMpls, ipv6: true };
