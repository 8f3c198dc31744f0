// Every PromQL expression of the Grafana files in monitoring/grafana: the dashboard's panel
// targets, template variable queries and annotation queries, and the queries of the provisioned
// alert rules. Each comes with Grafana's variables replaced by concrete values, so that it can
// be checked by promtool or run against a real Prometheus as it is.
//
// Substitutions (GRAFANA_SUBSTITUTIONS): $__rate_interval -> 1m, $__interval -> 1m,
// $__range -> 1h (and their _s/_ms forms); a dashboard variable -> its "All" value (allValue,
// ".+" for every variable of the lsprobe dashboard: every prober, path and class). A variable
// without an allValue, or any other "$", is an error: add it here rather than let it through.
// Variable queries: label_values(SELECTOR, label) -> SELECTOR (Grafana asks Prometheus for the
// series of SELECTOR), query_result(EXPR) -> EXPR.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** The repository, from the compiled file (dist/test/util -> ../../..). */
const DEFAULT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export const DASHBOARD_FILE = "monitoring/grafana/dashboards/lsprobe.json";
export const ALERTING_FILE = "monitoring/grafana/provisioning/alerting/lsprobe.yml";

export const GRAFANA_SUBSTITUTIONS: Readonly<Record<string, string>> = {
  __rate_interval: "1m",
  __interval: "1m",
  __interval_ms: "60000",
  __range: "1h",
  __range_s: "3600",
  __range_ms: "3600000",
};

export interface GrafanaExpression {
  /** Where it is, e.g. `dashboard panel "Path state" target A`. */
  source: string;
  /** Ready to run: variables substituted, label_values() unwrapped. */
  expr: string;
  /** As written in the file. */
  raw: string;
  /** No series is a valid answer: an annotation (events are rare) or a filter at the top level
   * (e.g. `lsprobe_link_suspect == 1` while no link is suspect). Every other expression
   * returns series as soon as the prober probes something. */
  mayBeEmpty: boolean;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** True when a comparison without `bool` sits outside every (), {}, [] and string: it filters. */
export function filtersAtTopLevel(expr: string): boolean {
  const s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  let depth = 0;
  let top = "";
  for (const ch of s) {
    if ("({[".includes(ch)) depth++;
    else if (")}]".includes(ch)) depth--;
    else if (depth === 0) top += ch;
  }
  return /(==|!=|>=|<=|>|<)(?!\s*bool\b)/.test(top);
}

function substitute(raw: string, vars: Map<string, string | null>, source: string): string {
  const value = (name: string): string => {
    if (name in GRAFANA_SUBSTITUTIONS) return GRAFANA_SUBSTITUTIONS[name];
    const v = vars.get(name);
    if (v === undefined) throw new Error(`${source}: unknown variable $${name} in ${JSON.stringify(raw)}`);
    if (v === null) throw new Error(`${source}: variable $${name} has no allValue to substitute`);
    return v;
  };
  const out = raw
    .replace(/\$\{(\w+)(?::\w+)?\}/g, (_, n: string) => value(n))
    .replace(/\[\[(\w+)\]\]/g, (_, n: string) => value(n))
    // $1, $2 ...: a regex group in label_replace(), which Grafana leaves alone (no variable
    // can be named by digits alone).
    .replace(/\$(\w+)/g, (m, n: string) => (/^\d+$/.test(n) ? m : value(n)));
  if (/\$(?!\d)/.test(out)) throw new Error(`${source}: "$" left in ${JSON.stringify(out)}`);
  return out;
}

/** A variable query as the PromQL Prometheus evaluates for it. */
function variableQuery(q: string, source: string): string {
  const lv = /^\s*label_values\(\s*([\s\S]+?)\s*,\s*(\w+)\s*\)\s*$/.exec(q);
  if (lv) return lv[1];
  const qr = /^\s*query_result\(\s*([\s\S]+)\s*\)\s*$/.exec(q);
  if (qr) return qr[1];
  throw new Error(`${source}: unsupported variable query ${JSON.stringify(q)} (label_values(SELECTOR, label) or query_result(EXPR))`);
}

function panelsOf(list: unknown[]): Json[] {
  const out: Json[] = [];
  for (const p of list) {
    if (!isObj(p)) continue;
    out.push(p);
    out.push(...panelsOf(arr(p.panels)));
  }
  return out;
}

export function readDashboard(root = DEFAULT_ROOT): Json {
  return JSON.parse(readFileSync(path.join(root, DASHBOARD_FILE), "utf8")) as Json;
}

export function readAlerting(root = DEFAULT_ROOT): Json {
  return parse(readFileSync(path.join(root, ALERTING_FILE), "utf8")) as Json;
}

/** Every PromQL expression of the dashboard and of the alert provisioning. */
export function grafanaExpressions(root = DEFAULT_ROOT): GrafanaExpression[] {
  const out: GrafanaExpression[] = [];
  const dash = readDashboard(root);
  const templating = isObj(dash.templating) ? arr(dash.templating.list).filter(isObj) : [];
  const vars = new Map<string, string | null>();
  for (const v of templating) {
    if (typeof v.name !== "string") continue;
    vars.set(v.name, typeof v.allValue === "string" && v.allValue !== "" ? v.allValue : null);
  }
  const add = (source: string, raw: string, prepare: (s: string) => string = (s) => s, annotation = false): void => {
    const expr = substitute(prepare(raw), vars, source);
    out.push({ source, expr, raw, mayBeEmpty: annotation || filtersAtTopLevel(expr) });
  };

  for (const v of templating) {
    if (v.type !== "query") continue;
    const q = isObj(v.query) ? v.query.query : v.query;
    if (typeof q !== "string") throw new Error(`dashboard variable $${String(v.name)}: no query`);
    const source = `dashboard variable $${String(v.name)}`;
    add(source, q, (s) => variableQuery(s, source));
  }
  for (const a of isObj(dash.annotations) ? arr(dash.annotations.list).filter(isObj) : []) {
    if (typeof a.expr === "string" && a.expr.trim()) add(`dashboard annotation "${String(a.name)}"`, a.expr, undefined, true);
  }
  for (const p of panelsOf(arr(dash.panels))) {
    for (const t of arr(p.targets).filter(isObj)) {
      if (typeof t.expr === "string" && t.expr.trim()) add(`dashboard panel "${String(p.title)}" target ${String(t.refId)}`, t.expr);
    }
  }

  const alerting = readAlerting(root);
  for (const g of arr(alerting.groups).filter(isObj)) {
    for (const r of arr(g.rules).filter(isObj)) {
      for (const d of arr(r.data).filter(isObj)) {
        if (d.datasourceUid === "__expr__" || !isObj(d.model)) continue;
        if (typeof d.model.expr === "string") add(`grafana alert rule "${String(r.title)}" query ${String(d.refId)}`, d.model.expr);
      }
    }
  }
  return out;
}
