"""The Python client against a live server (HOOKRELAY_URL; scripts/sdk-test starts one with
private targets allowed): sign up, log in, an API key, a webhook pointing at a receiver of
this test, publish, the attempt logs page by page, and errors as HookrelayError."""

import json
import os
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import hookrelay
from hookrelay import HookrelayError
from hookrelay_client.api.api_keys import create_api_key
from hookrelay_client.api.auth import login, register
from hookrelay_client.api.events import publish_event
from hookrelay_client.api.logs_and_stats import list_webhook_logs
from hookrelay_client.api.webhooks import create_webhook, list_webhooks
from hookrelay_client.models import (
    ApiKeyCreate,
    HttpWebhookCreate,
    LoginRequest,
    PublishRequest,
    RegisterRequest,
)

BASE_URL = os.environ.get("HOOKRELAY_URL", "")


class Receiver:
    """A webhook receiver on 127.0.0.1:<random port> that keeps every request's body."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(204)
                self.end_headers()
                with receiver.arrived:
                    receiver.bodies.append(body)
                    receiver.arrived.notify_all()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.bodies) >= count, timeout):
                raise AssertionError(f"the receiver got {len(self.bodies)} of {count} requests")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def eventually(probe, timeout: float = 10.0):
    """Calls probe until it returns a truthy value (rows written after a delivery)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def signed_up(test: unittest.TestCase, label: str):
    """A new tenant: the anonymous client and one logged in (closed when the test ends)."""
    anonymous = test.enterContext(hookrelay.client(BASE_URL))
    email = f"py-{label}-{os.getpid()}-{time.time_ns()}@example.com"
    password = "correct horse battery"
    registration = hookrelay.ok(
        register.sync(client=anonymous, body=RegisterRequest(email=email, password=password, organization="Python SDK"))
    )
    assert registration.user.email == email
    token = hookrelay.ok(login.sync(client=anonymous, body=LoginRequest(email=email, password=password)))
    assert token.token_type == "Bearer"
    return anonymous, test.enterContext(hookrelay.client(BASE_URL, token.access_token))


@unittest.skipUnless(BASE_URL, "HOOKRELAY_URL is not set (run scripts/sdk-test)")
class SdkTest(unittest.TestCase):
    def setUp(self) -> None:
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)

    def test_webhook_publish_and_logs_page_by_page(self) -> None:
        _, hr = signed_up(self, "flow")
        webhook = hookrelay.ok(
            create_webhook.sync(
                client=hr, body=HttpWebhookCreate(name="sdk test", url=self.receiver.url, events=["order.*"])
            )
        )
        self.assertTrue(webhook.secret.startswith("whsec_"))
        self.assertEqual(webhook.url, self.receiver.url)

        # publishing with a publish-only API key
        key = hookrelay.ok(create_api_key.sync(client=hr, body=ApiKeyCreate(name="publisher", scope="publish")))
        publisher = self.enterContext(hookrelay.client(BASE_URL, key.key))
        for n in (1, 2):
            accepted = hookrelay.ok(
                publish_event.sync(client=publisher, body=PublishRequest(event="order.created", data={"n": n}))
            )
            self.assertEqual(accepted.deliveries, 1)
        self.receiver.wait_for(2)
        self.assertEqual(sorted(b["data"]["n"] for b in self.receiver.bodies), [1, 2])
        # …which may not list webhooks: a typed 403
        with self.assertRaises(HookrelayError) as caught:
            list_webhooks.sync(client=publisher)
        self.assertEqual((caught.exception.status, caught.exception.type), (403, "forbidden"))

        # the two attempts, one per page (the log rows are written just after the answer)
        eventually(lambda: len(hookrelay.ok(list_webhook_logs.sync(webhook.id, client=hr)).data) >= 2)

        def logs_page(cursor):
            return list_webhook_logs.sync(webhook.id, client=hr, limit=1, cursor=cursor)

        sizes = [len(page.data) for page in hookrelay.pages(logs_page)]
        self.assertEqual([s for s in sizes if s], [1, 1], f"page sizes: {sizes}")
        logs = list(hookrelay.paginate(logs_page))
        self.assertEqual(len(logs), 2)
        self.assertNotEqual(logs[0].id, logs[1].id)
        for log in logs:
            self.assertTrue(log.success)
            self.assertEqual(log.response_status, 204)
            self.assertEqual(log.webhook_id, webhook.id)

    def test_422_is_a_typed_error_naming_the_field(self) -> None:
        anonymous, hr = signed_up(self, "422")
        with self.assertRaises(HookrelayError) as caught:
            create_webhook.sync(client=hr, body=HttpWebhookCreate(name="bad", url="not a url", events=["*"]))
        error = caught.exception
        self.assertEqual(error.status, 422)
        self.assertEqual(error.type, "validation_failed")
        self.assertEqual(error.title, "Validation failed")
        self.assertIn("url", error.detail)
        self.assertEqual([e.field for e in error.errors], ["url"])
        self.assertTrue(error.field_error("url"))

        # and a 401 without a token
        with self.assertRaises(HookrelayError) as caught:
            list_webhooks.sync(client=anonymous)
        self.assertEqual(caught.exception.status, 401)


if __name__ == "__main__":
    unittest.main()
