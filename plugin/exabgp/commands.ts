// The plugin's stdout is ExaBGP's command channel: ExaBGP executes every line written there
// (FORMAT.md §9), so a stray line can tear sessions down or stop ExaBGP. This module is the
// only writer, and it only lets through the commands the plugin means to send.
import { isIP } from "node:net";

/** Ask for the BGP-LS table again (needs `capability { route-refresh; }`); for one peer, or all. */
export function routeRefreshCommand(peer?: string): string {
  if (peer !== undefined && isIP(peer) === 0) throw new TypeError(`route refresh: ${JSON.stringify(peer)} is not a peer address`);
  return `${peer === undefined ? "" : `neighbor ${peer} `}announce route-refresh bgp-ls bgp-ls`;
}

/** The commands this plugin may send: nothing else ever reaches stdout. */
export function isPluginCommand(line: string): boolean {
  const m = /^(?:neighbor (\S+) )?announce route-refresh bgp-ls bgp-ls$/.exec(line);
  return m !== null && (m[1] === undefined || isIP(m[1]) !== 0);
}

/** One command per line to a stream (ExaBGP's pipe); silent once the pipe is gone (EPIPE). */
export class CommandChannel {
  private open = true;

  constructor(private readonly out: NodeJS.WritableStream) {
    out.on("error", () => (this.open = false));
  }

  send(line: string): void {
    if (!isPluginCommand(line)) throw new Error(`refusing to write ${JSON.stringify(line)} to ExaBGP's command channel`);
    if (this.open) this.out.write(`${line}\n`);
  }
}
