// The media a scene's glTF places (MOZ_hubs_components image, video, audio with audio-params, link, media-frame),
// read from hand-made glTF JSON as Spoke and the Hubs Blender exporter write them.

import { test } from "node:test";
import assert from "node:assert/strict";

import { audioParamsOf, readHubsComponents, sceneMedia } from "../../src/scene/hubs-components.js";

function gltf(nodes, version = 4) {
  return {
    asset: { version: "2.0" },
    extensionsUsed: ["MOZ_hubs_components"],
    extensions: { MOZ_hubs_components: { version } },
    scenes: [{ nodes: nodes.map((_, i) => i) }],
    nodes: nodes.map(([name, components]) => ({ name, extensions: { MOZ_hubs_components: components } })),
  };
}

const read = (nodes) => {
  const r = readHubsComponents(gltf(nodes));
  return { media: sceneMedia(r), warnings: r.warnings };
};

test("an image, a video with audio-params and a sound come out with their settings", () => {
  const { media, warnings } = read([
    ["Poster", { image: { src: "https://cdn.example/poster.png", projection: "flat", controls: true } }],
    ["Screen", {
      video: { src: "https://cdn.example/clip.mp4", autoPlay: false, loop: true, projection: "360-equirectangular" },
      "audio-params": { audioType: "pannernode", distanceModel: "linear", rolloffFactor: 2, refDistance: 3, maxDistance: 40, gain: 0.5 },
    }],
    ["Birds", { audio: { src: "/files/birds.ogg", autoPlay: true, loop: false } }],
  ]);
  assert.deepEqual(warnings, []);
  assert.deepEqual(media, [
    { index: 0, name: "Poster", kind: "image", src: "https://cdn.example/poster.png", projection: "flat" },
    {
      index: 1, name: "Screen", kind: "video", src: "https://cdn.example/clip.mp4", autoPlay: false, loop: true, projection: "360-equirectangular",
      audio: { audioType: "pannernode", distanceModel: "linear", rolloffFactor: 2, refDistance: 3, maxDistance: 40, gain: 0.5 },
    },
    {
      index: 2, name: "Birds", kind: "audio", src: "/files/birds.ogg", autoPlay: true, loop: false,
      audio: { audioType: "pannernode", distanceModel: "inverse", rolloffFactor: 1, refDistance: 1, maxDistance: 10000, gain: 1 },
    },
  ]);
});

test("old files keep audio settings in the audio component itself; audio-params wins over them", () => {
  const legacy = { src: "https://a.example/s.mp3", volume: 0.3, distanceModel: "exponential", rolloffFactor: 4, audioType: "stereo" };
  assert.deepEqual(audioParamsOf({}, legacy), { audioType: "stereo", distanceModel: "exponential", rolloffFactor: 4, refDistance: 1, maxDistance: 10000, gain: 0.3 });
  assert.equal(audioParamsOf({ "audio-params": { gain: 0.9 } }, legacy).gain, 0.9);
  const bad = audioParamsOf({ "audio-params": { distanceModel: "cubic", rolloffFactor: -1, refDistance: "far", gain: -2 } });
  assert.deepEqual(bad, { audioType: "pannernode", distanceModel: "inverse", rolloffFactor: 0, refDistance: 1, maxDistance: 10000, gain: 0 });
});

test("links go to web pages or waypoints; anything else is skipped with a warning", () => {
  const { media, warnings } = read([
    ["Site", { link: { href: "https://example.org/about" } }],
    ["ToStage", { link: { href: "#Stage" } }],
    ["Evil", { link: { href: "javascript:alert(1)" } }],
    ["Empty", { link: {} }],
  ]);
  assert.deepEqual(media.map((m) => [m.name, m.href]), [["Site", "https://example.org/about"], ["ToStage", "#Stage"]]);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /node "Evil": link to "javascript:alert\(1\)" is neither a web page nor a waypoint/);
});

test("media without a usable src is skipped, and says so", () => {
  const { media, warnings } = read([
    ["NoSrc", { image: { projection: "flat" } }],
    ["DataUrl", { video: { src: "data:video/mp4;base64,AAAA" } }],
    ["Protocol", { audio: { src: "//cdn.example/a.mp3" } }],
  ]);
  assert.deepEqual(media, []);
  assert.deepEqual(warnings.map((w) => w.split(":")[0]), ['node "NoSrc"', 'node "DataUrl"', 'node "Protocol"']);
});

test("media frames: bounds and the kind of media they take, with defaults", () => {
  const { media, warnings } = read([
    ["Frame", { "media-frame": { bounds: { x: 2, y: 1.5, z: 0.2 }, mediaType: "image", snapToCenter: true } }],
    ["Default", { "media-frame": {} }],
    ["Weird", { "media-frame": { mediaType: "hologram", bounds: { x: 1, y: 1, z: 1 } } }],
    ["Flat", { "media-frame": { bounds: { x: 1, y: 0, z: 1 } } }],
  ]);
  assert.deepEqual(media.map(({ name, mediaType, bounds }) => ({ name, mediaType, bounds })), [
    { name: "Frame", mediaType: "image", bounds: { x: 2, y: 1.5, z: 0.2 } },
    { name: "Default", mediaType: "all-2d", bounds: { x: 1, y: 1, z: 1 } },
    { name: "Weird", mediaType: "all-2d", bounds: { x: 1, y: 1, z: 1 } },
  ]);
  assert.match(warnings[0], /node "Flat": media-frame bounds/);
});

test("a node with several media components gives one entry each; a switched-off one gives none", () => {
  const { media } = read([["Both", { image: { src: "https://a.example/i.png" }, link: { href: "https://a.example/" }, video: false }]]);
  assert.deepEqual(media.map((m) => m.kind), ["image", "link"]);
});

test("HUBS_components in old exports' extras are read the same way", () => {
  const json = {
    asset: { version: "2.0" },
    scenes: [{ nodes: [0] }],
    nodes: [{ name: "Old", extras: { gltfExtensions: { HUBS_components: { image: { src: "https://a.example/old.jpg" } } } } }],
  };
  assert.deepEqual(sceneMedia(readHubsComponents(json)).map((m) => m.src), ["https://a.example/old.jpg"]);
});

test("scene media on a development host (hubs.local, localhost) is not fetched, unless the room is served from there", async () => {
  const { reachable } = await import("../../src/scene/media.js");
  const here = new URL("https://rooms.example.org/abc1234/room");
  assert.equal(reachable("https://cdn.example.org/a.png", here), true);
  assert.equal(reachable("/files/a.png", here), true, "this server");
  assert.equal(reachable("https://hubs.local:4000/files/x.png", here), false, "the reticulum fixture's image");
  assert.equal(reachable("http://localhost:8080/a.mp4", here), false);
  assert.equal(reachable("http://127.0.0.1/a.mp4", here), false);
  assert.equal(reachable("https://dev.localhost/a.mp4", here), false);
  assert.equal(reachable("http://localhost:8080/a.mp4", new URL("http://localhost:8080/abc")), true, "a room served from localhost");
});
