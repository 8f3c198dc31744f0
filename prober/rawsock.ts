// A small dgram-like wrapper over the `raw-socket` native addon: the only file in lsprobe that
// touches raw sockets (shell, not core).
//
//   const s = RawSocket.open({ protocol: IPPROTO_RAW });   // IP_HDRINCL: you write the IPv4 header
//   s.send(packet, "198.18.0.1", (err, bytes) => { ... });  // dst = the outer header's destination
//   const g = RawSocket.open({ protocol: IPPROTO_GRE });   // receives every GRE packet for this host
//   g.on("message", (buf, src) => { ... });                 // buf = the whole IPv4 packet, header first
//   const s6 = RawSocket.open({ family: "ipv6", protocol: IPPROTO_RAW }); // you write the IPv6 header
//   s6.sendFrom(buf, 0, len, "2001:2::1", cb);              // dst = the outer IPv6 destination
//
// How sending works, and why it does not go through raw-socket's public send():
//   raw-socket's `Socket.send(buffer, offset, length, address, cb)` does NOT copy the buffer: it
//   allocates a request object holding a reference, queues it, starts polling for writability and
//   calls sendto(2) from the next writable event, one packet per event-loop turn. A caller using it
//   must leave the buffer untouched until the callback, and pays an object, a closure check and a
//   poll round trip per packet. The native binding underneath (`socket.wrap.send`) calls sendto(2)
//   synchronously (the kernel copies the bytes into an skb) and then calls its callback
//   synchronously. This wrapper calls that binding directly, so:
//     - send() has returned => the packet is in the kernel (or the send failed); the caller MAY
//       REUSE OR PATCH THE BUFFER AS SOON AS send() RETURNS;
//     - the callback, if given, has already run, synchronously, before send() returns;
//     - no allocation per packet in this file (the callback trampoline is bound once; the
//       destination string is validated once and remembered while it does not change).
//   The binding trusts its arguments (no bounds check on offset/length; an unparsable address
//   leaves sockaddr uninitialised), so both are checked here before every sendto.
//   The socket is non-blocking: a full send buffer fails the send with EAGAIN/ENOBUFS (counted by
//   the caller, the packet is not queued). Raise `sendBufferSize` if that happens.
//   That binding (`socket.wrap`, its send's argument order and its synchronous callback) is
//   private to raw-socket, no semver promise covers it: package.json pins raw-socket to the exact
//   version this was written and tested against (1.8.1, as in package-lock.json), not a ^ range.
//   Upgrade it deliberately: read the new src/raw.cc, then run the prober tests.
//
// Receiving: raw-socket reads one packet per readable event into ONE receive buffer of
// `bufferSize` bytes and emits a view of it. The Buffer passed to "message" is only valid during
// the listener call; copy it to keep it. A packet longer than `bufferSize` is silently cut
// (recvfrom without MSG_TRUNC), so check the IPv4 total length against buf.length.
// On Linux an IPv4 raw socket always receives the IPv4 header (for protocol 47: outer header, GRE,
// inner packet). An IPPROTO_RAW socket never receives anything (raw(7)), so it is opened with
// receiving paused and does not keep the event loop alive.
//
// IPv6 (family "ipv6", AF_INET6): on Linux, socket(AF_INET6, SOCK_RAW, IPPROTO_RAW) implies header
// inclusion (inet6_create sets hdrincl for protocol 255; the same send-only socket as IPv4's); for
// another protocol, hdrincl: true sets IPV6_HDRINCL (Linux >= 4.5; raw-socket exports that constant
// on Windows only, so it is defined here). With header inclusion the kernel sends the IPv6 header
// as written: unlike IPv4 it fills in nothing (payload length, source, flow label are the
// caller's), refuses a packet shorter than 40 bytes (EINVAL) and one above the route's MTU
// (EMSGSIZE). The destination passed to send() is the route lookup's, as for IPv4; the addon
// builds its sockaddr_in6 with uv_ip6_addr (port 0, a `%zone` suffix for link-local scopes).
// Receiving: an IPv6 raw socket is handed the packet WITHOUT its IPv6 header (raw(7), ipv6(7):
// for protocol 47, buf starts at the GRE header), and `src` is the IPv6 source.
//
// Errors: opening fails with RawSocketPermissionError (EPERM/EACCES: no CAP_NET_RAW) or
// RawSocketError; send errors go to the callback (or the "error" event when there is none) as a
// RawSocketError with the errno name in `code` (ENETUNREACH, EMSGSIZE, EAGAIN, ...). Receive
// errors (e.g. an ICMP error the kernel queued on the socket) do not close the socket: they are
// emitted as "error" when someone listens, otherwise only counted in `receiveErrors`.

import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { isIPv4, isIPv6 } from "node:net";
import { getSystemErrorMap, getSystemErrorName } from "node:util";

// ---- IANA "Assigned Internet Protocol Numbers" ----
export const IPPROTO_ICMP = 1;
export const IPPROTO_UDP = 17;
export const IPPROTO_GRE = 47;
export const IPPROTO_IPV6 = 41;
/** Linux: send-only raw socket with IP_HDRINCL implied (raw(7)); over AF_INET6 likewise (header inclusion). */
export const IPPROTO_RAW = 255;

// ---- Linux <linux/in6.h> ----
/** setsockopt level IPPROTO_IPV6 (= SOL_IPV6). */
export const SOL_IPV6 = 41;
/** Header inclusion for an AF_INET6 raw socket of another protocol than IPPROTO_RAW (Linux >= 4.5). */
export const IPV6_HDRINCL = 36;
/** setsockopt SOL_SOCKET option (Linux asm-generic/socket.h); raw-socket does not export it. */
export const SO_BINDTODEVICE = 25;

/** The raw socket's address family: AF_INET (the default) or AF_INET6. */
export type RawSocketFamily = "ipv4" | "ipv6";

export interface RawSocketOptions {
  /** "ipv4" (AF_INET, default) or "ipv6" (AF_INET6). */
  family?: RawSocketFamily;
  /** IP protocol (IPv6: next header) number: 255 (IPPROTO_RAW, implies hdrincl, send only), 47 (GRE), 1, 17, ... */
  protocol: number;
  /** Set IP_HDRINCL (IPv6: IPV6_HDRINCL): packets passed to send() start with their own IPv4 (IPv6) header. */
  hdrincl?: boolean;
  /** Size of the single receive buffer (largest packet received whole); default 65535 (64 for IPPROTO_RAW). */
  bufferSize?: number;
  /** SO_RCVBUF in bytes (kernel queue), when given. */
  receiveBufferSize?: number;
  /** SO_SNDBUF in bytes (kernel queue), when given. */
  sendBufferSize?: number;
  /**
   * SO_BINDTODEVICE: receive only what arrives over this interface (and send out of it). The lab's
   * IPv6 decapsulator opens one socket per interface, the only way to learn the ingress link of
   * what an AF_INET6 raw socket hands over without its IPv6 header.
   */
  device?: string;
}

export type SendCallback = (err?: RawSocketError, bytes?: number) => void;

/** A failed raw-socket system call, with the errno name in `code` (EPERM, ENETUNREACH, ...). */
export class RawSocketError extends Error {
  override readonly name: string = "RawSocketError";
  readonly code: string;
  readonly syscall: "socket" | "setsockopt" | "sendto" | "recvfrom" | "poll";
  constructor(message: string, code: string, syscall: RawSocketError["syscall"]) {
    super(message);
    this.code = code;
    this.syscall = syscall;
  }
}

/** Opening a raw socket was refused: the process lacks CAP_NET_RAW. */
export class RawSocketPermissionError extends RawSocketError {
  override readonly name: string = "RawSocketPermissionError";
}

export const CAP_NET_RAW_HELP =
  "raw sockets need CAP_NET_RAW: under systemd, run the lsprobe-prober unit (it sets " +
  "`AmbientCapabilities=CAP_NET_RAW` with CapabilityBoundingSet=CAP_NET_RAW, User=lsprobe); by hand, run it as root " +
  "with prober.user set (it drops privileges once its sockets are open); as a last resort grant it to every " +
  "node program with `sudo setcap cap_net_raw+ep $(readlink -f $(which node))`";

// ---- the addon (CommonJS, no types): only the parts used here ----

interface NativeWrap {
  send(buf: Buffer, offset: number, length: number, address: string, cb: (bytes: number) => void): unknown;
}
interface NativeSocket {
  wrap: NativeWrap;
  recvPaused: boolean;
  on(event: "message", l: (buf: Buffer, src: string) => void): unknown;
  on(event: "error", l: (err: Error) => void): unknown;
  on(event: "close", l: () => void): unknown;
  close(): unknown;
  pauseRecv(): unknown;
  setOption(level: number, option: number, value: number): void;
  setOption(level: number, option: number, value: Buffer, length: number): void;
}
interface RawSocketModule {
  createSocket(opts: { addressFamily?: number; protocol?: number; bufferSize?: number }): NativeSocket;
  AddressFamily: { IPv4: number; IPv6: number };
  SocketLevel: { SOL_SOCKET: number; IPPROTO_IP: number; IPPROTO_IPV6: number };
  SocketOption: { SO_RCVBUF: number; SO_SNDBUF: number; IP_HDRINCL: number };
}

let addon: RawSocketModule | undefined;
function loadAddon(): RawSocketModule {
  if (addon) return addon;
  try {
    addon = createRequire(import.meta.url)("raw-socket") as RawSocketModule;
  } catch (e) {
    throw new RawSocketError(
      `cannot load the raw-socket native addon (${(e as Error).message}); run \`npm ci\` with a C++ toolchain so node-gyp builds it`,
      "ENOADDON",
      "socket",
    );
  }
  return addon;
}

// The addon throws plain Errors carrying strerror(3) text ("Operation not permitted"); libuv's
// messages are the same texts in lower case, which gives the errno name back.
let messageToCode: Map<string, string> | undefined;
function errnoName(message: string): string {
  // raw-socket reports a failed poll watcher as the bare (negative) libuv status number.
  if (/^-\d+$/.test(message)) {
    try {
      return getSystemErrorName(Number(message));
    } catch {
      return "EUNKNOWN";
    }
  }
  if (!messageToCode) {
    messageToCode = new Map();
    for (const [, [name, text]] of getSystemErrorMap()) if (!messageToCode.has(text)) messageToCode.set(text, name);
  }
  return messageToCode.get(message.toLowerCase()) ?? "EUNKNOWN";
}

function noop(): void {}

export class RawSocket extends EventEmitter {
  readonly family: RawSocketFamily;
  readonly protocol: number;
  readonly hdrincl: boolean;
  /** Receive errors seen while nobody listened for "error". */
  receiveErrors = 0;

  private readonly sock: NativeSocket;
  private readonly wrap: NativeWrap;
  private isClosed = false;
  private lastDst = "";
  // The binding calls back synchronously from inside sendto: the pending callback and byte
  // count live here so one pre-bound trampoline serves every send.
  private pendingCb: SendCallback = noop;
  private readonly onSentBound: (bytes: number) => void;

  private constructor(sock: NativeSocket, family: RawSocketFamily, protocol: number, hdrincl: boolean) {
    super();
    this.sock = sock;
    this.wrap = sock.wrap;
    this.family = family;
    this.protocol = protocol;
    this.hdrincl = hdrincl;
    this.onSentBound = (bytes: number): void => {
      const cb = this.pendingCb;
      this.pendingCb = noop;
      cb(undefined, bytes);
    };
    sock.on("message", (buf, src) => this.emit("message", buf, src));
    sock.on("error", (err) => this.onNativeError(err));
    sock.on("close", () => {
      if (!this.isClosed) {
        this.isClosed = true;
        this.emit("close");
      }
    });
  }

  static open(opts: RawSocketOptions): RawSocket {
    const { protocol } = opts;
    const family = opts.family ?? "ipv4";
    if (family !== "ipv4" && family !== "ipv6") throw new TypeError(`raw socket family ${JSON.stringify(family)} is not "ipv4" or "ipv6"`);
    const v6 = family === "ipv6";
    if (!Number.isInteger(protocol) || protocol < 1 || protocol > 255) {
      throw new RangeError(`raw socket protocol ${protocol} is not an integer 1-255`);
    }
    if (protocol === IPPROTO_RAW && opts.hdrincl === false) {
      throw new TypeError(`an IPPROTO_RAW (255) socket always has ${v6 ? "header inclusion" : "IP_HDRINCL"}; use another protocol for hdrincl: false`);
    }
    const what = `raw ${v6 ? "IPv6 " : ""}socket for IP protocol ${protocol}`;
    // An IPPROTO_RAW socket never receives: no point in raw-socket allocating 64 KiB for it.
    const bufferSize = opts.bufferSize ?? (protocol === IPPROTO_RAW ? 64 : 65535);
    if (!Number.isInteger(bufferSize) || bufferSize < 20 || bufferSize > 1 << 20) {
      throw new RangeError(`bufferSize ${bufferSize} is not an integer 20-1048576`);
    }
    if (opts.device !== undefined && !/^[^\0/\s]{1,15}$/.test(opts.device)) throw new TypeError(`device ${JSON.stringify(opts.device)} is not an interface name (1-15 characters)`);
    const raw = loadAddon();
    let sock: NativeSocket;
    try {
      sock = raw.createSocket({ addressFamily: v6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4, protocol, bufferSize });
    } catch (e) {
      const msg = (e as Error).message;
      const code = errnoName(msg);
      if (code === "EPERM" || code === "EACCES") {
        throw new RawSocketPermissionError(`cannot open a ${what}: ${msg} (${code}); ${CAP_NET_RAW_HELP}`, code, "socket");
      }
      throw new RawSocketError(`cannot open a ${what}: ${msg} (${code})`, code, "socket");
    }
    if (typeof sock.wrap?.send !== "function") {
      sock.close();
      throw new RawSocketError("raw-socket internals changed (no socket.wrap.send); prober/rawsock.ts needs updating", "EADDONAPI", "socket");
    }
    const hdrincl = protocol === IPPROTO_RAW || opts.hdrincl === true;
    try {
      if (hdrincl && protocol !== IPPROTO_RAW) {
        if (v6) sock.setOption(raw.SocketLevel.IPPROTO_IPV6 ?? SOL_IPV6, IPV6_HDRINCL, 1);
        else sock.setOption(raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_HDRINCL, 1);
      }
      if (opts.receiveBufferSize !== undefined) sock.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_RCVBUF, opts.receiveBufferSize);
      if (opts.sendBufferSize !== undefined) sock.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_SNDBUF, opts.sendBufferSize);
      if (opts.device !== undefined) {
        const name = Buffer.from(`${opts.device}\0`);
        sock.setOption(raw.SocketLevel.SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
      }
    } catch (e) {
      sock.close();
      const msg = (e as Error).message;
      throw new RawSocketError(`setsockopt on the ${what} failed: ${msg}`, errnoName(msg), "setsockopt");
    }
    // IPPROTO_RAW sockets never receive: do not watch them (nor keep the event loop alive).
    if (protocol === IPPROTO_RAW) sock.pauseRecv();
    return new RawSocket(sock, family, protocol, hdrincl);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Sends `packet` (for an hdrincl socket: a whole IPv4 packet; the kernel fills in total length
   * and header checksum, and the IP ID and source when they are 0; or a whole IPv6 packet, sent
   * as written) towards `dst`, a dotted quad (an IPv6 address on an "ipv6" socket): for hdrincl,
   * the outer header's destination (the route lookup uses it, not the header).
   * The buffer may be reused as soon as this returns; `cb` has run by then. Returns whether the
   * kernel took the packet; without `cb` a failure is emitted as "error".
   */
  send(packet: Buffer, dst: string, cb?: SendCallback): boolean {
    return this.sendFrom(packet, 0, packet.length, dst, cb);
  }

  /** send() of `length` bytes of `buf` from `offset`, without making a subarray. */
  sendFrom(buf: Buffer, offset: number, length: number, dst: string, cb?: SendCallback): boolean {
    if (this.isClosed) return this.fail(new RawSocketError("send on a closed raw socket", "ERR_SOCKET_CLOSED", "sendto"), cb);
    if (!(offset >= 0 && length >= 0 && offset + length <= buf.length && Number.isInteger(offset) && Number.isInteger(length))) {
      throw new RangeError(`send range offset ${offset} length ${length} does not fit the ${buf.length}-byte buffer`);
    }
    if (dst !== this.lastDst) {
      if (this.family === "ipv4" ? !isIPv4(dst) : !isIPv6(dst)) {
        throw new TypeError(`raw socket destination ${JSON.stringify(dst)} is not ${this.family === "ipv4" ? "a dotted-quad IPv4" : "an IPv6"} address`);
      }
      this.lastDst = dst;
    }
    this.pendingCb = cb ?? noop;
    try {
      this.wrap.send(buf, offset, length, dst, this.onSentBound);
      return true;
    } catch (e) {
      this.pendingCb = noop;
      const msg = (e as Error).message;
      const code = errnoName(msg);
      const proto = `${this.family === "ipv6" ? "IPv6 raw socket, " : ""}IP protocol ${this.protocol}`;
      return this.fail(new RawSocketError(`sendto ${dst} (${length} bytes, ${proto}): ${msg} (${code})`, code, "sendto"), cb);
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.sock.close();
    this.emit("close");
  }

  private fail(err: RawSocketError, cb: SendCallback | undefined): false {
    if (cb) cb(err);
    else this.emit("error", err);
    return false;
  }

  private onNativeError(err: Error): void {
    // Either recvfrom failed (the socket stays open) or the poll watcher failed (raw-socket
    // closes the socket right after this event; its "close" event marks us closed).
    const code = errnoName(err.message);
    const e = new RawSocketError(`raw ${this.family === "ipv6" ? "IPv6 " : ""}socket (IP protocol ${this.protocol}): ${err.message} (${code})`, code, /^-?\d+$/.test(err.message) ? "poll" : "recvfrom");
    if (this.listenerCount("error") > 0) this.emit("error", e);
    else this.receiveErrors++;
  }
}

export interface RawSocket {
  on(event: "message", listener: (buf: Buffer, src: string) => void): this;
  on(event: "error", listener: (err: RawSocketError) => void): this;
  on(event: "close", listener: () => void): this;
  once(event: "message", listener: (buf: Buffer, src: string) => void): this;
  once(event: "error", listener: (err: RawSocketError) => void): this;
  once(event: "close", listener: () => void): this;
}
