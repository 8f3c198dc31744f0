import { test } from "node:test";
import assert from "node:assert/strict";
import { parseJson, valuesOf, entriesOf, isObject, JsonSyntaxError, DUPLICATES, type JsonObject } from "../../plugin/exabgp/json.js";

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

test("json: duplicate keys keep every value in order, last wins under the key", () => {
  const o = obj('{"sids": [[1]], "w": 0, "sids": [[2]], "sids": [[3]]}');
  assert.deepEqual(o.sids, [[3]]);
  assert.deepEqual(valuesOf(o, "sids"), [[[1]], [[2]], [[3]]]);
  assert.deepEqual(entriesOf(o).map(([k]) => k), ["sids", "w", "sids", "sids"]);
  assert.equal(Object.keys(o).length, 2, "the symbol is not an enumerable key");
});

test("json: objects without duplicates carry no duplicate list", () => {
  const o = obj('{"a": 1, "b": 2}');
  assert.equal(o[DUPLICATES], undefined);
  assert.deepEqual(valuesOf(o, "a"), [1]);
  assert.deepEqual(valuesOf(o, "zz"), []);
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
