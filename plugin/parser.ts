#!/usr/bin/env node
// lsprobe-plugin: the ExaBGP API process (exabgp.conf: `run /usr/bin/lsprobe-plugin --config
// /etc/lsprobe/lsprobe.yaml; encoder json;`).
//
// The entry point: argv, --check-config, then the running service (service.ts). stdout is
// ExaBGP's command channel: every line written there is executed by ExaBGP (FORMAT.md §9), so
// only the service's CommandChannel writes to it once running; logs go to stderr. --help and
// --version print on stdout, for a person at a terminal (ExaBGP never passes them).
import { createInterface } from "node:readline";
import { ConfigError, DEFAULT_CONFIG_PATH, describeConfig, loadConfig } from "../shared/config.js";
import { nodeVersionProblem, parseCommandLine, type CliSpec } from "../shared/cli.js";
import { pluginProblems } from "../shared/checks.js";
import { currentIdentity, identityOf, readUserDb } from "../shared/users.js";
import { directedPairs } from "./paths.js";
import { PluginService } from "./service.js";

const CLI: CliSpec = {
  program: "lsprobe-plugin",
  synopsis: "[--config FILE] [--check-config [--as-user USER]]",
  summary: `ExaBGP API process: reads ExaBGP's JSON on stdin (encoder json), keeps the BGP-LS link-state
database, computes every equal-cost best path between the configured endpoints, and publishes
versioned path sets to a file and a Unix socket. Run it from exabgp.conf:

  process lsprobe {
      run /usr/bin/lsprobe-plugin --config ${DEFAULT_CONFIG_PATH};
      encoder json;
  }`,
  options: {
    config: { type: "string", short: "c", arg: "FILE", default: DEFAULT_CONFIG_PATH, doc: "configuration file" },
    "check-config": { type: "boolean", doc: "check the configuration and what it needs (directories writable by the user that runs the plugin), print the result on stderr, exit 0 (good) or 1" },
    "as-user": { type: "string", arg: "USER", doc: "with --check-config: the user the plugin will run as (ExaBGP's, on Debian exabgp; default: the current user)" },
  },
  epilog: () => `Subcommand: \`lsprobe-plugin routers --vendor junos|eos|iosxr|sros|linux\` prints the decapsulation
configuration each router needs for the probes (\`lsprobe-plugin routers --help\`, docs/routers.md).

The plugin exits only on SIGTERM, EOF on stdin or ExaBGP's shutdown message, with 0, writing its
LSDB snapshot first. An invalid configuration, an unwritable directory, a socket in use or a
full disk are logged with the fix and retried: ExaBGP and its other sessions are never taken
down. SIGHUP (or saving the file) re-reads the configuration.

Configuration reference:

${describeConfig()}`,
};

function checkConfig(file: string, asUser: string | undefined): number {
  let config;
  try {
    config = loadConfig(file, "plugin");
  } catch (e) {
    process.stderr.write(`${CLI.program}: ${e instanceof ConfigError ? e.message : (e as Error).message}\n`);
    return 1;
  }
  const db = readUserDb();
  const who = asUser === undefined ? currentIdentity(db) : identityOf(db, asUser);
  if (who === undefined) {
    process.stderr.write(`${CLI.program}: --as-user ${asUser}: no such user in /etc/passwd (ExaBGP's user on Debian is exabgp)\n`);
    return 1;
  }
  const problems = pluginProblems(config, who, db);
  for (const p of problems) process.stderr.write(`${file}: ${p.key}: ${p.message}\n`);
  if (problems.length > 0) return 1;
  const pc = config.plugin;
  process.stderr.write(`${file}: OK for user ${who.name} (${directedPairs(pc.endpoints.pairs, pc.endpoints.groups).length} directed pairs, mode ${pc.paths.mode}, output ${pc.output.file})\n`);
  return 0;
}

/** Too old a Node.js: say so once, and keep ExaBGP's pipe drained instead of dying (and being respawned). */
function idle(problem: string): void {
  process.stderr.write(`${CLI.program}: ${problem}; not processing ExaBGP's stream until upgraded\n`);
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on("line", () => {});
  rl.on("close", () => process.exit(0));
  process.on("SIGTERM", () => process.exit(0));
}

function main(): void {
  if (process.argv[2] === "routers") {
    // A tool for a person at a terminal, never run by ExaBGP: loaded only when asked for.
    void import("./routers/cli.js").then((m) => {
      process.exitCode = m.runRouters(process.argv.slice(3));
    });
    return;
  }
  const cli = parseCommandLine(CLI, process.argv.slice(2));
  if (cli.kind === "exit") process.exit(cli.code);
  const config = cli.values.config as string;
  if (cli.values["check-config"]) process.exit(checkConfig(config, cli.values["as-user"] as string | undefined));
  const old = nodeVersionProblem();
  if (old) return idle(old);
  void new PluginService(config).start();
}

main();
