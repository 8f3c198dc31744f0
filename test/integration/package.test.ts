// lsprobe as an operator gets it. The Debian package: built by packaging/build-deb.ts, installed
// with dpkg, its files, modes, user and directories checked, its unit verified, its wrappers run,
// the prober started as user lsprobe with CAP_NET_RAW alone (inside a network namespace that
// holds its source address), reinstalled, and purged without a trace. The npm route: a clean
// clone of HEAD packs (prepack builds), and the tarball installs working bins.
//
// Root only for the package (dpkg -i changes this machine: the test refuses to run when lsprobe
// is already installed, and purges what it installed whatever happens).
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type SpawnSyncOptions } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildDeb, type BuildResult } from "../../packaging/build-deb.js";
import { REPO_ROOT } from "../util/shared.js";

const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
const IS_ROOT = process.getuid?.() === 0;
/** CAP_NET_RAW is capability 13: the only bit a confined prober may hold. */
const CAP_NET_RAW_ONLY = (1n << 13n).toString(16).padStart(16, "0");
const SOURCE = "198.18.250.1";

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: readonly string[], opts: SpawnSyncOptions = {}): Ran {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20, ...opts });
  if (r.error) return { status: null, stdout: "", stderr: `${cmd}: ${r.error.message}` };
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Runs and asserts exit 0, with the command and its output in the message. */
function must(cmd: string, args: readonly string[], opts: SpawnSyncOptions = {}): Ran {
  const r = run(cmd, args, opts);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r;
}

const have = (cmd: string): boolean => run("sh", ["-c", `command -v ${cmd}`]).status === 0;
const getent = (db: "passwd" | "group", name: string): string[] | undefined => {
  const r = run("getent", [db, name]);
  return r.status === 0 ? r.stdout.trim().split(":") : undefined;
};
/** "installed", "config-files", ... or undefined when dpkg does not know the package. */
const dpkgStatus = (): string | undefined => {
  const r = run("dpkg-query", ["-W", "-f=${db:Status-Status}", "lsprobe"]);
  return r.status === 0 && r.stdout.trim() !== "not-installed" && r.stdout.trim() !== "" ? r.stdout.trim() : undefined;
};

/** The environment minus what `npm test` puts there for its own scripts (npm_config_local_prefix and the like). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

function debSkip(): string | false {
  if (!IS_ROOT) return "needs root (dpkg -i, a network namespace, setpriv)";
  for (const cmd of ["dpkg-deb", "dpkg", "npm", "ip", "setpriv", "adduser"]) if (!have(cmd)) return `${cmd} not installed`;
  if (!existsSync("/usr/bin/node")) return "/usr/bin/node missing (the package's wrappers run it)";
  if (dpkgStatus()) return "lsprobe is already installed here (dpkg -s lsprobe): not touching it; `dpkg --purge lsprobe` to run this test";
  if (getent("passwd", "lsprobe") || getent("group", "lsprobe")) return "a user or group lsprobe exists without the package: not touching it";
  return false;
}

function statusField(pid: number, field: string): string {
  const m = new RegExp(`^${field}:\\s*(.*)$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  assert.ok(m, `/proc/${pid}/status has ${field}`);
  return m[1].trim();
}

test("Debian package: builds, installs, runs confined, purges without a trace", { skip: debSkip(), timeout: 180_000 }, async (t: TestContext) => {
  const tmp = mkdtempSync(path.join(tmpdir(), "lsprobe-pkg-"));
  chmodSync(tmp, 0o755); // user lsprobe reads the prober's config here
  const ns = `lsp-pkg-${process.pid}`;
  let prober: ReturnType<typeof spawn> | undefined;
  t.after(() => {
    if (prober && prober.exitCode === null && prober.signalCode === null) prober.kill("SIGKILL");
    run("ip", ["netns", "del", ns]);
    if (dpkgStatus()) run("dpkg", ["--purge", "lsprobe"]);
    rmSync(tmp, { recursive: true, force: true });
  });

  const exabgp = getent("passwd", "exabgp");
  let deb: BuildResult | undefined;
  let files: string[] = [];

  await t.test("npm run deb's builder writes lsprobe_<version>_<arch>.deb", () => {
    deb = buildDeb({ outDir: path.join(tmp, "build"), log: (s) => t.diagnostic(`build-deb: ${s}`) });
    const arch = must("dpkg", ["--print-architecture"]).stdout.trim();
    assert.equal(path.basename(deb.file), `lsprobe_${VERSION.replace("-", "~")}_${arch}.deb`);
    assert.ok(existsSync(deb.file));
  });
  assert.ok(deb, "the package was built");
  const file = deb.file;

  await t.test("dpkg-deb --info: control fields, conffiles, maintainer scripts", () => {
    const field = (name: string): string => must("dpkg-deb", ["--field", file, name]).stdout.trim();
    const nodeMajor = Number(/^v(\d+)\./.exec(must("/usr/bin/node", ["--version"]).stdout)?.[1]);
    assert.equal(field("Package"), "lsprobe");
    assert.equal(field("Version"), VERSION.replace("-", "~"));
    assert.equal(field("Architecture"), must("dpkg", ["--print-architecture"]).stdout.trim());
    assert.match(field("Maintainer"), /^.+ <[^>]+@[^>]+>$/);
    const depends = field("Depends").split(/,\s*/);
    for (const d of [`nodejs (>= ${nodeMajor})`, `nodejs (<< ${nodeMajor + 1})`, "adduser"]) assert.ok(depends.includes(d), `Depends has ${d}: ${depends.join(", ")}`);
    assert.deepEqual(field("Recommends").split(/,\s*/), ["exabgp", "prometheus"]);
    assert.match(field("Installed-Size"), /^\d+$/);
    assert.match(field("Description"), /ABI/);
    assert.equal(must("dpkg-deb", ["--info", file, "conffiles"]).stdout, "/etc/lsprobe/lsprobe.yaml\n");
    const info = must("dpkg-deb", ["--info", file]).stdout;
    for (const script of ["postinst", "prerm", "postrm"]) assert.match(info, new RegExp(`\\*\\s+${script}\\s+#!/bin/sh`), `${script} executable`);
  });

  await t.test("dpkg-deb --contents: what is shipped, owned by root, and what is not", () => {
    const entries = new Map<string, { mode: string; owner: string }>();
    for (const line of must("dpkg-deb", ["--contents", file]).stdout.trim().split("\n")) {
      const m = /^(\S+) (\S+)\s+\d+ \S+ \S+ \.(\/\S*?)\/?(?: -> \S+)?$/.exec(line);
      assert.ok(m, `parsable line: ${line}`);
      entries.set(m[3] === "/" ? "/" : m[3], { mode: m[1], owner: m[2] });
    }
    const app = "/usr/lib/lsprobe";
    for (const p of [
      `${app}/package.json`,
      `${app}/LICENSE`,
      `${app}/dist/buildinfo.json`,
      `${app}/dist/prober/rawsock.js`,
      `${app}/dist/shared/config.js`,
      `${app}/node_modules/raw-socket/build/Release/raw.node`,
      `${app}/build/Release/lsprobe_udprx.node`,
      `${app}/node_modules/prom-client/package.json`,
      `${app}/node_modules/yaml/package.json`,
      `${app}/node_modules/@dagrejs/graphlib/package.json`,
      "/etc/lsprobe/lsprobe.yaml",
      "/lib/systemd/system/lsprobe-prober.service",
      "/usr/lib/tmpfiles.d/lsprobe.conf",
      "/usr/share/doc/lsprobe/copyright",
      "/usr/share/doc/lsprobe/README.md",
      "/usr/share/doc/lsprobe/exabgp.conf.example",
      "/usr/share/doc/lsprobe/changelog.gz",
      "/usr/share/man/man1/lsprobe-plugin.1.gz",
      "/usr/share/man/man1/lsprobe-prober.1.gz",
    ]) {
      assert.ok(entries.has(p), `ships ${p}`);
      assert.equal(entries.get(p)!.mode, "-rw-r--r--", `${p} is 0644`);
    }
    // The wrappers, and the scripts they run (a #! line: executable, as lintian wants).
    for (const bin of ["/usr/bin/lsprobe-plugin", "/usr/bin/lsprobe-prober", `${app}/dist/plugin/parser.js`, `${app}/dist/prober/main.js`]) {
      assert.equal(entries.get(bin)?.mode, "-rwxr-xr-x", `${bin} is 0755`);
    }
    const notRoot = [...entries].filter(([, e]) => e.owner !== "root/root").map(([p]) => p);
    assert.deepEqual(notRoot, [], "every entry is root/root");
    const unwanted = [...entries.keys()].filter(
      (p) =>
        p.endsWith(".map") ||
        (p.startsWith(`${app}/dist/`) && !/^\/usr\/lib\/lsprobe\/dist\/(plugin|prober|shared)(\/|$)|^\/usr\/lib\/lsprobe\/dist\/buildinfo\.json$/.test(p)) ||
        (p.startsWith(`${app}/dist/`) && p.endsWith(".ts")) ||
        /\/node_modules\/(typescript|@types|undici-types)(\/|$)/.test(p) ||
        p === `${app}/package-lock.json` ||
        /\/raw-socket\/build\/(?!Release(\/raw\.node)?$)/.test(p) ||
        (p.startsWith(`${app}/build/`) && !/^\/usr\/lib\/lsprobe\/build\/Release(\/lsprobe_udprx\.node)?$/.test(p)) ||
        p.startsWith(`${app}/native`) ||
        p === `${app}/binding.gyp`,
    );
    assert.deepEqual(unwanted, [], "no tests, benches, source maps, dev dependencies or build leftovers");
  });

  await t.test("dpkg -i: files and modes, the conffile, user lsprobe, the plugin's directories", () => {
    must("dpkg", ["-i", file], { env: { ...cleanEnv(), DEBIAN_FRONTEND: "noninteractive" } });
    assert.equal(dpkgStatus(), "installed");
    for (const bin of ["/usr/bin/lsprobe-plugin", "/usr/bin/lsprobe-prober"]) {
      const st = statSync(bin);
      assert.equal(st.mode & 0o7777, 0o755, `${bin} mode`);
      assert.equal(st.uid, 0);
    }
    assert.match(must("dpkg-query", ["-W", "-f=${Conffiles}", "lsprobe"]).stdout, /^ \/etc\/lsprobe\/lsprobe\.yaml [0-9a-f]{32}$/m);
    assert.equal(readFileSync("/lib/systemd/system/lsprobe-prober.service", "utf8"), readFileSync(path.join(REPO_ROOT, "packaging/debian/lsprobe-prober.service"), "utf8"));
    assert.equal(readFileSync("/usr/lib/tmpfiles.d/lsprobe.conf", "utf8"), readFileSync(path.join(REPO_ROOT, "packaging/debian/lsprobe.tmpfiles"), "utf8"));
    assert.equal(readFileSync("/etc/lsprobe/lsprobe.yaml", "utf8"), readFileSync(path.join(REPO_ROOT, "packaging/lsprobe.yaml"), "utf8"));

    const user = getent("passwd", "lsprobe");
    const group = getent("group", "lsprobe");
    assert.ok(user && group, "user and group lsprobe exist");
    const sysUidMax = Number(/^SYS_UID_MAX\s+(\d+)/m.exec(existsSync("/etc/login.defs") ? readFileSync("/etc/login.defs", "utf8") : "")?.[1] ?? 999);
    assert.ok(Number(user[2]) > 0 && Number(user[2]) <= sysUidMax, `a system uid (${user[2]} <= ${sysUidMax})`);
    assert.equal(user[3], group[2], "primary group lsprobe");
    assert.equal(user[5], "/nonexistent");
    assert.equal(user[6], "/usr/sbin/nologin");
    assert.ok(!existsSync("/nonexistent"), "no home directory made");

    for (const dir of ["/run/lsprobe", "/var/lib/lsprobe"]) {
      const st = statSync(dir);
      assert.ok(st.isDirectory(), dir);
      assert.equal((st.mode & 0o7777).toString(8), "2750", `${dir} mode`);
      assert.equal(st.uid, exabgp ? Number(exabgp[2]) : 0, `${dir} owner: ${exabgp ? "exabgp" : "root (no exabgp user)"}`);
      assert.equal(st.gid, Number(group[2]), `${dir} group lsprobe`);
    }
  });

  await t.test("what the plugin writes as exabgp, the prober reads as lsprobe (setgid directories)", { skip: exabgp ? false : "no exabgp user on this machine" }, () => {
    must("/usr/bin/lsprobe-plugin", ["--check-config", "--as-user", "exabgp", "--config", "/etc/lsprobe/lsprobe.yaml"]);
    const as = (user: string, script: string): Ran => run("setpriv", ["--reuid", user, "--regid", user, "--init-groups", "--", "sh", "-c", script]);
    assert.equal(as("exabgp", "umask 022 && echo generation-1 > /var/lib/lsprobe/paths.json").status, 0, "exabgp writes /var/lib/lsprobe");
    assert.equal(statSync("/var/lib/lsprobe/paths.json").gid, Number(getent("group", "lsprobe")![2]), "the file gets group lsprobe");
    assert.equal(as("lsprobe", "cat /var/lib/lsprobe/paths.json").stdout, "generation-1\n", "lsprobe reads it");
    assert.notEqual(as("nobody", "cat /var/lib/lsprobe/paths.json").status, 0, "others do not");
    rmSync("/var/lib/lsprobe/paths.json");
  });

  await t.test("the packaged exabgp.conf.example passes exabgp --test (it runs /usr/bin/lsprobe-plugin)", { skip: have("exabgp") ? false : "exabgp not installed" }, () => {
    const example = "/usr/share/doc/lsprobe/exabgp.conf.example";
    assert.match(readFileSync(example, "utf8"), /^\s*run \/usr\/bin\/lsprobe-plugin --config \/etc\/lsprobe\/lsprobe\.yaml;$/m);
    const r = run("exabgp", ["--test", example], { env: { ...cleanEnv(), exabgp_log_destination: "stderr" } });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  await t.test("systemd-analyze verify passes on the unit", { skip: have("systemd-analyze") ? false : "systemd-analyze not installed" }, () => {
    const unit = "/lib/systemd/system/lsprobe-prober.service";
    const r = run("systemd-analyze", ["verify", unit]);
    // Offline (no systemd running here) verify still loads the unit, checks every key and that
    // ExecStart is executable. What it says about other units it loads on the way (targets, the
    // host's own units) or about the missing bus is the environment, not this unit: only lines
    // naming lsprobe count.
    const lines = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.trim() !== "");
    const ours = lines.filter((l) => /lsprobe/.test(l));
    for (const l of lines.filter((l) => !/lsprobe/.test(l))) t.diagnostic(`systemd-analyze (environment): ${l}`);
    assert.deepEqual(ours, [], "no warning about lsprobe-prober.service");
    assert.equal(r.status, 0, `systemd-analyze verify exited ${r.status}`);
  });

  await t.test("the wrappers run: --version, --help, --check-config", () => {
    const plugin = must("/usr/bin/lsprobe-plugin", ["--version"]);
    assert.match(plugin.stdout, new RegExp(`^lsprobe-plugin ${VERSION.replace(/\./g, "\\.")} \\(revision \\S+, built \\S+, node v\\d+`));
    assert.match(must("/usr/bin/lsprobe-prober", ["--version"]).stdout, new RegExp(`^lsprobe-prober ${VERSION.replace(/\./g, "\\.")} `));
    assert.match(must("/usr/bin/lsprobe-prober", ["--help"]).stdout, /CAP_NET_RAW/);
    must("/usr/bin/lsprobe-plugin", ["--check-config", "--config", "/etc/lsprobe/lsprobe.yaml"]);
    const refused = run("/usr/bin/lsprobe-prober", ["--check-config", "--config", "/etc/lsprobe/lsprobe.yaml"]);
    assert.equal(refused.status, 1, "the shipped config has no prober.source: the prober refuses it");
    assert.match(refused.stderr, /prober\.source/);
  });

  await t.test("in a namespace holding its source, the prober checks its config and runs as lsprobe with CAP_NET_RAW alone", async () => {
    must("ip", ["netns", "add", ns]);
    // A veth pair inside the namespace (this kernel may lack the dummy driver); nothing leaves it.
    must("ip", ["-n", ns, "link", "add", "lsp0", "type", "veth", "peer", "name", "lsp1"]);
    must("ip", ["-n", ns, "address", "add", `${SOURCE}/32`, "dev", "lsp0"]);
    for (const dev of ["lo", "lsp0", "lsp1"]) must("ip", ["-n", ns, "link", "set", dev, "up"]);

    const check = path.join(tmp, "check.yaml");
    const shipped = readFileSync("/etc/lsprobe/lsprobe.yaml", "utf8");
    assert.match(shipped, /^ {2}# source: /m);
    writeFileSync(check, shipped.replace(/^ {2}# source: .*$/m, `  source: ${SOURCE}`), { mode: 0o644 });
    const ok = must("ip", ["netns", "exec", ns, "/usr/bin/lsprobe-prober", "--check-config", "--config", check]);
    t.diagnostic(ok.stderr.trim());

    // A fresh namespace: every port is free. The path-set socket and file do not exist, so the
    // prober probes nothing and sends nothing.
    const conf = path.join(tmp, "run.yaml");
    const listen = "127.0.0.1:19469";
    writeFileSync(conf, `prober:\n  source: ${SOURCE}\n  listen: ${listen}\n  paths:\n    socket: ${tmp}/nonexistent/paths.sock\n    file: ${tmp}/nonexistent/paths.json\n`, { mode: 0o644 });
    const args = ["netns", "exec", ns, "setpriv", "--reuid", "lsprobe", "--regid", "lsprobe", "--init-groups", "--inh-caps", "+net_raw", "--ambient-caps", "+net_raw", "--bounding-set", "-all,+net_raw", "--", "/usr/bin/lsprobe-prober", "--config", conf];
    const child = spawn("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
    prober = child;
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    for (const end = Date.now() + 20_000; !/\bstarted\b/.test(err); await new Promise((r) => setTimeout(r, 50))) {
      assert.ok(child.exitCode === null, `the prober exited (${child.exitCode}): ${err}`);
      assert.ok(Date.now() < end, `no "started" line from the prober: ${err}`);
    }
    const pid = child.pid!;
    // ip netns exec, setpriv and the wrapper all exec: the pid is node's.
    assert.equal(readlinkSync(`/proc/${pid}/exe`), realpathSync("/usr/bin/node"));
    const uid = getent("passwd", "lsprobe")![2];
    assert.deepEqual(statusField(pid, "Uid").split(/\s+/), [uid, uid, uid, uid], "runs as lsprobe");
    for (const set of ["CapEff", "CapPrm", "CapBnd", "CapAmb"]) assert.equal(statusField(pid, set), CAP_NET_RAW_ONLY, `${set} is cap_net_raw alone`);

    const fetchInNs = (p: string): Ran =>
      must("ip", ["netns", "exec", ns, "/usr/bin/node", "-e", `fetch("http://${listen}${p}").then(async (r) => process.stdout.write(r.status + "\\n" + (await r.text())))`]);
    const health = fetchInNs("/healthz").stdout.split("\n");
    assert.equal(health[0], "503", "healthz answers; no path set yet, so not healthy");
    assert.match(fetchInNs("/metrics").stdout, /^lsprobe_config_last_reload_successful 1$/m);

    child.kill("SIGTERM");
    assert.equal(await exited, 0, `stops with 0 on SIGTERM: ${err}`);
  });

  await t.test("dpkg -i again (an upgrade's path): state kept, directories and user unchanged", () => {
    const uid = getent("passwd", "lsprobe")![2];
    writeFileSync("/var/lib/lsprobe/lsdb.json", "{}\n");
    must("dpkg", ["-i", file], { env: { ...cleanEnv(), DEBIAN_FRONTEND: "noninteractive" } });
    assert.equal(getent("passwd", "lsprobe")![2], uid);
    assert.equal(readFileSync("/var/lib/lsprobe/lsdb.json", "utf8"), "{}\n");
    for (const dir of ["/run/lsprobe", "/var/lib/lsprobe"]) assert.equal((statSync(dir).mode & 0o7777).toString(8), "2750");
    files = must("dpkg", ["-L", "lsprobe"]).stdout.trim().split("\n");
  });

  await t.test("dpkg --purge leaves nothing behind", () => {
    must("dpkg", ["--purge", "lsprobe"], { env: { ...cleanEnv(), DEBIAN_FRONTEND: "noninteractive" } });
    assert.equal(dpkgStatus(), undefined, "dpkg no longer knows lsprobe");
    assert.equal(getent("passwd", "lsprobe"), undefined, "user lsprobe removed");
    assert.equal(getent("group", "lsprobe"), undefined, "group lsprobe removed");
    assert.ok(files.length > 100, "dpkg -L listed the package's files");
    const left = files.filter((f) => existsSync(f) && (!statSync(f).isDirectory() || /lsprobe/.test(f)));
    assert.deepEqual(left, [], "none of the package's files or directories");
    const others = [
      "/etc/lsprobe",
      "/var/lib/lsprobe",
      "/run/lsprobe",
      "/usr/lib/lsprobe",
      "/etc/systemd/system/lsprobe-prober.service",
      "/etc/systemd/system/multi-user.target.wants/lsprobe-prober.service",
      "/var/lib/systemd/deb-systemd-helper-enabled/lsprobe-prober.service.dsh-also",
      "/var/lib/systemd/deb-systemd-helper-masked/lsprobe-prober.service",
    ].filter((p) => existsSync(p));
    assert.deepEqual(others, [], "nothing the maintainer scripts made");
    assert.deepEqual(readdirSync("/var/lib/dpkg/info").filter((f) => f.startsWith("lsprobe.")), [], "no maintainer scripts left in dpkg's database");
  });
});

function npmSkip(): string | false {
  for (const cmd of ["git", "npm", "tar"]) if (!have(cmd)) return `${cmd} not installed`;
  const head = run("git", ["-C", REPO_ROOT, "rev-parse", "--verify", "HEAD"]);
  if (head.status !== 0) return `no git HEAD to clone (${head.stderr.trim().split("\n")[0]})`;
  return false;
}

test("npm route: a clean clone of HEAD packs, and the tarball installs working lsprobe-plugin and lsprobe-prober", { skip: npmSkip(), timeout: 240_000 }, (t: TestContext) => {
  const tmp = mkdtempSync(path.join(tmpdir(), "lsprobe-npm-"));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const env = cleanEnv();
  const clone = path.join(tmp, "clone");
  // HEAD, as committed: what the working tree has and HEAD lacks is not in the tarball.
  must("git", ["clone", "--quiet", REPO_ROOT, clone]);
  const head = must("git", ["-C", clone, "rev-parse", "--short=12", "HEAD"]).stdout.trim();
  must("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: clone, env });
  const packed = must("npm", ["pack", "--pack-destination", tmp], { cwd: clone, env }).stdout.trim().split("\n").pop()!;
  const tgz = path.join(tmp, packed);
  assert.equal(packed, `lsprobe-${VERSION}.tgz`);

  const listed = must("tar", ["-tzf", tgz]).stdout.trim().split("\n");
  for (const p of ["dist/plugin/parser.js", "dist/prober/main.js", "dist/shared/config.js", "dist/buildinfo.json", "LICENSE", "README.md", "package.json", "exabgp.conf.example", "examples/lsprobe.yaml", "packaging/lsprobe.yaml", "binding.gyp", "native/udprx.c"]) {
    assert.ok(listed.includes(`package/${p}`), `the tarball has ${p}`);
  }
  const unwanted = listed.filter((p) => p.endsWith(".map") || p.endsWith(".ts") || /^package\/(dist\/)?(test|bench|packaging\/debian)\//.test(p) || /\/tests\//.test(p) || /^package\/dist\/packaging\//.test(p) || /^package\/build\//.test(p));
  assert.deepEqual(unwanted, [], "no tests, benches, sources or source maps");
  assert.match(readFileSync(path.join(REPO_ROOT, "LICENSE"), "utf8"), /^MIT License\n\nCopyright \(c\) 2026 the lsprobe authors$/m);

  const prefix = path.join(tmp, "prefix");
  must("npm", ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", "--prefer-offline", tgz], { cwd: tmp, env });
  const installed = path.join(prefix, "lib", "node_modules", "lsprobe");
  assert.ok(existsSync(path.join(installed, "node_modules/raw-socket/build/Release/raw.node")), "npm built raw-socket's addon");
  must(process.execPath, ["-e", 'require("raw-socket")'], { cwd: installed });
  assert.ok(existsSync(path.join(installed, "build/Release/lsprobe_udprx.node")), "npm built the reply socket addon (native/udprx.c) through the install script");
  must(process.execPath, ["-e", 'require("./build/Release/lsprobe_udprx.node")'], { cwd: installed });
  assert.ok(!existsSync(path.join(installed, "node_modules/typescript")), "no dev dependencies");
  for (const bin of ["lsprobe-plugin", "lsprobe-prober"]) {
    const exe = path.join(prefix, "bin", bin);
    const version = must(exe, ["--version"], { env }).stdout;
    assert.match(version, new RegExp(`^${bin} ${VERSION.replace(/\./g, "\\.")} \\(revision ${head}, built \\S+, node v\\d+`), "the clean clone's revision, not dirty");
    assert.match(must(exe, ["--help"], { env }).stdout, new RegExp(`^Usage: ${bin} `));
  }
});
