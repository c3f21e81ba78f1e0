// Loads a room's scene into an A-Frame scene: a glTF file made for Hubs (Spoke, the Hubs Blender exporter), or
// the built-in default environment when the room has none.
//
// The room client calls loadRoomScene(sceneEl, modelUrlOrNull, {onProgress}) and places the avatar at one of
// the spawn points it returns (pickSpawnPoint). Movement is kept on the returned nav mesh by aframe-extras'
// movement-controls with constrainToNavMesh: the room client must have imported aframe-extras.

import { parseGLTF } from "./gltf-loader.js";
import { readGLTF, readHubsComponents } from "./hubs-components.js";
import { buildDefaultEnvironment } from "./default-environment.js";
import { applyEnvironment, lightProbeFromSky } from "./apply.js";
import { applyComponents, walkableSurface } from "./model.js";
import { buildSceneMedia } from "./media.js";

const DOWNLOAD_SHARE = 0.85; // of the progress bar; building the scene takes the rest
const DEFAULT_BACKGROUND = "#000000"; // what Hubs shows behind a scene without sky or background

// What the last load changed on each scene, so a second load can undo it first.
const loaded = new WeakMap();
// The newest loadRoomScene call for each scene.
const latest = new WeakMap();

function three() {
  const THREE = (globalThis.AFRAME && globalThis.AFRAME.THREE) || globalThis.THREE;
  if (!THREE) throw new Error("the scene loader needs A-Frame loaded first");
  return THREE;
}

/** One of the spawn points, chosen at random (people arriving together spread out). */
export function pickSpawnPoint(spawnPoints, random = Math.random) {
  if (!spawnPoints || spawnPoints.length === 0) {
    return { position: { x: 0, y: 0, z: 0 }, rotation: { x: 0, y: 0, z: 0 } };
  }
  return spawnPoints[Math.min(spawnPoints.length - 1, Math.floor(random() * spawnPoints.length))];
}

/**
 * Loads the scene under sceneEl and resolves with
 *   {spawnPoints: [{position, rotation}], waypoints: [{name, position, rotation, canBeSpawnPoint, ...}],
 *    navMeshEl: <a-entity nav-mesh> | null, sceneEntity, hubs (the reader's result, or null), error (or null),
 *    links: [{object, href}] and mediaFrames: [{object, mediaType, bounds}] (the scene's media, media.js)}.
 * Positions are metres in world space; rotations are degrees in A-Frame's YXZ order (rotation.y is the heading).
 * A file that cannot be fetched or parsed gives the default environment plus `error` (and a console warning);
 * it never rejects for a bad scene. A call overtaken by a newer one for the same scene (the room's scene changed
 * while it loaded) leaves the scene to the newer call and resolves with {superseded: true, navMeshEl: null}.
 */
export async function loadRoomScene(sceneEl, modelUrlOrNull, { onProgress } = {}) {
  const THREE = three();
  const progress = progressReporter(onProgress);
  // A newer call for the same scene (the room's scene changed while this one loaded) wins.
  const token = {};
  latest.set(sceneEl, token);
  const current = () => {
    if (latest.get(sceneEl) !== token) throw new Superseded();
  };

  try {
    await sceneReady(sceneEl);
    current();
    if (!modelUrlOrNull) {
      progress(0, "Setting up the room");
      const result = await loadDefault(THREE, sceneEl, await freshRoot(sceneEl));
      progress(1, "Scene ready");
      return result;
    }
    try {
      progress(0, "Downloading the scene");
      const url = new URL(modelUrlOrNull, document.baseURI).href;
      const bytes = await fetchWithProgress(url, (got, total) => {
        const f = total > 0 ? got / total : 1 - Math.exp(-got / 4e6);
        progress(Math.min(1, f) * DOWNLOAD_SHARE, `Downloading the scene (${megabytes(got)}${total > 0 ? ` of ${megabytes(total)}` : ""})`);
      });
      current();
      progress(DOWNLOAD_SHARE, "Building the scene");
      const hubs = readHubsComponents(readGLTF(bytes).json);
      for (const w of hubs.warnings) console.warn(`toncon scene: ${w}`);
      const gltf = await parseGLTF(THREE, sceneEl, bytes, url);
      current();
      const result = await applyScene(THREE, sceneEl, await freshRoot(sceneEl), gltf, hubs, progress);
      progress(1, "Scene ready");
      return result;
    } catch (err) {
      if (err instanceof Superseded) throw err;
      const message = err && err.message ? err.message : String(err);
      console.warn(`toncon scene: could not load ${modelUrlOrNull} (${message}); using the default scene instead`);
      current();
      const result = await loadDefault(THREE, sceneEl, await freshRoot(sceneEl));
      progress(1, "Scene ready (the room's scene could not be loaded)");
      return { ...result, error: message };
    }
  } catch (err) {
    if (!(err instanceof Superseded)) throw err;
    return { spawnPoints: [], waypoints: [], navMeshEl: null, sceneEntity: null, hubs: null, error: err.message, superseded: true };
  }
}

/** Thrown inside a load that a newer load of the same scene replaced; that load owns the scene now. */
class Superseded extends Error {
  constructor() {
    super("a newer scene load replaced this one");
  }
}

/** Clears what an earlier load left and adds an empty entity for the new scene. */
async function freshRoot(sceneEl) {
  unload(sceneEl);
  const root = document.createElement("a-entity");
  root.setAttribute("class", "toncon-scene");
  sceneEl.appendChild(root);
  let cancel;
  const cancelled = new Promise((resolve) => (cancel = resolve));
  const state = { root, undo: [], dead: false, cancelled, cancel };
  loaded.set(sceneEl, state);
  await entityReady(root, state);
  return state;
}

/** Throws when the state's scene was unloaded (by a newer load) while we were waiting. */
function alive(state) {
  if (state.dead) throw new Superseded();
}

/** Removes what a previous loadRoomScene added to this scene. */
export function unload(sceneEl) {
  const state = loaded.get(sceneEl);
  if (!state) return;
  loaded.delete(sceneEl);
  state.dead = true;
  state.cancel();
  for (const undo of state.undo.reverse()) {
    try {
      undo();
    } catch (err) {
      console.warn("toncon scene: could not undo a scene setting", err);
    }
  }
  if (state.root.parentNode) state.root.parentNode.removeChild(state.root);
}

function progressReporter(onProgress) {
  let last = -1;
  let lastLabel = "";
  return (fraction, label) => {
    if (typeof onProgress !== "function") return;
    const f = Math.max(0, Math.min(1, fraction));
    if (f < 1 && f - last < 0.01 && label.replace(/\(.*\)/, "") === lastLabel.replace(/\(.*\)/, "")) return;
    last = f;
    lastLabel = label;
    try {
      onProgress(f, label);
    } catch (err) {
      console.warn("toncon scene: the progress callback failed", err);
    }
  };
}

function megabytes(n) {
  return `${(n / 1e6).toFixed(1)} MB`;
}

function sceneReady(sceneEl) {
  if (!sceneEl || !sceneEl.isScene) return Promise.reject(new Error("loadRoomScene needs the <a-scene> element"));
  if (sceneEl.hasLoaded) return Promise.resolve();
  return new Promise((resolve) => sceneEl.addEventListener("loaded", resolve, { once: true }));
}

/** Waits for an entity's components to initialise; gives up (Superseded) when the load is replaced meanwhile. */
async function entityReady(el, state) {
  if (!el.hasLoaded) {
    await Promise.race([new Promise((resolve) => el.addEventListener("loaded", resolve, { once: true })), state.cancelled]);
  }
  alive(state);
}

async function fetchWithProgress(url, report) {
  const res = await fetch(url, { credentials: "same-origin" });
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
  const total = Number(res.headers.get("content-length")) || 0;
  if (!res.body || typeof res.body.getReader !== "function") {
    const buf = await res.arrayBuffer();
    report(buf.byteLength, buf.byteLength);
    return buf;
  }
  const reader = res.body.getReader();
  const chunks = [];
  let got = 0;
  report(0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.byteLength;
    report(got, Math.max(total, got));
  }
  const out = new Uint8Array(got);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out.buffer;
}


async function applyScene(THREE, sceneEl, state, gltf, hubs, progress) {
  const root = state.root;
  const applied = await applyComponents(THREE, gltf, hubs);
  const { env, sky } = applied;

  // Settings on the whole scene. A scene with neither sky nor background would show the page behind it.
  if (!sky && env.backgroundColor === undefined && !env.backgroundTexture) env.backgroundColor = DEFAULT_BACKGROUND;
  const texture = (link) =>
    link && link.type === "texture" && link.target && gltf.parser
      ? gltf.parser.getDependency("texture", link.index).catch(() => null)
      : Promise.resolve(null);
  const [backgroundTexture, envMapTexture] = await Promise.all([texture(env.backgroundTexture), texture(env.envMapTexture)]);
  alive(state);
  state.undo.push(applyEnvironment(THREE, sceneEl, env, { backgroundTexture, envMapTexture }));
  if (sky && !envMapTexture) await useSkyLighting(THREE, sceneEl, sky, state);
  alive(state);
  // Shadows only when a light casts them: they cost a render pass per light.
  if (applied.lights.some((l) => l.castShadow)) enableShadows(sceneEl, state);

  root.setObject3D("mesh", applied.model);
  progress(0.95, "Building the scene");

  const { geometry } = walkableSurface(THREE, applied);
  const navMeshEl = await addNavMesh(state, THREE, geometry);
  const media = buildSceneMedia(THREE, sceneEl, applied.media);
  state.undo.push(() => media.dispose());
  return {
    spawnPoints: applied.spawnPoints, waypoints: applied.waypoints, navMeshEl, sceneEntity: root, hubs, error: null,
    links: media.links, mediaFrames: media.mediaFrames,
  };
}

async function loadDefault(THREE, sceneEl, state) {
  const root = state.root;
  const env = buildDefaultEnvironment(THREE);
  root.setObject3D("mesh", env.object3D);
  await useSkyLighting(THREE, sceneEl, env.sky, state);
  alive(state);
  const navMeshEl = await addNavMesh(state, THREE, env.navGeometry);
  return { spawnPoints: env.spawnPoints, waypoints: [], navMeshEl, sceneEntity: root, hubs: null, error: null, links: [], mediaFrames: [] };
}

async function useSkyLighting(THREE, sceneEl, sky, state) {
  try {
    const probe = await lightProbeFromSky(THREE, sceneEl.renderer, sky);
    if (!probe || state.dead) return;
    probe.name = "Sky light";
    sceneEl.object3D.add(probe);
    state.undo.push(() => sceneEl.object3D.remove(probe));
  } catch (err) {
    console.warn("toncon scene: could not light the scene from its sky", err);
  }
}

function enableShadows(sceneEl, state) {
  const system = sceneEl.systems && sceneEl.systems.shadow;
  if (!system || typeof system.setShadowMapEnabled !== "function") return;
  const before = system.shadowMapEnabled;
  system.setShadowMapEnabled(true);
  state.undo.push(() => system.setShadowMapEnabled(before));
}

async function addNavMesh(state, THREE, geometry) {
  if (!globalThis.AFRAME || !globalThis.AFRAME.components["nav-mesh"]) {
    console.warn("toncon scene: aframe-extras is not loaded, so movement is not kept on the nav mesh");
  }
  const el = document.createElement("a-entity");
  el.setAttribute("class", "toncon-nav-mesh");
  el.setAttribute("nav-mesh", "");
  state.root.appendChild(el);
  await entityReady(el, state);
  const mesh = new THREE.Mesh(
    geometry,
    new THREE.MeshBasicMaterial({ color: "#30c080", wireframe: true, transparent: true, opacity: 0.35 }),
  );
  mesh.name = "Nav mesh";
  // The scene's own nav-mesh nodes keep their `visible` setting; this copy is only for walking (and debugging).
  mesh.visible = false;
  el.setObject3D("mesh", mesh);
  return el;
}
