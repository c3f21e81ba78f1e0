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
      if (xhr.status >= 200 && xhr.status < 300 && body?.file_id) {
        onProgress(1, file.size, file.size);
        resolve(body);
      } else {
        reject(apiError(xhr.status, body, "The upload was refused"));
      }
    };
    xhr.onerror = () => reject(new Error("The upload failed: the server could not be reached."));
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

/** POSTs JSON body to path with the account token; resolves with the JSON reply, rejects with the server's message. */
export async function postWithToken(path, body, token) {
  const res = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...(token ? { authorization: `bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = parseJSON(await res.text());
  if (!res.ok) throw apiError(res.status, json, "The server refused");
  return json;
}

/** An Error for a refused API call: the server's message when it gave one. */
export function apiError(status, body, fallback) {
  const message = typeof body?.message === "string" && body.message ? body.message : `${fallback} (HTTP ${status || "error"}).`;
  return Object.assign(new Error(message), { status, code: typeof body?.error === "string" ? body.error : "" });
}

function parseJSON(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** "3.4 MB" for a byte count. */
export function sizeText(bytes) {
  if (!(bytes >= 0)) return "";
  if (bytes < 1e3) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(0)} kB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
