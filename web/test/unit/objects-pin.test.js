// Pinned objects as glTF nodes: what `pin` sends, what objects.gltf holds, and the rotation conversions between
// A-Frame's degrees (YXZ) and glTF's quaternions.

import { test } from "node:test";
import assert from "node:assert/strict";

import {
  buildGltfNode,
  degreesFromQuaternion,
  objectsFromGltf,
  parseGltfNode,
  quaternionFromDegrees,
} from "../../src/room/objects/gltf-node.js";

const near = (a, b, eps = 1e-6) => Math.abs(a - b) < eps;
function nearVec(actual, expected, eps = 1e-4) {
  for (const k of Object.keys(expected)) assert.ok(near(actual[k], expected[k], eps), `${k}: ${actual[k]} vs ${expected[k]}`);
}

test("a quarter turn about y is the quaternion three.js gives", () => {
  const q = quaternionFromDegrees({ x: 0, y: 90, z: 0 });
  nearVec(q, { x: 0, y: Math.SQRT1_2, z: 0, w: Math.SQRT1_2 });
  nearVec(quaternionFromDegrees({}), { x: 0, y: 0, z: 0, w: 1 });
});

test("degrees go to quaternions and back, YXZ order, for many rotations", () => {
  for (const r of [{ x: 10, y: 20, z: 30 }, { x: -45, y: 170, z: 5 }, { x: 0, y: -90, z: 0 }, { x: 80, y: 0, z: -120 }]) {
    nearVec(degreesFromQuaternion(quaternionFromDegrees(r)), r);
  }
  // YXZ, not XYZ: pitch then yaw differs from yaw then pitch.
  const q = quaternionFromDegrees({ x: 30, y: 60, z: 0 });
  nearVec(q, { x: 0.2241439, y: 0.4829629, z: -0.1294095, w: 0.8365163 });
});

test("looking straight down (gimbal lock) still comes back as a rotation that means the same", () => {
  const d = degreesFromQuaternion(quaternionFromDegrees({ x: 90, y: 30, z: 0 }));
  nearVec(quaternionFromDegrees(d), quaternionFromDegrees({ x: 90, y: 30, z: 0 }));
});

test("the node names the object, holds its transform and media, and says it is pinned", () => {
  const node = buildGltfNode("abc1234", {
    position: { x: 1, y: 1.5, z: -2 },
    rotation: { x: 0, y: 90, z: 0 },
    scale: { x: 2, y: 2, z: 2 },
  }, { src: "/files/f1?token=t", contentType: "image/png" });
  assert.equal(node.name, "abc1234");
  assert.deepEqual(node.translation, [1, 1.5, -2]);
  assert.deepEqual(node.scale, [2, 2, 2]);
  assert.deepEqual(node.rotation, [0, 0.707107, 0, 0.707107]);
  assert.deepEqual(node.extensions.HUBS_components, {
    media: { src: "/files/f1?token=t", id: "abc1234", contentType: "image/png" },
    pinnable: { pinned: true },
  });
  assert.ok(JSON.stringify(node).length < 16 * 1024, "well under the server's 16 KiB limit");
});

test("building refuses a node without an id or a src, and fills in missing numbers", () => {
  assert.throws(() => buildGltfNode("", { position: {}, rotation: {}, scale: {} }, { src: "x" }), /id/);
  assert.throws(() => buildGltfNode("a", { position: {}, rotation: {}, scale: {} }, { src: "" }), /src/);
  const n = buildGltfNode("a", { position: { x: NaN }, rotation: {}, scale: null }, { src: "/files/a" });
  assert.deepEqual(n.translation, [0, 0, 0]);
  assert.deepEqual(n.scale, [1, 1, 1]);
  assert.equal(n.extensions.HUBS_components.media.contentType, "");
});

test("a built node parses back to the same object", () => {
  const t = { position: { x: -3, y: 0.5, z: 4 }, rotation: { x: 10, y: -135, z: 0 }, scale: { x: 0.5, y: 0.5, z: 0.5 } };
  const o = parseGltfNode(buildGltfNode("p1", t, { src: "https://cdn.example/a.glb", contentType: "model/gltf-binary" }));
  assert.equal(o.objectId, "p1");
  assert.deepEqual(o.position, t.position);
  assert.deepEqual(o.scale, t.scale);
  nearVec(o.rotation, t.rotation, 1e-3);
  assert.equal(o.src, "https://cdn.example/a.glb");
  assert.equal(o.contentType, "model/gltf-binary");
  assert.equal(o.pinned, true);
});

test("parsing takes Reticulum's and Hubs' forms and refuses what is not a media object", () => {
  const hubs = parseGltfNode({ name: "n", extensions: { MOZ_hubs_components: { media: { src: "/files/x", id: "id-1" } } } });
  assert.equal(hubs.objectId, "id-1", "the media id wins over the node name");
  assert.deepEqual(hubs.rotation, { x: 0, y: 0, z: 0 });
  assert.equal(parseGltfNode({ name: "named", extensions: { HUBS_components: { media: { src: "/files/x" } } } }).objectId, "named");
  for (const bad of [
    null, 7, {}, { name: "x" },
    { name: "x", extensions: { HUBS_components: { media: { src: "" } } } },
    { name: "", extensions: { HUBS_components: { media: { src: "/files/x" } } } },
    { name: "has spaces", extensions: { HUBS_components: { media: { src: "/files/x" } } } },
  ]) {
    assert.equal(parseGltfNode(bad), null, JSON.stringify(bad));
  }
  const odd = parseGltfNode({ name: "z", translation: [1, "2", 3], rotation: [0, 0, 0], scale: [1, 1], extensions: { HUBS_components: { media: { src: "/f" } } } });
  assert.deepEqual(odd.position, { x: 0, y: 0, z: 0 }, "a malformed translation is ignored, not half-used");
  assert.deepEqual(odd.scale, { x: 1, y: 1, z: 1 });
});

test("objects.gltf: every pinned node once, in order, others skipped", () => {
  const node = (id, x) => ({ name: id, translation: [x, 0, 0], extensions: { HUBS_components: { media: { src: `/files/${id}`, id } } } });
  const doc = { asset: { version: "2.0" }, scenes: [{ nodes: [0, 1, 2, 3] }], nodes: [node("a", 1), { name: "plain" }, node("b", 2), node("a", 9)] };
  const objects = objectsFromGltf(doc);
  assert.deepEqual(objects.map((o) => [o.objectId, o.position.x]), [["a", 1], ["b", 2]]);
  assert.deepEqual(objectsFromGltf({ asset: {} }), []);
  assert.deepEqual(objectsFromGltf(null), []);
});
