// A JSON parser for ExaBGP's API stream that loses nothing.
//
// ExaBGP 4.2 builds its JSON by string concatenation (FORMAT.md §2, §7, §8), which gives two
// problems that JSON.parse cannot handle:
//  - duplicate keys in one object (several Adj-SIDs, cumulative TE router ids, dual-stack link
//    addresses): JSON.parse keeps only the last value. Here the last value is also kept under
//    the key (same as JSON.parse), and an object that saw a duplicate additionally carries its
//    full, ordered entry list under the DUPLICATES symbol; entriesOf()/valuesOf() read it.
//  - unescaped `"` inside a string (Link Name TLV 1098, node names with quotes): strict mode
//    rejects the line; lenient mode treats a quote that is not followed by what may follow a
//    string (`,` + key, `:`, `}`, `]`, end) as part of the string. The caller retries a line in
//    lenient mode only after strict mode failed, and counts it as repaired.

export const DUPLICATES: unique symbol = Symbol("duplicates");

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
  [DUPLICATES]?: Array<[string, JsonValue]>;
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

/** Every [key, value] of an object in wire order, duplicates included. */
export function entriesOf(obj: JsonObject): Array<[string, JsonValue]> {
  return obj[DUPLICATES] ?? Object.entries(obj);
}

/** Every value of `key` in wire order (empty when absent). */
export function valuesOf(obj: JsonObject, key: string): JsonValue[] {
  const dups = obj[DUPLICATES];
  if (dups === undefined) return key in obj ? [obj[key]] : [];
  const out: JsonValue[] = [];
  for (const [k, v] of dups) if (k === key) out.push(v);
  return out;
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
    // A null prototype: keys such as "__proto__" are plain data here.
    const obj = Object.create(null) as JsonObject;
    let dups: Array<[string, JsonValue]> | undefined;
    this.ws();
    if (this.s.charCodeAt(this.pos) === RBRACE) {
      this.pos++;
      return obj;
    }
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.pos) !== QUOTE) this.fail("expected a key");
      const key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.pos) !== COLON) this.fail("expected ':'");
      this.pos++;
      const v = this.value(depth + 1);
      if (dups !== undefined) dups.push([key, v]);
      else if (key in obj) {
        dups = Object.entries(obj);
        dups.push([key, v]);
        obj[DUPLICATES] = dups;
      }
      obj[key] = v;
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

/** Parse one JSON text, keeping duplicate keys (see DUPLICATES). Throws JsonSyntaxError. */
export function parseJson(text: string, opts: { lenient?: boolean } = {}): JsonValue {
  const p = new Parser(text, opts.lenient === true);
  const v = p.value(0);
  p.ws();
  if (p.pos !== text.length) p.fail("unexpected data after the JSON value");
  return v;
}
