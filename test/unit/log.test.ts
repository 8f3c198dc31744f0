import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import { createLogger, type LogFormat, type LoggerOptions, type LogLevel } from "../../shared/log.js";

const TIME = Date.parse("2026-11-23T12:00:00.000Z");

/** A logger writing into an array of lines. */
function capture(options: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const log = createLogger({
    name: "lsprobe-plugin",
    stream: { write: (s: string) => lines.push(s) },
    now: () => TIME,
    ...options,
  });
  return { log, lines };
}

const gating: Record<string, { level: LogLevel; logged: LogLevel[] }> = {
  "debug logs everything": { level: "debug", logged: ["debug", "info", "warn", "error"] },
  "info drops debug": { level: "info", logged: ["info", "warn", "error"] },
  "warn drops info": { level: "warn", logged: ["warn", "error"] },
  "error logs errors only": { level: "error", logged: ["error"] },
};

for (const [name, c] of Object.entries(gating)) {
  test(`level gating: ${name}`, () => {
    const { log, lines } = capture({ level: c.level, format: "json" });
    for (const level of ["debug", "info", "warn", "error"] as const) log[level]("m");
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).level),
      c.logged,
    );
    assert.equal(log.isEnabled("debug"), c.level === "debug");
  });
}

test("a disabled level does not look at its fields", () => {
  const { log, lines } = capture({ level: "info" });
  const fields = {
    get costly(): string {
      throw new Error("formatted a disabled line");
    },
  };
  log.debug("m", fields);
  assert.deepEqual(lines, []);
});

const shapes: Record<string, { format: LogFormat; level: LogLevel; msg: string; fields?: Record<string, unknown>; line: string }> = {
  "text, no fields": {
    format: "text",
    level: "info",
    msg: "message",
    line: "2026-11-23T12:00:00.000Z INFO  lsprobe-plugin: message\n",
  },
  "text, bare and quoted values": {
    format: "text",
    level: "info",
    msg: "message",
    fields: { key: "value", key2: "quoted value", n: 3, ok: true, none: null, skipped: undefined, eq: "a=b", empty: "" },
    line: '2026-11-23T12:00:00.000Z INFO  lsprobe-plugin: message key=value key2="quoted value" n=3 ok=true none=null eq="a=b" empty=""\n',
  },
  "text, objects, errors and control characters": {
    format: "text",
    level: "error",
    msg: "line one\nline two",
    fields: { obj: { a: [1, 2] }, err: new Error("boom"), esc: "\x1b[31m" },
    line: '2026-11-23T12:00:00.000Z ERROR lsprobe-plugin: line one\\nline two obj={"a":[1,2]} err="boom" esc="\\u001b[31m"\n',
  },
  "text, padded levels": {
    format: "text",
    level: "warn",
    msg: "w",
    line: "2026-11-23T12:00:00.000Z WARN  lsprobe-plugin: w\n",
  },
  "json, no fields": {
    format: "json",
    level: "info",
    msg: "message",
    line: '{"time":"2026-11-23T12:00:00.000Z","level":"info","name":"lsprobe-plugin","msg":"message"}\n',
  },
  "json, fields": {
    format: "json",
    level: "warn",
    msg: 'say "hi"',
    fields: { key: "value", n: 3, big: 2n, err: Object.assign(new Error("gone"), { code: "EPIPE" }), skipped: undefined },
    line:
      '{"time":"2026-11-23T12:00:00.000Z","level":"warn","name":"lsprobe-plugin","msg":"say \\"hi\\"","key":"value","n":3,"big":"2",' +
      '"err":{"name":"Error","message":"gone","code":"EPIPE"}}\n',
  },
  "json, a field named like a core key is renamed": {
    format: "json",
    level: "info",
    msg: "m",
    fields: { msg: "other", level: 1 },
    line: '{"time":"2026-11-23T12:00:00.000Z","level":"info","name":"lsprobe-plugin","msg":"m","_msg":"other","_level":1}\n',
  },
};

for (const [name, c] of Object.entries(shapes)) {
  test(`shape: ${name}`, () => {
    const { log, lines } = capture({ level: "debug", format: c.format });
    log[c.level](c.msg, c.fields);
    assert.deepEqual(lines, [c.line]);
  });
}

test("a circular field does not throw", () => {
  const { log, lines } = capture({ format: "json" });
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  log.info("m", { loop });
  assert.equal(JSON.parse(lines[0]).loop, "[unserializable]");
});

for (const format of ["text", "json"] as const) {
  test(`child bindings (${format})`, () => {
    const { log, lines } = capture({ format });
    const peer = log.child({ peer: "192.0.2.1" });
    const session = peer.child({ session: 2 });
    session.info("up", { state: "established" });
    log.info("parent");
    if (format === "text") {
      assert.deepEqual(lines, [
        "2026-11-23T12:00:00.000Z INFO  lsprobe-plugin: up peer=192.0.2.1 session=2 state=established\n",
        "2026-11-23T12:00:00.000Z INFO  lsprobe-plugin: parent\n",
      ]);
    } else {
      assert.deepEqual(JSON.parse(lines[0]), {
        time: "2026-11-23T12:00:00.000Z",
        level: "info",
        name: "lsprobe-plugin",
        msg: "up",
        peer: "192.0.2.1",
        session: 2,
        state: "established",
      });
      assert.deepEqual(Object.keys(JSON.parse(lines[1])), ["time", "level", "name", "msg"]);
    }
  });
}

test("child: the call's fields win over bindings", () => {
  const { log, lines } = capture({ format: "json" });
  log.child({ peer: "a" }).info("m", { peer: "b" });
  assert.equal(JSON.parse(lines[0]).peer, "b");
});

test("once logs each kind the first time only, across children", () => {
  const { log, lines } = capture({ level: "info" });
  assert.equal(log.once("type:foo", "warn", "unknown message type", { type: "foo" }), true);
  assert.equal(log.once("type:foo", "warn", "unknown message type", { type: "foo" }), false);
  assert.equal(log.child({ peer: "a" }).once("type:foo", "warn", "unknown message type"), false);
  assert.equal(log.once("type:bar", "warn", "unknown message type", { type: "bar" }), true);
  assert.equal(log.once("type:baz", "debug", "gated"), false);
  assert.deepEqual(lines, [
    "2026-11-23T12:00:00.000Z WARN  lsprobe-plugin: unknown message type type=foo\n",
    "2026-11-23T12:00:00.000Z WARN  lsprobe-plugin: unknown message type type=bar\n",
  ]);
});

test("EPIPE on the stream stops output silently; other errors still surface", () => {
  const lines: string[] = [];
  const stream = Object.assign(new EventEmitter(), { write: (s: string) => lines.push(s) });
  const log = createLogger({ name: "t", stream, now: () => TIME });
  log.info("before");
  stream.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
  log.info("after");
  assert.equal(lines.length, 1);
  assert.throws(() => stream.emit("error", Object.assign(new Error("write EIO"), { code: "EIO" })), /EIO/);
});

test("defaults: info, text, stderr", () => {
  const log = createLogger({ name: "t" });
  assert.equal(log.level, "info");
  assert.equal(log.isEnabled("debug"), false);
});
