// A networked-aframe adapter that carries NAF messages over toncon's hub channel (Phoenix Channels), as the Hubs
// client does: no WebRTC data channels and no second server, the hub channel relays everything.
//
// Who is "connected": every session in the hub channel's presence except our own, whether it is in the lobby or
// in the room. The server relays NAF to every member of the hub topic, lobby included, so presence in the channel
// is exactly "can receive our messages"; people waiting in the lobby watch the room (as in Hubs), and for that
// they need the first syncs NAF sends to a client when it connects. Counting only "room" sessions would leave
// lobby watchers looking at an empty room, and would make NAF drop and re-create every avatar of a person at the
// moment they move from the lobby into the room.
//
// Sending: a message that holds a first sync goes as `naf` {dataType, data}, which the server inspects (spawn
// permission, owner and creator set to the sender); everything else goes as `nafr` {naf: "<json>"} with the
// isFirstSync keys left out, so the server relays it without parsing. The channel has no "send to one client",
// so directed messages go to everyone, as in Hubs; NAF treats a first sync of an entity it has as an update.
//
// NAF starts after the hub join (the lobby is up before the 3D engine has loaded), so the first syncs others sent
// when presence showed us may have come before anyone listened: on connecting we ask everyone for a complete sync.
//
// After a dropped connection the hub session reconnects with its session token (same session id), rejoins, and
// calls back here: we send a complete sync of the entities we own (as first syncs, so anyone who lost them
// re-creates them) and ask the others to do the same for us, since a session that joined while we were away
// sent its first syncs into the void.

/** The name to use in `networked-scene="adapter: ..."`. */
export const ADAPTER_NAME = "toncon-hub";

/** A NAF data type of our own: "send me a complete sync of what you own". NAF clients that do not know it ignore it. */
export const RESYNC_REQUEST = "toncon-resync";

/** The `source` NAF receives with every message (NAF.options.syncSource can require it). */
export const SOURCE = "hub-channel";

const IS_CONNECTED = "IS_CONNECTED";
const NOT_CONNECTED = "NOT_CONNECTED";

/** Whether a NAF message holds a first sync, which the server must see as an object on the `naf` event. */
export function holdsFirstSync(dataType, data) {
  if (!data || typeof data !== "object") return false;
  if (dataType === "u") return data.isFirstSync === true;
  if (dataType === "um") return Array.isArray(data.d) && data.d.some((d) => d && d.isFirstSync === true);
  return false;
}

// JSON.stringify replacer that leaves out isFirstSync keys: the server parses any nafr whose text mentions one.
function withoutFirstSyncKeys(key, value) {
  return key === "isFirstSync" ? undefined : value;
}

/**
 * The adapter. `hub` is the page's hub session (hub-session.js), or anything with the same small surface:
 *
 *   hub.channel                  the joined phoenix Channel: on(event, cb) → ref, off(event, ref), push(event, payload)
 *   hub.whenJoined()             Promise of our session id, once the first join succeeded (rejects on a join error)
 *   hub.sessionId                our session id (the same across reconnects)
 *   hub.canSend()                whether the socket is open and the channel joined
 *   hub.occupants()              {session_id: presence meta} of everyone in the hub channel, ourselves included
 *   hub.on("presence", cb)       presence changed; returns a function that unsubscribes
 *   hub.on("rejoined", cb)       the channel rejoined after a dropped connection; returns an unsubscribe function
 *
 * `naf` is the NAF global (window.NAF in the browser); tests pass a stand-in.
 */
export class HubChannelAdapter {
  constructor(hub, naf = globalThis.NAF) {
    if (!hub) throw new Error("HubChannelAdapter needs the hub session");
    this.hub = hub;
    this.naf = naf;
    this.clientId = null;
    this.open = new Set(); // the clients NAF asked us to connect to, and that are still present
    this.unsubscribe = [];
    this.connectSuccess = () => {};
    this.connectFailure = () => {};
    this.occupantListener = () => {};
    this.openListener = () => {};
    this.closedListener = () => {};
    this.messageListener = () => {};
    this.stats = { sent: 0, sentFirstSync: 0, received: 0, dropped: 0, resyncs: 0 };
  }

  // NAF hands us the server URL, app and room; the hub channel already knows its room, so they are not needed.
  setServerUrl() {}
  setApp() {}
  setRoom() {}

  setWebRtcOptions(options) {
    if (options && (options.audio || options.video)) {
      console.warn("toncon: voice and video are not carried by the hub channel adapter");
    }
  }

  setServerConnectListeners(success, failure) {
    this.connectSuccess = success;
    this.connectFailure = failure;
  }

  setRoomOccupantListener(listener) {
    this.occupantListener = listener;
  }

  setDataChannelListeners(open, closed, message) {
    this.openListener = open;
    this.closedListener = closed;
    this.messageListener = message;
  }

  /** Called by NAF: waits for the hub join, then reports our session id as NAF's client id. */
  async connect() {
    const { channel } = this.hub;
    const nafRef = channel.on("naf", (payload) => this.receive(payload, false));
    const nafrRef = channel.on("nafr", (payload) => this.receive(payload, true));
    this.unsubscribe.push(() => channel.off("naf", nafRef), () => channel.off("nafr", nafrRef));
    let sessionId;
    try {
      sessionId = await this.hub.whenJoined();
    } catch (err) {
      this.connectFailure(err?.reason || "join_failed", err?.message || String(err));
      return;
    }
    if (this.unsubscribe.length === 0) return; // disconnected while we waited
    this.clientId = sessionId;
    this.connectSuccess(sessionId);
    this.unsubscribe.push(this.hub.on("presence", () => this.syncOccupants()));
    this.unsubscribe.push(this.hub.on("rejoined", () => this.resync()));
    this.syncOccupants();
    // The others sent us their entities when presence first showed us, which may have been before NAF was
    // running here (the lobby joins first, the 3D engine loads after); ask again now that we listen.
    this.send(RESYNC_REQUEST, {}, true);
  }

  /** Tells NAF who is present now; NAF opens and closes "connections" from the difference. */
  syncOccupants() {
    const occupants = {};
    for (const [sessionId, meta] of Object.entries(this.hub.occupants())) {
      if (sessionId !== this.clientId) occupants[sessionId] = meta;
    }
    // Clients that left are closed here as well as by NAF, so our view is right even if NAF skips one.
    for (const id of [...this.open]) {
      if (!(id in occupants)) this.closeStreamConnection(id);
    }
    this.occupantListener(occupants);
  }

  shouldStartConnectionTo() {
    return true;
  }

  startStreamConnection(clientId) {
    if (this.open.has(clientId)) return;
    this.open.add(clientId);
    this.openListener(clientId); // NAF answers with a complete sync of our entities to this client
  }

  closeStreamConnection(clientId) {
    if (!this.open.delete(clientId)) return;
    this.closedListener(clientId); // NAF removes the entities that client created
  }

  getConnectStatus(clientId) {
    return this.open.has(clientId) ? IS_CONNECTED : NOT_CONNECTED;
  }

  getMediaStream() {
    return Promise.reject(new Error("toncon: voice and video are not carried by the hub channel adapter"));
  }

  /** NAF uses this for ownership ordering (lastOwnerTime); the hub channel has no clock, so it is ours. */
  getServerTime() {
    return Date.now();
  }

  sendData(clientId, dataType, data) {
    this.send(dataType, data, false);
  }

  sendDataGuaranteed(clientId, dataType, data) {
    this.send(dataType, data, true);
  }

  broadcastData(dataType, data) {
    this.send(dataType, data, false);
  }

  broadcastDataGuaranteed(dataType, data) {
    this.send(dataType, data, true);
  }

  /**
   * Sends one NAF message. Unreliable updates are dropped while the connection is down (they would be stale, and
   * the resync after the reconnect replaces them); reliable ones are queued by phoenix until the rejoin. The
   * payload is serialised or copied now, because NAF reuses its message objects.
   */
  send(dataType, data, reliable) {
    if (!this.clientId) return;
    if (!reliable && !this.hub.canSend()) {
      this.stats.dropped++;
      return;
    }
    const { channel } = this.hub;
    if (holdsFirstSync(dataType, data)) {
      if (dataType === "um") {
        // The server drops a "um" holding a first sync (it could not check it), so those go one by one.
        const rest = [];
        for (const d of data.d) {
          if (d && d.isFirstSync === true) this.send("u", d, reliable);
          else rest.push(d);
        }
        if (rest.length > 0) this.send("um", { d: rest }, reliable);
        return;
      }
      channel.push("naf", JSON.parse(JSON.stringify({ dataType, data })));
      this.stats.sentFirstSync++;
    } else {
      channel.push("nafr", { naf: JSON.stringify({ dataType, data }, withoutFirstSyncKeys) });
    }
    this.stats.sent++;
  }

  /** Handles a relayed `naf` ({dataType, data, from_session_id}) or `nafr` ({naf: "<json>", from_session_id}). */
  receive(payload, raw) {
    if (!payload || typeof payload !== "object") return this.drop();
    const from = payload.from_session_id;
    let message = payload;
    if (raw) {
      if (typeof payload.naf !== "string") return this.drop();
      try {
        message = JSON.parse(payload.naf);
      } catch {
        return this.drop();
      }
    }
    if (!message || typeof message !== "object") return this.drop();
    const { dataType, data } = message;
    if (typeof from !== "string" || from === "" || typeof dataType !== "string" || !data || typeof data !== "object") {
      return this.drop();
    }
    if (from === this.clientId || !this.clientId) return; // our own echo, or NAF not connected yet
    this.stats.received++;
    if (dataType === RESYNC_REQUEST) {
      // Only clients NAF considers connected get a directed sync; a new one gets it when presence shows it.
      if (this.open.has(from)) this.naf.connection.entities.completeSync(from, true);
      return;
    }
    if (dataType === "r" && !this.naf.entities.hasEntity(data.networkId)) {
      // Both the server (when a session leaves) and NAF (when presence says so) remove a leaver's entities;
      // whichever comes second would make NAF log an error about an entity it does not have.
      return;
    }
    this.messageListener(from, dataType, data, SOURCE);
  }

  drop() {
    this.stats.dropped++;
  }

  /** After a reconnect: re-announce what we own and ask for what others own. */
  resync() {
    if (!this.clientId) return;
    this.stats.resyncs++;
    this.syncOccupants();
    this.naf.connection.entities.completeSync(undefined, true);
    this.send(RESYNC_REQUEST, {}, true);
  }

  disconnect() {
    for (const off of this.unsubscribe.splice(0)) off();
    for (const id of [...this.open]) this.closeStreamConnection(id);
    this.clientId = null;
  }
}

/**
 * Registers the adapter with NAF under ADAPTER_NAME, bound to one hub session (NAF makes adapters with `new`
 * and no arguments). Returns the class, whose `instance` is the adapter NAF made, once it made one.
 */
export function registerHubAdapter(naf, hub) {
  class BoundHubChannelAdapter extends HubChannelAdapter {
    constructor() {
      super(hub, naf);
      BoundHubChannelAdapter.instance = this;
    }
  }
  BoundHubChannelAdapter.instance = null;
  naf.adapters.register(ADAPTER_NAME, BoundHubChannelAdapter);
  return BoundHubChannelAdapter;
}
