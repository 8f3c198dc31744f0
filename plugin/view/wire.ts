// The union's streams as the view hands them to its inference worker (pure): every element and
// prober name once, the rest in typed arrays that postMessage transfers instead of copying.
// bench/fleet's 100,000 streams: structured clone held the main thread 144-399 ms in postMessage
// and the job reached the worker 477-750 ms after it was posted; this encodes in 48-62 ms and the
// worker decodes in 76-130 ms.
import type { Family } from "../../shared/pathset.js";
import type { Stream } from "./union.js";

type Element = Stream["links"][number];

export interface WireStreams {
  /** Elements (a link id, or parallel links as one element) and prober names, each once. */
  elements: Element[];
  probers: string[];
  /** Stream i's elements are elements[links[linkStart[i] .. linkStart[i + 1])]; its probers likewise. */
  linkStart: Int32Array;
  links: Int32Array;
  proberStart: Int32Array;
  proberIds: Int32Array;
  sent: Float64Array;
  lost: Float64Array;
  /** Bit 0: one-way (else loop); bit 1: IPv6 (else IPv4). */
  flags: Uint8Array;
}

const ONEWAY = 1;
const IPV6 = 2;

/** Interns names: each gets the index of its first appearance. */
function interner<T>(key: (v: T) => string): { table: T[]; id: (v: T) => number } {
  const ids = new Map<string, number>();
  const table: T[] = [];
  return {
    table,
    id(v) {
      const k = key(v);
      let i = ids.get(k);
      if (i === undefined) {
        i = table.length;
        table.push(v);
        ids.set(k, i);
      }
      return i;
    },
  };
}

// A parallel group's key cannot collide with a link id's: ids never hold NUL.
const elementKey = (e: Element): string => (typeof e === "string" ? e : `\0${e.join("\0")}`);

export function encodeStreams(streams: readonly Stream[]): WireStreams {
  const n = streams.length;
  let linkCount = 0;
  let proberCount = 0;
  for (const s of streams) {
    linkCount += s.links.length;
    proberCount += s.probers.length;
  }
  const elements = interner<Element>(elementKey);
  const probers = interner<string>((p) => p);
  const w: WireStreams = {
    elements: elements.table,
    probers: probers.table,
    linkStart: new Int32Array(n + 1),
    links: new Int32Array(linkCount),
    proberStart: new Int32Array(n + 1),
    proberIds: new Int32Array(proberCount),
    sent: new Float64Array(n),
    lost: new Float64Array(n),
    flags: new Uint8Array(n),
  };
  let l = 0;
  let p = 0;
  streams.forEach((s, i) => {
    for (const e of s.links) w.links[l++] = elements.id(e);
    for (const x of s.probers) w.proberIds[p++] = probers.id(x);
    w.linkStart[i + 1] = l;
    w.proberStart[i + 1] = p;
    w.sent[i] = s.sent;
    w.lost[i] = s.lost;
    w.flags[i] = (s.kind === "oneway" ? ONEWAY : 0) | (s.af === "ipv6" ? IPV6 : 0);
  });
  return w;
}

/** What postMessage moves instead of copying (the encoder's own arrays: use `w` no more). */
export const transferList = (w: WireStreams): ArrayBuffer[] =>
  [w.linkStart, w.links, w.proberStart, w.proberIds, w.sent, w.lost, w.flags].map((a) => a.buffer as ArrayBuffer);

export function decodeStreams(w: WireStreams): Stream[] {
  const out: Stream[] = [];
  for (let i = 0; i < w.sent.length; i++) {
    const links: Element[] = [];
    for (let j = w.linkStart[i]; j < w.linkStart[i + 1]; j++) links.push(w.elements[w.links[j]]);
    const probers: string[] = [];
    for (let j = w.proberStart[i]; j < w.proberStart[i + 1]; j++) probers.push(w.probers[w.proberIds[j]]);
    const af: Family = w.flags[i] & IPV6 ? "ipv6" : "ipv4";
    out.push({ kind: w.flags[i] & ONEWAY ? "oneway" : "loop", af, probers, links, sent: w.sent[i], lost: w.lost[i] });
  }
  return out;
}
