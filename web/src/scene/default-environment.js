// The scene a room gets when it names none: a chequered ground 30 m square, daylight, a sky, a ring of spawn
// points facing the middle, and a nav mesh the size of the ground. Everything is made here, so it costs no
// download.

import { createSky } from "./sky.js";

export const GROUND_SIZE = 30;
const SPAWN_RADIUS = 4;
const SPAWN_COUNT = 8;

function checkerTexture(THREE) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 64;
  const g = canvas.getContext("2d");
  g.fillStyle = "#6f8f6a";
  g.fillRect(0, 0, 64, 64);
  g.fillStyle = "#627f5e";
  g.fillRect(0, 0, 32, 32);
  g.fillRect(32, 32, 32, 32);
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  texture.wrapS = texture.wrapT = THREE.RepeatWrapping;
  texture.repeat.set(GROUND_SIZE / 2, GROUND_SIZE / 2);
  texture.anisotropy = 4;
  return texture;
}

/**
 * Builds the default environment. Returns {object3D, spawnPoints, navGeometry (world space), sky}.
 */
export function buildDefaultEnvironment(THREE) {
  const group = new THREE.Group();
  group.name = "toncon default environment";

  const groundGeometry = new THREE.PlaneGeometry(GROUND_SIZE, GROUND_SIZE);
  groundGeometry.rotateX(-Math.PI / 2);
  const ground = new THREE.Mesh(
    groundGeometry,
    new THREE.MeshLambertMaterial({ map: checkerTexture(THREE) }),
  );
  ground.name = "Ground";
  group.add(ground);

  // Pillars just outside the ground's edge, so moving and turning are easy to see.
  const pillarGeometry = new THREE.BoxGeometry(0.6, 3, 0.6);
  const pillarMaterial = new THREE.MeshLambertMaterial({ color: "#a9a294" });
  for (let i = 0; i < 12; i++) {
    const a = (i / 12) * Math.PI * 2;
    const pillar = new THREE.Mesh(pillarGeometry, pillarMaterial);
    pillar.position.set(Math.sin(a) * (GROUND_SIZE / 2 + 1.5), 1.5, Math.cos(a) * (GROUND_SIZE / 2 + 1.5));
    pillar.name = `Pillar ${i + 1}`;
    group.add(pillar);
  }

  const hemisphere = new THREE.HemisphereLight("#dbe8ff", "#4d4434", 0.8);
  hemisphere.position.set(0, 1, 0);
  group.add(hemisphere);
  const sun = new THREE.DirectionalLight("#fff6e8", 1.8);
  sun.position.set(-4, 10, 6);
  sun.target.position.set(0, 0, 0);
  group.add(sun, sun.target);

  const sky = createSky(THREE, { turbidity: 6, rayleigh: 1.2, luminance: 1, inclination: 0.12, azimuth: 0.3 });
  group.add(sky);

  const spawnPoints = [];
  for (let i = 0; i < SPAWN_COUNT; i++) {
    const a = (i / SPAWN_COUNT) * Math.PI * 2;
    // Facing the middle: A-Frame's forward is -Z, turned by the heading a.
    spawnPoints.push({
      position: { x: Math.sin(a) * SPAWN_RADIUS, y: 0, z: Math.cos(a) * SPAWN_RADIUS },
      rotation: { x: 0, y: (a * 180) / Math.PI, z: 0 },
    });
  }

  return { object3D: group, spawnPoints, navGeometry: groundGeometry.clone(), sky };
}
