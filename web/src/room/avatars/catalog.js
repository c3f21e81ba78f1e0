// The avatars a person can choose in the lobby: the built-in looks (drawn from primitives, no file), and the glTF
// avatars GET /api/v1/avatars lists (built in, featured, and the caller's own). What is chosen travels in the
// presence profile as {avatarId, avatarUrl}: the look's id and no URL, or the avatar's sid and its glb URL, which
// every other client loads. Pure, tested in Node.

import { LOOKS, lookById } from "../looks.js";

/** The longest avatarUrl a profile carries (the server refuses longer ones). */
export const MAX_AVATAR_URL = 2048;

/**
 * The choices, in the order the lobby shows them: [{id, name, url, kind, mine}]. kind is "look" (built-in,
 * primitives), "builtin" (a glb the server ships), "featured" or "mine"; url is the glb's URL ("" for a look).
 * list is GET /api/v1/avatars' body (or null when it could not be fetched: then only the looks). The server lists
 * the caller's own avatars and featured ones besides the built-in ones (no account), so an account's avatar that
 * is not featured is the caller's; accountId (the caller's, a decimal string; see accountIdOfToken) also marks the
 * caller's featured avatars mine (kind stays "featured"). Entries without an id or a glb URL are left out, and an
 * id is listed once.
 */
export function avatarChoices(list, accountId = "") {
  const out = LOOKS.map((look) => ({ id: look.id, name: look.name, url: "", kind: "look", mine: false }));
  const seen = new Set(out.map((c) => c.id));
  const avatars = Array.isArray(list?.avatars) ? list.avatars : [];
  const rank = { builtin: 0, featured: 1, mine: 2 };
  const glbs = [];
  for (const a of avatars) {
    if (!a || typeof a.avatar_id !== "string" || a.avatar_id === "" || seen.has(a.avatar_id)) continue;
    if (lookById(a.avatar_id)) continue; // the server lists the looks too; they are drawn from primitives here
    const url = typeof a.gltf_url === "string" ? a.gltf_url : "";
    if (!url || url.length > MAX_AVATAR_URL) continue;
    seen.add(a.avatar_id);
    const kind = a.account_id == null ? "builtin" : a.featured ? "featured" : "mine";
    const mine = kind === "mine" || (!!accountId && a.account_id === accountId);
    glbs.push({ id: a.avatar_id, name: typeof a.name === "string" && a.name.trim() ? a.name.trim() : "Avatar", url, kind, mine });
  }
  glbs.sort((a, b) => rank[a.kind] - rank[b.kind]);
  return out.concat(glbs);
}

/**
 * The account id an account token names (its JWT "sub", a decimal string), or "" for anything that is not such a
 * token. Only read to tell which listed avatars are yours; the server checks the token on every change.
 */
export function accountIdOfToken(token) {
  if (typeof token !== "string") return "";
  const parts = token.split(".");
  if (parts.length !== 3) return "";
  try {
    const payload = JSON.parse(atob(parts[1].replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(parts[1].length / 4) * 4, "=")));
    const sub = payload?.sub;
    return typeof sub === "string" && /^[1-9][0-9]{0,18}$/.test(sub) ? sub : "";
  } catch {
    return "";
  }
}

/**
 * Where the choice worn now goes after the list was fetched again: the same avatar as listed now (with its new
 * URL, when its file was replaced), or, when it is not listed any more, what it was (choiceForProfile keeps it).
 * changed: whether the profile must be sent again (the URL others load is different).
 */
export function followChoice(choices, current) {
  const listed = current && choices.find((c) => c.id === current.id);
  if (!listed) return { choice: current || choices[0], changed: !current };
  return { choice: listed, changed: listed.url !== current.url };
}

/** The profile fields for a choice: {avatarId, avatarUrl}. */
export function profileFields(choice) {
  if (!choice || choice.kind === "look") return { avatarId: choice?.id || LOOKS[0].id, avatarUrl: "" };
  return { avatarId: choice.id, avatarUrl: choice.url };
}

/**
 * Whether an avatarUrl from someone's profile may be loaded: a path on this server or an http(s) URL, at most
 * MAX_AVATAR_URL long. Anything else (javascript:, data:, blob:) is drawn as the default look.
 */
export function loadableAvatarUrl(url) {
  if (typeof url !== "string" || url === "" || url.length > MAX_AVATAR_URL) return false;
  if (url.startsWith("/") && !url.startsWith("//")) return true;
  return /^https?:\/\/[^/\s]+/i.test(url);
}

/**
 * The choice a profile names, among choices: by id; a glb avatar no longer listed (deleted, or signed out) is
 * still worn as long as the profile has its URL; otherwise null (the caller falls back to a look).
 */
export function choiceForProfile(choices, profile) {
  const byId = choices.find((c) => c.id === profile?.avatarId);
  if (byId) return byId;
  if (profile?.avatarId && loadableAvatarUrl(profile.avatarUrl)) {
    return { id: profile.avatarId, name: "Your avatar", url: profile.avatarUrl, kind: "mine", mine: false };
  }
  return null;
}
