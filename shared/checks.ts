// What --check-config checks beyond the file's syntax: what would make the program fail, or
// do harm, once it starts as the user that will run it. Each problem names the key and the fix.
//   plugin: the directories of output.file, output.socket and state-file can be created and
//           written by that user (ExaBGP's: `--as-user exabgp`);
//   prober: each source (IPv4, IPv6, or both) is assigned to a local interface and is not a loopback address (probes
//           would leave with a martian source), the HMAC key file exists, is readable and not
//           readable by everyone, prober.user exists.
import { statSync } from "node:fs";
import { isIPv4 } from "node:net";
import type { NetworkInterfaceInfo } from "node:os";
import path from "node:path";
import { dirWriteProblem, fileReadProblem } from "./access.js";
import { canonicalIpv6, type LsprobeConfig, type ProberConfig } from "./config.js";
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
/** An address as compared: IPv6 in canonical form (os.networkInterfaces() prints it so), IPv4 as is. */
const canonical = (a: string): string => (isIPv4(a) ? a : (canonicalIpv6(a) ?? a));

export function assignedOn(address: string, interfaces: Interfaces): string | undefined {
  const want = canonical(address);
  for (const [name, addrs] of Object.entries(interfaces)) if (addrs?.some((a) => canonical(a.address) === want)) return name;
  return undefined;
}

/** Why `source` (IPv4 or IPv6) cannot be the prober's source on this host; undefined: it can. */
export function sourceProblem(source: string, interfaces: Interfaces): string | undefined {
  const v4 = isIPv4(source);
  if ((v4 && source.startsWith("127.")) || (!v4 && canonical(source) === "::1")) {
    return `${source} is a loopback address: probes would leave with a martian source and every router drops them; fix: use an address of the interface that faces the first router`;
  }
  if (assignedOn(source, interfaces) === undefined) {
    const family = v4 ? "IPv4" : "IPv6";
    const mine = Object.values(interfaces)
      .flatMap((a) => a ?? [])
      .filter((a) => !a.internal && a.family === family && !(a.family === "IPv6" && /^fe[89ab]/i.test(a.address)))
      .map((a) => a.address);
    const none = v4 ? "it has no IPv4 address but loopback" : "it has no global IPv6 address";
    return `${source} is not assigned to any interface of this host (${mine.length ? `its ${family} addresses: ${mine.join(", ")}` : none}); fix: set prober.source to one of them, or assign it (ip address add ${source}/${v4 ? 32 : 128} dev IFACE)`;
  }
  return undefined;
}

export function proberProblems(p: ProberConfig, who: Identity, db: UserDb, interfaces: Interfaces): CheckProblem[] {
  const out: CheckProblem[] = [];
  // Each family's source (dual stack: both), as written.
  for (const source of [p.sources.ipv4, p.sources.ipv6]) {
    if (source === null) continue;
    const src = sourceProblem(source, interfaces);
    if (src) out.push({ key: "prober.source", message: src });
  }
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
