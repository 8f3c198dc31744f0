// Retry a start-up step until it works (a UDP port whose address is not assigned yet at boot,
// an HTTP port still held by the previous instance): a daemon under systemd should wait for
// the world to become right, not exit and be restarted into the same failure
// (Restart=on-failure is the backstop, not the plan). One log line per distinct reason, the
// recovery logged, backoff from 1 s doubling to 30 s.
import type { Logger } from "./log.js";

export interface RetryOptions {
  /** What is being attempted, for the log: "binding the probe port". */
  what: string;
  log: () => Logger;
  /** The reason as one sentence with the fix. */
  describe?: (e: unknown) => string;
  minMs?: number;
  maxMs?: number;
  /** Give up (reject with RetryCancelled) once this says so: the step is no longer wanted. */
  cancelled?: () => boolean;
}

export class RetryCancelled extends Error {
  override name = "RetryCancelled";
}

export async function retryUntil<T>(attempt: () => Promise<T>, o: RetryOptions): Promise<T> {
  let delay = o.minMs ?? 1000;
  let last: string | undefined;
  let failures = 0;
  for (;;) {
    if (o.cancelled?.()) throw new RetryCancelled(`${o.what}: no longer wanted`);
    try {
      const v = await attempt();
      if (failures > 0) o.log().info(`${o.what}: done after ${failures} failed attempt${failures === 1 ? "" : "s"}`);
      return v;
    } catch (e) {
      failures++;
      const reason = o.describe ? o.describe(e) : (e as Error).message;
      if (reason !== last) o.log().error(`${o.what} failed: ${reason}; retrying until it works`);
      last = reason;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, o.maxMs ?? 30_000);
    }
  }
}
