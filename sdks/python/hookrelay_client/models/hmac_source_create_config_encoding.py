from typing import Literal

HmacSourceCreateConfigEncoding = Literal["base64", "hex"]

HMAC_SOURCE_CREATE_CONFIG_ENCODING_VALUES: set[HmacSourceCreateConfigEncoding] = {
    "base64",
    "hex",
}


def check_hmac_source_create_config_encoding(
    value: str,
) -> HmacSourceCreateConfigEncoding:
    if value in HMAC_SOURCE_CREATE_CONFIG_ENCODING_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {HMAC_SOURCE_CREATE_CONFIG_ENCODING_VALUES!r}"
    )
