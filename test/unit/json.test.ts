import { test } from "node:test";
import assert from "node:assert/strict";
import { parseJson, parseExabgpJson, renameDuplicateKeys, valuesOf, entriesOf, isObject, JsonSyntaxError, type JsonObject } from "../../plugin/exabgp/json.js";

const obj = (text: string, lenient = false): JsonObject => {
  const v = parseJson(text, { lenient });
  assert.ok(isObject(v));
  return v;
};

const valid: Record<string, [string, unknown]> = {
  "nested values": ['{"a": [1, -2.5, 1e3, true, false, null], "b": {"c": "d"}}', { a: [1, -2.5, 1000, true, false, null], b: { c: "d" } }],
  "ExaBGP spacing": ['{ "host" : "vm" , "x": {  } }', { host: "vm", x: {} }],
  escapes: ['{"s": "a\\"b\\\\c\\n\\u0041"}', { s: 'a"b\\c\nA' }],
  "python float": ['{"bw": 125000000.0}', { bw: 125000000 }],
  "__proto__ is data": ['{"__proto__": 1}', JSON.parse('{"__proto__": 1}')],
};
for (const [name, [text, want]] of Object.entries(valid)) {
  test(`json: ${name} parses like JSON.parse`, () => {
    assert.deepEqual(JSON.parse(JSON.stringify(parseJson(text))), JSON.parse(JSON.stringify(want)));
  });
}

const DUPS = '{"sids": [[1]], "w": 0, "sids": [[2]], "x": {"sids": 9, "a": {"sids": 8}}, "sids": [[3]]}';

for (const [name, parse] of [["JS parser", (t: string) => parseJson(t)], ["native fast path", parseExabgpJson]] as const) {
  test(`json (${name}): duplicate keys keep every value in order`, () => {
    const o = parse(DUPS) as JsonObject;
    assert.deepEqual(valuesOf(o, "sids"), [[[1]], [[2]], [[3]]]);
    assert.deepEqual(entriesOf(o).map(([k]) => k), ["sids", "w", "sids", "x", "sids"]);
    // The same key in nested objects is not a duplicate.
    assert.deepEqual(valuesOf(o.x as JsonObject, "sids"), [9]);
    assert.deepEqual(valuesOf(o, "zz"), []);
    assert.deepEqual(valuesOf(o, "toString"), [], "only own keys");
  });
}

test("json: renameDuplicateKeys returns the very string when nothing repeats, and handles escapes", () => {
  const t = '{"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}';
  assert.equal(renameDuplicateKeys(t), t);
  const escapedKey = String.raw`{"k\"q": 1, "k\"q": 2}`;
  assert.deepEqual(valuesOf(parseExabgpJson(escapedKey) as JsonObject, 'k"q'), [1, 2]);
  const quoteInValue = String.raw`{"s": "a,\"b\":", "s": 2}`;
  assert.deepEqual(valuesOf(parseExabgpJson(quoteInValue) as JsonObject, "s"), ['a,"b":', 2]);
});

const invalid: Record<string, string> = {
  truncated: '{"a": [1, 2',
  "trailing comma": '{"a": 1,}',
  "unquoted key": "{a: 1}",
  "stray quote": '{"name": "r"1"}',
  "trailing data": '{"a": 1} x',
  "bad literal": '{"a": tru}',
  "binary junk": "{\u0000\u0001\u00ff",
  empty: "",
  "deep nesting": "[".repeat(100) + "]".repeat(100),
};
for (const [name, text] of Object.entries(invalid)) {
  test(`json: rejects ${name}`, () => {
    assert.throws(() => parseJson(text), JsonSyntaxError);
  });
}

test("json: lenient mode repairs unescaped quotes in names (4.2 node-name / link-name)", () => {
  assert.equal(obj('{"node-name": "r"1", "area-id": "490004"}', true)["node-name"], 'r"1');
  const ln = obj(String.raw`{"link-name": "b'*9V4M,"\\P+S N,   \n'" }`, true)["link-name"];
  assert.equal(typeof ln, "string");
  assert.ok((ln as string).startsWith("b'*9V4M,\"\\P"));
});

// Before the Map past LINEAR_KEYS, one such line kept stdin blocked for ~100 s (quadratic key
// comparison); the timeout guards against that coming back, it measures nothing.
test("one valid 1 MB line of 69k keys (distinct, or one key repeated) decodes in linear work", { timeout: 30_000 }, () => {
  const n = 69_000;
  const distinct = "{" + Array.from({ length: n }, (_, i) => `"k${i}": ${i}`).join(", ") + "}";
  const same = "{" + Array.from({ length: n }, (_, i) => `"k": ${i}`).join(", ") + "}";
  const d = parseExabgpJson(distinct) as JsonObject;
  assert.equal(Object.keys(d).length, n);
  for (const parse of [parseExabgpJson, (t: string) => parseJson(t)]) {
    const s = parse(same) as JsonObject;
    const values = valuesOf(s, "k");
    assert.equal(values.length, n);
    assert.equal(values[n - 1], n - 1, "in wire order");
  }
});

test("renamed duplicates agree with the JS parser on random objects across the linear/Map switch", () => {
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  for (let t = 0; t < 300; t++) {
    const keys = Array.from({ length: rnd(60) }, () => `"${"abcde"[rnd(5)]}${rnd(3) || ""}"`);
    const inner = keys.map((k, i) => `${k}: ${rnd(4) === 0 ? `{${keys.slice(0, rnd(40)).map((kk, j) => `${kk}: ${j}`).join(", ")}}` : i}`);
    const text = `{${inner.join(", ")}}`;
    assert.deepEqual(parseExabgpJson(text), parseJson(text), text);
  }
});
