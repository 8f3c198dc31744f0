// Where the prober gets its path sets: the plugin's Unix socket (NDJSON, one document per
// generation), with reconnection and exponential backoff; the plugin's path-set service over
// HTTP(S) (prober.paths.url, plugin.serve), long-polled with the same backoff; and the path-set
// file at start, and again whenever the socket or the service is unavailable (the plugin
// restarting or gone). The last good set stays in force whatever happens here; a document that
// fails validation is reported and ignored. Emits "pathset" only for a generation newer than
// the one in force, whichever channel brought it, or, over HTTP, for the same generation under
// another ETag than the set in force came with: the plugin moved paths between probers (shared
// coverage, plugin/assign.ts: a registered prober's ETag is "<generation>.<assignment digest>").
//
// Over HTTP each request is GET url?prober=ID[&router=R][&site=S][&address=A[&address=A6]]
// [&port=P][&counts=URL]&wait=W (plugin/publish/probers.ts: its addresses and UDP port are where
// other probers send it one-way probes, `counts` the URL of its GET /v1/counts for the one
// view) with If-None-Match naming the generation in force: the plugin answers 200 with a newer
// set as soon as there is one, else 304 once W is over, and the next request goes out at once.
// A failure (connection refused, TLS, 401, a 5xx, no answer within W + 15 s) is reported once
// per distinct reason ("unreachable"), the file is read, and the request retried after the
// backoff (200 ms doubling to 10 s). The token file, CA, client certificate and key are read at
// each request, so a rotated file takes effect without a restart.
import { EventEmitter } from "node:events";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import net from "node:net";
import { hostname } from "node:os";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { gunzip as gunzipCb } from "node:zlib";
import { parsePathSet, type PathSet } from "../shared/pathset.js";

const gunzip = promisify(gunzipCb);

export type PathSourceChannel = "socket" | "file" | "http";

export interface PathSourceOptions {
  socket: string | null;
  file: string | null;
  /** The plugin's path-set service, http:// or https:// (prober.paths.url); absent or null: not used. */
  url?: string | null;
  /** Sent as ?prober= (prober.id; default: the host name). */
  id?: string | null;
  /** Sent as ?router=: the plugin answers with the slice of the paths starting there (prober.router);
   *  with the id it registers the prober, and the slice is its share (shared coverage). */
  router?: string | null;
  /** Sent as ?site= and ?address= when given: what the plugin's prober table shows. */
  site?: string | null;
  address?: string | null;
  /** Sent as a second ?address=: its address of the other family (dual stack). */
  address6?: string | null;
  /** Sent as ?port=: its UDP probe port (prober.port), where one-way probes from other probers go. */
  port?: number | null;
  /** Sent as ?counts=: the URL of its GET /v1/counts (countsUrl()); null: the plugin could not reach it. */
  counts?: string | null;
  /** Bearer token: the file's first line (prober.paths.token-file). */
  tokenFile?: string | null;
  /** CA certificates to check the plugin's with; absent: the system's. */
  caFile?: string | null;
  /** Client certificate and key (PEM). */
  certFile?: string | null;
  keyFile?: string | null;
  /** Long-poll length asked for, ms (default 30 s). */
  waitMs?: number;
  /** Backoff bounds in ms. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Largest accepted document, bytes. */
  maxLine?: number;
}

export interface PathSourceEvents {
  pathset: [set: PathSet, from: PathSourceChannel];
  invalid: [error: Error, from: PathSourceChannel];
  connected: [via: "socket" | "http"];
  disconnected: [reason: string];
  /** The service cannot be used (once per distinct reason until it works again). */
  unreachable: [reason: string];
}

/**
 * The URL of this prober's GET /v1/counts as another host reaches it, from prober.listen: its
 * host, or for a wildcard listen (0.0.0.0, ::, none) the prober's source address (IPv4 first).
 * Null when it listens on loopback only: the plugin could not pull it from elsewhere.
 */
export function countsUrl(listen: string, sources: { ipv4: string | null; ipv6: string | null }): string | null {
  const i = listen.lastIndexOf(":");
  const host = listen.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  const port = listen.slice(i + 1);
  if (i < 0 || !/^\d+$/.test(port) || port === "0") return null;
  const loopback = host === "localhost" || host === "::1" || /^127\./.test(host) || /^::ffff:127\./i.test(host);
  if (loopback) return null;
  const wildcard = host === "" || host === "0.0.0.0" || host === "::" || host === "*";
  const addr = wildcard ? (sources.ipv4 ?? sources.ipv6) : host;
  if (addr === null) return null;
  return `http://${addr.includes(":") ? `[${addr}]` : addr}:${port}/v1/counts`;
}

/** A request failure as the log shows it, e.g. "https://c:9471/v1/paths: 401 the bearer token is not accepted". */
class FetchFailure extends Error {}

export class PathSource extends EventEmitter<PathSourceEvents> {
  current?: PathSet;
  /** When the set in force was received (ms since epoch). */
  receivedAt = 0;
  /** When a live channel last confirmed the set in force (a set, a 304, a connection), or the last one was lost. */
  confirmedAt = 0;
  private socketUp = false;
  private httpUp = false;
  private sock?: net.Socket;
  private timer?: NodeJS.Timeout;
  private httpTimer?: NodeJS.Timeout;
  private backoff: number;
  private httpBackoff: number;
  private closed = false;
  private request?: http.ClientRequest;
  private agent?: http.Agent;
  /** The ETag of the service's last answer (it may name a set older than the one in force). */
  private lastEtag?: string;
  /** The ETag the set in force came with over HTTP (undefined: it came another way). */
  private currentEtag?: string;
  private lastFailure?: string;

  constructor(private readonly o: PathSourceOptions) {
    super();
    this.backoff = o.minBackoffMs ?? 200;
    this.httpBackoff = o.minBackoffMs ?? 200;
  }

  /** A live channel (the socket, or the service answering) is up. */
  get connected(): boolean {
    return this.socketUp || this.httpUp;
  }

  /** Seconds the set in force has gone unconfirmed: 0 while a live channel is up. */
  pathsetAge(now = Date.now()): number {
    return this.connected ? 0 : Math.max(0, (now - this.confirmedAt) / 1000);
  }

  async start(): Promise<void> {
    await this.readFile();
    this.connect();
    this.poll();
  }

  /** Offer a document; it wins if its generation is newer than the one in force. */
  offer(doc: unknown, from: PathSourceChannel, etag?: string): boolean {
    let set: PathSet;
    const where = from === "file" ? (this.o.file ?? "file") : from === "http" ? (this.o.url ?? "http") : (this.o.socket ?? "socket");
    try {
      set = parsePathSet(doc, where);
    } catch (e) {
      this.emit("invalid", e as Error, from);
      return false;
    }
    if (this.current && set.generation < this.current.generation) return false;
    // The same generation is news only over HTTP under another ETag (a reassignment).
    if (this.current && set.generation === this.current.generation && (from !== "http" || etag === undefined || etag === this.currentEtag || etag === `"${set.generation}"`)) return false;
    this.current = set;
    this.currentEtag = from === "http" ? etag : undefined;
    this.receivedAt = Date.now();
    this.confirmedAt = this.receivedAt;
    this.emit("pathset", set, from);
    return true;
  }

  async readFile(): Promise<void> {
    if (!this.o.file) return;
    let text: string;
    try {
      text = await readFile(this.o.file, "utf8");
    } catch {
      return; // not there yet
    }
    try {
      this.offer(JSON.parse(text), "file");
    } catch (e) {
      this.emit("invalid", new Error(`${this.o.file}: ${(e as Error).message}`), "file");
    }
  }

  private connect(): void {
    if (this.closed || !this.o.socket) return;
    const sock = net.connect(this.o.socket);
    this.sock = sock;
    let buf = "";
    const max = this.o.maxLine ?? 256 << 20;
    sock.setEncoding("utf8");
    sock.on("connect", () => {
      this.socketUp = true;
      this.confirmedAt = Date.now();
      this.backoff = this.o.minBackoffMs ?? 200;
      this.emit("connected", "socket");
    });
    sock.on("data", (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.offer(JSON.parse(line), "socket");
        } catch (e) {
          this.emit("invalid", e as Error, "socket");
        }
      }
      if (buf.length > max) {
        this.emit("invalid", new Error(`document over ${max} bytes; dropped`), "socket");
        buf = "";
      }
    });
    sock.on("error", () => {}); // "close" follows
    sock.on("close", () => {
      const was = this.socketUp;
      this.socketUp = false;
      this.sock = undefined;
      if (this.closed) return;
      if (was) {
        this.confirmedAt = Date.now();
        this.emit("disconnected", "socket closed");
      }
      // The plugin may have written a newer file before going away.
      void this.readFile();
      this.timer = setTimeout(() => this.connect(), this.backoff);
      this.timer.unref();
      this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 10_000);
    });
  }

  // ---- the path-set service (prober.paths.url) ----

  /** The URL of the next request: the service's, with prober, router and wait. */
  requestUrl(): URL {
    const u = new URL(this.o.url!);
    u.searchParams.set("prober", this.o.id ?? hostname());
    if (this.o.router) u.searchParams.set("router", this.o.router);
    if (this.o.site) u.searchParams.set("site", this.o.site);
    if (this.o.address) u.searchParams.set("address", this.o.address);
    if (this.o.address6) u.searchParams.append("address", this.o.address6);
    if (this.o.port) u.searchParams.set("port", String(this.o.port));
    if (this.o.counts) u.searchParams.set("counts", this.o.counts);
    u.searchParams.set("wait", `${this.o.waitMs ?? 30_000}ms`);
    return u;
  }

  private poll(delayMs = 0): void {
    if (this.closed || !this.o.url) return;
    const run = (): void => {
      this.httpTimer = undefined;
      if (this.closed) return;
      const started = Date.now();
      this.fetchOnce().then(
        (fresh) => {
          this.markUp();
          // Nothing new, and sooner than a long-poll would end: the plugin could not hold the
          // request (max-waiting reached, or it ignores wait). Do not hammer it.
          const quick = !fresh && Date.now() - started < (this.o.waitMs ?? 30_000) / 2;
          this.poll(quick ? (this.o.minBackoffMs ?? 200) : 0);
        },
        (e: unknown) => {
          if (this.closed) return;
          const reason = e instanceof FetchFailure ? e.message : `${this.o.url}: ${(e as Error).message}`;
          if (this.httpUp) {
            this.httpUp = false;
            this.confirmedAt = Date.now();
            this.emit("disconnected", reason);
          }
          if (reason !== this.lastFailure) this.emit("unreachable", reason);
          this.lastFailure = reason;
          void this.readFile();
          const wait = this.httpBackoff;
          this.httpBackoff = Math.min(this.httpBackoff * 2, this.o.maxBackoffMs ?? 10_000);
          this.poll(wait);
        },
      );
    };
    if (delayMs === 0) setImmediate(run);
    else {
      this.httpTimer = setTimeout(run, delayMs);
      this.httpTimer.unref();
    }
  }

  /** The service answered (200 or 304): up, backoff reset, the set in force confirmed. */
  private markUp(): void {
    this.httpBackoff = this.o.minBackoffMs ?? 200;
    this.lastFailure = undefined;
    this.confirmedAt = Date.now();
    if (this.httpUp) return;
    this.httpUp = true;
    this.emit("connected", "http");
  }

  private async readOption(key: string, file: string | null | undefined): Promise<Buffer | undefined> {
    if (!file) return undefined;
    try {
      return await readFile(file);
    } catch (e) {
      throw new FetchFailure(`prober.paths.${key} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); fix: make it readable by the prober's user, or correct prober.paths.${key}`);
    }
  }

  /** One request. Resolves true when it brought a newer set, false for nothing new; rejects on failure. */
  private async fetchOnce(): Promise<boolean> {
    const url = this.requestUrl();
    const tls = url.protocol === "https:";
    const [token, ca, cert, key] = await Promise.all([
      this.readOption("token-file", this.o.tokenFile),
      this.readOption("ca-file", this.o.caFile),
      this.readOption("cert-file", this.o.certFile),
      this.readOption("key-file", this.o.keyFile),
    ]);
    const bearer = token?.toString("utf8").split(/\r?\n/)[0].trim();
    if (token !== undefined && !bearer) throw new FetchFailure(`prober.paths.token-file ${this.o.tokenFile}: the first line is empty; fix: write the token there`);
    const tags = [...new Set([this.current ? `"${this.current.generation}"` : undefined, this.lastEtag].filter((t): t is string => t !== undefined))];
    const headers: Record<string, string> = { accept: "application/json", "accept-encoding": "gzip" };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (tags.length) headers["if-none-match"] = tags.join(", ");
    this.agent ??= tls ? new https.Agent({ keepAlive: true, maxSockets: 1 }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
    const waitMs = this.o.waitMs ?? 30_000;
    const where = this.o.url!;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const opts: https.RequestOptions = { method: "GET", headers, agent: this.agent, ...(tls ? { ca, cert, key } : {}) };
      const req = (tls ? https : http).request(url, opts, resolve);
      this.request = req;
      req.setTimeout(waitMs + 15_000, () => req.destroy(new Error(`no answer within ${Math.round((waitMs + 15_000) / 1000)} s`)));
      req.on("error", (e) => reject(new FetchFailure(`${where}: ${e.message}${(e as NodeJS.ErrnoException).code && !e.message.includes((e as NodeJS.ErrnoException).code!) ? ` (${(e as NodeJS.ErrnoException).code})` : ""}`)));
      req.end();
    });
    const body = await this.readBody(res, where);
    this.request = undefined;
    if (res.statusCode === 304) return false;
    if (res.statusCode === 200) this.markUp();
    else {
      const text = body.toString("utf8").split("\n")[0].replace(/^lsprobe-plugin: /, "").slice(0, 200);
      const hint = res.statusCode === 401 ? (bearer ? "; fix: put a token the plugin accepts (plugin.serve.token-file) in prober.paths.token-file" : "; fix: set prober.paths.token-file") : "";
      throw new FetchFailure(`${where}: ${res.statusCode} ${text}${hint}`);
    }
    // Remembered even for a document refused below: the next request waits for another one.
    if (res.headers.etag !== undefined) this.lastEtag = res.headers.etag;
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString("utf8"));
    } catch (e) {
      this.emit("invalid", new Error(`${where}: ${(e as Error).message}`), "http");
      return false;
    }
    return this.offer(doc, "http", res.headers.etag);
  }

  private async readBody(res: IncomingMessage, where: string): Promise<Buffer> {
    const max = this.o.maxLine ?? 256 << 20;
    const chunks: Buffer[] = [];
    let size = 0;
    await new Promise<void>((resolve, reject) => {
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > max) res.destroy(new Error(`document over ${max} bytes`));
        else chunks.push(c);
      });
      res.on("end", resolve);
      res.on("error", (e) => reject(new FetchFailure(`${where}: ${e.message}`)));
      res.on("aborted", () => reject(new FetchFailure(`${where}: the answer was cut short`)));
    });
    const raw = Buffer.concat(chunks);
    if (res.headers["content-encoding"] !== "gzip") return raw;
    try {
      return await gunzip(raw, { maxOutputLength: max });
    } catch (e) {
      throw new FetchFailure(`${where}: bad gzip answer (${(e as Error).message})`);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.httpTimer) clearTimeout(this.httpTimer);
    this.sock?.destroy();
    this.request?.destroy();
    this.agent?.destroy();
  }
}
