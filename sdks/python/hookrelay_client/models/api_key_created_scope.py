from typing import Literal

ApiKeyCreatedScope = Literal["all", "publish"]

API_KEY_CREATED_SCOPE_VALUES: set[ApiKeyCreatedScope] = {
    "all",
    "publish",
}


def check_api_key_created_scope(value: str) -> ApiKeyCreatedScope:
    if value in API_KEY_CREATED_SCOPE_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {API_KEY_CREATED_SCOPE_VALUES!r}"
    )
