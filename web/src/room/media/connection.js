// The connection to the media server (docs/media.md, "A browser client, step by step"): the signalling socket, a
// publish RTCPeerConnection that sends our microphone and at most one video track (camera or screen), and a
// subscribe RTCPeerConnection on which the server offers everyone else's tracks and renegotiates as they come
// and go. It keeps the perms token fresh, follows a moderator's mute, and reconnects when the server says so.
//
// Events (on(fn) → fn(event, detail)):
//   state    {state}            idle | connecting | connected | reconnecting | stopped | refused
//   voice    {allowed, muted}   what the server says of our voice (muted: by a moderator)
//   notice   {text, kind}       something to tell the person (kind: warn | ok)
//
// Nothing here draws anything: the page (media/index.js) shows the state, spatial.js plays what `remote` holds.

import { CLOSE, MediaError, MediaSocket, closeAction, mediaSocketUrl } from "./signal.js";
import { closeText, mediaErrorText } from "./words.js";

/** Simulcast layers for the camera, lowest first (the server picks one per receiver). */
export const CAMERA_LAYERS = [
  { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 120000 },
  { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 400000 },
  { rid: "f", maxBitrate: 1200000 },
];

/** Waits between reconnects, in ms; the last one repeats. */
export const BACKOFF_MS = [500, 1500, 3000, 6000, 10000];

/** The longest wait before refreshing the perms token (Hubs refreshes its 5-minute tokens about every 4). */
export const REFRESH_MAX_MS = 4 * 60 * 1000;

/** Refusals a new attempt may get past (a fresh token, a server back from a restart, a network back). */
const RETRYABLE = new Set(["closed", "timeout", "token_expired", "no_token", "shutting_down", "internal_error"]);

/** When to refresh a token that expires at expiresAt (Unix seconds): a minute before, at most REFRESH_MAX_MS away. */
export function refreshDelay(expiresAt, now = Date.now()) {
  const left = Number(expiresAt) * 1000 - now;
  if (!Number.isFinite(left)) return REFRESH_MAX_MS;
  return Math.max(10000, Math.min(REFRESH_MAX_MS, left - 60000));
}

export class MediaConnection {
  /**
   * hub: the HubSession (request, sessionId, hubId, channel, hub, on); local: LocalMedia; remote: RemoteMedia.
   * PeerConnection, WebSocketClass and pageLocation can be replaced in tests.
   */
  constructor({ hub, local, remote, PeerConnection = globalThis.RTCPeerConnection, WebSocketClass = globalThis.WebSocket, pageLocation = globalThis.location }) {
    this.hub = hub;
    this.local = local;
    this.remote = remote;
    this.PeerConnection = PeerConnection;
    this.WebSocketClass = WebSocketClass;
    this.pageLocation = pageLocation;
    this.state = "idle";
    this.voice = { allowed: true, muted: false };
    this.wanted = false; // between start() and stop()
    this.sock = null;
    this.pub = null;
    this.sub = null;
    this.audioTx = null;
    this.videoTx = null;
    this.publishedSource = null;
    this.pubChain = Promise.resolve();
    this.attempt = 0;
    this.reconnectTimer = null;
    this.refreshTimer = null;
    this.listeners = new Set();
    this.counters = { joins: 0, offers: 0, publishes: 0, refreshes: 0, reconnects: 0 };

    local.on((what) => {
      if (what === "mic" || what === "video" || what === "mic-lost") this.syncPublish();
    });
    // A moderator's mute reaches us on the hub channel and (from the media server) on the media socket.
    hub.channel?.on?.("mute", () => this.setModeratorMuted(true));
    hub.on?.("permissions-updated", () => this.refreshToken());
    hub.on?.("hub-refresh", () => this.refreshToken()); // the room's member permissions may have changed
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(event, detail) {
    for (const fn of [...this.listeners]) {
      try {
        fn(event, detail);
      } catch (err) {
        console.warn("toncon media: a listener failed", err);
      }
    }
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", { state });
  }

  notice(text, kind = "warn") {
    if (text) this.emit("notice", { text, kind });
  }

  /** Connects (after entering the room). Safe to call again. */
  start() {
    if (this.wanted) return;
    this.wanted = true;
    this.attempt = 0;
    this.connect();
  }

  /** Leaves the media server (back to the lobby, or leaving the page). */
  stop() {
    this.wanted = false;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.refreshTimer);
    const sock = this.sock;
    this.sock = null;
    if (sock && !sock.closed) {
      // Say goodbye so the others' offers drop our tracks at once; close anyway shortly after.
      const bye = sock.request("leave").catch(() => {});
      Promise.race([bye, new Promise((r) => setTimeout(r, 500))]).then(() => sock.close(CLOSE.NORMAL, "left"));
    }
    this.teardown();
    this.setState("stopped");
  }

  async connect() {
    if (!this.wanted) return;
    this.setState(this.attempt > 0 ? "reconnecting" : "connecting");
    let sock;
    try {
      const [where, token] = await Promise.all([this.host(), this.freshToken()]);
      if (!this.wanted) return;
      sock = new MediaSocket(mediaSocketUrl(where, this.hub.hubId, this.pageLocation), {
        WebSocketClass: this.WebSocketClass,
        onRequest: (method, data) => this.onRequest(sock, method, data),
        onNotification: (method, data) => this.onNotification(sock, method, data),
        onClose: (ev) => this.onClose(sock, ev),
      });
      this.sock = sock;
      await sock.opened;
      const joined = await sock.request("join", { hub_id: this.hub.hubId, session_id: this.hub.sessionId, token });
      if (this.sock !== sock) return;
      this.counters.joins++;
      this.attempt = 0;
      this.remote.setPeers(joined.peers);
      this.setVoice(joined.voice);
      this.scheduleRefresh(joined.expires_at);
      this.setState("connected");
      this.syncPublish();
    } catch (err) {
      if (this.sock && this.sock !== sock) return; // a newer attempt runs
      if (err instanceof MediaError && !RETRYABLE.has(err.code)) {
        // The server refused the join for a reason a retry does not fix.
        this.wanted = false;
        this.setState("refused");
        this.notice(mediaErrorText(err));
        sock?.close();
        return;
      }
      // Could not reach the server or the hub channel: onClose (if a socket was made) or we schedule a retry.
      if (!sock) this.retry();
      else sock.close(4000, "join failed");
    }
  }

  /** get_host's {host, port}; the room's HUB JSON or this page's address when the channel cannot say. */
  async host() {
    const r = await this.hub.request("get_host");
    if (r.status === "ok" && r.response?.host) return { host: r.response.host, port: r.response.port };
    const h = this.hub.hub;
    if (h?.host) return { host: h.host, port: h.port };
    return { host: this.pageLocation.hostname, port: Number(this.pageLocation.port) || null };
  }

  async freshToken() {
    const r = await this.hub.request("refresh_perms_token");
    if (r.status === "ok" && r.response?.perms_token) return r.response.perms_token;
    if (this.hub.permsToken) return this.hub.permsToken; // the join's, while it lasts
    throw new MediaError("no_token", r.response?.message || "the hub channel gave no perms token");
  }

  scheduleRefresh(expiresAt) {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refreshToken(), refreshDelay(expiresAt));
  }

  /** Sends a fresh perms token to the media server (on a timer, and when our permissions may have changed). */
  async refreshToken() {
    const sock = this.sock;
    if (!sock || this.state !== "connected") return;
    try {
      const token = await this.freshToken();
      const r = await sock.request("refresh_token", { token });
      this.counters.refreshes++;
      this.setVoice(r.voice);
      this.scheduleRefresh(r.expires_at);
    } catch (err) {
      if (this.sock !== sock) return;
      console.warn("toncon media: refreshing the perms token failed; trying again soon", err);
      clearTimeout(this.refreshTimer);
      this.refreshTimer = setTimeout(() => this.refreshToken(), 15000);
    }
  }

  /** The server's {allowed, muted} (join, refresh_token and unmute responses). */
  setVoice(v) {
    if (!v || typeof v !== "object") return;
    this.voice = { ...this.voice, allowed: v.allowed !== false };
    if (this.voice.muted !== !!v.muted) this.setModeratorMuted(!!v.muted);
    else this.emit("voice", { ...this.voice });
  }

  /** A moderator muted us (true), or the mute was lifted (false: only we can lift it, so we want to talk). */
  setModeratorMuted(muted) {
    if (this.voice.muted === muted) return;
    this.voice = { ...this.voice, muted };
    if (muted) {
      this.local.setMicEnabled(false);
    } else if (this.local.mic) {
      this.local.setMicEnabled(true);
    }
    this.emit("voice", { ...this.voice });
  }

  /** Lifts a moderator's mute: the hub channel's unmute (presence and media server), and the media socket's. */
  async unmute() {
    const r = await this.hub.request("unmute");
    if (r.status !== "ok") throw new MediaError(r.response?.reason || r.status, r.response?.message || "the room did not unmute you");
    if (this.sock && this.state === "connected") {
      try {
        const res = await this.sock.request("unmute");
        this.setVoice(res.voice);
      } catch (err) {
        console.warn("toncon media: the media server's unmute failed", err);
      }
    }
    this.setModeratorMuted(false);
  }

  retry() {
    if (!this.wanted) return;
    clearTimeout(this.reconnectTimer);
    const wait = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt++;
    this.counters.reconnects++;
    this.setState("reconnecting");
    this.reconnectTimer = setTimeout(() => this.connect(), wait);
  }

  onClose(sock, { code }) {
    if (this.sock !== sock) return; // an old socket
    this.sock = null;
    clearTimeout(this.refreshTimer);
    this.teardown();
    if (!this.wanted) return;
    const action = closeAction(code);
    if (action === "stop") {
      this.wanted = false;
      this.setState("stopped");
      this.notice(closeText(code));
      return;
    }
    if (action === "refused") return; // the join's own refusal was handled in connect()
    if (this.attempt === 0) this.notice(closeText(code));
    this.retry();
  }

  /** Drops both connections and what they received; the local tracks stay. */
  teardown() {
    for (const pc of [this.pub, this.sub]) {
      try {
        pc?.close();
      } catch {
        // closed already
      }
    }
    this.pub = null;
    this.sub = null;
    this.audioTx = null;
    this.videoTx = null;
    this.publishedSource = null;
    this.remote.clear();
  }

  /** A connection failed (ICE or DTLS): start again from a new socket. */
  connectionFailed(pc) {
    if ((pc !== this.pub && pc !== this.sub) || !this.sock) return;
    this.sock.close(4000, "media connection failed");
  }

  newPeerConnection() {
    const pc = new this.PeerConnection({ bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
    pc.addEventListener?.("connectionstatechange", () => {
      if (pc.connectionState === "failed") this.connectionFailed(pc);
    });
    return pc;
  }

  // ---- requests and notifications from the server ----------------------------------------------------------

  async onRequest(sock, method, data) {
    if (method !== "offer") throw new MediaError("unknown_method", `this client has no request ${method}`);
    if (this.sock !== sock) throw new MediaError("closed", "this connection is closing");
    return this.answerOffer(data?.sdp);
  }

  async answerOffer(sdp) {
    if (typeof sdp !== "string" || !sdp) throw new MediaError("bad_request", "offer needs {sdp}");
    if (!this.sub) {
      const pc = this.newPeerConnection();
      pc.ontrack = (ev) => {
        if (this.sub !== pc) return;
        const session = ev.streams?.[0]?.id;
        this.remote.received({ mid: ev.transceiver?.mid, session, kind: ev.track?.kind, track: ev.track });
      };
      this.sub = pc;
    }
    const pc = this.sub;
    await pc.setRemoteDescription({ type: "offer", sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.counters.offers++;
    if (this.sub === pc) {
      const receiving = pc.getTransceivers()
        .filter((t) => t.currentDirection === "recvonly" || t.currentDirection === "sendrecv")
        .map((t) => t.mid);
      this.remote.reconcile(receiving);
    }
    return { sdp: pc.localDescription.sdp };
  }

  onNotification(sock, method, data) {
    if (this.sock !== sock) return;
    switch (method) {
      case "peer_joined":
        this.remote.peerJoined(data.session_id);
        break;
      case "peer_left":
        this.remote.peerLeft(data.session_id);
        break;
      case "tracks":
        this.remote.setTracks(data.session_id, data.tracks);
        break;
      case "muted":
        this.setModeratorMuted(!!data.muted);
        break;
    }
  }

  // ---- publishing -------------------------------------------------------------------------------------------

  /** Brings the publish connection in line with the local tracks; one negotiation at a time. */
  syncPublish() {
    this.pubChain = this.pubChain.then(() => this.publish()).catch((err) => {
      if (!this.sock || err?.code === "closed") return; // the connection went away meanwhile: the next one publishes
      console.warn("toncon media: publishing failed", err);
      this.notice(err instanceof MediaError ? mediaErrorText(err) : `Your microphone or video could not be sent: ${err?.message || err}.`);
    });
    return this.pubChain;
  }

  async publish() {
    const sock = this.sock;
    if (!sock || this.state !== "connected") return;
    const mic = this.local.mic;
    const video = this.local.video;
    if (!this.pub && !mic && !video) return; // nothing to send yet
    if (!this.pub) {
      this.pub = this.newPeerConnection();
      // The first section anchors the connection's one transport (it tags the BUNDLE group): stopping it would
      // move everything to a new transport mid-call. So it is an audio section that never sends, and the real
      // tracks come and go after it.
      this.pub.addTransceiver("audio", { direction: "inactive" });
    }
    const pc = this.pub;
    let renegotiate = false;

    // A transceiver never goes back to sending once stopped: the server (Pion) sees a new track only on a fresh
    // one, as it does for a newcomer's. So a microphone or video that comes gets a new transceiver, one that goes
    // stops its own, and another device or camera ↔ screen only replaces the track.
    if (mic) {
      if (!this.audioTx) {
        this.audioTx = pc.addTransceiver(mic, { direction: "sendonly" });
        renegotiate = true;
      } else if (this.audioTx.sender.track !== mic) {
        await this.audioTx.sender.replaceTrack(mic);
      }
    } else if (this.audioTx) {
      this.audioTx.stop();
      this.audioTx = null;
      renegotiate = true;
    }

    // The video: camera (in simulcast layers) or screen, one at a time. Turned off, its transceiver stops and
    // the next video gets a new one; camera ↔ screen only replaces the track and tells the server the source.
    if (video) {
      if (!this.videoTx) {
        this.videoTx = pc.addTransceiver(video.track, {
          direction: "sendonly",
          sendEncodings: CAMERA_LAYERS.map((l) => ({ ...l })),
        });
        renegotiate = true;
      } else if (this.videoTx.sender.track !== video.track) {
        await this.videoTx.sender.replaceTrack(video.track);
      }
      if (this.publishedSource !== video.source) renegotiate = true; // the server labels the track by it
    } else if (this.videoTx) {
      this.videoTx.stop();
      this.videoTx = null;
      renegotiate = true;
    }
    if (!renegotiate) return;

    const source = video?.source || this.publishedSource || "camera";
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const r = await sock.request("publish", { sdp: pc.localDescription.sdp, source });
    if (this.pub !== pc) return;
    await pc.setRemoteDescription({ type: "answer", sdp: r.sdp });
    this.publishedSource = video ? video.source : null;
    this.counters.publishes++;
  }

  // ---- for the test hook and the curious ---------------------------------------------------------------------

  /**
   * What the two connections say now (RTCPeerConnection.getStats, boiled down): outbound streams of the publish
   * connection and inbound streams of the subscribe connection, each inbound one with the session it comes from.
   */
  async stats() {
    const out = {
      state: this.state,
      voice: { ...this.voice },
      counters: { ...this.counters },
      publish: { connectionState: this.pub?.connectionState ?? null, outbound: [] },
      subscribe: { connectionState: this.sub?.connectionState ?? null, inbound: [] },
    };
    if (this.pub) {
      const report = await this.pub.getStats();
      report.forEach((s) => {
        if (s.type !== "outbound-rtp") return;
        out.publish.outbound.push({ kind: s.kind, rid: s.rid ?? null, packetsSent: s.packetsSent ?? 0, bytesSent: s.bytesSent ?? 0, framesEncoded: s.framesEncoded ?? null, frameWidth: s.frameWidth ?? null, active: s.active ?? null });
      });
    }
    if (this.sub) {
      const mids = new Map(this.sub.getTransceivers().map((t) => [t.receiver?.track?.id, t.mid]));
      const report = await this.sub.getStats();
      report.forEach((s) => {
        if (s.type !== "inbound-rtp") return;
        const mid = s.mid ?? mids.get(s.trackIdentifier) ?? null;
        out.subscribe.inbound.push({
          kind: s.kind, mid, sessionId: mid == null ? null : this.remote.sessionOfMid(mid),
          packetsReceived: s.packetsReceived ?? 0, bytesReceived: s.bytesReceived ?? 0, packetsLost: s.packetsLost ?? 0,
          framesDecoded: s.framesDecoded ?? null, frameWidth: s.frameWidth ?? null, frameHeight: s.frameHeight ?? null,
          audioLevel: s.audioLevel ?? null,
        });
      });
    }
    return out;
  }
}
