// Unit tests for what people read about their devices and the voice connection (src/room/media/words.js), and
// the level and speaking arithmetic (src/room/media/local.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { SpeakingDetector, meterLevel, rms } from "../../src/room/media/local.js";
import { closeText, deviceErrorText, deviceLabel, mediaErrorText } from "../../src/room/media/words.js";

const err = (name, message = "") => Object.assign(new Error(message), { name });

test("getUserMedia failures say what happened and what to do, by the error's name", () => {
  assert.match(deviceErrorText(err("NotAllowedError"), "mic"), /blocked the microphone\. Allow it for this site/);
  assert.match(deviceErrorText(err("NotFoundError"), "mic"), /^No microphone was found\. Plug one in/);
  assert.match(deviceErrorText(err("NotFoundError"), "camera"), /^No camera was found/);
  assert.match(deviceErrorText(err("NotReadableError"), "camera"), /another app may be using it/);
  assert.match(deviceErrorText(err("OverconstrainedError"), "mic"), /no longer there\. Pick another/);
  assert.match(deviceErrorText(err("NotSupportedError"), "mic"), /secure \(https\)/);
  assert.match(deviceErrorText(err("WeirdError", "boom"), "mic"), /could not be started \(boom\)/);
  // Screen sharing: a cancelled picker is not an error worth alarming anyone about.
  assert.match(deviceErrorText(err("NotAllowedError"), "screen"), /cancelled or blocked/);
  assert.match(deviceErrorText(undefined, "mic"), /could not be started/);
});

test("media server refusals and close codes read as sentences; a normal close says nothing", () => {
  assert.match(mediaErrorText({ code: "join_denied" }), /not available to you/);
  assert.match(mediaErrorText({ code: "token_invalid" }), /perms key/);
  assert.match(mediaErrorText({ code: "something_new", reason: "details" }), /problem: details/);
  assert.equal(closeText(1000), null);
  assert.equal(closeText(4002), null);
  assert.match(closeText(4003), /moderator removed you/);
  assert.match(closeText(1006), /Reconnecting/);
});

test("device labels fall back to a number before the browser reveals names", () => {
  assert.equal(deviceLabel({ label: " USB Mic " }, 0, "audioinput"), "USB Mic");
  assert.equal(deviceLabel({ label: "" }, 1, "audioinput"), "Microphone 2");
  assert.equal(deviceLabel({}, 0, "videoinput"), "Camera 1");
});

test("levels: RMS, a meter from -60 dBFS to 0, and speaking that holds between words", () => {
  assert.equal(rms(new Float32Array([0.5, -0.5, 0.5, -0.5])), 0.5);
  assert.equal(rms([]), 0);
  assert.equal(meterLevel(0), 0);
  assert.equal(meterLevel(1), 1);
  assert.equal(meterLevel(0.001), 0); // -60 dBFS
  assert.ok(Math.abs(meterLevel(0.0316) - 0.5) < 0.01); // -30 dBFS
  const d = new SpeakingDetector({ threshold: 0.01, holdMs: 300 });
  assert.equal(d.update(0.001, 0), false);
  assert.equal(d.update(0.05, 100), true);
  assert.equal(d.update(0.001, 300), true, "still speaking within the hold");
  assert.equal(d.update(0.001, 401), false);
});
