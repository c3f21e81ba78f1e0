// What a media object is, from its content type or, for a pasted link without one, from its address; and the
// file's id and access token in a link to a file on this server. Pure: no DOM, so Node tests it.

/** The content types the server accepts (docs/content.md), by the kind of panel that shows them. */
export const KIND_OF_TYPE = Object.freeze({
  "image/png": "image",
  "image/jpeg": "image",
  "image/gif": "image",
  "image/webp": "image",
  "model/gltf-binary": "model",
  "model/gltf+json": "model",
  "video/mp4": "video",
  "video/webm": "video",
  "audio/mpeg": "audio",
  "audio/ogg": "audio",
  "audio/wav": "audio",
  "audio/wave": "audio",
  "audio/x-wav": "audio",
  "application/pdf": "pdf",
});

const TYPE_OF_EXTENSION = Object.freeze({
  png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp",
  glb: "model/gltf-binary", gltf: "model/gltf+json",
  mp4: "video/mp4", m4v: "video/mp4", webm: "video/webm",
  mp3: "audio/mpeg", ogg: "audio/ogg", oga: "audio/ogg", wav: "audio/wav",
  pdf: "application/pdf",
});

/** What a file picker offers (its accept attribute): the content types above and their file name extensions. */
export const ACCEPT = [...Object.keys(KIND_OF_TYPE), ...Object.keys(TYPE_OF_EXTENSION).map((ext) => `.${ext}`)].join(",");

/**
 * "image" | "video" | "audio" | "pdf" | "model" for a content type (parameters and case ignored), or null for a
 * type no panel shows.
 */
export function kindOf(contentType) {
  if (typeof contentType !== "string") return null;
  const t = contentType.split(";")[0].trim().toLowerCase();
  return Object.hasOwn(KIND_OF_TYPE, t) ? KIND_OF_TYPE[t] : null;
}

/** The file name extension of a URL's path ("" when none), lower case. */
function extensionOf(url) {
  let path;
  try {
    path = new URL(url, "https://x.invalid/").pathname;
  } catch {
    return "";
  }
  const m = /\.([a-z0-9]{1,5})$/i.exec(path);
  return m ? m[1].toLowerCase() : "";
}

/** The content type a link's extension suggests ("" when it suggests none): a guess for links to other sites. */
export function typeFromUrl(url) {
  return TYPE_OF_EXTENSION[extensionOf(url)] || "";
}

/** The kind a link's extension suggests, or null. */
export function kindFromUrl(url) {
  return kindOf(typeFromUrl(url));
}

/**
 * Checks a link someone pasted: it must be https (or on this server, whatever its scheme) and parse. Returns
 * {url} (absolute) or {error} with a sentence.
 */
export function checkLink(text, origin) {
  const s = String(text ?? "").trim();
  if (s === "") return { error: "Paste or type the link to a file." };
  let url;
  try {
    url = new URL(s, origin);
  } catch {
    return { error: "That is not a link. It should start with https://" };
  }
  if (url.origin !== new URL(origin).origin && url.protocol !== "https:") {
    return { error: "Only https links (or links to files on this server) can be shown in the room." };
  }
  return { url: url.href };
}

/**
 * {fileId, token} for a link to a file on this server (<origin>/files/<id>[.<ext>][?token=...]), else null.
 * The id is the server's URL-safe id.
 */
export function serverFile(url, origin) {
  let u;
  try {
    u = new URL(url, origin);
  } catch {
    return null;
  }
  if (u.origin !== new URL(origin).origin) return null;
  const m = /^\/files\/([A-Za-z0-9_-]+)(?:\.[A-Za-z0-9]{1,5})?$/.exec(u.pathname);
  if (!m) return null;
  return { fileId: m[1], token: u.searchParams.get("token") || "" };
}

/** The link to an uploaded file that others can load too: its origin, with ?token= while it is not kept. */
export function sharedSrc(origin, accessToken) {
  if (!accessToken) return origin;
  const u = new URL(origin, "https://x.invalid/");
  u.searchParams.set("token", accessToken);
  return origin.startsWith("/") ? u.pathname + u.search : u.href;
}
