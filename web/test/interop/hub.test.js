// Interop: the official Phoenix JavaScript client (npm "phoenix") against a real toncon binary, speaking the
// hub channel of docs/protocol.md the way the Hubs web client does. Run with `npm run test:interop` from web/.
// The server binary comes from $TONCON_BIN or ../bin/toncon; a missing binary fails the suite.

import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";

import {
  Client,
  createHub,
  Inbox,
  joinPayload,
  PresenceWatch,
  push,
  serverBinary,
  startServer,
  WAIT_MS,
  within,
} from "./harness.js";

// Fail the whole file at once, with the build command, when there is no server to test.
serverBinary();

const TEST_TIMEOUT = 30000;
const RELAYED = ["naf", "nafr", "message"];

let server;
let clients = [];

/** A connected client, closed after the test whatever happens. */
async function connectClient(name, params) {
  const c = new Client(server, { name, params });
  clients.push(c);
  await c.connect();
  return c;
}

/**
 * Connects a client and joins hub:<hubId> with the Hubs join payload, with Presence and an inbox of relayed
 * events attached before the join, so nothing sent right after it is missed. Fails unless the join is ok.
 */
async function joinHub(hubId, displayName, params) {
  const client = await connectClient(displayName, params);
  const { channel, join } = client.channel(`hub:${hubId}`, joinPayload(displayName));
  const presence = new PresenceWatch(channel);
  const inbox = new Inbox(channel, RELAYED);
  const reply = await join();
  assert.equal(reply.status, "ok", `${displayName}'s join of hub:${hubId} was refused: ${JSON.stringify(reply.response)}`);
  const r = reply.response;
  assert.ok(Array.isArray(r.hubs) && r.hubs.length === 1, `join reply hubs should be [HUB], got ${JSON.stringify(r.hubs)}`);
  assert.equal(r.hubs[0].hub_id, hubId, "join reply hubs[0].hub_id");
  for (const key of ["session_id", "session_token", "perms_token"]) {
    assert.equal(typeof r[key], "string", `join reply ${key} should be a string in ${JSON.stringify(r)}`);
    assert.notEqual(r[key], "", `join reply ${key} is empty`);
  }
  return { client, channel, presence, inbox, reply: r, sid: r.session_id };
}

/** Two clients, Ada (A) and Bob (B), in a fresh room, each already seeing the other in presence. */
async function twoInARoom() {
  const hub = await createHub(server);
  const a = await joinHub(hub.hub_id, "Ada");
  const b = await joinHub(hub.hub_id, "Bob");
  assert.notEqual(a.sid, b.sid, "two sockets got the same session_id");
  await a.presence.until((l) => b.sid in l, "A to see B in presence");
  await b.presence.until((l) => a.sid in l, "B to see A in presence");
  return { hub, a, b };
}

/** A NAF first sync of an avatar, as the Hubs client sends it. */
function avatarFirstSync(networkId, extra = {}) {
  return {
    dataType: "u",
    data: {
      networkId,
      owner: "x",
      creator: "x",
      lastOwnerTime: 1,
      template: "#remote-avatar",
      persistent: false,
      parent: null,
      components: { 0: { x: 1, y: 2, z: 3 } },
      isFirstSync: true,
      ...extra,
    },
  };
}

/**
 * Proves that nothing the sender had relayed is still on its way to `sides`: the sender pushes a chat message,
 * which the server sends to everyone (sender included) after anything it relayed before; wait for it at each side.
 */
async function barrier(sender, sides, tag) {
  const sent = await push(sender.channel, "message", { type: "chat", body: tag });
  assert.equal(sent.status, "ok", `barrier chat message refused: ${JSON.stringify(sent.response)}`);
  for (const side of sides) {
    await side.inbox.next("message", (m) => m.body === tag, WAIT_MS, `the barrier chat message "${tag}"`);
  }
}

describe("toncon hub channel with the official phoenix client", { timeout: 5 * 60 * 1000 }, () => {
  let startError = null;
  let reported = false;
  before(async () => {
    try {
      server = await startServer();
    } catch (err) {
      startError = err;
    }
  });

  // Every test fails (rather than being cancelled) when the server did not start; the first says why.
  beforeEach(() => {
    if (!startError) return;
    if (reported) throw new Error("toncon did not start: see the first test's failure");
    reported = true;
    throw startError;
  });

  afterEach(async () => {
    const open = clients;
    clients = [];
    await Promise.all(open.map((c) => c.close()));
  });

  after(async () => {
    if (server) await server.cleanup();
  });

  test("1. two clients see each other through Presence, and events:entered moves A to the room", { timeout: TEST_TIMEOUT }, async () => {
    const hub = await createHub(server);
    const a = await joinHub(hub.hub_id, "Ada");
    const b = await joinHub(hub.hub_id, "Bob");
    assert.notEqual(a.sid, b.sid, "two sockets got the same session_id");

    const atA = await a.presence.until((l) => l[b.sid]?.some((m) => m.profile?.displayName === "Bob"), "A to list Bob");
    const atB = await b.presence.until((l) => l[a.sid]?.some((m) => m.profile?.displayName === "Ada"), "B to list Ada");
    assert.deepEqual(Object.keys(atA).sort(), [a.sid, b.sid].sort(), "A's presence list should hold exactly A and B");
    assert.deepEqual(Object.keys(atB).sort(), [a.sid, b.sid].sort(), "B's presence list should hold exactly A and B");

    const adaAtB = atB[a.sid];
    assert.equal(adaAtB.length, 1, `A should have one meta at B, got ${JSON.stringify(adaAtB)}`);
    const meta = adaAtB[0];
    assert.equal(meta.presence, "lobby", "a client that has not entered is in the lobby");
    assert.deepEqual(meta.profile, { displayName: "Ada", avatarId: "basic" });
    assert.equal(typeof meta.roles, "object", `meta.roles should be an object: ${JSON.stringify(meta)}`);
    for (const role of ["owner", "creator", "signed_in"]) {
      assert.equal(typeof meta.roles[role], "boolean", `meta.roles.${role} should be a boolean: ${JSON.stringify(meta.roles)}`);
    }
    assert.equal(typeof meta.permissions, "object", `meta.permissions should be an object: ${JSON.stringify(meta)}`);
    assert.equal(meta.permissions.text_chat, true, "default rooms allow text chat");
    assert.equal(atA[b.sid][0].presence, "lobby", "B is in the lobby at A");

    const entered = await push(a.channel, "events:entered", {});
    assert.equal(entered.status, "ok", `events:entered reply: ${JSON.stringify(entered)}`);

    const afterEnter = await b.presence.until(
      (l) => l[a.sid]?.some((m) => m.presence === "room"),
      'B to see A\'s meta with presence "room"',
    );
    assert.equal(
      afterEnter[a.sid].length,
      1,
      `after entering A should have exactly one meta at B (the old one left): ${JSON.stringify(afterEnter[a.sid])}`,
    );
    assert.equal(afterEnter[a.sid][0].profile.displayName, "Ada");
    assert.equal(afterEnter[b.sid][0].presence, "lobby", "B itself has not entered");
    const own = await a.presence.until((l) => l[a.sid]?.[0]?.presence === "room", "A to see itself in the room");
    assert.equal(own[a.sid].length, 1);
  });

  test("2. naf and nafr are relayed to the others with from_session_id; spawn checks apply", { timeout: TEST_TIMEOUT }, async () => {
    const { a, b } = await twoInARoom();

    // u first sync of an avatar: relayed, owner and creator rewritten to the sender.
    const first = avatarFirstSync("n1");
    a.client.send(a.channel, "naf", first);
    const got = await b.inbox.next("naf", () => true, WAIT_MS, "A's naf at B");
    assert.equal(got.from_session_id, a.sid, "from_session_id should be A's session_id");
    assert.equal(got.dataType, "u");
    assert.equal(got.data.networkId, "n1");
    assert.equal(got.data.owner, a.sid, "owner should be rewritten to the sender's session_id");
    assert.equal(got.data.creator, a.sid, "creator should be rewritten to the sender's session_id");
    assert.equal(got.data.template, "#remote-avatar");
    assert.equal(got.data.isFirstSync, true);
    assert.equal(got.data.persistent, false);
    assert.equal(got.data.parent, null);
    assert.equal(got.data.lastOwnerTime, 1);
    assert.deepEqual(got.data.components, { 0: { x: 1, y: 2, z: 3 } });

    // nafr: the inner message stays a string, byte for byte.
    const inner = JSON.stringify({
      dataType: "um",
      data: {
        d: [
          {
            networkId: "n1",
            owner: a.sid,
            creator: a.sid,
            lastOwnerTime: 1,
            template: "#remote-avatar",
            persistent: false,
            parent: null,
            components: { 0: { x: 4, y: 5, z: 6 } },
          },
        ],
      },
    });
    a.client.send(a.channel, "nafr", { naf: inner });
    const gotR = await b.inbox.next("nafr", () => true, WAIT_MS, "A's nafr at B");
    assert.equal(typeof gotR.naf, "string", `nafr payload.naf should stay a string: ${JSON.stringify(gotR)}`);
    assert.equal(gotR.naf, inner, "nafr payload.naf should arrive unchanged");
    assert.equal(gotR.from_session_id, a.sid, "nafr from_session_id should be A's session_id");

    // A first sync of media needs spawn_and_move_media, which a default room does not give members.
    assert.equal(
      a.reply.hubs[0].member_permissions?.spawn_and_move_media,
      false,
      `precondition: a default room should not let members spawn media: ${JSON.stringify(a.reply.hubs[0].member_permissions)}`,
    );
    a.client.send(a.channel, "naf", avatarFirstSync("m1", { template: "#interactable-media" }));
    const update = {
      dataType: "u",
      data: {
        networkId: "n1",
        owner: a.sid,
        creator: a.sid,
        lastOwnerTime: 1,
        template: "#remote-avatar",
        persistent: false,
        parent: null,
        components: { 0: { x: 7, y: 8, z: 9 } },
      },
    };
    a.client.send(a.channel, "naf", update);
    const next = await b.inbox.next("naf", () => true, WAIT_MS, "the naf after the refused media first sync");
    assert.notEqual(next.data?.networkId, "m1", `B received the media first sync that a default room must drop: ${JSON.stringify(next)}`);
    assert.equal(next.data?.networkId, "n1", `B's next naf should be A's update of n1: ${JSON.stringify(next)}`);
    assert.deepEqual(next.data.components, { 0: { x: 7, y: 8, z: 9 } });
    assert.equal(next.from_session_id, a.sid);

    // A never gets its own naf/nafr back: anything relayed to A would arrive before this chat message.
    await barrier(a, [a, b], "barrier-2");
    assert.deepEqual(a.inbox.pending("naf"), [], "A received its own naf");
    assert.deepEqual(a.inbox.pending("nafr"), [], "A received its own nafr");
    assert.deepEqual(b.inbox.pending("naf"), [], "B received an unexpected extra naf");
  });

  test("3. a chat message reaches everyone, the sender included, stamped with the sender's session_id", { timeout: TEST_TIMEOUT }, async () => {
    const { a, b } = await twoInARoom();
    const sent = await push(a.channel, "message", { type: "chat", body: "hello" });
    assert.equal(sent.status, "ok", `message reply: ${JSON.stringify(sent)}`);
    for (const [who, side] of [
      ["A", a],
      ["B", b],
    ]) {
      const m = await side.inbox.next("message", () => true, WAIT_MS, `the chat message at ${who}`);
      assert.equal(m.type, "chat", `message type at ${who}`);
      assert.equal(m.body, "hello", `message body at ${who}`);
      assert.equal(m.session_id, a.sid, `message session_id at ${who} should be A's`);
    }
  });

  test("4. leaving shows up as a Presence leave, and A's avatar is removed at B", { timeout: TEST_TIMEOUT }, async () => {
    const { a, b } = await twoInARoom();
    a.client.send(a.channel, "naf", avatarFirstSync("avatar-ada"));
    const spawned = await b.inbox.next("naf", (m) => m.data?.networkId === "avatar-ada", WAIT_MS, "A's avatar at B");
    assert.equal(spawned.from_session_id, a.sid);

    const left = await within(
      new Promise((resolve) => {
        a.channel
          .leave()
          .receive("ok", () => resolve("ok"))
          .receive("timeout", () => resolve("timeout"));
      }),
      WAIT_MS,
      "A's leave reply",
    );
    assert.equal(left, "ok", "channel.leave() should be acknowledged");

    const [list, removal] = await Promise.all([
      b.presence.until((l) => !(a.sid in l), "A to disappear from B's presence"),
      b.inbox.next("naf", (m) => m.dataType === "r", WAIT_MS, 'a naf "r" for A\'s avatar at B'),
    ]);
    assert.deepEqual(Object.keys(list), [b.sid], "only B is left in B's presence");
    const leave = b.presence.leaves.find((l) => l.id === a.sid && l.current.metas.length === 0);
    assert.ok(leave, `Presence onLeave should have fired for A with no metas left: ${JSON.stringify(b.presence.leaves)}`);
    assert.equal(leave.left.metas[0]?.profile?.displayName, "Ada", "the left meta is Ada's");
    assert.equal(removal.data?.networkId, "avatar-ada", `removal should name A's avatar: ${JSON.stringify(removal)}`);
    assert.equal(removal.from_session_id, a.sid, "removal from_session_id should be A's");

    await barrier(b, [b], "barrier-4");
    assert.deepEqual(b.inbox.pending("naf"), [], "B received more naf messages than the one removal");
  });

  test("4b. a client whose socket drops (tab closed) is removed the same way", { timeout: TEST_TIMEOUT }, async () => {
    const { a, b } = await twoInARoom();
    a.client.send(a.channel, "naf", avatarFirstSync("avatar-ada-2"));
    await b.inbox.next("naf", (m) => m.data?.networkId === "avatar-ada-2", WAIT_MS, "A's avatar at B");
    await a.client.close();
    const [, removal] = await Promise.all([
      b.presence.until((l) => !(a.sid in l), "A to disappear from B's presence after its socket closed"),
      b.inbox.next("naf", (m) => m.dataType === "r", WAIT_MS, 'a naf "r" for A\'s avatar at B'),
    ]);
    assert.equal(removal.data?.networkId, "avatar-ada-2");
    assert.equal(removal.from_session_id, a.sid);
  });

  test("5. reconnecting with the session_token keeps the session_id", { timeout: TEST_TIMEOUT }, async () => {
    const hub = await createHub(server);
    const watcher = await joinHub(hub.hub_id, "Bob");
    const first = await joinHub(hub.hub_id, "Ada");
    await watcher.presence.until((l) => first.sid in l, "B to see A");

    await first.client.close();
    await watcher.presence.until((l) => !(first.sid in l), "A's first session to leave B's presence");

    const again = await joinHub(hub.hub_id, "Ada", { session_token: first.reply.session_token });
    assert.equal(again.sid, first.sid, "a socket that presents the session_token should get the same session_id");
    await watcher.presence.until((l) => first.sid in l, "A to come back under the same session_id at B");

    // Controls: without a token, or with a bad one, the server makes a new session.
    const fresh = await joinHub(hub.hub_id, "Cy");
    assert.notEqual(fresh.sid, first.sid, "a socket without a session_token got someone else's session_id");
    const forged = await joinHub(hub.hub_id, "Di", { session_token: "not-a-token" });
    assert.notEqual(forged.sid, first.sid, "a bad session_token should not keep a session");
    assert.notEqual(forged.sid, fresh.sid);
  });

  test("6. join errors and unknown events get error replies", { timeout: TEST_TIMEOUT }, async () => {
    const hub = await createHub(server);
    const c = await connectClient("Ada");

    // A well-formed room id that no room has, and a malformed one.
    const missing = hub.hub_id.slice(1) + hub.hub_id[0];
    assert.notEqual(missing, hub.hub_id, "precondition: the rotated room id should differ from the real one");
    for (const id of [missing, "no-such-room"]) {
      const { channel, join } = c.channel(`hub:${id}`, joinPayload("Ada"));
      const r = await join();
      assert.equal(r.status, "error", `joining hub:${id} should fail: ${JSON.stringify(r)}`);
      assert.equal(r.response?.reason, "not_found", `reason for hub:${id}: ${JSON.stringify(r.response)}`);
      channel.leave();
    }

    {
      const { channel, join } = c.channel(`hub:${hub.hub_id}`, { context: { mobile: false, hmd: false, embed: false } });
      const r = await join();
      assert.equal(r.status, "error", `joining without a profile should fail: ${JSON.stringify(r)}`);
      assert.equal(r.response?.reason, "bad_request", `reason without profile: ${JSON.stringify(r.response)}`);
      channel.leave();
    }

    const ok = await joinHub(hub.hub_id, "Bob");
    const r = await push(ok.channel, "definitely_not_an_event", { x: 1 });
    assert.equal(r.status, "error", `an unknown event should get an error reply: ${JSON.stringify(r)}`);
    assert.equal(typeof r.response?.reason, "string", `the error reply should carry a reason: ${JSON.stringify(r.response)}`);
    assert.notEqual(r.response.reason, "");
    // The channel is still joined and working afterwards.
    const chat = await push(ok.channel, "message", { type: "chat", body: "still here" });
    assert.equal(chat.status, "ok", `the channel should survive an unknown event: ${JSON.stringify(chat)}`);
  });

  test("7. SIGTERM shuts the server down gracefully (exit 0) with a client still connected", { timeout: TEST_TIMEOUT }, async () => {
    const hub = await createHub(server);
    const a = await joinHub(hub.hub_id, "Ada");
    const closed = new Promise((resolve) => a.client.socket.onClose(resolve));
    const { code, signal, timedOut } = await server.stop();
    assert.equal(timedOut, false, `toncon did not exit within 15 s of SIGTERM.\nstderr:\n${server.stderr}`);
    assert.equal(signal, null, `toncon died of signal ${signal}.\nstderr:\n${server.stderr}`);
    assert.equal(code, 0, `toncon exited with code ${code} after SIGTERM.\nstderr:\n${server.stderr}`);
    await within(closed, WAIT_MS, "the client's socket to be closed by the shutdown");
    assert.doesNotMatch(server.stderr, /panic|level=ERROR/, `the server logged an error or panic:\n${server.stderr}`);
  });
});
