// What people read about their microphone, camera, screen and the voice connection: every failure said as what
// happened and what to do next. Pure functions, tested without a browser.

const DEVICE = { mic: "microphone", camera: "camera", screen: "screen" };

/**
 * A sentence for a failed getUserMedia or getDisplayMedia (err.name is what browsers agree on). what: "mic",
 * "camera" or "screen".
 */
export function deviceErrorText(err, what = "mic") {
  const thing = DEVICE[what] || "device";
  const name = err?.name || "";
  if (what === "screen") {
    if (name === "NotAllowedError" || name === "AbortError") return "Screen sharing was cancelled or blocked, so nothing is shared.";
    if (name === "NotFoundError") return "There is no screen or window to share.";
    if (name === "NotReadableError") return "The screen could not be captured: another app may be blocking it. Try again, or pick a single window.";
    if (name === "NotSupportedError" || name === "TypeError") return "This browser cannot share its screen here.";
  }
  switch (name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
    case "SecurityError":
      return `The browser blocked the ${thing}. Allow it for this site (click the icon at the left of the address bar), then try again.`;
    case "NotFoundError":
    case "DevicesNotFoundError":
      return `No ${thing} was found. Plug one in, or check that the system lets the browser see it, then try again.`;
    case "OverconstrainedError":
      return `The chosen ${thing} is no longer there. Pick another one in the list.`;
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return `The ${thing} could not be started: another app may be using it. Close that app, or pick another ${thing}, then try again.`;
    case "NotSupportedError":
    case "TypeError":
      return `This page cannot use a ${thing}: it needs a secure (https) address and a browser that supports it.`;
  }
  return `The ${thing} could not be started${err?.message ? ` (${err.message})` : ""}. Try again, or pick another ${thing}.`;
}

/** A sentence for a join or request the media server refused (its errorCode and errorReason). */
export function mediaErrorText(err) {
  switch (err?.code) {
    case "token_expired":
      return "Voice and video could not start: the room's pass ran out. Reconnecting with a fresh one…";
    case "token_invalid":
      return "Voice and video are not available: the media server does not accept this room's pass. Its operator needs to give it the app's perms key.";
    case "wrong_hub":
      return "Voice and video are not available: the media server was given another room.";
    case "join_denied":
      return "Voice and video are not available to you in this room.";
    case "too_many_tracks":
      return "Only one camera or screen can be shared at a time.";
    case "shutting_down":
    case "closed":
      return "The media server is restarting. Reconnecting voice and video…";
    case "timeout":
      return "The media server did not answer. Reconnecting voice and video…";
  }
  return `Voice and video had a problem${err?.reason ? `: ${err.reason}` : ""}.`;
}

/** A sentence for the media socket closing with code (null when nothing needs saying). */
export function closeText(code) {
  switch (code) {
    case 1000:
    case 4002:
      return null;
    case 4003:
      return "A moderator removed you: voice and video are off.";
    case 4004:
      return null; // the join's refusal says why
    case 1001:
      return "The media server is restarting. Reconnecting voice and video…";
    case 4001:
      return "The room's pass for voice ran out. Reconnecting voice and video…";
    case 4007:
      return "The voice and video connection failed (the network may block it). Trying again…";
  }
  return "Voice and video lost the connection. Reconnecting…";
}

/** A device's name for a picker: its label, or "Microphone 2" before the browser reveals labels. */
export function deviceLabel(device, index, kind) {
  const label = typeof device?.label === "string" ? device.label.trim() : "";
  if (label) return label;
  return `${kind === "videoinput" ? "Camera" : "Microphone"} ${index + 1}`;
}
