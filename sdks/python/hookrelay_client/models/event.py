from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Event")


@_attrs_define
class Event:
    """
    Attributes:
        id (UUID): UUID v7
        event (str): Event type name: lowercase dot-separated segments of [a-z0-9_-]
        timestamp (datetime.datetime): RFC 3339 in UTC with milliseconds
        data (Any): Any JSON value; for a source's event, the request's body when it is JSON, else the body as a JSON
            string
        consumer_id (None | str): The tenant's own id for one of its customers
        idempotency_key (None | str):
        test (bool): True for events sent with POST /api/v1/webhooks/{id}/test
        deliveries (int): Number of deliveries created
        source_id (None | UUID): The source that published it (null for events published through the API)
        inbound_request_id (None | UUID): The inbound request it came from
    """

    id: UUID
    event: str
    timestamp: datetime.datetime
    data: Any
    consumer_id: None | str
    idempotency_key: None | str
    test: bool
    deliveries: int
    source_id: None | UUID
    inbound_request_id: None | UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        event = self.event

        timestamp = self.timestamp.isoformat()

        data = self.data

        consumer_id: None | str
        consumer_id = self.consumer_id

        idempotency_key: None | str
        idempotency_key = self.idempotency_key

        test = self.test

        deliveries = self.deliveries

        source_id: None | str
        if isinstance(self.source_id, UUID):
            source_id = str(self.source_id)
        else:
            source_id = self.source_id

        inbound_request_id: None | str
        if isinstance(self.inbound_request_id, UUID):
            inbound_request_id = str(self.inbound_request_id)
        else:
            inbound_request_id = self.inbound_request_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "event": event,
                "timestamp": timestamp,
                "data": data,
                "consumerId": consumer_id,
                "idempotencyKey": idempotency_key,
                "test": test,
                "deliveries": deliveries,
                "sourceId": source_id,
                "inboundRequestId": inbound_request_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        event = d.pop("event")

        timestamp = datetime.datetime.fromisoformat(d.pop("timestamp"))

        data = d.pop("data")

        def _parse_consumer_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        consumer_id = _parse_consumer_id(d.pop("consumerId"))

        def _parse_idempotency_key(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        idempotency_key = _parse_idempotency_key(d.pop("idempotencyKey"))

        test = d.pop("test")

        deliveries = d.pop("deliveries")

        def _parse_source_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                source_id_type_0 = UUID(data)

                return source_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        source_id = _parse_source_id(d.pop("sourceId"))

        def _parse_inbound_request_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                inbound_request_id_type_0 = UUID(data)

                return inbound_request_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        inbound_request_id = _parse_inbound_request_id(d.pop("inboundRequestId"))

        event = cls(
            id=id,
            event=event,
            timestamp=timestamp,
            data=data,
            consumer_id=consumer_id,
            idempotency_key=idempotency_key,
            test=test,
            deliveries=deliveries,
            source_id=source_id,
            inbound_request_id=inbound_request_id,
        )

        event.additional_properties = d
        return event

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
