// Unit tests for shared/upload.js: a refused upload rejects with the server's own sentence, which the room, the
// avatar chooser and the scene form show as it is. The answers below are the server's 429 and 507 bodies
// (internal/uploads: rate limit, free-space floor, storage cap).
import { test } from "node:test";
import assert from "node:assert/strict";

import { myUploads, refusalText, sendJSON, uploadMedia } from "../../src/shared/upload.js";

// A stand-in for the browser's XMLHttpRequest that answers every send with status and body.
function answering(status, body) {
  return class {
    constructor() {
      this.upload = {};
      this.headers = {};
    }
    open(method, url) {
      this.method = method;
      this.url = url;
    }
    setRequestHeader(k, v) {
      this.headers[k] = v;
    }
    send(form) {
      assert.ok(form.get("media"), "the file goes in the field media");
      this.status = status;
      this.responseText = body;
      queueMicrotask(() => this.onload());
    }
    abort() {}
  };
}

const refusals = [
  [429, "rate_limited", "you have uploaded many files in a short time; this server takes 20 in a row and then 60 an hour from each person. Try again in about 60 seconds."],
  [507, "insufficient_storage", "the server is running out of disk space and takes no more uploads for now; tell the event's organiser"],
  [507, "insufficient_storage", "this file does not fit in the space this server keeps for uploads (9.8 GB of 10 GB used); try a smaller file, or tell the event's organiser"],
];

for (const [status, code, message] of refusals) {
  test(`a ${status} ${code} rejects with the server's message`, async () => {
    globalThis.XMLHttpRequest = answering(status, JSON.stringify({ error: code, message }));
    const err = await uploadMedia(new Blob(["\x89PNG"]), { name: "a.png" }).then(
      () => assert.fail("resolved"),
      (e) => e,
    );
    assert.equal(err.message, message);
    assert.equal(err.status, status);
    assert.equal(err.code, code);
  });
}

test("a 429 or 507 without a JSON body (a proxy's page) still says it was refused, with the status", () => {
  assert.match(refusalText(429, null), /HTTP 429: too many requests, wait/);
  assert.match(refusalText(507, null), /HTTP 507: the server is out of storage space/);
  assert.match(refusalText(418, null), /HTTP 418\)/);
});

test("sendJSON: the method, token and body go out; refusals reject with the server's words or the status's", async (t) => {
  const seen = [];
  const answers = [
    [200, JSON.stringify({ avatars: [{ avatar_id: "abc1234" }] })],
    [403, JSON.stringify({ error: "forbidden", message: "only its owner or an admin may change this avatar" })],
    [429, "<html>slow down</html>"],
  ];
  t.mock.method(globalThis, "fetch", async (path, init) => {
    seen.push({ path, ...init });
    const [status, text] = answers.shift();
    return new Response(text, { status });
  });
  const ok = await sendJSON("PATCH", "/api/v1/avatars/abc1234", { avatar: { name: "Ada" } }, "tok", "The avatar could not be changed");
  assert.equal(ok.avatars[0].avatar_id, "abc1234");
  assert.equal(seen[0].method, "PATCH");
  assert.equal(seen[0].headers.authorization, "bearer tok");
  assert.equal(seen[0].headers["content-type"], "application/json");
  assert.equal(seen[0].body, JSON.stringify({ avatar: { name: "Ada" } }));

  const refused = await sendJSON("DELETE", "/api/v1/avatars/abc1234", null, "tok", "The avatar could not be deleted").catch((e) => e);
  assert.equal(seen[1].body, undefined);
  assert.equal(seen[1].headers["content-type"], undefined);
  assert.equal(refused.message, "only its owner or an admin may change this avatar");
  assert.equal(refused.status, 403);
  assert.equal(refused.code, "forbidden");

  const busy = await sendJSON("POST", "/api/v1/scenes", {}, "", "The server refused").catch((e) => e);
  assert.equal(seen[2].headers.authorization, undefined);
  assert.equal(busy.message, "The server refused (HTTP 429: too many requests, wait a little and try again).");
});

test("sendJSON: a server that cannot be reached says so", async (t) => {
  t.mock.method(globalThis, "fetch", async () => {
    throw new TypeError("fetch failed");
  });
  const err = await sendJSON("GET", "/api/v1/avatars", null, "", "x").catch((e) => e);
  assert.match(err.message, /could not be reached/);
});

test("myUploads: the account's entries with its token; a refusal says the list could not be had", async (t) => {
  const seen = [];
  const answers = [
    [200, JSON.stringify({ entries: [{ file_id: "f1", name: "sunset.png" }] })],
    [200, JSON.stringify({})],
    [503, ""],
  ];
  t.mock.method(globalThis, "fetch", async (path, init) => {
    seen.push({ path, ...init });
    const [status, text] = answers.shift();
    return new Response(text, { status });
  });
  assert.deepEqual(await myUploads("tok"), [{ file_id: "f1", name: "sunset.png" }]);
  assert.equal(seen[0].path, "/api/v1/media/mine");
  assert.equal(seen[0].method, "GET");
  assert.equal(seen[0].headers.authorization, "bearer tok");
  assert.deepEqual(await myUploads("tok"), [], "an answer without entries lists nothing");
  const err = await myUploads("tok").catch((e) => e);
  assert.equal(err.message, "Your uploads could not be listed (HTTP 503: the server is busy or restarting, try again soon).");
});
