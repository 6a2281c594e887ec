// Deliveries: the table (tenant-wide, per webhook, per event), the Deliveries page and one
// delivery's page, with the webhook's name rather than its id, why a pending delivery
// waits, its payload and the headers it is sent with.

import { session, get, post, query } from "./api.js";
import { h, fill, link, flash, shortId, copyButton } from "./dom.js";
import { when } from "./time.js";
import { pagedTable, deliveryStatus, attemptRow, ATTEMPT_HEADINGS } from "./views.js";
import { showError } from "./form.js";
import { rawEvent, payloadView, eventType, isJson } from "./payload.js";

// ---------------------------------------------------------------- names, not ids

// What the tables need to know of the caller's webhooks (names, states, relay listeners),
// asked once per page shown: a table of 50 deliveries then costs one request, not 50.
// Kept 5 s at most, and forgotten at once when the dashboard changes a webhook
// (`forgetWebhooks`), so that a row never shows a state the user has just changed.
const FRESH_MS = 5_000;
const empty = () => ({ at: Date.now(), directory: null, listeners: new Map() });
let known = { ...empty(), at: 0 };

/** The current cache, a new one once it is older than FRESH_MS. */
function current() {
  if (Date.now() - known.at > FRESH_MS) known = empty();
  return known;
}

/** Forgets what is known of the webhooks: call after each create, PATCH, delete or rotate. */
export function forgetWebhooks() {
  known = { ...empty(), at: 0 };
}

/** The caller's webhooks by id, loaded page by page. */
export function webhookDirectory() {
  const cache = current();
  if (!cache.directory) {
    const loading = (async () => {
      const byId = new Map();
      let cursor = null;
      do {
        const page = await get(`/webhooks${query({ limit: 200, cursor })}`);
        for (const w of page.data) byId.set(w.id, w);
        cursor = page.nextCursor;
      } while (cursor);
      return byId;
    })();
    cache.directory = loading;
    // a failed load is asked again next time; a newer one is left alone
    loading.catch(() => {
      if (cache.directory === loading) cache.directory = null;
    });
  }
  return cache.directory;
}

/** A webhook by its name, linked to its page, with its id one click away. */
export function webhookRef(id, w) {
  return h(
    "span",
    { class: "ref" },
    link(`/webhooks/${id}`, w ? w.name : shortId(id)),
    " ",
    copyButton(id, { id: true }),
  );
}

/** An event by its type, linked to the event's page for a tenant (a portal cannot read events). */
export function eventRef(d) {
  const type = h("code", {}, d.eventType);
  return h(
    "span",
    { class: "ref" },
    session.mode === "tenant" ? link(`/events/${d.eventId}`, type) : type,
    d.test ? h("span", { class: "badge" }, "test") : null,
    " ",
    copyButton(d.eventId, { id: true }),
  );
}

// ---------------------------------------------------------------- why a delivery waits

// Relay webhooks' listener state, asked once per webhook while the cache above is fresh
// (a portal may not ask).
function relayConnected(id) {
  if (session.mode !== "tenant") return Promise.resolve(null);
  const { listeners } = current();
  if (!listeners.has(id)) listeners.set(id, get(`/relay/webhooks/${id}`).then((s) => s.connected, () => null));
  return listeners.get(id);
}

/**
 * Why a pending delivery has not been sent yet, as far as the API can tell: a node to show,
 * or null when it is not pending. Fills in later for a relay webhook (its listener state).
 */
export function pendingReason(d, w) {
  if (d.status !== "pending") return null;
  const el = h("span", { class: "why" });
  const now = Date.now();
  const next = d.nextAttemptAt ? new Date(d.nextAttemptAt).getTime() : null;
  // test deliveries go out whatever the webhook's active flag (SPEC)
  if (w && !w.active && !d.test)
    return fill(el, w.disabledReason === "failing" ? "Waiting: the webhook was disabled after failing; activate it to resume" : "Waiting: the webhook is inactive; activate it to resume", w.disabledAt ? [" (since ", when(w.disabledAt), ")"] : null);
  if (w?.pausedUntil && new Date(w.pausedUntil).getTime() > now)
    return fill(el, "Waiting: the endpoint asked for a pause (Retry-After) until ", when(w.pausedUntil));
  const timed = () => {
    if (next && next > now) return fill(el, d.attemptCount > 0 ? `Retry (attempt ${d.attemptCount + 1}) waits until ` : "First attempt not before ", when(d.nextAttemptAt));
    return fill(el, "Due: being sent, or waiting for the webhook's rate limit or concurrency");
  };
  if (w?.kind === "relay") {
    fill(el, "Waiting for a hookrelay listen to take it");
    relayConnected(w.id).then((connected) => {
      if (connected === true) timed();
      else if (connected === false) fill(el, "Waiting: no hookrelay listen is connected to this relay webhook (held up to HOOKRELAY_RELAY_HOLD, then fails as relay_offline)");
    });
    return el;
  }
  return timed();
}

// ---------------------------------------------------------------- the table

/**
 * Deliveries, newest first, with a retry for each finished one. `params` are the list
 * route's filters; `showEvent: false` leaves the event column out (the event's own page);
 * `webhook`: the one webhook all rows belong to, as its page has just read it (its rows
 * then show its state as it is now, and no directory is asked for).
 */
export function deliveriesTable(params, { showEvent = true, webhook = null } = {}) {
  const webhooks = webhook ? Promise.resolve(new Map([[webhook.id, webhook]])) : webhookDirectory().catch(() => new Map());
  let byId = new Map();
  const row = (d) => {
    const w = byId.get(d.webhookId);
    const button = d.status === "pending" ? null : h("button", { type: "button", class: "secondary retry" }, "Retry");
    const tr = h(
      "tr",
      { class: "delivery", "data-id": d.id, "data-status": d.status },
      h("td", {}, link(`/deliveries/${d.id}`, when(d.createdAt))),
      showEvent ? h("td", {}, eventRef(d)) : null,
      h("td", {}, webhookRef(d.webhookId, w)),
      h("td", { class: "status-cell" }, deliveryStatus(d.status), pendingReason(d, w)),
      h("td", { class: "num" }, d.attemptCount),
      h("td", {}, d.lastAttemptAt ? when(d.lastAttemptAt) : "—"),
      h("td", {}, button),
    );
    button?.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const again = await post(`/deliveries/${d.id}/retry`);
        // the row shows its new state at once: pending, with why it waits
        tr.replaceWith(row(again ?? (await get(`/deliveries/${d.id}`))));
        flash(`Delivery ${d.id} will be attempted again.`);
      } catch (err) {
        button.disabled = false;
        showError(err);
      }
    });
    return tr;
  };
  return pagedTable(
    ["Created", showEvent ? "Event" : null, "Webhook", "Status", "Attempts", "Last attempt", ""].filter((t) => t !== null),
    async (cursor) => {
      byId = await webhooks;
      return get(`/deliveries${query({ ...params, cursor })}`);
    },
    row,
    "No deliveries match.",
  );
}

export async function deliveries(el) {
  const status = h("select", { name: "status" }, ["", "pending", "succeeded", "failed"].map((s) => h("option", { value: s }, s || "any status")));
  const webhook = h("select", { name: "webhookId" }, h("option", { value: "" }, "any webhook"));
  const list = h("div");
  const load = async () => {
    const table = deliveriesTable({ status: status.value, webhookId: webhook.value });
    fill(list, table.el);
    await table.next();
  };
  for (const input of [status, webhook]) input.addEventListener("change", () => load().catch((err) => flash(err.message, "error")));
  fill(el, h("h1", {}, "Deliveries"), h("div", { class: "toolbar" }, status, webhook), list);
  const byId = await webhookDirectory();
  webhook.append(...[...byId.values()].sort((a, b) => a.name.localeCompare(b.name)).map((w) => h("option", { value: w.id }, w.name)));
  await load();
}

// ---------------------------------------------------------------- one delivery

const COMPUTED = "computed at each attempt";

/**
 * The headers a delivery is sent with (SPEC "The request a subscriber receives"), each
 * with its value when it is known and a note when it is not: signatures and timestamps
 * are computed at each attempt and never stored.
 */
function headerRows(d, w, inbound) {
  const rows = [];
  const known = (name, value, note) => rows.push([name, h("code", {}, value), note]);
  const computed = (name, shape, note = COMPUTED) => rows.push([name, h("span", { class: "muted" }, shape), note]);
  if (inbound) {
    // a source's event carries the provider's request: its headers first (hookrelay's own
    // replace those of the same name), values as the request log keeps them
    const skip = new Set(["host", "content-length", "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "user-agent"]);
    if (inbound.unipileHeader) skip.add(inbound.unipileHeader.toLowerCase());
    for (const [name, value] of Object.entries(inbound.headers || {})) {
      if (skip.has(name.toLowerCase()) || /^(x-webhook-|webhook-)/i.test(name)) continue;
      rows.push([name, h("code", {}, value), value.startsWith("****") ? "the provider's, as received (masked in the request log)" : "the provider's, as received"]);
    }
  } else {
    known("Content-Type", "application/json");
  }
  computed("User-Agent", "hookrelay/<version>", "the server's version");
  known("X-Webhook-Event", d.eventType);
  if (inbound) known("X-Webhook-Source", inbound.sourceId, "the source that received it");
  known("X-Webhook-Id", d.eventId, "the event's id, the same on every retry: receivers dedupe on it");
  known("X-Webhook-Delivery", d.id);
  computed("X-Webhook-Attempt", "1, 2, …", "the attempt's number");
  computed("X-Webhook-Timestamp", "unix seconds of the attempt");
  computed("X-Webhook-Signature", "sha256=<hex HMAC-SHA256 of the body>");
  computed("X-Webhook-Signature-Previous", "sha256=<hex>", "only during a secret rotation's 24 h overlap; " + COMPUTED);
  known("webhook-id", d.eventId, "Standard Webhooks: the event's id");
  computed("webhook-timestamp", "unix seconds of the attempt");
  computed("webhook-signature", "v1,<base64 signature> …", "Standard Webhooks, one per valid secret; " + COMPUTED);
  if (d.test) known("X-Webhook-Test", "true", "test events only");
  for (const [name, value] of Object.entries(w?.headers || {})) known(name, value, "the webhook's custom header, as it is set now (each attempt uses the value of its time)");
  return h(
    "table",
    { class: "headers" },
    h("thead", {}, h("tr", {}, h("th", {}, "Header"), h("th", {}, "Value"), h("th", {}, ""))),
    h("tbody", {}, rows.map(([name, value, note]) => h("tr", {}, h("td", {}, h("code", {}, name)), h("td", {}, value), h("td", { class: "hint" }, note ?? "")))),
  );
}

/** The event behind a delivery with its raw data and, for a source's event, the request it came from. */
async function eventOf(d) {
  if (session.mode !== "tenant") return null;
  const { event, data } = await rawEvent(d.eventId);
  let inbound = null;
  if (event.sourceId) {
    const [source, request] = await Promise.all([
      get(`/sources/${event.sourceId}`).catch(() => null),
      event.inboundRequestId ? get(`/sources/${event.sourceId}/requests/${event.inboundRequestId}`).catch(() => null) : null,
    ]);
    inbound = {
      sourceId: event.sourceId,
      source,
      headers: request?.headers ?? {},
      // the request log keeps the body as text, its first 64 KiB
      body: request && !request.bodyTruncated && typeof request.body === "string" ? request.body : null,
      unipileHeader: source?.provider === "unipile" ? source.config?.headerName || "X-Hookrelay-Token" : null,
    };
  }
  return { event, data, inbound };
}

/**
 * A source's request body as received (and sent on), from the event's `data`: the body
 * itself when it was JSON, else the raw body as a JSON string (SPEC). A JSON string is
 * ambiguous — a form or XML body published as a string, or a body that was a JSON string
 * ("hello", quotes and all) — so the request log's copy decides when it is there.
 */
function inboundBody(data, inbound) {
  if (!data.startsWith('"')) return data;
  if (inbound.body !== null) return inbound.body;
  const text = JSON.parse(data);
  // a body that was JSON is published as it is: if the text is JSON, `data` was the body
  if (isJson(text)) return data;
  const type = Object.entries(inbound.headers).find(([name]) => name.toLowerCase() === "content-type")?.[1] ?? "";
  return /json/i.test(type) ? data : text;
}

/** The body as sent: a source's raw request body, else the event's envelope around `data`. */
function bodyView(d, found) {
  const { event, data, inbound } = found;
  if (inbound) {
    return [h("p", { class: "hint" }, "The provider's request body as received, sent with its original Content-Type."), payloadView(inboundBody(data, inbound), { label: "Body" })];
  }
  const envelope = `{"id":${JSON.stringify(event.id)},"event":${JSON.stringify(event.event)},"timestamp":${JSON.stringify(event.timestamp)},"data":${data}}`;
  return [h("p", { class: "hint" }, "The body of every attempt (the same bytes each time): the event's envelope, its data exactly as published."), payloadView(envelope, { label: "Body" })];
}

export async function delivery(el, id) {
  const d = await get(`/deliveries/${id}`);
  // the webhook as it is now: why the delivery waits depends on its state
  const w = await get(`/webhooks/${d.webhookId}`).catch(() => null);
  const found = await eventOf(d).catch(() => null);
  const retry = h("button", { type: "button", id: "retry", disabled: d.status === "pending" }, "Retry");
  retry.addEventListener("click", async () => {
    retry.disabled = true;
    try {
      await post(`/deliveries/${id}/retry`);
      flash("The delivery will be attempted again.");
      await delivery(el, id);
    } catch (err) {
      retry.disabled = false;
      showError(err);
    }
  });
  const attempts = h("table", {}, h("thead", {}, h("tr", {}, ATTEMPT_HEADINGS.map((t) => h("th", {}, t)))), h("tbody", {}, d.attempts.map(attemptRow)));
  const source = found?.inbound;
  fill(
    el,
    h("p", { class: "crumbs" }, link("/deliveries", "Deliveries"), " / "),
    h("div", { class: "title" }, h("h1", {}, "Delivery of ", eventType(d.eventType), " to ", w ? w.name : "a webhook"), retry),
    h(
      "dl",
      { class: "facts delivery-facts" },
      h("dt", {}, "Status"),
      h("dd", { class: "status-cell" }, deliveryStatus(d.status), d.test ? h("span", { class: "badge" }, "test") : null, " ", pendingReason(d, w)),
      h("dt", {}, "Webhook"),
      h("dd", {}, webhookRef(d.webhookId, w), w?.url ? [" ", h("code", { class: "url" }, w.url)] : null),
      h("dt", {}, "Event"),
      h("dd", {}, eventRef(d)),
      source ? [h("dt", {}, "Source"), h("dd", {}, link(`/sources/${source.sourceId}`, source.source?.name ?? source.sourceId), " ", copyButton(source.sourceId, { id: true }))] : null,
      h("dt", {}, "Id"),
      h("dd", {}, h("code", {}, d.id), " ", copyButton(d.id, { id: true })),
      h("dt", {}, "Attempts"),
      h("dd", {}, d.attemptCount),
      h("dt", {}, "Next attempt"),
      h("dd", {}, d.status === "pending" ? when(d.nextAttemptAt) : "—"),
      h("dt", {}, "Last attempt"),
      h("dd", {}, when(d.lastAttemptAt)),
      h("dt", {}, "Created"),
      h("dd", {}, when(d.createdAt)),
    ),
    h("h2", {}, "Payload"),
    found
      ? bodyView(d, found)
      : h("p", { class: "empty" }, session.mode === "portal" ? "The payload is not shown here: the sender keeps its events. Each attempt's response is below." : "The event could not be read."),
    h("h2", {}, "Request headers"),
    h("p", { class: "hint" }, "What each attempt sends. Values are known where shown; signatures and timestamps are computed at each attempt and not stored."),
    headerRows(d, w, source),
    h("h2", {}, "Attempts"),
    d.attempts.length ? attempts : h("p", { class: "empty" }, "Not attempted yet."),
  );
}
