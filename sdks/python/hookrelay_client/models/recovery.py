from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.recovery_status import RecoveryStatus, check_recovery_status

T = TypeVar("T", bound="Recovery")


@_attrs_define
class Recovery:
    """Re-queues every failed delivery of the webhook created in [since, until), as a manual retry does, in the background

    Attributes:
        id (UUID):
        webhook_id (UUID):
        since (datetime.datetime):
        until (datetime.datetime):
        status (RecoveryStatus): running until every delivery is re-queued, then done
        deliveries (int): Deliveries re-queued so far
        created_at (datetime.datetime):
        completed_at (datetime.datetime | None): When it became done; null while running
    """

    id: UUID
    webhook_id: UUID
    since: datetime.datetime
    until: datetime.datetime
    status: RecoveryStatus
    deliveries: int
    created_at: datetime.datetime
    completed_at: datetime.datetime | None

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        webhook_id = str(self.webhook_id)

        since = self.since.isoformat()

        until = self.until.isoformat()

        status: str = self.status

        deliveries = self.deliveries

        created_at = self.created_at.isoformat()

        completed_at: None | str
        if isinstance(self.completed_at, datetime.datetime):
            completed_at = self.completed_at.isoformat()
        else:
            completed_at = self.completed_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "webhookId": webhook_id,
                "since": since,
                "until": until,
                "status": status,
                "deliveries": deliveries,
                "createdAt": created_at,
                "completedAt": completed_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        webhook_id = UUID(d.pop("webhookId"))

        since = datetime.datetime.fromisoformat(d.pop("since"))

        until = datetime.datetime.fromisoformat(d.pop("until"))

        status = check_recovery_status(d.pop("status"))

        deliveries = d.pop("deliveries")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        def _parse_completed_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                completed_at_type_0 = datetime.datetime.fromisoformat(data)

                return completed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        completed_at = _parse_completed_at(d.pop("completedAt"))

        recovery = cls(
            id=id,
            webhook_id=webhook_id,
            since=since,
            until=until,
            status=status,
            deliveries=deliveries,
            created_at=created_at,
            completed_at=completed_at,
        )

        return recovery
