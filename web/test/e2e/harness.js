// Harness for the browser end-to-end tests: a real toncon on a random port (the interop harness starts it) and
// Debian's Chromium driven by playwright-core, one independent browser context per person. Nothing is
// downloaded: the browser is $CHROMIUM or /usr/bin/chromium, and a missing one fails the suite with the command
// that installs it.
//
//   const server = await startServer();
//   const browser = await launchBrowser();
//   const ada = await openPerson(browser, "ada");          // {context, page, errors, name}
//   await ada.page.goto(server.url + "/");
//   ...
//   await screenshot(ada, "in-room");
//   assertNoErrors(ada);
//
// Console errors and uncaught exceptions of every page are collected in person.errors; screenshots go to
// $ARTIFACTS_DIR or <repo>/artifacts/e2e/ (not committed).

import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";

import { chromium } from "playwright-core";

import { WEB_DIR, createHub, serverBinary, startServer } from "../interop/harness.js";

export { createHub, serverBinary, startServer };

const REPO_DIR = path.resolve(WEB_DIR, "..");

/** How long one wait in a browser may take before the test fails with what it was waiting for. */
export const WAIT_MS = 15000;

/** The Chromium the tests drive. */
export function chromiumPath() {
  const bin = process.env.CHROMIUM || "/usr/bin/chromium";
  if (!existsSync(bin)) {
    throw new Error(
      `the browser tests need Chromium at ${bin}.\n` +
        `Install it with:  make deps-chromium   (apt-get install chromium)\n` +
        `or point CHROMIUM at a Chromium or Chrome binary. The tests never download a browser.`,
    );
  }
  return bin;
}

/** Where screenshots go (made if missing). */
export function artifactsDir() {
  const dir = process.env.ARTIFACTS_DIR ? path.resolve(process.env.ARTIFACTS_DIR) : path.join(REPO_DIR, "artifacts", "e2e");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Launches headless Chromium. Without a GPU, WebGL comes from SwiftShader, which Chromium only allows when asked.
 * playwright gives every launch a fresh user data folder. extraArgs go to Chromium as well (e.g. --disable-3d-apis
 * for a browser without WebGL).
 */
export function launchBrowser({ extraArgs = [] } = {}) {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--use-angle=swiftshader",
      "--enable-unsafe-swiftshader",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // Two rooms render side by side in one browser; neither may be throttled as a background page.
      "--disable-renderer-backgrounding",
      "--disable-background-timer-throttling",
      "--disable-backgrounding-occluded-windows",
      ...extraArgs,
    ],
  });
}

/**
 * A person: a fresh browser context (own storage, own cookies) with one page, whose console errors and uncaught
 * exceptions are collected in errors as readable strings. Other options go to browser.newContext (isMobile,
 * hasTouch, userAgent...).
 */
export async function openPerson(browser, name, { viewport = { width: 720, height: 540 }, ...contextOptions } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, ...contextOptions });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (err) => errors.push(`${name}: uncaught ${err.stack || err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") {
      const where = msg.location()?.url ? ` (${msg.location().url}:${msg.location().lineNumber})` : "";
      errors.push(`${name}: console.error ${msg.text()}${where}`);
    }
  });
  page.on("crash", () => errors.push(`${name}: the page crashed`));
  return { name, context, page, errors };
}

/** A test file's after(): closes its browsers, then stops the server and removes its files; any may be missing. */
export async function shutDown(server, ...browsers) {
  for (const b of browsers) await b?.close();
  await server?.stop();
  await server?.cleanup();
}

/** Fails with every error any of the people's pages logged. */
export function assertNoErrors(...people) {
  const all = people.flatMap((p) => p.errors);
  assert.deepEqual(all, [], `the pages logged errors:\n${all.join("\n")}`);
}

/** Saves a screenshot of the person's page as <artifacts>/<file>.png; never fails the test. */
export async function screenshot(person, file) {
  const out = path.join(artifactsDir(), `${file}.png`);
  try {
    await person.page.screenshot({ path: out, timeout: 10000 });
  } catch (err) {
    console.warn(`screenshot ${out} failed: ${err.message}`);
  }
  return out;
}

/**
 * Polls fn(arg) in the page until it returns something truthy, and returns that. On timeout the error says what
 * was awaited and the last value seen.
 */
export async function until(person, what, fn, arg, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await person.page.evaluate(fn, arg);
    } catch (err) {
      last = `error: ${err.message}`;
      if (/Target (page|closed)|has been closed/.test(err.message)) throw err;
    }
    if (last && !(typeof last === "string" && last.startsWith("error: "))) return last;
    if (Date.now() > deadline) {
      throw new Error(`${person.name}: timed out after ${ms} ms waiting for ${what}; last value ${JSON.stringify(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * On a room page: waits for the lobby to be ready, picks the name (and look), presses Enter and waits to be in
 * the room. Returns our session id.
 */
export async function enterRoom(person, { displayName, look } = {}) {
  const { page } = person;
  await until(person, "the lobby's Enter button", () => window.toncon?.ready === true || window.toncon?.state === "room");
  if (displayName !== undefined) await page.fill("#display-name", displayName);
  if (look) await page.click(`#avatar-looks label:has(input[value="${look}"])`);
  await page.click("#enter-room");
  await until(person, "being in the room", () => window.toncon.state === "room");
  return page.evaluate(() => window.toncon.sessionId);
}

/** The avatars a person sees of others: [{sessionId, displayName, position}]. */
export function remoteAvatars(person) {
  return person.page.evaluate(() => window.toncon.remoteAvatars());
}

/** Waits until person sees the avatar of session sessionId (optionally with displayName), and returns it. */
export function untilSees(person, sessionId, displayName, ms = WAIT_MS) {
  return until(
    person,
    `the avatar of ${displayName || sessionId}`,
    ([sid, name]) => window.toncon.remoteAvatars().find((a) => a.sessionId === sid && (!name || a.displayName === name)),
    [sessionId, displayName],
    ms,
  );
}

/** Holds key down for ms milliseconds on the person's page (keyboard-controls reads keydown/keyup on window). */
export async function holdKey(person, key, ms) {
  await person.page.keyboard.down(key);
  await new Promise((resolve) => setTimeout(resolve, ms));
  await person.page.keyboard.up(key);
}

export function distance(a, b) {
  return Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);
}
