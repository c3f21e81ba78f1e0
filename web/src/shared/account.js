// Signing in with an email link, without a browser: the credentials this browser keeps, the sign-in request on an
// auth:<uuid> channel, and the sentences people read about it. The home page and the room share it; the DOM lives
// in account-view.js.
//
// The flow (protocol.md, "Topics"): join auth:<random uuid>, push auth_request {email, origin}; the server mails a
// link (or, with no mail server, writes it to its log). The link's /verify page joins the same topic and pushes
// auth_verified; the server then broadcasts auth_credentials {credentials, payload: {email}} on the topic, and the
// page that asked, still waiting on it, keeps them.

/** Where the credentials live: localStorage, {token, email}, the shape Hubs keeps them in. */
export const CREDENTIALS_KEY = "toncon.credentials";

/** The origin this client names in auth_request (letters, digits, - and _ only, at most 32). */
export const AUTH_ORIGIN = "toncon";

/** The stored {token, email}, or null when this browser is not signed in (or the record is damaged). */
export function loadCredentials(storage = globalThis.localStorage) {
  let saved = null;
  try {
    saved = JSON.parse(storage?.getItem(CREDENTIALS_KEY) || "null");
  } catch {
    return null;
  }
  if (!saved || typeof saved.token !== "string" || saved.token === "") return null;
  return { token: saved.token, email: typeof saved.email === "string" ? saved.email : "" };
}

export function saveCredentials(credentials, storage = globalThis.localStorage) {
  try {
    storage?.setItem(CREDENTIALS_KEY, JSON.stringify({ token: credentials.token, email: credentials.email || "" }));
  } catch {
    // private mode or storage full: signed in on this page only
  }
}

export function clearCredentials(storage = globalThis.localStorage) {
  try {
    storage?.removeItem(CREDENTIALS_KEY);
  } catch {
    // nothing stored
  }
}

/** Why an email address will not do (a sentence), or "" when it looks like one. The server has the last word. */
export function checkEmail(email) {
  const e = String(email ?? "").trim();
  if (e === "") return "Type your email address.";
  if (e.length > 254) return "That email address is too long.";
  if (!/^[^\s@]+@[^\s@]+$/.test(e)) return "Type an email address such as name@example.org.";
  return "";
}

/** A fresh auth topic: auth:<uuid v4>. */
export function newAuthTopic(randomUUID = () => globalThis.crypto.randomUUID()) {
  return `auth:${randomUUID()}`;
}

/** What to tell someone whose link is on its way ({delivery, message} from auth_request's ok reply). */
export function sentText(email, response) {
  if (response?.delivery === "log") {
    return (
      "The link was written to the server's log (no mail server is configured). " +
      "Ask whoever runs this server for it, and open it in this browser: this page signs you in when you do."
    );
  }
  return `Check your email: a sign-in link is on its way to ${email}. Open it in this browser; this page signs you in when you do.`;
}

const AUTH_ERRORS = {
  invalid_email: () => "That is not an email address the server accepts: type one such as name@example.org.",
  rate_limited: (m) => `Too many sign-in links were asked for${m ? ` (${clean(m)})` : ""}. Wait a little, then try again.`,
  already_sent: () => "A link was already sent from this page: check your email, or start again.",
  mail_failed: () => "The server could not send the email. Try again in a moment.",
  expired: () => "This sign-in waited too long. Ask for a new link.",
  account_disabled: () => "This account is disabled. Ask the site's admin.",
  invalid_token: () => "Your sign-in has expired or is no longer valid here. Sign in again.",
};

/** A sentence for a refused auth_request or sign_in ({reason, message}), or for one that got no answer. */
export function signInErrorText(status, response) {
  if (status === "timeout") return "The server did not answer. Check your connection and try again.";
  const f = AUTH_ERRORS[response?.reason];
  if (f) return f(response?.message);
  return response?.message ? `${capitalise(clean(response.message))}.` : "Signing in did not work. Try again.";
}

/**
 * One request for a sign-in link on a phoenix socket (the room's own socket, or one the home page opens). send()
 * joins a fresh auth topic and asks for the link; onCredentials({token, email}) runs when the link is opened, and
 * onExpired() when the server ends the wait (after 5 minutes) first. cancel() stops waiting.
 */
export class SignInRequest {
  constructor({ socket, email, origin = AUTH_ORIGIN, topic = newAuthTopic(), onCredentials = () => {}, onExpired = () => {}, timeout = 10000 }) {
    this.socket = socket;
    this.email = String(email).trim();
    this.origin = origin;
    this.topic = topic;
    this.onCredentials = onCredentials;
    this.onExpired = onExpired;
    this.timeout = timeout;
    this.done = false;
    this.channel = null;
  }

  /** Resolves {status: "ok", response: {delivery, message?}} or {status: "error"|"timeout", response}. */
  async send() {
    if (!this.socket.isConnected()) this.socket.connect();
    const channel = this.socket.channel(this.topic, {});
    this.channel = channel;
    channel.on("auth_credentials", (msg) => {
      const token = msg?.credentials;
      if (this.done || typeof token !== "string" || token === "") return;
      this.finish();
      this.onCredentials({ token, email: msg?.payload?.email || this.email });
    });
    channel.onClose(() => {
      if (this.done) return;
      this.done = true;
      this.onExpired();
    });
    const joined = await reply(channel.join(this.timeout));
    if (joined.status !== "ok") {
      this.finish();
      return joined;
    }
    const r = await reply(channel.push("auth_request", { email: this.email, origin: this.origin }, this.timeout));
    if (r.status !== "ok") this.finish();
    return r;
  }

  /** Stops waiting for the link (a new request starts on a new topic). */
  cancel() {
    this.finish();
  }

  finish() {
    if (this.done) return;
    this.done = true;
    this.channel?.leave();
  }
}

function reply(push) {
  return new Promise((resolve) => {
    push
      .receive("ok", (response) => resolve({ status: "ok", response }))
      .receive("error", (response) => resolve({ status: "error", response }))
      .receive("timeout", () => resolve({ status: "timeout", response: null }));
  });
}

function clean(s) {
  return String(s).trim().replace(/[.]+$/, "");
}

function capitalise(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
