// Inbound sources (SPEC "Inbound sources"): the list, the create form built from each
// provider's preset, and what to paste into the provider's console. One source's page
// and its request log are in source.js.

import { get, post, query, ApiError } from "./api.js";
import { h, fill, link, field, flash, copyButton } from "./dom.js";
import { when } from "./time.js";
import { pagedTable } from "./views.js";

const secret = (name, label, hint, extra = {}) => ({ name, label, hint, secret: true, required: true, ...extra });

/**
 * The providers' presets: their config fields (as the API names them), and where each
 * value goes in the provider's console. `paste` is shown beside the form and after create.
 */
export const PROVIDERS = {
  meta: {
    example: "meta.whatsapp_business_account.messages",
    label: "Meta (WhatsApp Cloud, Messenger, Instagram)",
    fields: [
      secret("appSecret", "App secret", "Your app's dashboard → App settings → Basic → App secret"),
      { name: "verifyToken", label: "Verify token", required: true, hint: "A string you choose: Meta sends it back once when you save the callback URL" },
    ],
    paste: "In your app's dashboard, WhatsApp (or Messenger, Instagram, Webhooks) → Configuration: Callback URL = the ingest URL, Verify token = the verify token. Then subscribe to the fields you want.",
  },
  viber: {
    example: "viber.message",
    label: "Viber",
    fields: [secret("authToken", "Auth token", "Your bot's token, from the Viber Admin Panel")],
    paste: "Call Viber's set_webhook with url = the ingest URL and your auth token in X-Viber-Auth-Token: hookrelay answers Viber's signed check itself.",
  },
  linkedin: {
    example: "linkedin.message",
    label: "LinkedIn",
    fields: [secret("clientSecret", "Client secret", "Developer Portal → your app → Auth → Client secret")],
    paste: "Developer Portal → your app → Webhooks: Webhook URL = the ingest URL. hookrelay answers LinkedIn's challenge itself.",
  },
  unipile: {
    example: "unipile.message_received",
    label: "Unipile",
    fields: [
      { name: "headerName", label: "Header name", placeholder: "X-Hookrelay-Token", hint: "Empty: X-Hookrelay-Token" },
      secret("headerValue", "Header value", "Empty: hookrelay generates one and shows it once, right after create", { required: false, placeholder: "generated when empty" }),
    ],
    paste: "When you create the webhook in Unipile (API or dashboard): request_url = the ingest URL, and add a custom header: name = the header name, value = the header value. Unipile signs nothing, so this header is the check.",
  },
  stripe: {
    example: "stripe.payment_intent.succeeded",
    label: "Stripe",
    fields: [secret("signingSecret", "Signing secret", "Dashboard → Developers → Webhooks → your endpoint → Signing secret (whsec_…)", { placeholder: "whsec_…", prefix: "whsec_" })],
    paste: "Dashboard → Developers → Webhooks → Add endpoint: Endpoint URL = the ingest URL. Then copy the endpoint's signing secret (whsec_…) into this source.",
  },
  github: {
    example: "github.issues.opened",
    label: "GitHub",
    fields: [secret("secret", "Secret", "A random string you choose: the same goes in GitHub's Secret box")],
    paste: "Repository or organization → Settings → Webhooks → Add webhook: Payload URL = the ingest URL, Content type = application/json, Secret = the secret you entered here.",
  },
  shopify: {
    example: "shopify.orders.create",
    label: "Shopify",
    fields: [secret("secret", "Secret", "Settings → Notifications → Webhooks: the key the webhooks are signed with (an app's: its client secret)")],
    paste: "Settings → Notifications → Webhooks → Create webhook (or your app's webhook subscription): URL = the ingest URL, format JSON.",
  },
  slack: {
    example: "slack.app_mention",
    label: "Slack",
    fields: [secret("signingSecret", "Signing secret", "api.slack.com → your app → Basic Information → App Credentials → Signing Secret")],
    paste: "api.slack.com → your app → Event Subscriptions: Request URL = the ingest URL. hookrelay answers the url_verification challenge itself.",
  },
  twilio: {
    example: "twilio.message",
    label: "Twilio",
    fields: [secret("authToken", "Auth token", "Console → Account Info → Auth Token")],
    paste: "Console → your phone number (or service) → Messaging or Voice: A message comes in = the ingest URL, HTTP POST.",
  },
  "standard-webhooks": {
    example: "invoice.paid",
    label: "Standard Webhooks (Svix and others)",
    fields: [secret("secret", "Secret", "The sender's endpoint secret (whsec_…)", { placeholder: "whsec_…", prefix: "whsec_" })],
    paste: "In the sender's webhook settings: endpoint URL = the ingest URL; copy the endpoint's secret (whsec_…) into this source.",
  },
  hmac: {
    label: "Other HMAC signature",
    fields: [
      secret("secret", "Secret", "The key the sender signs the body with"),
      { name: "header", label: "Signature header", required: true, placeholder: "X-Signature", hint: "The header that carries the signature" },
      { name: "algorithm", label: "Algorithm", required: true, options: ["sha256", "sha1", "sha512"] },
      { name: "encoding", label: "Encoding", required: true, options: ["hex", "base64"] },
      { name: "prefix", label: "Prefix", placeholder: "e.g. sha256=", hint: "Text before the signature in the header; empty: none" },
    ],
    paste: "Any sender that signs the raw body with an HMAC: URL = the ingest URL, and the header, algorithm, encoding and prefix as its documentation says. Needs an event type.",
    needsEventType: true,
  },
  none: {
    label: "No signature (the URL is the secret)",
    fields: [],
    paste: "Give the sender the ingest URL: anyone who has it can post, so keep it secret, and rotate it if it leaks. Needs an event type.",
    needsEventType: true,
  },
};

export const providerLabel = (p) => PROVIDERS[p]?.label ?? p;

/** The words for a field the API names (`config.appSecret` → "App secret"). */
function fieldLabel(provider, name) {
  const labels = { name: "Name", provider: "Provider", eventType: "Event type", consumerId: "Consumer id", active: "Active", config: "Settings" };
  if (labels[name]) return labels[name];
  const f = PROVIDERS[provider]?.fields.find((x) => `config.${x.name}` === name);
  return f ? f.label : name;
}

export function sourceState(s) {
  return s.active ? h("span", { class: "badge ok" }, "active") : h("span", { class: "badge bad" }, "inactive: answers 410");
}

/** One value to paste, with its copy button. */
const pasteRow = (label, value, cls) => [h("dt", {}, label), h("dd", {}, h("code", { class: cls }, value), " ", copyButton(value))];

/**
 * What goes into the provider's console: the URL, and Meta's verify token or Unipile's
 * header. `created` is the create answer (a generated header value is only in it).
 */
export function pastePanel(s, created = false) {
  const preset = PROVIDERS[s.provider];
  const c = s.config || {};
  const generated = created && s.provider === "unipile" && c.headerValue && !c.headerValue.startsWith("****");
  return h(
    "div",
    { class: "card paste" },
    h("h2", {}, `Paste into ${preset ? preset.label : s.provider}`),
    h("p", { class: "hint" }, preset?.paste),
    h(
      "dl",
      { class: "facts" },
      pasteRow("Ingest URL", s.ingestUrl, "ingest-url"),
      s.provider === "meta" ? pasteRow("Verify token", c.verifyToken, "verify-token") : null,
      s.provider === "unipile" ? pasteRow("Header name", c.headerName, "header-name") : null,
      s.provider === "unipile"
        ? generated
          ? pasteRow("Header value", c.headerValue, "header-value")
          : [h("dt", {}, "Header value"), h("dd", {}, h("code", { class: "header-value" }, c.headerValue), h("small", { class: "hint" }, " write-only: only its last 4 characters are shown"))]
        : null,
    ),
    generated ? h("p", { class: "secret" }, "Copy the header value now: hookrelay generated it and shows it only this once. Later pages show its last 4 characters only.") : null,
    s.previousIngestUrlExpiresAt ? h("p", { class: "hint" }, "The previous ingest URL keeps working until ", when(s.previousIngestUrlExpiresAt), ".") : null,
  );
}

// ---------------------------------------------------------------- pages

export async function sources(el) {
  const table = pagedTable(
    ["Name", "Provider", "State", "Ingest URL", "Event type", "Created"],
    (cursor) => get(`/sources${query({ cursor })}`),
    (s) =>
      h(
        "tr",
        { class: "source", "data-id": s.id },
        h("td", {}, link(`/sources/${s.id}`, s.name)),
        h("td", {}, providerLabel(s.provider)),
        h("td", {}, sourceState(s)),
        h("td", { class: "url-cell" }, h("code", { class: "ingest-url" }, s.ingestUrl), " ", copyButton(s.ingestUrl)),
        h("td", {}, s.eventType ?? h("span", { class: "hint" }, "from each request")),
        h("td", {}, when(s.createdAt)),
      ),
    "No sources yet: add one to receive a provider's webhooks (Stripe, GitHub, Meta…) as events.",
  );
  fill(
    el,
    h("div", { class: "title" }, h("h1", {}, "Sources"), link("/sources/new", h("span", { class: "button" }, "New source"))),
    h("p", { class: "hint" }, "A source is a URL you give a provider: hookrelay checks each request's signature, keeps a log of every request, and publishes the verified ones as events to your webhooks."),
    table.el,
  );
  await table.next();
}

/** The create answer, shown whole once on the new source's page (see source.js). */
let justCreated = null;
export function takeCreated(id) {
  const s = justCreated?.id === id ? justCreated : null;
  justCreated = null;
  return s;
}

export async function newSource(el) {
  const name = h("input", { name: "name", maxlength: 100, placeholder: "e.g. Stripe payments" });
  const provider = h(
    "select",
    { name: "provider" },
    h("option", { value: "" }, "Choose a provider…"),
    Object.entries(PROVIDERS).map(([p, { label }]) => h("option", { value: p }, label)),
  );
  const eventType = h("input", { name: "eventType", placeholder: "e.g. payment.received" });
  const eventHint = h("span", { class: "event-type-hint" });
  const consumer = h("input", { name: "consumerId", placeholder: "optional: your customer's id" });
  const active = h("input", { type: "checkbox", name: "active", checked: true });
  const guide = h("p", { class: "hint provider-hint" });
  const settings = h("fieldset", { class: "provider-fields" });
  let inputs = [];
  const showProvider = () => {
    const preset = PROVIDERS[provider.value];
    inputs = (preset?.fields ?? []).map((f) => {
      const input = f.options
        ? h("select", { name: `config.${f.name}` }, f.options.map((o) => h("option", { value: o }, o)))
        : h("input", { name: `config.${f.name}`, placeholder: f.placeholder, autocomplete: "off", spellcheck: "false" });
      return { f, input };
    });
    fill(guide, preset ? preset.paste : "Pick the provider that will send the webhooks: its settings show here.");
    fill(settings, preset ? h("legend", {}, `${preset.label} settings`) : null, inputs.map(({ f, input }) => field(f.label + (f.required ? "" : " (optional)"), input, f.hint)));
    if (preset && !preset.fields.length) settings.append(h("p", { class: "hint" }, "Nothing to set: the ingest URL's token is the only secret."));
    fill(
      eventHint,
      preset?.needsEventType
        ? "Required for this provider: every request becomes an event of this type"
        : `Empty: each request's type is derived from it${preset?.example ? ` (e.g. ${preset.example})` : ""}; set one to use a single type`,
    );
  };
  provider.addEventListener("change", showProvider);
  showProvider();

  const form = h(
    "form",
    { class: "card source-form", novalidate: true },
    field("Name", name, "Shown in the dashboard: up to 100 characters"),
    field("Provider", provider),
    guide,
    settings,
    h("div", { class: "row" }, field("Event type", eventType, eventHint), field("Consumer id", consumer, "Optional: its events reach only this customer's webhooks")),
    h("label", { class: "check" }, active, " Active: accept requests right away"),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create source")),
  );

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const preset = PROVIDERS[provider.value];
    // what the browser can check, every field at once
    const errors = [];
    if (!name.value.trim()) errors.push({ field: "name", message: "is required" });
    if (!preset) errors.push({ field: "provider", message: "is required: choose one" });
    for (const { f, input } of inputs) {
      const v = input.value;
      if (f.required && !v) errors.push({ field: `config.${f.name}`, message: "is required" });
      else if (v && f.prefix && !v.startsWith(f.prefix)) errors.push({ field: `config.${f.name}`, message: `must start with ${f.prefix}` });
    }
    if (preset?.needsEventType && !eventType.value.trim()) errors.push({ field: "eventType", message: "is required for this provider" });
    if (errors.length) return fieldErrors(form, provider.value, errors);
    const config = {};
    for (const { f, input } of inputs) if (input.value !== "") config[f.name] = input.value;
    const body = { name: name.value.trim(), provider: provider.value, config, active: active.checked };
    if (eventType.value.trim()) body.eventType = eventType.value.trim();
    if (consumer.value.trim()) body.consumerId = consumer.value.trim();
    try {
      const s = await post("/sources", body);
      justCreated = s;
      flash(`Source ${s.name} created.`);
      location.hash = `#/sources/${s.id}`;
    } catch (err) {
      if (err instanceof ApiError && err.errors.length) fieldErrors(form, provider.value, err.errors);
      else flash(err.message, "error");
    }
  });

  fill(el, h("h1", {}, "New source"), form);
}

/** Every field's error beside it, in words ("App secret is required"). */
function fieldErrors(form, provider, errors) {
  for (const old of form.querySelectorAll(".field-error")) old.remove();
  const words = errors.map(({ field: name, message }) => {
    const text = `${fieldLabel(provider, name)} ${message}`;
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) input.after(h("small", { class: "field-error" }, text));
    return text;
  });
  flash(words.length === 1 ? words[0] : `${words.length} fields need a change: ${words.join("; ")}`, "error");
}
