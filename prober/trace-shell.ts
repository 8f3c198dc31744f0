// The pinned trace's shell (trace.ts is the core): the prober's GET /trace route, and the
// `lsprobe-prober trace PATH` subcommand that asks a running prober for one and prints it.
import type { IncomingMessage } from "node:http";
import { parseCommandLine, usageError, type CliSpec, type CliStreams } from "../shared/cli.js";
import type { Reply, Route } from "../shared/http.js";
import { formatTrace, type TraceRequestState, type TraceResult } from "./trace.js";

/** What the route needs of the prober in force (a reload replaces it). */
export interface Traceable<E> {
  entryFor(path: string, className?: string, af?: "ipv4" | "ipv6"): E | undefined;
  requestTrace(e: E, trigger: "demand"): { state: TraceRequestState; id?: number };
  traceResult(id: number): TraceResult | undefined;
}

/** The longest a GET /trace waits for its trace (the prober's timeouts are at most 60 s). */
export const TRACE_WAIT_MS = 150_000;

const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({ status, type: "application/json", body: JSON.stringify(body) + "\n", ...(headers ? { headers } : {}) });

/**
 * GET /trace?path=ID[&class=NAME][&af=ipv4|ipv6][&wait=0]: starts a trace of the path (its id, or its hops
 * "r1>r2>r4>r6"; the first class unless named; IPv4 when probed in it unless af says), or joins the one running, and answers with the
 * result once it is done (200, {state, id, trace}); wait=0 answers at once (202, {state, id}).
 * 400 without path, 404 for a path not probed, 429 (Retry-After) when traces are at their budget.
 */
export function traceRoute<E>(prober: () => Traceable<E>, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Route {
  return {
    path: "/trace",
    help: "GET /trace?path=ID (or hops r1>r2>r4>r6)[&class=NAME][&af=ipv4|ipv6][&wait=0]: a pinned trace of the path, out to each hop and back (JSON)",
    handler: async (req: IncomingMessage): Promise<Reply> => {
      const q = new URL(req.url ?? "/", "http://x").searchParams;
      const path = q.get("path");
      if (!path) return json(400, { error: "missing ?path=ID (a path id or its hops, e.g. r1>r2>r4>r6; GET /paths lists them)" });
      const className = q.get("class") ?? undefined;
      const afParam = q.get("af") ?? undefined;
      if (afParam !== undefined && afParam !== "ipv4" && afParam !== "ipv6") return json(400, { error: `af must be ipv4 or ipv6, got ${JSON.stringify(afParam)}` });
      const p = prober();
      const e = p.entryFor(path, className, afParam);
      if (!e) return json(404, { error: `no probed path ${JSON.stringify(path)}${className ? ` in class ${JSON.stringify(className)}` : ""}${afParam ? ` in ${afParam}` : ""} (GET /paths lists them)` });
      const r = p.requestTrace(e, "demand");
      if (r.id === undefined) return json(429, { error: "traces are at their budget (at most 4 at once, 16 waiting): try again shortly", state: r.state }, { "Retry-After": "5" });
      if (q.get("wait") === "0") return json(202, { state: r.state, id: r.id });
      for (const end = Date.now() + TRACE_WAIT_MS; Date.now() < end; ) {
        const done = prober().traceResult(r.id);
        if (done) return json(200, { state: "done", id: r.id, trace: done });
        if (prober() !== p) return json(503, { error: "the prober was reloaded during the trace: ask again", id: r.id });
        await sleep(100);
      }
      return json(504, { error: `trace ${r.id} not done after ${TRACE_WAIT_MS / 1000} s`, id: r.id });
    },
  };
}

export const TRACE_CLI: CliSpec = {
  program: "lsprobe-prober trace",
  synopsis: "PATH [--url URL] [--class NAME] [--json]",
  summary: `Asks a running prober (its HTTP server, prober.listen) for a pinned trace of PATH (a path id, or
its hops such as r1>r2>r4>r6, as GET /paths lists them): probes sent out to hop k and back the
same way, for every k, several each. Prints per hop how many came back, the loss and the RTT,
and where they stop or the loss starts: the failing link.`,
  options: {
    url: { type: "string", arg: "URL", default: "http://127.0.0.1:9469", doc: "the prober's HTTP server (prober.listen)" },
    class: { type: "string", arg: "NAME", doc: "the probe class to trace in (default: the first configured)" },
    json: { type: "boolean", doc: "print the trace as JSON (GET /trace's answer) instead of a table" },
  },
  positionals: true,
  epilog: `Exit codes: 0 every hop answers; 1 a hop stops or loses (the failing link is printed);
2 bad argument; 3 no trace (prober unreachable, path not probed, traces at their budget).`,
};

/** `lsprobe-prober trace ...` (argv after "trace"): the exit code. */
export async function traceCommand(argv: readonly string[], io: CliStreams = process, fetchFn: typeof fetch = fetch): Promise<number> {
  const cli = parseCommandLine(TRACE_CLI, argv, io);
  if (cli.kind === "exit") return cli.code;
  const bad = (message: string): number => {
    usageError(TRACE_CLI, message, io);
    return 2;
  };
  if (cli.positionals.length !== 1) return bad(cli.positionals.length === 0 ? "which path? (a path id or its hops, e.g. r1>r2>r4>r6)" : `one path at a time, got ${cli.positionals.length}`);
  const base = String(cli.values.url);
  let url: URL;
  try {
    url = new URL("/trace", base);
  } catch {
    return bad(`--url: not a URL: ${JSON.stringify(base)}`);
  }
  url.searchParams.set("path", cli.positionals[0]);
  if (typeof cli.values.class === "string") url.searchParams.set("class", cli.values.class);
  let status: number;
  let body: { error?: string; trace?: TraceResult };
  try {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(TRACE_WAIT_MS + 10_000) });
    status = res.status;
    body = (await res.json()) as typeof body;
  } catch (e) {
    io.stderr.write(`${TRACE_CLI.program}: no answer from ${base}: ${(e as Error).message} (is the prober running, and is --url its prober.listen?)\n`);
    return 3;
  }
  if (status !== 200 || !body.trace) {
    io.stderr.write(`${TRACE_CLI.program}: ${body.error ?? `HTTP ${status}`}\n`);
    return 3;
  }
  io.stdout.write(cli.values.json ? JSON.stringify(body.trace, null, 2) + "\n" : formatTrace(body.trace).join("\n") + "\n");
  return body.trace.firstLoss === null ? 0 : 1;
}
