from typing import Literal

IngestAcceptedStatus = Literal["accepted", "duplicate"]

INGEST_ACCEPTED_STATUS_VALUES: set[IngestAcceptedStatus] = {
    "accepted",
    "duplicate",
}


def check_ingest_accepted_status(value: str) -> IngestAcceptedStatus:
    if value in INGEST_ACCEPTED_STATUS_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {INGEST_ACCEPTED_STATUS_VALUES!r}"
    )
