// Unit tests for the media server's signalling client (src/room/media/signal.js) with a fake WebSocket: the
// protoo envelope both ways, refusals, timeouts, close codes and the socket URL.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CLOSE, MediaError, MediaSocket, closeAction, mediaSocketUrl } from "../../src/room/media/signal.js";

/** A WebSocket the test plays the server of: sent holds what the client sent (parsed). */
class FakeWebSocket {
  static last = null;
  constructor(url) {
    this.url = url;
    this.sent = [];
    this.closedWith = null;
    FakeWebSocket.last = this;
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close(code, reason) {
    this.closedWith = { code, reason };
  }
  // the server's side
  open() {
    this.onopen?.();
  }
  deliver(obj) {
    this.onmessage?.({ data: typeof obj === "string" ? obj : JSON.stringify(obj) });
  }
  drop(code, reason = "") {
    this.onclose?.({ code, reason });
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

function socket(options = {}) {
  const events = { notifications: [], closes: [] };
  const sock = new MediaSocket("ws://media.test/media/socket?hub_id=abc", {
    WebSocketClass: FakeWebSocket,
    onNotification: (method, data) => events.notifications.push({ method, data }),
    onClose: (ev) => events.closes.push(ev),
    ...options,
  });
  return { sock, ws: FakeWebSocket.last, events };
}

test("a request goes out in protoo's envelope and resolves with the response's data", async () => {
  const { sock, ws } = socket();
  ws.open();
  await sock.opened;
  const reply = sock.request("join", { hub_id: "abc", token: "t" });
  assert.equal(ws.sent.length, 1);
  const req = ws.sent[0];
  assert.deepEqual(req, { request: true, id: req.id, method: "join", data: { hub_id: "abc", token: "t" } });
  const second = sock.request("unmute");
  assert.notEqual(ws.sent[1].id, req.id, "every request has its own id");
  // Responses may come in any order; each finds its request by id.
  ws.deliver({ response: true, id: ws.sent[1].id, ok: true, data: { voice: { allowed: true, muted: false } } });
  ws.deliver({ response: true, id: req.id, ok: true, data: { session_id: "s1", peers: [] } });
  assert.deepEqual(await reply, { session_id: "s1", peers: [] });
  assert.deepEqual(await second, { voice: { allowed: true, muted: false } });
});

test("a refusal rejects with a MediaError carrying errorCode and errorReason", async () => {
  const { sock, ws } = socket();
  ws.open();
  const reply = sock.request("join", {});
  ws.deliver({ response: true, id: ws.sent[0].id, ok: false, errorCode: "token_expired", errorReason: "the perms token has expired" });
  await assert.rejects(reply, (err) => err instanceof MediaError && err.code === "token_expired" && err.reason === "the perms token has expired");
});

test("a request without an answer times out", async () => {
  const { sock, ws } = socket({ requestTimeout: 20 });
  ws.open();
  await assert.rejects(sock.request("publish", { sdp: "x" }), (err) => err.code === "timeout" && /publish/.test(err.message));
});

test("the server's requests are answered with what onRequest returns, or ok: false when it throws", async () => {
  const seen = [];
  const { ws } = socket({
    onRequest: async (method, data) => {
      seen.push({ method, data });
      if (data.sdp === "bad") throw new Error("cannot apply that offer");
      return { sdp: `answer to ${data.sdp}` };
    },
  });
  ws.open();
  ws.deliver({ request: true, id: 7, method: "offer", data: { sdp: "v=0 offer" } });
  ws.deliver({ request: true, id: "eight", method: "offer", data: { sdp: "bad" } });
  await tick();
  assert.deepEqual(seen.map((s) => s.data.sdp), ["v=0 offer", "bad"]);
  assert.deepEqual(ws.sent[0], { response: true, id: 7, ok: true, data: { sdp: "answer to v=0 offer" } });
  assert.equal(ws.sent[1].id, "eight", "a string id is echoed as it came");
  assert.equal(ws.sent[1].ok, false);
  assert.equal(ws.sent[1].errorReason, "cannot apply that offer");
});

test("notifications reach onNotification; noise and unknown responses are ignored", () => {
  const { ws, events } = socket();
  ws.open();
  ws.deliver("not json");
  ws.deliver({ response: true, id: 999, ok: true, data: {} });
  ws.deliver({ notification: true, method: "tracks", data: { session_id: "s2", tracks: [] } });
  ws.deliver({ notification: true, method: "muted", data: { muted: true } });
  assert.deepEqual(events.notifications, [
    { method: "tracks", data: { session_id: "s2", tracks: [] } },
    { method: "muted", data: { muted: true } },
  ]);
});

test("a close rejects what is pending, reports the code once, and refuses new requests", async () => {
  const { sock, ws, events } = socket();
  ws.open();
  const pending = sock.request("join", {});
  ws.drop(CLOSE.KICKED, "kicked");
  await assert.rejects(pending, (err) => err.code === "closed");
  ws.drop(CLOSE.KICKED, "again");
  assert.deepEqual(events.closes, [{ code: 4003, reason: "kicked" }]);
  await assert.rejects(sock.request("unmute"), (err) => err.code === "closed");
});

test("a socket that never opens rejects opened and reports the close", async () => {
  const { sock, ws, events } = socket();
  ws.drop(CLOSE.ABNORMAL);
  await assert.rejects(sock.opened, (err) => err.code === "closed");
  assert.equal(events.closes[0].code, 1006);
});

test("close() closes the WebSocket with the code and reports it", () => {
  const { sock, ws, events } = socket();
  ws.open();
  sock.close(CLOSE.NORMAL, "left");
  assert.deepEqual(ws.closedWith, { code: 1000, reason: "left" });
  assert.deepEqual(events.closes, [{ code: 1000, reason: "left" }]);
  assert.equal(sock.closed, true);
});

test("close codes: stop, refused or reconnect, as docs/media.md says", () => {
  assert.equal(closeAction(1000), "stop");
  assert.equal(closeAction(4002), "stop", "another socket of the same session won");
  assert.equal(closeAction(4003), "stop", "kicked");
  assert.equal(closeAction(4004), "refused");
  for (const code of [1001, 1006, 4001, 4005, 4006, 4007, 4000]) assert.equal(closeAction(code), "reconnect", String(code));
});

test("the socket URL follows the page's scheme and get_host's host and port", () => {
  const https = { protocol: "https:", hostname: "hubs.example.org" };
  const http = { protocol: "http:", hostname: "127.0.0.1" };
  assert.equal(mediaSocketUrl({ host: "hubs.example.org", port: 443 }, "abc1234", https), "wss://hubs.example.org/media/socket?hub_id=abc1234");
  assert.equal(mediaSocketUrl({ host: "media.example.org", port: 4000 }, "abc1234", https), "wss://media.example.org:4000/media/socket?hub_id=abc1234");
  assert.equal(mediaSocketUrl({ host: "127.0.0.1", port: 41234 }, "abc1234", http), "ws://127.0.0.1:41234/media/socket?hub_id=abc1234");
  assert.equal(mediaSocketUrl({ host: "::1", port: 4000 }, "a b", http), "ws://[::1]:4000/media/socket?hub_id=a%20b");
  assert.equal(mediaSocketUrl({ host: "", port: null }, "abc", https), "wss://hubs.example.org/media/socket?hub_id=abc");
});
