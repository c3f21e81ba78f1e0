// The scene loader's three.js layer in Node: a real sample and hand-made glTF files parsed with three.js'
// GLTFLoader, then the Hubs components applied (lights, visibility, shadows, spawn points, waypoints, nav mesh).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";

import { readGLTF, readHubsComponents } from "../../src/scene/hubs-components.js";
import { applyComponents, walkableSurface } from "../../src/scene/model.js";
import { createLight, environmentFrom } from "../../src/scene/apply.js";
import { sunDirection } from "../../src/scene/sky.js";
import { pickSpawnPoint } from "../../src/scene/loader.js";

const SAMPLES = fileURLToPath(new URL("../../samples/", import.meta.url));
const near = (a, b, eps = 1e-6) => Math.abs(a - b) <= eps;

function arrayBufferOf(buf) {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

async function load(bytes) {
  const ab = arrayBufferOf(bytes);
  const hubs = readHubsComponents(readGLTF(ab).json);
  const gltf = await new Promise((resolve, reject) => new GLTFLoader().parse(ab, "", resolve, reject));
  return { gltf, hubs };
}

/** Runs fn with console.info captured; returns [result, notes]. */
async function capturingInfo(fn) {
  const notes = [];
  const info = console.info;
  console.info = (...args) => notes.push(args.join(" "));
  try {
    return [await fn(), notes];
  } finally {
    console.info = info;
  }
}

/** A GLB with one binary buffer holding the given float32 and uint16 arrays, in order. */
function glb(json, arrays) {
  const parts = [];
  let offset = 0;
  json.buffers = [{ byteLength: 0 }];
  json.bufferViews = [];
  json.accessors = json.accessors || [];
  for (const a of arrays) {
    const bytes = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    const padded = Buffer.concat([bytes, Buffer.alloc((4 - (bytes.length % 4)) % 4)]);
    json.bufferViews.push({ buffer: 0, byteOffset: offset, byteLength: bytes.length });
    const accessor = {
      bufferView: json.bufferViews.length - 1,
      componentType: a.data instanceof Float32Array ? 5126 : 5123,
      count: a.data.length / (a.type === "VEC3" ? 3 : 1),
      type: a.type,
    };
    if (a.type === "VEC3") {
      accessor.min = [0, 1, 2].map((k) => Math.min(...a.data.filter((_, i) => i % 3 === k)));
      accessor.max = [0, 1, 2].map((k) => Math.max(...a.data.filter((_, i) => i % 3 === k)));
    }
    json.accessors.push(accessor);
    parts.push(padded);
    offset += padded.length;
  }
  const bin = Buffer.concat(parts);
  json.buffers[0].byteLength = bin.length;
  let text = Buffer.from(JSON.stringify(json));
  text = Buffer.concat([text, Buffer.alloc((4 - (text.length % 4)) % 4, 0x20)]);
  const chunk = (data, type) => {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(data.length, 0);
    h.writeUInt32LE(type, 4);
    return Buffer.concat([h, data]);
  };
  const body = Buffer.concat([chunk(text, 0x4e4f534a), chunk(bin, 0x004e4942)]);
  const header = Buffer.alloc(12);
  header.writeUInt32LE(0x46546c67, 0);
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(12 + body.length, 8);
  return Buffer.concat([header, body]);
}

const QUAD = {
  positions: new Float32Array([-1, 0, -1, -1, 0, 1, 1, 0, 1, 1, 0, -1]),
  indices: new Uint16Array([0, 1, 2, 0, 2, 3]),
};
const Y90 = [0, Math.SQRT1_2, 0, Math.SQRT1_2]; // quarter turn left about +Y

/** A hand-made Hubs scene: spawn point, two waypoints, a nav mesh under a moved and scaled parent, lights. */
function handMadeScene({ physicallyCorrectLights } = {}) {
  const c = (components) => ({ MOZ_hubs_components: components });
  return glb(
    {
      asset: { version: "2.0" },
      extensionsUsed: ["MOZ_hubs_components"],
      extensions: { MOZ_hubs_components: { version: 4 } },
      scene: 0,
      scenes: [
        {
          nodes: [0, 1, 2, 3, 5, 6, 7, 8, 9],
          extensions: c({
            "environment-settings": {
              backgroundColor: "#102030",
              ...(physicallyCorrectLights === undefined ? {} : { physicallyCorrectLights }),
            },
          }),
        },
      ],
      meshes: [{ primitives: [{ attributes: { POSITION: 0 }, indices: 1 }] }],
      nodes: [
        { name: "Spawn", translation: [1, 0, 2], rotation: Y90, extensions: c({ "spawn-point": {} }) },
        { name: "Stage", translation: [0, 1, -5], extensions: c({ waypoint: { canBeSpawnPoint: true, canBeClicked: true } }) },
        { name: "Seat", translation: [3, 0, 3], extensions: c({ waypoint: { canBeSpawnPoint: false, canBeOccupied: true } }) },
        { name: "Floor", translation: [10, 0.5, 0], scale: [5, 1, 5], children: [4], extensions: c({ visible: { visible: false } }) },
        { name: "Floor mesh", mesh: 0, extensions: c({ "nav-mesh": {} }) },
        { name: "Sun", translation: [0, 5, 0], rotation: [Math.SQRT1_2, 0, 0, Math.SQRT1_2], extensions: c({ "directional-light": { color: 0xffeedd, intensity: 2, castShadow: true, shadowMapResolution: [4096, 4096] } }) },
        { name: "Lamp", translation: [2, 2, 2], extensions: c({ "point-light": { color: "#ff0000", intensity: 3, range: 10, decay: 2, castShadow: false } }) },
        { name: "Spot", extensions: c({ "spot-light": { innerConeAngle: Math.PI / 8, outerConeAngle: Math.PI / 4 } }) },
        { name: "Sky light", extensions: c({ "hemisphere-light": { skyColor: "#8888ff", groundColor: 0x224422, intensity: 0.5 } }) },
        { name: "Lit box", mesh: 0, extensions: c({ shadow: { cast: true, receive: false }, "particle-emitter": { src: "x" }, "media-frame": {} }) },
      ],
    },
    [
      { data: QUAD.positions, type: "VEC3" },
      { data: QUAD.indices, type: "SCALAR" },
    ],
  );
}

test("early Spoke sample through GLTFLoader: spawn at the origin, the file's nav mesh, a downward light", async () => {
  const { gltf, hubs } = await load(readFileSync(SAMPLES + "spoke-early_loading-environment_HUBS_components.glb"));
  const [applied, notes] = await capturingInfo(() => applyComponents(THREE, gltf, hubs));
  assert.deepEqual(applied.spawnPoints, [{ position: { x: 0, y: 0, z: 0 }, rotation: { x: 0, y: 0, z: 0 } }]);
  assert.equal(applied.navObjects.length, 1);
  assert.equal(applied.navObjects[0].visible, false, "the Floor Plan is hidden by its visible component");

  const { geometry, fromFile } = walkableSurface(THREE, applied);
  assert.equal(fromFile, true);
  geometry.computeBoundingBox();
  const box = geometry.boundingBox;
  assert.ok(near(box.min.x, -98.632, 1e-3) && near(box.max.z, 98.357, 1e-3));
  assert.ok(near(box.min.y, 0.055, 1e-5) && near(box.max.y, 0.055, 1e-5), "the nav mesh sits 5.5 cm up");
  assert.equal(geometry.index.count, 324);

  const [light] = applied.lights;
  assert.ok(light.isDirectionalLight);
  assert.equal(light.intensity, 1);
  assert.equal(`#${light.color.getHexString(THREE.SRGBColorSpace)}`, "#a8a8a8", "integer colour 11053224");
  assert.equal(light.castShadow, true);
  light.updateWorldMatrix(true, true);
  const dir = new THREE.Vector3().setFromMatrixPosition(light.target.matrixWorld).sub(new THREE.Vector3().setFromMatrixPosition(light.matrixWorld));
  assert.ok(dir.y < -0.8, `the light shines down, along its node's +Z: ${dir.toArray()}`);

  const ground = gltf.scene.getObjectByName("Ground_Plane") || gltf.scene.getObjectByName("Ground Plane");
  ground.traverse((o) => {
    if (o.isMesh) assert.deepEqual([o.castShadow, o.receiveShadow], [false, false]);
  });
  assert.ok(notes.some((n) => n.includes('"box-collider"')), notes.join("\n"));
});

test("hand-made scene: spawn points, waypoints, nav mesh world transform, lights, shadows, skipped components", async () => {
  const { gltf, hubs } = await load(handMadeScene());
  const [applied, notes] = await capturingInfo(() => applyComponents(THREE, gltf, hubs));

  // The spawn point and the waypoint that may be one; headings in degrees, A-Frame's YXZ order.
  assert.equal(applied.spawnPoints.length, 2);
  const [spawn, stage] = applied.spawnPoints;
  assert.deepEqual(spawn.position, { x: 1, y: 0, z: 2 });
  assert.ok(near(spawn.rotation.y, 90, 1e-9) && spawn.rotation.x === 0 && spawn.rotation.z === 0, JSON.stringify(spawn.rotation));
  assert.deepEqual(stage.position, { x: 0, y: 1, z: -5 });
  assert.deepEqual(
    applied.waypoints.map((w) => [w.name, w.canBeSpawnPoint, w.canBeOccupied === true]),
    [
      ["Stage", true, false],
      ["Seat", false, true],
    ],
  );

  // The nav mesh is the child's quad, moved and scaled by its parent; the hidden parent hides it.
  const { geometry, fromFile } = walkableSurface(THREE, applied);
  assert.equal(fromFile, true);
  geometry.computeBoundingBox();
  assert.deepEqual(geometry.boundingBox.min.toArray(), [5, 0.5, -5]);
  assert.deepEqual(geometry.boundingBox.max.toArray(), [15, 0.5, 5]);
  assert.equal(gltf.scene.getObjectByName("Floor").visible, false);

  const byType = (t) => applied.lights.filter((l) => l.type === t);
  const [sun] = byType("DirectionalLight");
  assert.equal(sun.intensity, 2, "physical intensities by default, as in Hubs");
  assert.deepEqual(sun.shadow.mapSize.toArray(), [2048, 2048], "shadow maps are capped");
  const [lamp] = byType("PointLight");
  assert.deepEqual([lamp.intensity, lamp.distance, lamp.decay, lamp.castShadow], [3, 10, 2, false]);
  assert.equal(`#${lamp.color.getHexString(THREE.SRGBColorSpace)}`, "#ff0000");
  const [spot] = byType("SpotLight");
  assert.ok(near(spot.angle, Math.PI / 4) && near(spot.penumbra, 0.5));
  const [hemi] = byType("HemisphereLight");
  assert.equal(`#${hemi.groundColor.getHexString(THREE.SRGBColorSpace)}`, "#224422");
  assert.equal(hemi.parent, applied.model, "hemisphere light sits at the scene's root, pointing up");

  const box = gltf.scene.getObjectByName("Lit_box") || gltf.scene.getObjectByName("Lit box");
  assert.deepEqual([box.castShadow, box.receiveShadow], [true, false]);
  assert.equal(applied.env.backgroundColor, "#102030");

  // One note per unknown component for the life of the page, never an error.
  const skipped = notes.filter((n) => /"(particle-emitter|media-frame)"/.test(n));
  assert.equal(skipped.length, 1, notes.join("\n"));
  assert.match(skipped[0], /particle-emitter/);
  // The media frame is applied: a slot of the default size on its node, for dropped media (scene/media.js).
  assert.deepEqual(applied.media.map((m) => [m.kind, m.mediaType, m.bounds, m.object === box]), [["media-frame", "all-2d", { x: 1, y: 1, z: 1 }, true]]);
  const [, again] = await capturingInfo(async () => applyComponents(THREE, (await load(handMadeScene())).gltf, hubs));
  assert.deepEqual(again.filter((n) => /particle-emitter|media-frame/.test(n)), []);
});

test("physicallyCorrectLights: false reads intensities the old three.js way", async () => {
  const { gltf, hubs } = await load(handMadeScene({ physicallyCorrectLights: false }));
  const applied = await applyComponents(THREE, gltf, hubs);
  const sun = applied.lights.find((l) => l.isDirectionalLight);
  const lamp = applied.lights.find((l) => l.isPointLight);
  assert.ok(near(sun.intensity, 2 * Math.PI));
  assert.equal(lamp.decay, 0);
});

test("a scene without nav mesh or spawn point walks on its floor and spawns on it", async () => {
  const scene = glb(
    {
      asset: { version: "2.0" },
      scenes: [{ nodes: [0, 1] }],
      meshes: [{ primitives: [{ attributes: { POSITION: 0 }, indices: 1 }] }],
      nodes: [
        { name: "ground", mesh: 0, translation: [20, 0, 0], scale: [3, 1, 3] },
        { name: "wall", mesh: 0, translation: [20, 1, 0], rotation: [Math.SQRT1_2, 0, 0, Math.SQRT1_2] },
      ],
    },
    [
      { data: QUAD.positions, type: "VEC3" },
      { data: QUAD.indices, type: "SCALAR" },
    ],
  );
  const { gltf, hubs } = await load(scene);
  const applied = await applyComponents(THREE, gltf, hubs);
  const { geometry, fromFile } = walkableSurface(THREE, applied);
  assert.equal(fromFile, false);
  geometry.computeBoundingBox();
  assert.deepEqual(geometry.boundingBox.min.toArray(), [17, 0, -3], "the ground quad, not the upright wall");
  assert.deepEqual(geometry.boundingBox.max.toArray(), [23, 0, 3]);
  assert.equal(applied.spawnPoints.length, 1);
  assert.deepEqual(applied.spawnPoints[0].position, { x: 17, y: 0, z: 0 }, "the floor's point nearest the origin");
});

test("helpers: light defaults, environment merging, sun direction, spawn choice", () => {
  const d = createLight(THREE, "directional-light", {}, false);
  assert.deepEqual([d.intensity, d.castShadow, d.target.position.toArray()], [1, true, [0, 0, 1]]);
  assert.equal(createLight(THREE, "ambient-light", { intensity: 0.25 }, false).intensity, 0.25);
  assert.equal(createLight(THREE, "no-such-light", {}, false), null);

  assert.deepEqual(
    environmentFrom([
      { background: { color: "#aaaaaa" } },
      { fog: { type: "linear", color: "#ffffff", near: 2, far: 50 } },
      { "environment-settings": { backgroundColor: "#000000", toneMapping: "ACESFilmicToneMapping" } },
    ]),
    { backgroundColor: "#000000", fogType: "linear", fogColor: "#ffffff", fogNear: 2, fogFar: 50, toneMapping: "ACESFilmicToneMapping" },
  );

  for (const [inclination, azimuth] of [[0, 0], [0.3, 0.7], [1, 0.15]]) {
    const s = sunDirection(inclination, azimuth);
    assert.ok(near(Math.hypot(s.x, s.y, s.z), 1), "a unit vector");
  }
  const fixtureSun = sunDirection(0.10471975511965978, 0.2333333333333333);
  assert.ok(fixtureSun.y > 0.9, `the fixture's sun is high: ${JSON.stringify(fixtureSun)}`);

  const points = [{ position: { x: 1 } }, { position: { x: 2 } }, { position: { x: 3 } }];
  assert.equal(pickSpawnPoint(points, () => 0), points[0]);
  assert.equal(pickSpawnPoint(points, () => 0.5), points[1]);
  assert.equal(pickSpawnPoint(points, () => 0.9999), points[2]);
  assert.deepEqual(pickSpawnPoint([]).position, { x: 0, y: 0, z: 0 });
});
