// "Your avatars" in the lobby's chooser: each of the signed-in person's uploaded avatars with Rename, Replace file
// (a new glb, uploaded with a progress bar, then PATCH /api/v1/avatars/<sid> with its file_id and access token) and
// Delete (after a confirm). The server's refusal is shown in its own words; after each change the chooser fetches
// the list again and keeps the person's choice sensible (onChanged).

import { loadCredentials } from "../../shared/account.js";
import { sendJSON, uploadWithProgress } from "../../shared/upload.js";
import { el } from "../dom.js";

/** PATCH /api/v1/avatars/<sid> with fields ({name} or {file_id, file_access_token}); resolves with the AVATAR. */
export async function changeAvatar(sid, fields, token) {
  const body = await send("PATCH", sid, { avatar: fields }, token, "The avatar could not be changed");
  const avatar = body?.avatars?.[0];
  if (!avatar?.avatar_id) throw new Error("The server's answer did not name the avatar.");
  return avatar;
}

/** DELETE /api/v1/avatars/<sid>. */
export async function deleteAvatar(sid, token) {
  await send("DELETE", sid, null, token, "The avatar could not be deleted");
}

function send(method, sid, body, token, fallback) {
  return sendJSON(method, `/api/v1/avatars/${encodeURIComponent(sid)}`, body, token, fallback);
}

/**
 * Mounts the list. onChanged({change: "renamed" | "replaced" | "deleted", id, avatar?}) runs after the server took a
 * change and is awaited (the chooser refreshes there). Returns {element, render(mine)}: render shows mine, the
 * person's own choices ({id, name, url}); an empty list hides the section.
 */
export function mountMyAvatars({ onChanged = async () => {} } = {}) {
  const list = el("ul", { id: "my-avatars-list" });
  const bar = el("progress", { id: "my-avatars-progress", max: "1", value: "0", hidden: true, "aria-label": "Upload of the new file" });
  const status = el("p", { id: "my-avatars-status", class: "status", role: "status", "aria-live": "polite" });
  const element = el("details", { id: "my-avatars", hidden: true }, el("summary", {}, "Your avatars"), list, bar, status);
  let busy = false;

  function say(text, kind = "") {
    status.textContent = text;
    status.className = `status ${kind}`.trim();
  }

  /**
   * Runs one change at a time with the buttons off; a refusal is said in the server's words. Focus, lost when the
   * button pressed was turned off or the list drawn again, goes back to that row's button of the same kind (or,
   * the row gone, the list's first button), so a keyboard user is not sent back to the top of the page.
   */
  async function act(what, id, fn) {
    const credentials = loadCredentials();
    if (!credentials) return say("Sign in again first: your avatars belong to your account.", "error");
    if (busy) return;
    busy = true;
    const origin = document.activeElement;
    for (const b of list.querySelectorAll("button")) b.disabled = true;
    try {
      await fn(credentials.token);
    } catch (err) {
      say(`${what}: ${err.message}`, "error");
    } finally {
      busy = false;
      bar.hidden = true;
      for (const b of list.querySelectorAll("button")) b.disabled = false;
      refocus(origin, id);
    }
  }

  function refocus(origin, id) {
    const active = document.activeElement;
    if (!element.contains(origin) && origin?.isConnected) return; // the change did not start from a button here
    if (active && active !== document.body && active !== origin) return; // the person has moved on
    const row = [...list.children].find((li) => li.dataset.avatarId === id);
    const kind = origin?.classList?.[0];
    const candidates = [origin, kind && row?.querySelector(`.${kind}`), row?.querySelector("button.rename"), list.querySelector("button")];
    const target = candidates.find((e) => e?.isConnected && !e.disabled && e.getClientRects().length > 0);
    target?.focus();
  }

  function item(avatar) {
    const label = el("span", { class: "name" }, avatar.name);
    const nameInput = el("input", { class: "rename-input", maxlength: "64", value: avatar.name, "aria-label": `New name for ${avatar.name}`, autocomplete: "off" });
    const renameButton = el("button", { type: "button", class: "rename", "aria-label": `Rename ${avatar.name}`, "aria-expanded": "false", onclick: () => open(renameForm) }, "Rename");
    const deleteButton = el("button", { type: "button", class: "delete", "aria-label": `Delete ${avatar.name}`, "aria-expanded": "false", onclick: () => open(confirm) }, "Delete");
    const renameForm = el("div", { class: "rename-form", hidden: true }, nameInput,
      el("button", { type: "button", class: "rename-save", onclick: () => rename() }, "Save"),
      el("button", { type: "button", class: "rename-cancel", onclick: () => close(renameButton) }, "Cancel"));
    const file = el("input", { type: "file", class: "replace-file", accept: ".glb,model/gltf-binary", hidden: true, "aria-label": `A new .glb file for ${avatar.name}` });
    const keep = el("button", { type: "button", class: "delete-no", onclick: () => close(deleteButton) }, "Keep it");
    const confirm = el("div", { class: "delete-confirm", hidden: true, role: "alertdialog", "aria-label": `Delete ${avatar.name}?` },
      el("span", {}, `Delete “${avatar.name}”? This cannot be undone.`),
      el("button", { type: "button", class: "delete-yes danger", onclick: () => remove() }, "Delete"), keep);
    const li = el("li", { class: "my-avatar", "data-avatar-id": avatar.id },
      el("div", { class: "row" }, label,
        el("span", { class: "actions" }, renameButton,
          el("button", { type: "button", class: "replace", "aria-label": `Replace the file of ${avatar.name}`, onclick: () => file.click() }, "Replace file"),
          deleteButton)),
      renameForm, file, confirm);

    /** Shows the rename form or the delete confirm (one at a time), focus in it: the name, or "Keep it". */
    function open(part) {
      renameForm.hidden = part !== renameForm;
      confirm.hidden = part !== confirm;
      renameButton.setAttribute("aria-expanded", String(!renameForm.hidden));
      deleteButton.setAttribute("aria-expanded", String(!confirm.hidden));
      if (part === renameForm) {
        nameInput.value = avatar.name;
        nameInput.focus();
        nameInput.select();
      } else if (part === confirm) keep.focus();
    }
    /** Closes both, focus back on the button that opened one. */
    function close(focus) {
      open(null);
      focus.focus();
    }
    nameInput.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        ev.preventDefault();
        close(renameButton);
      }
      if (ev.key !== "Enter") return;
      ev.preventDefault(); // not the lobby form's Enter the room
      rename();
    });
    confirm.addEventListener("keydown", (ev) => {
      if (ev.key !== "Escape") return;
      ev.preventDefault();
      close(deleteButton);
    });
    file.addEventListener("change", () => replace());

    const rename = () => act("The name was not changed", avatar.id, async (token) => {
      const changed = await changeAvatar(avatar.id, { name: nameInput.value }, token);
      await onChanged({ change: "renamed", id: avatar.id, avatar: changed });
      say(`Renamed to “${changed.name}”.`, "ok");
    });
    const replace = () => act("The file was not replaced", avatar.id, async (token) => {
      const f = file.files?.[0];
      file.value = ""; // the same file may be chosen again after a refusal
      if (!f) return;
      const media = await uploadWithProgress(f, token, bar, say);
      say(`Checking ${f.name}…`);
      const changed = await changeAvatar(avatar.id, { file_id: media.file_id, file_access_token: media.meta?.access_token }, token);
      await onChanged({ change: "replaced", id: avatar.id, avatar: changed });
      say(`“${changed.name}” has the new file now.`, "ok");
    });
    // The confirm stays open (its buttons off) until the server answers: refused, it is there to try again or keep.
    const remove = () => act("The avatar was not deleted", avatar.id, async (token) => {
      await deleteAvatar(avatar.id, token);
      await onChanged({ change: "deleted", id: avatar.id });
      say(`Deleted “${avatar.name}”.`, "ok");
    });
    return li;
  }

  return {
    element,
    render(mine) {
      list.replaceChildren(...mine.map(item));
      element.hidden = mine.length === 0;
    },
  };
}
