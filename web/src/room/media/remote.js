// Whose voice and picture is which: the tracks other people publish, matched to their sessions.
//
// Two sources say what is there, and they are put together here:
//   - the server's words: the join response's peers and the `tracks` notifications list, per session, what that
//     person publishes now ({id, kind, source, layers}); `peer_left` says they went;
//   - the subscribe connection: ontrack hands over a MediaStreamTrack whose stream id (event.streams[0].id) is
//     the publisher's session id, on a transceiver (keyed by its mid). The server reuses transceivers as tracks
//     come and go, so the same mid may later carry someone else's track, and a transceiver the server stopped
//     sending on stays around, inactive: after each negotiation, reconcile() is told which mids still receive.
//
// A session's audio or video is live when a receiving transceiver carries it and the server has not said it
// stopped. Each person publishes at most one audio and one video track, so (session, kind) names a track. The
// session id is also the hub channel session id and the NAF owner of that person's avatar.

export class RemoteMedia {
  constructor() {
    this.announced = new Map(); // session → [{id, kind, source, layers}] (what the server said last)
    this.receivers = new Map(); // mid → {session, kind, track, active}
    this.version = 0; // bumped whenever view() may have changed
    this.seq = 0; // order of arrival: of two live tracks of one (session, kind), the newer wins
  }

  changed() {
    this.version++;
  }

  /** The join response's peers: [{session_id, tracks}] (replaces everything the server said before). */
  setPeers(peers) {
    this.announced.clear();
    for (const p of Array.isArray(peers) ? peers : []) {
      if (p && typeof p.session_id === "string") this.announced.set(p.session_id, cleanTracks(p.tracks));
    }
    this.changed();
  }

  /** A `tracks` notification: what session publishes now (its whole list). */
  setTracks(session, tracks) {
    if (typeof session !== "string" || !session) return;
    this.announced.set(session, cleanTracks(tracks));
    this.changed();
  }

  /** `peer_joined`: they publish nothing yet. */
  peerJoined(session) {
    if (typeof session !== "string" || !session) return;
    if (!this.announced.has(session)) this.announced.set(session, []);
    this.changed();
  }

  /** `peer_left`: everything of theirs goes, whatever the subscribe connection still shows. */
  peerLeft(session) {
    this.announced.delete(session);
    for (const [mid, r] of this.receivers) {
      if (r.session === session) this.receivers.delete(mid);
    }
    this.changed();
  }

  /**
   * ontrack: a track arrived on transceiver mid, in a stream whose id is the publisher's session. A transceiver
   * the server reused for someone else's track replaces what it carried before.
   */
  received({ mid, session, kind, track }) {
    if (mid == null || typeof session !== "string" || !session || (kind !== "audio" && kind !== "video")) return false;
    this.receivers.set(String(mid), { session, kind, track, active: true, seq: ++this.seq });
    this.changed();
    return true;
  }

  /**
   * After a negotiation: the mids of the transceivers that still receive (currentDirection recvonly/sendrecv).
   * The others carry nothing now (the server removed the track; the transceiver waits to be reused).
   */
  reconcile(receivingMids) {
    const keep = new Set([...receivingMids].map(String));
    let changed = false;
    for (const [mid, r] of this.receivers) {
      const active = keep.has(mid);
      if (r.active !== active) {
        r.active = active;
        changed = true;
      }
    }
    if (changed) this.changed();
  }

  /** Everything, for a reconnect: the new connection starts from nothing. */
  clear() {
    this.announced.clear();
    this.receivers.clear();
    this.changed();
  }

  /** The session a transceiver's track belongs to (for stats), or null. */
  sessionOfMid(mid) {
    return this.receivers.get(String(mid))?.session ?? null;
  }

  /** What session publishes, as the server said last ([] when it said nothing). */
  tracksOf(session) {
    return this.announced.get(session) || [];
  }

  /**
   * The live media per session: Map session → {audio: MediaStreamTrack|null, video: {track, source}|null}.
   * Only sessions with something live are in it.
   */
  view() {
    const out = new Map();
    for (const r of this.receivers.values()) {
      if (!r.active) continue;
      const said = this.announced.get(r.session);
      // Before the server has said anything about a session (it always does first; this is belt and braces)
      // a receiving track counts; once it has, a kind it no longer lists is gone even if the transceiver has
      // not been renegotiated away yet.
      const info = said ? said.find((t) => t.kind === r.kind) : { source: r.kind === "audio" ? "mic" : "camera" };
      if (!info) continue;
      const entry = out.get(r.session) || { audio: null, video: null, seq: {} };
      if ((entry.seq[r.kind] || 0) > r.seq) continue;
      entry.seq[r.kind] = r.seq;
      if (r.kind === "audio") entry.audio = r.track;
      else entry.video = { track: r.track, source: info.source || "camera" };
      out.set(r.session, entry);
    }
    for (const entry of out.values()) delete entry.seq;
    return out;
  }
}

function cleanTracks(tracks) {
  if (!Array.isArray(tracks)) return [];
  return tracks
    .filter((t) => t && (t.kind === "audio" || t.kind === "video"))
    .map((t) => ({
      id: typeof t.id === "string" ? t.id : "",
      kind: t.kind,
      source: typeof t.source === "string" ? t.source : t.kind === "audio" ? "mic" : "camera",
      layers: Array.isArray(t.layers) ? t.layers.filter((l) => typeof l === "string") : [],
    }));
}
