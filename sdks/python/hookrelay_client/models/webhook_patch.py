from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.webhook_patch_headers import WebhookPatchHeaders


T = TypeVar("T", bound="WebhookPatch")


@_attrs_define
class WebhookPatch:
    """Changes only the fields sent. `secret` is refused (422): use rotate-secret `kind` cannot change (sending the
    webhook's own kind is accepted; another → 422 naming `kind`); `url` on a relay webhook → 422 naming `url`.

        Attributes:
            name (str | Unset):
            url (str | Unset): https (http only in development mode); no credentials; hosts that are or resolve to
                private/loopback addresses are refused unless the operator allows private targets
            events (list[str] | Unset):
            consumer_id (None | str | Unset): Only events published with the same consumerId reach this webhook; null: the
                tenant's events whatever their consumerId
            description (None | str | Unset):
            headers (WebhookPatchHeaders | Unset): Custom headers sent with every attempt. Names are HTTP tokens; values at
                most 1,024 bytes without CR/LF; Host, Content-Length, Content-Type, Transfer-Encoding, Connection, User-Agent
                and names starting X-Webhook- or webhook- are refused (the 1,024 are bytes of UTF-8: JSON Schema counts
                characters; names are also unique regardless of case)
            active (bool | Unset): While false, pending deliveries (test deliveries aside) wait and resume when it is true
                again
            rate_limit_per_minute (int | None | Unset): Attempts in any 60 s sliding window; null: unlimited
            max_concurrency (int | Unset): Attempts in flight at once
            retry_schedule (list[int] | None | Unset): Delays in seconds between a failed attempt's end and the next
                attempt; null: the server's default (4, 8, 10)
    """

    name: str | Unset = UNSET
    url: str | Unset = UNSET
    events: list[str] | Unset = UNSET
    consumer_id: None | str | Unset = UNSET
    description: None | str | Unset = UNSET
    headers: WebhookPatchHeaders | Unset = UNSET
    active: bool | Unset = UNSET
    rate_limit_per_minute: int | None | Unset = UNSET
    max_concurrency: int | Unset = UNSET
    retry_schedule: list[int] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        url = self.url

        events: list[str] | Unset = UNSET
        if not isinstance(self.events, Unset):
            events = self.events

        consumer_id: None | str | Unset
        if isinstance(self.consumer_id, Unset):
            consumer_id = UNSET
        else:
            consumer_id = self.consumer_id

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.headers, Unset):
            headers = self.headers.to_dict()

        active = self.active

        rate_limit_per_minute: int | None | Unset
        if isinstance(self.rate_limit_per_minute, Unset):
            rate_limit_per_minute = UNSET
        else:
            rate_limit_per_minute = self.rate_limit_per_minute

        max_concurrency = self.max_concurrency

        retry_schedule: list[int] | None | Unset
        if isinstance(self.retry_schedule, Unset):
            retry_schedule = UNSET
        elif isinstance(self.retry_schedule, list):
            retry_schedule = self.retry_schedule

        else:
            retry_schedule = self.retry_schedule

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if url is not UNSET:
            field_dict["url"] = url
        if events is not UNSET:
            field_dict["events"] = events
        if consumer_id is not UNSET:
            field_dict["consumerId"] = consumer_id
        if description is not UNSET:
            field_dict["description"] = description
        if headers is not UNSET:
            field_dict["headers"] = headers
        if active is not UNSET:
            field_dict["active"] = active
        if rate_limit_per_minute is not UNSET:
            field_dict["rateLimitPerMinute"] = rate_limit_per_minute
        if max_concurrency is not UNSET:
            field_dict["maxConcurrency"] = max_concurrency
        if retry_schedule is not UNSET:
            field_dict["retrySchedule"] = retry_schedule

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.webhook_patch_headers import WebhookPatchHeaders

        d = dict(src_dict)
        name = d.pop("name", UNSET)

        url = d.pop("url", UNSET)

        events = cast(list[str], d.pop("events", UNSET))

        def _parse_consumer_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        consumer_id = _parse_consumer_id(d.pop("consumerId", UNSET))

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        _headers = d.pop("headers", UNSET)
        headers: WebhookPatchHeaders | Unset
        if isinstance(_headers, Unset):
            headers = UNSET
        else:
            headers = WebhookPatchHeaders.from_dict(_headers)

        active = d.pop("active", UNSET)

        def _parse_rate_limit_per_minute(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rate_limit_per_minute = _parse_rate_limit_per_minute(
            d.pop("rateLimitPerMinute", UNSET)
        )

        max_concurrency = d.pop("maxConcurrency", UNSET)

        def _parse_retry_schedule(data: object) -> list[int] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                retry_schedule_type_0 = cast(list[int], data)

                return retry_schedule_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None | Unset, data)

        retry_schedule = _parse_retry_schedule(d.pop("retrySchedule", UNSET))

        webhook_patch = cls(
            name=name,
            url=url,
            events=events,
            consumer_id=consumer_id,
            description=description,
            headers=headers,
            active=active,
            rate_limit_per_minute=rate_limit_per_minute,
            max_concurrency=max_concurrency,
            retry_schedule=retry_schedule,
        )

        webhook_patch.additional_properties = d
        return webhook_patch

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
