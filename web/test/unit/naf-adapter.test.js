// Unit tests for the networked-aframe adapter over the hub channel, with a fake channel and presence and a
// stand-in for NAF's connection (the real server is exercised by test/interop and test/e2e).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ADAPTER_NAME, HubChannelAdapter, RESYNC_REQUEST, SOURCE, holdsFirstSync, registerHubAdapter } from "../../src/room/naf-adapter.js";

const ME = "11111111-1111-1111-1111-111111111111";
const ANN = "22222222-2222-2222-2222-222222222222";
const BEN = "33333333-3333-3333-3333-333333333333";

/** A hub session as the adapter sees it: channel bindings, pushes, presence and join state under test control. */
class FakeHub {
  constructor({ occupants = {}, connected = true } = {}) {
    this.bindings = [];
    this.pushes = [];
    this.listeners = { presence: new Set(), rejoined: new Set() };
    this.occupantMap = occupants;
    this.connected = connected;
    this.sessionId = null;
    this.joined = new Promise((resolve, reject) => {
      this.resolveJoin = resolve;
      this.rejectJoin = reject;
    });
    let ref = 0;
    this.channel = {
      on: (event, callback) => {
        this.bindings.push({ event, callback, ref: ++ref });
        return ref;
      },
      off: (event, r) => {
        this.bindings = this.bindings.filter((b) => !(b.event === event && b.ref === r));
      },
      push: (event, payload) => {
        // What goes on the wire is the JSON of the payload at push time.
        this.pushes.push({ event, payload, wire: JSON.stringify(payload) });
      },
    };
  }

  join(sessionId = ME) {
    this.sessionId = sessionId;
    this.resolveJoin(sessionId);
  }

  whenJoined() {
    return this.joined;
  }

  canSend() {
    return this.connected;
  }

  occupants() {
    return this.occupantMap;
  }

  on(name, fn) {
    this.listeners[name].add(fn);
    return () => this.listeners[name].delete(fn);
  }

  setOccupants(map) {
    this.occupantMap = map;
    for (const fn of this.listeners.presence) fn();
  }

  rejoin() {
    for (const fn of this.listeners.rejoined) fn();
  }

  /** Delivers a server broadcast to the channel's bindings. */
  deliver(event, payload) {
    for (const b of this.bindings.filter((x) => x.event === event)) b.callback(payload);
  }

  take() {
    return this.pushes.splice(0);
  }
}

/** NAF's side: records what the adapter tells it, and implements what the adapter asks of NAF. */
function fakeNaf(entities = new Set()) {
  const calls = { success: [], failure: [], occupants: [], open: [], closed: [], messages: [], completeSync: [] };
  const naf = {
    entities: { hasEntity: (id) => entities.has(id) },
    connection: { entities: { completeSync: (target, first) => calls.completeSync.push([target, first]) } },
    adapters: { registered: {}, register(name, cls) { this.registered[name] = cls; } },
  };
  return { naf, calls };
}

function wire(adapter, calls) {
  adapter.setServerConnectListeners((id) => calls.success.push(id), (code, msg) => calls.failure.push([code, msg]));
  adapter.setRoomOccupantListener((list) => calls.occupants.push(Object.keys(list).sort()));
  adapter.setDataChannelListeners(
    (id) => calls.open.push(id),
    (id) => calls.closed.push(id),
    (from, dataType, data, source) => calls.messages.push({ from, dataType, data, source }),
  );
}

/** A connected adapter; NAF-like behaviour: opens a connection to every new occupant, closes leavers. */
async function connected({ occupants = { [ME]: { presence: "lobby" } }, entities } = {}) {
  const hub = new FakeHub({ occupants });
  const { naf, calls } = fakeNaf(entities);
  const adapter = new HubChannelAdapter(hub, naf);
  wire(adapter, calls);
  adapter.setRoomOccupantListener((list) => {
    calls.occupants.push(Object.keys(list).sort());
    for (const id of Object.keys(list)) if (adapter.getConnectStatus(id) !== "IS_CONNECTED") adapter.startStreamConnection(id);
  });
  const done = adapter.connect();
  hub.join(ME);
  await done;
  hub.take();
  return { hub, naf, calls, adapter };
}

function firstSync(networkId, extra = {}) {
  return {
    networkId, owner: ME, creator: ME, lastOwnerTime: 5, template: "#toncon-avatar", persistent: false, parent: null,
    components: { 0: { x: 1, y: 0, z: 2 }, 1: { x: 0, y: 90, z: 0 } }, isFirstSync: true, ...extra,
  };
}

test("holdsFirstSync finds first syncs in u and um messages only", () => {
  assert.equal(holdsFirstSync("u", { isFirstSync: true }), true);
  assert.equal(holdsFirstSync("u", { isFirstSync: false }), false);
  assert.equal(holdsFirstSync("um", { d: [{ isFirstSync: false }, { isFirstSync: true }] }), true);
  assert.equal(holdsFirstSync("um", { d: [{ isFirstSync: false }] }), false);
  assert.equal(holdsFirstSync("r", { networkId: "x", isFirstSync: true }), false);
  assert.equal(holdsFirstSync("u", null), false);
});

test("connect waits for the hub join, reports the session id as NAF's client id, and asks the others for their entities", async () => {
  const hub = new FakeHub({ occupants: { [ME]: { presence: "lobby" }, [ANN]: { presence: "room" }, [BEN]: { presence: "lobby" } } });
  const { naf, calls } = fakeNaf();
  const adapter = new HubChannelAdapter(hub, naf);
  wire(adapter, calls);
  const done = adapter.connect();
  await Promise.resolve();
  assert.deepEqual(calls.success, [], "no client id before the join");
  hub.join(ME);
  await done;
  assert.deepEqual(calls.success, [ME]);
  // Everyone present but us, lobby included: lobby watchers need the first syncs to see the room.
  assert.deepEqual(calls.occupants, [[ANN, BEN].sort()]);
  const pushes = hub.take();
  assert.equal(pushes.length, 1);
  assert.equal(pushes[0].event, "nafr");
  assert.deepEqual(JSON.parse(pushes[0].payload.naf), { dataType: RESYNC_REQUEST, data: {} });
});

test("a refused join is reported to NAF as a connection failure", async () => {
  const hub = new FakeHub();
  const { naf, calls } = fakeNaf();
  const adapter = new HubChannelAdapter(hub, naf);
  wire(adapter, calls);
  const done = adapter.connect();
  hub.rejectJoin(Object.assign(new Error("No such Hub"), { reason: "not_found" }));
  await done;
  assert.deepEqual(calls.failure, [["not_found", "No such Hub"]]);
  assert.deepEqual(calls.success, []);
});

test("a first sync goes as naf, with a copy of the data as it was when sent", async () => {
  const { hub, adapter } = await connected();
  const data = firstSync("abc1234");
  adapter.broadcastDataGuaranteed("u", data);
  data.components[0].x = 99; // NAF reuses its objects
  data.isFirstSync = false;
  const [p] = hub.take();
  assert.equal(p.event, "naf");
  assert.equal(p.payload.dataType, "u");
  assert.equal(p.payload.data.isFirstSync, true);
  assert.equal(p.payload.data.components[0].x, 1);
  assert.equal(p.payload.data.template, "#toncon-avatar");
});

test("other messages go as nafr strings without isFirstSync keys, so the server need not parse them", async () => {
  const { hub, adapter } = await connected();
  adapter.broadcastData("um", { d: [{ ...firstSync("a"), isFirstSync: false }, { ...firstSync("b"), isFirstSync: false }] });
  adapter.sendData(ANN, "u", { ...firstSync("c"), isFirstSync: false });
  adapter.broadcastDataGuaranteed("r", { networkId: "c" });
  const pushes = hub.take();
  assert.deepEqual(pushes.map((p) => p.event), ["nafr", "nafr", "nafr"]);
  for (const p of pushes) {
    assert.equal(typeof p.payload.naf, "string");
    assert.ok(!p.payload.naf.includes("isFirstSync"), `nafr text mentions isFirstSync: ${p.payload.naf}`);
  }
  const um = JSON.parse(pushes[0].payload.naf);
  assert.equal(um.dataType, "um");
  assert.deepEqual(um.data.d.map((d) => d.networkId), ["a", "b"]);
  assert.deepEqual(JSON.parse(pushes[2].payload.naf), { dataType: "r", data: { networkId: "c" } });
});

test("a um holding a first sync is split: the first sync alone as naf, the rest as nafr", async () => {
  const { hub, adapter } = await connected();
  adapter.broadcastData("um", { d: [{ ...firstSync("a"), isFirstSync: false }, firstSync("b")] });
  const pushes = hub.take();
  assert.deepEqual(pushes.map((p) => p.event).sort(), ["naf", "nafr"]);
  const naf = pushes.find((p) => p.event === "naf");
  assert.equal(naf.payload.dataType, "u");
  assert.equal(naf.payload.data.networkId, "b");
  const rest = JSON.parse(pushes.find((p) => p.event === "nafr").payload.naf);
  assert.deepEqual(rest.data.d.map((d) => d.networkId), ["a"]);
});

test("while the connection is down, updates are dropped and reliable messages are still handed to phoenix", async () => {
  const { hub, adapter } = await connected();
  hub.connected = false;
  adapter.broadcastData("um", { d: [{ ...firstSync("a"), isFirstSync: false }] });
  adapter.broadcastDataGuaranteed("r", { networkId: "a" });
  const pushes = hub.take();
  assert.deepEqual(pushes.map((p) => JSON.parse(p.payload.naf).dataType), ["r"]);
  assert.equal(adapter.stats.dropped, 1);
});

test("incoming naf and nafr reach NAF with the sender's session id as the client id", async () => {
  const { hub, calls } = await connected();
  hub.deliver("naf", { dataType: "u", data: firstSync("x1", { owner: ANN, creator: ANN }), from_session_id: ANN });
  hub.deliver("nafr", { naf: JSON.stringify({ dataType: "um", data: { d: [{ networkId: "x1" }] } }), from_session_id: ANN });
  assert.equal(calls.messages.length, 2);
  assert.deepEqual(calls.messages.map((m) => [m.from, m.dataType, m.source]), [[ANN, "u", SOURCE], [ANN, "um", SOURCE]]);
  assert.equal(calls.messages[0].data.networkId, "x1");
  assert.deepEqual(calls.messages[1].data, { d: [{ networkId: "x1" }] });
});

test("broken messages and our own echoes are dropped", async () => {
  const { hub, calls, adapter } = await connected();
  hub.deliver("nafr", { naf: "{not json", from_session_id: ANN });
  hub.deliver("nafr", { naf: 42, from_session_id: ANN });
  hub.deliver("naf", { dataType: "u", data: { networkId: "q" } }); // no sender
  hub.deliver("naf", { dataType: 7, data: {}, from_session_id: ANN });
  hub.deliver("naf", null);
  hub.deliver("naf", { dataType: "u", data: firstSync("mine"), from_session_id: ME });
  assert.deepEqual(calls.messages, []);
  assert.equal(adapter.stats.dropped, 5);
});

test("a removal of an entity NAF does not have is not passed on (server and presence both remove leavers' entities)", async () => {
  const { hub, calls } = await connected({ entities: new Set(["known"]) });
  hub.deliver("naf", { dataType: "r", data: { networkId: "gone" }, from_session_id: ANN });
  hub.deliver("nafr", { naf: JSON.stringify({ dataType: "r", data: { networkId: "known" } }), from_session_id: ANN });
  assert.deepEqual(calls.messages.map((m) => m.data.networkId), ["known"]);
});

test("presence decides who is connected: joiners are opened once, leavers closed once", async () => {
  const { hub, calls, adapter } = await connected();
  hub.setOccupants({ [ME]: { presence: "room" }, [ANN]: { presence: "lobby" } });
  hub.setOccupants({ [ME]: { presence: "room" }, [ANN]: { presence: "room" }, [BEN]: { presence: "lobby" } });
  assert.deepEqual(calls.open, [ANN, BEN], "moving from the lobby into the room is not a reconnection");
  assert.equal(adapter.getConnectStatus(ANN), "IS_CONNECTED");
  hub.setOccupants({ [ME]: { presence: "room" }, [BEN]: { presence: "lobby" } });
  assert.deepEqual(calls.closed, [ANN]);
  assert.equal(adapter.getConnectStatus(ANN), "NOT_CONNECTED");
  adapter.closeStreamConnection(ANN); // NAF closing it too changes nothing
  assert.deepEqual(calls.closed, [ANN]);
});

test("a resync request from a connected client gets a complete sync aimed at it; from a stranger, none", async () => {
  const { hub, naf, calls } = await connected({ occupants: { [ME]: { presence: "room" }, [ANN]: { presence: "room" } } });
  assert.ok(naf);
  hub.deliver("nafr", { naf: JSON.stringify({ dataType: RESYNC_REQUEST, data: {} }), from_session_id: ANN });
  hub.deliver("nafr", { naf: JSON.stringify({ dataType: RESYNC_REQUEST, data: {} }), from_session_id: BEN });
  assert.deepEqual(calls.completeSync, [[ANN, true]]);
  assert.deepEqual(calls.messages, [], "resync requests are the adapter's, not NAF's");
});

test("after a rejoin we re-send everything we own as first syncs and ask for everyone else's", async () => {
  const { hub, calls, adapter } = await connected();
  hub.rejoin();
  assert.deepEqual(calls.completeSync, [[undefined, true]]);
  const pushes = hub.take();
  assert.deepEqual(pushes.map((p) => JSON.parse(p.payload.naf).dataType), [RESYNC_REQUEST]);
  assert.equal(adapter.stats.resyncs, 1);
});

test("disconnect stops listening and closes every connection", async () => {
  const { hub, calls, adapter } = await connected({ occupants: { [ME]: {}, [ANN]: {} } });
  adapter.disconnect();
  assert.deepEqual(calls.closed, [ANN]);
  assert.equal(hub.bindings.length, 0);
  hub.setOccupants({ [ME]: {}, [ANN]: {}, [BEN]: {} });
  hub.rejoin();
  assert.deepEqual(calls.open, [ANN]);
  assert.deepEqual(calls.completeSync, []);
});

test("registerHubAdapter registers a class NAF can make with no arguments, bound to the hub", async () => {
  const hub = new FakeHub();
  const { naf } = fakeNaf();
  const Adapter = registerHubAdapter(naf, hub);
  assert.equal(naf.adapters.registered[ADAPTER_NAME], Adapter);
  assert.equal(ADAPTER_NAME, ADAPTER_NAME.toLowerCase(), "NAF looks adapters up in lower case");
  const made = new naf.adapters.registered[ADAPTER_NAME]();
  assert.ok(made instanceof HubChannelAdapter);
  assert.equal(made.hub, hub);
  assert.equal(Adapter.instance, made);
  assert.equal(made.shouldStartConnectionTo({}), true);
  await assert.rejects(made.getMediaStream(ANN), /voice and video/);
});

test("with networked-aframe's own NetworkConnection: presence opens and closes clients, data reaches the entities", async () => {
  const { createRequire } = await import("node:module");
  const require = createRequire(import.meta.url);
  const NetworkConnection = require("networked-aframe/src/NetworkConnection.js");
  const saved = { NAF: globalThis.NAF, document: globalThis.document };
  const events = [];
  globalThis.document = { body: new EventTarget() };
  for (const name of ["connected", "clientConnected", "clientDisconnected"]) {
    globalThis.document.body.addEventListener(name, (e) => events.push([name, e.detail.clientId]));
  }
  const entityCalls = [];
  const entities = {
    updateEntity: (...a) => entityCalls.push(["update", a[0], a[2].networkId]),
    updateEntityMulti: (...a) => entityCalls.push(["multi", a[0]]),
    removeRemoteEntity: (...a) => entityCalls.push(["remove", a[0], a[2].networkId]),
    completeSync: (target, first) => entityCalls.push(["completeSync", target, first]),
    removeEntitiesOfClient: (id) => entityCalls.push(["removeEntitiesOfClient", id]),
    hasEntity: () => true,
  };
  const naf = {
    clientId: "",
    log: { write() {}, warn() {}, error(...a) { throw new Error(`NAF logged an error: ${a.join(" ")}`); } },
    adapters: { IS_CONNECTED: "IS_CONNECTED", NOT_CONNECTED: "NOT_CONNECTED", register() {} },
    entities,
  };
  globalThis.NAF = naf;
  try {
    const connection = new NetworkConnection(entities);
    naf.connection = connection;
    const hub = new FakeHub({ occupants: { [ME]: { presence: "lobby" }, [ANN]: { presence: "room" } } });
    connection.setNetworkAdapter(new HubChannelAdapter(hub, naf));
    const done = connection.connect("/", "app", "room");
    hub.join(ME);
    await done;
    assert.equal(naf.clientId, ME);
    assert.deepEqual(events.slice(0, 2), [["connected", ME], ["clientConnected", ANN]]);
    assert.deepEqual(entityCalls, [["completeSync", ANN, true]], "a client that appears gets our entities as first syncs");
    assert.ok(connection.isConnectedTo(ANN));

    hub.deliver("nafr", { naf: JSON.stringify({ dataType: "um", data: { d: [{ networkId: "n1" }] } }), from_session_id: ANN });
    hub.deliver("naf", { dataType: "u", data: { networkId: "n2", isFirstSync: true }, from_session_id: ANN });
    hub.deliver("naf", { dataType: "r", data: { networkId: "n2" }, from_session_id: ANN });
    assert.deepEqual(entityCalls.slice(1), [["multi", ANN], ["update", ANN, "n2"], ["remove", ANN, "n2"]]);

    entityCalls.length = 0;
    hub.setOccupants({ [ME]: { presence: "room" } });
    assert.deepEqual(entityCalls, [["removeEntitiesOfClient", ANN]]);
    assert.deepEqual(events.at(-1), ["clientDisconnected", ANN]);
    assert.ok(!connection.isConnectedTo(ANN));

    // NAF only sends to clients it is connected to; broadcasts always go out.
    hub.take();
    connection.sendDataGuaranteed(ANN, "u", { networkId: "n3" });
    connection.broadcastData("um", { d: [{ networkId: "n3" }] });
    assert.deepEqual(hub.take().map((p) => JSON.parse(p.payload.naf).dataType), ["um"]);
  } finally {
    globalThis.NAF = saved.NAF;
    globalThis.document = saved.document;
  }
});
