// Media objects: what kind of panel a content type or a link gets, links to files on this server and their
// access tokens, links people paste, and upload refusals worded for people.

import { test } from "node:test";
import assert from "node:assert/strict";

import { ACCEPT, checkLink, kindFromUrl, kindOf, serverFile, sharedSrc, typeFromUrl } from "../../src/room/objects/kinds.js";
import { formatBytes, refusalText } from "../../src/shared/upload.js";

const ORIGIN = "https://rooms.example.org";

test("every content type the server accepts has a kind; others have none", () => {
  const want = {
    "image/png": "image", "image/jpeg": "image", "image/gif": "image", "image/webp": "image",
    "model/gltf-binary": "model", "model/gltf+json": "model",
    "video/mp4": "video", "video/webm": "video",
    "audio/mpeg": "audio", "audio/ogg": "audio", "audio/wav": "audio",
    "application/pdf": "pdf",
  };
  for (const [type, kind] of Object.entries(want)) assert.equal(kindOf(type), kind, type);
  assert.equal(kindOf("IMAGE/PNG; charset=binary"), "image", "case and parameters do not matter");
  for (const bad of ["text/html", "application/javascript", "image/svg+xml", "", "image", "constructor", "toString", null, undefined, 42]) {
    assert.equal(kindOf(bad), null, String(bad));
  }
});

test("the file picker offers each accepted type and the usual extensions, and nothing no panel shows", () => {
  const offered = ACCEPT.split(",");
  for (const want of ["image/png", "image/webp", "model/gltf-binary", "model/gltf+json", "video/webm", "audio/wav", "application/pdf", ".glb", ".gltf", ".mp3", ".ogg", ".wav", ".jpg"]) {
    assert.ok(offered.includes(want), want);
  }
  for (const entry of offered) {
    const kind = entry.startsWith(".") ? kindFromUrl(`https://a.example/x${entry}`) : kindOf(entry);
    assert.ok(kind, `${entry} is offered but no panel shows it`);
  }
});

test("a link's extension suggests a type and a kind, and nothing for pages or unknown extensions", () => {
  assert.equal(typeFromUrl("https://a.example/x/cat.JPG"), "image/jpeg");
  assert.equal(typeFromUrl("https://a.example/m/duck.glb?x=1#y"), "model/gltf-binary");
  assert.equal(kindFromUrl("/files/abc.mp4?token=t"), "video");
  assert.equal(kindFromUrl("https://a.example/doc.pdf"), "pdf");
  assert.equal(typeFromUrl("https://a.example/page.html"), "");
  assert.equal(kindFromUrl("https://a.example/"), null);
  assert.equal(kindFromUrl("https://a.example/cat.png/"), null, "a folder is not a file");
});

test("pasted links: https anywhere, anything on this server, a clear sentence otherwise", () => {
  assert.deepEqual(checkLink("  https://cdn.example/cat.png ", ORIGIN), { url: "https://cdn.example/cat.png" });
  assert.deepEqual(checkLink("/files/abc?token=t", ORIGIN), { url: `${ORIGIN}/files/abc?token=t` });
  assert.match(checkLink("http://cdn.example/cat.png", ORIGIN).error, /Only https links/);
  assert.match(checkLink("javascript:alert(1)", ORIGIN).error, /Only https links/);
  assert.match(checkLink("", ORIGIN).error, /Paste or type/);
  assert.match(checkLink("http://[bad", ORIGIN).error, /not a link/);
  assert.deepEqual(checkLink("http://rooms.example.org/files/x", "http://rooms.example.org"), { url: "http://rooms.example.org/files/x" },
    "a server on plain http may show its own files");
});

test("links to files on this server give their id and access token; others give null", () => {
  assert.deepEqual(serverFile(`${ORIGIN}/files/Ab_c-9?token=s3cret`, ORIGIN), { fileId: "Ab_c-9", token: "s3cret" });
  assert.deepEqual(serverFile("/files/Abc.png", ORIGIN), { fileId: "Abc", token: "" });
  assert.equal(serverFile("https://other.example/files/Abc", ORIGIN), null, "another server");
  assert.equal(serverFile(`${ORIGIN}/files/a/b`, ORIGIN), null);
  assert.equal(serverFile(`${ORIGIN}/filesx/abc`, ORIGIN), null);
  assert.equal(serverFile(`${ORIGIN}/files/..%2Fetc`, ORIGIN), null);
});

test("the shared src carries the access token while the file is not kept", () => {
  assert.equal(sharedSrc(`${ORIGIN}/files/abc`, "t0k"), `${ORIGIN}/files/abc?token=t0k`);
  assert.equal(sharedSrc("/files/abc", "a b&c"), "/files/abc?token=a+b%26c");
  assert.equal(sharedSrc(`${ORIGIN}/files/abc`, ""), `${ORIGIN}/files/abc`);
  assert.deepEqual(serverFile(sharedSrc("/files/abc", "a b&c"), ORIGIN), { fileId: "abc", token: "a b&c" }, "round trip");
});

test("refusals say the server's message, and something clear without one", () => {
  assert.equal(refusalText(413, { error: "too_large", message: "images may be at most 16 MB" }), "images may be at most 16 MB");
  assert.match(refusalText(413, null), /too large/);
  assert.match(refusalText(415, {}), /cannot be shown/);
  assert.match(refusalText(422, { message: "" }), /damaged/);
  assert.match(refusalText(0), /did not reach the server/);
  assert.match(refusalText(500, "oops"), /HTTP 500/);
});

test("sizes read as people say them", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 kB");
  assert.equal(formatBytes(2_500_000), "2.5 MB");
  assert.equal(formatBytes(-1), "");
});
