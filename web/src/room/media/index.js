// Voice, camera and screen share on the room page: the lobby's microphone check (a level meter and the device
// pickers), the room's media bar (microphone, camera, screen, devices), speaking indicators in the people list,
// and the wiring between the media server connection (connection.js), what others send (remote.js) and where it
// plays in the 3D room (spatial.js, loaded with the 3D engine).
//
// main.js mounts it, puts `lobbySection` in the lobby form, and tells it when the world is there and when we
// enter or leave the room. window.toncon.media is `api`.

import "./media.css";
import { el, show } from "../dom.js";
import { pushErrorText } from "../messages.js";
import { MediaConnection } from "./connection.js";
import { LocalMedia, SpeakingDetector, audioContext, meterLevel } from "./local.js";
import { RemoteMedia } from "./remote.js";
import { deviceErrorText, deviceLabel } from "./words.js";

/** How often meters and speaking indicators are redrawn. */
const DRAW_MS = 100;

/**
 * ctx: {hub, showBanner(text, kind, ms)}. Returns {lobbySection, setWorld(world), setRoomState(state), api}.
 */
export function mountMedia({ hub, showBanner = () => {} }) {
  const local = new LocalMedia();
  const remote = new RemoteMedia();
  const conn = new MediaConnection({ hub, local, remote });
  let spatial = null;
  let world = null;
  let inRoom = false;

  // ---- the lobby: microphone check and pickers ---------------------------------------------------------------

  const micCheck = el("button", { id: "mic-check", type: "button", class: "quiet", onclick: () => toggleMicCheck() }, "Check my microphone");
  const lobbyMeter = meter("mic-level");
  const pickerError = (text) => {
    if (inRoom) showBanner(text, "warn", 8000);
    else {
      lobbyStatus.textContent = text;
      lobbyStatus.classList.add("error");
    }
  };
  const lobbyPickers = new Pickers(local, "lobby", pickerError);
  const lobbyStatus = el("p", { id: "media-status", class: "status", role: "status" }, "Turn your microphone on here to check it, or later in the room. Others hear you only while it is on.");
  const lobbySection = el("fieldset", { id: "media-setup" },
    el("legend", {}, "Microphone and camera"),
    el("div", { class: "mic-check" }, micCheck, lobbyMeter.element),
    lobbyPickers.element,
    lobbyStatus);
  if (!local.supported) {
    micCheck.disabled = true;
    lobbyStatus.textContent = deviceErrorText({ name: "NotSupportedError" }, "mic");
  }

  async function toggleMicCheck() {
    if (local.mic) {
      local.stopMic();
      lobbyStatus.textContent = "Microphone off: you will enter without it (turn it on in the room at any time).";
      lobbyStatus.classList.remove("error");
      return;
    }
    micCheck.disabled = true;
    lobbyStatus.textContent = "Asking the browser for the microphone…";
    lobbyStatus.classList.remove("error");
    try {
      await local.startMic();
      lobbyStatus.textContent = "Say something: the bar moves when the microphone hears you. You will enter with it on.";
    } catch (err) {
      lobbyStatus.textContent = deviceErrorText(err, "mic");
      lobbyStatus.classList.add("error");
    } finally {
      micCheck.disabled = false;
    }
  }

  // ---- the room: the media bar -------------------------------------------------------------------------------

  const micButton = el("button", { id: "mic-toggle", type: "button", onclick: () => onMicButton() }, "Microphone");
  const micMeter = meter("mic-toggle-level");
  const cameraButton = el("button", { id: "camera-toggle", type: "button", "aria-pressed": "false", onclick: () => onVideoButton("camera") }, "Camera");
  const screenButton = el("button", { id: "screen-toggle", type: "button", "aria-pressed": "false", onclick: () => onVideoButton("screen") }, "Share screen");
  const roomPickers = new Pickers(local, "room", pickerError);
  const devices = el("details", { id: "media-devices" }, el("summary", { "aria-label": "Microphone and camera" }, "Devices"), el("div", { class: "menu" }, roomPickers.element));
  const mediaState = el("span", { id: "media-state", role: "status" });
  const selfView = el("video", { id: "self-view", muted: true, playsinline: true, autoplay: true, hidden: true, "aria-label": "What you share" });
  selfView.muted = true;
  const bar = el("div", { id: "media-bar", hidden: true, role: "toolbar", "aria-label": "Voice and video" },
    el("div", { class: "mic" }, micButton, micMeter.element), cameraButton, screenButton, devices, mediaState);
  if (!navigator.mediaDevices?.getDisplayMedia) screenButton.hidden = true;
  document.body.append(bar, selfView);

  async function onMicButton() {
    if (conn.voice.muted) {
      micButton.disabled = true;
      let unmuted = false;
      try {
        await conn.unmute();
        unmuted = true;
      } catch (err) {
        showBanner(pushErrorText("error", { reason: err.code, message: err.reason }), "warn", 6000);
      } finally {
        micButton.disabled = false;
      }
      if (unmuted && !local.mic) await turnMicOn();
      drawBar();
      return;
    }
    if (!local.mic) {
      await turnMicOn();
      return;
    }
    local.setMicEnabled(!local.mic.enabled);
  }

  async function turnMicOn() {
    micButton.disabled = true;
    try {
      await local.startMic();
    } catch (err) {
      showBanner(deviceErrorText(err, "mic"), "warn", 8000);
    } finally {
      micButton.disabled = false;
      drawBar();
    }
  }

  async function onVideoButton(source) {
    if (local.video?.source === source) {
      local.stopVideo();
      return;
    }
    const button = source === "camera" ? cameraButton : screenButton;
    button.disabled = true;
    try {
      if (source === "camera") await local.startCamera();
      else await local.startScreen();
    } catch (err) {
      showBanner(deviceErrorText(err, source), "warn", 8000);
    } finally {
      button.disabled = false;
      drawBar();
    }
  }

  function drawBar() {
    const voice = conn.voice;
    const blocked = voice.allowed === false;
    const modMuted = voice.muted;
    micButton.classList.toggle("muted", !!local.mic && (!local.mic.enabled || modMuted) && !blocked);
    micButton.classList.toggle("none", !local.mic && !modMuted);
    micButton.disabled = blocked;
    if (blocked) micButton.textContent = "Voice is off here";
    else if (modMuted) micButton.textContent = "Unmute";
    else if (!local.mic) micButton.textContent = "Turn on mic";
    else micButton.textContent = local.mic.enabled ? "Mute" : "Unmute";
    micButton.setAttribute("aria-pressed", String(!!local.mic && !local.mic.enabled));
    micButton.title = blocked ? "Voice chat is turned off for this room" : modMuted ? "A moderator muted you: press to speak again" : local.mic ? "Turn your microphone off or on (M)" : "Use your microphone";
    const video = local.video;
    cameraButton.textContent = video?.source === "camera" ? "Stop camera" : "Camera";
    cameraButton.setAttribute("aria-pressed", String(video?.source === "camera"));
    screenButton.textContent = video?.source === "screen" ? "Stop sharing" : "Share screen";
    screenButton.setAttribute("aria-pressed", String(video?.source === "screen"));
    if (video) {
      if (selfView.srcObject?.getVideoTracks?.()[0] !== video.track) {
        selfView.srcObject = new MediaStream([video.track]);
        selfView.play().catch(() => {});
      }
    } else {
      selfView.srcObject = null;
    }
    show(selfView, inRoom && !!video);
    const s = conn.state;
    mediaState.textContent = s === "connecting" ? "Connecting voice…" : s === "reconnecting" ? "Reconnecting voice…" : s === "refused" ? "Voice unavailable" : "";
    micCheck.textContent = local.mic ? "Turn the microphone off" : "Check my microphone";
  }

  local.on((what) => {
    drawBar();
    if (what === "mic-lost") showBanner("Your microphone stopped (unplugged, or taken by another app). Turn it on again to speak.", "warn", 8000);
    if (what === "video" && !local.video && inRoom) selfView.srcObject = null;
  });
  conn.on((event, detail) => {
    drawBar();
    if (event === "notice") showBanner(detail.text, detail.kind, 8000);
  });

  // M toggles the microphone in the room (not while typing).
  window.addEventListener("keydown", (ev) => {
    if (!inRoom || ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey || (ev.key !== "m" && ev.key !== "M")) return;
    const t = ev.target;
    if (t instanceof HTMLElement && t.closest("input, textarea, select, [contenteditable]")) return;
    onMicButton();
  });

  // ---- meters and speaking indicators ------------------------------------------------------------------------

  const selfSpeaking = new SpeakingDetector();
  setInterval(() => {
    const level = local.level();
    const shown = meterLevel(level);
    lobbyMeter.set(shown);
    micMeter.set(shown);
    const now = performance.now();
    selfSpeaking.update(level, now);
    spatial?.updateLevels(now);
    if (inRoom && spatial?.voices.size > 0) soundHint();
    for (const li of document.querySelectorAll("#people-list li[data-session-id]")) {
      const id = li.getAttribute("data-session-id");
      const heard = inRoom && conn.state === "connected" && conn.voice.allowed && !conn.voice.muted;
      const speaking = id === hub.sessionId ? heard && selfSpeaking.speaking : !!spatial?.isSpeaking(id);
      if (li.classList.contains("speaking") !== speaking) {
        li.classList.toggle("speaking", speaking);
        if (speaking) li.setAttribute("data-speaking", "");
        else li.removeAttribute("data-speaking");
      }
    }
  }, DRAW_MS);

  // ---- the page's hooks --------------------------------------------------------------------------------------

  async function setWorld(w) {
    world = w;
    try {
      const { installSpatial } = await import("./spatial.js");
      spatial = installSpatial(world, remote);
    } catch (err) {
      console.warn("toncon media: spatial audio could not start; voices will not play", err);
    }
  }

  function setRoomState(state) {
    const now = state === "room";
    if (now === inRoom) return;
    inRoom = now;
    show(bar, inRoom);
    if (inRoom) {
      conn.start();
    } else {
      conn.stop();
    }
    drawBar();
  }

  // Browsers keep a page silent until the person interacts with it, and someone put back in the room by a
  // reload has not yet: once there is a voice to hear, say how to hear it.
  let hinted = false;
  function soundHint() {
    const ctx = audioContext();
    if (hinted || !ctx || ctx.state !== "suspended") return;
    hinted = true;
    showBanner("Click anywhere or press a key to hear the people in the room.", "ok");
    ctx.addEventListener("statechange", function resumed() {
      if (ctx.state !== "running") return;
      ctx.removeEventListener("statechange", resumed);
      showBanner("Sound is on.", "ok", 1500);
    });
  }

  window.addEventListener("pagehide", () => conn.stop());

  drawBar();

  const api = {
    get state() {
      return conn.state;
    },
    get voice() {
      return { ...conn.voice };
    },
    get micOn() {
      return local.micOn;
    },
    get sharing() {
      return local.video?.source ?? null;
    },
    level: () => local.level(),
    stats: () => conn.stats(),
    /** Sends a fresh perms token now (it happens by itself a minute before expiry); resolves when done. */
    refreshToken: () => conn.refreshToken(),
    remote: () => [...remote.view()].map(([sessionId, v]) => ({ sessionId, audio: !!v.audio, video: v.video?.source ?? null })),
    spatial: () => spatial?.describe() ?? [],
  };

  return { lobbySection, setWorld, setRoomState, api, conn, local, remote, get world() { return world; } };
}

/** A level meter: a bar that fills with the level (0..1). */
function meter(id) {
  const fill = el("i");
  const element = el("div", { id, class: "level", role: "meter", "aria-label": "Microphone level", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, fill);
  let last = -1;
  return {
    element,
    set(level) {
      const pct = Math.round(level * 100);
      if (pct === last) return;
      last = pct;
      fill.style.width = `${pct}%`;
      element.setAttribute("aria-valuenow", String(pct));
    },
  };
}

/** The microphone and camera pickers, kept in step with the devices and the choice in LocalMedia. */
class Pickers {
  constructor(local, where, onError) {
    this.local = local;
    this.onError = onError;
    this.mic = el("select", { id: `${where}-mic-select`, class: "mic-select", onchange: () => this.pickMic() });
    this.camera = el("select", { id: `${where}-camera-select`, class: "camera-select", onchange: () => this.pickCamera() });
    this.element = el("div", { class: "pickers" },
      el("label", {}, el("span", {}, "Microphone"), this.mic),
      el("label", {}, el("span", {}, "Camera"), this.camera));
    local.on((what) => {
      if (what === "devices" || what === "mic" || what === "video") this.refresh();
    });
    this.refresh();
  }

  async refresh() {
    const { mics, cameras } = await this.local.listDevices();
    fill(this.mic, mics, this.local.prefs.micId, "audioinput", "No microphone found");
    fill(this.camera, cameras, this.local.prefs.cameraId, "videoinput", "No camera found");
  }

  async pickMic() {
    const id = this.mic.value;
    this.local.prefs.micId = id;
    this.local.savePrefs();
    if (!this.local.mic) return;
    try {
      await this.local.startMic(id);
    } catch (err) {
      this.onError(deviceErrorText(err, "mic"));
    }
  }

  async pickCamera() {
    const id = this.camera.value;
    this.local.prefs.cameraId = id;
    this.local.savePrefs();
    if (this.local.video?.source !== "camera") return;
    try {
      await this.local.startCamera(id);
    } catch (err) {
      this.onError(deviceErrorText(err, "camera"));
    }
  }
}

function fill(select, devices, chosen, kind, none) {
  const options = devices.map((d, i) => el("option", { value: d.deviceId }, deviceLabel(d, i, kind)));
  if (options.length === 0) options.push(el("option", { value: "" }, none));
  select.replaceChildren(...options);
  select.disabled = devices.length === 0;
  if (chosen && devices.some((d) => d.deviceId === chosen)) select.value = chosen;
}
