// The webhook form, for create and edit: the browser checks what it can before sending
// (every field at once, each error beside its field, in words), and the server's 422
// errors land beside their fields the same way. An error goes away as soon as its field
// is fixed.

import { session } from "./api.js";
import { h, field } from "./dom.js";
import { WEBHOOK_FIELDS, checkWebhookField, parseHeaders, parseSchedule, showFieldErrors, showError, setFieldError, clearFieldErrors, sentence } from "./form.js";

/** The webhook form, for create (`w` null) and edit. `onSubmit` gets the request body. */
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
  const url = input("url", w?.url, { required: true, type: "url", placeholder: "https://example.com/hook", spellcheck: "false" });
  const urlField = relay() ? null : field("URL", url, "Where hookrelay sends the events: https://, or http:// for a test endpoint");
  const events = input("events", w ? w.events.join(", ") : "*", { required: true });
  const description = h("textarea", { name: "description", rows: 2, value: w?.description ?? "" });
  const consumer = input("consumerId", w?.consumerId, { placeholder: "optional: your customer's id" });
  const headers = h("textarea", {
    name: "headers",
    rows: 2,
    placeholder: "X-Custom: value",
    spellcheck: "false",
    value: Object.entries(w?.headers ?? {}).map(([k, v]) => `${k}: ${v}`).join("\n"),
  });
  const rate = input("rateLimitPerMinute", w ? w.rateLimitPerMinute : 100, { type: "number", min: 1, max: 100000, step: 1 });
  const concurrency = input("maxConcurrency", w ? w.maxConcurrency : 10, { type: "number", min: 1, max: 100, step: 1, required: true });
  const schedule = input("retrySchedule", w?.retrySchedule ? (w.retrySchedule.length ? w.retrySchedule.join(", ") : "none") : "", { placeholder: "4, 8, 10 (the default)" });

  // the inputs the browser checks, by the API's field names
  const inputs = { name, url, events, consumerId: consumer, description, headers, rateLimitPerMinute: rate, maxConcurrency: concurrency, retrySchedule: schedule };
  const shown = () => Object.entries(inputs).filter(([key]) => (key !== "consumerId" || session.mode === "tenant") && (key !== "url" || !relay()));
  const values = () => ({
    ...Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, i.value])),
    // a number input holding text reads "" with `badInput` set: say so, not "is required"
    rateLimitPerMinuteBad: rate.validity.badInput,
    maxConcurrencyBad: concurrency.validity.badInput,
  });
  const problem = (key) => {
    const p = checkWebhookField(key, values(), { relay: relay() });
    return p ? sentence(WEBHOOK_FIELDS[key].label, p) : null;
  };

  kind?.addEventListener("change", () => {
    urlField.hidden = relay();
    url.required = !relay();
    if (relay()) setFieldError(url, null);
  });

  const form = h(
    "form",
    // novalidate: the form's own checks show every error at once, in words, beside each
    // field; the browser's bubbles would show one at a time
    { class: "card webhook-form", novalidate: true },
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
      field("Rate limit per minute", rate, "1 to 100,000; empty: no limit"),
      field("Max concurrency", concurrency, "1 to 100 attempts at once"),
      field("Retry schedule", schedule, "Seconds between attempts: 4, 8, 10 (empty: the default); none: no retries"),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit" }, submitLabel)),
  );

  // An error shown goes as soon as its field is right (checked at each keystroke); a new
  // error shows when the user leaves a field they changed, not while they type.
  for (const [key, el] of Object.entries(inputs)) {
    el.addEventListener("input", () => {
      if (el.hasAttribute("aria-invalid")) setFieldError(el, problem(key));
    });
    el.addEventListener("change", () => setFieldError(el, problem(key)));
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    // every field's problem at once
    const errors = shown()
      .map(([key]) => ({ field: key, words: problem(key) }))
      .filter((x) => x.words);
    if (errors.length) {
      showFieldErrors(form, errors);
      form.querySelector("[aria-invalid]")?.focus();
      return;
    }
    clearFieldErrors(form);
    const number = (s) => (s.trim() === "" ? null : Number(s));
    const body = {
      name: name.value.trim(),
      events: events.value.split(",").map((v) => v.trim()).filter(Boolean),
      description: description.value || null,
      headers: Object.fromEntries(parseHeaders(headers.value).pairs),
      rateLimitPerMinute: number(rate.value),
      maxConcurrency: number(concurrency.value),
      retrySchedule: parseSchedule(schedule.value).value,
    };
    if (kind) body.kind = kind.value;
    if (!relay()) body.url = url.value.trim();
    if (session.mode === "tenant") body.consumerId = consumer.value.trim() || null;
    try {
      await onSubmit(body);
    } catch (err) {
      showError(err, form);
    }
  });
  return form;
}
