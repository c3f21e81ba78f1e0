// Handling media objects by hand: a two-finger pinch's resize, and an object carried by a VR controller, with the
// three.js that A-Frame bundles (the same matrices the room uses).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as THREE from "three";

import { PINCH_DEAD_ZONE, grabOffset, heldMatrix, pinchFactor, touchSpread } from "../../src/room/objects/gestures.js";

const near = (a, b, eps = 1e-9) => Math.abs(a - b) < eps;
function nearVec(actual, expected, eps = 1e-9) {
  for (const k of ["x", "y", "z"]) assert.ok(near(actual[k], expected[k], eps), `${k}: ${actual[k]} vs ${expected[k]}`);
}

/** A world matrix from a position and a rotation in degrees (A-Frame's YXZ order), with an optional scale. */
function pose({ x = 0, y = 0, z = 0 }, { rx = 0, ry = 0, rz = 0 } = {}, s = 1) {
  const q = new THREE.Quaternion().setFromEuler(new THREE.Euler(THREE.MathUtils.degToRad(rx), THREE.MathUtils.degToRad(ry), THREE.MathUtils.degToRad(rz), "YXZ"));
  return new THREE.Matrix4().compose(new THREE.Vector3(x, y, z), q, new THREE.Vector3(s, s, s));
}

function decompose(m) {
  const position = new THREE.Vector3();
  const quaternion = new THREE.Quaternion();
  const scale = new THREE.Vector3();
  m.decompose(position, quaternion, scale);
  return { position, quaternion, scale };
}

test("two touches' spread is the distance between the first two, in pixels", () => {
  assert.equal(touchSpread([{ clientX: 10, clientY: 20 }, { clientX: 40, clientY: 60 }]), 50);
  assert.equal(touchSpread([{ clientX: 5, clientY: 5 }, { clientX: 5, clientY: 5 }, { clientX: 900, clientY: 0 }]), 0, "a third finger does not count");
});

test("a pinch resizes by how much the fingers spread: apart grows, together shrinks", () => {
  assert.equal(pinchFactor(80, 160), 2);
  assert.equal(pinchFactor(200, 50), 0.25);
  assert.equal(pinchFactor(100, 110), 1.1);
});

test("a pinch within the dead zone is a wobble, not a resize", () => {
  assert.equal(PINCH_DEAD_ZONE, 0.05);
  for (const to of [100, 103, 97, 104.9, 95.1]) assert.equal(pinchFactor(100, to), null, `100 → ${to} px`);
  assert.ok(pinchFactor(100, 105.5) > 1);
  assert.ok(pinchFactor(100, 94.5) < 1);
});

test("a pinch from or to no spread, or with numbers that are not, resizes nothing", () => {
  for (const [from, to] of [[0, 100], [100, 0], [-50, 100], [NaN, 100], [100, Infinity], [undefined, 100], [100, null]]) {
    assert.equal(pinchFactor(from, to), null, `${from} → ${to}`);
  }
});

test("a held object keeps its place in the hand as the hand moves and turns", () => {
  const hand = pose({ x: 0.3, y: 1.2, z: -0.2 }, { rx: -20, ry: 10 });
  const object = pose({ x: 0, y: 1.5, z: -2 }, { ry: 180 }, 1.5);
  const offset = grabOffset(hand, object, new THREE.Matrix4());
  // Where the object is seen from the hand, before and after.
  const inHand = (h, o) => decompose(new THREE.Matrix4().copy(h).invert().multiply(o));
  const before = inHand(hand, object);

  const moved = pose({ x: -0.5, y: 1.4, z: 0.1 }, { rx: 5, ry: 70, rz: -15 });
  const now = heldMatrix(moved, offset, null, new THREE.Matrix4(), new THREE.Matrix4());
  const after = inHand(moved, now);
  nearVec(after.position, before.position, 1e-9);
  assert.ok(after.quaternion.angleTo(before.quaternion) < 1e-6, "it turned with the hand");
  nearVec(decompose(now).scale, { x: 1.5, y: 1.5, z: 1.5 }, 1e-9);
  // And it did travel: a turn of the wrist swings an object two metres off across the room.
  assert.ok(decompose(now).position.distanceTo(decompose(object).position) > 1);
});

test("a hand that does not move leaves the object where it was grabbed", () => {
  const hand = pose({ x: 1, y: 1, z: 1 }, { ry: 33 });
  const object = pose({ x: 2, y: 1.5, z: -3 }, { ry: 12 });
  const now = heldMatrix(hand, grabOffset(hand, object, new THREE.Matrix4()), null, new THREE.Matrix4(), new THREE.Matrix4());
  assert.ok(now.equals(object) || now.elements.every((v, i) => near(v, object.elements[i], 1e-12)));
});

test("an object under a moved and turned parent gets the local pose that puts it where the hand holds it", () => {
  // The hand lives in the rig (turned and moved), the object under another group: world poses are what count.
  const rig = pose({ x: 5, y: 0, z: -3 }, { ry: 90 });
  const handLocal = pose({ x: 0.2, y: 1.3, z: -0.3 }, { rx: -10 });
  const hand = new THREE.Matrix4().multiplyMatrices(rig, handLocal);
  const parent = pose({ x: -1, y: 0.5, z: 2 }, { ry: -45 });
  const objectLocal = pose({ x: 1, y: 1, z: -6 }, { ry: 20 });
  const object = new THREE.Matrix4().multiplyMatrices(parent, objectLocal);
  const offset = grabOffset(hand, object, new THREE.Matrix4());

  const rigMoved = pose({ x: 4, y: 0, z: -2 }, { ry: 120 });
  const handNow = new THREE.Matrix4().multiplyMatrices(rigMoved, pose({ x: -0.1, y: 1.5, z: -0.4 }, { ry: 30 }));
  const local = heldMatrix(handNow, offset, parent, new THREE.Matrix4(), new THREE.Matrix4());
  const world = new THREE.Matrix4().multiplyMatrices(parent, local);
  const expected = new THREE.Matrix4().multiplyMatrices(handNow, offset);
  assert.ok(world.elements.every((v, i) => near(v, expected.elements[i], 1e-9)), "parent × local is the world pose the hand gives");
  // Without the parent the local pose would be the world one: that is not what the object needs here.
  const wrong = heldMatrix(handNow, offset, null, new THREE.Matrix4(), new THREE.Matrix4());
  assert.ok(decompose(wrong).position.distanceTo(decompose(local).position) > 0.5);
});

test("the offset and the result go into the matrices given, which are returned", () => {
  const out = new THREE.Matrix4();
  assert.equal(grabOffset(new THREE.Matrix4(), pose({ x: 1 }), out), out);
  nearVec(decompose(out).position, { x: 1, y: 0, z: 0 });
  const result = new THREE.Matrix4();
  assert.equal(heldMatrix(pose({ y: 2 }), out, null, result, new THREE.Matrix4()), result);
  nearVec(decompose(result).position, { x: 1, y: 2, z: 0 });
});
