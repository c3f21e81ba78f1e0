// Avatars that move with their owner's voice, as Hubs avatars do: the Hubs Blender exporter writes
// `scale-audio-feedback` (a node grows between minScale and maxScale) and `morph-audio-feedback` (a morph target,
// named, goes between minValue and maxValue) into a node's MOZ_hubs_components. This module reads those values
// and maps a voice level to them. Pure: no DOM, no three.js, so it is tested in Node.

import { nodesWith } from "../../scene/hubs-components.js";

/** Hubs' defaults for the two components, used for values a file leaves out. */
export const SCALE_DEFAULTS = Object.freeze({ minScale: 1, maxScale: 1.5 });
export const MORPH_DEFAULTS = Object.freeze({ name: "", minValue: 0, maxValue: 1 });

/** The loudest a feedback value may ask for; a file that says more is clamped, so no avatar grows past a room. */
const MAX_SCALE = 4;

/** Voice levels (RMS) below QUIET_DB are silence and above LOUD_DB are full feedback; between, linear in dB. */
export const QUIET_DB = -50;
export const LOUD_DB = -15;

/** How fast the feedback follows the voice: quickly up (syllables), slower down (so it does not flicker). */
const ATTACK_MS = 40;
const RELEASE_MS = 160;

function finite(v, fallback) {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

function clamp(v, lo, hi) {
  return Math.min(hi, Math.max(lo, v));
}

/**
 * The voice feedback an avatar file asks for, from readHubsComponents' result:
 *   {scale: [{node, nodeName, minScale, maxScale}], morph: [{node, nodeName, name, minValue, maxValue}], warnings}.
 * node is the glTF node index. Values the file leaves out take Hubs' defaults; values that are not numbers are
 * warned about and replaced by the defaults; a morph-audio-feedback without a target name is left out.
 */
export function readAvatarFeedback(hubs) {
  const warnings = [];
  const scale = nodesWith(hubs, "scale-audio-feedback").map((n) => {
    const c = n.components["scale-audio-feedback"] || {};
    for (const key of ["minScale", "maxScale"]) {
      if (c[key] !== undefined && !Number.isFinite(c[key])) warnings.push(`node ${n.index}: scale-audio-feedback ${key} is not a number`);
    }
    let minScale = clamp(finite(c.minScale, SCALE_DEFAULTS.minScale), 0, MAX_SCALE);
    let maxScale = clamp(finite(c.maxScale, SCALE_DEFAULTS.maxScale), 0, MAX_SCALE);
    if (maxScale < minScale) [minScale, maxScale] = [maxScale, minScale];
    return { node: n.index, nodeName: n.name, minScale, maxScale };
  });
  const morph = [];
  for (const n of nodesWith(hubs, "morph-audio-feedback")) {
    const c = n.components["morph-audio-feedback"] || {};
    if (typeof c.name !== "string" || c.name === "") {
      warnings.push(`node ${n.index}: morph-audio-feedback names no morph target`);
      continue;
    }
    morph.push({
      node: n.index,
      nodeName: n.name,
      name: c.name,
      minValue: clamp(finite(c.minValue, MORPH_DEFAULTS.minValue), -1, 1),
      maxValue: clamp(finite(c.maxValue, MORPH_DEFAULTS.maxValue), -1, 1),
    });
  }
  return { scale, morph, warnings };
}

/** How loud a voice is for feedback, 0..1, from its RMS (0..1): silence is 0, a loud voice 1. */
export function voiceAmount(rms) {
  if (!(rms > 0)) return 0;
  const db = 20 * Math.log10(rms);
  return clamp((db - QUIET_DB) / (LOUD_DB - QUIET_DB), 0, 1);
}

/** The next smoothed amount after dtMs, moving from prev towards target (rising faster than falling). */
export function smoothAmount(prev, target, dtMs) {
  const dt = Math.max(0, finite(dtMs, 0));
  const tau = target > prev ? ATTACK_MS : RELEASE_MS;
  return prev + (target - prev) * (1 - Math.exp(-dt / tau));
}

/** The scale factor for an amount (0..1) of scale-audio-feedback c. */
export function scaleFor(amount, c) {
  const a = clamp(finite(amount, 0), 0, 1);
  return c.minScale + (c.maxScale - c.minScale) * a;
}

/** The morph target influence for an amount (0..1) of morph-audio-feedback c. */
export function morphValueFor(amount, c) {
  const a = clamp(finite(amount, 0), 0, 1);
  return c.minValue + (c.maxValue - c.minValue) * a;
}
