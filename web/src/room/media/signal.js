// The media server's signalling socket (/media/socket, docs/media.md "Signalling"): JSON text frames in protoo's
// envelope. Requests go both ways and each side answers the other's; the server also sends notifications.
//
//   const sock = new MediaSocket(url, {onRequest, onNotification, onClose});
//   await sock.opened;
//   const data = await sock.request("join", {...});   // rejects with a MediaError {code, reason} on ok: false
//
// onRequest(method, data) returns (or resolves with) the response data; a throw becomes ok: false with the
// error's message as errorReason. Nothing here knows about WebRTC: the socket is replaceable in tests.

/** Close codes the media server uses (docs/media.md "Close codes"). */
export const CLOSE = Object.freeze({
  NORMAL: 1000,
  SHUTDOWN: 1001,
  ABNORMAL: 1006, // no close frame: the network dropped, or the server was gone
  TOKEN_EXPIRED: 4001,
  REPLACED: 4002,
  KICKED: 4003,
  JOIN_REFUSED: 4004,
  PROTOCOL: 4005,
  NO_ANSWER: 4006,
  MEDIA_FAILED: 4007,
});

/** A refused request (errorCode, errorReason from the server), a timeout, or a closed socket. */
export class MediaError extends Error {
  constructor(code, reason) {
    super(reason || code);
    this.name = "MediaError";
    this.code = code;
    this.reason = reason || code;
  }
}

/**
 * What to do when the socket closed with code: "stop" (we left, another socket took over, kicked), "refused"
 * (the join response said why), or "reconnect" (everything else: server restart, expired token, a failed
 * connection, a dropped network).
 */
export function closeAction(code) {
  switch (code) {
    case CLOSE.NORMAL:
    case CLOSE.REPLACED:
    case CLOSE.KICKED:
      return "stop";
    case CLOSE.JOIN_REFUSED:
      return "refused";
    default:
      return "reconnect";
  }
}

/** The socket URL for get_host's {host, port}: wss on an https page, ws on an http one. */
export function mediaSocketUrl({ host, port }, hubId, pageLocation = globalThis.location) {
  const secure = pageLocation?.protocol !== "http:";
  const h = host || pageLocation?.hostname || "localhost";
  const bracketed = h.includes(":") && !h.startsWith("[") ? `[${h}]` : h;
  const defaultPort = secure ? 443 : 80;
  const p = port && Number(port) !== defaultPort ? `:${port}` : "";
  return `${secure ? "wss" : "ws"}://${bracketed}${p}/media/socket?hub_id=${encodeURIComponent(hubId)}`;
}

export class MediaSocket {
  /**
   * url: the socket URL; onRequest(method, data) → response data (or a Promise of it); onNotification(method,
   * data); onClose({code, reason}) once, when the socket is closed for whatever reason. requestTimeout: how long a
   * request may wait for its response (ms).
   */
  constructor(url, { WebSocketClass = globalThis.WebSocket, onRequest = () => null, onNotification = () => {}, onClose = () => {}, requestTimeout = 10000 } = {}) {
    this.onRequest = onRequest;
    this.onNotification = onNotification;
    this.onClose = onClose;
    this.requestTimeout = requestTimeout;
    this.nextId = 1;
    this.pending = new Map(); // id → {resolve, reject, timer}
    this.closed = false;
    this.ws = new WebSocketClass(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.rejectOpen = reject;
    });
    this.opened.catch(() => {}); // a socket that never opens reports through onClose as well
    this.ws.onmessage = (ev) => this.receive(ev.data);
    this.ws.onerror = () => {}; // a close event always follows, with the code
    this.ws.onclose = (ev) => this.closedBy(ev?.code ?? CLOSE.ABNORMAL, ev?.reason || "");
  }

  /** Sends a request and resolves with the response's data; rejects with a MediaError. */
  request(method, data = {}) {
    if (this.closed) return Promise.reject(new MediaError("closed", "the media connection is closed"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new MediaError("timeout", `the media server did not answer ${method}`));
      }, this.requestTimeout);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ request: true, id, method, data });
    });
  }

  /** Closes the socket (code 1000 unless told otherwise). onClose still runs, once. */
  close(code = CLOSE.NORMAL, reason = "") {
    if (this.closed) return;
    try {
      this.ws.close(code, reason);
    } catch {
      // already closing
    }
    this.closedBy(code, reason);
  }

  send(message) {
    try {
      this.ws.send(JSON.stringify(message));
    } catch {
      // the close event reports it
    }
  }

  receive(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      return; // the server only sends JSON; ignore noise
    }
    if (!m || typeof m !== "object") return;
    if (m.response) {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.data ?? {});
      else p.reject(new MediaError(m.errorCode || "error", m.errorReason || "the media server refused"));
    } else if (m.request) {
      this.answer(m);
    } else if (m.notification) {
      try {
        this.onNotification(m.method, m.data ?? {});
      } catch (err) {
        console.warn(`toncon media: the ${m.method} notification failed`, err);
      }
    }
  }

  async answer(m) {
    try {
      const data = await this.onRequest(m.method, m.data ?? {});
      if (!this.closed) this.send({ response: true, id: m.id, ok: true, data: data ?? {} });
    } catch (err) {
      if (!this.closed) this.send({ response: true, id: m.id, ok: false, errorCode: err?.code || "client_error", errorReason: String(err?.message || err) });
    }
  }

  closedBy(code, reason) {
    if (this.closed) return;
    this.closed = true;
    this.rejectOpen(new MediaError("closed", `the media socket closed (${code})`));
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new MediaError("closed", "the media connection closed"));
    }
    this.pending.clear();
    this.onClose({ code, reason });
  }
}
