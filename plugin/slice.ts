// Cooperative time slicing for the pure core's long computations.
//
// A heavy computation is written as a generator that yields at safe points. Tests and benches
// drain it synchronously; the plugin's shell runs it in slices of a few milliseconds so the
// stdin reader (ExaBGP's pipe) is never starved (FORMAT.md §2: a full pipe stops ExaBGP).

export type Steps<T> = Generator<void, T, void>;

/** Run to completion without yielding to the event loop. */
export function drain<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Run in slices of about `sliceMs`, giving the event loop a turn between slices. */
export async function runSliced<T>(steps: Steps<T>, sliceMs = 5, now: () => number = performance.now.bind(performance)): Promise<T> {
  for (;;) {
    const deadline = now() + sliceMs;
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      if (now() >= deadline) break;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
