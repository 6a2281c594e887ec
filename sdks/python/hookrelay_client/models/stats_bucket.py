from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="StatsBucket")


@_attrs_define
class StatsBucket:
    """
    Attributes:
        start (datetime.datetime): RFC 3339 in UTC with milliseconds
        attempts (int):
        succeeded (int):
        failed (int):
        p_95_ms (float | None):
    """

    start: datetime.datetime
    attempts: int
    succeeded: int
    failed: int
    p_95_ms: float | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        start = self.start.isoformat()

        attempts = self.attempts

        succeeded = self.succeeded

        failed = self.failed

        p_95_ms: float | None
        p_95_ms = self.p_95_ms

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "start": start,
                "attempts": attempts,
                "succeeded": succeeded,
                "failed": failed,
                "p95Ms": p_95_ms,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        start = datetime.datetime.fromisoformat(d.pop("start"))

        attempts = d.pop("attempts")

        succeeded = d.pop("succeeded")

        failed = d.pop("failed")

        def _parse_p_95_ms(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        p_95_ms = _parse_p_95_ms(d.pop("p95Ms"))

        stats_bucket = cls(
            start=start,
            attempts=attempts,
            succeeded=succeeded,
            failed=failed,
            p_95_ms=p_95_ms,
        )

        stats_bucket.additional_properties = d
        return stats_bucket

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
