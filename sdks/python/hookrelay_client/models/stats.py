from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.stats_bucket import StatsBucket
    from ..models.stats_deliveries import StatsDeliveries
    from ..models.stats_errors_by_kind import StatsErrorsByKind
    from ..models.stats_response_time_ms import StatsResponseTimeMs


T = TypeVar("T", bound="Stats")


@_attrs_define
class Stats:
    """
    Attributes:
        since (datetime.datetime): Start of the window (inclusive), rounded down to the minute
        until (datetime.datetime): End of the window (exclusive), rounded up to the minute
        deliveries (StatsDeliveries): Deliveries created in the window, by status
        success_rate (float | None): succeeded / (succeeded + failed); null when none has finished
        attempts (int): Attempts made in the window
        retries (int): Attempts that were not a delivery's first
        attempt_success_rate (float | None): Successful attempts / attempts; null without attempts
        response_time_ms (StatsResponseTimeMs): Over attempts that got an HTTP answer; null when there are none. A
            percentile is the upper bound of the latency-histogram bucket (at most 10 % wide) that holds its rank
        errors_by_kind (StatsErrorsByKind): Failed attempts by errorKind
        series (list[StatsBucket]): Dense, clock-aligned (UTC) buckets of the window: the size `bucket` chose, else one
            per minute for windows up to 2 h and one per hour for longer ones; the first and last may be partial
    """

    since: datetime.datetime
    until: datetime.datetime
    deliveries: StatsDeliveries
    success_rate: float | None
    attempts: int
    retries: int
    attempt_success_rate: float | None
    response_time_ms: StatsResponseTimeMs
    errors_by_kind: StatsErrorsByKind
    series: list[StatsBucket]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        since = self.since.isoformat()

        until = self.until.isoformat()

        deliveries = self.deliveries.to_dict()

        success_rate: float | None
        success_rate = self.success_rate

        attempts = self.attempts

        retries = self.retries

        attempt_success_rate: float | None
        attempt_success_rate = self.attempt_success_rate

        response_time_ms = self.response_time_ms.to_dict()

        errors_by_kind = self.errors_by_kind.to_dict()

        series = []
        for series_item_data in self.series:
            series_item = series_item_data.to_dict()
            series.append(series_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "since": since,
                "until": until,
                "deliveries": deliveries,
                "successRate": success_rate,
                "attempts": attempts,
                "retries": retries,
                "attemptSuccessRate": attempt_success_rate,
                "responseTimeMs": response_time_ms,
                "errorsByKind": errors_by_kind,
                "series": series,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.stats_bucket import StatsBucket
        from ..models.stats_deliveries import StatsDeliveries
        from ..models.stats_errors_by_kind import StatsErrorsByKind
        from ..models.stats_response_time_ms import StatsResponseTimeMs

        d = dict(src_dict)
        since = datetime.datetime.fromisoformat(d.pop("since"))

        until = datetime.datetime.fromisoformat(d.pop("until"))

        deliveries = StatsDeliveries.from_dict(d.pop("deliveries"))

        def _parse_success_rate(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        success_rate = _parse_success_rate(d.pop("successRate"))

        attempts = d.pop("attempts")

        retries = d.pop("retries")

        def _parse_attempt_success_rate(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        attempt_success_rate = _parse_attempt_success_rate(d.pop("attemptSuccessRate"))

        response_time_ms = StatsResponseTimeMs.from_dict(d.pop("responseTimeMs"))

        errors_by_kind = StatsErrorsByKind.from_dict(d.pop("errorsByKind"))

        series = []
        _series = d.pop("series")
        for series_item_data in _series:
            series_item = StatsBucket.from_dict(series_item_data)

            series.append(series_item)

        stats = cls(
            since=since,
            until=until,
            deliveries=deliveries,
            success_rate=success_rate,
            attempts=attempts,
            retries=retries,
            attempt_success_rate=attempt_success_rate,
            response_time_ms=response_time_ms,
            errors_by_kind=errors_by_kind,
            series=series,
        )

        stats.additional_properties = d
        return stats

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
