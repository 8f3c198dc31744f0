import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { CommandChannel, isPluginCommand, routeRefreshCommand } from "../../plugin/exabgp/commands.js";

test("commands: route refresh, for all peers or one", () => {
  assert.equal(routeRefreshCommand(), "announce route-refresh bgp-ls bgp-ls");
  assert.equal(routeRefreshCommand("127.0.0.6"), "neighbor 127.0.0.6 announce route-refresh bgp-ls bgp-ls");
  assert.throws(() => routeRefreshCommand("r1; shutdown"), /not a peer address/);
});

test("commands: the channel writes the plugin's commands and refuses anything else", () => {
  const out = new PassThrough();
  let written = "";
  out.on("data", (d: Buffer) => (written += d.toString()));
  const ch = new CommandChannel(out);
  ch.send(routeRefreshCommand());
  for (const bad of ["shutdown", '{"json": "stray"}', "announce route-refresh bgp-ls bgp-ls\nshutdown", "neighbor x announce route-refresh bgp-ls bgp-ls"]) {
    assert.equal(isPluginCommand(bad), false, bad);
    assert.throws(() => ch.send(bad), /refusing/);
  }
  assert.equal(written, "announce route-refresh bgp-ls bgp-ls\n");
});
