from typing import Literal

ReadinessMigrations = Literal["applied", "pending", "unknown"]

READINESS_MIGRATIONS_VALUES: set[ReadinessMigrations] = {
    "applied",
    "pending",
    "unknown",
}


def check_readiness_migrations(value: str) -> ReadinessMigrations:
    if value in READINESS_MIGRATIONS_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {READINESS_MIGRATIONS_VALUES!r}"
    )
