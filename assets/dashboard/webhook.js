// One webhook: its settings and actions, attempt log, stats, deliveries and live tail,
// each a tab of its own route (`#/webhooks/<id>/<tab>`).

import { session, get, post, patch, del, query } from "./api.js";
import { h, fill, field, flash, isoOrNull, localInput } from "./dom.js";
import { when } from "./time.js";
import { pagedTable, showError, secretBox, webhookState, deliveryStatus, attemptRow, ATTEMPT_HEADINGS, liveTail } from "./views.js";
import { deliveriesTable } from "./deliveries.js";
import { statsPanel } from "./stats.js";
import { webhookForm } from "./webhook-form.js";
import { healthLine } from "./health.js";
import { showFieldErrors, clearFieldErrors } from "./form.js";

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
    h("div", { class: "title" }, h("h1", {}, w.name), h("span", { class: "health-state" }, webhookState(w))),
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
      return panel.load();
    }
    case "deliveries": {
      const list = h("div");
      const loadTable = async () => {
        const table = deliveriesTable({ webhookId: id });
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
        ? action("Deactivate", async () => (await patch(`/webhooks/${w.id}`, { active: false }), flash("Deactivated: deliveries wait until it is active again."), reload()))
        : action("Activate", async () => (await patch(`/webhooks/${w.id}`, { active: true }), flash("Activated."), reload()), "primary"),
      action("Reveal secret", async () => {
        const s = await get(`/webhooks/${w.id}/secret`);
        fill(shown, secretBox("Signing secret", s.secret), s.previousSecretExpiresAt ? h("p", { class: "hint" }, "The previous secret still signs until ", when(s.previousSecretExpiresAt), ".") : null);
      }),
      action("Rotate secret", async () => {
        if (!confirm("Rotate the signing secret? The current one keeps signing alongside the new one for 24 hours.")) return;
        const s = await post(`/webhooks/${w.id}/rotate-secret`);
        fill(shown, secretBox("New signing secret", s.secret));
        flash("Secret rotated.");
      }),
      action(
        "Delete",
        async () => {
          if (!confirm(`Delete the webhook ${w.name} with its deliveries and logs? This cannot be undone.`)) return;
          await del(`/webhooks/${w.id}`);
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
      await patch(`/webhooks/${w.id}`, changes);
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
    const params = { status: status.value, eventType: eventType.value, since: isoOrNull(since.value), until: isoOrNull(until.value) };
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

const MINUTE = 60e3;

/**
 * Recover: re-queue the webhook's failed deliveries created in [since, until). Asks first,
 * in the page, saying how many it will re-queue — the webhook's stats over the same window
 * count them (`deliveries.failed`: deliveries created in the window that ended failed,
 * exactly the ones recover takes). The stats widen a window to whole minutes: `since` is
 * a whole minute (a datetime-local input has no seconds) and `until` is either one too or
 * "now", past which no delivery exists yet, so both count the same deliveries.
 * `onDone` runs after the recovery (the deliveries table reloads).
 */
function recoverPanel(w, onDone) {
  const since = h("input", { name: "since", type: "datetime-local", required: true, value: localInput(new Date(Date.now() - 24 * 3600e3)) });
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
    const from = since.value ? new Date(since.value) : null;
    const to = until.value ? new Date(until.value) : new Date();
    if (!from) errors.push({ field: "since", words: "Failed since is required: the time from which to recover" });
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
      // one bar a day keeps the answer small (the count is the window's, whatever the buckets)
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
        h("p", {}, h("strong", { class: "recover-count", "data-count": n }, `${n} failed ${n === 1 ? "delivery" : "deliveries"}`), " created between ", ...range, ` will be re-queued: each gets a new series of attempts, following the webhook's schedule.`),
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
      // the recovery runs in the background: follow it until it is done
      while (r.status === "running" && form.isConnected) {
        fill(state, `Re-queued ${r.deliveries} so far…`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        r = await get(`/webhooks/${w.id}/recoveries/${r.id}`);
      }
      fill(state, `Recovery done: ${r.deliveries} ${r.deliveries === 1 ? "delivery" : "deliveries"} re-queued.`);
      state.dataset.deliveries = r.deliveries;
      flash(`${r.deliveries} ${r.deliveries === 1 ? "delivery" : "deliveries"} re-queued.`);
      await onDone();
    } catch (err) {
      confirm.disabled = cancel.disabled = false;
      showError(err, form);
    } finally {
      start.disabled = false;
    }
  };

  return h("div", { class: "card recover" }, h("h3", {}, "Recover failed deliveries"), form, ask, state);
}
