// The 3D room: A-Frame with networked-aframe and aframe-extras, the room's scene, the local rig and the avatars.
// This module (and the libraries it imports) is loaded after the lobby is on screen, so the page answers while
// the 3D engine downloads.

import "aframe";
import "networked-aframe-dist";
import "aframe-extras-dist";

import { loadRoomScene } from "../scene/loader.js";
import { AVATAR_SCHEMA, AVATAR_TEMPLATE, EYE_HEIGHT, avatarTemplate, registerAvatarComponents } from "./avatar.js";
import { ADAPTER_NAME, registerHubAdapter } from "./naf-adapter.js";

const AFRAME = window.AFRAME;
const NAF = window.NAF;
const THREE = AFRAME.THREE;

/** Walking speed for movement-controls (its unit: about 16.7 m/s per 1.0). */
const SPEED = 0.2;

/** The longest frame time movement-controls is shown (it ignores frames over 200 ms). */
const MAX_STEP_MS = 150;

let registered = false;

/**
 * Builds the scene in container and loads the room. Resolves with the world once the scene is loaded and NAF is
 * connecting. hub: the HubSession; roster: {profileOf, version} for avatars; timings: where first-frame time goes;
 * onProgress(fraction, label) while the room loads.
 */
export async function createWorld({ container, hub, roster, modelUrl, timings, onProgress = () => {}, onSceneError = () => {} }) {
  if (!registered) {
    registered = true;
    registerAvatarComponents(AFRAME, roster);
    AFRAME.registerSystem("toncon-first-frame", {
      tock() {
        // tock runs after the frame was rendered.
        if (timings.firstFrameMs == null) timings.firstFrameMs = Math.round(performance.now());
      },
    });
  }
  const Adapter = registerHubAdapter(NAF, hub);
  // Others' avatars move smoothly between the 15 updates a second NAF sends (its interpolation buffer).
  NAF.options.useLerp = true;
  NAF.options.updateRate = 15;

  const touch = "ontouchstart" in window || navigator.maxTouchPoints > 0;
  const controls = ["gamepad", "trackpad", "keyboard", ...(touch ? ["nipple"] : [])];

  const scene = document.createElement("a-scene");
  scene.setAttribute("networked-scene", { room: hub.hubId, adapter: ADAPTER_NAME, connectOnLoad: false, audio: false, video: false, debug: false });
  scene.setAttribute("renderer", "antialias: auto; colorManagement: true; maxCanvasWidth: 1920; maxCanvasHeight: 1920");
  scene.setAttribute("loading-screen", "enabled: false");
  scene.setAttribute("device-orientation-permission-ui", "enabled: false");
  scene.setAttribute("xr-mode-ui", "enabled: true");

  const assets = document.createElement("a-assets");
  assets.append(avatarTemplate());
  scene.append(assets);

  const rig = document.createElement("a-entity");
  rig.id = "rig";
  rig.setAttribute("movement-controls", { enabled: false, speed: SPEED, controls: controls.join(","), constrainToNavMesh: false });
  if (touch) {
    rig.setAttribute("nipple-controls", { mode: "static", lookJoystickEnabled: false, moveJoystickPosition: "left" });
  }
  const camera = document.createElement("a-entity");
  camera.id = "camera";
  camera.setAttribute("camera", "");
  camera.setAttribute("position", `0 ${EYE_HEIGHT} 0`);
  camera.setAttribute("look-controls", "pointerLockEnabled: false; magicWindowTrackingEnabled: false");
  rig.append(camera);
  scene.append(rig);

  const loaded = new Promise((resolve) => scene.addEventListener("loaded", resolve, { once: true }));
  container.append(scene);
  NAF.schemas.add(AVATAR_SCHEMA);
  await loaded;

  // The loader never rejects: a scene it cannot load comes back as the default environment with `error` set.
  const room = await loadRoomScene(scene, modelUrl, { onProgress });
  if (room?.error) onSceneError(room.error);
  const world = new World({ scene, rig, camera, room, hub });
  world.modelUrl = modelUrl;
  scene.emit("connect", null, false); // networked-scene: make the adapter and connect (it waits for the hub join)
  world.adapter = () => Adapter.instance;
  return world;
}

class World {
  constructor({ scene, rig, camera, room, hub }) {
    this.scene = scene;
    this.rig = rig;
    this.camera = camera;
    this.room = room || {};
    this.hub = hub;
    this.avatar = null;
    this.navMesh = !!this.room.navMeshEl;
    this.placeAtSpawn();
    if (this.navMesh) rig.setAttribute("movement-controls", "constrainToNavMesh", true);
    walkOnSlowFrames(rig.components["movement-controls"]);
  }

  /** Puts the rig on one of the scene's spawn points (chosen at random, as Hubs does), facing its way. */
  placeAtSpawn() {
    const points = Array.isArray(this.room.spawnPoints) ? this.room.spawnPoints : [];
    const spawn = points.length > 0 ? points[Math.floor(Math.random() * points.length)] : null;
    this.spawn = spawn;
    this.placeAt(spawn);
  }

  /** Puts the rig at placement {position, rotation} (a spawn point or a waypoint; null: the origin), facing its way. */
  placeAt(placement) {
    const p = placement?.position || { x: 0, y: 0, z: 0 };
    this.rig.object3D.position.set(p.x || 0, p.y || 0, p.z || 0);
    this.rig.object3D.rotation.set(0, THREE.MathUtils.degToRad(placement?.rotation?.y || 0), 0);
    this.rig.components["movement-controls"]?.updateNavLocation();
  }

  /**
   * The room's scene changed (hub_refresh): load the new one and keep our place in it, unless the new scene's nav
   * mesh does not reach there; then go to one of its spawn points. Resolves with {kept} (or {superseded}).
   */
  async changeScene(modelUrl, onProgress) {
    this.modelUrl = modelUrl;
    const room = await loadRoomScene(this.scene, modelUrl, { onProgress });
    if (room?.superseded) return { superseded: true }; // a newer scene change is loading; it will place us
    this.room = room || {};
    this.navMesh = !!this.room.navMeshEl;
    this.rig.setAttribute("movement-controls", "constrainToNavMesh", this.navMesh);
    const kept = this.keepPlace();
    if (!kept) this.placeAtSpawn();
    this.sceneChanges = (this.sceneChanges || 0) + 1;
    this.lastChange = { kept, modelUrl, error: this.room.error || null };
    return { kept };
  }

  /**
   * Stays where we are on a new scene: true when there is no nav mesh, or the nav mesh is under (or just above)
   * our feet, which then stand on it; false when it does not reach here.
   */
  keepPlace() {
    const mesh = this.room.navMeshEl?.getObject3D("mesh");
    if (!mesh) return true;
    const p = this.rig.object3D.position;
    const y = navHeightAt(mesh, p);
    if (y === null) return false;
    p.y = y;
    this.rig.components["movement-controls"]?.updateNavLocation();
    return true;
  }

  /** In the room: our networked avatar appears for everyone and the controls move us. */
  enterRoom() {
    if (!this.avatar) {
      const avatar = document.createElement("a-entity");
      avatar.id = "my-avatar";
      avatar.setAttribute("networked", { template: AVATAR_TEMPLATE, attachTemplateToLocal: false });
      avatar.setAttribute("follow-player", { rig: "#rig", camera: "#camera" });
      const head = document.createElement("a-entity");
      head.className = "head";
      avatar.append(head);
      this.scene.append(avatar);
      this.avatar = avatar;
    }
    this.rig.setAttribute("movement-controls", "enabled", true);
  }

  /** Back in the lobby (refused after a reconnect): our avatar goes away and we stop moving. */
  leaveRoom() {
    this.rig.setAttribute("movement-controls", "enabled", false);
    if (this.avatar) {
      this.avatar.remove();
      this.avatar = null;
    }
  }

  /** What scene is shown, for the test hook: its URL, how many changes came, the last one's outcome, node names. */
  sceneInfo() {
    const names = [];
    this.room.sceneEntity?.object3D.traverse((o) => {
      if (o.name && names.length < 500) names.push(o.name);
    });
    return { modelUrl: this.modelUrl ?? null, changes: this.sceneChanges || 0, lastChange: this.lastChange || null, error: this.room.error || null, nodeNames: names };
  }

  avatarPosition() {
    const p = this.rig.object3D.position;
    return { x: p.x, y: p.y, z: p.z };
  }

  /** The avatars of others NAF has made: [{sessionId, networkId, position}]. */
  remoteAvatars() {
    const out = [];
    for (const [networkId, el] of Object.entries(NAF.entities.entities)) {
      const data = el?.components?.networked?.data;
      if (!data || data.template !== AVATAR_TEMPLATE || data.owner === NAF.clientId) continue;
      const p = el.object3D.position;
      const model = el.components["avatar-model"]?.describe() ?? null;
      out.push({ sessionId: data.owner, networkId, position: { x: p.x, y: p.y, z: p.z }, model });
    }
    return out;
  }
}

/** How far above or below the feet a nav mesh still counts as where we stand, when the scene changes. */
const NAV_REACH = 1;

const down = new THREE.Vector3(0, -1, 0);
const rayFrom = new THREE.Vector3();
const raycaster = new THREE.Raycaster();

/** The nav mesh's height under (or NAV_REACH above) position p, or null where the mesh does not reach. */
function navHeightAt(mesh, p) {
  mesh.updateMatrixWorld(true);
  rayFrom.set(p.x, p.y + NAV_REACH, p.z);
  raycaster.set(rayFrom, down);
  raycaster.far = 2 * NAV_REACH;
  const material = mesh.material;
  const side = material.side;
  material.side = THREE.DoubleSide; // whichever way its triangles wind
  try {
    const hit = raycaster.intersectObject(mesh, false)[0];
    return hit ? hit.point.y : null;
  } finally {
    material.side = side;
  }
}

/**
 * movement-controls stands still on every frame longer than 200 ms, so that a tab coming back from the background
 * does not jump. On a slow device (or a loaded machine rendering without a GPU) every frame can be that long, and
 * then nobody can walk at all. It is given the frame time capped below that instead: slow devices walk slowly, and
 * a long pause is still one short step.
 */
function walkOnSlowFrames(component) {
  if (!component || component.tonconCapped) return;
  const tick = component.tick;
  component.tick = (time, delta) => tick.call(component, time, Math.min(delta, MAX_STEP_MS));
  component.tonconCapped = true;
}
