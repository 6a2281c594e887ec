// The TypeScript client against a live server (HOOKRELAY_URL; scripts/sdk-test starts one
// with private targets allowed): sign up, log in, an API key, a webhook pointing at a
// receiver of this test, publish, the attempt logs page by page, and errors as
// HookrelayError.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { createHookrelayClient, HookrelayError, pages, paginate, type Schemas } from "../src/index.js";

const baseUrl = process.env.HOOKRELAY_URL ?? assert.fail("HOOKRELAY_URL is not set (run scripts/sdk-test)");

/** A webhook receiver on 127.0.0.1:<random port> that keeps every request's body. */
function startReceiver() {
  const received: { headers: IncomingMessage["headers"]; body: unknown }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      res.writeHead(204).end();
      server.emit("received");
    });
  });
  /** Resolves once `count` requests arrived; rejects after `ms`. */
  const waitFor = async (count: number, ms = 10_000) => {
    const deadline = AbortSignal.timeout(ms);
    while (received.length < count) await once(server, "received", { signal: deadline });
  };
  return { server, received, waitFor };
}

/** Calls `probe` until it returns a value, or fails after `ms` (for rows written after a delivery). */
async function eventually<T>(probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, "timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

const receiver = startReceiver();
let hookUrl = "";
before(async () => {
  receiver.server.listen(0, "127.0.0.1");
  await once(receiver.server, "listening");
  hookUrl = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hook`;
});
after(() => receiver.server.close());

test("sign up, log in, create a webhook, publish, read the logs page by page", async () => {
  const anonymous = createHookrelayClient({ baseUrl });
  const credentials = {
    email: `ts-${process.pid}-${Date.now()}@example.com`,
    password: "correct horse battery",
  };
  const registration = await anonymous.POST("/api/v1/auth/register", {
    body: { ...credentials, organization: "TypeScript SDK" },
  });
  assert.equal(registration.user.email, credentials.email);
  const token = await anonymous.POST("/api/v1/auth/login", { body: credentials });
  assert.equal(token.tokenType, "Bearer");
  const hr = anonymous.withToken(token.accessToken);

  const webhook: Schemas["WebhookWithSecret"] = await hr.POST("/api/v1/webhooks", {
    body: { name: "sdk test", url: hookUrl, events: ["order.*"] },
  });
  assert.match(webhook.secret, /^whsec_/);
  assert.equal(webhook.url, hookUrl);

  // publishing with a publish-only API key
  const key = await hr.POST("/api/v1/api-keys", { body: { name: "publisher", scope: "publish" } });
  const publisher = hr.withToken(key.key);
  for (const n of [1, 2]) {
    const accepted = await publisher.POST("/api/v1/events", { body: { event: "order.created", data: { n } } });
    assert.equal(accepted.deliveries, 1);
  }
  await receiver.waitFor(2);
  assert.deepEqual(
    receiver.received.map((r) => (r.body as { data: { n: number } }).data.n).sort(),
    [1, 2],
  );
  // …which may not list webhooks: a typed 403
  await assert.rejects(publisher.GET("/api/v1/webhooks"), (e: unknown) => {
    assert.ok(e instanceof HookrelayError);
    assert.equal(e.status, 403);
    assert.equal(e.type, "forbidden");
    return true;
  });

  // the two attempts, one per page (the log rows are written just after the answer)
  const logsPage = (cursor: string | undefined) =>
    hr.GET("/api/v1/webhooks/{id}/logs", { params: { path: { id: webhook.id }, query: { limit: 1, cursor } } });
  await eventually(async () => {
    const all = await hr.GET("/api/v1/webhooks/{id}/logs", { params: { path: { id: webhook.id } } });
    return all.data.length >= 2 ? true : undefined;
  });
  const seen: Schemas["AttemptLog"][][] = [];
  for await (const page of pages(logsPage)) seen.push(page.data);
  const nonEmpty = seen.filter((p) => p.length > 0);
  assert.equal(nonEmpty.length, 2, `pages: ${JSON.stringify(seen.map((p) => p.length))}`);
  assert.ok(nonEmpty.every((p) => p.length === 1));
  const logs: Schemas["AttemptLog"][] = [];
  for await (const log of paginate(logsPage)) logs.push(log);
  assert.equal(logs.length, 2);
  assert.notEqual(logs[0].id, logs[1].id);
  assert.ok(logs.every((l) => l.success && l.responseStatus === 204 && l.webhookId === webhook.id));
});

test("a 422 is a HookrelayError naming the field", async () => {
  const anonymous = createHookrelayClient({ baseUrl });
  const credentials = { email: `ts-422-${process.pid}-${Date.now()}@example.com`, password: "correct horse battery" };
  await anonymous.POST("/api/v1/auth/register", { body: { ...credentials, organization: "TypeScript SDK" } });
  const hr = anonymous.withToken((await anonymous.POST("/api/v1/auth/login", { body: credentials })).accessToken);

  const error = await hr.POST("/api/v1/webhooks", { body: { name: "bad", url: "not a url", events: ["*"] } }).then(
    () => assert.fail("expected a 422"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof HookrelayError);
  assert.equal(error.status, 422);
  assert.equal(error.type, "validation_failed");
  assert.equal(error.title, "Validation failed");
  assert.ok(error.detail.includes("url"), error.detail);
  assert.ok(error.fieldError("url"), JSON.stringify(error.errors));
  assert.deepEqual(
    error.errors.map((e) => e.field),
    ["url"],
  );

  // and a 401 without a token
  await assert.rejects(anonymous.GET("/api/v1/webhooks"), (e: unknown) => e instanceof HookrelayError && e.status === 401);
});
