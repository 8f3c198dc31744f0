// The plugin as ExaBGP runs it: a child process fed on stdin, publishing to a file and a socket.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { PATHSET_VERSION, parsePathSet, type PathSet } from "../../shared/pathset.js";
import { ExabgpLines, lineTopology } from "../util/exabgp-lines.js";
import { readTopologyJson } from "../util/edgelist.js";
import { checkMetrics, SKIP_NO_PROMTOOL } from "../util/promtool.js";

const PARSER = new URL("../../plugin/parser.js", import.meta.url).pathname;

interface Plugin {
  proc: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startPlugin(config: string): Plugin {
  const proc = spawn(process.execPath, [PARSER, "--config", config], { stdio: "pipe" });
  let out = "";
  let err = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, stdout: () => out, stderr: () => err, exited };
}

async function until<T>(what: string, f: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function workspace(extra = "") {
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-plugin-"));
  const file = path.join(dir, "paths.json");
  const socket = path.join(dir, "paths.sock");
  const state = path.join(dir, "lsdb.json");
  const config = path.join(dir, "lsprobe.yaml");
  writeFileSync(
    config,
    `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  output:\n    file: ${file}\n    socket: ${socket}\n  state-file: ${state}\n${extra}`,
  );
  return { dir, file, socket, state, config, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const readSet = (file: string): PathSet | undefined => {
  if (!existsSync(file)) return undefined;
  return parsePathSet(JSON.parse(readFileSync(file, "utf8")), file);
};

function nanogLines(): ExabgpLines {
  const t = readTopologyJson("nanog6.json");
  return new ExabgpLines(lineTopology(t.nodes, t.edges));
}

test("plugin process: publishes to file and socket, asks for a refresh, exits 0 on shutdown, restarts from its snapshot", async (t) => {
  const ws = workspace();
  const plugins: Plugin[] = [];
  t.after(() => {
    for (const p of plugins) p.proc.kill("SIGKILL");
    ws.cleanup();
  });
  const p = startPlugin(ws.config);
  plugins.push(p);
  await until("socket", () => existsSync(ws.socket));
  assert.equal(statSync(ws.socket).mode & 0o777, 0o660);

  const received: string[] = [];
  const client = net.connect(ws.socket);
  let buf = "";
  client.on("data", (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      received.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  await new Promise((r) => client.once("connect", r));

  const lines = nanogLines();
  p.proc.stdin.write(lines.fullTable().join("\n") + "\n");
  const set = await until("path-set file", () => readSet(ws.file));
  assert.equal(set.generation, 1);
  assert.equal(set.paths.filter((x) => x.src === "r1").length, 4);
  await until("socket document", () => received.length >= 1);
  assert.equal(parsePathSet(JSON.parse(received[0])).generation, 1);

  p.proc.stdin.write([lines.withdrawLink(lines.link("r2", "r4")), lines.withdrawLink(lines.link("r4", "r2"))].join("\n") + "\n");
  const set2 = await until("generation 2", () => {
    const s = readSet(ws.file);
    return s && s.generation === 2 ? s : undefined;
  });
  // The two paths across r2-r4 are gone; r1-r2-r5-r6, r1-r3-r4-r6 and r1-r3-r5-r6 remain.
  assert.equal(set2.paths.filter((x) => x.src === "r1").length, 3);
  await until("socket generation 2", () => received.length >= 2);

  // A late subscriber gets the current set at once.
  const late = await new Promise<string>((resolve) => {
    const c = net.connect(ws.socket);
    c.once("data", (d) => {
      resolve(d.toString());
      c.destroy();
    });
  });
  assert.equal(JSON.parse(late.split("\n")[0]).generation, 2);
  client.destroy();

  p.proc.stdin.write(lines.shutdown() + "\n");
  assert.equal(await p.exited, 0);
  // stdout is ExaBGP's command channel: only the route-refresh request went there.
  assert.equal(p.stdout(), "announce route-refresh bgp-ls bgp-ls\n");
  assert.ok(existsSync(ws.state), "snapshot written");
  assert.ok(!existsSync(ws.socket), "socket removed");

  // Restart: the snapshot is published at once (stale), generations keep increasing.
  const q = startPlugin(ws.config);
  plugins.push(q);
  const stale = await until("stale set after restart", () => {
    const s = readSet(ws.file);
    return s && s.generation === 3 ? s : undefined;
  });
  assert.equal(stale.topology.stale, true);
  assert.equal(stale.paths.filter((x) => x.src === "r1").length, 3);
  // The peers answer the refresh: full table (r2-r4 back), EoR; the stale part is dropped.
  q.proc.stdin.write(lines.fullTable().join("\n") + "\n");
  const fresh = await until("fresh set", () => {
    const s = readSet(ws.file);
    return s && s.generation === 4 ? s : undefined;
  });
  assert.equal(fresh.topology.stale, false);
  assert.equal(fresh.paths.filter((x) => x.src === "r1").length, 4);
  q.proc.kill("SIGTERM");
  assert.equal(await q.exited, 0);
});

test("plugin process: bad input keeps it running, stdout empty, last good set in force; EOF exits 0", async (t) => {
  const ws = workspace("  route-refresh: false\n");
  const p = startPlugin(ws.config);
  t.after(() => {
    p.proc.kill("SIGKILL");
    ws.cleanup();
  });
  const lines = nanogLines();
  p.proc.stdin.write(lines.fullTable().join("\n") + "\n");
  await until("first set", () => readSet(ws.file));
  const junk = [
    lines.announceLink(lines.link("r1", "r2")).slice(0, 150),
    '{ "exabgp": "4.0.1", "type": "update", "neighbor": { "address": { "peer": "127.0.0.1" }, "message": { "update": { "announce": { "bgp-ls bgp-ls": { "1.1.1.1": [ { "ls-nlri-type": 99 } ] } } } } } }',
    '{ "exabgp": 4, "type": ["update"] }',
    "{" + "\"a\":".repeat(300000),
    Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x01, 0x0d]).toString("latin1"),
  ];
  p.proc.stdin.write(junk.join("\n") + "\n");
  p.proc.stdin.end();
  assert.equal(await p.exited, 0);
  assert.equal(p.stdout(), "");
  assert.equal(readSet(ws.file)!.generation, 1);
  assert.match(p.stderr(), /malformed line skipped line=\d+ reason=/);
  assert.match(p.stderr(), /exiting.*EOF on stdin.*malformed=4/);
});

test("plugin process: --check-config names file, line and key; --help and --version on stdout; a bad argument exits 2", () => {
  const ws = workspace("  debounce: soon\n");
  try {
    const bad = spawnSync(process.execPath, [PARSER, "--check-config", "--config", ws.config], { encoding: "utf8" });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /lsprobe\.yaml:\d+:\d+: plugin\.debounce: expected a duration/);
    assert.equal(bad.stdout, "");
    const help = spawnSync(process.execPath, [PARSER, "--help"], { encoding: "utf8" });
    assert.equal(help.status, 0);
    assert.equal(help.stderr, "");
    assert.match(help.stdout, /^Usage: lsprobe-plugin /);
    assert.match(help.stdout, /--check-config/);
    assert.match(help.stdout, /max-per-pair/);
    const version = spawnSync(process.execPath, [PARSER, "--version"], { encoding: "utf8" });
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^lsprobe-plugin \d+\.\d+\.\d+ \(revision \S+, built \S+, node v\d+/);
    const wrong = spawnSync(process.execPath, [PARSER, "--frobnicate"], { encoding: "utf8" });
    assert.equal(wrong.status, 2);
    assert.equal(wrong.stdout, "");
    assert.equal(wrong.stderr, "lsprobe-plugin: unknown option --frobnicate (see --help)\n");
    writeFileSync(ws.config, `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  output:\n    file: ${ws.file}\n`);
    const good = spawnSync(process.execPath, [PARSER, "--check-config", "--config", ws.config], { encoding: "utf8" });
    assert.equal(good.status, 0, good.stderr);
  } finally {
    ws.cleanup();
  }
});

test("plugin process: a full disk loses no generation: the socket gets it at once, the file once space returns; the error names the file", { skip: process.getuid?.() !== 0 ? "needs root to mount a small tmpfs" : false }, async (t) => {
  const ws = workspace("  route-refresh: false\n");
  // The outputs on a 256 KiB tmpfs of their own; the config and snapshot stay outside it.
  const disk = path.join(ws.dir, "disk");
  const file = path.join(disk, "paths.json");
  spawnSync("mkdir", [disk]);
  assert.equal(spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", disk]).status, 0);
  writeFileSync(ws.config, readFileSync(ws.config, "utf8").replace(`file: ${ws.file}`, `file: ${file}`));
  const p = startPlugin(ws.config);
  t.after(() => {
    p.proc.kill("SIGKILL");
    spawnSync("umount", [disk]);
    ws.cleanup();
  });
  const received: number[] = [];
  await until("socket", () => existsSync(ws.socket));
  const client = net.connect(ws.socket);
  let buf = "";
  client.on("data", (d) => {
    buf += d.toString();
    for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) received.push(JSON.parse(buf.slice(0, i)).generation);
  });
  t.after(() => client.destroy());
  // Fill the disk.
  const filler = path.join(disk, "filler");
  spawnSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k", "count=1000"], { stdio: "ignore" });
  const lines = nanogLines();
  p.proc.stdin.write(lines.fullTable().join("\n") + "\n");
  await until("generation 1 on the socket", () => received.includes(1));
  await until("the error", () => /ERROR .*file: cannot write .*paths\.json: no space left \(ENOSPC\); fix: free space/.test(p.stderr()));
  assert.ok(p.stderr().includes(file), "the error names the file");
  assert.equal(readSet(file), undefined);
  p.proc.stdin.write([lines.withdrawLink(lines.link("r2", "r4")), lines.withdrawLink(lines.link("r4", "r2"))].join("\n") + "\n");
  await until("generation 2 on the socket", () => received.includes(2));
  // Space again: the newest generation lands in the file (the retry, at most seconds apart here).
  spawnSync("rm", [filler]);
  const set = await until("the file", () => readSet(file), 30_000);
  assert.equal(set.generation, 2);
  assert.equal(p.proc.exitCode, null);
  assert.match(p.stderr(), /file: written again/);
});

test("plugin process: an invalid config at start keeps stdin drained and the LSDB kept; saving a good one publishes without a restart", async (t) => {
  const ws = workspace("  debounce: soon\n");
  const p = startPlugin(ws.config);
  t.after(() => {
    p.proc.kill("SIGKILL");
    ws.cleanup();
  });
  await until("the config error", () => /configuration .* not valid \(start\); no path set is computed until it is valid/.test(p.stderr()));
  const lines = nanogLines();
  p.proc.stdin.write(lines.fullTable().join("\n") + "\n");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(readSet(ws.file), undefined);
  // Fix it: the file watch reads it again (no signal needed).
  writeFileSync(ws.config, readFileSync(ws.config, "utf8").replace("  debounce: soon\n", ""));
  const set = await until("the path set from the kept LSDB", () => readSet(ws.file), 15_000);
  assert.equal(set.paths.filter((x) => x.src === "r1").length, 4);
  assert.match(p.stderr(), /INFO .*started reason="the file changed"/);
  assert.equal(p.proc.exitCode, null);
  p.proc.stdin.end();
  assert.equal(await p.exited, 0);
});

test("plugin process: a 520 MiB line without a newline is skipped as it arrives (no crash), the next line is read", async (t) => {
  const ws = workspace("  route-refresh: false\n");
  const p = startPlugin(ws.config);
  t.after(() => {
    p.proc.kill("SIGKILL");
    ws.cleanup();
  });
  const chunk = Buffer.alloc(1 << 20, 0x61); // "aaaa..."
  chunk[0] = 0x7b; // starts like JSON
  const write = (b: Buffer | string): Promise<void> => new Promise((resolve, reject) => p.proc.stdin.write(b, (e) => (e ? reject(e) : resolve())));
  for (let i = 0; i < 520; i++) await write(chunk);
  await write("\n" + nanogLines().fullTable().join("\n") + "\n");
  const set = await until("the path set after the long line", () => readSet(ws.file), 30_000);
  assert.equal(set.paths.filter((x) => x.src === "r1").length, 4);
  assert.match(p.stderr(), /malformed line skipped line=1 reason="line of 545259520 bytes exceeds 1048576" category=too_long/);
  assert.equal(p.proc.exitCode, null);
  p.proc.stdin.end();
  assert.equal(await p.exited, 0);
});

test("plugin process: plugin.listen serves /metrics (promtool-clean, gzip on request) and /healthz; a bad line and an unknown endpoint show there", { skip: SKIP_NO_PROMTOOL }, async (t) => {
  const ws = workspace("  route-refresh: false\n  listen: 127.0.0.1:0\n");
  writeFileSync(ws.config, readFileSync(ws.config, "utf8").replace("pairs: [[r1, r6]]", "pairs: [[r1, r6], [r1, r9]]"));
  const p = startPlugin(ws.config);
  t.after(() => {
    p.proc.kill("SIGKILL");
    ws.cleanup();
  });
  const port = await until("HTTP", () => /HTTP listening listen=127\.0\.0\.1:(\d+)/.exec(p.stderr())?.[1]);
  const base = `http://127.0.0.1:${port}`;
  const lines = nanogLines();
  p.proc.stdin.write([...lines.fullTable(), '{ "exabgp": "4.0.1", "type": "update", broken'].join("\n") + "\n");
  await until("path set", () => readSet(ws.file));
  let m = "";
  for (const end = Date.now() + 10_000; !/lsprobe_plugin_malformed_lines_total\{reason="invalid_json"\} 1/.test(m); ) {
    assert.ok(Date.now() < end, `timed out waiting for the metrics after the feed:\n${m}`);
    m = await (await fetch(`${base}/metrics`)).text();
  }
  assert.match(m, /^lsprobe_plugin_lsdb_objects\{kind="node"\} 6$/m);
  assert.match(m, /^lsprobe_plugin_endpoint_resolved\{endpoint="r9"\} 0$/m);
  assert.match(m, /^lsprobe_plugin_pairs_unresolved 2$/m);
  assert.match(m, /^lsprobe_plugin_output_ok\{output="file"\} 1$/m);
  assert.match(m, /^lsprobe_build_info\{version="[^"]+",revision="[^"]+",nodejs="v\d+[^"]*"\} 1$/m);
  const lint = checkMetrics(m);
  assert.equal(lint.status, 0, lint.output);
  assert.equal(lint.output, "");
  assert.match(p.stderr(), /WARN .*endpoint r9 unresolved/);
  const gz = await fetch(`${base}/metrics`, { headers: { "accept-encoding": "gzip" } });
  assert.equal(gz.headers.get("content-encoding"), "gzip");
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  assert.equal((await fetch(`${base}/metrics`, { method: "POST" })).status, 405);
});

test("plugin process: after a kill -9 between the path file and the snapshot, the restart never republishes the older topology under a higher generation", async (t) => {
  const ws = workspace("  route-refresh: false\n");
  const plugins: Plugin[] = [];
  t.after(() => {
    for (const p of plugins) p.proc.kill("SIGKILL");
    ws.cleanup();
  });
  const lines = nanogLines();
  const p = startPlugin(ws.config);
  plugins.push(p);
  p.proc.stdin.write(lines.fullTable().join("\n") + "\n");
  await until("generation 1", () => readSet(ws.file)?.generation === 1);
  await until("its snapshot", () => existsSync(ws.state) && JSON.parse(readFileSync(ws.state, "utf8")).generation === 1);
  const older = readFileSync(ws.state, "utf8"); // the LSDB with r2-r4
  p.proc.stdin.write([lines.withdrawLink(lines.link("r2", "r4")), lines.withdrawLink(lines.link("r4", "r2"))].join("\n") + "\n");
  await until("generation 2", () => readSet(ws.file)?.generation === 2);
  p.proc.kill("SIGKILL");
  await p.exited;
  // The file has generation 2 (r2-r4 gone); the snapshot is the one before it, as when the kill
  // lands between the two writes.
  writeFileSync(ws.state, older);
  const q = startPlugin(ws.config);
  plugins.push(q);
  await until("the refusal", () => /snapshot older than the published path set; not used/.test(q.stderr()));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(readSet(ws.file)!.generation, 2, "nothing republished from the older snapshot");
  // The peers resend (r2-r4 still withdrawn): a new generation, forward in content.
  q.proc.stdin.write([...lines.fullTable(), lines.withdrawLink(lines.link("r2", "r4")), lines.withdrawLink(lines.link("r4", "r2"))].join("\n") + "\n");
  await until("a set from the peers", () => readSet(ws.file)?.topology.stale === false && readSet(ws.file)!.generation >= 2);
  const set = readSet(ws.file)!;
  assert.ok(!set.paths.some((x) => x.hops.map((h) => h.name).join("-").includes("r2-r4")), "no path over r2-r4 ever comes back");
  q.proc.stdin.end();
  assert.equal(await q.exited, 0);
});

test("plugin process: outputs under /proc (mkdir -p never returns there in node) start, log the fix, and keep reading stdin", async (t) => {
  const ws = workspace();
  writeFileSync(ws.config, `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\n  output:\n    file: /proc/lsprobe-test/paths.json\n    socket: /proc/lsprobe-test/paths.sock\n  state-file: /proc/lsprobe-test/lsdb.json\n`);
  const p = startPlugin(ws.config);
  t.after(() => {
    p.proc.kill("SIGKILL");
    ws.cleanup();
  });
  await until("start", () => /INFO .*started/.test(p.stderr()));
  assert.match(p.stderr(), /ERROR .*socket: cannot listen on \/proc\/lsprobe-test\/paths\.sock: a directory on the way does not exist and cannot be created here \(ENOENT/);
  p.proc.stdin.write(nanogLines().fullTable().join("\n") + "\n");
  await until("the file error", () => /ERROR .*file: cannot write \/proc\/lsprobe-test\/paths\.json/.test(p.stderr()));
  assert.equal(p.stdout(), "announce route-refresh bgp-ls bgp-ls\n");
  p.proc.stdin.end();
  assert.equal(await p.exited, 0);
});

test("plugin process: plugin.paths.target router writes the current version with every layer to a TE router id; a reload to interface moves them back", async (t) => {
  const ws = workspace("  paths:\n    target: router\n");
  const p = startPlugin(ws.config);
  t.after(() => {
    p.proc.kill("SIGKILL");
    ws.cleanup();
  });
  p.proc.stdin.write(nanogLines().fullTable().join("\n") + "\n");
  const set = await until("path-set file", () => readSet(ws.file));
  assert.equal(set.version, PATHSET_VERSION);
  const out = set.paths.filter((x) => x.src === "r1");
  assert.equal(out.length, 4);
  for (const x of out) for (const g of [...x.gre, ...x.greReverse]) assert.deepEqual([g.target, g.source, g.address.startsWith("198.19.")], ["router", "te-router-id", true], JSON.stringify(g));
  // The same file with target interface, and SIGHUP: a new generation, interface addresses again.
  writeFileSync(ws.config, readFileSync(ws.config, "utf8").replace("    target: router\n", "    target: interface\n"));
  p.proc.kill("SIGHUP");
  const again = await until("generation 2", () => {
    const s = readSet(ws.file);
    return s && s.generation === 2 ? s : undefined;
  });
  for (const x of again.paths) for (const g of x.gre) assert.equal(g.target, "interface");
  assert.deepEqual(again.paths.map((x) => x.id).sort(), set.paths.map((x) => x.id).sort(), "no parallel links in NANOG 6: the same paths, addressed otherwise");
});
