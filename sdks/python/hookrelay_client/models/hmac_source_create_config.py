from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.hmac_source_create_config_algorithm import (
    HmacSourceCreateConfigAlgorithm,
    check_hmac_source_create_config_algorithm,
)
from ..models.hmac_source_create_config_encoding import (
    HmacSourceCreateConfigEncoding,
    check_hmac_source_create_config_encoding,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="HmacSourceCreateConfig")


@_attrs_define
class HmacSourceCreateConfig:
    """
    Attributes:
        secret (str): write-only: answers show `****` and its last 4 characters
        header (str):
        algorithm (HmacSourceCreateConfigAlgorithm):
        encoding (HmacSourceCreateConfigEncoding):
        prefix (str | Unset): e.g. `sha256=`; default none
    """

    secret: str
    header: str
    algorithm: HmacSourceCreateConfigAlgorithm
    encoding: HmacSourceCreateConfigEncoding
    prefix: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        secret = self.secret

        header = self.header

        algorithm: str = self.algorithm

        encoding: str = self.encoding

        prefix = self.prefix

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "secret": secret,
                "header": header,
                "algorithm": algorithm,
                "encoding": encoding,
            }
        )
        if prefix is not UNSET:
            field_dict["prefix"] = prefix

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        secret = d.pop("secret")

        header = d.pop("header")

        algorithm = check_hmac_source_create_config_algorithm(d.pop("algorithm"))

        encoding = check_hmac_source_create_config_encoding(d.pop("encoding"))

        prefix = d.pop("prefix", UNSET)

        hmac_source_create_config = cls(
            secret=secret,
            header=header,
            algorithm=algorithm,
            encoding=encoding,
            prefix=prefix,
        )

        hmac_source_create_config.additional_properties = d
        return hmac_source_create_config

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
