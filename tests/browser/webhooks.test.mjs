// The webhooks part of the dashboard in headless Chromium, against a real hookrelay
// (scripts/browser-test starts it) and real receivers on 127.0.0.1: health at a glance in
// the list and on the page, retry and recover showing their effect at once, the webhook
// form's errors in words, and the stats charts.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { chromium } from "playwright-core";

const BASE = process.env.HOOKRELAY_URL;
const SHOTS = new URL("./screenshots/", import.meta.url).pathname;
const PASSWORD = "correct horse battery";
// A failing receiver answers slowly, so that a delivery re-queued by a retry or a
// recovery stays pending for a couple of seconds (500 ms, the 1 s retry, 500 ms)
const FAIL_DELAY_MS = 500;

let browser;
let receiver;
const hits = { ok: 0, fail: 0 };

before(async () => {
  assert.ok(BASE, "HOOKRELAY_URL is not set: run the browser tests with scripts/browser-test");
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url.startsWith("/fail")) {
        hits.fail++;
        setTimeout(() => res.writeHead(500, { "content-type": "text/plain" }).end("broken on purpose"), FAIL_DELAY_MS);
      } else {
        hits.ok++;
        res.writeHead(200).end("ok");
      }
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

const url = (path) => `http://127.0.0.1:${receiver.address().port}${path}`;

async function api(method, path, token, body) {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

/** A new tenant, registered and logged in through the API: its access token. */
async function tenant(label) {
  const email = `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  assert.equal((await api("POST", "/auth/register", null, { email, password: PASSWORD, organization: `Org ${label}` })).status, 201);
  const login = await api("POST", "/auth/login", null, { email, password: PASSWORD });
  assert.equal(login.status, 200);
  return login.body.accessToken;
}

/** A page logged in as `token` (the dashboard keeps it in sessionStorage), failing on any script error or CSP violation. */
async function newPage(token) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((t) => {
    try {
      if (location.pathname === "/" && !sessionStorage.getItem("hookrelay.accessToken")) sessionStorage.setItem("hookrelay.accessToken", t);
    } catch {
      // about:blank has no storage
    }
  }, token);
  const page = await context.newPage();
  page.problems = [];
  page.on("pageerror", (err) => page.problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    // a 4xx the page asked for (the 409 of a retry, the 422s) shows as a failed resource: not a problem
    if (msg.type() === "error" && !/Failed to load resource/.test(msg.text())) page.problems.push(`console: ${msg.text()}`);
  });
  return page;
}

const shot = (page, name) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });

/** Waits until `check()` is truthy (polling, with a deadline), and returns its value. */
async function until(what, check, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The webhook's deliveries by status, read through the API. */
async function statuses(token, webhookId) {
  const list = await api("GET", `/deliveries?webhookId=${webhookId}&limit=200`, token);
  return list.body.data.map((d) => d.status);
}
const allFailed = (token, id, n) => async () => {
  const s = await statuses(token, id);
  return s.length === n && s.every((x) => x === "failed");
};

test("a failing webhook shows its health in the list and on its page; retry and recover show their effect at once", async () => {
  const token = await tenant("health");
  const create = async (body) => {
    const res = await api("POST", "/webhooks", token, { events: ["order.*"], ...body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };
  // retrySchedule [1]: two attempts a second apart, then the delivery ends failed
  const failing = await create({ name: "Failing orders", url: url("/fail"), retrySchedule: [1] });
  const healthy = await create({ name: "Healthy orders", url: url("/ok") });
  const off = await create({ name: "Switched off", url: url("/ok"), active: false });
  for (let i = 0; i < 3; i++) assert.equal((await api("POST", "/events", token, { event: "order.created", data: { n: i } })).status, 202);
  await until("the failing webhook's deliveries to end failed", allFailed(token, failing.id, 3));

  const page = await newPage(token);
  await page.goto(`${BASE}/#/webhooks`);
  // health is computed from recorded attempts: reload until the list shows it
  const failingRow = page.locator(`tr.webhook[data-id="${failing.id}"]`);
  await until("the list to show the failing state", async () => {
    await page.reload();
    await failingRow.waitFor();
    return (await failingRow.locator(".badge.health[data-state=failing]").count()) === 1;
  });
  const badge = failingRow.locator(".badge.health");
  assert.match(await badge.textContent(), /^Failing since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, "in words, with the time it began");
  assert.match(await badge.getAttribute("class"), /\bbad\b/, "and in colour");
  assert.match(await failingRow.textContent(), /0 % of 6 attempts/, "the last 24 h: 3 deliveries × 2 attempts, none succeeded");
  assert.equal(await failingRow.locator("td:last-child time").count(), 1, "the last attempt's time");

  const healthyRow = page.locator(`tr.webhook[data-id="${healthy.id}"]`);
  await until("the healthy webhook to show healthy", async () => {
    await page.reload();
    await healthyRow.waitFor();
    return (await healthyRow.locator(".badge.health[data-state=healthy]").count()) === 1;
  });
  assert.equal(await healthyRow.locator(".badge.health").textContent(), "Healthy");
  assert.match(await healthyRow.textContent(), /100 % of 3 attempts/);
  const offRow = page.locator(`tr.webhook[data-id="${off.id}"]`);
  assert.equal(await offRow.locator(".badge.health").textContent(), "Disabled (manual)");
  assert.match(await offRow.textContent(), /No attempts/);
  await shot(page, "webhooks-health");

  // the webhook's page says the same in its header
  await failingRow.locator("a").first().click();
  await page.waitForSelector(".title .badge.health[data-state=failing]");
  assert.match(await page.textContent(".health-line"), /Last 24 h: 0 % of 6 attempts/);
  assert.equal(await page.locator(".health-line time").count(), 1, "a last attempt, no last success");

  // deactivate: the header shows it at once, and so does the list
  await page.click("button:text('Deactivate')");
  await page.waitForSelector(".title .badge.health:text-is('Disabled (manual)')");
  await page.click("#nav >> text=Webhooks");
  await page.waitForSelector(`tr.webhook[data-id="${failing.id}"] .badge.health[data-state=disabled]`);
  await failingRow.locator("a").first().click();
  await page.click("button:text('Activate')");
  await page.waitForSelector(".title .badge.health[data-state=failing]");

  // retry in the webhook's deliveries: the row shows pending at once, without a reload
  await page.click(".tabs >> text=Deliveries");
  await page.waitForSelector("tr.delivery[data-status=failed] >> nth=2");
  const first = page.locator("tr.delivery").first();
  const retried = await first.getAttribute("data-id");
  await first.locator("button.retry").click();
  await page.waitForSelector(`tr.delivery[data-id="${retried}"][data-status=pending]`, { timeout: 2_000 });
  await until("the retried delivery to fail again", allFailed(token, failing.id, 3));

  // retry from the attempt log: the attempt's row shows its delivery pending at once
  await page.click(".tabs >> text=Attempt log");
  await page.waitForSelector("tr.attempt button.retry");
  const attempt = page.locator("tr.attempt").first();
  await attempt.locator("button.retry").click();
  await attempt.locator("td.delivery-cell .badge:text-is('pending')").waitFor({ timeout: 2_000 });
  assert.equal(await attempt.getAttribute("data-delivery"), "pending");
  await until("the delivery retried from the log to fail again", allFailed(token, failing.id, 3));

  // recover: it says how many it will re-queue and asks in the page first
  await page.click(".tabs >> text=Deliveries");
  await page.waitForSelector("tr.delivery[data-status=failed] >> nth=2");
  await page.click("#recover button:text('Recover failed deliveries')");
  await page.waitForSelector(".recover-confirm .recover-count");
  assert.equal(await page.getAttribute(".recover-count", "data-count"), "3");
  assert.match(await page.textContent(".recover-confirm"), /3 failed deliveries created between .* will be re-queued/);
  await shot(page, "recover-confirm");
  // cancel: nothing re-queued
  await page.click(".recover-confirm button[data-action=cancel]");
  assert.equal(await page.locator(".recover-confirm").isVisible(), false);
  assert.ok(await allFailed(token, failing.id, 3)(), "cancel re-queued nothing");
  // confirm: the server's count, and the table loaded again with the re-queued rows
  await page.click("#recover button:text('Recover failed deliveries')");
  await page.click(".recover-confirm button[data-action=confirm]");
  await page.waitForSelector(".recovery:text('Recovery done: 3 deliveries re-queued.')");
  await page.waitForSelector("tr.delivery[data-status=pending]", { timeout: 2_000 });

  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("the webhook form shows every field's error at once, in words, and each goes when its field is fixed", async () => {
  const token = await tenant("form");
  const page = await newPage(token);
  const posts = [];
  page.on("request", (r) => r.method() === "POST" && r.url().endsWith("/api/v1/webhooks") && posts.push(r.url()));
  await page.goto(`${BASE}/#/webhooks/new`);
  await page.fill("input[name=name]", "Orders");
  await page.fill("input[name=url]", "example.com/hook");
  await page.fill("input[name=maxConcurrency]", "0");
  await page.fill("input[name=retrySchedule]", "4, x");
  await page.click("button:text('Create webhook')");
  await page.waitForSelector(".field-error >> nth=2");

  // three errors, each right after its own field's input, in words
  const errors = await page.locator(".field-error").evaluateAll((els) =>
    els.map((e) => ({ for: e.dataset.for, beside: e.previousElementSibling?.getAttribute("name"), text: e.textContent })),
  );
  assert.deepEqual(
    errors.map((e) => e.for),
    ["url", "maxConcurrency", "retrySchedule"],
  );
  for (const e of errors) {
    assert.equal(e.beside, e.for, `the ${e.for} error sits beside its field`);
    assert.doesNotMatch(e.text, /invalid type|expected|\[\d+\]|null/, "no parser's words");
  }
  assert.match(errors[0].text, /^URL is not a full web address/);
  assert.match(errors[1].text, /^Max concurrency must be from 1 to 100/);
  assert.match(errors[2].text, /^Retry schedule: “x” is not a whole number of seconds/);
  assert.equal(await page.getAttribute("input[name=maxConcurrency]", "aria-invalid"), "true");
  assert.deepEqual(posts, [], "nothing was sent");
  await shot(page, "webhook-form-errors");

  // each error goes as its field is fixed, the others stay
  await page.fill("input[name=maxConcurrency]", "5");
  await page.waitForFunction(() => !document.querySelector(".field-error[data-for=maxConcurrency]"));
  assert.equal(await page.locator(".field-error").count(), 2);
  await page.fill("input[name=retrySchedule]", "4, 30");
  await page.fill("input[name=url]", url("/ok"));
  await page.waitForFunction(() => !document.querySelector(".field-error"));

  // the server's 422 lands beside its fields too, a parser's message put in words
  await page.route("**/api/v1/webhooks", (route) =>
    route.fulfill({
      status: 422,
      contentType: "application/problem+json",
      body: JSON.stringify({
        type: "validation_failed",
        title: "Validation failed",
        status: 422,
        detail: "the request has invalid fields",
        errors: [
          { field: "retrySchedule[1]", message: "invalid type: null, expected an integer" },
          { field: "name", message: "must be 1-100 characters" },
        ],
      }),
    }),
  );
  await page.click("button:text('Create webhook')");
  await page.waitForSelector(".field-error[data-for=retrySchedule]");
  assert.equal(await page.textContent(".field-error[data-for=retrySchedule]"), "Retry schedule, item 2 must be a whole number of seconds from 1 to 86,400");
  assert.equal(await page.textContent(".field-error[data-for=name]"), "Name must be 1-100 characters");
  await page.unroute("**/api/v1/webhooks");

  // and the real server takes the fixed form
  await page.click("button:text('Create webhook')");
  await page.waitForSelector(".tabs");
  const id = page.url().split("/").pop();
  const made = await api("GET", `/webhooks/${id}`, token);
  assert.equal(made.body.maxConcurrency, 5);
  assert.deepEqual(made.body.retrySchedule, [4, 30]);

  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("the stats charts have buckets that suit the window, units, a 0–100 % rate axis, and say when there is no latency", async () => {
  const token = await tenant("stats");
  const hook = await api("POST", "/webhooks", token, { name: "Stats", url: url("/ok"), events: ["order.*"] });
  for (let i = 0; i < 4; i++) await api("POST", "/events", token, { event: "order.created", data: { n: i } });
  await until("four attempts to be recorded", async () => (await api("GET", `/webhooks/${hook.body.id}/stats`, token)).body.attempts === 4);

  const page = await newPage(token);
  await page.goto(`${BASE}/#/webhooks/${hook.body.id}/stats`);
  const bars = page.locator("svg.chart[aria-label='Attempts over time']");
  const rate = page.locator("svg.chart[aria-label='Attempt success rate']");
  await bars.waitFor();
  assert.equal(await bars.getAttribute("data-total"), "4");
  // the last hour: a bar a minute
  assert.ok([60, 61].includes(Number(await bars.getAttribute("data-buckets"))), await bars.getAttribute("data-buckets"));
  // the rate axis is fixed at 0–100 %, whatever the data
  assert.equal(await rate.getAttribute("data-max"), "100");
  assert.deepEqual(await rate.locator(".y-axis text.tick").allTextContents(), ["0 %", "25 %", "50 %", "75 %", "100 %"]);
  // units on the axes
  assert.equal(await bars.locator(".y-axis .axis-title").textContent(), "attempts per 1 min");
  assert.match(await bars.locator(".x-axis .axis-title").textContent(), /^Time \(.+\) · one bar = 1 minute$/);
  assert.ok((await bars.locator(".x-axis text.tick").count()) >= 4, "several time labels");
  // full width: the chart spans the panel
  const [chartWidth, panelWidth] = await bars.evaluate((svg) => [svg.getBoundingClientRect().width, svg.closest(".stats-body").clientWidth]);
  assert.ok(chartWidth > 1000 && Math.abs(chartWidth - panelWidth) <= 2, `${chartWidth} of ${panelWidth}`);
  assert.match(await page.textContent(".latency-note"), /only attempts that got an HTTP answer/);
  assert.doesNotMatch(await page.textContent("[data-stat=p50p95]"), /—/);
  await shot(page, "stats-1h");

  // each window a few dozen bars: 24 h of 15 minutes, 7 days of 4 hours, 30 days of a day
  for (const [label, sizes, words] of [
    ["Last 24 hours", [96, 97], "15 minutes"],
    ["Last 7 days", [42, 43], "4 hours"],
    ["Last 30 days", [30, 31], "1 day"],
  ]) {
    await page.selectOption("select[name=window]", { label });
    await page.waitForSelector(`svg.chart[aria-label='Attempts over time'] .x-axis .axis-title:text('${words}')`);
    const n = Number(await bars.getAttribute("data-buckets"));
    assert.ok(sizes.includes(n), `${label}: ${n} bars`);
    assert.equal(await bars.getAttribute("data-total"), "4", `${label} counts the same attempts`);
  }
  await shot(page, "stats-7d");

  // an endpoint that never answers (nothing listens on its port): no latency data, said in words
  const silent = await api("POST", "/webhooks", token, { name: "Silent", url: "http://127.0.0.1:9/hook", events: ["order.*"], retrySchedule: [] });
  assert.equal((await api("POST", `/webhooks/${silent.body.id}/test`, token, { eventType: "order.created" })).status, 202);
  await until("the silent webhook's attempt", async () => (await api("GET", `/webhooks/${silent.body.id}/stats`, token)).body.attempts === 1);
  await page.goto(`${BASE}/#/webhooks/${silent.body.id}/stats`);
  await page.waitForSelector("p.no-latency");
  assert.match(await page.textContent("p.no-latency"), /none of the 1 attempt in this window got an HTTP answer/);
  assert.equal(await page.locator("svg.chart[aria-label='p95 response time']").count(), 0, "no empty chart");
  assert.equal(await page.textContent("[data-stat=p50p95] strong"), "No HTTP answers");
  await shot(page, "stats-no-latency");

  assert.deepEqual(page.problems, []);
  await page.context().close();
});
