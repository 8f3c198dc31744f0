// The probers that fetch path sets (plugin.serve, issue 14 Must 2): who they are, and which are
// alive. Pure: the clock is an argument (ms), so liveness is tested without waiting.
//
// A prober registers by fetching: GET /v1/paths with its id and router (and optionally its site
// and address) as query parameters or headers:
//     ?prober=ID (or ?id=ID)  X-Lsprobe-Prober   1-128 of A-Z a-z 0-9 . _ : @ -
//     ?site=S                 X-Lsprobe-Site     1-64 of the same
//     ?router=R               X-Lsprobe-Router   1-255 characters, no control character: a path's `src`
//     ?address=A              X-Lsprobe-Address  an IPv4 or IPv6 address; twice (or a header
//                                                 "A, B") for one of each family
//     ?port=P                 X-Lsprobe-Port     its UDP port (prober.port; default 9470): one-way
//                                                 probes from other probers go there
//     ?counts=URL             X-Lsprobe-Counts   http(s) URL of its GET /v1/counts: the one view
//                                                 (plugin/view/) pulls it
// The query wins over a header. A fetch with an id and a router registers (or updates) the
// prober; one without a router is counted but not registered (it gets the whole set).
//
// Liveness: a prober is live while it holds a long-poll, and for `timeoutMs` after its last
// request ended (or began), unless it stopped reporting: once the one view (plugin/view/) has
// pulled its counts, pulls failing for `timeoutMs` (at least 10 s) make it not live (a prober whose fetch loop
// runs but whose counts cannot be had probes for nobody), and the next good pull makes it live
// again. The view keeps pulling every fetching prober, live or not, so that it can come back. The table holds at most `max` probers; past it the one seen longest
// ago is forgotten (counted).
import { isIP } from "node:net";
import type { Family } from "../../shared/pathset.js";

/** The least time a fetching prober's counts must fail to be pulled before it is taken as gone. */
export const REPORT_GRACE_MS = 10_000;

/** prober.port's default: where one-way probes go when a prober gave no port. */
export const DEFAULT_PROBER_PORT = 9470;

const ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const SITE = /^[A-Za-z0-9._:@-]{1,64}$/;
/** Router names are node-name TLVs (any UTF-8, spaces included): only control characters are refused. */
const ROUTER = /^[^\p{Cc}]{1,255}$/u;

export interface Registration {
  /** null: the fetch named no prober. */
  id: string | null;
  site: string | null;
  router: string | null;
  address: string | null;
  /** Its address per family (`address` is the first given). */
  addresses: Partial<Record<Family, string>>;
  /** Its UDP port (null: not given; the default 9470 applies). */
  port: number | null;
  /** URL of its counts (null: not given; the one view cannot pull it). */
  counts: string | null;
}

export type Headers = Record<string, string | string[] | undefined>;

const show = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);

/** The registration a request carries, or the message of a 400 naming the field. */
export function parseRegistration(q: URLSearchParams, headers: Headers): Registration | { error: string } {
  const pick = (names: string[], header: string): string | null => {
    for (const n of names) {
      const v = q.get(n);
      if (v !== null) return v;
    }
    const h = headers[header];
    return h === undefined ? null : Array.isArray(h) ? h[0] : h;
  };
  const id = pick(["prober", "id"], "x-lsprobe-prober");
  if (id !== null && !ID.test(id)) return { error: `prober: expected 1 to 128 of A-Z a-z 0-9 . _ : @ -, got ${show(id)}` };
  const site = pick(["site"], "x-lsprobe-site");
  if (site !== null && !SITE.test(site)) return { error: `site: expected 1 to 64 of A-Z a-z 0-9 . _ : @ -, got ${show(site)}` };
  const router = pick(["router"], "x-lsprobe-router");
  if (router !== null && !ROUTER.test(router)) return { error: router === "" ? "router: expected a router name, got an empty one" : `router: expected a router name (1 to 255 characters, no control character), got ${show(router)}` };
  const given = q.getAll("address");
  const header = headers["x-lsprobe-address"];
  const list = given.length > 0 ? given : header === undefined ? [] : (Array.isArray(header) ? header : [header]).flatMap((h) => h.split(",").map((a) => a.trim()));
  const addresses: Partial<Record<Family, string>> = {};
  for (const a of list) {
    const v = isIP(a);
    if (v === 0) return { error: `address: expected an IPv4 or IPv6 address, got ${show(a)}` };
    const af: Family = v === 4 ? "ipv4" : "ipv6";
    if (addresses[af] !== undefined) return { error: `address: expected at most one ${af === "ipv4" ? "IPv4" : "IPv6"} address, got ${show(addresses[af]!)} and ${show(a)}` };
    addresses[af] = a;
  }
  const portText = pick(["port"], "x-lsprobe-port");
  const port = portText === null ? null : /^\d{1,5}$/.test(portText) && Number(portText) >= 1 && Number(portText) <= 65535 ? Number(portText) : -1;
  if (port === -1) return { error: `port: expected a UDP port 1 to 65535, got ${show(portText!)}` };
  const counts = pick(["counts"], "x-lsprobe-counts");
  if (counts !== null && !isHttpUrl(counts)) return { error: `counts: expected an http:// or https:// URL, got ${show(counts)}` };
  return { id, site, router, address: list[0] ?? null, addresses, port, counts };
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && s.length <= 2048;
  } catch {
    return false;
  }
}

export interface ProberEntry {
  id: string;
  site: string | null;
  router: string;
  address: string | null;
  addresses: Partial<Record<Family, string>>;
  /** Its UDP port (9470 when it gave none). */
  port: number;
  counts: string | null;
  firstSeen: number;
  /** When its last request began or ended (ms). */
  lastSeen: number;
  /** Long-polls it holds now. */
  holding: number;
  /** The one view: when its counts were last pulled, and since when pulls fail (ms). */
  reportedAt?: number;
  failingSince?: number;
}

export class ProberTable {
  /** Insertion order = least recently seen first. */
  private readonly entries = new Map<string, ProberEntry>();
  /** Probers forgotten to keep within `max`. */
  forgotten = 0;
  /** Bumped by every change but the clock's; liveKey() is cached until the next change or expiry. */
  private version = 0;
  private keyCache?: { version: number; from: number; until: number; key: string };

  constructor(
    readonly max: number,
    readonly timeoutMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(id: string): ProberEntry | undefined {
    return this.entries.get(id);
  }

  /** A request of a registered prober began (or ended): register or refresh it. */
  seen(r: { id: string; router: string; site?: string | null; address?: string | null; addresses?: Partial<Record<Family, string>>; port?: number | null; counts?: string | null }, now: number): ProberEntry {
    let e = this.entries.get(r.id);
    const addresses = r.addresses ?? (r.address ? { [isIP(r.address) === 6 ? "ipv6" : "ipv4"]: r.address } : {});
    if (e) {
      this.entries.delete(r.id);
      // Back after it had gone (no long-poll, nothing asked within timeoutMs): a new start, so
      // its old failing pulls do not keep it out until the view reaches it again.
      if (!this.isFetching(e, now)) {
        e.reportedAt = undefined;
        e.failingSince = undefined;
      }
      e.router = r.router;
      if (r.site != null) e.site = r.site;
      if (r.address != null) {
        e.address = r.address;
        e.addresses = addresses;
      }
      if (r.port != null) e.port = r.port;
      if (r.counts != null) e.counts = r.counts;
      e.lastSeen = Math.max(e.lastSeen, now);
    } else {
      e = { id: r.id, site: r.site ?? null, router: r.router, address: r.address ?? null, addresses, port: r.port ?? DEFAULT_PROBER_PORT, counts: r.counts ?? null, firstSeen: now, lastSeen: now, holding: 0 };
      while (this.entries.size >= this.max) {
        const oldest = this.entries.keys().next().value as string;
        this.entries.delete(oldest);
        this.forgotten++;
      }
    }
    this.entries.set(r.id, e);
    this.version++;
    return e;
  }

  /** It holds a long-poll (live while it does). */
  hold(id: string): void {
    const e = this.entries.get(id);
    if (e) e.holding++;
    this.version++;
  }

  /** Its long-poll ended (answered, timed out, or the connection closed). */
  release(id: string, now: number): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.holding = Math.max(0, e.holding - 1);
    e.lastSeen = Math.max(e.lastSeen, now);
    this.version++;
  }

  /** Live by its fetches alone (holds a long-poll, or asked within timeoutMs). */
  isFetching(e: ProberEntry, now: number): boolean {
    return e.holding > 0 || now - e.lastSeen < this.timeoutMs;
  }

  isLive(e: ProberEntry, now: number): boolean {
    return this.isFetching(e, now) && !this.stoppedReporting(e, now);
  }

  /** How long pulls must fail before a fetching prober is taken as gone: timeoutMs, and at least
   *  REPORT_GRACE_MS (a few slow answers on a loaded host are not a gone prober). */
  get reportTimeoutMs(): number {
    return Math.max(this.timeoutMs, REPORT_GRACE_MS);
  }

  private stoppedReporting(e: ProberEntry, now: number): boolean {
    return e.failingSince !== undefined && now - e.failingSince >= this.reportTimeoutMs;
  }

  /** The one view pulled its counts (ok) or failed to. */
  reported(id: string, ok: boolean, now: number): void {
    const e = this.entries.get(id);
    if (!e) return;
    if (ok) {
      if (e.failingSince !== undefined) this.version++;
      e.reportedAt = now;
      e.failingSince = undefined;
    } else if (e.reportedAt !== undefined && e.failingSince === undefined) {
      e.failingSince = now;
      this.version++;
    }
  }

  /** The probers live by their fetches (those the one view pulls), by id. */
  fetching(now: number): ProberEntry[] {
    return [...this.entries.values()].filter((e) => this.isFetching(e, now)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Every prober known, by id. */
  all(): ProberEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The live probers, by id. */
  live(now: number): ProberEntry[] {
    return [...this.entries.values()].filter((e) => this.isLive(e, now)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** What the assignment depends on: the live probers and their routers. */
  liveKey(now: number): string {
    const c = this.keyCache;
    if (c && c.version === this.version && now >= c.from && now < c.until) return c.key;
    const key = this.live(now)
      .map((e) => `${e.id}\t${e.router}\t${e.addresses.ipv4 ?? ""}\t${e.addresses.ipv6 ?? ""}\t${e.port}`)
      .join("\n");
    this.keyCache = { version: this.version, from: now, until: this.nextExpiry(now) ?? Infinity, key };
    return key;
  }

  /** When the next live prober stops being live unless it is seen again (ms); undefined: none will. */
  nextExpiry(now: number): number | undefined {
    let t: number | undefined;
    for (const e of this.entries.values()) {
      if (!this.isLive(e, now)) continue;
      const fetchEnds = e.holding > 0 ? Infinity : e.lastSeen + this.timeoutMs;
      const reportEnds = e.failingSince !== undefined ? e.failingSince + this.reportTimeoutMs : Infinity;
      const at = Math.min(fetchEnds, reportEnds);
      if (at !== Infinity && (t === undefined || at < t)) t = at;
    }
    return t;
  }

  /** Known and live probers per site ("unknown" for none given). */
  bySite(now: number): Map<string, { known: number; live: number }> {
    const out = new Map<string, { known: number; live: number }>();
    for (const e of this.entries.values()) {
      const s = e.site ?? "unknown";
      const c = out.get(s) ?? { known: 0, live: 0 };
      c.known++;
      if (this.isLive(e, now)) c.live++;
      out.set(s, c);
    }
    return out;
  }
}
