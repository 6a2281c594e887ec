from __future__ import annotations

from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    Self,
    TypeVar,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.http_webhook_create_headers import HttpWebhookCreateHeaders


T = TypeVar("T", bound="HttpWebhookCreate")


@_attrs_define
class HttpWebhookCreate:
    """an http webhook: a url

    Attributes:
        name (str):
        url (str): https (http only in development mode); no credentials; hosts that are or resolve to private/loopback
            addresses are refused unless the operator allows private targets
        events (list[str]):
        consumer_id (None | str | Unset): Only events published with the same consumerId reach this webhook; null: the
            tenant's events whatever their consumerId
        description (None | str | Unset):
        headers (HttpWebhookCreateHeaders | Unset): Custom headers sent with every attempt. Names are HTTP tokens;
            values at most 1,024 bytes without CR/LF; Host, Content-Length, Content-Type, Transfer-Encoding, Connection,
            User-Agent and names starting X-Webhook- or webhook- are refused (the 1,024 are bytes of UTF-8: JSON Schema
            counts characters; names are also unique regardless of case)
        active (bool | Unset): While false, pending deliveries (test deliveries aside) wait and resume when it is true
            again
        rate_limit_per_minute (int | None | Unset): Attempts in any 60 s sliding window; null: unlimited
        max_concurrency (int | Unset): Attempts in flight at once
        retry_schedule (list[int] | None | Unset): Delays in seconds between a failed attempt's end and the next
            attempt; null: the server's default (4, 8, 10)
        secret (Any | None | Unset): Optional caller-chosen signing secret: `whsec_` + standard base64 (padding
            optional) of 24-64 bytes, or 16-128 printable ASCII characters. Generated when absent; absent or null: one is
            generated
        kind (Literal['http'] | Unset):
    """

    name: str
    url: str
    events: list[str]
    consumer_id: None | str | Unset = UNSET
    description: None | str | Unset = UNSET
    headers: HttpWebhookCreateHeaders | Unset = UNSET
    active: bool | Unset = UNSET
    rate_limit_per_minute: int | None | Unset = UNSET
    max_concurrency: int | Unset = UNSET
    retry_schedule: list[int] | None | Unset = UNSET
    secret: Any | None | Unset = UNSET
    kind: Literal["http"] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        url = self.url

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

        secret: Any | None | Unset
        if isinstance(self.secret, Unset):
            secret = UNSET
        else:
            secret = self.secret

        kind = self.kind

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "url": url,
                "events": events,
            }
        )
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
        if secret is not UNSET:
            field_dict["secret"] = secret
        if kind is not UNSET:
            field_dict["kind"] = kind

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.http_webhook_create_headers import HttpWebhookCreateHeaders

        d = dict(src_dict)
        name = d.pop("name")

        url = d.pop("url")

        events = cast(list[str], d.pop("events"))

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
        headers: HttpWebhookCreateHeaders | Unset
        if isinstance(_headers, Unset):
            headers = UNSET
        else:
            headers = HttpWebhookCreateHeaders.from_dict(_headers)

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

        def _parse_secret(data: object) -> Any | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Any | None | Unset, data)

        secret = _parse_secret(d.pop("secret", UNSET))

        kind = cast(Literal["http"] | Unset, d.pop("kind", UNSET))
        if kind != "http" and not isinstance(kind, Unset):
            raise ValueError(f"kind must match const 'http', got '{kind}'")

        http_webhook_create = cls(
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
            secret=secret,
            kind=kind,
        )

        http_webhook_create.additional_properties = d
        return http_webhook_create

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
