// One inbound source (`#/sources/<id>`): what to paste into the provider's console, its
// actions (activate, rotate the URL, delete), its request log with each verdict, and the
// dry run of its checks on a request pasted from the provider's console.

import { get, post, patch, del, query } from "./api.js";
import { h, fill, field, flash, shortId, copyButton } from "./dom.js";
import { when } from "./time.js";
import { pagedTable } from "./views.js";
import { showError } from "./form.js";
import { PROVIDERS, providerLabel, sourceState, pastePanel, takeCreated } from "./sources.js";

/** The failed check of a rejection (SPEC: the 401's `detail`), in words. */
export const CHECKS = {
  missing_signature: "No signature: the request lacks the signature header",
  malformed_signature: "Malformed signature: the header is there but cannot be read",
  signature_mismatch: "Signature does not match: another secret, or the body was changed on the way",
  timestamp_out_of_window: "Too old or too new: its timestamp is more than 5 minutes from now",
  wrong_credentials: "Wrong credentials: the token or header value differs",
};

/** Which secret or reading verified a request. */
const MATCHED = {
  current: "the current secret",
  previous: "the previous secret (changed in the last 24 h)",
  prefixed: "signed over hmacsha256= + body",
  body: "signed over the body alone",
};

const STATUS_CLASS = { accepted: "ok", duplicate: "", rejected: "bad", handshake: "info" };
const STATUS_TITLE = {
  accepted: "Verified, stored and published as an event",
  duplicate: "Verified, but its dedupe key was already accepted in the last 72 h: not published again",
  rejected: "Failed verification: answered 401",
  handshake: "The provider's set-up check, answered by hookrelay: not published",
};

export const requestStatus = (status) => h("span", { class: `badge ${STATUS_CLASS[status] ?? ""}`, title: STATUS_TITLE[status] }, status);

export function checkWords(check) {
  if (!check) return "—";
  return h("span", { class: "check" }, CHECKS[check] ?? check, " ", h("code", { class: "check-code" }, check));
}

export async function sourcePage(el, id) {
  const created = takeCreated(id);
  draw(el, created ?? (await get(`/sources/${id}`)), Boolean(created));
  return null;
}

function draw(el, s, created) {
  const reload = () => dispatchEvent(new HashChangeEvent("hashchange"));
  const action = (label, run, cls = "secondary") => {
    const b = h("button", { type: "button", class: cls }, label);
    b.addEventListener("click", () => run().catch((err) => showError(err)));
    return b;
  };
  const preset = PROVIDERS[s.provider];
  const log = requestLog(s);
  fill(
    el,
    h("div", { class: "title" }, h("h1", {}, s.name), sourceState(s)),
    h("p", { class: "hint" }, providerLabel(s.provider), " source · ", s.eventType ? ["every request is published as ", h("code", {}, s.eventType)] : "the event type is derived from each request"),
    pastePanel(s, created),
    h(
      "div",
      { class: "actions" },
      s.active
        ? action("Deactivate", async () => (await patch(`/sources/${s.id}`, { active: false }), flash("Deactivated: its URL answers 410 until it is active again."), reload()))
        : action("Activate", async () => (await patch(`/sources/${s.id}`, { active: true }), flash("Activated: its URL accepts requests again."), reload()), "primary"),
      action("Rotate URL", async () => {
        if (!confirm(`Give ${s.name} a new ingest URL? The current one keeps working for 48 hours: paste the new one into ${preset?.label ?? s.provider} before then.`)) return;
        const rotated = await post(`/sources/${s.id}/rotate-url`);
        flash("New ingest URL: paste it into the provider's console.");
        draw(el, rotated, false);
      }),
      action(
        "Delete",
        async () => {
          if (!confirm(`Delete the source ${s.name}? Its URL stops working at once; its logged requests and their events stay until retention. This cannot be undone.`)) return;
          await del(`/sources/${s.id}`);
          flash(`Source ${s.name} deleted.`);
          location.hash = "#/sources";
        },
        "danger",
      ),
    ),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Id"),
      h("dd", {}, h("code", {}, s.id), " ", copyButton(s.id, { id: true, label: "Copy" })),
      h("dt", {}, "Provider"),
      h("dd", {}, providerLabel(s.provider)),
      h("dt", {}, "Event type"),
      h("dd", {}, s.eventType ?? "derived from each request"),
      h("dt", {}, "Consumer"),
      h("dd", {}, s.consumerId ?? "—"),
      Object.entries(s.config || {}).map(([k, v]) => [
        h("dt", {}, preset?.fields.find((f) => f.name === k)?.label ?? k),
        h("dd", {}, v === "" ? "(empty)" : h("code", {}, String(v))),
      ]),
      h("dt", {}, "Created"),
      h("dd", {}, when(s.createdAt)),
      h("dt", {}, "Updated"),
      h("dd", {}, when(s.updatedAt)),
    ),
    h("h2", {}, "Request log"),
    h("p", { class: "hint" }, "Every request that reached the ingest URL, rejected ones included, newest first. Signatures and credentials are shown as ****."),
    log.el,
    h("h2", {}, "Check a request"),
    dryRun(s),
  );
  log.load().catch((err) => showError(err));
}

/** A logged request: its verdict in a row, its query, headers and body in a full-width row under it. */
function requestRow(r) {
  const headers = Object.entries(r.headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
  const more = h(
    "tr",
    { class: "request-details", "data-for": r.id, hidden: true },
    h(
      "td",
      { colspan: 7 },
      h(
        "dl",
        {},
        h("dt", {}, "Request"),
        h("dd", {}, h("code", {}, r.id)),
        h("dt", {}, "Query"),
        h("dd", {}, r.query ? h("code", { class: "query" }, `?${r.query}`) : "—"),
        h("dt", {}, "Dedupe key"),
        h("dd", {}, r.dedupeKey ? h("code", {}, r.dedupeKey) : "—"),
        h("dt", {}, "Headers"),
        h("dd", {}, headers ? h("pre", { class: "response-body request-headers" }, headers) : "—"),
        h("dt", {}, "Body"),
        h(
          "dd",
          {},
          r.body === "" ? "(empty)" : h("pre", { class: "response-body request-body" }, r.body),
          r.bodyTruncated ? h("small", { class: "hint" }, "The first 64 KiB only: the rest was received but is not shown.") : null,
        ),
      ),
    ),
  );
  const toggle = h("button", { type: "button", class: "link toggle", "aria-expanded": "false" }, "Headers and body");
  toggle.addEventListener("click", () => {
    more.hidden = !more.hidden;
    toggle.setAttribute("aria-expanded", String(!more.hidden));
    fill(toggle, more.hidden ? "Headers and body" : "Hide");
  });
  const row = h(
    "tr",
    { class: `inbound-request ${r.status}`, "data-id": r.id, "data-status": r.status },
    h("td", {}, when(r.receivedAt)),
    h("td", {}, r.method),
    h("td", {}, requestStatus(r.status)),
    h("td", {}, checkWords(r.check)),
    h("td", {}, r.matched ? MATCHED[r.matched] ?? r.matched : "—"),
    h("td", { class: "event-cell" }, r.eventId ? [h("a", { href: `#/events/${r.eventId}`, title: "The event it published" }, shortId(r.eventId)), " ", copyButton(r.eventId, { id: true })] : "—"),
    h("td", {}, toggle),
  );
  const both = document.createDocumentFragment();
  both.append(row, more);
  return both;
}

function requestLog(s) {
  const status = h(
    "select",
    { name: "status" },
    [
      ["", "any status"],
      ["accepted", "accepted"],
      ["duplicate", "duplicate"],
      ["rejected", "rejected"],
      ["handshake", "handshake"],
    ].map(([v, label]) => h("option", { value: v }, label)),
  );
  const list = h("div");
  const form = h("form", { class: "toolbar", id: "request-filters" }, field("Status", status), h("button", { type: "submit", class: "secondary" }, "Refresh"));
  const load = async () => {
    const table = pagedTable(
      ["Received", "Method", "Status", "Failed check", "Verified with", "Event", ""],
      (cursor) => get(`/sources/${s.id}/requests${query({ status: status.value, cursor })}`),
      requestRow,
      status.value ? `No ${status.value} requests.` : "No requests yet: they show here as soon as the provider sends one.",
    );
    fill(list, table.el);
    await table.next();
  };
  const reload = () => load().catch((err) => showError(err, form));
  status.addEventListener("change", reload);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    reload();
  });
  return { el: h("div", { class: "request-log" }, form, list), load };
}

/** `POST /sources/{id}/verify`: the checks on a request pasted from the provider's console. */
function dryRun(s) {
  const method = h("select", { name: "method" }, ["POST", "GET"].map((m) => h("option", { value: m }, m)));
  const q = h("input", { name: "query", placeholder: "a=1&b=2 (optional)" });
  const headers = h("textarea", { name: "headers", rows: 4, placeholder: "X-Hub-Signature-256: sha256=…\nContent-Type: application/json", spellcheck: "false" });
  const body = h("textarea", { name: "body", rows: 4, placeholder: '{"the": "body, byte for byte"}', spellcheck: "false" });
  const result = h("div", { class: "dry-run-result", role: "status" });
  const form = h(
    "form",
    { class: "card", id: "dry-run" },
    h("p", { class: "hint" }, "Paste a request from the provider's console or logs: hookrelay runs this source's checks on it and stores nothing."),
    h("div", { class: "row" }, field("Method", method), field("Query", q)),
    field("Headers", headers, "One per line: Name: value"),
    field("Body", body, "Exactly as sent: a changed space changes the signature"),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "Check")),
    result,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const pasted = Object.fromEntries(
      headers.value
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => {
          const at = l.indexOf(":");
          return at < 0 ? [l.trim(), ""] : [l.slice(0, at).trim(), l.slice(at + 1).trim()];
        }),
    );
    try {
      const v = await post(`/sources/${s.id}/verify`, { method: method.value, query: q.value.replace(/^\?/, ""), headers: pasted, body: body.value });
      fill(
        result,
        requestStatus(v.status),
        " ",
        v.check ? checkWords(v.check) : null,
        v.matched ? ` Verified with ${MATCHED[v.matched] ?? v.matched}.` : null,
        v.eventType ? [" Event type ", h("code", {}, v.eventType), "."] : null,
        v.dedupeKey ? [" Dedupe key ", h("code", {}, v.dedupeKey), "."] : null,
      );
    } catch (err) {
      showError(err, form);
    }
  });
  return form;
}
