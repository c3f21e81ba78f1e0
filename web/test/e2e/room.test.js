// End to end: two people in two independent browser contexts of headless Chromium meet in a room of a real
// toncon. Home → create a room → both enter through the lobby → each sees the other's avatar → keys move one,
// the other sees it → chat → a reload comes back with the same name → a dropped connection comes back → leave.
// The steps share one room and run in order; each is its own test so a failure says which step broke.
// Run with `make test-e2e` (or `npm run test:e2e` from web/ with TONCON_BIN and CHROMIUM set).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  assertNoErrors,
  createHub,
  distance,
  enterRoom,
  launchBrowser,
  openPerson,
  remoteAvatars,
  screenshot,
  serverBinary,
  shutDown,
  startServer,
  until,
  untilSees,
  WAIT_MS,
} from "./harness.js";

serverBinary(); // fail at once, with the build command, when there is no server
const STEP_MS = 60000;

describe("the room in the browser", { timeout: 180000 }, () => {
  let server;
  let browser;
  let ada;
  let bob;
  let roomUrl;
  const sid = {};

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ada = await openPerson(browser, "ada");
    bob = await openPerson(browser, "bob");
  });

  after(() => shutDown(server, browser));

  test("home → create a room → Ada enters through the lobby", { timeout: STEP_MS }, async () => {
    await ada.page.goto(`${server.url}/`);
    await ada.page.fill("#room-name", "Meeting point");
    await ada.page.click("#create-room");
    await ada.page.waitForURL(/\/[A-Za-z0-9]{7}\/meeting-point$/, { timeout: WAIT_MS });
    roomUrl = ada.page.url();
    await until(ada, "the lobby to show the room's name", () => document.querySelector("#lobby-room-name")?.textContent.includes("Meeting point"));
    sid.ada = await enterRoom(ada, { displayName: "Ada", look: "builtin:moss" });
    assert.match(sid.ada, /^[0-9a-f-]{36}$/);
    await screenshot(ada, "01-ada-in-room");
  });

  test("Bob opens the link, sees who is inside from the lobby, and enters", { timeout: STEP_MS }, async () => {
    await bob.page.goto(roomUrl);
    const counts = await until(bob, "the lobby's counts", () => {
      const t = document.querySelector("#lobby-counts")?.textContent || "";
      return t.includes("1 in the room") && t.includes("1 in the lobby") && t;
    });
    assert.match(counts, /1 in the room · 1 in the lobby/);
    await screenshot(bob, "02-bob-lobby");
    sid.bob = await enterRoom(bob, { displayName: "Bob", look: "builtin:ember" });
    assert.notEqual(sid.bob, sid.ada);
  });

  test("each sees the other's avatar with its name within a few seconds", { timeout: STEP_MS }, async () => {
    const seenByAda = await untilSees(ada, sid.bob, "Bob", 10000);
    const seenByBob = await untilSees(bob, sid.ada, "Ada", 10000);
    assert.ok(Number.isFinite(seenByAda.position.x) && Number.isFinite(seenByBob.position.z));
    const people = await ada.page.locator("#people-list").innerText();
    assert.match(people, /Bob/);
    assert.match(people, /Ada \(you\)/);
    await screenshot(ada, "03-ada-sees-bob");
    await screenshot(bob, "03-bob-sees-ada");
  });

  test("keys move Ada, and Bob sees her move", { timeout: STEP_MS }, async () => {
    for (const key of ["KeyW", "ArrowLeft"]) {
      const start = await ada.page.evaluate(() => window.toncon.avatarPosition());
      const seenStart = (await remoteAvatars(bob)).find((a) => a.sessionId === sid.ada).position;
      // Hold the key until Ada has walked a metre: frame rates in a loaded headless browser vary too much for a
      // fixed duration to mean a fixed distance.
      await ada.page.keyboard.down(key);
      let moved;
      try {
        moved = await until(ada, `${key} to move Ada`, (from) => {
          const p = window.toncon.avatarPosition();
          return Math.hypot(p.x - from.x, p.z - from.z) >= 1 && p;
        }, start);
      } finally {
        await ada.page.keyboard.up(key);
      }
      const end = await until(ada, "Ada to stop", async () => {
        const a = window.toncon.avatarPosition();
        await new Promise((resolve) => setTimeout(resolve, 200));
        const b = window.toncon.avatarPosition();
        return Math.hypot(a.x - b.x, a.z - b.z) < 1e-6 && b;
      });
      assert.ok(distance(end, start) >= distance(moved, start) - 1e-6);
      const seen = await until(bob, `Bob to see Ada where she stopped after ${key}`, ([id, target]) => {
        const a = window.toncon.remoteAvatars().find((r) => r.sessionId === id);
        return a && Math.hypot(a.position.x - target.x, a.position.z - target.z) < 0.05 && a.position;
      }, [sid.ada, end]);
      assert.ok(distance(seen, seenStart) >= 0.9, `Bob saw Ada move ${distance(seen, seenStart)} m, want about ${distance(end, start)} m`);
    }
    await screenshot(bob, "04-bob-sees-ada-moved");
  });

  test("a chat message from Ada shows in Bob's chat with her name", { timeout: STEP_MS }, async () => {
    const text = "Hello Bob, welcome to the meeting point";
    if (await ada.page.locator("#chat-panel").isHidden()) await ada.page.click("#chat-toggle");
    await ada.page.fill("#chat-input", text);
    await ada.page.press("#chat-input", "Enter");
    const line = await until(bob, "Ada's chat message", (t) => {
      const li = [...document.querySelectorAll("#chat-log li.chat")].find((l) => l.querySelector(".body")?.textContent === t);
      return li && { who: li.querySelector(".who").textContent, body: li.querySelector(".body").textContent };
    }, text);
    assert.deepEqual(line, { who: "Ada", body: text });
    await until(ada, "Ada's own message in her chat", (t) => [...document.querySelectorAll("#chat-log li.chat.self .body")].some((b) => b.textContent === t), text);
    assert.equal(await ada.page.inputValue("#chat-input"), "", "the chat box is emptied once the message is sent");
    await screenshot(bob, "05-bob-chat");
  });

  test("a reload brings Bob back into the room with the same display name", { timeout: STEP_MS }, async () => {
    await bob.page.reload();
    const newSid = await until(bob, "Bob back in the room", () => window.toncon?.state === "room" && window.toncon.sessionId);
    assert.notEqual(newSid, sid.bob, "a reload is a new session");
    assert.equal(await bob.page.inputValue("#display-name"), "Bob");
    sid.bob = newSid;
    await untilSees(ada, sid.bob, "Bob", 10000);
    await untilSees(bob, sid.ada, "Ada", 10000);
    await until(ada, "the old avatar of Bob to go", (id) => window.toncon.remoteAvatars().length === 1 && window.toncon.remoteAvatars()[0].sessionId === id, sid.bob);
    await screenshot(bob, "06-bob-after-reload");
  });

  test("after a dropped connection Ada reconnects as the same session, and Bob still sees her move", { timeout: STEP_MS }, async () => {
    await ada.page.evaluate(() => window.toncon.dropConnection());
    await until(ada, "the reconnect", () => window.toncon.adapterStats()?.resyncs >= 1 && window.toncon.state === "room");
    assert.equal(await ada.page.evaluate(() => window.toncon.sessionId), sid.ada);
    await untilSees(bob, sid.ada, "Ada", 10000);
    const start = await ada.page.evaluate(() => window.toncon.avatarPosition());
    await ada.page.keyboard.down("KeyS");
    try {
      await until(ada, "S to move Ada", (from) => {
        const p = window.toncon.avatarPosition();
        return Math.hypot(p.x - from.x, p.z - from.z) >= 0.5;
      }, start);
    } finally {
      await ada.page.keyboard.up("KeyS");
    }
    await until(bob, "Bob to see Ada move after her reconnect", ([id, from]) => {
      const a = window.toncon.remoteAvatars().find((r) => r.sessionId === id);
      return a && Math.hypot(a.position.x - from.x, a.position.z - from.z) >= 0.4;
    }, [sid.ada, start]);
  });

  test("Copy link and Leave", { timeout: STEP_MS }, async () => {
    await bob.page.click("#copy-link");
    const banner = await until(bob, "the copy-link notice", () => document.querySelector("#banner:not([hidden])")?.textContent);
    assert.ok(banner.includes(new URL(roomUrl).pathname), `the notice should name the room's link: ${banner}`);
    await bob.page.click("#leave-room");
    await bob.page.waitForURL(`${server.url}/`, { timeout: WAIT_MS });
    await until(ada, "Bob's avatar to go when he leaves", () => window.toncon.remoteAvatars().length === 0);
    const recent = await bob.page.locator("#recent-rooms").innerText();
    assert.match(recent, /Meeting point/, "the home page lists the room just visited");
  });

  test("no errors in either browser's console", () => {
    assertNoErrors(ada, bob);
  });
});

describe("the room page on a phone, and when things are missing", { timeout: 90000 }, () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer();
  });

  after(() => shutDown(server, browser));

  test("on a phone: the lobby, then a touch joystick to walk, and chat behind a button", { timeout: STEP_MS }, async () => {
    browser = await launchBrowser();
    const hub = await createHub(server, "Phone room");
    const phone = await openPerson(browser, "phone", {
      viewport: { width: 390, height: 740 },
      isMobile: true,
      hasTouch: true,
      userAgent: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
    });
    await phone.page.goto(`${server.url}/${hub.hub_id}`);
    await until(phone, "the lobby's Enter button", () => window.toncon?.ready);
    assert.ok(await phone.page.locator("#chat-panel").isHidden(), "on a small screen the chat waits behind its button");
    await phone.page.tap("#enter-room");
    await until(phone, "being in the room", () => window.toncon.state === "room");
    await until(phone, "the touch joystick", () => !!document.querySelector("#joystickLeftZone .nipple"));
    await phone.page.tap("#chat-toggle");
    assert.ok(await phone.page.locator("#chat-panel").isVisible());
    await screenshot(phone, "07-phone-room-chat");
    assertNoErrors(phone);
    await browser.close();
    browser = null;
  });

  test("a room that does not exist says so and links home", { timeout: STEP_MS }, async () => {
    browser = await launchBrowser();
    const eve = await openPerson(browser, "eve");
    await eve.page.goto(`${server.url}/AAAAAAA/no-such-room`);
    const title = await until(eve, "the not-found message", () => !document.querySelector("#fatal")?.hidden && document.querySelector("#fatal-title").textContent);
    assert.equal(title, "This room does not exist");
    assert.ok(await eve.page.locator("#lobby").isHidden());
    assert.equal(await eve.page.locator("#fatal a").getAttribute("href"), "/");
    await screenshot(eve, "08-not-found");
    assertNoErrors(eve);
    await browser.close();
    browser = null;
  });

  test("without WebGL the lobby says why, and chat still works", { timeout: STEP_MS }, async () => {
    browser = await launchBrowser({ extraArgs: ["--disable-3d-apis"] });
    const hub = await createHub(server, "No 3D here");
    const kim = await openPerson(browser, "kim");
    await kim.page.goto(`${server.url}/${hub.hub_id}`);
    await until(kim, "the WebGL message", () => !document.querySelector("#webgl-missing")?.hidden);
    assert.match(await kim.page.locator("#webgl-missing").innerText(), /cannot show the 3D room/);
    assert.equal(await kim.page.locator("#enter-room").isDisabled(), true);
    await until(kim, "the lobby to join the room", () => window.toncon.sessionId);
    await kim.page.fill("#chat-input", "Can anyone hear me?");
    await kim.page.press("#chat-input", "Enter");
    await until(kim, "the chat line", () => document.querySelector("#chat-log li.chat .body")?.textContent === "Can anyone hear me?");
    await screenshot(kim, "09-no-webgl");
    assertNoErrors(kim);
  });
});
