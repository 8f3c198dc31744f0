// Reading the BGP-LS attribute (path attribute 29, RFC 9552 §5.3) as ExaBGP prints it: one flat
// object whose keys may repeat (4.2) and whose names moved between releases (DIFFERENCES.md).
// These helpers read a key across all its duplicates and dialect spellings.
import { valuesOf, type JsonObject, type JsonValue } from "../exabgp/json.js";

/** The shared empty list: most attributes have no Adj-SIDs, SRLGs... and 50,000 empty arrays add up. */
export const NONE: readonly never[] = Object.freeze([]);

/**
 * A list to keep: NONE when empty, else an exact-size copy. A list grown by push() keeps room
 * for 17 elements (~200 bytes for one address); the LSDB holds 100,000s of them.
 */
export const compact = <T>(list: T[]): T[] => (list.length === 0 ? (NONE as unknown as T[]) : list.slice());

/** All values of any of `keys`, duplicates included, in wire order. */
export function all(attr: JsonObject | undefined, ...keys: string[]): JsonValue[] {
  if (attr === undefined) return NONE as unknown as JsonValue[];
  if (keys.length === 1) return valuesOf(attr, keys[0]);
  let out: JsonValue[] | undefined;
  for (const k of keys) {
    if (!Object.hasOwn(attr, k)) continue; // the common case: most spellings are absent
    const v = valuesOf(attr, k);
    if (out === undefined) out = v;
    else for (const x of v) out.push(x);
  }
  return out ?? (NONE as unknown as JsonValue[]);
}

/** The last numeric value of any of `keys` (a re-sent TLV replaces the earlier one). */
export function lastNumber(attr: JsonObject | undefined, ...keys: string[]): number | undefined {
  let n: number | undefined;
  for (const v of all(attr, ...keys)) {
    if (typeof v === "number" && Number.isFinite(v)) n = v;
    else if (Array.isArray(v) && typeof v[0] === "number") n = v[0]; // admin-group-mask is [n] in 4.2
  }
  return n;
}

/** Every string in the values of `keys`, flattening lists, without repeats, in first-seen order. */
export function strings(attr: JsonObject | undefined, ...keys: string[]): string[] {
  const seen = new Set<string>();
  const visit = (v: JsonValue): void => {
    if (typeof v === "string") seen.add(v);
    else if (Array.isArray(v)) v.forEach(visit);
  };
  all(attr, ...keys).forEach(visit);
  return seen.size === 0 ? (NONE as unknown as string[]) : [...seen];
}

/** Every number in the values of `keys`, flattening nested lists, in wire order. */
export function numbers(values: JsonValue[]): number[] {
  const out: number[] = [];
  const visit = (v: JsonValue): void => {
    if (typeof v === "number") out.push(v);
    else if (Array.isArray(v)) v.forEach(visit);
  };
  values.forEach(visit);
  return compact(out);
}

/** A printable name TLV. 4.2 prints the Link Name TLV as a Python bytes repr (`b'...'`): unusable. */
export function name(attr: JsonObject | undefined, key: string): string | undefined {
  const vals = all(attr, key);
  const v = vals[vals.length - 1];
  if (typeof v !== "string" || v === "" || /^b'.*'$/s.test(v)) return undefined;
  return v;
}
