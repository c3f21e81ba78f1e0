// Who is here, from presence metas: the people list, the lobby/room counts, and display names for chat and name
// tags. Pure functions over {session_id: meta}, so they are tested without a browser.

/** One person per session, sorted: ourselves first, then the room, then the lobby, each by name. */
export function people(occupants, selfId) {
  const list = [];
  for (const [sessionId, meta] of Object.entries(occupants || {})) {
    if (!meta) continue;
    const profile = meta.profile && typeof meta.profile === "object" ? meta.profile : {};
    list.push({
      sessionId,
      displayName: typeof profile.displayName === "string" && profile.displayName ? profile.displayName : "Someone",
      avatarId: typeof profile.avatarId === "string" ? profile.avatarId : "",
      where: meta.presence === "room" ? "room" : "lobby",
      entering: !!meta.context?.entering,
      typing: !!meta.typing,
      handRaised: !!meta.hand_raised,
      owner: !!meta.roles?.owner,
      self: sessionId === selfId,
    });
  }
  const rank = (p) => (p.self ? 0 : p.where === "room" ? 1 : 2);
  list.sort((a, b) => rank(a) - rank(b) || a.displayName.localeCompare(b.displayName) || a.sessionId.localeCompare(b.sessionId));
  return list;
}

/** {inRoom, inLobby} counts. */
export function counts(occupants) {
  let inRoom = 0;
  let inLobby = 0;
  for (const meta of Object.values(occupants || {})) {
    if (!meta) continue;
    if (meta.presence === "room") inRoom++;
    else inLobby++;
  }
  return { inRoom, inLobby };
}

/** "3 in the room · 1 in the lobby", in words people read at a glance. */
export function describeCounts({ inRoom, inLobby }) {
  const room = inRoom === 0 ? "Nobody in the room yet" : `${inRoom} in the room`;
  return inLobby > 0 ? `${room} · ${inLobby} in the lobby` : room;
}

/**
 * Remembers the display names of sessions, including ones that left, so a chat line from someone who has gone
 * still shows who wrote it.
 */
export class NameBook {
  constructor() {
    this.names = new Map();
  }

  update(occupants) {
    for (const [sessionId, meta] of Object.entries(occupants || {})) {
      const name = meta?.profile?.displayName;
      if (typeof name === "string" && name) this.names.set(sessionId, name);
    }
  }

  name(sessionId) {
    return this.names.get(sessionId) || "Someone who left";
  }
}
