// Signing in and out from the room. The page joins with the stored account token (auth_token), so a signed-in
// owner enters an invite-only room and keeps their roles across reconnects; signing in here asks for a link on an
// auth topic of the room's own socket and then sends sign_in on the hub channel. The creator assignment token the
// home page kept when it created the room goes with the first sign_in, which makes the account the room's creator.
// A token the server refuses (expired, revoked, account disabled) is forgotten, with a message saying so.

import { AccountBox } from "../shared/account-view.js";
import { CREDENTIALS_KEY, clearCredentials, loadCredentials, signInErrorText } from "../shared/account.js";
import { Dialog, closeAllDialogs } from "./dialog.js";
import { el } from "./dom.js";

const FLASH_KEY = "toncon.accountNotice";

/** sessionStorage key of the creator assignment token of a room this browser created. */
export function creatorKey(hubId) {
  return `toncon.creator.${hubId}`;
}

/** The join payload's extra fields: the account token when signed in, and the invite id from the room's link. */
export function joinParams({ credentials, search = "" }) {
  const out = {};
  if (credentials?.token) out.auth_token = credentials.token;
  const invite = new URLSearchParams(search).get("hub_invite_id");
  if (invite) out.hub_invite_id = invite;
  return out;
}

/** The sign_in payload: the token, and the creator assignment token while this browser still holds one. */
export function signInPayload(token, creatorToken) {
  return creatorToken ? { token, creator_assignment_token: creatorToken } : { token };
}

/** Join refusals that are about the account token, not the room: forget the token and come in anonymously. */
export function isTokenRefusal(reason) {
  return reason === "invalid_token" || reason === "account_disabled";
}

/** What the bar's account button says. */
export function accountLabel(credentials) {
  return credentials ? credentials.email || "Signed in" : "Sign in";
}

/** Mounts the account button and dialog. ctx: {hub, hubId, nav, leaveButton, showBanner, showFatal}. */
export function mountAccount(ctx) {
  const { hub, hubId, nav, leaveButton, showBanner } = ctx;
  const storage = globalThis.sessionStorage;
  const creatorToken = () => storage?.getItem(creatorKey(hubId)) || "";

  const button = el("button", { id: "account-toggle", type: "button", "aria-haspopup": "dialog", onclick: () => dialog.open() });
  const box = new AccountBox({
    socket: () => hub.socket,
    accept: (c) => signIn(c.token),
    signOut: async () => {
      if (!hub.canSend()) return;
      const r = await hub.request("sign_out");
      if (r.status === "ok" && r.response?.perms_token) hub.permsToken = r.response.perms_token;
    },
    onChange: (c) => {
      update(c);
      if (c) showBanner(`You are signed in as ${c.email}.`, "ok", 4000);
    },
  });
  const dialog = new Dialog({ id: "account-dialog", title: "Your account", body: [box.element] });
  nav.insertBefore(button, leaveButton);

  function update(credentials = loadCredentials()) {
    const label = accountLabel(credentials);
    button.textContent = label;
    button.title = credentials ? `Signed in as ${label}` : "Sign in with your email";
    button.classList.toggle("signed-in", !!credentials);
    box.setHint(!credentials && creatorToken() ? "You created this room: sign in to become its owner, so you can change its settings and moderate it." : "");
  }
  update();

  // A token refused on the last visit: say so once.
  const flash = storage?.getItem(FLASH_KEY);
  if (flash) {
    storage.removeItem(FLASH_KEY);
    box.say(flash, "error");
    hub.on("joined", () => showBanner(flash, "warn", 10000));
  }

  /** sign_in on the hub channel; resolves {ok, message}. Off the channel, the next join carries the token. */
  async function signIn(token) {
    if (!hub.canSend()) return { ok: true };
    const r = await hub.request("sign_in", signInPayload(token, creatorToken()));
    if (r.status !== "ok") {
      if (isTokenRefusal(r.response?.reason)) clearCredentials();
      return { ok: false, message: signInErrorText(r.status, r.response) };
    }
    if (r.response?.perms_token) hub.permsToken = r.response.perms_token;
    storage?.removeItem(creatorKey(hubId)); // claimed (or someone else already had): either way it is spent
    return { ok: true };
  }

  hub.on("joined", async () => {
    const c = loadCredentials();
    if (c && creatorToken()) {
      const r = await signIn(c.token);
      if (!r.ok) {
        box.forget(r.message, "error");
        showBanner(r.message, "warn", 10000);
      }
    } else if (!c && creatorToken()) {
      showBanner("You created this room: sign in (the Sign in button at the top) to become its owner.", "ok", 10000);
    }
  });

  // The join itself was refused because of the token: forget it and come back in without it.
  hub.on("join-error", (err) => {
    if (!isTokenRefusal(err.reason) || !loadCredentials()) return;
    clearCredentials();
    storage?.setItem(FLASH_KEY, `You were signed out: ${signInErrorText("error", err).replace(/^./, (c) => c.toLowerCase())}`);
    location.reload();
  });

  hub.on("ended", (why) => {
    closeAllDialogs();
    if (why.reason === "account_disabled") {
      clearCredentials();
      ctx.showFatal({
        title: "Your account is disabled",
        text: "The site's admin disabled your account, so you were signed out and sent out of the room. Ask them if you think this is a mistake.",
      });
    }
  });

  // Signing in or out in another tab of this browser signs this room in or out too.
  window.addEventListener("storage", async (ev) => {
    if (ev.key !== null && ev.key !== CREDENTIALS_KEY) return;
    const c = loadCredentials();
    box.render(c);
    update(c);
    if (!hub.canSend()) return; // the next join carries the change
    if (c) {
      const r = await signIn(c.token);
      if (!r.ok) box.forget(r.message, "error");
    } else {
      const r = await hub.request("sign_out");
      if (r.status === "ok" && r.response?.perms_token) hub.permsToken = r.response.perms_token;
    }
  });

  return { open: () => dialog.open() };
}

/** The join payload's extra fields for this page, read at every (re)join: see joinParams. */
export function roomJoinParams() {
  return joinParams({ credentials: loadCredentials(), search: location.search });
}
