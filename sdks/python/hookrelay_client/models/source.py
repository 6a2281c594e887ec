from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.source_provider import SourceProvider, check_source_provider

if TYPE_CHECKING:
    from ..models.source_config import SourceConfig


T = TypeVar("T", bound="Source")


@_attrs_define
class Source:
    """
    Attributes:
        id (UUID):
        name (str):
        provider (SourceProvider):
        config (SourceConfig): The provider's settings (SPEC's table). Secret fields (`appSecret`, `authToken`,
            `clientSecret`, `signingSecret`, `secret`, `headerValue`) are shown as `****` and their last 4 characters.
        event_type (None | str):
        consumer_id (None | str):
        active (bool):
        ingest_url (str): `<HOOKRELAY_PUBLIC_URL>/in/<token>`: paste it into the provider's console
        previous_ingest_url_expires_at (datetime.datetime | None): RFC 3339 in UTC with milliseconds
        created_at (datetime.datetime): RFC 3339 in UTC with milliseconds
        updated_at (datetime.datetime): RFC 3339 in UTC with milliseconds
    """

    id: UUID
    name: str
    provider: SourceProvider
    config: SourceConfig
    event_type: None | str
    consumer_id: None | str
    active: bool
    ingest_url: str
    previous_ingest_url_expires_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        provider: str = self.provider

        config = self.config.to_dict()

        event_type: None | str
        event_type = self.event_type

        consumer_id: None | str
        consumer_id = self.consumer_id

        active = self.active

        ingest_url = self.ingest_url

        previous_ingest_url_expires_at: None | str
        if isinstance(self.previous_ingest_url_expires_at, datetime.datetime):
            previous_ingest_url_expires_at = (
                self.previous_ingest_url_expires_at.isoformat()
            )
        else:
            previous_ingest_url_expires_at = self.previous_ingest_url_expires_at

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "provider": provider,
                "config": config,
                "eventType": event_type,
                "consumerId": consumer_id,
                "active": active,
                "ingestUrl": ingest_url,
                "previousIngestUrlExpiresAt": previous_ingest_url_expires_at,
                "createdAt": created_at,
                "updatedAt": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.source_config import SourceConfig

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        provider = check_source_provider(d.pop("provider"))

        config = SourceConfig.from_dict(d.pop("config"))

        def _parse_event_type(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        event_type = _parse_event_type(d.pop("eventType"))

        def _parse_consumer_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        consumer_id = _parse_consumer_id(d.pop("consumerId"))

        active = d.pop("active")

        ingest_url = d.pop("ingestUrl")

        def _parse_previous_ingest_url_expires_at(
            data: object,
        ) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                previous_ingest_url_expires_at_type_0 = datetime.datetime.fromisoformat(
                    data
                )

                return previous_ingest_url_expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        previous_ingest_url_expires_at = _parse_previous_ingest_url_expires_at(
            d.pop("previousIngestUrlExpiresAt")
        )

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        source = cls(
            id=id,
            name=name,
            provider=provider,
            config=config,
            event_type=event_type,
            consumer_id=consumer_id,
            active=active,
            ingest_url=ingest_url,
            previous_ingest_url_expires_at=previous_ingest_url_expires_at,
            created_at=created_at,
            updated_at=updated_at,
        )

        source.additional_properties = d
        return source

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
