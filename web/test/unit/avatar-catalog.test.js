// The lobby's avatar choices and what goes into the presence profile: built-in looks first, then the server's
// glTF avatars (built in, featured, yours); only web addresses are ever loaded from someone's profile.

import { test } from "node:test";
import assert from "node:assert/strict";

import { MAX_AVATAR_URL, accountIdOfToken, avatarChoices, choiceForProfile, followChoice, loadableAvatarUrl, profileFields } from "../../src/room/avatars/catalog.js";
import { LOOKS } from "../../src/room/looks.js";
import { avatarOf, loadProfile, saveProfile } from "../../src/room/profile.js";

const LIST = {
  avatars: [
    { avatar_id: "builtin:sky", name: "Sky", gltf_url: "", featured: true, type: "avatar" },
    { avatar_id: "mine1", name: "  Robo  ", gltf_url: "/files/abc.glb", account_id: "7", featured: false, type: "avatar" },
    { avatar_id: "feat1", name: "Star", gltf_url: "https://cdn.example.org/star.glb", account_id: "3", featured: true, type: "avatar" },
    { avatar_id: "hubs-default", name: "Hubs robot", gltf_url: "/samples/hubs-default-avatar_v3.glb", featured: true, type: "avatar" },
    { avatar_id: "mine1", name: "duplicate", gltf_url: "/files/other.glb", account_id: "7" },
    { avatar_id: "nofile", name: "No file", account_id: "7" },
    { name: "no id", gltf_url: "/files/x.glb" },
    null,
  ],
};

test("choices: the four looks, then built-in, featured and own glTF avatars; broken entries left out", () => {
  const choices = avatarChoices(LIST);
  assert.deepEqual(choices.slice(0, 4).map((c) => c.id), LOOKS.map((l) => l.id));
  assert.ok(choices.slice(0, 4).every((c) => c.kind === "look" && c.url === ""));
  assert.deepEqual(choices.slice(4).map((c) => [c.id, c.kind, c.name, c.url]), [
    ["hubs-default", "builtin", "Hubs robot", "/samples/hubs-default-avatar_v3.glb"],
    ["feat1", "featured", "Star", "https://cdn.example.org/star.glb"],
    ["mine1", "mine", "Robo", "/files/abc.glb"],
  ]);
  assert.deepEqual(avatarChoices(null).map((c) => c.id), LOOKS.map((l) => l.id), "without the list: the looks");
  assert.deepEqual(avatarChoices({ avatars: "nope" }).length, LOOKS.length);
});

test("a choice becomes {avatarId, avatarUrl} in the profile", () => {
  const choices = avatarChoices(LIST);
  assert.deepEqual(profileFields(choices[1]), { avatarId: LOOKS[1].id, avatarUrl: "" });
  assert.deepEqual(profileFields(choices.find((c) => c.id === "mine1")), { avatarId: "mine1", avatarUrl: "/files/abc.glb" });
  assert.deepEqual(profileFields(null), { avatarId: LOOKS[0].id, avatarUrl: "" });
});

test("the profile's avatar is found again; one no longer listed is still worn while its URL is usable", () => {
  const choices = avatarChoices(LIST);
  assert.equal(choiceForProfile(choices, { avatarId: "feat1", avatarUrl: "whatever" }).id, "feat1");
  const gone = choiceForProfile(choices, { avatarId: "deleted", avatarUrl: "/files/gone.glb" });
  assert.deepEqual([gone.id, gone.url], ["deleted", "/files/gone.glb"]);
  assert.equal(choiceForProfile(choices, { avatarId: "deleted", avatarUrl: "javascript:alert(1)" }), null);
  assert.equal(choiceForProfile(choices, null), null);
});

test("only same-server paths and http(s) addresses are loaded from a profile", () => {
  for (const ok of ["/files/abc.glb", "/samples/x.glb?v=1", "https://example.org/a.glb", "http://localhost:4000/files/a"]) {
    assert.equal(loadableAvatarUrl(ok), true, ok);
  }
  for (const bad of ["", "//evil.example/a.glb", "javascript:alert(1)", "data:model/gltf-binary;base64,AAAA", "blob:https://x/1", "files/a.glb", "https://", 7, null, `/${"a".repeat(MAX_AVATAR_URL)}`]) {
    assert.equal(loadableAvatarUrl(bad), false, String(bad).slice(0, 40));
  }
});

test("the remembered profile keeps a glTF avatar with its URL, and drops one whose URL cannot be loaded", () => {
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, String(v)) };
  saveProfile({ displayName: "Ada", avatarId: "mine1", avatarUrl: "/files/abc.glb" }, storage);
  assert.deepEqual(loadProfile(storage), { displayName: "Ada", avatarId: "mine1", avatarUrl: "/files/abc.glb" });
  saveProfile({ displayName: "Ada", avatarId: "builtin:moss", avatarUrl: "/files/ignored.glb" }, storage);
  assert.deepEqual(loadProfile(storage), { displayName: "Ada", avatarId: "builtin:moss", avatarUrl: "" }, "a look has no URL");
  store.set("toncon.profile", JSON.stringify({ displayName: "Ada", avatarId: "x", avatarUrl: "javascript:1" }));
  assert.deepEqual(loadProfile(storage), { displayName: "Ada", avatarId: LOOKS[0].id, avatarUrl: "" });
  assert.deepEqual(avatarOf({ avatarId: "a".repeat(300), avatarUrl: "/files/a.glb" }), { avatarId: LOOKS[0].id, avatarUrl: "" });
});

/** An account token's shape: header.payload.signature, base64url without padding (the signature is not checked). */
function token(payload) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "HS512", typ: "JWT" })}.${b64(payload)}.c2lnbmF0dXJl`;
}

test("the account a token names, to tell which avatars are yours; anything else names none", () => {
  assert.equal(accountIdOfToken(token({ sub: "7", aud: "ret" })), "7");
  assert.equal(accountIdOfToken(token({ sub: "123456789012", name: "é~?>" })), "123456789012", "base64url with - and _");
  for (const bad of [token({ sub: 7 }), token({ sub: "0" }), token({ sub: "-3" }), token({ sub: "7; x" }), token({}), "a.b", "a.%%%.c", "", null, 42]) {
    assert.equal(accountIdOfToken(bad), "", String(bad).slice(0, 40));
  }
});

test("your featured avatar is yours too; someone else's featured one is not", () => {
  const choices = avatarChoices(LIST, "3");
  const mine = choices.filter((c) => c.mine).map((c) => [c.id, c.kind]);
  assert.deepEqual(mine, [["feat1", "featured"], ["mine1", "mine"]]);
  assert.deepEqual(avatarChoices(LIST, "9").filter((c) => c.mine).map((c) => c.id), ["mine1"]);
  assert.deepEqual(avatarChoices(LIST).filter((c) => c.mine).map((c) => c.id), ["mine1"], "without an account id");
});

test("the worn avatar follows a new file; one no longer listed stays as it was; a look stays a look", () => {
  const before = avatarChoices(LIST);
  const worn = before.find((c) => c.id === "mine1");
  const replaced = avatarChoices({ avatars: LIST.avatars.map((a) => (a?.avatar_id === "mine1" ? { ...a, gltf_url: "/files/new.glb" } : a)) });
  assert.deepEqual(followChoice(replaced, worn), { choice: replaced.find((c) => c.id === "mine1"), changed: true });
  assert.equal(followChoice(replaced, worn).choice.url, "/files/new.glb");
  assert.deepEqual(followChoice(before, worn), { choice: worn, changed: false }, "the same file: nothing to send");
  const renamed = avatarChoices({ avatars: [{ avatar_id: "mine1", name: "New name", gltf_url: "/files/abc.glb", account_id: "7" }] });
  assert.equal(followChoice(renamed, worn).changed, false, "a new name is not a new avatar for the others");
  assert.deepEqual(followChoice(avatarChoices(null), worn), { choice: worn, changed: false }, "no list: still worn");
  assert.deepEqual(followChoice(replaced, before[2]), { choice: replaced[2], changed: false });
});
