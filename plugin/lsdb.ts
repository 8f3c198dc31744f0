// The link-state database: every BGP-LS object keyed by NLRI identity, per BGP peer.
//
// Several peers may export the same IGP domain (R1 and R6 both speak BGP-LS): an object stays as
// long as at least one peer announces it, and its attributes are those of the most recent
// announcement. Pure data structure: no I/O, no clock.
import { isDeepStrictEqual } from "node:util";
import type { LsAttr, LsObject } from "./bgpls/nlri.js";
import type { NodeDescriptors } from "./bgpls/descriptors.js";

/** The pseudo-peer that owns objects reloaded from the on-disk snapshot until refreshed. */
export const SNAPSHOT_PEER = "snapshot";

export interface LsEntry {
  nlri: LsObject;
  /** Effective attributes: the most recent announcement among the peers. */
  attr: LsAttr;
  /** The announcing peers, in announcement order (last = most recent). With one peer (nearly
   *  always) a shared frozen list, and `attrs` is absent: two arrays per object add up. */
  peers: readonly string[];
  /** Each peer's attributes, parallel to `peers`, when more than one peer announces it. */
  attrs?: LsAttr[];
}

/** A graph node's id and descriptors, shared by every NLRI that names the node. */
interface NodeRef {
  id: string;
  desc: NodeDescriptors;
  refs: number;
}

const sameDescriptors = (a: NodeDescriptors, b: NodeDescriptors): boolean =>
  a.routerId === b.routerId && a.asn === b.asn && a.bgpLsId === b.bgpLsId && a.ospfArea === b.ospfArea && a.psn === b.psn && a.dr === b.dr;

export class Lsdb {
  readonly entries = new Map<string, LsEntry>();
  private readonly keysByPeer = new Map<string, Set<string>>();
  /** Interned node ids and descriptors: a node is named by ~8 link ends and its prefixes, and
   *  one shared copy instead of one per NLRI halves the LSDB (reference-counted, so dropped
   *  with the last NLRI that names the node). */
  private readonly nodeRefs = new Map<string, NodeRef>();
  /** Bumped on every change that alters an object or its effective attributes. */
  version = 0;

  /** Returns true when the database changed. */
  announce(peer: string, nlri: LsObject, attr: LsAttr): boolean {
    let e = this.entries.get(nlri.key);
    if (e === undefined) {
      this.intern(nlri);
      e = { nlri, attr, peers: this.solo(peer), attrs: undefined };
      this.entries.set(nlri.key, e);
      this.track(peer, nlri.key);
      this.version++;
      return true;
    }
    const i = e.peers.indexOf(peer);
    if (e.peers.length === 1 && i === 0) {
      // The usual re-announcement: the only peer.
    } else if (i >= 0 && i === e.peers.length - 1) e.attrs![i] = attr;
    else {
      // Rebuilt rather than pushed: a pushed array keeps room for 17.
      const attrs = e.attrs ?? [e.attr];
      e.peers = e.peers.filter((_, k) => k !== i).concat(peer);
      e.attrs = attrs.filter((_, k) => k !== i).concat([attr]);
    }
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

  private readonly soloLists = new Map<string, readonly string[]>();

  /** The shared one-peer list of `peer`. */
  private solo(peer: string): readonly string[] {
    let l = this.soloLists.get(peer);
    if (l === undefined) this.soloLists.set(peer, (l = Object.freeze([peer])));
    return l;
  }

  private share(id: string, desc: NodeDescriptors): NodeRef {
    let r = this.nodeRefs.get(id);
    if (r === undefined) this.nodeRefs.set(id, (r = { id, desc, refs: 0 }));
    r.refs++;
    return r;
  }

  private unshare(id: string): void {
    const r = this.nodeRefs.get(id);
    if (r !== undefined && --r.refs === 0) this.nodeRefs.delete(id);
  }

  /** Point a new NLRI at the shared id strings and (when equal) descriptor objects. */
  private intern(nlri: LsObject): void {
    if (nlri.kind === "link") {
      const a = this.share(nlri.from, nlri.local);
      const b = this.share(nlri.to, nlri.remote);
      nlri.from = a.id;
      nlri.to = b.id;
      if (sameDescriptors(a.desc, nlri.local)) nlri.local = a.desc;
      if (sameDescriptors(b.desc, nlri.remote)) nlri.remote = b.desc;
    } else {
      const r = this.share(nlri.node, nlri.desc);
      nlri.node = r.id;
      if (sameDescriptors(r.desc, nlri.desc)) nlri.desc = r.desc;
    }
  }

  private release(nlri: LsObject): void {
    if (nlri.kind === "link") {
      this.unshare(nlri.from);
      this.unshare(nlri.to);
    } else this.unshare(nlri.node);
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
    this.version++;
    if (e.peers.length === 1) {
      this.entries.delete(key);
      this.release(e.nlri);
      return true;
    }
    const peers = e.peers.filter((_, k) => k !== i);
    const attrs = e.attrs!.filter((_, k) => k !== i);
    e.attr = attrs[attrs.length - 1];
    e.peers = peers.length === 1 ? this.solo(peers[0]) : peers;
    e.attrs = peers.length === 1 ? undefined : attrs;
    return true;
  }
}
