// One webhook: the page that creates one, and a webhook's settings and actions, attempt
// log, stats, deliveries and live tail, each a tab of its own route
// (`#/webhooks/<id>/<tab>`). Every change to a webhook made here is followed by
// `forgetWebhooks()`, so that the tables show the webhook's new state at once.

import { session, get, post, patch, del, query } from "./api.js";
import { h, fill, field, flash } from "./dom.js";
import { when, inputToIso, isoToInput } from "./time.js";
import { pagedTable, secretBox, deliveryStatus, attemptRow, ATTEMPT_HEADINGS } from "./views.js";
import { deliveriesTable, forgetWebhooks } from "./deliveries.js";
import { liveTail } from "./tail.js";
import { statsPanel } from "./stats.js";
import { webhookForm } from "./webhook-form.js";
import { healthBadge, healthLine } from "./health.js";
import { showError, showFieldErrors, clearFieldErrors } from "./form.js";

/** A change to a webhook: the request, then what the dashboard knew of webhooks is forgotten. */
async function changed(request) {
  try {
    return await request;
  } finally {
    forgetWebhooks();
  }
}

export async function newWebhook(el) {
  fill(
    el,
    h("h1", {}, "New webhook"),
    webhookForm(null, "Create webhook", async (body) => {
      const w = await changed(post("/webhooks", body));
      flash(`Webhook ${w.name} created.`);
      location.hash = `#/webhooks/${w.id}`;
    }),
  );
}

const TABS = [
  ["settings", "Settings"],
  ["logs", "Attempt log"],
  ["stats", "Stats"],
  ["deliveries", "Deliveries"],
  ["live", "Live"],
];

export async function webhookPage(el, id, tab) {
  if (!TABS.some(([t]) => t === tab)) {
    location.replace(`#/webhooks/${id}`);
    return null;
  }
  const w = await get(`/webhooks/${id}`);
  const body = h("div", { class: "tab-body" });
  fill(
    el,
    // health at a glance: the state in colour and words, then the last 24 h
    h("div", { class: "title" }, h("h1", {}, w.name), h("span", { class: "health-state" }, healthBadge(w))),
    w.kind === "relay" ? relayStatus(w) : h("p", {}, h("code", { class: "url" }, w.url)),
    healthLine(w),
    h("nav", { class: "tabs" }, TABS.map(([t, label]) => h("a", { href: `#/webhooks/${id}${t === "settings" ? "" : `/${t}`}`, class: t === tab ? "current" : null }, label))),
    body,
  );
  switch (tab) {
    case "settings":
      return settings(body, w);
    case "logs":
      return logs(body, w);
    case "stats": {
      const panel = statsPanel(`/webhooks/${id}/stats`);
      fill(body, panel.el);
      try {
        await panel.load();
      } catch (err) {
        panel.stop();
        throw err;
      }
      // app.js calls it when the tab goes: the panel's zone listener ends with it
      return panel.stop;
    }
    case "deliveries": {
      const list = h("div");
      const loadTable = async () => {
        // the webhook as this page has just read it: its rows show its state as it is now
        const table = deliveriesTable({ webhookId: id }, { webhook: w });
        fill(list, table.el);
        await table.next();
      };
      // after a recovery the table is loaded again: its failed rows are pending now
      fill(body, recoverPanel(w, () => loadTable().catch((err) => showError(err))), list);
      return loadTable();
    }
    case "live":
      return liveTail(body, id);
  }
  return null;
}

/** A relay webhook in place of its url: the command that takes its deliveries and, for a
 * tenant (a portal session cannot read it), whether a listener is connected now. */
function relayStatus(w) {
  const command = h("p", {}, "Relay webhook: deliveries wait for ", h("code", {}, `hookrelay listen --webhook ${w.id} --forward-to <your local URL>`));
  if (session.mode !== "tenant") return command;
  const listener = h("p", { class: "relay-listener" }, "Checking for a listener…");
  get(`/relay/webhooks/${w.id}`)
    .then((s) => {
      listener.dataset.connected = s.connected;
      if (s.connected) fill(listener, "Listener connected since ", when(s.connectedSince), ` (${s.listeners.map((l) => l.host).join(", ")})`);
      else fill(listener, "No listener connected: deliveries wait (up to HOOKRELAY_RELAY_HOLD, then fail as relay_offline)");
    })
    .catch((err) => fill(listener, `Listener status unavailable: ${err.message}`));
  return h("div", { class: "relay" }, command, listener);
}

function settings(body, w) {
  const shown = h("div", { id: "secret" });
  const action = (label, run, cls = "secondary") => {
    const b = h("button", { type: "button", class: cls }, label);
    b.addEventListener("click", () => run().catch((err) => showError(err)));
    return b;
  };
  const reload = () => dispatchEvent(new HashChangeEvent("hashchange"));
  const eventType = h("input", { name: "eventType", placeholder: "test.event", value: w.events.find((e) => !e.includes("*")) ?? "" });
  const test = h(
    "form",
    { class: "toolbar", id: "send-test" },
    field("Test event type", eventType),
    h("button", { type: "submit" }, "Send test event"),
  );
  test.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const sent = await post(`/webhooks/${w.id}/test`, eventType.value ? { eventType: eventType.value } : {});
      flash(`Test event ${sent.id} sent: see the attempt log.`);
    } catch (err) {
      showError(err, test);
    }
  });
  fill(
    body,
    h(
      "div",
      { class: "actions" },
      w.active
        ? action("Deactivate", async () => (await changed(patch(`/webhooks/${w.id}`, { active: false })), flash("Deactivated: deliveries wait until it is active again."), reload()))
        : action("Activate", async () => (await changed(patch(`/webhooks/${w.id}`, { active: true })), flash("Activated."), reload()), "primary"),
      action("Reveal secret", async () => {
        const s = await get(`/webhooks/${w.id}/secret`);
        fill(shown, secretBox("Signing secret", s.secret), s.previousSecretExpiresAt ? h("p", { class: "hint" }, "The previous secret still signs until ", when(s.previousSecretExpiresAt), ".") : null);
      }),
      action("Rotate secret", async () => {
        if (!confirm("Rotate the signing secret? The current one keeps signing alongside the new one for 24 hours.")) return;
        const s = await changed(post(`/webhooks/${w.id}/rotate-secret`));
        fill(shown, secretBox("New signing secret", s.secret));
        flash("Secret rotated.");
      }),
      action(
        "Delete",
        async () => {
          if (!confirm(`Delete the webhook ${w.name} with its deliveries and logs? This cannot be undone.`)) return;
          await changed(del(`/webhooks/${w.id}`));
          flash(`Webhook ${w.name} deleted.`);
          location.hash = "#/webhooks";
        },
        "danger",
      ),
    ),
    shown,
    test,
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Id"),
      h("dd", {}, h("code", {}, w.id)),
      h("dt", {}, "Consumer"),
      h("dd", {}, w.consumerId ?? "—"),
      h("dt", {}, "Created"),
      h("dd", {}, when(w.createdAt)),
      h("dt", {}, "Updated"),
      h("dd", {}, when(w.updatedAt)),
      w.disabledReason ? [h("dt", {}, "Disabled"), h("dd", {}, w.disabledReason, " since ", when(w.disabledAt))] : null,
      w.pausedUntil ? [h("dt", {}, "Paused until"), h("dd", {}, when(w.pausedUntil))] : null,
    ),
    h("h2", {}, "Edit"),
    webhookForm(w, "Save changes", async (changes) => {
      await changed(patch(`/webhooks/${w.id}`, changes));
      flash("Saved.");
      reload();
    }),
  );
  return null;
}

function logs(body, w) {
  const status = h("select", { name: "status" }, ["", "success", "failed"].map((s) => h("option", { value: s }, s || "any result")));
  const eventType = h("input", { name: "eventType", placeholder: "event type" });
  const since = h("input", { name: "since", type: "datetime-local" });
  const until = h("input", { name: "until", type: "datetime-local" });
  const form = h(
    "form",
    { class: "toolbar", id: "log-filters" },
    field("Result", status),
    field("Event type", eventType),
    field("Since", since),
    field("Until", until),
    h("button", { type: "submit" }, "Filter"),
  );
  const list = h("div");
  const load = async () => {
    const params = { status: status.value, eventType: eventType.value, since: inputToIso(since.value), until: inputToIso(until.value) };
    const table = pagedTable([...ATTEMPT_HEADINGS, "Delivery"], (cursor) => get(`/webhooks/${w.id}/logs${query({ ...params, cursor })}`), withRetry, "No attempts match.");
    fill(list, table.el);
    await table.next();
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    load().catch((err) => showError(err, form));
  });
  fill(body, form, list);
  return load();
}

/**
 * An attempt row with a last cell for its delivery: a failed attempt offers to retry the
 * delivery, and once retried the cell shows the delivery's state as read back at once
 * (pending: a new series of attempts), so the row never looks as if nothing happened.
 */
function withRetry(a) {
  const tr = attemptRow(a);
  const cell = h("td", { class: "delivery-cell" });
  if (!a.success && !a.test) {
    const button = h("button", { type: "button", class: "secondary retry" }, "Retry delivery");
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await post(`/deliveries/${a.deliveryId}/retry`);
        const d = await get(`/deliveries/${a.deliveryId}`);
        tr.dataset.delivery = d.status;
        fill(cell, deliveryStatus(d.status), h("small", { class: "hint" }, " retried"));
        flash("The delivery will be attempted again: its new attempts show here as they are made.");
      } catch (err) {
        button.disabled = false;
        // a delivery still pending cannot be retried (409): say what it is doing instead
        if (err.status === 409) fill(cell, deliveryStatus("pending"), h("small", { class: "hint" }, " still being attempted"));
        showError(err);
      }
    });
    cell.append(button);
  }
  tr.append(cell);
  return tr;
}

/**
 * Recover: re-queue the webhook's failed deliveries created in [since, until). Asks first,
 * in the page, saying how many it will re-queue — counted by the webhook's stats over the
 * same window (`deliveries.failed`: deliveries created in the window that ended failed).
 * The stats widen a window to whole minutes: `since` is a whole minute (a datetime-local
 * input has no seconds) and `until` is either one too or "now", past which no delivery
 * exists yet. The count is an upper bound, not an exact one: the stats' rollups are kept
 * 90 days, but finished deliveries are purged after the log retention
 * (HOOKRELAY_LOG_RETENTION, 30 days by default), and purged ones cannot be re-queued; the
 * question says so. The times typed are read in the zone the page shows (time.js).
 * `onDone` runs after the recovery (the deliveries table reloads).
 */
function recoverPanel(w, onDone) {
  const since = h("input", { name: "since", type: "datetime-local", required: true, value: isoToInput(Date.now() - 24 * 3600e3) });
  const until = h("input", { name: "until", type: "datetime-local" });
  const ask = h("div", { class: "recover-confirm", hidden: true, role: "alertdialog", "aria-live": "polite" });
  const state = h("p", { class: "recovery", "aria-live": "polite" });
  const start = h("button", { type: "submit", class: "secondary" }, "Recover failed deliveries…");
  const form = h(
    "form",
    { class: "toolbar", id: "recover", novalidate: true },
    field("Failed since", since, "Deliveries created from this time on"),
    field("Until", until, "Empty: now"),
    start,
  );
  for (const input of [since, until]) input.addEventListener("input", () => ((ask.hidden = true), (start.disabled = false), clearFieldErrors(form)));

  const chosenWindow = () => {
    const errors = [];
    // read in the zone the page shows times in (the UTC toggle), as the user sees them
    const fromIso = inputToIso(since.value);
    const toIso = until.value ? inputToIso(until.value) : new Date().toISOString();
    const from = fromIso ? new Date(fromIso) : null;
    const to = toIso ? new Date(toIso) : null;
    if (!from) errors.push({ field: "since", words: "Failed since is required: the time from which to recover" });
    else if (!to) errors.push({ field: "until", words: "Until is not a complete date and time" });
    else if (from < Date.now() - 90 * 24 * 3600e3) errors.push({ field: "since", words: "Failed since must be within the last 90 days" });
    else if (from >= to) errors.push({ field: until.value ? "until" : "since", words: until.value ? "Until must be after Failed since" : "Failed since must be in the past" });
    if (errors.length) {
      showFieldErrors(form, errors);
      return null;
    }
    return { since: from.toISOString(), until: to.toISOString() };
  };

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    fill(state);
    const span = chosenWindow();
    if (!span) return;
    start.disabled = true;
    try {
      // one bar a day keeps the answer small (the count is the window's, whatever the
      // buckets); an upper bound of what recover takes (see above)
      const stats = await get(`/webhooks/${w.id}/stats${query({ ...span, bucket: "1d" })}`);
      confirmStep(span, stats.deliveries);
    } catch (err) {
      start.disabled = false;
      showError(err, form);
    }
  });

  const confirmStep = (span, counts) => {
    const n = counts.failed;
    const range = [when(span.since), " and ", until.value ? when(span.until) : "now"];
    const cancel = h("button", { type: "button", class: "secondary", "data-action": "cancel" }, n ? "Cancel" : "Close");
    cancel.addEventListener("click", () => ((ask.hidden = true), (start.disabled = false)));
    const pendingNote = counts.pending
      ? h("p", { class: "hint" }, `${counts.pending} more ${counts.pending === 1 ? "delivery is" : "deliveries are"} still being attempted in this window: any that fail before you confirm are re-queued too.`)
      : null;
    if (!n) {
      fill(ask, h("p", {}, "No failed deliveries were created between ", ...range, ": there is nothing to re-queue."), pendingNote, h("div", { class: "actions" }, cancel));
    } else {
      const confirm = h("button", { type: "button", class: "primary", "data-action": "confirm" }, `Re-queue ${n} ${n === 1 ? "delivery" : "deliveries"}`);
      confirm.addEventListener("click", () => run(span, confirm, cancel));
      fill(
        ask,
        h(
          "p",
          {},
          h("strong", { class: "recover-count", "data-count": n }, `${n} failed ${n === 1 ? "delivery" : "deliveries"}`),
          " created between ",
          ...range,
          " will be re-queued, each with a new series of attempts following the webhook's schedule; any older than the log retention (30 days by default) are already purged and will not be.",
        ),
        pendingNote,
        h("div", { class: "actions" }, confirm, cancel),
      );
    }
    ask.hidden = false;
  };

  const run = async (span, confirm, cancel) => {
    confirm.disabled = cancel.disabled = true;
    try {
      let r = await post(`/webhooks/${w.id}/recover`, span);
      ask.hidden = true;
      // the recovery runs in the background: follow it while its page is shown
      while (r.status === "running" && form.isConnected) {
        fill(state, `Re-queued ${r.deliveries} so far…`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (!form.isConnected) break;
        r = await get(`/webhooks/${w.id}/recoveries/${r.id}`);
      }
      // the user went to another page mid-recovery: its count so far is no result, and
      // that page is not the place to report it (the recovery goes on in the server)
      if (!form.isConnected) return;
      if (r.status !== "done") {
        fill(state, `Recovery ${r.status}: ${r.deliveries} re-queued so far.`);
        return;
      }
      fill(state, `Recovery done: ${r.deliveries} ${r.deliveries === 1 ? "delivery" : "deliveries"} re-queued.`);
      state.dataset.deliveries = r.deliveries;
      flash(`${r.deliveries} ${r.deliveries === 1 ? "delivery" : "deliveries"} re-queued.`);
      await onDone();
    } catch (err) {
      confirm.disabled = cancel.disabled = false;
      if (form.isConnected) showError(err, form);
    } finally {
      start.disabled = false;
    }
  };

  return h("div", { class: "card recover" }, h("h3", {}, "Recover failed deliveries"), form, ask, state);
}
