// The scenes list (GET /api/v1/scenes) as the home page and the room settings show it: built-in samples and
// uploaded scenes, each with its name, who made it (attributions, in the shapes Spoke and Hubs write them) and
// whether it may be remixed. Pure (fetchScenes apart), tested in Node.

/** The longest attribution line shown; the rest is cut with an ellipsis. */
export const MAX_ATTRIBUTION = 300;

/**
 * The scenes of GET /api/v1/scenes' body: [{id, name, description, attribution, allowRemixing, modelUrl, url,
 * sample}], in the server's order (samples first, as it lists them, then uploads, newest first). Entries without
 * a scene_id or a model URL are left out; an id is listed once.
 */
export function sceneEntries(body) {
  const list = Array.isArray(body?.scenes) ? body.scenes : [];
  const seen = new Set();
  const out = [];
  for (const s of list) {
    if (!s || typeof s.scene_id !== "string" || s.scene_id === "" || seen.has(s.scene_id)) continue;
    const modelUrl = typeof s.model_url === "string" ? s.model_url : "";
    if (!modelUrl) continue;
    seen.add(s.scene_id);
    out.push({
      id: s.scene_id,
      name: text(s.name) || "Untitled scene",
      description: text(s.description),
      attribution: attributionText(s.attributions),
      allowRemixing: s.allow_remixing === true,
      modelUrl,
      url: typeof s.url === "string" ? s.url : "",
      sample: s.scene_id.startsWith("sample:"),
    });
  }
  return out;
}

/** GET /api/v1/scenes as sceneEntries; rejects with Error("HTTP <status>") when refused, or fetch's when unreachable. */
export async function fetchScenes() {
  const res = await fetch("/api/v1/scenes", { headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return sceneEntries(await res.json());
}

function text(v) {
  return typeof v === "string" ? v.trim() : "";
}

function credit(item) {
  if (typeof item === "string") return item.trim();
  if (!item || typeof item !== "object") return "";
  const title = text(item.name) || text(item.title);
  const author = text(item.author) || text(item.creator);
  if (title && author) return `${title} by ${author}`;
  return title || (author ? `by ${author}` : "");
}

/**
 * One line saying who made a scene, from its attributions as written: a string; a list of strings or
 * {name|title, author}; or Spoke's {creator, content: [...]}. "" when it says nothing.
 */
export function attributionText(attributions) {
  let parts = [];
  if (typeof attributions === "string") parts = [attributions.trim()];
  else if (Array.isArray(attributions)) parts = attributions.map(credit);
  else if (attributions && typeof attributions === "object") {
    const creator = text(attributions.creator);
    if (creator) parts.push(`by ${creator}`);
    if (Array.isArray(attributions.content)) parts.push(...attributions.content.map(credit));
    if (parts.length === 0) parts.push(credit(attributions));
  }
  const line = parts.filter(Boolean).join("; ");
  return line.length > MAX_ATTRIBUTION ? `${line.slice(0, MAX_ATTRIBUTION - 1)}…` : line;
}

/**
 * The scene form's values checked: {scene} to POST (without the file fields) or {error}. v: {name, description,
 * attributions, allowRemixing}; attributions is free text, sent as written.
 */
export function sceneDraft(v) {
  const name = String(v?.name ?? "").trim();
  if (!name) return { error: "Give the scene a name." };
  if ([...name].length > 64) return { error: "A scene's name has at most 64 characters." };
  const description = String(v?.description ?? "").trim();
  if ([...description].length > 64000) return { error: "The description has at most 64000 characters." };
  const attributions = String(v?.attributions ?? "").trim();
  return { scene: { name, description, attributions, allow_remixing: v?.allowRemixing === true } };
}

/**
 * What update_scene gets for a choice in the room settings: a listed scene's id, or a pasted URL (https, or a
 * path or http(s) address on this server). {url} or {error}. origin: this page's origin.
 */
export function sceneChangeTarget({ sceneId = "", pasted = "" } = {}, origin = "") {
  if (sceneId) return { url: sceneId };
  const raw = String(pasted).trim();
  if (!raw) return { error: "Choose a scene from the list or paste a link to one." };
  let u;
  try {
    u = new URL(raw, origin || undefined);
  } catch {
    return { error: "That is not a link: paste a https:// address of a .glb file or of a scene on this server." };
  }
  const local = origin && u.origin === origin;
  if (u.protocol !== "https:" && !(local && u.protocol === "http:")) {
    return { error: "Scenes from other servers need a https:// link." };
  }
  return { url: u.href };
}
