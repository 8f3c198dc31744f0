// A throwaway PKI for the TLS tests, made with openssl in a temporary directory: a CA, a server
// certificate for 127.0.0.1 (and ::1, localhost), a client certificate signed by the CA, and a
// second CA with a client of its own (a certificate the server must not accept).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const OPENSSL: string | undefined = (() => {
  const r = spawnSync("sh", ["-c", "command -v openssl"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
})();
export const SKIP_NO_OPENSSL: string | false = OPENSSL ? false : "openssl is not installed (Debian: apt-get install openssl)";

function openssl(cwd: string, ...args: string[]): void {
  const r = spawnSync(OPENSSL ?? "openssl", args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
}

export interface TestPki {
  dir: string;
  /** File paths. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherCaCert: string;
  otherClientCert: string;
  otherClientKey: string;
  /** Another server certificate and key for 127.0.0.1 (a rotation). */
  server2Cert: string;
  server2Key: string;
  read(file: string): Buffer;
  cleanup(): void;
}

/** Make the PKI (EC P-256 keys: quick). `serverIps`: more addresses the server certificates name (a lab host's). */
export function makePki(o: { serverIps?: string[] } = {}): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), "lsprobe-tls-"));
  const key = (name: string): void => openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`);
  const ca = (name: string, cn: string): void => {
    key(name);
    openssl(dir, "req", "-x509", "-new", "-key", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${cn}`, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  };
  const leaf = (name: string, caName: string, cn: string): void => {
    key(name);
    openssl(dir, "req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
    openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", `${caName}.pem`, "-CAkey", `${caName}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
  };
  const ext = (name: string, text: string): void => {
    spawnSync("sh", ["-c", `cat > ${name}.ext`], { cwd: dir, input: text });
  };
  ca("ca", "lsprobe test CA");
  ca("other-ca", "another CA");
  const san = ["IP:127.0.0.1", "IP:::1", ...(o.serverIps ?? []).map((ip) => `IP:${ip}`), "DNS:localhost"].join(",");
  ext("server", `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  ext("server2", `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  ext("client", "extendedKeyUsage=clientAuth\n");
  ext("other-client", "extendedKeyUsage=clientAuth\n");
  leaf("server", "ca", "lsprobe-plugin");
  leaf("server2", "ca", "lsprobe-plugin rotated");
  leaf("client", "ca", "prober-1");
  leaf("other-client", "other-ca", "intruder");
  const f = (n: string): string => path.join(dir, n);
  return {
    dir,
    caCert: f("ca.pem"),
    serverCert: f("server.pem"),
    serverKey: f("server.key"),
    clientCert: f("client.pem"),
    clientKey: f("client.key"),
    otherCaCert: f("other-ca.pem"),
    otherClientCert: f("other-client.pem"),
    otherClientKey: f("other-client.key"),
    server2Cert: f("server2.pem"),
    server2Key: f("server2.key"),
    read: (file) => readFileSync(file),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
