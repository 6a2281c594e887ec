// The Events page, the delivery page, names instead of ids, times with their zone and the
// portal's session, in headless Chromium against a real hookrelay (scripts/browser-test
// starts it) and a real receiver on 127.0.0.1. Any script error or CSP violation fails.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { chromium } from "playwright-core";

const BASE = process.env.HOOKRELAY_URL;
const SHOTS = new URL("./screenshots/", import.meta.url).pathname;
// Numbers JSON.parse would round, and markup that must stay text. Written compactly, as the
// server keeps `data` (only insignificant whitespace may go).
const DATA = '{"invoice":"in_1","amount":12345678901234567890123,"rate":0.10000000000000000000001,"note":"<b id=\\"injected\\">paid</b> & thanks","lines":[{"sku":"A-1","qty":2}],"empty":{}}';

let browser;
let receiver;
/** What the receiver got, by path: `/ok` answers 200, `/fail` 500. */
const received = { "/ok": [], "/fail": [] };

before(async () => {
  assert.ok(BASE, "HOOKRELAY_URL is not set: run the browser tests with scripts/browser-test");
  receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      (received[req.url] ??= []).push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(req.url === "/ok" ? 200 : 500, { "content-type": "text/plain" });
      res.end(req.url === "/ok" ? "thanks" : "down for maintenance");
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  browser = await chromium.launch({
    executablePath: process.env.HOOKRELAY_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  receiver?.close();
});

const hookUrl = (path) => `http://127.0.0.1:${receiver.address().port}${path}`;
const shot = (page, name) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });

/** A page that fails the test on any script error or CSP violation. */
async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
  const page = await context.newPage();
  page.problems = [];
  page.on("pageerror", (err) => page.problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/Failed to load resource/.test(msg.text())) page.problems.push(`console: ${msg.text()}`);
  });
  return page;
}

async function api(method, path, token, body) {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

/** A tenant registered and logged in through the API: its access token. */
async function tenant(organization = "Events Test Org") {
  const email = `events-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
  const password = "correct horse battery";
  const reg = await fetch(`${BASE}/api/v1/auth/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password, organization }) });
  assert.equal(reg.status, 201);
  const login = await fetch(`${BASE}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }) });
  return (await login.json()).accessToken;
}

/** Opens the dashboard at `route`, logged in with `token` (as the login page would leave it). */
async function open(page, token, route) {
  await page.addInitScript((t) => sessionStorage.setItem("hookrelay.accessToken", t), token);
  await page.goto(`${BASE}/#${route}`);
}

async function until(what, check, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("an event's page shows its payload exactly as published and its deliveries by webhook name", async () => {
  const token = await tenant();
  const hook = await api("POST", "/webhooks", token, { name: "Billing service", url: hookUrl("/ok"), events: ["invoice.*"], headers: { "X-Tenant": "acme" } });
  assert.equal(hook.status, 201);
  const published = await api("POST", "/events", token, `{"event":"invoice.paid","data":${DATA}}`);
  assert.equal(published.status, 202);
  const other = await api("POST", "/events", token, { event: "customer.created", data: { id: "cus_9" } });
  assert.equal(other.status, 202);
  await until("the delivery", () => received["/ok"].some((r) => r.headers["x-webhook-id"] === published.body.id));
  const sent = received["/ok"].find((r) => r.headers["x-webhook-id"] === published.body.id);

  const page = await newPage();
  await open(page, token, "/events");
  await page.waitForSelector(`tr.event[data-id="${published.body.id}"]`);
  assert.deepEqual(await page.locator("#nav a").allTextContents(), ["Webhooks", "Events", "Deliveries", "Live tail", "Sources", "Stats", "API keys"]);
  const row = page.locator(`tr.event[data-id="${published.body.id}"]`);
  assert.match(await row.textContent(), /invoice\.paid/);
  assert.equal(await row.locator("td.num").textContent(), "1", "one delivery");
  assert.equal(await page.locator("tr.event").count(), 2);

  // the filters of the events API
  await page.fill("#event-filters input[name=event]", "customer.created");
  await page.click("#event-filters button");
  await page.waitForFunction(() => document.querySelectorAll("tr.event").length === 1 && document.querySelector("tr.event").textContent.includes("customer.created"));
  await page.fill("#event-filters input[name=event]", "");
  await page.click("#event-filters button");
  await page.waitForFunction(() => document.querySelectorAll("tr.event").length === 2);
  await shot(page, "events");

  // the event's page: the payload's text as published, markup as text
  await row.locator("a").first().click();
  await page.waitForSelector("pre.payload");
  const shown = await page.textContent("pre.payload");
  for (const verbatim of ["12345678901234567890123", "0.10000000000000000000001", '"<b id=\\"injected\\">paid</b> & thanks"'])
    assert.ok(shown.includes(verbatim), `the payload shows ${verbatim}`);
  assert.equal(await page.locator("#injected").count(), 0, "no element was made from the payload");
  await page.click("button:text('Show as sent')");
  assert.equal(await page.textContent("pre.payload"), DATA, "as sent: the published text itself");

  // its deliveries name the webhook; the id is one click away
  await page.waitForSelector("tr.delivery[data-status=succeeded]", { timeout: 10_000 }).catch(async () => {
    await page.reload();
    await page.waitForSelector("tr.delivery[data-status=succeeded]");
  });
  const delivery = page.locator("tr.delivery");
  assert.match(await delivery.textContent(), /Billing service/);
  assert.equal(await delivery.locator(`button.copy-id[data-id="${hook.body.id}"]`).count(), 1);
  await delivery.locator(`button.copy-id[data-id="${hook.body.id}"]`).click();
  await page.waitForSelector(`#flash :text('Copied ${hook.body.id}')`);
  await shot(page, "event");

  // the Deliveries page names the webhook and the event type too
  await page.click("#nav >> text=Deliveries");
  await page.waitForSelector("tr.delivery");
  // (customer.created matches no filter: one delivery)
  assert.deepEqual(await page.locator("tr.delivery td:nth-child(3) a").allTextContents(), ["Billing service"]);
  assert.equal(await page.textContent("tr.delivery td:nth-child(2) a"), "invoice.paid");

  // the delivery's page: the body a receiver got, and the headers it was sent with
  await page.click(`tr.delivery:has-text("invoice.paid") td:first-child a`);
  await page.waitForSelector("table.headers");
  await page.click("button:text('Show as sent')");
  assert.equal(await page.textContent("pre.payload"), sent.body, "the body shown is the body the receiver got");
  const headers = Object.fromEntries(
    await page.locator("table.headers tbody tr").evaluateAll((rows) => rows.map((r) => [r.cells[0].textContent, r.cells[1].textContent])),
  );
  assert.equal(headers["X-Webhook-Id"], sent.headers["x-webhook-id"]);
  assert.equal(headers["X-Webhook-Delivery"], sent.headers["x-webhook-delivery"]);
  assert.equal(headers["X-Webhook-Event"], sent.headers["x-webhook-event"]);
  assert.equal(headers["webhook-id"], sent.headers["webhook-id"]);
  assert.equal(headers["X-Tenant"], sent.headers["x-tenant"]);
  assert.equal(headers["Content-Type"], sent.headers["content-type"]);
  for (const name of ["webhook-signature", "webhook-timestamp", "X-Webhook-Signature", "X-Webhook-Timestamp"]) {
    assert.ok(name in headers, `${name} is listed`);
    assert.ok(sent.headers[name.toLowerCase()], `the receiver got ${name}`);
  }
  assert.match(await page.textContent("table.headers"), /computed at each attempt/);
  assert.match(await page.textContent(".delivery-facts"), /Billing service/);
  await shot(page, "delivery");

  // data that is a JSON string keeps its quotes, and has nothing to format
  const greeting = await api("POST", "/events", token, { event: "note.added", data: "hello" });
  assert.equal(greeting.status, 202);
  await page.evaluate((id) => (location.hash = `#/events/${id}`), greeting.body.id);
  await page.waitForSelector("h1:has-text('note.added')");
  assert.equal(await page.textContent("pre.payload"), '"hello"');
  assert.equal(await page.locator("button:text('Show as sent')").count(), 0, "no toggle for text that formatting leaves as it is");

  // a source's body that is not JSON (a form) is shown exactly as received, without a toggle
  const source = await api("POST", "/sources", token, { name: "Form posts", provider: "none", eventType: "form.posted", config: {} });
  assert.equal(source.status, 201, JSON.stringify(source.body));
  const formHook = await api("POST", "/webhooks", token, { name: "Form relay", url: hookUrl("/ok"), events: ["form.*"] });
  assert.equal(formHook.status, 201);
  const form = "name=Ada+Lovelace&note=%3Cb%3Ehi%3C%2Fb%3E&empty=";
  const ingested = await fetch(source.body.ingestUrl, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form });
  assert.equal(ingested.status, 200);
  await until("the form's delivery", () => received["/ok"].some((r) => r.body === form));
  const formDelivery = (await api("GET", `/deliveries?webhookId=${formHook.body.id}`, token)).body.data[0];
  await page.evaluate((id) => (location.hash = `#/deliveries/${id}`), formDelivery.id);
  await page.waitForSelector("h1:has-text('Form relay')");
  assert.equal(await page.textContent("pre.payload"), form, "the body as the receiver got it");
  assert.equal(await page.locator("button:text('Show as sent')").count(), 0, "nothing to format");

  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("the live tail names the webhook, holds rows back while paused and clears", async () => {
  const token = await tenant();
  const hook = await api("POST", "/webhooks", token, { name: "Fulfilment", url: hookUrl("/ok"), events: ["order.*"] });
  const page = await newPage();
  await open(page, token, "/tail");
  await page.waitForSelector("#tail-state:text('live')");
  const publish = async (event) => {
    const e = await api("POST", "/events", token, { event, data: {} });
    await until(`${event} delivered`, () => received["/ok"].some((r) => r.headers["x-webhook-id"] === e.body.id));
  };

  await publish("order.created");
  await page.waitForSelector("tr.attempt >> text=order.created");
  assert.equal(await page.textContent("tr.attempt td.webhook-cell a"), "Fulfilment");
  assert.equal(await page.getAttribute("tr.attempt td.webhook-cell button.copy-id", "data-id"), hook.body.id);

  // paused: the new attempt is held (and said so), not shown
  await page.click("#tail-pause");
  assert.equal(await page.textContent("#tail-pause"), "Resume");
  await publish("order.shipped");
  await page.waitForSelector("#tail-held:text('1 new attempt held')");
  assert.equal(await page.locator("tr.attempt").count(), 1);
  // resumed: shown, newest first
  await page.click("#tail-pause");
  assert.equal(await page.locator("tr.attempt").count(), 2);
  assert.match(await page.textContent("tr.attempt"), /order\.shipped/);
  assert.equal(await page.textContent("#tail-held"), "");

  await page.click("#tail-clear");
  assert.equal(await page.locator("tr.attempt").count(), 0);
  await page.waitForSelector("text=Waiting for attempts…");
  await shot(page, "live-tail-named");

  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a pending delivery says why it waits, and a retry shows the row pending at once", async () => {
  const token = await tenant();
  // one attempt then a retry a minute later: pending, waiting for that retry
  const slow = await api("POST", "/webhooks", token, { name: "Ledger sync", url: hookUrl("/fail"), events: ["ledger.*"], retrySchedule: [60] });
  // no retries: failed after its one attempt
  const once = await api("POST", "/webhooks", token, { name: "Audit trail", url: hookUrl("/fail"), events: ["audit.*"], retrySchedule: [] });
  await api("POST", "/events", token, { event: "ledger.updated", data: {} });
  await api("POST", "/events", token, { event: "audit.logged", data: {} });
  await until("the failed attempts", async () => {
    const d = (await api("GET", "/deliveries", token)).body.data;
    return d.length === 2 && d.every((x) => x.attemptCount === 1);
  });

  const page = await newPage();
  await open(page, token, "/deliveries");
  const waiting = page.locator("tr.delivery[data-status=pending]");
  await waiting.waitFor();
  assert.match(await waiting.textContent(), /Ledger sync/);
  assert.match(await waiting.locator(".why").textContent(), /^Retry \(attempt 2\) waits until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d /);

  // the failed one: Retry turns the row pending without a reload
  const failed = page.locator("tr.delivery[data-status=failed]");
  assert.match(await failed.textContent(), /Audit trail/);
  const id = await failed.getAttribute("data-id");
  await failed.locator("button.retry").click();
  await page.waitForSelector(`tr.delivery[data-id="${id}"][data-status=pending]`);
  assert.equal(await page.locator(`tr.delivery[data-id="${id}"] button.retry`).count(), 0);

  // the delivery page's Retry: once the retry has failed again, with the webhook now
  // inactive, the page shows the delivery pending and why it waits
  await until("the retry to fail again", async () => (await api("GET", `/deliveries/${id}`, token)).body.status === "failed");
  assert.equal((await api("PATCH", `/webhooks/${once.body.id}`, token, { active: false })).status, 200);
  await page.click(`tr.delivery[data-id="${id}"] td:first-child a`);
  await page.waitForSelector(".delivery-facts .badge:text('failed')");
  await page.click("#retry");
  await page.waitForSelector(".delivery-facts .badge:text('pending')");
  assert.match(await page.textContent(".delivery-facts .why"), /the webhook is inactive; activate it to resume/);
  assert.equal(await page.isDisabled("#retry"), true, "a pending delivery cannot be retried");
  assert.equal(await page.locator("tr.attempt").count(), 2, "both attempts so far");
  await shot(page, "delivery-pending");
  assert.equal(slow.status, 201);

  // a webhook deactivated and activated again on its page: every deliveries table shows
  // its new state at once (the Ledger sync delivery waits for its retry, a minute away)
  const ledger = (await api("GET", `/deliveries?webhookId=${slow.body.id}`, token)).body.data[0];
  assert.equal(ledger.status, "pending");
  const why = () => page.locator(`tr.delivery[data-id="${ledger.id}"][data-status=pending] .why`).textContent();
  await page.evaluate((hook) => (location.hash = `#/webhooks/${hook}`), slow.body.id);
  await page.click("button:text('Deactivate')");
  await page.waitForSelector(".title .badge.health:text-is('Disabled (manual)')");
  await page.click("#nav >> text=Deliveries");
  await page.waitForSelector("h1:text-is('Deliveries')");
  assert.match(await why(), /the webhook is inactive/);
  await page.evaluate((hook) => (location.hash = `#/webhooks/${hook}`), slow.body.id);
  await page.click("button:text('Activate')");
  await page.waitForSelector(".title .badge.health:not([data-state=disabled])");
  await page.click(".tabs >> text=Deliveries");
  assert.doesNotMatch(await why(), /inactive/, "the webhook's own Deliveries tab");
  assert.match(await why(), /^Retry \(attempt 2\) waits until /);
  await page.click("#nav >> text=Deliveries");
  await page.waitForSelector("h1:text-is('Deliveries')");
  assert.doesNotMatch(await why(), /inactive/, "the Deliveries page, within the 5 s its webhook names are kept");
  assert.match(await why(), /^Retry \(attempt 2\) waits until /);

  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("the portal keeps its session across a reload and shows the tenant's name", async () => {
  const token = await tenant("Acme Payments");
  await api("POST", "/webhooks", token, { name: "Invoices to ERP", url: hookUrl("/ok"), events: ["invoice.paid"], consumerId: "cus_1" });
  const session = await api("POST", "/portal-sessions", token, { consumerId: "cus_1", expiresIn: 600 });
  assert.equal(session.status, 201);

  const portal = await newPage();
  await portal.goto(session.body.url);
  await portal.waitForSelector("tr.webhook");
  assert.doesNotMatch(portal.url(), /token=/, "the token left the address bar");
  assert.equal(await portal.textContent("#top .brand"), "Acme Payments");
  assert.doesNotMatch(await portal.textContent("#top"), /cus_1/, "no internal consumer id in the header");
  assert.match(await portal.getAttribute("#who .portal-session", "title"), /cus_1/, "the consumer id only in a tooltip");
  assert.match(await portal.textContent("#who .portal-session"), /^Session until \d{4}-\d\d-\d\d /);
  await shot(portal, "portal-named");

  await portal.reload();
  await portal.waitForSelector("tr.webhook");
  assert.deepEqual(await portal.locator("tr.webhook td:first-child").allTextContents(), ["Invoices to ERP"]);
  assert.equal(await portal.textContent("#top .brand"), "Acme Payments");
  assert.equal(await portal.evaluate(() => localStorage.length), 0, "nothing in localStorage");
  assert.equal(await portal.evaluate(() => sessionStorage.getItem("hookrelay.accessToken")), null, "the portal is not a tenant session");
  // the portal cannot read events: no Events page, and its route leads back
  assert.deepEqual(await portal.locator("#nav a").allTextContents(), ["Webhooks", "Deliveries", "Live tail"]);

  // a session that ends shows so, after a reload too
  const brief = await api("POST", "/portal-sessions", token, { consumerId: "cus_1", expiresIn: 2 });
  assert.equal(brief.status, 201);
  await portal.goto(brief.body.url);
  await portal.waitForSelector("tr.webhook");
  await until("the session's end", async () => Date.now() > Date.parse(brief.body.expiresAt) + 1500, 5000);
  await portal.reload();
  await portal.waitForSelector("text=This portal session has ended");

  assert.deepEqual(portal.problems, []);
  await portal.context().close();
});

test("times show their zone, and the UTC toggle switches them for the tab", async () => {
  const token = await tenant();
  const published = await api("POST", "/events", token, { event: "customer.created", data: { id: "cus_1" } });
  const page = await newPage({ timezoneId: "Asia/Kolkata", locale: "en-US" });
  await open(page, token, `/events/${published.body.id}`);
  const time = page.locator("dl.facts time").first();
  await time.waitFor();
  const iso = await time.getAttribute("datetime");
  const at = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  const local = new Date(at.getTime() + 330 * 60_000); // Kolkata is UTC+5:30, no daylight saving
  const fmt = (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  assert.equal(await time.textContent(), `${fmt(local)} UTC+5:30`);

  await page.check("#who label.zone-toggle input");
  await page.waitForFunction(() => document.querySelector("dl.facts time").textContent.endsWith(" UTC"));
  assert.equal(await time.textContent(), `${fmt(at)} UTC`);
  // the choice lasts for the tab (sessionStorage), across a reload
  await page.reload();
  await page.waitForSelector("dl.facts time");
  assert.equal(await page.locator("dl.facts time").first().textContent(), `${fmt(at)} UTC`);
  assert.equal(await page.isChecked("#who label.zone-toggle input"), true);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  await page.uncheck("#who label.zone-toggle input");
  assert.equal(await page.locator("dl.facts time").first().textContent(), `${fmt(local)} UTC+5:30`);

  assert.deepEqual(page.problems, []);
  await page.context().close();
});
