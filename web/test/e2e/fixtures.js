// Files the browser tests make for themselves instead of shipping (a PNG, a glb of JSON only), and the upload
// that puts one on the server as a browser's form would.

import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc(body));
  return Buffer.concat([len, body, sum]);
}

/** A real 8-bit RGB PNG of w×h pixels, a two-colour gradient. */
export function png(w, h) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + 3 * w);
    for (let x = 0; x < w; x++) row.set([Math.round((255 * x) / w), 80, Math.round((255 * y) / h)], 1 + 3 * x);
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A binary glTF (.glb) holding only the JSON chunk: the glTF document json, padded to four bytes. */
export function glbOfJson(json) {
  let text = JSON.stringify(json);
  while (text.length % 4) text += " ";
  const body = Buffer.from(text, "utf8");
  const header = Buffer.alloc(20);
  header.writeUInt32LE(0x46546c67, 0); // "glTF"
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(20 + body.length, 8);
  header.writeUInt32LE(body.length, 12);
  header.writeUInt32LE(0x4e4f534a, 16); // "JSON"
  return Buffer.concat([header, body]);
}

/** POST /api/v1/media of bytes named name (with an account token, or none); asserts 201 and returns the body. */
export async function uploadBytes(server, name, bytes, token = "") {
  const form = new FormData();
  form.append("media", new Blob([bytes]), name);
  const res = await fetch(`${server.url}/api/v1/media`, { method: "POST", body: form, headers: token ? { authorization: `bearer ${token}` } : {} });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}
