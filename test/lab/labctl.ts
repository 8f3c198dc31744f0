// labctl: inject faults into a running lab (`sudo npm run demo -- --keep`) from a shell.
//
//   sudo node dist/test/lab/labctl.js gray r2 r4 0.05     # r2 -> r4 drops 5%, BGP-LS sees nothing
//   sudo node dist/test/lab/labctl.js link-down r2 r4     # withdrawn over BGP-LS, routes reconverge
//   sudo node dist/test/lab/labctl.js delay|congest|link-up|router-down|router-up|clear|status ...
//
// The command's words go, as one line, to the lab's control socket (LabStack.serveControl,
// test/lab/stack.ts), which answers one line, "ok ..." or "error ...". The words are checked here
// first (one command-line convention, shared/cli.ts: a bad one exits 2 before any lab is asked).
import net from "node:net";
import { parseCommandLine, usage, usageError, type CliSpec } from "../../shared/cli.js";

const DEFAULT_SOCKET = "/run/lsprobe-lab.sock";

/** Each command: its arguments (as the usage shows them) and what it does; LabStack.command carries them out. */
const COMMANDS: Record<string, { args: string[]; doc: string; numeric?: number }> = {
  gray: { args: ["A", "B", "SHARE"], numeric: 2, doc: "A -> B drops SHARE of packets (0.05: 5%), one way; BGP-LS sees nothing" },
  delay: { args: ["A", "B", "MS"], numeric: 2, doc: "A -> B delays packets by MS milliseconds" },
  congest: { args: ["A", "B", "KBIT"], numeric: 2, doc: "a KBIT kbit/s bottleneck on A's side of A-B, filled by UDP cross traffic" },
  uncongest: { args: ["A", "B"], doc: "remove the bottleneck and its cross traffic" },
  "link-down": { args: ["A", "B"], doc: "link A-B down, withdrawn over BGP-LS; routes reconverge after a delay, as an IGP's would" },
  "link-up": { args: ["A", "B"], doc: "link A-B up again, announced" },
  "router-down": { args: ["R"], doc: "every link of R down, R withdrawn" },
  "router-up": { args: ["R"], doc: "R and its links back, announced" },
  clear: { args: [], doc: "remove every data-plane fault (gray, delay)" },
  status: { args: [], doc: "the lab's decapsulation (kernel or userspace helper, and why) and the prober's view (its /paths), JSON" },
};

const CLI: CliSpec = {
  program: "labctl",
  synopsis: "COMMAND [ARGS...]",
  summary: `Inject faults into a running lab: one started with \`sudo npm run demo -- --keep\`, whose live
view shows their effect (the path table and the suspect links) within seconds.`,
  options: {},
  positionals: true,
  epilog: () => {
    const rows = Object.entries(COMMANDS).map(([name, c]) => [[name, ...c.args].join(" "), c.doc] as const);
    const width = Math.max(...rows.map(([s]) => s.length)) + 2;
    return [
      "Commands:",
      ...rows.map(([s, d]) => `  ${s.padEnd(width)}${d}`),
      "",
      `Environment: LSPROBE_LAB_SOCKET, the lab's control socket (default ${DEFAULT_SOCKET}).`,
      "Exit status: 0 done, 1 no lab or the lab refused, 2 a bad command line.",
    ].join("\n");
  },
};

/** The words checked against COMMANDS: undefined when good, else the message. */
function commandProblem(words: readonly string[]): string | undefined {
  const [name, ...rest] = words;
  const c = COMMANDS[name];
  if (c === undefined) return `unknown command ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(", ")})`;
  if (rest.length !== c.args.length) return `${name}: expected ${c.args.length === 0 ? "no arguments" : c.args.join(" ")}, got ${rest.length === 0 ? "none" : rest.join(" ")}`;
  if (c.numeric !== undefined && !Number.isFinite(Number(rest[c.numeric]))) return `${name}: ${c.args[c.numeric]}: expected a number, got ${JSON.stringify(rest[c.numeric])}`;
  if (name === "gray" && !(Number(rest[2]) >= 0 && Number(rest[2]) <= 1)) return `gray: SHARE: expected a share from 0 to 1, got ${rest[2]}`;
  return undefined;
}

function main(): void {
  const cli = parseCommandLine(CLI, process.argv.slice(2));
  if (cli.kind === "exit") {
    process.exitCode = cli.code;
    return;
  }
  const words = cli.positionals;
  if (words.length === 0) {
    process.stderr.write(usage(CLI));
    process.exitCode = 2;
    return;
  }
  const problem = commandProblem(words);
  if (problem !== undefined) {
    const r = usageError(CLI, problem);
    if (r.kind === "exit") process.exitCode = r.code;
    return;
  }
  const socket = process.env.LSPROBE_LAB_SOCKET || DEFAULT_SOCKET;
  const c = net.connect(socket);
  c.on("error", (e) => {
    process.stderr.write(`${CLI.program}: no lab at ${socket} (${e.message}); start one with: sudo npm run demo -- --keep\n`);
    process.exit(1);
  });
  c.on("connect", () => c.write(`${words.join(" ")}\n`));
  let buf = "";
  c.on("data", (d) => {
    buf += d.toString();
    const i = buf.indexOf("\n");
    if (i < 0) return;
    const line = buf.slice(0, i);
    const ok = line.startsWith("ok ");
    (ok ? process.stdout : process.stderr).write(ok ? `${line.slice(3)}\n` : `${CLI.program}: ${line.replace(/^error /, "")}\n`);
    c.destroy();
    process.exitCode = ok ? 0 : 1;
  });
  c.on("close", () => {
    if (buf.indexOf("\n") < 0) {
      process.stderr.write(`${CLI.program}: the lab at ${socket} closed the connection without an answer\n`);
      process.exitCode = 1;
    }
  });
}

main();
