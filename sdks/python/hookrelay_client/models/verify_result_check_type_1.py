from typing import Literal

VerifyResultCheckType1 = Literal[
    "malformed_signature",
    "missing_signature",
    "signature_mismatch",
    "timestamp_out_of_window",
    "wrong_credentials",
]

VERIFY_RESULT_CHECK_TYPE_1_VALUES: set[VerifyResultCheckType1] = {
    "malformed_signature",
    "missing_signature",
    "signature_mismatch",
    "timestamp_out_of_window",
    "wrong_credentials",
}


def check_verify_result_check_type_1(value: str) -> VerifyResultCheckType1:
    if value in VERIFY_RESULT_CHECK_TYPE_1_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {VERIFY_RESULT_CHECK_TYPE_1_VALUES!r}"
    )
