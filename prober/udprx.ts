// The reply socket: a dgram-like UDP receiver that hands each datagram over with the time the
// kernel received it (native/udprx.c: recvmmsg in batches, SO_TIMESTAMPNS).
//
//   const s = ReplySocket.open("198.18.0.1", 9999, { recvBufferSize: 8 << 20 });
//   s.on("message", (payload, arrivalNs) => { ... });   // arrivalNs: performance.now() * 1e6's clock
//   s.close();
//
// Why not node:dgram: its 'message' callback runs after the kernel has woken the process and
// libuv and V8 have run, and it cannot read the kernel's timestamp (no control messages). The
// clock read in that callback was 100-250 us late at the median on a 2-vCPU VM (issue 11;
// bench/rtt-overhead.ts). The kernel stamp is taken when the datagram enters the receiving
// stack, so the reported RTT no longer includes the wake-up.
//
// The payload passed to 'message' is a view of the socket's own arena, valid only during the
// callback (as with prober/rawsock.ts): copy it to keep it. A batch of up to BATCH datagrams is
// one call from C, with no allocation per datagram beyond the view.
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { isIPv4, isIPv6 } from "node:net";
import { getSystemErrorName } from "node:util";

interface Native {
  open(family: 4 | 6, address: string, port: number, rcvbuf: number): object;
  start(handle: object, buffer: Buffer, slot: number, lengths: Int32Array, stamps: Float64Array, cb: (count: number, err: number) => void): number;
  recvBufferSize(handle: object): number;
  truncated(handle: object): number;
  close(handle: object): void;
}

/** Where node-gyp puts the addon (`npm ci` runs `node-gyp rebuild`), from dist/prober/. */
const ADDON = "../../build/Release/lsprobe_udprx.node";

let native: Native | undefined;
function load(): Native {
  if (native) return native;
  try {
    native = createRequire(import.meta.url)(ADDON) as Native;
  } catch (e) {
    throw new Error(
      `the prober's reply socket addon (${new URL(ADDON, import.meta.url).pathname}) does not load: ${(e as Error).message}; ` +
        "fix: build it with `npm rebuild` (or `npx node-gyp rebuild`) in the lsprobe directory (needs g++, make and python3)",
    );
  }
  return native;
}

/** Datagrams per read (recvmmsg) and the room for each: probe replies are at most one MTU. */
const BATCH = 32;
const SLOT = 9216;

/**
 * CLOCK_MONOTONIC ns (what the addon reports; process.hrtime's clock) minus performance.now()
 * in ns (the prober's clock): both are libuv's hrtime, so the difference is a constant,
 * measured here from the tightest of a few bracketing reads (well under a microsecond).
 */
function perfOffsetNs(): number {
  let width = Infinity;
  let offset = 0;
  for (let i = 0; i < 64; i++) {
    const a = process.hrtime.bigint();
    const p = performance.now();
    const b = process.hrtime.bigint();
    if (Number(b - a) < width) {
      width = Number(b - a);
      offset = Number(a + (b - a) / 2n) - p * 1e6;
    }
  }
  return offset;
}

export interface ReplySocketOptions {
  /** SO_RCVBUF asked for (SO_RCVBUFFORCE when the process may; else net.core.rmem_max caps it). */
  recvBufferSize: number;
}

export class ReplySocket extends EventEmitter {
  private handle: object | undefined;
  private readonly arena = Buffer.alloc(BATCH * SLOT);
  private readonly lengths = new Int32Array(BATCH);
  private readonly stamps = new Float64Array(BATCH);
  private readonly offsetNs = perfOffsetNs();

  private constructor(
    private readonly n: Native,
    handle: object,
  ) {
    super();
    this.handle = handle;
    n.start(handle, this.arena, SLOT, this.lengths, this.stamps, this.onBatch);
  }

  /**
   * Binds `address`:`port` (IPv4 or IPv6) and starts reading. Throws what bind(2) says, as
   * node does: an Error with `code` (EADDRINUSE, EADDRNOTAVAIL, EACCES, ...) and `syscall`.
   */
  static open(address: string, port: number, opts: ReplySocketOptions): ReplySocket {
    const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0;
    if (family === 0) throw new TypeError(`ReplySocket.open: ${address} is not an IP address`);
    const n = load();
    return new ReplySocket(n, n.open(family, address, port, opts.recvBufferSize));
  }

  private readonly onBatch = (count: number, err: number): void => {
    if (count < 0) {
      const code = err < 0 ? getSystemErrorName(err) : "EIO";
      this.emit("error", Object.assign(new Error(`reply socket: recvmmsg ${code}`), { code }));
      return;
    }
    for (let i = 0; i < count; i++) {
      const at = i * SLOT;
      this.emit("message", this.arena.subarray(at, at + this.lengths[i]), this.stamps[i] - this.offsetNs);
    }
  };

  /** The receive buffer the kernel set (it doubles what was asked, for its bookkeeping). */
  getRecvBufferSize(): number {
    return this.handle ? this.n.recvBufferSize(this.handle) : 0;
  }

  /** Datagrams longer than a slot (cut, so never a valid reply) since the socket opened. */
  get truncated(): number {
    return this.handle ? this.n.truncated(this.handle) : 0;
  }

  close(): void {
    if (!this.handle) return;
    this.n.close(this.handle);
    this.handle = undefined;
  }

  override on(event: "message", listener: (payload: Buffer, arrivalNs: number) => void): this;
  override on(event: "error", listener: (e: Error) => void): this;
  override on(event: string, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
}
