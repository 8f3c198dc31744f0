// Shared coverage (issue 14, Must 2): probers register when they fetch (publish/probers.ts:
// validation, the bounded table, liveness on an injected clock) and the path-set service hands
// each registered prober its assignment, with an ETag that changes when it does, so its
// long-poll wakes. No real waiting: the clock is a variable and expiry is driven by refresh().
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { Registry } from "prom-client";
import type { ServeConfig } from "../../shared/config.js";
import { createLogger } from "../../shared/log.js";
import { parsePathSet, type PathSet } from "../../shared/pathset.js";
import { currentIdentity, readUserDb } from "../../shared/users.js";
import { Engine } from "../../plugin/engine.js";
import { directedPairs } from "../../plugin/paths.js";
import { parseRegistration, ProberTable } from "../../plugin/publish/probers.js";
import { PathServer, registerServeMetrics } from "../../plugin/publish/http.js";
import { assignPaths } from "../../plugin/assign.js";
import { PathSource } from "../../prober/pathsource.js";
import { ExabgpLines, lineTopology } from "../util/exabgp-lines.js";
import { readTopologyJson } from "../util/edgelist.js";

const REGISTRATIONS: Record<string, { query: string; headers?: Record<string, string>; want: ReturnType<typeof parseRegistration> }> = {
  "all four as query parameters": { query: "prober=site-a&site=ams&router=r1&address=198.18.100.2", want: { id: "site-a", site: "ams", router: "r1", address: "198.18.100.2", addresses: { ipv4: "198.18.100.2" }, port: null, counts: null } },
  "id= for prober=, an IPv6 address": { query: "id=p.1&router=r6&address=2001:2::100:2", want: { id: "p.1", site: null, router: "r6", address: "2001:2::100:2", addresses: { ipv6: "2001:2::100:2" }, port: null, counts: null } },
  headers: {
    query: "",
    headers: { "x-lsprobe-prober": "p3", "x-lsprobe-site": "fra", "x-lsprobe-router": "r3", "x-lsprobe-address": "198.18.100.4" },
    want: { id: "p3", site: "fra", router: "r3", address: "198.18.100.4", addresses: { ipv4: "198.18.100.4" }, port: null, counts: null },
  },
  "the query wins over a header": { query: "prober=q&router=r1", headers: { "x-lsprobe-prober": "h", "x-lsprobe-router": "r9" }, want: { id: "q", site: null, router: "r1", address: null, addresses: {}, port: null, counts: null } },
  "nothing: an anonymous fetch": { query: "", want: { id: null, site: null, router: null, address: null, addresses: {}, port: null, counts: null } },
  "a bad id": { query: "prober=a/b", want: { error: 'prober: expected 1 to 128 of A-Z a-z 0-9 . _ : @ -, got "a/b"' } },
  "a bad site": { query: "prober=a&site=two%20words", want: { error: 'site: expected 1 to 64 of A-Z a-z 0-9 . _ : @ -, got "two words"' } },
  "an empty router": { query: "router=", want: { error: "router: expected a router name, got an empty one" } },
  "a router with a control character": { query: "router=r%011", want: { error: 'router: expected a router name (1 to 255 characters, no control character), got "r\\u00011"' } },
  "a router named with a space and UTF-8 (node-name TLVs may)": { query: "prober=p&router=edge%20z%C3%BCrich", want: { id: "p", site: null, router: "edge zürich", address: null, addresses: {}, port: null, counts: null } },
  "a bad address": { query: "prober=a&router=r1&address=198.18.100.256", want: { error: 'address: expected an IPv4 or IPv6 address, got "198.18.100.256"' } },
  "one address of each family, a port and a counts URL": {
    query: "prober=a&router=r1&address=198.18.100.2&address=2001:2::100:2&port=9471&counts=http%3A%2F%2F198.18.100.2%3A9469%2Fv1%2Fcounts",
    want: { id: "a", site: null, router: "r1", address: "198.18.100.2", addresses: { ipv4: "198.18.100.2", ipv6: "2001:2::100:2" }, port: 9471, counts: "http://198.18.100.2:9469/v1/counts" },
  },
  "addresses as one header": {
    query: "prober=a&router=r1",
    headers: { "x-lsprobe-address": "2001:2::100:2, 198.18.100.2", "x-lsprobe-port": "9470", "x-lsprobe-counts": "https://p.example:9469/v1/counts" },
    want: { id: "a", site: null, router: "r1", address: "2001:2::100:2", addresses: { ipv4: "198.18.100.2", ipv6: "2001:2::100:2" }, port: 9470, counts: "https://p.example:9469/v1/counts" },
  },
  "two IPv4 addresses": { query: "prober=a&router=r1&address=198.18.100.2&address=198.18.100.3", want: { error: 'address: expected at most one IPv4 address, got "198.18.100.2" and "198.18.100.3"' } },
  "a bad port": { query: "prober=a&router=r1&port=70000", want: { error: 'port: expected a UDP port 1 to 65535, got "70000"' } },
  "a counts URL that is not http": { query: "prober=a&router=r1&counts=file%3A%2F%2F%2Fetc%2Fpasswd", want: { error: 'counts: expected an http:// or https:// URL, got "file:///etc/passwd"' } },
  "a long id, cut in the message": { query: `prober=${"x".repeat(129)}`, want: { error: `prober: expected 1 to 128 of A-Z a-z 0-9 . _ : @ -, got "${"x".repeat(40)}..."` } },
};

for (const [name, c] of Object.entries(REGISTRATIONS)) {
  test(`registration: ${name}`, () => {
    assert.deepEqual(parseRegistration(new URLSearchParams(c.query), c.headers ?? {}), c.want);
  });
}

test("liveness: a prober that fetches but stopped reporting its counts is not live after prober-timeout; a good pull brings it back", () => {
  const t = new ProberTable(10, 30_000);
  const a = t.seen({ id: "a", router: "r1", counts: "http://198.18.100.2:9469/v1/counts" }, 0);
  t.hold("a");
  t.reported("a", false, 1000);
  assert.equal(t.isLive(a, 100_000), true, "never reported yet: a failing pull alone does not take it out");
  t.reported("a", true, 2000);
  const before = t.liveKey(2000);
  t.reported("a", false, 3000);
  t.reported("a", false, 4000);
  assert.equal(t.isLive(a, 32_999), true);
  assert.equal(t.nextExpiry(3000), 33_000, "its reports' timeout is the next expiry");
  assert.equal(t.isLive(a, 33_000), false, "30 s of failing pulls since 3 s");
  assert.equal(t.liveKey(33_000), "");
  assert.deepEqual(t.fetching(33_000).map((e) => e.id), ["a"], "still pulled: it fetches");
  t.reported("a", true, 40_000);
  assert.equal(t.isLive(a, 40_000), true, "back with its first good pull");
  assert.equal(t.liveKey(40_000), before);
  // Gone (it stopped fetching too) and back: a new start, not held out by its old failing pulls.
  t.release("a", 40_000);
  t.reported("a", false, 41_000);
  t.seen({ id: "a", router: "r1" }, 200_000);
  assert.equal(t.isLive(a, 200_000), true, "it came back");
  // A short table timeout still gives failing pulls REPORT_GRACE_MS.
  const quick = new ProberTable(10, 3_000);
  const q = quick.seen({ id: "q", router: "r1" }, 0);
  quick.hold("q");
  quick.reported("q", true, 0);
  quick.reported("q", false, 1000);
  assert.equal(quick.isLive(q, 10_999), true, "3 s of failing pulls are not enough");
  assert.equal(quick.isLive(q, 11_000), false);
});

test("liveness: live until prober-timeout after its last request, or while it holds a long-poll; the next expiry", () => {
  const t = new ProberTable(10, 30_000);
  const a = t.seen({ id: "a", router: "r1", site: "ams" }, 1000);
  assert.equal(t.isLive(a, 30_999), true);
  assert.equal(t.isLive(a, 31_000), false, "30 s after its last request");
  assert.equal(t.nextExpiry(1000), 31_000);
  t.hold("a");
  assert.equal(t.isLive(a, 100_000), true, "a long-poll held: alive");
  assert.equal(t.nextExpiry(1000), undefined, "nothing expires while it holds one");
  t.release("a", 61_000);
  assert.equal(t.isLive(a, 90_999), true, "its last request ended at 61 s");
  assert.equal(t.isLive(a, 91_000), false);
  t.seen({ id: "b", router: "r6" }, 50_000);
  assert.deepEqual(t.live(75_000).map((e) => e.id), ["a", "b"]);
  assert.equal(t.liveKey(75_000), "a\tr1\t\t\t9470\nb\tr6\t\t\t9470");
  assert.equal(t.liveKey(85_000), "a\tr1\t\t\t9470", "b's last request was at 50 s");
  assert.equal(t.liveKey(91_000), "");
  // Moving to another router is a new key; the site and address stay when not given again.
  t.seen({ id: "b", router: "r3" }, 91_000);
  assert.equal(t.liveKey(91_000), "b\tr3\t\t\t9470");
  assert.deepEqual(Object.fromEntries(t.bySite(91_000)), { ams: { known: 1, live: 0 }, unknown: { known: 1, live: 1 } });
});

test("the table is bounded: past max-probers the prober seen longest ago is forgotten", () => {
  const t = new ProberTable(3, 30_000);
  for (const [i, id] of ["a", "b", "c"].entries()) t.seen({ id, router: "r1" }, i);
  t.seen({ id: "a", router: "r1" }, 10); // a seen again: b is now the oldest
  t.seen({ id: "d", router: "r1" }, 11);
  assert.equal(t.size, 3);
  assert.equal(t.get("b"), undefined);
  assert.deepEqual(t.live(12).map((e) => e.id), ["a", "c", "d"]);
  assert.equal(t.forgotten, 1);
});

// ---- the service ----

async function nanogGroup(mode: "all" | "plan" = "all"): Promise<PathSet> {
  let set: PathSet | undefined;
  const engine = new Engine(
    { query: { pairs: directedPairs([], [["r1", "r3", "r6"]]), mode, maxPerPair: 64, plan: { budgetPps: 1000, alpha: 2, beta: 1, minLinkPps: 25 } }, metric: "igp", debounceMs: 0, staleTimeoutMs: 1000, routeRefresh: false, generation: 0, sliceMs: 0 },
    { log: createLogger({ name: "t", level: "error", stream: { write: () => {} } }), command: () => {}, publish: async (s) => void (set = s), now: () => new Date(0) },
  );
  const t = readTopologyJson("nanog6.json");
  const lines = new ExabgpLines(lineTopology(t.nodes, t.edges));
  let n = 0;
  for (const l of lines.fullTable()) engine.handleLine(l, ++n);
  await engine.recompute();
  return JSON.parse(JSON.stringify(set)) as PathSet;
}

interface Answer {
  status: number;
  etag: string;
  set?: PathSet;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, etag: String(res.headers.etag), ...(res.statusCode === 200 ? { set: parsePathSet(JSON.parse(body)) } : {}) }));
      })
      .on("error", reject);
  });
}

function getText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

/** Until `n` long-polls are held (the requests are in). */
async function waiting(server: PathServer, n: number): Promise<void> {
  for (let i = 0; server.stats().waiting !== n; i++) {
    if (i > 1000) throw new Error(`never ${n} long-polls waiting`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const users = readUserDb();
/** A PathServer on a clock the test moves (`clock.ms`), serving NANOG 6's group [r1, r3, r6]. */
async function nanogServer(t: TestContext): Promise<{ server: PathServer; base: string; set: PathSet; clock: { ms: number } }> {
  const clock = { ms: 1_000_000 };
  const server = new PathServer(SERVE, { log: () => createLogger({ name: "t", level: "error", stream: { write: () => {} } }), who: currentIdentity(users), users }, { now: () => clock.ms });
  t.after(() => server.close());
  await server.start();
  const set = await nanogGroup();
  server.publish(set, JSON.stringify(set));
  return { server, base: `http://127.0.0.1:${server.address!.port}/v1/paths`, set, clock };
}

const SERVE: ServeConfig = { listen: "127.0.0.1:0", auth: "none", tokenFile: null, certFile: null, keyFile: null, clientCaFile: null, maxConnections: 64, maxWaiting: 16, maxWait: 60_000, proberTimeout: 30_000, maxProbers: 4096, probersPerLink: 2, oneWay: true };

test("service: a prober that still fetches but whose counts cannot be pulled loses its share at prober-timeout, and gets it back with its next good pull; one-way paths go to probers that gave an address", async (t) => {
  const { server, base, set, clock } = await nanogServer(t);
  const counts = (id: string) => encodeURIComponent(`http://198.18.100.${id.slice(1)}:9469/v1/counts`);
  const fetch = async (id: string, router: string): Promise<PathSet> => (await get(`${base}?prober=${id}&router=${router}&address=198.18.100.${id.slice(1)}&counts=${counts(id)}`)).set!;
  await fetch("p1", "r1");
  await fetch("p6", "r6");
  const both = await fetch("p1", "r1");
  assert.ok(server.stats().coverage!.links.some((l) => l.probers.includes("p6")));
  assert.ok(both.oneway!.length > 0 && both.oneway!.every((o) => o.src === "r1" && o.to.prober === "p6" && o.to.address.ipv4 === "198.18.100.6"), "p1 sends its r1 -> r6 paths one way to p6");
  assert.ok(both.incoming!.length > 0 && both.incoming!.every((i) => i.from === "p6"));
  server.reported("p6", true);
  clock.ms += 1000;
  server.reported("p6", false);
  for (let i = 0; i < 2; i++) {
    clock.ms += 14_500;
    await fetch("p6", "r6"); // p6 still fetches: live by its fetches
    await fetch("p1", "r1");
  }
  clock.ms += 1000;
  server.reported("p6", false);
  const alone = await fetch("p1", "r1");
  assert.equal(alone.oneway, undefined, "p6 stopped reporting for 30 s: no receiver at r6");
  assert.ok(server.stats().coverage!.links.every((l) => !l.probers.includes("p6")), "p6 probes nothing now");
  server.reported("p6", true);
  const back = await fetch("p1", "r1");
  assert.deepEqual(back.paths.map((p) => p.id), both.paths.map((p) => p.id), "p6 is back: the share as before");
  assert.equal(back.oneway!.length, both.oneway!.length);
});

test("service: a registered prober gets its assignment; a silent one's share moves to the others at prober-timeout (exactly the long-polls of the probers whose share moved wake), and back when it returns", async (t) => {
  const { server, base, set, clock } = await nanogServer(t);
  const ROUTER: Record<string, string> = { p1: "r1", p3: "r3", p6: "r6" };
  const url = (id: string, extra = "") => `${base}?prober=${id}&router=${ROUTER[id]}&site=site-${id}${extra}`;
  const expected = (live: string[]) => assignPaths(set, live.map((id) => ({ id, router: ROUTER[id] }))).byProber;
  const etag = new Map<string, string>();
  const slice = new Map<string, string[]>();
  const fetch = async (id: string): Promise<void> => {
    const a = await get(url(id));
    assert.equal(a.status, 200);
    etag.set(id, a.etag);
    slice.set(id, a.set!.paths.filter((p) => p.src === ROUTER[id]).map((p) => p.id)); // the rest: its paths' mirrors
  };

  /** Long-polls from `polling`; then `change`; the polls of the probers whose share moved are answered with it, the others still wait. */
  const transition = async (polling: string[], change: () => Promise<void> | void, live: string[]): Promise<string[]> => {
    const polls = polling.map((id) => {
      const req = http.get(url(id, "&wait=60s"), { headers: { "if-none-match": etag.get(id)! }, agent: false });
      return {
        id,
        req,
        answer: new Promise<Answer>((resolve) =>
          req.on("response", (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, etag: String(res.headers.etag), ...(res.statusCode === 200 ? { set: parsePathSet(JSON.parse(body)) } : {}) }));
          }),
        ),
      };
    });
    for (const p of polls) p.req.on("error", () => {});
    await waiting(server, polls.length);
    const before = new Map(slice);
    await change();
    const want = expected(live);
    const moved = polling.filter((id) => JSON.stringify(want.get(id)) !== JSON.stringify(before.get(id)));
    for (const p of polls) {
      if (!moved.includes(p.id)) continue;
      const a = await p.answer;
      assert.equal(a.status, 200, `${p.id}'s long-poll answered`);
      assert.notEqual(a.etag, etag.get(p.id));
      assert.equal(a.set!.generation, 1, "the same generation, another slice");
      etag.set(p.id, a.etag);
      slice.set(p.id, a.set!.paths.filter((x) => x.src === ROUTER[p.id]).map((x) => x.id));
    }
    await waiting(server, polls.length - moved.length);
    for (const p of polls) if (!moved.includes(p.id)) p.req.destroy();
    await waiting(server, 0);
    for (const id of live) assert.deepEqual(slice.get(id) ?? want.get(id), want.get(id), `${id}'s slice is its assignment`);
    return moved;
  };

  // Alone, p1 gets every path of r1 (the other ends have no prober).
  await fetch("p1");
  assert.match(etag.get("p1")!, /^"1\.[0-9a-f]{8}"$/);
  assert.deepEqual(slice.get("p1"), set.paths.filter((p) => p.src === "r1").map((p) => p.id));
  assert.equal((await get(url("p1"), { "if-none-match": etag.get("p1")! })).status, 304);

  // p3 and p6 register while p1 waits: p3 wins the r1 <-> r3 loop, so p1's share changes.
  const moved = await transition(["p1"], async () => {
    await fetch("p3");
    await fetch("p6");
  }, ["p1", "p3", "p6"]);
  assert.deepEqual(moved, ["p1"]);
  assert.equal(server.stats().coverage!.undercovered, 0, "every link by two probers");
  for (const id of ["p1", "p3", "p6"]) assert.ok(set.paths.filter((p) => slice.get(id)!.includes(p.id)).every((p) => p.src === ROUTER[id]), `${id} starts its own router's paths only`);

  // The registry's metrics: known and live per site, coverage per link, undercovered.
  const registry = new Registry();
  registerServeMetrics(registry, () => server);
  let text = await registry.metrics();
  assert.match(text, /^lsprobe_plugin_probers_live\{site="site-p3"\} 1$/m);
  assert.match(text, /^lsprobe_plugin_links_undercovered 0$/m);
  assert.equal([...text.matchAll(/^lsprobe_plugin_link_coverage\{[^}]*\} (\d+)$/gm)].filter((m) => Number(m[1]) < 2).length, 0);
  assert.equal([...text.matchAll(/^lsprobe_plugin_link_coverage\{/gm)].length, 16);

  // p3 goes silent (p1 and p6 keep polling). Just before prober-timeout nothing moves; at it,
  // p3's loops go to the other end's prober (their mirrors start at r1 or r6).
  const p3had = slice.get("p3")!;
  clock.ms += 29_999;
  server.refresh();
  assert.equal(server.stats().coverage!.links.every((l) => l.probers.length >= 2), true, "p3 still live");
  await transition(["p1", "p6"], () => {
    clock.ms += 1;
    server.refresh();
  }, ["p1", "p6"]);
  const mirror = (id: string) => {
    const p = set.paths.find((x) => x.id === id)!;
    return set.paths.find((x) => x.hops.map((h) => h.node).join() === [...p.hops].reverse().map((h) => h.node).join())!.id;
  };
  for (const id of p3had) assert.ok([...slice.get("p1")!, ...slice.get("p6")!].includes(mirror(id)), `p3's ${id} is probed from its other end`);
  text = await registry.metrics();
  assert.match(text, /^lsprobe_plugin_probers_live\{site="site-p3"\} 0$/m);
  assert.match(text, /^lsprobe_plugin_probers_known\{site="site-p3"\} 1$/m);
  assert.match(text, /^lsprobe_plugin_links_undercovered 0$/m, "the share moved: every link still has two probers");

  // p3 comes back: every slice is what it was with the three.
  await transition(["p1", "p6"], () => fetch("p3"), ["p1", "p3", "p6"]);
  assert.deepEqual(slice.get("p3"), p3had);

  // p6 goes silent: r1-r2, r2-r4 and r2-r5 are crossed by r1 <-> r6 paths only, so nobody can
  // take its place there: one prober (p1) each, both ways, and the metric says so.
  await fetch("p1");
  await fetch("p3");
  const e6 = etag.get("p6");
  clock.ms += 15_000;
  await fetch("p1");
  await fetch("p3");
  await transition(["p1", "p3"], () => {
    clock.ms += 15_000;
    server.refresh();
  }, ["p1", "p3"]);
  text = await registry.metrics();
  assert.match(text, /^lsprobe_plugin_links_undercovered 6$/m);
  assert.match(text, /^lsprobe_plugin_link_coverage\{link="[^"]+",from="r2",to="r4"\} 1$/m);
  assert.equal(server.stats().coverage!.links.find((l) => l.from === "r2" && l.to === "r4")!.reason, "only one prober's paths cross it (p1): the other routers its paths start or end at have no live prober");
  // GET /v1/probers shows the table and the coverage, with the reasons.
  const view = JSON.parse(await getText(base.replace("/v1/paths", "/v1/probers"))) as { probers: Array<{ id: string; site: string; router: string; live: boolean; paths: number }>; undercovered: number; links: Array<{ from: string; to: string; probers: string[]; reason?: string }> };
  assert.deepEqual(view.probers.map((p) => [p.id, p.site, p.router, p.live]), [["p1", "site-p1", "r1", true], ["p3", "site-p3", "r3", true], ["p6", "site-p6", "r6", false]]);
  assert.deepEqual(view.probers.map((p) => p.paths), [slice.get("p1")!.length, slice.get("p3")!.length, 0]);
  assert.equal(view.undercovered, 6);
  assert.deepEqual(view.links.find((l) => l.from === "r2" && l.to === "r4")!.probers, ["p1"]);
  await transition(["p1", "p3"], () => fetch("p6"), ["p1", "p3", "p6"]);
  assert.equal(etag.get("p6"), e6, "p6's share is its own again");
  assert.equal(server.stats().coverage!.undercovered, 0);

  // A bad registration is 400; router= alone (unregistered) still gets its router's slice.
  assert.equal((await get(`${base}?prober=p1&router=r1&address=nope`)).status, 400);
  const plain = await get(`${base}?router=r6`);
  assert.equal(plain.etag, '"1"');
  assert.deepEqual(plain.set!.paths.map((p) => p.id), set.paths.filter((p) => p.src === "r6").map((p) => p.id));
});

test("assign: on mode plan's path set (the plan's paths, some without their mirror), every link as covered as its probers allow, the rest with the reason", async () => {
  const set = await nanogGroup("plan");
  assert.equal(set.mode, "plan");
  const a = assignPaths(set, [
    { id: "p1", router: "r1" },
    { id: "p3", router: "r3" },
    { id: "p6", router: "r6" },
  ]);
  for (const l of a.links) {
    assert.ok(l.probers.length >= Math.min(2, l.possible), `${l.link} ${l.from}>${l.to}: ${l.probers.length} of ${l.possible} possible`);
    assert.equal(l.reason !== undefined, l.probers.length < 2);
  }
  assert.equal(a.unprobed.length, 0, "every chosen path starts at a router with a prober");
  const probed = new Set([...a.byProber.values()].flat());
  for (const p of set.paths) assert.ok(probed.has(p.id) || set.paths.some((q) => probed.has(q.id) && q.hops.map((h) => h.node).join() === [...p.hops].reverse().map((h) => h.node).join()), `${p.id} or its mirror probed`);
});

test("PathSource: a reassignment (the same generation under another ETag) is taken; the same ETag again is not", async (t) => {
  const server = new PathServer(SERVE, { log: () => createLogger({ name: "t", level: "error", stream: { write: () => {} } }), who: currentIdentity(users), users });
  await server.start();
  const set = await nanogGroup();
  server.publish(set, JSON.stringify(set));
  const url = `http://127.0.0.1:${server.address!.port}/v1/paths`;
  const src = new PathSource({ socket: null, file: null, url, id: "p1", router: "r1", site: "ams", address: "198.18.100.2", waitMs: 60_000, minBackoffMs: 20, maxBackoffMs: 100 });
  const got: string[] = [];
  src.on("pathset", (s) => got.push(`${s.generation}:${s.paths.filter((p) => p.src === "r1").length}`));
  t.after(async () => {
    src.close();
    await server.close();
  });
  await src.start();
  await until(() => src.current !== undefined);
  const r1 = set.paths.filter((p) => p.src === "r1").length;
  const own = (): string[] => src.current!.paths.filter((p) => p.src === "r1").map((p) => p.id); // the rest: their mirrors
  assert.equal(own().length, r1, "alone: every path of r1");
  const entry = server.probers.get("p1")!;
  assert.deepEqual([entry.router, entry.site, entry.address], ["r1", "ams", "198.18.100.2"], "registered with what it sent");
  await waiting(server, 1);
  // p3 registers: it wins the r1 <-> r3 loop (the hash says so), and p1's long-poll brings the
  // smaller share under the same generation.
  const want = assignPaths(set, [
    { id: "p1", router: "r1" },
    { id: "p3", router: "r3" },
  ]).byProber.get("p1")!;
  assert.ok(want.length < r1);
  await get(`${url}?prober=p3&router=r3`);
  await until(() => own().length === want.length);
  assert.deepEqual(own(), want);
  assert.equal(src.current!.generation, 1);
  await waiting(server, 1);
  assert.deepEqual(got, [`1:${r1}`, `1:${want.length}`]);
  // The set offered again under the ETag it came with is no news; a newer generation still is.
  server.publish({ ...set, generation: 2 }, JSON.stringify({ ...set, generation: 2 }));
  await until(() => src.current!.generation === 2);
  assert.deepEqual(got, [`1:${r1}`, `1:${want.length}`, `2:${want.length}`]);
});

async function until(f: () => boolean): Promise<void> {
  for (let i = 0; !f(); i++) {
    if (i > 1000) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}
