// The dashboard and the consumer portal in headless Chromium, against a real hookrelay
// (scripts/browser-test starts it) and a real receiver on 127.0.0.1 that verifies the
// signatures with the secret the page reveals.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import crypto from "node:crypto";
import { chromium } from "playwright-core";

const BASE = process.env.HOOKRELAY_URL;
const SHOTS = new URL("./screenshots/", import.meta.url).pathname;
// Markup a receiver answers with, and a webhook name with markup: both must show as text.
const HOSTILE_BODY = `<script>window.__pwned = 1</script><b id="injected">bold</b>`;
const HOSTILE_NAME = `Orders <img src=x id="injected-name">`;
const HOSTILE_SOURCE = `Shop <img src=x id="injected-source">`;

let browser;
let receiver;
const received = [];

before(async () => {
  assert.ok(BASE, "HOOKRELAY_URL is not set: run the browser tests with scripts/browser-test");
  receiver = http.createServer((req, res) => {
    if (req.method === "GET" && req.url.startsWith("/embed?")) {
      // a tenant's page of another origin that frames what `src` names
      const src = new URLSearchParams(req.url.slice("/embed?".length)).get("src");
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><iframe name="embedded" src="${src.replace(/"/g, "&quot;")}" width="1200" height="700"></iframe>`);
      return;
    }
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { "content-type": "text/html" });
      res.end(HOSTILE_BODY);
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  browser = await chromium.launch({
    executablePath: process.env.HOOKRELAY_CHROMIUM || "/usr/bin/chromium",
    // the flags that keep Chromium off the (closed) network and working as root
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  receiver?.close();
});

const receiverUrl = () => `http://127.0.0.1:${receiver.address().port}/hook`;

/** A page that fails the test on any script error or CSP violation. */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
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
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

async function logIn(page, email, password, { signUp = false } = {}) {
  await page.goto(`${BASE}/`);
  await page.fill("#login input[name=email]", email);
  await page.fill("#login input[name=password]", password);
  if (signUp) {
    await page.fill("#login input[name=organization]", "Browser Test Org");
    await page.click("#login button[value=register]");
  } else {
    await page.click("#login button[value=login]");
  }
  await page.waitForSelector("h1:text('Webhooks')");
}

const shot = (page, name) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
const tenantToken = (page) => page.evaluate(() => sessionStorage.getItem("hookrelay.accessToken"));

test("a tenant logs in, creates a webhook, sends a test event and sees it in the log, the live tail and the stats", async () => {
  const email = `owner-${Date.now()}@example.com`;
  const password = "correct horse battery";
  const page = await newPage();

  const res = await page.goto(`${BASE}/`);
  const csp = res.headers()["content-security-policy"];
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(csp, /frame-ancestors 'none'/);

  await logIn(page, email, password, { signUp: true });
  assert.match(await page.textContent("main"), /No webhooks yet/);
  // the access token is in this tab's sessionStorage only
  assert.ok(await tenantToken(page));
  assert.equal(await page.evaluate(() => localStorage.length), 0);

  await page.click("text=New webhook");
  await page.fill("input[name=name]", HOSTILE_NAME);
  await page.fill("input[name=url]", receiverUrl());
  await page.fill("input[name=events]", "order.created, order.*");
  await page.fill("input[name=retrySchedule]", "1, 1");
  await page.click("button:text('Create webhook')");
  await page.waitForSelector(".tabs");
  assert.equal(await page.textContent("h1"), HOSTILE_NAME, "the name shows as text");
  assert.equal(await page.locator("#injected-name").count(), 0, "no element was made from the name");
  const webhookId = page.url().split("/").pop();

  // a validation error names the field, in words, beside it
  await page.fill(".webhook-form input[name=events]", "Not An Event");
  await page.click("button:text('Save changes')");
  await page.waitForSelector(".field-error");
  assert.match(await page.textContent(".field-error"), /^Events: “Not An Event”/);
  assert.deepEqual((await api("GET", `/webhooks/${webhookId}`, await tenantToken(page))).body.events, ["order.created", "order.*"]);

  await page.click("button:text('Reveal secret')");
  const secret = await page.textContent(".secret-value");
  assert.match(secret, /^whsec_/);

  // the stats before: nothing yet
  await page.click(".tabs >> text=Stats");
  await page.waitForSelector("svg.chart[data-total]");
  assert.equal(await page.getAttribute("svg.chart[data-total]", "data-total"), "0");

  // a second tab logs in through the page and follows the live tail
  const tail = await newPage();
  await logIn(tail, email, password);
  await tail.click("#nav >> text=Live tail");
  await tail.waitForSelector("#tail-state:text('live')");

  await page.click(".tabs >> text=Settings");
  await page.fill("#send-test input[name=eventType]", "order.created");
  await page.click("button:text('Send test event')");
  await page.waitForSelector("#flash :text('Test event')");

  // the receiver got it, signed with the revealed secret
  const deadline = Date.now() + 10_000;
  while (!received.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(received.length, 1, "the receiver got the test event");
  const { headers, body } = received[0];
  const expected = `sha256=${crypto.createHmac("sha256", Buffer.from(secret, "utf8")).update(body).digest("hex")}`;
  assert.equal(headers["x-webhook-signature"], expected);
  assert.equal(headers["x-webhook-test"], "true");
  assert.equal(JSON.parse(body).event, "order.created");

  // the live tail shows the attempt as it is recorded
  await tail.waitForSelector("tr.attempt >> text=order.created", { timeout: 10_000 });
  assert.match(await tail.textContent("tr.attempt"), /200/);
  await shot(tail, "live-tail");

  // the attempt log, with the receiver's markup as text
  await page.click(".tabs >> text=Attempt log");
  await page.waitForSelector("tr.attempt");
  await page.click("tr.attempt summary");
  assert.equal(await page.textContent("pre.response-body"), HOSTILE_BODY);
  assert.equal(await page.locator("#injected").count(), 0, "no element was made from the response body");
  assert.equal(await page.evaluate(() => window.__pwned), undefined, "no script from the response body ran");
  assert.match(await page.textContent("tr.attempt"), new RegExp(receiverUrl().replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")));
  await shot(page, "attempt-log");

  // filters of the logs API: nothing failed
  await page.selectOption("#log-filters select[name=status]", "failed");
  await page.click("#log-filters button");
  await page.waitForSelector("text=No attempts match.");

  // the stats chart now counts the attempt
  await page.click(".tabs >> text=Stats");
  await page.waitForSelector("svg.chart[data-total='1']", { timeout: 10_000 });
  assert.equal(await page.textContent("[data-stat=attempts] strong"), "1");
  await shot(page, "stats");

  // deliveries, with a manual retry
  await page.click(".tabs >> text=Deliveries");
  await page.waitForSelector("tr.delivery >> text=succeeded");
  await page.click("tr.delivery button.retry");
  await page.waitForSelector("#flash :text('will be attempted again')");
  const deliveries = await api("GET", `/deliveries?webhookId=${webhookId}`, await tenantToken(page));
  assert.equal(deliveries.body.data.length, 1);

  // deactivate and activate again
  await page.click(".tabs >> text=Settings");
  await page.click("button:text('Deactivate')");
  await page.waitForSelector(".title .badge.health:text-is('Disabled (manual)')");
  await page.click("button:text('Activate')");
  await page.waitForSelector(".title .badge.health:not([data-state=disabled])");

  // API keys: the key is shown once
  await page.click("#nav >> text=API keys");
  await page.fill("form input[name=name]", "billing backend");
  await page.selectOption("form select[name=scope]", "publish");
  await page.click("button:text('Create key')");
  await page.waitForSelector(".secret-value");
  assert.match(await page.textContent(".secret-value"), /^hrk_/);
  await page.waitForSelector("tr.api-key >> text=publish");

  // a relay webhook: no URL to give, and its page says whether a listener is connected
  await page.click("#nav >> text=Webhooks");
  await page.click("text=New webhook");
  await page.fill("input[name=name]", "my laptop");
  await page.selectOption("select[name=kind]", "relay");
  assert.equal(await page.locator("input[name=url]").isVisible(), false, "a relay webhook has no URL");
  await page.fill("input[name=events]", "order.*");
  await page.click("button:text('Create webhook')");
  await page.waitForSelector(".relay-listener[data-connected=false]");
  assert.match(await page.textContent(".relay"), /hookrelay listen --webhook/);
  const relayId = page.url().split("/").pop();
  assert.equal((await api("GET", `/webhooks/${relayId}`, await tenantToken(page))).body.kind, "relay");

  await page.click("#nav >> text=Webhooks");
  await page.waitForSelector(`tr.webhook[data-id="${relayId}"] >> text=relay`);
  await shot(page, "webhooks");

  assert.deepEqual(page.problems, []);
  assert.deepEqual(tail.problems, []);
  await page.context().close();
  await tail.context().close();
});

test("a portal session sees only its consumer's webhooks and none of the tenant's pages", async () => {
  const email = `portal-owner-${Date.now()}@example.com`;
  const page = await newPage();
  await logIn(page, email, "correct horse battery", { signUp: true });
  const token = await tenantToken(page);
  const hook = (name, consumerId) =>
    api("POST", "/webhooks", token, { name, url: receiverUrl(), events: ["invoice.paid"], consumerId });
  assert.equal((await hook("For cus_1", "cus_1")).status, 201);
  assert.equal((await hook("For cus_2", "cus_2")).status, 201);
  assert.equal((await hook("Tenant's own", null)).status, 201);
  const session = await api("POST", "/portal-sessions", token, { consumerId: "cus_1", expiresIn: 600 });
  assert.equal(session.status, 201);
  assert.ok(session.body.url.startsWith(`${BASE}/portal#token=`));

  const portal = await newPage();
  const res = await portal.goto(session.body.url);
  assert.match(res.headers()["content-security-policy"], /frame-ancestors 'self' http:\/\/127\.0\.0\.1:\*/);
  await portal.waitForSelector("tr.webhook");
  assert.doesNotMatch(portal.url(), /token=/, "the token left the address bar");
  const names = await portal.locator("tr.webhook td:first-child").allTextContents();
  assert.deepEqual(names, ["For cus_1"]);
  // the session's consumer in the header's tooltip, not in its text (SPEC: the tenant's name)
  assert.match(await portal.getAttribute("#who .portal-session", "title"), /cus_1/);
  assert.doesNotMatch(await portal.textContent("#top"), /cus_1/);
  const nav = await portal.locator("#nav a").allTextContents();
  assert.deepEqual(nav, ["Webhooks", "Deliveries", "Live tail"]);
  await shot(portal, "portal");

  // tenant pages are not there: their routes lead back to the webhooks
  await portal.evaluate(() => (location.hash = "#/api-keys"));
  await portal.waitForFunction(() => location.hash === "#/webhooks");
  // and the API refuses them to the portal token
  assert.equal((await api("GET", "/api-keys", session.body.token)).status, 403);
  assert.equal((await api("GET", "/stats", session.body.token)).status, 403);

  // a webhook created in the portal belongs to the session's consumer
  await portal.click("text=New webhook");
  assert.equal(await portal.locator("input[name=consumerId]").count(), 0);
  await portal.fill("input[name=name]", "Made in the portal");
  await portal.fill("input[name=url]", receiverUrl());
  await portal.fill("input[name=events]", "invoice.paid");
  await portal.click("button:text('Create webhook')");
  await portal.waitForSelector(".tabs");
  const made = await api("GET", `/webhooks/${portal.url().split("/").pop()}`, token);
  assert.equal(made.body.consumerId, "cus_1");

  // another consumer's webhook is not found
  const others = await api("GET", "/webhooks?consumerId=cus_2", token);
  await portal.evaluate((id) => (location.hash = `#/webhooks/${id}`), others.body.data[0].id);
  await portal.waitForSelector("main p.error");
  assert.match(await portal.textContent("main p.error"), /no such resource/);

  // the tenant's pages of an allowed origin may frame the portal, never the dashboard
  const embedding = await newPage();
  const embed = (src) => `http://127.0.0.1:${receiver.address().port}/embed?src=${encodeURIComponent(src)}`;
  await embedding.goto(embed(session.body.url));
  const framed = embedding.frame({ name: "embedded" });
  await framed.waitForSelector("tr.webhook");
  assert.match(await framed.getAttribute("#who .portal-session", "title"), /cus_1/);
  await embedding.goto(embed(`${BASE}/`));
  await embedding.waitForTimeout(1000);
  const refused = embedding.frame({ name: "embedded" });
  assert.match(refused.url(), /^chrome-error:/, "Chromium refused to frame the dashboard");
  assert.equal(await refused.locator("#login, #main").count(), 0, "the dashboard refuses to be framed");
  await embedding.context().close();

  // a reload keeps the session: the token is in this tab's sessionStorage (events.test.mjs
  // checks the rest: the tenant's name, and the end of an expired session)
  await portal.reload();
  await portal.evaluate(() => (location.hash = "#/webhooks"));
  await portal.waitForSelector("tr.webhook");
  assert.equal(await portal.evaluate(() => localStorage.length), 0);

  assert.deepEqual(portal.problems, []);
  await portal.context().close();
  await page.context().close();
});

test("a tenant creates a GitHub source from its preset, and its request log shows each request's verdict", async () => {
  const page = await newPage();
  page.on("dialog", (d) => d.accept());
  await logIn(page, `sources-${Date.now()}@example.com`, "correct horse battery", { signUp: true });
  await page.click("#nav >> text=Sources");
  await page.waitForSelector("text=No sources yet");

  // every field's error at once, in words, before anything is sent
  await page.click("text=New source");
  await page.selectOption("select[name=provider]", "github");
  assert.match(await page.textContent(".provider-hint"), /Payload URL = the ingest URL/);
  await page.click("button:text('Create source')");
  await page.waitForSelector(".field-error");
  assert.deepEqual(await page.locator(".field-error").allTextContents(), ["Name is required", "Secret is required"]);
  await shot(page, "source-form");
  // the server's errors too, with the field's label
  await page.selectOption("select[name=provider]", "stripe");
  await page.fill("input[name=name]", "x");
  await page.fill("input[name='config.signingSecret']", "whsec_ok");
  await page.fill("input[name=eventType]", "Not An Event");
  await page.click("button:text('Create source')");
  await page.waitForSelector(".field-error >> text=Event type");
  assert.match(await page.textContent(".field-error"), /^Event type /);

  const secret = "It's a Secret to Everybody";
  await page.selectOption("select[name=provider]", "github");
  await page.fill("input[name=name]", HOSTILE_SOURCE);
  await page.fill("input[name='config.secret']", secret);
  await page.fill("input[name=eventType]", "");
  await page.click("button:text('Create source')");
  await page.waitForSelector(".paste .ingest-url");
  assert.equal(await page.textContent("h1"), HOSTILE_SOURCE, "the name shows as text");
  assert.equal(await page.locator("#injected-source").count(), 0, "no element was made from the name");
  const ingestUrl = await page.textContent(".paste .ingest-url");
  assert.ok(ingestUrl.startsWith(`${BASE}/in/`), ingestUrl);

  // GitHub's signature over the exact bytes, then one made with another secret
  const send = (body, key, delivery) =>
    fetch(ingestUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "issues",
        "x-github-delivery": delivery,
        "x-hub-signature-256": `sha256=${crypto.createHmac("sha256", key).update(body).digest("hex")}`,
      },
      body,
    });
  const good = await send(JSON.stringify({ action: "opened", issue: { title: HOSTILE_BODY } }), secret, crypto.randomUUID());
  assert.equal(good.status, 200);
  assert.equal((await good.json()).status, "accepted");
  const bad = await send(JSON.stringify({ action: "closed" }), "another secret", crypto.randomUUID());
  assert.equal(bad.status, 401);
  assert.match((await bad.json()).detail, /signature_mismatch/);

  await page.click("#request-filters button");
  await page.waitForSelector("tr.inbound-request >> nth=1");
  const statuses = await page.locator("tr.inbound-request").evaluateAll((rows) => rows.map((r) => r.dataset.status));
  assert.deepEqual(statuses.sort(), ["accepted", "rejected"]);
  const rejected = page.locator("tr.inbound-request[data-status=rejected]");
  assert.match(await rejected.textContent(), /Signature does not match/);
  assert.match(await rejected.textContent(), /signature_mismatch/);
  const accepted = page.locator("tr.inbound-request[data-status=accepted]");
  assert.match(await accepted.textContent(), /the current secret/);
  assert.equal(await accepted.locator("code.id").count(), 1, "the accepted request links its event");
  // times carry their zone
  assert.match(await accepted.locator("time").textContent(), /(UTC|GMT[+-]?[\d:]*|[A-Z]{2,5})$/);
  // headers and body as text, the signature masked
  await accepted.locator("button.toggle").click();
  const expanded = page.locator(`tr.request-details[data-for="${await accepted.getAttribute("data-id")}"]`);
  await expanded.waitFor();
  assert.match(await expanded.locator("pre.request-headers").textContent(), /x-hub-signature-256: \*\*\*\*/);
  assert.match(await expanded.locator("pre.request-body").textContent(), /<script>window.__pwned = 1<\/script>/);
  assert.equal(await page.locator("#injected").count(), 0, "no element was made from the body");
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await shot(page, "source-request-log");

  // the filter of the requests API
  await page.selectOption("#request-filters select[name=status]", "rejected");
  await page.waitForFunction(() => document.querySelectorAll("tr.inbound-request").length === 1);
  assert.equal(await page.getAttribute("tr.inbound-request", "data-status"), "rejected");

  // the dry run of a request pasted from GitHub's console: its verdict, nothing stored
  const ping = '{"zen":"Keep it logically awesome."}';
  const signature = `sha256=${crypto.createHmac("sha256", secret).update(ping).digest("hex")}`;
  await page.fill("#dry-run textarea[name=headers]", `X-GitHub-Event: ping\nX-GitHub-Delivery: d-1\nX-Hub-Signature-256: ${signature}`);
  await page.fill("#dry-run textarea[name=body]", ping);
  await page.click("#dry-run button:text('Check')");
  await page.waitForSelector(".dry-run-result .badge");
  assert.match(await page.textContent(".dry-run-result"), /accepted.*the current secret.*github\.ping/);
  await page.fill("#dry-run textarea[name=body]", `${ping} `);
  await page.click("#dry-run button:text('Check')");
  await page.waitForSelector(".dry-run-result :text('signature_mismatch')");

  // deactivate: the URL answers 410; rotate: a new URL, the old one still works
  await page.click("button:text('Deactivate')");
  await page.waitForSelector(".title .badge:text('inactive')");
  assert.equal((await fetch(ingestUrl, { method: "POST", body: "{}" })).status, 410);
  await page.click("button:text('Activate')");
  await page.waitForSelector(".title .badge:text-is('active')");
  await page.click("button:text('Rotate URL')");
  await page.waitForFunction((old) => document.querySelector(".paste .ingest-url")?.textContent !== old, ingestUrl);
  await page.waitForSelector(".paste :text('previous ingest URL keeps working')");
  assert.equal((await send("{}", secret, crypto.randomUUID())).status, 200, "the old URL keeps working");

  // the list: name as text, provider, state, URL with a copy button
  await page.click("#nav >> text=Sources");
  await page.waitForSelector("tr.source");
  assert.equal(await page.textContent("tr.source td:first-child"), HOSTILE_SOURCE);
  assert.match(await page.textContent("tr.source"), /GitHub.*active/);
  assert.equal(await page.locator("tr.source button.copy").count(), 1);

  // Unipile: the generated header value is shown whole once, right after create
  await page.click("text=New source");
  await page.selectOption("select[name=provider]", "unipile");
  await page.fill("input[name=name]", "Unipile messages");
  await page.click("button:text('Create source')");
  await page.waitForSelector(".paste .header-value");
  assert.equal(await page.textContent(".paste .header-name"), "X-Hookrelay-Token");
  const headerValue = await page.textContent(".paste .header-value");
  assert.match(headerValue, /^[A-Za-z0-9_-]{43}$/);
  assert.match(await page.textContent(".paste"), /shows it only this once/);
  await shot(page, "source-created");
  const unipileUrl = await page.textContent(".paste .ingest-url");
  const ok = await fetch(unipileUrl, { method: "POST", headers: { "x-hookrelay-token": headerValue, "content-type": "application/json" }, body: '{"event":"message_received"}' });
  assert.equal(ok.status, 200);
  await page.reload();
  await page.waitForSelector(".paste .header-value");
  assert.equal(await page.textContent(".paste .header-value"), `****${headerValue.slice(-4)}`);

  // Meta: the verify token to paste shows on the page
  await page.click("#nav >> text=Sources");
  await page.click("text=New source");
  await page.selectOption("select[name=provider]", "meta");
  assert.match(await page.textContent(".provider-hint"), /Callback URL = the ingest URL, Verify token = the verify token/);
  await page.fill("input[name=name]", "WhatsApp");
  await page.fill("input[name='config.appSecret']", "app-secret-1234");
  await page.fill("input[name='config.verifyToken']", "my-verify-token");
  await page.click("button:text('Create source')");
  await page.waitForSelector(".paste .verify-token");
  assert.equal(await page.textContent(".paste .verify-token"), "my-verify-token");
  const metaUrl = await page.textContent(".paste .ingest-url");
  const handshake = await fetch(`${metaUrl}?hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=42`);
  assert.equal(await handshake.text(), "42");
  await page.click("#request-filters button");
  await page.waitForSelector("tr.inbound-request[data-status=handshake]");

  // delete, after asking
  await page.click("button:text('Delete')");
  await page.waitForSelector("tr.source");
  assert.deepEqual((await page.locator("tr.source td:first-child").allTextContents()).sort(), [HOSTILE_SOURCE, "Unipile messages"].sort());
  await shot(page, "sources");

  assert.deepEqual(page.problems, []);
  await page.context().close();
});
