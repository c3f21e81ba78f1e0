// Drawing media in the 3D room with three.js: a picture as a panel that keeps its aspect ratio, a video on a panel
// (its sound positional), a sound as a small speaker panel with positional audio, a PDF page on a panel (pdf.js,
// loaded the first time a PDF is shown), and a glTF model brought to a sensible size. Used by the networked media
// objects (components.js) and by the media a scene's glTF file places (../../scene/media.js).
//
// Every loader resolves {object, ...controls}; the object is a THREE.Object3D centred on its origin, facing +Z.

import { gltfLoader } from "../../scene/gltf-loader.js";
import { panelSize, fitScale } from "./sync.js";

/** The longer side of a new panel, metres. */
export const PANEL_SIZE = 1;
/** The longest side of a new model, metres. */
export const MODEL_SIZE = 1;

/** Media elements play here: in the document (some browsers decode no frames of detached videos) but unseen. */
let mediaHost = null;
function host() {
  if (!mediaHost) {
    mediaHost = document.createElement("div");
    mediaHost.id = "toncon-media-elements";
    mediaHost.setAttribute("aria-hidden", "true");
    mediaHost.style.cssText = "position:fixed;left:0;bottom:0;width:2px;height:2px;overflow:hidden;opacity:0.01;pointer-events:none;";
    document.body.append(mediaHost);
  }
  return mediaHost;
}

function panel(THREE, texture, width, height, { transparent = false } = {}) {
  const size = panelSize(width, height, PANEL_SIZE);
  const material = new THREE.MeshBasicMaterial({ map: texture, side: THREE.DoubleSide, transparent, toneMapped: false });
  const mesh = new THREE.Mesh(new THREE.PlaneGeometry(size.width, size.height), material);
  mesh.name = "toncon-media-panel";
  return mesh;
}

/** Loads a picture onto a panel. */
export function loadImage(THREE, src) {
  return new Promise((resolve, reject) => {
    const loader = new THREE.TextureLoader();
    loader.setCrossOrigin("anonymous");
    loader.load(
      src,
      (texture) => {
        texture.colorSpace = THREE.SRGBColorSpace;
        const { width, height } = texture.image;
        resolve({ object: panel(THREE, texture, width, height, { transparent: true }), width, height });
      },
      undefined,
      () => reject(new Error("the picture could not be loaded")),
    );
  });
}

/** The AudioListener on the camera (made once; spatial voices use the same one when it is there). */
export function listenerFor(THREE, sceneEl) {
  const camera = sceneEl.camera;
  if (!camera) return null;
  let found = null;
  // The camera entity's object may hold one already (the voices' listener, media/spatial.js).
  (camera.el?.object3D || camera).traverse((o) => {
    if (!found && o.type === "AudioListener") found = o;
  });
  if (found) return found;
  try {
    const listener = new THREE.AudioListener();
    camera.add(listener);
    return listener;
  } catch {
    return null;
  }
}

/**
 * Positional sound from a media element. audioParams (Hubs' audio-params): {distanceModel, rolloffFactor,
 * refDistance, maxDistance, gain}; missing ones take Hubs' defaults.
 */
export function positionalSound(THREE, sceneEl, element, audioParams = {}) {
  const listener = listenerFor(THREE, sceneEl);
  if (!listener) return null;
  try {
    const sound = new THREE.PositionalAudio(listener);
    sound.setMediaElementSource(element);
    applyAudioParams(sound, audioParams);
    return sound;
  } catch (err) {
    console.warn("toncon media: no positional sound for this element", err);
    return null;
  }
}

/** Hubs' audio-params on a PositionalAudio. */
export function applyAudioParams(sound, p = {}) {
  const num = (v, d) => (typeof v === "number" && Number.isFinite(v) ? v : d);
  const model = ["linear", "inverse", "exponential"].includes(p.distanceModel) ? p.distanceModel : "inverse";
  sound.setDistanceModel(model);
  sound.setRolloffFactor(Math.max(0, num(p.rolloffFactor, 1)));
  sound.setRefDistance(Math.max(0.01, num(p.refDistance, 1)));
  sound.setMaxDistance(Math.max(0.01, num(p.maxDistance, 10000)));
  sound.setVolume(Math.max(0, num(p.gain, 1)));
}

function mediaElement(tag, src, { loop = true, autoplay = false } = {}) {
  const e = document.createElement(tag);
  e.crossOrigin = "anonymous";
  e.preload = "auto";
  e.loop = loop;
  e.playsInline = true;
  e.setAttribute("playsinline", "");
  if (autoplay) e.autoplay = true;
  e.src = src;
  host().append(e);
  return e;
}

function waitFor(element, event) {
  return new Promise((resolve, reject) => {
    const ok = () => {
      element.removeEventListener("error", bad);
      resolve();
    };
    const bad = () => {
      element.removeEventListener(event, ok);
      reject(new Error(`the ${element.tagName === "VIDEO" ? "video" : "sound"} could not be loaded`));
    };
    element.addEventListener(event, ok, { once: true });
    element.addEventListener("error", bad, { once: true });
  });
}

/** Starts a media element, and when the browser wants a gesture first, starts it on the next click or key. */
export function playSoon(element) {
  const p = element.play();
  if (!p || typeof p.catch !== "function") return;
  p.catch(() => {
    const again = () => {
      for (const ev of ["pointerdown", "keydown", "touchend"]) window.removeEventListener(ev, again, true);
      if (element.tonconWantsPlay) element.play().catch(() => {});
    };
    for (const ev of ["pointerdown", "keydown", "touchend"]) window.addEventListener(ev, again, true);
  });
}

/** A video on a panel, its sound positional. Resolves once its size is known. */
export async function loadVideo(THREE, sceneEl, src, { audioParams, loop = true } = {}) {
  const video = mediaElement("video", src, { loop });
  await waitFor(video, "loadedmetadata");
  const texture = new THREE.VideoTexture(video);
  texture.colorSpace = THREE.SRGBColorSpace;
  const object = panel(THREE, texture, video.videoWidth || 16, video.videoHeight || 9);
  const sound = positionalSound(THREE, sceneEl, video, audioParams);
  if (sound) object.add(sound);
  return { object, element: video, dispose: () => disposeElement(video, sound) };
}

/** A sound playing from a small speaker panel. */
export async function loadAudio(THREE, sceneEl, src, { audioParams, label = "", loop = true, visible = true } = {}) {
  const audio = mediaElement("audio", src, { loop });
  await waitFor(audio, "loadedmetadata");
  const object = new THREE.Group();
  if (visible) object.add(speakerPanel(THREE, label));
  const sound = positionalSound(THREE, sceneEl, audio, audioParams);
  if (sound) object.add(sound);
  return { object, element: audio, dispose: () => disposeElement(audio, sound) };
}

function disposeElement(element, sound) {
  element.tonconWantsPlay = false;
  element.pause();
  element.removeAttribute("src");
  element.load();
  element.remove();
  if (sound) {
    try {
      sound.disconnect();
    } catch {
      // never connected
    }
  }
}

/** A small panel with a loudspeaker and a name, so a sound has something to grab. */
export function speakerPanel(THREE, label) {
  const { canvas, ctx } = panelCanvas(256, 256);
  ctx.fillStyle = "#20232e";
  ctx.beginPath();
  ctx.roundRect(8, 8, 240, 240, 32);
  ctx.fill();
  ctx.fillStyle = "#ffffff";
  ctx.beginPath(); // the speaker
  ctx.moveTo(70, 100); ctx.lineTo(100, 100); ctx.lineTo(140, 64); ctx.lineTo(140, 176); ctx.lineTo(100, 140); ctx.lineTo(70, 140);
  ctx.closePath();
  ctx.fill();
  ctx.strokeStyle = "#ffffff";
  ctx.lineWidth = 10;
  for (const r of [30, 55]) {
    ctx.beginPath();
    ctx.arc(140, 120, r, -0.8, 0.8);
    ctx.stroke();
  }
  if (label) {
    ctx.font = "600 24px system-ui, sans-serif";
    ctx.textAlign = "center";
    fillTextFitting(ctx, label, 220, 128, 222);
  }
  const mesh = canvasMesh(THREE, canvas, 0.35, 0.35, true);
  mesh.name = "toncon-speaker";
  return mesh;
}

/** A canvas of w×h pixels and its 2D context, to draw a panel on. */
export function panelCanvas(w, h) {
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  return { canvas, ctx: canvas.getContext("2d") };
}

/** A two-sided plane of width×height metres showing canvas. */
export function canvasMesh(THREE, canvas, width, height, transparent = false) {
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  return new THREE.Mesh(new THREE.PlaneGeometry(width, height), new THREE.MeshBasicMaterial({ map: texture, side: THREE.DoubleSide, transparent }));
}

/** text as ctx draws it in maxWidth: itself when it fits, else cut short with "…". */
export function fitText(ctx, text, maxWidth) {
  let shown = text;
  while (ctx.measureText(shown).width > maxWidth && shown.length > 1) shown = shown.slice(0, -1);
  return shown === text ? text : `${shown.slice(0, -1)}…`;
}

/** ctx.fillText of text at x, y, cut short with "…" when it is wider than maxWidth. */
export function fillTextFitting(ctx, text, maxWidth, x, y) {
  ctx.fillText(fitText(ctx, text, maxWidth), x, y);
}

let pdfjs = null;
/** pdf.js, imported the first time a PDF is shown (it is large); its worker is a file of its own. */
async function loadPdfjs() {
  if (!pdfjs) {
    pdfjs = Promise.all([import("pdfjs-dist"), import("pdfjs-dist/build/pdf.worker.min.mjs?url")]).then(([lib, worker]) => {
      lib.GlobalWorkerOptions.workerSrc = worker.default;
      return lib;
    });
  }
  return pdfjs;
}

/**
 * A PDF on a panel. Resolves {object, pages, showPage(n)}: showPage draws page n (1-based) and resizes the panel to
 * its shape.
 */
export async function loadPdf(THREE, src) {
  const lib = await loadPdfjs();
  const task = lib.getDocument({ url: src, isEvalSupported: false });
  const doc = await task.promise;
  const canvas = document.createElement("canvas");
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  const mesh = panel(THREE, texture, 1, 1.414);
  let shown = 0;
  let rendering = Promise.resolve();
  const draw = async (n) => {
    const page = await doc.getPage(n);
    const base = page.getViewport({ scale: 1 });
    const viewport = page.getViewport({ scale: Math.min(4, 1200 / Math.max(base.width, base.height)) });
    canvas.width = Math.round(viewport.width);
    canvas.height = Math.round(viewport.height);
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    await page.render({ canvas, canvasContext: ctx, viewport }).promise;
    const size = panelSize(canvas.width, canvas.height, PANEL_SIZE);
    mesh.geometry.dispose();
    mesh.geometry = new THREE.PlaneGeometry(size.width, size.height);
    texture.dispose(); // the canvas changed size: the GPU copy has to be made again
    texture.needsUpdate = true;
    shown = n;
  };
  const showPage = (n) => {
    const p = Math.min(doc.numPages, Math.max(1, Math.round(n) || 1));
    if (p === shown) return rendering;
    rendering = rendering.then(() => draw(p)).catch((err) => console.warn("toncon media: a PDF page could not be drawn", err));
    return rendering;
  };
  await showPage(1);
  return { object: mesh, pages: doc.numPages, showPage, page: () => shown, dispose: () => task.destroy().catch(() => {}) };
}

/** A glTF model, scaled so its longest side is MODEL_SIZE and standing on its origin. */
export async function loadModel(THREE, sceneEl, src) {
  const loader = await gltfLoader(THREE, sceneEl);
  loader.setCrossOrigin("anonymous");
  const gltf = await new Promise((resolve, reject) =>
    loader.load(src, resolve, undefined, (err) => reject(new Error(`the model could not be loaded${err?.message ? `: ${err.message}` : ""}`))),
  );
  const model = gltf.scene || gltf.scenes?.[0];
  if (!model) throw new Error("the model has no scene");
  const box = new THREE.Box3().setFromObject(model);
  const size = box.getSize(new THREE.Vector3());
  const s = fitScale(size, MODEL_SIZE);
  const center = box.getCenter(new THREE.Vector3());
  const object = new THREE.Group();
  model.position.set(-center.x * s, -box.min.y * s, -center.z * s);
  model.scale.setScalar(s);
  object.add(model);
  let mixer = null;
  if (gltf.animations?.length) {
    mixer = new THREE.AnimationMixer(model);
    for (const clip of gltf.animations) mixer.clipAction(clip).play();
  }
  return { object, mixer };
}

/** A panel that says a thing could not be shown, in place of the thing. */
export function errorPanel(THREE, text) {
  const { canvas, ctx } = panelCanvas(512, 256);
  ctx.fillStyle = "#3a1d22";
  ctx.fillRect(0, 0, 512, 256);
  ctx.fillStyle = "#ffffff";
  ctx.font = "600 30px system-ui, sans-serif";
  ctx.textAlign = "center";
  const words = String(text).split(/\s+/);
  const lines = [];
  let line = "";
  for (const w of words) {
    if (ctx.measureText(`${line} ${w}`).width > 470 && line) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  lines.slice(0, 5).forEach((l, i) => ctx.fillText(l, 256, 128 - (Math.min(lines.length, 5) - 1) * 20 + i * 40));
  return canvasMesh(THREE, canvas, 0.8, 0.4);
}

/** Frees a loaded object's geometries, materials and textures. */
export function disposeObject(object) {
  object.traverse((o) => {
    o.geometry?.dispose?.();
    for (const m of [].concat(o.material || [])) {
      for (const v of Object.values(m)) if (v && v.isTexture) v.dispose();
      m.dispose?.();
    }
  });
}
