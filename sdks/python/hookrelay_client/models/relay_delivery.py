from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RelayDelivery")


@_attrs_define
class RelayDelivery:
    """A delivery handed to a listener: the exact request a subscriber would receive, signed at hand-over

    Attributes:
        delivery_id (UUID):
        lease_id (UUID):
        event_id (UUID):
        event_type (str):
        attempt (int):
        test (bool):
        headers (list[list[str]]): [name, value] pairs, names lower-case, in order
        body (str): the request body, exactly
    """

    delivery_id: UUID
    lease_id: UUID
    event_id: UUID
    event_type: str
    attempt: int
    test: bool
    headers: list[list[str]]
    body: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        delivery_id = str(self.delivery_id)

        lease_id = str(self.lease_id)

        event_id = str(self.event_id)

        event_type = self.event_type

        attempt = self.attempt

        test = self.test

        headers = []
        for headers_item_data in self.headers:
            headers_item = headers_item_data

            headers.append(headers_item)

        body = self.body

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "deliveryId": delivery_id,
                "leaseId": lease_id,
                "eventId": event_id,
                "eventType": event_type,
                "attempt": attempt,
                "test": test,
                "headers": headers,
                "body": body,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        delivery_id = UUID(d.pop("deliveryId"))

        lease_id = UUID(d.pop("leaseId"))

        event_id = UUID(d.pop("eventId"))

        event_type = d.pop("eventType")

        attempt = d.pop("attempt")

        test = d.pop("test")

        headers = []
        _headers = d.pop("headers")
        for headers_item_data in _headers:
            headers_item = cast(list[str], headers_item_data)

            headers.append(headers_item)

        body = d.pop("body")

        relay_delivery = cls(
            delivery_id=delivery_id,
            lease_id=lease_id,
            event_id=event_id,
            event_type=event_type,
            attempt=attempt,
            test=test,
            headers=headers,
            body=body,
        )

        relay_delivery.additional_properties = d
        return relay_delivery

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
