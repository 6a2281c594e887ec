from typing import Literal

VerifyRequestMethodType3Type1 = Literal["GET", "get", "POST", "post"]

VERIFY_REQUEST_METHOD_TYPE_3_TYPE_1_VALUES: set[VerifyRequestMethodType3Type1] = {
    "GET",
    "get",
    "POST",
    "post",
}


def check_verify_request_method_type_3_type_1(
    value: str,
) -> VerifyRequestMethodType3Type1:
    if value in VERIFY_REQUEST_METHOD_TYPE_3_TYPE_1_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {VERIFY_REQUEST_METHOD_TYPE_3_TYPE_1_VALUES!r}"
    )
