// JSON for ExaBGP's API stream that loses nothing.
//
// ExaBGP 4.2 builds its JSON by string concatenation (FORMAT.md §2, §7, §8), which gives two
// problems that JSON.parse alone cannot handle:
//  - duplicate keys in one object (several Adj-SIDs, cumulative TE router ids, dual-stack link
//    addresses): JSON.parse keeps only the last value. parseExabgpJson() first scans the text
//    and renames the 2nd, 3rd... occurrence of a key within one object to `key\0<n>`, then lets
//    the native JSON.parse build the objects (several times faster than building them in JS).
//    valuesOf()/entriesOf() read a key's values, or an object's entries, in wire order.
//  - unescaped `"` inside a string (Link Name TLV 1098, node names with quotes): strict parsing
//    fails; lenient mode treats a quote that is not followed by what may follow a string
//    (`,` + key, `:`, `}`, `]`, end) as part of the string. Only used after strict parsing
//    failed; the caller counts the line as repaired.

/** Separates a repeated key from its occurrence number: "sids\u00002" is the second "sids". */
export const DUP_MARK = "\u0000";

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export class JsonSyntaxError extends Error {
  override name = "JsonSyntaxError";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at column ${offset + 1}`);
  }
}

export function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every [key, value] of an object in wire order, repeated keys under their own name. */
export function entriesOf(obj: JsonObject): Array<[string, JsonValue]> {
  const out = Object.entries(obj);
  for (const e of out) {
    const i = e[0].indexOf(DUP_MARK);
    if (i >= 0) e[0] = e[0].slice(0, i);
  }
  return out;
}

/** Every value of `key` in wire order (empty when absent). */
export function valuesOf(obj: JsonObject, key: string): JsonValue[] {
  if (!Object.hasOwn(obj, key)) return [];
  const out: JsonValue[] = [obj[key]];
  if (!Object.hasOwn(obj, key + DUP_MARK + 2)) return out;
  for (let n = 2; ; n++) {
    const k = key + DUP_MARK + n;
    if (!Object.hasOwn(obj, k)) return out;
    out.push(obj[k]);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

class Parser {
  pos = 0;
  constructor(
    readonly s: string,
    readonly lenient: boolean,
  ) {}

  fail(msg: string): never {
    throw new JsonSyntaxError(msg, this.pos);
  }

  ws(): void {
    const s = this.s;
    let p = this.pos;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  value(depth: number): JsonValue {
    if (depth > 64) this.fail("nesting deeper than 64");
    this.ws();
    const c = this.s.charCodeAt(this.pos);
    switch (c) {
      case LBRACE:
        return this.object(depth);
      case LBRACKET:
        return this.array(depth);
      case QUOTE:
        return this.string();
      case 0x74: // t
        return this.literal("true", true);
      case 0x66: // f
        return this.literal("false", false);
      case 0x6e: // n
        return this.literal("null", null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail(Number.isNaN(c) ? "unexpected end of line" : `unexpected character ${JSON.stringify(this.s[this.pos])}`);
    }
  }

  literal<T extends JsonValue>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return v;
  }

  number(): number {
    const s = this.s;
    const start = this.pos;
    let p = start;
    if (s.charCodeAt(p) === 0x2d) p++;
    for (;;) {
      const c = s.charCodeAt(p);
      // digits, '.', 'e', 'E', '+', '-': Number() below does the strict check.
      if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d) p++;
      else break;
    }
    const n = Number(s.slice(start, p));
    if (p === start || Number.isNaN(n)) this.fail("invalid number");
    this.pos = p;
    return n;
  }

  /** In lenient mode: may the string end at the quote at `q`? */
  canEndAt(q: number): boolean {
    const s = this.s;
    let p = q + 1;
    while (s.charCodeAt(p) === 0x20) p++;
    const c = s.charCodeAt(p);
    if (Number.isNaN(c) || c === COLON || c === RBRACE || c === RBRACKET) return true;
    if (c !== COMMA) return false;
    p++;
    while (s.charCodeAt(p) === 0x20) p++;
    const d = s.charCodeAt(p);
    return d === QUOTE || d === LBRACE || d === LBRACKET || (d >= 0x30 && d <= 0x39) || d === 0x2d;
  }

  string(): string {
    const s = this.s;
    const start = ++this.pos;
    // Fast path: no escapes, no stray quotes.
    let p = start;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === QUOTE) {
        if (!this.lenient || this.canEndAt(p)) {
          this.pos = p + 1;
          return s.slice(start, p);
        }
        break;
      }
      if (c === BACKSLASH) break;
      if (Number.isNaN(c)) this.fail("unterminated string");
      if (c < 0x20) this.fail("control character in string");
      p++;
    }
    return this.slowString(start);
  }

  slowString(start: number): string {
    const s = this.s;
    let out = "";
    let p = start;
    let chunk = p;
    for (;;) {
      const c = s.charCodeAt(p);
      if (Number.isNaN(c)) {
        this.pos = p;
        this.fail("unterminated string");
      }
      if (c === QUOTE) {
        if (!this.lenient || this.canEndAt(p)) {
          this.pos = p + 1;
          return out + s.slice(chunk, p);
        }
        p++;
        continue;
      }
      if (c === BACKSLASH) {
        out += s.slice(chunk, p);
        const e = s[p + 1];
        p += 2;
        switch (e) {
          case '"': out += '"'; break;
          case "\\": out += "\\"; break;
          case "/": out += "/"; break;
          case "b": out += "\b"; break;
          case "f": out += "\f"; break;
          case "n": out += "\n"; break;
          case "r": out += "\r"; break;
          case "t": out += "\t"; break;
          case "u": {
            const hex = s.slice(p, p + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              this.pos = p;
              this.fail("invalid \\u escape");
            }
            out += String.fromCharCode(parseInt(hex, 16));
            p += 4;
            break;
          }
          default:
            if (!this.lenient) {
              this.pos = p - 1;
              this.fail("invalid escape");
            }
            out += "\\" + (e ?? "");
        }
        chunk = p;
        continue;
      }
      if (c < 0x20 && !this.lenient) {
        this.pos = p;
        this.fail("control character in string");
      }
      p++;
    }
  }

  object(depth: number): JsonObject {
    this.pos++;
    // A plain object (fast properties in V8; a null-prototype object is a slow dictionary).
    const obj: JsonObject = {};
    /** Occurrences of each repeated key, made at the first repeat: a scan for the next free
     *  number would be quadratic in a key repeated thousands of times. */
    let repeats: Map<string, number> | undefined;
    this.ws();
    if (this.s.charCodeAt(this.pos) === RBRACE) {
      this.pos++;
      return obj;
    }
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.pos) !== QUOTE) this.fail("expected a key");
      let key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.pos) !== COLON) this.fail("expected ':'");
      this.pos++;
      const v = this.value(depth + 1);
      if (Object.hasOwn(obj, key)) {
        repeats ??= new Map();
        const n = (repeats.get(key) ?? 1) + 1;
        repeats.set(key, n);
        key = key + DUP_MARK + n;
      }
      // "__proto__" must stay data, as in JSON.parse: define it rather than assign it.
      if (key === "__proto__") Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
      else obj[key] = v;
      this.ws();
      const c = this.s.charCodeAt(this.pos++);
      if (c === COMMA) continue;
      if (c === RBRACE) return obj;
      this.pos--;
      this.fail("expected ',' or '}'");
    }
  }

  array(depth: number): JsonValue[] {
    this.pos++;
    const arr: JsonValue[] = [];
    this.ws();
    if (this.s.charCodeAt(this.pos) === RBRACKET) {
      this.pos++;
      return arr;
    }
    for (;;) {
      arr.push(this.value(depth + 1));
      this.ws();
      const c = this.s.charCodeAt(this.pos++);
      if (c === COMMA) continue;
      if (c === RBRACKET) return arr;
      this.pos--;
      this.fail("expected ',' or ']'");
    }
  }
}

/** Parse one JSON text in JavaScript, keeping duplicate keys (see DUP_MARK). Throws JsonSyntaxError. */
export function parseJson(text: string, opts: { lenient?: boolean } = {}): JsonValue {
  const p = new Parser(text, opts.lenient === true);
  const v = p.value(0);
  p.ws();
  if (p.pos !== text.length) p.fail("unexpected data after the JSON value");
  return v;
}

/** Keys an object may have before they are counted in a Map instead of compared one by one. */
const LINEAR_KEYS = 16;

/**
 * Rename the 2nd, 3rd... occurrence of a key within one object to key + DUP_MARK + n. Returns
 * the text unchanged (the same string) when no object repeats a key. One pass, no allocation
 * per key in the objects ExaBGP prints (a handful of keys): a key is compared with its object's
 * earlier keys by length and first character, then character by character. Past LINEAR_KEYS
 * keys an object's keys are counted in a Map, so a hostile line of 69k keys stays linear. The
 * scan assumes well-formed JSON; on anything else it gives up and returns the text unchanged
 * (the parser then reports the error).
 */
export function renameDuplicateKeys(s: string): string {
  // Per depth: the object's keys as (start, length) pairs, and past LINEAR_KEYS their counts.
  const keys: number[][] = [];
  const counts: Array<Map<string, number> | undefined> = [];
  const isObj: boolean[] = [];
  let depth = -1;
  let expectKey = false;
  let edits: number[] | undefined; // pairs: insert position, occurrence number
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) {
      const start = i + 1;
      if (!(expectKey && depth >= 0 && isObj[depth])) {
        // A value: jump to its closing quote (one not escaped by an odd run of backslashes).
        for (i = s.indexOf('"', start); i > 0; i = s.indexOf('"', i + 1)) {
          let bs = 0;
          while (s.charCodeAt(i - 1 - bs) === BACKSLASH) bs++;
          if ((bs & 1) === 0) break;
        }
        if (i < 0) return s;
        continue;
      }
      i = s.indexOf('"', start);
      while (i > 0 && s.charCodeAt(i - 1) === BACKSLASH) {
        let bs = 0;
        while (s.charCodeAt(i - 1 - bs) === BACKSLASH) bs++;
        if ((bs & 1) === 0) break;
        i = s.indexOf('"', i + 1);
      }
      if (i < 0) return s;
      expectKey = false;
      const seen = seenBefore(s, keys[depth], counts, depth, start, i - start);
      if (seen > 0) (edits ??= []).push(i, seen + 1);
    } else if (c === LBRACE || c === LBRACKET) {
      depth++;
      isObj[depth] = c === LBRACE;
      if (keys[depth] === undefined) keys[depth] = [];
      else keys[depth].length = 0;
      counts[depth] = undefined;
      expectKey = c === LBRACE;
    } else if (c === RBRACE || c === RBRACKET) {
      depth--;
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = depth >= 0 && isObj[depth];
    }
  }
  if (edits === undefined) return s;
  let out = "";
  let from = 0;
  for (let k = 0; k < edits.length; k += 2) {
    // Written as the escape: a raw control character is not allowed inside a JSON string.
    out += s.slice(from, edits[k]) + "\\u0000" + edits[k + 1];
    from = edits[k];
  }
  return out + s.slice(from);
}

/** How often the key at s[start, start+len) occurred in its object before; records this one. */
function seenBefore(s: string, list: number[], counts: Array<Map<string, number> | undefined>, depth: number, start: number, len: number): number {
  let map = counts[depth];
  if (map === undefined && list.length < 2 * LINEAR_KEYS) {
    // Compare with the object's earlier keys: length and first character first, then the rest.
    const first = s.charCodeAt(start);
    let seen = 0;
    for (let k = 0; k < list.length; k += 2) {
      const ks = list[k];
      if (list[k + 1] !== len || s.charCodeAt(ks) !== first) continue;
      let j = 1;
      while (j < len && s.charCodeAt(ks + j) === s.charCodeAt(start + j)) j++;
      if (j === len) seen++;
    }
    list.push(start, len);
    return seen;
  }
  if (map === undefined) {
    map = new Map();
    for (let k = 0; k < list.length; k += 2) {
      const key = s.slice(list[k], list[k] + list[k + 1]);
      map.set(key, (map.get(key) ?? 0) + 1);
    }
    counts[depth] = map;
  }
  const key = s.slice(start, start + len);
  const seen = map.get(key) ?? 0;
  map.set(key, seen + 1);
  return seen;
}

/**
 * Parse one line of ExaBGP JSON, keeping repeated keys: the fast path (rename, then the native
 * JSON.parse). Throws JsonSyntaxError (with the column) when the line is not valid JSON.
 */
export function parseExabgpJson(text: string): JsonValue {
  try {
    return JSON.parse(renameDuplicateKeys(text)) as JsonValue;
  } catch {
    return parseJson(text); // for the error's position (and the rare text the scanner gave up on)
  }
}
