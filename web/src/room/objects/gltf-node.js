// Pinned objects as glTF nodes (docs/content.md): what `pin` sends and what GET /<hub_sid>/objects.gltf holds.
// A-Frame keeps rotations as degrees in YXZ order; glTF as a quaternion [x, y, z, w]. Pure: Node tests it.

import { quaternionToEulerDegrees } from "../../scene/gltf-math.js";

const DEG = Math.PI / 180;

const finite = (v) => typeof v === "number" && Number.isFinite(v);

/** A quaternion {x, y, z, w} for A-Frame rotation degrees {x, y, z} (Euler order YXZ, as three.js does it). */
export function quaternionFromDegrees({ x = 0, y = 0, z = 0 } = {}) {
  const c1 = Math.cos((x * DEG) / 2), c2 = Math.cos((y * DEG) / 2), c3 = Math.cos((z * DEG) / 2);
  const s1 = Math.sin((x * DEG) / 2), s2 = Math.sin((y * DEG) / 2), s3 = Math.sin((z * DEG) / 2);
  return {
    x: s1 * c2 * c3 + c1 * s2 * s3,
    y: c1 * s2 * c3 - s1 * c2 * s3,
    z: c1 * c2 * s3 - s1 * s2 * c3,
    w: c1 * c2 * c3 + s1 * s2 * s3,
  };
}

/** A-Frame rotation degrees {x, y, z} (YXZ) for a quaternion; the quaternion need not be normalised. */
export function degreesFromQuaternion({ x, y, z, w }) {
  const n = Math.hypot(x, y, z, w) || 1;
  return quaternionToEulerDegrees([x / n, y / n, z / n, w / n]);
}

/**
 * The glTF node for a pinned object. transform: {position {x,y,z}, rotation (A-Frame degrees {x,y,z}), scale
 * {x,y,z}}; media: {src, contentType}.
 */
export function buildGltfNode(objectId, { position, rotation, scale }, { src, contentType }) {
  if (typeof objectId !== "string" || objectId === "") throw new Error("a pinned object needs its id");
  if (typeof src !== "string" || src === "") throw new Error("a pinned object needs its media's src");
  const q = quaternionFromDegrees(rotation);
  const vec = (v, d) => [v?.x, v?.y, v?.z].map((n) => (finite(n) ? round(n) : d));
  return {
    name: objectId,
    translation: vec(position, 0),
    rotation: [q.x, q.y, q.z, q.w].map(round),
    scale: vec(scale, 1),
    extensions: {
      HUBS_components: {
        media: { src, id: objectId, contentType: contentType || "" },
        pinnable: { pinned: true },
      },
    },
  };
}

function round(n) {
  return Math.round(n * 1e6) / 1e6;
}

function vector(list, fallback) {
  if (!Array.isArray(list) || list.length !== 3 || !list.every(finite)) return { ...fallback };
  return { x: list[0], y: list[1], z: list[2] };
}

/**
 * The pinned object a glTF node describes: {objectId, position, rotation (A-Frame degrees), scale, src,
 * contentType, pinned}, or null (with no throw) for a node that is not a media object. The object id is the
 * media component's id, else the node's name. A node may carry a full `matrix` instead of TRS: it is not one
 * toncon or Hubs writes for pinned media, so it is refused.
 */
export function parseGltfNode(node) {
  if (!node || typeof node !== "object") return null;
  const ext = node.extensions?.HUBS_components || node.extensions?.MOZ_hubs_components;
  const media = ext?.media;
  if (!media || typeof media.src !== "string" || media.src === "") return null;
  const objectId = typeof media.id === "string" && media.id !== "" ? media.id : typeof node.name === "string" ? node.name : "";
  if (objectId === "" || !/^[A-Za-z0-9_.:-]{1,64}$/.test(objectId)) return null;
  const r = node.rotation;
  const q = Array.isArray(r) && r.length === 4 && r.every(finite) ? { x: r[0], y: r[1], z: r[2], w: r[3] } : { x: 0, y: 0, z: 0, w: 1 };
  return {
    objectId,
    position: vector(node.translation, { x: 0, y: 0, z: 0 }),
    rotation: degreesFromQuaternion(q),
    scale: vector(node.scale, { x: 1, y: 1, z: 1 }),
    src: media.src,
    contentType: typeof media.contentType === "string" ? media.contentType : "",
    pinned: ext?.pinnable?.pinned !== false,
  };
}

/** The pinned objects of an objects.gltf document (nodes that are not media objects are skipped). */
export function objectsFromGltf(doc) {
  if (!doc || typeof doc !== "object" || !Array.isArray(doc.nodes)) return [];
  const out = [];
  const seen = new Set();
  for (const node of doc.nodes) {
    const o = parseGltfNode(node);
    if (!o || seen.has(o.objectId)) continue;
    seen.add(o.objectId);
    out.push(o);
  }
  return out;
}
