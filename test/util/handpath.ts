// Paths made by hand for table tests of the plugin's pure parts (assign, oneway, the one view):
// a path over router names, each link "a>b" with mirrored addresses (a link and its reverse swap
// local and remote, as BGP-LS gives them), metric 10.
import type { Family, FamilyTargets, Path } from "../../shared/pathset.js";

export interface HandPathOptions {
  /** The address of `from`'s end of the link from -> to (default "from:to"). */
  address?: (from: string, to: string) => string;
  /** Give it IPv4 targets (GRE layers to the far ends, no way back, no SIDs), and IPv6 ones too with `v6`. */
  targets?: boolean;
  v6?: boolean;
}

export function handPath(hops: string[], o: HandPathOptions = {}): Path {
  const address = o.address ?? ((from: string, to: string) => `${from}:${to}`);
  const links = hops.slice(1).map((to, i) => {
    const from = hops[i];
    return { id: `${from}>${to}`, from, to, localAddress: address(from, to), remoteAddress: address(to, from), metric: 10 };
  });
  const gre = o.targets ? links.map((l) => ({ address: l.remoteAddress, source: "interface" as const, node: l.to, target: "interface" as const })) : [];
  const noSr = { segments: [], probeable: false, unprobeableReason: "no SIDs" };
  const v4: FamilyTargets = { gre, greReverse: [], probeable: true, srMpls: noSr };
  const families: Family[] = o.v6 ? ["ipv4", "ipv6"] : ["ipv4"];
  return {
    id: hops.join(">"),
    src: hops[0],
    dst: hops.at(-1)!,
    cost: 10 * links.length,
    hops: hops.map((h) => ({ node: h, name: h, routerId: h, addresses: [] })),
    links,
    ...(o.targets ? { families, targets: o.v6 ? { ipv4: v4, ipv6: { ...v4, srv6: noSr, gre: gre.map((g) => ({ ...g, address: `2001:2::${g.node.slice(1)}` })) } } : { ipv4: v4 } } : {}),
    gre,
    greReverse: [],
    probeable: true,
  };
}
