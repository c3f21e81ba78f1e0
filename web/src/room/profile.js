// The display name and avatar this browser uses, remembered in localStorage so a reload (or the next room) comes
// back with the same ones. Checked here the way the server checks them, so mistakes show before Enter. The avatar
// is a built-in look (avatarId "builtin:…", no avatarUrl) or a glTF avatar (its sid and its glb's avatarUrl).

import { loadableAvatarUrl } from "./avatars/catalog.js";
import { DEFAULT_LOOK, lookById } from "./looks.js";

const KEY = "toncon.profile";
const MAX_NAME = 64;

/** The remembered {displayName, avatarId, avatarUrl}, or a fresh one with a generated name and the default look. */
export function loadProfile(storage = globalThis.localStorage, random = Math.random) {
  let saved = null;
  try {
    saved = JSON.parse(storage?.getItem(KEY) || "null");
  } catch {
    saved = null;
  }
  const name = typeof saved?.displayName === "string" && !checkDisplayName(saved.displayName) ? saved.displayName : generatedName(random);
  return { displayName: name, ...avatarOf(saved) };
}

/** {avatarId, avatarUrl} from a saved or received profile: a known look, a glTF avatar with a usable URL, or the default look. */
export function avatarOf(p) {
  if (lookById(p?.avatarId)) return { avatarId: p.avatarId, avatarUrl: "" };
  if (typeof p?.avatarId === "string" && p.avatarId !== "" && p.avatarId.length <= 256 && loadableAvatarUrl(p?.avatarUrl)) {
    return { avatarId: p.avatarId, avatarUrl: p.avatarUrl };
  }
  return { avatarId: DEFAULT_LOOK.id, avatarUrl: "" };
}

export function saveProfile(profile, storage = globalThis.localStorage) {
  try {
    storage?.setItem(KEY, JSON.stringify({ displayName: profile.displayName, ...avatarOf(profile) }));
  } catch {
    // private mode or storage full: the name just is not remembered
  }
}

/** Why a display name is not accepted (a sentence), or "" when it is fine. Mirrors the server's rules. */
export function checkDisplayName(name) {
  if (typeof name !== "string" || name.trim() === "") return "Type a display name.";
  if ([...name].length > MAX_NAME) return `A display name has at most ${MAX_NAME} characters.`;
  if (name.trim() !== name) return "A display name cannot start or end with a space.";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\ufffd]/.test(name)) return "A display name cannot contain control characters.";
  return "";
}

const ADJECTIVES = ["Quiet", "Bright", "Swift", "Gentle", "Bold", "Curious", "Lucky", "Calm", "Merry", "Clever"];
const ANIMALS = ["Otter", "Heron", "Fox", "Lynx", "Puffin", "Badger", "Koala", "Gecko", "Owl", "Marten"];

function generatedName(random) {
  const pick = (list) => list[Math.floor(random() * list.length) % list.length];
  return `${pick(ADJECTIVES)} ${pick(ANIMALS)} ${Math.floor(random() * 90 + 10)}`;
}
