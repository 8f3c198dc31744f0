#!/usr/bin/env node
// `npm run demo` builds first only when dist/ is older than the sources: every .ts under
// tsconfig.json's include directories, package.json and tsconfig.json, against
// dist/buildinfo.json (written last by `npm run build`). A stale build is announced in one line,
// then package.json's own "build" script runs (no npm needed), its output shown. Plain Node, no
// dependencies. Exit status: 0 current or built, else the build's.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const rel = (f) => path.relative(root, f);
const STAMP = path.join(root, "dist", "buildinfo.json");
/** When tsconfig.json cannot be read as JSON (comments) or lists no include. */
const FALLBACK_DIRS = ["plugin", "prober", "shared", "test", "bench"];

/** The directories tsconfig.json compiles: each include pattern up to its first wildcard. */
function sourceDirs() {
  try {
    const include = JSON.parse(readFileSync(path.join(root, "tsconfig.json"), "utf8")).include;
    if (!Array.isArray(include) || include.length === 0) return FALLBACK_DIRS;
    return [...new Set(include.map((p) => String(p).split("/").filter((part, i, all) => !/[*?]/.test(part) && all.slice(0, i).every((x) => !/[*?]/.test(x))).join("/")))];
  } catch {
    return FALLBACK_DIRS;
  }
}

/** The first file under dir (recursively) ending in .ts and modified after `after`, if any. */
function newerTs(dir, after) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const e of entries) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === "node_modules" || e.name === "dist" || e.name.startsWith(".")) continue;
      const found = newerTs(f, after);
      if (found) return found;
    } else if (e.name.endsWith(".ts") && statSync(f).mtimeMs > after) return f;
  }
  return undefined;
}

/** Why dist/ needs a build, or undefined when it is current. */
function staleness() {
  if (!existsSync(STAMP)) return "dist/ has no build yet";
  const built = statSync(STAMP).mtimeMs;
  for (const f of ["package.json", "tsconfig.json"].map((n) => path.join(root, n))) if (existsSync(f) && statSync(f).mtimeMs > built) return `${rel(f)} changed since the last build`;
  for (const d of sourceDirs()) {
    const f = newerTs(path.join(root, d), built);
    if (f) return `${rel(f)} changed since the last build`;
  }
  return undefined;
}

const why = staleness();
if (why !== undefined) {
  const build = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).scripts?.build;
  if (typeof build !== "string") {
    process.stderr.write("build-if-stale: package.json has no \"build\" script\n");
    process.exit(1);
  }
  process.stdout.write(`building lsprobe (tsc, about 15 s; ${why})...\n`);
  const bin = path.join(root, "node_modules", ".bin");
  const r = spawnSync(build, { cwd: root, shell: true, stdio: "inherit", env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` } });
  if (r.status !== 0) {
    process.stderr.write(`build-if-stale: the build failed (${r.status ?? r.signal}): \`${build}\`\n`);
    process.exit(r.status ?? 1);
  }
}
