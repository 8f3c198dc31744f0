// One line of ExaBGP's API stream -> one typed event (FORMAT.md §3-§5, DIFFERENCES.md).
// Pure: no I/O, no clock. The shell counts, logs and applies the results.
import { isIP } from "node:net";
import { isObject, parseExabgpJson, parseJson, JsonSyntaxError, type JsonObject, type JsonValue } from "./json.js";
import { LsDecodeError } from "../bgpls/errors.js";
import { parseAttr, parseNlri, UnknownNlriType, type LsAttr, type LsObject } from "../bgpls/nlri.js";

export const BGPLS_FAMILY = "bgp-ls bgp-ls";
/** No BGP message gives a JSON line near this; anything longer is junk. */
export const MAX_LINE = 1 << 20;

export interface Announced {
  nlri: LsObject;
  attr: LsAttr;
}

/** An NLRI inside an otherwise good UPDATE that was skipped, and why. */
export interface NlriProblem {
  kind: "unknown-nlri-type" | "bad-nlri" | "other-family";
  detail: string;
}

export type ExaEvent =
  | { kind: "reply"; text: string }
  | { kind: "state"; peer: string; state: string; reason?: string }
  | { kind: "update"; peer: string; announce: Announced[]; withdraw: LsObject[]; problems: NlriProblem[] }
  | { kind: "eor"; peer: string; family: string }
  | { kind: "shutdown" }
  | { kind: "notification"; peer: string; code?: number; subcode?: number }
  /** Messages a BGP-LS consumer has no use for: open, keepalive, refresh, negotiated, raw packets... */
  | { kind: "ignored"; type: string }
  | { kind: "unknown"; type: string };

/**
 * What kind of malformed line (the `reason` label of lsprobe_plugin_malformed_lines_total): a
 * small closed set, where `reason` is free text. too_long: over MAX_LINE; invalid_json: not
 * JSON, even leniently; not_object: JSON but not an object; bad_shape: an ExaBGP message
 * without its type, neighbor, state or message; internal: an unexpected error (a decoder bug,
 * or a line the shell failed on). A BGP-LS NLRI that cannot be decoded is no malformed line:
 * it alone is skipped (an NlriProblem "bad-nlri"), the rest of its update is used.
 */
export const MALFORMED_REASONS = ["too_long", "invalid_json", "not_object", "bad_shape", "internal"] as const;
export type MalformedReason = (typeof MALFORMED_REASONS)[number];

export type Decoded =
  | { ok: true; event: ExaEvent; dialect: string; repaired?: string }
  | { ok: false; reason: string; category: MalformedReason };

const IGNORED_TYPES = new Set(["open", "keepalive", "refresh", "route refresh", "negotiated", "operational", "fsm", "signal"]);

/**
 * The peer's address; undefined when absent. Anything but an IP address is refused: ExaBGP only
 * ever prints one, a made-up name could collide with the snapshot's owner ("snapshot"), and the
 * route refresh the plugin sends for a peer must name an address.
 */
function peerOf(msg: JsonObject): string | undefined {
  const n = msg.neighbor;
  if (!isObject(n)) return undefined;
  const a = n.address;
  const peer = isObject(a) && typeof a.peer === "string" ? a.peer : typeof n.ip === "string" ? n.ip : undefined; // n.ip: pre-4.0 shape
  if (peer !== undefined && isIP(peer) === 0) throw new LsDecodeError("neighbor.address.peer", `expected an IP address, got ${JSON.stringify(peer.slice(0, 60))}`);
  return peer;
}

function decodeUpdate(peer: string, update: JsonObject): ExaEvent {
  const problems: NlriProblem[] = [];
  const announce: Announced[] = [];
  const withdraw: LsObject[] = [];
  const attribute = isObject(update.attribute) ? update.attribute : undefined;
  const bgpls = attribute && isObject(attribute["bgp-ls"]) ? attribute["bgp-ls"] : undefined;

  const each = (list: JsonValue, path: string, take: (o: LsObject) => void): void => {
    if (!Array.isArray(list)) {
      problems.push({ kind: "bad-nlri", detail: `${path}: expected a list of NLRIs` });
      return;
    }
    list.forEach((v, i) => {
      try {
        take(parseNlri(v, `${path}[${i}]`));
      } catch (e) {
        if (e instanceof UnknownNlriType) problems.push({ kind: "unknown-nlri-type", detail: e.nlriType });
        else if (e instanceof LsDecodeError) problems.push({ kind: "bad-nlri", detail: e.message });
        else throw e;
      }
    });
  };

  if (isObject(update.announce)) {
    for (const [family, byNextHop] of Object.entries(update.announce)) {
      if (family !== BGPLS_FAMILY) {
        problems.push({ kind: "other-family", detail: family });
        continue;
      }
      if (!isObject(byNextHop)) {
        problems.push({ kind: "bad-nlri", detail: `announce.${family}: expected an object keyed by next-hop` });
        continue;
      }
      for (const [nh, list] of Object.entries(byNextHop)) {
        each(list, `announce.${family}.${nh}`, (nlri) => announce.push({ nlri, attr: parseAttr(nlri.kind, bgpls, nlri.protocolId) }));
      }
    }
  }
  if (isObject(update.withdraw)) {
    for (const [family, list] of Object.entries(update.withdraw)) {
      if (family !== BGPLS_FAMILY) problems.push({ kind: "other-family", detail: family });
      else each(list, `withdraw.${family}`, (nlri) => withdraw.push(nlri));
    }
  }
  return { kind: "update", peer, announce, withdraw, problems };
}

function decodeMessage(msg: JsonObject): ExaEvent {
  const type = msg.type;
  if (typeof type !== "string") throw new LsDecodeError("type", "missing message type");
  if (type === "notification" && msg.notification === "shutdown") return { kind: "shutdown" };
  if (IGNORED_TYPES.has(type)) return { kind: "ignored", type };

  const peer = peerOf(msg);
  const neighbor = isObject(msg.neighbor) ? msg.neighbor : undefined;
  if (type === "state") {
    if (peer === undefined || neighbor === undefined) throw new LsDecodeError("neighbor.address.peer", "missing");
    const state = neighbor.state;
    if (typeof state !== "string") throw new LsDecodeError("neighbor.state", "expected a string");
    const reason = neighbor.reason;
    return { kind: "state", peer, state, ...(typeof reason === "string" ? { reason } : {}) };
  }
  if (type === "notification") {
    const n = neighbor && isObject(neighbor.notification) ? neighbor.notification : undefined;
    return {
      kind: "notification",
      peer: peer ?? "?",
      code: typeof n?.code === "number" ? n.code : undefined,
      subcode: typeof n?.subcode === "number" ? n.subcode : undefined,
    };
  }
  if (type === "update") {
    if (peer === undefined || neighbor === undefined) throw new LsDecodeError("neighbor.address.peer", "missing");
    const message = neighbor.message;
    if (!isObject(message)) throw new LsDecodeError("neighbor.message", "expected an object");
    if ("category" in message) return { kind: "ignored", type: "raw-packet" };
    if (isObject(message.eor)) {
      const { afi, safi } = message.eor;
      return { kind: "eor", peer, family: `${String(afi)} ${String(safi)}` };
    }
    if (isObject(message.update)) return decodeUpdate(peer, message.update);
    throw new LsDecodeError("neighbor.message", "neither update nor eor");
  }
  return { kind: "unknown", type };
}

function excerptAt(line: string, offset: number): string {
  const from = Math.max(0, offset - 30);
  return JSON.stringify(line.slice(from, offset + 30));
}

/** Decode one line of the API stream. Never throws. */
export function decodeLine(line: string): Decoded {
  let i = 0;
  while (line.charCodeAt(i) === 0x20 || line.charCodeAt(i) === 0x09) i++;
  if (i === line.length) return { ok: true, event: { kind: "ignored", type: "blank" }, dialect: "" };
  if (line.charCodeAt(i) !== 0x7b) {
    // Not JSON: ExaBGP's reply to a command we wrote ("done", "error", "exabgp 4.2.21", tables).
    return { ok: true, event: { kind: "reply", text: line.trim() }, dialect: "" };
  }
  if (line.length > MAX_LINE) return { ok: false, reason: `line of ${line.length} bytes exceeds ${MAX_LINE}`, category: "too_long" };
  // 4.2/5.0 print route-refresh messages as invalid JSON (""bgp-ls""): recognise, never parse.
  if (/^\{[^{]*"type": *"refresh"/.test(line)) return { ok: true, event: { kind: "ignored", type: "refresh" }, dialect: "" };

  let value: JsonValue;
  let repaired: string | undefined;
  try {
    value = parseExabgpJson(line);
  } catch (strictErr) {
    // 4.2 does not escape quotes in the node name and prints the link name as a bytes repr.
    try {
      value = parseJson(line, { lenient: true });
      repaired = `unescaped quote (${(strictErr as Error).message})`;
    } catch {
      const off = strictErr instanceof JsonSyntaxError ? strictErr.offset : 0;
      return { ok: false, reason: `invalid JSON: ${(strictErr as Error).message} near ${excerptAt(line, off)}`, category: "invalid_json" };
    }
  }
  if (!isObject(value)) return { ok: false, reason: "not a JSON object", category: "not_object" };
  try {
    const dialect = typeof value.exabgp === "string" ? value.exabgp : "?";
    return { ok: true, event: decodeMessage(value), dialect, ...(repaired ? { repaired } : {}) };
  } catch (e) {
    if (e instanceof LsDecodeError) return { ok: false, reason: e.message, category: "bad_shape" };
    return { ok: false, reason: `unexpected message shape: ${(e as Error).message}`, category: "internal" };
  }
}
