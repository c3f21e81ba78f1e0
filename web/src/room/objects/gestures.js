// The arithmetic of handling a media object by hand, kept apart from the DOM and A-Frame so Node can test it:
// how far apart two fingers are, when a pinch counts as a resize, and where an object held by a VR controller
// goes as the controller moves. The matrices are three.js Matrix4s of whichever copy of three.js the caller has.

/** A pinch that changes the fingers' spread by less than this fraction is a wobble, not a resize. */
export const PINCH_DEAD_ZONE = 0.05;

/** The distance between the first two of a list of touches ({clientX, clientY}), CSS pixels. */
export function touchSpread(touches) {
  return Math.hypot(touches[0].clientX - touches[1].clientX, touches[0].clientY - touches[1].clientY);
}

/** How much a pinch from `from` to `to` pixels apart resizes: the factor, or null when it does not. */
export function pinchFactor(from, to) {
  if (!(from > 0) || !(to > 0) || !Number.isFinite(from) || !Number.isFinite(to)) return null;
  const factor = to / from;
  return Math.abs(factor - 1) > PINCH_DEAD_ZONE ? factor : null;
}

/**
 * The held object's pose in the controller's own coordinates when the trigger closes on it (controller⁻¹ ×
 * object, both world matrices), into `out`. It stays so while held.
 */
export function grabOffset(controllerWorld, objectWorld, out) {
  return out.copy(controllerWorld).invert().multiply(objectWorld);
}

/**
 * Where a held object is now, in its parent's coordinates (parent⁻¹ × controller × offset), into `out`;
 * `scratch` is a spare matrix. parentWorld null: the object is at the top of the scene.
 */
export function heldMatrix(controllerWorld, offset, parentWorld, out, scratch) {
  out.multiplyMatrices(controllerWorld, offset);
  if (parentWorld) out.premultiply(scratch.copy(parentWorld).invert());
  return out;
}
