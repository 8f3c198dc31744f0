// What --check-config checks beyond the file's syntax: what would make the program fail, or
// do harm, once it starts as the user that will run it. Each problem names the key and the fix.
//   plugin: the directories of output.file, output.socket and state-file can be created and
//           written by that user (ExaBGP's: `--as-user exabgp`);
//   prober: the source is assigned to a local interface and is not a loopback address (probes
//           would leave with a martian source), the HMAC key file exists, is readable and not
//           readable by everyone, prober.user exists.
import { statSync } from "node:fs";
import { isIPv4 } from "node:net";
import type { NetworkInterfaceInfo } from "node:os";
import path from "node:path";
import { dirWriteProblem, fileReadProblem } from "./access.js";
import type { LsprobeConfig, ProberConfig } from "./config.js";
import { identityOf, type Identity, type UserDb } from "./users.js";

export interface CheckProblem {
  /** The config key the problem is about, e.g. "plugin.output.file". */
  key: string;
  message: string;
}

export function pluginProblems(config: LsprobeConfig, who: Identity, db: UserDb): CheckProblem[] {
  const pc = config.plugin;
  const out: CheckProblem[] = [];
  const dirOf = (key: string, file: string | null): void => {
    if (file === null) return;
    const p = dirWriteProblem(path.dirname(file), who, db);
    if (p) out.push({ key, message: p });
  };
  dirOf("plugin.output.file", pc.output.file);
  dirOf("plugin.output.socket", pc.output.socket);
  dirOf("plugin.state-file", pc.stateFile);
  return out;
}

export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** Is `address` on one of `interfaces` (os.networkInterfaces() of the namespace the prober runs in)? */
export function assignedOn(address: string, interfaces: Interfaces): string | undefined {
  for (const [name, addrs] of Object.entries(interfaces)) if (addrs?.some((a) => a.address === address)) return name;
  return undefined;
}

export function sourceProblem(source: string, interfaces: Interfaces): string | undefined {
  if (isIPv4(source) && source.startsWith("127.")) {
    return `${source} is a loopback address: probes would leave with a martian source and every router drops them; fix: use an address of the interface that faces the first router`;
  }
  if (assignedOn(source, interfaces) === undefined) {
    const mine = Object.values(interfaces).flatMap((a) => a ?? []).filter((a) => !a.internal && a.family === "IPv4").map((a) => a.address);
    return `${source} is not assigned to any interface of this host (${mine.length ? `its IPv4 addresses: ${mine.join(", ")}` : "it has no IPv4 address but loopback"}); fix: set prober.source to one of them, or assign it (ip address add ${source}/32 dev IFACE)`;
  }
  return undefined;
}

export function proberProblems(p: ProberConfig, who: Identity, db: UserDb, interfaces: Interfaces): CheckProblem[] {
  const out: CheckProblem[] = [];
  const src = sourceProblem(p.source, interfaces);
  if (src) out.push({ key: "prober.source", message: src });
  if (p.user !== null && identityOf(db, p.user) === undefined) {
    out.push({ key: "prober.user", message: `no user ${JSON.stringify(p.user)} in /etc/passwd; fix: create it (the lsprobe package creates the system user lsprobe) or change prober.user` });
  }
  if (p.hmacKeyFile !== null) {
    const file = p.hmacKeyFile;
    const unreadable = fileReadProblem(file, who);
    if (unreadable) {
      out.push({ key: "prober.hmac-key-file", message: `${unreadable}; fix: head -c 32 /dev/urandom > ${file} && chown root:lsprobe ${file} && chmod 0640 ${file}` });
    } else {
      const st = statSync(file);
      if (st.mode & 0o007) {
        out.push({ key: "prober.hmac-key-file", message: `${file} has mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}: anyone on this host can read the key and forge probes; fix: chmod 0640 ${file}` });
      }
      if (st.size < 16) out.push({ key: "prober.hmac-key-file", message: `${file} holds ${st.size} bytes; fix: use at least 16, e.g. head -c 32 /dev/urandom > ${file}` });
    }
  }
  return out;
}
