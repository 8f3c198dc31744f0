// Path sets over the network (plugin.serve): GET /v1/paths over HTTP or HTTPS.
//
//   GET /v1/paths[?prober=ID][&router=R][&site=S][&address=A][&wait=30s]
//     200: the path set in force (application/json; gzip when accepted), or with `router` the
//          slice of the prober hanging off R (pathslice.ts); ETag "<generation>". With
//          `prober` and `router` the prober registers (probers.ts; site and address too, or
//          as X-Lsprobe-* headers) and gets its assignment (shared coverage, plugin/assign.ts):
//          ETag "<generation>.<assignment digest>", the digest being the first 8 hex digits of
//          sha256 over the ids of the paths given to it. An assignment that changes (a prober
//          comes, goes silent for serve.prober-timeout, or returns) changes that ETag, so the
//          long-polls of the probers whose share moved are answered at once with their new
//          slice (same generation: the prober takes it because the ETag differs).
//     304: If-None-Match names the generation in force. With `wait` the answer is held until a
//          generation with another ETag is published (then 200), or `wait` (cut to
//          serve.max-wait) ends (then 304): a long-poll, as Cloudprober's probers pull their
//          targets with if_modified_since.
//   GET /v1/probers: the registered probers and the assignment in force (probersView()), JSON.
//     400 a bad query; 401 no or a wrong bearer token (WWW-Authenticate: Bearer, RFC 6750);
//     403 a TLS client without an accepted certificate; 503 no path set yet (Retry-After).
//
// Authentication is never off by accident (shared/config.ts): `auth: token` (default) takes
// bearer tokens from token-file, compared in constant time (SHA-256 digests, every token
// compared); `auth: client-cert` needs TLS and a client certificate signed by client-ca-file
// (requestCert + rejectUnauthorized: the handshake fails without one); `auth: none` is accepted
// on a loopback address only. TLS comes from cert-file and key-file. Every file is read at
// start, on SIGHUP and on a configuration reload; a file that cannot be used is logged once as
// one line naming the key, the file and the fix, exposed (lsprobe_plugin_output_ok{output=
// "http"}, /healthz) and retried (1 s doubling to 30 s), and a server already running keeps the
// files it had. Nothing here ever ends the process.
//
// Bounded: max-connections sockets (shared/http.ts closes the oldest idle one past it),
// headers and the TLS handshake within 10 s, at most max-waiting long-polls held (past it a
// poll is answered at once), a long-poll at most max-wait, `prober` ids counted under at most
// MAX_PROBER_IDS labels.
import { createHash, createPrivateKey, timingSafeEqual, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createSecureContext, type TLSSocket } from "node:tls";
import { Counter, Gauge, type Registry } from "prom-client";
import { parseDuration, type ServeConfig } from "../../shared/config.js";
import { listen, type BodyReply, type HttpHandle, type Reply, type Route, type TlsOptions } from "../../shared/http.js";
import type { IncomingPath, OnewayPath, PathSet } from "../../shared/pathset.js";
import { groupName, type Identity, type UserDb } from "../../shared/users.js";
import { RetryingOutput, type OutputContext } from "./outputs.js";
import { assignedSlice, pathSlice } from "./pathslice.js";
import { parseRegistration, ProberTable } from "./probers.js";
import { assignPaths, weight, type Assignment } from "../assign.js";
import { assignOneway, type OnewayAssignment } from "../oneway.js";

export const PATHS_ROUTE = "/v1/paths";
/** The registered probers, their shares and the coverage of every link (JSON). */
export const PROBERS_ROUTE = "/v1/probers";
/** Distinct `prober` label values at most; later ids are counted as "other". */
export const MAX_PROBER_IDS = 1000;
/** Slices kept per generation (one per router asked for). */
const MAX_CACHED_SLICES = 4096;
/** Memoized (path, prober) weights at most; past it the memo starts again. */
const MAX_WEIGHTS = 1 << 20;
/** Arrivals within this long (or twice the last recomputation, if longer: the service spends at
 *  most a third of its time on it) share one recomputation of the assignment (a storm of 1,000
 *  probers recomputed it once per arrival: about 0.1 s each on 2,000 paths, so it never settled). */
const ASSIGN_COALESCE_MS = 50;
const REALM = 'Bearer realm="lsprobe"';

/** The ETag of a generation. */
export const etagOf = (generation: number): string => `"${generation}"`;

/** Does an If-None-Match header name `etag` (RFC 9110 13.1.2: a list, weak tags compared weakly, or *)? */
export function ifNoneMatch(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const tags = (Array.isArray(header) ? header.join(",") : header).split(",").map((t) => t.trim().replace(/^W\//, ""));
  return tags.includes("*") || tags.includes(etag);
}

/** The tokens of a token file: one a line, blank lines and # comments skipped. */
export function parseTokens(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

/** Is `presented` one of `accepted` (SHA-256 digests)? Every one is compared: no early exit. */
export function tokenAccepted(presented: string, accepted: readonly Buffer[]): boolean {
  const d = digest(presented);
  let ok = false;
  for (const a of accepted) ok = timingSafeEqual(d, a) || ok;
  return ok;
}

type FileKey = "token-file" | "cert-file" | "key-file" | "client-ca-file";

/** A file of plugin.serve that cannot be used, described with its fix. */
export class ServeFileError extends Error {
  override name = "ServeFileError";
}

/** One sentence naming the key, the file, what is wrong and the fix, for a read error. */
export function describeReadError(e: NodeJS.ErrnoException, key: FileKey, file: string, who: Identity, users: UserDb): string {
  const at = `plugin.serve.${key} ${file}`;
  switch (e.code) {
    case "ENOENT":
      return `${at} does not exist; fix: put the file there, or correct plugin.serve.${key}`;
    case "EACCES":
    case "EPERM":
      return `${at}: permission denied as user ${who.name} (uid ${who.uid}); fix: chgrp ${groupName(users, who.gid)} ${file} && chmod 0640 ${file} (readable by the plugin's user and group only), and let ${who.name} search its directories`;
    case "EISDIR":
      return `${at} is a directory; fix: give the path of the file itself`;
    default:
      return `${at}: cannot read it: ${e.message}${e.code ? ` (${e.code})` : ""}`;
  }
}

async function readServeFile(key: FileKey, file: string, ctx: OutputContext): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new ServeFileError(describeReadError(e as NodeJS.ErrnoException, key, file, ctx.who, ctx.users));
  }
}

/** The certificate file's first certificate, or why it is not one. */
function checkCertificate(key: FileKey, file: string, pem: Buffer): void {
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new ServeFileError(`plugin.serve.${key} ${file}: no PEM certificate in it (no "-----BEGIN CERTIFICATE-----" line); fix: give the PEM file (openssl x509 -in ${file} -noout -text shows what is there; DER converts with openssl x509 -inform der -in FILE -out ${file})`);
  try {
    new X509Certificate(pem);
  } catch (e) {
    throw new ServeFileError(`plugin.serve.${key} ${file}: the certificate does not parse (${(e as Error).message}); fix: replace it with a valid PEM certificate (check with openssl x509 -in ${file} -noout -text)`);
  }
}

export interface ServeFiles {
  /** SHA-256 digests of the accepted tokens (auth: token). */
  tokens: Buffer[];
  /** HTTPS when set. */
  tls?: TlsOptions;
}

/** Read and check every file `cfg` names; throws ServeFileError with the fix. */
export async function readServeFiles(cfg: ServeConfig, ctx: OutputContext): Promise<ServeFiles> {
  const tokens: Buffer[] = [];
  if (cfg.auth === "token" && cfg.tokenFile !== null) {
    const list = parseTokens((await readServeFile("token-file", cfg.tokenFile, ctx)).toString("utf8"));
    if (list.length === 0) throw new ServeFileError(`plugin.serve.token-file ${cfg.tokenFile} holds no token; fix: write one token a line, e.g. openssl rand -hex 32 > ${cfg.tokenFile}`);
    tokens.push(...list.map(digest));
  }
  if (cfg.certFile === null || cfg.keyFile === null) return { tokens };
  const cert = await readServeFile("cert-file", cfg.certFile, ctx);
  checkCertificate("cert-file", cfg.certFile, cert);
  const key = await readServeFile("key-file", cfg.keyFile, ctx);
  try {
    createPrivateKey(key);
  } catch (e) {
    throw new ServeFileError(`plugin.serve.key-file ${cfg.keyFile}: not a private key the plugin can read (${(e as Error).message}); fix: give the unencrypted PEM key of cert-file (check with openssl pkey -in ${cfg.keyFile} -noout; a passphrase-protected key: openssl pkey -in KEY -out ${cfg.keyFile})`);
  }
  const tls: TlsOptions = { cert, key };
  if (cfg.auth === "client-cert" && cfg.clientCaFile !== null) {
    const ca = await readServeFile("client-ca-file", cfg.clientCaFile, ctx);
    checkCertificate("client-ca-file", cfg.clientCaFile, ca);
    Object.assign(tls, { ca, requestCert: true, rejectUnauthorized: true });
  }
  try {
    createSecureContext(tls);
  } catch (e) {
    const mismatch = /mismatch/i.test((e as Error).message);
    throw new ServeFileError(
      mismatch
        ? `plugin.serve.key-file ${cfg.keyFile} is not the key of plugin.serve.cert-file ${cfg.certFile} (${(e as Error).message}); fix: give the key the certificate was issued for (openssl x509 -in ${cfg.certFile} -noout -pubkey and openssl pkey -in ${cfg.keyFile} -pubout must print the same key)`
        : `plugin.serve.cert-file ${cfg.certFile} and key-file ${cfg.keyFile}: TLS refuses them (${(e as Error).message}); fix: replace them with a valid PEM certificate and its key`,
    );
  }
  return { tokens, tls };
}

interface Current {
  set: PathSet;
  etag: string;
  /** The whole set's text, and each router's slice as asked for. */
  whole: string;
  slices: Map<string, string>;
}

interface Waiter {
  etag: string;
  /** The ETag its answer would have now. */
  current(): string | undefined;
  wake(): void;
}

/** The assignment for the set in force and the live probers (recomputed when either changes). */
interface Assigned {
  set: PathSet;
  key: string;
  result: Assignment;
  /** plugin.serve.one-way: the one-way paths between the live probers. */
  oneway?: OnewayAssignment;
  etags: Map<string, string>;
  texts: Map<string, string>;
}

/** A registered prober's ETag: the generation and a digest of the paths given to it (one-way ones out and in too, with where they go). */
export const assignedEtag = (generation: number, ids: readonly string[], oneway: readonly OnewayPath[] = [], incoming: readonly IncomingPath[] = []): string => {
  const h = createHash("sha256").update(ids.join("\n"));
  if (oneway.length > 0 || incoming.length > 0) {
    h.update("\n>");
    for (const o of oneway) h.update(`\n${o.id}\t${o.to.address.ipv4 ?? ""}\t${o.to.address.ipv6 ?? ""}\t${o.to.port}`);
    h.update("\n<");
    for (const i of incoming) h.update(`\n${i.id}\t${i.fromAddress.ipv4 ?? ""}\t${i.fromAddress.ipv6 ?? ""}`);
  }
  return `"${generation}.${h.digest("hex").slice(0, 8)}"`;
};

/** What /metrics reads of the service. */
export interface ServeStats {
  requests: ReadonlyMap<number, number>;
  fetches: ReadonlyMap<string, number>;
  waiting: number;
  connections: number;
  tlsErrors: number;
  /** Registered probers, known and live, per site. */
  sites: ReadonlyMap<string, { known: number; live: number }>;
  forgotten: number;
  /** Shared coverage (absent while no prober registered or no set yet). */
  coverage?: Assignment;
}

/** The path-set service: an output like the file and the socket (retried, never fatal). */
export class PathServer extends RetryingOutput {
  private handle?: HttpHandle;
  private current?: Current;
  private files: ServeFiles = { tokens: [] };
  private readonly waiters = new Set<Waiter>();
  private readonly requests = new Map<number, number>();
  private readonly fetches = new Map<string, number>();
  private trying?: Promise<void>;
  /** Files to read again even when the server runs (SIGHUP). */
  private reread = true;
  /** Registered probers and their liveness. */
  readonly probers: ProberTable;
  private assigned?: Assigned;
  /** A refresh() scheduled by refreshSoon(), and how long the last assignment took (ms). */
  private pending?: Promise<void>;
  private assignMs = 0;
  /** weight() of (path, prober) for the set in force: recomputing on an arrival hashes only the new prober's. */
  private weights = new Map<string, string>();
  private weightsOf?: PathSet;
  private expiry?: NodeJS.Timeout;
  private expiryAt = Infinity;
  private readonly now: () => number;

  constructor(
    readonly cfg: ServeConfig,
    ctx: OutputContext,
    opts: { now?: () => number } = {},
  ) {
    super("http", cfg.listen ?? "", ctx);
    this.probers = new ProberTable(cfg.maxProbers, cfg.proberTimeout);
    this.now = opts.now ?? Date.now;
  }

  /** host:port bound (port resolved), once listening. */
  get address(): { host: string; port: number } | undefined {
    return this.handle ? { host: this.handle.host, port: this.handle.port } : undefined;
  }

  get scheme(): "http" | "https" {
    return this.cfg.certFile !== null ? "https" : "http";
  }

  /** Read the files and listen (retried in the background until it works). */
  start(): Promise<void> {
    return this.attempt();
  }

  /** Read every file again (SIGHUP, a configuration reload): a new certificate or token takes effect for new requests. */
  reload(): Promise<void> {
    this.reread = true;
    return this.ok ? this.attempt() : this.retryNow();
  }

  /** A new generation: served from now on, and every long-poll waiting on another ETag is answered. */
  publish(set: PathSet, text: string): void {
    this.current = { set, etag: etagOf(set.generation), whole: text, slices: new Map() };
    if (this.probers.size > 0) this.assignment(); // once per generation, before any ETag is read
    this.wakeChanged();
  }

  stats(): ServeStats {
    const h = this.handle?.stats();
    // Through refresh(): an assignment that changed since (a prober expired before its timer)
    // wakes the long-polls it concerns before anything reads it.
    if (this.probers.size > 0) this.refresh();
    const coverage = this.probers.size > 0 ? this.assigned?.result : undefined;
    return { requests: this.requests, fetches: this.fetches, waiting: this.waiters.size, connections: h?.connections ?? 0, tlsErrors: h?.tlsErrors ?? 0, sites: this.probers.bySite(this.now()), forgotten: this.probers.forgotten, ...(coverage ? { coverage } : {}) };
  }

  /** The assignment for the set in force and the probers live now; recomputed when either changed. */
  assignment(): Assigned | undefined {
    const cur = this.current;
    if (cur === undefined) return undefined;
    const now = this.now();
    const key = this.probers.liveKey(now);
    if (this.assigned?.set === cur.set && this.assigned.key === key) return this.assigned;
    if (this.weightsOf !== cur.set || this.weights.size > MAX_WEIGHTS) {
      this.weights = new Map();
      this.weightsOf = cur.set;
    }
    const memo = this.weights;
    const w = (path: string, prober: string): string => {
      const k = `${path}\n${prober}`;
      let v = memo.get(k);
      if (v === undefined) memo.set(k, (v = weight(path, prober)));
      return v;
    };
    const began = performance.now();
    const live = this.probers.live(now);
    const result = assignPaths(cur.set, live.map((e) => ({ id: e.id, router: e.router })), this.cfg.probersPerLink, w);
    const oneway = this.cfg.oneWay ? assignOneway(cur.set, live, w) : undefined;
    const etags = new Map([...result.byProber].map(([id, ids]) => [id, assignedEtag(cur.set.generation, ids, oneway?.oneway.get(id), oneway?.incoming.get(id))]));
    const changed = this.assigned?.set === cur.set;
    this.assigned = { set: cur.set, key, result, ...(oneway ? { oneway } : {}), etags, texts: new Map() };
    this.assignMs = performance.now() - began;
    if (changed) this.ctx.log().info("probers changed: paths reassigned", { live: result.byProber.size, undercoveredLinks: result.undercovered, unprobedPaths: result.unprobed.length });
    return this.assigned;
  }

  /** The live probers may have changed (a registration, an expiry): reassign, wake whose slice moved, and watch the next expiry. */
  refresh(): void {
    const before = this.assigned;
    if (this.assignment() !== before) this.wakeChanged();
    this.watchExpiry();
  }

  private wakeChanged(): void {
    for (const w of [...this.waiters]) if (w.current() !== w.etag) w.wake();
  }

  private watchExpiry(): void {
    if (this.closed) return;
    const at = this.probers.nextExpiry(this.now());
    if (at === undefined || at >= this.expiryAt) return;
    if (this.expiry) clearTimeout(this.expiry);
    this.expiryAt = at;
    this.expiry = setTimeout(() => {
      this.expiry = undefined;
      this.expiryAt = Infinity;
      this.refresh();
    }, Math.max(0, at - this.now()) + 1);
    this.expiry.unref();
  }

  /** refresh() within ASSIGN_COALESCE_MS, once for every call until then. */
  private refreshSoon(): Promise<void> {
    this.pending ??= new Promise<void>((resolve) => {
      setTimeout(() => {
        this.pending = undefined;
        this.refresh();
        resolve();
      }, Math.max(ASSIGN_COALESCE_MS, 2 * this.assignMs)).unref();
    });
    return this.pending;
  }

  /** The one view pulled a prober's counts, or failed to: its liveness may change (probers.ts). */
  reported(id: string, ok: boolean): void {
    this.probers.reported(id, ok, this.now());
    if (this.assigned?.key !== this.probers.liveKey(this.now())) void this.refreshSoon();
  }

  /** The ETag of what `prober` (registered, or null) at `router` would get now. */
  private etagFor(cur: Current, prober: string | null, router: string | null): string {
    if (prober === null || router === null || this.probers.get(prober) === undefined) return cur.etag;
    // The assignment in force (publish() and refresh() keep it current): computing it here would
    // recompute it on every request of an arrival storm.
    const a = this.assigned?.set === cur.set ? this.assigned : undefined;
    return a?.etags.get(prober) ?? cur.etag;
  }

  protected attempt(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.trying ??= this.setUp().finally(() => (this.trying = undefined));
    return this.trying;
  }

  private async setUp(): Promise<void> {
    if (!this.reread && this.handle) return;
    let files: ServeFiles;
    try {
      files = await readServeFiles(this.cfg, this.ctx);
    } catch (e) {
      if (!(e instanceof ServeFileError)) throw e;
      this.report(this.handle ? `${e.message} (still serving with the files read before)` : e.message);
      return;
    }
    if (this.closed) return;
    if (this.handle) {
      if (files.tls) this.handle.setSecureContext(files.tls);
    } else {
      try {
        this.handle = await listen(this.path, {
          program: "lsprobe-plugin",
          routes: [this.route(), this.proberRoute()],
          log: () => this.ctx.log(),
          tls: files.tls,
          authorize: (req) => this.authorize(req),
          maxConnections: this.cfg.maxConnections,
          // A long-poll is a request in progress with a silent socket: the idle and request
          // timeouts must outlast the longest one.
          idleTimeoutMs: this.cfg.maxWait + 30_000,
          requestTimeoutMs: this.cfg.maxWait + 30_000,
        });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const fix =
          err.code === "EADDRINUSE"
            ? "stop what holds the port (a second plugin?), or change plugin.serve.listen"
            : err.code === "EADDRNOTAVAIL"
              ? "the address is not one of this host's; change plugin.serve.listen"
              : err.code === "EACCES"
                ? "ports below 1024 need privileges the plugin should not have; use a port above 1024"
                : "check plugin.serve.listen";
        this.report(`cannot listen on ${this.path}: ${err.message}; fix: ${fix}`);
        return;
      }
      if (this.closed) return void this.handle.close();
      this.ctx.log().info("serving path sets", { listen: `${this.handle.host}:${this.handle.port}`, scheme: this.scheme, auth: this.cfg.auth, endpoint: PATHS_ROUTE });
    }
    this.files = files;
    this.reread = false;
    this.succeeded(this.handle ? "serving" : "listening");
  }

  private count(code: number): void {
    this.requests.set(code, (this.requests.get(code) ?? 0) + 1);
  }

  private refuse(status: number, body: string, headers: Record<string, string> = {}): BodyReply {
    this.count(status);
    return { status, body: `lsprobe-plugin: ${body}\n`, headers };
  }

  private authorize(req: IncomingMessage): BodyReply | undefined {
    const socket = req.socket as Partial<TLSSocket>;
    if (this.cfg.auth === "client-cert") {
      // The handshake already refused a client without an accepted certificate; this is the belt.
      return socket.authorized === true ? undefined : this.refuse(403, "a client certificate signed by plugin.serve.client-ca-file is required");
    }
    if (this.cfg.auth === "none") return undefined;
    const header = req.headers.authorization;
    if (header === undefined) return this.refuse(401, "a bearer token is required (Authorization: Bearer TOKEN)", { "www-authenticate": REALM });
    const m = /^Bearer +([!-~]+) *$/i.exec(header);
    if (m === null || !tokenAccepted(m[1], this.files.tokens))
      return this.refuse(401, "the bearer token is not accepted", { "www-authenticate": `${REALM}, error="invalid_token"` });
    return undefined;
  }

  private route(): Route {
    return {
      path: PATHS_ROUTE,
      help: "the path set in force (?router=R: the slice of R's prober; ?prober=ID names the asker), ETag = generation; If-None-Match + ?wait=30s: long-poll for the next generation",
      gzip: true,
      handler: (req) => this.serve(req),
    };
  }

  private proberRoute(): Route {
    return {
      path: PROBERS_ROUTE,
      help: "the registered probers (site, router, address, live, paths assigned) and each link's probers (shared coverage), JSON",
      gzip: true,
      handler: () => {
        this.count(200);
        return { type: "application/json", headers: { "cache-control": "no-cache" }, body: JSON.stringify(this.probersView()) + "\n" };
      },
    };
  }

  /** What GET /v1/probers shows: every registered prober, and the assignment in force. */
  probersView(): object {
    const now = this.now();
    const a = this.probers.size > 0 ? (this.refresh(), this.assigned) : undefined;
    return {
      generation: this.current?.set.generation ?? null,
      proberTimeoutSeconds: this.cfg.proberTimeout / 1000,
      probersPerLink: this.cfg.probersPerLink,
      probers: this.probers.all().map((e) => ({
        id: e.id,
        site: e.site,
        router: e.router,
        address: e.address,
        live: this.probers.isLive(e, now),
        holding: e.holding > 0,
        lastSeenSecondsAgo: Math.max(0, (now - e.lastSeen) / 1000),
        paths: a?.result.byProber.get(e.id)?.length ?? 0,
      })),
      ...(a ? { undercovered: a.result.undercovered, unprobed: a.result.unprobed, links: a.result.links } : {}),
    };
  }

  private serve(req: IncomingMessage): Reply | Promise<Reply> {
    const q = new URL(req.url ?? "/", "http://x").searchParams;
    const reg = parseRegistration(q, req.headers);
    if ("error" in reg) return this.refuse(400, reg.error);
    const { id: prober, router } = reg;
    let waitMs = 0;
    const wait = q.get("wait");
    if (wait !== null) {
      try {
        waitMs = Math.min(parseDuration(/^\d+(\.\d+)?$/.test(wait) ? Number(wait) : wait), this.cfg.maxWait);
      } catch {
        return this.refuse(400, `wait: expected a duration such as "30s", got ${JSON.stringify(wait.slice(0, 40))}`);
      }
    }
    const registered = prober !== null && router !== null;
    if (registered) {
      this.probers.seen({ id: prober, router, site: reg.site, address: reg.address, addresses: reg.addresses, port: reg.port, counts: reg.counts }, this.now());
      // An arrival (or a change of router or address) changes the assignment: recomputed once
      // for every arrival within ASSIGN_COALESCE_MS, and this request answered from it.
      if (this.current !== undefined && this.assigned?.key !== this.probers.liveKey(this.now())) return this.refreshSoon().then(() => this.hold(req, prober, router, waitMs, registered));
    }
    return this.hold(req, prober, router, waitMs, registered);
  }

  /** Answer now, or hold the request as a long-poll until its ETag changes or `waitMs` ends. */
  private hold(req: IncomingMessage, prober: string | null, router: string | null, waitMs: number, registered: boolean): Reply | Promise<Reply> {
    const answer = (): Reply => this.answer(req, prober, router);
    const cur = this.current;
    const etag = cur && this.etagFor(cur, prober, router);
    const fresh = etag !== undefined && !ifNoneMatch(req.headers["if-none-match"], etag);
    if (fresh || waitMs === 0 || this.waiters.size >= this.cfg.maxWaiting) return answer();
    // Hold until another generation (or assignment) is published, the wait ends, or the client
    // goes. A registered prober holding a long-poll is live.
    if (registered) this.probers.hold(prober!);
    return new Promise<Reply>((resolve) => {
      const socket = req.socket;
      const done = (): void => {
        clearTimeout(timer);
        socket.off("close", done);
        this.waiters.delete(w);
        if (registered) {
          this.probers.release(prober!, this.now());
          this.watchExpiry();
        }
        resolve(answer());
      };
      const w: Waiter = { etag: etag ?? "", current: () => (this.current ? this.etagFor(this.current, prober, router) : undefined), wake: done };
      const timer = setTimeout(done, waitMs);
      timer.unref();
      socket.once("close", done);
      this.waiters.add(w);
    });
  }

  private answer(req: IncomingMessage, prober: string | null, router: string | null): Reply {
    const cur = this.current;
    if (cur === undefined) return this.refuse(503, "no path set yet (the plugin has not computed one); retry", { "retry-after": "1" });
    if (prober !== null) {
      const id = this.fetches.has(prober) || this.fetches.size < MAX_PROBER_IDS ? prober : "other";
      this.fetches.set(id, (this.fetches.get(id) ?? 0) + 1);
    }
    const etag = this.etagFor(cur, prober, router);
    const headers = { etag, "cache-control": "no-cache" };
    if (ifNoneMatch(req.headers["if-none-match"], etag)) {
      this.count(304);
      // Written here: a 304 has no body, and the gzip of an empty one would still be 20 bytes.
      return { stream: (res: ServerResponse) => void res.writeHead(304, headers).end() };
    }
    this.count(200);
    return { type: "application/json", headers, body: this.text(cur, prober, router, etag) };
  }

  private text(cur: Current, prober: string | null, router: string | null, etag: string): string {
    if (router === null) return cur.whole;
    const a = prober !== null && etag !== cur.etag ? this.assigned : undefined;
    const ids = a?.set === cur.set ? a.result.byProber.get(prober!) : undefined;
    if (a && ids) {
      const k = `${router}\n${etag}`;
      let t = a.texts.get(k);
      if (t === undefined) {
        t = JSON.stringify(assignedSlice(cur.set, router, new Set(ids), { oneway: a.oneway?.oneway.get(prober!), incoming: a.oneway?.incoming.get(prober!) }));
        if (a.texts.size < MAX_CACHED_SLICES) a.texts.set(k, t);
      }
      return t;
    }
    let t = cur.slices.get(router);
    if (t === undefined) {
      t = JSON.stringify(pathSlice(cur.set, router));
      if (cur.slices.size < MAX_CACHED_SLICES) cur.slices.set(router, t);
    }
    return t;
  }

  override close(): Promise<void> {
    super.close();
    if (this.expiry) clearTimeout(this.expiry);
    for (const w of [...this.waiters]) w.wake();
    const h = this.handle;
    this.handle = undefined;
    return h?.close() ?? Promise.resolve();
  }
}

/** The service's metrics on the plugin's /metrics (plugin.listen); read at scrape time. */
export function registerServeMetrics(registry: Registry, server: () => PathServer | undefined): void {
  const r = [registry];
  const stats = (): ServeStats | undefined => server()?.stats();
  new Counter({
    name: "lsprobe_plugin_serve_requests_total",
    help: "Answers of the path-set service (plugin.serve) by HTTP status: 200 a set, 304 not modified (long-polls that timed out included), 400, 401 no or a wrong token, 403 no client certificate, 503 no set yet.",
    labelNames: ["code"],
    registers: r,
    collect() {
      this.reset();
      for (const [code, n] of stats()?.requests ?? []) this.inc({ code: String(code) }, n);
    },
  });
  new Counter({
    name: "lsprobe_plugin_serve_fetches_total",
    help: `Path sets answered (200 or 304) per prober id (?prober=); past ${MAX_PROBER_IDS} ids the rest count as "other".`,
    labelNames: ["prober"],
    registers: r,
    collect() {
      this.reset();
      for (const [prober, n] of stats()?.fetches ?? []) this.inc({ prober }, n);
    },
  });
  new Gauge({
    name: "lsprobe_plugin_serve_waiting",
    help: "Long-polls of the path-set service waiting for the next generation.",
    registers: r,
    collect() {
      this.set(stats()?.waiting ?? 0);
    },
  });
  new Gauge({
    name: "lsprobe_plugin_serve_connections",
    help: "Connections open to the path-set service.",
    registers: r,
    collect() {
      this.set(stats()?.connections ?? 0);
    },
  });
  const perSite = (name: string, help: string, which: "known" | "live"): void =>
    void new Gauge({
      name,
      help,
      labelNames: ["site"],
      registers: r,
      collect() {
        this.reset();
        for (const [site, n] of stats()?.sites ?? []) this.set({ site }, n[which]);
      },
    });
  perSite("lsprobe_plugin_probers_known", "Probers registered with the path-set service (a fetch with ?prober=ID&router=R), per site (?site=; unknown when not given).", "known");
  perSite("lsprobe_plugin_probers_live", "Registered probers live now (a long-poll held, or a request within plugin.serve.prober-timeout), per site: those the paths are assigned to.", "live");
  new Counter({
    name: "lsprobe_plugin_probers_forgotten_total",
    help: "Registered probers forgotten to keep the table within plugin.serve.max-probers (the one seen longest ago first).",
    registers: r,
    collect() {
      this.reset();
      this.inc(stats()?.forgotten ?? 0);
    },
  });
  new Gauge({
    name: "lsprobe_plugin_link_coverage",
    help: "Shared coverage: distinct live probers probing a path across the link (plugin/assign.ts); no series until a prober registers.",
    labelNames: ["link", "from", "to"],
    registers: r,
    collect() {
      this.reset();
      for (const l of stats()?.coverage?.links ?? []) this.set({ link: l.link, from: l.from, to: l.to }, l.probers.length);
    },
  });
  new Gauge({
    name: "lsprobe_plugin_links_undercovered",
    help: "Shared coverage: links probed by fewer than plugin.serve.probers-per-link probers (the live probers allow no more: only one prober's paths, or none, cross them); NaN until a prober registers.",
    registers: r,
    collect() {
      const c = stats()?.coverage;
      this.set(c ? c.undercovered : NaN);
    },
  });
  new Gauge({
    name: "lsprobe_plugin_paths_unprobed",
    help: "Shared coverage: paths of the set no live registered prober probes (no prober at either end); NaN until a prober registers.",
    registers: r,
    collect() {
      const c = stats()?.coverage;
      this.set(c ? c.unprobed.length : NaN);
    },
  });
  new Counter({
    name: "lsprobe_plugin_serve_tls_errors_total",
    help: "TLS handshakes the path-set service failed (no or an unaccepted client certificate, a plain-HTTP client, a timeout).",
    registers: r,
    collect() {
      this.reset();
      this.inc(stats()?.tlsErrors ?? 0);
    },
  });
}
