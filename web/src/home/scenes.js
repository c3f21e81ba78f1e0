// The home page's scenes: the list (GET /api/v1/scenes: the built-in samples and every uploaded scene) with a
// button to create a room with each, and, signed in, a form to upload a scene glb as Spoke or the Hubs Blender
// exporter write them (POST /api/v1/media with a progress bar, then POST /api/v1/scenes).

import { el } from "../room/dom.js";
import { loadCredentials } from "../shared/account.js";
import { fetchScenes, sceneDraft } from "../shared/scenes.js";
import { postWithToken, uploadWithProgress } from "../shared/upload.js";

/**
 * Mounts the scenes section. createRoom(sceneId, sceneName) makes a room with that scene and goes there (main.js
 * shares it with the create form). Returns {element, refresh(), setSignedIn(bool)}.
 */
export function mountScenes({ createRoom }) {
  const list = el("ul", { id: "scene-list" });
  const listStatus = el("p", { id: "scene-list-status", class: "status", role: "status" }, "Loading the scenes…");

  const file = el("input", { id: "scene-file", type: "file", accept: ".glb,model/gltf-binary", required: true });
  const name = el("input", { id: "scene-name", maxlength: "64", required: true, autocomplete: "off" });
  const description = el("textarea", { id: "scene-description", rows: "2", maxlength: "64000" });
  const attributions = el("input", { id: "scene-attributions", autocomplete: "off", placeholder: "Who made it, and what it uses" });
  const remix = el("input", { id: "scene-allow-remixing", type: "checkbox" });
  const bar = el("progress", { id: "scene-upload-progress", max: "1", value: "0", hidden: true });
  const status = el("p", { id: "scene-upload-status", class: "status", role: "status", "aria-live": "polite" });
  const send = el("button", { id: "scene-upload-send", type: "submit" }, "Upload the scene");
  const form = el("form", { id: "scene-upload-form", onsubmit: (ev) => { ev.preventDefault(); upload(); } },
    el("label", { for: "scene-file" }, "A scene .glb (from Spoke or the Hubs Blender exporter)"), file,
    el("label", { for: "scene-name" }, "Name"), name,
    el("label", { for: "scene-description" }, "Description"), description,
    el("label", { for: "scene-attributions" }, "Attributions"), attributions,
    el("label", { class: "choice", for: "scene-allow-remixing" }, remix, " Others may remix it"),
    send, bar, status);
  const hint = el("p", { id: "scene-upload-hint", class: "hint" }, "Sign in to upload a scene of your own.");
  const uploadSection = el("details", { id: "scene-upload" }, el("summary", {}, "Upload a scene"), hint, form);
  const element = el("section", { id: "scenes" }, el("h2", {}, "Scenes"),
    el("p", { class: "hint" }, "Start a room in one of these places."), listStatus, list, uploadSection);

  file.addEventListener("change", () => {
    const f = file.files?.[0];
    if (f && !name.value) name.value = f.name.replace(/\.glb$/i, "").slice(0, 64);
  });

  function setSignedIn(signedIn) {
    form.hidden = !signedIn;
    hint.hidden = signedIn;
  }

  async function refresh() {
    let scenes;
    try {
      scenes = await fetchScenes();
    } catch (err) {
      listStatus.textContent = `The scenes could not be loaded (${err.message}).`;
      listStatus.className = "status error";
      return [];
    }
    listStatus.textContent = scenes.length ? "" : "No scenes yet.";
    listStatus.className = "status";
    list.replaceChildren(...scenes.map((sc) => {
      const button = el("button", { type: "button", class: "create-with-scene", "data-scene-id": sc.id }, "Create a room with this scene");
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await createRoom(sc.id, sc.name);
        } finally {
          button.disabled = false;
        }
      });
      return el("li", { class: "scene", "data-scene-id": sc.id },
        el("strong", { class: "scene-name" }, sc.name),
        sc.sample ? el("span", { class: "badge" }, " sample") : null,
        sc.attribution ? el("p", { class: "attribution" }, sc.attribution) : null,
        sc.description ? el("p", { class: "description" }, sc.description.length > 200 ? `${sc.description.slice(0, 199)}…` : sc.description) : null,
        sc.allowRemixing ? el("p", { class: "remix" }, "May be remixed") : null,
        button);
    }));
    return scenes;
  }

  function say(text, kind = "") {
    status.textContent = text;
    status.className = `status ${kind}`.trim();
  }

  async function upload() {
    const credentials = loadCredentials();
    if (!credentials) return say("Sign in first: scenes belong to an account.", "error");
    const f = file.files?.[0];
    if (!f) return say("Choose a .glb file first.", "error");
    const draft = sceneDraft({ name: name.value, description: description.value, attributions: attributions.value, allowRemixing: remix.checked });
    if (draft.error) return say(draft.error, "error");
    send.disabled = true;
    try {
      const media = await uploadWithProgress(f, credentials.token, bar, say);
      say("Checking the scene…");
      const res = await postWithToken("/api/v1/scenes", { scene: { ...draft.scene, file_id: media.file_id, file_access_token: media.meta?.access_token } }, credentials.token);
      const scene = res?.scenes?.[0];
      await refresh();
      say(`Uploaded “${scene?.name || draft.scene.name}”. It is in the list above.`, "ok");
      form.reset();
    } catch (err) {
      say(`The scene was not accepted: ${err.message}`, "error");
    } finally {
      send.disabled = false;
      bar.hidden = true;
    }
  }

  setSignedIn(!!loadCredentials());
  refresh();
  return { element, refresh, setSignedIn };
}
