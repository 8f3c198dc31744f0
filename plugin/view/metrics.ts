// The one view on the plugin's /metrics (plugin.listen): read at scrape time from the last round.
// Link series carry the labels of the probers' (link, from, to, edge, af: prober/metrics.ts), so
// the same alert and dashboard panels read either; `probers` says who saw it lose.
import { Counter, Gauge, type Registry } from "prom-client";
import { edgeOf } from "../../prober/metrics.js";
import type { OneView } from "./view.js";

const LINK = ["link", "from", "to", "edge", "af"] as const;

export function registerViewMetrics(registry: Registry, view: () => OneView | undefined): void {
  const r = [registry];
  const result = () => view()?.view().result;
  new Gauge({
    name: "lsprobe_view_link_loss_ratio",
    help: "The one view: the link's loss ratio over plugin.view.window, inferred from every registered prober's counts (out-and-back and one-way streams) together.",
    labelNames: LINK,
    registers: r,
    collect() {
      this.reset();
      for (const l of result()?.links ?? []) if (Number.isFinite(l.loss)) this.set({ link: l.link, from: l.from, to: l.to, edge: edgeOf(l.from, l.to), af: l.af }, l.loss);
    },
  });
  new Gauge({
    name: "lsprobe_view_link_suspect",
    help: "The one view: 1 for a link whose loss from every prober's counts together is at least plugin.view.lossy-above and significant; `probers` lists the probers whose streams across it lost probes.",
    labelNames: [...LINK, "probers"],
    registers: r,
    collect() {
      this.reset();
      for (const l of result()?.links ?? []) if (l.suspect) this.set({ link: l.link, from: l.from, to: l.to, edge: edgeOf(l.from, l.to), af: l.af, probers: l.probers.join(",") }, 1);
    },
  });
  new Gauge({
    name: "lsprobe_view_link_identifiable",
    help: "The one view: 1 when the union of the probers' streams tells this link apart from every other (with one-way streams, a link's two directions).",
    labelNames: LINK,
    registers: r,
    collect() {
      this.reset();
      for (const l of result()?.links ?? []) this.set({ link: l.link, from: l.from, to: l.to, edge: edgeOf(l.from, l.to), af: l.af }, l.identifiable ? 1 : 0);
    },
  });
  new Gauge({
    name: "lsprobe_view_router_suspect",
    help: "The one view: 1 for a router every probed link of which loses (named instead of its links); `probers` lists who saw it.",
    labelNames: ["router", "af", "probers"],
    registers: r,
    collect() {
      this.reset();
      for (const d of result()?.routers ?? []) this.set({ router: d.router, af: d.af, probers: d.probers.join(",") }, 1);
    },
  });
  new Gauge({
    name: "lsprobe_view_streams",
    help: "The one view: probe streams counted in the last round, by kind (loop: a prober's out-and-back path; oneway: a path from one prober to another).",
    labelNames: ["kind"],
    registers: r,
    collect() {
      const s = result()?.streams;
      this.set({ kind: "loop" }, s?.loop ?? 0);
      this.set({ kind: "oneway" }, s?.oneway ?? 0);
    },
  });
  new Gauge({
    name: "lsprobe_view_probers",
    help: "The one view: registered probers by whether the last pull of their counts worked (ok) or not (failing).",
    labelNames: ["state"],
    registers: r,
    collect() {
      const pulls = [...(view()?.view().pulls.values() ?? [])];
      this.set({ state: "ok" }, pulls.filter((p) => p.ok).length);
      this.set({ state: "failing" }, pulls.filter((p) => !p.ok).length);
    },
  });
  new Counter({
    name: "lsprobe_view_rounds_total",
    help: "The one view: rounds done (a pull of every prober and an inference).",
    registers: r,
    collect() {
      this.reset();
      this.inc(view()?.view().rounds ?? 0);
    },
  });
  new Counter({
    name: "lsprobe_view_pull_errors_total",
    help: "The one view: pulls of a prober's counts that failed (no answer in plugin.view.timeout, an HTTP error, a malformed report).",
    labelNames: ["prober"],
    registers: r,
    collect() {
      this.reset();
      for (const [p, n] of view()?.view().pullErrors ?? []) this.inc({ prober: p }, n);
    },
  });
  new Gauge({
    name: "lsprobe_view_round_duration_seconds",
    help: "The one view: how long the last round took (pulls and inference).",
    registers: r,
    collect() {
      this.set((view()?.view().lastRoundMs ?? 0) / 1000);
    },
  });
}
