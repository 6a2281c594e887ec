from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.relay_outcome_error_kind import (
    RelayOutcomeErrorKind,
    check_relay_outcome_error_kind,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.relay_outcome_headers import RelayOutcomeHeaders


T = TypeVar("T", bound="RelayOutcome")


@_attrs_define
class RelayOutcome:
    """What the local URL answered (status, and its headers and body), or why it did not (errorKind). Unknown fields are
    ignored

        Attributes:
            lease_id (UUID):
            url (str): the local URL forwarded to (the attempt's requestUrl)
            status (int | Unset):
            headers (RelayOutcomeHeaders | Unset):
            body (str | Unset):
            duration_ms (int | Unset):
            error_kind (RelayOutcomeErrorKind | Unset):
            error_message (str | Unset):
    """

    lease_id: UUID
    url: str
    status: int | Unset = UNSET
    headers: RelayOutcomeHeaders | Unset = UNSET
    body: str | Unset = UNSET
    duration_ms: int | Unset = UNSET
    error_kind: RelayOutcomeErrorKind | Unset = UNSET
    error_message: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        lease_id = str(self.lease_id)

        url = self.url

        status = self.status

        headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.headers, Unset):
            headers = self.headers.to_dict()

        body = self.body

        duration_ms = self.duration_ms

        error_kind: str | Unset = UNSET
        if not isinstance(self.error_kind, Unset):
            error_kind = self.error_kind

        error_message = self.error_message

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "leaseId": lease_id,
                "url": url,
            }
        )
        if status is not UNSET:
            field_dict["status"] = status
        if headers is not UNSET:
            field_dict["headers"] = headers
        if body is not UNSET:
            field_dict["body"] = body
        if duration_ms is not UNSET:
            field_dict["durationMs"] = duration_ms
        if error_kind is not UNSET:
            field_dict["errorKind"] = error_kind
        if error_message is not UNSET:
            field_dict["errorMessage"] = error_message

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.relay_outcome_headers import RelayOutcomeHeaders

        d = dict(src_dict)
        lease_id = UUID(d.pop("leaseId"))

        url = d.pop("url")

        status = d.pop("status", UNSET)

        _headers = d.pop("headers", UNSET)
        headers: RelayOutcomeHeaders | Unset
        if isinstance(_headers, Unset):
            headers = UNSET
        else:
            headers = RelayOutcomeHeaders.from_dict(_headers)

        body = d.pop("body", UNSET)

        duration_ms = d.pop("durationMs", UNSET)

        _error_kind = d.pop("errorKind", UNSET)
        error_kind: RelayOutcomeErrorKind | Unset
        if isinstance(_error_kind, Unset):
            error_kind = UNSET
        else:
            error_kind = check_relay_outcome_error_kind(_error_kind)

        error_message = d.pop("errorMessage", UNSET)

        relay_outcome = cls(
            lease_id=lease_id,
            url=url,
            status=status,
            headers=headers,
            body=body,
            duration_ms=duration_ms,
            error_kind=error_kind,
            error_message=error_message,
        )

        relay_outcome.additional_properties = d
        return relay_outcome

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
