// End to end: media objects in a room of a real toncon, in headless Chromium. Ada creates the room and signs in
// (the link from the server's log), so she is its owner; Bob joins as a guest. Ada drops a picture on the room (a
// real drop event with the file in its DataTransfer), it is uploaded with progress, and Bob sees it; Ada drags it
// with the mouse and Bob sees it move; a text file dressed as a .png is refused with the server's own message; a
// link to a PDF on the server shows it, and Ada turns its page for Bob; a video recorded in the browser plays and
// pauses for both; Ada pins the picture; Ada leaves and her unpinned video goes with her while the pinned picture
// stays; Bob leaves; Cleo comes later and finds the picture where Ada left it, from objects.gltf.
// The steps share one server and room and run in order; each is its own test so a failure says which step broke.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { readFileSync } from "node:fs";

import { createAdmin, followLink, linkFromLog, signInOnHome } from "./accounts.js";
import { glbOfJson, png, uploadBytes } from "./fixtures.js";
import { assertNoErrors, enterRoom, launchBrowser, openPerson, screenshot, serverBinary, shutDown, startServer, until, WAIT_MS } from "./harness.js";

serverBinary(); // fail at once, with the build command, when there is no server
const STEP_MS = 90000;

/** Drops a file on the room's canvas as a browser does: dragenter, dragover and drop with a DataTransfer. */
async function dropFile(person, name, type, bytes) {
  await person.page.evaluate(({ name, type, b64 }) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([data], name, { type }));
    const target = document.querySelector("#scene-host canvas");
    for (const kind of ["dragenter", "dragover", "drop"]) {
      target.dispatchEvent(new DragEvent(kind, { bubbles: true, cancelable: true, dataTransfer: dt, clientX: 300, clientY: 250 }));
    }
  }, { name, type, b64: Buffer.from(bytes).toString("base64") });
}

/** A two-page PDF drawn with rectangles only (no fonts to fetch): page 1 is 2:1 landscape, page 2 1:2 portrait. */
function pdf() {
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 5 0 R >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 200] /Contents 6 0 R >>",
  ];
  for (const draw of ["0 0 1 rg 10 10 180 80 re f", "1 0 0 rg 10 10 80 180 re f"]) objects.push(`<< /Length ${draw.length} >>\nstream\n${draw}\nendstream`);
  let out = "%PDF-1.4\n";
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

/**
 * A scene as Spoke writes one (a .glb of JSON only: no meshes are needed): a spawn point facing -Z, a waypoint
 * "Stage", a link to it in view to the right, a picture further off, and a media frame for pictures right where a
 * new object appears (2 m ahead, 1.5 m up).
 */
function sceneGlb(imageSrc) {
  const c = (components) => ({ MOZ_hubs_components: components });
  const json = {
    asset: { version: "2.0", generator: "toncon objects test" },
    extensionsUsed: ["MOZ_hubs_components"],
    extensions: { MOZ_hubs_components: { version: 4 } },
    scene: 0,
    scenes: [{ name: "Gallery", nodes: [0, 1, 2, 3, 4] }],
    nodes: [
      { name: "Spawn", translation: [0, 0, 0], extensions: c({ "spawn-point": {} }) },
      { name: "Stage", translation: [6, 0, -6], extensions: c({ waypoint: { canBeSpawnPoint: false } }) },
      { name: "ToStage", translation: [1.3, 1.6, -2.5], extensions: c({ link: { href: "#Stage" } }) },
      { name: "Poster", translation: [-2, 2, -4], extensions: c({ image: { src: imageSrc, projection: "flat" } }) },
      { name: "Frame", translation: [0, 1.5, -2], extensions: c({ "media-frame": { bounds: { x: 1.6, y: 1.2, z: 1 }, mediaType: "image" } }) },
    ],
  };
  return glbOfJson(json);
}

/** A WAV sound: `seconds` of a 440 Hz tone, 8 kHz mono 16-bit. */
function wav(seconds) {
  const rate = 8000;
  const samples = Math.round(rate * seconds);
  const out = Buffer.alloc(44 + 2 * samples);
  out.write("RIFF", 0, "ascii");
  out.writeUInt32LE(36 + 2 * samples, 4);
  out.write("WAVEfmt ", 8, "ascii");
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(2 * rate, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write("data", 36, "ascii");
  out.writeUInt32LE(2 * samples, 40);
  for (let i = 0; i < samples; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + 2 * i);
  return out;
}

/** A short WebM video recorded in the person's browser from a canvas (MediaRecorder), dropped on the room. */
async function dropRecordedVideo(person, name, seconds) {
  await person.page.evaluate(async ({ name, seconds }) => {
    const canvas = document.createElement("canvas");
    canvas.width = 160;
    canvas.height = 90;
    const ctx = canvas.getContext("2d");
    const stream = canvas.captureStream(15);
    const recorder = new MediaRecorder(stream, { mimeType: "video/webm" });
    const chunks = [];
    recorder.ondataavailable = (ev) => chunks.push(ev.data);
    const stopped = new Promise((resolve) => (recorder.onstop = resolve));
    recorder.start(200);
    const start = performance.now();
    await new Promise((resolve) => {
      const frame = () => {
        const t = (performance.now() - start) / 1000;
        ctx.fillStyle = `hsl(${(t * 120) % 360} 80% 50%)`;
        ctx.fillRect(0, 0, 160, 90);
        if (t < seconds) requestAnimationFrame(frame);
        else resolve();
      };
      frame();
    });
    recorder.stop();
    await stopped;
    const dt = new DataTransfer();
    dt.items.add(new File(chunks, name, { type: "video/webm" }));
    const target = document.querySelector("#scene-host canvas");
    for (const kind of ["dragenter", "dragover", "drop"]) {
      target.dispatchEvent(new DragEvent(kind, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }
  }, { name, seconds });
}

/**
 * Presses a button of the selected object's toolbar. A click in the page itself: playwright's click waits for the
 * page to settle afterwards, which a 3D page under software rendering on a loaded machine may take long to do.
 */
async function press(person, tool) {
  await person.page.locator(`#object-tools [data-tool="${tool}"]`).waitFor({ state: "visible", timeout: WAIT_MS });
  await person.page.$eval(`#object-tools [data-tool="${tool}"]`, (b) => b.click());
}

/** a − b in degrees, within −180..180: 195° and −165° are the same heading. */
const degreesApart = (a, b) => ((((a - b) % 360) + 540) % 360) - 180;

const objects = (person) => person.page.evaluate(() => window.toncon.objects.list());

describe("media objects: drop, see, move, pin, come back later", { timeout: 420000 }, () => {
  let server;
  let browser;
  let ada;
  let bob;
  let roomUrl;
  let picture; // Ada's object as she saw it after moving it
  const sid = {};

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ada = await openPerson(browser, "ada");
    bob = await openPerson(browser, "bob");
  });

  after(() => shutDown(server, browser));

  test("Ada creates a room, signs in from it (so she owns it), and enters", { timeout: STEP_MS }, async () => {
    const { page } = ada;
    await page.goto(`${server.url}/`);
    await page.fill("#room-name", "Gallery");
    await page.click("#create-room");
    await page.waitForURL(/\/[A-Za-z0-9]{7}\/gallery$/, { timeout: WAIT_MS });
    roomUrl = page.url();
    await until(ada, "the room's join", () => window.toncon?.sessionId);
    await page.click("#account-toggle");
    const from = server.stderr.length;
    await page.fill("#sign-in-email", "ada@example.org");
    await page.click("#sign-in-send");
    await followLink(ada, await linkFromLog(server, from));
    await until(ada, "the owner's roles", () => window.toncon.roles?.owner === true && window.toncon.roles?.signed_in === true);
    await page.click("#account-dialog-close");
    sid.ada = await enterRoom(ada, { displayName: "Ada" });
    assert.equal(await page.evaluate(() => window.toncon.permissions.pin_objects), true, "owners may pin");
    await until(ada, "the Add media button", () => !document.querySelector("#objects-add").hidden);
  });

  test("Bob joins the room as a guest", { timeout: STEP_MS }, async () => {
    await bob.page.goto(roomUrl);
    sid.bob = await enterRoom(bob, { displayName: "Bob" });
    assert.notEqual(sid.bob, sid.ada);
    // The Add media button shows only to people the room lets add media.
    const may = await bob.page.evaluate(() => window.toncon.permissions.spawn_and_move_media);
    await until(bob, "the Add media button to follow Bob's permissions", (may) => document.querySelector("#objects-add").hidden === !may, may);
  });

  test("Ada drops a picture on the room: it uploads with progress, and both see it as a panel", { timeout: STEP_MS }, async () => {
    // The progress bar shows while the upload runs.
    await ada.page.evaluate(() => {
      window.sawProgress = false;
      new MutationObserver(() => {
        if (!document.querySelector("#objects-progress").hidden) window.sawProgress = true;
      }).observe(document.querySelector("#objects-progress"), { attributes: true });
    });
    await dropFile(ada, "sunset.png", "image/png", png(64, 32));
    const [mine] = await until(ada, "Ada's picture, loaded", () => {
      const list = window.toncon.objects.list();
      return list.length === 1 && list[0].status === "loaded" && list;
    });
    assert.equal(mine.kind, "image");
    assert.equal(mine.contentType, "image/png");
    assert.equal(mine.mine, true);
    assert.match(mine.src, /^\/files\/[A-Za-z0-9_-]+(\.png)?\?token=[0-9a-f]+$/, "a file on this server, with its access token for the others");
    assert.equal(await ada.page.evaluate(() => window.sawProgress), true, "the upload progress bar showed");
    assert.equal(await ada.page.locator("#objects-progress").isHidden(), true, "and went away");

    const [seen] = await until(bob, "Bob to see Ada's picture", (id) => {
      const list = window.toncon.objects.list();
      return list.length === 1 && list[0].id === id && list[0].status === "loaded" && list;
    }, mine.id);
    assert.equal(seen.owner, sid.ada);
    assert.equal(seen.mine, false);
    assert.equal(seen.kind, "image");
    for (const k of ["x", "y", "z"]) assert.ok(Math.abs(seen.position[k] - mine.position[k]) < 0.01, `Bob sees it where Ada put it (${k})`);
    // The panel keeps the picture's 2:1 shape.
    const shape = await bob.page.evaluate((id) => {
      const mesh = window.NAF.entities.getEntity(id).getObject3D("mesh");
      const p = mesh.geometry.parameters;
      return p.width / p.height;
    }, mine.id);
    assert.ok(Math.abs(shape - 2) < 1e-6, `the panel is ${shape}:1`);
    await screenshot(bob, "objects-01-bob-sees-picture");
    // Bob selects it: what he may not do is not offered, and pinning says what it needs.
    const perms = await bob.page.evaluate(() => window.toncon.permissions);
    await bob.page.evaluate((id) => window.toncon.objects.select(id), mine.id);
    await bob.page.locator("#object-tools").waitFor({ state: "visible", timeout: WAIT_MS });
    for (const tool of ["rotate-left", "bigger", "remove"]) {
      assert.equal(await bob.page.locator(`#object-tools [data-tool="${tool}"]`).isVisible(), perms.spawn_and_move_media, tool);
    }
    await press(bob, "pin");
    assert.match(await bob.page.locator("#object-tools-status").innerText(), /Sign in/);
    await press(bob, "deselect");
  });

  test("Ada drags the picture with the mouse, and Bob sees it move", { timeout: STEP_MS }, async () => {
    const [before] = await objects(ada);
    const at = await ada.page.evaluate((id) => window.toncon.objects.screenPoint(id), before.id);
    assert.ok(at, "the picture is in front of Ada");
    await ada.page.mouse.move(at.x, at.y);
    await ada.page.mouse.down();
    for (let i = 1; i <= 10; i++) await ada.page.mouse.move(at.x + 15 * i, at.y - 4 * i);
    await ada.page.mouse.up();
    [picture] = await objects(ada);
    const moved = Math.hypot(picture.position.x - before.position.x, picture.position.y - before.position.y, picture.position.z - before.position.z);
    assert.ok(moved > 0.3, `the drag moved the picture ${moved} m`);
    assert.equal(picture.selected, true, "and selected it");
    assert.equal(await ada.page.locator("#object-tools").isVisible(), true, "its toolbar shows");
    const seen = await until(bob, "Bob to see the picture where Ada left it", (target) => {
      const [o] = window.toncon.objects.list();
      return o && Math.hypot(o.position.x - target.x, o.position.y - target.y, o.position.z - target.z) < 0.01 && o;
    }, picture.position);
    assert.ok(seen);
    // Turning it with the toolbar and growing it with the wheel reach Bob too.
    await press(ada, "rotate-left");
    const over = await ada.page.evaluate((id) => window.toncon.objects.screenPoint(id), picture.id);
    await ada.page.mouse.move(over.x, over.y);
    await ada.page.mouse.wheel(0, -100);
    [picture] = await until(ada, "the wheel to grow the picture", () => {
      const list = window.toncon.objects.list();
      return Math.abs(list[0].scale.x - 1.15) < 1e-6 && list;
    });
    await until(bob, "Bob to see the picture grown", () => Math.abs(window.toncon.objects.list()[0]?.scale.x - 1.15) < 1e-3);
    await until(bob, "Bob to see the picture turned", (y) => {
      const [o] = window.toncon.objects.list();
      return o && Math.abs((((o.rotation.y - y) % 360) + 540) % 360 - 180) < 0.1; // 195° is -165°
    }, picture.rotation.y);
    await screenshot(bob, "objects-02-bob-sees-it-moved");
  });

  test("a text file named .png is refused with the server's message, and nothing appears", { timeout: STEP_MS }, async () => {
    await dropFile(ada, "notes.png", "image/png", Buffer.from("this is not a picture, just some words\n".repeat(20)));
    const banner = await until(ada, "the refusal", () => {
      const b = document.querySelector("#banner");
      return !b.hidden && b.textContent.includes("notes.png could not be added") && b.textContent;
    });
    // The server's own words (415 unsupported_type), not a generic one.
    const res = await fetch(`${server.url}/api/v1/media`, { method: "POST", body: (() => { const f = new FormData(); f.append("media", new Blob(["this is not a picture"]), "x.png"); return f; })() });
    assert.equal(res.status, 415);
    const { message } = await res.json();
    assert.ok(message && banner.includes(message), `the banner "${banner}" says the server's message "${message}"`);
    assert.equal((await objects(ada)).length, 1, "no second object");
    // Chromium logs every refused request as a console error of its own; that one was expected.
    const expected = ada.errors.filter((e) => /status of 415 .*\/api\/v1\/media/.test(e));
    assert.equal(expected.length, 1, ada.errors.join("\n"));
    ada.errors.splice(0, ada.errors.length, ...ada.errors.filter((e) => !expected.includes(e)));
    await press(ada, "deselect");
  });

  test("Ada picks her picture again from My uploads, and Bob sees the second copy", { timeout: STEP_MS }, async () => {
    await ada.page.click("#objects-add");
    const pick = ada.page.locator("#objects-mine button.pick", { hasText: "sunset.png" });
    await pick.waitFor({ state: "visible", timeout: WAIT_MS });
    assert.match(await pick.innerText(), /image/);
    await pick.evaluate((b) => b.click()); // see press()
    const copy = await until(ada, "the second picture, loaded", () => {
      const list = window.toncon.objects.list();
      return list.length === 2 && list.find((o) => o.selected && o.status === "loaded");
    });
    assert.match(copy.src, /\?token=/, "an upload that is not kept is shared with its access token");
    await until(bob, "Bob to see the second picture, loaded", (id) => window.toncon.objects.list().find((o) => o.id === id && o.status === "loaded"), copy.id);
    await press(ada, "remove");
    await until(bob, "the copy to go for Bob", (id) => !window.toncon.objects.list().some((o) => o.id === id), copy.id);
  });

  test("a link pasted on the room (not into a text box) shows what it links to", { timeout: STEP_MS }, async () => {
    const [first] = await objects(ada);
    await ada.page.evaluate((link) => {
      const data = new DataTransfer();
      data.setData("text/plain", link);
      document.querySelector("#scene-host canvas").dispatchEvent(new ClipboardEvent("paste", { bubbles: true, cancelable: true, clipboardData: data }));
    }, new URL(first.src, server.url).href);
    const pasted = await until(ada, "the pasted picture, loaded", () => {
      const list = window.toncon.objects.list();
      return list.length === 2 && list.find((o) => o.selected && o.status === "loaded");
    });
    assert.equal(pasted.src, first.src, "a link to this server is shared as a path, token and all");
    assert.equal(pasted.contentType, "image/png", "the type the server gives");
    await press(ada, "remove");
    await until(ada, "the pasted picture to go", () => window.toncon.objects.list().length === 1);
  });

  test("a link to a PDF on this server shows it; Ada turns the page and Bob's panel turns with it", { timeout: STEP_MS }, async () => {
    const up = await uploadBytes(server, "plans.pdf", pdf());
    assert.equal(up.meta.expected_content_type, "application/pdf");
    const link = `${new URL(up.origin).pathname}?token=${up.meta.access_token}`;
    await ada.page.click("#objects-add");
    await ada.page.fill("#objects-link", link);
    await ada.page.$eval("#objects-link-add", (b) => b.click()); // see press()
    // pdf.js is fetched and started the first time a PDF is shown: on a loaded machine that takes a while.
    const doc = await until(ada, "the PDF, loaded", () => window.toncon.objects.list().find((o) => o.kind === "pdf" && o.status === "loaded"), undefined, 3 * WAIT_MS);
    assert.equal(doc.pages, 2);
    assert.equal(doc.page, 1);
    const shape = (person, id) => person.page.evaluate((id) => {
      const p = window.NAF.entities.getEntity(id).getObject3D("mesh").geometry.parameters;
      return p.width / p.height;
    }, id);
    await until(bob, "Bob to see the PDF", (id) => window.toncon.objects.list().find((o) => o.id === id && o.status === "loaded"), doc.id, 3 * WAIT_MS);
    assert.ok(Math.abs((await shape(bob, doc.id)) - 2) < 0.01, "page 1 is landscape");
    await press(ada, "next-page");
    await until(ada, "page 2 for Ada", (id) => window.toncon.objects.list().find((o) => o.id === id)?.page === 2, doc.id);
    assert.match(await ada.page.locator('#object-tools [data-tool="page-number"]').innerText(), /^2 \/ 2$/);
    await until(bob, "page 2 for Bob", (id) => window.toncon.objects.list().find((o) => o.id === id)?.page === 2, doc.id);
    const turned = await until(bob, "Bob's panel to show the portrait page", async (id) => {
      const p = window.NAF.entities.getEntity(id).getObject3D("mesh").geometry.parameters;
      return Math.abs(p.width / p.height - 0.5) < 0.01 && p.width / p.height;
    }, doc.id);
    assert.ok(turned);
    await press(ada, "next-page");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await objects(ada)).find((o) => o.id === doc.id).page, 2, "there is no page 3");
    await screenshot(bob, "objects-03-bob-sees-page-2");

    // Ada removes it with the toolbar's bin, and it goes for Bob too.
    await press(ada, "remove");
    await until(bob, "the PDF to go for Bob", (id) => !window.toncon.objects.list().some((o) => o.id === id), doc.id);
    assert.equal((await objects(ada)).some((o) => o.id === doc.id), false);
  });

  test("a dropped video plays for both, and Ada's pause stops Bob's copy where hers stopped", { timeout: STEP_MS }, async () => {
    await dropRecordedVideo(ada, "clip.webm", 4);
    const video = await until(ada, "the video, loaded and playing", () => window.toncon.objects.list().find((o) => o.kind === "video" && o.status === "loaded" && o.playing), undefined, 2 * WAIT_MS);
    assert.equal(video.contentType, "video/webm");
    const element = (id) => {
      const e = window.NAF.entities.getEntity(id).components["toncon-media-src"].loaded.element;
      return { paused: e.paused, time: e.currentTime };
    };
    await until(bob, "Bob's copy to play", (id) => {
      const o = window.toncon.objects.list().find((x) => x.id === id);
      if (!o || o.status !== "loaded" || !o.playing) return false;
      const e = window.NAF.entities.getEntity(id).components["toncon-media-src"].loaded.element;
      return !e.paused && e.currentTime > 0;
    }, video.id);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await ada.page.evaluate((id) => window.toncon.objects.select(id), video.id);
    await press(ada, "play");
    const stopped = await until(ada, "Ada's video to pause", (id) => {
      const o = window.toncon.objects.list().find((x) => x.id === id);
      return o && !o.playing && o;
    }, video.id);
    const seen = await until(bob, "Bob's copy to pause", ([id, fn]) => {
      const o = window.toncon.objects.list().find((x) => x.id === id);
      const e = window.NAF.entities.getEntity(id).components["toncon-media-src"].loaded.element;
      return o && !o.playing && e.paused && { time: e.currentTime, shared: o.time };
    }, [video.id]);
    assert.ok(Math.abs(seen.shared - stopped.time) < 1e-6, "Bob has Ada's pause time");
    assert.ok(Math.abs(seen.time - stopped.time) <= 0.3, `Bob's copy stopped at ${seen.time} s, Ada's at ${stopped.time} s`);
    assert.ok(await ada.page.evaluate(element, video.id).then((e) => e.paused));
    await press(ada, "deselect");
  });

  test("a sound plays from a speaker panel, and a glb model is brought to a metre, for both", { timeout: STEP_MS }, async () => {
    await dropFile(ada, "tone.wav", "audio/wav", wav(3));
    const sound = await until(ada, "the sound, loaded and playing", () => window.toncon.objects.list().find((o) => o.kind === "audio" && o.status === "loaded" && o.playing));
    const heard = await until(bob, "Bob's sound to play from its panel", (id) => {
      const e = window.NAF.entities.getEntity(id);
      const loaded = e?.components["toncon-media-src"].loaded;
      if (!loaded || loaded.element.paused) return false;
      const mesh = e.getObject3D("mesh");
      const positional = [];
      mesh.traverse((o) => (o.type === "Audio" ? positional.push(o.panner ? "positional" : "plain") : null));
      return { speaker: !!mesh.getObjectByName("toncon-speaker"), positional };
    }, sound.id);
    assert.deepEqual(heard, { speaker: true, positional: ["positional"] }, "one three.js PositionalAudio (a panner) on the panel");

    await dropFile(ada, "avatar.glb", "model/gltf-binary", readFileSync(new URL("../../samples/hubs-default-avatar_v3.glb", import.meta.url)));
    const model = await until(ada, "the model, loaded", () => window.toncon.objects.list().find((o) => o.kind === "model" && o.status === "loaded"), undefined, 2 * WAIT_MS);
    assert.equal(model.contentType, "model/gltf-binary");
    const size = await until(bob, "Bob's model, loaded", (id) => {
      const e = window.NAF.entities.getEntity(id);
      if (e?.tonconMedia?.status !== "loaded") return false;
      const box = new window.AFRAME.THREE.Box3().setFromObject(e.getObject3D("mesh"));
      const s = box.getSize(new window.AFRAME.THREE.Vector3());
      return { longest: Math.max(s.x, s.y, s.z), bottom: box.min.y - e.object3D.position.y };
    }, model.id, 2 * WAIT_MS);
    // Fitted to a metre as loaded; a skinned model's box then changes with its pose (here: about 0.8 m).
    assert.ok(size.longest > 0.5 && size.longest < 1.2, `the model's longest side is ${size.longest} m`);
    assert.ok(Math.abs(size.bottom) < 0.1, `and it stands on its origin (${size.bottom} m)`);
    await screenshot(bob, "objects-03b-sound-and-model");
  });

  test("Ada pins the picture; Bob sees it pinned", { timeout: STEP_MS }, async () => {
    await ada.page.evaluate((id) => window.toncon.objects.select(id), picture.id);
    await press(ada, "pin");
    await until(ada, "the pin", () => window.toncon.objects.list()[0]?.pinned === true);
    assert.equal(await ada.page.locator('#object-tools [data-tool="pin"]').innerText(), "Unpin");
    await until(bob, "Bob to see the picture pinned", () => window.toncon.objects.list()[0]?.pinned === true);
    const doc = await (await fetch(`${roomUrl.replace(/\/[^/]*$/, "")}/objects.gltf`)).json();
    assert.equal(doc.nodes.length, 1);
    assert.equal(doc.nodes[0].name, picture.id);
  });

  test("both leave; Cleo comes later and finds the picture where Ada left it", { timeout: STEP_MS }, async () => {
    assertNoErrors(ada, bob);
    assert.deepEqual((await objects(bob)).map((o) => o.kind).sort(), ["audio", "image", "model", "video"]);
    await ada.page.click("#leave-room");
    await ada.page.waitForURL(`${server.url}/`, { timeout: WAIT_MS });
    // Ada's video, sound and model were not pinned: they go with her. Her pinned picture stays.
    const left = await until(bob, "Ada's unpinned objects to go with her", () => {
      const list = window.toncon.objects.list();
      return list.length === 1 && list;
    });
    assert.equal(left[0].id, picture.id);
    await bob.page.click("#leave-room");
    await bob.page.waitForURL(`${server.url}/`, { timeout: WAIT_MS });
    await ada.context.close();
    await bob.context.close();

    const cleo = await openPerson(browser, "cleo");
    await cleo.page.goto(roomUrl);
    // A page starting the 3D engine on a loaded machine can take longer than enterRoom's usual wait.
    await until(cleo, "the lobby to be ready", () => window.toncon?.ready === true, undefined, 3 * WAIT_MS);
    await enterRoom(cleo, { displayName: "Cleo" });
    const [o] = await until(cleo, "Cleo to see the pinned picture, loaded", () => {
      const list = window.toncon.objects.list();
      return list.length === 1 && list[0].status === "loaded" && list;
    });
    assert.equal(o.id, picture.id, "the same object (its NAF network id is the object id)");
    assert.equal(o.pinned, true);
    assert.equal(o.kind, "image");
    for (const k of ["x", "y", "z"]) {
      assert.ok(Math.abs(o.position[k] - picture.position[k]) < 1e-3, `position ${k}: ${o.position[k]} vs ${picture.position[k]}`);
      assert.ok(Math.abs(o.scale[k] - picture.scale[k]) < 1e-3, `scale ${k}`);
    }
    assert.ok(Math.abs(degreesApart(o.rotation.y, picture.rotation.y)) < 0.01, `rotation ${o.rotation.y} vs ${picture.rotation.y}`);
    // A guest may not pin: the toolbar says why instead of failing at the server.
    await cleo.page.evaluate((id) => window.toncon.objects.select(id), o.id);
    await press(cleo, "pin");
    assert.match(await cleo.page.locator("#object-tools-status").innerText(), /Sign in/);
    await screenshot(cleo, "objects-04-cleo-finds-picture");
    assertNoErrors(cleo);
  });
});

describe("a scene's media: a picture, a link to a waypoint, a media frame", { timeout: 240000 }, () => {
  let server;
  let browser;
  let eve;

  before(async () => {
    server = await startServer();
    await createAdmin(server); // Eve's account is an ordinary one
    browser = await launchBrowser();
    eve = await openPerson(browser, "eve");
  });

  after(() => shutDown(server, browser));

  test("the scene's picture shows, its link takes Eve to the waypoint, and a picture put in its frame fits it", { timeout: STEP_MS * 2 }, async () => {
    const { token } = await signInOnHome(server, eve, "eve@example.org");
    const picture = await uploadBytes(server, "poster.png", png(40, 40), token);
    const imageSrc = `${new URL(picture.origin).pathname}?token=${picture.meta.access_token}`;
    const file = await uploadBytes(server, "gallery.glb", sceneGlb(imageSrc), token);
    assert.equal(file.meta.expected_content_type, "model/gltf-binary");
    const auth = { "content-type": "application/json", authorization: `bearer ${token}` };
    const made = await fetch(`${server.url}/api/v1/scenes`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ scene: { name: "Media gallery", description: "", attributions: "", allow_remixing: false, file_id: file.file_id, file_access_token: file.meta.access_token } }),
    });
    const sceneBody = await made.json();
    assert.equal(made.status, 201, JSON.stringify(sceneBody));
    const res = await fetch(`${server.url}/api/v1/hubs`, { method: "POST", headers: auth, body: JSON.stringify({ hub: { name: "Media gallery", scene_id: sceneBody.scenes[0].scene_id } }) });
    const hub = await res.json();
    assert.equal(res.status, 201, JSON.stringify(hub));

    // Eve made the room: her browser keeps its creator token, as the home page does, and claims it as she joins.
    await eve.page.evaluate(({ id, t }) => sessionStorage.setItem(`toncon.creator.${id}`, t), { id: hub.hub_id, t: hub.creator_assignment_token });
    await eve.page.goto(new URL(hub.url, server.url).href);
    await until(eve, "Eve to own the room", () => window.toncon?.roles?.creator === true);
    await enterRoom(eve, { displayName: "Eve" });
    const media = await until(eve, "the scene's picture", () => {
      const m = window.toncon.objects.sceneMedia();
      return m.panels.length === 1 && m;
    }, undefined, 2 * WAIT_MS);
    assert.deepEqual(media.panels, [{ x: -2, y: 2, z: -4 }]);
    assert.deepEqual(media.frames, [{ mediaType: "image", position: { x: 0, y: 1.5, z: -2 } }]);
    assert.equal(media.links.length, 1);
    assert.equal(media.links[0].href, "#Stage");
    await screenshot(eve, "objects-scene-01-arrived");

    // A click on the link: Eve is at the Stage waypoint.
    const start = await eve.page.evaluate(() => window.toncon.avatarPosition());
    assert.ok(Math.hypot(start.x, start.z) < 0.01, "Eve starts on the spawn point");
    const { point } = media.links[0];
    assert.ok(point, "the link is in view");
    await eve.page.mouse.click(point.x, point.y);
    const there = await until(eve, "Eve to be at the Stage", () => {
      const p = window.toncon.avatarPosition();
      return Math.hypot(p.x - 6, p.z + 6) < 0.01 && p;
    });
    assert.ok(Math.abs(there.y) < 0.01);

    // Back at the spawn, facing the frame: a picture dropped there and nudged snaps into it, sized to fit.
    await eve.page.reload(); // the page comes back into the room by itself, at a spawn point
    await until(eve, "Eve back in the room", () => window.toncon?.state === "room", undefined, 2 * WAIT_MS);
    await dropFile(eve, "square.png", "image/png", png(64, 32));
    const [dropped] = await until(eve, "the dropped picture", () => {
      const list = window.toncon.objects.list();
      return list.length === 1 && list[0].status === "loaded" && list;
    });
    const at = await eve.page.evaluate((id) => window.toncon.objects.screenPoint(id), dropped.id);
    await eve.page.mouse.move(at.x, at.y);
    await eve.page.mouse.down();
    for (let i = 1; i <= 5; i++) await eve.page.mouse.move(at.x + 8 * i, at.y + 3 * i);
    await eve.page.mouse.up();
    const [framed] = await eve.page.evaluate(() => window.toncon.objects.list());
    for (const [k, v] of Object.entries({ x: 0, y: 1.5, z: -2 })) assert.ok(Math.abs(framed.position[k] - v) < 1e-6, `in the frame's middle (${k}: ${framed.position[k]})`);
    // The 2:1 panel (1 m × 0.5 m) grows to the frame's 1.6 m width; its height (0.8 m) fits the frame's 1.2 m.
    for (const k of ["x", "y", "z"]) assert.ok(Math.abs(framed.scale[k] - 1.6) < 1e-6, `scaled to fit (${k}: ${framed.scale[k]})`);
    await screenshot(eve, "objects-scene-02-framed");
    assertNoErrors(eve);
  });
});
