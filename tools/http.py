"""HTTP helpers for built-in tools: JSON GETs whose failures become model-safe ToolFailed."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from tools.context import ToolContext
from tools.errors import ToolFailed

logger = logging.getLogger("toolcord.tools")

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
QueryParams = Mapping[str, str | int | float]


async def get_json(
    ctx: ToolContext,
    url: str,
    params: QueryParams,
    *,
    service: str,
    timeout_s: float,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Any:
    """GET ``url`` and return its JSON body, using ``ctx.http`` (or a short-lived session).

    Args:
        ctx: Supplies the shared aiohttp session.
        url: Absolute URL without query string.
        params: Query parameters.
        service: Name used in messages, e.g. "Open-Meteo".
        timeout_s: Total time allowed for the request.
        max_bytes: Larger bodies are refused.

    Raises:
        ToolFailed: With a model-safe message on HTTP errors, time-outs, connection errors,
            oversized or non-JSON bodies.
    """
    if ctx.http is not None:
        return await _fetch(ctx.http, url, params, service, timeout_s, max_bytes)
    async with aiohttp.ClientSession() as session:
        return await _fetch(session, url, params, service, timeout_s, max_bytes)


async def _fetch(
    session: aiohttp.ClientSession,
    url: str,
    params: QueryParams,
    service: str,
    timeout_s: float,
    max_bytes: int,
) -> Any:
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    query = {key: str(value) for key, value in params.items()}
    try:
        async with session.get(url, params=query, timeout=timeout) as response:
            if response.status >= 400:
                logger.warning("%s answered HTTP %s", service, response.status)
                raise ToolFailed(
                    f"{service} answered with an error (HTTP {response.status}). The service "
                    "may be down; tell the user to try again later."
                )
            body = await response.content.read(max_bytes + 1)
            content_type = response.headers.get("Content-Type", "")
    except TimeoutError:
        logger.warning("%s did not answer within %ss", service, timeout_s)
        raise ToolFailed(
            f"{service} did not answer within {timeout_s:g} s. Tell the user the service is "
            "slow right now and to try again later."
        ) from None
    except aiohttp.ClientError as error:
        logger.warning("%s could not be reached: %s", service, type(error).__name__)
        raise ToolFailed(
            f"{service} could not be reached. Tell the user to try again later."
        ) from None
    return _decode(body, content_type, service, max_bytes)


def _decode(body: bytes, content_type: str, service: str, max_bytes: int) -> Any:
    unexpected = ToolFailed(
        f"{service} sent an unexpected response. Tell the user the service is having "
        "problems and to try again later."
    )
    if len(body) > max_bytes or "json" not in content_type.lower():
        logger.warning("%s sent %s bytes of %r", service, len(body), content_type)
        raise unexpected
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        logger.warning("%s sent invalid JSON", service)
        raise unexpected from None
