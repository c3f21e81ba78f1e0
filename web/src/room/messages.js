// What people read when something goes wrong: every refusal the server gives, said as what happened and what to
// do next. The server's own message is shown too when it adds something (it names limits and reasons).

const JOIN = {
  not_found: {
    title: "This room does not exist",
    text: "The link may be mistyped, or the room was deleted. Check the link, or create a new room.",
  },
  closed: {
    title: "This room is closed",
    text: "Its owner closed it, so nobody can enter any more. Ask them for a new link, or create a room of your own.",
  },
  join_denied: {
    title: "You cannot enter this room",
    text: "The room only lets in people it invited.",
  },
  bad_request: {
    title: "The room could not be joined",
    text: "The server did not understand this browser's request. Reload the page; if it keeps happening, update toncon.",
  },
  invalid_profile: {
    title: "Your display name was not accepted",
    text: "Pick another display name and try again.",
  },
  offline: {
    title: "This server is offline",
    text: "Its operator has taken it offline for now. Come back later.",
  },
};

/** {title, text} for a refused join ({reason, message} from the server). */
export function joinErrorText(err) {
  const known = JOIN[err?.reason];
  const detail = err?.message ? capitalise(err.message) : "";
  if (known) {
    // The server's message says why for join_denied and invalid_profile; for the others it repeats the title.
    const useful = detail && (err.reason === "join_denied" || err.reason === "invalid_profile" || err.reason === "offline");
    return { title: known.title, text: useful ? `${detail}.` : known.text };
  }
  return {
    title: "The room could not be joined",
    text: `${detail || "The server refused."} Reload the page to try again.`,
  };
}

const PUSH = {
  room_full: (m) => `The room is full${m ? ` (${stripTail(m)})` : ""}. You can wait here in the lobby and try again when someone leaves.`,
  rate_limited: () => "You are sending messages too fast. Wait a moment, then send again.",
  forbidden: (m) => `That is not allowed: ${m || "you do not have the permission for it in this room"}.`,
  not_allowed: (m) => `${capitalise(m || "that is not allowed in this room")}.`,
  too_long: (m) => `Your message is too long: ${m || "shorten it"}.`,
  invalid_profile: (m) => `That display name does not work: ${m || "pick another"}.`,
  bad_request: () => "The server did not understand that. Reload the page and try again.",
  not_supported: (m) => `${capitalise(m || "this server cannot do that yet")}.`,
  unknown_event: () => "This server does not know that request; it may be an older toncon.",
  internal_error: () => "The server had a problem. Try again in a moment.",
};

/** A sentence for an error reply to a push ({reason, message}), or for a push that got no answer. */
export function pushErrorText(status, response) {
  if (status === "timeout") return "The server did not answer. Check your connection; toncon keeps trying to reconnect.";
  const f = PUSH[response?.reason];
  if (f) return f(response?.message);
  return response?.message ? `${capitalise(response.message)}.` : "That did not work. Try again.";
}

function capitalise(s) {
  const t = String(s).trim().replace(/[.]+$/, "");
  return t ? t[0].toUpperCase() + t.slice(1) : t;
}

// The room_full message ends with "; wait in the lobby and try again", which our sentence already says.
function stripTail(m) {
  return String(m).split(";")[0].trim();
}
