// Uploading a file to POST /api/v1/media with progress (fetch cannot report upload progress, XMLHttpRequest can),
// and the JSON API calls that take an uploaded file's id and access token (avatars, scenes). Errors carry the
// server's message (docs/content.md: {"error", "message"}), so the page can show it as it is.

/**
 * Uploads file (a File or Blob) to /api/v1/media in the field `media`. onProgress(fraction 0..1, loaded, total)
 * while it goes up. token: the account token (the upload is then listed as yours). Resolves with the server's
 * {file_id, origin, meta: {access_token, ...}}; rejects with an Error whose message is the server's (status and
 * code on it), or a network error. signal: an AbortSignal to cancel.
 */
export function uploadMedia(file, { token = "", onProgress = () => {}, signal = null, name = "" } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/media");
    xhr.responseType = "text";
    if (token) xhr.setRequestHeader("authorization", `bearer ${token}`);
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable && ev.total > 0) onProgress(ev.loaded / ev.total, ev.loaded, ev.total);
    };
    xhr.onload = () => {
      const body = parseJSON(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) {
        if (typeof body?.file_id !== "string" || typeof body?.origin !== "string") {
          reject(Object.assign(new Error("The server's answer to the upload was not understood."), { status: xhr.status, code: "" }));
          return;
        }
        onProgress(1, file.size, file.size);
        resolve(body);
      } else {
        reject(Object.assign(new Error(refusalText(xhr.status, body)), { status: xhr.status, code: typeof body?.error === "string" ? body.error : "" }));
      }
    };
    xhr.onerror = () => reject(Object.assign(new Error(refusalText(0)), { status: 0, code: "" }));
    xhr.onabort = () => reject(Object.assign(new Error("The upload was cancelled."), { name: "AbortError" }));
    if (signal) {
      if (signal.aborted) return xhr.abort();
      signal.addEventListener("abort", () => xhr.abort(), { once: true });
    }
    const form = new FormData();
    form.append("media", file, name || file.name || "upload");
    xhr.send(form);
  });
}

/**
 * uploadMedia for a form with a progress bar: shows bar (a <progress>) and says through say(text) how far the upload
 * got. The caller hides bar again when it is done with the file.
 */
export function uploadWithProgress(file, token, bar, say) {
  bar.hidden = false;
  bar.value = 0;
  say(`Uploading ${file.name} (${formatBytes(file.size)})…`);
  return uploadMedia(file, {
    token,
    onProgress: (fraction, loaded, total) => {
      bar.value = fraction;
      say(`Uploading ${file.name}: ${formatBytes(loaded)} of ${formatBytes(total)}`);
    },
  });
}

/** The sentence for a refused upload: the server's own message when it sent one. status 0: no answer. */
export function refusalText(status, body) {
  if (body && typeof body.message === "string" && body.message !== "") return body.message;
  if (status === 413) return "The file is too large for this server.";
  if (status === 415) return "This kind of file cannot be shown in a room.";
  if (status === 422) return "The file is damaged or not what it claims to be.";
  if (status === 0) return "The upload did not reach the server. Check the connection and try again.";
  return `The server refused the upload (HTTP ${status}${STATUS_WORDS[status] ?? ""}).`;
}

/** The signed-in account's uploads, newest first: [{file_id, origin, name, content_type, content_length, created_at, kept}]. */
export async function myUploads(token) {
  const body = await sendJSON("GET", "/api/v1/media/mine", null, token, "Your uploads could not be listed");
  return Array.isArray(body?.entries) ? body.entries : [];
}

/** POSTs JSON body to path with the account token; resolves with the JSON reply, rejects with the server's message. */
export function postWithToken(path, body, token) {
  return sendJSON("POST", path, body, token, "The server refused");
}

/**
 * Sends body (or nothing when null) as JSON with the account token and resolves to the answer's JSON. Rejects with
 * apiError's Error when the server refuses, and with a plain one when it cannot be reached.
 */
export async function sendJSON(method, path, body, token, fallback) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: {
        accept: "application/json",
        ...(body ? { "content-type": "application/json" } : {}),
        ...(token ? { authorization: `bearer ${token}` } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new Error("The server could not be reached. Check the connection and try again.");
  }
  const json = parseJSON(await res.text());
  if (!res.ok) throw apiError(res.status, json, fallback);
  return json;
}

/** An Error for a refused API call: the server's message when it gave one. */
export function apiError(status, body, fallback) {
  const message = typeof body?.message === "string" && body.message ? body.message : `${fallback} (HTTP ${status || "error"}${STATUS_WORDS[status] ?? ""}).`;
  return Object.assign(new Error(message), { status, code: typeof body?.error === "string" ? body.error : "" });
}

// What a refusal without the server's own words (from a proxy in front, say) most likely means.
const STATUS_WORDS = {
  413: ": the file is too large",
  429: ": too many requests, wait a little and try again",
  502: ": the server is not answering",
  503: ": the server is busy or restarting, try again soon",
  507: ": the server is out of storage space",
};

function parseJSON(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** "3.4 MB" for a byte count; "" for something that is not one. */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
  return `${(n / 1e9).toFixed(1)} GB`;
}
