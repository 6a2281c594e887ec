from typing import Literal

VerifyResultMatchedType1 = Literal["body", "current", "prefixed", "previous"]

VERIFY_RESULT_MATCHED_TYPE_1_VALUES: set[VerifyResultMatchedType1] = {
    "body",
    "current",
    "prefixed",
    "previous",
}


def check_verify_result_matched_type_1(value: str) -> VerifyResultMatchedType1:
    if value in VERIFY_RESULT_MATCHED_TYPE_1_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {VERIFY_RESULT_MATCHED_TYPE_1_VALUES!r}"
    )
