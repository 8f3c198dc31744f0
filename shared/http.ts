// The HTTP shell both programs serve /metrics and /healthz from (node:http).
//
// A route table, GET and HEAD only (anything else: 405 with Allow), a landing page at / that
// links the routes (as blackbox_exporter's does), a 404 that lists them, and /metrics gzipped
// when the scraper asks for it.
//
// Slow or idle clients cannot lock the scraper out. Headers must arrive within headersTimeout
// (10 s), the whole request within requestTimeout (30 s), a silent socket is closed after
// idleTimeout (30 s), a kept-alive one after keepAliveTimeout (5 s). And the server holds at
// most maxConnections sockets (128): a new connection past the limit closes the oldest idle one
// (no request in progress: still sending its headers, or kept alive between requests), so a
// scrape gets in at once however many slow sockets are open, and the process never runs out of
// file descriptors (which is how ~1,000 slow connections made /metrics unreachable: accept()
// failed with EMFILE). Only when every socket is busy with a request is the new one refused.
//
// With `tls` it serves HTTPS (node:https) under the same limits, the TLS handshake within
// headersTimeout too; its certificate can be replaced while it runs (setSecureContext). An
// `authorize` hook answers every request it refuses (401, 403) before any route, the landing
// page and the 404 included.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { SecureContextOptions } from "node:tls";
import type { Socket } from "node:net";
import { promisify } from "node:util";
import { gzip as gzipCb } from "node:zlib";
import type { Registry } from "prom-client";
import type { Logger } from "./log.js";

const gzip = promisify(gzipCb);

export const ALLOWED_METHODS = "GET, HEAD";

/** A whole answer. `type` defaults to text/plain; status to 200. */
export interface BodyReply {
  status?: number;
  type?: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

/** An answer the handler writes itself (headers included); for HEAD, node drops the body. */
export interface StreamReply {
  stream(res: ServerResponse): void;
}

export type Reply = BodyReply | StreamReply;

export interface Route {
  /** Exact path, e.g. "/metrics" (the query string is ignored when matching). */
  path: string;
  /** One line for the landing page and the 404 text. */
  help: string;
  handler(req: IncomingMessage): Reply | Promise<Reply>;
  /** Compress a BodyReply with gzip when the client accepts it (Vary: Accept-Encoding). */
  gzip?: boolean;
}

export interface HttpOptions {
  /** Program name, for the landing page's title and the 404 text. */
  program: string;
  /** A line under the landing page's title (e.g. the version line). */
  about?: string;
  routes?: readonly Route[];
  /** The logger to use at the time (a program may replace its logger on reload). */
  log?: () => Pick<Logger, "error" | "once">;
  /** Sockets held at most (default 128); past it the oldest idle one is closed. */
  maxConnections?: number;
  /** ms for the request headers (default 10 s). */
  headersTimeoutMs?: number;
  /** ms for the whole request (default 30 s; at least headersTimeoutMs). */
  requestTimeoutMs?: number;
  /** ms a kept-alive socket waits for its next request (default 5 s). */
  keepAliveTimeoutMs?: number;
  /** ms of silence after which any socket is closed (default 30 s). */
  idleTimeoutMs?: number;
  /** Serve HTTPS with this key and certificate (and, for client certificates, ca + requestCert + rejectUnauthorized). */
  tls?: TlsOptions;
  /** Runs before routing: a reply refuses the request (401 with WWW-Authenticate, 403), undefined lets it through. */
  authorize?: (req: IncomingMessage) => BodyReply | undefined;
}

export interface TlsOptions extends SecureContextOptions {
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
}

export interface HttpStats {
  /** Sockets open now. */
  connections: number;
  /** Of them, with a request in progress. */
  busy: number;
  /** Idle sockets closed to make room for a new one. */
  evicted: number;
  /** New sockets closed at once because every open one was busy. */
  refused: number;
  /** TLS handshakes that failed (no or a bad client certificate, a plain-HTTP client, a timeout). */
  tlsErrors: number;
}

export interface HttpHandle {
  /** The address bound (port resolved when 0 was asked). */
  readonly host: string;
  readonly port: number;
  /** Replace the route table (a program can listen early, e.g. before dropping privileges). */
  setRoutes(routes: readonly Route[]): void;
  /** HTTPS only: the key and certificate (and CA) for new connections; open ones keep theirs. */
  setSecureContext(tls: SecureContextOptions): void;
  stats(): HttpStats;
  /** Stop listening and close every socket. */
  close(): Promise<void>;
}

/** "127.0.0.1:9468", "[::1]:9468", "localhost:0" -> host and port. */
export function parseHostPort(hostPort: string): { host: string; port: number } {
  const i = hostPort.lastIndexOf(":");
  const host = i < 0 ? "" : hostPort.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  const portText = i < 0 ? "" : hostPort.slice(i + 1);
  const port = Number(portText);
  if (i < 0 || !/^\d+$/.test(portText) || port > 65535) throw new Error(`${JSON.stringify(hostPort)}: expected host:port (port 0 to 65535)`);
  return { host, port };
}

/** Does an Accept-Encoding header accept gzip (RFC 9110 12.5.3: q=0 refuses; * stands for the rest)? */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  let star: boolean | undefined;
  for (const part of (Array.isArray(header) ? header.join(",") : header).split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const q = qp === undefined ? 1 : Number(qp.slice(2));
    const ok = Number.isFinite(q) && q > 0;
    if (name === "gzip" || name === "x-gzip") return ok;
    if (name === "*") star = ok;
  }
  return star ?? false;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function landingPage(program: string, about: string | undefined, routes: readonly Route[]): string {
  // Relative links, so that the page works behind a reverse proxy under a path prefix.
  const items = routes.map((r) => `<li><a href="${escapeHtml(r.path.replace(/^\//, "") || ".")}">${escapeHtml(r.path)}</a>: ${escapeHtml(r.help)}</li>`).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(program)}</title></head>
<body>
<h1>${escapeHtml(program)}</h1>
${about ? `<p>${escapeHtml(about)}</p>\n` : ""}<ul>
${items}
</ul>
</body>
</html>
`;
}

/** The /metrics route of a prom-client registry: rendered at each scrape, gzipped on request. */
export function metricsRoute(registry: Registry, help = "Prometheus metrics"): Route {
  return {
    path: "/metrics",
    help,
    gzip: true,
    handler: async () => ({ type: registry.contentType, body: await registry.metrics() }),
  };
}

const isStream = (r: Reply): r is StreamReply => typeof (r as StreamReply).stream === "function";

/**
 * Listen on `hostPort` and serve `opts.routes`. Resolves once listening; rejects with the
 * listen error (EADDRINUSE, EACCES, EADDRNOTAVAIL...) for the caller to report. Errors after
 * that are logged, never thrown.
 */
export async function listen(hostPort: string, opts: HttpOptions): Promise<HttpHandle> {
  const { host, port } = parseHostPort(hostPort);
  const headersTimeout = opts.headersTimeoutMs ?? 10_000;
  const serverOptions: http.ServerOptions = {
    headersTimeout,
    requestTimeout: Math.max(opts.requestTimeoutMs ?? 30_000, headersTimeout),
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5_000,
    // How often node checks the two timeouts above (default 30 s would stretch them).
    connectionsCheckingInterval: Math.min(1000, headersTimeout),
  };
  const server: http.Server = opts.tls ? https.createServer({ ...serverOptions, ...opts.tls, handshakeTimeout: headersTimeout }) : http.createServer(serverOptions);
  server.setTimeout(opts.idleTimeoutMs ?? 30_000); // no 'timeout' listener: the socket is destroyed
  const max = Math.max(1, opts.maxConnections ?? 128);
  let routes = new Map<string, Route>();
  let routeList: readonly Route[] = [];
  const setRoutes = (list: readonly Route[]): void => {
    routeList = list;
    routes = new Map(list.map((r) => [r.path, r]));
  };
  setRoutes(opts.routes ?? []);

  // Every open socket, oldest first (a Set keeps insertion order); those with a request in progress.
  const sockets = new Set<Socket>();
  const busy = new Set<Socket>();
  const stats = { evicted: 0, refused: 0, tlsErrors: 0 };
  // A request's socket is the TLS socket over the one "connection" gave (HTTPS): both have the
  // same peer address and port, which name the TCP connection.
  const byPeer = new Map<string, Socket>();
  const peer = (s: Socket): string => `${s.remoteAddress}|${s.remotePort}`;
  server.on("tlsClientError", () => stats.tlsErrors++);
  server.on("connection", (socket: Socket) => {
    if (sockets.size >= max) {
      let victim: Socket | undefined;
      for (const s of sockets) {
        if (!busy.has(s)) {
          victim = s;
          break;
        }
      }
      opts.log?.().once("http:limit", "warn", "HTTP connection limit reached: closing the oldest idle connections to let new ones in (logged once)", { maxConnections: max, listen: hostPort });
      if (victim === undefined) {
        stats.refused++;
        socket.destroy();
        return;
      }
      stats.evicted++;
      sockets.delete(victim);
      victim.destroy();
    }
    sockets.add(socket);
    const key = peer(socket);
    byPeer.set(key, socket);
    socket.once("close", () => {
      sockets.delete(socket);
      busy.delete(socket);
      if (byPeer.get(key) === socket) byPeer.delete(key);
    });
  });

  const endpoints = (): string => ["/", ...routeList.map((r) => r.path).filter((p) => p !== "/")].join(" ");
  const send = (req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void => {
    const buf = typeof body === "string" ? Buffer.from(body) : body;
    res.writeHead(status, { ...headers, "content-length": String(buf.length) });
    res.end(req.method === "HEAD" ? undefined : buf);
  };
  const text = (req: IncomingMessage, res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void =>
    send(req, res, status, { "content-type": "text/plain; charset=utf-8", ...headers }, body);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    const route: Route | undefined =
      routes.get(path) ??
      (path === "/" ? { path: "/", help: "this page", handler: () => ({ type: "text/html; charset=utf-8", body: landingPage(opts.program, opts.about, routeList) }) } : undefined);
    const refusal = opts.authorize?.(req);
    if (refusal !== undefined) return send(req, res, refusal.status ?? 401, { "content-type": refusal.type ?? "text/plain; charset=utf-8", ...refusal.headers }, refusal.body);
    if (route === undefined) return text(req, res, 404, `${opts.program}: not found; endpoints: ${endpoints()}\n`);
    if (req.method !== "GET" && req.method !== "HEAD") return text(req, res, 405, `${opts.program}: method ${req.method} not allowed; use ${ALLOWED_METHODS}\n`, { allow: ALLOWED_METHODS });
    const reply = await route.handler(req);
    if (isStream(reply)) return reply.stream(res);
    const headers: Record<string, string> = { "content-type": reply.type ?? "text/plain; charset=utf-8", ...reply.headers };
    let body = reply.body;
    if (route.gzip) {
      headers.vary = "Accept-Encoding";
      if (acceptsGzip(req.headers["accept-encoding"])) {
        body = await gzip(typeof body === "string" ? Buffer.from(body) : body);
        headers["content-encoding"] = "gzip";
      }
    }
    send(req, res, reply.status ?? 200, headers, body);
  };

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = byPeer.get(peer(req.socket)) ?? req.socket;
    busy.add(socket);
    res.once("close", () => busy.delete(socket));
    handle(req, res).catch((e: unknown) => {
      opts.log?.().error("HTTP handler failed", { path: req.url, error: (e as Error)?.stack ?? String(e) });
      if (!res.headersSent) text(req, res, 500, `${opts.program}: internal error: ${(e as Error)?.message ?? String(e)}\n`);
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host === "" ? undefined : host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (e: Error) => opts.log?.().error("HTTP server error", { listen: hostPort, error: e.message }));
  const addr = server.address();
  const bound = typeof addr === "object" && addr !== null ? { host: addr.address, port: addr.port } : { host, port };

  return {
    host: bound.host,
    port: bound.port,
    setRoutes,
    setSecureContext: (tls: SecureContextOptions) => {
      if (!(server instanceof https.Server)) throw new Error("setSecureContext: not an HTTPS server");
      server.setSecureContext(tls);
    },
    stats: () => ({ connections: sockets.size, busy: busy.size, ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      }),
  };
}
