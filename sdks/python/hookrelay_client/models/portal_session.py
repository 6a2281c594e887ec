from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PortalSession")


@_attrs_define
class PortalSession:
    """
    Attributes:
        token (str): A Bearer credential limited to the consumer's webhooks and what belongs to them; every other route
            answers 403
        url (str): <HOOKRELAY_PUBLIC_URL>/portal#token=<token>: the dashboard in portal mode
        consumer_id (str):
        expires_at (datetime.datetime):
    """

    token: str
    url: str
    consumer_id: str
    expires_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        token = self.token

        url = self.url

        consumer_id = self.consumer_id

        expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "token": token,
                "url": url,
                "consumerId": consumer_id,
                "expiresAt": expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        token = d.pop("token")

        url = d.pop("url")

        consumer_id = d.pop("consumerId")

        expires_at = datetime.datetime.fromisoformat(d.pop("expiresAt"))

        portal_session = cls(
            token=token,
            url=url,
            consumer_id=consumer_id,
            expires_at=expires_at,
        )

        return portal_session
