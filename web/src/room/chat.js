// The chat panel: messages with their senders' display names, lines about people coming and going, and a box to
// write in. Sending waits for the server's answer, so a refused message (too fast, too long, chat turned off)
// stays in the box with the reason under it.

import { el } from "./dom.js";
import { pushErrorText } from "./messages.js";

const MAX_LINES = 200;

export class ChatView {
  /** hub: the HubSession; names: a NameBook; onUnread(n) when lines arrive while the panel is closed. */
  constructor({ hub, names, onUnread = () => {} }) {
    this.hub = hub;
    this.names = names;
    this.onUnread = onUnread;
    this.unread = 0;
    this.visible = true;
    this.typing = false;

    this.log = el("ul", { id: "chat-log", "aria-live": "polite", "aria-label": "Chat messages" });
    this.input = el("input", {
      id: "chat-input", name: "chat", maxlength: "1000", autocomplete: "off", placeholder: "Say something…", "aria-label": "Chat message",
      oninput: () => this.setTyping(this.input.value.trim() !== ""),
      onblur: () => this.setTyping(false),
      onkeydown: (ev) => {
        if (ev.key === "Escape") this.input.blur();
      },
    });
    this.status = el("p", { id: "chat-status", class: "status", role: "status" });
    this.button = el("button", { id: "chat-send", type: "submit" }, "Send");
    this.form = el("form", { id: "chat-form", onsubmit: (ev) => this.submit(ev) }, this.input, this.button);
    this.panel = el("aside", { id: "chat-panel", class: "panel", "aria-label": "Chat" },
      el("h2", {}, "Chat"), this.log, this.status, this.form);
    this.placeholder = el("li", { class: "system" }, "Messages you and others write show up here.");
    this.log.append(this.placeholder);

    hub.on("message", (m) => {
      if (m?.type === "chat" && typeof m.body === "string") this.add(m.session_id, m.body);
    });
  }

  async submit(ev) {
    ev.preventDefault();
    const body = this.input.value.trim();
    if (!body) return;
    this.button.disabled = true;
    this.status.textContent = "";
    const r = await this.hub.request("message", { type: "chat", body });
    this.button.disabled = false;
    if (r.status === "ok") {
      this.input.value = "";
      this.setTyping(false);
      // Back to walking: the keys move the avatar again (Enter comes back to the box, see main.js).
      this.input.blur();
    } else {
      this.status.textContent = pushErrorText(r.status, r.response);
      this.status.classList.add("error");
    }
  }

  setTyping(typing) {
    if (typing === this.typing || !this.hub.canSend()) return;
    this.typing = typing;
    this.hub.tell(typing ? "events:begin_typing" : "events:end_typing");
  }

  /** A message from sessionId. */
  add(sessionId, body) {
    const self = sessionId === this.hub.sessionId;
    this.line(el("li", { class: self ? "chat self" : "chat" },
      el("strong", { class: "who" }, self ? `${this.names.name(sessionId)} (you)` : this.names.name(sessionId)),
      el("span", { class: "body" }, body)));
  }

  /** A line about the room itself (someone came or went). */
  note(text) {
    this.line(el("li", { class: "system" }, text));
  }

  line(li) {
    this.placeholder.remove();
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    this.log.append(li);
    while (this.log.children.length > MAX_LINES) this.log.firstElementChild.remove();
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
    if (!this.visible && li.classList.contains("chat")) {
      this.unread++;
      this.onUnread(this.unread);
    }
  }

  /** Whether we may write (the room's text_chat permission). */
  setAllowed(allowed) {
    this.input.disabled = !allowed;
    this.button.disabled = !allowed;
    this.input.placeholder = allowed ? "Say something…" : "Text chat is turned off in this room";
  }

  setVisible(visible) {
    this.visible = visible;
    if (visible) {
      this.unread = 0;
      this.onUnread(0);
      this.log.scrollTop = this.log.scrollHeight;
    }
  }
}
