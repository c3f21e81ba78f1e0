// Text on the canvas panels (name tags, speaker and link panels): cut short with "…" to fit.

import { test } from "node:test";
import assert from "node:assert/strict";

import { fitText } from "../../src/room/objects/render.js";

// A context whose every character is 10 px wide (the "…" too), as measureText reports it.
const ctx = { measureText: (s) => ({ width: [...s].length * 10 }) };

test("text that fits is drawn whole; longer text is cut to the width with an ellipsis", () => {
  assert.equal(fitText(ctx, "Ada Lovelace", 120), "Ada Lovelace");
  const cut = fitText(ctx, "Ada Lovelace of the Analytical Engine", 120);
  assert.equal(cut, "Ada Lovelac…");
  assert.ok(ctx.measureText(cut).width <= 120, cut);
  assert.equal(fitText(ctx, "Bob", 5), "…", "one character left gives way to the ellipsis");
});
