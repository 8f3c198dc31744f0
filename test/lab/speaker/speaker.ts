// BgpLsSpeaker: a passive BGP-4 speaker that plays "the router" to ExaBGP in tests and in the lab.
//
// The shell around bgp.ts / bgpls.ts / topology.ts: it owns the listening socket, the session
// socket and the KEEPALIVE / hold timers. It listens (ExaBGP is configured with `connect <port>`
// and dials in), runs a minimal RFC 4271 §8 state machine, keeps an Adj-RIB-Out of what it has
// announced, and replays that table when a new session comes up (ExaBGP reconnected) or when the
// peer sends a ROUTE-REFRESH (RFC 2918 §4) — as a real router would.
//
// stop() leaves nothing behind: the server, the session socket and every timer are closed.
import { EventEmitter } from "node:events";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import {
  AFI_BGP_LS,
  BgpError,
  CeaseSubcode,
  ErrorCode,
  FsmErrorSubcode,
  MAX_MESSAGE_LENGTH,
  MessageFramer,
  MessageType,
  OpenErrorSubcode,
  SAFI_BGP_LS,
  bgpLsCapabilities,
  ipv4UnicastCapabilities,
  decodeNotification,
  decodeOpen,
  decodeRouteRefresh,
  encodeAsPath,
  encodeBgpLsAttribute,
  encodeEndOfRib,
  encodeKeepalive,
  encodeLocalPref,
  encodeMpReachNlri,
  encodeMpUnreachNlri,
  encodeNotification,
  encodeOpen,
  encodeOrigin,
  encodeUpdate,
  endOfRibFamily,
  ipv4ToBytes,
  messageTypeName,
  type BgpMessage,
  type DecodedOpen,
  type DecodedRouteRefresh,
} from "./bgp.js";
import { exabgp421Hazards, ipv6ToBytes } from "./bgpls.js";
import {
  linkRoute,
  linksBetween,
  linksOf,
  nodeRoute,
  prefixRoute,
  routerByName,
  topologyRoutes,
  type LsLink,
  type LsPrefix,
  type LsRoute,
  type LsTopology,
} from "./topology.js";

// ------------------------------------------------------------------------------------------------
// Session state machine (pure): RFC 4271 §8.2.2, reduced to a passive speaker that has already
// sent its OPEN when the TCP connection is accepted (so Connect/Active collapse into OpenSent).
// ------------------------------------------------------------------------------------------------

export type SessionState = "idle" | "open-sent" | "open-confirm" | "established";

export interface Transition {
  next: SessionState;
  /** Set when the message is not allowed here: send this NOTIFICATION and close (RFC 6608). */
  error?: { code: number; subcode: number; reason: string };
}

/** Where a received message of `type` takes a session in `state`. */
export function nextState(state: SessionState, type: number): Transition {
  if (type === MessageType.NOTIFICATION) return { next: "idle" };
  if (state === "open-sent" && type === MessageType.OPEN) return { next: "open-confirm" };
  if (state === "open-confirm" && type === MessageType.KEEPALIVE) return { next: "established" };
  if (
    state === "established" &&
    (type === MessageType.KEEPALIVE || type === MessageType.UPDATE || type === MessageType.ROUTE_REFRESH)
  ) {
    return { next: "established" };
  }
  const subcode =
    state === "open-sent"
      ? FsmErrorSubcode.UNEXPECTED_IN_OPENSENT
      : state === "open-confirm"
        ? FsmErrorSubcode.UNEXPECTED_IN_OPENCONFIRM
        : state === "established"
          ? FsmErrorSubcode.UNEXPECTED_IN_ESTABLISHED
          : FsmErrorSubcode.UNSPECIFIED;
  return { next: "idle", error: { code: ErrorCode.FSM, subcode, reason: `${messageTypeName(type)} in ${state}` } };
}

/** RFC 4271 §8.2.2: hold timer before the OPEN is received ("a large value, 4 minutes"). */
export const LARGE_HOLD_TIME_S = 240;
/** How long closeSession()/stop() wait for the peer to close after our NOTIFICATION. */
const CLOSE_GRACE_MS = 1000;

// ------------------------------------------------------------------------------------------------
// The speaker
// ------------------------------------------------------------------------------------------------

export interface SpeakerOptions {
  /** Our AS (OPEN My AS / capability 65, and AS_PATH on eBGP). */
  asn: number;
  /** Our BGP identifier. */
  routerId: string;
  /** Hold time we offer (default 90); the session uses min(ours, peer's), KEEPALIVE every third. */
  holdTime?: number;
  /** MP_REACH_NLRI next hop, IPv4 or IPv6 (default routerId). An IPv6 one (16 octets) resets
   *  ExaBGP 4.2.21's session (FORMAT.md §8): it needs allowUnsafe, and ExaBGP 5.0. */
  nextHop?: string;
  /** When set, an OPEN from another AS is refused with 2/2 Bad Peer AS. */
  peerAsn?: number;
  /** LOCAL_PREF on iBGP sessions (default 100); never sent on eBGP. */
  localPref?: number;
  /** Re-send the Adj-RIB-Out when the peer asks with ROUTE-REFRESH (default true). */
  answerRouteRefresh?: boolean;
  /** Follow such a re-send with End-of-RIB (default false: RFC 2918 peers do not). */
  endOfRibAfterRefresh?: boolean;
  /** Let announceRoutes() send what ExaBGP 4.2.21 chokes on (default false: refuse). */
  allowUnsafe?: boolean;
  /** Diagnostics sink (default: silent). */
  log?: (line: string) => void;
  /** The family offered in OPEN (default "bgp-ls"); "ipv4-unicast" makes a plain BGP neighbor
   *  (nothing to announce: a bystander session whose survival tests watch). */
  family?: "bgp-ls" | "ipv4-unicast";
}

export interface NotificationEvent {
  direction: "sent" | "received";
  code: number;
  subcode: number;
  data: Buffer;
}

export interface SpeakerEvents {
  /** A TCP connection was accepted. */
  connection: [{ address: string; port: number }];
  /** The peer's OPEN arrived. */
  open: [DecodedOpen];
  established: [];
  /** An UPDATE from the peer (ExaBGP sends its own End-of-RIB after coming up). */
  update: [{ body: Buffer; endOfRib?: { afi: number; safi: number } }];
  /** ROUTE-REFRESH from the peer, any family. */
  "route-refresh": [DecodedRouteRefresh];
  notification: [NotificationEvent];
  /** The session ended (whatever state it had reached). */
  down: [{ reason: string; wasEstablished: boolean }];
}

export interface SpeakerStats {
  sessionsEstablished: number;
  updatesSent: number;
  keepalivesSent: number;
  keepalivesReceived: number;
  updatesReceived: number;
  routeRefreshesReceived: number;
}

/** One TCP connection and its BGP state. */
interface Session {
  socket: Socket;
  framer: MessageFramer;
  state: SessionState;
  peer?: DecodedOpen;
  /** Negotiated hold time in seconds (0 = no keepalives, no hold timer). */
  holdTime: number;
  holdTimer?: NodeJS.Timeout;
  keepaliveTimer?: NodeJS.Timeout;
  graceTimer?: NodeJS.Timeout;
  ending: boolean;
  wasEstablished: boolean;
  closed: Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class BgpLsSpeaker extends EventEmitter<SpeakerEvents> {
  private readonly opts: Required<Omit<SpeakerOptions, "peerAsn" | "log">> & Pick<SpeakerOptions, "peerAsn">;
  private readonly log: (line: string) => void;
  private server?: Server;
  private session?: Session;
  private readonly sessions = new Set<Session>();
  /** Adj-RIB-Out, keyed by NLRI bytes (hex), in announcement order. */
  private readonly rib = new Map<string, LsRoute>();
  private waiters: Waiter[] = [];
  private refusing = false;
  private stopped = false;
  private readonly counters: SpeakerStats = {
    sessionsEstablished: 0,
    updatesSent: 0,
    keepalivesSent: 0,
    keepalivesReceived: 0,
    updatesReceived: 0,
    routeRefreshesReceived: 0,
  };

  constructor(options: SpeakerOptions) {
    super();
    ipv4ToBytes(options.routerId);
    this.opts = {
      asn: options.asn,
      routerId: options.routerId,
      holdTime: options.holdTime ?? 90,
      nextHop: options.nextHop ?? options.routerId,
      peerAsn: options.peerAsn,
      localPref: options.localPref ?? 100,
      answerRouteRefresh: options.answerRouteRefresh ?? true,
      endOfRibAfterRefresh: options.endOfRibAfterRefresh ?? false,
      allowUnsafe: options.allowUnsafe ?? false,
      family: options.family ?? "bgp-ls",
    };
    nextHopBytes(this.opts.nextHop);
    encodeOpen(this.openFields()); // validates asn / hold time now rather than at the first peer
    this.log = options.log ?? (() => {});
  }

  // ---------------------------------------------------------------------------- life cycle

  /** Starts listening; resolves with the bound port (pass 0 for an ephemeral one). */
  listen(port = 0, host = "127.0.0.1"): Promise<number> {
    if (this.server !== undefined) return Promise.reject(new Error("already listening"));
    if (this.stopped) return Promise.reject(new Error("speaker stopped"));
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      const failed = (err: Error) => {
        this.server = undefined; // a later listen() may retry
        reject(err);
      };
      server.once("error", failed);
      server.listen(port, host, () => {
        server.off("error", failed);
        server.on("error", (err) => this.log(`listener error: ${err.message}`));
        const bound = (server.address() as AddressInfo).port;
        this.log(`listening on ${host}:${bound}`);
        resolve(bound);
      });
    });
  }

  /** The bound port (after listen()). */
  get port(): number | undefined {
    const a = this.server?.address();
    return a !== null && typeof a === "object" ? a.port : undefined;
  }

  get state(): SessionState {
    return this.session?.state ?? "idle";
  }

  /** The peer's OPEN on the current session. */
  get peerOpen(): DecodedOpen | undefined {
    return this.session?.peer;
  }

  /** Number of routes in the Adj-RIB-Out. */
  get ribSize(): number {
    return this.rib.size;
  }

  stats(): SpeakerStats {
    return { ...this.counters };
  }

  /** Resolves when a session is Established (now, or the next one). Rejects after `timeoutMs`
   *  or when the speaker stops. */
  established(timeoutMs = 60_000): Promise<void> {
    if (this.state === "established") return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error("speaker stopped"));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`no BGP session established within ${timeoutMs} ms (state ${this.state})`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** While refusing, new connections are closed at once (to keep ExaBGP's session down). */
  refuseConnections(refuse: boolean): void {
    this.refusing = refuse;
  }

  /** Cease NOTIFICATION (default 6/2 Administrative Shutdown), then close the TCP connection.
   *  The listener stays open: ExaBGP reconnects about a second later unless refused. */
  async closeSession(subcode: number = CeaseSubcode.ADMIN_SHUTDOWN): Promise<void> {
    const s = this.session;
    if (s === undefined) return;
    this.end(s, `closed by us (Cease ${subcode})`, { code: ErrorCode.CEASE, subcode });
    await s.closed;
  }

  /** Resolves once everything written so far has been handed to the kernel. */
  async flush(): Promise<void> {
    const s = this.session;
    if (s === undefined || s.ending || s.socket.writableLength === 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        s.socket.off("drain", done);
        s.socket.off("close", done);
        resolve();
      };
      s.socket.on("drain", done);
      s.socket.on("close", done);
    });
  }

  /** Closes the session (Cease), the listener and every timer. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error("speaker stopped"));
    }
    this.waiters = [];
    for (const s of [...this.sessions]) this.end(s, "speaker stopped", { code: ErrorCode.CEASE, subcode: CeaseSubcode.ADMIN_SHUTDOWN });
    await Promise.all([...this.sessions].map((s) => s.closed));
    const server = this.server;
    if (server !== undefined && server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---------------------------------------------------------------------------- announcing

  /** Nodes, then links, then prefixes, then (by default) End-of-RIB. Validates everything first. */
  announceTopology(topo: LsTopology, opts: { endOfRib?: boolean } = {}): void {
    const routes = topologyRoutes(topo); // throws before anything is sent
    this.announceRoutes(routes);
    if (opts.endOfRib ?? true) this.sendEndOfRib();
  }

  announceNode(topo: LsTopology, name: string): void {
    this.announceRoutes([nodeRoute(topo, routerByName(topo, name))]);
  }

  withdrawNode(topo: LsTopology, name: string): number {
    return this.withdrawRoutes([nodeRoute(topo, routerByName(topo, name))]);
  }

  /** Re-announces the node with node flag O set or cleared. */
  setOverload(topo: LsTopology, name: string, overload: boolean): void {
    this.announceRoutes([nodeRoute(topo, { ...routerByName(topo, name), overload })]);
  }

  announceLink(topo: LsTopology, link: LsLink): void {
    this.announceRoutes([linkRoute(topo, link)]);
  }

  /** Withdraws the link a-b as found in `topo`: both directions unless told "forward" (a -> b). */
  withdrawLink(topo: LsTopology, a: string, b: string, direction: "both" | "forward" = "both"): number {
    return this.withdrawRoutes(linksBetween(topo, a, b, direction).map((l) => linkRoute(topo, l)));
  }

  /** Re-announces the link a-b (both directions by default) with a new IGP metric. `topo` is not
   *  modified: the Adj-RIB-Out holds the new state, a later announceTopology(topo) reverts it. */
  setLinkMetric(topo: LsTopology, a: string, b: string, metric: number, direction: "both" | "forward" = "both"): void {
    this.announceRoutes(linksBetween(topo, a, b, direction).map((l) => linkRoute(topo, { ...l, metric })));
  }

  announcePrefix(topo: LsTopology, prefix: LsPrefix): void {
    this.announceRoutes([prefixRoute(topo, prefix)]);
  }

  withdrawPrefix(topo: LsTopology, prefix: LsPrefix): number {
    return this.withdrawRoutes([prefixRoute(topo, prefix)]);
  }

  /** What a router failure looks like: its node, every link to or from it, its prefixes. */
  withdrawRouter(topo: LsTopology, name: string): number {
    const r = routerByName(topo, name);
    return this.withdrawRoutes([
      nodeRoute(topo, r),
      ...linksOf(topo, name).map((l) => linkRoute(topo, l)),
      ...topo.prefixes.filter((p) => p.router === name).map((p) => prefixRoute(topo, p)),
    ]);
  }

  /**
   * Adds routes to the Adj-RIB-Out (replacing same-NLRI entries) and sends them if Established;
   * otherwise they go out when the next session comes up. Consecutive routes with the same
   * attribute share an UPDATE. Throws, sending nothing, if a route would break ExaBGP 4.2.21
   * (bgpls.ts exabgp421Hazards) unless `unsafe` or the speaker's allowUnsafe is set.
   */
  announceRoutes(routes: readonly LsRoute[], opts: { unsafe?: boolean } = {}): void {
    if (!(opts.unsafe ?? this.opts.allowUnsafe)) {
      for (const r of routes) {
        const hazards = exabgp421Hazards(r.nlri, r.attribute, nextHopBytes(this.opts.nextHop).length);
        if (hazards.length > 0) throw new RangeError(`${r.label}: ${hazards.join("; ")} (pass {unsafe: true} for negative tests)`);
      }
    }
    for (const r of routes) {
      const key = r.nlri.toString("hex");
      this.rib.delete(key); // re-insert: keep the table in the order of the latest announcements
      this.rib.set(key, r);
    }
    const s = this.liveSession();
    if (s !== undefined) this.sendReach(s, routes);
  }

  /** Removes routes from the Adj-RIB-Out and sends MP_UNREACH_NLRI for those that were there.
   *  Returns how many were withdrawn. */
  withdrawRoutes(routes: readonly LsRoute[]): number {
    const gone = routes.filter((r) => this.rib.delete(r.nlri.toString("hex")));
    const s = this.liveSession();
    if (s !== undefined && gone.length > 0) this.sendUnreach(s, gone);
    return gone.length;
  }

  /** RFC 4724 End-of-RIB for BGP-LS. Returns false when there is no Established session. */
  sendEndOfRib(): boolean {
    const s = this.liveSession();
    if (s === undefined) return false;
    this.write(s, encodeEndOfRib(AFI_BGP_LS, SAFI_BGP_LS));
    this.counters.updatesSent++;
    return true;
  }

  /** Writes bytes as they are on the current connection, whatever its state (negative tests).
   *  Throws when there is no connection. */
  sendRaw(bytes: Buffer): void {
    const s = this.session;
    if (s === undefined || s.ending) throw new Error("no BGP connection to send on");
    this.write(s, bytes);
  }

  /** Forgets the Adj-RIB-Out without sending anything (e.g. before a fresh session). */
  clearRib(): void {
    this.rib.clear();
  }

  // ---------------------------------------------------------------------------- wire: out

  private openFields() {
    return {
      asn: this.opts.asn,
      holdTime: this.opts.holdTime,
      routerId: this.opts.routerId,
      capabilities: this.opts.family === "ipv4-unicast" ? ipv4UnicastCapabilities(this.opts.asn) : bgpLsCapabilities(this.opts.asn),
    };
  }

  private liveSession(): Session | undefined {
    const s = this.session;
    return s !== undefined && s.state === "established" && !s.ending ? s : undefined;
  }

  private write(s: Session, bytes: Buffer): boolean {
    if (s.ending || s.socket.destroyed) return false;
    s.socket.write(bytes);
    return true;
  }

  /** ORIGIN, AS_PATH, LOCAL_PREF (iBGP only), in ascending type order (RFC 4271 §5). */
  private baseAttributes(s: Session): Buffer[] {
    const ibgp = s.peer !== undefined && s.peer.asn === this.opts.asn;
    // RFC 4271 §5.1.2: an eBGP speaker prepends its AS; iBGP sends an empty AS_PATH.
    const attrs = [encodeOrigin(), encodeAsPath(ibgp ? [] : [this.opts.asn])];
    if (ibgp) attrs.push(encodeLocalPref(this.opts.localPref));
    return attrs;
  }

  private reachUpdate(s: Session, nlris: Buffer[], attribute: Buffer): Buffer {
    const attrs = this.baseAttributes(s);
    attrs.push(encodeMpReachNlri(AFI_BGP_LS, SAFI_BGP_LS, nextHopBytes(this.opts.nextHop), nlris));
    if (attribute.length > 0) attrs.push(encodeBgpLsAttribute(attribute));
    return encodeUpdate({ attributes: attrs });
  }

  /** Packs consecutive routes sharing an attribute into UPDATEs of at most 4096 octets. */
  private sendReach(s: Session, routes: readonly LsRoute[]): void {
    let batch: LsRoute[] = [];
    let size = 0;
    const flush = () => {
      if (batch.length === 0) return;
      this.write(s, this.reachUpdate(s, batch.map((r) => r.nlri), batch[0].attribute));
      this.counters.updatesSent++;
      batch = [];
    };
    for (const r of routes) {
      const fits = batch.length > 0 && r.attribute.equals(batch[0].attribute) && size + r.nlri.length <= MAX_MESSAGE_LENGTH;
      if (!fits) {
        flush();
        // +1: the MP_REACH_NLRI length may need its extended (2-octet) form as NLRIs are added.
        size = this.reachUpdate(s, [], r.attribute).length + 1;
      }
      batch.push(r);
      size += r.nlri.length;
    }
    flush(); // a single route too large for one UPDATE throws here (encodeMessage length check)
  }

  private sendUnreach(s: Session, routes: readonly LsRoute[]): void {
    const empty = encodeUpdate({ attributes: [encodeMpUnreachNlri(AFI_BGP_LS, SAFI_BGP_LS, [])] }).length + 1;
    let batch: Buffer[] = [];
    let size = empty;
    const flush = () => {
      if (batch.length === 0) return;
      this.write(s, encodeUpdate({ attributes: [encodeMpUnreachNlri(AFI_BGP_LS, SAFI_BGP_LS, batch)] }));
      this.counters.updatesSent++;
      batch = [];
      size = empty;
    };
    for (const r of routes) {
      if (size + r.nlri.length > MAX_MESSAGE_LENGTH) flush();
      batch.push(r.nlri);
      size += r.nlri.length;
    }
    flush();
  }

  /** The whole Adj-RIB-Out, then End-of-RIB if asked. */
  private replay(s: Session, endOfRib: boolean): void {
    if (this.rib.size === 0 && !endOfRib) return;
    this.log(`sending the Adj-RIB-Out: ${this.rib.size} routes`);
    this.sendReach(s, [...this.rib.values()]);
    if (endOfRib) {
      this.write(s, encodeEndOfRib(AFI_BGP_LS, SAFI_BGP_LS));
      this.counters.updatesSent++;
    }
  }

  // ---------------------------------------------------------------------------- wire: in

  private accept(socket: Socket): void {
    const peer = { address: socket.remoteAddress ?? "?", port: socket.remotePort ?? 0 };
    if (this.stopped || this.refusing) {
      this.log(`refusing connection from ${peer.address}:${peer.port}`);
      socket.destroy();
      return;
    }
    // A new connection while one exists: ExaBGP only redials when it considers the old session
    // dead, so the newest wins (no RFC 4271 §6.8 collision detection in a one-peer lab).
    if (this.session !== undefined) {
      this.end(this.session, "replaced by a new connection", { code: ErrorCode.CEASE, subcode: CeaseSubcode.CONNECTION_COLLISION });
    }
    let markClosed = () => {};
    const s: Session = {
      socket,
      framer: new MessageFramer(),
      state: "open-sent",
      holdTime: LARGE_HOLD_TIME_S,
      ending: false,
      wasEstablished: false,
      closed: new Promise<void>((resolve) => (markClosed = resolve)),
    };
    this.session = s;
    this.sessions.add(s);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(s, chunk));
    socket.on("error", (err) => this.end(s, `socket error: ${err.message}`));
    socket.on("close", () => {
      this.end(s, "connection closed by the peer");
      this.clearTimers(s);
      this.sessions.delete(s);
      markClosed();
    });
    this.log(`connection from ${peer.address}:${peer.port}`);
    this.emit("connection", peer);
    this.write(s, encodeOpen(this.openFields()));
    this.armHoldTimer(s);
  }

  private receive(s: Session, chunk: Buffer): void {
    if (s.ending) return;
    let messages: BgpMessage[];
    try {
      messages = s.framer.push(chunk);
    } catch (err) {
      this.fail(s, err);
      return;
    }
    for (const m of messages) {
      if (s.ending) return;
      try {
        this.handle(s, m);
      } catch (err) {
        this.fail(s, err);
        return;
      }
    }
  }

  private fail(s: Session, err: unknown): void {
    if (err instanceof BgpError) {
      this.end(s, `error: ${err.message}`, { code: err.code, subcode: err.subcode, data: err.data });
    } else {
      this.end(s, `internal error: ${err instanceof Error ? err.message : String(err)}`, { code: ErrorCode.CEASE, subcode: 0 });
    }
  }

  private handle(s: Session, m: BgpMessage): void {
    const t = nextState(s.state, m.type);
    if (t.error !== undefined) {
      this.end(s, `FSM error: ${t.error.reason}`, t.error);
      return;
    }
    this.armHoldTimer(s); // any message from the peer proves it alive
    switch (m.type) {
      case MessageType.OPEN:
        return this.onOpen(s, decodeOpen(m.body));
      case MessageType.KEEPALIVE:
        this.counters.keepalivesReceived++;
        if (t.next === "established" && s.state !== "established") this.onEstablished(s);
        return;
      case MessageType.UPDATE: {
        this.counters.updatesReceived++;
        let endOfRib: { afi: number; safi: number } | undefined;
        try {
          endOfRib = endOfRibFamily(m.body);
        } catch {
          endOfRib = undefined; // we do not act on the peer's routes; a malformed one is only logged
          this.log("malformed UPDATE from the peer (ignored)");
        }
        this.emit("update", { body: m.body, endOfRib });
        return;
      }
      case MessageType.ROUTE_REFRESH:
        return this.onRouteRefresh(s, decodeRouteRefresh(m.body));
      case MessageType.NOTIFICATION: {
        const n = decodeNotification(m.body);
        this.emit("notification", { direction: "received", ...n });
        this.end(s, `NOTIFICATION received ${n.code}/${n.subcode}${n.data.length ? ` data ${n.data.toString("hex")}` : ""}`);
        return;
      }
    }
  }

  private onOpen(s: Session, open: DecodedOpen): void {
    const refuse = (subcode: number, reason: string, data = Buffer.alloc(0)) => {
      this.end(s, `OPEN refused: ${reason}`, { code: ErrorCode.OPEN_MESSAGE, subcode, data });
    };
    if (open.version !== 4) return refuse(OpenErrorSubcode.UNSUPPORTED_VERSION, `version ${open.version}`, Buffer.from([0, 4]));
    if (this.opts.peerAsn !== undefined && open.asn !== this.opts.peerAsn) {
      return refuse(OpenErrorSubcode.BAD_PEER_AS, `peer AS ${open.asn}, expected ${this.opts.peerAsn}`);
    }
    if (open.holdTime === 1 || open.holdTime === 2) return refuse(OpenErrorSubcode.UNACCEPTABLE_HOLD_TIME, `hold time ${open.holdTime}`);
    if (open.routerId === this.opts.routerId) return refuse(OpenErrorSubcode.BAD_BGP_IDENTIFIER, `same BGP identifier ${open.routerId}`);
    if (!open.families.some((f) => f.afi === AFI_BGP_LS && f.safi === SAFI_BGP_LS)) {
      this.log("peer did not offer BGP-LS (16388/71): it will ignore what we send");
    }
    s.peer = open;
    s.holdTime = Math.min(this.opts.holdTime, open.holdTime); // RFC 4271 §4.2
    s.state = "open-confirm";
    this.log(`OPEN from AS ${open.asn} id ${open.routerId} hold ${open.holdTime}s -> hold ${s.holdTime}s`);
    this.emit("open", open);
    this.sendKeepalive(s);
    this.armHoldTimer(s);
  }

  private onEstablished(s: Session): void {
    s.state = "established";
    s.wasEstablished = true;
    this.counters.sessionsEstablished++;
    if (s.holdTime > 0) {
      // RFC 4271 §10: KeepaliveTime is a third of the hold time.
      s.keepaliveTimer = setInterval(() => this.sendKeepalive(s), (s.holdTime * 1000) / 3);
    }
    this.log("session Established");
    // A new session starts from an empty Adj-RIB-In at the peer: give it our table (RFC 4271 §9.4).
    if (this.rib.size > 0) this.replay(s, true);
    this.emit("established");
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  private onRouteRefresh(s: Session, rr: DecodedRouteRefresh): void {
    this.counters.routeRefreshesReceived++;
    this.log(`ROUTE-REFRESH afi ${rr.afi} safi ${rr.safi} subtype ${rr.subtype}`);
    this.emit("route-refresh", rr);
    // RFC 2918 §4: re-advertise the Adj-RIB-Out of that <AFI, SAFI>.
    if (this.opts.answerRouteRefresh && rr.afi === AFI_BGP_LS && rr.safi === SAFI_BGP_LS && rr.subtype === 0) {
      this.replay(s, this.opts.endOfRibAfterRefresh);
    }
  }

  // ---------------------------------------------------------------------------- timers, teardown

  private sendKeepalive(s: Session): void {
    if (this.write(s, encodeKeepalive())) this.counters.keepalivesSent++;
  }

  private armHoldTimer(s: Session): void {
    if (s.holdTimer !== undefined) clearTimeout(s.holdTimer);
    s.holdTimer = undefined;
    if (s.ending || s.holdTime === 0) return;
    s.holdTimer = setTimeout(() => {
      this.end(s, `hold timer expired (${s.holdTime}s without a message)`, { code: ErrorCode.HOLD_TIMER_EXPIRED, subcode: 0 });
    }, s.holdTime * 1000);
  }

  private clearTimers(s: Session): void {
    for (const t of [s.holdTimer, s.keepaliveTimer, s.graceTimer]) if (t !== undefined) clearTimeout(t);
    s.holdTimer = s.keepaliveTimer = s.graceTimer = undefined;
  }

  /** Ends a session once: optional NOTIFICATION, half-close, destroy after a grace period. */
  private end(s: Session, reason: string, notify?: { code: number; subcode: number; data?: Buffer }): void {
    if (s.ending) return;
    if (notify !== undefined && !s.socket.destroyed) {
      const data = notify.data ?? Buffer.alloc(0);
      s.socket.write(encodeNotification(notify.code, notify.subcode, data));
      this.emit("notification", { direction: "sent", code: notify.code, subcode: notify.subcode, data });
    }
    s.ending = true;
    const wasEstablished = s.wasEstablished;
    s.state = "idle";
    this.clearTimers(s);
    if (this.session === s) this.session = undefined;
    if (!s.socket.destroyed) {
      s.socket.end();
      s.graceTimer = setTimeout(() => s.socket.destroy(), CLOSE_GRACE_MS);
    }
    this.log(`session down: ${reason}`);
    this.emit("down", { reason, wasEstablished });
  }
}

/** The next hop's octets: 4 for IPv4, 16 for IPv6 (RFC 4760 §3; RFC 9552 §5.5 allows either). */
function nextHopBytes(address: string): Buffer {
  return address.includes(":") ? ipv6ToBytes(address) : ipv4ToBytes(address);
}
