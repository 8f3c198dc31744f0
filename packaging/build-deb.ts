#!/usr/bin/env node
// `npm run deb`: builds build/lsprobe_<version>_<arch>.deb from the built tree (`npm run build`
// first; `npm run deb` does both). Needs dpkg-deb, npm and a C++ toolchain (raw-socket's addon
// is compiled for the node that runs it); no network beyond the npm registry (or npm's cache).
//
//   /usr/lib/lsprobe/                 package.json, LICENSE, dist/{plugin,prober,shared} (.js
//                                     only: no tests, benches, source maps), dist/buildinfo.json,
//                                     node_modules (production dependencies, from `npm ci
//                                     --omit=dev` in a staging copy; raw-socket's addon built;
//                                     no source maps), build/Release/lsprobe_udprx.node (the
//                                     prober's reply socket, native/udprx.c, built by the same
//                                     npm ci through the package's install script)
//   /usr/bin/lsprobe-{plugin,prober}  sh wrappers: exec /usr/bin/node /usr/lib/lsprobe/dist/...
//   /etc/lsprobe/lsprobe.yaml         conffile, from packaging/lsprobe.yaml
//   /lib/systemd/system/lsprobe-prober.service, /usr/lib/tmpfiles.d/lsprobe.conf
//   /usr/share/doc/lsprobe/           README.md, copyright, changelog.gz, exabgp.conf.example,
//                                     monitoring/ (Prometheus, Alertmanager, Grafana assets)
//   /usr/share/man/man1/              lsprobe-plugin.1.gz, lsprobe-prober.1.gz (from --help)
//   DEBIAN/                           control, conffiles, md5sums, postinst, prerm, postrm
//
// The addon is ABI-specific, so the package depends on the Node.js major version that loaded it
// here (/usr/bin/node, which the wrappers run): nodejs (>= N), nodejs (<< N+1).
// Ownership is root:root through `dpkg-deb --root-owner-group` (no fakeroot needed); modes are
// set explicitly (0755 directories and executables, 0644 the rest), whatever the umask.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { parseCommandLine, type CliSpec } from "../shared/cli.js";

/** The repository: dist/packaging/ -> two levels up. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const APP_DIR = "usr/lib/lsprobe";
/** The dist/ subtrees the programs need; everything else there (test, bench, packaging) stays out. */
export const SHIPPED_DIST = ["plugin", "prober", "shared"] as const;
export const CONFFILE = "/etc/lsprobe/lsprobe.yaml";
export const UNIT = "lsprobe-prober.service";
const NODE = "/usr/bin/node";

// ---- the core: text from values ----

export interface ControlFields {
  version: string;
  arch: string;
  /** Major version of the node the addon was built for. */
  nodeMajor: number;
  /** Libraries the addon links, as dpkg-shlibdeps states them ("libc6 (>= 2.14), ..."). */
  shlibs: string;
  installedSizeKiB: number;
  maintainer: string;
}

/** npm's semver to a Debian version: a pre-release sorts before its release ("0.2.0-rc.1" -> "0.2.0~rc.1"). */
export function debianVersion(npmVersion: string): string {
  const v = npmVersion.replace(/\+.*$/, "").replace("-", "~");
  if (!/^[0-9][A-Za-z0-9.+~]*$/.test(v)) throw new Error(`package.json version ${JSON.stringify(npmVersion)} is not a valid Debian version`);
  return v;
}

export function controlText(f: ControlFields): string {
  const depends = [`nodejs (>= ${f.nodeMajor})`, `nodejs (<< ${f.nodeMajor + 1})`, "adduser", ...(f.shlibs ? [f.shlibs] : [])];
  return [
    "Package: lsprobe",
    `Version: ${f.version}`,
    `Architecture: ${f.arch}`,
    `Maintainer: ${f.maintainer}`,
    `Installed-Size: ${f.installedSizeKiB}`,
    `Depends: ${depends.join(", ")}`,
    "Recommends: exabgp, prometheus",
    "Section: net",
    "Priority: optional",
    "Description: prove that every equal-cost IGP path forwards (BGP-LS, GRE probes)",
    " lsprobe learns the live IS-IS or OSPF topology over BGP-LS (lsprobe-plugin,",
    " an ExaBGP API process), computes every equal-cost best path between chosen",
    " endpoints, pins a probe to each path with one GRE layer per hop",
    " (lsprobe-prober, a systemd service) and exports per-path RTT, loss, up/down",
    " and the links suspected of breaking them to Prometheus.",
    " .",
    ` The raw-socket native addon inside is built for Node.js ${f.nodeMajor} (its ABI),`,
    ` hence the dependency on nodejs ${f.nodeMajor}.x exactly; Debian 12 ships Node.js 18:`,
    " install nodejs from NodeSource's Debian repository or another backport.",
    "",
  ].join("\n");
}

export interface Dependency {
  name: string;
  version: string;
  license: string;
  author?: string;
}

/** debian/copyright in the machine-readable format (DEP-5). */
export function copyrightText(deps: readonly Dependency[], mitText: string): string {
  const mit = mitText
    .replace(/^MIT License\s*\n\s*\nCopyright[^\n]*\n\s*\n/, "")
    .trimEnd()
    .split("\n")
    .map((l) => (l.trim() === "" ? " ." : ` ${l}`))
    .join("\n");
  const bundled = deps.map((d) => [
    `Files: node_modules/${d.name}/*`,
    `Comment: ${d.name} ${d.version}, a bundled npm dependency (/${APP_DIR}/node_modules/${d.name}, with its license file).`,
    `Copyright: ${d.author ?? `the authors of ${d.name}`}`,
    `License: ${d.license}`,
    ...(d.license === "Apache-2.0" ? [" On Debian systems, the full text is in /usr/share/common-licenses/Apache-2.0."] : []),
    "",
  ].join("\n"));
  return [
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
    "Upstream-Name: lsprobe",
    "",
    "Files: *",
    "Copyright: 2026 the lsprobe authors",
    "License: MIT",
    "",
    ...bundled,
    "License: MIT",
    mit,
    "",
  ].join("\n");
}

export function changelogText(version: string, maintainer: string, revision: string, date: Date): string {
  // RFC 2822 date, as dpkg-parsechangelog wants it: "Thu, 03 Dec 2026 08:00:00 +0000".
  const d = date.toUTCString().replace("GMT", "+0000");
  return `lsprobe (${version}) unstable; urgency=medium\n\n  * Built from revision ${revision}.\n\n -- ${maintainer}  ${d}\n`;
}

/** The repository's exabgp.conf.example, running the packaged wrapper. */
export function packagedExabgpConf(text: string): string {
  const run = /^(\s*run )\/usr\/bin\/node \S*\/dist\/plugin\/parser\.js /m;
  const packaged = /^\s*run \/usr\/bin\/lsprobe-plugin /m;
  if (!run.test(text) && !packaged.test(text)) throw new Error("exabgp.conf.example: no `run /usr/bin/node .../dist/plugin/parser.js` line to adapt");
  return text
    .replace(run, "$1/usr/bin/lsprobe-plugin ")
    .replace(/^(# lsprobe: .*)$/m, "$1\n# As installed by the lsprobe Debian package: copy the process and neighbor parts into\n# /etc/exabgp/exabgp.conf.");
}

/** A man page made from a program's --help (what help2man does, without help2man). */
export function manPage(program: string, what: string, version: string, date: Date, help: string): string {
  const escaped = help
    .trimEnd()
    .split("\n")
    .map((l) => l.replace(/\\/g, "\\e").replace(/^([.'])/, "\\&$1"))
    .join("\n");
  const day = date.toISOString().slice(0, 10);
  return [
    `.TH ${program.toUpperCase()} 1 "${day}" "lsprobe ${version}" "User Commands"`,
    ".SH NAME",
    `${program} \\- ${what}`,
    ".SH DESCRIPTION",
    ".nf",
    escaped,
    ".fi",
    ".SH SEE ALSO",
    "/usr/share/doc/lsprobe/README.md, /etc/lsprobe/lsprobe.yaml",
    "",
  ].join("\n");
}

// ---- the shell ----

export interface BuildOptions {
  /** Where the .deb goes (created); default build/ in the repository. */
  outDir?: string;
  /** The repository to package (built); default this one. */
  root?: string;
  /** Leave the staging directory for inspection and say where. */
  keepStaging?: boolean;
  log?: (line: string) => void;
}

export interface BuildResult {
  file: string;
  version: string;
  arch: string;
  nodeMajor: number;
}

class PackagingError extends Error {
  override name = "PackagingError";
}

function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw new PackagingError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new PackagingError(`${cmd} ${args.join(" ")} failed (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

function walk(dir: string, visit: (file: string, isDir: boolean) => void): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    visit(p, e.isDirectory());
    if (e.isDirectory()) walk(p, visit);
  }
}

/** Copies dist/<sub>/**.js whose TypeScript source still exists; fails when a source has no build. */
function copyDist(root: string, app: string, log: (s: string) => void): number {
  let n = 0;
  for (const sub of SHIPPED_DIST) {
    walk(path.join(root, sub), (src, isDir) => {
      if (isDir || !src.endsWith(".ts")) return;
      const rel = path.relative(root, src).replace(/\.ts$/, ".js");
      const built = path.join(root, "dist", rel);
      if (!existsSync(built)) throw new PackagingError(`${built} missing: run \`npm run build\` first (or \`npm run deb\`)`);
      if (statSync(built).mtimeMs + 1000 < statSync(src).mtimeMs) log(`warning: ${path.relative(root, built)} is older than ${path.relative(root, src)} (\`npm run deb\` builds first)`);
      mkdirSync(path.dirname(path.join(app, "dist", rel)), { recursive: true });
      copyFileSync(built, path.join(app, "dist", rel));
      n++;
    });
  }
  const info = path.join(root, "dist", "buildinfo.json");
  if (!existsSync(info)) throw new PackagingError(`${info} missing: run \`npm run build\` (tsc, then scripts/buildinfo.mjs)`);
  copyFileSync(info, path.join(app, "dist", "buildinfo.json"));
  return n;
}

/** The production dependencies, installed by npm from the lock file; the addon checked. */
function installDependencies(app: string, log: (s: string) => void): void {
  log("npm ci --omit=dev (builds raw-socket's addon and lsprobe's own, native/udprx.c)");
  run("npm", ["ci", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: app });
  rmSync(path.join(app, "package-lock.json"));
  for (const dev of ["typescript", "@types"]) {
    if (existsSync(path.join(app, "node_modules", dev))) throw new PackagingError(`node_modules/${dev} is a dev dependency and must not be shipped`);
  }
  for (const a of ADDONS) keepOnlyAddon(app, a);
  // The addon's sources served only its build.
  rmSync(path.join(app, "binding.gyp"));
  rmSync(path.join(app, "native"), { recursive: true });
  // Source maps of the dependencies serve only their own debugging (1.4 MB); .npmignore files
  // only their publishing.
  const junk: string[] = [];
  walk(path.join(app, "node_modules"), (p, isDir) => void (!isDir && (p.endsWith(".map") || path.basename(p) === ".npmignore") && junk.push(p)));
  for (const f of junk) rmSync(f);
  for (const a of ADDONS) {
    const addon = path.join(app, a.file);
    // As dh_strip would: debugging symbols out of the shared object.
    const strip = spawnSync("strip", ["--strip-unneeded", "--remove-section=.comment", "--remove-section=.note", addon], { encoding: "utf8" });
    if (strip.error || strip.status !== 0) log(`strip unavailable or failed (${strip.error?.message ?? strip.stderr.trim()}): ${a.file} keeps its symbols`);
    const load = spawnSync(NODE, ["-e", `require(${JSON.stringify(a.require)})`], { cwd: app, encoding: "utf8" });
    if (load.status !== 0) throw new PackagingError(`${NODE} cannot load ${a.what} (${addon}):\n${load.stderr}`);
  }
}

/** The native addons the package ships, built by npm ci (node-gyp) in the staging copy. */
const ADDONS = [
  { file: "node_modules/raw-socket/build/Release/raw.node", require: "raw-socket", what: "raw-socket's addon" },
  { file: "build/Release/lsprobe_udprx.node", require: "./build/Release/lsprobe_udprx.node", what: "the prober's reply socket addon (native/udprx.c)" },
];

/** Only the addon itself is needed at run time, not node-gyp's objects and makefiles. */
function keepOnlyAddon(app: string, a: (typeof ADDONS)[number]): void {
  const file = path.join(app, a.file);
  if (!existsSync(file)) throw new PackagingError(`${file} missing: ${a.what} did not build (npm needs g++, make and python3 for node-gyp)`);
  const release = path.dirname(file);
  const build = path.dirname(release);
  for (const e of readdirSync(build)) if (e !== "Release") rmSync(path.join(build, e), { recursive: true, force: true });
  for (const e of readdirSync(release)) if (e !== path.basename(file)) rmSync(path.join(release, e), { recursive: true, force: true });
}

function nodeMajor(): number {
  if (!existsSync(NODE)) throw new PackagingError(`${NODE} missing: the package's wrappers run ${NODE} (install nodejs)`);
  const v = run(NODE, ["--version"]).trim();
  const major = Number(/^v(\d+)\./.exec(v)?.[1]);
  if (!(major >= 20)) throw new PackagingError(`${NODE} is ${v}: lsprobe needs Node.js >= 20`);
  return major;
}

/** dpkg-shlibdeps on the addons when dpkg-dev is there; else the two libraries they always link. */
function addonShlibs(staging: string, addons: string[], log: (s: string) => void): string {
  const src = path.join(staging, "shlibs");
  mkdirSync(path.join(src, "debian"), { recursive: true });
  writeFileSync(path.join(src, "debian", "control"), "Source: lsprobe\n\nPackage: lsprobe\nArchitecture: any\n");
  const r = spawnSync("dpkg-shlibdeps", ["-O", ...addons.map((a) => `-e${a}`)], { cwd: src, encoding: "utf8" });
  const m = r.status === 0 ? /^shlibs:Depends=(.*)$/m.exec(r.stdout) : null;
  if (m) return m[1].trim();
  log(`dpkg-shlibdeps unavailable (${r.error ? "dpkg-dev not installed" : r.stderr.trim()}): Depends lists libc6, libstdc++6 unversioned`);
  return "libc6, libstdc++6";
}

function dependencies(app: string): Dependency[] {
  const out: Dependency[] = [];
  const modules = path.join(app, "node_modules");
  const visit = (dir: string): void => {
    const pkg = path.join(dir, "package.json");
    if (!existsSync(pkg)) return;
    const j = JSON.parse(readFileSync(pkg, "utf8")) as { name: string; version: string; license?: string; author?: string | { name?: string } };
    const author = typeof j.author === "string" ? j.author : j.author?.name;
    out.push({ name: j.name, version: j.version, license: j.license ?? "see its directory", ...(author ? { author } : {}) });
  };
  for (const e of readdirSync(modules)) {
    if (e.startsWith(".")) continue;
    if (e.startsWith("@")) for (const s of readdirSync(path.join(modules, e))) visit(path.join(modules, e, s));
    else visit(path.join(modules, e));
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function install(src: string, dst: string, mode: number): void {
  mkdirSync(path.dirname(dst), { recursive: true });
  copyFileSync(src, dst);
  chmodSync(dst, mode);
}

/** 0755 for directories, executables and scripts, 0644 for the rest; the Installed-Size in KiB. */
function normalize(pkgRoot: string): number {
  let kib = 0;
  walk(pkgRoot, (p, isDir) => {
    if (path.relative(pkgRoot, p).split(path.sep)[0] === "DEBIAN") return;
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return void (kib += 1);
    // A native addon is a shared library, loaded, never run: 0644 like any .so. A script with
    // a #! line (the programs' entry points, a dependency's bin) is executable.
    const exec = !isDir && !p.endsWith(".node") && (st.mode & 0o111 || readFileSync(p).subarray(0, 2).toString() === "#!");
    chmodSync(p, isDir || exec ? 0o755 : 0o644);
    kib += isDir ? 1 : Math.ceil(st.size / 1024);
  });
  return kib;
}

function md5sums(pkgRoot: string): string {
  const lines: string[] = [];
  walk(pkgRoot, (p, isDir) => {
    const rel = path.relative(pkgRoot, p);
    if (isDir || rel.startsWith("DEBIAN") || rel.startsWith("etc/") || lstatSync(p).isSymbolicLink()) return;
    lines.push(`${createHash("md5").update(readFileSync(p)).digest("hex")}  ${rel}`);
  });
  return lines.sort((a, b) => a.slice(34).localeCompare(b.slice(34))).join("\n") + "\n";
}

/** DEBFULLNAME and DEBEMAIL when set (as dch reads them), else the author of the commit built. */
function maintainerOf(root: string): string {
  const git = spawnSync("git", ["-C", root, "log", "-1", "--format=%ae"], { encoding: "utf8" });
  const email = process.env.DEBEMAIL || (git.status === 0 ? git.stdout.trim() : "") || "lsprobe@localhost";
  return `${process.env.DEBFULLNAME || "lsprobe authors"} <${email}>`;
}

export function buildDeb(opts: BuildOptions = {}): BuildResult {
  const root = opts.root ?? REPO_ROOT;
  const log = opts.log ?? ((s: string) => process.stderr.write(`build-deb: ${s}\n`));
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
  const version = debianVersion(pkg.version);
  const arch = run("dpkg", ["--print-architecture"]).trim();
  const major = nodeMajor();
  const maintainer = maintainerOf(root);
  const outDir = path.resolve(opts.outDir ?? path.join(root, "build"));
  const staging = mkdtempSync(path.join(tmpdir(), "lsprobe-deb-"));
  try {
    const pkgRoot = path.join(staging, "root");
    const app = path.join(pkgRoot, APP_DIR);
    const debian = path.join(root, "packaging", "debian");
    mkdirSync(app, { recursive: true });
    for (const f of ["package.json", "package-lock.json", "LICENSE", "binding.gyp"]) copyFileSync(path.join(root, f), path.join(app, f));
    mkdirSync(path.join(app, "native"));
    for (const f of readdirSync(path.join(root, "native"))) if (f.endsWith(".c")) copyFileSync(path.join(root, "native", f), path.join(app, "native", f));
    log(`${copyDist(root, app, log)} compiled files from dist/{${SHIPPED_DIST.join(",")}}`);
    installDependencies(app, log);

    install(path.join(debian, "lsprobe-plugin"), path.join(pkgRoot, "usr/bin/lsprobe-plugin"), 0o755);
    install(path.join(debian, "lsprobe-prober"), path.join(pkgRoot, "usr/bin/lsprobe-prober"), 0o755);
    install(path.join(root, "packaging", "lsprobe.yaml"), path.join(pkgRoot, CONFFILE.slice(1)), 0o644);
    install(path.join(debian, UNIT), path.join(pkgRoot, "lib/systemd/system", UNIT), 0o644);
    install(path.join(debian, "lsprobe.tmpfiles"), path.join(pkgRoot, "usr/lib/tmpfiles.d/lsprobe.conf"), 0o644);

    const doc = path.join(pkgRoot, "usr/share/doc/lsprobe");
    mkdirSync(doc, { recursive: true });
    copyFileSync(path.join(root, "README.md"), path.join(doc, "README.md"));
    writeFileSync(path.join(doc, "exabgp.conf.example"), packagedExabgpConf(readFileSync(path.join(root, "exabgp.conf.example"), "utf8")));
    writeFileSync(path.join(doc, "copyright"), copyrightText(dependencies(app), readFileSync(path.join(root, "LICENSE"), "utf8")));
    const revision = (JSON.parse(readFileSync(path.join(root, "dist", "buildinfo.json"), "utf8")) as { revision?: string }).revision ?? "unknown";
    const epoch = Number(process.env.SOURCE_DATE_EPOCH);
    const date = Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000) : new Date();
    writeFileSync(path.join(doc, "changelog.gz"), gzipSync(changelogText(version, maintainer, revision, date), { level: 9 }));
    const man = path.join(pkgRoot, "usr/share/man/man1");
    mkdirSync(man, { recursive: true });
    for (const [program, main, what] of [
      ["lsprobe-plugin", "plugin/parser.js", "ExaBGP API process: BGP-LS to ECMP path sets"],
      ["lsprobe-prober", "prober/main.js", "GRE-pinned probes of every ECMP path, Prometheus metrics"],
    ] as const) {
      const help = run(NODE, [path.join(app, "dist", main), "--help"]);
      writeFileSync(path.join(man, `${program}.1.gz`), gzipSync(manPage(program, what, version, date, help), { level: 9 }));
    }
    cpSync(path.join(root, "monitoring"), path.join(doc, "monitoring"), { recursive: true, filter: (s) => !/[/\\]tests$/.test(s) });

    const installedSize = normalize(pkgRoot);
    const control = path.join(pkgRoot, "DEBIAN");
    mkdirSync(control);
    const shlibs = addonShlibs(
      staging,
      ADDONS.map((a) => path.join(app, a.file)),
      log,
    );
    writeFileSync(path.join(control, "control"), controlText({ version, arch, nodeMajor: major, shlibs, installedSizeKiB: installedSize, maintainer }));
    writeFileSync(path.join(control, "conffiles"), `${CONFFILE}\n`);
    writeFileSync(path.join(control, "md5sums"), md5sums(pkgRoot));
    for (const f of ["control", "conffiles", "md5sums"]) chmodSync(path.join(control, f), 0o644);
    for (const f of ["postinst", "prerm", "postrm"]) install(path.join(debian, f), path.join(control, f), 0o755);
    chmodSync(control, 0o755);

    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `lsprobe_${version}_${arch}.deb`);
    run("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", pkgRoot, file]);
    log(`wrote ${file} (${installedSize} KiB installed; Depends nodejs ${major}.x)`);
    return { file, version, arch, nodeMajor: major };
  } finally {
    if (opts.keepStaging) log(`staging left in ${staging}`);
    else rmSync(staging, { recursive: true, force: true });
  }
}

const SPEC: CliSpec = {
  program: "build-deb",
  synopsis: "[--out DIR] [--keep-staging]",
  summary: "Builds lsprobe_<version>_<arch>.deb from this built repository (`npm run deb` runs `npm run build` first).",
  options: {
    out: { type: "string", arg: "DIR", default: "build", doc: "directory the .deb is written to" },
    "keep-staging": { type: "boolean", doc: "leave the staging directory (the package's tree) for inspection" },
  },
};

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const cli = parseCommandLine(SPEC, process.argv.slice(2));
  if (cli.kind === "exit") process.exit(cli.code);
  try {
    const out = cli.values.out as string;
    const r = buildDeb({ outDir: path.isAbsolute(out) ? out : path.join(process.cwd(), out), keepStaging: cli.values["keep-staging"] === true });
    process.stdout.write(`${r.file}\n`);
  } catch (e) {
    process.stderr.write(`build-deb: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
