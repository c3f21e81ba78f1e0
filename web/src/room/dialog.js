// A modal dialog over the room (sign-in, room settings): the browser's <dialog>, so it sits above the 3D canvas,
// keeps keyboard focus inside, and closes with Escape.

import { el } from "./dom.js";

const open = new Set();

export class Dialog {
  /** id: the dialog's id (its close button is #<id>-close); title: its heading; body: its content elements. */
  constructor({ id, title, body = [], onOpen = () => {}, onClose = () => {} }) {
    this.onOpen = onOpen;
    this.heading = el("h2", { id: `${id}-title` }, title);
    this.closeButton = el("button", { id: `${id}-close`, type: "button", class: "quiet close", "aria-label": "Close", onclick: () => this.close() }, "×");
    this.element = el("dialog", { id, class: "room-dialog", "aria-labelledby": `${id}-title` },
      el("div", { class: "dialog-box" }, el("header", {}, this.heading, this.closeButton), ...body));
    this.element.addEventListener("close", () => {
      open.delete(this);
      onClose();
    });
    // A click on the backdrop (outside the dialog's box, which has all the padding) closes it too.
    this.element.addEventListener("click", (ev) => {
      if (ev.target === this.element) this.close();
    });
    document.body.append(this.element);
  }

  get isOpen() {
    return this.element.open;
  }

  open() {
    if (this.element.open) return;
    open.add(this);
    this.element.showModal();
    this.onOpen();
  }

  close() {
    if (this.element.open) this.element.close();
  }
}

/** Closes every open dialog (the page is ending: kicked, offline, room closed). */
export function closeAllDialogs() {
  for (const d of [...open]) d.close();
}
