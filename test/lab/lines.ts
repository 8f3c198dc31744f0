// Test plumbing shared by the lab tests that talk to helper processes in the namespaces: their
// output read line by line with a timeout, and the namespaces of one lab by name prefix.
import { execFileSync } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/** A child's stdout as lines: next() gives the oldest unread one, or undefined after timeoutMs. */
export class Lines {
  private buf: string[] = [];
  private waiter?: (l: string) => void;
  constructor(stream: Readable) {
    createInterface({ input: stream }).on("line", (l) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(l);
      } else this.buf.push(l);
    });
  }
  next(timeoutMs: number): Promise<string | undefined> {
    const l = this.buf.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiter = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }
}

/** The network namespaces whose names start with `prefix` (one lab's: lsp-PID-N-). */
export function netnsWithPrefix(prefix: string): string[] {
  const out = execFileSync("ip", ["-j", "netns", "list"], { encoding: "utf8" }).trim();
  return out ? (JSON.parse(out) as Array<{ name: string }>).map((n) => n.name).filter((n) => n.startsWith(prefix)) : [];
}
