// Reading a sign-in link's query string.

/**
 * What a /verify link carries: {topic, token, origin}, or null when it was cut short or mangled (mail clients
 * sometimes wrap or truncate long links), so the page can say so instead of sending a broken token.
 */
export function readLink(search) {
  const q = new URLSearchParams(search);
  const topic = q.get("auth_topic") || "";
  const token = q.get("auth_token") || "";
  if (!/^auth:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(topic)) return null;
  if (!/^[0-9a-f]{64}$/i.test(token)) return null;
  return { topic, token, origin: q.get("auth_origin") || "" };
}
