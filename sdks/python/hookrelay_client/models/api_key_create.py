from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.api_key_create_scope_type_1 import (
    ApiKeyCreateScopeType1,
    check_api_key_create_scope_type_1,
)
from ..models.api_key_create_scope_type_2_type_1 import (
    ApiKeyCreateScopeType2Type1,
    check_api_key_create_scope_type_2_type_1,
)
from ..models.api_key_create_scope_type_3_type_1 import (
    ApiKeyCreateScopeType3Type1,
    check_api_key_create_scope_type_3_type_1,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="ApiKeyCreate")


@_attrs_define
class ApiKeyCreate:
    """
    Attributes:
        name (str):
        scope (ApiKeyCreateScopeType1 | ApiKeyCreateScopeType2Type1 | ApiKeyCreateScopeType3Type1 | None | Unset):
            `all`: every route a logged-in user has; `publish`: only `POST /api/v1/events` and `GET /api/v1/events/{id}`
            (any other route answers 403 `forbidden`); absent or null: `all` Default: 'all'.
    """

    name: str
    scope: (
        ApiKeyCreateScopeType1
        | ApiKeyCreateScopeType2Type1
        | ApiKeyCreateScopeType3Type1
        | None
        | Unset
    ) = "all"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        scope: None | str | Unset
        if isinstance(self.scope, Unset):
            scope = UNSET
        elif (
            isinstance(self.scope, str)
            or isinstance(self.scope, str)
            or isinstance(self.scope, str)
        ):
            scope = self.scope
        else:
            scope = self.scope

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
            }
        )
        if scope is not UNSET:
            field_dict["scope"] = scope

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        def _parse_scope(
            data: object,
        ) -> (
            ApiKeyCreateScopeType1
            | ApiKeyCreateScopeType2Type1
            | ApiKeyCreateScopeType3Type1
            | None
            | Unset
        ):
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                scope_type_1 = check_api_key_create_scope_type_1(data)

                return scope_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                scope_type_2_type_1 = check_api_key_create_scope_type_2_type_1(data)

                return scope_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                scope_type_3_type_1 = check_api_key_create_scope_type_3_type_1(data)

                return scope_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                ApiKeyCreateScopeType1
                | ApiKeyCreateScopeType2Type1
                | ApiKeyCreateScopeType3Type1
                | None
                | Unset,
                data,
            )

        scope = _parse_scope(d.pop("scope", UNSET))

        api_key_create = cls(
            name=name,
            scope=scope,
        )

        api_key_create.additional_properties = d
        return api_key_create

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
