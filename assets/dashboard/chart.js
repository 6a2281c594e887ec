// Charts of the stats API's `series`, drawn as SVG (no chart library: two chart kinds
// are all the dashboard needs). Values reach the SVG as numbers and text nodes only.

const NS = "http://www.w3.org/2000/svg";
const W = 640;
const H = 180;
const PAD = { left: 44, right: 8, top: 10, bottom: 22 };

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function frame(title, max, series, unit) {
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title });
  const plotH = H - PAD.top - PAD.bottom;
  for (const f of [0, 0.5, 1]) {
    const y = PAD.top + plotH * (1 - f);
    root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "grid" }));
    root.append(svg("text", { x: PAD.left - 4, y: y + 4, class: "axis", "text-anchor": "end" }, `${round(max * f)}${unit}`));
  }
  if (series.length) {
    const label = (s) => bucketLabel(s.start, series);
    root.append(svg("text", { x: PAD.left, y: H - 6, class: "axis" }, label(series[0])));
    root.append(
      svg("text", { x: W - PAD.right, y: H - 6, class: "axis", "text-anchor": "end" }, label(series[series.length - 1])),
    );
  }
  return root;
}

const round = (v) => (v >= 10 ? Math.round(v) : Math.round(v * 10) / 10);

function bucketLabel(start, series) {
  const d = new Date(start);
  const hourly = series.length > 1 && new Date(series[1].start) - new Date(series[0].start) >= 3600e3;
  return hourly
    ? d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit" })
    : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/**
 * Stacked bars per bucket: `parts` are [{key, label, class}] of the series' fields.
 * The chart carries `data-total` (the sum over all buckets), which tests read.
 */
export function stackedBars(title, series, parts) {
  const totals = series.map((s) => parts.reduce((sum, p) => sum + (s[p.key] || 0), 0));
  const max = Math.max(1, ...totals);
  const root = frame(title, max, series, "");
  root.setAttribute("data-total", totals.reduce((a, b) => a + b, 0));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, series.length);
  series.forEach((s, i) => {
    let y = PAD.top + plotH;
    const tip = [bucketLabel(s.start, series), ...parts.map((p) => `${p.label}: ${s[p.key] || 0}`)].join("\n");
    const g = svg("g", {}, svg("title", {}, tip));
    for (const p of parts) {
      const h = (plotH * (s[p.key] || 0)) / max;
      if (h <= 0) continue;
      y -= h;
      g.append(svg("rect", { x: PAD.left + i * step + step * 0.1, y, width: Math.max(1, step * 0.8), height: h, class: p.class }));
    }
    root.append(g);
  });
  return root;
}

/** A line of one field (null values leave gaps), e.g. p95 response time in ms. */
export function line(title, series, key, unit) {
  const values = series.map((s) => s[key]);
  const max = Math.max(1, ...values.filter((v) => v !== null && v !== undefined));
  const root = frame(title, max, series, unit);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, series.length);
  let d = "";
  let pen = "M";
  values.forEach((v, i) => {
    if (v === null || v === undefined) {
      pen = "M";
      return;
    }
    const x = PAD.left + i * step + step / 2;
    const y = PAD.top + plotH * (1 - v / max);
    d += `${pen}${x.toFixed(1)},${y.toFixed(1)} `;
    pen = "L";
    root.append(svg("circle", { cx: x, cy: y, r: 2.5, class: "point" }, svg("title", {}, `${bucketLabel(series[i].start, series)}: ${v}${unit}`)));
  });
  if (d) root.prepend(svg("path", { d, class: "line" }));
  return root;
}
