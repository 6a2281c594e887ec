// A webhook's health at a glance (SPEC "Endpoint health", "Health at a glance"): the
// state the server computes (`w.health`), in colour AND words, and its last 24 h — in
// the webhooks list (the portal's too) and in the webhook page's header.

import { h } from "./dom.js";
import { when } from "./time.js";

// The badge class (colour) of each state; the words are in `healthBadge`.
const COLOUR = { failing: "bad", degraded: "warn", healthy: "ok", idle: "idle", disabled: "off" };

/**
 * The health state as a badge: "Failing since <time>", "Degraded", "Healthy", "Idle",
 * "Disabled (failing)" or "Disabled (manual)", and "Paused" while the receiver asked to
 * wait (a 429/503 with Retry-After). `data-state` carries the API's state for tests.
 */
export function healthBadge(w) {
  const health = w.health ?? { state: w.active ? "idle" : "disabled" };
  const state = health.state;
  const badge = (words, title) => h("span", { class: `badge health ${COLOUR[state] ?? ""}`, "data-state": state, title }, ...words);
  let shown;
  switch (state) {
    case "failing":
      shown = badge(
        ["Failing since ", when(health.failingSince)],
        "Deliveries have ended failed and no attempt has succeeded since: check the endpoint, then retry or recover the failed deliveries",
      );
      break;
    case "degraded":
      shown = badge(["Degraded"], "Over the last 15 minutes (at least 20 attempts): under 50 % of attempts succeeded, or the p95 response time is over 10 s");
      break;
    case "healthy":
      shown = badge(["Healthy"], "Attempts in the last 24 hours, and none of the failing or degraded rules holds");
      break;
    case "idle":
      shown = badge(["Idle"], "No attempt in the last 24 hours");
      break;
    case "disabled":
      // `disabledReason` says who turned it off: hookrelay (auto-disable) or its owner
      shown = badge(
        [w.disabledReason === "failing" ? "Disabled (failing)" : "Disabled (manual)"],
        w.disabledReason === "failing"
          ? "hookrelay turned it off after its deliveries kept failing: activate it once the endpoint works; pending deliveries wait until then"
          : "Turned off by its owner: pending deliveries wait until it is active again",
      );
      break;
    default:
      shown = badge([state]);
  }
  const paused = w.active && w.pausedUntil && new Date(w.pausedUntil) > new Date();
  return paused ? [shown, h("span", { class: "badge warn paused", title: "The receiver asked hookrelay to wait (429 or 503 with Retry-After)" }, "Paused until ", when(w.pausedUntil))] : shown;
}

/** A 0..1 rate as a percentage ("97.5 %"), or null. */
export function percent(rate) {
  return rate === null || rate === undefined ? null : `${Math.round(rate * 1000) / 10} %`;
}

/** The last 24 h in words: "97.5 % of 40 attempts", or "No attempts". */
export function successRate24h(w) {
  const health = w.health;
  if (!health || !health.attempts24h) return h("span", { class: "hint rate-24h" }, "No attempts");
  const rate = health.successRate24h;
  const colour = rate === null ? "" : rate >= 0.99 ? "ok" : rate >= 0.5 ? "warn" : "bad";
  return h(
    "span",
    { class: `rate-24h ${colour}`, title: "Share of attempts in the last 24 hours that got a 2xx answer" },
    percent(rate) ?? "—",
    h("small", {}, ` of ${health.attempts24h} ${health.attempts24h === 1 ? "attempt" : "attempts"}`),
  );
}

/** The line under the webhook page's title: 24 h success, last attempt, last success. */
export function healthLine(w) {
  const health = w.health ?? {};
  return h(
    "p",
    { class: "health-line" },
    h("span", {}, "Last 24 h: ", successRate24h(w)),
    h("span", {}, "Last attempt: ", when(health.lastAttemptAt)),
    h("span", {}, "Last success: ", when(health.lastSuccessAt)),
  );
}
