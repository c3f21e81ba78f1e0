// Going from the lobby into the room: events:entering, then events:entered, which the server refuses with
// room_full when the room holds room_size people. A refusal leaves you in the lobby with the reason and a way to
// try again; after a dropped connection the server has put you back in the lobby, so we enter again.

import { pushErrorText } from "./messages.js";

export class Entry {
  /** hub: the HubSession (or anything with updateProfile, tell, request); onChange({state, error, full}) on every change. */
  constructor(hub, onChange = () => {}) {
    this.hub = hub;
    this.onChange = onChange;
    this.state = "lobby"; // "lobby" | "entering" | "room"
    this.error = "";
    this.full = false;
  }

  set(state, error = "", full = false) {
    this.state = state;
    this.error = error;
    this.full = full;
    this.onChange({ state, error, full });
  }

  /** Enters with profile. Resolves true once in the room, false when refused (the reason is in error). */
  async enter(profile) {
    if (this.state !== "lobby") return this.state === "room";
    this.set("entering");
    const p = await this.hub.updateProfile(profile);
    if (p.status !== "ok") {
      this.set("lobby", pushErrorText(p.status, p.response));
      return false;
    }
    this.hub.tell("events:entering");
    return this.entered();
  }

  async entered() {
    const r = await this.hub.request("events:entered", { entryDisplayType: "Screen" });
    if (r.status === "ok") {
      this.set("room");
      return true;
    }
    this.hub.tell("events:entering_cancelled");
    this.set("lobby", pushErrorText(r.status, r.response), r.response?.reason === "room_full");
    return false;
  }

  /** After a rejoin: the new channel starts in the lobby, so someone who was in the room enters again. */
  async rejoined() {
    if (this.state === "entering") this.state = "lobby";
    if (this.state !== "room") return false;
    this.state = "entering";
    return this.entered();
  }
}
