// Building the page: every value goes in as a text node or an attribute, never as markup
// (webhook names, URLs, response bodies and headers come from other people).

/** An element: h("a", {href: "#/x", onclick: f}, "text", child, [more]). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "value") el.value = value;
    else if (key === "checked") el.checked = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `el` holds. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A link inside the app (the routes are fragments: `#/webhooks`). */
export const link = (route, ...children) => h("a", { href: "#" + route }, ...children);

// Timestamps are time.js's (one format, the zone shown, the UTC toggle): kept here too so
// that older imports of `when` from dom.js show the same thing.
export { when } from "./time.js";

/** A short, copyable id. */
export const shortId = (id) => h("code", { title: id, class: "id" }, id ? id.slice(-12) : "—");

/** A table with a header row; `rows` are arrays of cells (or elements already made). */
export function table(headings, rows, empty = "Nothing here yet.") {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, headings.map((t) => h("th", {}, t)))),
    h("tbody", {}, rows.map((r) => (r instanceof Node ? r : h("tr", {}, r.map((c) => h("td", {}, c)))))),
  );
}

/** A labelled form field. */
export function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", {}, label), input, hint ? h("small", {}, hint) : null);
}

let flashTimer;
/** A short message at the top of the page (`kind`: "ok" or "error"). */
export function flash(message, kind = "ok") {
  const el = document.getElementById("flash");
  fill(el, h("p", { class: kind }, message));
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => el.replaceChildren(), kind === "error" ? 8000 : 4000);
}

/** The ISO form of a `datetime-local` input's value ("" → null). */
export function isoOrNull(local) {
  return local ? new Date(local).toISOString() : null;
}

/** A `datetime-local` value for a Date. */
export function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
