"""hookrelay: the helpers around the generated client (hookrelay_client, by scripts/sdk).

The generated package has one module per operation (``hookrelay_client.api.<tag>.<operation>``,
each with ``sync``, ``sync_detailed``, ``asyncio`` and ``asyncio_detailed``) and one attrs
class per schema (``hookrelay_client.models``). This module adds what the description
cannot say:

* ``client()`` / ``async_client()``: a client with the bearer token whose every non-2xx
  answer raises ``HookrelayError`` (the problem+json body, typed), so ``sync()`` returns the
  2xx body; ``ok()`` narrows its return type to that body.
* ``pages()`` / ``paginate()``: follow ``nextCursor`` across a list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import httpx

from hookrelay_client import AuthenticatedClient, Client
from hookrelay_client.models.problem import Problem
from hookrelay_client.types import UNSET, Unset

__all__ = [
    "FieldError",
    "HookrelayError",
    "Page",
    "async_client",
    "client",
    "ok",
    "pages",
    "paginate",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class FieldError:
    """One failing field of a 422: a dotted path (``url``, ``events[1]``, ``headers.Host``,
    or a query parameter such as ``limit``) and why."""

    field: str
    message: str


class HookrelayError(Exception):
    """An answer that is not 2xx: the API's ``application/problem+json`` body (RFC 9457)."""

    status: int
    #: Stable code: ``validation_failed``, ``not_found``, ``unauthorized``, ``forbidden``, …
    type: str
    title: str
    detail: str
    #: One entry per failing field (422 ``validation_failed``); empty otherwise.
    errors: list[FieldError]
    response: httpx.Response | None

    def __init__(
        self,
        status: int,
        type: str,
        title: str,
        detail: str = "",
        errors: list[FieldError] | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(f"{title}: {detail}" if detail else title)
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.response = response

    def field_error(self, field: str) -> str | None:
        """The message for one field of a 422, if that field failed."""
        return next((e.message for e in self.errors if e.field == field), None)

    @classmethod
    def from_response(cls, response: httpx.Response) -> HookrelayError:
        """From a read response; a body that is not problem+json keeps the status only."""
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        errors = [
            FieldError(str(e.get("field", "")), str(e.get("message", "")))
            for e in body.get("errors") or []
            if isinstance(e, dict)
        ]
        return cls(
            status=int(body.get("status", response.status_code)),
            type=str(body.get("type", "about:blank")),
            title=str(body.get("title", response.reason_phrase or f"HTTP {response.status_code}")),
            detail=str(body.get("detail", "" if body else response.text)),
            errors=errors,
            response=response,
        )

    @classmethod
    def from_problem(cls, problem: Problem) -> HookrelayError:
        errors = problem.errors if isinstance(problem.errors, list) else []
        return cls(
            status=problem.status,
            type=problem.type,
            title=problem.title,
            detail=problem.detail,
            errors=[FieldError(e.field, e.message) for e in errors],
        )


def _raise_for_problem(response: httpx.Response) -> None:
    if response.status_code >= 400:
        response.read()
        raise HookrelayError.from_response(response)


async def _araise_for_problem(response: httpx.Response) -> None:
    if response.status_code >= 400:
        await response.aread()
        raise HookrelayError.from_response(response)


def _client(base_url: str, token: str | None, hook: Any, **kwargs: Any) -> AuthenticatedClient | Client:
    httpx_args = dict(kwargs.pop("httpx_args", {}))
    hooks = dict(httpx_args.get("event_hooks", {}))
    hooks["response"] = [*hooks.get("response", []), hook]
    httpx_args["event_hooks"] = hooks
    if token is None:
        return Client(base_url=base_url, httpx_args=httpx_args, **kwargs)
    return AuthenticatedClient(base_url=base_url, token=token, httpx_args=httpx_args, **kwargs)


def client(base_url: str, token: str | None = None, **kwargs: Any) -> AuthenticatedClient | Client:
    """A client for the generated ``sync``/``sync_detailed`` functions.

    ``token``: a JWT from ``POST /api/v1/auth/login`` or an ``hrk_`` API key (none for
    register and login). Every non-2xx answer raises ``HookrelayError``. Other keyword
    arguments go to the generated ``Client`` (``timeout``, ``headers``, ``httpx_args``, …).
    """
    return _client(base_url, token, _raise_for_problem, **kwargs)


def async_client(base_url: str, token: str | None = None, **kwargs: Any) -> AuthenticatedClient | Client:
    """The same for the generated ``asyncio``/``asyncio_detailed`` functions."""
    return _client(base_url, token, _araise_for_problem, **kwargs)


def ok(value: T | Problem | None) -> T:
    """The 2xx body of a generated ``sync()``/``asyncio()`` call, typed as such.

    With ``client()`` errors have raised already; with a plain generated client a
    ``Problem`` becomes a ``HookrelayError`` here, and ``None`` (an undocumented status)
    one without a body.
    """
    if isinstance(value, Problem):
        raise HookrelayError.from_problem(value)
    if value is None:
        raise HookrelayError(status=0, type="about:blank", title="Unexpected answer")
    return value


class Page(Protocol, Generic[T_co]):
    """What every list endpoint answers: newest first, ``next_cursor`` None on the last page."""

    @property
    def data(self) -> list[T_co]: ...

    @property
    def next_cursor(self) -> str | None: ...


def pages(fetch_page: Callable[[str | Unset], Page[T] | Problem | None]) -> Iterator[Page[T]]:
    """Every page of a list, following ``next_cursor`` until it is None (or a page is empty).

    ``fetch_page`` gets ``UNSET`` for the first page and the previous page's cursor after::

        pages(lambda cursor: list_webhook_logs.sync(webhook_id, client=c, limit=100, cursor=cursor))
    """
    cursor: str | Unset = UNSET
    while True:
        page = ok(fetch_page(cursor))
        yield page
        if page.next_cursor is None or not page.data:
            return
        cursor = page.next_cursor


def paginate(fetch_page: Callable[[str | Unset], Page[T] | Problem | None]) -> Iterator[T]:
    """Every item of a list, across pages (see ``pages``)."""
    for page in pages(fetch_page):
        yield from page.data
