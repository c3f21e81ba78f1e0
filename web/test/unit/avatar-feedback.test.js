// Hubs voice feedback on avatars: what the real Hubs files ask for, read from their MOZ_hubs_components, and how a
// voice level becomes a scale or a morph target's influence.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { parseGLB, readHubsComponents } from "../../src/scene/hubs-components.js";
import {
  LOUD_DB, MORPH_DEFAULTS, QUIET_DB, SCALE_DEFAULTS, morphValueFor, readAvatarFeedback, scaleFor, smoothAmount, voiceAmount,
} from "../../src/room/avatars/feedback.js";

const sample = (name) => readHubsComponents(parseGLB(readFileSync(new URL(`../../samples/${name}.glb`, import.meta.url))).json);

/** A reader result with one node carrying components, as readHubsComponents returns it. */
const withNode = (components, index = 3, name = "N") => ({ nodes: [{ index, name, components }] });

test("the Hubs default avatar's Neck grows with the voice between 1 and 1.5", () => {
  const fb = readAvatarFeedback(sample("hubs-default-avatar_v3"));
  assert.deepEqual(fb.scale, [{ node: 3, nodeName: "Neck", minScale: 1, maxScale: 1.5 }]);
  assert.deepEqual(fb.morph, []);
  assert.deepEqual(fb.warnings, []);
});

test("the avatar in Spoke's test fixture opens its mouth with the MouthFlap morph target", () => {
  const fb = readAvatarFeedback(sample("spoke-dev_reticulum-test-fixture"));
  assert.deepEqual(fb.morph, [{ node: 4, nodeName: "CombinedMesh", name: "MouthFlap", minValue: 0, maxValue: 1 }]);
  assert.deepEqual(fb.scale, []);
});

test("values a file leaves out take Hubs' defaults; bad ones are warned about and replaced; extremes are clamped", () => {
  assert.deepEqual(readAvatarFeedback(withNode({ "scale-audio-feedback": {} })).scale[0], { node: 3, nodeName: "N", ...SCALE_DEFAULTS });
  const bad = readAvatarFeedback(withNode({ "scale-audio-feedback": { minScale: "big", maxScale: 1e9 } }));
  assert.deepEqual(bad.scale[0], { node: 3, nodeName: "N", minScale: 1, maxScale: 4 });
  assert.match(bad.warnings.join("\n"), /minScale is not a number/);
  const swapped = readAvatarFeedback(withNode({ "scale-audio-feedback": { minScale: 2, maxScale: 1 } })).scale[0];
  assert.deepEqual([swapped.minScale, swapped.maxScale], [1, 2]);
  const morph = readAvatarFeedback(withNode({ "morph-audio-feedback": { name: "Jaw", maxValue: 7 } })).morph[0];
  assert.deepEqual(morph, { node: 3, nodeName: "N", name: "Jaw", minValue: MORPH_DEFAULTS.minValue, maxValue: 1 });
});

test("a morph-audio-feedback that names no morph target is left out with a warning", () => {
  for (const c of [{}, { name: "" }, { name: 5 }]) {
    const fb = readAvatarFeedback(withNode({ "morph-audio-feedback": c }, 9));
    assert.deepEqual(fb.morph, []);
    assert.match(fb.warnings[0], /^node 9: morph-audio-feedback names no morph target$/);
  }
});

test("voice level to amount: silence is 0, a loud voice 1, linear in decibels between", () => {
  assert.equal(voiceAmount(0), 0);
  assert.equal(voiceAmount(-0.5), 0);
  assert.equal(voiceAmount(NaN), 0);
  assert.equal(voiceAmount(10 ** (QUIET_DB / 20)), 0);
  assert.equal(voiceAmount(0.001), 0, "-60 dBFS is silence");
  assert.ok(Math.abs(voiceAmount(10 ** (LOUD_DB / 20)) - 1) < 1e-9);
  assert.equal(voiceAmount(1), 1);
  const mid = 10 ** ((QUIET_DB + LOUD_DB) / 2 / 20);
  assert.ok(Math.abs(voiceAmount(mid) - 0.5) < 1e-9, `halfway in dB is 0.5, got ${voiceAmount(mid)}`);
  assert.ok(voiceAmount(0.02) < voiceAmount(0.05), "louder is more");
});

test("level to scale and morph value: the ends of the range at 0 and 1, clamped outside", () => {
  const c = { minScale: 1, maxScale: 1.5 };
  assert.equal(scaleFor(0, c), 1);
  assert.equal(scaleFor(1, c), 1.5);
  assert.equal(scaleFor(0.5, c), 1.25);
  assert.equal(scaleFor(3, c), 1.5);
  assert.equal(scaleFor(NaN, c), 1);
  const m = { minValue: 0.2, maxValue: 0.8 };
  assert.equal(morphValueFor(0, m), 0.2);
  assert.equal(morphValueFor(1, m), 0.8);
  assert.ok(Math.abs(morphValueFor(0.5, m) - 0.5) < 1e-12);
  assert.equal(morphValueFor(-1, m), 0.2);
});

test("smoothing rises faster than it falls, and never overshoots", () => {
  const up = smoothAmount(0, 1, 40);
  const down = 1 - smoothAmount(1, 0, 40);
  assert.ok(up > down, `rise ${up} should beat fall ${down}`);
  assert.ok(up > 0.6 && up < 0.7, `one attack time gets about 63% of the way, got ${up}`);
  assert.equal(smoothAmount(0.3, 0.3, 100), 0.3);
  assert.equal(smoothAmount(0.2, 1, 0), 0.2);
  let a = 0;
  for (let i = 0; i < 100; i++) a = smoothAmount(a, 1, 16);
  assert.ok(a <= 1 && a > 0.99);
});
