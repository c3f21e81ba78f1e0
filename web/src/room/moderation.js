// Moderation in the people list: owners mute and remove people, the creator makes and unmakes owners, and
// everyone may block someone (the two stop seeing each other's chat and avatar updates). The server checks every
// action; a refusal shows its message. Also what happens to the person on the other end: a muted person sees
// "a moderator muted you" with a button to unmute, and a removed person's page says so and does not reconnect
// (the page keeps the session token for the 5 minutes the server bans it, so a reload is refused too).

import { el } from "./dom.js";
import { pushErrorText } from "./messages.js";

/** How long the server keeps a removed session out (hub.KickBan). */
export const REMOVED_MS = 5 * 60 * 1000;

const removedKey = (hubId) => `toncon.removed.${hubId}`;

/**
 * The actions `me` (our presence meta) may take on `target` (theirs): [{action, label}] in menu order. action is
 * the hub channel event. blocked: whether we blocked them.
 */
export function moderationActions(me, target, { self = false, blocked = false } = {}) {
  if (self || !target) return [];
  const can = me?.permissions || {};
  const roles = target.roles || {};
  const out = [];
  if (can.mute_users && !target.muted) out.push({ action: "mute", label: "Mute" });
  if (can.update_roles && roles.signed_in && !roles.owner) out.push({ action: "add_owner", label: "Make owner" });
  if (can.update_roles && roles.owner && !roles.creator) out.push({ action: "remove_owner", label: "Remove as owner" });
  if (can.kick_users) out.push({ action: "kick", label: "Remove from the room" });
  out.push(blocked ? { action: "unblock", label: "Unblock" } : { action: "block", label: "Block" });
  return out;
}

/** Short labels about a person for the list: creator or owner, muted, blocked. */
export function badges(meta, { blocked = false } = {}) {
  const out = [];
  if (meta?.roles?.creator) out.push("creator");
  else if (meta?.roles?.owner) out.push("owner");
  if (meta?.muted) out.push("muted");
  if (blocked) out.push("blocked");
  return out;
}

/** What we tell the moderator once an action went through. */
export function doneText(action, name) {
  switch (action) {
    case "mute": return `${name} is muted.`;
    case "kick": return `${name} was removed from the room.`;
    case "add_owner": return `${name} is now an owner of this room.`;
    case "remove_owner": return `${name} is no longer an owner of this room.`;
    case "block": return `You blocked ${name}: you no longer get each other's messages or movements.`;
    case "unblock": return `You unblocked ${name}.`;
  }
  return "Done.";
}

/** The question asked before an action, or null when it needs none. */
export function confirmText(action, name) {
  if (action === "kick") return `Remove ${name} from the room? They cannot come back for 5 minutes.`;
  return null;
}

/** The session token to come back with, while a removal from this room lasts (the server refuses it then). */
export function removedSessionToken(hubId, storage = globalThis.localStorage, now = Date.now()) {
  try {
    const r = JSON.parse(storage?.getItem(removedKey(hubId)) || "null");
    if (r && typeof r.sessionToken === "string" && r.until > now) return r.sessionToken;
    storage?.removeItem(removedKey(hubId));
  } catch {
    // nothing usable
  }
  return null;
}

export function rememberRemoval(hubId, sessionToken, storage = globalThis.localStorage, now = Date.now()) {
  if (!sessionToken) return;
  try {
    storage?.setItem(removedKey(hubId), JSON.stringify({ sessionToken, until: now + REMOVED_MS }));
  } catch {
    // storage off: a reload is refused by the server only while the session token is still ours
  }
}

/**
 * Mounts moderation. ctx: {hub, hubId, names, showBanner, showFatal}. Returns {extras(person, meta)}: the badges
 * and actions menu for one row of the people list.
 */
export function mountModeration(ctx) {
  const { hub, hubId, names, showBanner, showFatal } = ctx;
  const blocked = new Set();
  let menuFor = null; // the session whose menu is open: the list is rebuilt on every presence change

  const unmute = el("button", { id: "unmute", type: "button", onclick: () => unmuteMe() }, "Unmute");
  const mutedText = el("span", {}, "A moderator muted you.");
  const mutedNotice = el("div", { id: "muted-notice", role: "alert", hidden: true }, mutedText, unmute);
  document.body.append(mutedNotice);

  function setMuted(muted) {
    mutedNotice.hidden = !muted;
    if (muted) mutedText.textContent = "A moderator muted you.";
  }

  async function unmuteMe() {
    unmute.disabled = true;
    const r = await hub.request("unmute");
    unmute.disabled = false;
    if (r.status === "ok") setMuted(false);
    else mutedText.textContent = pushErrorText(r.status, r.response);
  }

  hub.on("mute", () => setMuted(true));
  hub.on("presence", () => {
    const mine = hub.occupants()[hub.sessionId];
    if (mine) setMuted(!!mine.muted);
  });
  hub.on("permissions-updated", () => {
    const mine = hub.occupants()[hub.sessionId];
    showBanner(mine?.roles?.owner ? "You are now an owner of this room." : "You are no longer an owner of this room.", "ok", 5000);
  });

  hub.on("ended", (why) => {
    if (why.reason !== "kicked") return;
    rememberRemoval(hubId, hub.sessionToken);
    mutedNotice.hidden = true;
    showFatal({
      title: "You were removed from the room by a moderator",
      text: "A moderator of this room removed you. You cannot come back for 5 minutes.",
    });
  });

  async function act(action, sessionId) {
    const name = names.name(sessionId);
    const question = confirmText(action, name);
    if (question && !window.confirm(question)) return;
    menuFor = null;
    const r = await hub.request(action, { session_id: sessionId });
    if (r.status !== "ok") {
      showBanner(pushErrorText(r.status, r.response), "warn", 8000);
      return;
    }
    if (action === "block") blocked.add(sessionId);
    if (action === "unblock") blocked.delete(sessionId);
    showBanner(doneText(action, name), "ok", 4000);
    hub.emit("presence"); // redraw the list (block state is ours alone, no presence change tells it)
  }

  function extras(person, meta) {
    const isBlocked = blocked.has(person.sessionId);
    const tags = badges(meta, { blocked: isBlocked });
    const actions = moderationActions(hub.occupants()[hub.sessionId], meta, { self: person.self, blocked: isBlocked });
    if (tags.length === 0 && actions.length === 0) return null;
    const menu = actions.length
      ? el("details", { class: "actions", open: menuFor === person.sessionId },
          el("summary", { "aria-label": `Actions for ${person.displayName}`, title: `Actions for ${person.displayName}` }, "⋯"),
          el("div", { class: "menu" }, ...actions.map(({ action, label }) =>
            el("button", { type: "button", class: action === "kick" ? "danger" : "quiet", "data-action": action, onclick: () => act(action, person.sessionId) }, label))))
      : null;
    menu?.addEventListener("toggle", () => {
      if (menu.open) menuFor = person.sessionId;
      else if (menuFor === person.sessionId) menuFor = null;
    });
    return el("div", { class: "person-extra" },
      ...tags.map((t) => el("span", { class: `badge ${t}` }, t)), menu);
  }

  return { extras };
}
