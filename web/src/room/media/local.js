// This browser's own microphone, camera and screen: capturing them with the chosen devices, the choice kept
// across visits, the list of devices for the pickers, and the microphone's level (the lobby's meter, and the
// speaking indicator for ourselves). One AudioContext serves the whole page, spatial audio included.

const PREFS_KEY = "toncon.media.devices";

/** RMS of a block of samples (-1..1). */
export function rms(samples) {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return samples.length ? Math.sqrt(sum / samples.length) : 0;
}

/** A level for a meter, 0..1, from an RMS: -60 dBFS and below is 0, 0 dBFS is 1. */
export function meterLevel(value) {
  if (!(value > 0)) return 0;
  const db = 20 * Math.log10(value);
  return Math.min(1, Math.max(0, (db + 60) / 60));
}

/** Above this RMS (about -42 dBFS) a voice counts as speaking. */
export const SPEAKING_RMS = 0.008;

/**
 * Speaking with a little hysteresis: it starts at once and ends after holdMs of quiet, so the indicator does not
 * flicker between words. Feed it (rms, now) as often as you like.
 */
export class SpeakingDetector {
  constructor({ threshold = SPEAKING_RMS, holdMs = 350 } = {}) {
    this.threshold = threshold;
    this.holdMs = holdMs;
    this.lastLoud = -Infinity;
    this.speaking = false;
  }

  update(value, now) {
    if (value >= this.threshold) this.lastLoud = now;
    this.speaking = now - this.lastLoud <= this.holdMs;
    return this.speaking;
  }
}

let sharedContext = null;

/** The page's AudioContext (made on first use; resumed on the next user gesture if the browser holds it). */
export function audioContext() {
  if (!sharedContext) {
    const Ctx = globalThis.AudioContext || globalThis.webkitAudioContext;
    if (!Ctx) return null;
    sharedContext = new Ctx();
    const resume = () => {
      if (sharedContext.state === "suspended") sharedContext.resume().catch(() => {});
    };
    for (const ev of ["pointerdown", "keydown", "touchend"]) window.addEventListener(ev, resume, { capture: true });
    resume();
  }
  return sharedContext;
}

/** An analyser on a MediaStreamTrack: level() is its RMS now. */
export class TrackLevel {
  constructor(track, ctx = audioContext()) {
    this.ctx = ctx;
    this.source = ctx.createMediaStreamSource(new MediaStream([track]));
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 512;
    this.buffer = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.analyser);
  }

  level() {
    this.analyser.getFloatTimeDomainData(this.buffer);
    return rms(this.buffer);
  }

  close() {
    try {
      this.source.disconnect();
    } catch {
      // already disconnected
    }
  }
}

export class LocalMedia {
  constructor({ storage = globalThis.localStorage, mediaDevices = globalThis.navigator?.mediaDevices } = {}) {
    this.storage = storage;
    this.devices = mediaDevices;
    this.prefs = this.loadPrefs();
    this.mic = null; // MediaStreamTrack
    this.micLevel = null; // TrackLevel
    this.video = null; // {track, source: "camera"|"screen"}
    this.listeners = new Set();
    this.devices?.addEventListener?.("devicechange", () => this.emit("devices"));
  }

  get supported() {
    return !!this.devices?.getUserMedia;
  }

  loadPrefs() {
    try {
      const p = JSON.parse(this.storage?.getItem(PREFS_KEY) || "{}");
      return { micId: typeof p.micId === "string" ? p.micId : "", cameraId: typeof p.cameraId === "string" ? p.cameraId : "" };
    } catch {
      return { micId: "", cameraId: "" };
    }
  }

  savePrefs() {
    try {
      this.storage?.setItem(PREFS_KEY, JSON.stringify(this.prefs));
    } catch {
      // storage off: the choice lasts for this page
    }
  }

  /** {mics, cameras}: [{deviceId, label}] (labels are empty until the browser was allowed a device once). */
  async listDevices() {
    if (!this.devices?.enumerateDevices) return { mics: [], cameras: [] };
    let all = [];
    try {
      all = await this.devices.enumerateDevices();
    } catch {
      return { mics: [], cameras: [] };
    }
    const pick = (kind) => all.filter((d) => d.kind === kind && d.deviceId !== "communications");
    return { mics: pick("audioinput"), cameras: pick("videoinput") };
  }

  /**
   * getUserMedia for one kind ("audio" | "video") with constraints, on deviceId when given. A remembered device that
   * is gone falls back to the default one rather than fail.
   */
  async openDevice(kind, constraints, deviceId) {
    if (!this.supported) throw Object.assign(new Error("no getUserMedia"), { name: "NotSupportedError" });
    try {
      return await this.devices.getUserMedia({ [kind]: deviceId ? { ...constraints, deviceId: { exact: deviceId } } : constraints });
    } catch (err) {
      if (!deviceId || (err?.name !== "OverconstrainedError" && err?.name !== "NotFoundError")) throw err;
      return this.devices.getUserMedia({ [kind]: constraints });
    }
  }

  /**
   * Turns the microphone on (deviceId: a device to switch to; default the remembered one). Resolves with the
   * track; rejects with the getUserMedia error (its name says why).
   */
  async startMic(deviceId = this.prefs.micId) {
    const stream = await this.openDevice("audio", { echoCancellation: true, noiseSuppression: true, autoGainControl: true }, deviceId);
    const track = stream.getAudioTracks()[0];
    const enabled = this.mic ? this.mic.enabled : true;
    this.stopMic(false);
    this.mic = track;
    track.enabled = enabled;
    this.prefs.micId = track.getSettings?.().deviceId || deviceId || "";
    this.savePrefs();
    const ctx = audioContext();
    this.micLevel = ctx ? new TrackLevel(track, ctx) : null;
    track.addEventListener("ended", () => {
      if (this.mic === track) {
        this.stopMic();
        this.emit("mic-lost");
      }
    });
    this.emit("mic");
    return track;
  }

  stopMic(notify = true) {
    this.micLevel?.close();
    this.micLevel = null;
    if (this.mic) this.mic.stop();
    this.mic = null;
    if (notify) this.emit("mic");
  }

  /** Local mute: the track stays (and its sender), it sends silence. */
  setMicEnabled(on) {
    if (this.mic) this.mic.enabled = on;
    this.emit("mute");
  }

  get micOn() {
    return !!this.mic && this.mic.enabled;
  }

  /** The microphone's RMS now (0 when off or muted). */
  level() {
    if (!this.micLevel || !this.micOn) return 0;
    return this.micLevel.level();
  }

  async startCamera(deviceId = this.prefs.cameraId) {
    // Modest: the camera goes to everyone, in simulcast layers made from this.
    const stream = await this.openDevice("video", { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } }, deviceId);
    const track = stream.getVideoTracks()[0];
    this.prefs.cameraId = track.getSettings?.().deviceId || deviceId || "";
    this.savePrefs();
    return this.setVideo(track, "camera");
  }

  async startScreen() {
    if (!this.devices?.getDisplayMedia) throw Object.assign(new Error("no getDisplayMedia"), { name: "NotSupportedError" });
    const stream = await this.devices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    const track = stream.getVideoTracks()[0];
    track.contentHint = "detail";
    return this.setVideo(track, "screen");
  }

  setVideo(track, source) {
    const old = this.video;
    this.video = { track, source };
    if (old && old.track !== track) old.track.stop();
    // The browser's own "stop sharing" button, or a camera unplugged.
    track.addEventListener("ended", () => {
      if (this.video?.track === track) this.stopVideo();
    });
    this.emit("video");
    return track;
  }

  stopVideo() {
    if (!this.video) return;
    this.video.track.stop();
    this.video = null;
    this.emit("video");
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(what) {
    for (const fn of [...this.listeners]) {
      try {
        fn(what);
      } catch (err) {
        console.warn("toncon media: a listener failed", err);
      }
    }
  }
}
