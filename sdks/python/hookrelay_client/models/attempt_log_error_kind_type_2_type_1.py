from typing import Literal

AttemptLogErrorKindType2Type1 = Literal[
    "blocked_target",
    "connect",
    "dns",
    "http_status",
    "other",
    "relay_offline",
    "timeout",
    "tls",
]

ATTEMPT_LOG_ERROR_KIND_TYPE_2_TYPE_1_VALUES: set[AttemptLogErrorKindType2Type1] = {
    "blocked_target",
    "connect",
    "dns",
    "http_status",
    "other",
    "relay_offline",
    "timeout",
    "tls",
}


def check_attempt_log_error_kind_type_2_type_1(
    value: str,
) -> AttemptLogErrorKindType2Type1:
    if value in ATTEMPT_LOG_ERROR_KIND_TYPE_2_TYPE_1_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {ATTEMPT_LOG_ERROR_KIND_TYPE_2_TYPE_1_VALUES!r}"
    )
