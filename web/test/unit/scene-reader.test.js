// The MOZ_hubs_components reader on the three real sample files in web/samples/ and on hand-made glTF JSON.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import {
  GLBError,
  HubsLink,
  normalizeColor,
  nodesWith,
  parseGLB,
  readGLTF,
  readHubsComponents,
} from "../../src/scene/hubs-components.js";
import { placement, subtreeMeshBox, worldMatrices } from "../../src/scene/gltf-math.js";

const SAMPLES = fileURLToPath(new URL("../../samples/", import.meta.url));
const sample = (name) => readFileSync(SAMPLES + name);

const FIXTURE = "spoke-dev_reticulum-test-fixture.glb";
const EARLY = "spoke-early_loading-environment_HUBS_components.glb";
const AVATAR = "hubs-default-avatar_v3.glb";

const byName = (result, name) => result.nodes.find((n) => n.name === name);
const near = (a, b, eps = 1e-6) => Math.abs(a - b) <= eps;

/** A GLB made from a JSON value (or raw JSON text) and optional binary chunk, with the real layout. */
function makeGLB(json, bin = null) {
  const text = typeof json === "string" ? json : JSON.stringify(json);
  let jsonBytes = Buffer.from(text, "utf8");
  jsonBytes = Buffer.concat([jsonBytes, Buffer.alloc((4 - (jsonBytes.length % 4)) % 4, 0x20)]);
  const parts = [chunk(jsonBytes, 0x4e4f534a)];
  if (bin) parts.push(chunk(Buffer.concat([bin, Buffer.alloc((4 - (bin.length % 4)) % 4)]), 0x004e4942));
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(12);
  header.writeUInt32LE(0x46546c67, 0);
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(12 + body.length, 8);
  return Buffer.concat([header, body]);
}

function chunk(data, type) {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(data.length, 0);
  h.writeUInt32LE(type, 4);
  return Buffer.concat([h, data]);
}

test("fixture (Spoke, version 4): spawn point, nav mesh, lights, skybox, background, media, avatar", () => {
  const { json, bin } = parseGLB(sample(FIXTURE));
  assert.ok(bin.length > 2_000_000, "the binary chunk holds the embedded avatar and textures");
  const r = readHubsComponents(json);
  assert.equal(r.extensionName, "MOZ_hubs_components");
  assert.equal(r.version, 4);
  assert.deepEqual(r.warnings, []);

  assert.deepEqual(r.scene, { index: 0, name: "Crater", components: { background: { color: "#aaaaaa" } } });

  const spawn = nodesWith(r, "spawn-point");
  assert.equal(spawn.length, 1);
  assert.equal(spawn[0].name, "Spawn Point");
  const at = placement(worldMatrices(json)[spawn[0].index]);
  assert.deepEqual(at.position, { x: 2, y: 0, z: 2 });
  assert.ok(near(at.rotation.y, -135, 1e-9), `heading ${at.rotation.y}`);

  const nav = byName(r, "navMesh");
  assert.deepEqual(nav.components, { "nav-mesh": {}, visible: { visible: false } });
  // Spoke wrote the nav-mesh node without geometry in this file: the loader has to fall back.
  assert.equal(subtreeMeshBox(json, nav.index), null);

  assert.deepEqual(byName(r, "Ground Plane").components, { shadow: { receive: true, cast: false } });
  assert.deepEqual(byName(r, "custom_avatar.glb").components, { shadow: { cast: false, receive: false } });

  const sky = byName(r, "Skybox").components.skybox;
  assert.equal(sky.turbidity, 6.09);
  assert.equal(sky.azimuth, 0.2333333333333333);
  assert.equal(sky.distance, 8000);

  const light = byName(r, "Directional Light").components["directional-light"];
  assert.equal(light.color, "#ffffff");
  assert.equal(light.intensity, 3);
  assert.equal(light.castShadow, true);
  assert.deepEqual(light.shadowMapResolution, [1024, 1024]);

  const image = byName(r, "cone.png").components;
  assert.equal(image.image.src, "https://hubs.local:4000/files/34a46e72-56f9-46b1-9219-bc6b890fe233.png");
  assert.equal(image.image.projection, "flat");
  assert.deepEqual(image.networked, { id: "2F65F74C-C294-4126-B9A9-8B0183E49D7C" });

  assert.deepEqual(byName(r, "CombinedMesh").components["morph-audio-feedback"], {
    minValue: 0,
    maxValue: 1,
    name: "MouthFlap",
  });
  assert.ok(byName(r, "heightfield").components.heightfield, "the heightfield on its own node is kept");
  assert.ok(nodesWith(r, "box-collider").length === 1);
  assert.ok(byName(r, "scene-preview-camera").components["scene-preview-camera"]);
  // AvatarRoot's extension object is empty, so it carries no component and is not listed.
  assert.equal(byName(r, "AvatarRoot"), undefined);
  assert.deepEqual(r.materials, []);
});

test("early Spoke file: HUBS_components, no root version (0), an integer colour", () => {
  const { json } = parseGLB(sample(EARLY));
  const r = readHubsComponents(json);
  assert.equal(r.extensionName, "HUBS_components");
  assert.equal(r.version, 0);
  assert.deepEqual(r.root, {});

  assert.equal(json.nodes[6].extensions.HUBS_components["directional-light"].color, 11053224, "raw file");
  const light = byName(r, "Directional Light").components["directional-light"];
  assert.equal(light.color, "#a8a8a8");
  assert.equal(light.intensity, 1);
  assert.equal(json.nodes[6].extensions.HUBS_components["directional-light"].color, 11053224, "input unchanged");

  assert.equal(nodesWith(r, "spawn-point")[0].name, "Spawn Point");
  const floor = byName(r, "Floor Plan");
  assert.deepEqual(floor.components, { visible: { visible: false }, "nav-mesh": {} });
  // The nav mesh geometry is on a child node: a disc about 197 m across, 5.5 cm above the ground.
  const box = subtreeMeshBox(json, floor.index);
  assert.ok(near(box.min[0], -98.632, 1e-3) && near(box.max[2], 98.357, 1e-3), JSON.stringify(box));
  assert.ok(near(box.min[1], 0.055, 1e-6) && near(box.max[1], 0.055, 1e-6));
  assert.deepEqual(byName(r, "Ground Plane").components, { shadow: { receive: false, cast: false } });
  assert.equal(nodesWith(r, "box-collider").length, 1);
});

test("Hubs default avatar (exporter version 3): feedback and animation components on bones", () => {
  const { json } = parseGLB(sample(AVATAR));
  const r = readHubsComponents(json);
  assert.equal(r.version, 3);
  assert.equal(r.root.exporterVersion, "0.0.4");
  assert.deepEqual(byName(r, "Neck").components, { "scale-audio-feedback": { minScale: 1, maxScale: 1.5 } });
  assert.deepEqual(byName(r, "AvatarRoot").components, { "loop-animation": { clip: "idle_eyes", paused: false } });
  assert.equal(r.nodes.length, 2);
  for (const bone of ["Hips", "Spine", "Head", "LeftEye", "RightEye", "LeftHand", "RightHand"]) {
    assert.ok(json.nodes.some((n) => n.name === bone), `bone ${bone}`);
  }
});

test("components under node extras (old exports), first placement wins", () => {
  const r = readHubsComponents({
    asset: { version: "2.0" },
    extensions: { MOZ_hubs_components: { version: 2 } },
    nodes: [
      { name: "a", extras: { gltfExtensions: { MOZ_hubs_components: { "spawn-point": {} } } } },
      { name: "b", extras: { gltfExtensions: { HUBS_components: { "nav-mesh": {} } } } },
      { name: "c", extras: { components: { "ambient-light": { color: 0xff0000, intensity: 0.5 } } } },
      {
        name: "d",
        extensions: { MOZ_hubs_components: { visible: { visible: false } } },
        extras: { gltfExtensions: { MOZ_hubs_components: { visible: { visible: true }, shadow: { cast: true } } } },
      },
      { name: "plain", extras: { someTool: 1 } },
    ],
  });
  assert.equal(r.version, 2);
  assert.deepEqual(
    r.nodes.map((n) => [n.index, n.name, n.components]),
    [
      [0, "a", { "spawn-point": {} }],
      [1, "b", { "nav-mesh": {} }],
      [2, "c", { "ambient-light": { color: "#ff0000", intensity: 0.5 } }],
      [3, "d", { visible: { visible: false }, shadow: { cast: true } }],
    ],
  );
});

test("scene- and material-level components; a scene index that has none", () => {
  const r = readHubsComponents({
    scene: 1,
    scenes: [
      { name: "other", extensions: { MOZ_hubs_components: { background: { color: "#000000" } } } },
      {
        name: "main",
        extensions: {
          MOZ_hubs_components: {
            "environment-settings": { backgroundColor: "#ABC", fogType: "linear", fogColor: 0x808080, fogNear: 1 },
          },
        },
      },
    ],
    materials: [{ name: "glow", extensions: { MOZ_hubs_components: { "video-texture-target": { src: "x" } } } }],
    extensions: { MOZ_hubs_components: { version: 4 } },
  });
  assert.equal(r.scene.name, "main");
  assert.deepEqual(r.scene.components["environment-settings"], {
    backgroundColor: "#aabbcc",
    fogType: "linear",
    fogColor: "#808080",
    fogNear: 1,
  });
  assert.equal(r.scenes.length, 2);
  assert.deepEqual(r.materials, [{ index: 0, name: "glow", components: { "video-texture-target": { src: "x" } } }]);

  const none = readHubsComponents({ asset: { version: "2.0" } });
  assert.deepEqual(none.scene, { index: null, name: null, components: {} });
  assert.equal(none.extensionName, null);
  assert.equal(none.version, 0);
});

test("links to textures and nodes become references; broken links are reported, not thrown", () => {
  const json = {
    extensions: { MOZ_hubs_components: { version: 4 } },
    textures: [{ source: 0 }, { source: 1, name: "sky" }],
    nodes: [
      { name: "target" },
      {
        name: "settings",
        extensions: {
          MOZ_hubs_components: {
            "environment-settings": {
              backgroundTexture: { __mhc_link_type: "texture", index: 1 },
              envMapTexture: { __mhc_link_type: "texture", index: 7 },
            },
            "audio-target": { srcNode: { __mhc_link_type: "node", index: 0 }, gain: [{ __mhc_link_type: "mesh", index: 0 }] },
          },
        },
      },
    ],
  };
  const r = readHubsComponents(json);
  const env = r.nodes[0].components["environment-settings"];
  assert.ok(env.backgroundTexture instanceof HubsLink);
  assert.equal(env.backgroundTexture.type, "texture");
  assert.equal(env.backgroundTexture.index, 1);
  assert.equal(env.backgroundTexture.target, json.textures[1], "a reference to the glTF definition, not a copy");
  assert.equal(env.envMapTexture.target, null);
  const audio = r.nodes[0].components["audio-target"];
  assert.equal(audio.srcNode.type, "node");
  assert.equal(audio.srcNode.name, "target");
  assert.equal(audio.gain[0].type, "mesh");
  assert.equal(audio.gain[0].target, null);
  assert.equal(r.warnings.length, 2, r.warnings.join("\n"));
  assert.match(r.warnings[0], /texture link to index 7/);
  assert.match(r.warnings[1], /unknown type "mesh"/);
});

test("malformed components are skipped with a warning; flags written as true become {}", () => {
  const r = readHubsComponents({
    nodes: [
      {
        name: "n",
        extensions: {
          MOZ_hubs_components: { "spawn-point": true, "nav-mesh": null, visible: false, shadow: "yes", skybox: [1] },
        },
      },
      "not a node",
      null,
    ],
  });
  assert.deepEqual(r.nodes, [{ index: 0, name: "n", components: { "spawn-point": {}, "nav-mesh": {} } }]);
  assert.equal(r.warnings.length, 2);
});

test("version migrations: old range-0 lights do not fade; old heightfields on the nav mesh are dropped", () => {
  const nodes = [
    { extensions: { MOZ_hubs_components: { "point-light": { range: 0, decay: 2 } } } },
    { extensions: { MOZ_hubs_components: { "spot-light": { range: 5, decay: 2 } } } },
    { extensions: { MOZ_hubs_components: { "nav-mesh": {}, heightfield: { distance: 1 } } } },
  ];
  const v1 = readHubsComponents({ extensions: { MOZ_hubs_components: { version: 1 } }, nodes });
  assert.equal(v1.nodes[0].components["point-light"].decay, 0);
  assert.equal(v1.nodes[1].components["spot-light"].decay, 2);
  assert.deepEqual(v1.nodes[2].components, { "nav-mesh": {} });
  const v4 = readHubsComponents({ extensions: { MOZ_hubs_components: { version: 4 } }, nodes });
  assert.equal(v4.nodes[0].components["point-light"].decay, 2);
  assert.ok(v4.nodes[2].components.heightfield);
  assert.equal(nodes[0].extensions.MOZ_hubs_components["point-light"].decay, 2, "input unchanged");
});

test("colours: integers and short hex become #rrggbb; other values stay", () => {
  assert.equal(normalizeColor(0), "#000000");
  assert.equal(normalizeColor(0xffffff), "#ffffff");
  assert.equal(normalizeColor(255), "#0000ff");
  assert.equal(normalizeColor("#FfA"), "#ffffaa");
  assert.equal(normalizeColor(" #A8A8A8 "), "#a8a8a8");
  assert.equal(normalizeColor("white"), "white");
  assert.equal(normalizeColor(2 ** 30), "#ffffff");
  const r = readHubsComponents({
    nodes: [{ extensions: { MOZ_hubs_components: { "hemisphere-light": { skyColor: 0x87ceeb, groundColor: "#123", intensity: 1 } } } }],
  });
  assert.deepEqual(r.nodes[0].components["hemisphere-light"], { skyColor: "#87ceeb", groundColor: "#112233", intensity: 1 });
});

test("parseGLB: a hand-made GLB with a binary chunk", () => {
  const { json, bin } = parseGLB(makeGLB({ asset: { version: "2.0" } }, Buffer.from([1, 2, 3])));
  assert.deepEqual(json, { asset: { version: "2.0" } });
  assert.deepEqual([...bin.subarray(0, 3)], [1, 2, 3]);
  const noBin = parseGLB(new Uint8Array(makeGLB({ asset: { version: "2.0" } })).buffer);
  assert.equal(noBin.bin, null);
});

test("parseGLB: bad input gives a clear GLBError, never a crash", () => {
  const good = makeGLB({ asset: { version: "2.0" } }, Buffer.alloc(64));
  const cases = [
    ["not a glb at all", Buffer.from("PK\x03\x04 this is a zip file, not a model"), /wrong magic "PK\\x03\\x04"/],
    ["a .gltf JSON file", Buffer.from('{"asset":{"version":"2.0"}}'), /looks like a \.gltf JSON file/],
    ["empty", Buffer.alloc(0), /shorter than the 12-byte GLB header/],
    ["header only, cut", good.subarray(0, 10), /shorter than the 12-byte/],
    ["truncated body", good.subarray(0, good.length - 10), /truncated GLB: the header says \d+ bytes but only \d+/],
    ["wrong magic", Buffer.concat([Buffer.from("gLTF"), good.subarray(4)]), /wrong magic "gLTF"/],
    ["GLB version 1", patch(good, 4, 1), /version 1 is not supported/],
    ["chunk longer than the file", patch(good, 12, 0xffff), /chunk 0 \("JSON"\) at byte 12 claims 65535 bytes/],
    ["first chunk is BIN", patch(good, 16, 0x004e4942), /first GLB chunk must be JSON, found "BIN\\x00"/],
    ["JSON chunk not JSON", makeGLB("{this is not json"), /JSON chunk is not valid JSON/],
    ["JSON chunk is an array", makeGLB("[1,2,3]"), /not a glTF object \(it is an array\)/],
    ["JSON chunk not UTF-8", makeGLB(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString("latin1")), null],
    ["declared length too small", patch(good, 8, 16), /no JSON chunk/],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(
      () => parseGLB(bytes),
      (err) => err instanceof GLBError && (message === null || message.test(err.message)),
      what,
    );
  }
  // Raw bytes that are not UTF-8 in the JSON chunk.
  const raw = Buffer.from(makeGLB("{}  "));
  raw[20] = 0xff;
  assert.throws(() => parseGLB(raw), /not valid UTF-8/);
  for (const notBytes of [undefined, null, "glTF", 42, {}]) {
    assert.throws(() => parseGLB(notBytes), GLBError);
  }
  assert.throws(() => readHubsComponents(null), GLBError);
  assert.throws(() => readHubsComponents([]), GLBError);
});

test("readGLTF reads both .glb and .gltf", () => {
  assert.equal(readGLTF(sample(EARLY)).json.scenes[0].name, "loading");
  const text = readGLTF(Buffer.from('\ufeff  {"asset":{"version":"2.0"},"scenes":[{"name":"s"}]}'));
  assert.equal(text.json.scenes[0].name, "s");
  assert.equal(text.bin, null);
  assert.throws(() => readGLTF(Buffer.from("{nope")), /\.gltf file is not valid JSON/);
  assert.throws(() => readGLTF(Buffer.from("hello world, not a model")), /wrong magic/);
});

test("every truncation of a real sample fails cleanly", () => {
  const bytes = sample(EARLY);
  for (let n = 0; n < bytes.length; n += 97) {
    assert.throws(() => parseGLB(bytes.subarray(0, n)), GLBError, `cut at ${n}`);
  }
  assert.ok(parseGLB(bytes).json);
});

function patch(buf, offset, u32) {
  const out = Buffer.from(buf);
  out.writeUInt32LE(u32, offset);
  return out;
}
