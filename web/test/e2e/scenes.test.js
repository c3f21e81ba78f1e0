// The built-in Hubs sample scenes as rooms' scenes, in headless Chromium: each loads without console errors,
// you arrive on one of the spawn points the file names, and walking into the edge of the nav mesh keeps you on
// it. What the page does is checked against what the reader and the glTF math find in the file itself, in Node.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { assertNoErrors, enterRoom, launchBrowser, openPerson, screenshot, shutDown, startServer, until } from "./harness.js";
import { nodesWith, parseGLB, readHubsComponents } from "../../src/scene/hubs-components.js";
import { placement, subtreeMeshBox, subtreeTriangles, worldMatrices } from "../../src/scene/gltf-math.js";

const SAMPLES = fileURLToPath(new URL("../../samples/", import.meta.url));

const SCENES = [
  {
    name: "spoke-dev_reticulum-test-fixture",
    // Spoke wrote this file's nav-mesh node without geometry; the client walks the scene's floor instead,
    // which here is the round ground plane.
    floorNode: "Ground Plane",
  },
  { name: "spoke-early_loading-environment_HUBS_components" },
];

const WALK_MS = 3000; // holding W this long walks well past the 3 m to the edge at the room's walking speed
const SPAWN_TOLERANCE = 0.1; // metres
const ON_MESH_HEIGHT = 0.15; // how far above or below the nav surface still counts as on it

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(() => shutDown(server, browser));

/** What the file says, read in Node: spawn points and the nav mesh triangles. */
function expectations(scene) {
  const { json, bin } = parseGLB(readFileSync(`${SAMPLES}${scene.name}.glb`));
  const hubs = readHubsComponents(json);
  const world = worldMatrices(json);
  const spawns = [
    ...nodesWith(hubs, "spawn-point"),
    ...nodesWith(hubs, "waypoint").filter((n) => n.components.waypoint.canBeSpawnPoint),
  ].map((n) => placement(world[n.index]));
  const navTriangles = nodesWith(hubs, "nav-mesh").flatMap((n) => subtreeTriangles(json, bin, n.index, world));
  let floorBox = null;
  if (scene.floorNode) {
    const node = json.nodes.findIndex((n) => n.name === scene.floorNode);
    floorBox = subtreeMeshBox(json, node, world);
  }
  return { spawns, navTriangles, floorBox };
}

async function createRoom(name, sceneId) {
  const res = await fetch(`${server.url}/api/v1/hubs`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ hub: { name, scene_id: sceneId } }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, `POST /api/v1/hubs with scene_id ${sceneId}: ${text}`);
  return JSON.parse(text);
}

/** The triangle under (x, z) and the surface height there, or null when (x, z) is off the mesh. */
function surfaceAt(triangles, x, z, eps = 1e-4) {
  let best = null;
  for (const [a, b, c] of triangles) {
    const d = (b[2] - c[2]) * (a[0] - c[0]) + (c[0] - b[0]) * (a[2] - c[2]);
    if (Math.abs(d) < 1e-12) continue;
    const u = ((b[2] - c[2]) * (x - c[0]) + (c[0] - b[0]) * (z - c[2])) / d;
    const v = ((c[2] - a[2]) * (x - c[0]) + (a[0] - c[0]) * (z - c[2])) / d;
    const w = 1 - u - v;
    if (u < -eps || v < -eps || w < -eps) continue;
    const y = u * a[1] + v * b[1] + w * c[1];
    if (!best || Math.abs(y) < Math.abs(best.y)) best = { y };
  }
  return best;
}

/** The horizontal distance from (x, z) to a triangle (0 inside), and the triangle's height nearest there. */
function toTriangle2D([a, b, c], x, z) {
  const s = surfaceAt([[a, b, c]], x, z);
  if (s) return { distance: 0, y: s.y };
  let best = { distance: Infinity, y: 0 };
  for (const [p, q] of [[a, b], [b, c], [c, a]]) {
    const dx = q[0] - p[0];
    const dz = q[2] - p[2];
    const len2 = dx * dx + dz * dz;
    const t = len2 > 0 ? Math.max(0, Math.min(1, ((x - p[0]) * dx + (z - p[2]) * dz) / len2)) : 0;
    const d = Math.hypot(x - (p[0] + t * dx), z - (p[2] + t * dz));
    if (d < best.distance) best = { distance: d, y: p[1] + t * (q[1] - p[1]) };
  }
  return best;
}

/**
 * On the nav mesh: within 3 cm of it horizontally (aframe-extras' pathfinding rounds the mesh's vertices to the
 * centimetre) and close to its surface in height.
 */
function onMesh(triangles, p) {
  return triangles.some((t) => {
    const { distance, y } = toTriangle2D(t, p.x, p.z);
    return distance <= 0.03 && Math.abs(y - p.y) <= ON_MESH_HEIGHT;
  });
}

/** How far from p along the horizontal direction dir the nav mesh ends. */
function distanceToEdge(triangles, p, dir, step = 0.02, max = 1000) {
  let d = 0;
  while (d < max && surfaceAt(triangles, p.x + dir.x * (d + step), p.z + dir.z * (d + step))) d += step;
  return d;
}

/** The nav mesh the page walks on (aframe-extras' nav system), as world-space triangles. */
function pageNavTriangles(person) {
  return person.page.evaluate(() => {
    const mesh = document.querySelector("a-scene").systems.nav.navMesh;
    const pos = mesh.geometry.attributes.position;
    const index = mesh.geometry.index;
    const n = index ? index.count : pos.count;
    const at = (i) => {
      const k = index ? index.getX(i) : i;
      return [pos.getX(k), pos.getY(k), pos.getZ(k)];
    };
    const out = [];
    for (let i = 0; i + 2 < n; i += 3) out.push([at(i), at(i + 1), at(i + 2)]);
    return out;
  });
}

for (const scene of SCENES) {
  test(`${scene.name} as a room's scene: loads cleanly, you arrive on a spawn point, the nav mesh's edge holds`, async () => {
    const expected = expectations(scene);
    assert.ok(expected.spawns.length > 0, "the sample names a spawn point");

    const hub = await createRoom(`Scene ${scene.name}`, `sample:${scene.name}`);
    const info = await (await fetch(`${server.url}/api/v1/hubs/${hub.hub_id}`)).json();
    const hubJSON = info.hubs ? info.hubs[0] : info;
    assert.match(hubJSON.scene?.model_url || "", new RegExp(`/samples/${scene.name}\\.glb$`), JSON.stringify(hubJSON.scene));

    // A small window keeps software rendering fast enough for movement-controls (it ignores frames over 200 ms).
    const person = await openPerson(browser, scene.name.split("_")[0], { viewport: { width: 480, height: 360 } });
    const notes = [];
    person.page.on("console", (m) => {
      if (m.type() === "info" && m.text().startsWith("toncon scene:")) notes.push(m.text());
    });
    try {
      await person.page.goto(hub.url.startsWith("http") ? hub.url : server.url + hub.url);
      await enterRoom(person, { displayName: "Walker" });
      await until(person, "the scene's nav mesh", () => !!document.querySelector("a-scene")?.systems?.nav?.navMesh, null, 30000);
      const start = await until(person, "the avatar's position", () => window.toncon.avatarPosition());
      await screenshot(person, `scene-${scene.name}-arrived`);

      // Arrived on one of the file's spawn points, facing its way.
      const heading = await person.page.evaluate(
        () => (document.querySelector("[movement-controls]").object3D.rotation.y * 180) / Math.PI,
      );
      const spawn = expected.spawns.find(
        (s) => Math.hypot(s.position.x - start.x, s.position.y - start.y, s.position.z - start.z) <= SPAWN_TOLERANCE,
      );
      assert.ok(spawn, `arrived at ${JSON.stringify(start)}, not at a spawn point of the file: ${JSON.stringify(expected.spawns)}`);
      const turn = (((heading - spawn.rotation.y) % 360) + 540) % 360 - 180;
      assert.ok(Math.abs(turn) < 1, `facing ${heading}°, the spawn point faces ${spawn.rotation.y}°`);

      // The page walks on the file's nav mesh (or, for a file without one, on its floor).
      const nav = await pageNavTriangles(person);
      if (expected.navTriangles.length > 0) {
        assert.equal(nav.length, expected.navTriangles.length, "nav mesh triangle count");
        const fileVertices = expected.navTriangles.flat();
        for (const v of nav.flat()) {
          const nearest = Math.min(...fileVertices.map((f) => Math.hypot(f[0] - v[0], f[1] - v[1], f[2] - v[2])));
          assert.ok(nearest < 1e-3, `nav vertex ${JSON.stringify(v)} is ${nearest} m from the file's nav mesh`);
        }
      } else {
        const xs = nav.flat().map((v) => v[0]);
        const zs = nav.flat().map((v) => v[2]);
        const box = expected.floorBox;
        for (const [got, want, what] of [
          [Math.min(...xs), box.min[0], "min x"],
          [Math.max(...xs), box.max[0], "max x"],
          [Math.min(...zs), box.min[2], "min z"],
          [Math.max(...zs), box.max[2], "max z"],
        ]) {
          assert.ok(Math.abs(got - want) < 0.01, `floor nav mesh ${what} ${got}, the floor's is ${want}`);
        }
        for (const v of nav.flat()) assert.ok(Math.abs(v[1] - spawn.position.y) < 0.5, `floor triangle at height ${v[1]}`);
      }
      assert.ok(onMesh(nav, start), "the spawn point is on the nav mesh");

      // Walk straight ahead into the edge. Far edges (the early file's floor is 197 m across) are reached by
      // first stepping to 3 m before the edge.
      const forward = await person.page.evaluate(() => {
        const v = document.querySelector("a-scene").camera.getWorldDirection(new AFRAME.THREE.Vector3());
        const l = Math.hypot(v.x, v.z);
        return { x: v.x / l, z: v.z / l };
      });
      let from = start;
      const toEdge = distanceToEdge(nav, start, forward);
      if (toEdge > 4) {
        const x = start.x + forward.x * (toEdge - 3);
        const z = start.z + forward.z * (toEdge - 3);
        from = { x, y: surfaceAt(nav, x, z).y, z };
        await person.page.evaluate((p) => {
          const rig = document.querySelector("[movement-controls]");
          rig.object3D.position.set(p.x, p.y, p.z);
          rig.components["movement-controls"].updateNavLocation();
        }, from);
      }
      const edgeDistance = distanceToEdge(nav, from, forward);
      const edge = { x: from.x + forward.x * edgeDistance, z: from.z + forward.z * edgeDistance };

      await person.page.evaluate(() => document.activeElement && document.activeElement.blur && document.activeElement.blur());
      const samples = [];
      let walking = true;
      const sampler = (async () => {
        while (walking) {
          samples.push(await person.page.evaluate(() => window.toncon.avatarPosition()));
          await new Promise((r) => setTimeout(r, 150));
        }
      })();
      await person.page.keyboard.down("KeyW");
      await new Promise((r) => setTimeout(r, WALK_MS));
      await person.page.keyboard.up("KeyW");
      walking = false;
      await sampler;
      const end = await person.page.evaluate(() => window.toncon.avatarPosition());
      await screenshot(person, `scene-${scene.name}-at-edge`);

      const moved = Math.hypot(end.x - from.x, end.z - from.z);
      assert.ok(moved > edgeDistance - 0.5, `walked only ${moved.toFixed(2)} m of the ${edgeDistance.toFixed(2)} m to the edge`);
      for (const p of [...samples, end]) {
        assert.ok(onMesh(nav, p), `left the nav mesh: at ${JSON.stringify(p)} (edge at ${JSON.stringify(edge)})`);
      }
      // Pressed against the wall: straight ahead the mesh ends within a few centimetres (on a round edge you
      // slide along it rather than stop where you first touched it).
      const ahead = distanceToEdge(nav, end, forward);
      assert.ok(ahead < 0.1, `stopped at ${JSON.stringify(end)} with ${ahead.toFixed(2)} m of nav mesh still ahead`);

      assertNoErrors(person);
      // Components the client does not apply are noted once each, never as errors.
      const skipped = notes.filter((n) => /component is not supported/.test(n)).map((n) => /"([^"]+)"/.exec(n)[1]);
      assert.equal(new Set(skipped).size, skipped.length, `a skipped component was noted twice: ${notes.join("\n")}`);
    } finally {
      await person.context.close();
    }
  });
}
