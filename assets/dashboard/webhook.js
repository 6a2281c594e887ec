// One webhook: its settings and actions, attempt log, stats, deliveries and live tail,
// each a tab of its own route (`#/webhooks/<id>/<tab>`).

import { session, get, post, patch, del, query } from "./api.js";
import { h, fill, field, flash, when, isoOrNull, localInput } from "./dom.js";
import {
  pagedTable,
  showError,
  secretBox,
  webhookState,
  attemptRow,
  ATTEMPT_HEADINGS,
  statsPanel,
  deliveriesTable,
  webhookForm,
  liveTail,
} from "./views.js";

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
    h("div", { class: "title" }, h("h1", {}, w.name), webhookState(w)),
    w.kind === "relay" ? relayStatus(w) : h("p", {}, h("code", { class: "url" }, w.url)),
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
      const table = deliveriesTable({ webhookId: id });
      fill(body, recoverForm(w), table.el);
      return table.next();
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
    const table = pagedTable(ATTEMPT_HEADINGS, (cursor) => get(`/webhooks/${w.id}/logs${query({ ...params, cursor })}`), attemptRow, "No attempts match.");
    fill(list, table.el);
    await table.next();
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load().catch((err) => showError(err, form));
  });
  fill(body, form, list);
  return load();
}

function recoverForm(w) {
  const since = h("input", { name: "since", type: "datetime-local", required: true, value: localInput(new Date(Date.now() - 24 * 3600e3)) });
  const until = h("input", { name: "until", type: "datetime-local" });
  const state = h("span", { class: "recovery" });
  const form = h(
    "form",
    { class: "toolbar", id: "recover" },
    field("Failed since", since),
    field("Until", until, "Empty: now"),
    h("button", { type: "submit", class: "secondary" }, "Recover failed deliveries"),
    state,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      let r = await post(`/webhooks/${w.id}/recover`, { since: isoOrNull(since.value), ...(until.value ? { until: isoOrNull(until.value) } : {}) });
      // the recovery runs in the background: follow it until it is done
      while (r.status === "running" && form.isConnected) {
        fill(state, `Re-queued ${r.deliveries} so far…`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        r = await get(`/webhooks/${w.id}/recoveries/${r.id}`);
      }
      fill(state, `Recovery done: ${r.deliveries} ${r.deliveries === 1 ? "delivery" : "deliveries"} re-queued.`);
    } catch (err) {
      showError(err, form);
    }
  });
  return form;
}
