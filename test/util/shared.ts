// Where ../shared is: beside the repository (CI clones main with shared/ next to it), or
// LSPROBE_SHARED. Compiled files live in dist/test/util, three levels below the repository.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const SHARED_DIR = process.env.LSPROBE_SHARED ?? path.resolve(REPO_ROOT, "../shared");
export const sharedPath = (...parts: string[]): string => path.join(SHARED_DIR, ...parts);
