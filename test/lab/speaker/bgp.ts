// BGP-4 messages (RFC 4271) as the lab's BGP-LS speaker needs them: encoders for OPEN, KEEPALIVE,
// NOTIFICATION, UPDATE and its path attributes (incl. RFC 4760 multiprotocol reach/unreach and the
// RFC 9552 BGP-LS attribute), and a small decoder for what ExaBGP sends back.
//
// Pure core: Buffers in, Buffers or records out. No sockets, no clocks (the speaker is the shell).
// Every encoder checks its own field ranges and the 4096-octet message limit (RFC 4271 §4), and
// throws a BgpError carrying the NOTIFICATION code/subcode a receiver would use for the fault.

// ------------------------------------------------------------------------------------------------
// Constants, named after the IANA registries
// ------------------------------------------------------------------------------------------------

/** RFC 4271 §4.1: 16-octet marker of all ones, 2-octet length, 1-octet type. */
export const MARKER_LENGTH = 16;
export const HEADER_LENGTH = 19;
/** RFC 4271 §4: a BGP message is 19..4096 octets (no RFC 8654 extended messages here). */
export const MAX_MESSAGE_LENGTH = 4096;
export const BGP_VERSION = 4;

/** IANA "BGP Message Types". */
export const MessageType = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5, // RFC 2918
} as const;

/** IANA "BGP OPEN Optional Parameter Types". */
export const OptionalParameter = {
  CAPABILITIES: 2, // RFC 5492
} as const;

/** IANA "Capability Codes". */
export const CapabilityCode = {
  MULTIPROTOCOL: 1, // RFC 4760
  ROUTE_REFRESH: 2, // RFC 2918
  FOUR_OCTET_AS: 65, // RFC 6793
} as const;

/** IANA "Address Family Numbers" and "SAFI Values" for BGP-LS (RFC 9552 §5.2, ex RFC 7752). */
export const AFI_BGP_LS = 16388;
export const SAFI_BGP_LS = 71;
export const SAFI_BGP_LS_VPN = 72;

/** RFC 6793 §9: the 2-octet stand-in for a 4-octet AS in the OPEN "My AS" field. */
export const AS_TRANS = 23456;

/** IANA "BGP Path Attributes". */
export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  MP_REACH_NLRI: 14, // RFC 4760
  MP_UNREACH_NLRI: 15, // RFC 4760
  BGP_LS: 29, // RFC 9552 §5.3
} as const;

/** RFC 4271 §4.3: attribute flag bits (high-order octet). */
export const AttrFlag = {
  OPTIONAL: 0x80,
  TRANSITIVE: 0x40,
  PARTIAL: 0x20,
  EXTENDED_LENGTH: 0x10,
} as const;

/** RFC 4271 §5.1.1 ORIGIN values. */
export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;

/** RFC 4271 §4.3 AS_PATH segment types. */
export const AsPathSegment = { AS_SET: 1, AS_SEQUENCE: 2 } as const;

/** IANA "BGP Error (Notification) Codes". */
export const ErrorCode = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5, // RFC 6608
  CEASE: 6,
  ROUTE_REFRESH_MESSAGE: 7, // RFC 7313
} as const;

/** IANA "Message Header Error subcodes". */
export const HeaderErrorSubcode = {
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const;

/** IANA "OPEN Message Error subcodes". */
export const OpenErrorSubcode = {
  UNSUPPORTED_VERSION: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
} as const;

/** IANA "BGP Finite State Machine Error Subcodes" (RFC 6608). */
export const FsmErrorSubcode = {
  UNSPECIFIED: 0,
  UNEXPECTED_IN_OPENSENT: 1,
  UNEXPECTED_IN_OPENCONFIRM: 2,
  UNEXPECTED_IN_ESTABLISHED: 3,
} as const;

/** IANA "BGP Cease NOTIFICATION message subcodes" (RFC 4486). */
export const CeaseSubcode = {
  MAX_PREFIXES: 1,
  ADMIN_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMIN_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIG_CHANGE: 6,
  CONNECTION_COLLISION: 7,
  OUT_OF_RESOURCES: 8,
} as const;

/** RFC 7313 §3: the old Reserved octet of ROUTE-REFRESH is the message subtype. */
export const RouteRefreshSubtype = { NORMAL: 0, BORR: 1, EORR: 2 } as const;

/** Name of a message type for logs ("type 9" for unknown ones). */
export function messageTypeName(type: number): string {
  for (const [name, value] of Object.entries(MessageType)) if (value === type) return name;
  return `type ${type}`;
}

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

/** A wire fault, with the NOTIFICATION a receiver would send for it (RFC 4271 §6). */
export class BgpError extends Error {
  constructor(
    readonly code: number,
    readonly subcode: number,
    message: string,
    readonly data: Buffer = Buffer.alloc(0),
  ) {
    super(message);
    this.name = "BgpError";
  }
}

function check(ok: boolean, message: string, code: number = ErrorCode.UPDATE_MESSAGE, subcode = 0): asserts ok {
  if (!ok) throw new BgpError(code, subcode, message);
}

function checkUint(value: number, bits: 8 | 16 | 24 | 32, what: string): void {
  check(
    Number.isInteger(value) && value >= 0 && value < 2 ** bits,
    `${what} must be an integer in 0..${2 ** bits - 1}, got ${value}`,
  );
}

// ------------------------------------------------------------------------------------------------
// Small field helpers
// ------------------------------------------------------------------------------------------------

/** Dotted-quad IPv4 address to 4 octets (no hostnames, no shorthand). */
export function ipv4ToBytes(address: string): Buffer {
  const parts = address.split(".");
  check(parts.length === 4, `not a dotted-quad IPv4 address: ${JSON.stringify(address)}`);
  const out = Buffer.alloc(4);
  parts.forEach((p, i) => {
    check(/^\d{1,3}$/.test(p) && Number(p) <= 255, `not a dotted-quad IPv4 address: ${JSON.stringify(address)}`);
    out[i] = Number(p);
  });
  return out;
}

export function bytesToIpv4(b: Buffer, offset = 0): string {
  check(b.length >= offset + 4, "IPv4 address truncated");
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

// ------------------------------------------------------------------------------------------------
// Message header
// ------------------------------------------------------------------------------------------------

//  RFC 4271 §4.1 Message Header Format
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                                                               |
//  +                                                               +
//  |                           Marker                              |
//  +                                                               +
//  |                                                               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |          Length               |      Type     |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/** Wraps a message body in the 19-octet header. */
export function encodeMessage(type: number, body: Buffer): Buffer {
  checkUint(type, 8, "message type");
  const length = HEADER_LENGTH + body.length;
  check(
    length <= MAX_MESSAGE_LENGTH,
    `${messageTypeName(type)} message of ${length} octets exceeds ${MAX_MESSAGE_LENGTH}`,
    ErrorCode.MESSAGE_HEADER,
    HeaderErrorSubcode.BAD_MESSAGE_LENGTH,
  );
  const out = Buffer.alloc(length, 0xff);
  out.writeUInt16BE(length, MARKER_LENGTH);
  out[MARKER_LENGTH + 2] = type;
  body.copy(out, HEADER_LENGTH);
  return out;
}

// ------------------------------------------------------------------------------------------------
// OPEN and capabilities
// ------------------------------------------------------------------------------------------------

export interface Capability {
  code: number;
  value: Buffer;
}

//  RFC 4760 §8 Multiprotocol Extensions capability value
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |              AFI              |     Res.      |     SAFI      |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
export function multiprotocolCapability(afi: number, safi: number): Capability {
  checkUint(afi, 16, "AFI");
  checkUint(safi, 8, "SAFI");
  return { code: CapabilityCode.MULTIPROTOCOL, value: Buffer.from([afi >> 8, afi & 0xff, 0, safi]) };
}

/** RFC 2918 §2: route-refresh capability, empty value. */
export function routeRefreshCapability(): Capability {
  return { code: CapabilityCode.ROUTE_REFRESH, value: Buffer.alloc(0) };
}

/** RFC 6793 §3: the speaker's real (4-octet) AS number. */
export function fourOctetAsCapability(asn: number): Capability {
  checkUint(asn, 32, "AS number");
  return { code: CapabilityCode.FOUR_OCTET_AS, value: u32(asn) };
}

/** What a BGP-LS producer advertises: MP 16388/71, route-refresh, 4-octet AS. */
export function bgpLsCapabilities(asn: number): Capability[] {
  return [multiprotocolCapability(AFI_BGP_LS, SAFI_BGP_LS), routeRefreshCapability(), fourOctetAsCapability(asn)];
}

/** A plain IPv4 unicast speaker's OPEN (RFC 4760 AFI 1, SAFI 1). */
export function ipv4UnicastCapabilities(asn: number): Capability[] {
  return [multiprotocolCapability(1, 1), routeRefreshCapability(), fourOctetAsCapability(asn)];
}

export interface OpenFields {
  asn: number;
  holdTime: number;
  routerId: string;
  capabilities: Capability[];
}

//  RFC 4271 §4.2 OPEN Message Format
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+
//  |    Version    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |     My Autonomous System      |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |           Hold Time           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         BGP Identifier                        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | Opt Parm Len  |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |             Optional Parameters (variable)                    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// Each capability goes in its own Capabilities optional parameter (RFC 5492 §4 allows one or
// several per parameter); that keeps every parameter far below its 255-octet length limit.
export function encodeOpen(f: OpenFields): Buffer {
  checkUint(f.asn, 32, "AS number");
  checkUint(f.holdTime, 16, "hold time");
  // RFC 4271 §4.2: the hold time MUST be zero or at least three seconds.
  check(f.holdTime === 0 || f.holdTime >= 3, `hold time must be 0 or >= 3, got ${f.holdTime}`);
  const params: Buffer[] = [];
  for (const cap of f.capabilities) {
    checkUint(cap.code, 8, "capability code");
    check(cap.value.length <= 253, `capability ${cap.code} value too long (${cap.value.length})`);
    params.push(
      Buffer.from([OptionalParameter.CAPABILITIES, cap.value.length + 2, cap.code, cap.value.length]),
      cap.value,
    );
  }
  const optional = Buffer.concat(params);
  check(optional.length <= 255, `OPEN optional parameters too long (${optional.length} octets)`);
  const fixed = Buffer.alloc(10);
  fixed[0] = BGP_VERSION;
  fixed.writeUInt16BE(f.asn > 0xffff ? AS_TRANS : f.asn, 1);
  fixed.writeUInt16BE(f.holdTime, 3);
  ipv4ToBytes(f.routerId).copy(fixed, 5);
  fixed[9] = optional.length;
  return encodeMessage(MessageType.OPEN, Buffer.concat([fixed, optional]));
}

/** RFC 4271 §4.4: a KEEPALIVE is a bare header. */
export function encodeKeepalive(): Buffer {
  return encodeMessage(MessageType.KEEPALIVE, Buffer.alloc(0));
}

//  RFC 4271 §4.5 NOTIFICATION Message Format
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | Error code    | Error subcode |   Data (variable)             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
export function encodeNotification(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): Buffer {
  checkUint(code, 8, "error code");
  checkUint(subcode, 8, "error subcode");
  return encodeMessage(MessageType.NOTIFICATION, Buffer.concat([Buffer.from([code, subcode]), data]));
}

//  RFC 2918 §3 ROUTE-REFRESH Message (Reserved = Message Subtype since RFC 7313 §3)
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |              AFI              |     Res.      |     SAFI      |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
export function encodeRouteRefresh(afi = AFI_BGP_LS, safi = SAFI_BGP_LS, subtype = 0): Buffer {
  checkUint(afi, 16, "AFI");
  checkUint(safi, 8, "SAFI");
  checkUint(subtype, 8, "route-refresh subtype");
  return encodeMessage(MessageType.ROUTE_REFRESH, Buffer.from([afi >> 8, afi & 0xff, subtype, safi]));
}

// ------------------------------------------------------------------------------------------------
// Path attributes
// ------------------------------------------------------------------------------------------------

export interface AttributeOptions {
  /** Use the 2-octet length even when the value fits in one (some routers always do for
   *  MP_REACH_NLRI; needed to reproduce captured messages byte for byte). */
  extendedLength?: boolean;
}

//  RFC 4271 §4.3 Path Attribute
//   0                   1
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Attr. Flags  |Attr. Type Code|  then Attr. Length: 1 octet, or 2 if Extended Length (0x10)
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/** One path attribute: flags, type, length (extended automatically above 255), value. */
export function encodePathAttribute(flags: number, type: number, value: Buffer, opts: AttributeOptions = {}): Buffer {
  checkUint(flags, 8, "attribute flags");
  checkUint(type, 8, "attribute type");
  check(value.length <= 0xffff, `attribute ${type} value of ${value.length} octets exceeds 65535`);
  const extended = opts.extendedLength === true || value.length > 0xff;
  const f = extended ? flags | AttrFlag.EXTENDED_LENGTH : flags & ~AttrFlag.EXTENDED_LENGTH;
  const head = extended ? Buffer.from([f, type, value.length >> 8, value.length & 0xff]) : Buffer.from([f, type, value.length]);
  return Buffer.concat([head, value]);
}

/** RFC 4271 §5.1.1: ORIGIN, well-known mandatory (transitive). */
export function encodeOrigin(origin: number = Origin.IGP): Buffer {
  check(origin === 0 || origin === 1 || origin === 2, `ORIGIN must be 0, 1 or 2, got ${origin}`);
  return encodePathAttribute(AttrFlag.TRANSITIVE, AttrType.ORIGIN, Buffer.from([origin]));
}

//  RFC 4271 §4.3 AS_PATH segment, with 4-octet ASNs (RFC 6793 §3, both ends have the capability)
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | segment type  | segment length|  AS number (4 octets) ...
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/** AS_PATH as one AS_SEQUENCE (split every 255 ASNs); `[]` gives the empty path of iBGP. */
export function encodeAsPath(asns: readonly number[]): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < asns.length; i += 255) {
    const seg = asns.slice(i, i + 255);
    parts.push(Buffer.from([AsPathSegment.AS_SEQUENCE, seg.length]));
    for (const asn of seg) {
      checkUint(asn, 32, "AS number");
      parts.push(u32(asn));
    }
  }
  return encodePathAttribute(AttrFlag.TRANSITIVE, AttrType.AS_PATH, Buffer.concat(parts));
}

/** RFC 4271 §5.1.4: MULTI_EXIT_DISC, optional non-transitive, 4 octets. */
export function encodeMed(med: number): Buffer {
  checkUint(med, 32, "MED");
  return encodePathAttribute(AttrFlag.OPTIONAL, AttrType.MULTI_EXIT_DISC, u32(med));
}

/** RFC 4271 §5.1.5: LOCAL_PREF, well-known (iBGP only), 4 octets. */
export function encodeLocalPref(pref: number): Buffer {
  checkUint(pref, 32, "LOCAL_PREF");
  return encodePathAttribute(AttrFlag.TRANSITIVE, AttrType.LOCAL_PREF, u32(pref));
}

//  RFC 4760 §3 MP_REACH_NLRI (type 14, optional non-transitive)
//  +---------------------------------------------------------+
//  | Address Family Identifier (2 octets)                    |
//  +---------------------------------------------------------+
//  | Subsequent Address Family Identifier (1 octet)          |
//  +---------------------------------------------------------+
//  | Length of Next Hop Network Address (1 octet)            |
//  +---------------------------------------------------------+
//  | Network Address of Next Hop (variable)                  |
//  +---------------------------------------------------------+
//  | Reserved (1 octet)                                      |
//  +---------------------------------------------------------+
//  | Network Layer Reachability Information (variable)       |
//  +---------------------------------------------------------+
/** MP_REACH_NLRI. For BGP-LS the next hop is 4 octets (IPv4) or 16 (IPv6) — ExaBGP 4.2.21 resets
 *  the session on anything but 4 (FORMAT.md §8), so callers pass ipv4ToBytes(...). */
export function encodeMpReachNlri(
  afi: number,
  safi: number,
  nextHop: Buffer,
  nlris: readonly Buffer[],
  opts: AttributeOptions = {},
): Buffer {
  checkUint(afi, 16, "AFI");
  checkUint(safi, 8, "SAFI");
  check(nextHop.length <= 255, `next hop of ${nextHop.length} octets`);
  const head = Buffer.from([afi >> 8, afi & 0xff, safi, nextHop.length]);
  const value = Buffer.concat([head, nextHop, Buffer.from([0]), ...nlris]);
  return encodePathAttribute(AttrFlag.OPTIONAL, AttrType.MP_REACH_NLRI, value, opts);
}

//  RFC 4760 §4 MP_UNREACH_NLRI (type 15, optional non-transitive)
//  +---------------------------------------------------------+
//  | Address Family Identifier (2 octets)                    |
//  +---------------------------------------------------------+
//  | Subsequent Address Family Identifier (1 octet)          |
//  +---------------------------------------------------------+
//  | Withdrawn Routes (variable)                             |
//  +---------------------------------------------------------+
export function encodeMpUnreachNlri(
  afi: number,
  safi: number,
  nlris: readonly Buffer[],
  opts: AttributeOptions = {},
): Buffer {
  checkUint(afi, 16, "AFI");
  checkUint(safi, 8, "SAFI");
  const value = Buffer.concat([Buffer.from([afi >> 8, afi & 0xff, safi]), ...nlris]);
  return encodePathAttribute(AttrFlag.OPTIONAL, AttrType.MP_UNREACH_NLRI, value, opts);
}

/** RFC 9552 §5.3: the BGP-LS attribute (type 29, optional non-transitive) wraps attribute TLVs. */
export function encodeBgpLsAttribute(tlvs: Buffer | readonly Buffer[], opts: AttributeOptions = {}): Buffer {
  const value = Buffer.isBuffer(tlvs) ? tlvs : Buffer.concat(tlvs as Buffer[]);
  return encodePathAttribute(AttrFlag.OPTIONAL, AttrType.BGP_LS, value, opts);
}

// ------------------------------------------------------------------------------------------------
// UPDATE and End-of-RIB
// ------------------------------------------------------------------------------------------------

export interface UpdateParts {
  /** Already-encoded IPv4 withdrawn routes (unused for BGP-LS). */
  withdrawnRoutes?: Buffer;
  /** Already-encoded path attributes, written in the order given (RFC 4271 §5: SHOULD be
   *  ascending by type; some routers put MP_REACH_NLRI first, which tests reproduce). */
  attributes: readonly Buffer[];
  /** Already-encoded IPv4 NLRI (unused for BGP-LS). */
  nlri?: Buffer;
}

//  RFC 4271 §4.3 UPDATE Message Format
//  +-----------------------------------------------------+
//  |   Withdrawn Routes Length (2 octets)                |
//  +-----------------------------------------------------+
//  |   Withdrawn Routes (variable)                       |
//  +-----------------------------------------------------+
//  |   Total Path Attribute Length (2 octets)            |
//  +-----------------------------------------------------+
//  |   Path Attributes (variable)                        |
//  +-----------------------------------------------------+
//  |   Network Layer Reachability Information (variable) |
//  +-----------------------------------------------------+
export function encodeUpdate(parts: UpdateParts): Buffer {
  const withdrawn = parts.withdrawnRoutes ?? Buffer.alloc(0);
  const attrs = Buffer.concat(parts.attributes as Buffer[]);
  const nlri = parts.nlri ?? Buffer.alloc(0);
  check(withdrawn.length <= 0xffff && attrs.length <= 0xffff, "UPDATE section longer than 65535 octets");
  return encodeMessage(
    MessageType.UPDATE,
    Buffer.concat([u16(withdrawn.length), withdrawn, u16(attrs.length), attrs, nlri]),
  );
}

/** Octets an UPDATE adds around its attributes: header + the two 2-octet length fields. */
export const UPDATE_OVERHEAD = HEADER_LENGTH + 4;

/** RFC 4724 §2: End-of-RIB for a non-IPv4-unicast family = UPDATE whose only attribute is an
 *  MP_UNREACH_NLRI for <AFI, SAFI> with no withdrawn routes. */
export function encodeEndOfRib(afi = AFI_BGP_LS, safi = SAFI_BGP_LS): Buffer {
  return encodeUpdate({ attributes: [encodeMpUnreachNlri(afi, safi, [])] });
}

// ------------------------------------------------------------------------------------------------
// Decoding
// ------------------------------------------------------------------------------------------------

export interface BgpMessage {
  type: number;
  /** The message without its 19-octet header (a view into the received bytes). */
  body: Buffer;
}

/** Splits a TCP byte stream into BGP messages; checks marker and length (RFC 4271 §6.1). */
export class MessageFramer {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds received bytes; returns every complete message. Throws BgpError on a bad header,
   *  after which the stream is unusable (the session must be closed). */
  push(chunk: Buffer): BgpMessage[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: BgpMessage[] = [];
    while (this.pending.length >= HEADER_LENGTH) {
      const msg = decodeHeader(this.pending);
      const length = this.pending.readUInt16BE(MARKER_LENGTH);
      if (this.pending.length < length) break;
      out.push({ type: msg.type, body: this.pending.subarray(HEADER_LENGTH, length) });
      this.pending = this.pending.subarray(length);
    }
    return out;
  }

  /** Octets received but not yet part of a complete message. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** Checks the header at the start of `buf` and returns the type and declared length. */
export function decodeHeader(buf: Buffer): { type: number; length: number } {
  if (buf.length < HEADER_LENGTH) {
    throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.BAD_MESSAGE_LENGTH, "header truncated");
  }
  for (let i = 0; i < MARKER_LENGTH; i++) {
    if (buf[i] !== 0xff) {
      throw new BgpError(
        ErrorCode.MESSAGE_HEADER,
        HeaderErrorSubcode.CONNECTION_NOT_SYNCHRONIZED,
        "marker is not all ones",
      );
    }
  }
  const length = buf.readUInt16BE(MARKER_LENGTH);
  const type = buf[MARKER_LENGTH + 2];
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
    throw new BgpError(
      ErrorCode.MESSAGE_HEADER,
      HeaderErrorSubcode.BAD_MESSAGE_LENGTH,
      `bad message length ${length}`,
      u16(length),
    );
  }
  // RFC 4271 §6.1: minimum lengths per type (OPEN 29, KEEPALIVE exactly 19, NOTIFICATION 21,
  // UPDATE 23; ROUTE-REFRESH is 23 by RFC 2918).
  const min: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };
  const minimum = min[type];
  if (minimum === undefined) {
    throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.BAD_MESSAGE_TYPE, `bad message type ${type}`, Buffer.from([type]));
  }
  if (length < minimum || (type === MessageType.KEEPALIVE && length !== HEADER_LENGTH)) {
    throw new BgpError(
      ErrorCode.MESSAGE_HEADER,
      HeaderErrorSubcode.BAD_MESSAGE_LENGTH,
      `${messageTypeName(type)} of ${length} octets`,
      u16(length),
    );
  }
  return { type, length };
}

/** Decodes one complete message (header included). */
export function decodeMessage(buf: Buffer): BgpMessage {
  const { type, length } = decodeHeader(buf);
  if (buf.length !== length) {
    throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.BAD_MESSAGE_LENGTH, `length field ${length}, got ${buf.length} octets`);
  }
  return { type, body: buf.subarray(HEADER_LENGTH) };
}

export interface DecodedOpen {
  version: number;
  /** The 4-octet AS when the peer sent capability 65, else the 2-octet My AS field. */
  asn: number;
  holdTime: number;
  routerId: string;
  capabilities: Capability[];
  /** <AFI, SAFI> pairs of the multiprotocol capabilities. */
  families: Array<{ afi: number; safi: number }>;
  routeRefresh: boolean;
}

/** Enough of an OPEN body (RFC 4271 §4.2, RFC 5492) to validate and log it. */
export function decodeOpen(body: Buffer): DecodedOpen {
  const bad = (sub: number, m: string) => new BgpError(ErrorCode.OPEN_MESSAGE, sub, m);
  if (body.length < 10) throw bad(0, "OPEN truncated");
  const optLength = body[9];
  if (body.length !== 10 + optLength) throw bad(0, `OPEN optional parameters length ${optLength} does not match`);
  const caps: Capability[] = [];
  let off = 10;
  while (off < body.length) {
    if (off + 2 > body.length) throw bad(0, "optional parameter header truncated");
    const ptype = body[off];
    const plen = body[off + 1];
    const end = off + 2 + plen;
    if (end > body.length) throw bad(0, "optional parameter truncated");
    if (ptype !== OptionalParameter.CAPABILITIES) {
      throw bad(OpenErrorSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `optional parameter ${ptype}`);
    }
    let c = off + 2;
    while (c < end) {
      if (c + 2 > end) throw bad(0, "capability header truncated");
      const clen = body[c + 1];
      if (c + 2 + clen > end) throw bad(0, `capability ${body[c]} truncated`);
      caps.push({ code: body[c], value: body.subarray(c + 2, c + 2 + clen) });
      c += 2 + clen;
    }
    off = end;
  }
  const families: Array<{ afi: number; safi: number }> = [];
  let asn = body.readUInt16BE(1);
  for (const cap of caps) {
    if (cap.code === CapabilityCode.MULTIPROTOCOL && cap.value.length === 4) {
      families.push({ afi: cap.value.readUInt16BE(0), safi: cap.value[3] });
    }
    if (cap.code === CapabilityCode.FOUR_OCTET_AS && cap.value.length === 4) asn = cap.value.readUInt32BE(0);
  }
  return {
    version: body[0],
    asn,
    holdTime: body.readUInt16BE(3),
    routerId: bytesToIpv4(body, 5),
    capabilities: caps,
    families,
    routeRefresh: caps.some((c) => c.code === CapabilityCode.ROUTE_REFRESH),
  };
}

export interface DecodedNotification {
  code: number;
  subcode: number;
  data: Buffer;
}

export function decodeNotification(body: Buffer): DecodedNotification {
  if (body.length < 2) throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.BAD_MESSAGE_LENGTH, "NOTIFICATION truncated");
  return { code: body[0], subcode: body[1], data: body.subarray(2) };
}

export interface DecodedRouteRefresh {
  afi: number;
  subtype: number;
  safi: number;
}

export function decodeRouteRefresh(body: Buffer): DecodedRouteRefresh {
  if (body.length !== 4) {
    // RFC 7313 §5: wrong length is "Invalid Message Length" (7/1), data = the message.
    throw new BgpError(ErrorCode.ROUTE_REFRESH_MESSAGE, 1, `ROUTE-REFRESH of ${body.length} octets`, body);
  }
  return { afi: body.readUInt16BE(0), subtype: body[2], safi: body[3] };
}

export interface DecodedAttribute {
  flags: number;
  type: number;
  value: Buffer;
}

export interface DecodedUpdate {
  withdrawnRoutes: Buffer;
  attributes: DecodedAttribute[];
  nlri: Buffer;
}

/** Splits an UPDATE body into its sections and attributes (values not interpreted). */
export function decodeUpdate(body: Buffer): DecodedUpdate {
  const bad = (m: string) => new BgpError(ErrorCode.UPDATE_MESSAGE, 1, m); // 1 = Malformed Attribute List
  if (body.length < 4) throw bad("UPDATE truncated");
  const wlen = body.readUInt16BE(0);
  if (2 + wlen + 2 > body.length) throw bad("withdrawn routes length overruns the message");
  const alen = body.readUInt16BE(2 + wlen);
  const astart = 4 + wlen;
  if (astart + alen > body.length) throw bad("total path attribute length overruns the message");
  const attributes: DecodedAttribute[] = [];
  let off = astart;
  while (off < astart + alen) {
    if (off + 3 > astart + alen) throw bad("attribute header truncated");
    const flags = body[off];
    const type = body[off + 1];
    const extended = (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
    if (extended && off + 4 > astart + alen) throw bad("attribute header truncated");
    const len = extended ? body.readUInt16BE(off + 2) : body[off + 2];
    const vstart = off + (extended ? 4 : 3);
    if (vstart + len > astart + alen) throw bad(`attribute ${type} overruns the attribute list`);
    attributes.push({ flags, type, value: body.subarray(vstart, vstart + len) });
    off = vstart + len;
  }
  return { withdrawnRoutes: body.subarray(2, 2 + wlen), attributes, nlri: body.subarray(astart + alen) };
}

/** RFC 4724 §2: is this UPDATE body an End-of-RIB? Returns its <AFI, SAFI>, else undefined.
 *  (IPv4 unicast EoR is the empty UPDATE; others a lone, empty MP_UNREACH_NLRI.) */
export function endOfRibFamily(body: Buffer): { afi: number; safi: number } | undefined {
  const u = decodeUpdate(body);
  if (u.withdrawnRoutes.length > 0 || u.nlri.length > 0) return undefined;
  if (u.attributes.length === 0) return { afi: 1, safi: 1 };
  const [only] = u.attributes;
  if (u.attributes.length !== 1 || only.type !== AttrType.MP_UNREACH_NLRI || only.value.length !== 3) return undefined;
  return { afi: only.value.readUInt16BE(0), safi: only.value[2] };
}
