from typing import Literal

SourceProvider = Literal[
    "github",
    "hmac",
    "linkedin",
    "meta",
    "none",
    "shopify",
    "slack",
    "standard-webhooks",
    "stripe",
    "twilio",
    "unipile",
    "viber",
]

SOURCE_PROVIDER_VALUES: set[SourceProvider] = {
    "github",
    "hmac",
    "linkedin",
    "meta",
    "none",
    "shopify",
    "slack",
    "standard-webhooks",
    "stripe",
    "twilio",
    "unipile",
    "viber",
}


def check_source_provider(value: str) -> SourceProvider:
    if value in SOURCE_PROVIDER_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {SOURCE_PROVIDER_VALUES!r}"
    )
