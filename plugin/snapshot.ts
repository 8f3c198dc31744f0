// The LSDB on disk. ExaBGP never replays routes to a restarted API process (FORMAT.md §9), so
// the plugin reloads its last snapshot at start, marks it stale (owned by SNAPSHOT_PEER) and
// asks for a route refresh; what the peers re-announce replaces it, the rest ages out.
import { readFileSync } from "node:fs";
import type { LsAttr, LsObject } from "./bgpls/nlri.js";
import type { Lsdb } from "./lsdb.js";
import { SNAPSHOT_PEER } from "./lsdb.js";

export const SNAPSHOT_SCHEMA = "lsprobe/lsdb";
export const SNAPSHOT_VERSION = 1;

interface SnapshotDoc {
  schema: string;
  version: number;
  time: string;
  /** The last published generation, so generations keep increasing across restarts. */
  generation: number;
  entries: Array<{ nlri: LsObject; attr: LsAttr }>;
}

export function serializeSnapshot(db: Lsdb, generation: number, now: Date): string {
  const doc: SnapshotDoc = {
    schema: SNAPSHOT_SCHEMA,
    version: SNAPSHOT_VERSION,
    time: now.toISOString(),
    generation,
    entries: [...db.entries.values()].map((e) => ({ nlri: e.nlri, attr: e.attr })),
  };
  return JSON.stringify(doc);
}

/**
 * Load a snapshot into `db` under SNAPSHOT_PEER. Returns what was loaded, or throws with the
 * reason. A snapshot taken before generation `notBefore` (the path-set file's) is older than what
 * was published: it is not loaded (`skipped`), since the set it gives would go back in content.
 */
export function loadSnapshot(file: string, db: Lsdb, notBefore = 0): { entries: number; generation: number; time: string; skipped?: true } {
  const doc = JSON.parse(readFileSync(file, "utf8")) as Partial<SnapshotDoc>;
  if (doc.schema !== SNAPSHOT_SCHEMA) throw new Error(`${file}: not an lsprobe LSDB snapshot (schema ${JSON.stringify(doc.schema)})`);
  if (doc.version !== SNAPSHOT_VERSION) throw new Error(`${file}: snapshot version ${doc.version} not supported (expected ${SNAPSHOT_VERSION})`);
  if (!Array.isArray(doc.entries)) throw new Error(`${file}: entries: expected an array`);
  const generation = typeof doc.generation === "number" ? doc.generation : 0;
  if (generation < notBefore) return { entries: 0, generation, time: String(doc.time), skipped: true };
  for (const e of doc.entries) {
    if (!e || typeof e.nlri?.key !== "string" || !["node", "link", "prefix"].includes(e.nlri.kind))
      throw new Error(`${file}: malformed entry ${JSON.stringify(e).slice(0, 80)}`);
    db.announce(SNAPSHOT_PEER, e.nlri, e.attr);
  }
  return { entries: doc.entries.length, generation, time: String(doc.time) };
}
