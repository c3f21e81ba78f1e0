// The DOM of media objects: the "Add media" button and dialog (a file, a link, or one of my uploads), the upload
// progress bar, and the toolbar of the selected object. No 3D here: index.js wires it to the room.

import { Dialog } from "../dialog.js";
import { el, show } from "../dom.js";
import { formatBytes } from "../../shared/upload.js";
import { ACCEPT, kindOf } from "./kinds.js";

/**
 * Builds the controls. actions: {file(File), link(text), pick(entry), refreshMine(), tool(name)}.
 * Returns the elements and small setters.
 */
export function buildObjectsUI(actions) {
  const fileInput = el("input", { id: "objects-file", type: "file", accept: ACCEPT, class: "visually-hidden" });
  fileInput.addEventListener("change", () => {
    const file = fileInput.files?.[0];
    fileInput.value = "";
    if (file) actions.file(file);
  });
  const chooseButton = el("button", { id: "objects-choose", type: "button", onclick: () => fileInput.click() }, "Choose a file…");
  const linkInput = el("input", { id: "objects-link", type: "text", inputmode: "url", spellcheck: "false", placeholder: "https://… a picture, video, sound, PDF or glb", autocomplete: "off" });
  const linkForm = el("form", { id: "objects-link-form", onsubmit: (ev) => { ev.preventDefault(); actions.link(linkInput.value); } },
    el("label", { for: "objects-link" }, "Or paste a link"), el("div", { class: "row" }, linkInput, el("button", { type: "submit", id: "objects-link-add" }, "Show it")));
  const mineList = el("ul", { id: "objects-mine", class: "mine-list" });
  const mineNote = el("p", { id: "objects-mine-note", class: "hint" });
  const mine = el("section", { id: "objects-mine-section" }, el("h3", {}, "My uploads"), mineNote, mineList);
  const status = el("p", { id: "objects-status", class: "status", role: "status" });
  const dialog = new Dialog({
    id: "objects-dialog",
    title: "Add media to the room",
    body: [
      el("p", { class: "hint" }, "Pictures, videos, sounds, PDFs and 3D models (glb). You can also drop a file on the room, or paste a link."),
      el("div", { class: "row" }, chooseButton, fileInput),
      linkForm,
      mine,
      status,
    ],
    onOpen: () => actions.refreshMine(),
  });

  const addButton = el("button", { id: "objects-add", type: "button", title: "Add a picture, video, sound, PDF or model", onclick: () => dialog.open() }, "+ Media");
  const progressBar = el("progress", { id: "objects-progress-bar", max: "1", value: "0" });
  const progressLabel = el("span", { id: "objects-progress-label" });
  const progress = el("div", { id: "objects-progress", role: "status", hidden: true }, progressLabel, progressBar);

  const button = (name, label, title) => el("button", { type: "button", "data-tool": name, title, onclick: () => actions.tool(name) }, label);
  const tools = {
    rotateLeft: button("rotate-left", "⟲", "Turn left"),
    rotateRight: button("rotate-right", "⟳", "Turn right"),
    smaller: button("smaller", "−", "Smaller"),
    bigger: button("bigger", "+", "Bigger"),
    play: button("play", "Play", "Play or pause for everyone"),
    prevPage: button("prev-page", "‹", "Previous page"),
    page: el("span", { class: "page", "data-tool": "page-number" }),
    nextPage: button("next-page", "›", "Next page"),
    pin: button("pin", "Pin", "Keep this object in the room after you leave"),
    remove: button("remove", "🗑", "Remove from the room"),
    close: button("deselect", "×", "Done"),
  };
  tools.remove.setAttribute("aria-label", "Remove");
  tools.close.setAttribute("aria-label", "Done");
  const toolStatus = el("p", { id: "object-tools-status", class: "hint" });
  const toolTitle = el("span", { id: "object-tools-title", class: "title" });
  const toolbar = el("div", { id: "object-tools", role: "toolbar", "aria-label": "The selected object", hidden: true },
    el("div", { class: "row" }, toolTitle, ...Object.values(tools)), toolStatus);

  const root = el("div", { id: "objects-ui" }, addButton, progress, toolbar);

  return {
    root,
    dialog,
    fileInput,
    linkInput,
    addButton,
    toolbar,
    tools,
    say(text, kind = "") {
      status.textContent = text;
      status.className = `status ${kind}`;
    },
    toolSay(text) {
      toolStatus.textContent = text;
    },
    setTitle(text) {
      toolTitle.textContent = text;
    },
    /** fraction in 0..1, or null to hide the bar. */
    progress(fraction, label = "") {
      show(progress, fraction !== null);
      if (fraction === null) return;
      progressBar.value = fraction;
      progressLabel.textContent = label;
    },
    /** entries from GET /api/v1/media/mine, or a note instead. */
    setMine(entries, note = "") {
      mineNote.textContent = note;
      mineList.replaceChildren(...(entries || []).filter((e) => kindOf(e.content_type)).map((e) =>
        el("li", {},
          el("button", { type: "button", class: "pick", "data-file-id": e.file_id, onclick: () => actions.pick(e) },
            el("span", { class: "name" }, e.name || e.file_id),
            el("span", { class: "meta" }, `${kindOf(e.content_type)} · ${formatBytes(e.content_length)}${e.kept ? " · kept" : ""}`)))));
    },
  };
}
