from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RelayListener")


@_attrs_define
class RelayListener:
    """
    Attributes:
        id (UUID):
        host (str):
        connected_at (datetime.datetime):
        seen_at (datetime.datetime):
    """

    id: UUID
    host: str
    connected_at: datetime.datetime
    seen_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        host = self.host

        connected_at = self.connected_at.isoformat()

        seen_at = self.seen_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "host": host,
                "connectedAt": connected_at,
                "seenAt": seen_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        host = d.pop("host")

        connected_at = datetime.datetime.fromisoformat(d.pop("connectedAt"))

        seen_at = datetime.datetime.fromisoformat(d.pop("seenAt"))

        relay_listener = cls(
            id=id,
            host=host,
            connected_at=connected_at,
            seen_at=seen_at,
        )

        relay_listener.additional_properties = d
        return relay_listener

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
