// The pages of the dashboard and the parts they share (tables of webhooks, deliveries
// and attempts, the stats panel, the webhook form).

import { session, get, post, del, query, stream, ApiError } from "./api.js";
import { h, fill, link, field, flash, when, shortId } from "./dom.js";
import { stackedBars, line } from "./chart.js";

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

/** Reports an API error: in the flash, and beside the fields a 422 names. */
export function showError(err, form) {
  if (form) for (const old of form.querySelectorAll(".field-error")) old.remove();
  if (form && err instanceof ApiError && err.errors.length) {
    for (const { field: name, message } of err.errors) {
      const input = form.querySelector(`[name="${CSS.escape(name.split(/[.[]/)[0])}"]`);
      const note = h("small", { class: "field-error" }, `${name} ${message}`);
      if (input) input.after(note);
    }
    flash(err.errors.map((e) => `${e.field} ${e.message}`).join("; "), "error");
  } else {
    flash(err.message, "error");
  }
}

/** A secret or key shown once, with a copy button. */
export function secretBox(label, value) {
  const copy = h("button", { type: "button", class: "secondary" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(value);
      flash("Copied.");
    } catch {
      flash("The browser refused the clipboard: select the text and copy it.", "error");
    }
  });
  return h("div", { class: "secret" }, h("span", {}, label), h("code", { class: "secret-value" }, value), copy);
}

export function webhookState(w) {
  if (w.active && w.pausedUntil && new Date(w.pausedUntil) > new Date())
    return h("span", { class: "badge warn", title: `Receiver asked to wait until ${w.pausedUntil}` }, "paused");
  if (w.active) return h("span", { class: "badge ok" }, "active");
  return h("span", { class: "badge bad", title: w.disabledAt ? `since ${w.disabledAt}` : null }, w.disabledReason === "failing" ? "disabled: failing" : "inactive");
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
      h("dd", {}, h("code", {}, a.eventId)),
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

/** The stats of a webhook or of the tenant, for a window the user picks. */
export function statsPanel(path) {
  const windows = [
    ["1h", 3600e3],
    ["6h", 6 * 3600e3],
    ["24h", 24 * 3600e3],
    ["7d", 7 * 24 * 3600e3],
    ["30d", 30 * 24 * 3600e3],
  ];
  const pick = h("select", { name: "window" }, windows.map(([label]) => h("option", { value: label }, `Last ${label}`)));
  pick.value = "1h";
  const refresh = h("button", { type: "button", class: "secondary" }, "Refresh");
  const body = h("div", { class: "stats-body" });
  const el = h("div", { class: "stats" }, h("div", { class: "toolbar" }, pick, refresh), body);
  const load = async () => {
    const span = windows.find(([l]) => l === pick.value)[1];
    const until = new Date();
    const s = await get(`${path}${query({ since: new Date(until - span).toISOString(), until: until.toISOString() })}`);
    const pct = (v) => (v === null ? "—" : `${Math.round(v * 1000) / 10} %`);
    const ms = (v) => (v === null || v === undefined ? "—" : `${v} ms`);
    const tile = (label, value, name) => h("div", { class: "tile", "data-stat": name }, h("span", {}, label), h("strong", {}, value));
    fill(
      body,
      h(
        "div",
        { class: "tiles" },
        tile("Deliveries", s.deliveries.total, "deliveries"),
        tile("Succeeded", s.deliveries.succeeded, "succeeded"),
        tile("Failed", s.deliveries.failed, "failed"),
        tile("Pending", s.deliveries.pending, "pending"),
        tile("Success rate", pct(s.successRate), "successRate"),
        tile("Attempts", s.attempts, "attempts"),
        tile("Attempt success", pct(s.attemptSuccessRate), "attemptSuccessRate"),
        tile("p50 / p95", `${ms(s.responseTimeMs.p50)} / ${ms(s.responseTimeMs.p95)}`, "p50p95"),
      ),
      h("h3", {}, "Attempts over time"),
      stackedBars("Attempts over time", s.series, [
        { key: "succeeded", label: "succeeded", class: "ok" },
        { key: "failed", label: "failed", class: "bad" },
      ]),
      h("h3", {}, "Attempt success rate"),
      line(
        "Attempt success rate",
        s.series.map((b) => ({ ...b, rate: b.attempts ? Math.round((1000 * b.succeeded) / b.attempts) / 10 : null })),
        "rate",
        " %",
      ),
      h("h3", {}, "p95 response time"),
      line("p95 response time", s.series, "p95Ms", " ms"),
      h("h3", {}, "Errors by kind"),
      Object.keys(s.errorsByKind).length
        ? h("table", { class: "compact" }, h("tbody", {}, Object.entries(s.errorsByKind).map(([k, n]) => h("tr", {}, h("td", {}, k), h("td", {}, n)))))
        : h("p", { class: "empty" }, "No errors in this window."),
      h("p", { class: "hint" }, "Percentiles are the upper bound of the latency histogram bucket that holds their rank (buckets at most 10 % wide)."),
    );
  };
  const reload = () => load().catch((err) => flash(err.message, "error"));
  pick.addEventListener("change", reload);
  refresh.addEventListener("click", reload);
  return { el, load };
}

/** Deliveries, newest first, with a retry for each finished one. */
export function deliveriesTable(params) {
  const retry = async (d, button) => {
    try {
      await post(`/deliveries/${d.id}/retry`);
      button.disabled = true;
      flash(`Delivery ${d.id} will be attempted again.`);
    } catch (err) {
      showError(err);
    }
  };
  return pagedTable(
    ["Created", "Event", "Webhook", "Status", "Attempts", "Next attempt", ""],
    (cursor) => get(`/deliveries${query({ ...params, cursor })}`),
    (d) => {
      const button = d.status === "pending" ? null : h("button", { type: "button", class: "secondary retry" }, "Retry");
      if (button) button.addEventListener("click", () => retry(d, button));
      return h(
        "tr",
        { class: "delivery", "data-id": d.id },
        h("td", {}, link(`/deliveries/${d.id}`, when(d.createdAt))),
        h("td", {}, d.eventType, d.test ? h("span", { class: "badge" }, "test") : null),
        h("td", {}, link(`/webhooks/${d.webhookId}`, shortId(d.webhookId))),
        h("td", {}, deliveryStatus(d.status)),
        h("td", {}, d.attemptCount),
        h("td", {}, when(d.nextAttemptAt)),
        h("td", {}, button),
      );
    },
    "No deliveries match.",
  );
}

/** The webhook form, for create (`w` null) and edit. Resolves the request body. */
export function webhookForm(w, submitLabel, onSubmit) {
  const input = (name, value, attrs = {}) => h("input", { name, value: value ?? "", ...attrs });
  const name = input("name", w?.name, { required: true, maxlength: 100 });
  // the kind is chosen once, on create (it cannot change), and only by a tenant: a relay
  // webhook has no url, its deliveries wait for `hookrelay listen`, which a portal session cannot run
  const kind =
    w || session.mode !== "tenant"
      ? null
      : h("select", { name: "kind" }, h("option", { value: "http" }, "HTTP endpoint"), h("option", { value: "relay" }, "Relay to hookrelay listen"));
  const relay = () => (kind ? kind.value : w?.kind) === "relay";
  const url = input("url", w?.url, { required: true, type: "url", placeholder: "https://example.com/hook" });
  const urlField = relay() ? null : field("URL", url);
  kind?.addEventListener("change", () => {
    urlField.hidden = relay();
    url.required = !relay();
  });
  const events = input("events", w ? w.events.join(", ") : "*", { required: true });
  const description = h("textarea", { name: "description", rows: 2, value: w?.description ?? "" });
  const consumer = input("consumerId", w?.consumerId, { placeholder: "optional: your customer's id" });
  const headers = h("textarea", {
    name: "headers",
    rows: 2,
    placeholder: "X-Custom: value",
    value: Object.entries(w?.headers ?? {}).map(([k, v]) => `${k}: ${v}`).join("\n"),
  });
  const rate = input("rateLimitPerMinute", w ? w.rateLimitPerMinute : 100, { type: "number", min: 1 });
  const concurrency = input("maxConcurrency", w ? w.maxConcurrency : 10, { type: "number", min: 1, max: 100 });
  const schedule = input("retrySchedule", w?.retrySchedule?.join(", "), { placeholder: "4, 8, 10 (the default)" });
  const form = h(
    "form",
    { class: "card webhook-form" },
    field("Name", name),
    kind ? field("Kind", kind, "Relay: no URL; its deliveries wait for a developer's hookrelay listen --webhook <id>") : null,
    urlField,
    field("Events", events, "Comma-separated filters: message.new, message.*, or * for every event"),
    session.mode === "tenant" ? field("Consumer id", consumer, "Only events published with this consumerId reach it") : null,
    field("Description", description),
    field("Custom headers", headers, "One per line: Name: value"),
    h(
      "div",
      { class: "row" },
      field("Rate limit per minute", rate, "Empty: no limit"),
      field("Max concurrency", concurrency),
      field("Retry schedule (s)", schedule, "Empty: 4, 8, 10"),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit" }, submitLabel)),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const list = (s) => s.split(",").map((v) => v.trim()).filter(Boolean);
    const number = (s) => (s.trim() === "" ? null : Number(s));
    const body = {
      name: name.value,
      events: list(events.value),
      description: description.value || null,
      headers: Object.fromEntries(
        headers.value
          .split("\n")
          .filter((l) => l.trim())
          .map((l) => {
            const at = l.indexOf(":");
            return at < 0 ? [l.trim(), ""] : [l.slice(0, at).trim(), l.slice(at + 1).trim()];
          }),
      ),
      rateLimitPerMinute: number(rate.value),
      maxConcurrency: number(concurrency.value),
      retrySchedule: schedule.value.trim() ? list(schedule.value).map(Number) : null,
    };
    if (kind) body.kind = kind.value;
    if (!relay()) body.url = url.value;
    if (session.mode === "tenant") body.consumerId = consumer.value || null;
    try {
      await onSubmit(body);
    } catch (err) {
      showError(err, form);
    }
  });
  return form;
}

// ---------------------------------------------------------------- pages

export async function webhooks(el) {
  const consumer = h("input", { name: "consumerId", placeholder: "Filter by consumer id" });
  const list = h("div");
  const load = async () => {
    const table = pagedTable(
      ["Name", "URL", "Events", "Consumer", "State", "Created"],
      (cursor) => get(`/webhooks${query({ consumerId: consumer.value, cursor })}`),
      (w) =>
        h(
          "tr",
          { class: "webhook", "data-id": w.id },
          h("td", {}, link(`/webhooks/${w.id}`, w.name)),
          h("td", {}, w.kind === "relay" ? [h("span", { class: "badge info" }, "relay"), " · ", h("code", {}, "hookrelay listen")] : h("code", {}, w.url)),
          h("td", {}, w.events.join(", ")),
          h("td", {}, w.consumerId ?? "—"),
          h("td", {}, webhookState(w)),
          h("td", {}, when(w.createdAt)),
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

export async function newWebhook(el) {
  fill(
    el,
    h("h1", {}, "New webhook"),
    webhookForm(null, "Create webhook", async (body) => {
      const w = await post("/webhooks", body);
      flash(`Webhook ${w.name} created.`);
      location.hash = `#/webhooks/${w.id}`;
    }),
  );
}

export async function deliveries(el) {
  const status = h("select", { name: "status" }, ["", "pending", "succeeded", "failed"].map((s) => h("option", { value: s }, s || "any status")));
  const list = h("div");
  const load = async () => {
    const table = deliveriesTable({ status: status.value });
    fill(list, table.el);
    await table.next();
  };
  status.addEventListener("change", () => load().catch((err) => flash(err.message, "error")));
  fill(el, h("h1", {}, "Deliveries"), h("div", { class: "toolbar" }, status), list);
  await load();
}

export async function delivery(el, id) {
  const d = await get(`/deliveries/${id}`);
  const retry = h("button", { type: "button", disabled: d.status === "pending" }, "Retry");
  retry.addEventListener("click", async () => {
    try {
      await post(`/deliveries/${id}/retry`);
      flash("The delivery will be attempted again.");
      await delivery(el, id);
    } catch (err) {
      showError(err);
    }
  });
  const attempts = h("table", {}, h("thead", {}, h("tr", {}, ATTEMPT_HEADINGS.map((t) => h("th", {}, t)))), h("tbody", {}, d.attempts.map(attemptRow)));
  fill(
    el,
    h("div", { class: "title" }, h("h1", {}, "Delivery ", shortId(d.id)), retry),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Status"),
      h("dd", {}, deliveryStatus(d.status)),
      h("dt", {}, "Event"),
      h("dd", {}, d.eventType, " ", h("code", {}, d.eventId)),
      h("dt", {}, "Webhook"),
      h("dd", {}, link(`/webhooks/${d.webhookId}`, d.webhookId)),
      h("dt", {}, "Attempts"),
      h("dd", {}, d.attemptCount),
      h("dt", {}, "Next attempt"),
      h("dd", {}, when(d.nextAttemptAt)),
      h("dt", {}, "Created"),
      h("dd", {}, when(d.createdAt)),
    ),
    h("h2", {}, "Attempts"),
    d.attempts.length ? attempts : h("p", { class: "empty" }, "Not attempted yet."),
  );
}

/** The live tail: attempts as they are recorded (the stream API). Returns its cleanup. */
export function liveTail(el, webhookId) {
  const state = h("span", { class: "badge warn", id: "tail-state" }, "connecting");
  const table = pagedTable(ATTEMPT_HEADINGS, async () => ({ data: [], nextCursor: null }), attemptRow, "Waiting for attempts…");
  fill(el, h("div", { class: "toolbar" }, h("span", {}, "Stream: "), state), table.el);
  table.next();
  const source = stream(webhookId);
  source.addEventListener("open", () => fill(state, "live").setAttribute("class", "badge ok"));
  source.addEventListener("attempt", (e) => table.prepend(JSON.parse(e.data)));
  source.addEventListener("error", () => {
    // EventSource reconnects by itself (resuming with Last-Event-ID) unless the server refused it
    const closed = source.readyState === EventSource.CLOSED;
    fill(state, closed ? "closed" : "reconnecting").setAttribute("class", "badge bad");
  });
  return () => source.close();
}

export function tail(el) {
  const body = h("div");
  fill(el, h("h1", {}, "Live tail"), h("p", { class: "hint" }, "Every attempt of your webhooks, as it is recorded."), body);
  return liveTail(body, null);
}

export async function tenantStats(el) {
  const panel = statsPanel("/stats");
  fill(el, h("h1", {}, "Stats of all webhooks"), panel.el);
  await panel.load();
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
