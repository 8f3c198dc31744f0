// The lsprobe config file: one YAML document with a section per program (`plugin`, `prober`)
// and a shared `log` section. The plugin requires its section; `prober` may be absent on a
// host that only runs the plugin (it is then null), but the prober refuses to start without it.
//
// Each key is declared once, below, as a field spec (type, default, doc, parser). The same specs
// drive parsing and describeConfig(), so the README table and --help cannot drift from the code.
// Order: unknown keys are rejected, missing keys take their default, present keys are parsed and
// checked, then each section's cross-field check runs. Every problem is collected, with the
// file:line:col of the YAML node, and thrown as one ConfigError.

import { readFileSync } from "node:fs";
import { isIPv4, isIPv6 } from "node:net";
import { isAlias, isCollection, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Pair } from "yaml";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.js";
import type { Family, PathMode, PathTarget } from "./pathset.js";

export const DEFAULT_CONFIG_PATH = "/etc/lsprobe/lsprobe.yaml";

// ---- the config as the program sees it (camelCase; the YAML keys are the kebab-case forms) ----

/** A node name, IGP router id, TE router id, or an IP prefix such as 198.18.0.6/32. */
export type Endpoint = string;
export type EndpointPair = readonly [Endpoint, Endpoint];
export type PathMetric = "igp" | "te";

export interface EndpointsConfig {
  /** Paths are computed both ways, a -> b and b -> a. */
  readonly pairs: readonly EndpointPair[];
  /** Every ordered pair among the members of each group. */
  readonly groups: readonly (readonly Endpoint[])[];
}

export interface PathsConfig {
  readonly mode: PathMode;
  readonly maxPerPair: number;
  readonly metric: PathMetric;
  /** Where each probe layer is addressed, for routers no `targetPerRouter` rule names. */
  readonly target: PathTarget;
  /** Per-router target: exact names first, then the first matching pattern in file order. */
  readonly targetPerRouter: readonly TargetRule[];
  /** Address families to compute paths for; null: the families the topology has. */
  readonly families: readonly Family[] | null;
  /** The algorithm of the SRv6 End.X SIDs probes pinned by SRv6 use (0: SPF). */
  readonly srAlgorithm: number;
}

/** One entry of `plugin.paths.target-per-router`, in file order: a router name, or a pattern with `*`. */
export interface TargetRule {
  readonly router: string;
  readonly target: PathTarget;
}

/** Mode `plan`: the probe budget and what the plan must achieve. */
export interface PlanConfig {
  readonly budgetPps: number;
  readonly alpha: number;
  readonly beta: number;
  readonly minLinkPps: number;
}

export interface OutputConfig {
  readonly file: string;
  /** null: no socket. */
  readonly socket: string | null;
  readonly socketMode: number;
}

export interface PluginConfig {
  readonly endpoints: EndpointsConfig;
  readonly paths: PathsConfig;
  readonly plan: PlanConfig;
  readonly output: OutputConfig;
  /** null: no LSDB snapshot. */
  readonly stateFile: string | null;
  /** Milliseconds. */
  readonly debounce: number;
  /** Milliseconds. */
  readonly staleTimeout: number;
  readonly routeRefresh: boolean;
  /** host:port of the plugin's HTTP server (/metrics, /healthz); null: none. */
  readonly listen: string | null;
  /** Path sets over the network (plugin/publish/http.ts). */
  readonly serve: ServeConfig;
  readonly view: ViewConfig;
}

/** How `plugin.serve` authenticates a fetch: a bearer token, a client certificate, or nobody (loopback only). */
export type ServeAuth = "token" | "client-cert" | "none";

/** plugin.serve: GET /v1/paths over HTTP or HTTPS. */
export interface ServeConfig {
  /** host:port; null: not served. */
  readonly listen: string | null;
  readonly auth: ServeAuth;
  /** Accepted bearer tokens, one a line (auth: token). */
  readonly tokenFile: string | null;
  /** TLS certificate chain and key (PEM); both null: plain HTTP. */
  readonly certFile: string | null;
  readonly keyFile: string | null;
  /** CA whose client certificates are accepted (auth: client-cert). */
  readonly clientCaFile: string | null;
  readonly maxConnections: number;
  /** Long-polls held at once; past it a poll is answered at once. */
  readonly maxWaiting: number;
  /** Longest long-poll, ms (a longer `wait` is cut to it). */
  readonly maxWait: number;
  /** Shared coverage: a registered prober is live this long (ms) after its last request, or while it holds a long-poll. */
  readonly proberTimeout: number;
  /** Registered probers kept at most (the one seen longest ago is forgotten). */
  readonly maxProbers: number;
  /** Distinct probers each link should be probed by, where the probers allow. */
  readonly probersPerLink: number;
  /** Issue 14 Must 4: give registered probers one-way paths to the probers at their paths' far ends. */
  readonly oneWay: boolean;
}

/** plugin.view: the one view of the links (plugin/view/), from every registered prober's counts. */
export interface ViewConfig {
  /** ms between pulls of each prober's /v1/counts; 0: no one view. */
  readonly interval: number;
  /** ms of counts each round's inference covers. */
  readonly window: number;
  /** ms a pull may take. */
  readonly timeout: number;
  readonly lossyAbove: number;
}

export interface LogConfig {
  readonly level: LogLevel;
  readonly format: LogFormat;
}

export type ReturnMode = "reverse" | "routed";

/** The tunnel header of one probe layer: GRE (RFC 2784) or IP-in-IP (IP protocol 4, RFC 2003). */
export type Encap = "gre" | "ipip";

/**
 * `prober.encap`: a tunnel encapsulation for every layer, or a probe pinned by segment routing
 * (srv6: the End.X SIDs; sr-mpls: the Adj-SID label stack), or auto (SRv6, then SR-MPLS, then
 * the tunnel, per path, from the SIDs its hops advertise). A path that cannot take the SR one
 * falls back to the tunnel encapsulation (GRE, or encap-per-router's).
 */
export type ProbeEncap = Encap | "srv6" | "sr-mpls" | "auto";

/** How an SR-MPLS probe reaches its first router: MPLS-in-UDP (RFC 7510) or MPLS-in-GRE (RFC 4023). */
export type SrMplsCarrier = "udp" | "gre";

/** The tunnel encapsulation of `prober.encap` (the fallback of the SR ones: GRE). */
export const tunnelEncapOf = (e: ProbeEncap): Encap => (e === "ipip" ? "ipip" : "gre");

/** One entry of `prober.encap-per-router`, in file order: a router name, or a pattern with `*`. */
export interface EncapRule {
  readonly router: string;
  readonly encap: Encap;
}

export interface ProbeClass {
  readonly name: string;
  readonly dscp: number;
}

export interface ProberPathsConfig {
  /** null: do not subscribe. */
  readonly socket: string | null;
  /** null: no file fallback. */
  readonly file: string | null;
  /** The plugin's path-set service (http:// or https://...), e.g. https://collector:9471/v1/paths; null: not used. */
  readonly url: string | null;
  /** Bearer token for `url` (the file's first line). */
  readonly tokenFile: string | null;
  /** CA to check the plugin's certificate with; null: the system's. */
  readonly caFile: string | null;
  /** Client certificate and key (PEM) for `url`. */
  readonly certFile: string | null;
  readonly keyFile: string | null;
  /** Long-poll length asked of the plugin, ms. */
  readonly wait: number;
}

/** The prober's address per family (prober.source): null where it has none. */
export interface ProberSources {
  readonly ipv4: string | null;
  /** Canonical form (lower case, zeros compressed: what os.networkInterfaces() shows). */
  readonly ipv6: string | null;
}

export interface ProberConfig {
  /**
   * The first address of prober.source as written (the only one in a single-family config):
   * for messages. The probes of each family use `sources`.
   */
  readonly source: string;
  /** The source of each family's probes (every layer's source, the innermost one's destination). */
  readonly sources: ProberSources;
  /** Name of the router the prober hangs off: only paths starting there are probed; null: all. */
  readonly router: string | null;
  readonly port: number;
  readonly paths: ProberPathsConfig;
  readonly return: ReturnMode;
  /** gre/ipip: the encapsulation of the layers whose router no `encapPerRouter` rule names;
   *  srv6, sr-mpls, auto: segment routing per path, falling back to the tunnel (tunnelEncapOf). */
  readonly encap: ProbeEncap;
  /** The carrier of SR-MPLS probes to the first router. */
  readonly srMplsCarrier: SrMplsCarrier;
  /** Per-router encapsulation: exact names first, then the first matching pattern in file order. */
  readonly encapPerRouter: readonly EncapRule[];
  /** Probes per second per path and class. */
  readonly rate: number;
  readonly maxPps: number;
  /** Milliseconds. */
  readonly timeout: number;
  readonly ttl: number;
  /** Hop limit of every IPv6 layer. */
  readonly hopLimit: number;
  /** IPv6 flow labels rotate over srcPort .. srcPort + flowLabelRange - 1; null: srcPortRange. */
  readonly flowLabelRange: number | null;
  /** Outermost packet size in bytes; 0: the smallest the stack allows. */
  readonly size: number;
  readonly mtu: number;
  readonly srcPort: number;
  readonly srcPortRange: number;
  readonly classes: readonly ProbeClass[];
  readonly hmacKeyFile: string | null;
  readonly downAfter: number;
  readonly upAfter: number;
  /** Milliseconds. */
  readonly lossWindow: number;
  /** Loss ratio a link must significantly exceed to be a suspect. */
  readonly lossyAbove: number;
  /** lsprobe_probe_rtt_seconds: one histogram per probed path, per (src, dst, class, af) pair, or none. */
  readonly rttHistogram: RttHistogramMode;
  /** Most (path, class, family) entries probed; past it the rest are left out (lsprobe_paths_capped). */
  readonly maxPaths: number;
  /** host:port of the HTTP server (/metrics, /healthz, /paths). */
  readonly listen: string;
  /** User to switch to once the sockets are open; null: stay. */
  readonly user: string | null;
  /** The id this prober fetches its path sets under (plugin.serve); null: the host name. */
  readonly id: string | null;
  /** The site it reports to plugin.serve (?site=: the plugin's per-site prober metrics); null: none. */
  readonly site: string | null;
  /** The probers' clocks are synchronized (NTP, PTP): one-way delay is measured (lsprobe_oneway_delay_seconds). */
  readonly clockSynced: boolean;
}

export interface LsprobeConfig {
  readonly plugin: PluginConfig;
  /** null when the file has no prober section. */
  readonly prober: ProberConfig | null;
  readonly log: LogConfig;
}

// ---- errors ----

export interface ConfigIssue {
  /** Key path such as "plugin.endpoints.pairs[1]"; "" for YAML syntax and file errors. */
  path: string;
  /** 1-based; 0 when there is no position (the file could not be read). */
  line: number;
  col: number;
  /** "expected ..., got ..." or "unknown key ...". */
  message: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly file: string,
    readonly errors: readonly ConfigIssue[],
  ) {
    super(errors.map((e) => formatIssue(file, e)).join("\n"));
  }
}

function formatIssue(file: string, e: ConfigIssue): string {
  const where = e.line > 0 ? `${file}:${e.line}:${e.col}` : file;
  return `${where}: ${e.path === "" ? "" : `${e.path}: `}${e.message}`;
}

// ---- durations ----

const UNIT_MS: readonly (readonly [string, number])[] = [
  ["y", 365 * 86_400_000],
  ["w", 7 * 86_400_000],
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
  ["ms", 1],
];
/** Prometheus' syntax: units from largest to smallest, each at most once, integers only. */
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * "200ms", "1s", "1m30s", "2h", "0" (Prometheus style), or a number of seconds (0.5), to
 * milliseconds, rounded to a whole millisecond. Throws a RangeError for anything else.
 */
export function parseDuration(s: string | number): number {
  if (typeof s === "number") {
    if (!Number.isFinite(s) || s < 0) throw new RangeError(`invalid duration ${s}: expected a number of seconds >= 0`);
    return Math.round(s * 1000);
  }
  if (s === "0") return 0;
  const m = DURATION.exec(s);
  if (s === "" || m === null) throw new RangeError(`invalid duration ${JSON.stringify(s)}`);
  return UNIT_MS.reduce((ms, [, size], i) => ms + Number(m[i + 1] ?? 0) * size, 0);
}

/** Milliseconds to the shortest Prometheus-style string: 90000 -> "1m30s", 0 -> "0s". */
export function formatDuration(ms: number): string {
  if (ms < 0) return `-${formatDuration(-ms)}`;
  let rest = Math.round(ms);
  let out = "";
  for (const [unit, size] of UNIT_MS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out === "" ? "0s" : out;
}

// ---- field specs ----

/** Where a problem lies inside the value being checked: list indexes and YAML keys. */
type SubPath = readonly (string | number)[];
/** Records a problem; `message` reads "expected ..., got ...". */
type Report = (message: string, at?: SubPath) => void;

/**
 * Which program reads the file. One file serves both: the plugin does not need `prober.source`,
 * and a prober-only host need not list endpoints. Undefined: everything is required (tests).
 */
export type ConfigProgram = "plugin" | "prober";

interface Leaf<T> {
  kind: "leaf";
  /** No default: the key must be given (by `requiredFor` alone, when set). */
  required?: boolean;
  requiredFor?: ConfigProgram;
  /** For describeConfig, e.g. "integer 1..100000". */
  type: string;
  default: T;
  /** The default as one would write it in the YAML file. */
  shownDefault: string;
  doc: string;
  /** Checks a plain JS value (from the YAML) and converts it. The result is unused once it reports. */
  parse(value: unknown, report: Report): T;
}

interface Section<T> {
  kind: "section";
  /** An absent optional section is null in the config. */
  optional?: boolean;
  fields: { readonly [K in keyof T]-?: Spec<NonNullable<T[K]>> | Spec<T[K]> | Derived };
  /** Cross-field rules; runs only when every field of the section parsed cleanly. */
  check?(value: T, report: Report): void;
  /** The check applies only to this program's reading. */
  checkFor?: ConfigProgram;
  /** Computes the `derived` fields from the others once they parsed. */
  derive?(value: T): void;
}

/** A field computed from others (Section.derive), not a key of the file. */
interface Derived {
  kind: "derived";
}
const derived = (): Derived => ({ kind: "derived" });

type Spec<T> = Leaf<T> | Section<T>;
type AnySection = Section<Record<string, unknown>>;
type AnySpec = Leaf<unknown> | AnySection | Derived;

const section = <T>(fields: Section<T>["fields"], check?: Section<T>["check"], checkFor?: ConfigProgram): Section<T> => ({
  kind: "section",
  fields,
  check,
  checkFor,
});

function integer(min: number, max: number, def: number, doc: string): Leaf<number> {
  return {
    kind: "leaf",
    type: `integer ${min}..${max}`,
    default: def,
    shownDefault: String(def),
    doc,
    parse(v, report) {
      if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
        report(`expected an integer from ${min} to ${max}, got ${show(v)}`);
      }
      return v as number;
    },
  };
}

export const RTT_HISTOGRAM_MODES = ["per-path", "per-pair", "off"] as const;
export type RttHistogramMode = (typeof RTT_HISTOGRAM_MODES)[number];

function oneOf<T extends string>(values: readonly T[], def: T, doc: string): Leaf<T> {
  const quoted = values.map((x) => JSON.stringify(x));
  const expected = `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
  return {
    kind: "leaf",
    type: values.join(" | "),
    default: def,
    shownDefault: def,
    doc,
    parse(v, report) {
      if (!values.includes(v as T)) report(`expected ${expected}, got ${show(v)}`);
      return v as T;
    },
  };
}

function boolean(def: boolean, doc: string): Leaf<boolean> {
  return {
    kind: "leaf",
    type: "boolean",
    default: def,
    shownDefault: String(def),
    doc,
    parse(v, report) {
      if (typeof v !== "boolean") report(`expected true or false, got ${show(v)}`);
      return v as boolean;
    },
  };
}

/** Returned in milliseconds. `min` and `max` are milliseconds too. */
function duration(min: number, max: number, def: string, doc: string): Leaf<number> {
  const range = `from ${formatDuration(min)} to ${formatDuration(max)}`;
  return {
    kind: "leaf",
    type: `duration, ${range}`,
    default: parseDuration(def),
    shownDefault: def,
    doc,
    parse(v, report) {
      let ms = NaN;
      if (typeof v === "string" || typeof v === "number") {
        try {
          ms = parseDuration(v);
        } catch {
          // reported below
        }
      }
      if (Number.isNaN(ms)) {
        report(`expected a duration such as "200ms" or "1m30s", or a number of seconds, got ${show(v)}`);
      } else if (ms < min || ms > max) {
        report(`expected a duration ${range}, got ${show(v)}`);
      }
      return ms;
    },
  };
}

/** Longest Unix socket path: sun_path is 108 bytes on Linux, including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

function checkPath(v: unknown, report: Report, socket: boolean): void {
  if (typeof v !== "string" || !v.startsWith("/")) {
    report(`expected an absolute path, got ${show(v)}`);
  } else if (socket && Buffer.byteLength(v) > MAX_SOCKET_PATH_BYTES) {
    report(
      `expected a path of at most ${MAX_SOCKET_PATH_BYTES} bytes (the sun_path limit of a Unix socket), got ${Buffer.byteLength(v)} bytes`,
    );
  }
}

function path(def: string, doc: string): Leaf<string> {
  return {
    kind: "leaf",
    type: "absolute path",
    default: def,
    shownDefault: def,
    doc,
    parse(v, report) {
      checkPath(v, report, false);
      return v as string;
    },
  };
}

/** "" or null turn the feature off (null in the config). */
function optionalPath(def: string, doc: string, socket = false): Leaf<string | null> {
  return {
    kind: "leaf",
    type: `absolute path${socket ? ` (at most ${MAX_SOCKET_PATH_BYTES} bytes)` : ""}, "" or null`,
    default: def,
    shownDefault: def,
    doc,
    parse(v, report) {
      if (v === null || v === "") return null;
      checkPath(v, report, socket);
      return v as string;
    },
  };
}

/** Octal digits in a string: "0660" or "660". A bare 0660 is the YAML integer 660, so it is refused. */
function fileMode(def: string, doc: string): Leaf<number> {
  return {
    kind: "leaf",
    type: "octal string",
    default: parseInt(def, 8),
    shownDefault: JSON.stringify(def),
    doc,
    parse(v, report) {
      if (typeof v !== "string" || !/^[0-7]{3,4}$/.test(v)) {
        report(`expected a quoted string of octal digits such as "0660", got ${show(v)}`);
        return NaN;
      }
      return parseInt(v, 8);
    },
  };
}

/** Reports each member that is not a non-empty string, and the first repeated one. */
function checkMembers(list: readonly unknown[], report: Report, at: SubPath, repeated: string): boolean {
  let ok = true;
  list.forEach((m, j) => {
    if (typeof m !== "string" || m.trim() === "") {
      report(`expected an endpoint (a non-empty string), got ${show(m)}`, [...at, j]);
      ok = false;
    }
  });
  const dup = list.find((m, j) => list.indexOf(m) !== j);
  if (ok && dup !== undefined) {
    report(`expected ${repeated}, got ${show(dup)} twice`, at);
    ok = false;
  }
  return ok;
}

const members = (n: number): string => `${n} member${n === 1 ? "" : "s"}`;

function endpointPairs(doc: string): Leaf<readonly EndpointPair[]> {
  return {
    kind: "leaf",
    type: "list of [a, b]",
    default: [],
    shownDefault: "[]",
    doc,
    parse(v, report) {
      if (v === null) return []; // `pairs:` with nothing after it
      if (!Array.isArray(v)) {
        report(`expected a list of [a, b] pairs, got ${show(v)}`);
        return [];
      }
      v.forEach((pair: unknown, i) => {
        if (!Array.isArray(pair)) report(`expected a pair [a, b], got ${show(pair)}`, [i]);
        else if (pair.length !== 2) report(`expected a pair [a, b], got ${members(pair.length)}`, [i]);
        else checkMembers(pair, report, [i], "two different endpoints");
      });
      return v as EndpointPair[];
    },
  };
}

function endpointGroups(doc: string): Leaf<readonly (readonly Endpoint[])[]> {
  return {
    kind: "leaf",
    type: "list of lists",
    default: [],
    shownDefault: "[]",
    doc,
    parse(v, report) {
      if (v === null) return [];
      if (!Array.isArray(v)) {
        report(`expected a list of endpoint lists, got ${show(v)}`);
        return [];
      }
      v.forEach((group: unknown, i) => {
        if (!Array.isArray(group)) report(`expected a list of endpoints, got ${show(group)}`, [i]);
        else if (group.length < 2) report(`expected at least 2 endpoints, got ${members(group.length)}`, [i]);
        else checkMembers(group, report, [i], "distinct endpoints");
      });
      return v as Endpoint[][];
    },
  };
}

/** A key without a default: its absence is an error (for `program`'s reading only, when given). */
function required<T>(leaf: Leaf<T>, program?: ConfigProgram): Leaf<T> {
  return { ...leaf, required: true, requiredFor: program, shownDefault: program ? `required (${program})` : "required" };
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** An IPv6 address in canonical form (lower case, the longest run of zeros compressed), or undefined. */
export function canonicalIpv6(a: string): string | undefined {
  if (!isIPv6(a) || a.includes("%")) return undefined;
  try {
    return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** Why `a` cannot be the prober's source of its family (undefined: it can). Loopback is --check-config's. */
function sourceAddressProblem(a: string): string | undefined {
  if (isIPv4(a)) {
    if (!IPV4.test(a)) return "expected an IPv4 address in dotted-quad form";
    if (a === "0.0.0.0" || a.startsWith("255.")) return `expected an address of this host, got ${show(a)} (not a unicast address)`;
    if (Number(a.split(".")[0]) >= 224) return `expected a unicast address, got ${show(a)} (multicast or reserved)`;
    return undefined;
  }
  const c = canonicalIpv6(a);
  if (c === undefined) return undefined; // not an address: the caller says so
  if (c === "::") return `expected an address of this host, got ${show(a)} (the unspecified address)`;
  if (c.startsWith("::ffff:")) return `expected an IPv6 address, got the IPv4-mapped ${show(a)}: give the IPv4 address itself`;
  if (/^ff/.test(c)) return `expected a unicast address, got ${show(a)} (multicast)`;
  if (/^fe[89ab]/.test(c)) return `expected a global (or unique local) IPv6 address, got the link-local ${show(a)}: probes are routed, and a link-local source is not`;
  return undefined;
}

/**
 * prober.source: one address (IPv4 or IPv6), or a list of one IPv4 and one IPv6 address (dual
 * stack). Parsed as given (a string or a list); the section's derive() sets `sources`.
 */
function proberSource(doc: string): Leaf<string> {
  const example = `such as "198.18.100.2" or "2001:2::100:2", or a list of one of each`;
  return {
    kind: "leaf",
    type: "IPv4 or IPv6 address, or a list of one of each",
    default: "",
    shownDefault: "",
    doc,
    parse(v, report) {
      const one = (a: unknown, sub: SubPath): Family | undefined => {
        if (typeof a !== "string" || (!isIPv4(a) && canonicalIpv6(a) === undefined)) {
          report(`expected an IPv4 or IPv6 address ${example}, got ${show(a)}`, sub);
          return undefined;
        }
        const bad = sourceAddressProblem(a);
        if (bad) {
          report(bad, sub);
          return undefined;
        }
        return isIPv4(a) ? "ipv4" : "ipv6";
      };
      if (!Array.isArray(v)) {
        one(v, []);
        return v as string;
      }
      if (v.length < 1 || v.length > 2) {
        report(`expected one address, or a list of one IPv4 and one IPv6 address, got ${members(v.length)}`);
        return v as unknown as string;
      }
      const fams = v.map((a: unknown, i) => one(a, [i]));
      if (fams.length === 2 && fams[0] !== undefined && fams[0] === fams[1])
        report(`expected one IPv4 and one IPv6 address, got two ${fams[0] === "ipv4" ? "IPv4" : "IPv6"} addresses (${show(v[0])} and ${show(v[1])}): the prober has one source per family`, [1]);
      return v as unknown as string;
    },
  };
}

/** prober.source as parsed (a string or a list of them): the address of each family. */
function sourcesOf(source: unknown): ProberSources {
  const list = (Array.isArray(source) ? source : [source]).filter((a): a is string => typeof a === "string");
  const v4 = list.find((a) => isIPv4(a));
  const v6 = list.map((a) => canonicalIpv6(a)).find((a) => a !== undefined);
  return { ipv4: v4 ?? null, ipv6: v6 ?? null };
}

function hostPort(def: string, doc: string): Leaf<string> {
  return {
    kind: "leaf",
    type: "host:port",
    default: def,
    shownDefault: def,
    doc,
    parse(v, report) {
      const m = typeof v === "string" ? /^(.+):(\d{1,5})$/.exec(v) : null;
      if (!m || Number(m[2]) > 65535) report(`expected host:port such as "127.0.0.1:9469", got ${show(v)}`);
      return v as string;
    },
  };
}

/** host:port, or null / "" for off (the default). */
function optionalHostPort(doc: string): Leaf<string | null> {
  const inner = hostPort("", doc);
  return {
    ...inner,
    type: "host:port or null",
    default: null,
    shownDefault: "null",
    parse(v, report) {
      if (v === null || v === "") return null;
      return inner.parse(v, report);
    },
  };
}

function ratio(def: number, doc: string): Leaf<number> {
  return {
    kind: "leaf",
    type: "number 0..1",
    default: def,
    shownDefault: String(def),
    doc,
    parse(v, report) {
      if (typeof v !== "number" || !(v >= 0 && v <= 1)) report(`expected a number from 0 to 1, got ${show(v)}`);
      return v as number;
    },
  };
}

function positive(max: number, def: number, doc: string): Leaf<number> {
  return {
    kind: "leaf",
    type: `number > 0, at most ${max}`,
    default: def,
    shownDefault: String(def),
    doc,
    parse(v, report) {
      if (typeof v !== "number" || !(v > 0 && v <= max)) report(`expected a number greater than 0 and at most ${max}, got ${show(v)}`);
      return v as number;
    },
  };
}

function optionalString(doc: string): Leaf<string | null> {
  return {
    kind: "leaf",
    type: "string or null",
    default: null,
    shownDefault: "null",
    doc,
    parse(v, report) {
      if (v === null || v === "") return null;
      if (typeof v !== "string") report(`expected a string, got ${show(v)}`);
      return v as string;
    },
  };
}

const ENCAPS = ["gre", "ipip"] as const satisfies readonly Encap[];
const PROBE_ENCAPS = ["gre", "ipip", "srv6", "sr-mpls", "auto"] as const satisfies readonly ProbeEncap[];
const SR_MPLS_CARRIERS = ["udp", "gre"] as const satisfies readonly SrMplsCarrier[];

/**
 * A mapping of router name or pattern (`*`: any run of characters) to one of `values`, kept as
 * a list in file order (shared/perrouter.ts matches it). (JavaScript puts integer-like keys
 * first in an object; such keys have no `*`, so they are exact names, which are matched before
 * any pattern: the order that matters, among patterns, is the file's.)
 */
function routerRules<T extends string, R>(values: readonly T[], doc: string, rule: (router: string, value: T) => R): Leaf<readonly R[]> {
  const quoted = values.map((x) => JSON.stringify(x));
  const expected = `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
  return {
    kind: "leaf",
    type: `mapping of router name or pattern to ${values.join(" | ")}`,
    default: [],
    shownDefault: "{}",
    doc,
    parse(v, report) {
      if (v === null) return [];
      if (typeof v !== "object" || Array.isArray(v)) {
        report(`expected a mapping of router name or pattern to ${expected}, got ${show(v)}`);
        return [];
      }
      const rules: R[] = [];
      for (const [router, value] of Object.entries(v as Record<string, unknown>)) {
        if (router.trim() === "") report(`expected a router name or pattern, got ${show(router)}`, [router]);
        else if (!values.includes(value as T)) report(`expected ${expected}, got ${show(value)}`, [router]);
        else rules.push(rule(router, value as T));
      }
      return rules;
    },
  };
}

const encapRules = (doc: string): Leaf<readonly EncapRule[]> => routerRules(ENCAPS, doc, (router, encap) => ({ router, encap }));

const PATH_TARGETS = ["interface", "router"] as const satisfies readonly PathTarget[];
const PATH_FAMILIES = ["ipv4", "ipv6"] as const satisfies readonly Family[];

/** A non-empty list of distinct address families, or null (the default: what the topology has). */
function families(doc: string): Leaf<readonly Family[] | null> {
  return {
    kind: "leaf",
    type: "list of ipv4 | ipv6, or null",
    default: null,
    shownDefault: "null",
    doc,
    parse(v, report) {
      if (v === null) return null;
      if (!Array.isArray(v) || v.length === 0) {
        report(`expected a non-empty list of "ipv4" and "ipv6", or null, got ${Array.isArray(v) ? "an empty list" : show(v)}`);
        return null;
      }
      v.forEach((f: unknown, i) => {
        if (!PATH_FAMILIES.includes(f as Family)) report(`expected "ipv4" or "ipv6", got ${show(f)}`, [i]);
        else if (v.indexOf(f) !== i) report(`expected distinct families, got ${show(f)} twice`, [i]);
      });
      return v as Family[];
    },
  };
}

function probeClasses(doc: string): Leaf<readonly ProbeClass[]> {
  return {
    kind: "leaf",
    type: "list of {name, dscp}",
    default: [{ name: "default", dscp: 0 }],
    shownDefault: "[{name: default, dscp: 0}]",
    doc,
    parse(v, report) {
      if (!Array.isArray(v) || v.length === 0) {
        report(`expected a non-empty list of {name, dscp}, got ${show(v)}`);
        return [];
      }
      const names = new Set<string>();
      v.forEach((c: unknown, i) => {
        const o = c as { name?: unknown; dscp?: unknown } | null;
        if (typeof o !== "object" || o === null || Array.isArray(o)) return report(`expected {name, dscp}, got ${show(c)}`, [i]);
        const extra = Object.keys(o).filter((k) => k !== "name" && k !== "dscp");
        if (extra.length) report(`unknown key "${extra[0]}" (expected name and dscp)`, [i]);
        if (typeof o.name !== "string" || !/^[A-Za-z0-9_.-]+$/.test(o.name)) report(`expected a name of letters, digits, "_", "." or "-", got ${show(o.name)}`, [i, "name"]);
        else if (names.has(o.name)) report(`expected distinct class names, got ${show(o.name)} twice`, [i, "name"]);
        else names.add(o.name);
        if (typeof o.dscp !== "number" || !Number.isInteger(o.dscp) || o.dscp < 0 || o.dscp > 63) report(`expected a DSCP from 0 to 63, got ${show(o.dscp)}`, [i, "dscp"]);
      });
      return v as ProbeClass[];
    },
  };
}

/** An absolute path, or null (the default: off). */
function nullPath(doc: string): Leaf<string | null> {
  return { ...optionalPath("", doc), default: null, shownDefault: "null" };
}

/** prober.paths.url: an http:// or https:// URL without credentials or fragment; null: off. */
function serviceUrl(doc: string): Leaf<string | null> {
  return {
    kind: "leaf",
    type: "http:// or https:// URL, or null",
    default: null,
    shownDefault: "null",
    doc,
    parse(v, report) {
      if (v === null || v === "") return null;
      let u: URL | undefined;
      try {
        u = typeof v === "string" ? new URL(v) : undefined;
      } catch {
        u = undefined;
      }
      if (u === undefined || (u.protocol !== "http:" && u.protocol !== "https:")) report(`expected an http:// or https:// URL such as "https://collector.example:9471/v1/paths", got ${show(v)}`);
      else if (u.username !== "" || u.password !== "") report("expected a URL without user or password (the token goes in paths.token-file)");
      else if (u.hash !== "") report(`expected a URL without a #fragment, got ${show(v)}`);
      return v as string;
    },
  };
}

/** prober.site: what plugin.serve accepts as ?site= (1-64 of A-Z a-z 0-9 . _ : @ -), or null. */
function siteName(doc: string): Leaf<string | null> {
  return {
    kind: "leaf",
    type: "site name (1-64 of A-Z a-z 0-9 . _ : @ -) or null",
    default: null,
    shownDefault: "null",
    doc,
    parse(v, report) {
      if (v === null || v === "") return null;
      if (typeof v !== "string" || !/^[A-Za-z0-9._:@-]{1,64}$/.test(v)) report(`expected 1 to 64 of A-Z a-z 0-9 . _ : @ -, got ${show(v)}`);
      return v as string;
    },
  };
}

/** Is the host of a listen address a loopback one (127.0.0.0/8, ::1, localhost)? */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

const SERVE_AUTHS = ["token", "client-cert", "none"] as const satisfies readonly ServeAuth[];

const SERVE = section<ServeConfig>(
  {
    listen: optionalHostPort("Serve the path sets over HTTP(S) on this address, e.g. 0.0.0.0:9471: GET /v1/paths (whole set or a prober's slice, ETag = generation, long-poll with ?wait=); null: not served."),
    auth: oneOf(SERVE_AUTHS, "token", "token: a bearer token from `token-file`; client-cert: a TLS client certificate signed by `client-ca-file`; none: anyone who can connect (allowed on a loopback address only)."),
    tokenFile: nullPath("Accepted bearer tokens, one a line (# comments and blank lines ignored; several for rotation); re-read on SIGHUP. Keep it mode 0640 or stricter."),
    certFile: nullPath("TLS certificate (PEM, chain after it); with `key-file` the service is HTTPS; re-read on SIGHUP."),
    keyFile: nullPath("TLS private key (PEM) of `cert-file`."),
    clientCaFile: nullPath("CA certificates (PEM) that sign the probers' client certificates (auth: client-cert)."),
    maxConnections: integer(1, 100_000, 1024, "Connections held at most; past it the oldest idle one is closed (long-polls are not idle)."),
    maxWaiting: integer(0, 100_000, 1000, "Long-polls held at once; past it a poll is answered at once (200 or 304)."),
    maxWait: duration(1_000, 600_000, "60s", "Longest long-poll; a longer `wait` is cut to it."),
    proberTimeout: duration(1_000, 600_000, "30s", "Shared coverage: a registered prober (one that fetches with ?prober=ID&router=R) is live while it holds a long-poll and for this long after its last request; then its paths are handed to the others (plugin/assign.ts), and back when it fetches again."),
    maxProbers: integer(1, 100_000, 4096, "Registered probers kept at most; past it the one seen longest ago is forgotten."),
    probersPerLink: integer(1, 16, 2, "Shared coverage: distinct probers each link should be probed by, where the live probers allow (deTector's rule: 2)."),
    oneWay: boolean(true, "Give each registered prober that gave its address one-way paths to the probers at its paths' far ends (pinned out, no way back; path set version 5): the one view (plugin.view) then tells a link's two directions apart."),
  },
  (s, report) => {
    if (s.listen === null) return;
    if ((s.certFile === null) !== (s.keyFile === null)) report(`expected both cert-file and key-file, or neither, got only ${s.certFile === null ? "key-file" : "cert-file"}`, [s.certFile === null ? "key-file" : "cert-file"]);
    if (s.auth === "token" && s.tokenFile === null) report("expected token-file with auth: token (or auth: client-cert, or auth: none on a loopback address), got none", ["auth"]);
    if (s.auth === "client-cert") {
      if (s.clientCaFile === null) report("expected client-ca-file with auth: client-cert, got none", ["auth"]);
      if (s.certFile === null) report("expected cert-file and key-file with auth: client-cert (client certificates need TLS), got none", ["auth"]);
    }
    const host = s.listen.slice(0, s.listen.lastIndexOf(":"));
    if (s.auth === "none" && !isLoopbackHost(host))
      report(`expected a loopback listen address with auth: none (anyone who can connect would get the path sets), got ${show(s.listen)}; fix: auth: token with a token-file, or auth: client-cert`, ["listen"]);
    if (s.maxWaiting >= s.maxConnections) report(`expected max-waiting below max-connections (${s.maxConnections}), got ${s.maxWaiting}`, ["max-waiting"]);
  },
);

// ---- the schema ----

const PATH_MODES = ["all", "cover", "plan"] as const satisfies readonly PathMode[];
/** Directed endpoint pairs one plugin computes at most: 500 endpoints in one full mesh. */
export const MAX_DIRECTED_PAIRS = 250_000;
const PATH_METRICS = ["igp", "te"] as const satisfies readonly PathMetric[];

const PLUGIN = section<PluginConfig>({
  endpoints: section<EndpointsConfig>(
    {
      pairs: endpointPairs(
        "Endpoint pairs; paths are computed both ways, a->b and b->a. An endpoint is a node name, IGP router id, TE router id or an IP prefix such as 198.18.0.6/32.",
      ),
      groups: endpointGroups("Endpoint groups: every ordered pair among the members of each group (at least 2 distinct members each)."),
    },
    (e, report) => {
      if (e.pairs.length === 0 && e.groups.length === 0) report("expected at least one pair or group, got none");
      // Counted, not listed: a group of 3,000 makes 9 million pairs, and listing them took 1.6 GB.
      const fromGroups = e.groups.map((g) => g.length * (g.length - 1));
      const total = 2 * e.pairs.length + fromGroups.reduce((a, b) => a + b, 0);
      if (total > MAX_DIRECTED_PAIRS) {
        const big = fromGroups.indexOf(Math.max(...fromGroups, 0));
        const why = big >= 0 && fromGroups[big] > MAX_DIRECTED_PAIRS / 2 ? ` (groups[${big}], ${e.groups[big].length} endpoints, makes ${fromGroups[big]} alone: a group's pairs grow as n^2; split it, or list pairs)` : "";
        report(`expected at most ${MAX_DIRECTED_PAIRS} directed pairs, got ${total}${why}`);
      }
    },
    "plugin",
  ),
  paths: section<PathsConfig>({
    mode: oneOf(PATH_MODES, "all", "all: every equal-cost path; cover: per pair, the smallest subset that still crosses every link; plan: across all pairs, the paths that cover every link `plan.alpha` times and tell failures apart, within `plan.budget-pps`."),
    maxPerPair: integer(1, 100000, 64, "Cap on equal-cost paths per directed pair; a capped path set is flagged `truncated`."),
    metric: oneOf(PATH_METRICS, "igp", "te: the TE default metric where advertised, else the IGP metric."),
    target: oneOf(
      PATH_TARGETS,
      "interface",
      "Where each probe layer is sent: interface: the far-end interface address of the link (pins the link; an unnumbered link falls back to the router's address); router: the next router's TE router id (BGP-LS node attribute 1028), else its first /32 prefix (loopback); a router with neither makes the path unprobeable. With router targets parallel links between two routers are not told apart: the path set lists them per hop (`parallel`) and the prober's inference blames them as one group.",
    ),
    targetPerRouter: routerRules(
      PATH_TARGETS,
      "Per-router override of `target`, by the router that decapsulates the layer, e.g. {r4: router, \"core-*\": router}: a router name, or a pattern where `*` matches any characters; exact names win, then the first matching pattern in file order.",
      (router, target): TargetRule => ({ router, target }),
    ),
    families: families(
      "Address families to compute paths for, e.g. [ipv4, ipv6]; null: the families the topology has (IPv4 or IPv6 addresses, TE router ids or prefixes; IPv4 when it has none). With IS-IS multi-topology the IPv6 paths are computed on the MT-ID 2 topology, its own links and metrics; each path lists its `families` and per family its layers (`targets`, path set version 3).",
    ),
    srAlgorithm: integer(
      0,
      255,
      0,
      "Segment routing: the algorithm of the SRv6 End.X SIDs a probe is pinned with (0: SPF; 128-255: a flexible algorithm, RFC 9350). Each hop uses its unprotected End.X SID (B flag clear: a protected one lets fast reroute carry the probe around the failure it must see), persistent where offered; Adj-SIDs (SR-MPLS) carry no algorithm. A hop without one makes the path unprobeable by SR, with the reason (path set version 4, `targets.<family>.srv6` / `srMpls`).",
    ),
  }),
  plan: section<PlanConfig>({
    budgetPps: integer(1, 10_000_000, 1000, "Mode plan: probes per second to spread over the chosen paths."),
    alpha: integer(1, 16, 2, "Mode plan: chosen paths crossing each link, where the topology allows."),
    beta: integer(0, 2, 1, "Mode plan: failed links at once whose failing-path signatures must differ (2 only on small topologies)."),
    minLinkPps: integer(0, 10_000_000, 25, "Mode plan: budget left once alpha and beta are met buys more paths, chosen so that several failures at once show apart, while every link still sees this many probes per second (25: one path's rate in mode all)."),
  }),
  output: section<OutputConfig>({
    file: path("/var/lib/lsprobe/paths.json", "Path-set file, written atomically (temporary file and rename)."),
    socket: optionalPath("/run/lsprobe/paths.sock", "Unix socket streaming the path sets as NDJSON; \"\" or null disables it.", true),
    socketMode: fileMode("0660", "Permissions of the socket."),
  }),
  stateFile: optionalPath("/var/lib/lsprobe/lsdb.json", "LSDB snapshot, reloaded at start; \"\" or null disables it."),
  debounce: duration(0, 60_000, "200ms", "Quiet time after an LSDB change before the paths are recomputed."),
  // Bounded well below the 2^31-1 ms (24.8 days) that a Node timer can wait.
  staleTimeout: duration(1_000, 7 * 86_400_000, "120s", "How long snapshot entries survive without a refresh from BGP."),
  routeRefresh: boolean(true, "Ask ExaBGP for a route refresh at start (the neighbor needs `capability { route-refresh; }`)."),
  listen: optionalHostPort("HTTP listen address for the plugin's /metrics and /healthz (say 127.0.0.1:9468); null: no HTTP server."),
  serve: SERVE,
  view: section<ViewConfig>({
    interval: duration(0, 60_000, "1s", "The one view: how often the plugin pulls every live registered prober's counts (GET /v1/counts at the URL it registered) and infers link loss over their union; 0: no one view."),
    window: duration(5_000, 3_600_000, "30s", "The one view: the counts each round's inference covers."),
    timeout: duration(100, 60_000, "800ms", "The one view: how long a pull of one prober's counts may take."),
    lossyAbove: ratio(0.01, "The one view: a link whose loss, inferred from every prober's counts over the window, is at least this, and significantly above the healthy background, is a suspect."),
  }),
});

const LOG = section<LogConfig>({
  level: oneOf(LOG_LEVELS, "info", "Lowest level logged (to stderr)."),
  format: oneOf(LOG_FORMATS, "text", "text: one human-readable line per event; json: one JSON object per line."),
});

const RETURN_MODES = ["reverse", "routed"] as const satisfies readonly ReturnMode[];

const PROBER: Section<ProberConfig> = {
  ...section<ProberConfig>(
    {
      source: required(
        proberSource(
          "The prober's address, assigned to one of this host's interfaces: the source of every layer and the destination of the innermost one. An IPv4 address probes the IPv4 paths, an IPv6 address the IPv6 ones (GRE over IPv6 or IPv6-in-IPv6); a list of one of each, e.g. [198.18.100.2, \"2001:2::100:2\"], probes both (dual stack: every path in each family it has, its series told apart by the `af` label).",
        ),
        "prober",
      ),
      sources: derived(),
      router: optionalString("Name of the router the prober hangs off: only paths that start there are probed (in reverse mode they test the way back too); null: every path."),
      port: integer(1, 65535, 9470, "UDP port the probes come back to."),
      paths: section<ProberPathsConfig>({
        socket: optionalPath("/run/lsprobe/paths.sock", "The plugin's path-set socket; \"\" or null: do not subscribe.", true),
        file: optionalPath("/var/lib/lsprobe/paths.json", "The plugin's path-set file, read at start and while the socket is unavailable."),
        url: serviceUrl("The plugin's path-set service (plugin.serve), e.g. https://collector:9471/v1/paths: long-polled for each new generation, beside the socket and the file; null: not used."),
        tokenFile: nullPath("File whose first line is the bearer token for `url` (read at each request)."),
        caFile: nullPath("CA certificates (PEM) to check the plugin's certificate with; null: the system's CAs."),
        certFile: nullPath("Client certificate (PEM) for `url` (plugin.serve.auth: client-cert)."),
        keyFile: nullPath("Private key (PEM) of `cert-file`."),
        wait: duration(1_000, 600_000, "30s", "How long each request to `url` waits for a newer generation (long-poll); the plugin caps it at its serve.max-wait."),
      }, (p, report) => {
        if ((p.certFile === null) !== (p.keyFile === null)) report(`expected both cert-file and key-file, or neither, got only ${p.certFile === null ? "key-file" : "cert-file"}`, [p.certFile === null ? "key-file" : "cert-file"]);
        if (p.url === null) {
          const given = (["tokenFile", "caFile", "certFile"] as const).find((k) => p[k] !== null);
          if (given) report(`expected url with ${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}, got none`, ["url"]);
        }
      }),
      return: oneOf(RETURN_MODES, "reverse", "reverse: the way back is pinned to the same links too; routed: the last router routes the probe home."),
      encap: oneOf(
        PROBE_ENCAPS,
        "gre",
        "Tunnel header of each probe layer: gre (RFC 2784, 24 bytes a layer with its IPv4 header) or ipip (IP-in-IP, IP protocol 4, RFC 2003, 20 bytes); the router that decapsulates a layer must accept it. Or segment routing, no decapsulation filter needed: srv6 (IPv6 + SRH over the path's End.X SIDs out and back; needs an IPv6 source), sr-mpls (the Adj-SID label stack, carried to the first router as `sr-mpls-carrier` says), auto (per path: SRv6, else SR-MPLS, else the tunnel, from the SIDs its hops advertise). A path that cannot take the SR one falls back to GRE (or encap-per-router's), logged once per path; /paths and lsprobe_path_info's encap say which.",
      ),
      srMplsCarrier: oneOf(SR_MPLS_CARRIERS, "udp", "How SR-MPLS probes reach the path's first router: udp (MPLS-in-UDP, RFC 7510, port 6635, source port as entropy) or gre (MPLS-in-GRE, protocol 0x8847, RFC 4023)."),
      encapPerRouter: encapRules(
        "Per-router override of `encap`, e.g. {r4: ipip, \"edge-*\": gre}: a router name, or a pattern where `*` matches any characters; exact names win, then the first matching pattern in file order. A layer takes the encap of the router that decapsulates it.",
      ),
      rate: positive(10_000, 25, "Probes per second per path and class, spread evenly."),
      maxPps: integer(1, 10_000_000, 100_000, "Global cap on probes per second; every path is slowed down evenly when hit."),
      timeout: duration(1, 60_000, "1s", "A probe not back by then counts as missing (for up/down); back later it is late."),
      ttl: integer(1, 255, 64, "TTL of every IPv4 layer."),
      hopLimit: integer(1, 255, 64, "Hop limit of every IPv6 layer."),
      flowLabelRange: {
        ...integer(1, 1 << 20, 64, "IPv6 flow labels rotate over src-port .. src-port + flow-label-range - 1 (ECMP entropy for routers that hash the flow label, RFC 6438: the tunnel layers carry no ports); null: follow src-port-range, so each probe's flow label equals its UDP source port."),
        type: `integer 1..${1 << 20}, or null`,
        default: null,
        shownDefault: "null",
        parse(v, report) {
          if (v === null) return null;
          if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 1 << 20) report(`expected an integer from 1 to ${1 << 20}, or null, got ${show(v)}`);
          return v as number;
        },
      } as Leaf<number | null>,
      size: integer(0, 65535, 0, "Outermost packet size in bytes (padding); 0: the smallest the stack allows."),
      mtu: integer(68, 65535, 1500, "Largest packet to send; a longer stack is refused with an error."),
      srcPort: integer(1024, 65535, 49152, "First UDP source port of the probes."),
      srcPortRange: integer(1, 16384, 64, "Source ports rotate over this many values (ECMP entropy between GRE hops)."),
      classes: probeClasses("Probe classes: every path is probed once per class, with the class's DSCP; the `class` label."),
      hmacKeyFile: {
        ...optionalPath("", "File with the HMAC key (bytes): probes carry a MAC, and forged or replayed ones are rejected; null: no MAC. One-way probes (path set version 5) are checked by the prober they arrive at: every prober of a fleet needs the same key, or none."),
        default: null,
        shownDefault: "null",
      },
      downAfter: integer(1, 1000, 3, "Consecutive missing probes that mark a path down."),
      upAfter: integer(1, 1000, 3, "Consecutive replies that mark a path up again."),
      lossWindow: duration(1_000, 3_600_000, "30s", "Sliding window of lsprobe_path_loss_ratio."),
      rttHistogram: oneOf(RTT_HISTOGRAM_MODES, "per-path", "lsprobe_probe_rtt_seconds: per-path (23 series a probed path), per-pair (23 a src, dst, class and family: the paths of a pair summed) or off (none; lsprobe_path_rtt_last_seconds stays). Sizing: docs/metrics.md."),
      maxPaths: integer(1, 10_000_000, 10_000, "Most paths probed (each class and family counts one; one-way paths to other probers count too, after the prober's own): past it the rest are left out, the same ones every time (sorted by src, dst, path id), with a warning and lsprobe_paths_capped / lsprobe_paths_left_out."),
      lossyAbove: ratio(0.01, "A link whose loss, inferred over the loss window from every path's counts, is at least this, and significantly above the healthy background, is a suspect."),
      listen: hostPort("127.0.0.1:9469", "HTTP listen address for /metrics, /healthz and /paths."),
      user: optionalString("User to switch to once the raw and UDP sockets are open (needs to start as root)."),
      id: optionalString("The id this prober fetches its path sets under (`?prober=` of paths.url, the plugin's per-prober metrics); null: the host name."),
      site: siteName("The site this prober is at (`?site=` of paths.url: the plugin counts its probers known and live per site), e.g. ams; null: none."),
      clockSynced: boolean(false, "The probers' clocks are synchronized (NTP, PTP): the one-way probes that arrive here get a delay, arrival minus the sender's send time, in lsprobe_oneway_delay_seconds; false: no delay metric (one-way loss needs no clock)."),
    },
    (p, report) => {
      if (p.paths.socket === null && p.paths.file === null && p.paths.url === null) report("expected paths.socket, paths.file or paths.url, got none");
      if (p.srcPort + p.srcPortRange - 1 > 65535) report(`expected src-port + src-port-range - 1 <= 65535, got ${p.srcPort + p.srcPortRange - 1}`);
      const v6 = sourcesOf(p.source).ipv6 !== null;
      if (p.encap === "srv6" && !v6) report("expected an IPv6 source (prober.source) with encap srv6: SRv6 probes are IPv6", ["encap"]);
      if (v6 && p.mtu < 1280) report(`expected at least 1280 with an IPv6 source (the IPv6 minimum MTU, RFC 8200 §5), got ${p.mtu}`, ["mtu"]);
      if (p.flowLabelRange !== null && p.srcPort + p.flowLabelRange - 1 > 0xfffff)
        report(`expected src-port + flow-label-range - 1 <= ${0xfffff} (a flow label has 20 bits), got ${p.srcPort + p.flowLabelRange - 1}`, ["flow-label-range"]);
    },
  ),
  derive(p) {
    const sources = sourcesOf(p.source);
    (p as { sources: ProberSources }).sources = sources;
    (p as { source: string }).source = (Array.isArray(p.source) ? (p.source as string[])[0] : p.source) ?? "";
  },
  optional: true,
};

const ROOT = section<LsprobeConfig>({ plugin: PLUGIN, prober: PROBER, log: LOG });

// ---- loading ----

export function loadConfig(file: string, program?: ConfigProgram): LsprobeConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, [{ path: "", line: 0, col: 0, message: `cannot read the config file: ${(err as Error).message}` }]);
  }
  return parseConfig(text, file, program);
}

export function parseConfig(text: string, fileName: string, program?: ConfigProgram): LsprobeConfig {
  const lines = new LineCounter();
  // uniqueKeys: false: the yaml package checks every key against every earlier one (100k keys
  // in one mapping took over a minute); duplicates are found below with a Set per mapping.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      fileName,
      doc.errors.map((e) => ({ path: "", ...lines.linePos(e.pos[0]), message: `invalid YAML: ${e.message}` })),
    );
  }
  const reader: Reader = { doc, found: [], program };
  const config = readSection(reader, ROOT as unknown as AnySection, doc.contents, "", offsetOf(doc.contents) ?? 0);
  if (reader.found.length > 0) {
    const issues = reader.found.map(({ path, offset, message }) => ({ path, ...lines.linePos(offset), message }));
    issues.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new ConfigError(fileName, issues);
  }
  return deepFreeze(config) as unknown as LsprobeConfig;
}

interface Reader {
  doc: Document.Parsed;
  /** Problems so far; `offset` is into the text. */
  found: { path: string; offset: number; message: string }[];
  program?: ConfigProgram;
}

/** Does a rule for `who` apply to this reading? */
const appliesTo = (r: Reader, who: ConfigProgram | undefined): boolean => who === undefined || r.program === undefined || r.program === who;

const add = (r: Reader, path: string, offset: number, message: string): void => {
  r.found.push({ path, offset, message });
};

/**
 * `offset`: where problems with the section as a whole are reported (its key, else its parent's).
 * `checks`: false under a section that was not a mapping, whose defaults prove nothing.
 */
function readSection(
  r: Reader,
  spec: AnySection,
  value: unknown,
  path: string,
  offset: number,
  checks = true,
): Record<string, unknown> {
  const node = isAlias(value) ? value.resolve(r.doc) : value;
  const fields = spec.fields as Record<string, AnySpec>;
  const byKey = new Map(Object.keys(fields).filter((prop) => fields[prop].kind !== "derived").map((prop) => [kebab(prop), prop]));
  const present = new Map<string, Pair>();
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (present.has(key)) add(r, join(path, key), offsetOf(pair.key) ?? offset, "duplicate key (each key once per mapping)");
      else if (byKey.has(key)) present.set(key, pair);
      else add(r, join(path, key), offsetOf(pair.key) ?? offset, unknownKey(key, [...byKey.keys()]));
    }
  } else if (!isNull(node)) {
    const v = toJS(r, node, path, offset);
    if (v !== BOMB) add(r, path, offset, `expected a mapping, got ${show(v)}`);
    checks = false;
  }

  const before = r.found.length;
  const out: Record<string, unknown> = {};
  for (const [key, prop] of byKey) {
    const field = fields[prop];
    const pair = present.get(key);
    const at = pair ? (offsetOf(pair.key) ?? offset) : offset;
    if (field.kind === "derived") continue;
    if (field.kind === "section" && field.optional && (pair === undefined || isNull(pair.value))) out[prop] = null;
    else if (field.kind === "section") out[prop] = readSection(r, field, pair?.value, join(path, key), at, checks);
    else if (pair === undefined) {
      if (field.required && checks && appliesTo(r, field.requiredFor)) add(r, join(path, key), offset, "missing required key");
      out[prop] = field.default;
    }
    else out[prop] = readLeaf(r, field, pair.value, join(path, key), at);
  }
  if (spec.check && checks && r.found.length === before && appliesTo(r, spec.checkFor)) {
    spec.check(out, (message, sub = []) => add(r, path + subPath(sub), locate(node, sub) ?? offset, message));
  }
  spec.derive?.(out);
  return out;
}

/** `offset` is the key's: a problem with the whole value is reported there. */
function readLeaf(r: Reader, field: Leaf<unknown>, node: unknown, path: string, offset: number): unknown {
  const before = r.found.length;
  findDuplicateKeys(r, node, path);
  const value = toJS(r, node, path, offset);
  if (value === BOMB || r.found.length > before) return field.default;
  return field.parse(value, (message, sub = []) =>
    add(r, path + subPath(sub), (sub.length > 0 ? locate(node, sub) : undefined) ?? offset, message),
  );
}

/** What toJS returns for a value it refused (the problem is reported). */
const BOMB = Symbol("alias bomb");

/** The plain value of a node; an alias bomb (over 100 expansions) is reported at its key instead. */
function toJS(r: Reader, node: unknown, path: string, offset: number): unknown {
  if (!isNode(node)) return null;
  try {
    return node.toJS(r.doc, { maxAliasCount: 100 });
  } catch (err) {
    add(r, path, offsetOf(node) ?? offset, `expected a value without runaway aliases (${(err as Error).message})`);
    return BOMB;
  }
}

/** Repeated keys in the mappings inside a value (a list of {name, dscp}, say). */
function findDuplicateKeys(r: Reader, node: unknown, path: string): void {
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (seen.has(key)) add(r, join(path, key), offsetOf(pair.key) ?? 0, "duplicate key (each key once per mapping)");
      seen.add(key);
      findDuplicateKeys(r, pair.value, join(path, key));
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => findDuplicateKeys(r, item, `${path}[${i}]`));
  }
}

/** The text offset of the node at `sub` inside `node`, if there is one. */
function locate(node: unknown, sub: SubPath): number | undefined {
  return isCollection(node) ? offsetOf(node.getIn(sub, true)) : undefined;
}

function offsetOf(node: unknown): number | undefined {
  return isNode(node) && node.range ? node.range[0] : undefined;
}

/** An absent value, or `key:` with nothing after it. */
const isNull = (node: unknown): boolean => node == null || (isScalar(node) && node.value === null);

const kebab = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const join = (path: string, key: string): string => (path === "" ? key : `${path}.${key}`);
const subPath = (sub: SubPath): string => sub.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("");

/** A value as a message quotes it: strings in JSON quotes, collections by kind. */
function show(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  return String(v);
}

function unknownKey(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3; // suggest only within an edit distance of 2
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== undefined ? `unknown key (did you mean "${best}"?)` : `unknown key (expected one of: ${known.join(", ")})`;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// ---- reference ----

/** The schema as a Markdown table (key, type, default, description), for the README and --help. */
export function describeConfig(): string {
  const cell = (s: string): string => s.replace(/\|/g, "\\|");
  const rows = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"];
  const walk = (spec: AnySection, path: string): void => {
    for (const [prop, field] of Object.entries(spec.fields as Record<string, AnySpec>)) {
      const key = join(path, kebab(prop));
      if (field.kind === "section") walk(field, key);
      else if (field.kind === "derived") continue;
      else rows.push(`| \`${key}\` | ${cell(field.type)} | \`${cell(field.shownDefault)}\` | ${cell(field.doc)} |`);
    }
  };
  walk(ROOT as unknown as AnySection, "");
  return rows.join("\n") + "\n";
}
