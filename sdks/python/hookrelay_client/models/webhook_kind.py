from typing import Literal

WebhookKind = Literal["http", "relay"]

WEBHOOK_KIND_VALUES: set[WebhookKind] = {
    "http",
    "relay",
}


def check_webhook_kind(value: str) -> WebhookKind:
    if value in WEBHOOK_KIND_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {WEBHOOK_KIND_VALUES!r}"
    )
