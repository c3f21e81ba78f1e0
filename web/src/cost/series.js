// Chart data for the /cost page, kept free of the DOM so it can be unit tested.

/**
 * Points for "cost against people": one series per layout, each point a rated server type at (people it holds,
 * the event's top-capacity cost on it). uPlot wants one shared x axis, so the series are merged on the union of
 * their x values with nulls where a series has no point.
 */
export function plotSeries(charts, activity, eventHours, scalar) {
  const key = activity === "inactive" ? "ccu_max" : "ccu_min";
  const perSeries = charts.map((c) => {
    const pts = new Map();
    for (const r of c.rows) {
      if (!r[key]) continue; // not rated (t3.micro)
      const usd = eventHours * r.usd_per_hour * scalar;
      const prev = pts.get(r[key]);
      if (prev === undefined || usd < prev) pts.set(r[key], usd); // the cheapest type for that capacity
    }
    return pts;
  });
  const xs = [...new Set(perSeries.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  return {
    labels: charts.map((c) => c.topology.label),
    data: [xs, ...perSeries.map((m) => xs.map((x) => (m.has(x) ? Math.round(m.get(x) * 100) / 100 : null)))],
  };
}

/**
 * The event's spend over time: setup, then off-time, then the event days, accumulating. One series per state,
 * plus the high estimate for the event days.
 */
export function timeline(plan, lines) {
  const byName = Object.fromEntries(lines.map((l) => [l.name, l]));
  const setup = byName["setup"] || { hours: 0, usd: 0 };
  const off = byName["off-time"] || { hours: 0, usd: 0 };
  const topMin = byName["top capacity, min"] || { hours: 0, usd: 0 };
  const topMax = byName["top capacity, max"] || { hours: 0, usd: 0 };
  const steps = 12;
  const xs = [];
  const series = [[], [], [], []];
  const push = (x, vals) => {
    xs.push(Math.round(x * 100) / 100);
    vals.forEach((v, i) => series[i].push(v === null ? null : Math.round(v * 100) / 100));
  };
  const span = (start, hours, from, usd, slot, alsoMax) => {
    for (let i = 0; i <= steps; i++) {
      const f = i / steps;
      const vals = [null, null, null, null];
      vals[slot] = from + usd * f;
      if (alsoMax) vals[3] = from + alsoMax * f;
      push(start + hours * f, vals);
    }
  };
  span(0, setup.hours, 0, setup.usd, 0);
  span(setup.hours, off.hours, setup.usd, off.usd, 1);
  const base = setup.usd + off.usd;
  span(setup.hours + off.hours, topMin.hours, base, topMin.usd, 2, topMax.usd);
  return { labels: ["setup", "off-time", "event (low)", "event (high)"], data: [xs, ...series] };
}
