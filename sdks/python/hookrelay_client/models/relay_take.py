from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RelayTake")


@_attrs_define
class RelayTake:
    """A listener's long poll. Unknown fields are ignored

    Attributes:
        listener_id (UUID): the listener's own id, the same for its whole run
        host (str): the listener's machine, shown on the dashboard
        wait (int | Unset): seconds to wait for a delivery when none is due Default: 25.
        max_ (int | Unset): most deliveries to take Default: 10.
    """

    listener_id: UUID
    host: str
    wait: int | Unset = 25
    max_: int | Unset = 10
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        listener_id = str(self.listener_id)

        host = self.host

        wait = self.wait

        max_ = self.max_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "listenerId": listener_id,
                "host": host,
            }
        )
        if wait is not UNSET:
            field_dict["wait"] = wait
        if max_ is not UNSET:
            field_dict["max"] = max_

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        listener_id = UUID(d.pop("listenerId"))

        host = d.pop("host")

        wait = d.pop("wait", UNSET)

        max_ = d.pop("max", UNSET)

        relay_take = cls(
            listener_id=listener_id,
            host=host,
            wait=wait,
            max_=max_,
        )

        relay_take.additional_properties = d
        return relay_take

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
