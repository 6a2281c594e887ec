from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.github_source_create import GithubSourceCreate
from ...models.hmac_source_create import HmacSourceCreate
from ...models.linkedin_source_create import LinkedinSourceCreate
from ...models.meta_source_create import MetaSourceCreate
from ...models.none_source_create import NoneSourceCreate
from ...models.problem import Problem
from ...models.shopify_source_create import ShopifySourceCreate
from ...models.slack_source_create import SlackSourceCreate
from ...models.source import Source
from ...models.standard_webhooks_source_create import StandardWebhooksSourceCreate
from ...models.stripe_source_create import StripeSourceCreate
from ...models.twilio_source_create import TwilioSourceCreate
from ...models.unipile_source_create import UnipileSourceCreate
from ...models.viber_source_create import ViberSourceCreate
from ...types import Response


def _get_kwargs(
    *,
    body: GithubSourceCreate
    | HmacSourceCreate
    | LinkedinSourceCreate
    | MetaSourceCreate
    | NoneSourceCreate
    | ShopifySourceCreate
    | SlackSourceCreate
    | StandardWebhooksSourceCreate
    | StripeSourceCreate
    | TwilioSourceCreate
    | UnipileSourceCreate
    | ViberSourceCreate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/sources",
    }

    if (
        isinstance(body, MetaSourceCreate)
        or isinstance(body, ViberSourceCreate)
        or isinstance(body, LinkedinSourceCreate)
        or isinstance(body, UnipileSourceCreate)
        or isinstance(body, StripeSourceCreate)
        or isinstance(body, GithubSourceCreate)
        or isinstance(body, ShopifySourceCreate)
        or isinstance(body, SlackSourceCreate)
        or isinstance(body, TwilioSourceCreate)
        or isinstance(body, StandardWebhooksSourceCreate)
        or isinstance(body, HmacSourceCreate)
    ):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | Source | None:
    if response.status_code == 201:
        response_201 = Source.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | Source]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: GithubSourceCreate
    | HmacSourceCreate
    | LinkedinSourceCreate
    | MetaSourceCreate
    | NoneSourceCreate
    | ShopifySourceCreate
    | SlackSourceCreate
    | StandardWebhooksSourceCreate
    | StripeSourceCreate
    | TwilioSourceCreate
    | UnipileSourceCreate
    | ViberSourceCreate,
) -> Response[Problem | Source]:
    """Create a source

    Args:
        body (GithubSourceCreate | HmacSourceCreate | LinkedinSourceCreate | MetaSourceCreate |
            NoneSourceCreate | ShopifySourceCreate | SlackSourceCreate | StandardWebhooksSourceCreate
            | StripeSourceCreate | TwilioSourceCreate | UnipileSourceCreate | ViberSourceCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Source]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: GithubSourceCreate
    | HmacSourceCreate
    | LinkedinSourceCreate
    | MetaSourceCreate
    | NoneSourceCreate
    | ShopifySourceCreate
    | SlackSourceCreate
    | StandardWebhooksSourceCreate
    | StripeSourceCreate
    | TwilioSourceCreate
    | UnipileSourceCreate
    | ViberSourceCreate,
) -> Problem | Source | None:
    """Create a source

    Args:
        body (GithubSourceCreate | HmacSourceCreate | LinkedinSourceCreate | MetaSourceCreate |
            NoneSourceCreate | ShopifySourceCreate | SlackSourceCreate | StandardWebhooksSourceCreate
            | StripeSourceCreate | TwilioSourceCreate | UnipileSourceCreate | ViberSourceCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Source
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: GithubSourceCreate
    | HmacSourceCreate
    | LinkedinSourceCreate
    | MetaSourceCreate
    | NoneSourceCreate
    | ShopifySourceCreate
    | SlackSourceCreate
    | StandardWebhooksSourceCreate
    | StripeSourceCreate
    | TwilioSourceCreate
    | UnipileSourceCreate
    | ViberSourceCreate,
) -> Response[Problem | Source]:
    """Create a source

    Args:
        body (GithubSourceCreate | HmacSourceCreate | LinkedinSourceCreate | MetaSourceCreate |
            NoneSourceCreate | ShopifySourceCreate | SlackSourceCreate | StandardWebhooksSourceCreate
            | StripeSourceCreate | TwilioSourceCreate | UnipileSourceCreate | ViberSourceCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Source]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: GithubSourceCreate
    | HmacSourceCreate
    | LinkedinSourceCreate
    | MetaSourceCreate
    | NoneSourceCreate
    | ShopifySourceCreate
    | SlackSourceCreate
    | StandardWebhooksSourceCreate
    | StripeSourceCreate
    | TwilioSourceCreate
    | UnipileSourceCreate
    | ViberSourceCreate,
) -> Problem | Source | None:
    """Create a source

    Args:
        body (GithubSourceCreate | HmacSourceCreate | LinkedinSourceCreate | MetaSourceCreate |
            NoneSourceCreate | ShopifySourceCreate | SlackSourceCreate | StandardWebhooksSourceCreate
            | StripeSourceCreate | TwilioSourceCreate | UnipileSourceCreate | ViberSourceCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Source
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
