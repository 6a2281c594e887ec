from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.ingest_accepted_status import (
    IngestAcceptedStatus,
    check_ingest_accepted_status,
)

T = TypeVar("T", bound="IngestAccepted")


@_attrs_define
class IngestAccepted:
    """
    Attributes:
        id (UUID): The inbound request's id (for a duplicate: the first request's)
        status (IngestAcceptedStatus):
    """

    id: UUID
    status: IngestAcceptedStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        status: str = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        status = check_ingest_accepted_status(d.pop("status"))

        ingest_accepted = cls(
            id=id,
            status=status,
        )

        ingest_accepted.additional_properties = d
        return ingest_accepted

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
