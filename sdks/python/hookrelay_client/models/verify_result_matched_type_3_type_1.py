from typing import Literal

VerifyResultMatchedType3Type1 = Literal["body", "current", "prefixed", "previous"]

VERIFY_RESULT_MATCHED_TYPE_3_TYPE_1_VALUES: set[VerifyResultMatchedType3Type1] = {
    "body",
    "current",
    "prefixed",
    "previous",
}


def check_verify_result_matched_type_3_type_1(
    value: str,
) -> VerifyResultMatchedType3Type1:
    if value in VERIFY_RESULT_MATCHED_TYPE_3_TYPE_1_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {VERIFY_RESULT_MATCHED_TYPE_3_TYPE_1_VALUES!r}"
    )
