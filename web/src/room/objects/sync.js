// Keeping a video (or sound) in step for everyone. The object's owner drives: its `toncon-media-state`
// {playing, time, page} is synced by NAF, and the owner writes the current time into it when it plays, pauses or
// seeks, and every few seconds while playing. Everyone else (and a late joiner) follows: reconcile() says what to
// do to the local element. Pure: Node tests it.

/** How far (seconds) a playing copy may drift from the owner's before it seeks; paused copies are held closer. */
export const DRIFT_PLAYING = 1.0;
export const DRIFT_PAUSED = 0.25;

/** How often (ms) the owner writes its time while playing, so drift is caught and late joiners land near it. */
export const OWNER_TICK_MS = 3000;

/**
 * What a follower does about the shared state. shared: {playing, time}; local: {time, paused, duration};
 * sinceMs: how long ago the shared state arrived (a playing owner has moved on since). Returns {seek: seconds |
 * null, play: true | false | null} (null: leave as is).
 */
export function reconcile(shared, local, sinceMs = 0) {
  const playing = !!shared?.playing;
  let expected = Number.isFinite(shared?.time) ? Math.max(0, shared.time) : 0;
  if (playing && sinceMs > 0) expected += sinceMs / 1000;
  if (Number.isFinite(local?.duration) && local.duration > 0) expected = Math.min(expected, local.duration);
  const now = Number.isFinite(local?.time) ? local.time : 0;
  const drift = Math.abs(now - expected);
  const seek = drift > (playing ? DRIFT_PLAYING : DRIFT_PAUSED) ? expected : null;
  let play = null;
  if (playing && local?.paused !== false) play = true;
  else if (!playing && local?.paused === false) play = false;
  return { seek, play };
}

/** Whether the owner should write its state now: it changed (play, pause, seek), or a tick passed while playing. */
export function ownerShouldWrite(last, now, atMs, lastWriteMs) {
  if (!last) return true;
  if (last.playing !== now.playing || last.page !== now.page) return true;
  const expected = last.playing ? last.time + (atMs - lastWriteMs) / 1000 : last.time;
  if (Math.abs(now.time - expected) > DRIFT_PAUSED * 2) return true; // a seek
  return now.playing && atMs - lastWriteMs >= OWNER_TICK_MS;
}

/** A page number kept within 1..pages (pages unknown: at least 1). */
export function clampPage(page, pages) {
  const p = Number.isFinite(page) ? Math.round(page) : 1;
  const max = Number.isFinite(pages) && pages > 0 ? pages : Infinity;
  return Math.min(max, Math.max(1, p));
}

/**
 * The size (metres) of a panel showing something width × height pixels, its longer side `longest` metres: images
 * and videos keep their aspect ratio.
 */
export function panelSize(width, height, longest = 1) {
  if (!(width > 0) || !(height > 0)) return { width: longest, height: longest };
  return width >= height ? { width: longest, height: (longest * height) / width } : { width: (longest * width) / height, height: longest };
}

/** The uniform scale that brings a model whose bounding box has these sizes to `target` metres on its longest side. */
export function fitScale(size, target = 1) {
  const longest = Math.max(size?.x || 0, size?.y || 0, size?.z || 0);
  if (!(longest > 0) || !Number.isFinite(longest)) return 1;
  return target / longest;
}
