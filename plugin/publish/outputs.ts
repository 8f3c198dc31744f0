// The plugin's outputs (path-set file, Unix socket, LSDB snapshot) as they must behave under
// ExaBGP: a failure never ends the process. It is logged once, as one line naming the path, the
// user and the fix; counted; and retried with backoff (1 s doubling to 30 s) until it works,
// when the newest document is written and the recovery logged. A document published while the
// output is failing replaces the pending one: nothing older than the newest is ever written.
import path from "node:path";
import { describeFsError } from "../../shared/access.js";
import type { Logger } from "../../shared/log.js";
import type { Identity, UserDb } from "../../shared/users.js";
import { makeDirs, removeStaleTemps, writeFileAtomic } from "./file.js";
import { SocketPublisher } from "./socket.js";

/** "http": the path-set service (plugin.serve, publish/http.ts). */
export type OutputName = "file" | "socket" | "state-file" | "http";

/** What /metrics and /healthz read of an output. */
export interface OutputHealth {
  output: OutputName;
  path: string;
  ok: boolean;
  errors: number;
  lastError?: string;
}

export interface OutputContext {
  log: () => Logger;
  who: Identity;
  users: UserDb;
  /** Retry delays in ms (tests shorten them). */
  minRetryMs?: number;
  maxRetryMs?: number;
}

/** Shared by both outputs: failure state, the once-per-failure log line, the retry timer. */
export abstract class RetryingOutput implements OutputHealth {
  ok = true;
  errors = 0;
  lastError?: string;
  private timer?: NodeJS.Timeout;
  private delay: number;
  protected closed = false;

  constructor(
    readonly output: OutputName,
    readonly path: string,
    protected readonly ctx: OutputContext,
  ) {
    this.delay = ctx.minRetryMs ?? 1000;
  }

  protected failed(e: unknown, action: string): void {
    const err = e as NodeJS.ErrnoException;
    this.report(err.code ? describeFsError(err, action, this.path, this.ctx.who, this.ctx.users) : `cannot ${action} ${this.path}: ${err.message}`);
  }

  /** A failure already described as one sentence with its fix: logged once, counted, retried. */
  protected report(message: string): void {
    this.errors++;
    // One line per failure, not per retry: a new line only when the reason changes.
    if (this.ok || message !== this.lastError) this.ctx.log().error(`${this.output}: ${message}; retrying until it works`, { output: this.output, path: this.path, user: this.ctx.who.name });
    this.ok = false;
    this.lastError = message;
    this.retryLater();
  }

  protected succeeded(what: string): void {
    if (!this.ok) this.ctx.log().info(`${this.output}: ${what} again`, { output: this.output, path: this.path, failures: this.errors });
    this.ok = true;
    this.lastError = undefined;
    this.delay = this.ctx.minRetryMs ?? 1000;
  }

  private retryLater(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.attempt();
    }, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, this.ctx.maxRetryMs ?? 30_000);
  }

  /** Try what is pending now (the retry timer and new documents call it). */
  protected abstract attempt(): Promise<void>;

  /** A failing output tries again now, with the backoff reset (SIGHUP: the operator fixed something). */
  retryNow(): Promise<void> {
    if (this.ok) return Promise.resolve();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.delay = this.ctx.minRetryMs ?? 1000;
    return this.attempt();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  health(): OutputHealth {
    return { output: this.output, path: this.path, ok: this.ok, errors: this.errors, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }
}

/** A file replaced atomically with each new document (path-set file, snapshot). */
export class FileOutput extends RetryingOutput {
  private pending?: string;
  private writing?: Promise<void>;
  private cleaned = false;

  /** Queue `text` as the file's next content; resolves when it (or a newer one) is written or failed once. */
  write(text: string): Promise<void> {
    this.pending = text;
    return this.attempt();
  }

  protected attempt(): Promise<void> {
    if (this.writing) return this.writing; // the running write picks `pending` up when it ends
    this.writing = this.drain().finally(() => (this.writing = undefined));
    return this.writing;
  }

  private async drain(): Promise<void> {
    while (this.pending !== undefined && !this.closed) {
      const text = this.pending;
      try {
        await makeDirs(path.dirname(this.path));
        if (!this.cleaned) {
          const stale = removeStaleTemps(this.path);
          this.cleaned = true;
          if (stale.length) this.ctx.log().info("removed temporary files a killed writer left", { output: this.output, files: stale.join(",") });
        }
        await writeFileAtomic(this.path, text);
      } catch (e) {
        this.failed(e, "write");
        return;
      }
      if (this.pending === text) this.pending = undefined;
      this.succeeded("written");
    }
  }
}

/** The Unix socket: listening is retried (directory missing, path in use, permissions). */
export class SocketOutput extends RetryingOutput {
  readonly publisher: SocketPublisher;
  private listening = false;
  private trying?: Promise<void>;

  constructor(socketPath: string, mode: number, ctx: OutputContext) {
    super("socket", socketPath, ctx);
    this.publisher = new SocketPublisher({ path: socketPath, mode, onError: (e, where) => ctx.log().warn(`${where}: ${e.message}`, { socket: socketPath }) });
  }

  get subscribers(): number {
    return this.publisher.subscribers;
  }

  /** Start listening (retried in the background until it works). */
  start(): Promise<void> {
    return this.attempt();
  }

  /** Kept for subscribers that connect later, whether or not the socket listens yet. */
  publish(doc: string): void {
    this.publisher.publish(doc);
  }

  protected attempt(): Promise<void> {
    if (this.listening || this.closed) return Promise.resolve();
    this.trying ??= this.listen().finally(() => (this.trying = undefined));
    return this.trying;
  }

  private async listen(): Promise<void> {
    try {
      await makeDirs(path.dirname(this.path));
      await this.publisher.listen();
    } catch (e) {
      this.failed(e, "listen on");
      return;
    }
    this.listening = true;
    this.succeeded("listening");
  }

  override close(): Promise<void> {
    super.close();
    return this.publisher.close();
  }
}
