from typing import Literal

InboundRequestMatchedType1 = Literal["body", "current", "prefixed", "previous"]

INBOUND_REQUEST_MATCHED_TYPE_1_VALUES: set[InboundRequestMatchedType1] = {
    "body",
    "current",
    "prefixed",
    "previous",
}


def check_inbound_request_matched_type_1(value: str) -> InboundRequestMatchedType1:
    if value in INBOUND_REQUEST_MATCHED_TYPE_1_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {INBOUND_REQUEST_MATCHED_TYPE_1_VALUES!r}"
    )
