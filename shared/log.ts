// A tiny structured logger. It writes to stderr only: the plugin's stdout is ExaBGP's command
// channel, and nothing but commands may ever go there.
//
//   text: 2026-11-23T12:00:00.000Z INFO  lsprobe-plugin: message key=value key2="quoted value"
//   json: {"time":"2026-11-23T12:00:00.000Z","level":"info","name":"lsprobe-plugin","msg":"message","key":"value"}
//
// Disabled levels are bound to a no-op when the logger is built, so a gated call costs one call and
// formats nothing (pino does the same). Child bindings are serialised once, when the child is made.
// Field arguments are still evaluated by the caller: guard costly ones with isEnabled().

import { EventEmitter } from "node:events";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type Fields = Record<string, unknown>;
export type LogFn = (msg: string, fields?: Fields) => void;

/** What the logger needs from a stream; process.stderr and test sinks both fit. */
export interface LogStream {
  write(chunk: string): unknown;
}

export interface LoggerOptions {
  name: string;
  level?: LogLevel;
  format?: LogFormat;
  /** Default process.stderr. Never process.stdout. */
  stream?: LogStream;
  /** Clock for the `time` field (ms since the epoch); default Date.now. For tests. */
  now?: () => number;
}

export interface Logger {
  readonly name: string;
  readonly level: LogLevel;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  isEnabled(level: LogLevel): boolean;
  /**
   * Logs `msg` at `level` the first time `kind` is seen by this logger or any of its relatives,
   * and returns whether it logged. For "unknown message type X" warnings that would otherwise
   * repeat on every line. At most MAX_ONCE_KINDS kinds are remembered; later new kinds are dropped.
   */
  once(kind: string, level: LogLevel, msg: string, fields?: Fields): boolean;
  /** A logger that adds `bindings` to every line (the call's own fields win on a clash). */
  child(bindings: Fields): Logger;
}

export const MAX_ONCE_KINDS = 1024;
export const MAX_ONCE_KIND_LENGTH = 200;

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const TEXT_LABEL: Record<LogLevel, string> = { debug: "DEBUG", info: "INFO ", warn: "WARN ", error: "ERROR" };
/** Keys the JSON line owns; a field with one of these names is written as `_name`. */
const RESERVED = new Set(["time", "level", "name", "msg"]);
/** A text value is written bare when it is printable ASCII without space, `"`, `=` or `\`. */
const BARE = /^[\x21\x23-\x3c\x3e-\x5b\x5d-\x7e]+$/;

const noop: LogFn = () => {};

/** Everything the loggers of one family share. */
interface Family {
  name: string;
  level: LogLevel;
  format: LogFormat;
  stream: LogStream;
  now: () => number;
  seen: Set<string>;
}

export function createLogger(options: LoggerOptions): Logger {
  const stream = options.stream ?? process.stderr;
  watchBrokenPipe(stream);
  const family: Family = {
    name: options.name,
    level: options.level ?? "info",
    format: options.format ?? "text",
    stream,
    now: options.now ?? Date.now,
    seen: new Set(),
  };
  return build(family, "");
}

/** `bound` is the child bindings, already serialised for the family's format. */
function build(family: Family, bound: string): Logger {
  const min = RANK[family.level];
  const emit = (level: LogLevel, msg: string, fields?: Fields): void => {
    if (brokenStreams.has(family.stream)) return;
    const time = new Date(family.now()).toISOString();
    const line =
      family.format === "json"
        ? `{"time":"${time}","level":"${level}","name":${JSON.stringify(family.name)},"msg":${JSON.stringify(msg)}${bound}${fields ? jsonFields(fields) : ""}}\n`
        : `${time} ${TEXT_LABEL[level]} ${family.name}: ${oneLine(msg)}${bound}${fields ? textFields(fields) : ""}\n`;
    family.stream.write(line);
  };
  const method = (level: LogLevel): LogFn =>
    RANK[level] < min ? noop : (msg, fields) => emit(level, msg, fields);

  return {
    name: family.name,
    level: family.level,
    debug: method("debug"),
    info: method("info"),
    warn: method("warn"),
    error: method("error"),
    isEnabled: (level) => RANK[level] >= min,
    once(kind, level, msg, fields) {
      // Kinds often carry input (an unknown message type): remember a bounded prefix of each.
      if (kind.length > MAX_ONCE_KIND_LENGTH) kind = kind.slice(0, MAX_ONCE_KIND_LENGTH);
      if (RANK[level] < min || family.seen.has(kind) || family.seen.size >= MAX_ONCE_KINDS) return false;
      family.seen.add(kind);
      emit(level, msg, fields);
      return true;
    },
    child: (bindings) =>
      build(family, bound + (family.format === "json" ? jsonFields(bindings) : textFields(bindings))),
  };
}

// ---- formatting ----

function textFields(fields: Fields): string {
  let out = "";
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value !== undefined) out += ` ${key}=${textValue(value)}`;
  }
  return out;
}

function textValue(value: unknown): string {
  if (typeof value === "string") return BARE.test(value) ? value : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint" || value === null) {
    return String(value);
  }
  if (value instanceof Error) return JSON.stringify(value.message);
  return safeJson(value);
}

function jsonFields(fields: Fields): string {
  let out = "";
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === undefined) continue;
    out += `,${JSON.stringify(RESERVED.has(key) ? `_${key}` : key)}:${safeJson(value)}`;
  }
  return out;
}

/** JSON.stringify that never throws: bigint as a string, Error as {name, message, code}. */
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (v instanceof Error) {
        const code = (v as NodeJS.ErrnoException).code;
        return code === undefined ? { name: v.name, message: v.message } : { name: v.name, message: v.message, code };
      }
      return v;
    }) ?? "null";
  } catch {
    return '"[unserializable]"';
  }
}

/** Keeps a text line one line long whatever the message holds. */
function oneLine(msg: string): string {
  return msg.includes("\n") || msg.includes("\r") ? msg.replace(/\r/g, "\\r").replace(/\n/g, "\\n") : msg;
}

// ---- broken pipe ----

const watchedStreams = new WeakSet<LogStream>();
const brokenStreams = new WeakSet<LogStream>();

/**
 * When the reader of stderr goes away (EPIPE) we stop writing to it, silently: it is a normal end,
 * not a failure. Other stream errors are re-emitted so they surface as before (pino's
 * filterBrokenPipe does the same).
 */
function watchBrokenPipe(stream: LogStream): void {
  if (!(stream instanceof EventEmitter) || watchedStreams.has(stream)) return;
  watchedStreams.add(stream);
  const onError = (err: NodeJS.ErrnoException): void => {
    if (err.code === "EPIPE") {
      brokenStreams.add(stream);
      return;
    }
    stream.removeListener("error", onError);
    stream.emit("error", err);
  };
  stream.on("error", onError);
}
