// Where the prober gets its path sets: the plugin's Unix socket (NDJSON, one document per
// generation), with reconnection and exponential backoff; the path-set file at start, and
// again whenever the socket is unavailable (the plugin restarting or gone). The last good set
// stays in force whatever happens here; a document that fails validation is reported and
// ignored. Emits "pathset" only for a generation newer than the one in force.
import { EventEmitter } from "node:events";
import net from "node:net";
import { readFile } from "node:fs/promises";
import { parsePathSet, type PathSet } from "../shared/pathset.js";

export interface PathSourceOptions {
  socket: string | null;
  file: string | null;
  /** Backoff bounds in ms. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Largest accepted document, bytes. */
  maxLine?: number;
}

export interface PathSourceEvents {
  pathset: [set: PathSet, from: "socket" | "file"];
  invalid: [error: Error, from: "socket" | "file"];
  connected: [];
  disconnected: [reason: string];
}

export class PathSource extends EventEmitter<PathSourceEvents> {
  current?: PathSet;
  /** When the set in force was received (ms since epoch). */
  receivedAt = 0;
  connected = false;
  private sock?: net.Socket;
  private timer?: NodeJS.Timeout;
  private backoff: number;
  private closed = false;

  constructor(private readonly o: PathSourceOptions) {
    super();
    this.backoff = o.minBackoffMs ?? 200;
  }

  async start(): Promise<void> {
    await this.readFile();
    this.connect();
  }

  /** Offer a document; it wins if its generation is newer than the one in force. */
  offer(doc: unknown, from: "socket" | "file"): boolean {
    let set: PathSet;
    try {
      set = parsePathSet(doc, from === "file" ? (this.o.file ?? "file") : (this.o.socket ?? "socket"));
    } catch (e) {
      this.emit("invalid", e as Error, from);
      return false;
    }
    if (this.current && set.generation <= this.current.generation) return false;
    this.current = set;
    this.receivedAt = Date.now();
    this.emit("pathset", set, from);
    return true;
  }

  async readFile(): Promise<void> {
    if (!this.o.file) return;
    let text: string;
    try {
      text = await readFile(this.o.file, "utf8");
    } catch {
      return; // not there yet
    }
    try {
      this.offer(JSON.parse(text), "file");
    } catch (e) {
      this.emit("invalid", new Error(`${this.o.file}: ${(e as Error).message}`), "file");
    }
  }

  private connect(): void {
    if (this.closed || !this.o.socket) return;
    const sock = net.connect(this.o.socket);
    this.sock = sock;
    let buf = "";
    const max = this.o.maxLine ?? 256 << 20;
    sock.setEncoding("utf8");
    sock.on("connect", () => {
      this.connected = true;
      this.backoff = this.o.minBackoffMs ?? 200;
      this.emit("connected");
    });
    sock.on("data", (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.offer(JSON.parse(line), "socket");
        } catch (e) {
          this.emit("invalid", e as Error, "socket");
        }
      }
      if (buf.length > max) {
        this.emit("invalid", new Error(`document over ${max} bytes; dropped`), "socket");
        buf = "";
      }
    });
    sock.on("error", () => {}); // "close" follows
    sock.on("close", () => {
      const was = this.connected;
      this.connected = false;
      this.sock = undefined;
      if (this.closed) return;
      if (was) this.emit("disconnected", "socket closed");
      // The plugin may have written a newer file before going away.
      void this.readFile();
      this.timer = setTimeout(() => this.connect(), this.backoff);
      this.timer.unref();
      this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 10_000);
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.sock?.destroy();
  }
}
