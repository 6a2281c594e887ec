// The dashboard's entry point: the session, the navigation and the routes (fragments
// such as `#/webhooks/<id>/logs`), each route drawn by a view into <main>.

import { session, startSession, logIn, logOut, setUnauthorizedHandler, post } from "./api.js";
import { h, fill, field, flash } from "./dom.js";
import { when, zoneToggle } from "./time.js";
import * as views from "./views.js";
import { webhookPage, newWebhook } from "./webhook.js";
import { sources, newSource } from "./sources.js";
import { sourcePage } from "./source.js";
import { deliveries, delivery } from "./deliveries.js";
import { tail } from "./tail.js";
import { EVENT_ROUTES } from "./events.js";

const main = document.getElementById("main");

/** Routes: a pattern of path segments (`:id` takes one) and the view that draws it. */
const routes = [
  ["webhooks", views.webhooks],
  ["webhooks/new", newWebhook],
  ["webhooks/:id", (el, p) => webhookPage(el, p.id, "settings")],
  ["webhooks/:id/:tab", (el, p) => webhookPage(el, p.id, p.tab)],
  ...EVENT_ROUTES,
  ["deliveries", deliveries],
  ["deliveries/:id", (el, p) => delivery(el, p.id)],
  ["tail", tail],
  ["stats", views.tenantStats, "tenant"],
  ["api-keys", views.apiKeys, "tenant"],
  ["sources", sources, "tenant"],
  ["sources/new", newSource, "tenant"],
  ["sources/:id", (el, p) => sourcePage(el, p.id), "tenant"],
];

function match(route) {
  const parts = route.split("/").filter(Boolean);
  for (const [pattern, view, only] of routes) {
    const want = pattern.split("/");
    if (want.length !== parts.length) continue;
    const params = {};
    if (want.every((w, i) => (w.startsWith(":") ? ((params[w.slice(1)] = decodeURIComponent(parts[i])), true) : w === parts[i]))) {
      if (only && only !== session.mode) return null;
      return { view, params };
    }
  }
  return null;
}

/**
 * The view of the current fragment. Views may keep a stream or a listener open: the
 * cleanup they return ends it. A view still loading when the fragment changes again is
 * cleaned up as soon as it returns (`shown` counts the renders).
 */
let cleanup = null;
let shown = 0;
async function render() {
  const mine = ++shown;
  if (cleanup) cleanup();
  cleanup = null;
  // a portal link opened in a tab already on the portal only changes the fragment
  if (session.mode === "portal" && /[#&]token=/.test(location.hash)) {
    startSession();
    brand();
  }
  const route = location.hash.replace(/^#\/?/, "").split("?")[0];
  nav(route);
  if (!session.token) {
    if (session.mode === "portal") portalGone();
    else loginPage();
    return;
  }
  const found = match(route);
  if (!found) {
    location.replace("#/webhooks");
    return;
  }
  const el = h("section", { class: "view" });
  fill(main, el);
  try {
    const done = (await found.view(el, found.params)) || null;
    if (mine === shown) cleanup = done;
    else done?.();
  } catch (err) {
    fill(el, h("p", { class: "error" }, err.message));
  }
}

function nav(route) {
  const items = session.token
    ? [
        ["webhooks", "Webhooks"],
        ...(session.mode === "tenant" ? [["events", "Events"]] : []),
        ["deliveries", "Deliveries"],
        ["tail", "Live tail"],
        ...(session.mode === "tenant" ? [["sources", "Sources"], ["stats", "Stats"], ["api-keys", "API keys"]] : []),
      ]
    : [];
  fill(
    document.getElementById("nav"),
    items.map(([r, label]) => h("a", { href: `#/${r}`, class: route.split("/")[0] === r ? "current" : null }, label)),
  );
  const who = document.getElementById("who");
  if (!session.token) fill(who, zoneToggle());
  else if (session.mode === "portal")
    // the header names the tenant (brand()), never the internal consumer id: that is only
    // in the tooltip, for a support conversation
    fill(
      who,
      zoneToggle(),
      h(
        "small",
        { class: "portal-session", title: session.consumerId ? `Portal session of account ${session.consumerId}` : null },
        session.expiresAt ? ["Session until ", when(session.expiresAt.toISOString())] : null,
      ),
    );
  else
    fill(
      who,
      zoneToggle(),
      h("a", { href: "/docs" }, "API docs"),
      " ",
      h("button", { type: "button", class: "link", id: "logout", onclick: () => (logOut(), render()) }, "Log out"),
    );
}

/** The header's brand: the tenant's name in its portal ("Webhooks" when the token has none). */
function brand() {
  const el = document.querySelector("#top .brand");
  if (session.mode === "portal") {
    el.textContent = session.tenantName ?? "Webhooks";
    el.title = session.tenantName ? `${session.tenantName}: webhooks` : "";
    document.title = session.tenantName ? `${session.tenantName} · Webhooks` : "Webhooks";
  }
}

function loginPage() {
  const email = h("input", { type: "email", name: "email", required: true, autocomplete: "username" });
  const password = h("input", { type: "password", name: "password", required: true, autocomplete: "current-password", minlength: 8 });
  const organization = h("input", { type: "text", name: "organization", placeholder: "only to sign up" });
  const logInWith = async () => {
    const answer = await post("/auth/login", { email: email.value, password: password.value });
    logIn(answer.accessToken);
    render();
  };
  const form = h(
    "form",
    {
      class: "card narrow",
      id: "login",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          if (e.submitter?.value === "register") {
            await post("/auth/register", { email: email.value, password: password.value, organization: organization.value });
            flash("Signed up. Welcome to hookrelay.");
          }
          await logInWith();
        } catch (err) {
          flash(err.message, "error");
        }
      },
    },
    h("h1", {}, "Log in to hookrelay"),
    field("E-mail", email),
    field("Password", password, "8 to 128 characters"),
    field("Organization", organization, "Only to sign up: the name of your team"),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", value: "login" }, "Log in"),
      h("button", { type: "submit", value: "register", class: "secondary" }, "Sign up"),
    ),
  );
  fill(main, form);
}

function portalGone() {
  fill(
    main,
    h(
      "div",
      { class: "card narrow" },
      h("h1", {}, "This portal session has ended"),
      h("p", {}, "Open the portal again from the page that showed it to you: each link opens one session."),
    ),
  );
}

setUnauthorizedHandler(() => {
  logOut();
  flash(session.mode === "portal" ? "The portal session has expired." : "Your session has expired: log in again.", "error");
  render();
});

startSession();
brand();
if (!location.hash || location.hash === "#") location.replace("#/webhooks");
window.addEventListener("hashchange", render);
render();
