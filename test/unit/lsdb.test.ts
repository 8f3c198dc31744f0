import { test } from "node:test";
import assert from "node:assert/strict";
import { Lsdb } from "../../plugin/lsdb.js";
import type { LsNode, NodeAttr } from "../../plugin/bgpls/node.js";

const nlri = (id: string): LsNode => ({ kind: "node", key: `node|2|0|${id}`, node: `isis:0:::${id}`, protocolId: 2, instance: 0, desc: { routerId: id } });
const attr = (name: string): NodeAttr => ({ name, overload: false, teRouterIds: [], areas: [] });

test("lsdb: announce, re-announce with the same attributes (no change), replace, withdraw", () => {
  const db = new Lsdb();
  assert.equal(db.announce("p1", nlri("a"), attr("A")), true);
  assert.equal(db.announce("p1", nlri("a"), attr("A")), false);
  assert.equal(db.announce("p1", nlri("a"), attr("A2")), true);
  assert.equal((db.entries.get(nlri("a").key)!.attr as NodeAttr).name, "A2");
  assert.equal(db.withdraw("p1", nlri("a")), true);
  assert.equal(db.entries.size, 0);
  assert.equal(db.withdraw("p1", nlri("a")), false);
});

test("lsdb: two peers; the most recent announcement wins; a withdraw falls back to the other peer", () => {
  const db = new Lsdb();
  db.announce("p1", nlri("a"), attr("from-p1"));
  db.announce("p2", nlri("a"), attr("from-p2"));
  assert.equal((db.entries.get(nlri("a").key)!.attr as NodeAttr).name, "from-p2");
  db.withdraw("p2", nlri("a"));
  assert.equal((db.entries.get(nlri("a").key)!.attr as NodeAttr).name, "from-p1");
});

test("lsdb: a peer going down removes only what no other peer announces", () => {
  const db = new Lsdb();
  db.announce("p1", nlri("a"), attr("A"));
  db.announce("p1", nlri("b"), attr("B"));
  db.announce("p2", nlri("b"), attr("B"));
  assert.equal(db.flushPeer("p1"), 2); // a removed, b changed owner set
  assert.deepEqual([...db.entries.keys()], [nlri("b").key]);
  assert.deepEqual(db.peers(), ["p2"]);
  assert.equal(db.flushPeer("p1"), 0);
  assert.equal(db.flushPeer("p2"), 1);
  assert.equal(db.entries.size, 0);
});
