// Path sets over the network (issue 14, Must 1): plugin.serve's configuration rules, the
// service (ETag, 304, long-poll, tokens, TLS, client certificates, files that cannot be used),
// and the prober's PathSource over HTTPS. Everything on 127.0.0.1, ports chosen by the kernel.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { tmpdir } from "node:os";
import path from "node:path";
import { Registry } from "prom-client";
import { ConfigError, parseConfig, type ServeConfig } from "../../shared/config.js";
import { createLogger } from "../../shared/log.js";
import { parsePathSet, type PathSet } from "../../shared/pathset.js";
import { currentIdentity, readUserDb } from "../../shared/users.js";
import { Engine } from "../../plugin/engine.js";
import { directedPairs } from "../../plugin/paths.js";
import { pathSlice } from "../../plugin/publish/pathslice.js";
import { describeReadError, etagOf, ifNoneMatch, parseTokens, PathServer, registerServeMetrics, tokenAccepted } from "../../plugin/publish/http.js";
import { PathSource } from "../../prober/pathsource.js";
import { ExabgpLines, lineTopology } from "../util/exabgp-lines.js";
import { readTopologyJson } from "../util/edgelist.js";
import { makePki, SKIP_NO_OPENSSL, type TestPki } from "../util/tls.js";
import { createHash } from "node:crypto";

// ---- fixtures ----

async function nanog(): Promise<PathSet> {
  let set: PathSet | undefined;
  const engine = new Engine(
    { query: { pairs: directedPairs([["r1", "r6"]]), mode: "all", maxPerPair: 64, plan: { budgetPps: 1000, alpha: 2, beta: 1, minLinkPps: 25 } }, metric: "igp", debounceMs: 0, staleTimeoutMs: 1000, routeRefresh: false, generation: 0, sliceMs: 0 },
    { log: createLogger({ name: "t", level: "error", stream: { write: () => {} } }), command: () => {}, publish: async (s) => void (set = s), now: () => new Date(0) },
  );
  const t = readTopologyJson("nanog6.json");
  const lines = new ExabgpLines(lineTopology(t.nodes, t.edges));
  let n = 0;
  for (const l of lines.fullTable()) engine.handleLine(l, ++n);
  await engine.recompute();
  return JSON.parse(JSON.stringify(set)) as PathSet;
}

const BASE = nanog();
/** The NANOG 6 set (r1 <-> r6, 8 paths) under another generation. */
async function generation(g: number): Promise<PathSet> {
  return { ...(JSON.parse(JSON.stringify(await BASE)) as PathSet), generation: g };
}

function sink() {
  const lines: string[] = [];
  const log = createLogger({ name: "t", stream: { write: (s: string) => lines.push(s) } });
  return { lines, log };
}
const users = readUserDb();
const ctx = (log = sink().log) => ({ log: () => log, who: currentIdentity(users), users, minRetryMs: 20, maxRetryMs: 40 });

async function until<T>(what: string, f: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function workdir(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-serve-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const SERVE_DEFAULTS: ServeConfig = { listen: "127.0.0.1:0", auth: "token", tokenFile: null, certFile: null, keyFile: null, clientCaFile: null, maxConnections: 64, maxWaiting: 16, maxWait: 60_000, proberTimeout: 30_000, maxProbers: 4096, probersPerLink: 2, oneWay: true };

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One GET, on its own connection. */
function get(url: string, o: { headers?: Record<string, string>; ca?: Buffer; cert?: Buffer; key?: Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === "https:" ? https : http;
    const req = mod.request(u, { headers: o.headers, agent: false, ca: o.ca, cert: o.cert, key: o.key } as https.RequestOptions, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function startServer(t: { after: (f: () => Promise<void> | void) => void }, cfg: Partial<ServeConfig>, log = sink().log): Promise<{ server: PathServer; base: string }> {
  const server = new PathServer({ ...SERVE_DEFAULTS, ...cfg }, ctx(log));
  t.after(() => server.close());
  await server.start();
  const a = server.address;
  return { server, base: a ? `${server.scheme}://127.0.0.1:${a.port}/v1/paths` : "" };
}

// ---- configuration ----

const PLUGIN = `plugin:
  endpoints:
    pairs: [[r1, r6]]
`;

const CONFIG_ERRORS: Record<string, { yaml: string; error: string }> = {
  "auth: token without a token file": {
    yaml: `${PLUGIN}  serve:\n    listen: 0.0.0.0:9471\n    auth: token\n`,
    error: "lsprobe.yaml:6:11: plugin.serve.auth: expected token-file with auth: token (or auth: client-cert, or auth: none on a loopback address), got none",
  },
  "auth defaults to token: a listen address alone is refused": {
    yaml: `${PLUGIN}  serve:\n    listen: 0.0.0.0:9471\n`,
    error: "lsprobe.yaml:4:3: plugin.serve.auth: expected token-file with auth: token (or auth: client-cert, or auth: none on a loopback address), got none",
  },
  "auth: none on a non-loopback address": {
    yaml: `${PLUGIN}  serve:\n    listen: 198.18.0.1:9471\n    auth: none\n`,
    error: `lsprobe.yaml:5:13: plugin.serve.listen: expected a loopback listen address with auth: none (anyone who can connect would get the path sets), got "198.18.0.1:9471"; fix: auth: token with a token-file, or auth: client-cert`,
  },
  "a certificate without its key": {
    yaml: `${PLUGIN}  serve:\n    listen: 0.0.0.0:9471\n    token-file: /etc/lsprobe/tokens\n    cert-file: /etc/lsprobe/cert.pem\n`,
    error: "lsprobe.yaml:7:16: plugin.serve.cert-file: expected both cert-file and key-file, or neither, got only cert-file",
  },
  "client-cert without a CA or TLS": {
    yaml: `${PLUGIN}  serve:\n    listen: 0.0.0.0:9471\n    auth: client-cert\n`,
    error: [
      "lsprobe.yaml:6:11: plugin.serve.auth: expected client-ca-file with auth: client-cert, got none",
      "lsprobe.yaml:6:11: plugin.serve.auth: expected cert-file and key-file with auth: client-cert (client certificates need TLS), got none",
    ].join("\n"),
  },
  "an unknown auth": {
    yaml: `${PLUGIN}  serve:\n    listen: 127.0.0.1:9471\n    auth: basic\n`,
    error: `lsprobe.yaml:6:5: plugin.serve.auth: expected "token", "client-cert" or "none", got "basic"`,
  },
  "a relative token file": {
    yaml: `${PLUGIN}  serve:\n    token-file: tokens.txt\n`,
    error: `lsprobe.yaml:5:5: plugin.serve.token-file: expected an absolute path, got "tokens.txt"`,
  },
  "max-waiting not below max-connections": {
    yaml: `${PLUGIN}  serve:\n    listen: 127.0.0.1:9471\n    auth: none\n    max-connections: 10\n    max-waiting: 10\n`,
    error: "lsprobe.yaml:8:18: plugin.serve.max-waiting: expected max-waiting below max-connections (10), got 10",
  },
  "prober.paths.url not http(s)": {
    yaml: `${PLUGIN}prober:\n  source: 198.18.100.2\n  paths:\n    url: ftp://collector/paths\n`,
    error: `lsprobe.yaml:7:5: prober.paths.url: expected an http:// or https:// URL such as "https://collector.example:9471/v1/paths", got "ftp://collector/paths"`,
  },
  "prober.paths.url with a password": {
    yaml: `${PLUGIN}prober:\n  source: 198.18.100.2\n  paths:\n    url: https://u:secret@collector/v1/paths\n`,
    error: "lsprobe.yaml:7:5: prober.paths.url: expected a URL without user or password (the token goes in paths.token-file)",
  },
  "prober.paths.token-file without a url": {
    yaml: `${PLUGIN}prober:\n  source: 198.18.100.2\n  paths:\n    token-file: /etc/lsprobe/token\n`,
    error: "lsprobe.yaml:6:3: prober.paths.url: expected url with token-file, got none",
  },
  "prober client certificate without its key": {
    yaml: `${PLUGIN}prober:\n  source: 198.18.100.2\n  paths:\n    url: https://c:9471/v1/paths\n    cert-file: /etc/lsprobe/prober.pem\n`,
    error: "lsprobe.yaml:8:16: prober.paths.cert-file: expected both cert-file and key-file, or neither, got only cert-file",
  },
  "prober.site not a site name": {
    yaml: `${PLUGIN}prober:\n  source: 198.18.100.2\n  site: two words\n`,
    error: `lsprobe.yaml:6:3: prober.site: expected 1 to 64 of A-Z a-z 0-9 . _ : @ -, got "two words"`,
  },
  "no socket, file or url": {
    yaml: `${PLUGIN}prober:\n  source: 198.18.100.2\n  paths:\n    socket: null\n    file: null\n`,
    error: "lsprobe.yaml:4:1: prober: expected paths.socket, paths.file or paths.url, got none",
  },
};

for (const [name, c] of Object.entries(CONFIG_ERRORS)) {
  test(`config: ${name}`, () => {
    assert.throws(() => parseConfig(c.yaml, "lsprobe.yaml"), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.message, c.error);
      return true;
    });
  });
}

test("config: what is accepted (auth none on loopback, url alone, the id)", () => {
  const ok = parseConfig(`${PLUGIN}  serve:\n    listen: "[::1]:9471"\n    auth: none\nprober:\n  source: 198.18.100.2\n  id: site-a\n  site: ams\n  paths:\n    socket: null\n    file: null\n    url: https://collector:9471/v1/paths\n    token-file: /etc/lsprobe/token\n    wait: 45s\n`, "lsprobe.yaml");
  assert.equal(ok.plugin.serve.auth, "none");
  assert.equal(ok.prober?.id, "site-a");
  assert.equal(ok.prober?.site, "ams");
  assert.equal(ok.prober?.paths.url, "https://collector:9471/v1/paths");
  assert.equal(ok.prober?.paths.wait, 45_000);
  const https1 = parseConfig(`${PLUGIN}  serve:\n    listen: 0.0.0.0:9471\n    token-file: /etc/lsprobe/tokens\n    cert-file: /etc/lsprobe/c.pem\n    key-file: /etc/lsprobe/k.pem\n`, "lsprobe.yaml");
  assert.equal(https1.plugin.serve.certFile, "/etc/lsprobe/c.pem");
});

// ---- pure parts ----

test("pathSlice: a router's slice holds the paths and pairs starting there, and is a valid path set", async () => {
  const set = await generation(5);
  const r1 = pathSlice(set, "r1");
  assert.equal(r1.paths.length, 4);
  assert.ok(r1.paths.every((p) => p.src === "r1"));
  assert.ok(r1.pairs.length > 0 && r1.pairs.every((p) => p.src === "r1"));
  assert.equal(r1.generation, 5);
  assert.equal(parsePathSet(JSON.parse(JSON.stringify(r1))).paths.length, 4);
  assert.equal(pathSlice(set, "r6").paths.length, 4);
  assert.equal(pathSlice(set, "r3").paths.length, 0);
  assert.equal(pathSlice(set, null), set);
});

test("If-None-Match, tokens, read errors", () => {
  const cases: Record<string, [string | undefined, boolean]> = {
    absent: [undefined, false],
    same: ['"7"', true],
    other: ['"6"', false],
    "in a list": ['"5", "7"', true],
    weak: ['W/"7"', true],
    star: ["*", true],
  };
  for (const [name, [header, match]] of Object.entries(cases)) assert.equal(ifNoneMatch(header, etagOf(7)), match, name);
  assert.deepEqual(parseTokens("# rotation\nnew-token\n\n  old-token  \r\n"), ["new-token", "old-token"]);
  const accepted = ["new-token", "old-token"].map((s) => createHash("sha256").update(s).digest());
  assert.equal(tokenAccepted("old-token", accepted), true);
  assert.equal(tokenAccepted("old-toke", accepted), false);
  assert.equal(tokenAccepted("", accepted), false);
  const who = { name: "exabgp", uid: 105, gid: 110, groups: [110] };
  const db = { passwd: [], group: [{ name: "exabgp", gid: 110, members: [] }] };
  assert.equal(
    describeReadError(Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" }), "key-file", "/etc/lsprobe/key.pem", who, db as never),
    "plugin.serve.key-file /etc/lsprobe/key.pem: permission denied as user exabgp (uid 105); fix: chgrp exabgp /etc/lsprobe/key.pem && chmod 0640 /etc/lsprobe/key.pem (readable by the plugin's user and group only), and let exabgp search its directories",
  );
  assert.match(describeReadError(Object.assign(new Error("ENOENT"), { code: "ENOENT" }), "cert-file", "/x.pem", who, db as never), /^plugin\.serve\.cert-file \/x\.pem does not exist; fix: put the file there, or correct plugin\.serve\.cert-file$/);
});

// ---- the service over plain HTTP (tokens, ETag, long-poll) ----

test("service: no token or a wrong one is 401 with WWW-Authenticate; the right one is 200 with the generation as ETag; If-None-Match is 304", async (t) => {
  const dir = workdir(t);
  const tokens = path.join(dir, "tokens");
  writeFileSync(tokens, "# two tokens: a rotation\nsecret-one\nsecret-two\n", { mode: 0o600 });
  const { server, base } = await startServer(t, { tokenFile: tokens });
  assert.equal(server.ok, true);
  server.publish(await generation(3), JSON.stringify(await generation(3)));

  const none = await get(base);
  assert.equal(none.status, 401);
  assert.equal(none.headers["www-authenticate"], 'Bearer realm="lsprobe"');
  const wrong = await get(base, { headers: { authorization: "Bearer secret-three" } });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers["www-authenticate"], 'Bearer realm="lsprobe", error="invalid_token"');
  // Even the landing page and unknown paths need the token.
  assert.equal((await get(base.replace("/v1/paths", "/"))).status, 401);
  assert.equal((await get(base.replace("/v1/paths", "/nope"))).status, 401);

  const auth = { authorization: "Bearer secret-two" };
  const ok = await get(base, { headers: auth });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.etag, '"3"');
  assert.match(String(ok.headers["content-type"]), /^application\/json/);
  assert.equal(parsePathSet(JSON.parse(ok.body)).paths.length, 8);
  const slice = await get(`${base}?prober=site-a&router=r1`, { headers: auth });
  const sliced = parsePathSet(JSON.parse(slice.body)).paths;
  assert.equal(sliced.filter((p) => p.src === "r1").length, 4);
  assert.equal(sliced.length, 8, "with the mirrors of its paths (the links its probes come back over)");

  // A registered prober (an id and a router): its ETag is the generation and its assignment's digest.
  assert.match(String(slice.headers.etag), /^"3\.[0-9a-f]{8}"$/);
  const same = await get(`${base}?prober=site-a&router=r1`, { headers: { ...auth, "if-none-match": String(slice.headers.etag) } });
  assert.equal(same.status, 304);
  assert.equal(same.body, "");
  assert.equal(same.headers.etag, slice.headers.etag);
  assert.equal((await get(`${base}?router=r1`, { headers: { ...auth, "if-none-match": '"3"' } })).status, 304, "router= alone: the generation");
  const older = await get(base, { headers: { ...auth, "if-none-match": '"2"' } });
  assert.equal(older.status, 200);
  assert.equal((await get(`${base}?prober=bad/id`, { headers: auth })).status, 400);
  assert.equal((await get(`${base}?wait=soon`, { headers: auth })).status, 400);

  const registry = new Registry();
  registerServeMetrics(registry, () => server);
  const text = await registry.metrics();
  assert.match(text, /^lsprobe_plugin_serve_requests_total\{code="401"\} 4$/m);
  assert.match(text, /^lsprobe_plugin_serve_requests_total\{code="200"\} 3$/m);
  assert.match(text, /^lsprobe_plugin_serve_requests_total\{code="304"\} 2$/m);
  assert.match(text, /^lsprobe_plugin_serve_requests_total\{code="400"\} 2$/m);
  assert.match(text, /^lsprobe_plugin_serve_fetches_total\{prober="site-a"\} 2$/m);
  assert.match(text, /^lsprobe_plugin_serve_waiting 0$/m);
});

test("service: a long-poll is answered by the next generation; one that sees none ends in 304; past max-waiting a poll is answered at once", async (t) => {
  const { server, base } = await startServer(t, { auth: "none", maxWaiting: 1 });
  server.publish(await generation(1), JSON.stringify(await generation(1)));
  const held = get(`${base}?prober=p1&wait=60s`, { headers: { "if-none-match": '"1"' } });
  await until("the poll waiting", () => server.stats().waiting === 1);
  // max-waiting 1: a second poll is not held.
  const second = await get(`${base}?prober=p2&wait=60s`, { headers: { "if-none-match": '"1"' } });
  assert.equal(second.status, 304);
  assert.equal(server.stats().waiting, 1, "the first poll still waits");
  server.publish(await generation(2), JSON.stringify(await generation(2)));
  const woken = await held;
  assert.equal(woken.status, 200);
  assert.equal(woken.headers.etag, '"2"');
  assert.equal(parsePathSet(JSON.parse(woken.body)).generation, 2);
  assert.equal(server.stats().waiting, 0);

  // Nothing new within the wait: 304.
  const timedOut = await get(`${base}?wait=1s`, { headers: { "if-none-match": '"2"' } });
  assert.equal(timedOut.status, 304);
  // A client that goes away stops waiting.
  const gone = http.get(`${base}?wait=60s`, { headers: { "if-none-match": '"2"' }, agent: false });
  gone.on("error", () => {});
  await until("the poll waiting", () => server.stats().waiting === 1);
  gone.destroy();
  await until("the poll dropped", () => server.stats().waiting === 0);
});

test("service: before the first set, 503 with Retry-After, and a long-poll gets the first one", async (t) => {
  const { server, base } = await startServer(t, { auth: "none" });
  const early = await get(base);
  assert.equal(early.status, 503);
  assert.equal(early.headers["retry-after"], "1");
  const held = get(`${base}?wait=60s`);
  await until("the poll waiting", () => server.stats().waiting === 1);
  server.publish(await generation(1), JSON.stringify(await generation(1)));
  assert.equal((await held).status, 200);
});

// ---- TLS ----

let pki: TestPki | undefined;
const PKI = (): TestPki => (pki ??= makePki());
test.after(() => pki?.cleanup());

test("TLS: HTTPS with a test CA and a token", { skip: SKIP_NO_OPENSSL }, async (t) => {
  const p = PKI();
  const dir = workdir(t);
  const tokens = path.join(dir, "tokens");
  writeFileSync(tokens, "tls-token\n");
  const { server, base } = await startServer(t, { tokenFile: tokens, certFile: p.serverCert, keyFile: p.serverKey });
  assert.match(base, /^https:/);
  server.publish(await generation(4), JSON.stringify(await generation(4)));
  const ok = await get(base, { ca: p.read(p.caCert), headers: { authorization: "Bearer tls-token" } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.etag, '"4"');
  assert.equal((await get(base, { ca: p.read(p.caCert) })).status, 401);
  // A client that does not trust the test CA refuses the server.
  await assert.rejects(get(base, { headers: { authorization: "Bearer tls-token" } }), /self[- ]signed|unable to (get|verify)/i);
});

test("TLS: auth client-cert refuses the handshake without a certificate, or with one of another CA; a certificate of the CA gets in", { skip: SKIP_NO_OPENSSL }, async (t) => {
  const p = PKI();
  const { server, base } = await startServer(t, { auth: "client-cert", certFile: p.serverCert, keyFile: p.serverKey, clientCaFile: p.caCert });
  server.publish(await generation(1), JSON.stringify(await generation(1)));
  const ca = p.read(p.caCert);
  await assert.rejects(get(base, { ca }), (e: NodeJS.ErrnoException) => {
    assert.match(`${e.code} ${e.message}`, /CERTIFICATE_REQUIRED|certificate required|ECONNRESET|socket hang up|HANDSHAKE/i);
    return true;
  });
  await assert.rejects(get(base, { ca, cert: p.read(p.otherClientCert), key: p.read(p.otherClientKey) }), (e: NodeJS.ErrnoException) => {
    assert.match(`${e.code} ${e.message}`, /UNKNOWN_CA|unknown ca|ECONNRESET|socket hang up|DECRYPT|BAD_CERTIFICATE/i);
    return true;
  });
  const ok = await get(base, { ca, cert: p.read(p.clientCert), key: p.read(p.clientKey) });
  assert.equal(ok.status, 200);
  assert.ok(server.stats().tlsErrors >= 2, "the refused handshakes are counted");
});

test("TLS: a certificate file that cannot be used is reported with the key, the file and the fix, and retried; SIGHUP's reload picks up a rotated certificate", { skip: SKIP_NO_OPENSSL }, async (t) => {
  const p = PKI();
  const dir = workdir(t);
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  const tokens = path.join(dir, "tokens");
  writeFileSync(tokens, "t\n");
  writeFileSync(cert, "not a certificate\n");
  copyFileSync(p.serverKey, key);
  const { lines, log } = sink();
  const server = new PathServer({ ...SERVE_DEFAULTS, tokenFile: tokens, certFile: cert, keyFile: key }, ctx(log));
  t.after(() => server.close());
  await server.start();
  assert.equal(server.ok, false);
  assert.equal(server.address, undefined, "not listening with a bad certificate");
  assert.match(server.lastError!, new RegExp(`^plugin\\.serve\\.cert-file ${cert}: no PEM certificate in it .*; fix: give the PEM file`));
  await until("a few retries", () => server.errors >= 3);
  assert.equal(lines.filter((l) => / ERROR /.test(l)).length, 1, "logged once, not per retry");
  assert.equal(server.health().output, "http");

  // The key of another certificate.
  copyFileSync(p.server2Cert, cert);
  await until("mismatch reported", () => /is not the key of/.test(server.lastError ?? ""));
  assert.match(server.lastError!, new RegExp(`^plugin\\.serve\\.key-file ${key} is not the key of plugin\\.serve\\.cert-file ${cert} .*; fix: give the key the certificate was issued for`));
  // A directory where the file should be.
  rmSync(key);
  mkdirSync(key);
  await until("directory reported", () => /is a directory/.test(server.lastError ?? ""));
  rmSync(key, { recursive: true });
  await until("missing reported", () => /does not exist/.test(server.lastError ?? ""));

  copyFileSync(p.serverCert, cert);
  copyFileSync(p.serverKey, key);
  await until("serving", () => server.ok && server.address !== undefined);
  const fingerprint = async (): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = tls.connect({ host: "127.0.0.1", port: server.address!.port, ca: p.read(p.caCert), servername: undefined }, () => {
        resolve(s.getPeerX509Certificate()!.fingerprint256);
        s.destroy();
      });
      s.on("error", reject);
    });
  const before = await fingerprint();
  // Rotation: new files, then SIGHUP (the service's reload()).
  copyFileSync(p.server2Cert, cert);
  copyFileSync(p.server2Key, key);
  await server.reload();
  assert.equal(server.ok, true);
  const after = await fingerprint();
  assert.notEqual(after, before);
  assert.equal(after, new (await import("node:crypto")).X509Certificate(p.read(p.server2Cert)).fingerprint256);
  // A bad file on reload: reported, the server keeps serving with the certificate it has.
  writeFileSync(cert, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  await server.reload();
  assert.equal(server.ok, false);
  assert.match(server.lastError!, /the certificate does not parse .*\(still serving with the files read before\)$/);
  assert.equal(await fingerprint(), after);
});

// ---- the prober's PathSource over HTTPS ----

test("PathSource over HTTPS with a token: fetches its slice, follows new generations, keeps the last good set and reports its age when the plugin goes, reconnects", { skip: SKIP_NO_OPENSSL }, async (t) => {
  const p = PKI();
  const dir = workdir(t);
  const tokens = path.join(dir, "tokens");
  writeFileSync(tokens, "prober-token\n");
  const tokenFile = path.join(dir, "prober-token");
  writeFileSync(tokenFile, "prober-token\n");
  const cfg: Partial<ServeConfig> = { tokenFile: tokens, certFile: p.serverCert, keyFile: p.serverKey };
  const first = new PathServer({ ...SERVE_DEFAULTS, ...cfg }, ctx());
  await first.start();
  const port = first.address!.port;
  first.publish(await generation(1), JSON.stringify(await generation(1)));

  const src = new PathSource({ socket: null, file: null, url: `https://127.0.0.1:${port}/v1/paths`, id: "site-a", router: "r1", tokenFile, caFile: p.caCert, waitMs: 60_000, minBackoffMs: 20, maxBackoffMs: 100 });
  const events: string[] = [];
  src.on("pathset", (s, from) => events.push(`pathset ${s.generation} ${from}`));
  src.on("connected", (via) => events.push(`connected ${via}`));
  src.on("disconnected", () => events.push("disconnected"));
  let second: PathServer | undefined;
  t.after(async () => {
    src.close();
    await first.close();
    await second?.close();
  });
  await src.start();
  await until("generation 1", () => src.current?.generation === 1);
  assert.equal(src.current!.paths.filter((x) => x.src === "r1").length, 4, "r1's slice");
  assert.ok(src.current!.paths.every((x) => x.src === "r1" || x.dst === "r1"), "its paths and their mirrors");
  await until("connected", () => src.connected);
  assert.equal(src.pathsetAge(), 0);
  await until("the long-poll waiting", () => first.stats().waiting === 1);
  assert.equal(first.stats().fetches.get("site-a"), 1);

  first.publish(await generation(2), JSON.stringify(await generation(2)));
  await until("generation 2", () => src.current?.generation === 2);

  // The plugin goes: the last good set stays, and its age grows from then.
  await first.close();
  await until("disconnected", () => !src.connected);
  assert.equal(src.current!.generation, 2);
  assert.ok(src.pathsetAge(src.confirmedAt + 5000) >= 5);

  // It comes back (same port) with a newer generation: fetched without a restart.
  second = new PathServer({ ...SERVE_DEFAULTS, ...cfg, listen: `127.0.0.1:${port}` }, ctx());
  second.publish(await generation(3), JSON.stringify(await generation(3)));
  await second.start();
  assert.equal(second.ok, true, second.lastError);
  await until("generation 3", () => src.current?.generation === 3);
  await until("connected again", () => src.connected);
  assert.equal(src.pathsetAge(), 0);
  assert.deepEqual(events, ["connected http", "pathset 1 http", "pathset 2 http", "disconnected", "connected http", "pathset 3 http"]);
});

test("PathSource: a token the plugin refuses is reported once with the status and the fix; the file keeps the prober going", { skip: SKIP_NO_OPENSSL }, async (t) => {
  const p = PKI();
  const dir = workdir(t);
  const tokens = path.join(dir, "tokens");
  writeFileSync(tokens, "right\n");
  const tokenFile = path.join(dir, "prober-token");
  writeFileSync(tokenFile, "wrong\n");
  const file = path.join(dir, "paths.json");
  writeFileSync(file, JSON.stringify(await generation(7)));
  const { server, base } = await startServer(t, { tokenFile: tokens, certFile: p.serverCert, keyFile: p.serverKey });
  server.publish(await generation(8), JSON.stringify(await generation(8)));
  const src = new PathSource({ socket: null, file, url: base, tokenFile, caFile: p.caCert, minBackoffMs: 20, maxBackoffMs: 40 });
  t.after(() => src.close());
  const reasons: string[] = [];
  src.on("unreachable", (r) => reasons.push(r));
  await src.start();
  assert.equal(src.current?.generation, 7, "the file at start");
  await until("refused", () => reasons.length > 0);
  assert.equal(reasons[0], `${base}: 401 the bearer token is not accepted; fix: put a token the plugin accepts (plugin.serve.token-file) in prober.paths.token-file`);
  await until("several retries", () => (server.stats().requests.get(401) ?? 0) >= 3);
  assert.equal(reasons.length, 1, "once per distinct reason");
  writeFileSync(tokenFile, "right\n");
  await until("generation 8", () => src.current?.generation === 8);
});

test("PathSource: a document the service sends that fails validation is refused, the set in force stays, and the next request waits for another generation", async (t) => {
  const { server, base } = await startServer(t, { auth: "none" });
  server.publish(await generation(1), JSON.stringify(await generation(1)));
  const src = new PathSource({ socket: null, file: null, url: base, waitMs: 60_000, minBackoffMs: 20, maxBackoffMs: 40 });
  t.after(() => src.close());
  const invalid: string[] = [];
  src.on("invalid", (e, from) => invalid.push(`${from}: ${e.message}`));
  await src.start();
  await until("generation 1", () => src.current?.generation === 1);
  const broken = JSON.parse(JSON.stringify(await generation(2)));
  broken.paths[0].links[0] = null;
  server.publish(await generation(2), JSON.stringify(broken));
  await until("refused", () => invalid.length === 1);
  assert.match(invalid[0], /^http: .*paths\[0\]\.links\[0\]: expected an object, got null$/);
  assert.equal(src.current!.generation, 1);
  await until("the next poll held (not a loop on the bad document)", () => server.stats().waiting === 1);
  server.publish(await generation(3), JSON.stringify(await generation(3)));
  await until("generation 3", () => src.current?.generation === 3);
  assert.equal(invalid.length, 1);
});
