// shared/http.ts: the route table, methods, landing page, 404, gzip, listen errors, and slow
// clients that must not lock the scraper out (issue 11 #10, #15). Loopback only.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { Registry, Gauge } from "prom-client";
import { acceptsGzip, listen, metricsRoute, parseHostPort, type HttpHandle, type Route } from "../../shared/http.js";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(port: number, method: string, urlPath: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: urlPath, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

function registry(): Registry {
  const r = new Registry();
  new Gauge({ name: "lsprobe_test_value", help: "A value.", registers: [r] }).set(42);
  return r;
}

const routes = (): Route[] => [
  metricsRoute(registry()),
  { path: "/healthz", help: "health", handler: () => ({ status: 503, body: "no path set yet\n" }) },
  { path: "/paths", help: "paths as JSON", handler: () => ({ type: "application/json", body: '{"paths":[]}\n' }) },
  {
    path: "/boom",
    help: "fails",
    handler: () => {
      throw new Error("kaput");
    },
  },
  {
    path: "/stream",
    help: "streams",
    handler: () => ({
      stream: (res) => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("a\n");
        res.end("b\n");
      },
    }),
  },
];

async function withServer(fn: (h: HttpHandle) => Promise<void>, opts: Partial<Parameters<typeof listen>[1]> = {}): Promise<void> {
  const h = await listen("127.0.0.1:0", { program: "lsprobe-test", about: "lsprobe-test 1.0 (revision abc)", routes: routes(), ...opts });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

test("http: GET serves the routes, HEAD the same headers without a body, the query string is ignored", () =>
  withServer(async (h) => {
    const m = await request(h.port, "GET", "/metrics?x=1");
    assert.equal(m.status, 200);
    assert.match(m.headers["content-type"] ?? "", /^text\/plain; version=0\.0\.4/);
    assert.match(m.body.toString(), /^lsprobe_test_value 42$/m);
    assert.equal(m.headers["content-length"], String(m.body.length));
    assert.equal(m.headers.vary, "Accept-Encoding");
    assert.equal(m.headers["content-encoding"], undefined);
    const head = await request(h.port, "HEAD", "/metrics");
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], String(m.body.length));
    assert.equal(head.body.length, 0);
    const hz = await request(h.port, "GET", "/healthz");
    assert.deepEqual([hz.status, hz.body.toString()], [503, "no path set yet\n"]);
    const p = await request(h.port, "GET", "/paths");
    assert.deepEqual([p.status, p.headers["content-type"], p.body.toString()], [200, "application/json", '{"paths":[]}\n']);
    const s = await request(h.port, "GET", "/stream");
    assert.deepEqual([s.status, s.body.toString()], [200, "a\nb\n"]);
  }));

test("http: any method but GET and HEAD gets 405 with Allow: GET, HEAD", () =>
  withServer(async (h) => {
    for (const method of ["POST", "PUT", "DELETE", "TRACE", "OPTIONS", "PATCH"]) {
      for (const p of ["/metrics", "/healthz", "/paths", "/"]) {
        const r = await request(h.port, method, p);
        assert.equal(r.status, 405, `${method} ${p}`);
        assert.equal(r.headers.allow, "GET, HEAD", `${method} ${p}`);
        assert.ok(!r.body.toString().includes("lsprobe_test_value"), `${method} ${p}: no content`);
      }
    }
  }));

test("http: / is an HTML page linking the endpoints; an unknown path is a 404 listing them", () =>
  withServer(async (h) => {
    const r = await request(h.port, "GET", "/");
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-type"], "text/html; charset=utf-8");
    const html = r.body.toString();
    assert.match(html, /<title>lsprobe-test<\/title>/);
    assert.match(html, /<p>lsprobe-test 1\.0 \(revision abc\)<\/p>/);
    for (const [href, p] of [["metrics", "/metrics"], ["healthz", "/healthz"], ["paths", "/paths"]]) assert.ok(html.includes(`<a href="${href}">${p}</a>`), `links ${p}`);
    const nf = await request(h.port, "GET", "/nope");
    assert.equal(nf.status, 404);
    assert.equal(nf.body.toString(), "lsprobe-test: not found; endpoints: / /metrics /healthz /paths /boom /stream\n");
  }));

test("http: /metrics is gzipped when the scraper accepts gzip", () =>
  withServer(async (h) => {
    const plain = await request(h.port, "GET", "/metrics");
    for (const ae of ["gzip", "gzip, deflate, br", "identity;q=0.5, *;q=0.1", "x-gzip"]) {
      const r = await request(h.port, "GET", "/metrics", { "accept-encoding": ae });
      assert.equal(r.headers["content-encoding"], "gzip", ae);
      assert.equal(r.headers.vary, "Accept-Encoding");
      assert.equal(r.headers["content-length"], String(r.body.length));
      assert.deepEqual(gunzipSync(r.body), plain.body, ae);
    }
    for (const ae of ["gzip;q=0", "deflate", "*;q=0", "br, *;q=0"]) {
      const r = await request(h.port, "GET", "/metrics", { "accept-encoding": ae });
      assert.equal(r.headers["content-encoding"], undefined, ae);
      assert.deepEqual(r.body, plain.body, ae);
    }
    // Only routes that ask for it are compressed.
    const p = await request(h.port, "GET", "/paths", { "accept-encoding": "gzip" });
    assert.equal(p.headers["content-encoding"], undefined);
  }));

test("http: acceptsGzip and parseHostPort", () => {
  const cases: Record<string, [string | undefined, boolean]> = {
    absent: [undefined, false],
    gzip: ["gzip", true],
    "upper case": ["GZIP", true],
    "q=0 refuses": ["gzip;q=0", false],
    "q=0.001": ["gzip; q=0.001", true],
    star: ["*", true],
    "explicit beats star": ["*, gzip;q=0", false],
    other: ["deflate, br", false],
  };
  for (const [name, [h, want]] of Object.entries(cases)) assert.equal(acceptsGzip(h), want, name);
  assert.deepEqual(parseHostPort("127.0.0.1:9468"), { host: "127.0.0.1", port: 9468 });
  assert.deepEqual(parseHostPort("[::1]:0"), { host: "::1", port: 0 });
  assert.throws(() => parseHostPort("127.0.0.1"), /expected host:port/);
  assert.throws(() => parseHostPort("127.0.0.1:99999"), /expected host:port/);
});

test("http: a failing handler answers 500 and the server carries on", async () => {
  const logged: string[] = [];
  const log = { error: (msg: string) => void logged.push(msg), once: () => true };
  await withServer(
    async (h) => {
      const r = await request(h.port, "GET", "/boom");
      assert.equal(r.status, 500);
      assert.match(r.body.toString(), /internal error: kaput/);
      assert.deepEqual(logged, ["HTTP handler failed"]);
      assert.equal((await request(h.port, "GET", "/metrics")).status, 200);
    },
    { log: () => log },
  );
});

test("http: listen errors are returned to the caller", async () => {
  await withServer(async (h) => {
    await assert.rejects(listen(`127.0.0.1:${h.port}`, { program: "t" }), (e: NodeJS.ErrnoException) => e.code === "EADDRINUSE");
  });
  await assert.rejects(listen("192.0.2.1:0", { program: "t" }), (e: NodeJS.ErrnoException) => e.code === "EADDRNOTAVAIL");
  await assert.rejects(listen("nonsense", { program: "t" }), /expected host:port/);
});

test("http: setRoutes replaces the table; close() ends the sockets", async () => {
  const h = await listen("127.0.0.1:0", { program: "t" });
  assert.equal((await request(h.port, "GET", "/metrics")).status, 404);
  h.setRoutes([{ path: "/metrics", help: "m", handler: () => ({ body: "x 1\n" }) }]);
  assert.equal((await request(h.port, "GET", "/metrics")).body.toString(), "x 1\n");
  const idle = net.connect(h.port, "127.0.0.1").resume();
  await new Promise((r) => idle.once("connect", r));
  const closed = new Promise((r) => idle.once("close", r));
  await h.close();
  await closed;
  await assert.rejects(request(h.port, "GET", "/metrics"), (e: NodeJS.ErrnoException) => e.code === "ECONNREFUSED");
});

test("http: headers too slow get 408 and the socket closed; a silent socket is closed", async () => {
  await withServer(
    async (h) => {
      const slow = net.connect(h.port, "127.0.0.1");
      let got = "";
      slow.on("data", (c: Buffer) => (got += c.toString()));
      slow.write("GET /metrics HTTP/1.1\r\nHost: x\r\n");
      const silent = net.connect(h.port, "127.0.0.1").resume();
      await Promise.all([new Promise((r) => slow.once("close", r)), new Promise((r) => silent.once("close", r))]);
      assert.match(got, /^HTTP\/1\.1 408 /);
    },
    // node checks the headers timeout every headersTimeoutMs, so the 408 comes within twice
    // that: the idle timeout is set well past it, or it could close the slow socket first.
    { headersTimeoutMs: 100, idleTimeoutMs: 1500 },
  );
});

/** Open `n` slow sockets (half a request each); resolves when each is connected or already closed. */
async function slowSockets(port: number, n: number): Promise<net.Socket[]> {
  const all: net.Socket[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, () => {
      const s = net.connect(port, "127.0.0.1");
      s.on("error", () => {});
      s.on("connect", () => s.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
      all.push(s);
      return new Promise<void>((r) => {
        s.once("connect", () => r());
        s.once("close", () => r());
      });
    });
    await Promise.all(batch);
  }
  return all;
}

test("http: 1,100 slow connections do not keep a scrape out; the server holds at most maxConnections", async () => {
  await withServer(async (h) => {
    const socks = await slowSockets(h.port, 1100);
    try {
      const r = await request(h.port, "GET", "/metrics");
      assert.equal(r.status, 200);
      assert.match(r.body.toString(), /^lsprobe_test_value 42$/m);
      const st = h.stats();
      assert.ok(st.connections <= 128, `holds ${st.connections} sockets`);
      assert.ok(st.evicted >= 1100 - 128, `evicted ${st.evicted}`);
      assert.equal(st.refused, 0);
    } finally {
      for (const s of socks) s.destroy();
    }
  });
});

test("http: every socket busy: a new connection is refused, the busy ones are answered", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const h = await listen("127.0.0.1:0", { program: "t", maxConnections: 2, routes: [{ path: "/wait", help: "w", handler: async () => (await gate, { body: "done\n" }) }] });
  try {
    const a = request(h.port, "GET", "/wait");
    const b = request(h.port, "GET", "/wait");
    while (h.stats().busy < 2) await new Promise((r) => setImmediate(r));
    const third = await request(h.port, "GET", "/wait").catch((e: Error) => e);
    assert.ok(third instanceof Error, "refused");
    assert.match((third as NodeJS.ErrnoException).code ?? "", /^(ECONNRESET|EPIPE)$/);
    assert.equal(h.stats().refused, 1);
    release();
    assert.deepEqual((await Promise.all([a, b])).map((x) => x.body.toString()), ["done\n", "done\n"]);
  } finally {
    release();
    await h.close();
  }
});

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

test("http: a server limited to 256 file descriptors still answers the scrape past 1,100 slow connections", { skip: process.platform !== "linux" ? "needs sh and ulimit" : false }, async () => {
  // In a child, so that its file descriptor limit is its own: without the connection cap,
  // accept() fails with EMFILE and the scrape is hung up on (issue 11 #10).
  const script = `
    import { listen } from ${JSON.stringify(path.join(DIST, "shared/http.js"))};
    const h = await listen("127.0.0.1:0", { program: "t", routes: [
      { path: "/metrics", help: "m", handler: () => ({ body: "up 1\\n" }) },
      { path: "/stats", help: "s", handler: () => ({ body: JSON.stringify(h.stats()) }) },
    ] });
    process.stdout.write(h.port + "\\n");`;
  const child = spawn("sh", ["-c", 'ulimit -n 256 && exec "$0" --input-type=module -e "$1"', process.execPath, script], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
    });
    const socks = await slowSockets(port, 1100);
    try {
      const r = await request(port, "GET", "/metrics");
      assert.deepEqual([r.status, r.body.toString()], [200, "up 1\n"]);
      const st = JSON.parse((await request(port, "GET", "/stats")).body.toString()) as { connections: number; evicted: number };
      assert.ok(st.connections <= 128 && st.evicted > 0, JSON.stringify(st));
    } finally {
      for (const s of socks) s.destroy();
    }
  } finally {
    child.kill();
  }
});
