#!/usr/bin/env node
// Writes dist/buildinfo.json after tsc: the git revision the build came from and its date
// (SOURCE_DATE_EPOCH when set, for reproducible packages). Outside a git tree: "unknown".
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const git = (...args) => {
  try {
    return execFileSync("git", ["-C", root, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
};
let revision = git("rev-parse", "--short=12", "HEAD") ?? "unknown";
if (revision !== "unknown" && git("status", "--porcelain", "--untracked-files=no")) revision += "-dirty";
const epoch = Number(process.env.SOURCE_DATE_EPOCH);
const date = (Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000) : new Date()).toISOString().replace(/\.\d{3}Z$/, "Z");
mkdirSync(path.join(root, "dist"), { recursive: true });
writeFileSync(path.join(root, "dist", "buildinfo.json"), JSON.stringify({ revision, date }) + "\n");
