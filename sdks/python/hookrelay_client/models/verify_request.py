from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.verify_request_method_type_1 import (
    VerifyRequestMethodType1,
    check_verify_request_method_type_1,
)
from ..models.verify_request_method_type_2_type_1 import (
    VerifyRequestMethodType2Type1,
    check_verify_request_method_type_2_type_1,
)
from ..models.verify_request_method_type_3_type_1 import (
    VerifyRequestMethodType3Type1,
    check_verify_request_method_type_3_type_1,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.verify_request_headers_type_0 import VerifyRequestHeadersType0


T = TypeVar("T", bound="VerifyRequest")


@_attrs_define
class VerifyRequest:
    """
    Attributes:
        method (None | Unset | VerifyRequestMethodType1 | VerifyRequestMethodType2Type1 |
            VerifyRequestMethodType3Type1): default POST
        query (None | str | Unset): default empty
        headers (None | Unset | VerifyRequestHeadersType0):
        body (None | str | Unset): default empty
    """

    method: (
        None
        | Unset
        | VerifyRequestMethodType1
        | VerifyRequestMethodType2Type1
        | VerifyRequestMethodType3Type1
    ) = UNSET
    query: None | str | Unset = UNSET
    headers: None | Unset | VerifyRequestHeadersType0 = UNSET
    body: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.verify_request_headers_type_0 import VerifyRequestHeadersType0

        method: None | str | Unset
        if isinstance(self.method, Unset):
            method = UNSET
        elif (
            isinstance(self.method, str)
            or isinstance(self.method, str)
            or isinstance(self.method, str)
        ):
            method = self.method
        else:
            method = self.method

        query: None | str | Unset
        if isinstance(self.query, Unset):
            query = UNSET
        else:
            query = self.query

        headers: dict[str, Any] | None | Unset
        if isinstance(self.headers, Unset):
            headers = UNSET
        elif isinstance(self.headers, VerifyRequestHeadersType0):
            headers = self.headers.to_dict()
        else:
            headers = self.headers

        body: None | str | Unset
        if isinstance(self.body, Unset):
            body = UNSET
        else:
            body = self.body

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if method is not UNSET:
            field_dict["method"] = method
        if query is not UNSET:
            field_dict["query"] = query
        if headers is not UNSET:
            field_dict["headers"] = headers
        if body is not UNSET:
            field_dict["body"] = body

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.verify_request_headers_type_0 import VerifyRequestHeadersType0

        d = dict(src_dict)

        def _parse_method(
            data: object,
        ) -> (
            None
            | Unset
            | VerifyRequestMethodType1
            | VerifyRequestMethodType2Type1
            | VerifyRequestMethodType3Type1
        ):
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                method_type_1 = check_verify_request_method_type_1(data)

                return method_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                method_type_2_type_1 = check_verify_request_method_type_2_type_1(data)

                return method_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                method_type_3_type_1 = check_verify_request_method_type_3_type_1(data)

                return method_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                None
                | Unset
                | VerifyRequestMethodType1
                | VerifyRequestMethodType2Type1
                | VerifyRequestMethodType3Type1,
                data,
            )

        method = _parse_method(d.pop("method", UNSET))

        def _parse_query(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        query = _parse_query(d.pop("query", UNSET))

        def _parse_headers(data: object) -> None | Unset | VerifyRequestHeadersType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                headers_type_0 = VerifyRequestHeadersType0.from_dict(data)

                return headers_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | VerifyRequestHeadersType0, data)

        headers = _parse_headers(d.pop("headers", UNSET))

        def _parse_body(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        body = _parse_body(d.pop("body", UNSET))

        verify_request = cls(
            method=method,
            query=query,
            headers=headers,
            body=body,
        )

        verify_request.additional_properties = d
        return verify_request

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
