// The Events page (`#/events`, tenant only: a portal token cannot read events) and one
// event's page (`#/events/<id>`): its payload exactly as published, and its deliveries.
// The payload is shown by payload.js.

import { get, query } from "./api.js";
import { h, fill, link, field, copyButton } from "./dom.js";
import { when, inputToIso } from "./time.js";
import { pagedTable } from "./views.js";
import { showError } from "./form.js";
import { rawEvent, payloadView, eventType, isOperational } from "./payload.js";
import { deliveriesTable } from "./deliveries.js";

// ---------------------------------------------------------------- pages

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
          h("td", {}, copyButton(e.id, { id: true })),
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
      h("dd", {}, h("code", {}, e.id), " ", copyButton(e.id, { id: true, label: "Copy" })),
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
    source.then((s) => s && fill(sourceCell, link(`/sources/${s.id}`, s.name), " ", copyButton(s.id, { id: true })));
  await deliveries.next();
}

/** The routes of this module (app.js registers them; tenant only). */
export const EVENT_ROUTES = [
  ["events", events, "tenant"],
  ["events/:id", (el, p) => eventPage(el, p.id), "tenant"],
];

/** The list filtered to one type (`#/events?event=invoice.paid`: the form reads the query). */
export const eventsLink = (type) => `/events?${new URLSearchParams({ event: type })}`;
