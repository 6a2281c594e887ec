from typing import Literal

VerifyRequestMethodType1 = Literal["GET", "get", "POST", "post"]

VERIFY_REQUEST_METHOD_TYPE_1_VALUES: set[VerifyRequestMethodType1] = {
    "GET",
    "get",
    "POST",
    "post",
}


def check_verify_request_method_type_1(value: str) -> VerifyRequestMethodType1:
    if value in VERIFY_REQUEST_METHOD_TYPE_1_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {VERIFY_REQUEST_METHOD_TYPE_1_VALUES!r}"
    )
