from typing import Literal

InboundRequestCheckType2Type1 = Literal[
    "malformed_signature",
    "missing_signature",
    "signature_mismatch",
    "timestamp_out_of_window",
    "wrong_credentials",
]

INBOUND_REQUEST_CHECK_TYPE_2_TYPE_1_VALUES: set[InboundRequestCheckType2Type1] = {
    "malformed_signature",
    "missing_signature",
    "signature_mismatch",
    "timestamp_out_of_window",
    "wrong_credentials",
}


def check_inbound_request_check_type_2_type_1(
    value: str,
) -> InboundRequestCheckType2Type1:
    if value in INBOUND_REQUEST_CHECK_TYPE_2_TYPE_1_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {INBOUND_REQUEST_CHECK_TYPE_2_TYPE_1_VALUES!r}"
    )
