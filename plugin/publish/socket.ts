// Stream path sets as NDJSON over a Unix socket: the current document when a subscriber
// connects, then every new generation. Subscribers only read; anything they send is ignored.
// A subscriber that stops reading is dropped once its backlog passes maxBacklog bytes, so a
// stuck consumer can never grow the plugin's memory.
import net from "node:net";
import { chmodSync, existsSync, lstatSync, unlinkSync } from "node:fs";

export interface SocketPublisherOptions {
  path: string;
  mode: number;
  maxBacklog?: number;
  onError?: (err: Error, where: string) => void;
}

export class SocketPublisher {
  private server?: net.Server;
  private readonly clients = new Set<net.Socket>();
  private current?: string;
  /** Only a socket this publisher bound is removed on close: never another process's. */
  private bound = false;

  constructor(private readonly opts: SocketPublisherOptions) {}

  get subscribers(): number {
    return this.clients.size;
  }

  async listen(): Promise<void> {
    const { path } = this.opts;
    // A socket file left by a previous run (crash, SIGKILL) would make listen() fail with EADDRINUSE.
    if (existsSync(path) && lstatSync(path).isSocket()) {
      if (await isAlive(path)) throw Object.assign(new Error(`${path}: another process is already serving this socket`), { code: "EADDRINUSE" });
      unlinkSync(path);
    }
    const server = net.createServer((c) => this.accept(c));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.bound = true;
    server.on("error", (e) => this.opts.onError?.(e, "socket server"));
    chmodSync(path, this.opts.mode);
  }

  /** Send a document (one line, no trailing newline) to every subscriber, and to later ones. */
  publish(doc: string): void {
    this.current = doc;
    for (const c of this.clients) this.send(c, doc);
  }

  private accept(c: net.Socket): void {
    this.clients.add(c);
    c.on("error", () => c.destroy());
    c.on("close", () => this.clients.delete(c));
    c.on("data", () => {}); // ignore input
    if (this.current !== undefined) this.send(c, this.current);
  }

  private send(c: net.Socket, doc: string): void {
    if (c.writableLength > (this.opts.maxBacklog ?? 64 << 20)) {
      this.opts.onError?.(new Error("subscriber is not reading; dropped"), "socket subscriber");
      c.destroy();
      return;
    }
    c.write(doc + "\n");
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    this.clients.clear();
    const server = this.server;
    this.server = undefined;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (!this.bound) return;
    this.bound = false;
    try {
      unlinkSync(this.opts.path);
    } catch {
      /* already gone */
    }
  }
}

function isAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(path);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}
