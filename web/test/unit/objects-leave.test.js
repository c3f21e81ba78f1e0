// What goes when someone leaves: guardPinned around a stand-in for networked-aframe's entity list that removes what
// a client created, as NAF 0.14 does, and its `r` handler.

import { test } from "node:test";
import assert from "node:assert/strict";

import { guardPinned } from "../../src/room/objects/leave.js";

function entity(creator, owner) {
  return { components: { networked: { data: { creator, owner } } } };
}

/** NAF's NetworkEntities and NetworkConnection, as far as leaving goes. */
function naf(list) {
  const entities = {
    entities: { ...list },
    removeEntitiesOfClient(clientId) {
      const removed = [];
      for (const [id, el] of Object.entries(this.entities)) {
        const { creator, owner } = el.components.networked.data;
        if (creator === clientId || (!creator && owner === clientId)) {
          delete this.entities[id];
          removed.push(el);
        }
      }
      return removed;
    },
    removeRemoteEntity(from, dataType, data) {
      const el = this.entities[data.networkId];
      delete this.entities[data.networkId];
      return el;
    },
  };
  return { entities, dataChannelSubs: { r: entities.removeRemoteEntity.bind(entities) } };
}

test("when Ada leaves: her own objects go, her pinned one stays, one Bob took over stays, others' stay", () => {
  const conn = naf({
    mine: entity("ada", "ada"),
    pinned: entity("ada", "ada"),
    taken: entity("ada", "bob"),
    bobs: entity("bob", "bob"),
    scene: entity("scene", "scene"),
  });
  const heard = [];
  guardPinned(conn, (id) => id === "pinned", (id) => heard.push(id));
  const removed = conn.entities.removeEntitiesOfClient("ada");
  assert.equal(removed.length, 1);
  assert.deepEqual(Object.keys(conn.entities.entities).sort(), ["bobs", "pinned", "scene", "taken"]);
  assert.deepEqual(heard, ["mine"]);
});

test("the server's removal of a leaver's entities passes over pinned objects", () => {
  const conn = naf({ a: entity("ada", "ada"), p: entity("ada", "ada") });
  const heard = [];
  guardPinned(conn, (id) => id === "p", (id) => heard.push(id));
  conn.dataChannelSubs.r("ada", "r", { networkId: "p" }, "hub-channel");
  conn.dataChannelSubs.r("ada", "r", { networkId: "a" }, "hub-channel");
  assert.deepEqual(Object.keys(conn.entities.entities), ["p"]);
  assert.deepEqual(heard, ["a"]);
});

test("an object unpinned after its creator left goes with the next removal", () => {
  let pinned = true;
  const conn = naf({ p: entity("ada", "ada") });
  guardPinned(conn, () => pinned);
  conn.entities.removeEntitiesOfClient("ada");
  assert.ok(conn.entities.entities.p, "kept while pinned");
  pinned = false;
  conn.dataChannelSubs.r("bob", "r", { networkId: "p" }, "hub-channel");
  assert.equal(conn.entities.entities.p, undefined);
});

test("guarding twice wraps once", () => {
  const conn = naf({ p: entity("ada", "ada") });
  guardPinned(conn, () => true);
  const wrapped = conn.entities.removeEntitiesOfClient;
  guardPinned(conn, () => false);
  assert.equal(conn.entities.removeEntitiesOfClient, wrapped);
  conn.entities.removeEntitiesOfClient("ada");
  assert.ok(conn.entities.entities.p, "the first guard still decides");
});
