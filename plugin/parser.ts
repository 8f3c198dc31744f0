#!/usr/bin/env node
// lsprobe-plugin: the ExaBGP API process (exabgp.conf: `run node .../dist/plugin/parser.js
// --config /etc/lsprobe/lsprobe.yaml; encoder json;`).
//
// The shell: argv, config, stdin (readline), signals, the publishers. stdout is ExaBGP's
// command channel: every line written there is executed by ExaBGP (FORMAT.md §9), so only
// `command()` below writes to it; all logging goes to stderr.
import { createInterface } from "node:readline";
import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { ConfigError, DEFAULT_CONFIG_PATH, describeConfig, loadConfig, type LsprobeConfig } from "../shared/config.js";
import { createLogger, type Logger } from "../shared/log.js";
import { parsePathSet } from "../shared/pathset.js";
import { Engine } from "./engine.js";
import { directedPairs } from "./paths.js";
import { loadSnapshot } from "./snapshot.js";
import { CommandChannel } from "./exabgp/commands.js";
import { writeFileAtomic, writeFileAtomicSync } from "./publish/file.js";
import { SocketPublisher } from "./publish/socket.js";

const USAGE = `Usage: lsprobe-plugin [--config FILE] [--check-config] [--help]

ExaBGP API process: reads ExaBGP's JSON on stdin (encoder json), keeps the BGP-LS link-state
database, computes every equal-cost best path between the configured endpoints, and publishes
versioned path sets to a file and a Unix socket. Run it from exabgp.conf:

  process lsprobe {
      run /usr/bin/node /opt/lsprobe/dist/plugin/parser.js --config /etc/lsprobe/lsprobe.yaml;
      encoder json;
  }

Options:
  --config FILE     configuration file (default ${DEFAULT_CONFIG_PATH})
  --check-config    validate the configuration, print a summary to stderr, exit 0 (valid) or 1
  --help            this text and the configuration reference

Signals: SIGTERM / SIGINT write the final state and exit 0 (so does ExaBGP's shutdown message
or EOF on stdin).
`;

interface Args {
  config: string;
  check: boolean;
  help: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { config: DEFAULT_CONFIG_PATH, check: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    if (x === "--help" || x === "-h") a.help = true;
    else if (x === "--check-config") a.check = true;
    else if (x === "--config" || x === "-c") {
      const v = argv[++i];
      if (v === undefined) throw new ConfigUsageError("--config needs a file name");
      a.config = v;
    } else if (x.startsWith("--config=")) a.config = x.slice("--config=".length);
    else throw new ConfigUsageError(`unknown argument ${JSON.stringify(x)} (see --help)`);
  }
  return a;
}

class ConfigUsageError extends Error {}

/** The generation to continue from: the path-set file's, so generations never go backwards. */
function lastGeneration(file: string, log: Logger): number {
  if (!existsSync(file)) return 0;
  try {
    return parsePathSet(JSON.parse(readFileSync(file, "utf8")), file).generation;
  } catch (e) {
    log.warn("existing path-set file unreadable; generations restart at 1", { file, error: (e as Error).message });
    return 0;
  }
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`lsprobe-plugin: ${(e as Error).message}\n`);
    return 2;
  }
  if (args.help) {
    // --help is for a person at a terminal, not for ExaBGP: stderr keeps stdout clean either way.
    process.stderr.write(`${USAGE}\nConfiguration reference:\n\n${describeConfig()}\n`);
    return 0;
  }
  let config: LsprobeConfig;
  try {
    config = loadConfig(args.config);
  } catch (e) {
    process.stderr.write(`lsprobe-plugin: ${e instanceof ConfigError ? e.message : `cannot read ${args.config}: ${(e as Error).message}`}\n`);
    return 1;
  }
  const pc = config.plugin;
  const pairs = directedPairs(pc.endpoints.pairs, pc.endpoints.groups);
  if (args.check) {
    process.stderr.write(`${args.config}: OK (${pairs.length} directed pairs, mode ${pc.paths.mode}, output ${pc.output.file})\n`);
    return 0;
  }
  const log = createLogger({ name: "lsprobe-plugin", level: config.log.level, format: config.log.format });
  return run(config, pairs, log);
}

async function run(config: LsprobeConfig, pairs: Array<[string, string]>, log: Logger): Promise<number> {
  const pc = config.plugin;
  await mkdir(path.dirname(pc.output.file), { recursive: true });
  if (pc.stateFile) await mkdir(path.dirname(pc.stateFile), { recursive: true });

  const channel = new CommandChannel(process.stdout);
  const command = (line: string): void => {
    log.debug("command to ExaBGP", { command: line });
    channel.send(line);
  };

  const socket = pc.output.socket
    ? new SocketPublisher({ path: pc.output.socket, mode: pc.output.socketMode, onError: (e, where) => log.warn(`${where}: ${e.message}`) })
    : undefined;
  if (socket) {
    await mkdir(path.dirname(pc.output.socket!), { recursive: true });
    try {
      await socket.listen();
    } catch (e) {
      log.error("cannot listen on the path-set socket", { socket: pc.output.socket, error: (e as Error).message });
      return 1;
    }
  }

  const engine = new Engine(
    {
      query: { pairs, mode: pc.paths.mode, maxPerPair: pc.paths.maxPerPair, plan: pc.plan },
      metric: pc.paths.metric,
      debounceMs: pc.debounce,
      staleTimeoutMs: pc.staleTimeout,
      routeRefresh: pc.routeRefresh,
      generation: lastGeneration(pc.output.file, log),
      sliceMs: 5,
    },
    {
      log,
      command,
      now: () => new Date(),
      publish: async (_set, text) => {
        await writeFileAtomic(pc.output.file, text + "\n");
        socket?.publish(text);
      },
      saveSnapshot: pc.stateFile ? (text) => writeFileAtomic(pc.stateFile!, text) : undefined,
    },
  );

  if (pc.stateFile && existsSync(pc.stateFile)) {
    try {
      const s = loadSnapshot(pc.stateFile, engine.db);
      engine.generation = Math.max(engine.generation, s.generation);
      log.info("snapshot loaded; stale until refreshed", { file: pc.stateFile, entries: s.entries, taken: s.time });
    } catch (e) {
      log.warn("snapshot ignored", { file: pc.stateFile, error: (e as Error).message });
    }
  }
  log.info("started", { pairs: pairs.length, mode: pc.paths.mode, file: pc.output.file, socket: pc.output.socket ?? "off" });
  engine.start();

  let lineNo = 0;
  let exiting = false;
  const finish = async (why: string): Promise<void> => {
    if (exiting) return;
    exiting = true;
    // ExaBGP waits for us without a timeout (FORMAT.md §4.2): be quick. A recompute still
    // running gets a short grace; the last published set is on disk already.
    await Promise.race([engine.close(), new Promise((r) => setTimeout(r, 1000).unref())]);
    if (pc.stateFile) {
      try {
        writeFileAtomicSync(pc.stateFile, engine.snapshotText());
      } catch (e) {
        log.error("final snapshot not written", { file: pc.stateFile, error: (e as Error).message });
      }
    }
    await socket?.close();
    log.info("exiting", { reason: why, lines: engine.stats.lines, malformed: engine.stats.malformed, generation: engine.generation });
    process.exit(0);
  };

  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  rl.on("line", (line) => {
    lineNo++;
    if (exiting) return;
    try {
      const ev = engine.handleLine(line, lineNo);
      if (ev?.kind === "shutdown") void finish("ExaBGP shutdown");
    } catch (e) {
      // A bug must not kill ExaBGP's session: count it as a malformed line and carry on.
      engine.stats.malformed++;
      log.error("internal error on a line; skipped", { line: lineNo, error: (e as Error).stack ?? String(e) });
    }
  });
  rl.on("close", () => void finish("EOF on stdin"));
  process.on("SIGTERM", () => void finish("SIGTERM"));
  process.on("SIGINT", () => void finish("SIGINT"));
  process.on("SIGPIPE", () => {});
  return new Promise<number>(() => {}); // runs until finish() exits
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`lsprobe-plugin: fatal: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
