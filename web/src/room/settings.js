// The room settings panel, for owners (whoever's presence permissions include update_hub): name, description,
// room size, who may enter (closing the room asks first), what members may do, and the invite link of an
// invite-only room. Saving sends update_hub (and close_hub to close); the server checks everything again and
// tells everyone with hub_refresh, which the page applies for all (main.js: the room's name; presence: permissions).
// The room's scene is changed apart from the rest (update_scene): a scene from the list, or a pasted link.

import { fetchScenes, sceneChangeTarget } from "../shared/scenes.js";
import { Dialog, closeAllDialogs } from "./dialog.js";
import { el } from "./dom.js";
import { pushErrorText } from "./messages.js";

/** The member permissions, in the server's bit order, with what they let people do. */
export const PERMISSIONS = [
  ["spawn_and_move_media", "Bring in and move media"],
  ["spawn_camera", "Create cameras"],
  ["spawn_drawing", "Draw"],
  ["pin_objects", "Pin objects"],
  ["spawn_emoji", "Send emoji"],
  ["fly", "Fly"],
  ["voice_chat", "Talk (voice chat)"],
  ["text_chat", "Write in the chat"],
];

export const ENTRY_MODES = [
  ["allow", "Anyone with the link"],
  ["invite", "Only people with an invite link"],
  ["deny", "Nobody: close the room"],
];

export const MAX_NAME = 64;
export const MAX_DESCRIPTION = 64000;

/** Whether a presence meta may change the room's settings. */
export function canChangeSettings(meta) {
  return meta?.permissions?.update_hub === true;
}

/** The form's values for a HUB. */
export function settingsFromHub(hub) {
  const perms = {};
  for (const [name] of PERMISSIONS) perms[name] = !!hub?.member_permissions?.[name];
  return {
    name: hub?.name || "",
    description: hub?.description || "",
    room_size: hub?.room_size ?? 24,
    entry_mode: hub?.entry_mode || "allow",
    member_permissions: perms,
  };
}

/** Why the values cannot be saved (a sentence), or "". The server checks again (and knows the size limit). */
export function checkSettings(v) {
  const name = String(v.name ?? "");
  if (name.trim() === "") return "Give the room a name.";
  if ([...name].length > MAX_NAME) return `A room's name has at most ${MAX_NAME} characters.`;
  if ([...String(v.description ?? "")].length > MAX_DESCRIPTION) return `The description has at most ${MAX_DESCRIPTION} characters.`;
  if (!Number.isInteger(v.room_size) || v.room_size < 1) return "The room size is a whole number of people, at least 1.";
  if (!ENTRY_MODES.some(([m]) => m === v.entry_mode)) return "Choose who may enter.";
  return "";
}

/**
 * What to send for values against the current hub: {update, close}. update holds only the fields that change
 * (update_hub's payload; empty when nothing does); close is true when the room is to be closed, which close_hub
 * does (so the entry mode deny is not in update).
 */
export function settingsUpdate(v, hub) {
  const cur = settingsFromHub(hub);
  const update = {};
  const name = String(v.name).trim();
  if (name !== cur.name) update.name = name;
  if (v.description !== cur.description) update.description = v.description;
  if (v.room_size !== cur.room_size) update.room_size = v.room_size;
  const close = v.entry_mode === "deny" && cur.entry_mode !== "deny";
  if (v.entry_mode !== cur.entry_mode && v.entry_mode !== "deny") update.entry_mode = v.entry_mode;
  const changed = {};
  for (const [perm] of PERMISSIONS) {
    if (!!v.member_permissions?.[perm] !== cur.member_permissions[perm]) changed[perm] = !!v.member_permissions[perm];
  }
  if (Object.keys(changed).length) update.member_permissions = { ...cur.member_permissions, ...changed };
  return { update, close };
}

/** The invite link of a room: its URL with ?hub_invite_id=<id>. */
export function inviteLink(roomUrl, inviteId) {
  const u = new URL(roomUrl);
  u.search = "";
  u.hash = "";
  u.searchParams.set("hub_invite_id", inviteId);
  return u.href;
}

/** Mounts the settings button (shown to owners) and dialog. ctx: {hub, nav, leaveButton, showBanner}. */
export function mountSettings(ctx) {
  const { hub, nav, leaveButton, showBanner } = ctx;
  let dirty = false;
  let inviteId = "";

  const button = el("button", { id: "settings-toggle", type: "button", hidden: true, "aria-haspopup": "dialog", title: "Room settings", onclick: () => dialog.open() }, "Settings");
  nav.insertBefore(button, leaveButton);

  const name = el("input", { id: "settings-name", name: "name", maxlength: String(MAX_NAME), required: true, autocomplete: "off" });
  const description = el("textarea", { id: "settings-description", name: "description", rows: "2", maxlength: String(MAX_DESCRIPTION) });
  const roomSize = el("input", { id: "settings-room-size", name: "room_size", type: "number", min: "1", step: "1", required: true });
  const closeWarning = el("p", { id: "close-warning", class: "notice", hidden: true },
    "Closing the room sends everyone out, you too, and nobody can enter it again. You will be asked to confirm.");
  const entry = el("fieldset", { id: "settings-entry" }, el("legend", {}, "Who may enter"),
    ...ENTRY_MODES.map(([mode, label]) => el("label", { class: "choice" },
      el("input", { type: "radio", name: "entry_mode", value: mode, id: `entry-${mode}` }), ` ${label}`)),
    closeWarning);
  const perms = el("fieldset", { id: "settings-permissions" }, el("legend", {}, "Everyone in the room may"),
    ...PERMISSIONS.map(([perm, label]) => el("label", { class: "choice" },
      el("input", { type: "checkbox", name: perm, id: `perm-${perm}` }), ` ${label}`)),
    el("p", { class: "hint" }, "Owners may always do all of these."));
  const status = el("p", { id: "settings-status", class: "status", role: "status", "aria-live": "polite" });
  const save = el("button", { id: "settings-save", type: "submit" }, "Save");

  const inviteInput = el("input", { id: "invite-link", readonly: true, "aria-label": "Invite link" });
  const inviteStatus = el("p", { id: "invite-status", class: "status", role: "status" });
  const inviteSection = el("section", { id: "invite-section", hidden: true },
    el("h3", {}, "Invite link"),
    el("p", { class: "hint" }, "This room is invite only: people need this link to enter. Revoking it makes a new one; the old one stops working."),
    inviteInput,
    el("div", { class: "row" },
      el("button", { id: "invite-copy", type: "button", onclick: () => copyInvite() }, "Copy"),
      el("button", { id: "invite-revoke", type: "button", class: "quiet", onclick: () => revokeInvite() }, "Revoke and make a new link")),
    inviteStatus);

  const form = el("form", { id: "settings-form", onsubmit: (ev) => { ev.preventDefault(); submit(); } },
    el("label", { for: "settings-name" }, "Name"), name,
    el("label", { for: "settings-description" }, "Description"), description,
    el("label", { for: "settings-room-size" }, "Room size (people in the room at once; owners always get in)"), roomSize,
    entry, perms, status, save);
  form.addEventListener("input", () => {
    dirty = true;
    status.textContent = "";
    status.className = "status";
    closeWarning.hidden = read().entry_mode !== "deny" || hub.hub?.entry_mode === "deny";
  });
  // Changing the scene: everyone in the room loads the new one where they stand (main.js, world.js).
  const sceneSelect = el("select", { id: "settings-scene", name: "scene" }, el("option", { value: "" }, "Loading the scenes…"));
  const sceneUrl = el("input", { id: "settings-scene-url", name: "scene_url", type: "url", placeholder: "https://…/scene.glb", autocomplete: "off" });
  const sceneNow = el("p", { id: "settings-scene-now", class: "hint" });
  const sceneStatus = el("p", { id: "settings-scene-status", class: "status", role: "status", "aria-live": "polite" });
  const sceneApply = el("button", { id: "settings-scene-apply", type: "button", onclick: () => changeScene() }, "Change scene");
  const sceneSection = el("section", { id: "scene-section" },
    el("h3", {}, "Scene"), sceneNow,
    el("label", { for: "settings-scene" }, "Choose a scene"), sceneSelect,
    el("label", { for: "settings-scene-url" }, "or paste a link to one (a .glb file, or a scene on this server)"), sceneUrl,
    el("div", { class: "row" }, sceneApply), sceneStatus);
  sceneSelect.addEventListener("change", () => { if (sceneSelect.value) sceneUrl.value = ""; });
  sceneUrl.addEventListener("input", () => { if (sceneUrl.value) sceneSelect.value = ""; });
  const dialog = new Dialog({ id: "settings-dialog", title: "Room settings", body: [form, sceneSection, inviteSection], onOpen: () => { fill(true); loadScenes(); } });

  let scenes = [];
  async function loadScenes() {
    showSceneNow();
    try {
      scenes = await fetchScenes();
    } catch (err) {
      scenes = [];
      sceneSay(`The list of scenes could not be loaded (${err.message}); you can still paste a link.`, "error");
    }
    const chosen = sceneSelect.value;
    sceneSelect.replaceChildren(el("option", { value: "" }, scenes.length ? "Choose…" : "No scenes listed"),
      ...scenes.map((sc) => el("option", { value: sc.id }, sc.attribution ? `${sc.name} (${sc.attribution})` : sc.name)));
    sceneSelect.value = scenes.some((sc) => sc.id === chosen) ? chosen : "";
  }

  function showSceneNow() {
    const sc = hub.hub?.scene;
    sceneNow.textContent = sc?.name ? `Now: ${sc.name}` : sc?.model_url ? `Now: ${sc.model_url}` : "Now: the built-in environment";
  }

  function sceneSay(text, kind = "") {
    sceneStatus.textContent = text;
    sceneStatus.className = `status ${kind}`.trim();
  }

  async function changeScene() {
    const target = sceneChangeTarget({ sceneId: sceneSelect.value, pasted: sceneUrl.value }, location.origin);
    if (target.error) return sceneSay(target.error, "error");
    sceneApply.disabled = true;
    sceneSay("Changing the scene…");
    try {
      const r = await hub.request("update_scene", { url: target.url });
      if (r.status !== "ok") return sceneSay(pushErrorText(r.status, r.response), "error");
      sceneSay("Changed: everyone in the room is loading the new scene.", "ok");
    } finally {
      sceneApply.disabled = false;
    }
  }

  function read() {
    const member = {};
    for (const [perm] of PERMISSIONS) member[perm] = perms.querySelector(`#perm-${perm}`).checked;
    return {
      name: name.value,
      description: description.value,
      room_size: Number(roomSize.value),
      entry_mode: entry.querySelector("input[name=entry_mode]:checked")?.value || "allow",
      member_permissions: member,
    };
  }

  /** Puts the room's current settings in the form (unless the owner is in the middle of editing it). */
  function fill(force = false) {
    if (dirty && !force) return;
    const v = settingsFromHub(hub.hub);
    name.value = v.name;
    description.value = v.description;
    roomSize.value = String(v.room_size);
    for (const input of entry.querySelectorAll("input")) input.checked = input.value === v.entry_mode;
    for (const [perm] of PERMISSIONS) perms.querySelector(`#perm-${perm}`).checked = v.member_permissions[perm];
    closeWarning.hidden = true;
    dirty = false;
    if (force) {
      status.textContent = "";
      status.className = "status";
    }
    showInvite();
  }

  function say(text, kind = "") {
    status.textContent = text;
    status.className = `status ${kind}`.trim();
  }

  async function submit() {
    const v = read();
    const problem = checkSettings(v);
    if (problem) return say(problem, "error");
    const { update, close } = settingsUpdate(v, hub.hub);
    if (!close && Object.keys(update).length === 0) {
      dirty = false;
      return say("Nothing changed.");
    }
    if (close && !window.confirm("Close this room? Everyone in it is sent out, and nobody can enter it again.")) {
      return say("The room stays open.");
    }
    save.disabled = true;
    say("Saving…");
    try {
      if (Object.keys(update).length) {
        const r = await hub.request("update_hub", update);
        if (r.status !== "ok") return say(pushErrorText(r.status, r.response), "error");
      }
      if (close) {
        const r = await hub.request("close_hub");
        if (r.status !== "ok") return say(pushErrorText(r.status, r.response), "error");
      }
      dirty = false;
      say("Saved: everyone in the room sees the change.", "ok");
      showInvite();
    } finally {
      save.disabled = false;
    }
  }

  async function showInvite() {
    const invite = hub.hub?.entry_mode === "invite";
    inviteSection.hidden = !invite;
    if (!invite || !dialog.isOpen || inviteId) {
      if (inviteId) inviteInput.value = inviteLink(roomUrl(), inviteId);
      return;
    }
    const r = await hub.request("fetch_invite");
    if (r.status === "ok" && r.response?.hub_invite_id) {
      inviteId = r.response.hub_invite_id;
      inviteInput.value = inviteLink(roomUrl(), inviteId);
      inviteStatus.textContent = "";
    } else {
      inviteStatus.textContent = pushErrorText(r.status, r.response);
      inviteStatus.className = "status error";
    }
  }

  async function revokeInvite() {
    if (!inviteId) return showInvite();
    const r = await hub.request("revoke_invite", { hub_invite_id: inviteId });
    if (r.status !== "ok") {
      inviteStatus.textContent = pushErrorText(r.status, r.response);
      inviteStatus.className = "status error";
      return;
    }
    inviteId = r.response.hub_invite_id;
    inviteInput.value = inviteLink(roomUrl(), inviteId);
    inviteStatus.textContent = "The old link no longer works. Share this new one.";
    inviteStatus.className = "status ok";
  }

  async function copyInvite() {
    inviteInput.select();
    let ok = false;
    try {
      await navigator.clipboard.writeText(inviteInput.value);
      ok = true;
    } catch {
      ok = document.execCommand("copy");
    }
    inviteStatus.textContent = ok ? "Copied." : "Copy the link from the box above.";
    inviteStatus.className = "status ok";
  }

  function roomUrl() {
    return new URL(hub.hub?.url || location.pathname, location.href).href;
  }

  // Owners see the button; someone who stops being one loses it (and an open panel closes).
  hub.on("presence", () => {
    const allowed = canChangeSettings(hub.occupants()[hub.sessionId]);
    button.hidden = !allowed;
    if (!allowed && dialog.isOpen) {
      dialog.close();
      showBanner("You are no longer an owner of this room, so its settings closed.", "warn", 6000);
    }
  });
  hub.on("hub-refresh", ({ hub: h }) => {
    if (h?.entry_mode === "deny") closeAllDialogs(); // the room is closed: the page says so (main.js)
    else if (dialog.isOpen) {
      fill();
      showSceneNow();
    }
  });
  for (const event of ["join-error", "closed", "ended", "offline"]) hub.on(event, () => closeAllDialogs());
}
