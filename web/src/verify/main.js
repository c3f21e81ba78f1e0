// The page a sign-in link opens (/verify?auth_topic=auth:<uuid>&auth_token=<token>&auth_origin=<origin>). It joins
// the same auth topic as the page that asked for the link and pushes auth_verified with the token; the server then
// broadcasts the account's credentials on that topic, so the asking page (usually another tab) is the one that
// signs in. This page only says how it went.
import "./verify.css";
import { Socket } from "phoenix";
import { readLink } from "./link.js";

const statusEl = document.getElementById("verify-status");
const title = document.querySelector("h1");

function show(kind, heading, text) {
  title.textContent = heading;
  statusEl.textContent = text;
  statusEl.className = kind;
}

function verify(link) {
  // The token works once: take it out of the address bar so a reload or a shared screenshot cannot reuse it.
  history.replaceState(null, "", location.pathname);
  const socket = new Socket("/socket", {});
  let email = "";
  let done = false;
  const finish = (kind, heading, text) => {
    if (done) return;
    done = true;
    show(kind, heading, text);
    channel.leave();
    socket.disconnect();
  };
  socket.onError(() => {
    if (!done) show("", "Signing in", "Cannot reach the server; retrying…");
  });
  socket.connect();
  const channel = socket.channel(link.topic, {});
  channel.on("auth_credentials", (msg) => {
    email = (msg && msg.payload && msg.payload.email) || "";
  });
  channel
    .join()
    .receive("ok", () => {
      channel
        .push("auth_verified", { token: link.token })
        .receive("ok", () =>
          finish(
            "ok",
            "You are signed in",
            `You are signed in${email ? ` as ${email}` : ""}. Go back to your first tab, where you asked to sign in; you can close this one.`,
          ),
        )
        .receive("error", (r) =>
          finish("error", "Could not sign you in", (r && r.message) || "The server refused this link; ask for a new one."),
        )
        .receive("timeout", () => finish("error", "Could not sign you in", "The server did not answer; open the link again."));
    })
    .receive("error", (r) =>
      finish("error", "Could not sign you in", (r && r.message) || "This sign-in link is not valid; ask for a new one."),
    )
    .receive("timeout", () => finish("error", "Could not sign you in", "The server did not answer; open the link again."));
}

const link = readLink(location.search);
if (link) {
  verify(link);
} else {
  show(
    "error",
    "This link is incomplete",
    "The sign-in link is missing a part: copy the whole link from the email into the address bar, or ask for a new one.",
  );
}
