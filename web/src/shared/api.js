// Small helpers for toncon's HTTP API, shared by the home page and the room.

/** Fetch JSON from the API; errors carry the server's message. */
export async function api(path, options = {}) {
  const res = await fetch(path, {
    ...options,
    headers: { "content-type": "application/json", ...(options.headers || {}) },
  });
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: fall through to the status text
  }
  if (!res.ok) {
    const err = new Error((body && body.message) || `${res.status} ${res.statusText}`);
    err.status = res.status;
    err.code = body && body.error;
    throw err;
  }
  return body;
}

const RECENT_KEY = "toncon.recentRooms";

/** The rooms this browser visited, newest first. */
export function recentRooms() {
  try {
    const list = JSON.parse(localStorage.getItem(RECENT_KEY) || "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

/** Remember a visited room (at most 20). */
export function rememberRoom(room) {
  const list = recentRooms().filter((r) => r.hub_id !== room.hub_id);
  list.unshift({ hub_id: room.hub_id, name: room.name, url: room.url, visited_at: Date.now() });
  localStorage.setItem(RECENT_KEY, JSON.stringify(list.slice(0, 20)));
}
