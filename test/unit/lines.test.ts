// ExaBGP's stream into lines: split across chunks, CRLF, the last line without a newline, and
// lines past the limit skipped while they arrive.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LineSplitter } from "../../plugin/exabgp/lines.js";

function split(chunks: Array<string | Buffer>, max = 10): string[] {
  const out: string[] = [];
  const s = new LineSplitter(max, { line: (l) => out.push(`line:${l}`), tooLong: (n) => out.push(`too long:${n}`) });
  for (const c of chunks) s.push(typeof c === "string" ? Buffer.from(c) : c);
  s.end();
  return out;
}

const cases: Array<[string, Array<string | Buffer>, string[]]> = [
  ["one chunk, two lines", ["a\nbb\n"], ["line:a", "line:bb"]],
  ["a line across chunks", ["ab", "cd", "e\nf\n"], ["line:abcde", "line:f"]],
  ["CRLF is one break", ["a\r\nb\r\n"], ["line:a", "line:b"]],
  ["empty lines are lines", ["\n\na\n"], ["line:", "line:", "line:a"]],
  ["the last line without its newline", ["a\nb"], ["line:a", "line:b"]],
  ["exactly the limit", ["0123456789\n"], ["line:0123456789"]],
  ["one past the limit, in one chunk", ["0123456789X\nok\n"], ["too long:11", "line:ok"]],
  ["past the limit across chunks, never buffered", ["01234", "56789", "XYZ", "more", "\nok\n"], ["too long:17", "line:ok"]],
  ["a too-long line at the end of the stream", ["ok\n", "0123456789ABC"], ["line:ok", "too long:13"]],
  ["a multibyte character split across chunks", [Buffer.from([0x61, 0xc3]), Buffer.from([0xa9, 0x0a])], ["line:aé"]],
];
for (const [what, chunks, want] of cases) test(`LineSplitter: ${what}`, () => assert.deepEqual(split(chunks), want));
