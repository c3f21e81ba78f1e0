// Avatars: the networked template others see (body, head with eyes, name tag), the NAF schema that syncs it, and
// the components that drive it. The local person is a rig (movement-controls) with a camera; a separate networked
// entity follows the rig each frame, so what is synced is the avatar's feet, its heading and its head's pitch,
// whatever the controls do. Name and look come from the owner's presence profile, not from NAF: a built-in look
// (avatarId) is drawn from primitives, an uploaded or Hubs avatar (avatarUrl) by avatar-model (avatars/model.js).

import { loadableAvatarUrl } from "./avatars/catalog.js";
import { registerAvatarModel } from "./avatars/model.js";
import { geometryOf, lookFor } from "./looks.js";
import { fitText } from "./objects/render.js";

/** The NAF template; its id ends in -avatar, so the server relays its first sync (protocol.md check 1). */
export const AVATAR_TEMPLATE = "#toncon-avatar";

/** What NAF syncs: the avatar root's position and heading, and the head's pitch. */
export const AVATAR_SCHEMA = {
  template: AVATAR_TEMPLATE,
  components: ["position", "rotation", { selector: ".head", component: "rotation" }],
};

export const EYE_HEIGHT = 1.6;

/** The <template> element for AVATAR_TEMPLATE (one child, as NAF requires). */
export function avatarTemplate() {
  const t = document.createElement("template");
  t.id = AVATAR_TEMPLATE.slice(1);
  t.innerHTML = `
    <a-entity class="avatar" avatar-look avatar-model>
      <a-entity class="body" position="0 0.65 0" shadow="cast: true"></a-entity>
      <a-entity class="head" position="0 ${EYE_HEIGHT} 0">
        <a-entity class="head-shape" shadow="cast: true"></a-entity>
        <a-entity class="eye" geometry="primitive: sphere; radius: 0.035" material="color: #1d1d1f; shader: flat" position="-0.065 0.03 -0.16"></a-entity>
        <a-entity class="eye" geometry="primitive: sphere; radius: 0.035" material="color: #1d1d1f; shader: flat" position="0.065 0.03 -0.16"></a-entity>
      </a-entity>
      <a-entity class="name-tag" position="0 2.05 0" name-tag></a-entity>
    </a-entity>`;
  return t;
}

/**
 * Registers the components. `roster` is how avatars learn names and looks:
 *   roster.profileOf(sessionId) → {displayName, avatarId, avatarUrl} | null, and roster.version (bumped on every
 *   change); and how loud each person is: roster.levelOf(sessionId) → their voice's RMS now (0..1).
 */
export function registerAvatarComponents(AFRAME, roster) {
  const THREE = AFRAME.THREE;
  registerAvatarModel(AFRAME, roster); // voice feedback asks roster.levelOf

  // Gives a remote avatar its owner's look and name, and keeps them current as presence changes.
  AFRAME.registerComponent("avatar-look", {
    schema: { avatarId: { default: "" }, avatarUrl: { default: "" }, displayName: { default: "" } },

    init() {
      this.seenVersion = -1;
    },

    update() {
      const look = lookFor(this.data.avatarId);
      const body = this.el.querySelector(".body");
      const head = this.el.querySelector(".head-shape");
      if (body) {
        body.setAttribute("geometry", geometryOf(look.body));
        body.setAttribute("material", { color: look.body.color, roughness: 0.8 });
        body.object3D.position.y = (look.body.height || 1.3) / 2;
      }
      if (head) {
        head.setAttribute("geometry", geometryOf(look.head));
        head.setAttribute("material", { color: look.head.color, roughness: 0.7 });
      }
      const tag = this.el.querySelector(".name-tag");
      if (tag) tag.setAttribute("name-tag", "text", this.data.displayName);
      const src = loadableAvatarUrl(this.data.avatarUrl) ? this.data.avatarUrl : "";
      if (this.el.getAttribute("avatar-model")?.src !== src) this.el.setAttribute("avatar-model", "src", src);
    },

    tick() {
      if (this.seenVersion === roster.version) return;
      const owner = this.el.components.networked?.data?.owner;
      if (!owner) return;
      this.seenVersion = roster.version;
      const profile = roster.profileOf(owner);
      if (!profile) return;
      const avatarUrl = typeof profile.avatarUrl === "string" ? profile.avatarUrl : "";
      if (profile.avatarId !== this.data.avatarId || avatarUrl !== this.data.avatarUrl || profile.displayName !== this.data.displayName) {
        this.el.setAttribute("avatar-look", { avatarId: profile.avatarId || "", avatarUrl, displayName: profile.displayName || "" });
      }
    },
  });

  // A name drawn on a canvas and shown on a plane that turns to face the camera. A canvas rather than A-Frame's
  // text component: that one loads its font from a CDN at run time, which a self-hosted room must not need, and
  // its bitmap fonts cover few scripts, while display names may be written in any.
  AFRAME.registerComponent("name-tag", {
    schema: { text: { default: "" } },

    init() {
      this.canvas = document.createElement("canvas");
      this.canvas.width = 512;
      this.canvas.height = 96;
      this.texture = new THREE.CanvasTexture(this.canvas);
      this.texture.colorSpace = THREE.SRGBColorSpace;
      this.material = new THREE.MeshBasicMaterial({ map: this.texture, transparent: true, depthWrite: false });
      this.mesh = new THREE.Mesh(new THREE.PlaneGeometry(1.4, 0.2625), this.material);
      this.mesh.renderOrder = 10;
      this.el.setObject3D("mesh", this.mesh);
      this.cameraPosition = new THREE.Vector3();
      this.ownPosition = new THREE.Vector3();
      this.parentQuaternion = new THREE.Quaternion();
      this.parentEuler = new THREE.Euler();
    },

    update() {
      const ctx = this.canvas.getContext("2d");
      const { width, height } = this.canvas;
      ctx.clearRect(0, 0, width, height);
      const text = this.data.text;
      this.mesh.visible = text !== "";
      if (!text) return;
      ctx.font = "600 52px system-ui, sans-serif";
      const shown = fitText(ctx, text, width - 48);
      const w = Math.min(width, ctx.measureText(shown).width + 48);
      ctx.fillStyle = "rgba(20, 22, 30, 0.72)";
      roundRect(ctx, (width - w) / 2, 8, w, height - 16, 28);
      ctx.fill();
      ctx.fillStyle = "#ffffff";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(shown, width / 2, height / 2 + 2);
      this.texture.needsUpdate = true;
    },

    tick() {
      const camera = this.el.sceneEl.camera;
      if (!camera || !this.mesh.visible) return;
      camera.getWorldPosition(this.cameraPosition);
      this.el.object3D.getWorldPosition(this.ownPosition);
      // Turn about the vertical axis only, so tags stay upright.
      const yaw = Math.atan2(this.cameraPosition.x - this.ownPosition.x, this.cameraPosition.z - this.ownPosition.z);
      let parentYaw = 0;
      if (this.el.object3D.parent) {
        this.el.object3D.parent.getWorldQuaternion(this.parentQuaternion);
        parentYaw = this.parentEuler.setFromQuaternion(this.parentQuaternion, "YXZ").y;
      }
      this.el.object3D.rotation.set(0, yaw - parentYaw, 0);
    },

    remove() {
      this.el.removeObject3D("mesh");
      this.texture.dispose();
      this.material.dispose();
      this.mesh.geometry.dispose();
    },
  });

  // On the local networked avatar: copy the rig's feet, the camera's heading onto the avatar, and the camera's
  // pitch onto its head, every frame, so NAF syncs what the person sees from.
  AFRAME.registerComponent("follow-player", {
    schema: { rig: { type: "selector" }, camera: { type: "selector" } },

    init() {
      this.position = new THREE.Vector3();
      this.rigPosition = new THREE.Vector3();
      this.quaternion = new THREE.Quaternion();
      this.euler = new THREE.Euler(0, 0, 0, "YXZ");
      this.head = this.el.querySelector(".head");
    },

    tick() {
      const { rig, camera } = this.data;
      if (!rig || !camera) return;
      // Feet under the head: in VR the headset moves about inside the rig (room scale), on a screen it sits
      // straight above the rig's origin.
      rig.object3D.getWorldPosition(this.rigPosition);
      camera.object3D.getWorldPosition(this.position);
      this.position.y = this.rigPosition.y;
      camera.object3D.getWorldQuaternion(this.quaternion);
      this.euler.setFromQuaternion(this.quaternion, "YXZ");
      this.el.object3D.position.copy(this.position);
      this.el.object3D.rotation.set(0, this.euler.y, 0);
      if (!this.head) this.head = this.el.querySelector(".head");
      if (this.head) this.head.object3D.rotation.set(this.euler.x, 0, 0);
    },
  });
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}
