// Media frames (Hubs' media-frame component in a scene): a slot that holds one kind of media. An object put down
// inside a frame's box snaps to the frame's middle, turns with it and is sized to fit it.

const KINDS_2D = new Set(["image", "video", "pdf"]);

/** Whether a frame that takes mediaType ("all", "all-2d", "image", "video", "pdf", "model") takes this kind. */
export function frameAccepts(mediaType, kind) {
  if (!kind) return false;
  const t = typeof mediaType === "string" && mediaType !== "" ? mediaType : "all-2d";
  if (t === "all") return kind !== "audio";
  if (t === "all-2d") return KINDS_2D.has(kind);
  return t === kind;
}

/**
 * The uniform scale that fits content of size {x, y, z} (metres at scale 1) into bounds {x, y, z}: flat content
 * (2D panels) is fitted in x and y only.
 */
export function fitFactor(size, bounds, flat) {
  const axes = flat ? ["x", "y"] : ["x", "y", "z"];
  let k = Infinity;
  for (const a of axes) {
    if (size[a] > 1e-6 && bounds[a] > 0) k = Math.min(k, bounds[a] / size[a]);
  }
  return Number.isFinite(k) ? k : 1;
}

/**
 * Where an object goes in a frame: {position, rotation (A-Frame degrees), scale} in world space (media objects
 * sit at the scene's root). frame: {object (THREE.Object3D), bounds {x,y,z}}; content: the object's mesh at
 * scale 1, or null.
 */
export function fitIntoFrame(THREE, frame, content) {
  frame.object.updateWorldMatrix(true, false);
  const position = new THREE.Vector3();
  const quaternion = new THREE.Quaternion();
  const frameScale = new THREE.Vector3();
  frame.object.matrixWorld.decompose(position, quaternion, frameScale);
  const e = new THREE.Euler().setFromQuaternion(quaternion, "YXZ");
  const size = new THREE.Vector3(1, 1, 1);
  if (content) {
    const box = new THREE.Box3().setFromObject(content, true);
    if (!box.isEmpty()) {
      // The box of the content as it would be without the entity's own transform.
      const parent = content.parent;
      const inv = parent ? new THREE.Matrix4().copy(parent.matrixWorld).invert() : new THREE.Matrix4();
      box.applyMatrix4(inv).getSize(size);
    }
  }
  const bounds = { x: frame.bounds.x * frameScale.x, y: frame.bounds.y * frameScale.y, z: frame.bounds.z * frameScale.z };
  const k = fitFactor({ x: size.x, y: size.y, z: size.z }, bounds, size.z < 1e-3);
  const deg = (r) => (r * 180) / Math.PI;
  return {
    position: { x: position.x, y: position.y, z: position.z },
    rotation: { x: deg(e.x), y: deg(e.y), z: deg(e.z) },
    scale: { x: k, y: k, z: k },
  };
}
