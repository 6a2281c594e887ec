// The dashboard's screenshots for the docs (scripts/screenshots runs this against a fresh
// server): a realistic tenant, "Acme Payments", with four webhooks whose receivers run
// here on 127.0.0.1 — one answers 200, one always 500, one takes ~2 s, one is made
// inactive — about 100 events over a minute, a manual retry and a recover; then PNGs of
// the main pages into the directory given (docs/screenshots).
//
//   HOOKRELAY_URL=http://127.0.0.1:8080 node tests/browser/screenshots.mjs docs/screenshots

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const BASE = process.env.HOOKRELAY_URL;
const OUT = path.resolve(process.argv[2] || "docs/screenshots");
const EVENTS = Number(process.env.SCREENSHOT_EVENTS || 100);
const SPREAD_MS = Number(process.env.SCREENSHOT_SPREAD_MS || 60_000);
if (!BASE) {
  console.error("HOOKRELAY_URL is not set: run scripts/screenshots");
  process.exit(2);
}
fs.mkdirSync(OUT, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error("screenshots:", ...a);

// ---------------------------------------------------------------- receivers

/** A receiver on 127.0.0.1: `answer(req)` → [status, body] after `delay()` ms. */
async function receiver(answer, delay = () => 20 + Math.random() * 80) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () =>
      setTimeout(() => {
        const [status, body] = answer(req);
        res.writeHead(status, { "content-type": "application/json" });
        res.end(body);
      }, delay()),
    );
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: (p) => `http://127.0.0.1:${server.address().port}${p}` };
}

const ok = await receiver(() => [200, '{"received":true}']);
const failing = await receiver(() => [500, '{"error":"warehouse ingestion paused for maintenance"}']);
const slow = await receiver(() => [200, '{"synced":true}'], () => 1800 + Math.random() * 400);
const legacy = await receiver(() => [202, "accepted"]);

// ---------------------------------------------------------------- the API

let token = null;
async function api(method, p, body) {
  const res = await fetch(`${BASE}/api/v1${p}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const answer = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

const email = `ops-${Date.now()}@acme-payments.example`;
const password = "correct horse battery staple";
await api("POST", "/auth/register", { email, password, organization: "Acme Payments" });
token = (await api("POST", "/auth/login", { email, password })).accessToken;

await api("POST", "/webhooks", {
  name: "Northwind ERP",
  description: "Invoices and customers for Northwind Traders' ERP",
  url: ok.url("/webhooks/acme"),
  events: ["invoice.*", "customer.*"],
  consumerId: "northwind",
  headers: { "X-Northwind-Account": "NW-20931" },
});
const analytics = await api("POST", "/webhooks", {
  name: "Analytics warehouse",
  url: failing.url("/ingest/acme-payments"),
  // each failure raises a hookrelay.delivery.failed: invoices only, or they fill the events page
  events: ["invoice.*"],
  retrySchedule: [2, 4],
  // its retries, the retry and the recover settle within the script's minute or two
  rateLimitPerMinute: 1000,
});
const crm = await api("POST", "/webhooks", {
  name: "CRM sync",
  url: slow.url("/hooks/acme"),
  events: ["customer.*", "subscription.*", "hookrelay.*"],
  maxConcurrency: 4,
});
const fulfilment = await api("POST", "/webhooks", {
  name: "Legacy fulfilment bridge",
  url: legacy.url("/fulfilment/callback"),
  events: ["invoice.paid"],
});
log("webhooks created");

// ---------------------------------------------------------------- about a minute of traffic

const customers = ["northwind", "northwind", "globex", "initech", null];
const pick = (list) => list[Math.floor(Math.random() * list.length)];
let invoiceNo = 4180;
function event(i) {
  const consumerId = pick(customers);
  const amount = [1299, 4900, 15000, 23999, 99000][i % 5];
  const invoice = () => ({
    id: `in_${(invoiceNo++).toString(36)}${i}`,
    number: `ACME-2026-${invoiceNo}`,
    customer: `cus_${consumerId ?? "direct"}_${i % 7}`,
    amount_due: amount,
    currency: pick(["eur", "usd", "gbp"]),
    lines: [{ description: pick(["Pro plan (monthly)", "Seats × 12", "Usage: 1.2M API calls"]), amount }],
  });
  const kinds = [
    ["invoice.created", invoice],
    ["invoice.paid", () => ({ ...invoice(), amount_paid: amount, paid_at: new Date().toISOString() })],
    ["invoice.payment_failed", () => ({ ...invoice(), failure_code: "card_declined", next_payment_attempt: new Date(Date.now() + 3 * 86400e3).toISOString() })],
    ["customer.created", () => ({ id: `cus_${i}`, email: `billing+${i}@${consumerId ?? "example"}.com`, name: pick(["Ada Lovelace", "Grace Hopper", "Katherine Johnson"]) })],
    ["customer.updated", () => ({ id: `cus_${i}`, changes: { address: { city: pick(["Lyon", "Leeds", "Austin"]) } } })],
    ["subscription.renewed", () => ({ id: `sub_${i}`, plan: "pro", period_end: new Date(Date.now() + 30 * 86400e3).toISOString() })],
  ];
  const [type, data] = kinds[i % 7 === 3 ? 2 : i % kinds.length];
  return { event: type, data: data(), ...(consumerId ? { consumerId } : {}) };
}

const published = [];
for (let i = 0; i < EVENTS; i++) {
  published.push(await api("POST", "/events", event(i)));
  // the inactive one: its owner switched it off a third of the way in
  if (i === Math.floor(EVENTS / 3)) await api("PATCH", `/webhooks/${fulfilment.id}`, { active: false });
  await sleep(SPREAD_MS / EVENTS);
}
log(`${published.length} events published`);

// one with numbers a float would round, for the event page: sent as text, since
// JSON.stringify would round them here already
const precise = await api(
  "POST",
  "/events",
  '{"event":"invoice.paid","consumerId":"northwind","data":{"id":"in_fx_2291","number":"ACME-2026-4471","amount_paid":1250000,"currency":"eur",' +
    '"fx":{"usd_per_eur":1.08320000000000000001},"ledger_entry":90071992547409931234,"note":"<b>Thanks</b> for your business"}}',
);

// ---------------------------------------------------------------- a retry and a recover

async function settled(webhookId) {
  for (let i = 0; i < 240; i++) {
    const page = await api("GET", `/deliveries?webhookId=${webhookId}&status=pending&limit=1`);
    if (!page.data.length) return;
    await sleep(250);
  }
}
await settled(analytics.id);
await settled(crm.id);

// ---------------------------------------------------------------- screenshots

// the lists and stats before the retry and the recover, whose new failures would fill the
// events page's top with hookrelay.delivery.failed events
const browser = await chromium.launch({
  executablePath: process.env.HOOKRELAY_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
// a European user: times show in CET with their zone
const context = await browser.newContext({ viewport: { width: 1280, height: 820 }, timezoneId: "Europe/Berlin", locale: "en-GB" });
const problems = [];
async function newPage(ctx = context) {
  const page = await ctx.newPage();
  page.on("pageerror", (err) => problems.push(err.message));
  page.on("console", (m) => m.type() === "error" && !/Failed to load resource/.test(m.text()) && problems.push(m.text()));
  return page;
}
const page = await newPage();
await page.addInitScript((t) => sessionStorage.setItem("hookrelay.accessToken", t), token);

async function shoot(route, ready, name, { fullPage = false } = {}) {
  await page.goto(`${BASE}/#${route}`);
  await page.waitForSelector(ready, { timeout: 20_000 });
  await page.waitForLoadState("networkidle");
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage });
  log(`${name}.png`);
}
await shoot("/events", "tr.event >> nth=10", "events");
await shoot("/webhooks", "tr.webhook >> nth=3", "webhooks");
await shoot(`/webhooks/${analytics.id}/stats`, "svg.chart", "webhook-stats", { fullPage: true });

// a retry by hand of the oldest failure, and a recover of the last ten events' failures
const failures = (await api("GET", `/deliveries?webhookId=${analytics.id}&status=failed&limit=200`)).data;
const retried = failures.at(-1) ?? (await api("GET", `/deliveries?webhookId=${analytics.id}&limit=1`)).data[0];
if (failures.length) await api("POST", `/deliveries/${retried.id}/retry`);
await api("POST", `/webhooks/${analytics.id}/recover`, { since: published[Math.max(0, published.length - 10)].timestamp });
await sleep(500);
await settled(analytics.id);
log("retry and recover done");

await shoot(`/events/${precise.id}`, "tr.delivery", "event", { fullPage: true });
await shoot(`/deliveries/${retried.id}`, "table.headers", "delivery", { fullPage: true });

const portalSession = await api("POST", "/portal-sessions", { consumerId: "northwind", expiresIn: 3600 });
const portalContext = await browser.newContext({ viewport: { width: 1280, height: 640 }, timezoneId: "Europe/Berlin", locale: "en-GB" });
const portal = await newPage(portalContext);
await portal.goto(portalSession.url);
await portal.waitForSelector("tr.webhook");
await portal.waitForLoadState("networkidle");
await portal.screenshot({ path: path.join(OUT, "portal.png") });
log("portal.png");
await portal.click("#nav >> text=Deliveries");
await portal.waitForSelector("tr.delivery");
await portal.waitForLoadState("networkidle");
await portal.screenshot({ path: path.join(OUT, "portal-deliveries.png") });
log("portal-deliveries.png");

await browser.close();
for (const r of [ok, failing, slow, legacy]) r.server.close();
if (problems.length) {
  console.error("screenshots: the pages reported errors:\n" + problems.join("\n"));
  process.exit(1);
}
