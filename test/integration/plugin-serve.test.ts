// The real plugin process (fed ExaBGP lines on stdin) serving its path sets over HTTPS with a
// token to the prober's PathSource (issue 14, Must 1). It starts with a certificate file that
// is not one: it must keep running, say which file and the fix, show it on /healthz, and serve
// once the file is fixed and it gets SIGHUP. Loopback only; certificates made with openssl.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { PathSource } from "../../prober/pathsource.js";
import { ExabgpLines, lineTopology } from "../util/exabgp-lines.js";
import { readTopologyJson } from "../util/edgelist.js";
import { makePki, SKIP_NO_OPENSSL } from "../util/tls.js";

const PARSER = new URL("../../plugin/parser.js", import.meta.url).pathname;

async function until<T>(what: string, f: () => T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function get(url: string, o: { headers?: Record<string, string>; ca?: Buffer } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === "https:" ? https : http).request(u, { headers: o.headers, agent: false, ca: o.ca } as https.RequestOptions, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("plugin process: serves its path sets over HTTPS with a token to a PathSource; a bad certificate file is survived, reported and fixed by SIGHUP", { skip: SKIP_NO_OPENSSL, timeout: 120_000 }, async (t) => {
  const pki = makePki();
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-serve-plugin-"));
  let proc: ChildProcessWithoutNullStreams | undefined;
  let src: PathSource | undefined;
  t.after(() => {
    src?.close();
    proc?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    pki.cleanup();
  });
  const cert = path.join(dir, "plugin.pem");
  const key = path.join(dir, "plugin.key");
  const tokens = path.join(dir, "serve-tokens");
  const proberToken = path.join(dir, "serve-token");
  writeFileSync(cert, "this is not a certificate\n");
  copyFileSync(pki.serverKey, key);
  writeFileSync(tokens, "0123456789abcdef-site-a\n", { mode: 0o640 });
  writeFileSync(proberToken, "0123456789abcdef-site-a\n", { mode: 0o600 });
  const config = path.join(dir, "lsprobe.yaml");
  const file = path.join(dir, "paths.json");
  writeFileSync(
    config,
    `plugin:
  endpoints:
    pairs: [[r1, r6]]
  output:
    file: ${file}
    socket: ${path.join(dir, "paths.sock")}
  state-file: ${path.join(dir, "lsdb.json")}
  listen: 127.0.0.1:0
  serve:
    listen: 127.0.0.1:0
    auth: token
    token-file: ${tokens}
    cert-file: ${cert}
    key-file: ${key}
`,
  );
  proc = spawn(process.execPath, [PARSER, "--config", config], { stdio: "pipe" });
  let stderr = "";
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  proc.stdout.resume();
  const exited = new Promise<number | null>((resolve) => proc!.on("exit", (code) => resolve(code)));

  // The certificate file is not one: logged with the key, the file and the fix; the plugin runs on.
  await until("the certificate error", () => stderr.includes(`plugin.serve.cert-file ${cert}: no PEM certificate in it`));
  assert.match(stderr, /fix: give the PEM file/);
  const metricsAt = (await until("metrics address", () => /HTTP listening .*listen=(127\.0\.0\.1:\d+)/.exec(stderr)))![1];
  const healthz = await get(`http://${metricsAt}/healthz`);
  assert.equal(healthz.status, 503);
  assert.match(healthz.body, /output http 127\.0\.0\.1:0 failing: plugin\.serve\.cert-file/);
  const lines = (() => {
    const topo = readTopologyJson("nanog6.json");
    return new ExabgpLines(lineTopology(topo.nodes, topo.edges));
  })();
  proc.stdin.write(lines.fullTable().join("\n") + "\n");
  await until("the path-set file (the plugin works meanwhile)", () => existsSync(file));

  // Fixed, then SIGHUP: it serves (port chosen by the kernel, in the log).
  copyFileSync(pki.serverCert, cert);
  proc.kill("SIGHUP");
  const serveAt = (await until("serving", () => /serving path sets .*listen=(127\.0\.0\.1:\d+)/.exec(stderr)))![1];
  const url = `https://${serveAt}/v1/paths`;
  assert.equal((await get(`http://${metricsAt}/healthz`)).status, 200);

  // Without the token: 401.
  const ca = pki.read(pki.caCert);
  const refused = await get(url, { ca });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers["www-authenticate"], 'Bearer realm="lsprobe"');

  // The prober's PathSource: its slice (r1's paths), then the next generation by long-poll.
  src = new PathSource({ socket: null, file: null, url, id: "site-a", router: "r1", tokenFile: proberToken, caFile: pki.caCert, waitMs: 60_000, minBackoffMs: 50, maxBackoffMs: 200 });
  const from: string[] = [];
  src.on("pathset", (s, via) => from.push(`${s.generation} ${via}`));
  await src.start();
  await until("generation 1", () => src!.current?.generation === 1);
  assert.equal(src.current!.paths.filter((p) => p.src === "r1").length, 4, "the slice of r1's prober");
  assert.ok(src.current!.paths.every((p) => p.src === "r1" || p.dst === "r1"), "its paths, and their mirrors");
  assert.ok(src.connected);
  proc.stdin.write([lines.withdrawLink(lines.link("r2", "r4")), lines.withdrawLink(lines.link("r4", "r2"))].join("\n") + "\n");
  await until("generation 2", () => src!.current?.generation === 2);
  assert.equal(src.current!.paths.filter((p) => p.src === "r1").length, 3, "r1's paths without r2-r4");
  assert.deepEqual(from, ["1 http", "2 http"]);

  const metrics = (await get(`http://${metricsAt}/metrics`)).body;
  assert.match(metrics, /^lsprobe_plugin_serve_requests_total\{code="401"\} 1$/m);
  assert.match(metrics, /^lsprobe_plugin_serve_requests_total\{code="200"\} 2$/m);
  assert.match(metrics, /^lsprobe_plugin_serve_fetches_total\{prober="site-a"\} [1-9]/m);
  assert.match(metrics, /^lsprobe_plugin_output_ok\{output="http"\} 1$/m);

  // The plugin exits (ExaBGP's shutdown): the prober keeps the last good set, unconfirmed from then.
  proc.stdin.write(lines.shutdown() + "\n");
  assert.equal(await exited, 0);
  proc = undefined;
  await until("disconnected", () => !src!.connected);
  assert.equal(src.current!.generation, 2);
  assert.ok(src.pathsetAge(src.confirmedAt + 3000) >= 3);
});
