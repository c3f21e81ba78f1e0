// World transforms and bounds straight from glTF JSON, without three.js, so Node tests can say where a scene's
// spawn points and nav mesh are. Matrices are 16 numbers, column-major, as glTF writes them. glTF is Y-up and
// right-handed, like A-Frame, so no axis conversion is needed.

const IDENTITY = Object.freeze([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);

/** a × b (column-major). */
export function multiply(a, b) {
  const out = new Array(16);
  for (let col = 0; col < 4; col++) {
    for (let row = 0; row < 4; row++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[k * 4 + row] * b[col * 4 + k];
      out[col * 4 + row] = s;
    }
  }
  return out;
}

/** The matrix of translation t, rotation quaternion q (x, y, z, w) and scale s. */
export function compose(t = [0, 0, 0], q = [0, 0, 0, 1], s = [1, 1, 1]) {
  const [x, y, z, w] = q;
  const x2 = x + x, y2 = y + y, z2 = z + z;
  const xx = x * x2, xy = x * y2, xz = x * z2;
  const yy = y * y2, yz = y * z2, zz = z * z2;
  const wx = w * x2, wy = w * y2, wz = w * z2;
  return [
    (1 - (yy + zz)) * s[0], (xy + wz) * s[0], (xz - wy) * s[0], 0,
    (xy - wz) * s[1], (1 - (xx + zz)) * s[1], (yz + wx) * s[1], 0,
    (xz + wy) * s[2], (yz - wx) * s[2], (1 - (xx + yy)) * s[2], 0,
    t[0], t[1], t[2], 1,
  ];
}

/** A node's own transform: its `matrix`, or its translation/rotation/scale. */
export function localMatrix(node) {
  if (Array.isArray(node.matrix) && node.matrix.length === 16) return node.matrix.slice();
  return compose(node.translation, node.rotation, node.scale);
}

/** Each node's parent index (-1 for roots), from the `children` lists. */
export function parents(json) {
  const nodes = Array.isArray(json.nodes) ? json.nodes : [];
  const parent = new Array(nodes.length).fill(-1);
  nodes.forEach((node, i) => {
    for (const c of (node && node.children) || []) {
      if (Number.isInteger(c) && c >= 0 && c < nodes.length) parent[c] = i;
    }
  });
  return parent;
}

/** The world matrix of every node (an array indexed like json.nodes). */
export function worldMatrices(json) {
  const nodes = Array.isArray(json.nodes) ? json.nodes : [];
  const parent = parents(json);
  const world = new Array(nodes.length).fill(null);
  const visiting = new Set();
  const get = (i) => {
    if (world[i]) return world[i];
    if (visiting.has(i)) return IDENTITY; // a cycle is invalid glTF; do not loop forever
    visiting.add(i);
    const local = localMatrix(nodes[i] || {});
    world[i] = parent[i] >= 0 ? multiply(get(parent[i]), local) : local;
    visiting.delete(i);
    return world[i];
  };
  for (let i = 0; i < nodes.length; i++) get(i);
  return world;
}

/** m applied to the point p = [x, y, z]. */
export function transformPoint(m, p) {
  const [x, y, z] = p;
  return [
    m[0] * x + m[4] * y + m[8] * z + m[12],
    m[1] * x + m[5] * y + m[9] * z + m[13],
    m[2] * x + m[6] * y + m[10] * z + m[14],
  ];
}

/** Splits a matrix into position, rotation quaternion [x, y, z, w] and scale. */
export function decompose(m) {
  let sx = Math.hypot(m[0], m[1], m[2]);
  const sy = Math.hypot(m[4], m[5], m[6]);
  const sz = Math.hypot(m[8], m[9], m[10]);
  const det =
    m[0] * (m[5] * m[10] - m[6] * m[9]) - m[4] * (m[1] * m[10] - m[2] * m[9]) + m[8] * (m[1] * m[6] - m[2] * m[5]);
  if (det < 0) sx = -sx;
  const r = [
    m[0] / sx, m[1] / sx, m[2] / sx,
    m[4] / sy, m[5] / sy, m[6] / sy,
    m[8] / sz, m[9] / sz, m[10] / sz,
  ];
  // rotation matrix (column-major r) to quaternion
  const [m11, m21, m31, m12, m22, m32, m13, m23, m33] = r;
  const trace = m11 + m22 + m33;
  let q;
  if (trace > 0) {
    const s = 0.5 / Math.sqrt(trace + 1);
    q = [(m32 - m23) * s, (m13 - m31) * s, (m21 - m12) * s, 0.25 / s];
  } else if (m11 > m22 && m11 > m33) {
    const s = 2 * Math.sqrt(1 + m11 - m22 - m33);
    q = [0.25 * s, (m12 + m21) / s, (m13 + m31) / s, (m32 - m23) / s];
  } else if (m22 > m33) {
    const s = 2 * Math.sqrt(1 + m22 - m11 - m33);
    q = [(m12 + m21) / s, 0.25 * s, (m23 + m32) / s, (m13 - m31) / s];
  } else {
    const s = 2 * Math.sqrt(1 + m33 - m11 - m22);
    q = [(m13 + m31) / s, (m23 + m32) / s, 0.25 * s, (m21 - m12) / s];
  }
  return { position: [m[12], m[13], m[14]], quaternion: q, scale: [sx, sy, sz] };
}

const DEG = 180 / Math.PI;

/**
 * A quaternion as Euler angles in degrees, in the YXZ order A-Frame uses for `rotation`, so `y` is the heading.
 */
export function quaternionToEulerDegrees(q) {
  const [x, y, z, w] = q;
  // rotation matrix elements needed for the YXZ decomposition
  const m13 = 2 * (x * z + w * y);
  const m23 = 2 * (y * z - w * x);
  const m33 = 1 - 2 * (x * x + y * y);
  const m21 = 2 * (x * y + w * z);
  const m22 = 1 - 2 * (x * x + z * z);
  const m11 = 1 - 2 * (y * y + z * z);
  const m31 = 2 * (x * z - w * y);
  const ex = Math.asin(Math.max(-1, Math.min(1, -m23)));
  let ey, ez;
  if (Math.abs(m23) < 0.9999999) {
    ey = Math.atan2(m13, m33);
    ez = Math.atan2(m21, m22);
  } else {
    ey = Math.atan2(-m31, m11);
    ez = 0;
  }
  const clean = (r) => (Math.abs(r * DEG) < 1e-9 ? 0 : r * DEG);
  return { x: clean(ex), y: clean(ey), z: clean(ez) };
}

/** {position:{x,y,z}, rotation:{x,y,z} (degrees, YXZ)} of a world matrix, the shape the scene loader returns. */
export function placement(m) {
  const { position, quaternion } = decompose(m);
  return {
    position: { x: position[0], y: position[1], z: position[2] },
    rotation: quaternionToEulerDegrees(quaternion),
  };
}

function emptyBox() {
  return { min: [Infinity, Infinity, Infinity], max: [-Infinity, -Infinity, -Infinity] };
}

function growBox(box, p) {
  for (let i = 0; i < 3; i++) {
    if (p[i] < box.min[i]) box.min[i] = p[i];
    if (p[i] > box.max[i]) box.max[i] = p[i];
  }
}

function isEmpty(box) {
  return !(box.min[0] <= box.max[0]);
}

/** The world-space box (from the accessors' min/max) of one node's own mesh, or null when it has none. */
export function nodeMeshBox(json, nodeIndex, world = worldMatrices(json)) {
  const node = json.nodes && json.nodes[nodeIndex];
  const mesh = node && Number.isInteger(node.mesh) && json.meshes ? json.meshes[node.mesh] : null;
  if (!mesh) return null;
  const box = emptyBox();
  for (const prim of mesh.primitives || []) {
    const acc = json.accessors && json.accessors[prim.attributes && prim.attributes.POSITION];
    if (!acc || !Array.isArray(acc.min) || !Array.isArray(acc.max)) continue;
    for (let c = 0; c < 8; c++) {
      const corner = [c & 1 ? acc.max[0] : acc.min[0], c & 2 ? acc.max[1] : acc.min[1], c & 4 ? acc.max[2] : acc.min[2]];
      growBox(box, transformPoint(world[nodeIndex], corner));
    }
  }
  return isEmpty(box) ? null : box;
}

/** The world-space box of the meshes of a node and all its descendants, or null when there are none. */
export function subtreeMeshBox(json, nodeIndex, world = worldMatrices(json)) {
  const box = emptyBox();
  const stack = [nodeIndex];
  const seen = new Set();
  while (stack.length) {
    const i = stack.pop();
    if (seen.has(i)) continue;
    seen.add(i);
    const own = nodeMeshBox(json, i, world);
    if (own) {
      growBox(box, own.min);
      growBox(box, own.max);
    }
    for (const c of (json.nodes[i] && json.nodes[i].children) || []) stack.push(c);
  }
  return isEmpty(box) ? null : box;
}

const COMPONENT_ARRAYS = {
  5120: Int8Array,
  5121: Uint8Array,
  5122: Int16Array,
  5123: Uint16Array,
  5125: Uint32Array,
  5126: Float32Array,
};
const TYPE_SIZES = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4, MAT2: 4, MAT3: 9, MAT4: 16 };

/**
 * The values of an accessor stored in the GLB's binary chunk (bin: the Uint8Array from parseGLB), as an array of
 * tuples (or of numbers for SCALAR). Sparse accessors and external buffers are not read: null.
 */
export function readAccessor(json, bin, accessorIndex) {
  const acc = json.accessors && json.accessors[accessorIndex];
  if (!acc || acc.sparse || !bin) return null;
  const Arr = COMPONENT_ARRAYS[acc.componentType];
  const size = TYPE_SIZES[acc.type];
  const view = json.bufferViews && json.bufferViews[acc.bufferView];
  if (!Arr || !size || !view || (view.buffer || 0) !== 0) return null;
  const start = bin.byteOffset + (view.byteOffset || 0) + (acc.byteOffset || 0);
  const stride = view.byteStride || size * Arr.BYTES_PER_ELEMENT;
  const data = new DataView(bin.buffer);
  const get = {
    5120: (o) => data.getInt8(o),
    5121: (o) => data.getUint8(o),
    5122: (o) => data.getInt16(o, true),
    5123: (o) => data.getUint16(o, true),
    5125: (o) => data.getUint32(o, true),
    5126: (o) => data.getFloat32(o, true),
  }[acc.componentType];
  const out = [];
  for (let i = 0; i < acc.count; i++) {
    const tuple = [];
    for (let k = 0; k < size; k++) tuple.push(get(start + i * stride + k * Arr.BYTES_PER_ELEMENT));
    out.push(size === 1 ? tuple[0] : tuple);
  }
  return out;
}

/**
 * The world-space triangles [[a, b, c], ...] of the meshes at and below a node (mode 4 primitives only), read
 * from the GLB's binary chunk.
 */
export function subtreeTriangles(json, bin, nodeIndex, world = worldMatrices(json)) {
  const triangles = [];
  const stack = [nodeIndex];
  const seen = new Set();
  while (stack.length) {
    const i = stack.pop();
    if (seen.has(i)) continue;
    seen.add(i);
    const node = json.nodes[i];
    const mesh = node && Number.isInteger(node.mesh) && json.meshes ? json.meshes[node.mesh] : null;
    for (const prim of (mesh && mesh.primitives) || []) {
      if ((prim.mode ?? 4) !== 4) continue;
      const positions = readAccessor(json, bin, prim.attributes && prim.attributes.POSITION);
      if (!positions) continue;
      const indices = Number.isInteger(prim.indices) ? readAccessor(json, bin, prim.indices) : positions.map((_, k) => k);
      if (!indices) continue;
      const p = (k) => transformPoint(world[i], positions[k]);
      for (let t = 0; t + 2 < indices.length; t += 3) triangles.push([p(indices[t]), p(indices[t + 1]), p(indices[t + 2])]);
    }
    for (const c of (node && node.children) || []) stack.push(c);
  }
  return triangles;
}
