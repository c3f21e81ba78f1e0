// The room page (/<hub_sid>[/<slug>]): the lobby, then the 3D room with avatars, chat and the people list.
//
// The page joins the hub channel at once (room name, counts, people and chat show in the lobby within a round
// trip) while the 3D engine downloads; the room's scene loads behind the lobby with a progress bar, and Enter
// becomes available when it is there.

import "./room.css";
import "./controls.css";
import "./settings.css"; // settings.js stays importable in Node (unit tests), so its styles come in here
import { rememberRoom } from "../shared/api.js";
import { mountAccount, roomJoinParams } from "./account.js";
import { ChatView } from "./chat.js";
import { el, show } from "./dom.js";
import { Entry } from "./entry.js";
import { HubSession } from "./hub-session.js";
import { mountMedia } from "./media/index.js";
import { mountObjects } from "./objects/index.js";
import { mountAvatarChooser } from "./avatars/chooser.js";
import { lookFor } from "./looks.js";
import { joinErrorText, pushErrorText } from "./messages.js";
import { mountModeration, removedSessionToken } from "./moderation.js";
import { mountOffline } from "./offline.js";
import { checkDisplayName, loadProfile, saveProfile } from "./profile.js";
import { NameBook, counts, describeCounts, people } from "./roster.js";
import { mountSettings } from "./settings.js";

const timings = { firstFrameMs: null, joinedMs: null, lobbyReadyMs: null, enterClickedMs: null, inRoomMs: null };
const hubId = decodeURIComponent(location.pathname.split("/")[1] || "");
const REENTER_KEY = `toncon.inRoom.${hubId}`;

let profile = loadProfile();
let world = null;
let worldFailed = false;
let joined = false;
const names = new NameBook();
const roster = {
  version: 0,
  occupants: {},
  profileOf: (id) => roster.occupants[id]?.profile || null,
  // How loud someone is now (RMS), for avatars' voice feedback: our microphone, or their voice as we hear it.
  levelOf: (id) => (id === hub.sessionId ? media.local.level() : world?.scene?.tonconSpatial?.levelOf(id) ?? 0),
};

// ---- the page ------------------------------------------------------------------------------------------------

const app = document.getElementById("app");
const sceneHost = el("div", { id: "scene-host" });

const title = el("h1", { id: "room-title" }, "Joining the room…");
const roomCounts = el("span", { id: "room-counts" });
const peopleToggle = el("button", { id: "people-toggle", type: "button", "aria-expanded": "false", onclick: () => togglePanel("people") }, "People");
const chatToggle = el("button", { id: "chat-toggle", type: "button", "aria-expanded": "true", onclick: () => togglePanel("chat") }, "Chat");
const copyLink = el("button", { id: "copy-link", type: "button", onclick: () => copyRoomLink() }, "Copy link");
const leaveButton = el("button", { id: "leave-room", type: "button", class: "quiet", onclick: () => leave() }, "Leave");
const bar = el("header", { id: "room-bar" },
  el("div", { class: "title" }, title, roomCounts),
  el("nav", {}, peopleToggle, chatToggle, copyLink, leaveButton));

const lobbyName = el("h2", { id: "lobby-room-name" }, "Joining…");
const lobbyCounts = el("p", { id: "lobby-counts", class: "counts" });
const loadBar = el("progress", { id: "load-bar", max: "1", value: "0" });
const loadLabel = el("span", { id: "load-label" }, "Connecting…");
const loadBox = el("div", { id: "load-progress", role: "status" }, loadBar, loadLabel);
const nameInput = el("input", { id: "display-name", name: "displayName", maxlength: "64", autocomplete: "nickname", required: true });
// The avatar chooser (avatars/chooser.js): built-in looks, glTF avatars, and uploading one when signed in.
const avatarChooser = mountAvatarChooser({
  profile,
  onChange: () => updateLobbyProfile(),
  signedIn: () => !!hub.occupants()[hub.sessionId]?.roles?.signed_in,
});
const looks = avatarChooser.element;
const lobbyStatus = el("p", { id: "lobby-status", class: "status", role: "status" });
const enterButton = el("button", { id: "enter-room", type: "submit", disabled: true }, "Loading the room…");
const webglMissing = el("div", { id: "webgl-missing", class: "notice", hidden: true },
  el("strong", {}, "This browser cannot show the 3D room. "),
  "WebGL is turned off or not supported here (hardware acceleration may be disabled, or the graphics driver blocked). " +
    "Turn on hardware acceleration in the browser's settings, or open the link in another browser. You can still chat with the people in the room.");
const lobbyForm = el("form", { id: "lobby-form", onsubmit: (ev) => { ev.preventDefault(); enter(); } },
  el("label", { for: "display-name" }, "Your display name"), nameInput, looks, lobbyStatus, enterButton);
const lobby = el("section", { id: "lobby", class: "card", "aria-labelledby": "lobby-room-name" },
  lobbyName, lobbyCounts, loadBox, webglMissing, lobbyForm);

const peopleList = el("ul", { id: "people-list" });
const peoplePanel = el("aside", { id: "people-panel", class: "panel", hidden: true, "aria-label": "People" }, el("h2", {}, "People"), peopleList);

const banner = el("div", { id: "banner", role: "alert", hidden: true });
const fatalTitle = el("h2", { id: "fatal-title" });
const fatalText = el("p", { id: "fatal-text" });
const fatal = el("section", { id: "fatal", class: "card", hidden: true }, fatalTitle, fatalText,
  el("p", {}, el("a", { href: "/", class: "button" }, "Go to the home page")));

const hub = new HubSession({
  hubId,
  profile: () => ({ displayName: profile.displayName, avatarId: profile.avatarId, avatarUrl: profile.avatarUrl || "" }),
  context: { mobile: /Mobi|Android|iPhone|iPad/i.test(navigator.userAgent), hmd: false, embed: window.self !== window.top },
  joinParams: roomJoinParams, // the account token and the link's invite id
  sessionToken: removedSessionToken(hubId), // set while a moderator's removal lasts: the server refuses it
});
const chat = new ChatView({ hub, names, onUnread: (n) => { chatToggle.textContent = n > 0 ? `Chat (${n})` : "Chat"; } });
const entry = new Entry(hub, onEntryChange);
// Accounts, room settings, moderation and offline notices (account.js, settings.js, moderation.js, offline.js).
const controls = { hub, hubId, names, nav: leaveButton.parentElement, leaveButton, showBanner, showFatal };
mountAccount(controls);
mountSettings(controls);
const moderation = mountModeration(controls);
mountOffline(controls);
// Voice, camera and screen share (media/): the lobby's microphone check, the media bar, spatial audio.
const media = mountMedia({ hub, showBanner });
lobbyForm.insertBefore(media.lobbySection, lobbyStatus);
// Pictures, videos, sounds, PDFs and models people bring into the room, and pinning them (objects/).
const objects = mountObjects({ hub, hubId, showBanner });

app.replaceChildren(sceneHost, bar, lobby, peoplePanel, chat.panel, banner, fatal);
document.body.classList.add("in-lobby");
nameInput.value = profile.displayName;
if (window.matchMedia("(max-width: 700px)").matches) setPanel("chat", false);
for (const panel of [chat.panel, peoplePanel]) panel.addEventListener("focusin", () => bringToFront(panel));
nameInput.addEventListener("change", () => updateLobbyProfile());

function bringToFront(panel) {
  for (const p of [chat.panel, peoplePanel]) p.classList.toggle("front", p === panel);
}

// Enter opens the chat box from anywhere in the room (the keys walk otherwise); Escape leaves it.
window.addEventListener("keydown", (ev) => {
  if (ev.key !== "Enter" || ev.defaultPrevented || ev.isComposing) return;
  const t = ev.target;
  if (t instanceof HTMLElement && t.closest("input, textarea, select, button, a, [contenteditable]")) return;
  if (!fatal.hidden) return;
  ev.preventDefault();
  setPanel("chat", true);
  chat.input.focus();
});

// ---- joining ------------------------------------------------------------------------------------------------

if (!hubId) {
  showFatal({ reason: "not_found" });
} else {
  hub.on("joined", ({ hub: h }) => {
    joined = true;
    timings.joinedMs = Math.round(performance.now());
    showHub(h);
    if (h) rememberRoom({ hub_id: h.hub_id, name: h.name, url: h.url || location.pathname });
    updateEnterButton();
  });
  hub.on("join-error", (err) => showFatal(err));
  hub.on("presence", onPresence);
  hub.on("hub-refresh", ({ hub: h, stale }) => {
    showHub(h);
    if (h?.entry_mode === "deny") showFatal({ reason: "closed" });
    if (stale.includes("scene") && world) {
      showBanner("The room's scene changed: loading it…", "ok");
      sceneHost.dataset.sceneLoading = "1";
      const shown = (f, label) => showBanner(`The room's scene changed: ${label || "loading it"}… ${Math.round(clamp01(f) * 100)}%`, "ok");
      world.changeScene(h?.scene?.model_url || null, shown).finally(() => delete sceneHost.dataset.sceneLoading).then(
        (r) => {
          if (r?.superseded) return;
          if (world.room.error) showBanner(`The room's new scene could not be loaded (${world.room.error}), so you are in a plain room instead.`, "warn", 8000);
          else showBanner(r?.kept ? "The room's new scene is here." : "The room's new scene is here; you are at one of its starting points.", "ok", 3000);
        },
        (err) => showBanner(`The room's new scene could not be loaded: ${err.message}`, "warn", 8000),
      );
    }
  });
  hub.on("connection", (state) => {
    if (state === "lost") showBanner("The connection dropped. Reconnecting…", "warn");
  });
  hub.on("rejoined", async () => {
    showBanner("Reconnected.", "ok", 3000);
    await entry.rejoined();
  });
  hub.on("session-changed", () => location.reload()); // the server no longer knew us: start over cleanly
  hub.on("closed", () => showFatal({ reason: "channel_closed", message: "The server closed your connection to this room. Reload the page to come back" }));
  hub.start().catch(() => {}); // refusals arrive as join-error

  if (!hasWebGL()) {
    worldFailed = true;
    show(webglMissing, true);
    loadBox.hidden = true;
    looks.hidden = true;
    enterButton.hidden = true;
    lobby.classList.add("no-3d");
    updateEnterButton();
  } else {
    loadWorld();
  }
}

async function loadWorld() {
  progress(0.05, "Loading the 3D engine…");
  try {
    const [{ createWorld }] = await Promise.all([import("./world.js"), hub.whenJoined()]);
    progress(0.3, "Building the room…");
    world = await createWorld({
      container: sceneHost,
      hub,
      roster,
      timings,
      modelUrl: hub.hub?.scene?.model_url || null,
      onProgress: (fraction, label) => progress(0.3 + 0.65 * clamp01(fraction), label || "Loading the room…"),
      onSceneError: (err) => showBanner(`The room's scene could not be loaded (${err.message}), so you are in a plain room instead.`, "warn", 8000),
    });
    progress(1, "The room is ready.");
    media.setWorld(world);
    objects.setWorld(world);
    updateEnterButton();
    if (sessionStorage.getItem(REENTER_KEY) && entry.state === "lobby") enter();
  } catch (err) {
    if (hub.failed) return; // the join was refused; that message is already up
    console.error("toncon: the 3D room could not be started", err);
    worldFailed = true;
    progress(0, "");
    lobbyStatus.textContent = `The 3D room could not be started: ${err.message}. Reload the page to try again; you can still chat.`;
    lobbyStatus.classList.add("error");
    updateEnterButton();
  }
}

function progress(fraction, label) {
  loadBar.value = fraction;
  loadLabel.textContent = label;
  loadBox.classList.toggle("done", fraction >= 1);
}

function clamp01(x) {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

function hasWebGL() {
  try {
    const canvas = document.createElement("canvas");
    return !!(window.WebGLRenderingContext && (canvas.getContext("webgl2") || canvas.getContext("webgl")));
  } catch {
    return false;
  }
}

function showHub(h) {
  if (!h) return;
  const name = h.name || "Untitled room";
  title.textContent = name;
  lobbyName.textContent = `Join ${name}`;
  document.title = `${name} · toncon`;
}

function onPresence() {
  const before = roster.occupants;
  const now = hub.occupants();
  roster.occupants = now;
  roster.version++;
  names.update(now);
  const c = counts(now);
  const text = describeCounts(c);
  roomCounts.textContent = text;
  lobbyCounts.textContent = text;
  peopleToggle.textContent = `People (${c.inRoom + c.inLobby})`;
  renderPeople(now);
  // Text chat can be turned off for the room (member_permissions.text_chat); say so instead of failing on send.
  const mine = now[hub.sessionId];
  if (mine?.permissions) chat.setAllowed(mine.permissions.text_chat !== false);
  // Known to be signed in or not, or that changed: the avatar list (your own avatars, the upload form) follows.
  const signedIn = mine ? !!mine.roles?.signed_in : undefined;
  if (signedIn !== undefined && signedIn !== roster.signedIn) {
    roster.signedIn = signedIn;
    if (!worldFailed) avatarChooser.refresh();
  }
  // Lines in the chat about people coming and going (not on the first sync, which is everyone already here).
  if (joined && roster.version > 1) {
    for (const [id, meta] of Object.entries(now)) {
      if (id === hub.sessionId) continue;
      const was = before[id];
      const name = names.name(id);
      if (!was) chat.note(meta.presence === "room" ? `${name} is in the room.` : `${name} joined the lobby.`);
      else if (was.presence !== "room" && meta.presence === "room") chat.note(`${name} entered the room.`);
    }
    for (const id of Object.keys(before)) {
      if (!(id in now) && id !== hub.sessionId) chat.note(`${names.name(id)} left.`);
    }
  }
  // Waiting for a full room: say when a place frees up.
  if (entry.full && entry.state === "lobby" && c.inRoom < (hub.hub?.room_size || Infinity)) {
    lobbyStatus.textContent = "Someone left the room, so there is a place now: try again.";
  }
}

function renderPeople(occupants) {
  peopleList.replaceChildren(...people(occupants, hub.sessionId).map((p) =>
    el("li", { class: `person ${p.where}`, "data-session-id": p.sessionId },
      el("span", { class: "swatch-dot", style: `background:${lookFor(p.avatarId).body.color}`, "aria-hidden": "true" }),
      el("span", { class: "name" }, p.displayName + (p.self ? " (you)" : "")),
      el("span", { class: "where" }, p.where === "room" ? "in the room" : p.entering ? "entering…" : "in the lobby"),
      p.typing ? el("span", { class: "typing" }, "typing…") : null,
      moderation.extras(p, occupants[p.sessionId]))));
}

// ---- entering -----------------------------------------------------------------------------------------------

function updateEnterButton() {
  const ready = joined && world && !worldFailed && !hub.failed;
  const busy = entry.state !== "lobby";
  enterButton.disabled = !ready || busy;
  enterButton.textContent = worldFailed ? "3D is not available" : !ready ? "Loading the room…" : busy ? "Entering…" : entry.full ? "Try again" : "Enter the room";
  if (ready && timings.lobbyReadyMs == null) timings.lobbyReadyMs = Math.round(performance.now());
}

/** Name or look changed in the lobby: remember it and show it to the others (people list, chat) right away. */
async function updateLobbyProfile() {
  const displayName = nameInput.value.trim();
  if (checkDisplayName(displayName)) return; // said when Enter is pressed
  profile = { displayName, ...avatarChooser.selected() };
  saveProfile(profile);
  if (!joined || !hub.canSend()) return;
  const r = await hub.updateProfile(profile);
  if (r.status !== "ok" && entry.state === "lobby") {
    lobbyStatus.textContent = pushErrorText(r.status, r.response);
    lobbyStatus.classList.add("error");
  }
}

async function enter() {
  const displayName = nameInput.value.trim();
  const problem = checkDisplayName(displayName);
  if (problem) {
    lobbyStatus.textContent = problem;
    lobbyStatus.classList.add("error");
    nameInput.focus();
    return;
  }
  nameInput.value = displayName;
  profile = { displayName, ...avatarChooser.selected() };
  saveProfile(profile);
  timings.enterClickedMs = Math.round(performance.now());
  await entry.enter(profile);
}

function onEntryChange({ state, error, full }) {
  lobbyStatus.textContent = error;
  lobbyStatus.classList.toggle("error", !!error);
  lobbyStatus.classList.toggle("full", full);
  media.setRoomState(state);
  objects.setRoomState(state);
  if (state === "room") {
    world?.enterRoom();
    sessionStorage.setItem(REENTER_KEY, "1");
    if (timings.inRoomMs == null) timings.inRoomMs = Math.round(performance.now());
    document.body.classList.replace("in-lobby", "in-room");
    show(lobby, false);
    sceneHost.querySelector("canvas")?.focus();
  } else if (state === "lobby") {
    world?.leaveRoom();
    sessionStorage.removeItem(REENTER_KEY);
    document.body.classList.replace("in-room", "in-lobby");
    show(lobby, true);
  }
  updateEnterButton();
}

// ---- the bar ------------------------------------------------------------------------------------------------

function setPanel(which, open) {
  const [panel, button] = which === "people" ? [peoplePanel, peopleToggle] : [chat.panel, chatToggle];
  show(panel, open);
  if (open) bringToFront(panel);
  button.setAttribute("aria-expanded", String(open));
  if (which === "chat") chat.setVisible(open);
  // On a phone the two panels share the screen's lower half: one at a time.
  if (open && window.matchMedia("(max-width: 700px)").matches) {
    const other = which === "people" ? "chat" : "people";
    const [otherPanel, otherButton] = other === "people" ? [peoplePanel, peopleToggle] : [chat.panel, chatToggle];
    show(otherPanel, false);
    otherButton.setAttribute("aria-expanded", "false");
    if (other === "chat") chat.setVisible(false);
  }
}

function togglePanel(which) {
  const panel = which === "people" ? peoplePanel : chat.panel;
  setPanel(which, panel.hidden);
}

async function copyRoomLink() {
  const url = new URL(hub.hub?.url || location.pathname, location.href);
  url.search = "";
  url.hash = "";
  let ok = false;
  try {
    await navigator.clipboard.writeText(url.href);
    ok = true;
  } catch {
    const box = el("textarea", { readonly: true, style: "position:fixed;opacity:0" }, url.href);
    document.body.append(box);
    box.select();
    ok = document.execCommand("copy");
    box.remove();
  }
  showBanner(ok ? `Link copied: ${url.href}` : `Copy this link: ${url.href}`, "ok", 4000);
}

async function leave() {
  leaveButton.disabled = true;
  sessionStorage.removeItem(REENTER_KEY);
  await Promise.race([hub.leave(), new Promise((resolve) => setTimeout(resolve, 1500))]);
  location.assign("/");
}

let bannerTimer = null;
function showBanner(text, kind = "warn", ms = 0) {
  clearTimeout(bannerTimer);
  banner.textContent = text;
  banner.className = kind;
  show(banner, true);
  if (ms > 0) bannerTimer = setTimeout(() => show(banner, false), ms);
}

function showFatal(err) {
  const { title: t, text } = err.title ? err // already worded: removed, offline, account disabled
    : err.reason === "channel_closed" ? { title: "You are no longer in the room", text: `${err.message}.` } : joinErrorText(err);
  fatalTitle.textContent = t;
  fatalText.textContent = text;
  document.title = `${t} · toncon`;
  show(lobby, false);
  show(fatal, true);
  show(banner, false);
  document.body.classList.add("fatal");
  world?.leaveRoom();
  sessionStorage.removeItem(REENTER_KEY);
}

// ---- the test hook ------------------------------------------------------------------------------------------

// A small, stable surface for the end-to-end tests and for measuring: not an API for anything else.
window.toncon = {
  get state() {
    return entry.state === "room" ? "room" : "lobby";
  },
  get sessionId() {
    return hub.sessionId;
  },
  get ready() {
    return !enterButton.disabled;
  },
  /** Our presence meta's roles and permissions in this room. */
  get roles() {
    return hub.occupants()[hub.sessionId]?.roles ?? null;
  },
  get permissions() {
    return hub.occupants()[hub.sessionId]?.permissions ?? null;
  },
  timings,
  avatarPosition: () => world?.avatarPosition() ?? null,
  scene: () => world?.sceneInfo() ?? null,
  avatar: () => ({ ...profile }),
  remoteAvatars: () =>
    (world?.remoteAvatars() ?? []).map((a) => ({ ...a, displayName: roster.profileOf(a.sessionId)?.displayName ?? null })),
  adapterStats: () => world?.adapter()?.stats ?? null,
  dropConnection: () => hub.dropConnection(),
  media: media.api,
  objects: objects.api,
};
