// Which build a bench measured: the code is still changing under the figures, so every bench
// prints a digest of the compiled files it ran (sha256 over dist/<dir>/**/*.js, 12 hex digits).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export function codeDigest(dir: string): string {
  const h = createHash("sha256");
  const walk = (d: string): void => {
    for (const f of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith(".js")) h.update(`${path.relative(dir, p)}\n`).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest("hex").slice(0, 12);
}

/** dist/<name>/ next to dist/bench/. */
export const distDir = (name: string): string => fileURLToPath(new URL(`../../${name}/`, import.meta.url));
