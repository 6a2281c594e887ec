// The webhooks list, the tenant's stats and API keys pages, and the parts the pages share
// (a paged table, a secret shown once, delivery and attempt rows). Imports point one way:
// the other page modules import this one, never the other way round.

import { session, get, post, del, query } from "./api.js";
import { h, fill, link, field, flash, copyButton } from "./dom.js";
import { when } from "./time.js";
import { healthBadge, successRate24h } from "./health.js";
import { showError } from "./form.js";
import { statsPanel } from "./stats.js";

// ---------------------------------------------------------------- shared parts

/** A table filled a page at a time from a list route ({data, nextCursor}). */
export function pagedTable(headings, load, row, empty = "Nothing here yet.") {
  const tbody = h("tbody");
  const note = h("p", { class: "empty", hidden: true }, empty);
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  let cursor = null;
  const next = async () => {
    const page = await load(cursor);
    for (const item of page.data) tbody.append(row(item));
    cursor = page.nextCursor;
    more.hidden = !cursor;
    note.hidden = tbody.children.length > 0;
  };
  more.addEventListener("click", () => next().catch((err) => flash(err.message, "error")));
  const el = h("div", { class: "paged" }, h("table", {}, h("thead", {}, h("tr", {}, headings.map((t) => h("th", {}, t)))), tbody), note, more);
  return {
    el,
    next,
    /** Shows an item that arrived live above the rows already shown. */
    prepend(item, keep = 200) {
      tbody.prepend(row(item));
      while (tbody.children.length > keep) tbody.lastChild.remove();
      note.hidden = true;
    },
  };
}

/** A secret or key shown once, with a copy button. */
export function secretBox(label, value) {
  return h("div", { class: "secret" }, h("span", {}, label), h("code", { class: "secret-value" }, value), copyButton(value));
}

export function deliveryStatus(status) {
  return h("span", { class: `badge ${status === "succeeded" ? "ok" : status === "failed" ? "bad" : "warn"}` }, status);
}

/** One attempt (a log row) as a table row; its response and error in a disclosure. */
export function attemptRow(a) {
  const result = a.success
    ? h("span", { class: "badge ok" }, `${a.responseStatus}`)
    : h(
        "span",
        { class: "badge bad", title: a.errorKind === "relay_offline" ? "No hookrelay listen took this delivery within HOOKRELAY_RELAY_HOLD" : null },
        a.responseStatus ? `${a.errorKind} ${a.responseStatus}` : a.errorKind,
      );
  const details = h(
    "details",
    {},
    h("summary", {}, "Details"),
    h(
      "dl",
      {},
      h("dt", {}, "Request URL"),
      h("dd", {}, h("code", {}, a.requestUrl || "—")),
      h("dt", {}, "Delivery"),
      h("dd", {}, link(`/deliveries/${a.deliveryId}`, a.deliveryId)),
      h("dt", {}, "Event"),
      // a portal cannot read events: the id alone there
      h("dd", {}, session.mode === "tenant" ? link(`/events/${a.eventId}`, h("code", {}, a.eventId)) : h("code", {}, a.eventId)),
      a.errorMessage ? [h("dt", {}, "Error"), h("dd", { class: "error-message" }, a.errorMessage)] : null,
      h("dt", {}, "Response body"),
      h("dd", {}, a.responseBody === null || a.responseBody === "" ? "—" : h("pre", { class: "response-body" }, a.responseBody)),
    ),
  );
  return h(
    "tr",
    { class: "attempt", "data-id": a.id },
    h("td", {}, when(a.createdAt)),
    h("td", {}, a.eventType, a.test ? h("span", { class: "badge" }, "test") : null),
    h("td", {}, `#${a.attempt}`),
    h("td", {}, result),
    h("td", {}, `${a.durationMs} ms`),
    h("td", {}, details),
  );
}
export const ATTEMPT_HEADINGS = ["Time", "Event", "Attempt", "Result", "Duration", ""];

// ---------------------------------------------------------------- pages

export async function webhooks(el) {
  const consumer = h("input", { name: "consumerId", placeholder: "Filter by consumer id" });
  const list = h("div");
  const load = async () => {
    const table = pagedTable(
      // health at a glance: state in colour and words, the last 24 h, the last attempt
      ["Name", "URL", "Events", "Consumer", "Health", "Last 24 h", "Last attempt"],
      (cursor) => get(`/webhooks${query({ consumerId: consumer.value, cursor })}`),
      (w) =>
        h(
          "tr",
          { class: "webhook", "data-id": w.id },
          h("td", {}, link(`/webhooks/${w.id}`, w.name)),
          h("td", {}, w.kind === "relay" ? [h("span", { class: "badge info" }, "relay"), " · ", h("code", {}, "hookrelay listen")] : h("code", {}, w.url)),
          h("td", {}, w.events.join(", ")),
          h("td", {}, w.consumerId ?? "—"),
          h("td", { class: "health-cell" }, healthBadge(w)),
          h("td", {}, successRate24h(w)),
          h("td", {}, when(w.health?.lastAttemptAt)),
        ),
      "No webhooks yet: add an endpoint to receive events.",
    );
    fill(list, table.el);
    await table.next();
  };
  consumer.addEventListener("change", () => load().catch((err) => flash(err.message, "error")));
  fill(
    el,
    h("div", { class: "title" }, h("h1", {}, "Webhooks"), link("/webhooks/new", h("span", { class: "button" }, "New webhook"))),
    session.mode === "tenant" ? h("div", { class: "toolbar" }, consumer) : null,
    list,
  );
  await load();
}

/** The tenant's stats; returns the panel's cleanup (app.js calls it when the page goes). */
export async function tenantStats(el) {
  const panel = statsPanel("/stats");
  fill(el, h("h1", {}, "Stats of all webhooks"), panel.el);
  try {
    await panel.load();
  } catch (err) {
    panel.stop();
    throw err;
  }
  return panel.stop;
}

export async function apiKeys(el) {
  const name = h("input", { name: "name", required: true, placeholder: "e.g. billing backend" });
  const scope = h("select", { name: "scope" }, h("option", { value: "all" }, "all: every route"), h("option", { value: "publish" }, "publish: only publishing events"));
  const shown = h("div");
  const list = h("div");
  const load = async () => {
    const table = pagedTable(
      ["Name", "Prefix", "Scope", "Created", "Last used", ""],
      (cursor) => get(`/api-keys${query({ cursor })}`),
      (k) => {
        const revoke = h("button", { type: "button", class: "danger" }, "Revoke");
        revoke.addEventListener("click", async () => {
          if (!confirm(`Revoke the key ${k.name}? Servers using it are refused from now on.`)) return;
          try {
            await del(`/api-keys/${k.id}`);
            flash(`Key ${k.name} revoked.`);
            await load();
          } catch (err) {
            showError(err);
          }
        });
        return h("tr", { class: "api-key" }, h("td", {}, k.name), h("td", {}, h("code", {}, k.prefix)), h("td", {}, k.scope), h("td", {}, when(k.createdAt)), h("td", {}, when(k.lastUsedAt)), h("td", {}, revoke));
      },
      "No API keys yet.",
    );
    fill(list, table.el);
    await table.next();
  };
  const form = h("form", { class: "card toolbar" }, field("Name", name), field("Scope", scope), h("button", { type: "submit" }, "Create key"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const k = await post("/api-keys", { name: name.value, scope: scope.value });
      fill(shown, secretBox("Copy this key now: it is shown only once.", k.key));
      name.value = "";
      await load();
    } catch (err) {
      showError(err, form);
    }
  });
  fill(el, h("h1", {}, "API keys"), form, shown, list);
  await load();
}
