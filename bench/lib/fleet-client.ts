// bench/lib/fleet-client: simulated probers for bench/fleet, run as a child process (forked, IPC)
// so the plugin under test and the clients do not share an event loop. Not a bench.
//
// Each simulated prober does what prober/pathsource.ts does over HTTP: GET /v1/paths with its
// registration (?prober=&router=&site=&address=) and ?wait=, If-None-Match naming the ETag it
// holds, a keep-alive agent of one socket, gzip accepted; each 200 is gunzipped and parsed, its
// slice checked (every path starts at the prober's router, or ends there: the mirrors a slice carries), and the prober asks again at once.
//
// Messages in: {type: "start", base, token, waitS, probers}; {type: "stats"}; {type: "stop"}.
// Out: {type: "stats", ...ClientStats}. Times are ms on the shared clock (timeOrigin + now()).
import http from "node:http";
import { gunzipSync } from "node:zlib";

export interface ProberSpec {
  id: string;
  router: string;
  site: string;
  address: string;
}

export interface ProberStats {
  id: string;
  firstRequestAt: number;
  /** When its first 200 (a slice) ended; NaN before. */
  firstSliceAt: number;
  etag: string;
  generation: number;
  paths: number;
  /** 200s received (the first slice, then every reassignment or generation). */
  answers: number;
  last200At: number;
  /** First arrival of each generation: [generation, at]. */
  arrivals: Array<[number, number]>;
  errors: number;
  /** Slices holding a path that neither starts nor ends at its router. */
  badSlices: number;
}

export interface ClientStats {
  probers: ProberStats[];
  /** This process's CPU (user + system, s) and RSS (MB). */
  cpuS: number;
  rssMb: number;
}

const clock = (): number => performance.timeOrigin + performance.now();

class SimProber {
  readonly s: ProberStats;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private req?: http.ClientRequest;
  private running = true;

  constructor(
    private readonly spec: ProberSpec,
    private readonly url: string,
    private readonly token: string,
  ) {
    this.s = { id: spec.id, firstRequestAt: NaN, firstSliceAt: NaN, etag: "", generation: 0, paths: 0, answers: 0, last200At: NaN, arrivals: [], errors: 0, badSlices: 0 };
  }

  async run(): Promise<void> {
    while (this.running) {
      try {
        await this.once();
      } catch {
        if (!this.running) return;
        this.s.errors++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  stop(): void {
    this.running = false;
    this.req?.destroy();
    this.agent.destroy();
  }

  private once(): Promise<void> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: "application/json", "accept-encoding": "gzip" };
    if (this.s.etag) headers["if-none-match"] = this.s.etag;
    if (Number.isNaN(this.s.firstRequestAt)) this.s.firstRequestAt = clock();
    return new Promise((resolve, reject) => {
      const req = http.get(this.url, { headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("error", reject);
        res.on("end", () => {
          if (res.statusCode === 200) this.take(res, Buffer.concat(chunks));
          else if (res.statusCode !== 304) return reject(new Error(`HTTP ${res.statusCode}`));
          resolve();
        });
      });
      req.on("error", reject);
      this.req = req;
    });
  }

  private take(res: http.IncomingMessage, raw: Buffer): void {
    const at = clock();
    const text = (res.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
    const set = JSON.parse(text) as { generation: number; paths: Array<{ src: string; dst: string }> };
    // Its paths start at its router; their mirrors (its probes' way back) end there.
    if (set.paths.some((p) => p.src !== this.spec.router && p.dst !== this.spec.router)) this.s.badSlices++;
    if (Number.isNaN(this.s.firstSliceAt)) this.s.firstSliceAt = at;
    if (set.generation !== this.s.generation) this.s.arrivals.push([set.generation, at]);
    this.s.etag = String(res.headers.etag ?? "");
    this.s.generation = set.generation;
    this.s.paths = set.paths.length;
    this.s.answers++;
    this.s.last200At = at;
  }
}

function main(): void {
  let probers: SimProber[] = [];
  process.on("message", (m: { type: string; base?: string; token?: string; waitS?: number; probers?: ProberSpec[] }) => {
    if (m.type === "start") {
      probers = m.probers!.map((p) => {
        const q = new URLSearchParams({ prober: p.id, router: p.router, site: p.site, address: p.address, wait: `${m.waitS}s` });
        return new SimProber(p, `${m.base}?${q}`, m.token!);
      });
      for (const p of probers) void p.run();
    } else if (m.type === "stats") {
      const u = process.cpuUsage();
      const stats: ClientStats = { probers: probers.map((p) => p.s), cpuS: (u.user + u.system) / 1e6, rssMb: process.memoryUsage().rss / 1e6 };
      process.send!({ type: "stats", ...stats });
    } else if (m.type === "stop") {
      for (const p of probers) p.stop();
      process.disconnect();
    }
  });
}

main();
