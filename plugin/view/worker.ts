// The one view's inference off the plugin's main thread: over 100,000 streams it takes seconds
// (bench/fleet), and the main thread reads ExaBGP's stdin and answers the probers' long-polls.
// One worker per view, kept alive; one job at a time (the view never overlaps its rounds). The
// streams go over as wire.ts's typed arrays, transferred, not structured-cloned.
import { parentPort, Worker } from "node:worker_threads";
import type { InferenceOptions, LinkEnds } from "../../prober/inference.js";
import { inferView, type ViewResult } from "./infer.js";
import type { Stream } from "./union.js";
import { decodeStreams, encodeStreams, transferList, type WireStreams } from "./wire.js";

interface Job {
  streams: WireStreams;
  ends: Array<[string, LinkEnds]>;
  opts: InferenceOptions;
}

type Answer = { ok: true; result: ViewResult } | { ok: false; error: string };

if (parentPort) {
  const port = parentPort;
  port.on("message", (job: Job) => {
    try {
      port.postMessage({ ok: true, result: inferView(decodeStreams(job.streams), new Map(job.ends), job.opts) } satisfies Answer);
    } catch (e) {
      port.postMessage({ ok: false, error: (e as Error).stack ?? String(e) } satisfies Answer);
    }
  });
}

/** inferView() in a worker thread (OneView falls back to its own thread if the worker fails). */
export class InferenceWorker {
  private worker?: Worker;
  private waiting?: { resolve: (r: ViewResult) => void; reject: (e: Error) => void };

  private start(): Worker {
    const w = new Worker(new URL("./worker.js", import.meta.url));
    w.unref();
    w.on("message", (a: Answer) => {
      const p = this.waiting;
      this.waiting = undefined;
      if (!p) return;
      if (a.ok) p.resolve(a.result);
      else p.reject(new Error(`one view: inference failed: ${a.error}`));
    });
    const gone = (e: Error): void => {
      this.worker = undefined;
      this.waiting?.reject(e);
      this.waiting = undefined;
    };
    w.on("error", gone);
    w.on("exit", (code) => gone(new Error(`one view: inference worker exited (${code})`)));
    return w;
  }

  infer(streams: Stream[], ends: ReadonlyMap<string, LinkEnds>, opts: InferenceOptions): Promise<ViewResult> {
    if (this.waiting) return Promise.reject(new Error("one view: an inference is already running"));
    this.worker ??= this.start();
    return new Promise<ViewResult>((resolve, reject) => {
      this.waiting = { resolve, reject };
      const wire = encodeStreams(streams);
      this.worker!.postMessage({ streams: wire, ends: [...ends], opts } satisfies Job, transferList(wire));
    });
  }

  close(): void {
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
  }
}
