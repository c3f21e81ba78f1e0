// The sign-in box the home page and the room share: an email form, then "check your email" while this page waits
// for the link to be opened, then who is signed in with a way to sign out.

import { el } from "../room/dom.js";
import { SignInRequest, checkEmail, clearCredentials, loadCredentials, saveCredentials, sentText, signInErrorText } from "./account.js";

export class AccountBox {
  /**
   * socket(): the phoenix Socket to ask on (opened if needed). accept({token, email}) resolves {ok, message}: the
   * room signs in on its hub channel there, and a refusal keeps the credentials out. signOut() runs before the
   * credentials are forgotten. onChange(credentials|null) after every change. hint: a line shown above the form.
   * release(): the wait for a link is over (signed in, refused, expired or cancelled); the home page closes its
   * socket there, so a visitor who is not in a room holds no connection.
   */
  constructor({ socket, accept = async () => ({ ok: true }), signOut = async () => {}, onChange = () => {}, release = () => {}, hint = "" }) {
    this.socket = socket;
    this.release = release;
    this.accept = accept;
    this.signOutHook = signOut;
    this.onChange = onChange;
    this.request = null;

    this.hint = el("p", { id: "sign-in-hint", class: "hint", hidden: !hint }, hint);
    this.email = el("input", { id: "sign-in-email", type: "email", name: "email", autocomplete: "email", required: true, placeholder: "name@example.org" });
    this.send = el("button", { id: "sign-in-send", type: "submit" }, "Email me a sign-in link");
    this.status = el("p", { id: "sign-in-status", class: "status", role: "status", "aria-live": "polite" });
    this.cancel = el("button", { id: "sign-in-cancel", type: "button", class: "quiet", hidden: true, onclick: () => this.startOver() }, "Use another address");
    this.form = el("form", { id: "sign-in-form", onsubmit: (ev) => { ev.preventDefault(); this.ask(); } },
      el("label", { for: "sign-in-email" }, "Sign in with your email"),
      el("div", { class: "row" }, this.email, this.send));
    this.who = el("strong", { id: "signed-in-email" });
    this.signedIn = el("div", { id: "signed-in", hidden: true },
      el("p", { id: "signed-in-as" }, "Signed in as ", this.who),
      el("button", { id: "sign-out", type: "button", class: "quiet", onclick: () => this.signOut() }, "Sign out"));
    this.element = el("section", { id: "account", "aria-label": "Your account" }, this.hint, this.form, this.status, this.cancel, this.signedIn);
    this.render(loadCredentials());
  }

  get credentials() {
    return loadCredentials();
  }

  setHint(text) {
    this.hint.textContent = text;
    this.hint.hidden = !text;
  }

  /** Shows a sentence in the box (a refused sign-in, say). */
  say(text, kind = "") {
    this.status.textContent = text;
    this.status.className = `status ${kind}`.trim();
  }

  render(credentials) {
    const signedIn = !!credentials;
    this.form.hidden = signedIn;
    this.signedIn.hidden = !signedIn;
    this.who.textContent = credentials?.email || "your account";
    if (signedIn) this.cancel.hidden = true;
  }

  async ask() {
    const email = this.email.value.trim();
    const problem = checkEmail(email);
    if (problem) {
      this.say(problem, "error");
      this.email.focus();
      return;
    }
    this.request?.cancel();
    this.send.disabled = true;
    this.email.disabled = true;
    this.say("Asking for a sign-in link…");
    const request = new SignInRequest({
      socket: this.socket(),
      email,
      onCredentials: (c) => this.arrived(c),
      onExpired: () => {
        if (this.request !== request) return;
        this.startOver(); // also releases
        this.say("The sign-in link was not opened in time. Ask for a new one.", "error");
      },
    });
    this.request = request;
    const r = await request.send();
    if (this.request !== request) return;
    if (r.status === "ok") {
      this.say(sentText(email, r.response), "waiting");
      this.send.hidden = true;
      this.cancel.hidden = false;
    } else {
      this.request = null;
      this.release();
      this.send.disabled = false;
      this.email.disabled = false;
      this.say(signInErrorText(r.status, r.response), "error");
    }
  }

  async arrived(credentials) {
    this.request = null;
    this.say("Signing you in…");
    const r = await this.accept(credentials);
    this.release();
    this.resetForm();
    if (!r.ok) {
      this.say(r.message, "error");
      return;
    }
    saveCredentials(credentials);
    this.say("");
    this.render(credentials);
    this.onChange(credentials);
  }

  startOver() {
    if (this.request) {
      this.request.cancel();
      this.release();
    }
    this.request = null;
    this.resetForm();
    this.say("");
    this.email.focus();
  }

  resetForm() {
    this.send.disabled = false;
    this.send.hidden = false;
    this.email.disabled = false;
    this.cancel.hidden = true;
  }

  async signOut() {
    await this.signOutHook();
    this.forget("You are signed out.");
  }

  /** Drops the credentials (signed out, or refused by the server) and shows the form again with text. */
  forget(text, kind = "") {
    clearCredentials();
    this.render(null);
    this.say(text, kind);
    this.onChange(null);
  }
}
