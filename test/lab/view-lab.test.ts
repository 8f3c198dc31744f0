// The one view in the lab (issue 14, Musts 3 and 4, the second acceptance point): the 2x6 ladder
// with probers at a1, b3 and b6 (FleetStack, fleet.ts), the plugin in nms pulling every prober's
// /v1/counts each second, the probers sending one-way paths to each other (plugin.serve.one-way).
//  - Healthy: every prober's counts are pulled, one-way streams are in the view, no link suspect.
//  - A gray 3% loss on a3 -> a4 only (in a4's decapsulator): no prober can tell it alone (its
//    out-and-back probes cross a3 -> a4 and a4 -> a3 together: at most the pair as a group), and
//    within 60 s the one view names a3 -> a4, identifiable, in that direction only, with the
//    probers whose streams lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FleetStack } from "./fleet.js";
import { findExabgp } from "./exabgp.js";
import { SKIP_NO_OPENSSL } from "../util/tls.js";

const skip = process.getuid?.() !== 0 ? "needs root (network namespaces, raw sockets)" : findExabgp() === undefined ? "exabgp is not installed" : SKIP_NO_OPENSSL;

interface Series {
  labels: Record<string, string>;
  value: number;
}

/** Every series of `name` in a /metrics text. */
function series(metrics: string, name: string): Series[] {
  const out: Series[] = [];
  for (const m of metrics.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, "gm"))) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

test("one view in the lab: a gray 3% loss on a3 -> a4 alone, which no prober can tell from a4 -> a3, is named by the one view in that direction only within 60 s", { skip, timeout: 240_000 }, async (t) => {
  const s = await FleetStack.start({ rate: 20, pluginExtra: "  view:\n    window: 20s" });
  t.after(() => s.stop());

  // Healthy: all three pulled, one-way streams counted, nothing suspect.
  await s.until(
    "every prober's counts in the view, with one-way streams",
    async () => {
      const m = await s.pluginMetrics();
      const ok = series(m, "lsprobe_view_probers").find((x) => x.labels.state === "ok")?.value;
      const oneway = series(m, "lsprobe_view_streams").find((x) => x.labels.kind === "oneway")?.value ?? 0;
      return ok === 3 && oneway > 0;
    },
    60_000,
  );
  await new Promise((r) => setTimeout(r, 5_000));
  const healthy = await s.pluginMetrics();
  assert.deepEqual(series(healthy, "lsprobe_view_link_suspect"), [], "healthy: no suspect");
  const identifiable = (m: string, from: string, to: string): number | undefined => series(m, "lsprobe_view_link_identifiable").find((x) => x.labels.from === from && x.labels.to === to)?.value;
  assert.equal(identifiable(healthy, "a3", "a4"), 1, "one-way streams tell a3 -> a4 apart from a4 -> a3");

  s.lab.setFault("a3", "a4", { loss: 0.03 });
  const t0 = Date.now();
  let named: Series | undefined;
  await s.until(
    "the one view to name a3 -> a4",
    async () => {
      const sus = series(await s.pluginMetrics(), "lsprobe_view_link_suspect");
      named = sus.find((x) => x.labels.from === "a3" && x.labels.to === "a4");
      return named !== undefined;
    },
    60_000,
  );
  const took = (Date.now() - t0) / 1000;
  t.diagnostic(`named after ${took.toFixed(1)} s by ${named!.labels.probers}`);
  const m = await s.pluginMetrics();
  const sus = series(m, "lsprobe_view_link_suspect");
  assert.deepEqual(
    sus.map((x) => `${x.labels.from}->${x.labels.to}`),
    ["a3->a4"],
    "that direction only",
  );
  assert.equal(named!.labels.edge, "a3-a4");
  assert.ok(named!.labels.probers.split(",").length >= 2, `the probers that saw it: ${named!.labels.probers}`);
  const loss = series(m, "lsprobe_view_link_loss_ratio").find((x) => x.labels.from === "a3" && x.labels.to === "a4")!.value;
  assert.ok(loss > 0.01 && loss < 0.09, `loss ${loss}`);

  // No prober alone names a3 -> a4 as an identifiable link of its own.
  for (const site of ["a", "b", "c"]) {
    const v = await s.proberView(site);
    const own = v.suspects.find((x) => (x.from === "a3" && x.to === "a4") || (x.from === "a4" && x.to === "a3"));
    assert.ok(own === undefined || !own.identifiable, `prober ${site}: ${JSON.stringify(own)}`);
  }
});
