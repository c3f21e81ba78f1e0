// The lobby's avatar chooser: the built-in looks and the glTF avatars GET /api/v1/avatars lists (built in,
// featured, your own when signed in), and, signed in, a form to upload a glb avatar (POST /api/v1/media with a
// progress bar, then POST /api/v1/avatars) and your own avatars to rename, give a new file or delete (manage.js).
// The server's refusal (a file without Head or AvatarRoot, say) is shown as it says it. The choice is what
// onChange receives and what the page puts in the presence profile: it follows a worn avatar's new file, and falls
// back to a built-in look when the worn avatar is deleted here (one no longer listed for another reason, deleted
// in another tab or signed out, stays worn by its URL).

import "./avatars.css";
import { loadCredentials } from "../../shared/account.js";
import { postWithToken, uploadWithProgress } from "../../shared/upload.js";
import { el } from "../dom.js";
import { lookById } from "../looks.js";
import { accountIdOfToken, avatarChoices, choiceForProfile, followChoice, profileFields } from "./catalog.js";
import { mountMyAvatars } from "./manage.js";

const KIND_LABEL = { builtin: "built in", featured: "featured", mine: "yours" };

/**
 * Mounts the chooser. profile: {avatarId, avatarUrl} chosen now; onChange({avatarId, avatarUrl}) when the person
 * picks another. signedIn(): whether the room's server took our account token (presence roles.signed_in), so a
 * token it refused is never sent. Returns {element, selected(), refresh()}: the page calls refresh() once it knows
 * whether we are signed in, and again when that changes; until then only the looks are listed.
 */
export function mountAvatarChooser({ profile, onChange = () => {}, signedIn: isSignedIn = () => !!loadCredentials() }) {
  let choices = avatarChoices(null);
  let current = choiceForProfile(choices, profile) || choices[0];
  let signedIn = false;

  const fieldset = el("fieldset", { id: "avatar-looks" }, el("legend", {}, "Your avatar"));
  const listStatus = el("p", { id: "avatar-list-status", class: "status", role: "status" });

  const name = el("input", { id: "avatar-upload-name", name: "avatarName", maxlength: "64", placeholder: "Name of the avatar", autocomplete: "off" });
  const file = el("input", { id: "avatar-upload-file", name: "avatarFile", type: "file", accept: ".glb,model/gltf-binary" });
  const send = el("button", { id: "avatar-upload-send", type: "button", onclick: () => upload() }, "Upload");
  const bar = el("progress", { id: "avatar-upload-progress", max: "1", value: "0", hidden: true, "aria-label": "Upload of the avatar" });
  const status = el("p", { id: "avatar-upload-status", class: "status", role: "status", "aria-live": "polite" });
  // Not a <form>: the chooser sits inside the lobby's form, and forms do not nest.
  const form = el("div", { id: "avatar-upload-form", class: "upload-form" },
    el("label", { for: "avatar-upload-file" }, "A .glb file made for Hubs (it needs a node named Head or AvatarRoot)"), file,
    el("label", { for: "avatar-upload-name" }, "Name"), name, send, bar, status);
  const signInHint = el("p", { id: "avatar-upload-hint", class: "hint" }, "Sign in to upload an avatar of your own.");
  const uploadBox = el("details", { id: "avatar-upload" }, el("summary", {}, "Upload an avatar"), signInHint, form);
  const mine = mountMyAvatars({ onChanged: (change) => changed(change) });
  const element = el("div", { id: "avatar-chooser" }, fieldset, listStatus, uploadBox, mine.element);
  name.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter") return;
    ev.preventDefault(); // not the lobby form's Enter the room
    upload();
  });

  fieldset.addEventListener("change", (ev) => {
    const input = ev.target.closest("input[name=look]");
    const choice = input && choices.find((c) => c.id === input.value);
    if (!choice) return;
    current = choice;
    onChange(profileFields(choice));
  });

  function render() {
    const items = [...choices];
    if (current && !items.some((c) => c.id === current.id)) items.push(current); // worn, though no longer listed
    fieldset.replaceChildren(fieldset.firstChild, ...items.map(choiceLabel));
    const input = [...fieldset.querySelectorAll("input[name=look]")].find((i) => i.value === current?.id);
    if (input) input.checked = true;
    form.hidden = !signedIn;
    signInHint.hidden = signedIn;
    mine.render(signedIn ? choices.filter((c) => c.mine) : []);
  }

  function choiceLabel(choice) {
    const slug = choice.kind === "look" ? choice.id.split(":")[1] : choice.id.replace(/[^A-Za-z0-9_-]/g, "_");
    const input = el("input", { type: "radio", name: "look", value: choice.id, id: `${choice.kind === "look" ? "look" : "avatar"}-${slug}`, "data-url": choice.url || null });
    const look = lookById(choice.id);
    const picture = look ? lookSwatch(look) : el("span", { class: "glb-badge", "aria-hidden": "true" }, el("span", {}, "3D"));
    return el("label", { class: `look ${choice.kind}`, for: input.id, title: choice.name }, input, picture,
      el("span", {}, choice.name), choice.kind !== "look" ? el("span", { class: "kind" }, KIND_LABEL[choice.kind] || "") : null);
  }

  async function refresh() {
    const credentials = isSignedIn() ? loadCredentials() : null;
    signedIn = !!credentials;
    try {
      const res = await fetch("/api/v1/avatars", { headers: { accept: "application/json", ...(credentials ? { authorization: `bearer ${credentials.token}` } : {}) } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      choices = avatarChoices(await res.json(), accountIdOfToken(credentials?.token));
      listStatus.textContent = "";
    } catch (err) {
      choices = avatarChoices(null);
      listStatus.textContent = `Only the built-in looks are here: the list of avatars could not be loaded (${err.message}).`;
    }
    const follow = followChoice(choices, current);
    current = follow.choice;
    render();
    if (follow.changed) onChange(profileFields(current)); // the worn avatar has a new file: others load that one
  }

  /**
   * After a change in "Your avatars": the list again. A worn avatar that was deleted gives way to a look, and one
   * given a new file is worn with it at once: the old file is released, so others could no longer load it, even
   * when the list cannot be fetched again.
   */
  async function changed({ change, id, avatar }) {
    if (current?.id === id && change === "deleted") {
      current = choices.find((c) => c.kind === "look") || choices[0];
      onChange(profileFields(current));
    } else if (current?.id === id && change === "replaced" && typeof avatar?.gltf_url === "string" && avatar.gltf_url !== current.url) {
      current = { ...current, url: avatar.gltf_url };
      onChange(profileFields(current));
    }
    await refresh();
  }

  function say(text, kind = "") {
    status.textContent = text;
    status.className = `status ${kind}`.trim();
  }

  async function upload() {
    const credentials = loadCredentials();
    const f = file.files?.[0];
    if (!credentials) return say("Sign in first: avatars belong to an account.", "error");
    if (!f) return say("Choose a .glb file first.", "error");
    const avatarName = name.value.trim() || f.name.replace(/\.glb$/i, "").slice(0, 64) || "My avatar";
    send.disabled = true;
    try {
      const media = await uploadWithProgress(f, credentials.token, bar, say);
      say("Checking the avatar…");
      const res = await postWithToken("/api/v1/avatars", { avatar: { name: avatarName, file_id: media.file_id, file_access_token: media.meta?.access_token } }, credentials.token);
      const avatar = res?.avatars?.[0];
      if (!avatar?.avatar_id) throw new Error("The server did not say which avatar it made.");
      await refresh();
      current = choices.find((c) => c.id === avatar.avatar_id) || { id: avatar.avatar_id, name: avatar.name || avatarName, url: avatar.gltf_url, kind: "mine", mine: true };
      render();
      onChange(profileFields(current));
      say(`Uploaded “${current.name}”: you are wearing it now.`, "ok");
      file.value = "";
      name.value = "";
    } catch (err) {
      say(`The avatar was not accepted: ${err.message}`, "error");
    } finally {
      send.disabled = false;
      bar.hidden = true;
    }
  }

  render();
  return {
    element,
    selected: () => profileFields(current),
    refresh,
    /** Hides the chooser (no 3D here): the built-in look is what the people list shows. */
    set hidden(v) {
      element.hidden = v;
    },
  };
}

/** A small picture of a built-in look: its head and body in their colours and shapes. */
export function lookSwatch(look) {
  return el("span", { class: `swatch ${look.body.primitive}`, "aria-hidden": "true" },
    el("i", { class: "head", style: `background:${look.head.color}` }),
    el("i", { class: "body", style: `background:${look.body.color}` }));
}
