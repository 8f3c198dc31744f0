// The shell of `lsprobe-plugin routers`: argv, the configuration, the LSDB snapshot, then the
// plugin's own topology and path code (the set it would publish), then plan.ts and a vendor
// module. Output on stdout; warnings on stderr too.
import { EncapChooser } from "../../prober/packet/encap.js";
import { canonicalIpv6, ConfigError, DEFAULT_CONFIG_PATH, loadConfig, tunnelEncapOf, type LsprobeConfig } from "../../shared/config.js";
import { parseCommandLine, usageError, type CliSpec, type CliStreams } from "../../shared/cli.js";
import { Lsdb, SNAPSHOT_PEER } from "../lsdb.js";
import { loadSnapshot } from "../snapshot.js";
import { isIpv4 } from "../topology.js";
import { buildPathSetSteps, directedPairs, topologySteps } from "../paths.js";
import { drain } from "../slice.js";
import { planDecap, renderPlan } from "./plan.js";
import { planSrMpls, renderSrMplsPlan } from "./sr-mpls.js";
import { ENCAPS, SR_CARRIERS, type Encap, type SrCarrier } from "./types.js";
import { VENDORS } from "./vendors.js";

const VENDOR_NAMES = [...VENDORS.keys()].join("|");

export const ROUTERS_CLI: CliSpec = {
  program: "lsprobe-plugin",
  synopsis: `routers --vendor ${VENDOR_NAMES} [--encap gre|ipip|sr-mpls] [--carrier udp|gre] [--state-file FILE] [--config FILE] [--router NAME] [--source ADDR ...]`,
  summary: `Print, for every router in the LSDB snapshot, the configuration that decapsulates lsprobe's
probes: exactly the addresses the probes target on it (the tunnel layers of the path set the
plugin would publish from that snapshot for the configured endpoints), accepted only from the
prober's source addresses, other tunnel traffic to them dropped. Platform limits exceeded are
warned about on stderr and as comments in the output. See docs/routers.md.`,
  options: {
    vendor: { type: "string", arg: "VENDOR", doc: `router platform: ${VENDOR_NAMES.split("|").join(", ")}` },
    "state-file": { type: "string", arg: "FILE", doc: "LSDB snapshot (default: the configuration's plugin.state-file)" },
    config: { type: "string", short: "c", arg: "FILE", default: DEFAULT_CONFIG_PATH, doc: "configuration file: endpoints, paths, prober.source/router/return" },
    router: { type: "string", arg: "NAME", doc: "only this router" },
    source: { type: "string", arg: "ADDR", multiple: true, doc: "prober source address, IPv4 or IPv6, repeatable (default: the configuration's prober.source)" },
    encap: { type: "string", arg: "ENCAP", doc: "gre or ipip: the tunnel layers' decapsulation in that encapsulation by default (encap-per-router still applies); sr-mpls: each path's first router's SR-MPLS entry instead (default: sr-mpls if the configuration's prober.encap is sr-mpls, else the tunnel as it says)" },
    carrier: { type: "string", arg: "CARRIER", doc: "with --encap sr-mpls: udp (MPLS-in-UDP, RFC 7510, port 6635) or gre (MPLS-in-GRE) (default: the configuration's prober.sr-mpls-carrier)" },
  },
  epilog: `The encapsulation is GRE unless --encap or the configuration's prober section sets encap
(gre|ipip) or encap-per-router (router name: gre|ipip). The addresses follow plugin.paths.target:
interface (default) gives each router its interface addresses on the probed links, router (or
target-per-router) its TE router id or loopback. IPv6 layers (GRE over IPv6, IPv6-in-IPv6) are
configured for Linux, from the IPv6 prober sources; the other vendors name them in a warning.
With --encap sr-mpls (prober.encap sr-mpls) no router decapsulates tunnel layers: each probed
path's first router terminates MPLS-in-UDP or MPLS-in-GRE sent to its entry address (its TE
router id or loopback) from the prober sources and switches the top label, its Adj-SID for the
first hop; paths that fall back to the tunnel are named. Exit status: 0 printed; 1 the
configuration or the snapshot cannot be read; 2 a bad argument.`,
};

/** prober.encap / prober.encap-per-router, decided as the prober decides them (one chooser; the SR encaps fall back to GRE); --encap gre|ipip replaces the default. */
function encapChooser(config: LsprobeConfig, given: Encap | undefined): (router: string) => Encap {
  const chooser = new EncapChooser(given ?? tunnelEncapOf(config.prober?.encap ?? "gre"), config.prober?.encapPerRouter ?? []);
  return (router) => chooser.for(router);
}

/** --source values by family (IPv6 in canonical form), or the usage error of the first bad one. */
function splitSources(given: readonly string[]): { v4: string[]; v6: string[] } | string {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const s of given) {
    const c = s.includes(":") ? canonicalIpv6(s) : undefined;
    if (c !== undefined) v6.push(c);
    else if (!s.includes(":") && isIpv4(s) && s.split(".").every((o) => Number(o) <= 255)) v4.push(s);
    else return `routers: --source ${JSON.stringify(s)}: expected an IPv4 or IPv6 address`;
  }
  return { v4, v6 };
}

/** Run the subcommand (argv after `routers`). Returns the exit status. */
export function runRouters(argv: readonly string[], io: CliStreams = process): number {
  const cli = parseCommandLine(ROUTERS_CLI, argv, io);
  if (cli.kind === "exit") return cli.code;
  const v = cli.values;
  const bad = (m: string): number => (usageError(ROUTERS_CLI, m, io) as { code: number }).code;
  const print = (r: { text: string; warnings: string[] }): number => {
    io.stdout.write(r.text);
    for (const w of r.warnings) io.stderr.write(`${ROUTERS_CLI.program}: warning: ${w}\n`);
    return 0;
  };
  const fail = (m: string): number => {
    io.stderr.write(`${ROUTERS_CLI.program}: ${m}\n`);
    return 1;
  };
  const vendorName = v.vendor as string | undefined;
  if (vendorName === undefined) return bad(`routers: --vendor is required (${VENDOR_NAMES})`);
  const vendor = VENDORS.get(vendorName);
  if (vendor === undefined) return bad(`routers: unknown vendor ${JSON.stringify(vendorName)}: expected one of ${VENDOR_NAMES}`);
  const given = (v.source as string[] | undefined) ?? [];
  const split = splitSources(given);
  if (typeof split === "string") return bad(split);
  const encapArg = v.encap as string | undefined;
  if (encapArg !== undefined && encapArg !== "sr-mpls" && !ENCAPS.includes(encapArg as Encap))
    return bad(`routers: --encap ${JSON.stringify(encapArg)}: expected gre, ipip or sr-mpls`);
  const carrierArg = v.carrier as string | undefined;
  if (carrierArg !== undefined && !SR_CARRIERS.includes(carrierArg as SrCarrier)) return bad(`routers: --carrier ${JSON.stringify(carrierArg)}: expected udp or gre`);

  const configFile = v.config as string;
  let config: LsprobeConfig;
  try {
    config = loadConfig(configFile, "plugin");
  } catch (e) {
    return fail(e instanceof ConfigError ? e.message : (e as Error).message);
  }
  const srMpls = encapArg === "sr-mpls" || (encapArg === undefined && config.prober?.encap === "sr-mpls");
  if (carrierArg !== undefined && !srMpls) return bad("routers: --carrier is for --encap sr-mpls (or prober.encap sr-mpls)");
  const configSource = config.prober?.sources.ipv4;
  const sources = given.length > 0 ? split.v4 : configSource ? [configSource] : [];
  const configSource6 = config.prober?.sources.ipv6;
  const sources6 = given.length > 0 ? split.v6 : configSource6 ? [configSource6] : [];
  if (sources.length === 0 && sources6.length === 0) return bad(`routers: no prober source: give --source ADDR, or set prober.source in ${configFile}`);
  if (srMpls && sources.length === 0) return bad(`routers: --encap sr-mpls covers IPv4 entries: give an IPv4 --source, or set one in prober.source in ${configFile}`);
  const stateFile = (v["state-file"] as string | undefined) ?? config.plugin.stateFile;
  if (stateFile === null || stateFile === "") return bad(`routers: no LSDB snapshot: plugin.state-file is disabled in ${configFile}; give --state-file FILE`);

  const db = new Lsdb();
  try {
    loadSnapshot(stateFile, db);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code ? err.message : `${err.message}${err instanceof SyntaxError ? " (not JSON)" : ""}`;
    return fail(`${stateFile}: cannot read the LSDB snapshot: ${why.startsWith(stateFile) ? why.slice(stateFile.length + 2) : why}`);
  }
  const pc = config.plugin;
  const families = pc.paths.families ? { families: pc.paths.families } : {};
  const topos = drain(topologySteps(() => db.entries.values(), families, pc.paths.metric));
  const topo = topos[0];
  const body = drain(
    buildPathSetSteps(
      topos,
      {
        pairs: directedPairs(pc.endpoints.pairs, pc.endpoints.groups),
        mode: pc.paths.mode,
        maxPerPair: pc.paths.maxPerPair,
        plan: pc.plan,
        // plugin.paths.target: with router targets the layers go to router ids or loopbacks,
        // so those (not every interface) are what each router decapsulates.
        target: pc.paths.target,
        targetPerRouter: pc.paths.targetPerRouter,
        ...families,
      },
      { peers: [], stale: db.countFor(SNAPSHOT_PEER) > 0, prefixes: db.counts().prefixes },
    ),
  );
  const only = v.router as string | undefined;
  if (only !== undefined && ![...topo.nodes.values()].some((n) => !n.pseudo && n.name === only))
    return bad(`routers: --router ${JSON.stringify(only)}: no such router in ${stateFile}`);
  if (srMpls) {
    const carrier = (carrierArg as SrCarrier | undefined) ?? config.prober?.srMplsCarrier ?? "udp";
    const sr = planSrMpls({ paths: body.paths, topology: topo, sources, carrier, router: config.prober?.router ?? null, ...(only !== undefined ? { only } : {}) });
    return print(renderSrMplsPlan(vendor, sr, carrier));
  }
  const plan = planDecap({
    paths: body.paths,
    pairs: body.pairs,
    topology: topo,
    sources,
    sources6,
    encapFor: encapChooser(config, encapArg as Encap | undefined),
    probe: { router: config.prober?.router ?? null, return: config.prober?.return ?? "reverse" },
    ...(only !== undefined ? { only } : {}),
  });
  return print(renderPlan(vendor, plan));
}
