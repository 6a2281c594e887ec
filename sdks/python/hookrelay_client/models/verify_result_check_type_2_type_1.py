from typing import Literal

VerifyResultCheckType2Type1 = Literal[
    "malformed_signature",
    "missing_signature",
    "signature_mismatch",
    "timestamp_out_of_window",
    "wrong_credentials",
]

VERIFY_RESULT_CHECK_TYPE_2_TYPE_1_VALUES: set[VerifyResultCheckType2Type1] = {
    "malformed_signature",
    "missing_signature",
    "signature_mismatch",
    "timestamp_out_of_window",
    "wrong_credentials",
}


def check_verify_result_check_type_2_type_1(value: str) -> VerifyResultCheckType2Type1:
    if value in VERIFY_RESULT_CHECK_TYPE_2_TYPE_1_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {VERIFY_RESULT_CHECK_TYPE_2_TYPE_1_VALUES!r}"
    )
