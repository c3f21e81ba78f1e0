// The scenes list as the home page and the room settings show it, the scene upload form's checks, and what the
// owner's "Change scene" sends.

import { test } from "node:test";
import assert from "node:assert/strict";

import { MAX_ATTRIBUTION, attributionText, sceneChangeTarget, sceneDraft, sceneEntries } from "../../src/shared/scenes.js";

test("scene entries: samples and uploads with name, attribution and remixing; broken entries left out", () => {
  const body = {
    scenes: [
      { scene_id: "sample:spoke-early", name: "Loading room", description: "", attributions: null, allow_remixing: false, model_url: "/samples/a.glb", url: "", type: "scene" },
      { scene_id: "Ab3dE9x", name: "  Gallery ", description: "A white hall", attributions: { creator: "Ada", content: [{ name: "Chair", author: "Bob" }, { title: "Lamp" }] }, allow_remixing: true, model_url: "/files/f1.glb", url: "http://x/scenes/Ab3dE9x", account_id: "1" },
      { scene_id: "Ab3dE9x", name: "again", model_url: "/files/f2.glb" },
      { scene_id: "nofile", name: "No file" },
      { name: "no id", model_url: "/files/f3.glb" },
      "junk",
    ],
  };
  const list = sceneEntries(body);
  assert.deepEqual(list.map((s) => s.id), ["sample:spoke-early", "Ab3dE9x"]);
  assert.deepEqual(list[0], { id: "sample:spoke-early", name: "Loading room", description: "", attribution: "", allowRemixing: false, modelUrl: "/samples/a.glb", url: "", sample: true });
  assert.equal(list[1].name, "Gallery");
  assert.equal(list[1].attribution, "by Ada; Chair by Bob; Lamp");
  assert.equal(list[1].allowRemixing, true);
  assert.equal(list[1].sample, false);
  assert.deepEqual(sceneEntries(null), []);
  assert.deepEqual(sceneEntries({ scenes: {} }), []);
});

test("attributions in every shape they come in become one line", () => {
  assert.equal(attributionText("Made by Ada"), "Made by Ada");
  assert.equal(attributionText(["Ada", { name: "Tree", author: "Kenney" }, { author: "Eve" }, 5, null]), "Ada; Tree by Kenney; by Eve");
  assert.equal(attributionText({ creator: "", content: [] }), "");
  assert.equal(attributionText({ title: "Hall", author: "Zed" }), "Hall by Zed");
  assert.equal(attributionText(undefined), "");
  const long = attributionText("x".repeat(1000));
  assert.equal(long.length, MAX_ATTRIBUTION);
  assert.ok(long.endsWith("…"));
});

test("the upload form needs a name, and sends what was typed", () => {
  assert.deepEqual(sceneDraft({ name: "  " }), { error: "Give the scene a name." });
  assert.match(sceneDraft({ name: "n".repeat(65) }).error, /at most 64/);
  assert.deepEqual(sceneDraft({ name: " Hall ", description: " white ", attributions: " Ada ", allowRemixing: true }), {
    scene: { name: "Hall", description: "white", attributions: "Ada", allow_remixing: true },
  });
  assert.equal(sceneDraft({ name: "Hall", allowRemixing: "yes" }).scene.allow_remixing, false, "only a real true allows remixing");
});

test("Change scene sends a listed scene's id, or a pasted https link; other links are refused with a reason", () => {
  const origin = "http://localhost:4000";
  assert.deepEqual(sceneChangeTarget({ sceneId: "sample:x", pasted: "ignored" }, origin), { url: "sample:x" });
  assert.deepEqual(sceneChangeTarget({ pasted: " https://cdn.example.org/hall.glb " }, origin), { url: "https://cdn.example.org/hall.glb" });
  assert.deepEqual(sceneChangeTarget({ pasted: "/scenes/Ab3dE9x" }, origin), { url: "http://localhost:4000/scenes/Ab3dE9x" });
  assert.deepEqual(sceneChangeTarget({ pasted: "http://localhost:4000/scenes/Ab3dE9x" }, origin), { url: "http://localhost:4000/scenes/Ab3dE9x" });
  assert.match(sceneChangeTarget({ pasted: "http://elsewhere.example/a.glb" }, origin).error, /https/);
  assert.match(sceneChangeTarget({ pasted: "javascript:alert(1)" }, origin).error, /https/);
  assert.match(sceneChangeTarget({}, origin).error, /Choose a scene/);
  assert.match(sceneChangeTarget({ pasted: "not a link" }).error, /not a link/);
});
