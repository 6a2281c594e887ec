from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_disabled_reason_type_1 import (
    WebhookDisabledReasonType1,
    check_webhook_disabled_reason_type_1,
)
from ..models.webhook_disabled_reason_type_2_type_1 import (
    WebhookDisabledReasonType2Type1,
    check_webhook_disabled_reason_type_2_type_1,
)
from ..models.webhook_disabled_reason_type_3_type_1 import (
    WebhookDisabledReasonType3Type1,
    check_webhook_disabled_reason_type_3_type_1,
)
from ..models.webhook_kind import WebhookKind, check_webhook_kind

if TYPE_CHECKING:
    from ..models.webhook_headers import WebhookHeaders
    from ..models.webhook_health import WebhookHealth


T = TypeVar("T", bound="Webhook")


@_attrs_define
class Webhook:
    """A webhook subscription (never with its secret)

    Attributes:
        id (UUID): UUID v7
        name (str):
        kind (WebhookKind): `http` delivers to `url`; `relay` has no url: its deliveries wait for `hookrelay listen`
            (the relay routes)
        url (None | str): null for a relay webhook; else https (http only in development mode)
        events (list[str]):
        consumer_id (None | str): Only events published with the same consumerId reach this webhook; null: the tenant's
            events whatever their consumerId
        description (None | str):
        headers (WebhookHeaders): Custom headers sent with every attempt. Names are HTTP tokens; values at most 1,024
            bytes without CR/LF; Host, Content-Length, Content-Type, Transfer-Encoding, Connection, User-Agent and names
            starting X-Webhook- or webhook- are refused
        active (bool): While false, pending deliveries (test deliveries aside) wait and resume when it is true again
        disabled_reason (None | WebhookDisabledReasonType1 | WebhookDisabledReasonType2Type1 |
            WebhookDisabledReasonType3Type1): Why the webhook is inactive: manual (its owner made it so) or failing (auto-
            disabled); null while active
        disabled_at (datetime.datetime | None): When it was made inactive; null while active
        paused_until (datetime.datetime | None): Until when a receiver's Retry-After (on a 429 or 503) holds every
            pending delivery of this endpoint; null when not paused
        rate_limit_per_minute (int | None): Attempts in any 60 s sliding window; null: unlimited
        max_concurrency (int): Attempts in flight at once
        retry_schedule (list[int] | None): Delays in seconds between a failed attempt's end and the next attempt; null:
            the server's default (4, 8, 10)
        health (WebhookHealth): Health at a glance: from what the recorder keeps on the webhook and the stats rollups
            (minute and hour rows; no cache older than a second or two). `state`: `disabled` (inactive), else `failing`
            (deliveries have ended failed and no attempt succeeded since; re-enabling does not clear it, a successful
            attempt does), else `degraded` (the degraded rule holds now: over the last 15 minutes and at least 20 attempts,
            attempt success rate below 50 % or p95 above 10 s), else `healthy` (an attempt in the last 24 h), else `idle`.
        created_at (datetime.datetime): RFC 3339 in UTC with milliseconds
        updated_at (datetime.datetime): RFC 3339 in UTC with milliseconds
    """

    id: UUID
    name: str
    kind: WebhookKind
    url: None | str
    events: list[str]
    consumer_id: None | str
    description: None | str
    headers: WebhookHeaders
    active: bool
    disabled_reason: (
        None
        | WebhookDisabledReasonType1
        | WebhookDisabledReasonType2Type1
        | WebhookDisabledReasonType3Type1
    )
    disabled_at: datetime.datetime | None
    paused_until: datetime.datetime | None
    rate_limit_per_minute: int | None
    max_concurrency: int
    retry_schedule: list[int] | None
    health: WebhookHealth
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        kind: str = self.kind

        url: None | str
        url = self.url

        events = self.events

        consumer_id: None | str
        consumer_id = self.consumer_id

        description: None | str
        description = self.description

        headers = self.headers.to_dict()

        active = self.active

        disabled_reason: None | str
        if (
            isinstance(self.disabled_reason, str)
            or isinstance(self.disabled_reason, str)
            or isinstance(self.disabled_reason, str)
        ):
            disabled_reason = self.disabled_reason
        else:
            disabled_reason = self.disabled_reason

        disabled_at: None | str
        if isinstance(self.disabled_at, datetime.datetime):
            disabled_at = self.disabled_at.isoformat()
        else:
            disabled_at = self.disabled_at

        paused_until: None | str
        if isinstance(self.paused_until, datetime.datetime):
            paused_until = self.paused_until.isoformat()
        else:
            paused_until = self.paused_until

        rate_limit_per_minute: int | None
        rate_limit_per_minute = self.rate_limit_per_minute

        max_concurrency = self.max_concurrency

        retry_schedule: list[int] | None
        if isinstance(self.retry_schedule, list):
            retry_schedule = self.retry_schedule

        else:
            retry_schedule = self.retry_schedule

        health = self.health.to_dict()

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "kind": kind,
                "url": url,
                "events": events,
                "consumerId": consumer_id,
                "description": description,
                "headers": headers,
                "active": active,
                "disabledReason": disabled_reason,
                "disabledAt": disabled_at,
                "pausedUntil": paused_until,
                "rateLimitPerMinute": rate_limit_per_minute,
                "maxConcurrency": max_concurrency,
                "retrySchedule": retry_schedule,
                "health": health,
                "createdAt": created_at,
                "updatedAt": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.webhook_headers import WebhookHeaders
        from ..models.webhook_health import WebhookHealth

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        kind = check_webhook_kind(d.pop("kind"))

        def _parse_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        url = _parse_url(d.pop("url"))

        events = cast(list[str], d.pop("events"))

        def _parse_consumer_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        consumer_id = _parse_consumer_id(d.pop("consumerId"))

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        headers = WebhookHeaders.from_dict(d.pop("headers"))

        active = d.pop("active")

        def _parse_disabled_reason(
            data: object,
        ) -> (
            None
            | WebhookDisabledReasonType1
            | WebhookDisabledReasonType2Type1
            | WebhookDisabledReasonType3Type1
        ):
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                disabled_reason_type_1 = check_webhook_disabled_reason_type_1(data)

                return disabled_reason_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                disabled_reason_type_2_type_1 = (
                    check_webhook_disabled_reason_type_2_type_1(data)
                )

                return disabled_reason_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                disabled_reason_type_3_type_1 = (
                    check_webhook_disabled_reason_type_3_type_1(data)
                )

                return disabled_reason_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                None
                | WebhookDisabledReasonType1
                | WebhookDisabledReasonType2Type1
                | WebhookDisabledReasonType3Type1,
                data,
            )

        disabled_reason = _parse_disabled_reason(d.pop("disabledReason"))

        def _parse_disabled_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                disabled_at_type_0 = datetime.datetime.fromisoformat(data)

                return disabled_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        disabled_at = _parse_disabled_at(d.pop("disabledAt"))

        def _parse_paused_until(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                paused_until_type_0 = datetime.datetime.fromisoformat(data)

                return paused_until_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        paused_until = _parse_paused_until(d.pop("pausedUntil"))

        def _parse_rate_limit_per_minute(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        rate_limit_per_minute = _parse_rate_limit_per_minute(
            d.pop("rateLimitPerMinute")
        )

        max_concurrency = d.pop("maxConcurrency")

        def _parse_retry_schedule(data: object) -> list[int] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                retry_schedule_type_0 = cast(list[int], data)

                return retry_schedule_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None, data)

        retry_schedule = _parse_retry_schedule(d.pop("retrySchedule"))

        health = WebhookHealth.from_dict(d.pop("health"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        webhook = cls(
            id=id,
            name=name,
            kind=kind,
            url=url,
            events=events,
            consumer_id=consumer_id,
            description=description,
            headers=headers,
            active=active,
            disabled_reason=disabled_reason,
            disabled_at=disabled_at,
            paused_until=paused_until,
            rate_limit_per_minute=rate_limit_per_minute,
            max_concurrency=max_concurrency,
            retry_schedule=retry_schedule,
            health=health,
            created_at=created_at,
            updated_at=updated_at,
        )

        webhook.additional_properties = d
        return webhook

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
