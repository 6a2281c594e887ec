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

  // a validation error names the field, beside it
  await page.fill(".webhook-form input[name=events]", "Not An Event");
  await page.click("button:text('Save changes')");
  await page.waitForSelector(".field-error");
  assert.match(await page.textContent(".field-error"), /^events\[0\]/);
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
  await page.waitForSelector(".title .badge:text('inactive')");
  await page.click("button:text('Activate')");
  await page.waitForSelector(".title .badge:text('active')");

  // API keys: the key is shown once
  await page.click("#nav >> text=API keys");
  await page.fill("form input[name=name]", "billing backend");
  await page.selectOption("form select[name=scope]", "publish");
  await page.click("button:text('Create key')");
  await page.waitForSelector(".secret-value");
  assert.match(await page.textContent(".secret-value"), /^hrk_/);
  await page.waitForSelector("tr.api-key >> text=publish");

  await page.click("#nav >> text=Webhooks");
  await page.waitForSelector("tr.webhook");
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
  assert.match(await portal.textContent("#who"), /cus_1/);
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
  assert.match(await framed.textContent("#who"), /cus_1/);
  await embedding.goto(embed(`${BASE}/`));
  await embedding.waitForTimeout(1000);
  const refused = embedding.frame({ name: "embedded" });
  assert.match(refused.url(), /^chrome-error:/, "Chromium refused to frame the dashboard");
  assert.equal(await refused.locator("#login, #main").count(), 0, "the dashboard refuses to be framed");
  await embedding.context().close();

  // a reload ends the session: the token was kept in memory only
  await portal.reload();
  await portal.waitForSelector("text=This portal session has ended");

  assert.deepEqual(portal.problems, []);
  await portal.context().close();
  await page.context().close();
});
