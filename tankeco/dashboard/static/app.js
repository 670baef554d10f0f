// tankeco dashboard. Every string that came from a device, the store or the keeper is
// put on the page with textContent (never innerHTML), and never handed to plotly, whose
// labels understand a subset of HTML: legends are our own, hover shows numbers only.
"use strict";

const LABELS = {
  tan_n: "total ammonia (mg N/L)", nh3_n: "free ammonia NH3 (mg N/L)",
  no2_n: "nitrite (mg N/L)", no3_n: "nitrate (mg N/L)", do: "dissolved oxygen (mg/L)",
  ph: "pH", temperature: "temperature (°C)", ec: "conductivity (µS/cm)", tds: "TDS (mg/L)",
};
const ORDER = ["no3_n", "tan_n", "nh3_n", "no2_n", "ph", "do", "temperature", "ec", "tds"];
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];

const charts = {};   // quantity -> {div, legend, traces: {sensor: index}, n}
// the tank of this page (?tank=NAME, from the overview); without it the server's default
const TANK = new URLSearchParams(location.search).get("tank");
let lastState = null;
window.tankeco = { live: 0, lastLive: null, firstPaintMs: null };

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function api(path, params) {
  const q = new URLSearchParams(params || {});
  if (TANK !== null) q.set("tank", TANK);
  const s = q.toString();
  return "api/" + path + (s ? "?" + s : "");
}

async function getJSON(url) {
  const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!r.ok) throw new Error(url + ": " + r.status);
  return r.json();
}

function chartFor(quantity, initial) {
  if (charts[quantity]) return charts[quantity];
  const box = el("div", null, "chart");
  box.id = "chart-" + quantity.replace(/[^a-z0-9_]/gi, "_");
  const div = el("div", null, "plot");
  const legend = el("div", null, "legend");
  box.append(div, legend);
  const holder = document.getElementById("charts");
  // keep a stable order of panels
  const rank = (q) => { const i = ORDER.indexOf(q); return i < 0 ? 99 : i; };
  const after = Array.from(holder.children).find((c) => rank(c.dataset.q) > rank(quantity));
  box.dataset.q = quantity;
  holder.insertBefore(box, after || null);
  const init = initial || { sensors: [], extra: [], shapes: [] };
  const layout = {
    title: { text: LABELS[quantity] || "" },   // fixed labels only, never device text
    margin: { l: 50, r: 15, t: 35, b: 30 },
    xaxis: { type: "date" }, yaxis: { zeroline: false },
    showlegend: false, hovermode: "x", shapes: init.shapes,
  };
  const c = { div, legend, traces: {}, n: 0 };
  const data = [];
  for (const s of init.sensors) {
    const color = COLORS[c.n % COLORS.length];
    data.push(sensorTrace(color, s.t, s.v));
    c.traces[s.sensor] = c.n++;
    addLegend(c, s.sensor, color);
  }
  // one render per chart: sensors, forecast band and shapes together
  Plotly.newPlot(div, data.concat(init.extra), layout,
    { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] });
  charts[quantity] = c;
  return c;
}

function sensorTrace(color, x, y) {
  return { x, y, type: "scatter", mode: "lines", line: { color, width: 1.5 },
    hovertemplate: "%{y:.3f}<extra></extra>", name: "" };
}

function addLegend(c, sensor, color) {
  const item = el("span");
  const sw = el("span", null, "sw");
  sw.style.background = color;
  item.append(sw, el("span", sensor));   // textContent: a sensor name is data
  c.legend.append(item);
}

function traceFor(quantity, sensor) {
  const c = chartFor(quantity);
  if (c.traces[sensor] !== undefined) return [c, c.traces[sensor]];
  const color = COLORS[c.n % COLORS.length];
  // a new sensor goes after the existing sensors, before the forecast traces
  Plotly.addTraces(c.div, sensorTrace(color, [], []), c.n);
  c.traces[sensor] = c.n++;
  addLegend(c, sensor, color);
  return [c, c.traces[sensor]];
}

function renderSeries(data, state) {
  const byQ = {};
  for (const s of data.series) (byQ[s.quantity] = byQ[s.quantity] || []).push(s);
  for (const q of Object.keys(byQ)) {
    const o = overlays(q, state);
    chartFor(q, { sensors: byQ[q], extra: o.traces, shapes: o.shapes });
  }
  overlaySig = signature(state);
}

let overlaySig = null;
function signature(state) {
  return JSON.stringify([state.forecast_computed_ms, state.events.length, Object.keys(charts).length]);
}

function overlays(q, state) {
    const shapes = [];
    const th = state.thresholds[q];
    if (th) {
      shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: th.value, y1: th.value,
        line: { color: "#d62728", dash: "dot", width: 1 } });
    }
    for (const e of state.events) {
      shapes.push({ type: "line", yref: "paper", y0: 0, y1: 1, x0: e.t, x1: e.t,
        line: { color: "#999", width: 1 } });
    }
    const fc = state.forecast[q];
    const traces = [];
    if (fc) {
      traces.push(
        { x: fc.t, y: fc.low, type: "scatter", mode: "lines", line: { width: 0 }, hoverinfo: "skip", name: "" },
        { x: fc.t, y: fc.high, type: "scatter", mode: "lines", fill: "tonexty", fillcolor: "rgba(31,119,180,0.15)", line: { width: 0 }, hoverinfo: "skip", name: "" },
        { x: fc.t, y: fc.median, type: "scatter", mode: "lines", line: { dash: "dash", color: "#1f77b4", width: 1 }, hovertemplate: "forecast %{y:.3f}<extra></extra>", name: "" },
      );
    }
    return { traces, shapes };
}

function renderOverlays(state) {
  // only when the forecast or the events changed: a redraw of every chart costs CPU
  const sig = signature(state);
  if (sig === overlaySig) return;
  overlaySig = sig;
  for (const q of Object.keys(charts)) {
    const c = charts[q];
    const o = overlays(q, state);
    // forecast traces live after the sensors' traces: replace them, one redraw per chart
    Plotly.react(c.div, c.div.data.slice(0, c.n).concat(o.traces),
      Object.assign({}, c.div.layout, { shapes: o.shapes }));
  }
}

function fmtAge(min) {
  if (min === null || min === undefined) return "never";
  if (min < 1) return "just now";
  if (min < 90) return Math.round(min) + " min ago";
  return (min / 60).toFixed(1) + " h ago";
}

function renderState(state) {
  lastState = state;
  document.getElementById("tank").textContent = state.tank || "(no readings yet)";
  const ul = document.getElementById("alerts");
  ul.replaceChildren();
  if (!state.alerts.length) ul.append(el("li", "none", "muted"));
  for (const a of state.alerts) {
    const li = el("li", a.message, a.level);
    li.dataset.code = a.code;
    ul.append(li);
  }
  const cd = document.getElementById("countdown");
  const note = document.getElementById("countdown-note");
  if (state.countdown_d === null || state.countdown_d === undefined) {
    cd.textContent = state.forecast_computed_ms ? "not within 14 days" : "-";
    note.textContent = "days until nitrate passes " + (state.thresholds.no3_n ? state.thresholds.no3_n.value : "") + " mg N/L";
  } else if (state.countdown_d <= 0) {
    cd.textContent = "now";
    note.textContent = "nitrate is above its limit";
  } else {
    cd.textContent = state.countdown_d.toFixed(1) + " days";
    note.textContent = "until nitrate passes its limit (if you change nothing)";
  }
  const tbody = document.querySelector("#sensors tbody");
  tbody.replaceChildren();
  for (const s of state.sensors) {
    const tr = el("tr");
    if (s.age_min !== null && s.age_min > 20) tr.className = "silent";
    tr.append(el("td", s.sensor), el("td", s.quantity || ""), el("td", fmtAge(s.age_min)), el("td", s.status || ""));
    tbody.append(tr);
  }
  const q = state.quarantine;
  document.getElementById("quarantine-count").textContent = q.total + " in total, " + q.last_day + " in the last day";
  const ql = document.getElementById("quarantine");
  ql.replaceChildren();
  for (const r of q.recent) ql.append(el("li", new Date(r.received_ms).toLocaleString() + " " + r.reason + ": " + r.topic));
  const ev = document.getElementById("events");
  ev.replaceChildren();
  for (const e of state.events.slice(-8).reverse()) {
    ev.append(el("li", new Date(e.t).toLocaleString() + " " + e.kind + " " + (e.amount ?? "") + " " + e.unit));
  }
  document.getElementById("forecast-status").textContent = "forecast: " + state.forecast_status +
    (state.forecast_computed_ms ? " (" + new Date(state.forecast_computed_ms).toLocaleTimeString() + ")" : "");
  renderFlow(state.flow_map);
  renderOverlays(state);
}

let flowDrawn = false;
function renderFlow(fm) {
  document.getElementById("flow-note").textContent = fm.note;
  if (flowDrawn) return;
  flowDrawn = true;
  const n = fm.zones.length;
  const x = fm.zones.map((_, i) => ((i + 0.5) * fm.length_cm) / n);
  Plotly.newPlot("flowmap", [{
    z: [fm.zones.map((s) => s * n)], x, y: [fm.width_cm / 2], type: "heatmap", colorscale: "Blues",
    zmin: 0, zmax: 2, hovertemplate: "x %{x:.0f} cm: %{z:.2f} x mean<extra></extra>", showscale: false,
  }], { margin: { l: 30, r: 5, t: 5, b: 42 }, xaxis: { title: { text: "cm along the tank", standoff: 4, font: { size: 11 } } }, yaxis: { visible: false } },
  { displayModeBar: false, responsive: true });
}

function onReadings(items) {
  const byTrace = new Map();
  for (const r of items) {
    const [c, i] = traceFor(r.quantity, r.sensor);
    const key = r.quantity + "\u0000" + i;
    if (!byTrace.has(key)) byTrace.set(key, { c, i, x: [], y: [] });
    const b = byTrace.get(key);
    b.x.push(r.t); b.y.push(r.v);
  }
  for (const b of byTrace.values()) {
    Plotly.extendTraces(b.c.div, { x: [b.x], y: [b.y] }, [b.i]);
  }
  const lastItem = items[items.length - 1];
  window.tankeco.live += items.length;
  window.tankeco.lastLive = lastItem;
  document.getElementById("last").textContent =
    "last reading: " + lastItem.sensor + " " + Number(lastItem.v).toFixed(3) + " at " + new Date(lastItem.t).toLocaleTimeString();
}

function connect() {
  const badge = document.getElementById("conn");
  const es = new EventSource(api("stream"));
  es.onopen = () => { badge.textContent = "live"; badge.className = "badge live"; };
  es.onerror = () => { badge.textContent = "reconnecting"; badge.className = "badge down"; };
  es.addEventListener("readings", (e) => onReadings(JSON.parse(e.data)));
}

async function refreshState() {
  try { renderState(await getJSON(api("state"))); } catch (err) { console.warn(err); }
}

async function main() {
  const hours = new URLSearchParams(location.search).get("hours") || "72";
  const [series, state] = await Promise.all([getJSON(api("series", { hours })), getJSON(api("state"))]);
  renderSeries(series, state);
  renderState(state);
  window.tankeco.firstPaintMs = performance.now();
  document.body.dataset.ready = "1";
  connect();
  setInterval(refreshState, 2000);
}

main().catch((err) => {
  document.getElementById("forecast-status").textContent = "could not load: " + err.message;
});
