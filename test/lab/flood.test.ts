// Issue 11, item 3, for real: the NANOG 6 lab (as prober-lab.test.ts: the prober in h1 behind r1,
// four r1->r6 paths out and back, an HMAC key), and a flooder in r1's namespace sending forged
// "LSPR" payloads (random nonces, a wrong MAC) to h1's probe port at up to 100,000/s for 8 s
// (bounded in count and time; it exits by itself). Before the fix every path went down and the
// prober slowed to 100 probes/s. Now: no path goes down, probing is not slowed, the flood is
// logged when it starts and ends, and /metrics tells the drops the flood caused from the
// prober's own. Asserts behaviour only; the drop counts are printed (t.diagnostic).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Lab, nanogLab } from "./netns.js";
import { labPathSet } from "./pathset.js";

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../prober/main.js");
const skip = process.getuid?.() !== 0 ? "needs root (network namespaces, raw sockets)" : false;
const PORT = 9470;
const FLOOD_PPS = 100_000;
const FLOOD_S = 8;

/**
 * The flooder: forged LSPR payloads (44 bytes: magic, version 1, flag M, a random path index,
 * sequence and nonce, a wrong MAC) to dst:port, paced at `pps`, at most pps x seconds of them
 * and never past seconds + 2 s. Prints {"sent":N} at the end.
 */
const FLOODER = `
const dgram = require("node:dgram");
const [dst, port, pps, seconds] = [process.argv[1], +process.argv[2], +process.argv[3], +process.argv[4]];
const max = pps * seconds;
const s = dgram.createSocket("udp4");
const b = Buffer.alloc(44);
b.write("LSPR"); b[4] = 1; b[5] = 1;
setTimeout(() => process.exit(3), (seconds + 2) * 1000).unref();
s.connect(port, dst, () => {
  let sent = 0;
  const t0 = performance.now();
  const step = () => {
    const el = performance.now() - t0;
    if (sent >= max || el >= seconds * 1000) return s.close(() => console.log(JSON.stringify({ sent, seconds: el / 1000 })));
    for (let n = Math.min(Math.floor((el / 1000) * pps) - sent, 2000, max - sent); n > 0; n--, sent++) {
      b.writeUInt32BE(sent % 7, 8); b.writeUInt32BE(sent, 12); b.writeUInt32BE((sent * 2654435761) >>> 0, 24); b.writeUInt32BE(sent, 28);
      s.send(b);
    }
    setImmediate(step);
  };
  step();
});`;

test("prober in the lab: a 100,000/s flood of forged replies marks no path down, does not slow probing, and is reported", { skip, timeout: 120_000 }, async (t) => {
  const topo = nanogLab();
  const lab = await Lab.create(topo);
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-flood-lab-"));
  t.after(async () => {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  chmodSync(dir, 0o755);
  const file = path.join(dir, "paths.json");
  writeFileSync(file, JSON.stringify(await labPathSet(topo)));
  const keyFile = path.join(dir, "hmac.key");
  writeFileSync(keyFile, Buffer.alloc(32, 9), { mode: 0o640 });
  const h1 = topo.hosts.find((h) => h.name === "h1")!;
  const config = path.join(dir, "lsprobe.yaml");
  writeFileSync(
    config,
    `plugin:\n  endpoints:\n    pairs: [[r1, r6]]\nprober:\n  source: ${h1.address}\n  port: ${PORT}\n  router: r1\n  hmac-key-file: ${keyFile}\n  paths:\n    socket: null\n    file: ${file}\n  rate: 20\n  timeout: 200ms\n  down-after: 3\n  up-after: 3\n  loss-window: 3s\n  listen: 127.0.0.1:9469\nlog:\n  level: info\n`,
  );
  let stderr = "";
  const prober = lab.spawnIn("h1", [process.execPath, MAIN, "--config", config]);
  prober.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => prober.on("exit", (c) => r(c)));
  const get = async (what: string): Promise<string> => {
    const r = await lab.exec("h1", [process.execPath, "-e", `fetch('http://127.0.0.1:9469/${what}').then(r=>r.text()).then(t=>process.stdout.write(t))`]);
    assert.equal(r.code, 0, r.stderr + stderr);
    return r.stdout;
  };
  type Doc = { schedule: { limit: number | null; replyFlood?: boolean }; paths: Array<{ hops: string; state: string; lost: number; unknown?: number }> };
  const until = async (what: string, ok: (d: Doc) => boolean, ms: number): Promise<Doc> => {
    const end = Date.now() + ms;
    for (;;) {
      const d = await get("paths").then((s) => JSON.parse(s) as Doc, () => undefined);
      if (d && ok(d)) return d;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(d)}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const drops = (m: string, cause: string): number => Number(new RegExp(`^lsprobe_reply_drops_total\\{cause="${cause}"\\} (\\S+)$`, "m").exec(m)?.[1] ?? NaN);

  await until("four paths up", (d) => d.paths.length === 4 && d.paths.every((p) => p.state === "up"), 15_000);
  const logAtFlood = stderr.length;
  const flooder = await lab.exec("r1", [process.execPath, "-e", FLOODER, h1.address, String(PORT), String(FLOOD_PPS), String(FLOOD_S)], { timeoutMs: (FLOOD_S + 5) * 1000 });
  assert.equal(flooder.code, 0, flooder.stderr);
  const { sent, seconds } = JSON.parse(flooder.stdout) as { sent: number; seconds: number };
  const during = stderr.slice(logAtFlood);
  const metricsAfter = await get("metrics");
  t.diagnostic(`flooder sent ${sent} forged datagrams in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s); reply socket drops: self ${drops(metricsAfter, "self")}, flood ${drops(metricsAfter, "flood")}`);

  // Today's code: "path down" for all four and "probing slowed" within seconds of the start.
  assert.doesNotMatch(during, /path down/, "no path went down during the flood");
  assert.doesNotMatch(during, /probing slowed/, "probing was not slowed");
  assert.match(during, /reply flood: .*rejectedPps=\d+/, "the flood's start is logged with its rate");
  assert.equal(drops(metricsAfter, "self"), 0, "no drop counted as the prober's own");
  assert.match(metricsAfter, /^lsprobe_probes_rejected_total\{reason="other_run"\} [1-9]\d{4,}$/m, "the forged datagrams were rejected (by nonce, before any MAC)");

  const after = await until("the flood over, four paths up", (d) => d.schedule.replyFlood === false && d.paths.every((p) => p.state === "up"), 15_000);
  assert.equal(after.schedule.limit, null, "no limit of its own");
  assert.match(stderr.slice(logAtFlood), /reply flood ended/);
  assert.doesNotMatch(stderr, /path down/);
  t.diagnostic(`after: ${after.paths.map((p) => `${p.hops} lost ${p.lost} unknown ${p.unknown}`).join(", ")}`);

  prober.kill("SIGTERM");
  assert.equal(await exited, 0);
});
