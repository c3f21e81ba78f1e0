// Putting an avatar file on a person: its Hubs bones, the size it is drawn at and which way it faces, checked on
// the real Hubs default avatar and on made-up cases.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { parseGLB } from "../../src/scene/hubs-components.js";
import { HEAD_HEIGHT, bonePositions, facesPlusZ, findBones, fitAvatar, isAvatar } from "../../src/room/avatars/rig.js";

const json = (name) => parseGLB(readFileSync(new URL(`../../samples/${name}.glb`, import.meta.url))).json;

test("the Hubs default avatar's bones are found by their Hubs names", () => {
  const bones = findBones(json("hubs-default-avatar_v3"));
  for (const name of ["AvatarRoot", "Hips", "Spine", "Neck", "Head", "LeftEye", "RightEye", "LeftHand", "RightHand"]) {
    assert.ok(Number.isInteger(bones[name]), `${name} is found`);
  }
  assert.equal(bones.Head, 2);
  assert.equal(bones.AvatarRoot, 39);
  assert.equal(isAvatar(json("hubs-default-avatar_v3")), true);
});

test("a scene without a Head or AvatarRoot is not an avatar; Blender's .001 suffixes still count", () => {
  assert.equal(isAvatar(json("spoke-early_loading-environment_HUBS_components")), false);
  assert.deepEqual(findBones({ nodes: [{ name: "Head.001" }, { name: "Head" }, { name: "Tail" }, {}] }), { Head: 0 });
  assert.equal(isAvatar({ nodes: [{ name: "AvatarRoot" }] }), true);
  assert.equal(isAvatar({ nodes: [{ name: "head" }] }), false, "names are compared as Hubs does: case matters");
  assert.equal(isAvatar({}), false);
  assert.equal(isAvatar(null), false);
});

test("the Hubs default avatar faces +Z (its eyes are in front of its head), so it is turned to face where people look", () => {
  const at = bonePositions(json("hubs-default-avatar_v3"));
  assert.ok(at.LeftEye.z > at.Head.z);
  assert.equal(facesPlusZ(at), true);
  assert.equal(facesPlusZ({ Head: { x: 0, y: 1.6, z: 0 }, LeftEye: { x: 0.03, y: 1.65, z: -0.1 } }), false);
  assert.equal(facesPlusZ({ Head: { x: 0, y: 1, z: 0 } }), true, "without eyes: glTF's convention");
});

test("life-size avatars keep their size and float their head to eye height; others are scaled", () => {
  // The Hubs robot: head 0.56 m up, drawn as it is and lifted, as Hubs does.
  const robot = fitAvatar({ headHeight: 0.564, height: 0.7 });
  assert.equal(robot.scale, 1);
  assert.ok(Math.abs(robot.lift - (HEAD_HEIGHT - 0.564)) < 1e-9);
  assert.deepEqual(fitAvatar({ headHeight: HEAD_HEIGHT, height: 1.8 }), { scale: 1, lift: 0 });
  // Exported in centimetres: a head 160 units up becomes 1.6 m.
  const cm = fitAvatar({ headHeight: 160, height: 175 });
  assert.ok(Math.abs(cm.scale * 160 - HEAD_HEIGHT) < 1e-9);
  assert.equal(cm.lift, 0);
  // No Head: the whole model's height decides.
  assert.deepEqual(fitAvatar({ headHeight: null, height: 1.2 }), { scale: 1, lift: 0 });
  assert.ok(Math.abs(fitAvatar({ height: 0.01 }).scale * 0.01 - 1.75) < 1e-9);
  assert.deepEqual(fitAvatar({ headHeight: NaN, height: 0 }), { scale: 1, lift: 0 });
  assert.deepEqual(fitAvatar(), { scale: 1, lift: 0 });
});
