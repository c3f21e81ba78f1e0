// Brings a scene's media to life (the image, video, audio, link and media-frame components read by sceneMedia and
// found on their nodes by model.js): pictures and videos on panels at their nodes, sounds playing from their nodes
// with their audio-params, links as small labelled panels people click (a web page opens in a new tab after asking;
// "#name" moves them to that waypoint: the room's objects module does both), and media frames as slots that hold
// dropped media. Everything built here is undone when the scene is unloaded.

import { canvasMesh, disposeObject, fillTextFitting, loadAudio, loadImage, loadVideo, panelCanvas, playSoon } from "../room/objects/render.js";

/**
 * Builds the media of applied.media under their nodes. Returns {links: [{object, href}], mediaFrames: [{object,
 * mediaType, bounds, snapToCenter}], loaded (a promise, settled when every picture, video and sound is in or has
 * failed), dispose()}. Pictures, videos and sounds load in the background, so a slow one does not hold up the
 * room; one that cannot be loaded is skipped with a console warning.
 */
export function buildSceneMedia(THREE, sceneEl, media) {
  const links = [];
  const mediaFrames = [];
  const built = []; // {object, node, dispose}
  let disposed = false;
  const place = (m, r) => {
    if (disposed) {
      r.dispose?.();
      disposeObject(r.object);
      return;
    }
    attach(m.object, r.object, built, r.dispose);
    if (r.element && m.autoPlay) start(r.element);
  };
  const loads = [];
  for (const m of media) {
    if (m.kind === "link") {
      const label = linkLabel(THREE, m.href);
      attach(m.object, label, built);
      links.push({ object: label, href: m.href });
    } else if (m.kind === "media-frame") {
      mediaFrames.push({ object: m.object, mediaType: m.mediaType, bounds: m.bounds, snapToCenter: m.snapToCenter });
    } else if (!reachable(m.src)) {
      console.info(`toncon scene: the ${m.kind} on node "${m.name || m.index}" is on ${new URL(m.src).host}, a name only the machine or network the scene was made on knows; skipped`);
    } else {
      const load =
        m.kind === "image" ? loadImage(THREE, m.src)
          : m.kind === "video" ? loadVideo(THREE, sceneEl, m.src, { audioParams: m.audio, loop: m.loop })
            : m.kind === "audio" ? loadAudio(THREE, sceneEl, m.src, { audioParams: m.audio, loop: m.loop, visible: false })
              : null;
      if (!load) continue;
      loads.push(load.then((r) => place(m, r), (err) => {
        console.warn(`toncon scene: the ${m.kind} on node "${m.name || m.index}" could not be shown: ${err.message || err}`);
      }));
    }
  }
  return {
    links,
    mediaFrames,
    loaded: Promise.all(loads),
    dispose() {
      disposed = true;
      for (const b of built.splice(0)) {
        b.dispose?.();
        b.node.remove(b.object);
        disposeObject(b.object);
      }
    },
  };
}

/**
 * Whether a src can be loaded from here: not on a development host that only its author's machine or network
 * resolves (*.local, localhost, loopback), as Spoke scenes made against a local Hubs often are, unless this page is
 * on that host too.
 */
export function reachable(src, here = globalThis.location) {
  let url;
  try {
    url = new URL(src, here?.href);
  } catch {
    return false;
  }
  const host = url.hostname.toLowerCase();
  if (here && host === here.hostname.toLowerCase()) return true;
  return !(host === "localhost" || host.endsWith(".local") || host.endsWith(".localhost") || /^127\./.test(host) || host === "[::1]");
}

function attach(node, object, built, dispose) {
  node.add(object);
  built.push({ node, object, dispose });
}

function start(element) {
  element.tonconWantsPlay = true;
  playSoon(element);
}

/** A panel showing where a link goes: the page's host, or the waypoint's name. */
export function linkLabel(THREE, href) {
  let text = href;
  if (href.startsWith("#")) text = `Go to ${decodeURIComponent(href.slice(1))}`;
  else {
    try {
      text = new URL(href).host;
    } catch {
      // keep the href
    }
  }
  const { canvas, ctx } = panelCanvas(512, 128);
  ctx.fillStyle = "rgba(30, 90, 200, 0.9)";
  ctx.beginPath();
  ctx.roundRect(4, 4, 504, 120, 40);
  ctx.fill();
  ctx.fillStyle = "#ffffff";
  ctx.font = "600 44px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  fillTextFitting(ctx, text, 460, 256, 66);
  const mesh = canvasMesh(THREE, canvas, 0.8, 0.2, true);
  mesh.name = "toncon-link";
  return mesh;
}
