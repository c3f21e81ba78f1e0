// The built-in avatar looks: a body and a head made of A-Frame primitives, each look its own shapes and colours so
// people tell each other apart at a glance. The chosen look travels in the presence profile as avatarId
// ("builtin:<id>"), so others draw it without any extra NAF traffic. (Uploaded glTF avatars come later.)

export const LOOKS = Object.freeze([
  {
    id: "builtin:sky",
    name: "Sky",
    body: { primitive: "cylinder", radius: 0.22, height: 1.3, color: "#3d7dd8" },
    head: { primitive: "sphere", radius: 0.17, color: "#f2c79b" },
  },
  {
    id: "builtin:moss",
    name: "Moss",
    body: { primitive: "box", width: 0.46, height: 1.3, depth: 0.28, color: "#4f9a45" },
    head: { primitive: "box", width: 0.3, height: 0.3, depth: 0.3, color: "#ead9ad" },
  },
  {
    id: "builtin:ember",
    name: "Ember",
    body: { primitive: "cone", radiusBottom: 0.3, radiusTop: 0.1, height: 1.35, color: "#d2483f" },
    head: { primitive: "sphere", radius: 0.17, color: "#ffd37a" },
  },
  {
    id: "builtin:dusk",
    name: "Dusk",
    body: { primitive: "cylinder", radius: 0.24, height: 1.3, segmentsRadial: 6, color: "#7a58b0" },
    head: { primitive: "dodecahedron", radius: 0.19, color: "#c6e3f3" },
  },
]);

export const DEFAULT_LOOK = LOOKS[0];

/** The look with this avatarId, or null. */
export function lookById(id) {
  return LOOKS.find((l) => l.id === id) || null;
}

/** The look to draw for an avatarId from someone's profile: unknown ids (other clients' avatars) get the default. */
export function lookFor(avatarId) {
  return lookById(avatarId) || DEFAULT_LOOK;
}

/** An A-Frame geometry attribute value ({primitive, ...}) from a look part, without the colour. */
export function geometryOf(part) {
  const { color, ...geometry } = part;
  return geometry;
}
