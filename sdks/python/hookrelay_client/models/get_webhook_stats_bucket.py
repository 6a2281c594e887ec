from typing import Literal

GetWebhookStatsBucket = Literal["15m", "1d", "1h", "1m", "5m"]

GET_WEBHOOK_STATS_BUCKET_VALUES: set[GetWebhookStatsBucket] = {
    "15m",
    "1d",
    "1h",
    "1m",
    "5m",
}


def check_get_webhook_stats_bucket(value: str) -> GetWebhookStatsBucket:
    if value in GET_WEBHOOK_STATS_BUCKET_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {GET_WEBHOOK_STATS_BUCKET_VALUES!r}"
    )
