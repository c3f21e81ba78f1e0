// The /cost page: the planner of `toncon cost` (served by /api/v1/cost) with charts, and this server's usage meter.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./cost.css";
import { api } from "../shared/api.js";
import { plotSeries, timeline } from "./series.js";

const $ = (sel) => document.querySelector(sel);
const form = $("#plan");
let charts = null;
let plots = [];

function money(x) {
  return `$${Number(x).toFixed(2)}`;
}

async function loadUsage() {
  try {
    const u = await api("/api/v1/usage");
    const state = u.offline ? `offline (${u.offline_reason})` : u.idle ? "idle" : "online";
    const budget = u.monthly_budget_usd > 0 ? ` of a ${money(u.monthly_budget_usd)} budget` : "";
    const price = u.cost_per_hour_usd > 0 ? `` : ` (set cost_per_hour_usd with toncon admin to estimate spend)`;
    $("#usage-body").textContent =
      `${u.users_now} connected now, ${state}. This month (${u.month}): ${u.user_hours.toFixed(1)} user-hours, ` +
      `${u.server_hours.toFixed(1)} server-hours, estimated spend ${money(u.estimated_spend_usd)}${budget}${price}.`;
  } catch (err) {
    $("#usage-body").textContent = `The usage meter is not available: ${err.message}`;
  }
}

function fillServers() {
  const names = charts.charts[0].rows.map((r) => r.server);
  for (const sel of document.querySelectorAll("[data-servers]")) {
    for (const n of names) sel.append(new Option(n, n));
  }
  form.setup_server.value = "t3.medium";
}

function planFromForm() {
  const f = form.elements;
  const num = (el) => Number(el.value);
  return {
    ccu: num(f.ccu), activity: f.activity.value, hours_per_day: num(f.hours_per_day), days: num(f.days),
    setup_hours: num(f.setup_hours), setup_server: f.setup_server.value, off_hours: num(f.off_hours),
    off_server: f.setup_server.value, topology: f.topology.value, server: f.server.value,
    scalars: { top_min: num(f.top_min), top_max: num(f.top_max), setup: num(f.setup_scalar), off: num(f.off_scalar) },
    measured: f.measured.checked,
  };
}

function showResult(res) {
  const c = res.choice;
  $("#choice").textContent = `${c.topology.label}, ${c.server}: ${c.vcpu} vCPU, holds ${c.holds} people, ` +
    `${money(c.usd_per_hour)}/h for ${c.topology.servers === 1 ? "the server" : `all ${c.topology.servers} servers`} ` +
    `(capacity from ${res.capacity_source}).`;
  const f = res.figures;
  $("#figures").innerHTML = "";
  for (const [label, v] of [["Top capacity", `${money(f.top_capacity_min)} – ${money(f.top_capacity_max)}`],
    ["Setup", money(f.setup)], ["Off-time", money(f.off_time)], ["Base (setup + off-time)", money(f.base)],
    ["Total", `${money(f.total_min)} – ${money(f.total_max)}`]]) {
    const tr = $("#figures").insertRow();
    tr.insertCell().textContent = label;
    tr.insertCell().textContent = v;
  }
  $("#lines").replaceChildren(...res.lines.map((l) => Object.assign(document.createElement("li"), { textContent: `${l.name}: ${l.formula}` })));
  const seed = res.seed_method;
  $("#seed-method").textContent = seed
    ? `The seed's own worked example would price this at ${money(seed.figures.total_min)} – ${money(seed.figures.total_max)}: ${seed.explanation}`
    : "";
  $("#notes").replaceChildren(...[...(res.warnings || []), ...(res.notes || [])].map((n) => Object.assign(document.createElement("li"), { textContent: n })));
  $("#result").hidden = false;
}

function draw(plan, res) {
  for (const p of plots) p.destroy();
  plots = [];
  const width = Math.min(900, document.body.clientWidth - 32);
  const users = plotSeries(charts.charts, plan.activity, plan.hours_per_day * plan.days, plan.scalars.top_max);
  plots.push(new uPlot({
    width, height: 320,
    scales: { x: { time: false, distr: 3 } }, // log: server sizes span 10 to 46,000 people
    axes: [{ label: "people held" }, { label: "event top capacity ($)", size: 70 }],
    series: [{ label: "people" }, ...users.labels.map((label, i) => ({
      label, stroke: ["#3b5bdb", "#e8590c", "#2b8a3e", "#862e9c"][i % 4], width: 2, spanGaps: true,
      points: { show: true, size: 7 },
    }))],
  }, users.data, $("#chart-users")));
  const t = timeline(plan, res.lines);
  plots.push(new uPlot({
    width, height: 280,
    scales: { x: { time: false } },
    axes: [{ label: "hours from the start of setup" }, { label: "spent so far ($)", size: 70 }],
    series: [{ label: "hour" }, ...t.labels.map((label, i) => ({
      label, stroke: ["#868e96", "#adb5bd", "#3b5bdb", "#c92a2a"][i % 4], width: 2, fill: i >= 2 ? undefined : "#868e9622",
    }))],
  }, t.data, $("#chart-time")));
}

async function estimate(ev) {
  ev?.preventDefault();
  $("#plan-error").textContent = "";
  const plan = planFromForm();
  try {
    if (plan.measured) charts = await api("/api/v1/cost/charts?measured=true");
    const res = await api("/api/v1/cost/estimate", { method: "POST", body: JSON.stringify(plan) });
    showResult(res);
    draw(plan, res);
  } catch (err) {
    $("#plan-error").textContent = err.message;
    $("#result").hidden = true;
  }
}

async function main() {
  loadUsage();
  setInterval(loadUsage, 30000);
  try {
    charts = await api("/api/v1/cost/charts");
  } catch (err) {
    $("#plan-error").textContent = `Could not load the cost charts: ${err.message}`;
    return;
  }
  $("#formula").textContent = charts.formula;
  $("#measured-label").hidden = !charts.measured;
  fillServers();
  form.addEventListener("submit", estimate);
  estimate();
}

main();
