// End to end: an owner (in the 3D room) and a guest in a second browser, headless Chromium, against a real toncon
// started without a mail server, so sign-in links go to the server's log, where the test reads them as an operator
// would. Home → create a room → sign in from the room with the link from the log (the room's creator token is
// claimed) → the owner renames the room and turns text chat off, and the guest sees both → mute and unmute → the
// owner removes the guest, whose page says so, does not reconnect, and cannot come back → sign in on the home page
// → the room becomes invite only (invite link, revoke) → a refused token is forgotten, that person signs in in the
// room and the creator makes them an owner and unmakes them → closing the room (confirmed) → offline mode
// (`toncon admin offline on`) tells the people in the room and sends them on.
// The steps share one server and room and run in order; each is its own test so a failure says which step broke.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";

import { followLink, linkFromLog } from "./accounts.js";
import { assertNoErrors, enterRoom, launchBrowser, openPerson, screenshot, serverBinary, shutDown, startServer, until, WAIT_MS } from "./harness.js";

const run = promisify(execFile);
serverBinary(); // fail at once, with the build command, when there is no server
const STEP_MS = 60000;

describe("owners: sign-in by email link, room settings, moderation, offline", { timeout: 240000 }, () => {
  let server;
  let browser;
  // The owner's browser draws the 3D room; everyone else only needs the lobby (people, chat, notices), so they use a
  // browser without WebGL: each 3D page slows every other one down on a small machine, and room.test.js already
  // has two people meet in 3D.
  let lite;
  let owner;
  let guest;
  let roomUrl;
  const sid = {};
  let guestSockets = 0;

  /** `toncon admin ...` on the running server's data folder, as an operator does. */
  const admin = (...args) => run(serverBinary(), ["admin", ...args, "--data", server.dataDir], { timeout: 15000 });

  before(async () => {
    server = await startServer();
    // An admin exists already, so the owner's account is an ordinary one: only the room's creator token makes it
    // an owner (the first account to sign in on a server without an admin would become admin).
    await admin("create-admin", "admin@example.org");
    browser = await launchBrowser();
    lite = await launchBrowser({ extraArgs: ["--disable-3d-apis"] });
    owner = await openPerson(browser, "owner");
    guest = await openPerson(lite, "guest");
    guest.page.on("websocket", () => guestSockets++);
  });

  after(() => shutDown(server, browser, lite));

  test("the owner creates a room on the home page and signs in from the room with the link from the server's log", { timeout: STEP_MS }, async () => {
    const { page } = owner;
    await page.goto(`${server.url}/`);
    await page.fill("#room-name", "Owner's room");
    await page.click("#create-room");
    await page.waitForURL(/\/[A-Za-z0-9]{7}\/[a-z0-9-]+$/, { timeout: WAIT_MS });
    roomUrl = page.url();
    sid.owner = await until(owner, "the room's join", () => window.toncon?.sessionId);
    assert.deepEqual(await page.evaluate(() => window.toncon.roles), { owner: false, creator: false, signed_in: false });
    assert.ok(await page.locator("#settings-toggle").isHidden(), "no settings before signing in");
    await until(owner, "the hint to sign in to own the room", () => document.querySelector("#banner:not([hidden])")?.textContent.includes("sign in"));

    await page.click("#account-toggle");
    assert.match(await page.locator("#sign-in-hint").innerText(), /You created this room: sign in/);
    const logFrom = server.stderr.length;
    await page.fill("#sign-in-email", "Owner@Example.org");
    await page.click("#sign-in-send");
    const status = await until(owner, "the sign-in status", () => {
      const t = document.querySelector("#sign-in-status")?.textContent || "";
      return t.includes("log") && t;
    });
    assert.match(status, /^The link was written to the server's log \(no mail server is configured\)/);
    await screenshot(owner, "owner-01-link-in-log");

    await followLink(owner, await linkFromLog(server, logFrom));
    const label = await until(owner, "the signed-in account in the bar", () => {
      const t = document.querySelector("#account-toggle").textContent;
      return t !== "Sign in" && t;
    });
    assert.equal(label, "owner@example.org", "the server's normalised address");
    assert.match(await page.locator("#signed-in-as").innerText(), /Signed in as owner@example.org/);
    const roles = await until(owner, "the creator role", () => window.toncon.roles?.creator && window.toncon.roles);
    assert.deepEqual(roles, { owner: true, creator: true, signed_in: true }, "the creator token was claimed, and no admin powers");
    assert.equal(await page.evaluate((hubId) => sessionStorage.getItem(`toncon.creator.${hubId}`), new URL(roomUrl).pathname.split("/")[1]), null);
    assert.deepEqual(await page.evaluate(() => JSON.parse(localStorage.getItem("toncon.credentials")).email), "owner@example.org");
    await page.click("#account-dialog-close");
    await until(owner, "the settings button", () => !document.querySelector("#settings-toggle").hidden);
    await enterRoom(owner, { displayName: "Olive" });
  });

  test("an anonymous guest opens the link in a second browser, joins, and has no owner controls", { timeout: STEP_MS }, async () => {
    await guest.page.goto(roomUrl);
    sid.guest = await until(guest, "the guest's join", () => window.toncon?.sessionId);
    await guest.page.fill("#display-name", "Gus");
    await guest.page.locator("#display-name").blur(); // a changed name is sent from the lobby
    assert.deepEqual(await guest.page.evaluate(() => window.toncon.roles), { owner: false, creator: false, signed_in: false });
    assert.ok(await guest.page.locator("#settings-toggle").isHidden());
    assert.equal(await guest.page.locator("#chat-input").isEnabled(), true);
    await guest.page.click("#people-toggle");
    await until(guest, "Olive in the guest's people list", () => document.querySelector("#people-list")?.textContent.includes("Olive"));
    const ownerRow = guest.page.locator(`#people-list li[data-session-id="${sid.owner}"]`);
    assert.match(await ownerRow.innerText(), /creator/);
    await ownerRow.locator("summary").click();
    assert.deepEqual(await ownerRow.locator("[data-action]").evaluateAll((bs) => bs.map((b) => b.dataset.action)), ["block"],
      "a guest may only block");
    await ownerRow.locator("summary").click();
  });

  test("the owner renames the room and turns text chat off; the guest sees both", { timeout: STEP_MS }, async () => {
    const { page } = owner;
    await page.click("#settings-toggle");
    assert.equal(await page.inputValue("#settings-name"), "Owner's room");
    assert.equal(await page.isChecked("#entry-allow"), true);
    assert.equal(await page.isChecked("#perm-text_chat"), true);
    await page.fill("#settings-name", "Renamed by Olive");
    await page.uncheck("#perm-text_chat");
    await screenshot(owner, "owner-02-settings");
    await page.click("#settings-save");
    await until(owner, "the saved message", () => document.querySelector("#settings-status").textContent.startsWith("Saved"));
    await page.click("#settings-dialog-close");

    await until(guest, "the new name in the guest's bar", () => document.querySelector("#room-title").textContent === "Renamed by Olive");
    assert.match(await guest.page.title(), /^Renamed by Olive/);
    await until(guest, "text chat to be off for the guest", () => window.toncon.permissions?.text_chat === false && document.querySelector("#chat-input").disabled);
    assert.equal(await guest.page.getAttribute("#chat-input", "placeholder"), "Text chat is turned off in this room");
    assert.equal(await page.evaluate(() => window.toncon.permissions.text_chat), true, "owners keep every member permission");
    assert.equal(await page.locator("#room-title").innerText(), "Renamed by Olive");
    await screenshot(guest, "owner-03-guest-sees-change");
  });

  test("the owner mutes the guest, who is told and unmutes", { timeout: STEP_MS }, async () => {
    const { page } = owner;
    await page.click("#people-toggle");
    const row = page.locator(`#people-list li[data-session-id="${sid.guest}"]`);
    await row.locator("summary").click();
    await row.locator('[data-action="mute"]').click();
    const notice = await until(guest, "the muted notice", () => !document.querySelector("#muted-notice").hidden && document.querySelector("#muted-notice").textContent);
    assert.match(notice, /A moderator muted you/);
    await until(owner, "the muted badge", (id) => document.querySelector(`#people-list li[data-session-id="${id}"] .badge.muted`), sid.guest);
    await screenshot(guest, "owner-04-muted");
    await guest.page.click("#unmute");
    await until(guest, "the notice to go", () => document.querySelector("#muted-notice").hidden);
    await until(owner, "the muted badge to go", (id) => !document.querySelector(`#people-list li[data-session-id="${id}"] .badge.muted`), sid.guest);
  });

  test("the owner removes the guest: the guest's page says so, does not reconnect, and a reload is refused", { timeout: STEP_MS }, async () => {
    const { page } = owner;
    const row = page.locator(`#people-list li[data-session-id="${sid.guest}"]`);
    page.once("dialog", (d) => {
      assert.match(d.message(), /Remove Gus from the room\?/);
      d.accept();
    });
    if (!(await row.locator("details").evaluate((d) => d.open))) await row.locator("summary").click();
    await row.locator('[data-action="kick"]').click();
    const title = await until(guest, "the removed message", () => !document.querySelector("#fatal").hidden && document.querySelector("#fatal-title").textContent);
    assert.equal(title, "You were removed from the room by a moderator");
    await until(owner, "the guest to leave the owner's list", (id) => !document.querySelector(`#people-list li[data-session-id="${id}"]`), sid.guest);
    await screenshot(guest, "owner-05-removed");

    const socketsBefore = guestSockets;
    await new Promise((resolve) => setTimeout(resolve, 1500)); // phoenix retries within 10 ms to 1 s
    assert.equal(guestSockets, socketsBefore, "the removed page opened no new socket");
    assert.equal(await guest.page.locator("#fatal-title").innerText(), "You were removed from the room by a moderator");

    await guest.page.reload();
    const again = await until(guest, "the refusal after a reload", () => !document.querySelector("#fatal")?.hidden && document.querySelector("#fatal-text").textContent);
    assert.equal(await guest.page.locator("#fatal-title").innerText(), "You cannot enter this room");
    assert.match(again, /^A moderator removed you from this room; you can come back in 5 minutes\.$/);
    await screenshot(guest, "owner-05-cannot-rejoin");
    assertNoErrors(guest);
    await guest.context.close();
  });

  test("the home page shows who is signed in, and signs in another visitor with the link from the log", { timeout: STEP_MS }, async () => {
    const home = await owner.context.newPage();
    await home.goto(`${server.url}/`);
    await home.waitForSelector("#signed-in-as", { state: "visible", timeout: WAIT_MS });
    assert.match(await home.locator("#signed-in-as").innerText(), /Signed in as owner@example.org/);
    await home.close();

    const visitor = await openPerson(lite, "visitor");
    const sockets = [];
    visitor.page.on("websocket", (ws) => sockets.push(ws));
    await visitor.page.goto(`${server.url}/`);
    assert.equal(sockets.length, 0, "the home page connects only to ask for a link");
    assert.match(await visitor.page.locator("#sign-in-hint").innerText(), /Sign in to own the rooms you create/);
    const logFrom = server.stderr.length;
    await visitor.page.fill("#sign-in-email", "visitor@example.org");
    await visitor.page.click("#sign-in-send");
    await until(visitor, "the log message", () => document.querySelector("#sign-in-status").textContent.includes("server's log"));
    await followLink(visitor, await linkFromLog(server, logFrom));
    await until(visitor, "signed in on the home page", () => !document.querySelector("#signed-in").hidden);
    assert.match(await visitor.page.locator("#signed-in-as").innerText(), /visitor@example.org/);
    const deadline = Date.now() + WAIT_MS;
    while (!sockets.every((ws) => ws.isClosed()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(sockets.length === 1 && sockets[0].isClosed(), "and disconnects once signed in");
    await screenshot(visitor, "owner-06-home-signed-in");
    await visitor.page.click("#sign-out");
    await until(visitor, "signed out", () => !document.querySelector("#sign-in-form").hidden && localStorage.getItem("toncon.credentials") === null);
    assertNoErrors(visitor);
    await visitor.context.close();
  });

  let inviteUrl;
  test("the owner makes the room invite only: a revoked invite link and the plain link are refused", { timeout: STEP_MS }, async () => {
    const { page } = owner;
    await page.click("#settings-toggle");
    await page.check("#entry-invite");
    await page.click("#settings-save");
    await until(owner, "the saved message", () => document.querySelector("#settings-status").textContent.startsWith("Saved"));
    const first = await until(owner, "the invite link", () => document.querySelector("#invite-link")?.value);
    const hubId = new URL(roomUrl).pathname.split("/")[1];
    assert.match(new URL(first).pathname, new RegExp(`^/${hubId}/renamed-by-olive$`), "the room's link, with its new name");
    assert.match(new URL(first).searchParams.get("hub_invite_id"), /.+/);
    await page.click("#invite-revoke");
    inviteUrl = await until(owner, "a new invite link", (old) => {
      const v = document.querySelector("#invite-link").value;
      return v !== old && v;
    }, first);
    assert.match(await page.locator("#invite-status").innerText(), /old link no longer works/);
    await screenshot(owner, "owner-07-invite");
    await page.click("#settings-dialog-close");

    const newcomer = await openPerson(lite, "newcomer");
    for (const url of [roomUrl, first]) {
      await newcomer.page.goto(url);
      const text = await until(newcomer, `the refusal of ${url}`, () => !document.querySelector("#fatal")?.hidden && document.querySelector("#fatal-text").textContent);
      assert.equal(await newcomer.page.locator("#fatal-title").innerText(), "You cannot enter this room");
      assert.match(text, /^This room is invite only: ask an owner for an invite link\.$/);
    }
    assertNoErrors(newcomer);
    await newcomer.context.close();
  });

  let stale;
  test("a refused token is forgotten with a message and the room joined without it; signed in again, the creator makes them an owner and unmakes them", { timeout: STEP_MS }, async () => {
    stale = await openPerson(lite, "stale");
    const { page } = stale;
    await page.goto(`${server.url}/cost`);
    await page.evaluate(() => localStorage.setItem("toncon.credentials", JSON.stringify({ token: "not.a.token", email: "old@example.org" })));
    await page.goto(inviteUrl);
    const banner = await until(stale, "the signed-out message", () => document.querySelector("#banner:not([hidden])")?.textContent);
    assert.match(banner, /^You were signed out: your sign-in has expired or is no longer valid here/);
    assert.equal(await page.locator("#account-toggle").innerText(), "Sign in");
    assert.equal(await page.evaluate(() => localStorage.getItem("toncon.credentials")), null);
    sid.stale = await until(stale, "the anonymous join", () => window.toncon.roles?.signed_in === false && window.toncon.sessionId);
    await page.fill("#display-name", "Sam");
    await page.locator("#display-name").blur();

    await page.click("#account-toggle");
    const logFrom = server.stderr.length;
    await page.fill("#sign-in-email", "sam@example.org");
    await page.click("#sign-in-send");
    await until(stale, "the log message", () => document.querySelector("#sign-in-status").textContent.includes("server's log"));
    await followLink(stale, await linkFromLog(server, logFrom));
    await until(stale, "signed in in the room", () => window.toncon.roles?.signed_in === true);
    assert.equal(await page.locator("#account-toggle").innerText(), "sam@example.org");
    await page.click("#account-dialog-close");

    const row = owner.page.locator(`#people-list li[data-session-id="${sid.stale}"]`);
    await until(owner, "Sam in the owner's list", (id) => document.querySelector(`#people-list li[data-session-id="${id}"]`)?.textContent.includes("Sam"), sid.stale);
    await row.locator("summary").click();
    await row.locator('[data-action="add_owner"]').click();
    await until(stale, "the settings button for the new owner", () => !document.querySelector("#settings-toggle").hidden && window.toncon.roles.owner);
    await until(stale, "the new owner's notice", () => document.querySelector("#banner:not([hidden])")?.textContent === "You are now an owner of this room.");
    await until(owner, "the owner badge", (id) => document.querySelector(`#people-list li[data-session-id="${id}"] .badge.owner`), sid.stale);
    await row.locator("summary").click();
    await row.locator('[data-action="remove_owner"]').click();
    await until(stale, "the settings button to go", () => document.querySelector("#settings-toggle").hidden && window.toncon.roles.owner === false);
  });

  test("closing the room asks first; then every page in it says it is closed", { timeout: STEP_MS }, async () => {
    const { page } = owner;
    await page.click("#settings-toggle");
    await page.check("#entry-deny");
    assert.ok(await page.locator("#close-warning").isVisible());
    page.once("dialog", (d) => d.dismiss());
    await page.click("#settings-save");
    await until(owner, "the room to stay open", () => document.querySelector("#settings-status").textContent === "The room stays open.");
    page.once("dialog", (d) => {
      assert.match(d.message(), /^Close this room\?/);
      d.accept();
    });
    await page.click("#settings-save");
    for (const person of [owner, stale]) {
      const title = await until(person, "the closed room", () => !document.querySelector("#fatal").hidden && document.querySelector("#fatal-title").textContent);
      assert.equal(title, "This room is closed");
    }
    assert.ok(await page.locator("#settings-dialog").evaluate((d) => !d.open), "the dialog closed with the room");
    assertNoErrors(stale);
    await stale.context.close();
  });

  test("offline mode: the owner's page shows the server's message, then follows the redirect", { timeout: STEP_MS }, async () => {
    const { stdout } = await admin("offline", "on", "--redirect", `${server.url}/cost`);
    assert.match(stdout, /offline mode is on/);
    // The server checks its settings every 2 s, but tells the people in rooms at its meter's next tick (15 s).
    const text = await until(owner, "the offline notice", () => document.body.classList.contains("offline") && document.querySelector("#fatal-text").textContent, undefined, 25000);
    assert.equal(await owner.page.locator("#fatal-title").innerText(), "This server is offline");
    assert.match(text, /^This server is going offline\. Taking you to 127\.0\.0\.1:\d+ in a few seconds/);
    assert.equal(await owner.page.getAttribute("#offline-redirect a", "href"), `${server.url}/cost`);
    await screenshot(owner, "owner-08-offline");
    await owner.page.waitForURL(`${server.url}/cost`, { timeout: WAIT_MS });
  });

  test("no errors in the owner's console", () => {
    assertNoErrors(owner);
  });
});
