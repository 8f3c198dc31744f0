// labctl: inject faults into a running lab (`sudo npm run demo -- --keep`) from a shell.
//
//   sudo node dist/test/lab/labctl.js gray r2 r4 0.05     # r2 -> r4 drops 5%, BGP-LS sees nothing
//   sudo node dist/test/lab/labctl.js link-down r2 r4     # withdrawn over BGP-LS, routes reconverge
//   sudo node dist/test/lab/labctl.js delay|congest|link-up|router-down|router-up|clear|status ...
import net from "node:net";

const SOCKET = process.env.LSPROBE_LAB_SOCKET ?? "/run/lsprobe-lab.sock";
const words = process.argv.slice(2);
if (words.length === 0 || words[0] === "--help") {
  process.stdout.write("Usage: labctl link-down|link-up A B | gray A B SHARE | delay A B MS | congest A B KBIT | uncongest A B | router-down|router-up R | clear | status\n");
  process.exit(words.length === 0 ? 2 : 0);
}
const c = net.connect(SOCKET);
c.on("error", (e) => {
  process.stderr.write(`labctl: no lab at ${SOCKET} (${e.message}); start one with: sudo npm run demo -- --keep\n`);
  process.exit(1);
});
c.on("connect", () => c.write(`${words.join(" ")}\n`));
let buf = "";
c.on("data", (d) => {
  buf += d.toString();
  const i = buf.indexOf("\n");
  if (i < 0) return;
  const line = buf.slice(0, i);
  process.stdout.write(`${line.replace(/^(ok|error) /, "")}\n`);
  c.destroy();
  process.exit(line.startsWith("ok") ? 0 : 1);
});
