// Unit tests for reading the sign-in link on the /verify page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readLink } from "../../src/verify/link.js";

const topic = "auth:7d1a4a2e-3c57-4e0e-a1a4-0bfb6a0c9a11";
const token = "ab".repeat(32);

test("a whole link gives its topic, token and origin", () => {
  const q = new URLSearchParams({ auth_topic: topic, auth_token: token, auth_origin: "hubs" });
  assert.deepEqual(readLink("?" + q), { topic, token, origin: "hubs" });
  assert.deepEqual(readLink(`?auth_topic=${encodeURIComponent(topic)}&auth_token=${token}`), { topic, token, origin: "" });
});

test("a cut or mangled link is refused", () => {
  for (const search of [
    "",
    `?auth_topic=${topic}`,
    `?auth_token=${token}`,
    `?auth_topic=${topic}&auth_token=${token.slice(0, 40)}`,
    `?auth_topic=hub:abc1234&auth_token=${token}`,
    `?auth_topic=auth:nope&auth_token=${token}`,
    `?auth_topic=${topic}&auth_token=${"zz".repeat(32)}`,
  ]) {
    assert.equal(readLink(search), null, search);
  }
});
