// Other people's voices and pictures in the 3D room. Each voice plays from its owner's avatar (a THREE
// PositionalAudio on the avatar's head: it pans with direction and fades with distance), each avatar shows a
// ring while its owner speaks, and a camera or screen share is a video surface above the sharer that turns to
// face whoever looks at it. Everyone in the room sees the same surfaces: they follow the avatars NAF syncs.
//
// What is live comes from RemoteMedia (remote.js): media and avatars are matched by session id, which is both
// the stream id of the tracks the media server forwards and the NAF owner of the avatar.

import { AVATAR_TEMPLATE, EYE_HEIGHT } from "../avatar.js";
import { SpeakingDetector, audioContext, rms } from "./local.js";

/** Distance attenuation: full volume within REF_DISTANCE metres, then 1/distance (the Web Audio inverse model). */
export const REF_DISTANCE = 1.2;
export const ROLLOFF = 1;
const MAX_DISTANCE = 10000;

/** How often avatars are matched to media again when nothing else said so (avatars come and go through NAF). */
const REBIND_MS = 400;

/** Surface widths in metres: a camera is a portrait-sized window, a screen is bigger so text can be read. */
const WIDTH = { camera: 1.1, screen: 2.4 };
/** The surface's bottom edge, above the name tag. */
const SURFACE_BOTTOM = 2.3;

let registered = false;

/**
 * Installs spatial media on the world (world.js's World: scene, camera). remote: RemoteMedia. Returns the
 * Spatial, which the scene ticks.
 */
export function installSpatial(world, remote) {
  const AFRAME = window.AFRAME;
  const THREE = AFRAME.THREE;
  const ctx = audioContext();
  if (ctx) THREE.AudioContext.setContext(ctx);
  const spatial = new Spatial({ THREE, NAF: window.NAF, world, remote, ctx });
  if (!registered) {
    registered = true;
    AFRAME.registerComponent("toncon-media", {
      tick(time) {
        this.el.tonconSpatial?.tick(time);
      },
    });
  }
  world.scene.tonconSpatial = spatial;
  world.scene.setAttribute("toncon-media", "");
  return spatial;
}

export class Spatial {
  constructor({ THREE, NAF, world, remote, ctx }) {
    this.THREE = THREE;
    this.NAF = NAF;
    this.world = world;
    this.remote = remote;
    this.ctx = ctx;
    this.listener = ctx ? new THREE.AudioListener() : null;
    if (this.listener) world.camera.object3D.add(this.listener);
    this.voices = new Map(); // session → Voice
    this.surfaces = new Map(); // session → Surface
    this.seenVersion = -1;
    this.lastBind = 0;
    this.samples = new Float32Array(512);
    this.cameraPosition = new THREE.Vector3();
    this.ownPosition = new THREE.Vector3();
    this.parentQuaternion = new THREE.Quaternion();
    this.parentEuler = new THREE.Euler();
    // Video elements play here: in the document (some browsers do not decode frames of detached ones) but unseen.
    this.videoHost = document.createElement("div");
    this.videoHost.setAttribute("aria-hidden", "true");
    this.videoHost.style.cssText = "position:fixed;left:0;bottom:0;width:2px;height:2px;overflow:hidden;opacity:0.01;pointer-events:none;";
    document.body.append(this.videoHost);
  }

  tick(now) {
    if (this.seenVersion !== this.remote.version || now - this.lastBind > REBIND_MS) {
      this.seenVersion = this.remote.version;
      this.lastBind = now;
      this.bind();
    }
    for (const s of this.surfaces.values()) this.updateSurface(s);
  }

  /** Reads every voice's level and lights the rings; the page calls it on a timer, whatever the frame rate. */
  updateLevels(now) {
    for (const v of this.voices.values()) this.updateVoiceLevel(v, now);
  }

  /** The avatar entity of every session NAF shows: Map session → element. */
  avatars() {
    const out = new Map();
    for (const el of Object.values(this.NAF?.entities?.entities || {})) {
      const data = el?.components?.networked?.data;
      if (!data || data.template !== AVATAR_TEMPLATE || !el.isConnected) continue;
      out.set(data.owner, el);
    }
    return out;
  }

  /** Matches live media to avatars: new voices and surfaces, and away with the ones whose media or avatar went. */
  bind() {
    const view = this.remote.view();
    const avatars = this.avatars();
    for (const [session, v] of this.voices) {
      const live = view.get(session);
      if (!live?.audio || live.audio !== v.track || avatars.get(session) !== v.el) {
        this.disposeVoice(v);
        this.voices.delete(session);
      }
    }
    for (const [session, s] of this.surfaces) {
      const live = view.get(session);
      if (!live?.video || live.video.track !== s.track || avatars.get(session) !== s.el) {
        this.disposeSurface(s);
        this.surfaces.delete(session);
      } else if (live.video.source !== s.source) {
        s.source = live.video.source;
        s.aspect = 0; // resize
      }
    }
    for (const [session, live] of view) {
      const el = avatars.get(session);
      if (!el) continue; // their avatar has not arrived yet: next time
      if (live.audio && !this.voices.has(session)) this.voices.set(session, this.makeVoice(session, live.audio, el));
      if (live.video && !this.surfaces.has(session)) this.surfaces.set(session, this.makeSurface(session, live.video, el));
    }
  }

  makeVoice(session, track, el) {
    const THREE = this.THREE;
    const stream = new MediaStream([track]);
    // Chrome only feeds a remote WebRTC stream into Web Audio while a media element plays it too; muted, so
    // the only sound is the positional one.
    const sink = document.createElement("audio");
    sink.muted = true;
    sink.srcObject = stream;
    sink.play().catch(() => {});
    const v = { session, track, el, sink, audio: null, analyser: null, detector: new SpeakingDetector(), speaking: false, level: 0, ring: null };
    if (this.listener) {
      const audio = new THREE.PositionalAudio(this.listener);
      audio.setMediaStreamSource(stream);
      audio.setDistanceModel("inverse");
      audio.setRefDistance(REF_DISTANCE);
      audio.setRolloffFactor(ROLLOFF);
      audio.setMaxDistance(MAX_DISTANCE);
      audio.panner.panningModel = "HRTF";
      const head = el.querySelector(".head")?.object3D || el.object3D;
      head.add(audio);
      v.audio = audio;
      v.head = head;
      v.analyser = this.ctx.createAnalyser();
      v.analyser.fftSize = 512;
      audio.source.connect(v.analyser);
    }
    // The speaking ring: a halo between the head and the name tag, lit while they talk.
    const ring = new THREE.Mesh(
      new THREE.TorusGeometry(0.24, 0.022, 8, 48),
      new THREE.MeshBasicMaterial({ color: 0x69db7c, transparent: true, opacity: 0.9, depthWrite: false }),
    );
    ring.rotation.x = Math.PI / 2;
    ring.position.y = EYE_HEIGHT + 0.28;
    ring.visible = false;
    ring.name = "speaking-ring";
    el.object3D.add(ring);
    v.ring = ring;
    return v;
  }

  updateVoiceLevel(v, now) {
    if (!v.analyser) return;
    v.analyser.getFloatTimeDomainData(this.samples);
    v.level = rms(this.samples);
    v.speaking = v.detector.update(v.level, now);
    v.ring.visible = v.speaking;
    if (v.speaking) {
      const s = 1 + Math.min(0.35, v.level * 4);
      v.ring.scale.set(s, s, s);
    }
  }

  disposeVoice(v) {
    if (v.audio) {
      try {
        v.audio.source?.disconnect();
        v.audio.disconnect();
      } catch {
        // already disconnected
      }
      v.head?.remove(v.audio);
    }
    v.sink.srcObject = null;
    v.ring.removeFromParent();
    v.ring.geometry.dispose();
    v.ring.material.dispose();
  }

  makeSurface(session, { track, source }, el) {
    const THREE = this.THREE;
    const video = document.createElement("video");
    video.muted = true;
    video.playsInline = true;
    video.autoplay = true;
    video.dataset.session = session;
    video.srcObject = new MediaStream([track]);
    this.videoHost.append(video);
    video.play().catch(() => {});
    const texture = new THREE.VideoTexture(video);
    texture.colorSpace = THREE.SRGBColorSpace;
    const material = new THREE.MeshBasicMaterial({ map: texture, side: THREE.DoubleSide, toneMapped: false });
    const mesh = new THREE.Mesh(new THREE.PlaneGeometry(1, 1), material);
    mesh.name = "video-surface";
    const holder = new THREE.Group();
    holder.add(mesh);
    el.object3D.add(holder);
    return { session, track, source, el, video, texture, material, mesh, holder, aspect: 0 };
  }

  updateSurface(s) {
    const { video } = s;
    const aspect = video.videoWidth > 0 && video.videoHeight > 0 ? video.videoWidth / video.videoHeight : 16 / 9;
    if (aspect !== s.aspect) {
      s.aspect = aspect;
      const w = WIDTH[s.source] || WIDTH.camera;
      const h = w / aspect;
      s.mesh.scale.set(w, h, 1);
      s.holder.position.set(0, SURFACE_BOTTOM + h / 2, 0);
    }
    // Face the viewer, turning about the vertical axis only, like the name tags.
    const camera = this.world.scene.camera;
    if (!camera) return;
    camera.getWorldPosition(this.cameraPosition);
    s.holder.getWorldPosition(this.ownPosition);
    const yaw = Math.atan2(this.cameraPosition.x - this.ownPosition.x, this.cameraPosition.z - this.ownPosition.z);
    let parentYaw = 0;
    if (s.holder.parent) {
      s.holder.parent.getWorldQuaternion(this.parentQuaternion);
      parentYaw = this.parentEuler.setFromQuaternion(this.parentQuaternion, "YXZ").y;
    }
    s.holder.rotation.set(0, yaw - parentYaw, 0);
  }

  disposeSurface(s) {
    s.holder.removeFromParent();
    s.mesh.geometry.dispose();
    s.material.dispose();
    s.texture.dispose();
    s.video.srcObject = null;
    s.video.remove();
  }

  /** How loud session's voice is now, as we hear it: its RMS (0..1; 0 when we do not hear them). For avatars. */
  levelOf(session) {
    return this.voices.get(session)?.level ?? 0;
  }

  /** Whether session's voice is loud now (false when we do not hear them). */
  isSpeaking(session) {
    return !!this.voices.get(session)?.speaking;
  }

  /** What plays where, for the test hook: [{sessionId, voice: {speaking, level}|null, video: {...}|null}]. */
  describe() {
    const sessions = new Set([...this.voices.keys(), ...this.surfaces.keys()]);
    return [...sessions].sort().map((sessionId) => {
      const v = this.voices.get(sessionId);
      const s = this.surfaces.get(sessionId);
      return {
        sessionId,
        voice: v ? { positional: !!v.audio, speaking: v.speaking, level: Math.round(v.level * 1000) / 1000 } : null,
        video: s ? { source: s.source, width: s.video.videoWidth, height: s.video.videoHeight, playing: !s.video.paused, surface: [s.mesh.scale.x, s.mesh.scale.y] } : null,
      };
    });
  }

  dispose() {
    for (const v of this.voices.values()) this.disposeVoice(v);
    for (const s of this.surfaces.values()) this.disposeSurface(s);
    this.voices.clear();
    this.surfaces.clear();
  }
}
