// One browser's membership of a hub: the phoenix Socket, the hub:<id> channel and its Presence. It joins with the
// profile, keeps the session token so a reconnect keeps the same session id, and turns phoenix's callbacks into
// a few events the page and the NAF adapter listen to:
//
//   joined {hub, sessionId}      the first join succeeded
//   join-error {reason, message} the server refused the join (not_found, closed, join_denied...); we stop retrying
//   rejoined {hub, sessionId}    the channel is back after a dropped connection
//   connection "lost"|"open"     the socket dropped or came back
//   presence                     presence changed (read occupants())
//   message {type, body, session_id}
//   hub-refresh {hub}            the room's settings changed
//   closed                       the server closed our channel (kicked, room closed)
//   session-changed              a rejoin came back with another session id (the server forgot our token)
//   ended {reason, message}      the server closed our socket for good (kicked, account disabled); no reconnect
//   mute                         a moderator muted us
//   permissions-updated          our roles changed (made or unmade an owner); permsToken is refreshed
//   offline {reason, redirect_url, message}  the server is going offline

import { Presence, Socket } from "phoenix";

export class HubSession {
  /**
   * hubId: the hub_sid; socketUrl: "/socket" or "wss://host/socket"; profile(): the current {displayName, avatarId};
   * context: {mobile, hmd, embed}; joinParams(): more join payload fields (auth_token, hub_invite_id), read at
   * every (re)join; sessionToken: one to present on the first connect. Socket/PresenceClass can be replaced in tests.
   */
  constructor({ hubId, socketUrl = "/socket", profile, context, joinParams = () => ({}), sessionToken = null, SocketClass = Socket, PresenceClass = Presence, socketOptions = {} }) {
    this.hubId = hubId;
    this.profile = profile;
    this.context = context;
    this.sessionId = null;
    this.sessionToken = sessionToken;
    this.permsToken = null;
    this.hub = null;
    this.listeners = new Map();
    this.joinCount = 0;
    this.leaving = false;
    this.failed = null;
    let resolveJoined, rejectJoined;
    this.joined = new Promise((resolve, reject) => {
      resolveJoined = resolve;
      rejectJoined = reject;
    });
    this.joined.catch(() => {}); // a refusal is reported through "join-error" too
    this.resolveJoined = resolveJoined;
    this.rejectJoined = rejectJoined;

    this.socket = new SocketClass(socketUrl, {
      // Read at every (re)connect, so a reconnect presents the latest token and keeps our session id.
      params: () => (this.sessionToken ? { session_token: this.sessionToken } : {}),
      ...socketOptions,
    });
    this.down = false; // the socket was open once and is not now
    this.wasOpen = false;
    this.socket.onOpen(() => {
      this.wasOpen = true;
      if (this.down) {
        this.down = false;
        this.emit("connection", "open");
      }
    });
    const lost = () => {
      if (this.leaving || !this.wasOpen || this.down) return;
      this.down = true;
      this.emit("connection", "lost");
    };
    this.socket.onError(lost);
    // A socket the server closed for good (kicked, account disabled) must not reconnect: say why instead.
    this.socket.onClose((event) => {
      const why = endReason(event);
      if (why && !this.leaving) this.end(why);
    });
    this.socket.onClose(lost);

    this.sentProfile = null; // the profile the server has: sent with the (re)join or with profile_updated
    this.channel = this.socket.channel(`hub:${hubId}`, () => {
      this.sentProfile = { ...this.profile() };
      return { ...joinParams(), profile: this.sentProfile, context: this.context };
    });
    this.presence = new PresenceClass(this.channel);
    this.presence.onSync(() => this.emit("presence"));
    this.channel.on("message", (m) => this.emit("message", m));
    this.channel.on("hub_refresh", (m) => {
      // {hubs: [HUB], session_id (who changed it), stale_fields}
      const hub = Array.isArray(m?.hubs) ? m.hubs[0] : null;
      if (hub) this.hub = hub;
      this.emit("hub-refresh", { hub: this.hub, stale: m?.stale_fields || [] });
    });
    this.channel.on("mute", () => this.emit("mute"));
    this.channel.on("offline", (m) => this.emit("offline", m || {}));
    this.channel.on("permissions_updated", () => {
      this.request("refresh_perms_token").then((r) => {
        if (r.status === "ok" && r.response?.perms_token) this.permsToken = r.response.perms_token;
        this.emit("permissions-updated");
      });
    });
    this.channel.onClose(() => {
      if (!this.leaving && !this.failed) this.emit("closed");
    });
  }

  /** Connects and joins. Resolves with our session id; rejects with {reason, message} when refused. */
  start() {
    this.socket.connect();
    this.channel
      .join()
      .receive("ok", (reply) => this.onJoined(reply))
      .receive("error", (reply) => this.onRefused(reply));
    return this.joined;
  }

  onJoined(reply) {
    const hub = Array.isArray(reply?.hubs) ? reply.hubs[0] : null;
    if (hub) this.hub = hub;
    if (reply?.session_token) this.sessionToken = reply.session_token;
    if (reply?.perms_token) this.permsToken = reply.perms_token;
    this.joinCount++;
    if (this.joinCount === 1) {
      this.sessionId = reply.session_id;
      this.emit("joined", { hub: this.hub, sessionId: this.sessionId });
      this.resolveJoined(this.sessionId);
      return;
    }
    if (reply.session_id !== this.sessionId) {
      this.emit("session-changed", { sessionId: reply.session_id });
      return;
    }
    this.emit("rejoined", { hub: this.hub, sessionId: this.sessionId });
  }

  onRefused(reply) {
    const err = { ...reply, reason: reply?.reason || "join_failed", message: reply?.message || "the server refused to let us in" };
    // phoenix would keep retrying a refused join; a refusal (no such room, closed, denied) does not go away.
    this.failed = err;
    this.leaving = true;
    this.channel.leave();
    this.socket.disconnect();
    this.rejectJoined(Object.assign(new Error(err.message), err));
    this.emit("join-error", err);
  }

  /** The server closed our socket for good: stop reconnecting and tell the page. */
  end(why) {
    this.failed = why;
    this.leaving = true;
    this.channel.leave();
    this.socket.disconnect();
    this.emit("ended", why);
  }

  whenJoined() {
    return this.joined;
  }

  canSend() {
    return this.socket.isConnected() && this.channel.state === "joined";
  }

  /** {session_id: meta} for everyone present; with several metas (two tabs, a reconnect) the most advanced one. */
  occupants() {
    const out = {};
    this.presence.list((id, { metas }) => {
      out[id] = pickMeta(metas);
    });
    return out;
  }

  /**
   * Pushes event and resolves {status: "ok"|"error"|"timeout", response}. Events the server does not answer
   * (naf, nafr, events:entering) are sent with channel.push directly.
   */
  request(event, payload = {}, timeout = 10000) {
    return new Promise((resolve) => {
      this.channel
        .push(event, payload, timeout)
        .receive("ok", (response) => resolve({ status: "ok", response }))
        .receive("error", (response) => resolve({ status: "error", response }))
        .receive("timeout", () => resolve({ status: "timeout", response: null }));
    });
  }

  /** Tells the server about a new display name or look, unless it has them already. Resolves like request(). */
  async updateProfile(profile) {
    const p = { displayName: profile.displayName, avatarId: profile.avatarId, avatarUrl: profile.avatarUrl || "" };
    const s = this.sentProfile;
    if (s && s.displayName === p.displayName && s.avatarId === p.avatarId && (s.avatarUrl || "") === p.avatarUrl) {
      return { status: "ok", response: null };
    }
    const r = await this.request("events:profile_updated", { profile: p });
    if (r.status === "ok") this.sentProfile = p;
    return r;
  }

  /** Sends an event the server does not answer. */
  tell(event, payload = {}) {
    this.channel.push(event, payload);
  }

  /** Leaves the room for good. */
  leave() {
    this.leaving = true;
    return new Promise((resolve) => {
      const done = () => this.socket.disconnect(() => resolve());
      if (this.channel.state === "joined") this.channel.leave(1000).receive("ok", done).receive("timeout", done);
      else done();
    });
  }

  /** For tests: drop the connection as a network failure would, without telling phoenix. */
  dropConnection() {
    this.socket.conn?.close();
  }

  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.listeners.get(name)?.delete(fn);
  }

  emit(name, detail) {
    for (const fn of [...(this.listeners.get(name) || [])]) {
      try {
        fn(detail);
      } catch (err) {
        console.error(`toncon: a "${name}" listener failed`, err);
      }
    }
  }
}

/**
 * {reason, message} when a socket's close event says the server ended our session for good (its close reason
 * starts with "kicked:" or "account disabled:"), else null.
 */
export function endReason(event) {
  const text = typeof event?.reason === "string" ? event.reason : "";
  const m = /^(kicked|account disabled):\s*(.*)$/i.exec(text);
  if (!m) return null;
  return { reason: m[1].toLowerCase() === "kicked" ? "kicked" : "account_disabled", message: m[2] };
}

/** The meta that says most about a session: one in the room beats one in the lobby; then the latest. */
export function pickMeta(metas) {
  if (!Array.isArray(metas) || metas.length === 0) return null;
  for (let i = metas.length - 1; i >= 0; i--) {
    if (metas[i]?.presence === "room") return metas[i];
  }
  return metas[metas.length - 1];
}
