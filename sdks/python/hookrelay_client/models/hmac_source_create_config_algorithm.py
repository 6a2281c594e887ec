from typing import Literal

HmacSourceCreateConfigAlgorithm = Literal["sha1", "sha256", "sha512"]

HMAC_SOURCE_CREATE_CONFIG_ALGORITHM_VALUES: set[HmacSourceCreateConfigAlgorithm] = {
    "sha1",
    "sha256",
    "sha512",
}


def check_hmac_source_create_config_algorithm(
    value: str,
) -> HmacSourceCreateConfigAlgorithm:
    if value in HMAC_SOURCE_CREATE_CONFIG_ALGORITHM_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {HMAC_SOURCE_CREATE_CONFIG_ALGORITHM_VALUES!r}"
    )
