"""JSON requests to a search provider's API: time and size capped, errors made model-safe.

Provider endpoints come from the bot owner's configuration (a self-hosted SearxNG is often on
a private address), so they are not sent through the SSRF-checking SafeFetcher; the URLs the
model chooses are (see ``fetch_page``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tools.net.body import read_body
from tools.net.errors import FetchFailed
from tools.search.providers.base import SearchProviderError

logger = logging.getLogger("toolcord.tools.search")

MAX_RESPONSE_BYTES = 2_000_000


@dataclass(frozen=True)
class ApiRequest:
    """One request to a provider's API.

    Attributes:
        method: "GET" or "POST".
        url: The full endpoint URL.
        params: Query parameters.
        json_body: A JSON body (POST).
        headers: Request headers (API keys go here; never logged).
    """

    method: str
    url: str
    params: Mapping[str, str] | None = None
    json_body: Any = None
    headers: Mapping[str, str] | None = field(default=None, repr=False)


async def request_json(
    session: aiohttp.ClientSession | None,
    request: ApiRequest,
    *,
    service: str,
    timeout_s: float,
    status_hints: Mapping[int, str] | None = None,
) -> Any:
    """Send ``request`` and return the parsed JSON body.

    Args:
        session: The shared session, or None to open a short-lived one.
        request: What to send.
        service: The provider's name for messages.
        timeout_s: Time allowed for the whole request.
        status_hints: Messages for specific HTTP statuses (e.g. 401 -> "check the key").

    Raises:
        SearchProviderError: For time-outs, unreachable hosts, HTTP errors, oversized or
            non-JSON responses.
    """
    if session is None:
        async with aiohttp.ClientSession() as own_session:
            return await request_json(
                own_session,
                request,
                service=service,
                timeout_s=timeout_s,
                status_hints=status_hints,
            )
    try:
        async with asyncio.timeout(timeout_s):
            body = await _send(session, request, service, status_hints or {})
    except TimeoutError:
        logger.warning("%s did not answer within %ss", service, timeout_s)
        raise SearchProviderError(
            f"{service} did not answer within {timeout_s:g} s; tell the user web search is "
            "slow right now and to try again later."
        ) from None
    except aiohttp.ClientError as error:
        logger.warning("%s could not be reached: %s", service, type(error).__name__)
        raise SearchProviderError(
            f"{service} could not be reached; tell the user web search is unavailable right now."
        ) from None
    return _parse(body, service)


async def _send(
    session: aiohttp.ClientSession,
    request: ApiRequest,
    service: str,
    status_hints: Mapping[int, str],
) -> bytes:
    async with session.request(
        request.method,
        request.url,
        params=request.params,
        json=request.json_body,
        headers=request.headers,
        allow_redirects=False,
    ) as response:
        if response.status >= 300:
            logger.warning("%s answered HTTP %s", service, response.status)
            raise SearchProviderError(_status_message(service, response.status, status_hints))
        encoding = "" if session.auto_decompress else response.headers.get("Content-Encoding", "")
        try:
            body = await read_body(
                response.content, content_encoding=encoding, max_bytes=MAX_RESPONSE_BYTES
            )
        except FetchFailed:
            raise SearchProviderError(f"{service} sent an unreadable response.") from None
    if body.truncated:
        raise SearchProviderError(f"{service} sent a response larger than the bot accepts.")
    return body.data


def _status_message(service: str, status: int, hints: Mapping[int, str]) -> str:
    if status in hints:
        return f"{service} refused the search (HTTP {status}): {hints[status]}"
    if status == 429:
        return (
            f"{service} is limiting how often the bot may search (HTTP 429); tell the user to "
            "try again in a while."
        )
    if status >= 500:
        return (
            f"{service} is having problems (HTTP {status}); tell the user web search is "
            "unavailable right now."
        )
    return (
        f"{service} refused the search (HTTP {status}); the bot owner should check the search "
        "settings."
    )


def _parse(body: bytes, service: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        logger.warning("%s sent a body that is not JSON", service)
        raise SearchProviderError(
            f"{service} sent a response that is not valid JSON; tell the user web search is "
            "having problems."
        ) from None
