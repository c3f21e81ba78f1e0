// Unit tests for the recent-rooms list kept in localStorage.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";

const store = new Map();
globalThis.localStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => store.set(k, String(v)),
};
const { recentRooms, rememberRoom } = await import("../../src/shared/api.js");

beforeEach(() => store.clear());

test("rooms are remembered newest first, without duplicates, at most 20", () => {
  for (let i = 0; i < 25; i++) rememberRoom({ hub_id: `room${i}`, name: `Room ${i}`, url: `/room${i}` });
  rememberRoom({ hub_id: "room10", name: "Room ten", url: "/room10" });
  const list = recentRooms();
  assert.equal(list.length, 20);
  assert.equal(list[0].hub_id, "room10");
  assert.equal(list[0].name, "Room ten");
  assert.equal(list.filter((r) => r.hub_id === "room10").length, 1);
});

test("a damaged list reads as empty", () => {
  localStorage.setItem("toncon.recentRooms", "{not json");
  assert.deepEqual(recentRooms(), []);
  localStorage.setItem("toncon.recentRooms", JSON.stringify({ a: 1 }));
  assert.deepEqual(recentRooms(), []);
});
