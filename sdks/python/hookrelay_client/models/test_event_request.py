from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="TestEventRequest")


@_attrs_define
class TestEventRequest:
    """
    Attributes:
        event_type (str | Unset): Event type name: lowercase dot-separated segments of [a-z0-9_-]; names starting
            `hookrelay.` are reserved for hookrelay's operational events (422) Default: 'webhook.test'.
        payload (Any | Unset): Any JSON value; default {"message": "This is a test event from hookrelay"}
    """

    event_type: str | Unset = "webhook.test"
    payload: Any | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        event_type = self.event_type

        payload = self.payload

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if event_type is not UNSET:
            field_dict["eventType"] = event_type
        if payload is not UNSET:
            field_dict["payload"] = payload

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        event_type = d.pop("eventType", UNSET)

        payload = d.pop("payload", UNSET)

        test_event_request = cls(
            event_type=event_type,
            payload=payload,
        )

        test_event_request.additional_properties = d
        return test_event_request

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
