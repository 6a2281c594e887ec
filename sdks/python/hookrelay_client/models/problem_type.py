from typing import Literal

ProblemType = Literal[
    "bad_request",
    "conflict",
    "forbidden",
    "gone",
    "internal",
    "method_not_allowed",
    "not_found",
    "payload_too_large",
    "rate_limited",
    "service_unavailable",
    "unauthorized",
    "unsupported_media_type",
    "validation_failed",
]

PROBLEM_TYPE_VALUES: set[ProblemType] = {
    "bad_request",
    "conflict",
    "forbidden",
    "gone",
    "internal",
    "method_not_allowed",
    "not_found",
    "payload_too_large",
    "rate_limited",
    "service_unavailable",
    "unauthorized",
    "unsupported_media_type",
    "validation_failed",
}


def check_problem_type(value: str) -> ProblemType:
    if value in PROBLEM_TYPE_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {PROBLEM_TYPE_VALUES!r}"
    )
