// Mouse and touch on the 3D room: a press on a media object selects it (look-controls does not see that press, so
// the view stays put) and dragging moves it in an upright plane facing us (with Shift: over the level plane at
// its height, nearer or further); the wheel or a two-finger pinch resizes the selected object; a tap on one of
// the scene's links follows it. A press that hits nothing is left to look-controls.

import { pinchFactor, touchSpread } from "./gestures.js";

const DRAG_START_PX = 4;

export class Pointer {
  /**
   * world: the World (scene, camera); hit(entity): whether an entity is a media object; onSelect(entity|null);
   * beginMove(entity) → bool; endMove(entity); onWheel(entity, deltaY); selected() → entity|null; onLink(link).
   */
  constructor({ world, hit, onSelect, beginMove, endMove, onWheel, onPinch = () => {}, selected, onLink }) {
    const THREE = window.AFRAME.THREE;
    this.THREE = THREE;
    this.world = world;
    this.isMedia = hit;
    this.onSelect = onSelect;
    this.beginMove = beginMove;
    this.endMove = endMove;
    this.onWheel = onWheel;
    this.onPinch = onPinch;
    this.pinch = null;
    this.selected = selected;
    this.onLink = onLink;
    this.raycaster = new THREE.Raycaster();
    this.ndc = new THREE.Vector2();
    this.plane = new THREE.Plane();
    this.point = new THREE.Vector3();
    this.offset = new THREE.Vector3();
    this.drag = null;
    const canvas = world.scene.canvas;
    const host = canvas.parentElement;
    this.canvas = canvas;
    // Capture on the canvas's parent: this runs before look-controls' listeners on the canvas itself.
    host.addEventListener("mousedown", (ev) => this.down(ev, ev.clientX, ev.clientY), true);
    host.addEventListener("touchstart", (ev) => {
      if (ev.touches.length === 1) this.down(ev, ev.touches[0].clientX, ev.touches[0].clientY);
      else if (ev.touches.length === 2 && this.selected()) {
        // Two fingers with an object selected: pinch to resize it. A drag the first finger began ends here, as
        // if lifted (a pinned object keeps where it was dragged to).
        ev.stopPropagation();
        this.up();
        this.pinch = { entity: this.selected(), from: touchSpread(ev.touches), to: touchSpread(ev.touches) };
      }
    }, { capture: true, passive: false });
    window.addEventListener("mousemove", (ev) => this.move(ev.clientX, ev.clientY));
    window.addEventListener("touchmove", (ev) => {
      if (this.pinch && ev.touches.length === 2) {
        ev.preventDefault();
        this.pinch.to = touchSpread(ev.touches);
        return;
      }
      if (this.drag && ev.touches.length === 1) {
        ev.preventDefault();
        this.move(ev.touches[0].clientX, ev.touches[0].clientY);
      }
    }, { passive: false });
    window.addEventListener("mouseup", () => this.up());
    window.addEventListener("touchend", () => {
      const p = this.pinch;
      this.pinch = null;
      const factor = p ? pinchFactor(p.from, p.to) : null;
      if (factor !== null) this.onPinch(p.entity, factor);
      this.up();
    });
    canvas.addEventListener("wheel", (ev) => {
      const e = this.selected();
      if (!e) return;
      ev.preventDefault();
      this.onWheel(e, ev.deltaY);
    }, { passive: false });
  }

  ray(x, y) {
    const rect = this.canvas.getBoundingClientRect();
    this.ndc.set(((x - rect.left) / rect.width) * 2 - 1, -((y - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(this.ndc, this.world.scene.camera);
    return this.raycaster;
  }

  /** The nearest media object (entity) or scene link under the point. */
  pick(x, y) {
    const ray = this.ray(x, y);
    const targets = [...document.querySelectorAll("a-entity.toncon-object")].filter((e) => this.isMedia(e)).map((e) => e.object3D);
    const links = this.world.room?.links || [];
    const hits = ray.intersectObjects([...targets, ...links.map((l) => l.object)], true);
    for (const h of hits) {
      for (let o = h.object; o; o = o.parent) {
        const link = links.find((l) => l.object === o);
        if (link) return { link };
        if (o.el && this.isMedia(o.el)) return { entity: o.el, point: h.point };
      }
    }
    return null;
  }

  down(ev, x, y) {
    if (ev.button !== undefined && ev.button !== 0) return;
    const found = this.pick(x, y);
    if (!found) return;
    ev.stopPropagation(); // look-controls would turn the view
    if (ev.cancelable && ev.type === "touchstart") ev.preventDefault();
    if (found.link) {
      this.onLink(found.link);
      return;
    }
    const e = found.entity;
    this.onSelect(e);
    const THREE = this.THREE;
    const p = new THREE.Vector3();
    e.object3D.getWorldPosition(p);
    // An upright plane facing us through the point grabbed (move sideways and up or down); with Shift, the level
    // plane at that height (move nearer or further).
    const normal = new THREE.Vector3();
    if (ev.shiftKey) normal.set(0, 1, 0);
    else {
      this.world.scene.camera.getWorldDirection(normal);
      normal.y = 0;
      if (normal.lengthSq() < 1e-6) normal.set(0, 0, -1);
      normal.normalize();
    }
    this.plane.setFromNormalAndCoplanarPoint(normal, found.point);
    this.offset.copy(p).sub(found.point);
    this.drag = { entity: e, x, y, started: false };
  }

  move(x, y) {
    const d = this.drag;
    if (!d) return;
    if (!d.started) {
      if (Math.hypot(x - d.x, y - d.y) < DRAG_START_PX) return;
      if (!this.beginMove(d.entity)) {
        this.drag = null;
        return;
      }
      d.started = true;
    }
    if (!this.ray(x, y).ray.intersectPlane(this.plane, this.point)) return;
    const o = d.entity.object3D;
    const target = this.point.add(this.offset);
    if (o.parent) o.parent.worldToLocal(target);
    o.position.copy(target);
  }

  up() {
    const d = this.drag;
    this.drag = null;
    if (d?.started) this.endMove(d.entity);
  }

  /** Where an entity's (or a three.js object's) centre shows on the page (CSS pixels), or null when it is behind us. */
  screenPoint(e) {
    const object = e?.object3D || (e?.isObject3D ? e : null);
    if (!object) return null;
    const v = new this.THREE.Vector3();
    const box = new this.THREE.Box3().setFromObject(object);
    if (box.isEmpty()) object.getWorldPosition(v);
    else box.getCenter(v);
    v.project(this.world.scene.camera);
    if (v.z > 1) return null;
    const rect = this.canvas.getBoundingClientRect();
    return { x: rect.left + ((v.x + 1) / 2) * rect.width, y: rect.top + ((1 - v.y) / 2) * rect.height };
  }
}
