// One command-line convention for every lsprobe program (plugin, prober, demo, labctl):
// node:util parseArgs underneath; `--help` prints the usage on stdout and exits 0; `--version`
// prints the version, git revision and build date and exits 0; a bad argument prints
// `PROGRAM: MESSAGE (see --help)` on stderr and exits 2 (EX_USAGE's place in sysexits is 64, but
// 2 is what getopt-based tools and Go's flag package use, so operators' scripts expect it).
import { parseArgs, type ParseArgsConfig } from "node:util";
import { versionLine } from "./buildinfo.js";

export interface CliOption {
  type: "string" | "boolean";
  short?: string;
  /** The value's name in the usage, e.g. "FILE". */
  arg?: string;
  default?: string | boolean;
  multiple?: boolean;
  doc: string;
}

export interface CliSpec {
  program: string;
  /** After the program name in the first usage line, e.g. "[options]" or "COMMAND [ARGS...]". */
  synopsis: string;
  /** What the program does, a paragraph or two. */
  summary: string;
  options: Record<string, CliOption>;
  /** Accept positional arguments (default: none). */
  positionals?: boolean;
  /** Text after the options (signals, examples, the config reference). A function: built only for --help. */
  epilog?: string | (() => string);
}

export type CliValues = Record<string, string | boolean | string[] | undefined>;

export type CliOutcome =
  | { kind: "run"; values: CliValues; positionals: string[] }
  | { kind: "exit"; code: number };

export interface CliStreams {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

const COMMON: Record<string, CliOption> = {
  help: { type: "boolean", short: "h", doc: "print this help on stdout and exit" },
  version: { type: "boolean", doc: "print the version, git revision and build date, and exit" },
};

export class UsageError extends Error {
  override name = "UsageError";
}

/** The usage text: synopsis, summary, one line per option, epilog. */
export function usage(spec: CliSpec): string {
  const rows = Object.entries({ ...spec.options, ...COMMON }).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.arg ?? "VALUE"}` : ""}`;
    const dflt = o.default !== undefined && o.default !== false ? ` (default ${String(o.default)})` : "";
    return [flag, `${o.doc}${dflt}`] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  const epilog = typeof spec.epilog === "function" ? spec.epilog() : (spec.epilog ?? "");
  return [
    `Usage: ${spec.program} ${spec.synopsis}`,
    "",
    spec.summary.trimEnd(),
    "",
    "Options:",
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}${d}`),
    ...(epilog ? ["", epilog.trimEnd()] : []),
    "",
  ].join("\n");
}

/** Turn parseArgs' messages into one short sentence. */
function usageMessage(e: Error): string {
  const m = e.message;
  const unknown = /Unknown option '([^']+)'/.exec(m);
  if (unknown) return `unknown option ${unknown[1]}`;
  const missing = /Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(m);
  if (missing) return `${missing[1]} needs a value`;
  const unexpected = /Unexpected argument '([^']+)'/.exec(m);
  if (unexpected) return `unexpected argument ${JSON.stringify(unexpected[1])}`;
  return m.split(". ")[0];
}

/**
 * Parse argv (without node and the script). --help and --version are answered here; so is a bad
 * argument. The caller runs the program only on { kind: "run" }.
 */
export function parseCommandLine(spec: CliSpec, argv: readonly string[], io: CliStreams = process): CliOutcome {
  const options: ParseArgsConfig["options"] = {};
  for (const [name, o] of Object.entries({ ...spec.options, ...COMMON })) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}), ...(o.default !== undefined ? { default: o.default } : {}) } as NonNullable<ParseArgsConfig["options"]>[string];
  }
  let parsed: { values: CliValues; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: spec.positionals === true, strict: true }) as typeof parsed;
  } catch (e) {
    io.stderr.write(`${spec.program}: ${usageMessage(e as Error)} (see --help)\n`);
    return { kind: "exit", code: 2 };
  }
  if (parsed.values.help) {
    io.stdout.write(usage(spec));
    return { kind: "exit", code: 0 };
  }
  if (parsed.values.version) {
    io.stdout.write(`${versionLine(spec.program)}\n`);
    return { kind: "exit", code: 0 };
  }
  return { kind: "run", values: parsed.values, positionals: parsed.positionals };
}

/** The same error shape for a bad value found after parsing (`--gray 7`): message on stderr, 2. */
export function usageError(spec: Pick<CliSpec, "program">, message: string, io: CliStreams = process): CliOutcome {
  io.stderr.write(`${spec.program}: ${message} (see --help)\n`);
  return { kind: "exit", code: 2 };
}

/** Node.js older than 20 gets one clear sentence instead of a stack trace from a missing API. */
export const MIN_NODE_MAJOR = 20;

export function nodeVersionProblem(version = process.versions.node): string | undefined {
  const major = Number(version.split(".")[0]);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return `lsprobe needs Node.js >= ${MIN_NODE_MAJOR}, this is ${version} (Debian 12 ships 18: install nodejs 20 from NodeSource's Debian repository or another backport, see README "Install")`;
}
