// When the server goes offline (its operator turned offline mode on, or the monthly budget ran out), everyone in a
// room gets an offline event {reason, redirect_url, message}; a join while offline is refused with reason offline
// (and the redirect URL). The page says so with the server's message, leaves the room, and follows the redirect
// URL after a few seconds, as Hubs Cloud's offline mode sends visitors on.

import { el } from "./dom.js";

/** How long the notice shows before the page follows the redirect URL. */
export const REDIRECT_DELAY_MS = 3000;

/** The redirect URL when it is one a page may go to (http or https), else null. */
export function safeRedirect(url, base = globalThis.location?.href) {
  if (typeof url !== "string" || url.trim() === "") return null;
  try {
    const u = new URL(url, base);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch {
    return null;
  }
}

/** {title, text, redirect} for an offline event or refusal ({reason?, offline_reason?, redirect_url, message}). */
export function offlineNotice(m, base) {
  const redirect = safeRedirect(m?.redirect_url, base);
  const why = m?.offline_reason || (m?.reason !== "offline" ? m?.reason : "");
  const message = typeof m?.message === "string" && m.message.trim() ? sentence(m.message) : "This server is going offline.";
  const budget = why === "budget" ? " It has used up this month's budget." : "";
  const next = redirect
    ? ` Taking you to ${new URL(redirect).host} in a few seconds…`
    : " Come back later: reload this page to try again.";
  return { title: "This server is offline", text: `${message}${budget}${next}`, redirect };
}

/** Mounts the offline handling. ctx: {hub, showFatal}. */
export function mountOffline(ctx) {
  const { hub, showFatal } = ctx;
  let shown = false;

  function goOffline(m) {
    if (shown) return;
    shown = true;
    const notice = offlineNotice(m);
    showFatal({ title: notice.title, text: notice.text });
    document.body.classList.add("offline");
    if (notice.redirect) {
      document.getElementById("fatal-text")?.after(
        el("p", { id: "offline-redirect" }, el("a", { href: notice.redirect, class: "button" }, "Go there now")));
      setTimeout(() => location.assign(notice.redirect), REDIRECT_DELAY_MS);
    }
  }

  hub.on("offline", (m) => {
    hub.leave().catch(() => {});
    goOffline(m);
  });
  hub.on("join-error", (err) => {
    // After main.js's own handler, whose general "offline" wording this replaces with the server's details.
    if (err.reason === "offline") setTimeout(() => goOffline(err), 0);
  });
}

function sentence(s) {
  const t = String(s).trim();
  const c = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(c) ? c : `${c}.`;
}
