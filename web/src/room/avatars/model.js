// The `avatar-model` component: draws a person's glTF avatar (their profile's avatarUrl) on their networked avatar
// entity instead of the built-in look. The model hangs from the avatar root (it follows the synced position and
// heading), its Head bone turns with the synced head pitch, Hubs' voice feedback (scale-audio-feedback,
// morph-audio-feedback) follows that person's voice level, and its loop-animation clips play. A file that cannot
// be loaded, or is not an avatar, leaves the built-in look on (with a console warning, never an error).

import { parseGLTF as parse } from "../../scene/gltf-loader.js";
import { readGLTF, readHubsComponents } from "../../scene/hubs-components.js";
import { readAvatarFeedback, morphValueFor, scaleFor, smoothAmount, voiceAmount } from "./feedback.js";
import { facesPlusZ, findBones, fitAvatar, isAvatar } from "./rig.js";
import { loadableAvatarUrl } from "./catalog.js";

/** The largest avatar file a client downloads (the server's model limit is lower by default). */
const MAX_BYTES = 64 * 1024 * 1024;

// Downloads shared by everyone wearing the same avatar: url → Promise<ArrayBuffer>. Failures are not kept.
const downloads = new Map();

function download(url) {
  let p = downloads.get(url);
  if (!p) {
    p = (async () => {
      const res = await fetch(url, { credentials: "same-origin" });
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
      const declared = Number(res.headers.get("content-length")) || 0;
      if (declared > MAX_BYTES) throw new Error(`the file is ${declared} bytes, more than an avatar may be`);
      const bytes = await res.arrayBuffer();
      if (bytes.byteLength > MAX_BYTES) throw new Error(`the file is ${bytes.byteLength} bytes, more than an avatar may be`);
      return bytes;
    })();
    downloads.set(url, p);
    p.catch(() => downloads.delete(url));
  }
  return p;
}

/**
 * Registers avatar-model. voice.levelOf(sessionId) → the RMS (0..1) of that person's voice now (0 when silent or
 * not heard).
 */
export function registerAvatarModel(AFRAME, voice) {
  const THREE = AFRAME.THREE;
  const Q = () => new THREE.Quaternion();

  AFRAME.registerComponent("avatar-model", {
    schema: { src: { default: "" } },

    init() {
      this.status = "none"; // none | loading | loaded | error
      this.error = "";
      this.loadSeq = 0;
      this.holder = null;
      this.amount = 0;
      this.tmp = { parent: Q(), entity: Q(), pitch: Q(), rest: Q(), axis: new THREE.Vector3(1, 0, 0) };
    },

    update(old) {
      if (old && old.src === this.data.src) return;
      this.unload();
      const src = this.data.src;
      if (!src) return this.showLook(true);
      if (!loadableAvatarUrl(src)) return this.fail(src, new Error("the avatar's address is not a web address"));
      this.load(src);
    },

    async load(src) {
      const seq = ++this.loadSeq;
      this.status = "loading";
      try {
        const url = new URL(src, document.baseURI).href;
        const bytes = await download(url);
        const { json } = readGLTF(bytes);
        if (!isAvatar(json)) throw new Error("the file has no node named Head or AvatarRoot, so it is not an avatar");
        const hubs = readHubsComponents(json);
        const gltf = await parse(THREE, this.el.sceneEl, bytes, url);
        if (seq !== this.loadSeq || !this.el.isConnected) return; // another avatar was chosen meanwhile
        this.attach(gltf, json, hubs);
        this.status = "loaded";
        this.el.emit("avatar-model-loaded", { src }, false);
      } catch (err) {
        if (seq === this.loadSeq) this.fail(src, err);
      }
    },

    fail(src, err) {
      this.status = "error";
      this.error = err?.message || String(err);
      console.warn(`toncon avatar: could not load ${src} (${this.error}); showing the built-in look instead`);
      this.showLook(true);
      this.el.emit("avatar-model-error", { src, message: this.error }, false);
    },

    attach(gltf, json, hubs) {
      const model = gltf.scene || gltf.scenes?.[0];
      if (!model) throw new Error("the file has no scene");
      const byNode = new Map();
      model.traverse((o) => {
        const a = gltf.parser?.associations?.get(o);
        if (a && Number.isInteger(a.nodes) && !byNode.has(a.nodes)) byNode.set(a.nodes, o);
        if (o.isMesh) o.frustumCulled = false; // skinned meshes' bounds do not follow their bones
      });
      const bones = {};
      for (const [name, index] of Object.entries(findBones(json))) if (byNode.has(index)) bones[name] = byNode.get(index);

      // Size and facing, from the model at rest: feet on the ground, head at eye height, facing -Z.
      model.updateMatrixWorld(true);
      const box = new THREE.Box3().setFromObject(model);
      const at = (o) => (o ? o.getWorldPosition(new THREE.Vector3()) : null);
      const head = at(bones.Head);
      const fit = fitAvatar({ headHeight: head && box.min.y < head.y ? head.y - box.min.y : null, height: box.isEmpty() ? 0 : box.max.y - box.min.y });
      if (!box.isEmpty()) model.position.y -= box.min.y;
      const holder = new THREE.Group();
      holder.name = "avatar-model";
      holder.add(model);
      holder.scale.setScalar(fit.scale);
      holder.position.y = fit.lift;
      if (facesPlusZ({ Head: head, LeftEye: at(bones.LeftEye), RightEye: at(bones.RightEye) })) holder.rotation.y = Math.PI;
      this.el.object3D.add(holder);
      this.holder = holder;
      this.model = model;
      this.fit = fit;
      this.head = bones.Head || null;
      this.headRest = this.head ? this.head.quaternion.clone() : null;
      this.boneNames = Object.keys(bones);
      this.nodeNames = [];
      model.traverse((o) => o.name && this.nodeNames.push(o.name));

      // Voice feedback: the nodes the file names, with their rest scale; the meshes holding each morph target.
      const fb = readAvatarFeedback(hubs);
      for (const w of [...hubs.warnings, ...fb.warnings]) console.warn(`toncon avatar: ${w}`);
      this.scalers = fb.scale.filter((c) => byNode.has(c.node)).map((c) => ({ c, object: byNode.get(c.node), rest: byNode.get(c.node).scale.clone() }));
      this.morphs = [];
      for (const c of fb.morph) {
        byNode.get(c.node)?.traverse((o) => {
          const i = o.morphTargetDictionary?.[c.name];
          if (o.morphTargetInfluences && Number.isInteger(i)) this.morphs.push({ c, mesh: o, index: i });
        });
      }

      // loop-animation {clip: "a,b"} on any node: those clips play, looped (Hubs' default avatar blinks this way).
      const clips = [];
      for (const n of hubs.nodes) {
        const la = n.components["loop-animation"];
        if (!la || la.paused === true) continue;
        const names = typeof la.clip === "string" ? la.clip.split(",").map((s) => s.trim()).filter(Boolean) : [];
        for (const name of names) {
          const clip = (gltf.animations || []).find((a) => a.name === name);
          if (clip) clips.push(clip);
        }
      }
      this.mixer = clips.length ? new THREE.AnimationMixer(model) : null;
      for (const clip of clips) this.mixer.clipAction(clip).play();

      this.showLook(false);
    },

    unload() {
      this.loadSeq++;
      if (this.holder) {
        this.holder.removeFromParent();
        this.holder.traverse((o) => {
          if (o.geometry) o.geometry.dispose();
          for (const m of Array.isArray(o.material) ? o.material : o.material ? [o.material] : []) {
            for (const v of Object.values(m)) if (v && v.isTexture) v.dispose();
            m.dispose();
          }
        });
      }
      this.mixer?.stopAllAction();
      Object.assign(this, { holder: null, model: null, head: null, headRest: null, mixer: null, scalers: [], morphs: [], boneNames: [], nodeNames: [] });
      this.status = "none";
      this.error = "";
    },

    /** The built-in look's shapes show while there is no model (and after a failed load). */
    showLook(visible) {
      for (const sel of [".body", ".head-shape", ".eye"]) {
        for (const part of this.el.querySelectorAll(sel)) part.object3D.visible = visible;
      }
    },

    tick(time, delta) {
      if (!this.holder) return;
      this.mixer?.update(Math.min(delta, 100) / 1000);
      this.turnHead();
      if (this.scalers.length === 0 && this.morphs.length === 0) return;
      const owner = this.el.components.networked?.data?.owner;
      const level = owner ? voice.levelOf(owner) : 0;
      this.amount = smoothAmount(this.amount, voiceAmount(level), delta);
      for (const s of this.scalers) s.object.scale.copy(s.rest).multiplyScalar(scaleFor(this.amount, s.c));
      for (const m of this.morphs) m.mesh.morphTargetInfluences[m.index] = morphValueFor(this.amount, m.c);
    },

    /**
     * The Head bone takes the synced head pitch, turned about the avatar's own left-right axis whatever the bone's
     * rest orientation: head = parent⁻¹ · (entity · pitch · entity⁻¹) · parent · rest.
     */
    turnHead() {
      const headEl = this.headEl || (this.headEl = this.el.querySelector(".head"));
      if (!this.head || !headEl) return;
      const t = this.tmp;
      this.head.parent.getWorldQuaternion(t.parent);
      this.el.object3D.getWorldQuaternion(t.entity);
      t.pitch.setFromAxisAngle(t.axis, headEl.object3D.rotation.x);
      t.pitch.premultiply(t.entity).multiply(t.rest.copy(t.entity).invert()); // the pitch in world space
      this.head.quaternion.copy(t.parent).premultiply(t.pitch).premultiply(t.rest.copy(t.parent).invert()).multiply(this.headRest);
    },

    remove() {
      this.unload();
      this.showLook(true);
    },

    /** What the model is, for the test hook. */
    describe() {
      return {
        src: this.data.src,
        status: this.status,
        error: this.error || null,
        bones: this.boneNames || [],
        nodeNames: this.nodeNames || [],
        scale: this.fit?.scale ?? null,
        feedback: { scale: this.scalers?.length || 0, morph: this.morphs?.length || 0, amount: Math.round(this.amount * 1000) / 1000 },
      };
    },
  });
}

