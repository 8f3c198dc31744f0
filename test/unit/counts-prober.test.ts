// The prober's GET /v1/counts (issue 14, Must 3): served by prober/countsroute.ts over
// shared/http.ts on loopback, gzipped when asked, parsed with shared/counts.ts parseCounts(),
// and its numbers checked against a simulated run (a network that peels GRE layers, one link
// broken for a while). And the registration's counts URL (pathsource.ts countsUrl()).
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { gunzipSync } from "node:zlib";
import { countsRoute, COUNTS_PATH } from "../../prober/countsroute.js";
import { PathSource, countsUrl } from "../../prober/pathsource.js";
import { listen } from "../../shared/http.js";
import { parseCounts, COUNTS_SCHEMA } from "../../shared/counts.js";
import { parseConfig } from "../../shared/config.js";
import { greNetwork, linkOf, nanogPathSet, oneProber } from "../util/simnet.js";

const SOURCE = "198.18.100.2";

/** A prober on a network that peels GRE layers and black-holes what goes to a `broken` address. */
function simulated() {
  const cfg = parseConfig(`plugin:\n  endpoints:\n    pairs: [[r1, r6]]\nprober:\n  source: ${SOURCE}\n  rate: 10\n  timeout: 200ms\n  id: site-a\n`, "t.yaml").prober!;
  const broken = new Set<string>();
  const { prober, run } = oneProber(cfg, (deliver) => greNetwork({ broken, deliver }), { nonce: 0x1234abcd });
  return { prober, broken, run };
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on("error", reject);
  });
}

test("GET /v1/counts: every out-and-back path's cumulative counts, as /paths says them, gzipped when asked", async (t) => {
  const s = simulated();
  const set = await nanogPathSet();
  s.prober.setPathSet(set);
  s.run(2);
  const l24 = linkOf(set, "r2", "r4");
  s.broken.add(l24.remoteAddress!);
  s.run(2);
  s.broken.clear();
  s.run(2);

  const server = await listen("127.0.0.1:0", { program: "t", routes: [countsRoute(() => s.prober.countsReport("site-a"))] });
  t.after(() => server.close());
  const plain = await get(server.port, COUNTS_PATH);
  assert.equal(plain.status, 200);
  assert.match(String(plain.headers["content-type"]), /application\/json/);
  assert.equal(plain.headers["content-encoding"], undefined);
  const zipped = await get(server.port, COUNTS_PATH, { "accept-encoding": "gzip" });
  assert.equal(zipped.headers["content-encoding"], "gzip");
  assert.equal(zipped.headers.vary, "Accept-Encoding");
  const report = parseCounts(JSON.parse(gunzipSync(zipped.body).toString("utf8")), "GET /v1/counts");
  const again = parseCounts(JSON.parse(plain.body.toString("utf8")));
  assert.deepEqual({ ...again, time: 0 }, { ...report, time: 0 }, "the same report, compressed or not (the clock stood still)");

  assert.equal(report.schema, COUNTS_SCHEMA);
  assert.equal(report.prober, "site-a");
  assert.equal(report.nonce, 0x1234abcd, "the probes' Session Nonce");
  assert.equal(report.generation, set.generation);
  assert.deepEqual([report.oneway, report.incoming], [[], []], "no one-way paths in this set");
  assert.equal(report.paths.length, 8, "one row per (path, class, family)");
  const described = new Map((s.prober.describe() as Array<{ path: string; received: number; late: number; lost: number }>).map((d) => [d.path, d]));
  let lossy = 0;
  for (const [id, af, cls, done, lost] of report.paths) {
    const d = described.get(id)!;
    assert.equal(af, "ipv4");
    assert.equal(cls, "default");
    assert.equal(lost, d.lost, `${id}: lost as /paths reports it`);
    assert.equal(done, d.received + d.late + d.lost, `${id}: done = received + late + lost`);
    assert.ok(done >= 50 && done <= 60, `${id}: ${done} finalized of ~60 sent at 10/s in 6 s`);
    const crosses = set.paths.find((p) => p.id === id)!.links.some((l) => (l.from === "r2" && l.to === "r4") || (l.from === "r4" && l.to === "r2"));
    if (crosses) {
      assert.ok(lost >= 15 && lost <= 25, `${id} crosses r2-r4 (broken 2 s): ${lost} lost`);
      lossy++;
    } else assert.equal(lost, 0, `${id} does not cross r2-r4`);
  }
  assert.equal(lossy, 2, "r1>r2>r4>r6 and its mirror");
});

test("registration: the counts URL from prober.listen (a wildcard takes the source; loopback: none)", () => {
  const v4 = { ipv4: "198.18.100.2", ipv6: null };
  const dual = { ipv4: "198.18.100.2", ipv6: "2001:2::100:2" };
  const v6 = { ipv4: null, ipv6: "2001:2::100:2" };
  assert.equal(countsUrl("0.0.0.0:9469", v4), "http://198.18.100.2:9469/v1/counts");
  assert.equal(countsUrl("[::]:9469", v6), "http://[2001:2::100:2]:9469/v1/counts");
  assert.equal(countsUrl("[::]:9469", dual), "http://198.18.100.2:9469/v1/counts", "IPv4 first");
  assert.equal(countsUrl("198.18.100.2:9469", dual), "http://198.18.100.2:9469/v1/counts");
  assert.equal(countsUrl("[2001:2::100:2]:9469", dual), "http://[2001:2::100:2]:9469/v1/counts");
  assert.equal(countsUrl("prober-a.example:9469", v4), "http://prober-a.example:9469/v1/counts");
  assert.equal(countsUrl("127.0.0.1:9469", v4), null, "the default: the plugin could not reach it");
  assert.equal(countsUrl("[::1]:9469", v4), null);
  assert.equal(countsUrl("localhost:9469", v4), null);
  assert.equal(countsUrl("0.0.0.0:0", v4), null, "port 0: not known in advance");
});

test("registration: the fetch carries the addresses of both families, the port and the counts URL", () => {
  const src = new PathSource({ socket: null, file: null, url: "https://c:9471/v1/paths", id: "site-a", router: "r1", address: "198.18.100.2", address6: "2001:2::100:2", port: 9470, counts: "http://198.18.100.2:9469/v1/counts", site: "ams" });
  const q = src.requestUrl().searchParams;
  assert.deepEqual(q.getAll("address"), ["198.18.100.2", "2001:2::100:2"]);
  assert.equal(q.get("port"), "9470");
  assert.equal(q.get("counts"), "http://198.18.100.2:9469/v1/counts");
  assert.deepEqual([q.get("prober"), q.get("router"), q.get("site")], ["site-a", "r1", "ams"]);
  const bare = new PathSource({ socket: null, file: null, url: "https://c:9471/v1/paths", id: "p", router: "r1", counts: null }).requestUrl().searchParams;
  assert.equal(bare.has("counts"), false, "no counts URL: not sent");
  assert.equal(bare.has("port"), false);
});
