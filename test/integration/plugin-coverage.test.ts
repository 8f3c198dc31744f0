// Shared coverage (issue 14, Must 2) end to end: the real plugin process (fed ExaBGP lines of
// NANOG 6 on stdin, groups [r1, r3, r6], mode all) serving over HTTP on 127.0.0.1 with a token
// to three simulated probers: plain HTTP clients that long-poll GET /v1/paths as the prober
// does, with ids behind r1, r3 and r6. Every link is probed by two; the prober behind r3 stops
// (its connection closes) and, once plugin.serve.prober-timeout (2 s here) has passed, its
// loops are probed from their other ends while every link keeps two probers; it comes back and
// gets its share again. The prober behind r6 stops: r1-r2, r2-r4 and r2-r5 are crossed by
// r1 <-> r6 paths only, so the coverage metric drops to one there, and back when it returns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { parsePathSet, type Path } from "../../shared/pathset.js";
import { ExabgpLines, lineTopology } from "../util/exabgp-lines.js";
import { readTopologyJson } from "../util/edgelist.js";

const PARSER = new URL("../../plugin/parser.js", import.meta.url).pathname;
const TOKEN = "coverage-test-token-0123456789";

async function until<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

/** A prober as the plugin sees it: long-polls its slice, takes each answer, asks again at once. */
class SimProber {
  etag?: string;
  paths: Path[] = [];
  private req?: http.ClientRequest;
  private running = false;

  constructor(
    readonly id: string,
    readonly router: string,
    private readonly base: string,
  ) {}

  get ids(): string[] {
    return this.paths.map((p) => p.id).sort();
  }

  start(): void {
    this.running = true;
    void this.loop();
  }

  /** Stops fetching: its long-poll's connection closes, as when a prober's process stops. */
  stop(): void {
    this.running = false;
    this.req?.destroy();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.once();
      } catch {
        if (this.running) await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private once(): Promise<void> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
      if (this.etag) headers["if-none-match"] = this.etag;
      const req = http.get(`${this.base}?prober=${this.id}&router=${this.router}&site=site-${this.router}&address=198.18.100.${this.router.slice(1)}&wait=30s`, { headers, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => {
          if (res.statusCode === 200) {
            this.etag = String(res.headers.etag);
            // Its own paths; the rest of the slice are their mirrors (the links its probes come back over).
            this.paths = parsePathSet(JSON.parse(body)).paths.filter((p) => p.src === this.router);
          }
          resolve();
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      this.req = req;
    });
  }
}

test("plugin process: three probers behind r1, r3 and r6 share the paths, every link by two; one stops, its share moves and the coverage metric says so; it comes back", { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-coverage-"));
  let proc: ChildProcessWithoutNullStreams | undefined;
  const probers: SimProber[] = [];
  t.after(() => {
    for (const p of probers) p.stop();
    proc?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  const tokens = path.join(dir, "serve-tokens");
  writeFileSync(tokens, `${TOKEN}\n`, { mode: 0o600 });
  const config = path.join(dir, "lsprobe.yaml");
  writeFileSync(
    config,
    `plugin:
  endpoints:
    groups: [[r1, r3, r6]]
  output:
    file: ${path.join(dir, "paths.json")}
    socket: null
  state-file: null
  listen: 127.0.0.1:0
  serve:
    listen: 127.0.0.1:0
    auth: token
    token-file: ${tokens}
    prober-timeout: 2s
`,
  );
  proc = spawn(process.execPath, [PARSER, "--config", config], { stdio: "pipe" });
  let stderr = "";
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  proc.stdout.resume();
  const topo = readTopologyJson("nanog6.json");
  const lines = new ExabgpLines(lineTopology(topo.nodes, topo.edges));
  proc.stdin.write(lines.fullTable().join("\n") + "\n");
  const metricsAt = (await until("metrics address", () => /HTTP listening .*listen=(127\.0\.0\.1:\d+)/.exec(stderr)))![1];
  const serveAt = (await until("serving", () => /serving path sets .*listen=(127\.0\.0\.1:\d+)/.exec(stderr)))![1];
  const base = `http://${serveAt}/v1/paths`;
  const whole = await until("the first path set", async () => {
    const a = await get(base, { authorization: `Bearer ${TOKEN}` });
    return a.status === 200 && parsePathSet(JSON.parse(a.body));
  });
  assert.equal(whole.paths.length, 14, "r1 <-> r6: 4 each way, r1 <-> r3: 1, r3 <-> r6: 2");
  assert.equal((await get(`${base}?prober=x&router=r1`)).status, 401, "the token is still required");

  const metrics = async (): Promise<string> => (await get(`http://${metricsAt}/metrics`)).body;
  const gauge = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
  const coverage = (text: string): Map<string, number> => new Map([...text.matchAll(/^lsprobe_plugin_link_coverage\{link="[^"]+",from="([^"]+)",to="([^"]+)"\} (\d+)$/gm)].map((m) => [`${m[1]}>${m[2]}`, Number(m[3])]));
  const mirrorOf = (p: Path): string => whole.paths.find((q) => q.hops.map((h) => h.node).join() === [...p.hops].reverse().map((h) => h.node).join())!.id;

  const [a, b, c] = [new SimProber("site-a", "r1", base), new SimProber("site-b", "r3", base), new SimProber("site-c", "r6", base)];
  probers.push(a, b, c);
  for (const p of probers) p.start();

  // Every link by two probers; each prober starts paths at its own router only.
  let text = await until("every link by two probers", async () => {
    const m = await metrics();
    return /^lsprobe_plugin_probers_live\{site="site-r6"\} 1$/m.test(m) && gauge(m, "lsprobe_plugin_links_undercovered") === 0 && m;
  });
  const initial = coverage(text);
  assert.equal(initial.size, 16, "the 8 links of NANOG 6, both ways");
  assert.ok([...initial.values()].every((n) => n >= 2), JSON.stringify([...initial]));
  assert.equal(gauge(text, "lsprobe_plugin_paths_unprobed"), 0);
  // Each prober's long-poll brought it its share (the one a fresh fetch of its own gets).
  const now = async (p: SimProber): Promise<string[]> => {
    const r = await get(`${base}?prober=${p.id}&router=${p.router}`, { authorization: `Bearer ${TOKEN}` });
    return parsePathSet(JSON.parse(r.body)).paths.filter((x) => x.src === p.router).map((x) => x.id).sort();
  };
  const settled = async (): Promise<boolean> => {
    for (const p of probers) if (JSON.stringify(p.ids) !== JSON.stringify(await now(p))) return false;
    return true;
  };
  await until("the slices", settled);
  const before = new Map(probers.map((p) => [p.id, p.ids]));
  for (const p of probers) assert.ok(p.paths.every((x) => x.src === p.router), `${p.id} gets ${p.router}'s paths only`);
  const probed = new Set(probers.flatMap((p) => p.ids));
  for (const p of whole.paths) assert.ok(probed.has(p.id) || probed.has(mirrorOf(p)), `${p.id} (or its mirror) is probed`);

  // The prober behind r3 stops: past prober-timeout its loops are probed from their other ends
  // (r1's and r6's probers, whose long-polls wake with their new slices), and every link keeps two.
  const share = b.paths;
  assert.ok(share.length > 0, "site-b had a share");
  b.stop();
  text = await until("site-b no longer live", async () => {
    const m = await metrics();
    return /^lsprobe_plugin_probers_live\{site="site-r3"\} 0$/m.test(m) && m;
  });
  await until("site-b's share moved to site-a and site-c", () => share.every((p) => [...a.ids, ...c.ids].includes(mirrorOf(p))));
  assert.match(text, /^lsprobe_plugin_probers_known\{site="site-r3"\} 1$/m);
  assert.equal(gauge(text, "lsprobe_plugin_links_undercovered"), 0, "the share moved: every link still by two");
  assert.ok([...coverage(text).values()].every((n) => n >= 2));

  // It comes back: every slice is the one before.
  b.start();
  await until("site-b's share back", () => probers.every((p) => JSON.stringify(p.ids) === JSON.stringify(before.get(p.id))));

  // The prober behind r6 stops: nobody else can start a path across r1-r2, r2-r4 or r2-r5.
  c.stop();
  text = await until("undercovered links", async () => {
    const m = await metrics();
    return gauge(m, "lsprobe_plugin_links_undercovered") === 6 && m;
  });
  const without = coverage(text);
  for (const l of ["r1>r2", "r2>r1", "r2>r4", "r4>r2", "r2>r5", "r5>r2"]) assert.equal(without.get(l), 1, `${l}: site-a alone`);
  assert.ok([...without].filter(([l]) => !l.includes("r2")).every(([, n]) => n >= 2), JSON.stringify([...without]));
  assert.match(stderr, /probers changed: paths reassigned/);
  c.start();
  await until("every link by two again", async () => gauge(await metrics(), "lsprobe_plugin_links_undercovered") === 0);
  await until("the slices of the three again", () => probers.every((p) => JSON.stringify(p.ids) === JSON.stringify(before.get(p.id))));

  proc.stdin.write(lines.shutdown() + "\n");
  for (const p of probers) p.stop();
  assert.equal(await new Promise<number | null>((resolve) => proc!.on("exit", resolve)), 0);
  proc = undefined;
});
