// What this build is: the package version, the git revision it was built from and when.
//
// `npm run build` writes dist/buildinfo.json (scripts/buildinfo.mjs) after tsc; the version
// comes from package.json beside dist/, which is where it sits in the repository, in an npm
// install and in the Debian package (/usr/lib/lsprobe). Read once, lazily.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Gauge, type Registry } from "prom-client";

export interface BuildInfo {
  version: string;
  /** Short git revision, "-dirty" when the tree had changes; "unknown" outside a git tree. */
  revision: string;
  /** ISO 8601; "unknown" when dist/ was built by tsc alone. */
  date: string;
}

/** dist/shared/ -> the package root. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  const read = (file: string): Record<string, unknown> => {
    try {
      return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  const pkg = read(path.join(ROOT, "package.json"));
  const built = read(path.join(ROOT, "dist", "buildinfo.json"));
  const str = (v: unknown): string => (typeof v === "string" && v !== "" ? v : "unknown");
  cached = { version: str(pkg.version), revision: str(built.revision), date: str(built.date) };
  return cached;
}

/** The `--version` line: `lsprobe-prober 0.2.0 (revision 1a2b3c4d5e6f, built 2026-12-03T08:00:00Z, node v20.20.2)`. */
export function versionLine(program: string): string {
  const b = buildInfo();
  return `${program} ${b.version} (revision ${b.revision}, built ${b.date}, node ${process.version})`;
}

/** `lsprobe_build_info{version,revision,nodejs} 1`, as smokeping_prober and blackbox_exporter export theirs. */
export function registerBuildInfo(registry: Registry): void {
  const b = buildInfo();
  const g = new Gauge({
    name: "lsprobe_build_info",
    help: "A metric with a constant 1 labelled by the version, git revision and Node.js version lsprobe runs with.",
    labelNames: ["version", "revision", "nodejs"],
    registers: [registry],
  });
  g.set({ version: b.version, revision: b.revision, nodejs: process.version }, 1);
}
