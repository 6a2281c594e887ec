// A payload exactly as published, shared by the event and delivery pages.
//
// "Exactly as published": `data` may hold numbers that JSON.parse would round
// (12345678901234567890123, 0.10000000000000000000001), so the payload shown is never a
// parsed-and-printed value: it is the `data` member's text cut out of the answer as the
// server wrote it, re-indented token by token at most. It always goes in as text.

import { getRaw } from "./api.js";
import { h, copyButton } from "./dom.js";

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

/** True when `text` is one JSON value (the parsed value itself is never shown: see above). */
export function isJson(text) {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A payload as text, with a copy button for the raw text. JSON is re-indented by default
 * (prettyJson: the raw tokens, never a parsed value), "as sent" (the raw text) on a
 * toggle; anything else (XML, a form, plain text from a source) is shown exactly as it
 * is, with no toggle.
 */
export function payloadView(raw, { label = "Payload" } = {}) {
  let formatted = raw;
  if (isJson(raw)) {
    try {
      formatted = prettyJson(raw);
    } catch {
      formatted = raw;
    }
  }
  const code = h("pre", { class: "payload", "aria-label": label }, formatted);
  let toggle = null;
  if (formatted !== raw) {
    let compact = false;
    toggle = h("button", { type: "button", class: "secondary copy" }, "Show as sent");
    toggle.addEventListener("click", () => {
      compact = !compact;
      code.textContent = compact ? raw : formatted;
      toggle.textContent = compact ? "Show formatted" : "Show as sent";
    });
  }
  return h("div", { class: "payload-box" }, h("div", { class: "payload-tools" }, toggle, copyButton(raw)), code);
}

/** An event read with its raw text: `{event, data}`, `data` the raw `data` member. */
export async function rawEvent(id) {
  const { value, text } = await getRaw(`/events/${encodeURIComponent(id)}`);
  return { event: value, data: rawMember(text, "data") ?? "null" };
}

export const isOperational = (type) => type.startsWith("hookrelay.");

export function eventType(type) {
  return h(
    "span",
    { class: "event-type" },
    h("code", {}, type),
    isOperational(type) ? h("span", { class: "badge info", title: "Published by hookrelay itself (endpoint health)" }, "operational") : null,
  );
}

