from typing import Literal

ListSourceRequestsStatus = Literal["accepted", "duplicate", "handshake", "rejected"]

LIST_SOURCE_REQUESTS_STATUS_VALUES: set[ListSourceRequestsStatus] = {
    "accepted",
    "duplicate",
    "handshake",
    "rejected",
}


def check_list_source_requests_status(value: str) -> ListSourceRequestsStatus:
    if value in LIST_SOURCE_REQUESTS_STATUS_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {LIST_SOURCE_REQUESTS_STATUS_VALUES!r}"
    )
