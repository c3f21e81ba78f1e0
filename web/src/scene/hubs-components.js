// Reads the Hubs component data that Spoke and the Hubs Blender exporter write into glTF files.
//
// Pure: no DOM, no three.js, so it runs in Node (unit tests) and in the browser (the scene loader).
//
// Where the data sits:
//   - root `extensions.MOZ_hubs_components` holds `{version}` (and sometimes `exporterVersion`); a file without it
//     is version 0 (the earliest Spoke exports);
//   - components sit in an object named `MOZ_hubs_components` (older files: `HUBS_components`) under the
//     `extensions` of a node, a scene or a material, or, in old exports, under `node.extras.gltfExtensions`;
//     a few old exports put the component map itself in `node.extras.components`;
//   - a property may link to a texture or a node: `{"__mhc_link_type": "texture" | "node", "index": N}`;
//   - colours are "#rrggbb" strings in newer files and integers (0xRRGGBB) in old ones.

export const EXTENSION_NAMES = Object.freeze(["MOZ_hubs_components", "HUBS_components"]);

const GLB_MAGIC = 0x46546c67; // "glTF" read little-endian
const CHUNK_JSON = 0x4e4f534a; // "JSON"
const CHUNK_BIN = 0x004e4942; // "BIN\0"

/** A file that is not a readable glTF binary. The message says what is wrong with it. */
export class GLBError extends Error {
  constructor(message) {
    super(message);
    this.name = "GLBError";
  }
}

/** The bytes of an ArrayBuffer, a typed array or a Node Buffer, as a Uint8Array without copying. */
function bytesOf(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new GLBError(`expected the bytes of a .glb file (an ArrayBuffer), got ${describe(data)}`);
}

function describe(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `a ${value.constructor?.name || "plain"} object` : typeof value;
}

function fourCC(n) {
  let s = "";
  for (let i = 0; i < 4; i++) {
    const c = (n >>> (8 * i)) & 0xff;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return s;
}

function parseJSONText(text, what) {
  let json;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new GLBError(`${what} is not valid JSON: ${err.message}`);
  }
  if (!isPlainObject(json)) throw new GLBError(`${what} is JSON but not a glTF object (it is ${describe(json)})`);
  return json;
}

/**
 * Splits a binary glTF (.glb, version 2) into its JSON and its binary chunk.
 * Returns {json, bin}: bin is a Uint8Array view of the BIN chunk (no copy), or null when there is none.
 * Throws a GLBError with a clear message for anything that is not a well-formed GLB.
 */
export function parseGLB(arrayBuffer) {
  const bytes = bytesOf(arrayBuffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12) {
    throw new GLBError(`not a GLB file: ${bytes.byteLength} bytes is shorter than the 12-byte GLB header`);
  }
  const magic = view.getUint32(0, true);
  if (magic !== GLB_MAGIC) {
    const hint = firstNonSpace(bytes) === 0x7b ? " (it looks like a .gltf JSON file)" : "";
    throw new GLBError(`not a GLB file: wrong magic "${fourCC(magic)}", expected "glTF"${hint}`);
  }
  const version = view.getUint32(4, true);
  if (version !== 2) throw new GLBError(`GLB version ${version} is not supported; only version 2 is`);
  const declared = view.getUint32(8, true);
  if (declared > bytes.byteLength) {
    throw new GLBError(`truncated GLB: the header says ${declared} bytes but only ${bytes.byteLength} are present`);
  }
  if (declared < 20) throw new GLBError(`GLB has no JSON chunk (declared length ${declared} bytes)`);

  let json = null;
  let bin = null;
  let offset = 12;
  let index = 0;
  while (offset < declared) {
    if (declared - offset < 8) {
      throw new GLBError(`truncated GLB: chunk ${index} at byte ${offset} has no room for its 8-byte header`);
    }
    const length = view.getUint32(offset, true);
    const type = view.getUint32(offset + 4, true);
    const start = offset + 8;
    if (length > declared - start) {
      throw new GLBError(
        `truncated GLB: chunk ${index} ("${fourCC(type)}") at byte ${offset} claims ${length} bytes ` +
          `but only ${declared - start} remain`,
      );
    }
    const data = bytes.subarray(start, start + length);
    if (index === 0) {
      if (type !== CHUNK_JSON) throw new GLBError(`the first GLB chunk must be JSON, found "${fourCC(type)}"`);
      let text;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(data);
      } catch {
        throw new GLBError("the GLB JSON chunk is not valid UTF-8");
      }
      json = parseJSONText(text, "the GLB JSON chunk");
    } else if (type === CHUNK_BIN && bin === null) {
      bin = data;
    }
    // Chunks are 4-byte aligned; a writer that forgot the padding still ends at `start + length`.
    offset = start + length;
    index++;
  }
  return { json, bin };
}

function firstNonSpace(bytes) {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3; // UTF-8 byte order mark
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return bytes[i];
}

/**
 * Reads either kind of glTF file: a binary .glb, or a JSON .gltf (whose buffers live in other files).
 * Returns {json, bin}; bin is null for .gltf. Throws a GLBError when it is neither.
 */
export function readGLTF(arrayBuffer) {
  const bytes = bytesOf(arrayBuffer);
  if (bytes.byteLength >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === GLB_MAGIC) {
    return parseGLB(bytes);
  }
  if (firstNonSpace(bytes) === 0x7b) {
    let text;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new GLBError("the .gltf file is not valid UTF-8");
    }
    return { json: parseJSONText(text, "the .gltf file"), bin: null };
  }
  return parseGLB(bytes); // throws the "wrong magic" / "too short" error
}

function isPlainObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * A property that links to another part of the glTF file: a texture or a node. `target` is the linked
 * definition from the glTF JSON (json.textures[index] or json.nodes[index]), or null when the index points
 * nowhere. The scene loader turns texture links into three.js textures.
 */
export class HubsLink {
  constructor(type, index, target) {
    this.type = type;
    this.index = index;
    this.target = target;
  }

  /** The linked node's name, for node links. */
  get name() {
    return this.type === "node" && this.target && typeof this.target.name === "string" ? this.target.name : null;
  }
}

const LINK_TYPES = { texture: "textures", node: "nodes" };

/** "#rrggbb" for a colour written as an integer or a hex string; anything else is returned unchanged. */
export function normalizeColor(value) {
  if (typeof value === "number" && Number.isFinite(value)) {
    const n = Math.min(0xffffff, Math.max(0, Math.round(value)));
    return `#${n.toString(16).padStart(6, "0")}`;
  }
  if (typeof value === "string") {
    const s = value.trim();
    if (/^#[0-9a-f]{6}$/i.test(s)) return s.toLowerCase();
    if (/^#[0-9a-f]{3}$/i.test(s)) {
      return `#${s[1]}${s[1]}${s[2]}${s[2]}${s[3]}${s[3]}`.toLowerCase();
    }
  }
  return value;
}

function isColorKey(key) {
  return key === "color" || /Color$/.test(key);
}

/** Copies a component's properties, resolving links and normalising colours. */
function readValue(value, key, ctx, where) {
  if (Array.isArray(value)) return value.map((v) => readValue(v, null, ctx, where));
  if (isPlainObject(value)) {
    if (Object.prototype.hasOwnProperty.call(value, "__mhc_link_type")) return readLink(value, ctx, where);
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = readValue(v, k, ctx, where);
    return out;
  }
  if (key !== null && isColorKey(key)) return normalizeColor(value);
  return value;
}

function readLink(value, ctx, where) {
  const type = value.__mhc_link_type;
  const index = value.index;
  const list = LINK_TYPES[type] ? ctx.json[LINK_TYPES[type]] : undefined;
  let target = null;
  if (!LINK_TYPES[type]) {
    ctx.warnings.push(`${where}: link of unknown type ${JSON.stringify(type)}`);
  } else if (!Number.isInteger(index) || !Array.isArray(list) || index < 0 || index >= list.length) {
    ctx.warnings.push(`${where}: ${type} link to index ${JSON.stringify(index)}, which does not exist`);
  } else {
    target = list[index];
  }
  return new HubsLink(type, Number.isInteger(index) ? index : null, target);
}

/** The component maps found on one node, scene or material, in the order Hubs looks for them. */
function componentSources(owner) {
  const sources = [];
  const ext = isPlainObject(owner.extensions) ? owner.extensions : null;
  const extras = isPlainObject(owner.extras) ? owner.extras : null;
  const old = extras && isPlainObject(extras.gltfExtensions) ? extras.gltfExtensions : null;
  for (const holder of [ext, old]) {
    if (!holder) continue;
    for (const name of EXTENSION_NAMES) {
      if (isPlainObject(holder[name])) sources.push(holder[name]);
    }
  }
  if (extras && isPlainObject(extras.components)) sources.push(extras.components);
  return sources;
}

function readComponents(owner, ctx, where) {
  const components = {};
  if (!isPlainObject(owner)) return components;
  for (const source of componentSources(owner)) {
    for (const [name, value] of Object.entries(source)) {
      if (Object.prototype.hasOwnProperty.call(components, name)) continue; // the first placement wins
      if (value === false) continue; // switched off
      if (value === true || value === null) {
        components[name] = {};
      } else if (isPlainObject(value)) {
        components[name] = readValue(value, null, ctx, `${where} component "${name}"`);
      } else {
        ctx.warnings.push(`${where}: component "${name}" is ${describe(value)}, not an object; ignored`);
      }
    }
  }
  return components;
}

function rootExtension(json) {
  const ext = isPlainObject(json.extensions) ? json.extensions : {};
  for (const name of EXTENSION_NAMES) {
    if (isPlainObject(ext[name])) return { name, value: ext[name] };
  }
  return null;
}

function usedExtensionName(json, root) {
  if (root) return root.name;
  const used = Array.isArray(json.extensionsUsed) ? json.extensionsUsed : [];
  return EXTENSION_NAMES.find((n) => used.includes(n)) || null;
}

// Meaning changes between versions of the format (Hubs documents them as migrations).
function migrate(result) {
  if (result.version < 2) {
    // Before version 2 a heightfield sat on the nav-mesh node itself; it is stale there.
    for (const node of result.nodes) {
      if (node.components["nav-mesh"] && node.components.heightfield) delete node.components.heightfield;
    }
  }
  if (result.version < 4) {
    // Before version 4 a point or spot light with range 0 did not fade with distance.
    for (const node of result.nodes) {
      for (const name of ["point-light", "spot-light"]) {
        const light = node.components[name];
        if (light && light.range === 0) light.decay = 0;
      }
    }
  }
}

/**
 * Reads the Hubs components of a glTF JSON object (from parseGLB or readGLTF).
 *
 * Returns {
 *   extensionName: "MOZ_hubs_components" | "HUBS_components" | null,
 *   version,        // the root {version}; 0 when the file has none
 *   root,           // the root extension object as written ({} when absent)
 *   scene: {index, name, components},   // the default scene
 *   scenes: [{index, name, components}],
 *   nodes: [{index, name, components}], // only nodes that carry at least one component
 *   materials: [{index, name, components}],
 *   warnings: [string],                 // broken links and malformed components, which are left out
 * }
 * Components are copies: colours become "#rrggbb", links become HubsLink objects. The input is not changed.
 */
export function readHubsComponents(json) {
  if (!isPlainObject(json)) throw new GLBError(`expected the glTF JSON object, got ${describe(json)}`);
  const ctx = { json, warnings: [] };
  const root = rootExtension(json);
  const version = root && typeof root.value.version === "number" ? root.value.version : 0;

  const collect = (list, kind) => {
    const out = [];
    if (!Array.isArray(list)) return out;
    list.forEach((owner, index) => {
      const components = readComponents(owner, ctx, `${kind} ${index}`);
      if (Object.keys(components).length === 0 && kind !== "scene") return;
      out.push({ index, name: isPlainObject(owner) && typeof owner.name === "string" ? owner.name : null, components });
    });
    return out;
  };

  const scenes = collect(json.scenes, "scene");
  const sceneIndex = Number.isInteger(json.scene) ? json.scene : 0;
  const scene = scenes.find((s) => s.index === sceneIndex) || { index: null, name: null, components: {} };

  const result = {
    extensionName: usedExtensionName(json, root),
    version,
    root: root ? { ...root.value } : {},
    scene,
    scenes,
    nodes: collect(json.nodes, "node"),
    materials: collect(json.materials, "material"),
    warnings: ctx.warnings,
  };
  migrate(result);
  return result;
}

/** The reader's nodes that carry a component, e.g. nodesWith(result, "spawn-point"). */
export function nodesWith(result, componentName) {
  return result.nodes.filter((n) => Object.prototype.hasOwnProperty.call(n.components, componentName));
}

/** The media kinds a scene's nodes can hold, as Spoke and the Hubs Blender exporter write them. */
export const SCENE_MEDIA_COMPONENTS = Object.freeze(["image", "video", "audio", "link", "media-frame"]);

const MEDIA_FRAME_TYPES = new Set(["all", "all-2d", "model", "image", "video", "pdf"]);
const DISTANCE_MODELS = new Set(["linear", "inverse", "exponential"]);

function finiteOr(v, fallback) {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

/**
 * Hubs' audio settings for a node: its `audio-params` component over the ones old files wrote into `audio` or
 * `video` themselves (volume, distanceModel, rolloffFactor, refDistance, maxDistance). Returns {audioType,
 * distanceModel, rolloffFactor, refDistance, maxDistance, gain} with Hubs' defaults for what is missing or wrong.
 */
export function audioParamsOf(components, legacy = {}) {
  const p = { ...legacy, ...(isPlainObject(components["audio-params"]) ? components["audio-params"] : {}) };
  const gain = finiteOr(p.gain, finiteOr(p.volume, 1));
  return {
    audioType: p.audioType === "stereo" ? "stereo" : "pannernode",
    distanceModel: DISTANCE_MODELS.has(p.distanceModel) ? p.distanceModel : "inverse",
    rolloffFactor: Math.max(0, finiteOr(p.rolloffFactor, 1)),
    refDistance: Math.max(0, finiteOr(p.refDistance, 1)),
    maxDistance: Math.max(0, finiteOr(p.maxDistance, 10000)),
    gain: Math.max(0, gain),
  };
}

/** A media src worth loading: http(s), or a path on the same server. Anything else (javascript:, data:) is "". */
function mediaSrc(v) {
  if (typeof v !== "string") return "";
  const s = v.trim();
  return /^https?:\/\//i.test(s) || (s.startsWith("/") && !s.startsWith("//")) ? s : "";
}

/**
 * The media in a scene read by readHubsComponents: [{index, name, kind, ...}] in node order, one entry per media
 * component, where kind is
 *   "image"       {src, projection}
 *   "video"       {src, autoPlay, loop, projection, audio}
 *   "audio"       {src, autoPlay, loop, audio}
 *   "link"        {href}                          a web page (http/https) or a waypoint in this scene ("#name")
 *   "media-frame" {mediaType, bounds {x,y,z}, snapToCenter}
 * audio is audioParamsOf(...). A component that cannot work (no usable src or href) is left out with a warning in
 * `warnings` (the array passed in, e.g. the reader's).
 */
export function sceneMedia(result, warnings = result.warnings || []) {
  const out = [];
  for (const node of result.nodes) {
    const c = node.components;
    const where = `node "${node.name || node.index}"`;
    const base = { index: node.index, name: node.name };
    for (const kind of SCENE_MEDIA_COMPONENTS) {
      const v = c[kind];
      if (!isPlainObject(v)) continue;
      if (kind === "image" || kind === "video" || kind === "audio") {
        const src = mediaSrc(v.src);
        if (!src) {
          warnings.push(`${where}: ${kind} has no http(s) src (${JSON.stringify(v.src ?? null)}); skipped`);
          continue;
        }
        const projection = v.projection === "360-equirectangular" ? "360-equirectangular" : "flat";
        if (kind === "image") out.push({ ...base, kind, src, projection });
        else {
          const entry = { ...base, kind, src, autoPlay: v.autoPlay !== false, loop: v.loop !== false, audio: audioParamsOf(c, v) };
          if (kind === "video") entry.projection = projection;
          out.push(entry);
        }
      } else if (kind === "link") {
        const href = typeof v.href === "string" ? v.href.trim() : "";
        if (!(/^https?:\/\//i.test(href) || /^#.+/.test(href))) {
          warnings.push(`${where}: link to ${JSON.stringify(v.href ?? null)} is neither a web page nor a waypoint; skipped`);
          continue;
        }
        out.push({ ...base, kind, href });
      } else {
        const b = isPlainObject(v.bounds) ? v.bounds : {};
        const bounds = { x: finiteOr(b.x, 1), y: finiteOr(b.y, 1), z: finiteOr(b.z, 1) };
        if (!(bounds.x > 0 && bounds.y > 0 && bounds.z > 0)) {
          warnings.push(`${where}: media-frame bounds ${JSON.stringify(v.bounds)} are not all positive; skipped`);
          continue;
        }
        out.push({ ...base, kind, mediaType: MEDIA_FRAME_TYPES.has(v.mediaType) ? v.mediaType : "all-2d", bounds, snapToCenter: v.snapToCenter !== false });
      }
    }
  }
  return out;
}
