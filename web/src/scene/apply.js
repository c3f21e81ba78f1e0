// Turns the Hubs components read from a glTF file into three.js objects and renderer settings.
//
// Meaning follows what Hubs does with each component: lights shine along their node's +Z axis; intensities are
// physical (as in Hubs) unless environment-settings sets physicallyCorrectLights: false, when they are read the
// way three.js' old lighting did; `shadow` sets cast/receive on every mesh below its node; `visible` hides a node
// and its children.

import { createSky } from "./sky.js";

/** The components this client applies; anything else is skipped with one console note per name. */
export const APPLIED_COMPONENTS = Object.freeze([
  "spawn-point",
  "waypoint",
  "nav-mesh",
  "visible",
  "shadow",
  "skybox",
  "background",
  "environment-settings",
  "fog",
  "directional-light",
  "point-light",
  "spot-light",
  "ambient-light",
  "hemisphere-light",
  // Media (built by media.js from the reader's sceneMedia):
  "image",
  "video",
  "audio",
  "audio-params",
  "link",
  "media-frame",
]);

const noted = new Set();

/** One console note per unknown component name for the life of the page. */
export function noteSkipped(name, where) {
  if (noted.has(name)) return;
  noted.add(name);
  console.info(`toncon scene: the "${name}" component is not supported here yet; skipped (first seen on ${where})`);
}

const num = (v, fallback) => (typeof v === "number" && Number.isFinite(v) ? v : fallback);
const MAX_SHADOW_MAP = 2048;

function color(THREE, value, fallback = "#ffffff") {
  const c = new THREE.Color();
  if (typeof value === "number") c.setHex(value);
  else if (typeof value === "string" && /^#[0-9a-f]{6}$/i.test(value)) c.set(value);
  else c.set(fallback);
  return c;
}

function setShadow(light, c) {
  light.castShadow = c.castShadow !== false;
  const res = Array.isArray(c.shadowMapResolution) ? c.shadowMapResolution : [512, 512];
  const size = (v) => Math.min(MAX_SHADOW_MAP, Math.max(64, num(v, 512)));
  light.shadow.mapSize.set(size(res[0]), size(res[1]));
  light.shadow.bias = num(c.shadowBias, 0);
  light.shadow.radius = num(c.shadowRadius, 1);
}

/**
 * A three.js light for a Hubs light component, placed at its node and pointing along the node's +Z.
 * `legacy` scales intensities the way three.js' old lighting did (by π) and drops distance fall-off.
 */
export function createLight(THREE, name, c, legacy) {
  const scale = legacy ? Math.PI : 1;
  const intensity = num(c.intensity, 1) * scale;
  let light;
  switch (name) {
    case "directional-light":
      light = new THREE.DirectionalLight(color(THREE, c.color), intensity);
      setShadow(light, c);
      break;
    case "point-light":
      light = new THREE.PointLight(color(THREE, c.color), intensity, Math.max(0, num(c.range, 0)), legacy ? 0 : num(c.decay, 2));
      setShadow(light, c);
      break;
    case "spot-light": {
      const outer = num(c.outerConeAngle, Math.PI / 4);
      const inner = num(c.innerConeAngle, 0);
      light = new THREE.SpotLight(color(THREE, c.color), intensity, Math.max(0, num(c.range, 0)), outer, 0, legacy ? 0 : num(c.decay, 2));
      light.penumbra = outer > 0 ? Math.min(1, Math.max(0, 1 - inner / outer)) : 0;
      setShadow(light, c);
      break;
    }
    case "ambient-light":
      return new THREE.AmbientLight(color(THREE, c.color), intensity);
    case "hemisphere-light": {
      const h = new THREE.HemisphereLight(color(THREE, c.skyColor), color(THREE, c.groundColor, "#000000"), intensity);
      h.position.set(0, 1, 0);
      return h;
    }
    default:
      return null;
  }
  light.position.set(0, 0, 0);
  if (light.target) {
    light.target.position.set(0, 0, 1);
    light.add(light.target);
  }
  return light;
}

/**
 * Fits a directional light's shadow camera around the scene's box (at most 60 m around its middle, beyond which
 * a shadow map gets too coarse to be worth it). The light keeps its direction; only where its shadow camera sits
 * changes.
 */
export function fitShadowCamera(THREE, light, box) {
  if (!light.isDirectionalLight || !light.castShadow || box.isEmpty()) return;
  const sphere = box.getBoundingSphere(new THREE.Sphere());
  const radius = Math.max(1, Math.min(sphere.radius, 60));
  light.updateWorldMatrix(true, true);
  const from = new THREE.Vector3().setFromMatrixPosition(light.matrixWorld);
  const dir = new THREE.Vector3().setFromMatrixPosition(light.target.matrixWorld).sub(from).normalize();
  const place = sphere.center.clone().addScaledVector(dir, -(radius + 1));
  light.position.copy(light.parent ? light.parent.worldToLocal(place) : place);
  const cam = light.shadow.camera;
  cam.left = cam.bottom = -radius;
  cam.right = cam.top = radius;
  cam.near = 0.05;
  cam.far = 2 * radius + 2;
  cam.updateProjectionMatrix();
}

/** Sets cast/receive shadow on every mesh at and below an object. */
export function applyShadow(object, c) {
  object.traverse((o) => {
    if (!o.isMesh) return;
    o.castShadow = c.cast !== false;
    o.receiveShadow = c.receive !== false;
  });
}

const TONE_MAPPINGS = {
  NoToneMapping: "NoToneMapping",
  LinearToneMapping: "LinearToneMapping",
  ReinhardToneMapping: "ReinhardToneMapping",
  CineonToneMapping: "CineonToneMapping",
  ACESFilmicToneMapping: "ACESFilmicToneMapping",
  AgXToneMapping: "AgXToneMapping",
  NeutralToneMapping: "NeutralToneMapping",
  // Hubs' own LUT tone mapping has no three.js equivalent; ACES is the closest look.
  LUTToneMapping: "ACESFilmicToneMapping",
};

/**
 * Merges the scene-wide settings from `background`, `fog` and `environment-settings` components (scene first,
 * then nodes, later ones overriding) into one plain object.
 */
export function environmentFrom(components) {
  const env = {};
  for (const c of components) {
    if (c.background) {
      const bg = c.background.color ?? c.background.backgroundColor;
      if (bg !== undefined) env.backgroundColor = bg;
    }
    if (c.fog) {
      const f = c.fog;
      Object.assign(env, stripUndefined({ fogType: f.type, fogColor: f.color, fogNear: f.near, fogFar: f.far, fogDensity: f.density }));
    }
    if (c["environment-settings"]) Object.assign(env, stripUndefined(c["environment-settings"]));
  }
  return env;
}

function stripUndefined(o) {
  const out = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Applies scene-wide settings to an A-Frame scene. Returns an undo function that puts the previous ones back.
 * `textures` holds the three.js textures for env.backgroundTexture and env.envMapTexture, already loaded.
 */
export function applyEnvironment(THREE, sceneEl, env, textures = {}) {
  const renderer = sceneEl.renderer;
  const scene = sceneEl.object3D;
  const before = {
    background: scene.background,
    environment: scene.environment,
    toneMapping: renderer && renderer.toneMapping,
    exposure: renderer && renderer.toneMappingExposure,
    hadFog: sceneEl.hasAttribute("fog"),
  };
  const undo = () => {
    scene.background = before.background;
    scene.environment = before.environment;
    if (renderer) {
      renderer.toneMapping = before.toneMapping;
      renderer.toneMappingExposure = before.exposure;
    }
    if (!before.hadFog) sceneEl.removeAttribute("fog");
  };

  if (env.backgroundColor !== undefined) scene.background = color(THREE, env.backgroundColor, "#000000");
  if (textures.backgroundTexture) {
    textures.backgroundTexture.mapping = THREE.EquirectangularReflectionMapping;
    scene.background = textures.backgroundTexture;
  }
  if (textures.envMapTexture) {
    textures.envMapTexture.mapping = THREE.EquirectangularReflectionMapping;
    scene.environment = textures.envMapTexture;
  }
  if (env.fogType === "linear" || env.fogType === "exponential") {
    const fogColor = color(THREE, env.fogColor, "#ffffff");
    sceneEl.setAttribute("fog", {
      type: env.fogType,
      color: `#${fogColor.getHexString(THREE.SRGBColorSpace)}`,
      near: num(env.fogNear, 1),
      far: num(env.fogFar, 100),
      density: num(env.fogDensity, 0.1),
    });
  }
  if (renderer) {
    const name = TONE_MAPPINGS[env.toneMapping];
    if (name && typeof THREE[name] === "number") renderer.toneMapping = THREE[name];
    if (typeof env.toneMappingExposure === "number") renderer.toneMappingExposure = env.toneMappingExposure;
    if (name || typeof env.toneMappingExposure === "number") {
      // Materials compiled before the change would keep the old tone mapping.
      scene.traverse((o) => {
        for (const m of [].concat(o.material || [])) m.needsUpdate = true;
      });
    }
  }
  return undo;
}

/**
 * A light probe that lights the scene from its sky, so surfaces facing away from the sun are not black. A probe
 * (nine numbers) is much cheaper to draw with than an environment map, which matters on phones and in software
 * rendering.
 */
export async function lightProbeFromSky(THREE, renderer, sky) {
  if (!renderer || !THREE.LightProbeGenerator || !THREE.CubeCamera) return null;
  const skyScene = new THREE.Scene();
  const copy = new THREE.Mesh(sky.geometry, sky.material);
  copy.scale.setScalar(50);
  skyScene.add(copy);
  const target = new THREE.WebGLCubeRenderTarget(16);
  const camera = new THREE.CubeCamera(0.1, 100, target);
  skyScene.add(camera);
  const xr = renderer.xr && renderer.xr.enabled;
  const toneMapping = renderer.toneMapping;
  try {
    if (renderer.xr) renderer.xr.enabled = false;
    renderer.toneMapping = THREE.NoToneMapping;
    camera.update(renderer, skyScene);
    return await THREE.LightProbeGenerator.fromCubeRenderTarget(renderer, target);
  } finally {
    if (renderer.xr) renderer.xr.enabled = xr;
    renderer.toneMapping = toneMapping;
    target.dispose();
  }
}

export { createSky };
