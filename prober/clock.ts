// The realtime clock beside the prober's own (performance.now(), monotonic): one-way probes
// carry the sender's CLOCK_REALTIME (payload.ts, flag O), and with prober.clock-synced the
// receiver subtracts it from the arrival, taken on the monotonic clock and moved to realtime by
// this offset (refreshed once a minute: NTP slews the realtime clock, not the monotonic one).
//
// Node reads CLOCK_REALTIME only as Date.now(), in whole milliseconds. Its tick is the one
// moment the realtime clock is known exactly: the monotonic clock read just before the first
// Date.now() that shows the next millisecond is within one loop turn (well under a microsecond)
// of that tick. Waiting for it costs at most a millisecond, once a minute.

/** CLOCK_REALTIME minus the clock `nowNs` reads, in ns (BigInt: realtime ns exceed 2^53). */
export function realtimeOffsetNs(nowNs: () => number): bigint {
  const start = Date.now();
  let mono = nowNs();
  let t = Date.now();
  while (t === start) {
    mono = nowNs();
    t = Date.now();
  }
  return BigInt(t) * 1_000_000n - BigInt(Math.round(mono));
}
