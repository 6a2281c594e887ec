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

/** A short, copyable id. */
export const shortId = (id) => h("code", { title: id, class: "id" }, id ? id.slice(-12) : "—");

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

/** Two overlapping sheets, drawn (a glyph for it is missing from many fonts). */
function copyIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  for (const [x, y] of [[5, 1], [1, 5]]) {
    const r = document.createElementNS(ns, "rect");
    for (const [k, v] of Object.entries({ x, y, width: 10, height: 10, rx: 1.5 })) r.setAttribute(k, v);
    svg.append(r);
  }
  return svg;
}

/**
 * The one button that copies text to the clipboard. `id: true` makes it an id's small
 * button (the icon, the id in its tooltip and in the message); otherwise it shows `label`
 * and never repeats the text (it may be a secret).
 */
export function copyButton(text, { label, id = false } = {}) {
  const b = id
    ? h("button", { type: "button", class: "secondary copy copy-id", title: `Copy id ${text}`, "aria-label": `Copy id ${text}`, "data-id": text }, label ?? copyIcon())
    : h("button", { type: "button", class: "secondary copy" }, label ?? "Copy");
  b.addEventListener("click", () =>
    navigator.clipboard.writeText(text).then(
      () => flash(id ? `Copied ${text}.` : "Copied."),
      () => flash(id ? `The browser refused the clipboard: the id is ${text}.` : "The browser refused the clipboard: select the text and copy it.", "error"),
    ),
  );
  return b;
}
