// Unit tests for matching the media server's tracks to sessions (src/room/media/remote.js): what the server says
// (join peers, tracks, peer_left) put together with what the subscribe connection hands over (ontrack on reused
// transceivers, and which transceivers still receive after each negotiation).
import assert from "node:assert/strict";
import { test } from "node:test";

import { RemoteMedia } from "../../src/room/media/remote.js";

const ANN = "22222222-2222-2222-2222-222222222222";
const BEN = "33333333-3333-3333-3333-333333333333";

const track = (name, kind = "audio") => ({ id: name, kind, label: name });
const mic = (id = "audio-1") => ({ id, kind: "audio", source: "mic", layers: [] });
const camera = (id = "video-1") => ({ id, kind: "video", source: "camera", layers: ["q", "h", "f"] });
const screen = (id = "video-2") => ({ id, kind: "video", source: "screen", layers: [] });

/** view() as plain data: {session: {audio: label|null, video: "label/source"|null}}. */
function seen(remote) {
  const out = {};
  for (const [session, v] of remote.view()) {
    out[session] = { audio: v.audio?.label ?? null, video: v.video ? `${v.video.track.label}/${v.video.source}` : null };
  }
  return out;
}

test("a track counts once the server announced it and a transceiver receives it, keyed by the stream id", () => {
  const r = new RemoteMedia();
  r.setPeers([{ session_id: ANN, tracks: [mic()] }, { session_id: BEN, tracks: [] }]);
  assert.deepEqual(seen(r), {}, "announced but not received yet");
  const v0 = r.version;
  r.received({ mid: "0", session: ANN, kind: "audio", track: track("ann-voice") });
  assert.ok(r.version > v0, "a change bumps the version");
  r.reconcile(["0"]);
  assert.deepEqual(seen(r), { [ANN]: { audio: "ann-voice", video: null } });
  assert.equal(r.sessionOfMid("0"), ANN);
  assert.equal(r.sessionOfMid(0), ANN, "mids match as strings");
  assert.equal(r.sessionOfMid("7"), null);
});

test("video takes its source from the server's words, and follows a switch from camera to screen", () => {
  const r = new RemoteMedia();
  r.setPeers([{ session_id: ANN, tracks: [mic(), camera()] }]);
  r.received({ mid: "0", session: ANN, kind: "audio", track: track("ann-voice") });
  r.received({ mid: "1", session: ANN, kind: "video", track: track("ann-picture", "video") });
  r.reconcile(["0", "1"]);
  assert.deepEqual(seen(r)[ANN], { audio: "ann-voice", video: "ann-picture/camera" });
  // The publisher replaced the camera by the screen on the same track: only the source changes.
  r.setTracks(ANN, [mic(), screen("video-1")]);
  assert.deepEqual(seen(r)[ANN], { audio: "ann-voice", video: "ann-picture/screen" });
});

test("a track the server no longer lists is gone at once, before the renegotiation removes it", () => {
  const r = new RemoteMedia();
  r.setPeers([{ session_id: ANN, tracks: [mic(), camera()] }]);
  r.received({ mid: "0", session: ANN, kind: "audio", track: track("ann-voice") });
  r.received({ mid: "1", session: ANN, kind: "video", track: track("ann-picture", "video") });
  r.setTracks(ANN, [mic()]);
  assert.deepEqual(seen(r)[ANN], { audio: "ann-voice", video: null });
  // The next offer makes that transceiver inactive.
  r.reconcile(["0"]);
  assert.deepEqual(seen(r)[ANN], { audio: "ann-voice", video: null });
  // She shares again: announced, but the old, inactive transceiver does not count until a new ontrack.
  r.setTracks(ANN, [mic(), camera("video-9")]);
  assert.deepEqual(seen(r)[ANN], { audio: "ann-voice", video: null });
  r.received({ mid: "2", session: ANN, kind: "video", track: track("ann-picture-2", "video") });
  r.reconcile(["0", "2"]);
  assert.deepEqual(seen(r)[ANN], { audio: "ann-voice", video: "ann-picture-2/camera" });
});

test("a transceiver the server reuses for someone else's track moves to that session", () => {
  const r = new RemoteMedia();
  r.setPeers([{ session_id: ANN, tracks: [mic()] }]);
  const shared = track("receiver-0-track");
  r.received({ mid: "0", session: ANN, kind: "audio", track: shared });
  r.reconcile(["0"]);
  // Ann leaves; the offer that drops her track comes after the notification.
  r.peerLeft(ANN);
  assert.deepEqual(seen(r), {});
  r.reconcile([]);
  // Ben joins and publishes: the server reuses mid 0, and the browser hands over the same track object.
  r.peerJoined(BEN);
  r.setTracks(BEN, [mic("audio-ben")]);
  r.received({ mid: "0", session: BEN, kind: "audio", track: shared });
  r.reconcile(["0"]);
  assert.deepEqual(seen(r), { [BEN]: { audio: "receiver-0-track", video: null } });
  assert.equal(r.sessionOfMid("0"), BEN);
});

test("of two live tracks of one kind from one session the newer wins (a re-publish while the old one winds down)", () => {
  const r = new RemoteMedia();
  r.setPeers([{ session_id: ANN, tracks: [camera()] }]);
  r.received({ mid: "3", session: ANN, kind: "video", track: track("old", "video") });
  r.received({ mid: "1", session: ANN, kind: "video", track: track("new", "video") });
  assert.equal(seen(r)[ANN].video, "new/camera");
  r.reconcile(["1"]);
  assert.equal(seen(r)[ANN].video, "new/camera");
});

test("before the server said anything of a session, what arrives counts, with default sources", () => {
  const r = new RemoteMedia();
  r.received({ mid: "0", session: ANN, kind: "audio", track: track("a") });
  r.received({ mid: "1", session: ANN, kind: "video", track: track("v", "video") });
  assert.deepEqual(seen(r), { [ANN]: { audio: "a", video: "v/camera" } });
});

test("nonsense is ignored: no mid, no stream id, an unknown kind, malformed track lists", () => {
  const r = new RemoteMedia();
  assert.equal(r.received({ mid: null, session: ANN, kind: "audio", track: track("a") }), false);
  assert.equal(r.received({ mid: "0", session: undefined, kind: "audio", track: track("a") }), false);
  assert.equal(r.received({ mid: "0", session: ANN, kind: "data", track: track("a") }), false);
  r.setPeers("nope");
  r.setTracks(ANN, [null, { kind: "text" }, { kind: "audio" }]);
  assert.deepEqual(r.tracksOf(ANN), [{ id: "", kind: "audio", source: "mic", layers: [] }]);
  r.setTracks("", [mic()]);
  assert.deepEqual(seen(r), {});
});

test("clear() forgets everything (a reconnect starts from nothing)", () => {
  const r = new RemoteMedia();
  r.setPeers([{ session_id: ANN, tracks: [mic()] }]);
  r.received({ mid: "0", session: ANN, kind: "audio", track: track("a") });
  r.clear();
  assert.deepEqual(seen(r), {});
  assert.deepEqual(r.tracksOf(ANN), []);
  assert.equal(r.sessionOfMid("0"), null);
});
