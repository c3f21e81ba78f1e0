// Signing in, for the browser tests that need an account (avatars, scenes): the server runs without a mail server,
// so the sign-in link is in its log, where the test reads it as an operator would and opens it in a second tab.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

import { WAIT_MS, serverBinary, until } from "./harness.js";

const run = promisify(execFile);

/** `toncon admin create-admin` on the server's data folder: the accounts that sign in later are ordinary ones. */
export function createAdmin(server, email = "admin@example.org") {
  return run(serverBinary(), ["admin", "create-admin", email, "--data", server.dataDir], { timeout: 15000 });
}

/** The newest sign-in link the server wrote to its log after `from` characters, once it is there. */
export async function linkFromLog(server, from) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const links = server.stderr.slice(from).match(/https?:\/\/[^\s"\\]+\/verify\?[^\s"\\]+/g);
    if (links) return links[links.length - 1];
    if (Date.now() > deadline) throw new Error(`no sign-in link in the server's log; it says:\n${server.stderr.slice(from)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Opens a sign-in link in a new page of person's browser context (another tab) and waits for it to finish. */
export async function followLink(person, link) {
  const tab = await person.context.newPage();
  tab.on("pageerror", (err) => person.errors.push(`${person.name} (link tab): uncaught ${err.message}`));
  await tab.goto(link);
  await tab.waitForFunction(() => document.querySelector("h1")?.textContent === "You are signed in", null, { timeout: WAIT_MS });
  assert.equal(new URL(tab.url()).search, "", "the link's one-time token leaves the address bar");
  await tab.close();
}

/** Signs person in on the home page (which it opens) with email, following the link from the log in another tab. */
export async function signInOnHome(server, person, email) {
  const { page } = person;
  await page.goto(`${server.url}/`);
  const from = server.stderr.length;
  await page.fill("#sign-in-email", email);
  await page.click("#sign-in-send");
  await until(person, "the sign-in link to be written to the log", () => document.querySelector("#sign-in-status")?.textContent.includes("log"));
  await followLink(person, await linkFromLog(server, from));
  const credentials = await until(person, "the credentials on the home page", () => JSON.parse(localStorage.getItem("toncon.credentials") || "null"));
  assert.equal(credentials.email, email.toLowerCase());
  await until(person, "the signed-in box", () => !document.querySelector("#signed-in").hidden);
  return credentials;
}
