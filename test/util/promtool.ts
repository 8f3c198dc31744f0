// `promtool check metrics` over a /metrics text: its lint output ("" when clean) and exit code.
// promtool comes from Debian's prometheus package; absent, tests skip with SKIP_NO_PROMTOOL.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, cmd), constants.X_OK);
      return path.join(dir, cmd);
    } catch {
      // not here
    }
  }
  return null;
}

export const PROMTOOL = which("promtool");
export const SKIP_NO_PROMTOOL: string | false = PROMTOOL ? false : "promtool is not installed (Debian: apt-get install prometheus)";

export function checkMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL!, ["check", "metrics"], { input: text, encoding: "utf8" });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
