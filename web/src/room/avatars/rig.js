// How an avatar file is put on a person: which of its nodes are the Hubs bones (the names the Hubs Blender
// exporter and Hubs' own avatars use), how big it is drawn and which way it faces. Pure: the glTF JSON in, plain
// numbers out, so it is tested in Node; model.js applies the result with three.js.

import { placement, worldMatrices } from "../../scene/gltf-math.js";

/** The bone names Hubs avatars use. Head (or AvatarRoot) is what makes a file an avatar (docs/content.md). */
export const HUBS_BONES = Object.freeze(["AvatarRoot", "Hips", "Spine", "Neck", "Head", "LeftEye", "RightEye", "LeftHand", "RightHand"]);

/** Where the head of a built-in look is, and so where an avatar's Head goes: the eye height (avatar.js). */
export const HEAD_HEIGHT = 1.6;

/** Head heights, in metres, that look like a person or a creature drawn life size; others are rescaled. */
const PLAUSIBLE_HEAD = [0.3, 3];
/** Without a Head: heights of the whole model that are drawn as they are. */
const PLAUSIBLE_HEIGHT = [0.3, 3.5];
const FALLBACK_HEIGHT = 1.75;

/**
 * The Hubs bones of a glTF JSON: {name → node index} for each HUBS_BONES name some node has (the first such node).
 * Names are compared as written and also without Blender's ".001" suffixes ("Head.001" counts as Head).
 */
export function findBones(json) {
  const out = {};
  const nodes = Array.isArray(json?.nodes) ? json.nodes : [];
  nodes.forEach((node, index) => {
    if (typeof node?.name !== "string") return;
    const name = node.name.replace(/\.\d{3}$/, "");
    if (HUBS_BONES.includes(name) && !(name in out)) out[name] = index;
  });
  return out;
}

/** Whether a glTF JSON is an avatar as the server checks it: a node named Head or AvatarRoot. */
export function isAvatar(json) {
  const bones = findBones(json);
  return "Head" in bones || "AvatarRoot" in bones;
}

/**
 * How to draw a model: {scale, lift}. headHeight: the Head's height above the model's feet (its lowest point), or
 * null without a Head; height: the model's whole height. A life-size model is drawn as it is and lifted so its head
 * is at HEAD_HEIGHT, as Hubs puts an avatar's head where its owner's eyes are (small avatars float); one that is
 * not life size (exported in centimetres, say) is scaled so its head, or its top, is there.
 */
export function fitAvatar({ headHeight = null, height = 0 } = {}) {
  const ok = (v) => typeof v === "number" && Number.isFinite(v) && v > 0;
  if (ok(headHeight)) {
    if (headHeight >= PLAUSIBLE_HEAD[0] && headHeight <= PLAUSIBLE_HEAD[1]) return { scale: 1, lift: HEAD_HEIGHT - headHeight };
    return { scale: HEAD_HEIGHT / headHeight, lift: 0 };
  }
  if (ok(height)) {
    if (height >= PLAUSIBLE_HEIGHT[0] && height <= PLAUSIBLE_HEIGHT[1]) return { scale: 1, lift: 0 };
    return { scale: FALLBACK_HEIGHT / height, lift: 0 };
  }
  return { scale: 1, lift: 0 };
}

/**
 * Whether the model faces +Z (the glTF convention, and Hubs avatars'), judged by where its eyes are against its
 * head; toncon's avatars face -Z (where the camera looks), so such a model is turned round. Without eyes, glTF's
 * convention is assumed. positions: {Head, LeftEye, RightEye} → {x, y, z} in the model's space (any missing).
 */
export function facesPlusZ(positions) {
  const head = positions?.Head;
  const eyes = [positions?.LeftEye, positions?.RightEye].filter(Boolean);
  if (!head || eyes.length === 0) return true;
  const z = eyes.reduce((s, e) => s + e.z, 0) / eyes.length;
  return z >= head.z;
}

/** The bones' rest positions in model space, from the glTF JSON: {name → {x, y, z}}. */
export function bonePositions(json) {
  const bones = findBones(json);
  const world = worldMatrices(json);
  const out = {};
  for (const [name, index] of Object.entries(bones)) out[name] = placement(world[index]).position;
  return out;
}
