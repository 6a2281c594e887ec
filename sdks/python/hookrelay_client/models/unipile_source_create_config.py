from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="UnipileSourceCreateConfig")


@_attrs_define
class UnipileSourceCreateConfig:
    """
    Attributes:
        header_name (str | Unset):
        header_value (str | Unset): write-only; generated when omitted and then shown whole in the create answer alone
    """

    header_name: str | Unset = UNSET
    header_value: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        header_name = self.header_name

        header_value = self.header_value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if header_name is not UNSET:
            field_dict["headerName"] = header_name
        if header_value is not UNSET:
            field_dict["headerValue"] = header_value

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        header_name = d.pop("headerName", UNSET)

        header_value = d.pop("headerValue", UNSET)

        unipile_source_create_config = cls(
            header_name=header_name,
            header_value=header_value,
        )

        unipile_source_create_config.additional_properties = d
        return unipile_source_create_config

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
