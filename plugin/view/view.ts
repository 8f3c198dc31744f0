// The one view of the links (issue 14, Must 3): the shell around union.ts and infer.ts.
//
// Why in the plugin and not a third program: the plugin already knows what the view needs and
// nothing else does, the full path set (every stream's links) and the registered probers with
// the URLs of their counts; a third program would have to fetch both from it every round and
// would be one more service to run, secure and watch. The cost stays small: a round over
// 100,000 streams is measured in bench/fleet.ts.
//
// Every `interval` it pulls GET /v1/counts from every live registered prober that gave a URL,
// all at once, each bounded by `timeout`; a prober that does not answer keeps its last report
// for three intervals (one slow answer is not a gap in its counts), then drops out of the
// union. Then it infers over the window, in a worker thread (worker.ts: seconds over 100,000
// streams must not stall ExaBGP's stdin or the long-polls), and keeps the verdict for /metrics
// and the log. A round never overlaps the next: a slow one delays it.
import http from "node:http";
import https from "node:https";
import { gunzip } from "node:zlib";
import { promisify } from "node:util";
import { parseCounts, type CountsReport } from "../../shared/counts.js";
import type { ViewConfig } from "../../shared/config.js";
import type { Logger } from "../../shared/log.js";
import type { PathSet } from "../../shared/pathset.js";
import { inferView, type ViewResult } from "./infer.js";
import { InferenceWorker } from "./worker.js";
import { linkIndex, streamsOf, type LinkIndex, type Round } from "./union.js";

const gunzipAsync = promisify(gunzip);
/** A counts report larger than this is refused (100,000 rows are about 8 MB). */
const MAX_BYTES = 64 * 1024 * 1024;
/** Rounds a missing prober's last report stands in for it. */
const KEEP_ROUNDS = 3;

export interface ViewSource {
  /** The set in force (the full one: every prober's paths). */
  set(): PathSet | undefined;
  /** Registered probers that fetch (live or not: one that stopped reporting is pulled until it is back). */
  probers(): Array<{ id: string; counts: string | null }>;
  /** A pull of a prober's counts worked, or failed (plugin.serve reassigns a prober that stopped reporting). */
  reported?(id: string, ok: boolean): void;
}

export interface PullState {
  ok: boolean;
  error?: string;
  /** ms of the last good report. */
  at?: number;
}

export interface ViewStats {
  rounds: number;
  pullErrors: ReadonlyMap<string, number>;
  pulls: ReadonlyMap<string, PullState>;
  lastRoundMs: number;
  result?: ViewResult;
}

/** GET a counts report (gzip accepted), parsed; rejects with a message naming the URL. */
export function fetchCounts(url: string, timeoutMs: number): Promise<CountsReport> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === "https:" ? https : http).get(u, { headers: { "accept-encoding": "gzip", accept: "application/json" }, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on("data", (c: Buffer) => {
        n += c.length;
        if (n > MAX_BYTES) req.destroy(new Error(`answer larger than ${MAX_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`${url}: HTTP ${res.statusCode}`));
        const body = Buffer.concat(chunks);
        (res.headers["content-encoding"] === "gzip" ? gunzipAsync(body) : Promise.resolve(body)).then(
          (b) => {
            try {
              resolve(parseCounts(JSON.parse(b.toString("utf8")), url));
            } catch (e) {
              reject(new Error(e instanceof SyntaxError ? `${url}: not JSON: ${e.message}` : (e as Error).message));
            }
          },
          (e: Error) => reject(new Error(`${url}: gzip: ${e.message}`)),
        );
      });
      res.on("error", (e) => reject(new Error(`${url}: ${e.message}`)));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on("error", (e) => reject(new Error(`${url}: ${e.message}`)));
  });
}

export class OneView {
  private rounds: Round[] = [];
  private index?: LinkIndex;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly last = new Map<string, { report: CountsReport; round: number }>();
  private readonly stats: { rounds: number; pullErrors: Map<string, number>; pulls: Map<string, PullState>; lastRoundMs: number; result?: ViewResult } = { rounds: 0, pullErrors: new Map(), pulls: new Map(), lastRoundMs: 0 };
  private suspects = new Set<string>();
  private readonly worker = new InferenceWorker();

  constructor(
    readonly cfg: ViewConfig,
    private readonly source: ViewSource,
    private readonly log: () => Logger,
    private readonly fetch: (url: string, timeoutMs: number) => Promise<CountsReport> = fetchCounts,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.cfg.interval === 0 || this.closed) return;
    const tick = (): void => {
      const began = this.now();
      void this.round().finally(() => {
        if (!this.closed) this.timer = setTimeout(tick, Math.max(0, this.cfg.interval - (this.now() - began)));
      });
    };
    this.timer = setTimeout(tick, this.cfg.interval);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.worker.close();
  }

  view(): ViewStats {
    return this.stats;
  }

  /** One round: pull, then infer. Exposed for tests. */
  async round(): Promise<ViewResult | undefined> {
    const began = this.now();
    const n = ++this.stats.rounds;
    const probers = this.source.probers().filter((p) => p.counts !== null);
    // A prober gone from the table (or without a URL now) is no longer pulled: forget its state,
    // or lsprobe_view_probers{state="failing"} would count it for ever.
    const pulled = new Set(probers.map((p) => p.id));
    for (const id of this.stats.pulls.keys()) if (!pulled.has(id)) this.stats.pulls.delete(id);
    await Promise.all(probers.map((p) => this.pull(p.id, p.counts!, n)));
    for (const [id, l] of this.last) if (n - l.round > KEEP_ROUNDS) this.last.delete(id);
    this.rounds.push({ time: began, reports: new Map([...this.last].map(([id, l]) => [id, l.report])) });
    const keepFrom = this.rounds.findIndex((r) => began - r.time <= this.cfg.window + 2 * this.cfg.interval);
    if (keepFrom > 0) this.rounds.splice(0, keepFrom);
    const set = this.source.set();
    if (!set) return undefined;
    if (this.index?.set !== set) this.index = linkIndex(set);
    const streams = streamsOf(this.index, this.rounds, this.cfg.window, (KEEP_ROUNDS + 1) * this.cfg.interval + this.cfg.timeout);
    const opts = { suspectAbove: this.cfg.lossyAbove };
    let result: ViewResult;
    try {
      result = await this.worker.infer(streams, this.index.ends, opts);
    } catch (e) {
      this.log().once("view-worker", "warn", "one view: the inference worker failed; inferring on the main thread", { error: (e as Error).message });
      result = inferView(streams, this.index.ends, opts);
    }
    this.stats.result = result;
    this.stats.lastRoundMs = this.now() - began;
    this.logChanges(result);
    return result;
  }

  private async pull(id: string, url: string, round: number): Promise<void> {
    try {
      const report = await this.fetch(url, this.cfg.timeout);
      if (report.prober !== null && report.prober !== id) throw new Error(`${url}: answered for prober ${JSON.stringify(report.prober)}, registered as ${JSON.stringify(id)}`);
      this.last.set(id, { report, round });
      const before = this.stats.pulls.get(id);
      if (before && !before.ok) this.log().info("one view: prober's counts back", { prober: id, url });
      this.stats.pulls.set(id, { ok: true, at: this.now() });
      this.source.reported?.(id, true);
    } catch (e) {
      const message = (e as Error).message;
      this.stats.pullErrors.set(id, (this.stats.pullErrors.get(id) ?? 0) + 1);
      const before = this.stats.pulls.get(id);
      if (!before || before.ok || before.error !== message)
        this.log().warn("one view: prober's counts not pulled; its streams leave the view after 3 rounds", { prober: id, url, error: message, fix: "check that the prober's prober.listen is reachable from the plugin (its /v1/counts)" });
      this.stats.pulls.set(id, { ok: false, error: message, ...(before?.at !== undefined ? { at: before.at } : {}) });
      this.source.reported?.(id, false);
    }
  }

  private logChanges(r: ViewResult): void {
    const now = new Set<string>();
    for (const l of r.links) {
      if (!l.suspect) continue;
      const key = `${l.af}/${l.link}`;
      now.add(key);
      if (!this.suspects.has(key))
        this.log().warn("one view: link suspect", { link: l.link, from: l.from, to: l.to, af: l.af, loss: Number(l.loss.toFixed(4)), identifiable: l.identifiable, probers: l.probers.join(","), ...(l.group ? { group: l.group.join(",") } : {}) });
    }
    for (const key of this.suspects) if (!now.has(key)) this.log().info("one view: link cleared", { link: key.slice(key.indexOf("/") + 1), af: key.slice(0, key.indexOf("/")) });
    this.suspects = now;
  }
}
