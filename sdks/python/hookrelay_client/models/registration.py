from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.registration_tenant import RegistrationTenant
    from ..models.registration_user import RegistrationUser


T = TypeVar("T", bound="Registration")


@_attrs_define
class Registration:
    """
    Attributes:
        tenant (RegistrationTenant):
        user (RegistrationUser):
    """

    tenant: RegistrationTenant
    user: RegistrationUser
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        tenant = self.tenant.to_dict()

        user = self.user.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "tenant": tenant,
                "user": user,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.registration_tenant import RegistrationTenant
        from ..models.registration_user import RegistrationUser

        d = dict(src_dict)
        tenant = RegistrationTenant.from_dict(d.pop("tenant"))

        user = RegistrationUser.from_dict(d.pop("user"))

        registration = cls(
            tenant=tenant,
            user=user,
        )

        registration.additional_properties = d
        return registration

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
