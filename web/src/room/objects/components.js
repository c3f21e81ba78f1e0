// The networked media object: its NAF template and schema, and the A-Frame components that show it.
//
//   <a-entity networked="template: #toncon-media" toncon-media-src="src: ...; contentType: image/png"
//             toncon-media-state="playing: false; time: 0; page: 1">
//
// NAF syncs position, rotation, scale, toncon-media-src and toncon-media-state (docs/content.md). The template
// id ends in -media, so the server lets only people with spawn_and_move_media create one. Whoever owns an object
// drives its video or PDF: the owner writes toncon-media-state, everyone else follows it (sync.js).

import { kindOf, kindFromUrl } from "./kinds.js";
import { clampPage, ownerShouldWrite, reconcile } from "./sync.js";
import { grabOffset, heldMatrix } from "./gestures.js";
import { disposeObject, errorPanel, loadAudio, loadImage, loadModel, loadPdf, loadVideo, playSoon } from "./render.js";

export const MEDIA_TEMPLATE = "#toncon-media";

export const MEDIA_SCHEMA = {
  template: MEDIA_TEMPLATE,
  components: ["position", "rotation", "scale", "toncon-media-src", "toncon-media-state"],
};

/** The <template> NAF copies for others' media objects (one child, as NAF requires). */
export function mediaTemplate() {
  const t = document.createElement("template");
  t.id = MEDIA_TEMPLATE.slice(1);
  t.innerHTML = `<a-entity class="toncon-object"></a-entity>`;
  return t;
}

let registered = false;

/** Registers the components (once per page). */
export function registerMediaComponents(AFRAME) {
  if (registered) return;
  registered = true;
  const THREE = AFRAME.THREE;
  const NAF = window.NAF;
  const isMine = (el) => !!el.components?.networked && NAF.utils.isMine(el);

  AFRAME.registerComponent("toncon-media-src", {
    schema: { src: { default: "" }, contentType: { default: "" } },

    init() {
      this.el.classList.add("toncon-object");
      this.status = { status: "loading", kind: null, error: null, pages: 0 };
      this.el.tonconMedia = this.status;
      this.loadId = 0;
      this.loaded = null;
    },

    update(old) {
      if (old && old.src === this.data.src && old.contentType === this.data.contentType) return;
      this.load();
    },

    async load() {
      const id = ++this.loadId;
      this.clear();
      const { src, contentType } = this.data;
      const kind = kindOf(contentType) || kindFromUrl(src);
      Object.assign(this.status, { status: "loading", kind, error: null, pages: 0 });
      if (!src) return;
      const scene = this.el.sceneEl;
      try {
        let loaded;
        if (!kind) throw new Error(`a ${contentType || "file of unknown type"} cannot be shown in the room`);
        if (kind === "image") loaded = await loadImage(THREE, src);
        else if (kind === "video") loaded = await loadVideo(THREE, scene, src);
        else if (kind === "audio") loaded = await loadAudio(THREE, scene, src, { label: labelOf(src) });
        else if (kind === "pdf") loaded = await loadPdf(THREE, src);
        else loaded = await loadModel(THREE, scene, src);
        if (id !== this.loadId || !this.el.parentNode) {
          loaded.dispose?.();
          disposeObject(loaded.object);
          return;
        }
        this.loaded = loaded;
        this.el.setObject3D("mesh", loaded.object);
        Object.assign(this.status, { status: "loaded", pages: loaded.pages || 0 });
        this.el.emit("media-loaded", { kind });
        this.el.components["toncon-media-state"]?.follow(true);
      } catch (err) {
        if (id !== this.loadId) return;
        console.warn(`toncon media: ${src} could not be shown`, err);
        Object.assign(this.status, { status: "error", error: err.message || String(err) });
        this.el.setObject3D("mesh", errorPanel(THREE, `Could not show this ${kind || "file"}: ${err.message || err}`));
        this.el.emit("media-error", { error: this.status.error });
      }
    },

    clear() {
      if (this.loaded) {
        this.loaded.dispose?.();
        this.loaded = null;
      }
      const mesh = this.el.getObject3D("mesh");
      if (mesh) {
        this.el.removeObject3D("mesh");
        disposeObject(mesh);
      }
    },

    tick(time, delta) {
      this.loaded?.mixer?.update(delta / 1000);
    },

    remove() {
      this.loadId++;
      this.clear();
    },
  });

  // {playing, time, page}: the owner writes it (play, pause, seek, turn a page), the others follow.
  AFRAME.registerComponent("toncon-media-state", {
    schema: { playing: { default: false }, time: { default: 0 }, page: { default: 1 } },

    init() {
      this.receivedAt = performance.now();
      this.lastWrite = null;
      this.lastWriteAt = 0;
      // Someone came in: NAF has just sent them our state as last written, up to OWNER_TICK_MS old, and they
      // count from when it arrived. A playing owner writes its time now, so they land where it is.
      this.onClientConnected = () => {
        const e = this.media()?.element;
        if (e && !e.paused && isMine(this.el)) this.write({});
      };
      document.body.addEventListener("clientConnected", this.onClientConnected);
    },

    remove() {
      document.body.removeEventListener("clientConnected", this.onClientConnected);
    },

    update() {
      this.receivedAt = performance.now();
      if (!isMine(this.el)) this.follow(false);
      else this.applyPage();
    },

    media() {
      return this.el.components["toncon-media-src"]?.loaded || null;
    },

    applyPage() {
      const m = this.media();
      if (m?.showPage) m.showPage(clampPage(this.data.page, m.pages));
    },

    /** Brings the local element in line with the shared state (a late joiner seeks to the owner's time). */
    follow(justLoaded) {
      const m = this.media();
      if (!m) return;
      this.applyPage();
      const e = m.element;
      if (!e) return;
      if (justLoaded && isMine(this.el) && this.el.tonconSpawned) {
        // Our own new video starts playing; the state says so to everyone.
        this.write({ playing: true, time: 0 });
      }
      const r = reconcile(this.data, { time: e.currentTime, paused: e.paused, duration: e.duration }, performance.now() - this.receivedAt);
      if (r.seek !== null) {
        try {
          e.currentTime = r.seek;
        } catch {
          // not seekable yet
        }
      }
      if (r.play === true) {
        e.tonconWantsPlay = true;
        playSoon(e);
      } else if (r.play === false) {
        e.tonconWantsPlay = false;
        e.pause();
      }
    },

    /** The owner changes the state: play, pause, seek, page. */
    write(patch) {
      const m = this.media();
      const e = m?.element;
      const next = { playing: this.data.playing, time: e ? e.currentTime : this.data.time, page: this.data.page, ...patch };
      if (m?.pages) next.page = clampPage(next.page, m.pages);
      this.lastWrite = next;
      this.lastWriteAt = performance.now();
      this.el.setAttribute("toncon-media-state", next);
      if (e) {
        if (patch.time !== undefined) e.currentTime = patch.time;
        if (next.playing && e.paused) {
          e.tonconWantsPlay = true;
          playSoon(e);
        } else if (!next.playing && !e.paused) {
          e.tonconWantsPlay = false;
          e.pause();
        }
      }
    },

    tick(time) {
      if (time - (this.checkedAt || 0) < 500) return;
      this.checkedAt = time;
      const e = this.media()?.element;
      if (!e) return;
      if (isMine(this.el)) {
        const now = { playing: !e.paused, time: e.currentTime, page: this.data.page };
        // write() takes the time from the element; giving it one would seek our own playing copy to where it is,
        // which stalls it for a moment every few seconds.
        if (this.lastWrite && ownerShouldWrite(this.lastWrite, now, performance.now(), this.lastWriteAt)) this.write({});
      } else {
        this.follow(false);
      }
    },
  });

  // VR: point a controller's laser at an object and hold the trigger to carry it; let go to put it down.
  AFRAME.registerComponent("toncon-grab", {
    init() {
      this.held = null;
      this.offset = new THREE.Matrix4();
      this.inverse = new THREE.Matrix4();
      this.pose = new THREE.Matrix4();
      this.scale = new THREE.Vector3(); // the held object keeps its own size
      this.onDown = () => this.grab();
      this.onUp = () => this.release();
      this.el.addEventListener("triggerdown", this.onDown);
      this.el.addEventListener("triggerup", this.onUp);
    },

    grab() {
      const ray = this.el.components.raycaster;
      const hit = ray?.intersectedEls?.find((e) => e.classList.contains("toncon-object"));
      if (!hit) return;
      const objects = this.el.sceneEl.systems["toncon-objects"];
      if (!objects || !objects.beginMove(hit)) return;
      this.held = hit;
      this.el.object3D.updateMatrixWorld();
      hit.object3D.updateMatrixWorld();
      grabOffset(this.el.object3D.matrixWorld, hit.object3D.matrixWorld, this.offset);
    },

    tick() {
      if (!this.held) return;
      const o = this.held.object3D;
      heldMatrix(this.el.object3D.matrixWorld, this.offset, o.parent?.matrixWorld || null, this.pose, this.inverse);
      this.pose.decompose(o.position, o.quaternion, this.scale);
      o.rotation.setFromQuaternion(o.quaternion, o.rotation.order);
    },

    release() {
      if (!this.held) return;
      const el = this.held;
      this.held = null;
      this.el.sceneEl.systems["toncon-objects"]?.endMove(el);
    },

    remove() {
      this.el.removeEventListener("triggerdown", this.onDown);
      this.el.removeEventListener("triggerup", this.onUp);
    },
  });

  // The system the grab component reports to; the objects manager (index.js) fills in its callbacks.
  AFRAME.registerSystem("toncon-objects", {
    init() {
      this.beginMove = () => false;
      this.endMove = () => {};
    },
  });
}

function labelOf(src) {
  try {
    const name = decodeURIComponent(new URL(src, location.href).pathname.split("/").pop() || "");
    return name.length > 24 ? `${name.slice(0, 23)}…` : name;
  } catch {
    return "";
  }
}
