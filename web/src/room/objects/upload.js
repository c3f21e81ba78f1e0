// Uploading a file to the server (POST /api/v1/media, docs/content.md) with progress, and listing one's uploads.
// XMLHttpRequest rather than fetch: it reports upload progress in every browser.

/** An upload the server refused or that did not reach it. `status` is the HTTP status (0: no answer). */
export class UploadError extends Error {
  constructor(message, status = 0, code = "") {
    super(message);
    this.name = "UploadError";
    this.status = status;
    this.code = code;
  }
}

/** The sentence for a refusal: the server's own message when it sent one. */
export function refusalText(status, body) {
  if (body && typeof body.message === "string" && body.message !== "") return body.message;
  if (status === 413) return "The file is too large for this server.";
  if (status === 415) return "This kind of file cannot be shown in a room.";
  if (status === 422) return "The file is damaged or not what it claims to be.";
  if (status === 0) return "The upload did not reach the server. Check the connection and try again.";
  return `The server refused the upload (HTTP ${status}).`;
}

/**
 * Uploads file (a File or Blob) as the `media` field. token: the account token, or "" for an anonymous upload.
 * onProgress(sentBytes, totalBytes). Resolves with the server's {file_id, origin, meta}; rejects with an
 * UploadError. Returns {promise, abort}.
 */
export function uploadMedia(file, { token = "", onProgress = () => {}, endpoint = "/api/v1/media" } = {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", endpoint);
    if (token) xhr.setRequestHeader("Authorization", `bearer ${token}`);
    xhr.responseType = "text";
    xhr.upload.onprogress = (ev) => onProgress(ev.loaded, ev.lengthComputable ? ev.total : file.size);
    xhr.onerror = () => reject(new UploadError(refusalText(0), 0));
    xhr.onabort = () => reject(new UploadError("The upload was cancelled.", 0, "aborted"));
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      if (xhr.status === 201 || xhr.status === 200) {
        if (!body || typeof body.origin !== "string" || typeof body.file_id !== "string") {
          reject(new UploadError("The server's answer to the upload was not understood.", xhr.status));
          return;
        }
        onProgress(file.size, file.size);
        resolve(body);
        return;
      }
      reject(new UploadError(refusalText(xhr.status, body), xhr.status, body?.error || ""));
    };
    const form = new FormData();
    form.append("media", file, file.name || "file");
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/** The signed-in account's uploads, newest first: [{file_id, origin, name, content_type, content_length, created_at, kept}]. */
export async function myUploads(token, endpoint = "/api/v1/media/mine") {
  const res = await fetch(endpoint, { headers: { Authorization: `bearer ${token}` } });
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON
  }
  if (!res.ok) throw new UploadError(refusalText(res.status, body), res.status, body?.error || "");
  return Array.isArray(body?.entries) ? body.entries : [];
}
