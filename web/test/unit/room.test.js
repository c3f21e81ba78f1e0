// Unit tests for the room page's logic that needs no browser: who is here (presence), entering from the lobby
// (room_full and retry), the remembered profile, and the messages people read.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Entry } from "../../src/room/entry.js";
import { pickMeta } from "../../src/room/hub-session.js";
import { DEFAULT_LOOK, LOOKS, lookFor } from "../../src/room/looks.js";
import { joinErrorText, pushErrorText } from "../../src/room/messages.js";
import { checkDisplayName, loadProfile, saveProfile } from "../../src/room/profile.js";
import { NameBook, counts, describeCounts, people } from "../../src/room/roster.js";

const meta = (presence, displayName, extra = {}) => ({ presence, profile: { displayName, avatarId: "builtin:moss" }, context: {}, ...extra });

test("people: ourselves first, then the room, then the lobby, each by name", () => {
  const list = people(
    { s3: meta("lobby", "Cleo", { typing: true }), s1: meta("room", "Bea"), s2: meta("room", "Al"), me: meta("lobby", "Zed") },
    "me",
  );
  assert.deepEqual(list.map((p) => [p.displayName, p.where, p.self]), [
    ["Zed", "lobby", true], ["Al", "room", false], ["Bea", "room", false], ["Cleo", "lobby", false],
  ]);
  assert.equal(list[3].typing, true);
  assert.equal(people({ x: { presence: "room", profile: null } }, "me")[0].displayName, "Someone");
});

test("counts and how they read", () => {
  const c = counts({ a: meta("room", "A"), b: meta("lobby", "B"), c: meta("room", "C") });
  assert.deepEqual(c, { inRoom: 2, inLobby: 1 });
  assert.equal(describeCounts(c), "2 in the room · 1 in the lobby");
  assert.equal(describeCounts({ inRoom: 0, inLobby: 1 }), "Nobody in the room yet · 1 in the lobby");
  assert.equal(describeCounts({ inRoom: 3, inLobby: 0 }), "3 in the room");
});

test("the name book remembers people who left, for their chat lines", () => {
  const book = new NameBook();
  book.update({ a: meta("room", "Ada") });
  book.update({});
  assert.equal(book.name("a"), "Ada");
  assert.equal(book.name("b"), "Someone who left");
});

test("pickMeta prefers a session's meta in the room, then its latest", () => {
  assert.equal(pickMeta([{ presence: "room", n: 1 }, { presence: "lobby", n: 2 }]).n, 1);
  assert.equal(pickMeta([{ presence: "lobby", n: 1 }, { presence: "lobby", n: 2 }]).n, 2);
  assert.equal(pickMeta([]), null);
});

/** A hub session that answers events:entered and events:profile_updated as told. */
function fakeHub(answers) {
  const told = [];
  const requests = [];
  return {
    told,
    requests,
    tell: (event) => told.push(event),
    request: async (event, payload) => {
      requests.push([event, payload]);
      return answers[event]?.shift() ?? { status: "ok", response: null };
    },
    updateProfile: async (p) => (answers.profile?.shift() ?? { status: "ok", response: null }),
  };
}

test("entering: entering, then entered; ok puts us in the room", async () => {
  const hub = fakeHub({});
  const changes = [];
  const entry = new Entry(hub, (c) => changes.push(c.state));
  assert.equal(await entry.enter({ displayName: "Ada", avatarId: "builtin:sky" }), true);
  assert.deepEqual(hub.told, ["events:entering"]);
  assert.deepEqual(hub.requests.map((r) => r[0]), ["events:entered"]);
  assert.deepEqual(changes, ["entering", "room"]);
  assert.equal(await entry.enter({ displayName: "Ada" }), true, "entering twice is harmless");
  assert.equal(hub.requests.length, 1);
});

test("room_full keeps us in the lobby with the reason, and trying again works once there is room", async () => {
  const full = { status: "error", response: { reason: "room_full", message: "the room holds 2 people and is full; wait in the lobby and try again" } };
  const hub = fakeHub({ "events:entered": [full] });
  const entry = new Entry(hub);
  assert.equal(await entry.enter({ displayName: "Ada" }), false);
  assert.equal(entry.state, "lobby");
  assert.equal(entry.full, true);
  assert.match(entry.error, /The room is full \(the room holds 2 people and is full\)\. You can wait here in the lobby/);
  assert.deepEqual(hub.told, ["events:entering", "events:entering_cancelled"]);
  assert.equal(await entry.enter({ displayName: "Ada" }), true);
  assert.equal(entry.state, "room");
  assert.equal(entry.full, false);
  assert.equal(entry.error, "");
});

test("a refused profile keeps us in the lobby and says why", async () => {
  const hub = fakeHub({ profile: [{ status: "error", response: { reason: "invalid_profile", message: "display name is longer than 64 characters" } }] });
  const entry = new Entry(hub);
  assert.equal(await entry.enter({ displayName: "x" }), false);
  assert.equal(entry.state, "lobby");
  assert.match(entry.error, /display name is longer than 64 characters/);
  assert.deepEqual(hub.told, []);
});

test("after a rejoin, someone who was in the room enters again; someone in the lobby stays there", async () => {
  const hub = fakeHub({});
  const entry = new Entry(hub);
  assert.equal(await entry.rejoined(), false);
  assert.equal(hub.requests.length, 0);
  await entry.enter({ displayName: "Ada" });
  assert.equal(await entry.rejoined(), true);
  assert.deepEqual(hub.requests.map((r) => r[0]), ["events:entered", "events:entered"]);
  assert.equal(entry.state, "room");
});

test("the profile is remembered, and a damaged or missing one gives a usable name and the default look", () => {
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, String(v)) };
  const fresh = loadProfile(storage, () => 0.5);
  assert.equal(checkDisplayName(fresh.displayName), "");
  assert.equal(fresh.avatarId, DEFAULT_LOOK.id);
  saveProfile({ displayName: "Ada Lovelace", avatarId: "builtin:ember" }, storage);
  assert.deepEqual(loadProfile(storage), { displayName: "Ada Lovelace", avatarId: "builtin:ember", avatarUrl: "" });
  store.set("toncon.profile", "{broken");
  assert.equal(checkDisplayName(loadProfile(storage).displayName), "");
  store.set("toncon.profile", JSON.stringify({ displayName: " spaced ", avatarId: "https://elsewhere/avatar.glb" }));
  const cleaned = loadProfile(storage, () => 0.1);
  assert.notEqual(cleaned.displayName, " spaced ");
  assert.equal(cleaned.avatarId, DEFAULT_LOOK.id);
});

test("display names are checked as the server checks them", () => {
  assert.equal(checkDisplayName("Ada"), "");
  assert.equal(checkDisplayName("Jürgen 李"), "", "any script");
  assert.match(checkDisplayName(""), /Type a display name/);
  assert.match(checkDisplayName(" Ada"), /start or end with a space/);
  assert.match(checkDisplayName("a".repeat(65)), /at most 64/);
  assert.equal(checkDisplayName("😀".repeat(64)), "", "64 characters, not bytes");
  assert.match(checkDisplayName("Ada\u0007"), /control/);
});

test("looks: four distinct built-in looks; unknown avatar ids get the default", () => {
  assert.equal(LOOKS.length, 4);
  assert.equal(new Set(LOOKS.map((l) => l.body.color)).size, 4);
  assert.equal(new Set(LOOKS.map((l) => `${l.body.primitive}/${l.head.primitive}`)).size, 4);
  assert.equal(lookFor("builtin:dusk").name, "Dusk");
  assert.equal(lookFor("somebody-elses-avatar"), DEFAULT_LOOK);
});

test("every join refusal and push error reads as what happened and what to do", () => {
  for (const reason of ["not_found", "closed", "join_denied", "bad_request", "invalid_profile", "something_new"]) {
    const { title, text } = joinErrorText({ reason, message: "server words" });
    assert.ok(title.length > 5 && text.length > 10, `${reason}: ${title} / ${text}`);
  }
  assert.equal(joinErrorText({ reason: "not_found", message: "No such Hub" }).title, "This room does not exist");
  assert.match(joinErrorText({ reason: "join_denied", message: "this room is invite only: ask an owner for an invite link" }).text, /^This room is invite only/);
  assert.match(pushErrorText("error", { reason: "rate_limited" }), /too fast/);
  assert.match(pushErrorText("error", { reason: "too_long", message: "messages are limited to 4096 bytes" }), /4096 bytes/);
  assert.match(pushErrorText("error", { reason: "not_allowed", message: "text chat is turned off in this room" }), /^Text chat is turned off/);
  assert.match(pushErrorText("timeout"), /did not answer/);
  assert.match(pushErrorText("error", { reason: "brand_new", message: "something odd" }), /^Something odd\.$/);
});
