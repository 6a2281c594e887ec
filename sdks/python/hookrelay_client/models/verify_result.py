from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.verify_result_check_type_1 import (
    VerifyResultCheckType1,
    check_verify_result_check_type_1,
)
from ..models.verify_result_check_type_2_type_1 import (
    VerifyResultCheckType2Type1,
    check_verify_result_check_type_2_type_1,
)
from ..models.verify_result_check_type_3_type_1 import (
    VerifyResultCheckType3Type1,
    check_verify_result_check_type_3_type_1,
)
from ..models.verify_result_matched_type_1 import (
    VerifyResultMatchedType1,
    check_verify_result_matched_type_1,
)
from ..models.verify_result_matched_type_2_type_1 import (
    VerifyResultMatchedType2Type1,
    check_verify_result_matched_type_2_type_1,
)
from ..models.verify_result_matched_type_3_type_1 import (
    VerifyResultMatchedType3Type1,
    check_verify_result_matched_type_3_type_1,
)
from ..models.verify_result_status import VerifyResultStatus, check_verify_result_status

T = TypeVar("T", bound="VerifyResult")


@_attrs_define
class VerifyResult:
    """
    Attributes:
        status (VerifyResultStatus):
        check (None | VerifyResultCheckType1 | VerifyResultCheckType2Type1 | VerifyResultCheckType3Type1):
        matched (None | VerifyResultMatchedType1 | VerifyResultMatchedType2Type1 | VerifyResultMatchedType3Type1):
        event_type (None | str):
        dedupe_key (None | str):
    """

    status: VerifyResultStatus
    check: (
        None
        | VerifyResultCheckType1
        | VerifyResultCheckType2Type1
        | VerifyResultCheckType3Type1
    )
    matched: (
        None
        | VerifyResultMatchedType1
        | VerifyResultMatchedType2Type1
        | VerifyResultMatchedType3Type1
    )
    event_type: None | str
    dedupe_key: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status: str = self.status

        check: None | str
        if (
            isinstance(self.check, str)
            or isinstance(self.check, str)
            or isinstance(self.check, str)
        ):
            check = self.check
        else:
            check = self.check

        matched: None | str
        if (
            isinstance(self.matched, str)
            or isinstance(self.matched, str)
            or isinstance(self.matched, str)
        ):
            matched = self.matched
        else:
            matched = self.matched

        event_type: None | str
        event_type = self.event_type

        dedupe_key: None | str
        dedupe_key = self.dedupe_key

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
                "check": check,
                "matched": matched,
                "eventType": event_type,
                "dedupeKey": dedupe_key,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        status = check_verify_result_status(d.pop("status"))

        def _parse_check(
            data: object,
        ) -> (
            None
            | VerifyResultCheckType1
            | VerifyResultCheckType2Type1
            | VerifyResultCheckType3Type1
        ):
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                check_type_1 = check_verify_result_check_type_1(data)

                return check_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                check_type_2_type_1 = check_verify_result_check_type_2_type_1(data)

                return check_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                check_type_3_type_1 = check_verify_result_check_type_3_type_1(data)

                return check_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                None
                | VerifyResultCheckType1
                | VerifyResultCheckType2Type1
                | VerifyResultCheckType3Type1,
                data,
            )

        check = _parse_check(d.pop("check"))

        def _parse_matched(
            data: object,
        ) -> (
            None
            | VerifyResultMatchedType1
            | VerifyResultMatchedType2Type1
            | VerifyResultMatchedType3Type1
        ):
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                matched_type_1 = check_verify_result_matched_type_1(data)

                return matched_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                matched_type_2_type_1 = check_verify_result_matched_type_2_type_1(data)

                return matched_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                matched_type_3_type_1 = check_verify_result_matched_type_3_type_1(data)

                return matched_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                None
                | VerifyResultMatchedType1
                | VerifyResultMatchedType2Type1
                | VerifyResultMatchedType3Type1,
                data,
            )

        matched = _parse_matched(d.pop("matched"))

        def _parse_event_type(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        event_type = _parse_event_type(d.pop("eventType"))

        def _parse_dedupe_key(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        dedupe_key = _parse_dedupe_key(d.pop("dedupeKey"))

        verify_result = cls(
            status=status,
            check=check,
            matched=matched,
            event_type=event_type,
            dedupe_key=dedupe_key,
        )

        verify_result.additional_properties = d
        return verify_result

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
