// The Events page (`#/events`, tenant only: a portal token cannot read events) and one
// event's page (`#/events/<id>`): its payload exactly as published, and its deliveries.
//
// "Exactly as published": `data` may hold numbers that JSON.parse would round
// (12345678901234567890123, 0.10000000000000000000001), so the payload shown is never a
// parsed-and-printed value: it is the `data` member's text cut out of the answer as the
// server wrote it, re-indented token by token at most. It always goes in as text.

import { get, getRaw, query } from "./api.js";
import { h, fill, link, field, flash } from "./dom.js";
import { when, inputToIso } from "./time.js";
import { pagedTable, showError } from "./views.js";
import { deliveriesTable, copyId } from "./deliveries.js";

// ---------------------------------------------------------------- raw JSON text

const WS = " \t\r\n";

function skipWs(text, i) {
  while (i < text.length && WS.includes(text[i])) i++;
  return i;
}

/** The index just past the string that opens at `i` (a `"`). */
function skipString(text, i) {
  for (i++; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i + 1;
  }
  throw new Error("unterminated string");
}

/** The index just past the JSON value that starts at `i`. */
function skipValue(text, i) {
  const c = text[i];
  if (c === '"') return skipString(text, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    while (i < text.length) {
      const d = text[i];
      if (d === '"') {
        i = skipString(text, i);
        continue;
      }
      if (d === "{" || d === "[") depth++;
      else if (d === "}" || d === "]") depth--;
      i++;
      if (depth === 0) return i;
    }
    throw new Error("unterminated value");
  }
  // a number or a literal: up to the next delimiter, digits untouched
  while (i < text.length && !",}]".includes(text[i]) && !WS.includes(text[i])) i++;
  return i;
}

/**
 * The text of member `name` of the top-level object in the JSON `text`, as written
 * (null when absent). Only the top level is read: a nested "data" is someone's payload.
 */
export function rawMember(text, name) {
  let i = skipWs(text, 0);
  if (text[i] !== "{") return null;
  i = skipWs(text, i + 1);
  while (i < text.length && text[i] !== "}") {
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd));
    i = skipWs(text, keyEnd);
    if (text[i] !== ":") return null;
    const start = skipWs(text, i + 1);
    const end = skipValue(text, start);
    if (key === name) return text.slice(start, end);
    i = skipWs(text, end);
    if (text[i] === ",") i = skipWs(text, i + 1);
  }
  return null;
}

/** `raw` re-indented by two spaces, token by token: strings and numbers copied verbatim. */
export function prettyJson(raw) {
  let out = "";
  let depth = 0;
  const newline = () => "\n" + "  ".repeat(depth);
  for (let i = 0; i < raw.length; ) {
    const c = raw[i];
    if (WS.includes(c)) {
      i++;
    } else if (c === '"') {
      const end = skipString(raw, i);
      out += raw.slice(i, end);
      i = end;
    } else if (c === "{" || c === "[") {
      const next = skipWs(raw, i + 1);
      if (raw[next] === (c === "{" ? "}" : "]")) {
        out += c + raw[next];
        i = next + 1;
      } else {
        depth++;
        out += c + newline();
        i++;
      }
    } else if (c === "}" || c === "]") {
      depth--;
      out += newline() + c;
      i++;
    } else if (c === ",") {
      out += "," + newline();
      i++;
    } else if (c === ":") {
      out += ": ";
      i++;
    } else {
      const end = skipValue(raw, i);
      out += raw.slice(i, end);
      i = end;
    }
  }
  return out;
}

/**
 * A payload as text: formatted by default, "as sent" (the raw text) on a toggle, with a
 * copy button for the raw text. Falls back to the raw text if it cannot be formatted.
 */
export function payloadView(raw, { label = "Payload" } = {}) {
  let formatted;
  try {
    formatted = prettyJson(raw);
  } catch {
    formatted = raw;
  }
  const code = h("pre", { class: "payload", "aria-label": label }, formatted);
  let compact = false;
  const toggle = h("button", { type: "button", class: "secondary copy" }, "Show as sent");
  toggle.addEventListener("click", () => {
    compact = !compact;
    code.textContent = compact ? raw : formatted;
    toggle.textContent = compact ? "Show formatted" : "Show as sent";
  });
  const copy = h("button", { type: "button", class: "secondary copy" }, "Copy");
  copy.addEventListener("click", () =>
    navigator.clipboard.writeText(raw).then(
      () => flash("Copied."),
      () => flash("The browser refused the clipboard: select the text and copy it.", "error"),
    ),
  );
  return h("div", { class: "payload-box" }, h("div", { class: "payload-tools" }, toggle, copy), code);
}

/** An event read with its raw text: `{event, data}`, `data` the raw `data` member. */
export async function rawEvent(id) {
  const { value, text } = await getRaw(`/events/${encodeURIComponent(id)}`);
  return { event: value, data: rawMember(text, "data") ?? "null" };
}

// ---------------------------------------------------------------- pages

const isOperational = (type) => type.startsWith("hookrelay.");

export function eventType(type) {
  return h(
    "span",
    { class: "event-type" },
    h("code", {}, type),
    isOperational(type) ? h("span", { class: "badge info", title: "Published by hookrelay itself (endpoint health)" }, "operational") : null,
  );
}

/** Names of sources, loaded once per page (a source's events name it). */
async function sourceNames() {
  const names = new Map();
  let cursor = null;
  do {
    const page = await get(`/sources${query({ limit: 200, cursor })}`);
    for (const s of page.data) names.set(s.id, s.name);
    cursor = page.nextCursor;
  } while (cursor);
  return names;
}

export async function events(el) {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const type = h("input", { name: "event", placeholder: "exact type, e.g. invoice.paid", value: params.get("event") ?? "" });
  const consumer = h("input", { name: "consumerId", placeholder: "consumer id", value: params.get("consumerId") ?? "" });
  const since = h("input", { name: "since", type: "datetime-local" });
  const until = h("input", { name: "until", type: "datetime-local" });
  const form = h(
    "form",
    { class: "toolbar", id: "event-filters" },
    field("Event type", type),
    field("Consumer", consumer),
    field("Since", since),
    field("Until", until),
    h("button", { type: "submit" }, "Filter"),
  );
  const list = h("div");
  const sources = sourceNames().catch(() => new Map());
  const load = async () => {
    const filters = { event: type.value.trim(), consumerId: consumer.value.trim(), since: inputToIso(since.value), until: inputToIso(until.value) };
    const names = await sources;
    const table = pagedTable(
      ["Time", "Type", "Consumer", "Deliveries", "Source", "Id"],
      (cursor) => get(`/events${query({ ...filters, cursor })}`),
      (e) =>
        h(
          "tr",
          { class: "event", "data-id": e.id },
          h("td", {}, link(`/events/${e.id}`, when(e.timestamp))),
          h("td", {}, link(`/events/${e.id}`, eventType(e.event)), e.test ? h("span", { class: "badge" }, "test") : null),
          h("td", {}, e.consumerId ?? h("span", { class: "muted" }, "—")),
          h("td", { class: "num" }, e.deliveries),
          h("td", {}, e.sourceId ? link(`/sources/${e.sourceId}`, names.get(e.sourceId) ?? "a source") : h("span", { class: "muted" }, isOperational(e.event) ? "hookrelay" : "API")),
          h("td", {}, copyId(e.id)),
        ),
      "No events match.",
    );
    fill(list, table.el);
    await table.next();
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load().catch((err) => showError(err, form));
  });
  fill(
    el,
    h("h1", {}, "Events"),
    h("p", { class: "hint" }, "Every event published, newest first: through the API, by a source, as a test, and hookrelay's own operational events (hookrelay.*)."),
    form,
    list,
  );
  await load();
}

export async function eventPage(el, id) {
  const { event: e, data } = await rawEvent(id);
  const source = e.sourceId ? get(`/sources/${e.sourceId}`).catch(() => null) : null;
  const deliveries = deliveriesTable({ eventId: id }, { showEvent: false });
  const sourceCell = h("dd", {}, e.sourceId ? h("code", {}, e.sourceId) : isOperational(e.event) ? "published by hookrelay (an operational event)" : "published through the API");
  fill(
    el,
    h("p", { class: "crumbs" }, link("/events", "Events"), " / "),
    h("div", { class: "title" }, h("h1", {}, eventType(e.event), e.test ? h("span", { class: "badge" }, "test") : null)),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Id"),
      h("dd", {}, h("code", {}, e.id), " ", copyId(e.id, "Copy")),
      h("dt", {}, "Published"),
      h("dd", {}, when(e.timestamp)),
      h("dt", {}, "Consumer"),
      h("dd", {}, e.consumerId ?? "—"),
      h("dt", {}, "Idempotency key"),
      h("dd", {}, e.idempotencyKey ? h("code", {}, e.idempotencyKey) : "—"),
      h("dt", {}, "Source"),
      sourceCell,
      h("dt", {}, "Deliveries"),
      h("dd", {}, e.deliveries),
    ),
    h("p", {}, link(eventsLink(e.event), `All ${e.event} events`)),
    h("h2", {}, "Payload"),
    h("p", { class: "hint" }, "The event's data exactly as published: numbers keep every digit, keys keep their order."),
    payloadView(data),
    h("h2", {}, "Deliveries"),
    deliveries.el,
  );
  if (source)
    source.then((s) => s && fill(sourceCell, link(`/sources/${s.id}`, s.name), " ", copyId(s.id)));
  await deliveries.next();
}

/** The routes of this module (app.js registers them; tenant only). */
export const EVENT_ROUTES = [
  ["events", events, "tenant"],
  ["events/:id", (el, p) => eventPage(el, p.id), "tenant"],
];

/** The list filtered to one type (`#/events?event=invoice.paid`: the form reads the query). */
export const eventsLink = (type) => `/events?${new URLSearchParams({ event: type })}`;
