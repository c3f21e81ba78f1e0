// Unit tests for accounts, room settings, moderation and offline notices in the room client: the parts that need
// no browser (what is stored, what is sent, what people read, which actions are offered to whom).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CREDENTIALS_KEY,
  SignInRequest,
  checkEmail,
  clearCredentials,
  loadCredentials,
  newAuthTopic,
  saveCredentials,
  sentText,
  signInErrorText,
} from "../../src/shared/account.js";
import { accountLabel, creatorKey, isTokenRefusal, joinParams, signInPayload } from "../../src/room/account.js";
import { endReason } from "../../src/room/hub-session.js";
import { joinErrorText, pushErrorText } from "../../src/room/messages.js";
import {
  REMOVED_MS,
  badges,
  confirmText,
  doneText,
  moderationActions,
  rememberRemoval,
  removedSessionToken,
} from "../../src/room/moderation.js";
import { offlineNotice, safeRedirect } from "../../src/room/offline.js";
import {
  PERMISSIONS,
  canChangeSettings,
  checkSettings,
  inviteLink,
  settingsFromHub,
  settingsUpdate,
} from "../../src/room/settings.js";

function memoryStorage() {
  const m = new Map();
  return {
    map: m,
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v)),
    removeItem: (k) => m.delete(k),
  };
}

// ---- accounts ---------------------------------------------------------------------------------------------------

test("credentials are kept as {token, email}; damaged or empty records read as signed out", () => {
  const s = memoryStorage();
  assert.equal(loadCredentials(s), null);
  saveCredentials({ token: "tok", email: "ada@example.org", extra: 1 }, s);
  assert.deepEqual(JSON.parse(s.getItem(CREDENTIALS_KEY)), { token: "tok", email: "ada@example.org" });
  assert.deepEqual(loadCredentials(s), { token: "tok", email: "ada@example.org" });
  clearCredentials(s);
  assert.equal(loadCredentials(s), null);
  for (const bad of ["{oops", "null", '{"email":"a@b.c"}', '{"token":""}', '{"token":5}']) {
    s.setItem(CREDENTIALS_KEY, bad);
    assert.equal(loadCredentials(s), null, bad);
  }
  assert.equal(loadCredentials(undefined), null, "no storage at all");
});

test("email addresses are checked before asking, and the auth topic is auth:<uuid>", () => {
  assert.equal(checkEmail("ada@example.org"), "");
  assert.equal(checkEmail("  ada@example.org "), "");
  assert.match(checkEmail(""), /Type your email/);
  assert.match(checkEmail("ada"), /such as name@example.org/);
  assert.match(checkEmail("a b@c.d"), /such as/);
  assert.match(newAuthTopic(), /^auth:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(newAuthTopic(() => "x"), "auth:x");
});

test("after asking: check your email, or where the link went when there is no mail server", () => {
  assert.match(sentText("ada@example.org", { delivery: "email" }), /^Check your email: .*ada@example.org/);
  assert.match(sentText("ada@example.org", { delivery: "log", message: "..." }), /^The link was written to the server's log \(no mail server is configured\)/);
  assert.match(signInErrorText("error", { reason: "rate_limited", message: "try again in 40s" }), /Too many .*\(try again in 40s\)/);
  assert.match(signInErrorText("error", { reason: "invalid_token", message: "Sign in failed: ..." }), /no longer valid/);
  assert.match(signInErrorText("error", { reason: "account_disabled" }), /disabled/);
  assert.match(signInErrorText("timeout"), /did not answer/);
  assert.equal(signInErrorText("error", { reason: "new_thing", message: "the server says why" }), "The server says why.");
});

/** A phoenix socket and channel stand-in: pushes are answered from answers[event]; the test drives the rest. */
function fakeSocket(answers = {}) {
  const pushes = [];
  const channels = [];
  const receiver = (result) => {
    const r = {
      receive(kind, fn) {
        if (kind === result.status) queueMicrotask(() => fn(result.response));
        return r;
      },
    };
    return r;
  };
  return {
    pushes,
    channels,
    connected: false,
    isConnected() {
      return this.connected;
    },
    connect() {
      this.connected = true;
    },
    channel(topic, params) {
      const handlers = {};
      const closers = [];
      const ch = {
        topic,
        params,
        left: false,
        on: (event, fn) => (handlers[event] = fn),
        onClose: (fn) => closers.push(fn),
        join: () => receiver(answers.join ?? { status: "ok", response: {} }),
        push: (event, payload) => {
          pushes.push([topic, event, payload]);
          return receiver(answers[event] ?? { status: "ok", response: {} });
        },
        leave() {
          ch.left = true;
          closers.forEach((f) => f());
        },
        deliver: (event, payload) => handlers[event]?.(payload),
        serverClose: () => closers.forEach((f) => f()),
      };
      channels.push(ch);
      return ch;
    },
  };
}

test("a sign-in request: join auth:<uuid>, auth_request {email, origin}, then the credentials from the link", async () => {
  const socket = fakeSocket({ auth_request: { status: "ok", response: { delivery: "log", message: "see the log" } } });
  const got = [];
  const req = new SignInRequest({ socket, email: " ada@example.org ", topic: "auth:t1", onCredentials: (c) => got.push(c) });
  const r = await req.send();
  assert.equal(socket.connected, true, "the socket is opened when needed");
  assert.deepEqual(r, { status: "ok", response: { delivery: "log", message: "see the log" } });
  assert.deepEqual(socket.pushes, [["auth:t1", "auth_request", { email: "ada@example.org", origin: "toncon" }]]);
  const ch = socket.channels[0];
  ch.deliver("auth_credentials", { credentials: "", payload: {} });
  assert.deepEqual(got, [], "empty credentials are ignored");
  ch.deliver("auth_credentials", { credentials: "acct-token", payload: { email: "ada@example.org" } });
  ch.deliver("auth_credentials", { credentials: "again", payload: { email: "ada@example.org" } });
  assert.deepEqual(got, [{ token: "acct-token", email: "ada@example.org" }], "once, then the channel is left");
  assert.equal(ch.left, true);
});

test("a refused sign-in request says why and stops; a wait the server ends is reported as expired", async () => {
  const refused = fakeSocket({ auth_request: { status: "error", response: { reason: "rate_limited", message: "wait" } } });
  const r = await new SignInRequest({ socket: refused, email: "a@b.c" }).send();
  assert.equal(r.status, "error");
  assert.equal(refused.channels[0].left, true);

  const socket = fakeSocket();
  let expired = 0;
  const req = new SignInRequest({ socket, email: "a@b.c", onExpired: () => expired++ });
  await req.send();
  socket.channels[0].serverClose();
  assert.equal(expired, 1);

  const cancelled = fakeSocket();
  let e2 = 0;
  const req2 = new SignInRequest({ socket: cancelled, email: "a@b.c", onExpired: () => e2++ });
  await req2.send();
  req2.cancel();
  assert.equal(e2, 0, "cancelling is not expiry");
  assert.equal(cancelled.channels[0].left, true);
});

test("the room joins with the account token and the link's invite id, and claims the room with the creator token", () => {
  assert.deepEqual(joinParams({ credentials: null, search: "" }), {});
  assert.deepEqual(joinParams({ credentials: { token: "t", email: "e" }, search: "?hub_invite_id=inv1&x=2" }), { auth_token: "t", hub_invite_id: "inv1" });
  assert.deepEqual(joinParams({ credentials: null, search: "?hub_invite_id=" }), {});
  assert.deepEqual(signInPayload("t", "cat"), { token: "t", creator_assignment_token: "cat" });
  assert.deepEqual(signInPayload("t", ""), { token: "t" });
  assert.equal(creatorKey("abc1234"), "toncon.creator.abc1234", "the key the home page writes");
  assert.equal(isTokenRefusal("invalid_token"), true);
  assert.equal(isTokenRefusal("account_disabled"), true);
  assert.equal(isTokenRefusal("join_denied"), false);
  assert.equal(accountLabel(null), "Sign in");
  assert.equal(accountLabel({ token: "t", email: "ada@example.org" }), "ada@example.org");
});

// ---- room settings ---------------------------------------------------------------------------------------------

const allOn = Object.fromEntries(PERMISSIONS.map(([p]) => [p, true]));
const HUB = { name: "Room", description: "", room_size: 24, entry_mode: "allow", member_permissions: { ...allOn, pin_objects: false } };

test("the settings form starts from the hub, and only what changed is sent", () => {
  const v = settingsFromHub(HUB);
  assert.deepEqual(v, { name: "Room", description: "", room_size: 24, entry_mode: "allow", member_permissions: { ...allOn, pin_objects: false } });
  assert.equal(PERMISSIONS.length, 8);
  assert.deepEqual(settingsUpdate(v, HUB), { update: {}, close: false });
  const changed = { ...v, name: " New name ", room_size: 10, member_permissions: { ...v.member_permissions, text_chat: false } };
  assert.deepEqual(settingsUpdate(changed, HUB), {
    update: { name: "New name", room_size: 10, member_permissions: { ...allOn, pin_objects: false, text_chat: false } },
    close: false,
  });
  assert.deepEqual(settingsUpdate({ ...v, entry_mode: "invite" }, HUB), { update: { entry_mode: "invite" }, close: false });
});

test("choosing deny closes the room with close_hub instead of an entry mode update", () => {
  const v = settingsFromHub(HUB);
  assert.deepEqual(settingsUpdate({ ...v, entry_mode: "deny", description: "bye" }, HUB), { update: { description: "bye" }, close: true });
  assert.deepEqual(settingsUpdate({ ...v, entry_mode: "deny" }, { ...HUB, entry_mode: "deny" }), { update: {}, close: false });
});

test("settings are checked before saving, as the server checks them", () => {
  const v = settingsFromHub(HUB);
  assert.equal(checkSettings(v), "");
  assert.match(checkSettings({ ...v, name: "  " }), /name/);
  assert.match(checkSettings({ ...v, name: "x".repeat(65) }), /at most 64/);
  assert.equal(checkSettings({ ...v, name: "é".repeat(64) }), "", "characters, not bytes");
  assert.match(checkSettings({ ...v, room_size: 0 }), /at least 1/);
  assert.match(checkSettings({ ...v, room_size: 2.5 }), /whole number/);
  assert.match(checkSettings({ ...v, room_size: NaN }), /whole number/);
  assert.match(checkSettings({ ...v, entry_mode: "maybe" }), /who may enter/);
});

test("owners see the settings; the invite link is the room's URL with hub_invite_id", () => {
  assert.equal(canChangeSettings({ permissions: { update_hub: true } }), true);
  assert.equal(canChangeSettings({ permissions: { update_hub: false } }), false);
  assert.equal(canChangeSettings(null), false);
  assert.equal(inviteLink("https://x.org/abc1234/room?hub_invite_id=old#h", "inv2"), "https://x.org/abc1234/room?hub_invite_id=inv2");
});

// ---- moderation ------------------------------------------------------------------------------------------------

const owner = { permissions: { mute_users: true, kick_users: true, update_hub: true, update_roles: false } };
const creator = { permissions: { mute_users: true, kick_users: true, update_hub: true, update_roles: true } };
const member = { permissions: { mute_users: false, kick_users: false, update_roles: false } };
const guest = { roles: { signed_in: false } };
const signedIn = { roles: { signed_in: true } };
const promoted = { roles: { signed_in: true, owner: true } };
const theCreator = { roles: { signed_in: true, owner: true, creator: true } };
const names = (list) => list.map((a) => a.action);

test("moderation actions follow our permissions and the other person's roles", () => {
  assert.deepEqual(names(moderationActions(member, guest)), ["block"], "everyone may block");
  assert.deepEqual(names(moderationActions(member, guest, { blocked: true })), ["unblock"]);
  assert.deepEqual(names(moderationActions(owner, guest)), ["mute", "kick", "block"]);
  assert.deepEqual(names(moderationActions(owner, { ...guest, muted: true })), ["kick", "block"], "no mute for the muted");
  assert.deepEqual(names(moderationActions(owner, signedIn)), ["mute", "kick", "block"], "only the creator promotes");
  assert.deepEqual(names(moderationActions(creator, guest)), ["mute", "kick", "block"], "guests cannot be owners");
  assert.deepEqual(names(moderationActions(creator, signedIn)), ["mute", "add_owner", "kick", "block"]);
  assert.deepEqual(names(moderationActions(creator, promoted)), ["mute", "remove_owner", "kick", "block"]);
  assert.deepEqual(names(moderationActions(creator, theCreator)), ["mute", "kick", "block"], "the creator stays an owner");
  assert.deepEqual(moderationActions(creator, guest, { self: true }), [], "nothing on ourselves");
  assert.deepEqual(moderationActions(null, guest).map((a) => a.action), ["block"]);
});

test("badges, confirmations and what the moderator reads afterwards", () => {
  assert.deepEqual(badges(theCreator), ["creator"]);
  assert.deepEqual(badges({ ...promoted, muted: true }, { blocked: true }), ["owner", "muted", "blocked"]);
  assert.deepEqual(badges(guest), []);
  assert.match(confirmText("kick", "Bob"), /Remove Bob from the room\? .*5 minutes/);
  assert.equal(confirmText("mute", "Bob"), null);
  assert.equal(doneText("kick", "Bob"), "Bob was removed from the room.");
  assert.match(doneText("add_owner", "Bob"), /now an owner/);
});

test("a removal is remembered for 5 minutes, so a reload comes back as the banned session", () => {
  const s = memoryStorage();
  rememberRemoval("abc1234", "sess-token", s, 1000);
  assert.equal(removedSessionToken("abc1234", s, 1000 + REMOVED_MS - 1), "sess-token");
  assert.equal(removedSessionToken("other00", s, 1000), null);
  assert.equal(removedSessionToken("abc1234", s, 1000 + REMOVED_MS), null, "then it is forgotten");
  assert.equal(s.getItem("toncon.removed.abc1234"), null);
  rememberRemoval("abc1234", null, s, 1000);
  assert.equal(s.getItem("toncon.removed.abc1234"), null, "no token, nothing to remember");
  s.setItem("toncon.removed.abc1234", "{damaged");
  assert.equal(removedSessionToken("abc1234", s, 0), null);
});

test("a socket closed as kicked or for a disabled account ends the session; other closes reconnect", () => {
  assert.deepEqual(endReason({ code: 1008, reason: "kicked: a moderator removed you from the room" }), { reason: "kicked", message: "a moderator removed you from the room" });
  assert.deepEqual(endReason({ code: 1008, reason: "account disabled: ask the site's admin" }), { reason: "account_disabled", message: "ask the site's admin" });
  assert.equal(endReason({ code: 1001, reason: "server shutting down" }), null);
  assert.equal(endReason({ code: 1006, reason: "" }), null);
  assert.equal(endReason(undefined), null);
});

test("refusals read with the server's message", () => {
  assert.equal(pushErrorText("error", { reason: "forbidden", message: "you need the kick_users permission in this room" }),
    "That is not allowed: you need the kick_users permission in this room.");
  assert.equal(pushErrorText("error", { reason: "not_signed_in", message: "only people who are signed in can be owners" }),
    "Only people who are signed in can be owners.");
  assert.equal(pushErrorText("error", { reason: "invalid", message: "the room size must be 1 to 50 (this server's maximum)" }),
    "The room size must be 1 to 50 (this server's maximum).");
  assert.match(joinErrorText({ reason: "join_denied", message: "a moderator removed you from this room; you can come back in 5 minutes" }).text,
    /^A moderator removed you from this room; you can come back in 5 minutes\.$/);
  const off = joinErrorText({ reason: "offline", message: "This server is offline for now; please come back later" });
  assert.equal(off.title, "This server is offline");
  assert.match(off.text, /offline for now/);
});

// ---- offline ---------------------------------------------------------------------------------------------------

test("offline: the server's message, and where the page goes next", () => {
  const base = "https://rooms.example.org/abc1234";
  const n = offlineNotice({ reason: "manual", redirect_url: "https://example.org/later", message: "This server is going offline" }, base);
  assert.equal(n.title, "This server is offline");
  assert.equal(n.redirect, "https://example.org/later");
  assert.match(n.text, /^This server is going offline\. Taking you to example\.org in a few seconds/);
  const budget = offlineNotice({ reason: "budget", redirect_url: "", message: "This server is going offline" }, base);
  assert.equal(budget.redirect, null);
  assert.match(budget.text, /budget.*Come back later/);
  const refused = offlineNotice({ reason: "offline", offline_reason: "budget", redirect_url: "/cost", message: "offline for now" }, base);
  assert.equal(refused.redirect, "https://rooms.example.org/cost");
  assert.match(refused.text, /^Offline for now\. It has used up/);
  assert.match(offlineNotice({}, base).text, /^This server is going offline\./);
});

test("only http and https redirects are followed", () => {
  assert.equal(safeRedirect("javascript:alert(1)", "https://x.org/"), null);
  assert.equal(safeRedirect("data:text/html,hi", "https://x.org/"), null);
  assert.equal(safeRedirect("", "https://x.org/"), null);
  assert.equal(safeRedirect(undefined, "https://x.org/"), null);
  assert.equal(safeRedirect("http://y.org/a", "https://x.org/"), "http://y.org/a");
});
