from typing import Literal

VerifyRequestMethodType2Type1 = Literal["GET", "get", "POST", "post"]

VERIFY_REQUEST_METHOD_TYPE_2_TYPE_1_VALUES: set[VerifyRequestMethodType2Type1] = {
    "GET",
    "get",
    "POST",
    "post",
}


def check_verify_request_method_type_2_type_1(
    value: str,
) -> VerifyRequestMethodType2Type1:
    if value in VERIFY_REQUEST_METHOD_TYPE_2_TYPE_1_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {VERIFY_REQUEST_METHOD_TYPE_2_TYPE_1_VALUES!r}"
    )
