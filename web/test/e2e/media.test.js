// End to end: voice and camera through toncon's media server between two headless Chromium contexts, with
// Chromium's fake microphone (a beep) and fake camera (a moving pattern). Ada checks her microphone in the lobby
// and enters with it on; Bob enters without one. Bob's subscribe connection must show Ada's audio packets coming
// in, and her voice must be playing from her avatar; then Ada shares her camera and Bob must decode its frames
// and show them on a surface above her avatar; when she stops, the surface goes. Bob is a site admin (signed in
// with the link the server logs), so he can mute Ada: her audio stops reaching him until she unmutes herself.
// Run with `make test-e2e` (or `npm run test:e2e` from web/ with TONCON_BIN and CHROMIUM set).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { createAdmin, signInOnHome } from "./accounts.js";
import { assertNoErrors, createHub, enterRoom, launchBrowser, openPerson, screenshot, serverBinary, shutDown, startServer, until, untilSees, WAIT_MS } from "./harness.js";

serverBinary();
const STEP_MS = 45000;

/** Bob's inbound stream of kind from session, from his subscribe connection's getStats. */
function inbound(person, sessionId, kind) {
  return until(
    person,
    `an inbound ${kind} stream from ${sessionId}`,
    async ([sid, k]) => {
      const s = await window.toncon.media.stats();
      return s.subscribe.inbound.find((i) => i.sessionId === sid && i.kind === k) || null;
    },
    [sessionId, kind],
  );
}

/** Waits until field of person's inbound kind stream from sessionId has grown past `above`; returns the value. */
async function grows(person, sessionId, kind, field, above, ms = 20000) {
  const stream = await until(
    person,
    `${kind} ${field} from ${sessionId} above ${above}`,
    async ([sid, k, f, min]) => {
      const s = await window.toncon.media.stats();
      const i = s.subscribe.inbound.find((x) => x.sessionId === sid && x.kind === k);
      return i && i[f] > min ? i : null;
    },
    [sessionId, kind, field, above],
    ms,
  );
  return stream[field];
}

describe("voice and camera in the browser", { timeout: 120000 }, () => {
  let server;
  let browser;
  let ada;
  let bob;
  let roomUrl;
  const sid = {};

  before(async () => {
    server = await startServer();
    await createAdmin(server, "bob@example.org");
    browser = await launchBrowser({ extraArgs: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"] });
    // Small windows: each page renders its room in software (SwiftShader), which costs by the pixel.
    ada = await openPerson(browser, "ada", { viewport: { width: 560, height: 420 } });
    bob = await openPerson(browser, "bob", { viewport: { width: 560, height: 420 } });
    const hub = await createHub(server, "Voices");
    roomUrl = new URL(hub.url).pathname;
  });

  after(() => shutDown(server, browser));

  test("the server took a free UDP port for media, not the default 4443", () => {
    const m = /msg="media is listening".* udp_port=(\d+)/.exec(server.stderr);
    assert.ok(m, `no "media is listening" line in the server's log:\n${server.stderr}`);
    const port = Number(m[1]);
    assert.ok(port > 0 && port !== 4443, `media UDP port ${port}`);
  });

  test("Ada checks her microphone in the lobby (the meter moves) and enters with it on", { timeout: STEP_MS }, async () => {
    await ada.page.goto(server.url + roomUrl);
    await until(ada, "the lobby's Enter button", () => window.toncon?.ready === true);
    await ada.page.click("#mic-check");
    await until(ada, "the microphone to be on", () => window.toncon.media.micOn);
    // Chromium's fake microphone beeps about once a second: the meter must show it.
    await until(ada, "the lobby's level meter to move", () => Number(document.querySelector("#mic-level")?.getAttribute("aria-valuenow")) > 0, null, 10000);
    const options = await ada.page.locator("#lobby-mic-select option").count();
    assert.ok(options >= 1, "the microphone picker lists the fake microphone");
    sid.ada = await enterRoom(ada, { displayName: "Ada" });
    await until(ada, "the media connection", () => window.toncon.media.state === "connected");
    assert.equal(await ada.page.locator("#mic-toggle").innerText(), "Mute");
  });

  test("Bob (an admin) enters; Ada's audio packets reach his subscribe connection and keep coming", { timeout: STEP_MS }, async () => {
    await signInOnHome(server, bob, "bob@example.org");
    await bob.page.goto(server.url + roomUrl);
    // Bob's browser finds no microphone, then refuses it: the lobby says which, and what to do.
    await until(bob, "the lobby's Enter button", () => window.toncon?.ready === true);
    for (const [name, said] of [["NotFoundError", /^No microphone was found/], ["NotAllowedError", /blocked the microphone\. Allow it/]]) {
      await bob.page.evaluate((n) => {
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("test", n));
      }, name);
      await bob.page.click("#mic-check");
      const text = await until(bob, `the ${name} message`, () => document.querySelector("#media-status.error")?.textContent);
      assert.match(text, said);
    }
    sid.bob = await enterRoom(bob, { displayName: "Bob" });
    await until(bob, "the media connection", () => window.toncon.media.state === "connected");
    const first = await inbound(bob, sid.ada, "audio");
    const later = await grows(bob, sid.ada, "audio", "packetsReceived", first.packetsReceived);
    assert.ok(later > first.packetsReceived);
    // A fresh perms token from the hub channel is accepted by the media server, and the audio keeps coming.
    await bob.page.evaluate(() => window.toncon.media.refreshToken());
    const refreshed = await bob.page.evaluate(() => window.toncon.media.stats());
    assert.equal(refreshed.counters.refreshes, 1);
    assert.equal(refreshed.state, "connected");
    await grows(bob, sid.ada, "audio", "packetsReceived", later);
    // Bob sends nothing (no microphone), and Ada's publish connection sends audio.
    const adaStats = await ada.page.evaluate(() => window.toncon.media.stats());
    assert.ok(adaStats.publish.outbound.some((o) => o.kind === "audio" && o.packetsSent > 0), JSON.stringify(adaStats.publish));
  });

  test("Ada's voice plays from her avatar on Bob's side", { timeout: STEP_MS }, async () => {
    await untilSees(bob, sid.ada, "Ada");
    const placed = await until(bob, "Ada's voice on her avatar", (s) => window.toncon.media.spatial().find((v) => v.sessionId === s && v.voice?.positional), sid.ada);
    assert.equal(placed.video, null);
    // The beep makes her count as speaking now and then: Bob's people list shows it.
    await until(bob, "Ada speaking in Bob's view", (s) => window.toncon.media.spatial().find((v) => v.sessionId === s && v.voice.speaking), sid.ada, 10000);
  });

  test("Ada shares her camera; Bob decodes its frames and sees it above her avatar", { timeout: STEP_MS }, async () => {
    await ada.page.click("#camera-toggle");
    await until(ada, "the camera to be shared", () => window.toncon.media.sharing === "camera");
    const first = await grows(bob, sid.ada, "video", "framesDecoded", 0, 30000);
    const later = await grows(bob, sid.ada, "video", "framesDecoded", first);
    assert.ok(later > first);
    const surface = await until(bob, "a video surface for Ada", (s) => window.toncon.media.spatial().find((v) => v.sessionId === s && v.video?.width > 0), sid.ada);
    assert.equal(surface.video.source, "camera");
    await screenshot(bob, "media-bob-sees-camera");
  });

  test("Ada switches to sharing her screen: Bob's surface shows it, wider", { timeout: STEP_MS }, async () => {
    await ada.page.click("#screen-toggle");
    await until(ada, "the screen to be shared", () => window.toncon.media.sharing === "screen");
    const shown = await until(bob, "Ada's screen on the surface", (s) => window.toncon.media.spatial().find((v) => v.sessionId === s && v.video?.source === "screen" && v.video.width > 0), sid.ada);
    assert.ok(shown.video.surface[0] > 2, `a screen gets a wide surface: ${shown.video.surface}`);
  });

  test("Ada stops sharing and the surface goes, her voice stays; her camera comes back on a new track", { timeout: STEP_MS }, async () => {
    await ada.page.click("#screen-toggle");
    await until(bob, "Ada's video to go", (s) => {
      const v = window.toncon.media.spatial().find((x) => x.sessionId === s);
      return v && v.voice && !v.video;
    }, sid.ada);
    const packets = (await inbound(bob, sid.ada, "audio")).packetsReceived;
    await grows(bob, sid.ada, "audio", "packetsReceived", packets);
    await ada.page.click("#camera-toggle");
    await until(bob, "Ada's camera again", (s) => window.toncon.media.spatial().find((v) => v.sessionId === s && v.video?.source === "camera" && v.video.width > 0), sid.ada, 20000);
    await ada.page.click("#camera-toggle");
  });

  test("Bob mutes Ada: her microphone goes off and her audio stops reaching him until she unmutes herself", { timeout: STEP_MS }, async () => {
    assert.equal(await bob.page.evaluate(() => window.toncon.permissions?.mute_users), true, "Bob, a site admin, may mute");
    await bob.page.click("#people-toggle");
    const row = bob.page.locator(`#people-list li[data-session-id="${sid.ada}"]`);
    await row.locator("summary").click();
    await row.locator('[data-action="mute"]').click();
    await until(ada, "the muted notice, and the media bar's Unmute", () =>
      !document.querySelector("#muted-notice").hidden && document.querySelector("#mic-toggle").textContent === "Unmute");
    assert.deepEqual(await ada.page.evaluate(() => [window.toncon.media.micOn, window.toncon.media.voice.muted]), [false, true]);
    await screenshot(ada, "media-ada-muted");
    // The media server drops her audio: Bob's count stands still (give a packet in flight time to land).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = (await inbound(bob, sid.ada, "audio")).packetsReceived;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const during = (await inbound(bob, sid.ada, "audio")).packetsReceived;
    assert.ok(during - before <= 2, `audio kept coming while muted: ${before} → ${during}`);

    await ada.page.click("#mic-toggle");
    await until(ada, "her microphone back on", () => window.toncon.media.micOn && !window.toncon.media.voice.muted);
    assert.equal(await ada.page.locator("#mic-toggle").innerText(), "Mute");
    await grows(bob, sid.ada, "audio", "packetsReceived", during + 10);
    await until(ada, "the muted notice to go", () => document.querySelector("#muted-notice").hidden);
    await until(bob, "the muted badge to go", (id) => !document.querySelector(`#people-list li[data-session-id="${id}"] .badge.muted`), sid.ada);
    assertNoErrors(ada, bob);
  });
});
