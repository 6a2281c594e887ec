// Field errors in words, beside their fields: the browser's own checks of the webhook
// form (SPEC "Webhooks", Validation) and the server's 422 problem+json `errors`
// (`[{field, message}]`, dotted paths such as `headers.Host` or `retrySchedule[1]`).

import { ApiError } from "./api.js";
import { h, flash } from "./dom.js";

// ---------------------------------------------------------------- the webhook's rules

/** Each field's label and its rule in words (also said in place of a parser's message). */
export const WEBHOOK_FIELDS = {
  name: { label: "Name", rule: "must be 1 to 100 characters" },
  kind: { label: "Kind", rule: "must be an HTTP endpoint or a relay" },
  url: { label: "URL", rule: "must be a full web address starting with https:// or http://, such as https://example.com/hook" },
  events: {
    label: "Events",
    rule: "must list 1 to 50 filters, separated by commas: an event name (order.created), a name ending in .* (order.*), or * alone",
    itemRule: "must be an event name (order.created), a name ending in .* (order.*), or * alone",
  },
  consumerId: { label: "Consumer id", rule: "must be 1 to 128 letters, digits or . _ : -" },
  description: { label: "Description", rule: "must be at most 1,000 characters" },
  headers: { label: "Custom headers", rule: "must be one header per line, written Name: value", itemRule: "must have a value of text, at most 1,024 bytes, on one line" },
  rateLimitPerMinute: { label: "Rate limit per minute", rule: "must be a whole number from 1 to 100,000, or empty for no limit" },
  maxConcurrency: { label: "Max concurrency", rule: "must be a whole number from 1 to 100" },
  retrySchedule: {
    label: "Retry schedule",
    rule: "must be up to 20 delays in whole seconds from 1 to 86,400, separated by commas (such as 4, 8, 10)",
    itemRule: "must be a whole number of seconds from 1 to 86,400",
  },
  active: { label: "Active", rule: "must be on or off" },
  secret: { label: "Secret", rule: "is not a valid signing secret" },
};

const EVENT_TYPE = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_HEADERS = ["host", "content-length", "content-type", "transfer-encoding", "connection", "user-agent"];
const CONSUMER_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A whole number from a field ("" → null), or NaN when it is not one. */
function wholeNumber(text) {
  const t = text.trim();
  if (t === "") return null;
  return /^-?\d+$/.test(t) ? Number(t) : NaN;
}

/** Why a filter is not one, or null. */
function filterProblem(f) {
  if (f === "*") return null;
  const name = f.endsWith(".*") ? f.slice(0, -2) : f;
  if (f.length <= 128 && EVENT_TYPE.test(name)) return null;
  if (/[A-Z]/.test(f)) return `“${f}” has capital letters: event names are lowercase`;
  if (/\s/.test(f)) return `“${f}” has a space: separate filters with commas`;
  if (f.includes("*")) return `“${f}” has a * that is not a whole last segment: use order.* or * alone`;
  if (f.length > 128) return `“${f.slice(0, 20)}…” is longer than 128 characters`;
  return `“${f}” is not an event name: use lowercase letters, digits, _ and -, in segments separated by dots`;
}

/** The custom headers box read as [name, value] lines, or the problem with it. */
export function parseHeaders(text) {
  const pairs = [];
  const problems = [];
  const seen = new Set();
  text.split("\n").forEach((raw, i) => {
    if (!raw.trim()) return;
    const at = raw.indexOf(":");
    const line = `line ${i + 1}`;
    if (at < 0) return problems.push(`${line} has no colon: write Name: value`);
    const name = raw.slice(0, at).trim();
    const value = raw.slice(at + 1).trim();
    const lower = name.toLowerCase();
    if (!name) problems.push(`${line} has no header name before the colon`);
    else if (!HEADER_NAME.test(name)) problems.push(`${line}: “${name}” is not a header name (letters, digits and - only, no spaces)`);
    else if (RESERVED_HEADERS.includes(lower) || lower.startsWith("x-webhook-") || lower.startsWith("webhook-"))
      problems.push(`${line}: ${name} is set by hookrelay and cannot be overridden`);
    else if (seen.has(lower)) problems.push(`${line}: ${name} is given twice`);
    else if (new TextEncoder().encode(value).length > 1024) problems.push(`${line}: the value is longer than 1,024 bytes`);
    seen.add(lower);
    pairs.push([name, value]);
  });
  if (pairs.length > 20) problems.push(`there are ${pairs.length} headers: at most 20 are allowed`);
  return { pairs, problem: problems.length ? problems.join("; ") : null };
}

/** The retry schedule box ("4, 8, 10"; "none" for no retries; empty for the default). */
export function parseSchedule(text) {
  const t = text.trim();
  if (t === "") return { value: null, problem: null };
  if (/^none$/i.test(t)) return { value: [], problem: null };
  const items = t.split(",").map((s) => s.trim());
  const bad = items.filter((s) => !/^\d+$/.test(s));
  if (bad.length) {
    const words = bad.map((s) => (s === "" ? "an empty item (two commas in a row?)" : `“${s}”`));
    return { value: null, problem: `${words.join(", ")} ${bad.length === 1 ? "is not a whole number" : "are not whole numbers"} of seconds: write delays such as 4, 8, 10` };
  }
  const value = items.map(Number);
  if (value.some((v) => v < 1 || v > 86400)) return { value: null, problem: "each delay must be from 1 to 86,400 seconds (one day)" };
  if (value.length > 20) return { value: null, problem: `has ${value.length} delays: at most 20 are allowed` };
  return { value, problem: null };
}

/**
 * The browser's checks of one field of the webhook form: the problem in words, or null.
 * `v` holds the inputs' values; `relay` says the url is not asked for.
 */
export function checkWebhookField(name, v, { relay = false } = {}) {
  switch (name) {
    case "name": {
      const n = v.name.trim().length;
      return n === 0 ? "is required" : v.name.length > 100 ? `is ${v.name.length} characters: at most 100 are allowed` : null;
    }
    case "url": {
      if (relay) return null;
      const u = v.url.trim();
      if (!u) return "is required: the address hookrelay sends the events to";
      if (/\s/.test(v.url.trim())) return "has a space in it: a URL cannot contain spaces";
      if (u.length > 2048) return "is longer than 2,048 characters";
      let parsed;
      try {
        parsed = new URL(u);
      } catch {
        return `is not a full web address: write it with https://, such as https://example.com/hook`;
      }
      if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return `must start with https:// or http:// (not ${parsed.protocol}//)`;
      if (!parsed.hostname) return "has no host name";
      return null;
    }
    case "events": {
      const list = v.events.split(",").map((s) => s.trim()).filter(Boolean);
      if (!list.length) return "is required: * for every event, or names such as order.created, order.*";
      if (list.length > 50) return `lists ${list.length} filters: at most 50 are allowed`;
      const problems = list.map(filterProblem).filter(Boolean);
      return problems.length ? problems.join("; ") : null;
    }
    case "consumerId":
      return v.consumerId.trim() && !CONSUMER_ID.test(v.consumerId.trim()) ? WEBHOOK_FIELDS.consumerId.rule : null;
    case "description":
      return v.description.length > 1000 ? `is ${v.description.length} characters: at most 1,000 are allowed` : null;
    case "headers":
      return parseHeaders(v.headers).problem;
    case "rateLimitPerMinute": {
      const n = wholeNumber(v.rateLimitPerMinute);
      if (v.rateLimitPerMinuteBad || Number.isNaN(n)) return "must be a whole number (or empty for no limit)";
      return n !== null && (n < 1 || n > 100000) ? "must be from 1 to 100,000 a minute, or empty for no limit" : null;
    }
    case "maxConcurrency": {
      const n = wholeNumber(v.maxConcurrency);
      if (v.maxConcurrencyBad || Number.isNaN(n)) return "must be a whole number from 1 to 100";
      if (n === null) return "is required: how many attempts may run at once, from 1 to 100";
      return n < 1 || n > 100 ? `must be from 1 to 100 (${n} is not)` : null;
    }
    case "retrySchedule":
      return parseSchedule(v.retrySchedule).problem;
  }
  return null;
}

// ---------------------------------------------------------------- errors on the page

/** "Max concurrency must be …", "Retry schedule: “x” is not …": a label and a problem as one sentence. */
export function sentence(label, words) {
  return /^(is|are|must|has|have|lists|cannot|should)\b/.test(words) ? `${label} ${words}` : `${label}: ${words}`;
}

/** The input of a field the API names (`headers.Host` → the `headers` box). */
export function inputFor(form, name) {
  const root = name.split(/[.[]/)[0];
  return root ? form.querySelector(`[name="${CSS.escape(root)}"]`) : null;
}

/** The label the page shows for an input (the `field()` label's text), or null. */
function labelOf(input) {
  return input?.closest("label.field")?.querySelector(":scope > span")?.textContent ?? null;
}

// serde's words for a body of the wrong shape: never shown to a user as they are
const PARSER_WORDS = /invalid type|invalid value|invalid length|expected (a|an|one|struct|map|sequence)|unknown variant|missing field|data did not match/i;

/**
 * A server error in words: "Retry schedule, item 2: must be …". A parser's message
 * (`invalid type: null, expected an integer`) is replaced by the field's rule.
 */
export function errorWords(form, { field: name, message }) {
  const root = name.split(/[.[]/)[0];
  const known = WEBHOOK_FIELDS[root];
  const label = labelOf(inputFor(form, name)) ?? known?.label ?? (root || "The request");
  const index = /^[^[]*\[(\d+)\]/.exec(name);
  const key = /^[^.]+\.(.+)$/.exec(name);
  const where = index ? `, item ${Number(index[1]) + 1}` : key && root === "headers" ? ` (${key[1]})` : "";
  let words = message;
  if (PARSER_WORDS.test(message)) words = known ? (where && known.itemRule) || known.rule : "has a value of the wrong kind";
  return sentence(`${label}${where}`, words);
}

/**
 * Shows `errors` ([{field, message}], all at once) beside their fields, replacing the
 * errors shown before; an error whose field is not on the form shows in the flash. Each
 * input with an error gets `aria-invalid`. Returns the words shown.
 */
export function showFieldErrors(form, errors) {
  clearFieldErrors(form);
  const byInput = new Map();
  const elsewhere = [];
  for (const e of errors) {
    const input = inputFor(form, e.field);
    const words = e.words ?? errorWords(form, e);
    if (input) byInput.set(input, [...(byInput.get(input) ?? []), words]);
    else elsewhere.push(words);
  }
  for (const [input, words] of byInput) setFieldError(input, words.join(" · "));
  const all = [...[...byInput.values()].flat(), ...elsewhere];
  if (all.length) flash(all.length === 1 ? all[0] : `${all.length} fields need a change: ${all.join("; ")}`, "error");
  return all;
}

/**
 * Reports an API error: in the flash, and beside the fields a 422 names, in words (the
 * field's label and the rule, never a parser's message). The one way every page does it.
 */
export function showError(err, form) {
  if (form && err instanceof ApiError && err.errors.length) showFieldErrors(form, err.errors);
  else flash(err.message, "error");
}

/** Shows (or, with null, clears) one input's error, right after the input. */
export function setFieldError(input, words) {
  const old = input.parentElement?.querySelector(`:scope > .field-error[data-for="${CSS.escape(input.name)}"]`);
  if (!words) {
    old?.remove();
    input.removeAttribute("aria-invalid");
    return;
  }
  const note = old ?? h("small", { class: "field-error", "data-for": input.name, role: "alert" });
  note.textContent = words;
  if (!old) input.after(note);
  input.setAttribute("aria-invalid", "true");
}

export function clearFieldErrors(form) {
  for (const old of form.querySelectorAll(".field-error")) old.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}
