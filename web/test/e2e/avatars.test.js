// Avatars end to end, in headless Chromium against a real toncon: A signs in (the link from the server's log),
// uploads the Hubs default avatar in the lobby (with a progress bar), wears it and enters; B, in another browser,
// sees A wearing it: A's networked avatar on B's page holds that glb, loaded, with the Hubs bones, its Head turns
// with A's synced head pitch, and its Neck grows with A's voice (Chromium's fake microphone). A glb that is
// not an avatar (no Head, no AvatarRoot) is refused with the server's message. A profile whose avatar cannot be
// loaded shows the built-in look instead, without errors. In "Your avatars" Ada renames her avatar, gives it a new
// glb (progress bar to the end; Bob then sees the new file on her), and deletes it (she falls back to a look).

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";

import { assertNoErrors, enterRoom, launchBrowser, openPerson, screenshot, serverBinary, shutDown, startServer, until, untilSees } from "./harness.js";
import { createAdmin, signInOnHome } from "./accounts.js";
import { glbOfJson } from "./fixtures.js";

serverBinary();
const SAMPLES = fileURLToPath(new URL("../../samples/", import.meta.url));
const AVATAR_FILE = `${SAMPLES}hubs-default-avatar_v3.glb`;
const NOT_AN_AVATAR = `${SAMPLES}spoke-early_loading-environment_HUBS_components.glb`;
const STEP_MS = 90000;

/**
 * The smallest avatar: a glb of JSON only (no meshes), the Hubs skeleton's AvatarRoot with a Head 1.6 m up. tag
 * goes into the generator, so each call's file is its own upload.
 */
function smallAvatarGlb(tag) {
  const json = {
    asset: { version: "2.0", generator: `toncon avatars test ${tag}` },
    scene: 0,
    scenes: [{ name: "Avatar", nodes: [0] }],
    nodes: [{ name: "AvatarRoot", children: [1] }, { name: "Head", translation: [0, 1.6, 0] }],
  };
  return glbOfJson(json);
}

/** Waits for the "Your avatars" status to say something other than "Uploading"/"Checking", and returns it. */
function untilManaged(person, what) {
  return until(person, what, () => {
    const s = document.querySelector("#my-avatars-status");
    return s.textContent && !/^(Uploading|Checking)/.test(s.textContent) && { text: s.textContent, error: s.classList.contains("error") };
  }, null, 30000);
}
const VIEW = { viewport: { width: 480, height: 360 } };

describe("avatars: upload, choose, and others see it", { timeout: 300000 }, () => {
  let server;
  let browser;
  let ada;
  let bob;
  let roomUrl;
  let adaSession;
  let avatarUrl;

  before(async () => {
    server = await startServer();
    await createAdmin(server); // so Ada's account is an ordinary one
    // Chromium's fake microphone (a beep about once a second) is Ada's voice.
    browser = await launchBrowser({ extraArgs: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"] });
    ada = await openPerson(browser, "ada", VIEW);
    bob = await openPerson(browser, "bob", VIEW);
  });

  after(() => shutDown(server, browser));

  test("a profile's avatar that is not there falls back to the built-in look; a sample avatar loads for others", { timeout: STEP_MS }, async () => {
    const res = await fetch(`${server.url}/api/v1/hubs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ hub: { name: "Fallback" } }) });
    const hub = await res.json();
    const url = hub.url.startsWith("http") ? hub.url : server.url + hub.url;
    // Cara's browser remembers an avatar whose file is gone; Dan's the Hubs sample avatar the server ships.
    const cara = await openPerson(browser, "cara", VIEW);
    const dan = await openPerson(browser, "dan", VIEW);
    try {
      await cara.page.addInitScript(() => localStorage.setItem("toncon.profile", JSON.stringify({ displayName: "Cara", avatarId: "gone1", avatarUrl: "/files/doesnotexist.glb" })));
      await dan.page.addInitScript(() => localStorage.setItem("toncon.profile", JSON.stringify({ displayName: "Dan", avatarId: "sample1", avatarUrl: "/samples/hubs-default-avatar_v3.glb" })));
      await cara.page.goto(url);
      await dan.page.goto(url);
      const caraId = await enterRoom(cara);
      const danId = await enterRoom(dan);
      await untilSees(dan, caraId, "Cara");
      await untilSees(cara, danId, "Dan");
      const broken = await until(dan, "Cara's avatar to fail and fall back", (id) => {
        const a = window.toncon.remoteAvatars().find((x) => x.sessionId === id);
        return a?.model?.status === "error" && a.model;
      }, caraId);
      assert.equal(broken.src, "/files/doesnotexist.glb");
      assert.match(broken.error, /HTTP 40[34]/);
      const lookShown = await dan.page.evaluate((id) => {
        const el = Object.values(NAF.entities.entities).find((e) => e.components.networked.data.owner === id);
        return el.querySelector(".body").object3D.visible && el.querySelector(".head-shape").object3D.visible;
      }, caraId);
      assert.equal(lookShown, true, "the built-in look shows instead");
      const sample = await until(cara, "Dan's sample avatar to load", (id) => {
        const a = window.toncon.remoteAvatars().find((x) => x.sessionId === id);
        return a?.model?.status === "loaded" && a.model;
      }, danId, 30000);
      assert.equal(sample.src, "/samples/hubs-default-avatar_v3.glb");
      for (const bone of ["AvatarRoot", "Hips", "Spine", "Neck", "Head", "LeftHand", "RightHand"]) assert.ok(sample.bones.includes(bone), `bone ${bone}`);
      assert.equal(sample.feedback.scale, 1, "the Neck's scale-audio-feedback is driven");
      await screenshot(cara, "avatars-00-sample-avatar");
      // The browser itself logs the missing file's 404; nothing else may be logged.
      dan.errors.splice(0, Infinity, ...dan.errors.filter((e) => !/404 \(Not Found\) \(http:\/\/[^)]+\/files\/doesnotexist\.glb/.test(e)));
      assertNoErrors(cara, dan);
    } finally {
      await cara.context.close();
      await dan.context.close();
    }
  });

  test("Ada signs in, uploads the Hubs default avatar in the lobby with a progress bar, and wears it", { timeout: STEP_MS }, async () => {
    await signInOnHome(server, ada, "Ada@Example.org");
    await ada.page.fill("#room-name", "Avatar party");
    await ada.page.click("#create-room");
    await ada.page.waitForURL(/\/[A-Za-z0-9]{7}\/[a-z0-9-]+$/, { timeout: 15000 });
    roomUrl = ada.page.url();
    adaSession = await until(ada, "the room's join", () => window.toncon?.sessionId);
    // Signed in: the chooser lists the server's avatars (the Hubs sample among them) and offers the upload form.
    await until(ada, "the sample avatar in the chooser", () => document.querySelector('#avatar-looks input[value="sample:hubs-default-avatar_v3"]'));
    await ada.page.click("#avatar-upload summary");
    assert.equal(await ada.page.locator("#avatar-upload-form").isVisible(), true, "the upload form shows when signed in");
    // Every value the progress bar takes, and whether it showed.
    await ada.page.evaluate(() => {
      window.progressSeen = [];
      const bar = document.querySelector("#avatar-upload-progress");
      new MutationObserver(() => window.progressSeen.push({ value: bar.value, hidden: bar.hidden })).observe(bar, { attributes: true });
    });
    await ada.page.setInputFiles("#avatar-upload-file", AVATAR_FILE);
    await ada.page.fill("#avatar-upload-name", "Ada's robot");
    await ada.page.click("#avatar-upload-send");
    const said = await until(ada, "the upload to finish", () => {
      const s = document.querySelector("#avatar-upload-status");
      return /Uploaded|not accepted/.test(s.textContent) && s.textContent;
    }, null, 30000);
    assert.match(said, /^Uploaded “Ada's robot”: you are wearing it now\.$/);
    const seen = await ada.page.evaluate(() => window.progressSeen);
    assert.ok(seen.some((p) => !p.hidden), "the progress bar showed");
    assert.ok(seen.some((p) => p.value === 1), `the bar reached the end: ${JSON.stringify(seen)}`);

    // The new avatar is Ada's own in the list, chosen, in her profile and remembered.
    const profile = await ada.page.evaluate(() => window.toncon.avatar());
    assert.notEqual(profile.avatarId, "");
    assert.match(profile.avatarUrl, /\/files\/[A-Za-z0-9_-]+/);
    avatarUrl = profile.avatarUrl;
    const listed = await ada.page.evaluate((id) => {
      const input = document.querySelector(`#avatar-looks input[value="${CSS.escape(id)}"]`);
      return input && { checked: input.checked, label: input.closest("label").textContent };
    }, profile.avatarId);
    assert.deepEqual(listed, { checked: true, label: "3DAda's robotyours" });
    const token = await ada.page.evaluate(() => JSON.parse(localStorage.getItem("toncon.credentials")).token);
    const mine = await (await fetch(`${server.url}/api/v1/avatars`, { headers: { authorization: `bearer ${token}` } })).json();
    const entry = mine.avatars.find((a) => a.avatar_id === profile.avatarId);
    assert.equal(entry?.gltf_url, avatarUrl, "the server lists it with the URL Ada wears");
    const anonymous = await (await fetch(`${server.url}/api/v1/avatars`)).json();
    assert.equal(anonymous.avatars.some((a) => a.avatar_id === profile.avatarId), false, "not listed for others");
    assert.deepEqual(await ada.page.evaluate(() => JSON.parse(localStorage.getItem("toncon.profile"))), { displayName: profile.displayName, avatarId: profile.avatarId, avatarUrl });
    // The file is kept now that an avatar uses it: anyone may fetch it without the upload's token.
    assert.equal((await fetch(new URL(avatarUrl, server.url))).status, 200);
    await enterRoom(ada, { displayName: "Ada" });
    assertNoErrors(ada);
  });

  test("Bob, in another browser, sees Ada wearing it: her avatar holds that glb, loaded, with its Head following her head", { timeout: STEP_MS }, async () => {
    await bob.page.goto(roomUrl);
    await enterRoom(bob, { displayName: "Bob" });
    await untilSees(bob, adaSession, "Ada");
    const model = await until(bob, "Ada's avatar model to load", (id) => {
      const a = window.toncon.remoteAvatars().find((x) => x.sessionId === id);
      return a?.model?.status === "loaded" && a.model;
    }, adaSession, 30000);
    assert.equal(model.src, avatarUrl);
    for (const bone of ["AvatarRoot", "Hips", "Spine", "Neck", "Head", "LeftHand", "RightHand"]) assert.ok(model.bones.includes(bone), `bone ${bone} in ${model.bones}`);
    assert.ok(model.nodeNames.includes("Head"));
    assert.equal(model.feedback.scale, 1, "the Neck's scale-audio-feedback is driven by Ada's voice");
    // The look's primitives are hidden, the glb is drawn instead.
    const parts = await bob.page.evaluate((id) => {
      const el = Object.values(NAF.entities.entities).find((e) => e.components.networked.data.owner === id);
      return { body: el.querySelector(".body").object3D.visible, model: !!el.object3D.getObjectByName("avatar-model") };
    }, adaSession);
    assert.deepEqual(parts, { body: false, model: true });

    // Ada looks up: on Bob's page her avatar's Head bone turns up by the pitch NAF synced.
    await ada.page.evaluate(() => { document.querySelector("#camera").components["look-controls"].pitchObject.rotation.x = 0.4; });
    const turn = await until(bob, "Ada's head to turn up", (id) => {
      const el = Object.values(NAF.entities.entities).find((e) => e.components.networked.data.owner === id);
      const c = el.components["avatar-model"];
      const T = AFRAME.THREE;
      const rest = c.head.parent.getWorldQuaternion(new T.Quaternion()).multiply(c.headRest);
      // The turn the bone has from its rest, in the avatar's own frame (whatever way Ada faces).
      const entity = el.object3D.getWorldQuaternion(new T.Quaternion());
      const applied = c.head.getWorldQuaternion(new T.Quaternion()).multiply(rest.invert()).premultiply(entity.clone().invert()).multiply(entity);
      const e = new T.Euler().setFromQuaternion(applied, "YXZ");
      const synced = el.querySelector(".head").object3D.rotation.x;
      const heading = new T.Euler().setFromQuaternion(entity, "YXZ").y;
      // NAF eases the synced pitch in over a few frames; the bone follows it a frame behind.
      return Math.abs(synced - 0.4) < 0.002 && Math.abs(e.x - synced) < 0.01 && { synced, pitch: e.x, yaw: e.y, heading };
    }, adaSession);
    assert.ok(Math.abs(turn.pitch - 0.4) < 0.01, `the Head turned ${turn.pitch} rad about the avatar's side axis, the synced pitch is ${turn.synced}`);
    assert.ok(Math.abs(turn.yaw) < 0.01, `the head turned only up, not sideways: ${turn.yaw}`);
    await screenshot(bob, "avatars-01-bob-sees-ada");
    assertNoErrors(ada, bob);
  });

  test("Ada talks: on Bob's page her avatar's Neck grows with her voice and settles between beeps (scale-audio-feedback)", { timeout: STEP_MS }, async () => {
    // Every frame on Bob's page: the voice feedback amount and the Neck's scale against its rest scale.
    await bob.page.evaluate((id) => {
      const el = Object.values(NAF.entities.entities).find((e) => e.components.networked.data.owner === id);
      const c = el.components["avatar-model"];
      window.feedbackSeen = { max: 0, maxScale: 1, quietAfterPeak: false, frames: 0 };
      const seen = window.feedbackSeen;
      const frame = () => {
        const s = c.scalers?.[0];
        if (window.feedbackStop || !s) return; // stopped, or Ada's model is gone (she left)
        const scale = s.object.scale.x / s.rest.x;
        seen.frames++;
        if (c.amount > seen.max) seen.max = c.amount;
        if (scale > seen.maxScale) seen.maxScale = scale;
        if (seen.maxScale > 1.1 && scale < 1.02) seen.quietAfterPeak = true;
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    }, adaSession);
    await ada.page.click("#mic-toggle");
    await until(ada, "the microphone to be on", () => window.toncon.media.micOn);
    const seen = await until(bob, "Ada's Neck to grow with her voice and settle again", () => window.feedbackSeen.quietAfterPeak && window.feedbackSeen, null, 30000);
    assert.ok(seen.maxScale > 1.1 && seen.maxScale <= 1.5 + 1e-9, `the Neck grew within the file's 1 to 1.5: ${JSON.stringify(seen)}`);
    assert.ok(seen.max > 0.2, `the voice moved the feedback: ${JSON.stringify(seen)}`);
    await ada.page.click("#mic-toggle"); // off again
    await bob.page.evaluate(() => { window.feedbackStop = true; });
    assertNoErrors(ada, bob);
  });

  test("a glb that is not an avatar (no Head, no AvatarRoot) is refused with the server's message", { timeout: STEP_MS }, async () => {
    // Back to the lobby: a reload would put her straight back in the room.
    await ada.page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith("toncon.inRoom.")).forEach((k) => sessionStorage.removeItem(k)));
    await ada.page.goto(roomUrl);
    await until(ada, "the lobby", () => window.toncon?.ready === true && window.toncon.state === "lobby");
    await ada.page.evaluate(() => { document.querySelector("#avatar-upload").open = true; });
    await ada.page.setInputFiles("#avatar-upload-file", NOT_AN_AVATAR);
    await ada.page.fill("#avatar-upload-name", "A room, not a body");
    const before = await ada.page.evaluate(() => window.toncon.avatar());
    await ada.page.click("#avatar-upload-send");
    const said = await until(ada, "the refusal", () => {
      const s = document.querySelector("#avatar-upload-status");
      return /Uploaded|not accepted/.test(s.textContent) && { text: s.textContent, error: s.classList.contains("error") };
    }, null, 30000);
    assert.equal(said.error, true);
    assert.match(said.text, /^The avatar was not accepted: .*Head.*AvatarRoot/);
    // The same words as the server's own reply.
    const token = await ada.page.evaluate(() => JSON.parse(localStorage.getItem("toncon.credentials")).token);
    const form = new FormData();
    form.append("media", new Blob([await (await import("node:fs/promises")).readFile(NOT_AN_AVATAR)]), "room.glb");
    const up = await (await fetch(`${server.url}/api/v1/media`, { method: "POST", body: form })).json();
    const res = await fetch(`${server.url}/api/v1/avatars`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `bearer ${token}` },
      body: JSON.stringify({ avatar: { name: "x", file_id: up.file_id, file_access_token: up.meta.access_token } }),
    });
    assert.equal(res.status, 422);
    assert.equal(said.text, `The avatar was not accepted: ${(await res.json()).message}`);
    assert.deepEqual(await ada.page.evaluate(() => window.toncon.avatar()), before, "still wearing the avatar from before");
    // The browser logs the refused POST itself; nothing else may be logged.
    ada.errors.splice(0, Infinity, ...ada.errors.filter((e) => !/status of 422 .*\/api\/v1\/avatars/.test(e)));
    assertNoErrors(ada);
  });

  test("in \"Your avatars\" Ada renames her avatar; a name the server refuses is said in its words", { timeout: STEP_MS }, async () => {
    const { avatarId } = await ada.page.evaluate(() => window.toncon.avatar());
    const row = `#my-avatars li[data-avatar-id="${avatarId}"]`;
    await until(ada, "her avatar in Your avatars", (sel) => document.querySelector(sel) && !document.querySelector("#my-avatars").hidden, row);
    const listed = await ada.page.evaluate(() => [...document.querySelectorAll("#my-avatars li")].map((li) => li.querySelector(".name").textContent));
    assert.deepEqual(listed, ["Ada's robot"], "only her own avatar, not the sample or the looks");
    await ada.page.evaluate(() => { document.querySelector("#my-avatars").open = true; });
    await ada.page.click(`${row} button.rename`);
    await ada.page.fill(`${row} .rename-input`, "   ");
    await ada.page.click(`${row} .rename-save`);
    const refused = await untilManaged(ada, "the refused name");
    assert.deepEqual(refused, { text: "The name was not changed: the name must be 1 to 64 characters", error: true });
    await ada.page.fill(`${row} .rename-input`, "Ada's small robot");
    await ada.page.press(`${row} .rename-input`, "Enter");
    const said = await until(ada, "the rename", () => /^Renamed/.test(document.querySelector("#my-avatars-status").textContent) && document.querySelector("#my-avatars-status").textContent);
    assert.equal(said, "Renamed to “Ada's small robot”.");
    // The list is drawn again with the new name; the keyboard's place is the row's Rename button, not the page's top.
    assert.equal(await ada.page.evaluate((sel) => document.activeElement === document.querySelector(`${sel} button.rename`), row), true, "focus is back on Rename");
    const label = await ada.page.evaluate((id) => document.querySelector(`#avatar-looks input[value="${CSS.escape(id)}"]`).closest("label").textContent, avatarId);
    assert.equal(label, "3DAda's small robotyours", "the chooser shows the new name");
    assert.equal(await ada.page.locator(`${row} .name`).textContent(), "Ada's small robot");
    assert.equal((await ada.page.evaluate(() => window.toncon.avatar())).avatarUrl, avatarUrl, "a new name is the same file");
    await screenshot(ada, "avatars-02-your-avatars");
    ada.errors.splice(0, Infinity, ...ada.errors.filter((e) => !/status of 422 .*\/api\/v1\/avatars\//.test(e)));
    assertNoErrors(ada);
  });

  test("Ada replaces her avatar's file in the lobby (progress bar to the end); after entering, Bob sees the new glb on her", { timeout: STEP_MS }, async () => {
    const before = await ada.page.evaluate(() => window.toncon.avatar());
    const row = `#my-avatars li[data-avatar-id="${before.avatarId}"]`;
    await ada.page.evaluate(() => { document.querySelector("#my-avatars").open = true; });
    // A glb that is not an avatar is refused in the server's words, and nothing changes.
    await ada.page.setInputFiles(`${row} .replace-file`, NOT_AN_AVATAR);
    const refused = await untilManaged(ada, "the refused file");
    assert.equal(refused.error, true);
    assert.match(refused.text, /^The file was not replaced: an avatar's glb needs a node named Head or AvatarRoot/);
    assert.deepEqual(await ada.page.evaluate(() => window.toncon.avatar()), before);

    await ada.page.evaluate(() => {
      window.replaceSeen = [];
      const bar = document.querySelector("#my-avatars-progress");
      new MutationObserver(() => window.replaceSeen.push({ value: bar.value, hidden: bar.hidden })).observe(bar, { attributes: true });
    });
    // The list cannot be fetched again just then (a busy server, say): she wears the new file all the same, from
    // the PATCH's answer, as the old one is released and others could no longer load it.
    const listRefused = (route) => (route.request().method() === "GET" ? route.fulfill({ status: 503, body: "busy" }) : route.continue());
    await ada.page.route("**/api/v1/avatars", listRefused);
    await ada.page.setInputFiles(`${row} .replace-file`, { name: "small-robot.glb", mimeType: "model/gltf-binary", buffer: smallAvatarGlb("replacement") });
    const said = await untilManaged(ada, "the new file");
    await ada.page.unroute("**/api/v1/avatars", listRefused);
    assert.match(await ada.page.locator("#avatar-list-status").textContent(), /could not be loaded \(HTTP 503\)/, "the list was not fetched again");
    assert.deepEqual(said, { text: "“Ada's small robot” has the new file now.", error: false });
    const seen = await ada.page.evaluate(() => window.replaceSeen);
    assert.ok(seen.some((p) => !p.hidden), "the progress bar showed");
    assert.ok(seen.some((p) => p.value === 1), `the bar reached the end: ${JSON.stringify(seen)}`);

    // She still wears it, with the new file's URL, in her profile, in the chooser and on the server.
    const after = await ada.page.evaluate(() => window.toncon.avatar());
    assert.equal(after.avatarId, before.avatarId);
    assert.match(after.avatarUrl, /\/files\/[A-Za-z0-9_-]+\.glb$/);
    assert.notEqual(after.avatarUrl, before.avatarUrl);
    const input = await ada.page.evaluate((id) => { const i = document.querySelector(`#avatar-looks input[value="${CSS.escape(id)}"]`); return { checked: i.checked, url: i.dataset.url }; }, after.avatarId);
    assert.deepEqual(input, { checked: true, url: after.avatarUrl });
    assert.equal((await ada.page.evaluate(() => JSON.parse(localStorage.getItem("toncon.profile")))).avatarUrl, after.avatarUrl);
    const one = await (await fetch(`${server.url}/api/v1/avatars/${after.avatarId}`)).json();
    assert.equal(one.avatars[0].gltf_url, after.avatarUrl);
    // The new file is kept (anyone may fetch it); the old one was released, so it needs its upload token again.
    assert.equal((await fetch(new URL(after.avatarUrl, server.url))).status, 200);
    assert.equal((await fetch(new URL(before.avatarUrl, server.url))).status, 403);
    avatarUrl = after.avatarUrl;

    adaSession = await enterRoom(ada, { displayName: "Ada" });
    await untilSees(bob, adaSession, "Ada");
    const model = await until(bob, "Ada's new avatar model to load", (id) => {
      const a = window.toncon.remoteAvatars().find((x) => x.sessionId === id);
      return a?.model?.status === "loaded" && a.model;
    }, adaSession, 30000);
    assert.equal(model.src, avatarUrl, "Bob loads the new glb");
    assert.deepEqual(model.nodeNames.filter((n) => n !== "Avatar"), ["AvatarRoot", "Head"], `the small glb's nodes (under its scene "Avatar"), not the robot's: ${model.nodeNames}`);
    await screenshot(bob, "avatars-03-bob-sees-the-new-file");
    ada.errors.splice(0, Infinity, ...ada.errors.filter((e) => !/status of 422 .*\/api\/v1\/avatars\/|status of 503 .*\/api\/v1\/avatars\b/.test(e)));
    assertNoErrors(ada, bob);
  });

  test("Ada deletes the avatar she wears (after a confirm): it leaves the list and she wears a built-in look", { timeout: STEP_MS }, async () => {
    await ada.page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith("toncon.inRoom.")).forEach((k) => sessionStorage.removeItem(k)));
    await ada.page.goto(roomUrl);
    await until(ada, "the lobby", () => window.toncon?.ready === true && window.toncon.state === "lobby");
    const worn = await ada.page.evaluate(() => window.toncon.avatar());
    assert.equal(worn.avatarUrl, avatarUrl, "the lobby remembers the replaced file");
    const row = `#my-avatars li[data-avatar-id="${worn.avatarId}"]`;
    await until(ada, "her avatar in Your avatars", (sel) => !!document.querySelector(sel), row);
    await ada.page.evaluate(() => { document.querySelector("#my-avatars").open = true; });
    // Asked first; "Keep it" keeps it.
    await ada.page.click(`${row} button.delete`);
    assert.equal(await ada.page.locator(`${row} .delete-confirm`).isVisible(), true);
    assert.match(await ada.page.locator(`${row} .delete-confirm`).textContent(), /Delete “Ada's small robot”\? This cannot be undone\./);
    await ada.page.click(`${row} .delete-no`);
    assert.equal(await ada.page.locator(`${row} .delete-confirm`).isVisible(), false);
    assert.equal((await fetch(`${server.url}/api/v1/avatars/${worn.avatarId}`)).status, 200, "not deleted yet");

    // By keyboard: Delete opens the confirm with focus on "Keep it", Escape closes it back to Delete; Enter opens
    // it again, and Shift+Tab then Enter is the confirm's Delete.
    const focused = () => ada.page.evaluate(() => document.activeElement?.className || document.activeElement?.tagName);
    await ada.page.click(`${row} button.delete`);
    assert.equal(await focused(), "delete-no");
    assert.equal(await ada.page.locator(`${row} button.delete`).getAttribute("aria-expanded"), "true");
    await ada.page.keyboard.press("Escape");
    assert.equal(await ada.page.locator(`${row} .delete-confirm`).isVisible(), false);
    assert.equal(await focused(), "delete");
    await ada.page.keyboard.press("Enter");
    assert.equal(await ada.page.locator(`${row} .delete-confirm`).isVisible(), true);
    await ada.page.keyboard.press("Shift+Tab");
    assert.equal(await focused(), "delete-yes danger");
    await ada.page.keyboard.press("Enter");
    const said = await untilManaged(ada, "the deletion");
    assert.deepEqual(said, { text: "Deleted “Ada's small robot”.", error: false });
    const after = await ada.page.evaluate((id) => ({
      row: !!document.querySelector(`#my-avatars li[data-avatar-id="${CSS.escape(id)}"]`),
      choice: !!document.querySelector(`#avatar-looks input[value="${CSS.escape(id)}"]`),
      section: document.querySelector("#my-avatars").hidden,
      checked: document.querySelector("#avatar-looks input:checked")?.value,
      profile: window.toncon.avatar(),
      stored: JSON.parse(localStorage.getItem("toncon.profile")),
    }), worn.avatarId);
    assert.equal(after.row, false, "it left Your avatars");
    assert.equal(after.choice, false, "it left the chooser");
    assert.equal(after.section, true, "no avatars of hers are left, so the section hides");
    assert.match(after.profile.avatarId, /^builtin:/);
    assert.equal(after.profile.avatarUrl, "");
    assert.equal(after.checked, after.profile.avatarId, "the look she wears now is the one chosen");
    assert.deepEqual([after.stored.avatarId, after.stored.avatarUrl], [after.profile.avatarId, ""]);
    assert.equal((await fetch(`${server.url}/api/v1/avatars/${worn.avatarId}`)).status, 404);
    assertNoErrors(ada);
  });
});
