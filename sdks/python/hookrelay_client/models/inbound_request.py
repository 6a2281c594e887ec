from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.inbound_request_check_type_1 import (
    InboundRequestCheckType1,
    check_inbound_request_check_type_1,
)
from ..models.inbound_request_check_type_2_type_1 import (
    InboundRequestCheckType2Type1,
    check_inbound_request_check_type_2_type_1,
)
from ..models.inbound_request_check_type_3_type_1 import (
    InboundRequestCheckType3Type1,
    check_inbound_request_check_type_3_type_1,
)
from ..models.inbound_request_matched_type_1 import (
    InboundRequestMatchedType1,
    check_inbound_request_matched_type_1,
)
from ..models.inbound_request_matched_type_2_type_1 import (
    InboundRequestMatchedType2Type1,
    check_inbound_request_matched_type_2_type_1,
)
from ..models.inbound_request_matched_type_3_type_1 import (
    InboundRequestMatchedType3Type1,
    check_inbound_request_matched_type_3_type_1,
)
from ..models.inbound_request_status import (
    InboundRequestStatus,
    check_inbound_request_status,
)

if TYPE_CHECKING:
    from ..models.inbound_request_headers import InboundRequestHeaders


T = TypeVar("T", bound="InboundRequest")


@_attrs_define
class InboundRequest:
    """
    Attributes:
        id (UUID):
        source_id (UUID):
        received_at (datetime.datetime): RFC 3339 in UTC with milliseconds
        method (str):
        query (str): the raw query string, credential values replaced by `****`
        headers (InboundRequestHeaders): signature and credential values replaced by `****`
        body (str): the first 64 KiB as text
        body_truncated (bool):
        status (InboundRequestStatus):
        check (InboundRequestCheckType1 | InboundRequestCheckType2Type1 | InboundRequestCheckType3Type1 | None):
        matched (InboundRequestMatchedType1 | InboundRequestMatchedType2Type1 | InboundRequestMatchedType3Type1 | None):
        dedupe_key (None | str):
        event_id (None | UUID):
    """

    id: UUID
    source_id: UUID
    received_at: datetime.datetime
    method: str
    query: str
    headers: InboundRequestHeaders
    body: str
    body_truncated: bool
    status: InboundRequestStatus
    check: (
        InboundRequestCheckType1
        | InboundRequestCheckType2Type1
        | InboundRequestCheckType3Type1
        | None
    )
    matched: (
        InboundRequestMatchedType1
        | InboundRequestMatchedType2Type1
        | InboundRequestMatchedType3Type1
        | None
    )
    dedupe_key: None | str
    event_id: None | UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        source_id = str(self.source_id)

        received_at = self.received_at.isoformat()

        method = self.method

        query = self.query

        headers = self.headers.to_dict()

        body = self.body

        body_truncated = self.body_truncated

        status: str = self.status

        check: None | str
        if (
            isinstance(self.check, str)
            or isinstance(self.check, str)
            or isinstance(self.check, str)
        ):
            check = self.check
        else:
            check = self.check

        matched: None | str
        if (
            isinstance(self.matched, str)
            or isinstance(self.matched, str)
            or isinstance(self.matched, str)
        ):
            matched = self.matched
        else:
            matched = self.matched

        dedupe_key: None | str
        dedupe_key = self.dedupe_key

        event_id: None | str
        if isinstance(self.event_id, UUID):
            event_id = str(self.event_id)
        else:
            event_id = self.event_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "sourceId": source_id,
                "receivedAt": received_at,
                "method": method,
                "query": query,
                "headers": headers,
                "body": body,
                "bodyTruncated": body_truncated,
                "status": status,
                "check": check,
                "matched": matched,
                "dedupeKey": dedupe_key,
                "eventId": event_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.inbound_request_headers import InboundRequestHeaders

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        source_id = UUID(d.pop("sourceId"))

        received_at = datetime.datetime.fromisoformat(d.pop("receivedAt"))

        method = d.pop("method")

        query = d.pop("query")

        headers = InboundRequestHeaders.from_dict(d.pop("headers"))

        body = d.pop("body")

        body_truncated = d.pop("bodyTruncated")

        status = check_inbound_request_status(d.pop("status"))

        def _parse_check(
            data: object,
        ) -> (
            InboundRequestCheckType1
            | InboundRequestCheckType2Type1
            | InboundRequestCheckType3Type1
            | None
        ):
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                check_type_1 = check_inbound_request_check_type_1(data)

                return check_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                check_type_2_type_1 = check_inbound_request_check_type_2_type_1(data)

                return check_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                check_type_3_type_1 = check_inbound_request_check_type_3_type_1(data)

                return check_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                InboundRequestCheckType1
                | InboundRequestCheckType2Type1
                | InboundRequestCheckType3Type1
                | None,
                data,
            )

        check = _parse_check(d.pop("check"))

        def _parse_matched(
            data: object,
        ) -> (
            InboundRequestMatchedType1
            | InboundRequestMatchedType2Type1
            | InboundRequestMatchedType3Type1
            | None
        ):
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                matched_type_1 = check_inbound_request_matched_type_1(data)

                return matched_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                matched_type_2_type_1 = check_inbound_request_matched_type_2_type_1(
                    data
                )

                return matched_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                matched_type_3_type_1 = check_inbound_request_matched_type_3_type_1(
                    data
                )

                return matched_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                InboundRequestMatchedType1
                | InboundRequestMatchedType2Type1
                | InboundRequestMatchedType3Type1
                | None,
                data,
            )

        matched = _parse_matched(d.pop("matched"))

        def _parse_dedupe_key(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        dedupe_key = _parse_dedupe_key(d.pop("dedupeKey"))

        def _parse_event_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                event_id_type_0 = UUID(data)

                return event_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        event_id = _parse_event_id(d.pop("eventId"))

        inbound_request = cls(
            id=id,
            source_id=source_id,
            received_at=received_at,
            method=method,
            query=query,
            headers=headers,
            body=body,
            body_truncated=body_truncated,
            status=status,
            check=check,
            matched=matched,
            dedupe_key=dedupe_key,
            event_id=event_id,
        )

        inbound_request.additional_properties = d
        return inbound_request

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
