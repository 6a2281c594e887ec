// The stats panel of a webhook (`/webhooks/{id}/stats`) or of the tenant (`/stats`), over
// a window the user picks: tiles of the window's totals, then charts per bucket.

import { get, query } from "./api.js";
import { h, fill, flash } from "./dom.js";
import { onZoneChange } from "./time.js";
import { stackedBars, line, sizeWords } from "./chart.js";
import { percent } from "./health.js";

const MINUTE = 60e3;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// The windows, and the bucket each asks the API for (`bucket`, UTC aligned, at most 1,500
// of them). Chosen so that every window draws a few dozen bars (24–100), never one bar for
// hours nor a thousand hair-thin ones:
//   1 h  → 1m buckets:  60 bars of a minute
//   6 h  → 5m buckets:  72 bars of 5 minutes
//   24 h → 15m buckets: 96 bars of 15 minutes
//   7 d  → 1h buckets (168), merged here four by four: 42 bars of 4 hours (the API has no
//          4h size; 1d would give 7 bars, 1h alone 168 thin ones)
//   30 d → 1d buckets:  30 bars of a day (UTC days)
const WINDOWS = [
  { label: "1h", words: "Last hour", span: HOUR, bucket: "1m", size: MINUTE, merge: 1 },
  { label: "6h", words: "Last 6 hours", span: 6 * HOUR, bucket: "5m", size: 5 * MINUTE, merge: 1 },
  { label: "24h", words: "Last 24 hours", span: DAY, bucket: "15m", size: 15 * MINUTE, merge: 1 },
  { label: "7d", words: "Last 7 days", span: 7 * DAY, bucket: "1h", size: HOUR, merge: 4 },
  { label: "30d", words: "Last 30 days", span: 30 * DAY, bucket: "1d", size: DAY, merge: 1 },
];

/**
 * Buckets merged `n` by n, on boundaries of n × the size counted from the UTC epoch (so
 * that 4 h bars start at 00:00, 04:00, … UTC like the API's own buckets). Counts add up;
 * a merged bar's p95 is the highest p95 among its buckets — the true p95 of the merged
 * bucket cannot be had from the parts, and never exceeds it — and its tooltip says so.
 */
function merge(series, size, n) {
  if (n === 1) return series;
  const out = [];
  for (const b of series) {
    const t = new Date(b.start).getTime();
    const start = new Date(Math.floor(t / (size * n)) * size * n).toISOString();
    let m = out[out.length - 1];
    if (!m || m.start !== start) out.push((m = { start, attempts: 0, succeeded: 0, failed: 0, p95Ms: null }));
    m.attempts += b.attempts;
    m.succeeded += b.succeeded;
    m.failed += b.failed;
    if (b.p95Ms !== null && b.p95Ms !== undefined) m.p95Ms = Math.max(m.p95Ms ?? 0, b.p95Ms);
  }
  return out;
}

const ERROR_WORDS = {
  http_status: "answered with a status other than 2xx",
  timeout: "no answer within the attempt timeout",
  connect: "connection refused or cut",
  dns: "the host name did not resolve",
  tls: "the TLS handshake failed",
  blocked_target: "the address is not allowed (private or reserved)",
  relay_offline: "no hookrelay listen took it in time",
  other: "another error",
};

/** The stats of a webhook or of the tenant, for a window the user picks: `{el, load, stop}`. */
export function statsPanel(path) {
  const pick = h("select", { name: "window" }, WINDOWS.map((w) => h("option", { value: w.label }, w.words)));
  pick.value = "1h";
  const refresh = h("button", { type: "button", class: "secondary" }, "Refresh");
  const body = h("div", { class: "stats-body" });
  const el = h("div", { class: "stats" }, h("div", { class: "toolbar" }, pick, refresh), body);
  let last = null;

  const load = async () => {
    const w = WINDOWS.find((x) => x.label === pick.value);
    // whole minutes, as the API widens the window to them anyway
    const until = Math.ceil(Date.now() / MINUTE) * MINUTE;
    const s = await get(`${path}${query({ since: new Date(until - w.span).toISOString(), until: new Date(until).toISOString(), bucket: w.bucket })}`);
    last = { s, w };
    draw();
  };

  const draw = () => {
    const { s, w } = last;
    const size = w.size * w.merge;
    const series = merge(s.series, w.size, w.merge);
    // the charts are drawn for the width they get (the panel is on the page by now)
    const width = body.clientWidth || el.clientWidth || 900;
    const rt = s.responseTimeMs;
    // attempts without an HTTP answer have no response time (timeouts, refused connections…)
    const unanswered = Object.entries(s.errorsByKind)
      .filter(([kind]) => kind !== "http_status")
      .reduce((sum, [, n]) => sum + n, 0);
    const ms = (v) => (v === null || v === undefined ? "—" : `${v.toLocaleString()} ms`);
    const tile = (label, value, name, title) => h("div", { class: "tile", "data-stat": name, title }, h("span", {}, label), h("strong", {}, value));
    const noLatency = rt.p50 === null || rt.p50 === undefined;
    fill(
      body,
      h(
        "div",
        { class: "tiles" },
        tile("Deliveries", s.deliveries.total, "deliveries", "Deliveries created in this window"),
        tile("Succeeded", s.deliveries.succeeded, "succeeded"),
        tile("Failed", s.deliveries.failed, "failed"),
        tile("Pending", s.deliveries.pending, "pending"),
        tile("Success rate", percent(s.successRate) ?? "—", "successRate", "Succeeded deliveries of those that finished"),
        tile("Attempts", s.attempts, "attempts", "Attempts made in this window, retries included"),
        tile("Attempt success", percent(s.attemptSuccessRate) ?? "—", "attemptSuccessRate"),
        tile(
          "p50 / p95",
          noLatency ? (s.attempts ? "No HTTP answers" : "No attempts") : `${ms(rt.p50)} / ${ms(rt.p95)}`,
          "p50p95",
          "Response times of the attempts that got an HTTP answer",
        ),
      ),
      h("h3", {}, "Attempts over time"),
      h("div", { class: "legend" }, h("span", { class: "swatch ok" }), "succeeded ", h("span", { class: "swatch bad" }), "failed"),
      stackedBars({
        title: "Attempts over time",
        series,
        size,
        width,
        parts: [
          { key: "succeeded", label: "succeeded", class: "ok" },
          { key: "failed", label: "failed", class: "bad" },
        ],
      }),
      h("h3", {}, "Attempt success rate"),
      line({
        title: "Attempt success rate",
        series: series.map((b) => ({ ...b, rate: b.attempts ? Math.round((1000 * b.succeeded) / b.attempts) / 10 : null })),
        key: "rate",
        size,
        width,
        unit: " %",
        yTitle: "% of attempts succeeded",
        percent: true,
        tip: (b) => `${b.rate} % of ${b.attempts} attempts`,
      }),
      h("h3", {}, "p95 response time"),
      latency(series, s, size, width, unanswered, w.merge > 1),
      h("h3", {}, "Errors by kind"),
      Object.keys(s.errorsByKind).length
        ? h(
            "table",
            { class: "compact errors-by-kind" },
            h("tbody", {}, Object.entries(s.errorsByKind).map(([k, n]) => h("tr", {}, h("td", {}, h("code", {}, k)), h("td", {}, ERROR_WORDS[k] ?? ""), h("td", { class: "num" }, n)))),
          )
        : h("p", { class: "empty" }, "No errors in this window."),
      h("p", { class: "hint" }, `Bars of ${sizeWords(size)}. Percentiles are the upper bound of the latency histogram bucket that holds their rank (buckets at most 10 % wide).`),
    );
  };

  const reload = () => load().catch((err) => flash(err.message, "error"));
  pick.addEventListener("change", reload);
  refresh.addEventListener("click", reload);
  // the time labels follow the UTC toggle until `stop` (the view's cleanup: app.js calls
  // it when the page goes, so no listener outlives its panel)
  const stop = onZoneChange(() => {
    if (last && el.isConnected) draw();
  });
  return { el, load, stop };
}

/** The p95 chart, or words where there is nothing to chart: a chart of no points says less. */
function latency(series, s, size, width, unanswered, merged) {
  const note = h(
    "p",
    { class: "hint latency-note" },
    "Response times cover only attempts that got an HTTP answer (any status). Timeouts and connection errors have none",
    unanswered ? `: ${unanswered === 1 ? "1 attempt in this window is" : `${unanswered} attempts in this window are`} not in these figures.` : ".",
  );
  if (!series.some((b) => b.p95Ms !== null && b.p95Ms !== undefined)) {
    const words = s.attempts
      ? `No response times to show: none of the ${s.attempts} ${s.attempts === 1 ? "attempt" : "attempts"} in this window got an HTTP answer (they timed out or could not connect).`
      : "No attempts in this window.";
    return [h("p", { class: "empty no-latency" }, words), note];
  }
  return [
    line({
      title: "p95 response time",
      series,
      key: "p95Ms",
      size,
      width,
      unit: " ms",
      yTitle: "p95 response time (ms)",
      tip: (b) => `p95 ${merged ? "at most " : ""}${b.p95Ms.toLocaleString()} ms${merged ? " (the highest hourly p95)" : ""}, ${b.attempts} attempts`,
    }),
    note,
  ];
}
