// What a parsed glTF scene means, with three.js but without A-Frame or the DOM (so Node can test it): the Hubs
// components applied to the objects GLTFLoader made, the spawn points and waypoints, and the walkable surface.

import {
  APPLIED_COMPONENTS,
  applyShadow,
  createLight,
  createSky,
  environmentFrom,
  fitShadowCamera,
  noteSkipped,
} from "./apply.js";
import { sceneMedia } from "./hubs-components.js";

const LIGHTS = new Set(["directional-light", "point-light", "spot-light", "ambient-light", "hemisphere-light"]);
const APPLIED = new Set(APPLIED_COMPONENTS);
const RAD2DEG = 180 / Math.PI;

/**
 * The three.js object GLTFLoader made for each of the given glTF node indices, when it is part of model.
 * (Asked of the parser's node cache: GLTFLoader's `associations` map is wrong for meshes used by several nodes,
 * whose copies share one record.)
 */
export async function objectsByNode(gltf, model, indices) {
  const map = new Map();
  if (!gltf.parser) return map;
  await Promise.all(
    indices.map(async (index) => {
      let object;
      try {
        object = await gltf.parser.getDependency("node", index);
      } catch {
        return;
      }
      for (let o = object; o; o = o.parent) {
        if (o === model) {
          map.set(index, object);
          return;
        }
      }
    }),
  );
  return map;
}

export function placementOf(THREE, object) {
  object.updateWorldMatrix(true, false);
  const position = new THREE.Vector3();
  const quaternion = new THREE.Quaternion();
  object.matrixWorld.decompose(position, quaternion, new THREE.Vector3());
  const e = new THREE.Euler().setFromQuaternion(quaternion, "YXZ");
  const deg = (r) => (Math.abs(r) < 1e-12 ? 0 : r * RAD2DEG);
  return {
    position: { x: position.x, y: position.y, z: position.z },
    rotation: { x: deg(e.x), y: deg(e.y), z: deg(e.z) },
  };
}

/**
 * Applies the Hubs components (read by readHubsComponents) to the objects of a parsed glTF: visibility,
 * shadows, lights and sky are added to the model; spawn points, waypoints and nav-mesh objects are collected.
 * Components this client does not apply get one console note per name. Returns
 * (a promise of) {model, spawnPoints, waypoints, navObjects, lights, sky, env (the merged scene-wide settings),
 * media ([{...sceneMedia entry, object}]: images, videos, sounds, links and media frames, for media.js to build)}.
 */
export async function applyComponents(THREE, gltf, hubs) {
  const model = gltf.scene || (gltf.scenes && gltf.scenes[0]);
  const byNode = await objectsByNode(gltf, model, hubs.nodes.map((n) => n.index));
  model.updateMatrixWorld(true);

  const spawnPoints = [];
  const waypoints = [];
  const navObjects = [];
  const lights = [];
  let sky = null;
  const media = [];
  const mediaList = sceneMedia(hubs, []);

  // Scene-wide settings first: they decide how lights are read. Hubs renders with physically correct lights
  // unless a scene turns them off.
  const env = environmentFrom([hubs.scene.components, ...hubs.nodes.map((n) => n.components)]);
  const legacyLights = env.physicallyCorrectLights === false;

  for (const name of Object.keys(hubs.scene.components)) {
    if (!APPLIED.has(name)) noteSkipped(name, `scene "${hubs.scene.name || hubs.scene.index}"`);
  }
  for (const m of hubs.materials) {
    for (const name of Object.keys(m.components)) noteSkipped(name, `material "${m.name || m.index}"`);
  }

  for (const node of hubs.nodes) {
    const where = `node "${node.name || node.index}"`;
    const object = byNode.get(node.index);
    for (const [name, c] of Object.entries(node.components)) {
      if (!APPLIED.has(name)) {
        noteSkipped(name, where);
        continue;
      }
      if (!object) continue; // a node outside the default scene
      try {
        switch (name) {
          case "spawn-point":
            spawnPoints.push(placementOf(THREE, object));
            break;
          case "waypoint": {
            const at = placementOf(THREE, object);
            waypoints.push({ name: node.name, ...at, ...c, canBeSpawnPoint: c.canBeSpawnPoint === true });
            if (c.canBeSpawnPoint === true) spawnPoints.push(at);
            break;
          }
          case "nav-mesh":
            navObjects.push(object);
            break;
          case "visible":
            object.visible = c.visible !== false;
            break;
          case "shadow":
            applyShadow(object, c);
            break;
          case "image":
          case "video":
          case "audio":
          case "link":
          case "media-frame":
            // Read by sceneMedia and built by media.js (which needs the DOM); here they only find their node.
            media.push({ ...sceneMediaEntry(mediaList, node.index, name), object });
            break;
          case "audio-params":
            break; // read with its audio or video
          case "skybox":
            sky = createSky(THREE, c);
            object.add(sky);
            break;
          default:
            if (LIGHTS.has(name)) {
              const light = createLight(THREE, name, c, legacyLights);
              if (!light) break;
              // Ambient and hemisphere light do not depend on where their node is.
              if (light.isHemisphereLight || light.isAmbientLight) model.add(light);
              else object.add(light);
              lights.push(light);
            }
        }
      } catch (err) {
        console.warn(`toncon scene: could not apply "${name}" on ${where}`, err);
      }
    }
  }

  // Shadow cameras cover the scene.
  model.updateMatrixWorld(true);
  const box = visibleBox(THREE, model, sky);
  for (const light of lights) if (light.castShadow) fitShadowCamera(THREE, light, box);

  return { model, spawnPoints, waypoints, navObjects, lights, sky, env, media: media.filter((m) => m.kind) };
}

/** The sceneMedia entry for a node's media component ({} when it was left out as unusable). */
function sceneMediaEntry(list, index, kind) {
  return list.find((m) => m.index === index && m.kind === kind) || {};
}

/**
 * The surface people walk on: the nav-mesh nodes' triangles, or, when the scene has none, its floor (see
 * fallbackNavGeometry). Adds a spawn point on it when the scene names none. Returns {geometry, fromFile}.
 */
export function walkableSurface(THREE, applied) {
  let geometry = navMeshGeometry(THREE, applied.navObjects);
  const fromFile = geometry !== null;
  if (!geometry) {
    if (applied.navObjects.length) {
      console.info("toncon scene: the nav mesh has no geometry; walking is kept to the scene's floor");
    }
    geometry = fallbackNavGeometry(THREE, applied.model, applied.sky, applied.spawnPoints);
  }
  if (applied.spawnPoints.length === 0) applied.spawnPoints.push(spawnOnNavMesh(THREE, geometry));
  return { geometry, fromFile };
}

/** The box of the visible meshes (not the sky): what shadows have to cover and where people can walk. */
export function visibleBox(THREE, model, sky) {
  const box = new THREE.Box3();
  const part = new THREE.Box3();
  model.traverseVisible((o) => {
    if (!o.isMesh || o === sky || o.parent === sky || !o.geometry) return;
    if (!o.geometry.boundingBox) o.geometry.computeBoundingBox();
    part.copy(o.geometry.boundingBox).applyMatrix4(o.matrixWorld);
    box.union(part);
  });
  return box;
}

/** All triangles of the nav-mesh nodes' meshes, in world space, as one indexed geometry (or null if none). */
export function navMeshGeometry(THREE, objects) {
  const positions = [];
  const indices = [];
  const v = new THREE.Vector3();
  for (const object of objects) {
    object.updateWorldMatrix(true, true);
    object.traverse((o) => {
      if (!o.isMesh || !o.geometry || !o.geometry.attributes.position) return;
      const pos = o.geometry.attributes.position;
      const base = positions.length / 3;
      for (let i = 0; i < pos.count; i++) {
        v.fromBufferAttribute(pos, i).applyMatrix4(o.matrixWorld);
        positions.push(v.x, v.y, v.z);
      }
      const index = o.geometry.index;
      if (index) for (let i = 0; i < index.count; i++) indices.push(base + index.getX(i));
      else for (let i = 0; i < pos.count; i++) indices.push(base + i);
    });
  }
  if (indices.length < 3) return null;
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.Float32BufferAttribute(positions, 3));
  geometry.setIndex(indices);
  return geometry;
}

const STEP = 0.5; // how far above or below the spawn height a floor may be and still count as walkable
const MAX_FLOOR_TRIANGLES = 50000;

/**
 * When a scene has no usable nav mesh: its floor. That is every upward-facing triangle of the visible, static
 * meshes within a step of the spawn height, so people walk where the scene has ground and not off into the void.
 * A scene without such triangles gets a 20 m square around its spawn points.
 */
export function fallbackNavGeometry(THREE, model, sky, spawnPoints) {
  const box = visibleBox(THREE, model, sky);
  const heights = spawnPoints.map((s) => s.position.y);
  const low = (heights.length ? Math.min(...heights) : box.isEmpty() ? 0 : box.min.y) - STEP;
  const high = (heights.length ? Math.max(...heights) : box.isEmpty() ? 0 : box.min.y) + STEP;
  const positions = [];
  const a = new THREE.Vector3(), b = new THREE.Vector3(), c = new THREE.Vector3();
  const ab = new THREE.Vector3(), ac = new THREE.Vector3();
  model.traverseVisible((o) => {
    if (!o.isMesh || o.isSkinnedMesh || o === sky || !o.geometry || !o.geometry.attributes.position) return;
    if (positions.length / 9 >= MAX_FLOOR_TRIANGLES) return;
    const pos = o.geometry.attributes.position;
    const index = o.geometry.index;
    const count = index ? index.count : pos.count;
    for (let i = 0; i + 2 < count; i += 3) {
      const at = (k) => (index ? index.getX(i + k) : i + k);
      a.fromBufferAttribute(pos, at(0)).applyMatrix4(o.matrixWorld);
      b.fromBufferAttribute(pos, at(1)).applyMatrix4(o.matrixWorld);
      c.fromBufferAttribute(pos, at(2)).applyMatrix4(o.matrixWorld);
      if (Math.min(a.y, b.y, c.y) < low || Math.max(a.y, b.y, c.y) > high) continue;
      ab.subVectors(b, a);
      ac.subVectors(c, a);
      ab.cross(ac);
      const area = ab.length();
      if (area < 1e-9 || Math.abs(ab.y) / area < 0.7) continue; // steeper than about 45 degrees
      positions.push(a.x, a.y, a.z, b.x, b.y, b.z, c.x, c.y, c.z);
      if (positions.length / 9 >= MAX_FLOOR_TRIANGLES) break;
    }
  });
  const geometry = new THREE.BufferGeometry();
  if (positions.length > 0) {
    geometry.setAttribute("position", new THREE.Float32BufferAttribute(positions, 3));
    geometry.setIndex([...Array(positions.length / 3).keys()]);
    return geometry;
  }
  const y = heights.length ? Math.min(...heights) : 0;
  const xs = spawnPoints.length ? spawnPoints.map((s) => s.position.x) : [0];
  const zs = spawnPoints.length ? spawnPoints.map((s) => s.position.z) : [0];
  const [minX, maxX, minZ, maxZ] = [Math.min(...xs) - 10, Math.max(...xs) + 10, Math.min(...zs) - 10, Math.max(...zs) + 10];
  geometry.setAttribute(
    "position",
    new THREE.Float32BufferAttribute([minX, y, minZ, minX, y, maxZ, maxX, y, maxZ, maxX, y, minZ], 3),
  );
  geometry.setIndex([0, 1, 2, 0, 2, 3]);
  return geometry;
}

/** A spawn point on the nav mesh near the origin, for scenes that name none. */
export function spawnOnNavMesh(THREE, geometry) {
  const pos = geometry.attributes.position;
  const index = geometry.index;
  const a = new THREE.Vector3(), b = new THREE.Vector3(), c = new THREE.Vector3();
  const tri = new THREE.Triangle();
  const best = new THREE.Vector3();
  const p = new THREE.Vector3();
  const origin = new THREE.Vector3();
  let bestDistance = Infinity;
  const count = index ? index.count : pos.count;
  for (let i = 0; i + 2 < count; i += 3) {
    const at = (k) => (index ? index.getX(i + k) : i + k);
    tri.set(a.fromBufferAttribute(pos, at(0)), b.fromBufferAttribute(pos, at(1)), c.fromBufferAttribute(pos, at(2)));
    tri.closestPointToPoint(origin, p);
    const d = p.distanceToSquared(origin);
    if (d < bestDistance) {
      bestDistance = d;
      best.copy(p);
    }
  }
  return { position: { x: best.x, y: best.y, z: best.z }, rotation: { x: 0, y: 0, z: 0 } };
}

