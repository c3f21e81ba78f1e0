// Scenes end to end, in headless Chromium against a real toncon: Ada signs in on the home page, uploads a Spoke
// scene (progress bar, name, description, attributions, remixing) and creates a room with it from the scenes list.
// She is its owner; in the room settings she changes the scene live, first to a built-in sample picked from the
// list, then back to her scene by pasting its link. Bob, in another browser, sees each new scene load (with a
// progress line) and keeps his place when the new nav mesh reaches it, else goes to one of its spawn points.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";

import { assertNoErrors, enterRoom, launchBrowser, openPerson, screenshot, serverBinary, shutDown, startServer, until } from "./harness.js";
import { createAdmin, signInOnHome } from "./accounts.js";
import { nodesWith, parseGLB, readHubsComponents } from "../../src/scene/hubs-components.js";
import { placement, worldMatrices } from "../../src/scene/gltf-math.js";

serverBinary();
const SAMPLES = fileURLToPath(new URL("../../samples/", import.meta.url));
const UPLOADED = "spoke-dev_reticulum-test-fixture"; // a Spoke export: its floor is a round ground plane
const SAMPLE = "spoke-early_loading-environment_HUBS_components"; // the earliest Spoke format: a 197 m floor plan
const STEP_MS = 120000;
const VIEW = { viewport: { width: 480, height: 360 } };

/** The file's spawn points, read in Node. */
function spawnsOf(name) {
  const { json } = parseGLB(readFileSync(`${SAMPLES}${name}.glb`));
  const world = worldMatrices(json);
  return nodesWith(readHubsComponents(json), "spawn-point").map((n) => placement(world[n.index]).position);
}

/** Records every text the banner shows, on the person's page. */
function recordBanner(person) {
  return person.page.evaluate(() => {
    window.bannerSeen = [];
    const banner = document.querySelector("#banner");
    new MutationObserver(() => window.bannerSeen.push(banner.textContent)).observe(banner, { childList: true, characterData: true, subtree: true });
  });
}

describe("scenes: upload, a room with it, and owners change it live", { timeout: 400000 }, () => {
  let server;
  let browser;
  let ada;
  let bob;
  let scene; // Ada's uploaded scene as the list shows it
  let roomUrl;

  before(async () => {
    server = await startServer();
    await createAdmin(server);
    browser = await launchBrowser();
    ada = await openPerson(browser, "ada", VIEW);
    bob = await openPerson(browser, "bob", VIEW);
  });

  after(() => shutDown(server, browser));

  test("the home page lists the samples; signed in, Ada uploads a scene with its details and it is listed", { timeout: STEP_MS }, async () => {
    const { page } = ada;
    await page.goto(`${server.url}/`);
    assert.equal(await page.locator("#scene-upload-form").isHidden(), true, "no upload form before signing in");
    await until(ada, "the sample scenes", (name) => document.querySelector(`#scene-list li[data-scene-id="sample:${name}"]`), SAMPLE);
    const sample = await page.locator(`#scene-list li[data-scene-id="sample:${SAMPLE}"]`).innerText();
    assert.match(sample, /Mozilla Hubs, under the Mozilla Public License 2\.0/, "with its attribution");
    assert.equal(await page.locator('#scene-list li[data-scene-id="sample:hubs-default-avatar_v3"]').count(), 0, "the avatar is not a scene");

    await signInOnHome(server, ada, "ada@example.org");
    await page.click("#scene-upload summary");
    await until(ada, "the upload form", () => !document.querySelector("#scene-upload-form").hidden);
    await page.evaluate(() => {
      window.progressSeen = [];
      const bar = document.querySelector("#scene-upload-progress");
      new MutationObserver(() => window.progressSeen.push({ value: bar.value, hidden: bar.hidden })).observe(bar, { attributes: true });
    });
    await page.setInputFiles("#scene-file", `${SAMPLES}${UPLOADED}.glb`);
    assert.equal(await page.inputValue("#scene-name"), UPLOADED, "the name starts as the file's");
    await page.fill("#scene-name", "Test hall");
    await page.fill("#scene-description", "Spoke's test fixture, with a floor to stand on");
    await page.fill("#scene-attributions", "Mozilla Hubs test fixture (MPL-2.0)");
    await page.check("#scene-allow-remixing");
    await page.click("#scene-upload-send");
    const said = await until(ada, "the scene upload to finish", () => {
      const s = document.querySelector("#scene-upload-status");
      return /Uploaded|not accepted/.test(s.textContent) && s.textContent;
    }, null, 30000);
    assert.equal(said, "Uploaded “Test hall”. It is in the list above.");
    const seen = await page.evaluate(() => window.progressSeen);
    assert.ok(seen.some((p) => !p.hidden) && seen.some((p) => p.value === 1), `the progress bar showed and filled: ${JSON.stringify(seen)}`);

    const list = await (await fetch(`${server.url}/api/v1/scenes`)).json();
    const mine = list.scenes.find((s) => s.name === "Test hall");
    assert.ok(mine, "the server lists it");
    assert.deepEqual([mine.description, mine.attributions, mine.allow_remixing], ["Spoke's test fixture, with a floor to stand on", "Mozilla Hubs test fixture (MPL-2.0)", true]);
    scene = mine;
    const item = await page.locator(`#scene-list li[data-scene-id="${mine.scene_id}"]`).innerText();
    assert.match(item, /Test hall/);
    assert.match(item, /Mozilla Hubs test fixture \(MPL-2\.0\)/);
    assert.match(item, /May be remixed/);
    assertNoErrors(ada);
  });

  test("Ada creates a room with her scene from the list; she owns it and the room shows her scene", { timeout: STEP_MS }, async () => {
    const { page } = ada;
    await page.click(`#scene-list li[data-scene-id="${scene.scene_id}"] button.create-with-scene`);
    await page.waitForURL(/\/[A-Za-z0-9]{7}\/[a-z0-9-]+$/, { timeout: 15000 });
    roomUrl = page.url();
    const hubId = new URL(roomUrl).pathname.split("/")[1];
    const info = await (await fetch(`${server.url}/api/v1/hubs/${hubId}`)).json();
    const hub = info.hubs ? info.hubs[0] : info;
    assert.equal(hub.name, "Test hall", "the room is named after the scene");
    assert.equal(hub.scene?.model_url, scene.model_url);
    await until(ada, "owning the room", () => window.toncon.roles?.owner === true);
    await enterRoom(ada, { displayName: "Ada" });
    const shown = await until(ada, "the scene", () => window.toncon.scene());
    assert.equal(shown.modelUrl, scene.model_url);
    assert.equal(shown.error, null);
    assert.ok(shown.nodeNames.includes("CombinedMesh"), "the uploaded scene's nodes are in the room");
    assertNoErrors(ada);
  });

  test("Ada changes the scene to a sample from the list; Bob sees it load and keeps his place", { timeout: STEP_MS }, async () => {
    await bob.page.goto(roomUrl);
    await enterRoom(bob, { displayName: "Bob" });
    await until(bob, "the scene's nav mesh", () => !!document.querySelector("a-scene")?.systems?.nav?.navMesh, null, 30000);
    const arrived = await until(bob, "Bob's place", () => window.toncon.avatarPosition());
    const spawn = spawnsOf(UPLOADED)[0];
    assert.ok(Math.hypot(arrived.x - spawn.x, arrived.z - spawn.z) < 0.1, `Bob arrived on the scene's spawn point: ${JSON.stringify(arrived)}`);
    // Bob steps a little aside, so keeping his place is not the same as going to the new scene's spawn point.
    const place = { x: arrived.x + 1.5, y: arrived.y, z: arrived.z - 0.5 };
    await bob.page.evaluate((p) => {
      const rig = document.querySelector("#rig");
      rig.object3D.position.set(p.x, p.y, p.z);
      rig.components["movement-controls"].updateNavLocation();
    }, place);
    await recordBanner(bob);

    await ada.page.click("#settings-toggle");
    await until(ada, "the scenes in the settings", (name) => document.querySelector(`#settings-scene option[value="sample:${name}"]`), SAMPLE);
    await ada.page.selectOption("#settings-scene", `sample:${SAMPLE}`);
    await ada.page.click("#settings-scene-apply");
    const status = await until(ada, "the change to be sent", () => {
      const t = document.querySelector("#settings-scene-status").textContent;
      return t && !t.endsWith("…") && t;
    });
    assert.equal(status, "Changed: everyone in the room is loading the new scene.");

    const after1 = await until(bob, "the new scene on Bob's page", () => {
      const s = window.toncon.scene();
      return s.changes === 1 && s;
    }, null, 30000);
    assert.match(after1.modelUrl, new RegExp(`/samples/${SAMPLE}\\.glb$`));
    assert.deepEqual(after1.lastChange, { kept: true, modelUrl: after1.modelUrl, error: null });
    assert.ok(after1.nodeNames.includes("Floor_Plan"), "the new scene's nodes are in Bob's scene");
    assert.ok(!after1.nodeNames.includes("CombinedMesh"), "the old scene's are gone");
    const now = await bob.page.evaluate(() => window.toncon.avatarPosition());
    assert.ok(Math.hypot(now.x - place.x, now.z - place.z) < 0.01, `Bob kept his place: was ${JSON.stringify(place)}, is ${JSON.stringify(now)}`);
    assert.ok(Math.abs(now.y - 0.055) < 0.01, `Bob stands on the new floor (0.055 m up): ${now.y}`);
    const banner = await bob.page.evaluate(() => window.bannerSeen);
    assert.ok(banner.some((t) => /^The room's scene changed: .*\d+%$/.test(t)), `a loading progress line: ${JSON.stringify(banner)}`);
    assert.ok(banner.includes("The room's new scene is here."), JSON.stringify(banner));
    await screenshot(bob, "scene-change-01-bob-kept-place");
    const adaSees = await until(ada, "the new scene on Ada's page", () => window.toncon.scene().changes === 1 && window.toncon.scene());
    assert.equal(adaSees.modelUrl, after1.modelUrl);
    assertNoErrors(ada, bob);
  });

  test("Ada pastes her scene's link; Bob, standing where its floor does not reach, goes to its spawn point", { timeout: STEP_MS }, async () => {
    // 40 m out on the sample's big floor: beyond the uploaded scene's round ground plane.
    await bob.page.evaluate(() => {
      const rig = document.querySelector("#rig");
      rig.object3D.position.set(40, 0.055, 40);
      rig.components["movement-controls"].updateNavLocation();
    });
    await ada.page.fill("#settings-scene-url", scene.url);
    assert.equal(await ada.page.inputValue("#settings-scene"), "", "a pasted link replaces the list's choice");
    await ada.page.click("#settings-scene-apply");
    await until(ada, "the change to be sent", () => document.querySelector("#settings-scene-status").textContent.startsWith("Changed"));
    const after2 = await until(bob, "the second scene change on Bob's page", () => {
      const s = window.toncon.scene();
      return s.changes === 2 && s;
    }, null, 30000);
    assert.equal(after2.modelUrl, scene.model_url);
    assert.equal(after2.lastChange.kept, false);
    const now = await bob.page.evaluate(() => window.toncon.avatarPosition());
    const spawn = spawnsOf(UPLOADED)[0];
    assert.ok(Math.hypot(now.x - spawn.x, now.y - spawn.y, now.z - spawn.z) < 0.1, `Bob is on the spawn point ${JSON.stringify(spawn)}: ${JSON.stringify(now)}`);
    const banner = await bob.page.evaluate(() => window.bannerSeen);
    assert.ok(banner.includes("The room's new scene is here; you are at one of its starting points."), JSON.stringify(banner));
    await screenshot(bob, "scene-change-02-bob-at-spawn");
    assert.ok(after2.nodeNames.includes("CombinedMesh"), "the uploaded scene is back");
    assertNoErrors(ada, bob);
  });
});
