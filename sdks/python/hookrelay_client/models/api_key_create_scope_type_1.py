from typing import Literal

ApiKeyCreateScopeType1 = Literal["all", "publish"]

API_KEY_CREATE_SCOPE_TYPE_1_VALUES: set[ApiKeyCreateScopeType1] = {
    "all",
    "publish",
}


def check_api_key_create_scope_type_1(value: str) -> ApiKeyCreateScopeType1:
    if value in API_KEY_CREATE_SCOPE_TYPE_1_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {API_KEY_CREATE_SCOPE_TYPE_1_VALUES!r}"
    )
