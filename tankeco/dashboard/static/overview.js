// tankeco overview of every tank. Tank names, sensor names and alert texts come from the
// store: they are put on the page with textContent only (never innerHTML), and a tank's
// link is built with encodeURIComponent, so no name can become markup or a URL scheme.
"use strict";

const WORDS = { alarm: "alarm", warning: "warning", silent: "silent", ok: "ok", "no readings": "no readings" };
const REFRESH_MS = 5000;
window.tankeco = { firstPaintMs: null, rows: 0 };

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function statusClass(status) {
  return status.replace(/[^a-z]+/g, "-");
}

function fmtAge(min) {
  if (min === null || min === undefined) return "never";
  if (min < 1) return "just now";
  if (min < 90) return Math.round(min) + " min ago";
  if (min < 48 * 60) return (min / 60).toFixed(1) + " h ago";
  return (min / 1440).toFixed(1) + " days ago";
}

function forecastText(f, limit) {
  if (f.status === "ok") {
    if (f.countdown_d === null || f.countdown_d === undefined) return "stays below " + limit + " mg N/L for 14 days";
    if (f.countdown_d <= 0) return "above " + limit + " mg N/L now";
    return "passes " + limit + " mg N/L in " + f.countdown_d.toFixed(1) + " days";
  }
  if (f.status === "queued") return "queued";
  if (f.status === "computing") return "computing";
  return "none: " + f.status;
}

function row(t, limit) {
  const tr = el("tr", null, "row-" + statusClass(t.status));
  tr.dataset.tank = t.tank;
  const st = el("td");
  st.append(el("span", WORDS[t.status] || t.status, "st st-" + statusClass(t.status)));
  const name = el("td", null, "tank");
  const a = el("a", t.tank);
  a.href = "./?tank=" + encodeURIComponent(t.tank);
  name.append(a);
  if (t.sites.length) name.append(el("span", " · " + t.sites.join(", "), "note"));
  const when = el("td", fmtAge(t.age_min), "when num");
  if (t.last_reading_ms) {
    const d = new Date(t.last_reading_ms);
    when.append(el("span", " · " + (t.age_min < 720 ? d.toLocaleTimeString() : d.toLocaleString()), "note"));
  }
  const top = t.top_alert;
  const alert = el("td", null, "alert " + (top ? top.level : "muted"));
  const msg = el("div", top ? top.message : "none", "msg");
  if (top) msg.title = top.message;   // the whole text on hover; two lines shown
  alert.append(msg);
  if (t.alerts > 1) alert.append(el("div", "+ " + (t.alerts - 1) + " more on the tank's page", "note"));
  const no3 = el("td", t.no3_n ? Number(t.no3_n.value).toFixed(1) + " mg N/L" : "-", "num");
  if (t.no3_n && t.no3_n.value > limit) {   // the reading itself, before any forecast
    no3.append(el("div", "above the " + limit + " limit", "over"));
  }
  const fc = el("td", forecastText(t.forecast, limit), t.forecast.status === "ok" ? "" : "muted");
  const sensors = el("td", t.sensors + (t.silent ? " (" + t.silent + " silent)" : ""), "num");
  tr.append(st, name, when, alert, no3, fc, sensors);
  return tr;
}

function render(data) {
  const summary = document.getElementById("summary");
  summary.replaceChildren(el("span", data.tanks.length + " tanks:"));
  for (const [status, n] of Object.entries(data.counts)) {
    if (n) summary.append(el("span", n + " " + (WORDS[status] || status), "st st-" + statusClass(status)));
  }
  const tbody = document.querySelector("#tanks tbody");
  tbody.replaceChildren(...data.tanks.map((t) => row(t, data.no3_limit_mg_l)));
  document.getElementById("forecast-progress").textContent =
    "nitrate forecasts: " + data.forecasts_ready + " of " + data.tanks.length +
    " tanks computed (one at a time in the background; a tank whose page is open goes first)";
  document.getElementById("updated").textContent = "updated " + new Date(data.now_ms).toLocaleTimeString();
  window.tankeco.rows = data.tanks.length;
}

async function refresh() {
  const badge = document.getElementById("conn");
  try {
    const r = await fetch("api/overview", { credentials: "same-origin", cache: "no-store" });
    if (!r.ok) throw new Error("api/overview: " + r.status);
    render(await r.json());
    badge.textContent = "live"; badge.className = "badge live";
  } catch (err) {
    badge.textContent = "reconnecting"; badge.className = "badge down";
    console.warn(err);
  }
}

async function main() {
  await refresh();
  window.tankeco.firstPaintMs = performance.now();
  document.body.dataset.ready = "1";
  setInterval(refresh, REFRESH_MS);
}

main();
