// Media objects in the room (docs/content.md, "Room objects and pinning"): bring a file in (drop it on the room,
// paste it or a link, pick it in the "Add media" dialog or from my uploads), and it appears for everyone as a
// networked entity from the #toncon-media template. Select one with a click or tap, drag it over the floor, turn
// and resize it, play a video or turn a PDF's pages for everyone, pin it so it stays, or remove it. Controls the
// server would refuse (presence permissions: spawn_and_move_media, pin_objects) are hidden or explained; the
// server decides.
//
// Pinned objects: the client loads GET /<hub_sid>/objects.gltf after joining and makes each one with NAF network
// id = object id, owner "scene" until someone takes it (its creator's own first sync, if they are here, updates the
// same entity). When a person leaves, NAF and the server both remove what they made; pinned objects are kept.

import { loadCredentials } from "../../shared/account.js";
import { MEDIA_SCHEMA, MEDIA_TEMPLATE, mediaTemplate, registerMediaComponents } from "./components.js";
import { buildGltfNode, objectsFromGltf } from "./gltf-node.js";
import { checkLink, kindFromUrl, kindOf, serverFile, sharedSrc, typeFromUrl } from "./kinds.js";
import { buildObjectsUI } from "./ui.js";
import { formatBytes, myUploads, uploadMedia } from "../../shared/upload.js";
import { frameAccepts, fitIntoFrame } from "./frames.js";
import { guardPinned } from "./leave.js";
import { Pointer } from "./pointer.js";
import "./objects.css";

const SCENE_OWNER = "scene";
const ROTATE_STEP = 15; // degrees
const SCALE_STEP = 1.15;
const MIN_SCALE = 0.05;
const MAX_SCALE = 20;

/**
 * Mounts media objects on the room page. ctx: {hub, hubId, showBanner(text, kind, ms)}. Returns
 * {setWorld(world), setRoomState(state), api}.
 */
export function mountObjects({ hub, hubId, showBanner = () => {} }) {
  let world = null;
  let inRoom = false;
  let selected = null;
  let pointer = null;
  const pinned = new Set(); // the ids of the objects we know are pinned
  const ui = buildObjectsUI({ file: (f) => addFile(f), link: (t) => addLink(t), pick: (e) => pickUpload(e), refreshMine, tool });
  document.body.append(ui.root);
  updateControls();

  const perms = () => hub.occupants()[hub.sessionId]?.permissions || {};
  const may = (p) => perms()[p] === true;
  const signedIn = () => !!loadCredentials() || hub.occupants()[hub.sessionId]?.roles?.signed_in === true;

  hub.on("presence", () => updateControls());
  hub.on("permissions-updated", () => updateControls());
  hub.channel.on("pin", (m) => onPin(m));
  hub.channel.on("unpin", (m) => onUnpin(m));

  function updateControls() {
    const canAdd = inRoom && world && may("spawn_and_move_media");
    ui.addButton.hidden = !canAdd;
    if (selected) renderTools();
  }

  // ---- bringing media in --------------------------------------------------------------------------------------

  // Files dropped or pasted anywhere on the room (not into a text field).
  window.addEventListener("dragover", (ev) => {
    if (!inRoom || !ev.dataTransfer) return;
    const types = [...ev.dataTransfer.types];
    if (types.includes("Files") || types.includes("text/uri-list")) {
      ev.preventDefault();
      ev.dataTransfer.dropEffect = "copy";
    }
  });
  window.addEventListener("drop", (ev) => {
    if (!inRoom || !ev.dataTransfer) return;
    const t = ev.target;
    if (t instanceof HTMLElement && t.closest("input, textarea, [contenteditable]")) return; // text into a text box
    ev.preventDefault();
    const file = ev.dataTransfer.files?.[0];
    if (file) return addFile(file);
    const link = (ev.dataTransfer.getData("text/uri-list") || ev.dataTransfer.getData("text/plain") || "").split("\n")[0].trim();
    if (link) addLink(link);
  });
  window.addEventListener("paste", (ev) => {
    if (!inRoom || !ev.clipboardData) return;
    const t = ev.target;
    if (t instanceof HTMLElement && t.closest("input, textarea, [contenteditable]")) return;
    const file = ev.clipboardData.files?.[0];
    if (file) {
      ev.preventDefault();
      addFile(file);
      return;
    }
    const text = ev.clipboardData.getData("text/plain").trim();
    if (/^https?:\/\/\S+$/.test(text) || text.startsWith("/files/")) {
      ev.preventDefault();
      addLink(text);
    }
  });

  function refuse(text) {
    ui.say(text, "error");
    showBanner(text, "warn", 8000);
  }

  function ready() {
    if (!world || !inRoom) {
      refuse("Enter the room first.");
      return false;
    }
    if (!may("spawn_and_move_media")) {
      refuse("The room's owners have turned off adding media for people like you.");
      return false;
    }
    return true;
  }

  let uploading = null;
  async function addFile(file) {
    if (!ready()) return null;
    if (uploading) {
      refuse("Wait for the upload in progress to finish.");
      return null;
    }
    const name = file.name || "the file";
    ui.say(`Uploading ${name}…`);
    ui.progress(0, `Uploading ${name}`);
    uploading = uploadMedia(file, {
      token: loadCredentials()?.token || "",
      onProgress: (fraction, sent, total) => ui.progress(fraction, `Uploading ${name}: ${formatBytes(sent)} of ${formatBytes(total)}`),
    });
    try {
      const r = await uploading;
      ui.progress(null);
      ui.say(`${name} is in the room.`, "ok");
      ui.dialog.close();
      return spawn(relative(sharedSrc(r.origin, r.meta?.access_token)), r.meta?.expected_content_type || file.type);
    } catch (err) {
      ui.progress(null);
      refuse(`${name} could not be added: ${err.message}`);
      return null;
    } finally {
      uploading = null;
    }
  }

  async function addLink(text) {
    if (!ready()) return null;
    const checked = checkLink(text, location.origin);
    if (checked.error) {
      refuse(checked.error);
      return null;
    }
    const url = checked.url;
    let contentType = await headType(url);
    if (!kindOf(contentType)) contentType = typeFromUrl(url) || contentType;
    if (!kindOf(contentType) && !kindFromUrl(url)) {
      refuse("That link is not to a picture, video, sound, PDF or glb model this room can show.");
      return null;
    }
    ui.linkInput.value = "";
    ui.say("The link is in the room.", "ok");
    ui.dialog.close();
    return spawn(serverFile(url, location.origin) ? relative(url) : url, contentType);
  }

  /** The content type the server says, or "" (another site may not allow us to ask). */
  async function headType(url) {
    try {
      const res = await fetch(url, { method: "HEAD", mode: "cors", credentials: "omit" });
      if (!res.ok) return "";
      return (res.headers.get("content-type") || "").split(";")[0].trim();
    } catch {
      return "";
    }
  }

  async function refreshMine() {
    const c = loadCredentials();
    if (!c) {
      ui.setMine([], "Sign in to see the files you uploaded.");
      return;
    }
    ui.setMine([], "Loading…");
    try {
      const entries = await myUploads(c.token);
      ui.setMine(entries, entries.length ? "" : "You have not uploaded anything yet.");
    } catch (err) {
      ui.setMine([], `Your uploads could not be listed: ${err.message}`);
    }
  }

  function pickUpload(entry) {
    if (!ready()) return null;
    ui.dialog.close();
    const origin = relative(entry.origin);
    return spawn(entry.access_token ? sharedSrc(origin, entry.access_token) : origin, entry.content_type);
  }

  function relative(url) {
    const u = new URL(url, location.origin);
    return u.origin === location.origin ? u.pathname + u.search : u.href;
  }

  /** Creates a networked media object a little in front of us, facing us. Returns its network id. */
  function spawn(src, contentType) {
    const THREE = window.AFRAME.THREE;
    const cam = world.camera.object3D;
    const at = new THREE.Vector3();
    cam.getWorldPosition(at);
    const q = new THREE.Quaternion();
    cam.getWorldQuaternion(q);
    const yaw = new THREE.Euler().setFromQuaternion(q, "YXZ").y;
    const kind = kindOf(contentType) || kindFromUrl(src);
    const rigY = world.rig.object3D.position.y;
    const e = document.createElement("a-entity");
    e.setAttribute("networked", { template: MEDIA_TEMPLATE, attachTemplateToLocal: true });
    e.setAttribute("position", {
      x: at.x - Math.sin(yaw) * 2,
      y: kind === "model" ? rigY : rigY + 1.5,
      z: at.z - Math.cos(yaw) * 2,
    });
    e.setAttribute("rotation", { x: 0, y: (yaw * 180) / Math.PI, z: 0 });
    e.setAttribute("scale", "1 1 1");
    e.setAttribute("toncon-media-src", { src, contentType: contentType || "" });
    e.setAttribute("toncon-media-state", { playing: false, time: 0, page: 1 });
    e.tonconSpawned = true;
    world.scene.append(e);
    const id = e.getAttribute("networked").networkId;
    select(e);
    return id;
  }

  // ---- moving, turning, resizing, removing ------------------------------------------------------------------

  const NAF = () => window.NAF;
  const idOf = (e) => e?.components?.networked?.data?.networkId || null;
  const entity = (id) => NAF().entities.getEntity(id) || null;
  const isMediaEntity = (e) => e?.components?.networked?.data?.template === MEDIA_TEMPLATE;

  /** Why we may not move this object ("" when we may). */
  function whyNotMove(e) {
    if (!may("spawn_and_move_media")) return "The room's owners have turned off moving media for people like you.";
    if (pinned.has(idOf(e)) && !may("pin_objects")) return "This object is pinned, and only people who may pin objects can move it.";
    return "";
  }

  /** Takes the object over so our changes count. Returns false (and says why) when we may not. */
  function beginMove(e) {
    const why = whyNotMove(e);
    if (why) {
      ui.toolSay(why);
      return false;
    }
    const net = e.components.networked;
    if (!net.isMine()) {
      const owner = net.data.owner;
      NAF().utils.takeOwnership(e);
      // The server knows a pinned object only while someone has it; one whose owner is gone (or that came from
      // objects.gltf) is announced again as ours.
      if (pinned.has(idOf(e)) || owner === SCENE_OWNER || !(owner in hub.occupants())) net.syncAll(undefined, true);
    }
    return true;
  }

  /** A move, turn or resize finished: fit into a media frame it was put in, and keep the pin where it now is. */
  function endMove(e) {
    snapToFrame(e);
    if (pinned.has(idOf(e))) pin(idOf(e), { quiet: true });
  }

  function snapToFrame(e) {
    const frames = world?.room?.mediaFrames || [];
    if (frames.length === 0) return;
    const THREE = window.AFRAME.THREE;
    const p = new THREE.Vector3();
    e.object3D.getWorldPosition(p);
    const kind = e.tonconMedia?.kind;
    for (const frame of frames) {
      if (!frameAccepts(frame.mediaType, kind)) continue;
      const local = frame.object.worldToLocal(p.clone());
      const half = frame.bounds;
      if (Math.abs(local.x) > half.x / 2 || Math.abs(local.y) > half.y / 2 || Math.abs(local.z) > half.z / 2) continue;
      const mesh = e.getObject3D("mesh");
      const fit = fitIntoFrame(THREE, frame, mesh);
      e.setAttribute("position", fit.position);
      e.setAttribute("rotation", fit.rotation);
      e.setAttribute("scale", fit.scale);
      ui.toolSay("Put in the frame.");
      return;
    }
  }

  function transformOf(e) {
    const p = e.getAttribute("position");
    const r = e.getAttribute("rotation");
    const s = e.getAttribute("scale");
    return { position: { x: p.x, y: p.y, z: p.z }, rotation: { x: r.x, y: r.y, z: r.z }, scale: { x: s.x, y: s.y, z: s.z } };
  }

  function setTransform(e, patch) {
    if (!beginMove(e)) return false;
    for (const k of ["position", "rotation", "scale"]) if (patch[k]) e.setAttribute(k, patch[k]);
    endMove(e);
    return true;
  }

  function turn(e, degrees) {
    const r = e.getAttribute("rotation");
    return setTransform(e, { rotation: { x: r.x, y: r.y + degrees, z: r.z } });
  }

  function resize(e, factor) {
    const s = e.getAttribute("scale");
    const k = Math.min(MAX_SCALE, Math.max(MIN_SCALE, s.x * factor)) / (s.x || 1);
    return setTransform(e, { scale: { x: s.x * k, y: s.y * k, z: s.z * k } });
  }

  async function remove(e) {
    if (!beginMove(e)) return false;
    const id = idOf(e);
    if (pinned.has(id)) {
      const r = await unpin(id);
      if (!r.ok) return false;
    }
    if (selected === e) select(null);
    e.parentNode?.removeChild(e); // NAF tells everyone (r), as we own it now
    return true;
  }

  // ---- playing and pages ------------------------------------------------------------------------------------

  function togglePlay(e) {
    if (!beginMove(e)) return false;
    const state = e.components["toncon-media-state"];
    const el = state.media()?.element;
    state.write({ playing: el ? el.paused : !state.data.playing });
    return true;
  }

  function turnPage(e, delta) {
    if (!beginMove(e)) return false;
    const state = e.components["toncon-media-state"];
    state.write({ page: (state.data.page || 1) + delta });
    return true;
  }

  // ---- pinning -----------------------------------------------------------------------------------------------

  function whyNotPin() {
    if (!signedIn()) return "Sign in (the button at the top) to pin objects: a pin is kept with your account.";
    if (!may("pin_objects")) return "The room's owners have not let people like you pin objects.";
    return "";
  }

  /** Sends pin for the object with its transform now. Resolves {ok, message}. */
  async function pin(id, { quiet = false } = {}) {
    const e = entity(id);
    if (!e) return { ok: false, message: "There is no such object here." };
    const why = whyNotPin();
    if (why) {
      if (!quiet) ui.toolSay(why);
      return { ok: false, message: why };
    }
    const media = e.getAttribute("toncon-media-src");
    const node = buildGltfNode(id, transformOf(e), media);
    const file = serverFile(media.src, location.origin);
    const payload = { id, gltf_node: node };
    if (file) {
      payload.file_id = file.fileId;
      if (file.token) payload.file_access_token = file.token;
    }
    const r = await hub.request("pin", payload);
    if (r.status !== "ok") {
      const message = `The object could not be pinned: ${r.response?.message || r.response?.reason || r.status}.`;
      if (!quiet) ui.toolSay(message);
      return { ok: false, message };
    }
    markPinned(id);
    if (!quiet) ui.toolSay("Pinned: it stays in the room when you leave.");
    return { ok: true };
  }

  async function unpin(id) {
    const why = whyNotPin();
    if (why) {
      ui.toolSay(why);
      return { ok: false, message: why };
    }
    const r = await hub.request("unpin", { id });
    if (r.status !== "ok") {
      const message = `The object could not be unpinned: ${r.response?.message || r.response?.reason || r.status}.`;
      ui.toolSay(message);
      return { ok: false, message };
    }
    markUnpinned(id, hub.sessionId);
    ui.toolSay("Unpinned: it goes away when its owner leaves.");
    return { ok: true };
  }

  function markPinned(id) {
    pinned.add(id);
    entity(id)?.classList.add("pinned");
    if (selected && idOf(selected) === id) renderTools();
  }

  /**
   * An object is no longer pinned. If nobody here owns it (its owner left, or it came from objects.gltf), the one
   * who unpinned it takes it, as the server does: it leaves the room with them.
   */
  function markUnpinned(id, by) {
    pinned.delete(id);
    const e = entity(id);
    if (!e) return;
    e.classList.remove("pinned");
    const owner = e.components.networked?.data?.owner;
    if (by === hub.sessionId && owner !== NAF().clientId && !(owner in hub.occupants())) beginMove(e);
    if (selected === e) renderTools();
  }

  function onPin(m) {
    if (!m || typeof m.object_id !== "string") return;
    if (!entity(m.object_id) && m.gltf_node && world) createPinned(objectsFromGltf({ nodes: [m.gltf_node] })[0]);
    markPinned(m.object_id);
  }

  function onUnpin(m) {
    if (m && typeof m.object_id === "string") markUnpinned(m.object_id, m.unpinned_by);
  }

  /** Makes a pinned object from objects.gltf (or a pin broadcast), unless NAF already made it. */
  function createPinned(o) {
    if (!o || !world) return;
    if (entity(o.objectId)) {
      markPinned(o.objectId);
      return;
    }
    const e = document.createElement("a-entity");
    e.setAttribute("networked", { template: MEDIA_TEMPLATE, networkId: o.objectId, owner: SCENE_OWNER, creator: SCENE_OWNER, attachTemplateToLocal: true });
    e.setAttribute("position", o.position);
    e.setAttribute("rotation", o.rotation);
    e.setAttribute("scale", o.scale);
    e.setAttribute("toncon-media-src", { src: o.src, contentType: o.contentType });
    e.setAttribute("toncon-media-state", { playing: false, time: 0, page: 1 });
    e.classList.add("pinned");
    world.scene.append(e);
    pinned.add(o.objectId);
  }

  async function loadPinned() {
    let doc;
    try {
      const res = await fetch(`/${encodeURIComponent(hubId)}/objects.gltf`, { credentials: "same-origin" });
      if (res.status === 404) return;
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      doc = await res.json();
    } catch (err) {
      console.warn("toncon objects: the room's pinned objects could not be loaded", err);
      showBanner("The objects pinned in this room could not be loaded.", "warn", 6000);
      return;
    }
    for (const o of objectsFromGltf(doc)) createPinned(o);
  }

  function keepPinnedOnLeave() {
    guardPinned(NAF().connection, (id) => pinned.has(id), (id) => {
      if (selected && idOf(selected) === id) select(null);
    });
  }

  // ---- selection and the toolbar -------------------------------------------------------------------------------

  let highlight = null;
  // The toolbar follows the selected object: loaded (its kind and pages are known then), page or playback changed.
  const refreshTools = (ev) => {
    if (ev.type !== "componentchanged" || ev.detail?.name === "toncon-media-state") renderTools();
  };
  function select(e) {
    if (selected) for (const t of ["media-loaded", "media-error", "componentchanged"]) selected.removeEventListener(t, refreshTools);
    selected = e && isMediaEntity(e) ? e : null;
    if (selected) for (const t of ["media-loaded", "media-error", "componentchanged"]) selected.addEventListener(t, refreshTools);
    const THREE = window.AFRAME?.THREE;
    if (highlight) {
      highlight.parent?.remove(highlight);
      highlight.geometry.dispose();
      highlight = null;
    }
    ui.toolbar.hidden = !selected;
    ui.toolSay("");
    if (!selected) return;
    if (THREE) {
      const box = new THREE.BoxHelper(selected.object3D, 0x4fc3f7);
      box.name = "toncon-selection";
      world.scene.object3D.add(box);
      highlight = box;
      // The outline follows the object as it moves, turns, grows and loads.
      const follow = () => {
        if (highlight !== box) return;
        box.update();
        requestAnimationFrame(follow);
      };
      requestAnimationFrame(follow);
    }
    renderTools();
  }

  function renderTools() {
    if (!selected) return;
    const kind = selected.tonconMedia?.kind;
    const id = idOf(selected);
    const movable = !whyNotMove(selected);
    const t = ui.tools;
    for (const b of [t.rotateLeft, t.rotateRight, t.smaller, t.bigger, t.remove]) b.hidden = !movable;
    t.play.hidden = !(movable && (kind === "video" || kind === "audio"));
    const playing = selected.getAttribute("toncon-media-state")?.playing;
    t.play.textContent = playing ? "Pause" : "Play";
    const pdf = kind === "pdf";
    for (const b of [t.prevPage, t.nextPage]) b.hidden = !(pdf && movable);
    t.page.hidden = !pdf;
    t.page.textContent = pdf ? `${selected.getAttribute("toncon-media-state")?.page || 1} / ${selected.tonconMedia?.pages || "?"}` : "";
    t.pin.textContent = pinned.has(id) ? "Unpin" : "Pin";
    t.pin.setAttribute("aria-pressed", String(pinned.has(id)));
    t.pin.title = whyNotPin() || (pinned.has(id) ? "Let it go when its owner leaves" : "Keep this object in the room after you leave");
    ui.setTitle(kind ? kind[0].toUpperCase() + kind.slice(1) : "Object");
  }

  async function tool(name) {
    const e = selected;
    if (!e && name !== "deselect") return;
    switch (name) {
      case "rotate-left": turn(e, ROTATE_STEP); break;
      case "rotate-right": turn(e, -ROTATE_STEP); break;
      case "smaller": resize(e, 1 / SCALE_STEP); break;
      case "bigger": resize(e, SCALE_STEP); break;
      case "play": togglePlay(e); break;
      case "prev-page": turnPage(e, -1); break;
      case "next-page": turnPage(e, 1); break;
      case "pin": await (pinned.has(idOf(e)) ? unpin(idOf(e)) : pin(idOf(e))); break;
      case "remove": await remove(e); break;
      case "deselect": select(null); break;
    }
    if (selected) renderTools();
  }

  // ---- the world ---------------------------------------------------------------------------------------------

  function setWorld(w) {
    world = w;
    const AFRAME = window.AFRAME;
    registerMediaComponents(AFRAME);
    const assets = w.scene.querySelector("a-assets");
    if (!assets.querySelector(MEDIA_TEMPLATE)) assets.append(mediaTemplate());
    NAF().schemas.add(MEDIA_SCHEMA);
    keepPinnedOnLeave();
    const system = w.scene.systems["toncon-objects"];
    if (system) {
      system.beginMove = (e) => beginMove(e);
      system.endMove = (e) => endMove(e);
    }
    addControllers(w);
    pointer = new Pointer({
      world: w,
      hit: (e) => isMediaEntity(e),
      onSelect: (e) => select(e),
      beginMove,
      endMove,
      onWheel: (e, dy) => resize(e, dy < 0 ? SCALE_STEP : 1 / SCALE_STEP),
      onPinch: (e, factor) => resize(e, factor),
      selected: () => selected,
      onLink: (link) => followLink(link),
    });
    hub.whenJoined().then(() => loadPinned(), () => {});
    updateControls();
  }

  /** VR: a laser and grab on each hand; they show only when a controller is there. */
  function addControllers(w) {
    for (const hand of ["left", "right"]) {
      const c = document.createElement("a-entity");
      c.setAttribute("laser-controls", { hand });
      // The laser looks for objects only while a controller is there: raycasting every frame costs.
      c.setAttribute("raycaster", { objects: ".toncon-object", far: 12, showLine: true, interval: 50, enabled: false });
      c.setAttribute("toncon-grab", "");
      c.addEventListener("controllerconnected", () => c.setAttribute("raycaster", "enabled", true));
      c.addEventListener("controllerdisconnected", () => c.setAttribute("raycaster", "enabled", false));
      w.rig.append(c);
    }
  }

  /** A scene's link: a web page opens in a new tab (after asking); a waypoint (#name) moves us there. */
  function followLink(link) {
    const href = String(link.href || "");
    if (href.startsWith("#")) {
      const name = decodeURIComponent(href.slice(1));
      const wp = (world.room.waypoints || []).find((p) => p.name === name);
      if (!wp) {
        showBanner(`This link leads to "${name}", which is not in this scene.`, "warn", 5000);
        return;
      }
      world.placeAt(wp);
      return;
    }
    let url;
    try {
      url = new URL(href, location.href);
    } catch {
      return;
    }
    if (!/^https?:$/.test(url.protocol)) return;
    if (window.confirm(`Open ${url.href} in a new tab?`)) window.open(url.href, "_blank", "noopener");
  }

  function setRoomState(state) {
    inRoom = state === "room";
    if (!inRoom) select(null);
    updateControls();
  }

  // ---- the test hook ------------------------------------------------------------------------------------------

  function describe(e) {
    const net = e.components.networked?.data || {};
    const src = e.getAttribute("toncon-media-src") || {};
    const st = e.getAttribute("toncon-media-state") || {};
    return {
      id: net.networkId,
      owner: net.owner,
      mine: net.owner === NAF().clientId,
      src: src.src,
      contentType: src.contentType,
      kind: e.tonconMedia?.kind || null,
      status: e.tonconMedia?.status || "loading",
      error: e.tonconMedia?.error || null,
      pages: e.tonconMedia?.pages || 0,
      playing: !!st.playing,
      time: st.time,
      page: st.page,
      pinned: pinned.has(net.networkId),
      selected: selected === e,
      ...transformOf(e),
    };
  }

  const api = {
    list: () => (world ? [...document.querySelectorAll("a-entity.toncon-object")].filter(isMediaEntity).map(describe) : []),
    addLink: (url) => addLink(url),
    select: (id) => select(entity(id)),
    move: (id, position) => (entity(id) ? setTransform(entity(id), { position }) : false),
    turn: (id, degrees) => (entity(id) ? turn(entity(id), degrees) : false),
    resize: (id, factor) => (entity(id) ? resize(entity(id), factor) : false),
    pin: (id) => pin(id),
    unpin: (id) => unpin(id),
    remove: (id) => (entity(id) ? remove(entity(id)) : false),
    togglePlay: (id) => (entity(id) ? togglePlay(entity(id)) : false),
    turnPage: (id, delta) => (entity(id) ? turnPage(entity(id), delta) : false),
    /** Where the object's centre is on the page, in CSS pixels, for a test that drags it with the mouse. */
    screenPoint: (id) => pointer?.screenPoint(entity(id)) ?? null,
    /** The scene's links (where they show on the page), media frames and the pictures and videos it placed. */
    sceneMedia: () => {
      const room = world?.room || {};
      const at = (o) => {
        const v = new window.AFRAME.THREE.Vector3();
        o.getWorldPosition(v);
        return { x: v.x, y: v.y, z: v.z };
      };
      const panels = [];
      room.sceneEntity?.object3D.traverse((o) => {
        if (o.name === "toncon-media-panel") panels.push(at(o));
      });
      return {
        links: (room.links || []).map((l) => ({ href: l.href, point: pointer?.screenPoint(l.object) ?? null })),
        frames: (room.mediaFrames || []).map((f) => ({ mediaType: f.mediaType, position: at(f.object) })),
        panels,
      };
    },
  };

  return { setWorld, setRoomState, api };
}
