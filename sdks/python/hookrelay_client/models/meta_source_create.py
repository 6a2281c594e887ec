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
    from ..models.meta_source_create_config import MetaSourceCreateConfig


T = TypeVar("T", bound="MetaSourceCreate")


@_attrs_define
class MetaSourceCreate:
    """
    Attributes:
        name (str):
        provider (Literal['meta']):
        config (MetaSourceCreateConfig):
        event_type (None | str | Unset): One event type for every request; null derives it per request (SPEC's table).
            Required for `hmac` and `none`.
        consumer_id (None | str | Unset): Routes the source's events to that customer's webhooks
        active (bool | Unset):
    """

    name: str
    provider: Literal["meta"]
    config: MetaSourceCreateConfig
    event_type: None | str | Unset = UNSET
    consumer_id: None | str | Unset = UNSET
    active: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        provider = self.provider

        config = self.config.to_dict()

        event_type: None | str | Unset
        if isinstance(self.event_type, Unset):
            event_type = UNSET
        else:
            event_type = self.event_type

        consumer_id: None | str | Unset
        if isinstance(self.consumer_id, Unset):
            consumer_id = UNSET
        else:
            consumer_id = self.consumer_id

        active = self.active

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "provider": provider,
                "config": config,
            }
        )
        if event_type is not UNSET:
            field_dict["eventType"] = event_type
        if consumer_id is not UNSET:
            field_dict["consumerId"] = consumer_id
        if active is not UNSET:
            field_dict["active"] = active

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.meta_source_create_config import MetaSourceCreateConfig

        d = dict(src_dict)
        name = d.pop("name")

        provider = cast(Literal["meta"], d.pop("provider"))
        if provider != "meta":
            raise ValueError(f"provider must match const 'meta', got '{provider}'")

        config = MetaSourceCreateConfig.from_dict(d.pop("config"))

        def _parse_event_type(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        event_type = _parse_event_type(d.pop("eventType", UNSET))

        def _parse_consumer_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        consumer_id = _parse_consumer_id(d.pop("consumerId", UNSET))

        active = d.pop("active", UNSET)

        meta_source_create = cls(
            name=name,
            provider=provider,
            config=config,
            event_type=event_type,
            consumer_id=consumer_id,
            active=active,
        )

        meta_source_create.additional_properties = d
        return meta_source_create

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
