from typing import Literal

VerifyResultStatus = Literal["accepted", "handshake", "rejected"]

VERIFY_RESULT_STATUS_VALUES: set[VerifyResultStatus] = {
    "accepted",
    "handshake",
    "rejected",
}


def check_verify_result_status(value: str) -> VerifyResultStatus:
    if value in VERIFY_RESULT_STATUS_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {VERIFY_RESULT_STATUS_VALUES!r}"
    )
