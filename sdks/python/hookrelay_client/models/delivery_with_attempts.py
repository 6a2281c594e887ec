from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.delivery_status import DeliveryStatus, check_delivery_status

if TYPE_CHECKING:
    from ..models.attempt_log import AttemptLog


T = TypeVar("T", bound="DeliveryWithAttempts")


@_attrs_define
class DeliveryWithAttempts:
    """
    Attributes:
        id (UUID): UUID v7
        event_id (UUID): UUID v7
        webhook_id (UUID): UUID v7
        event_type (str): Event type name: lowercase dot-separated segments of [a-z0-9_-]
        status (DeliveryStatus):
        attempt_count (int):
        next_attempt_at (datetime.datetime | None): Set only while pending
        last_attempt_at (datetime.datetime | None):
        test (bool):
        created_at (datetime.datetime): RFC 3339 in UTC with milliseconds
        updated_at (datetime.datetime): RFC 3339 in UTC with milliseconds
        attempts (list[AttemptLog]): The delivery's attempts, oldest first
    """

    id: UUID
    event_id: UUID
    webhook_id: UUID
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime.datetime | None
    last_attempt_at: datetime.datetime | None
    test: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime
    attempts: list[AttemptLog]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        event_id = str(self.event_id)

        webhook_id = str(self.webhook_id)

        event_type = self.event_type

        status: str = self.status

        attempt_count = self.attempt_count

        next_attempt_at: None | str
        if isinstance(self.next_attempt_at, datetime.datetime):
            next_attempt_at = self.next_attempt_at.isoformat()
        else:
            next_attempt_at = self.next_attempt_at

        last_attempt_at: None | str
        if isinstance(self.last_attempt_at, datetime.datetime):
            last_attempt_at = self.last_attempt_at.isoformat()
        else:
            last_attempt_at = self.last_attempt_at

        test = self.test

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        attempts = []
        for attempts_item_data in self.attempts:
            attempts_item = attempts_item_data.to_dict()
            attempts.append(attempts_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "eventId": event_id,
                "webhookId": webhook_id,
                "eventType": event_type,
                "status": status,
                "attemptCount": attempt_count,
                "nextAttemptAt": next_attempt_at,
                "lastAttemptAt": last_attempt_at,
                "test": test,
                "createdAt": created_at,
                "updatedAt": updated_at,
                "attempts": attempts,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.attempt_log import AttemptLog

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        event_id = UUID(d.pop("eventId"))

        webhook_id = UUID(d.pop("webhookId"))

        event_type = d.pop("eventType")

        status = check_delivery_status(d.pop("status"))

        attempt_count = d.pop("attemptCount")

        def _parse_next_attempt_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        next_attempt_at = _parse_next_attempt_at(d.pop("nextAttemptAt"))

        def _parse_last_attempt_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_attempt_at = _parse_last_attempt_at(d.pop("lastAttemptAt"))

        test = d.pop("test")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        attempts = []
        _attempts = d.pop("attempts")
        for attempts_item_data in _attempts:
            attempts_item = AttemptLog.from_dict(attempts_item_data)

            attempts.append(attempts_item)

        delivery_with_attempts = cls(
            id=id,
            event_id=event_id,
            webhook_id=webhook_id,
            event_type=event_type,
            status=status,
            attempt_count=attempt_count,
            next_attempt_at=next_attempt_at,
            last_attempt_at=last_attempt_at,
            test=test,
            created_at=created_at,
            updated_at=updated_at,
            attempts=attempts,
        )

        delivery_with_attempts.additional_properties = d
        return delivery_with_attempts

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
