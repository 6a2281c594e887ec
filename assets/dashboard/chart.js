// Charts of the stats API's `series`, drawn as SVG (no chart library: stacked bars and a
// line are all the dashboard needs). Values reach the SVG as numbers and text nodes only;
// looks come from classes in style.css and SVG attributes (the CSP allows no inline style).
//
// Each chart is drawn for the width its container has (`width`, in CSS pixels), so that
// text keeps its size, and scales with the page through its viewBox after that.
//
// Times are in the zone the page shows (time.js: the browser's, or UTC on the toggle),
// except for buckets of a day or more: the API's days start at 00:00 UTC, so their labels
// are UTC dates (a local date would name the wrong day west of UTC) and the axis says so.

import { utcMode, zoneName } from "./time.js";

const NS = "http://www.w3.org/2000/svg";
const H = 230;
const PAD = { left: 64, right: 14, top: 14, bottom: 48 };

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const MINUTE = 60e3;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A bucket size in words: "1 minute", "15 minutes", "4 hours", "1 day". */
export function sizeWords(ms) {
  const [n, unit] = ms % DAY === 0 ? [ms / DAY, "day"] : ms % HOUR === 0 ? [ms / HOUR, "hour"] : [ms / MINUTE, "minute"];
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/** The short form for an axis title: "5 min", "1 h", "4 h", "1 day". */
const sizeShort = (ms) => (ms % DAY === 0 ? `${ms / DAY} day` : ms % HOUR === 0 ? `${ms / HOUR} h` : `${ms / MINUTE} min`);

/** True when labels of buckets of `size` are in UTC: day buckets always, else on the toggle. */
const inUtc = (size) => size >= DAY || utcMode();

/** Wall-clock parts of `d`, in UTC or in the browser's zone. */
function clock(d, utc) {
  return {
    minutes: utc ? d.getUTCHours() * 60 + d.getUTCMinutes() : d.getHours() * 60 + d.getMinutes(),
    day: utc ? d.toISOString().slice(0, 10) : `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`,
    time: d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: utc ? "UTC" : undefined }),
    date: d.toLocaleDateString([], { month: "short", day: "numeric", timeZone: utc ? "UTC" : undefined }),
  };
}

/** Round numbers for an axis up to `max`: about five ticks of 1, 2 or 5 × 10^k. */
function niceTicks(max, integers) {
  if (max <= 0) return [0, 1];
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  if (integers) step = Math.max(1, Math.ceil(step));
  const ticks = [];
  for (let v = 0; v < max + step; v += step) ticks.push(Math.round(v * 1000) / 1000);
  return ticks;
}

// The steps between time labels, smallest first; the chart takes the first that gives at
// most about eight labels, so a 1 h window is labelled every 10 minutes, 24 h every 3 hours.
const LABEL_STEPS = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MINUTE);

/** Which buckets get a time label: those whose start falls on a round step of the clock. */
function labelled(series, size) {
  const n = series.length;
  const span = n * size;
  const step = LABEL_STEPS.find((s) => s >= size && span / s <= 8);
  const picks = [];
  if (step && step < DAY) {
    series.forEach((b, i) => {
      if (clock(new Date(b.start), inUtc(size)).minutes % (step / MINUTE) === 0) picks.push(i);
    });
  }
  // day-sized (or larger) buckets, or a zone whose offset puts no bucket on a round time:
  // every k-th bucket
  if (picks.length < 3) {
    picks.length = 0;
    const every = Math.max(1, Math.ceil(n / 8));
    for (let i = 0; i < n; i += every) picks.push(i);
  }
  return picks;
}

/** The frame: size, grid, y ticks with their unit, time labels, axis titles. */
function frame({ title, width, max, ticks, tickText, yTitle, series, size }) {
  const W = Math.max(360, Math.round(width || 900));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title, "data-buckets": series.length, "data-max": max });
  const y = (v) => PAD.top + plotH * (1 - v / max);
  const axis = svg("g", { class: "y-axis" });
  for (const t of ticks) {
    axis.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(t), y2: y(t), class: t === 0 ? "baseline" : "grid" }));
    axis.append(svg("text", { x: PAD.left - 6, y: y(t) + 4, class: "axis tick", "text-anchor": "end" }, tickText(t)));
  }
  // the y axis' title, turned to run along it
  axis.append(svg("text", { x: -(PAD.top + plotH / 2), y: 14, transform: "rotate(-90)", class: "axis axis-title", "text-anchor": "middle" }, yTitle));
  root.append(axis);
  const step = plotW / Math.max(1, series.length);
  const xAxis = svg("g", { class: "x-axis" });
  let lastDay = null;
  for (const i of labelled(series, size)) {
    const d = new Date(series[i].start);
    const c = clock(d, inUtc(size));
    const x = PAD.left + i * step;
    xAxis.append(svg("line", { x1: x, x2: x, y1: PAD.top + plotH, y2: PAD.top + plotH + 4, class: "tickmark" }));
    // a date under the time where the day changes (and under the first label); days alone for day-sized buckets
    const text = svg("text", { x, y: PAD.top + plotH + 15, class: "axis tick", "text-anchor": i === 0 ? "start" : "middle" });
    if (size >= DAY) text.append(c.date);
    else {
      text.append(c.time);
      if (c.day !== lastDay) text.append(svg("tspan", { x, dy: 12 }, c.date));
    }
    lastDay = c.day;
    xAxis.append(text);
  }
  xAxis.append(svg("text", { x: PAD.left + plotW / 2, y: H - 4, class: "axis axis-title", "text-anchor": "middle" }, `Time (${size >= DAY ? "UTC days" : zoneName()}) · one bar = ${sizeWords(size)}`));
  root.append(xAxis);
  return { root, W, plotW, plotH, step, y };
}

/** A bucket's time span for tooltips: "Dec 7, 14:00–14:15". */
function spanText(b, size) {
  const utc = inUtc(size);
  const from = clock(new Date(b.start), utc);
  const to = clock(new Date(new Date(b.start).getTime() + size), utc);
  return size >= DAY ? `${from.date} (UTC day)` : `${from.date}, ${from.time}–${to.time}`;
}

/**
 * Stacked bars per bucket: `parts` are [{key, label, class}] of the series' fields, `size`
 * the bucket's length in ms. The chart carries `data-total` (the sum over all buckets).
 */
export function stackedBars({ title, series, parts, size, width, noun = "attempts" }) {
  const totals = series.map((s) => parts.reduce((sum, p) => sum + (s[p.key] || 0), 0));
  const ticks = niceTicks(Math.max(1, ...totals), true);
  const max = ticks[ticks.length - 1];
  const f = frame({ title, width, max, ticks, tickText: (t) => t.toLocaleString(), yTitle: `${noun} per ${sizeShort(size)}`, series, size });
  f.root.setAttribute("data-total", totals.reduce((a, b) => a + b, 0));
  const bars = svg("g", { class: "bars" });
  series.forEach((s, i) => {
    let top = f.y(0);
    const tip = [spanText(s, size), ...parts.map((p) => `${p.label}: ${s[p.key] || 0}`)].join("\n");
    const g = svg("g", {}, svg("title", {}, tip));
    // an invisible full-height column, so that the tooltip shows wherever the pointer is
    g.append(svg("rect", { x: PAD.left + i * f.step, y: PAD.top, width: f.step, height: f.plotH, class: "hover" }));
    for (const p of parts) {
      const v = s[p.key] || 0;
      if (v <= 0) continue;
      const height = f.y(0) - f.y(v);
      top -= height;
      g.append(svg("rect", { x: PAD.left + i * f.step + f.step * 0.12, y: top, width: Math.max(1, f.step * 0.76), height, class: p.class }));
    }
    bars.append(g);
  });
  f.root.append(bars);
  return f.root;
}

/**
 * A line of one field per bucket (null values leave gaps). `percent`: the field is 0..100
 * and the axis is fixed at 0–100 %, so that two windows' rates compare at a glance.
 */
export function line({ title, series, key, size, width, unit, yTitle, percent = false, tip }) {
  const values = series.map((s) => s[key]);
  const known = values.filter((v) => v !== null && v !== undefined);
  const ticks = percent ? [0, 25, 50, 75, 100] : niceTicks(Math.max(1, ...known), false);
  const max = ticks[ticks.length - 1];
  const f = frame({ title, width, max, ticks, tickText: (t) => `${t.toLocaleString()}${unit}`, yTitle, series, size });
  const points = svg("g", { class: "points" });
  let d = "";
  let pen = "M";
  values.forEach((v, i) => {
    if (v === null || v === undefined) {
      pen = "M";
      return;
    }
    const x = PAD.left + i * f.step + f.step / 2;
    const y = f.y(v);
    d += `${pen}${x.toFixed(1)},${y.toFixed(1)} `;
    pen = "L";
    const words = tip ? tip(series[i]) : `${v.toLocaleString()}${unit}`;
    points.append(svg("circle", { cx: x, cy: y, r: series.length > 120 ? 1.6 : 2.6, class: "point" }, svg("title", {}, `${spanText(series[i], size)}: ${words}`)));
  });
  if (d) f.root.append(svg("path", { d, class: "line" }));
  f.root.append(points);
  f.root.setAttribute("data-points", known.length);
  return f.root;
}
