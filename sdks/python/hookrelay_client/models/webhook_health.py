from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.webhook_health_state import WebhookHealthState, check_webhook_health_state

T = TypeVar("T", bound="WebhookHealth")


@_attrs_define
class WebhookHealth:
    """Health at a glance: from what the recorder keeps on the webhook and the stats rollups (minute and hour rows; no
    cache older than a second or two). `state`: `disabled` (inactive), else `failing` (deliveries have ended failed and
    no attempt succeeded since; re-enabling does not clear it, a successful attempt does), else `degraded` (the degraded
    rule holds now: over the last 15 minutes and at least 20 attempts, attempt success rate below 50 % or p95 above 10
    s), else `healthy` (an attempt in the last 24 h), else `idle`.

        Attributes:
            state (WebhookHealthState):
            failing_since (datetime.datetime | None): When the failing streak began: the start of the last attempt of the
                first delivery that ended failed after the last successful attempt; null unless `state` is `failing`
            last_attempt_at (datetime.datetime | None): Start of the latest attempt (to within a second)
            last_success_at (datetime.datetime | None): Start of the latest successful attempt (to within a second)
            attempts24h (int): Attempts in the last 24 h
            success_rate_24_h (float | None): Successful attempts / attempts over the last 24 h; null without attempts
    """

    state: WebhookHealthState
    failing_since: datetime.datetime | None
    last_attempt_at: datetime.datetime | None
    last_success_at: datetime.datetime | None
    attempts24h: int
    success_rate_24_h: float | None

    def to_dict(self) -> dict[str, Any]:
        state: str = self.state

        failing_since: None | str
        if isinstance(self.failing_since, datetime.datetime):
            failing_since = self.failing_since.isoformat()
        else:
            failing_since = self.failing_since

        last_attempt_at: None | str
        if isinstance(self.last_attempt_at, datetime.datetime):
            last_attempt_at = self.last_attempt_at.isoformat()
        else:
            last_attempt_at = self.last_attempt_at

        last_success_at: None | str
        if isinstance(self.last_success_at, datetime.datetime):
            last_success_at = self.last_success_at.isoformat()
        else:
            last_success_at = self.last_success_at

        attempts24h = self.attempts24h

        success_rate_24_h: float | None
        success_rate_24_h = self.success_rate_24_h

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "state": state,
                "failingSince": failing_since,
                "lastAttemptAt": last_attempt_at,
                "lastSuccessAt": last_success_at,
                "attempts24h": attempts24h,
                "successRate24h": success_rate_24_h,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        state = check_webhook_health_state(d.pop("state"))

        def _parse_failing_since(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                failing_since_type_0 = datetime.datetime.fromisoformat(data)

                return failing_since_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        failing_since = _parse_failing_since(d.pop("failingSince"))

        def _parse_last_attempt_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_attempt_at = _parse_last_attempt_at(d.pop("lastAttemptAt"))

        def _parse_last_success_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_success_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_success_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_success_at = _parse_last_success_at(d.pop("lastSuccessAt"))

        attempts24h = d.pop("attempts24h")

        def _parse_success_rate_24_h(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        success_rate_24_h = _parse_success_rate_24_h(d.pop("successRate24h"))

        webhook_health = cls(
            state=state,
            failing_since=failing_since,
            last_attempt_at=last_attempt_at,
            last_success_at=last_success_at,
            attempts24h=attempts24h,
            success_rate_24_h=success_rate_24_h,
        )

        return webhook_health
