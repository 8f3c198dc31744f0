// The link-state database: every BGP-LS object keyed by NLRI identity, per BGP peer.
//
// Several peers may export the same IGP domain (R1 and R6 both speak BGP-LS): an object stays as
// long as at least one peer announces it, and its attributes are those of the most recent
// announcement. Pure data structure: no I/O, no clock.
import { isDeepStrictEqual } from "node:util";
import type { LsAttr, LsObject } from "./bgpls/nlri.js";

/** The pseudo-peer that owns objects reloaded from the on-disk snapshot until refreshed. */
export const SNAPSHOT_PEER = "snapshot";

export interface LsEntry {
  nlri: LsObject;
  /** Effective attributes: the most recent announcement among the peers. */
  attr: LsAttr;
  /** The announcing peers and their attributes, in announcement order (last = most recent).
   *  Parallel arrays: most objects have one or two peers, and a Map each would cost more. */
  peers: string[];
  attrs: LsAttr[];
}

export class Lsdb {
  readonly entries = new Map<string, LsEntry>();
  private readonly keysByPeer = new Map<string, Set<string>>();
  /** Bumped on every change that alters an object or its effective attributes. */
  version = 0;

  /** Returns true when the database changed. */
  announce(peer: string, nlri: LsObject, attr: LsAttr): boolean {
    let e = this.entries.get(nlri.key);
    if (e === undefined) {
      e = { nlri, attr, peers: [peer], attrs: [attr] };
      this.entries.set(nlri.key, e);
      this.track(peer, nlri.key);
      this.version++;
      return true;
    }
    const i = e.peers.indexOf(peer);
    if (i >= 0) {
      e.peers.splice(i, 1);
      e.attrs.splice(i, 1);
    }
    e.peers.push(peer);
    e.attrs.push(attr);
    this.track(peer, nlri.key);
    if (isDeepStrictEqual(e.attr, attr)) return false;
    e.attr = attr;
    this.version++;
    return true;
  }

  withdraw(peer: string, nlri: LsObject): boolean {
    const changed = this.drop(peer, nlri.key);
    this.keysByPeer.get(peer)?.delete(nlri.key);
    return changed;
  }

  /** Remove everything `peer` contributed that no other peer still announces. Returns the number of objects removed or changed. */
  flushPeer(peer: string): number {
    const keys = this.keysByPeer.get(peer);
    if (keys === undefined) return 0;
    let n = 0;
    for (const key of keys) if (this.drop(peer, key)) n++;
    this.keysByPeer.delete(peer);
    return n;
  }

  peers(): string[] {
    return [...this.keysByPeer.keys()].filter((p) => (this.keysByPeer.get(p)?.size ?? 0) > 0);
  }

  countFor(peer: string): number {
    return this.keysByPeer.get(peer)?.size ?? 0;
  }

  counts(): { nodes: number; links: number; prefixes: number } {
    const c = { nodes: 0, links: 0, prefixes: 0 };
    for (const e of this.entries.values()) {
      if (e.nlri.kind === "node") c.nodes++;
      else if (e.nlri.kind === "link") c.links++;
      else c.prefixes++;
    }
    return c;
  }

  private track(peer: string, key: string): void {
    let s = this.keysByPeer.get(peer);
    if (s === undefined) this.keysByPeer.set(peer, (s = new Set()));
    s.add(key);
  }

  private drop(peer: string, key: string): boolean {
    const e = this.entries.get(key);
    const i = e === undefined ? -1 : e.peers.indexOf(peer);
    if (e === undefined || i < 0) return false;
    e.peers.splice(i, 1);
    e.attrs.splice(i, 1);
    this.version++;
    if (e.peers.length === 0) {
      this.entries.delete(key);
      return true;
    }
    e.attr = e.attrs[e.attrs.length - 1];
    return true;
  }
}
