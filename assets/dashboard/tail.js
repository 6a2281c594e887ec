// The live tail: attempts as they are recorded (`/api/v1/stream`), tenant-wide on its own
// page and per webhook on the webhook's Live tab. Rows name the webhook; Pause holds new
// rows back (buffered, shown on Resume) and Clear empties the table.

import { stream } from "./api.js";
import { h, fill } from "./dom.js";
import { attemptRow, ATTEMPT_HEADINGS } from "./views.js";
import { webhookDirectory, webhookRef } from "./deliveries.js";

const KEEP = 200; // rows shown
const BUFFER = 1000; // rows held while paused; beyond it the oldest held rows are dropped

/** The live tail into `el`, for one webhook or (null) all of them. Returns its cleanup. */
export function liveTail(el, webhookId) {
  const state = h("span", { class: "badge warn", id: "tail-state" }, "connecting");
  const withWebhook = !webhookId;
  const headings = withWebhook ? [...ATTEMPT_HEADINGS.slice(0, 2), "Webhook", ...ATTEMPT_HEADINGS.slice(2)] : ATTEMPT_HEADINGS;
  const tbody = h("tbody");
  const waiting = h("p", { class: "empty" }, "Waiting for attempts…");
  const pause = h("button", { type: "button", class: "secondary", id: "tail-pause" }, "Pause");
  const clear = h("button", { type: "button", class: "secondary", id: "tail-clear" }, "Clear");
  const held = h("span", { class: "hint", id: "tail-held" });
  let names = new Map();
  webhookDirectory().then((m) => (names = m), () => {});

  let paused = false;
  let buffer = [];
  let dropped = 0;
  const showHeld = () =>
    fill(held, paused ? `Paused: ${buffer.length} new attempt${buffer.length === 1 ? "" : "s"} held, shown on Resume${dropped ? ` (${dropped} older ones dropped)` : ""}.` : "");

  const show = (a) => {
    const tr = attemptRow(a);
    if (withWebhook) {
      const cell = h("td", { class: "webhook-cell" });
      const put = (m) => fill(cell, webhookRef(a.webhookId, m.get(a.webhookId)));
      put(names);
      // a webhook made since the names were loaded: ask again (the directory refreshes)
      if (!names.has(a.webhookId)) webhookDirectory().then(put, () => {});
      tr.insertBefore(cell, tr.children[2]);
    }
    tbody.prepend(tr);
    while (tbody.children.length > KEEP) tbody.lastChild.remove();
    waiting.hidden = true;
  };
  const arrive = (a) => {
    if (!paused) return show(a);
    buffer.push(a);
    if (buffer.length > BUFFER) {
      buffer.shift();
      dropped++;
    }
    showHeld();
  };
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    if (!paused) {
      for (const a of buffer) show(a);
      buffer = [];
      dropped = 0;
    }
    showHeld();
  });
  clear.addEventListener("click", () => {
    tbody.replaceChildren();
    buffer = [];
    dropped = 0;
    waiting.hidden = false;
    showHeld();
  });

  fill(
    el,
    h("div", { class: "toolbar tail-tools" }, h("span", {}, "Stream: "), state, pause, clear, held),
    h("table", { class: "tail" }, h("thead", {}, h("tr", {}, headings.map((t) => h("th", {}, t)))), tbody),
    waiting,
  );
  const source = stream(webhookId);
  source.addEventListener("open", () => fill(state, "live").setAttribute("class", "badge ok"));
  source.addEventListener("attempt", (e) => arrive(JSON.parse(e.data)));
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
