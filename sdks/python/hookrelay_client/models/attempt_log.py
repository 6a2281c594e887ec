from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.attempt_log_error_kind_type_1 import (
    AttemptLogErrorKindType1,
    check_attempt_log_error_kind_type_1,
)
from ..models.attempt_log_error_kind_type_2_type_1 import (
    AttemptLogErrorKindType2Type1,
    check_attempt_log_error_kind_type_2_type_1,
)
from ..models.attempt_log_error_kind_type_3_type_1 import (
    AttemptLogErrorKindType3Type1,
    check_attempt_log_error_kind_type_3_type_1,
)

T = TypeVar("T", bound="AttemptLog")


@_attrs_define
class AttemptLog:
    """One delivery attempt (a row of webhook_logs)

    Attributes:
        id (UUID): UUID v7
        delivery_id (UUID): UUID v7
        event_id (UUID): UUID v7
        webhook_id (UUID): UUID v7
        event_type (str): Event type name: lowercase dot-separated segments of [a-z0-9_-]
        attempt (int): Attempt number; keeps counting across manual retries
        success (bool): True for a 2xx answer
        request_url (str):
        response_status (int | None): HTTP status; null when no answer was received
        response_body (None | str): At most the first 4 KiB of the answer's body
        duration_ms (int):
        error_kind (AttemptLogErrorKindType1 | AttemptLogErrorKindType2Type1 | AttemptLogErrorKindType3Type1 | None):
            null on success
        error_message (None | str):
        test (bool):
        created_at (datetime.datetime): RFC 3339 in UTC with milliseconds
    """

    id: UUID
    delivery_id: UUID
    event_id: UUID
    webhook_id: UUID
    event_type: str
    attempt: int
    success: bool
    request_url: str
    response_status: int | None
    response_body: None | str
    duration_ms: int
    error_kind: (
        AttemptLogErrorKindType1
        | AttemptLogErrorKindType2Type1
        | AttemptLogErrorKindType3Type1
        | None
    )
    error_message: None | str
    test: bool
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        delivery_id = str(self.delivery_id)

        event_id = str(self.event_id)

        webhook_id = str(self.webhook_id)

        event_type = self.event_type

        attempt = self.attempt

        success = self.success

        request_url = self.request_url

        response_status: int | None
        response_status = self.response_status

        response_body: None | str
        response_body = self.response_body

        duration_ms = self.duration_ms

        error_kind: None | str
        if (
            isinstance(self.error_kind, str)
            or isinstance(self.error_kind, str)
            or isinstance(self.error_kind, str)
        ):
            error_kind = self.error_kind
        else:
            error_kind = self.error_kind

        error_message: None | str
        error_message = self.error_message

        test = self.test

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "deliveryId": delivery_id,
                "eventId": event_id,
                "webhookId": webhook_id,
                "eventType": event_type,
                "attempt": attempt,
                "success": success,
                "requestUrl": request_url,
                "responseStatus": response_status,
                "responseBody": response_body,
                "durationMs": duration_ms,
                "errorKind": error_kind,
                "errorMessage": error_message,
                "test": test,
                "createdAt": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        delivery_id = UUID(d.pop("deliveryId"))

        event_id = UUID(d.pop("eventId"))

        webhook_id = UUID(d.pop("webhookId"))

        event_type = d.pop("eventType")

        attempt = d.pop("attempt")

        success = d.pop("success")

        request_url = d.pop("requestUrl")

        def _parse_response_status(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        response_status = _parse_response_status(d.pop("responseStatus"))

        def _parse_response_body(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        response_body = _parse_response_body(d.pop("responseBody"))

        duration_ms = d.pop("durationMs")

        def _parse_error_kind(
            data: object,
        ) -> (
            AttemptLogErrorKindType1
            | AttemptLogErrorKindType2Type1
            | AttemptLogErrorKindType3Type1
            | None
        ):
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                error_kind_type_1 = check_attempt_log_error_kind_type_1(data)

                return error_kind_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                error_kind_type_2_type_1 = check_attempt_log_error_kind_type_2_type_1(
                    data
                )

                return error_kind_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                error_kind_type_3_type_1 = check_attempt_log_error_kind_type_3_type_1(
                    data
                )

                return error_kind_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                AttemptLogErrorKindType1
                | AttemptLogErrorKindType2Type1
                | AttemptLogErrorKindType3Type1
                | None,
                data,
            )

        error_kind = _parse_error_kind(d.pop("errorKind"))

        def _parse_error_message(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error_message = _parse_error_message(d.pop("errorMessage"))

        test = d.pop("test")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        attempt_log = cls(
            id=id,
            delivery_id=delivery_id,
            event_id=event_id,
            webhook_id=webhook_id,
            event_type=event_type,
            attempt=attempt,
            success=success,
            request_url=request_url,
            response_status=response_status,
            response_body=response_body,
            duration_ms=duration_ms,
            error_kind=error_kind,
            error_message=error_message,
            test=test,
            created_at=created_at,
        )

        attempt_log.additional_properties = d
        return attempt_log

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
