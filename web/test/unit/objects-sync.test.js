// Keeping videos and PDFs in step: what a follower does about the owner's state, when the owner writes it, and
// the sizes of panels, models and frames.

import { test } from "node:test";
import assert from "node:assert/strict";

import { DRIFT_PLAYING, OWNER_TICK_MS, clampPage, fitScale, ownerShouldWrite, panelSize, reconcile } from "../../src/room/objects/sync.js";
import { fitFactor, frameAccepts } from "../../src/room/objects/frames.js";

test("a late joiner seeks to the owner's time and plays", () => {
  assert.deepEqual(reconcile({ playing: true, time: 42 }, { time: 0, paused: true, duration: 100 }, 0), { seek: 42, play: true });
});

test("a playing owner has moved on since its state was sent: the follower seeks to where it is now", () => {
  const r = reconcile({ playing: true, time: 10 }, { time: 0, paused: true, duration: 100 }, 2500);
  assert.equal(r.seek, 12.5);
});

test("small drift is left alone while playing; larger drift seeks", () => {
  assert.deepEqual(reconcile({ playing: true, time: 10 }, { time: 10.5, paused: false, duration: 60 }, 0), { seek: null, play: null });
  assert.equal(reconcile({ playing: true, time: 10 }, { time: 10 + DRIFT_PLAYING + 0.2, paused: false, duration: 60 }, 0).seek, 10);
});

test("a pause stops the follower where the owner stopped", () => {
  assert.deepEqual(reconcile({ playing: false, time: 30 }, { time: 31.2, paused: false, duration: 60 }, 5000), { seek: 30, play: false });
  assert.deepEqual(reconcile({ playing: false, time: 30 }, { time: 30.1, paused: true, duration: 60 }, 0), { seek: null, play: null });
});

test("a time past the end is held at the end; bad numbers count as zero", () => {
  assert.equal(reconcile({ playing: false, time: 500 }, { time: 0, paused: true, duration: 20 }).seek, 20);
  assert.equal(reconcile({ playing: false, time: NaN }, { time: 5, paused: true, duration: NaN }).seek, 0);
  assert.deepEqual(reconcile(null, { time: 0, paused: true }), { seek: null, play: null });
});

test("the owner writes on play, pause, seek and page, and every few seconds while playing", () => {
  const last = { playing: true, time: 10, page: 1 };
  assert.equal(ownerShouldWrite(null, last, 0, 0), true, "the first state");
  assert.equal(ownerShouldWrite(last, { playing: true, time: 11, page: 1 }, 1000, 0), false, "playing on, as expected");
  assert.equal(ownerShouldWrite(last, { playing: true, time: 10 + OWNER_TICK_MS / 1000, page: 1 }, OWNER_TICK_MS, 0), true, "a tick");
  assert.equal(ownerShouldWrite(last, { playing: false, time: 10.4, page: 1 }, 400, 0), true, "paused");
  assert.equal(ownerShouldWrite(last, { playing: true, time: 50, page: 1 }, 1000, 0), true, "sought");
  assert.equal(ownerShouldWrite({ playing: false, time: 3, page: 1 }, { playing: false, time: 3, page: 2 }, 99999, 0), true, "a page");
  assert.equal(ownerShouldWrite({ playing: false, time: 3, page: 1 }, { playing: false, time: 3, page: 1 }, 99999, 0), false, "paused and unchanged");
});

test("pages stay within the document", () => {
  assert.equal(clampPage(0, 5), 1);
  assert.equal(clampPage(9, 5), 5);
  assert.equal(clampPage(2.6, 5), 3);
  assert.equal(clampPage(7, 0), 7, "before the page count is known");
  assert.equal(clampPage(NaN, 3), 1);
});

test("panels keep the picture's aspect ratio, models are brought to a metre", () => {
  assert.deepEqual(panelSize(1600, 900, 1), { width: 1, height: 0.5625 });
  assert.deepEqual(panelSize(300, 600, 2), { width: 1, height: 2 });
  assert.deepEqual(panelSize(0, 10, 1), { width: 1, height: 1 });
  assert.equal(fitScale({ x: 50, y: 200, z: 10 }, 1), 0.005);
  assert.equal(fitScale({ x: 0, y: 0, z: 0 }, 1), 1);
});

test("media frames take the kinds they say, and fit content inside their bounds", () => {
  assert.equal(frameAccepts("all-2d", "image"), true);
  assert.equal(frameAccepts("all-2d", "model"), false);
  assert.equal(frameAccepts(undefined, "pdf"), true, "the default is all-2d");
  assert.equal(frameAccepts("all", "model"), true);
  assert.equal(frameAccepts("all", "audio"), false);
  assert.equal(frameAccepts("video", "image"), false);
  assert.equal(frameAccepts("model", null), false);
  assert.equal(fitFactor({ x: 1, y: 0.5, z: 0 }, { x: 2, y: 2, z: 0.1 }, true), 2, "flat: depth does not count");
  assert.equal(fitFactor({ x: 1, y: 1, z: 1 }, { x: 2, y: 3, z: 0.5 }, false), 0.5);
  assert.equal(fitFactor({ x: 0, y: 0, z: 0 }, { x: 2, y: 2, z: 2 }, false), 1);
});
