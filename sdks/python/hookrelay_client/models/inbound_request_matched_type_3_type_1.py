from typing import Literal

InboundRequestMatchedType3Type1 = Literal["body", "current", "prefixed", "previous"]

INBOUND_REQUEST_MATCHED_TYPE_3_TYPE_1_VALUES: set[InboundRequestMatchedType3Type1] = {
    "body",
    "current",
    "prefixed",
    "previous",
}


def check_inbound_request_matched_type_3_type_1(
    value: str,
) -> InboundRequestMatchedType3Type1:
    if value in INBOUND_REQUEST_MATCHED_TYPE_3_TYPE_1_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {INBOUND_REQUEST_MATCHED_TYPE_3_TYPE_1_VALUES!r}"
    )
