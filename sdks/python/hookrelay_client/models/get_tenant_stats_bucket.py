from typing import Literal

GetTenantStatsBucket = Literal["15m", "1d", "1h", "1m", "5m"]

GET_TENANT_STATS_BUCKET_VALUES: set[GetTenantStatsBucket] = {
    "15m",
    "1d",
    "1h",
    "1m",
    "5m",
}


def check_get_tenant_stats_bucket(value: str) -> GetTenantStatsBucket:
    if value in GET_TENANT_STATS_BUCKET_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {GET_TENANT_STATS_BUCKET_VALUES!r}"
    )
