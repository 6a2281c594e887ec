from typing import Literal

RelayOutcomeErrorKind = Literal["connect", "dns", "other", "timeout", "tls"]

RELAY_OUTCOME_ERROR_KIND_VALUES: set[RelayOutcomeErrorKind] = {
    "connect",
    "dns",
    "other",
    "timeout",
    "tls",
}


def check_relay_outcome_error_kind(value: str) -> RelayOutcomeErrorKind:
    if value in RELAY_OUTCOME_ERROR_KIND_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {RELAY_OUTCOME_ERROR_KIND_VALUES!r}"
    )
