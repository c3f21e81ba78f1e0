// Unit tests for the media connection (src/room/media/connection.js) with a fake hub session, a fake media
// server socket and fake RTCPeerConnections: joining with get_host and a fresh perms token, answering the
// server's offers, publishing the microphone and the camera, a moderator's mute and unmuting, token refreshes,
// refusals and reconnects. The real thing runs in test/e2e/media.test.js.
import assert from "node:assert/strict";
import { test } from "node:test";

import { MediaConnection, refreshDelay } from "../../src/room/media/connection.js";
import { RemoteMedia } from "../../src/room/media/remote.js";

const ME = "11111111-1111-1111-1111-111111111111";
const ANN = "22222222-2222-2222-2222-222222222222";

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** The hub channel as the connection uses it: request(event) answers from `replies`; channel.on for pushes. */
class FakeHub {
  constructor() {
    this.hubId = "abc1234";
    this.sessionId = ME;
    this.hub = { host: "fallback.example", port: 4000 };
    this.permsToken = null;
    this.requests = [];
    this.bindings = new Map();
    this.listeners = new Map();
    this.tokens = 0;
    this.replies = {
      get_host: () => ({ status: "ok", response: { host: "media.example", port: 4443 } }),
      refresh_perms_token: () => ({ status: "ok", response: { perms_token: `token-${++this.tokens}` } }),
      unmute: () => ({ status: "ok", response: null }),
    };
    this.channel = { on: (event, fn) => this.bindings.set(event, fn) };
  }
  async request(event, payload) {
    this.requests.push({ event, payload });
    return this.replies[event]?.() ?? { status: "error", response: { reason: "unknown_event" } };
  }
  on(name, fn) {
    this.listeners.set(name, fn);
  }
  push(event) {
    this.bindings.get(event)?.({});
  }
}

/** The media server's end of the socket: answers requests with handlers[method](data). */
class FakeServerSocket {
  static all = [];
  static handlers = {};
  constructor(url) {
    this.url = url;
    this.sent = [];
    this.closed = null;
    FakeServerSocket.all.push(this);
    setImmediate(() => this.onopen?.());
  }
  send(text) {
    const m = JSON.parse(text);
    this.sent.push(m);
    if (m.request) {
      const h = FakeServerSocket.handlers[m.method];
      if (!h) return;
      const r = h(m.data, this);
      if (r === undefined) return; // leave it unanswered
      setImmediate(() => this.onmessage?.({ data: JSON.stringify(r.error
        ? { response: true, id: m.id, ok: false, errorCode: r.error, errorReason: r.reason || r.error }
        : { response: true, id: m.id, ok: true, data: r }) }));
    }
  }
  close(code, reason) {
    this.closed = { code, reason };
  }
  requests(method) {
    return this.sent.filter((m) => m.request && m.method === method);
  }
  notify(method, data) {
    this.onmessage?.({ data: JSON.stringify({ notification: true, method, data }) });
  }
  /** The server asks us for an answer; resolves with our response. */
  ask(method, data) {
    const id = `srv-${Math.random()}`;
    this.onmessage?.({ data: JSON.stringify({ request: true, id, method, data }) });
    return new Promise((resolve) => {
      const check = () => {
        const r = this.sent.find((m) => m.response && m.id === id);
        if (r) resolve(r);
        else setImmediate(check);
      };
      check();
    });
  }
  drop(code) {
    this.onclose?.({ code, reason: "" });
  }
}

/** Enough of RTCPeerConnection: transceivers, descriptions, and a hook that plays the browser's ontrack. */
class FakePC {
  static all = [];
  static onOffer = null; // (pc, sdp) during setRemoteDescription of an offer
  constructor(config) {
    this.config = config;
    this.transceivers = [];
    this.localDescription = null;
    this.remoteDescription = null;
    this.closed = false;
    this.connectionState = "new";
    this.offers = 0;
    FakePC.all.push(this);
  }
  addEventListener() {}
  addTransceiver(track, init) {
    const t = {
      mid: String(this.transceivers.length),
      direction: init.direction,
      currentDirection: null,
      init,
      sender: { track, replaceTrack: async (x) => (t.sender.track = x) },
      receiver: { track: null },
      stop: () => {
        t.direction = "stopped";
        t.sender.track = null;
      },
    };
    this.transceivers.push(t);
    return t;
  }
  getTransceivers() {
    return this.transceivers;
  }
  async createOffer() {
    this.offers++;
    return { type: "offer", sdp: `offer-${this.offers}:${this.transceivers.map((t) => `${t.sender.track?.kind ?? "none"}/${t.direction}`).join(",")}` };
  }
  async createAnswer() {
    return { type: "answer", sdp: `answer-to:${this.remoteDescription.sdp}` };
  }
  async setLocalDescription(d) {
    this.localDescription = d;
  }
  async setRemoteDescription(d) {
    this.remoteDescription = d;
    if (d.type === "offer") FakePC.onOffer?.(this, d.sdp);
  }
  close() {
    this.closed = true;
  }
}

/** LocalMedia's surface: mic and video tracks and the change listeners. */
class FakeLocal {
  constructor() {
    this.mic = null;
    this.video = null;
    this.listeners = new Set();
  }
  on(fn) {
    this.listeners.add(fn);
  }
  emit(what) {
    for (const fn of this.listeners) fn(what);
  }
  setMic(track) {
    this.mic = track;
    this.emit("mic");
  }
  setMicEnabled(on) {
    if (this.mic) this.mic.enabled = on;
    this.emit("mute");
  }
  setVideo(track, source) {
    this.video = track ? { track, source } : null;
    this.emit("video");
  }
}

function setup(t, { handlers = {} } = {}) {
  FakeServerSocket.all = [];
  FakePC.all = [];
  FakePC.onOffer = null;
  FakeServerSocket.handlers = {
    join: (data) => ({ session_id: data.session_id, peers: [{ session_id: ANN, tracks: [{ id: "audio-a", kind: "audio", source: "mic", layers: [] }] }], voice: { allowed: true, muted: false }, expires_at: Math.floor(Date.now() / 1000) + 300 }),
    publish: (data) => ({ sdp: `answer-to:${data.sdp}` }),
    unmute: () => ({ voice: { allowed: true, muted: false } }),
    refresh_token: () => ({ expires_at: Math.floor(Date.now() / 1000) + 300, voice: { allowed: true, muted: false } }),
    leave: () => ({}),
    ...handlers,
  };
  const hub = new FakeHub();
  const local = new FakeLocal();
  const remote = new RemoteMedia();
  const conn = new MediaConnection({
    hub, local, remote, PeerConnection: FakePC, WebSocketClass: FakeServerSocket,
    pageLocation: { protocol: "https:", hostname: "hubs.example", port: "" },
  });
  const events = [];
  conn.on((event, detail) => events.push({ event, detail }));
  t.after(() => conn.stop()); // no timers left behind, whatever the test did
  return { hub, local, remote, conn, events };
}

test("joining: get_host's address, a fresh perms token, our session id; the peers go to the table", async (t) => {
  const { hub, conn, remote } = setup(t);
  conn.start();
  await settle();
  assert.equal(conn.state, "connected");
  const [sock] = FakeServerSocket.all;
  assert.equal(sock.url, "wss://media.example:4443/media/socket?hub_id=abc1234");
  assert.deepEqual(sock.requests("join")[0].data, { hub_id: "abc1234", session_id: ME, token: "token-1" });
  assert.deepEqual(hub.requests.map((r) => r.event).sort(), ["get_host", "refresh_perms_token"]);
  assert.deepEqual(remote.tracksOf(ANN).map((t) => t.id), ["audio-a"]);
  assert.equal(FakePC.all.length, 0, "nothing to publish, nothing offered: no connections yet");
  conn.stop();
});

test("the server's offer is answered on a subscribe connection; ontrack's stream id says whose track it is", async (t) => {
  const { conn, remote } = setup(t);
  conn.start();
  await settle();
  const voice = { kind: "audio", id: "receiver-track" };
  FakePC.onOffer = (pc) => {
    const t = pc.addTransceiver(null, { direction: "recvonly" });
    t.currentDirection = "recvonly";
    pc.ontrack({ transceiver: t, track: voice, streams: [{ id: ANN }] });
  };
  const [sock] = FakeServerSocket.all;
  const r = await sock.ask("offer", { sdp: "server-offer-1" });
  assert.equal(r.ok, true);
  assert.equal(r.data.sdp, "answer-to:server-offer-1");
  assert.equal(remote.view().get(ANN).audio, voice);
  // A later offer stops sending on that transceiver: its track no longer counts.
  FakePC.onOffer = (pc) => {
    pc.transceivers[0].currentDirection = "inactive";
  };
  const r2 = await sock.ask("offer", { sdp: "server-offer-2" });
  assert.equal(r2.ok, true);
  assert.equal(FakePC.all.length, 1, "one subscribe connection, renegotiated");
  assert.equal(remote.view().size, 0);
  const bad = await sock.ask("offer", {});
  assert.equal(bad.ok, false);
  conn.stop();
});

test("the microphone is published once connected; the camera joins it in simulcast, and goes again", async (t) => {
  const { conn, local } = setup(t);
  const micTrack = { kind: "audio", enabled: true };
  local.setMic(micTrack); // checked in the lobby: on before we connect
  conn.start();
  await settle();
  const [sock] = FakeServerSocket.all;
  let publishes = sock.requests("publish");
  assert.equal(publishes.length, 1);
  assert.match(publishes[0].data.sdp, /^offer-1:none\/inactive,audio\/sendonly$/, "an idle first section anchors the transport");
  const [pub] = FakePC.all;
  assert.equal(pub.remoteDescription.sdp, `answer-to:${publishes[0].data.sdp}`);

  local.setVideo({ kind: "video" }, "camera");
  await settle();
  publishes = sock.requests("publish");
  assert.equal(publishes.length, 2);
  assert.equal(publishes[1].data.source, "camera");
  assert.match(publishes[1].data.sdp, /:none\/inactive,audio\/sendonly,video\/sendonly$/);
  assert.deepEqual(pub.transceivers[2].init.sendEncodings.map((e) => e.rid), ["q", "h", "f"]);

  // Switching to the screen keeps the transceiver, replaces the track and tells the server the new source.
  const screenTrack = { kind: "video" };
  local.setVideo(screenTrack, "screen");
  await settle();
  publishes = sock.requests("publish");
  assert.equal(publishes.length, 3);
  assert.equal(publishes[2].data.source, "screen");
  assert.equal(pub.transceivers[2].sender.track, screenTrack);

  local.setVideo(null);
  await settle();
  publishes = sock.requests("publish");
  assert.equal(publishes.length, 4);
  assert.match(publishes[3].data.sdp, /audio\/sendonly,none\/stopped$/, "the video transceiver stops");

  // The camera again: a new transceiver, so the server sees a new track.
  local.setVideo({ kind: "video" }, "camera");
  await settle();
  publishes = sock.requests("publish");
  assert.equal(publishes.length, 5);
  assert.match(publishes[4].data.sdp, /audio\/sendonly,none\/stopped,video\/sendonly$/);
  assert.equal(publishes[4].data.source, "camera");
  assert.equal(FakePC.all.length, 1, "one publish connection throughout");

  // Muting locally, or another microphone, needs no renegotiation.
  local.setMicEnabled(false);
  const otherMic = { kind: "audio", enabled: true };
  local.setMic(otherMic);
  await settle();
  assert.equal(sock.requests("publish").length, 5);
  assert.equal(pub.transceivers[1].sender.track, otherMic);

  // The microphone goes (unplugged) and comes back: a fresh transceiver; the anchor stays.
  local.setMic(null);
  await settle();
  local.setMic({ kind: "audio", enabled: true });
  await settle();
  publishes = sock.requests("publish");
  assert.equal(publishes.length, 7);
  assert.match(publishes[5].data.sdp, /:none\/inactive,none\/stopped,/);
  assert.match(publishes[6].data.sdp, /:none\/inactive,none\/stopped,none\/stopped,video\/sendonly,audio\/sendonly$/);
  conn.stop();
});

test("a moderator's mute turns the microphone off; unmuting goes through the hub channel and the media server", async (t) => {
  const { conn, local, hub, events } = setup(t);
  const micTrack = { kind: "audio", enabled: true };
  local.setMic(micTrack);
  conn.start();
  await settle();
  const [sock] = FakeServerSocket.all;
  sock.notify("muted", { muted: true });
  assert.equal(micTrack.enabled, false);
  assert.deepEqual(conn.voice, { allowed: true, muted: true });
  assert.ok(events.some((e) => e.event === "voice" && e.detail.muted));
  // The hub channel's push says the same; nothing changes twice.
  hub.push("mute");
  assert.equal(conn.voice.muted, true);

  await conn.unmute();
  assert.ok(hub.requests.some((r) => r.event === "unmute"), "the hub channel's unmute (presence and the media server)");
  assert.equal(sock.requests("unmute").length, 1, "and the media socket's");
  assert.equal(conn.voice.muted, false);
  assert.equal(micTrack.enabled, true, "unmuting turns the microphone back on");

  // A mute lifted from elsewhere (the muted notice's Unmute button) also brings the microphone back.
  hub.push("mute");
  assert.equal(micTrack.enabled, false);
  sock.notify("muted", { muted: false });
  assert.equal(micTrack.enabled, true);
  conn.stop();
});

test("a refused unmute leaves the mute in place and says why", async (t) => {
  const { conn, local, hub } = setup(t);
  local.setMic({ kind: "audio", enabled: true });
  conn.start();
  await settle();
  hub.push("mute");
  hub.replies.unmute = () => ({ status: "error", response: { reason: "rate_limited", message: "slow down" } });
  await assert.rejects(conn.unmute(), (err) => err.code === "rate_limited");
  assert.equal(conn.voice.muted, true);
  assert.equal(local.mic.enabled, false);
  conn.stop();
});

test("the token is refreshed through the hub channel and sent as refresh_token", async (t) => {
  const { conn, hub } = setup(t);
  conn.start();
  await settle();
  const [sock] = FakeServerSocket.all;
  await conn.refreshToken();
  assert.deepEqual(sock.requests("refresh_token").map((r) => r.data.token), ["token-2"]);
  assert.equal(hub.requests.filter((r) => r.event === "refresh_perms_token").length, 2);
  // Our permissions changed (made owner, or the room's voice setting): refresh at once.
  hub.listeners.get("permissions-updated")();
  await settle();
  assert.deepEqual(sock.requests("refresh_token").map((r) => r.data.token), ["token-2", "token-3"]);
  conn.stop();
});

test("refreshDelay: a minute before expiry, at most four minutes, never under ten seconds", () => {
  const now = 1_000_000_000_000;
  assert.equal(refreshDelay(now / 1000 + 300, now), 240000);
  assert.equal(refreshDelay(now / 1000 + 120, now), 60000);
  assert.equal(refreshDelay(now / 1000 + 30, now), 10000);
  assert.equal(refreshDelay(undefined, now), 240000);
});

test("a join refused for good stops with a message; an expired token is retried with a fresh one", async (t) => {
  let joins = 0;
  const { conn, events } = setup(t, { handlers: { join: () => ({ error: "join_denied", reason: "closed room" }) } });
  conn.start();
  await settle();
  assert.equal(conn.state, "refused");
  assert.ok(events.some((e) => e.event === "notice" && /not available to you/.test(e.detail.text)));
  assert.equal(FakeServerSocket.all.length, 1, "no retry");

  const again = setup(t, {
    handlers: {
      join: (data) => (++joins === 1 ? { error: "token_expired" } : { session_id: data.session_id, peers: [], voice: { allowed: true, muted: false }, expires_at: 0 }),
    },
  });
  again.conn.start();
  await settle();
  await new Promise((resolve) => setTimeout(resolve, 700)); // the first backoff
  await settle();
  assert.equal(again.conn.state, "connected");
  assert.deepEqual(FakeServerSocket.all.map((s) => s.requests("join")[0]?.data.token), ["token-1", "token-2"]);
  again.conn.stop();
});

test("close codes: a kick stops for good, a server restart reconnects from scratch", async (t) => {
  const { conn, remote, events } = setup(t);
  conn.start();
  await settle();
  FakeServerSocket.all[0].drop(1001);
  assert.equal(conn.state, "reconnecting");
  assert.equal(remote.tracksOf(ANN).length, 0, "what the old connection knew is gone");
  await new Promise((resolve) => setTimeout(resolve, 700));
  await settle();
  assert.equal(conn.state, "connected");
  assert.equal(FakeServerSocket.all.length, 2);

  FakeServerSocket.all[1].drop(4003);
  assert.equal(conn.state, "stopped");
  assert.ok(events.some((e) => e.event === "notice" && /moderator removed you/.test(e.detail.text)));
  await new Promise((resolve) => setTimeout(resolve, 700));
  assert.equal(FakeServerSocket.all.length, 2, "no reconnect after a kick");
});

test("stop() says leave and closes; nothing reconnects", async (t) => {
  const { conn } = setup(t);
  conn.start();
  await settle();
  const [sock] = FakeServerSocket.all;
  conn.stop();
  await settle();
  assert.equal(sock.requests("leave").length, 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(sock.closed?.code, 1000);
  assert.equal(conn.state, "stopped");
  assert.equal(FakeServerSocket.all.length, 1);
});
