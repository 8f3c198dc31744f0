// The prober -> plugin counts contract (issue 14, Musts 3 and 4): what a prober's GET /v1/counts
// answers, and what the plugin's one view pulls every second from each live prober.
//
// Compact on purpose: one row per probed stream, ids once, cumulative counters only (the puller
// takes differences between two reports with the same nonce; a new nonce is a restarted prober,
// whose counters start again at zero). Rows are positional arrays: 100 probers x 1,000 paths a
// second is 100,000 rows, and named keys would triple the bytes.
//
//   paths     out-and-back paths the prober probes (its slice's `paths`), per class and family:
//             [id, af, class, done, lost]: done = probes finalized (received + late + lost),
//             lost = not back in time; late ones count as delivered (the link carried them).
//   oneway    one-way paths it sends (its slice's `oneway`), per family, default class only:
//             [id, af, settled]: probes sent longer ago than prober.timeout; their sequence
//             numbers are 0 .. settled-1 (consecutive from 0 for each nonce).
//   incoming  one-way paths other probers send to it, per family and sender start:
//             [id, af, sender, senderNonce, received, lost, next]: received = distinct sequences
//             arrived, lost = sequences below `next` missing for longer than prober.timeout
//             after a later one arrived, next = highest sequence seen + 1. A record starts at
//             its first arrival: sequences below it are not counted lost (a receiver that hears
//             of a path late, or restarts, would otherwise report its past as loss), so a
//             sender's first probes, lost before any arrives, go uncounted.
//
//   expecting (optional) every incoming path the prober has in its list, per family:
//             [id, af, knownMs]: how long it has had it. With it, a stream of which nothing
//             ever arrived (a black hole from the first probe: no `incoming` row at all) is
//             loss once the receiver provably knew of it before the probes were sent
//             (plugin/view/union.ts), instead of nothing.
//   timeout   (optional) the prober's prober.timeout in ms: how old a probe is when `settled`
//             counts it (the view's bound for the rule above).
// The two optional keys came without a version change: a plugin that does not know them
// ignores them (so probers may be upgraded before the plugin), and a report without them
// (an older prober) only loses the black-hole rule.
//
// One-way loss needs both ends and no clock: over sequences 0 .. settled-1 of sender A's nonce,
// lost = receiver.lost + max(0, A.settled - receiver.next) (the tail: settled probes of which no
// later one arrived either, as in a black hole). onewayLoss() is that rule.
import type { Family } from "./pathset.js";
import { FAMILIES } from "./pathset.js";

export const COUNTS_SCHEMA = "lsprobe/counts";
export const COUNTS_VERSION = 1;

export type PathRow = [id: string, af: Family, cls: string, done: number, lost: number];
export type OnewayRow = [id: string, af: Family, settled: number];
export type IncomingRow = [id: string, af: Family, sender: string, senderNonce: number, received: number, lost: number, next: number];
export type ExpectingRow = [id: string, af: Family, knownMs: number];

export interface CountsReport {
  schema: typeof COUNTS_SCHEMA;
  version: number;
  /** prober.id (null: not set, then the one view cannot use it). */
  prober: string | null;
  /** Random per prober start (the probes' Session Nonce): counters restart with it. */
  nonce: number;
  /** Generation of the path set in force. */
  generation: number;
  /** Milliseconds since the epoch the report was made (for staleness; not used to align counts). */
  time: number;
  paths: PathRow[];
  oneway: OnewayRow[];
  incoming: IncomingRow[];
  /** Incoming paths in the prober's list and for how long (absent from older probers). */
  expecting?: ExpectingRow[];
  /** prober.timeout, ms (absent from older probers). */
  timeout?: number;
}

export class CountsError extends Error {
  override name = "CountsError";
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isU32 = (v: unknown): v is number => isCount(v) && v <= 0xffffffff;
const isFamily = (v: unknown): v is Family => FAMILIES.includes(v as Family);
const isId = (v: unknown): v is string => typeof v === "string" && v !== "";

type RowCheck = Array<[name: string, ok: (v: unknown) => boolean, what: string]>;
const ID: RowCheck[number] = ["id", isId, "a non-empty string"];
const AF: RowCheck[number] = ["af", isFamily, '"ipv4" or "ipv6"'];
const count = (name: string): RowCheck[number] => [name, isCount, "a non-negative integer"];
const ROWS: Record<"paths" | "oneway" | "incoming" | "expecting", RowCheck> = {
  paths: [ID, AF, ["class", (v) => typeof v === "string", "a string"], count("done"), count("lost")],
  oneway: [ID, AF, count("settled")],
  incoming: [ID, AF, ["sender", isId, "a non-empty string"], ["senderNonce", isU32, "a 32-bit nonce"], count("received"), count("lost"), count("next")],
  expecting: [ID, AF, count("knownMs")],
};
const OPTIONAL = new Set(["expecting"]);

/** Validate a decoded counts report; throws CountsError naming `where` and the key path. */
export function parseCounts(doc: unknown, where = "counts"): CountsReport {
  const fail = (at: string, msg: string): never => {
    throw new CountsError(`${where}: ${at}: ${msg}`);
  };
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return fail("$", "expected an object");
  const d = doc as Record<string, unknown>;
  if (d.schema !== COUNTS_SCHEMA) fail("schema", `expected "${COUNTS_SCHEMA}", got ${JSON.stringify(d.schema)}`);
  if (d.version !== COUNTS_VERSION) fail("version", `expected ${COUNTS_VERSION}, got ${JSON.stringify(d.version)}`);
  if (d.prober !== null && !isId(d.prober)) fail("prober", "expected a prober id or null");
  if (!isU32(d.nonce)) fail("nonce", "expected a 32-bit nonce");
  if (!isCount(d.generation)) fail("generation", "expected a non-negative integer");
  if (!isCount(d.time)) fail("time", "expected milliseconds since the epoch");
  if (d.timeout !== undefined && !isCount(d.timeout)) fail("timeout", "expected the prober's timeout in milliseconds");
  for (const [key, check] of Object.entries(ROWS)) {
    const rows = d[key];
    if (rows === undefined && OPTIONAL.has(key)) continue;
    if (!Array.isArray(rows)) fail(key, "expected an array of rows");
    (rows as unknown[]).forEach((r, i) => {
      if (!Array.isArray(r) || r.length !== check.length) fail(`${key}[${i}]`, `expected [${check.map((c) => c[0]).join(", ")}]`);
      check.forEach(([name, ok, what], j) => {
        if (!ok((r as unknown[])[j])) fail(`${key}[${i}][${j}]`, `${name}: expected ${what}, got ${JSON.stringify((r as unknown[])[j])}`);
      });
    });
  }
  return d as unknown as CountsReport;
}

/** Probes lost of the `settled` first ones a sender sent one way, from the receiver's row. */
export function onewayLoss(settled: number, received: { lost: number; next: number } | undefined): number {
  if (received === undefined) return settled;
  return Math.min(settled, received.lost + Math.max(0, settled - received.next));
}
