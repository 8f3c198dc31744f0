// TCP from inside a lab namespace to listeners on this process's loopback, with nothing of the
// root namespace on a lab address: a forwarder started in the namespace listens on the
// namespace's own 127.x addresses and hands each connection over a Unix socket (a file in `dir`:
// filesystem Unix sockets belong to no network namespace) to this process, which connects it to
// the target port on its own 127.0.0.1. The lab's BGP-LS speakers stay in this process (the tests
// drive them directly) while ExaBGP runs in a host namespace (fleet.ts).
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import type { ChildProcess } from "node:child_process";
import type { Lab } from "./netns.js";

export interface NsBridge {
  /** The ports listened on inside the namespace, in the order of the routes given. */
  ports: number[];
  close(): Promise<void>;
}

/** Pipes two sockets into each other; either one failing or closing ends both. */
function splice(a: net.Socket, b: net.Socket): void {
  a.pipe(b);
  b.pipe(a);
  a.on("error", () => b.destroy());
  b.on("error", () => a.destroy());
  a.on("close", () => b.destroy());
  b.on("close", () => a.destroy());
}

// The forwarder: argv pairs (listen address, Unix socket path); prints the bound ports as one JSON
// line once all listen; exits when its stdin closes (this process is gone).
const FORWARDER = [
  "const net=require('net');const a=process.argv.slice(1);const ports=[];let n=0;",
  "const splice=(x,y)=>{x.pipe(y);y.pipe(x);for(const[p,q]of[[x,y],[y,x]]){p.on('error',()=>q.destroy());p.on('close',()=>q.destroy());}};",
  "for(let i=0;i<a.length;i+=2){const s=net.createServer(c=>splice(c,net.connect(a[i+1])));",
  "s.listen(0,a[i],()=>{ports[i/2]=s.address().port;if(++n===a.length/2)console.log(JSON.stringify(ports));});}",
  "process.stdin.resume();process.stdin.on('end',()=>process.exit(0));",
].join("");

/**
 * Makes each `routes[i].address` (a 127.x address) of `node`'s namespace reach 127.0.0.1:`target`
 * of this process. Resolves once every forwarder port listens.
 */
export async function bridgeIntoNamespace(lab: Lab, node: string, dir: string, routes: Array<{ address: string; target: number }>): Promise<NsBridge> {
  for (const r of routes) if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(r.address)) throw new RangeError(`bridge into ${node}: ${r.address} is not a loopback address`);
  const servers: net.Server[] = [];
  const open = new Set<net.Socket>();
  for (const [i, r] of routes.entries()) {
    const sock = path.join(dir, `bridge-${node}-${i}.sock`);
    const server = net.createServer((c) => {
      open.add(c);
      c.on("close", () => open.delete(c));
      splice(c, net.connect(r.target, "127.0.0.1"));
    });
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(sock, () => resolve()));
    servers.push(server);
  }
  const argv = routes.flatMap((r, i) => [r.address, path.join(dir, `bridge-${node}-${i}.sock`)]);
  const fwd: ChildProcess = lab.spawnIn(node, [process.execPath, "-e", FORWARDER, ...argv], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  fwd.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const close = async (): Promise<void> => {
    fwd.stdin!.end();
    fwd.kill("SIGTERM");
    for (const c of open) c.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  };
  try {
    const ports = await new Promise<number[]>((resolve, reject) => {
      createInterface({ input: fwd.stdout! }).once("line", (l) => resolve(JSON.parse(l) as number[]));
      fwd.once("exit", (code) => reject(new Error(`bridge into ${node}: the forwarder exited (${code}): ${stderr.trim()}`)));
    });
    return { ports, close };
  } catch (e) {
    await close();
    throw e;
  }
}
