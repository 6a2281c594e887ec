from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.api_key_created_scope import (
    ApiKeyCreatedScope,
    check_api_key_created_scope,
)

T = TypeVar("T", bound="ApiKeyCreated")


@_attrs_define
class ApiKeyCreated:
    """
    Attributes:
        id (UUID): UUID v7
        name (str):
        key (str): `hrk_` + 32 random bytes (unpadded base64url). Shown this once; only its hash is stored
        prefix (str): The key's first 12 characters
        scope (ApiKeyCreatedScope): `all`: every route a logged-in user has; `publish`: only `POST /api/v1/events` and
            `GET /api/v1/events/{id}` (any other route answers 403 `forbidden`)
        created_at (datetime.datetime): RFC 3339 in UTC with milliseconds
    """

    id: UUID
    name: str
    key: str
    prefix: str
    scope: ApiKeyCreatedScope
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        key = self.key

        prefix = self.prefix

        scope: str = self.scope

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "key": key,
                "prefix": prefix,
                "scope": scope,
                "createdAt": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        key = d.pop("key")

        prefix = d.pop("prefix")

        scope = check_api_key_created_scope(d.pop("scope"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        api_key_created = cls(
            id=id,
            name=name,
            key=key,
            prefix=prefix,
            scope=scope,
            created_at=created_at,
        )

        api_key_created.additional_properties = d
        return api_key_created

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
