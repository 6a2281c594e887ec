from typing import Literal

InboundRequestStatus = Literal["accepted", "duplicate", "handshake", "rejected"]

INBOUND_REQUEST_STATUS_VALUES: set[InboundRequestStatus] = {
    "accepted",
    "duplicate",
    "handshake",
    "rejected",
}


def check_inbound_request_status(value: str) -> InboundRequestStatus:
    if value in INBOUND_REQUEST_STATUS_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {INBOUND_REQUEST_STATUS_VALUES!r}"
    )
