from typing import Literal

InboundRequestMatchedType2Type1 = Literal["body", "current", "prefixed", "previous"]

INBOUND_REQUEST_MATCHED_TYPE_2_TYPE_1_VALUES: set[InboundRequestMatchedType2Type1] = {
    "body",
    "current",
    "prefixed",
    "previous",
}


def check_inbound_request_matched_type_2_type_1(
    value: str,
) -> InboundRequestMatchedType2Type1:
    if value in INBOUND_REQUEST_MATCHED_TYPE_2_TYPE_1_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {INBOUND_REQUEST_MATCHED_TYPE_2_TYPE_1_VALUES!r}"
    )
