from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.relay_listener import RelayListener


T = TypeVar("T", bound="RelayStatus")


@_attrs_define
class RelayStatus:
    """A relay webhook's listeners: those that polled within the last 60 s

    Attributes:
        webhook_id (UUID):
        connected (bool):
        connected_since (datetime.datetime | None): when the longest-connected listener connected; null when none is
        listeners (list[RelayListener]):
    """

    webhook_id: UUID
    connected: bool
    connected_since: datetime.datetime | None
    listeners: list[RelayListener]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        webhook_id = str(self.webhook_id)

        connected = self.connected

        connected_since: None | str
        if isinstance(self.connected_since, datetime.datetime):
            connected_since = self.connected_since.isoformat()
        else:
            connected_since = self.connected_since

        listeners = []
        for listeners_item_data in self.listeners:
            listeners_item = listeners_item_data.to_dict()
            listeners.append(listeners_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "webhookId": webhook_id,
                "connected": connected,
                "connectedSince": connected_since,
                "listeners": listeners,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.relay_listener import RelayListener

        d = dict(src_dict)
        webhook_id = UUID(d.pop("webhookId"))

        connected = d.pop("connected")

        def _parse_connected_since(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                connected_since_type_0 = datetime.datetime.fromisoformat(data)

                return connected_since_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        connected_since = _parse_connected_since(d.pop("connectedSince"))

        listeners = []
        _listeners = d.pop("listeners")
        for listeners_item_data in _listeners:
            listeners_item = RelayListener.from_dict(listeners_item_data)

            listeners.append(listeners_item)

        relay_status = cls(
            webhook_id=webhook_id,
            connected=connected,
            connected_since=connected_since,
            listeners=listeners,
        )

        relay_status.additional_properties = d
        return relay_status

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
