from typing import Literal

RecoveryStatus = Literal["done", "running"]

RECOVERY_STATUS_VALUES: set[RecoveryStatus] = {
    "done",
    "running",
}


def check_recovery_status(value: str) -> RecoveryStatus:
    if value in RECOVERY_STATUS_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {RECOVERY_STATUS_VALUES!r}"
    )
