// The shipped configuration (packaging/lsprobe.yaml, /etc/lsprobe/lsprobe.yaml in the Debian
// package): valid for the plugin as it is, valid for the prober once `source` is set, and a
// mention of every key the schema has. And the .deb builder's pure parts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describeConfig, parseConfig } from "../../shared/config.js";
import { controlText, debianVersion, manPage, packagedExabgpConf } from "../../packaging/build-deb.js";
import { REPO_ROOT } from "../util/shared.js";

const FILE = path.join(REPO_ROOT, "packaging", "lsprobe.yaml");
const text = readFileSync(FILE, "utf8");
const SOURCE_LINE = /^ {2}# source: .*$/m;

/** The dotted keys of the reference table: plugin.endpoints.pairs, ..., log.format. */
const schemaKeys = (): string[] => [...describeConfig().matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);

/** The lines of a top-level section, from its header to the next one. */
function sectionLines(name: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l === `${name}:`);
  assert.ok(start >= 0, `packaging/lsprobe.yaml has no top-level "${name}:" section`);
  const end = lines.findIndex((l, i) => i > start && /^[a-z]/.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

test("packaging/lsprobe.yaml: the plugin accepts it as shipped", () => {
  const c = parseConfig(text, FILE, "plugin");
  assert.ok(c.plugin.endpoints.pairs.length + c.plugin.endpoints.groups.length > 0);
  // The defaults the package's directories (tmpfiles.d) are made for.
  assert.equal(c.plugin.output.file, "/var/lib/lsprobe/paths.json");
  assert.equal(c.plugin.output.socket, "/run/lsprobe/paths.sock");
});

test("packaging/lsprobe.yaml: prober.source is there, commented out; with it set the prober accepts the file", () => {
  assert.match(text, SOURCE_LINE, "a commented-out `  # source: ...` line under prober:");
  assert.match(text, /REQUIRED/);
  assert.throws(() => parseConfig(text, FILE, "prober"), /prober\.source/);
  const c = parseConfig(text.replace(SOURCE_LINE, "  source: 198.18.250.1"), FILE, "prober");
  assert.equal(c.prober?.source, "198.18.250.1");
  assert.equal(c.prober?.paths.socket, "/run/lsprobe/paths.sock");
  assert.equal(c.prober?.paths.file, "/var/lib/lsprobe/paths.json");
  assert.equal(c.prober?.user, null, "under systemd the unit, not prober.user, sets the user");
});

test("packaging/lsprobe.yaml: mentions every key of the schema, in its section", () => {
  const keys = schemaKeys();
  assert.ok(keys.length > 30, "describeConfig() rows found");
  const missing = keys.filter((key) => {
    const [top, ...rest] = key.split(".");
    const leaf = rest[rest.length - 1];
    return !sectionLines(top).some((l) => new RegExp(`^\\s*(#\\s*)?${leaf}:`).test(l));
  });
  assert.deepEqual(missing, [], "keys without a (commented) line in packaging/lsprobe.yaml");
});

test("build-deb: Depends pins the Node.js major the addon was built for", () => {
  const control = controlText({ version: "0.1.0", arch: "amd64", nodeMajor: 20, shlibs: "libc6 (>= 2.28)", installedSizeKiB: 42, maintainer: "a <a@b>" });
  assert.match(control, /^Depends: nodejs \(>= 20\), nodejs \(<< 21\), adduser, libc6 \(>= 2\.28\)$/m);
  assert.match(control, /^Recommends: exabgp, prometheus$/m);
  assert.match(control, /^Installed-Size: 42$/m);
  assert.match(control, /Node\.js 20 \(its ABI\)/);
  assert.ok(control.split("\n").every((l) => !l.startsWith(" ") || l.length <= 80), "the long description fits 80 columns");
  assert.match(control, /^Description: .{1,72}$/m, "a synopsis of at most 60-odd characters");
});

test("build-deb: versions", () => {
  for (const [npm, deb] of [["0.1.0", "0.1.0"], ["1.2.3-rc.1", "1.2.3~rc.1"], ["1.0.0+build.5", "1.0.0"]]) assert.equal(debianVersion(npm), deb);
  assert.throws(() => debianVersion("v1"), /not a valid Debian version/);
});

test("build-deb: the packaged exabgp.conf.example runs the wrapper", () => {
  const text = packagedExabgpConf(readFileSync(path.join(REPO_ROOT, "exabgp.conf.example"), "utf8"));
  assert.match(text, /^\s*run \/usr\/bin\/lsprobe-plugin --config \/etc\/lsprobe\/lsprobe\.yaml;$/m);
  assert.doesNotMatch(text, /dist\/plugin\/parser\.js/);
});

test("build-deb: a man page from --help keeps roff out of the text", () => {
  const page = manPage("lsprobe-x", "does x", "0.1.0", new Date("2026-12-03T00:00:00Z"), "Usage: lsprobe-x\n.not a request\n'nor this\na \\ backslash\n");
  assert.match(page, /^\.TH LSPROBE-X 1 "2026-12-03" "lsprobe 0\.1\.0" "User Commands"$/m);
  assert.match(page, /^lsprobe-x \\- does x$/m);
  assert.match(page, /^\\&\.not a request$/m);
  assert.match(page, /^\\&'nor this$/m);
  assert.match(page, /^a \\e backslash$/m);
});
