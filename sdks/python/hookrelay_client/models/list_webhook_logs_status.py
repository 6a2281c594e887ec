from typing import Literal

ListWebhookLogsStatus = Literal["failed", "success"]

LIST_WEBHOOK_LOGS_STATUS_VALUES: set[ListWebhookLogsStatus] = {
    "failed",
    "success",
}


def check_list_webhook_logs_status(value: str) -> ListWebhookLogsStatus:
    if value in LIST_WEBHOOK_LOGS_STATUS_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {LIST_WEBHOOK_LOGS_STATUS_VALUES!r}"
    )
