import { test } from "node:test";
import assert from "node:assert/strict";
import { plotSeries, timeline } from "../../src/cost/series.js";

const charts = [
  { topology: { label: "Personal" }, rows: [
    { server: "t3.micro", ccu_min: 0, ccu_max: 0, usd_per_hour: 0.024 },
    { server: "t3.medium", ccu_min: 20, ccu_max: 40, usd_per_hour: 0.056 },
    { server: "c4.large", ccu_min: 40, ccu_max: 80, usd_per_hour: 0.2 },
    { server: "c5.large", ccu_min: 40, ccu_max: 80, usd_per_hour: 0.185 },
  ] },
  { topology: { label: "2x2" }, rows: [{ server: "c5.large", ccu_min: 240, ccu_max: 400, usd_per_hour: 0.74 }] },
];

test("cost against people: unrated rows skipped, cheapest type per capacity, series aligned on x", () => {
  const { labels, data } = plotSeries(charts, "active", 8, 5);
  assert.deepEqual(labels, ["Personal", "2x2"]);
  assert.deepEqual(data[0], [20, 40, 240]);
  assert.deepEqual(data[1], [2.24, 7.4, null]); // 8 h × $0.185 × 5 beats c4.large's $0.2
  assert.deepEqual(data[2], [null, null, 29.6]);
  assert.deepEqual(plotSeries(charts, "inactive", 8, 5).data[0], [40, 80, 400]);
});

test("spend over time accumulates setup, off-time, then the event", () => {
  const lines = [
    { name: "setup", hours: 16, usd: 2.69 },
    { name: "off-time", hours: 30, usd: 0 },
    { name: "top capacity, min", hours: 8, usd: 18.72 },
    { name: "top capacity, max", hours: 8, usd: 31.2 },
  ];
  const { labels, data } = timeline({}, lines);
  assert.equal(labels.length, 4);
  const [xs, setup, off, low, high] = data;
  assert.equal(xs[0], 0);
  assert.equal(xs.at(-1), 54);
  assert.equal(setup[12], 2.69);
  assert.equal(off[13], 2.69); // off-time starts where setup ended
  assert.equal(low.at(-1), 21.41);
  assert.equal(high.at(-1), 33.89);
  for (let i = 1; i < xs.length; i++) assert.ok(xs[i] >= xs[i - 1], "time runs forward");
});
