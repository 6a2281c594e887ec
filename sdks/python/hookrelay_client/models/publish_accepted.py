from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PublishAccepted")


@_attrs_define
class PublishAccepted:
    """
    Attributes:
        id (UUID): UUID v7
        event (str): Event type name: lowercase dot-separated segments of [a-z0-9_-]
        timestamp (datetime.datetime): RFC 3339 in UTC with milliseconds
        deliveries (int): Number of deliveries created
    """

    id: UUID
    event: str
    timestamp: datetime.datetime
    deliveries: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        event = self.event

        timestamp = self.timestamp.isoformat()

        deliveries = self.deliveries

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "event": event,
                "timestamp": timestamp,
                "deliveries": deliveries,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        event = d.pop("event")

        timestamp = datetime.datetime.fromisoformat(d.pop("timestamp"))

        deliveries = d.pop("deliveries")

        publish_accepted = cls(
            id=id,
            event=event,
            timestamp=timestamp,
            deliveries=deliveries,
        )

        publish_accepted.additional_properties = d
        return publish_accepted

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
