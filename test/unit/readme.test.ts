// The README's promises that code can check: the configuration table is the schema's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describeConfig } from "../../shared/config.js";
import { REPO_ROOT } from "../util/shared.js";

const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");

test("README: the configuration reference is describeConfig() verbatim", () => {
  assert.ok(readme.includes(describeConfig().trimEnd()), "regenerate the table in README.md from describeConfig()");
});

test("README: starts with the demo and the test command, and .ci/run runs the test command", () => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1];
  assert.match(firstBlock, /npm run demo/);
  assert.match(firstBlock, /npm test/);
  assert.match(readFileSync(path.join(REPO_ROOT, ".ci/run"), "utf8"), /^npm test$/m);
});
