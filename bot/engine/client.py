"""The OpenAI client factory: one AsyncOpenAI for the process, configured from Settings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection
from typing import Any, ClassVar

import httpx2
import openai

from bot.engine.breaker import NO_RETRY_CODES, BreakerTransport, ProviderBreaker
from bot.settings import OpenAISettings
from bot.shims.openai_internals import http_transport

CHAT_COMPLETIONS_PATH = "/chat/completions"
RESPONSES_PATH = "/responses"
# The SDK's telemetry headers: the API needs none of them. Chat requests leave them out, so the SDK,
# httpx2 and aiohttp merge, copy and convert 7 fewer of the 16 headers on every model round.
# ``x-stainless-retry-count`` and ``x-stainless-read-timeout`` are still sent.
SDK_TELEMETRY_HEADERS = (
    "X-Stainless-Lang",
    "X-Stainless-Package-Version",
    "X-Stainless-OS",
    "X-Stainless-Arch",
    "X-Stainless-Runtime",
    "X-Stainless-Runtime-Version",
    "X-Stainless-Async",
)
# The SDK's own pool limits; a bare transport's (100 connections, 20 kept alive) would queue a burst
# of conversations and reconnect whenever more than 20 answers stream at once.
CONNECTION_LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)


class _NoPointlessRetries(httpx2.AsyncBaseTransport):
    """Marks 429 "out of credit" answers as not retryable.

    The SDK retries every 429 on its status alone; an account out of credit stays so, and
    retrying only wastes time before the user hears about it. The SDK honours the server's
    ``x-should-retry: false`` header, so this transport adds it when the body names such a code.
    """

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        if response.status_code != 429:
            return response
        body = await response.aread()
        await response.aclose()
        headers = httpx2.Headers(response.headers)
        if any(code in body for code in NO_RETRY_CODES):
            headers["x-should-retry"] = "false"
        headers.pop("content-encoding", None)
        headers.pop("transfer-encoding", None)
        return httpx2.Response(
            429, headers=headers, content=body, request=request, extensions=response.extensions
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def make_openai_client(
    settings: OpenAISettings, api_key: str, *, breaker: ProviderBreaker | None = None
) -> openai.AsyncOpenAI:
    """Build the AsyncOpenAI client for chat, images, audio and moderation.

    With a ``breaker`` every attempt goes through it (see ``bot/engine/breaker.py``).
    """
    timeout = httpx2.Timeout(settings.request_timeout_s, connect=settings.connect_timeout_s)
    transport: httpx2.AsyncBaseTransport = _NoPointlessRetries(http_transport(CONNECTION_LIMITS))
    if breaker is not None:
        transport = BreakerTransport(transport, breaker)
    http_client = openai.DefaultAsyncHttpx2Client(transport=transport, timeout=timeout)
    return openai.AsyncOpenAI(
        api_key=api_key,
        base_url=settings.base_url,
        timeout=timeout,
        max_retries=settings.max_retries,
        http_client=http_client,
    )


def chat_completions_url(client: openai.AsyncOpenAI) -> str:
    """Where ``client`` posts chat completions (see :func:`endpoint_url`)."""
    return endpoint_url(client, CHAT_COMPLETIONS_PATH)


def responses_url(client: openai.AsyncOpenAI) -> str:
    """Where ``client`` posts Responses API requests (see :func:`endpoint_url`)."""
    return endpoint_url(client, RESPONSES_PATH)


def endpoint_url(client: openai.AsyncOpenAI, path: str) -> str:
    """Where ``client`` posts to ``path``: an absolute URL where the SDK's join is plain.

    Given the relative path, the SDK parses it, joins it to the base URL and parses the join on
    every request (then httpx2 parses the URL a third time); an absolute URL it parses once. An
    Azure client rewrites the relative path (its deployments), and a base URL with a
    query or fragment is not joined by appending, so those keep the relative path.
    """
    base = client.base_url
    if type(client) is not openai.AsyncOpenAI or base.query or base.fragment:
        return path
    # The SDK keeps the base path ending in "/" and joins ``raw_path + path.lstrip("/")``; the
    # text of a URL whose path is just "/" has no slash at all, hence removesuffix, not "+".
    return str(base).removesuffix("/") + path


def chat_request_options() -> openai.RequestOptions:
    """The SDK options of a model request (either dialect): bearer auth, no telemetry headers."""
    return {
        "security": {"bearer_auth": True},
        "headers": dict.fromkeys(SDK_TELEMETRY_HEADERS, openai.omit),
    }


class NamedEventStream(openai.AsyncStream[object]):
    """An SSE stream of named events that decodes only the events in ``wanted``.

    The Responses API names each event (``event: response.output_text.delta``) and repeats the
    whole response object (instructions and tools included) in ``response.created``,
    ``response.in_progress`` and ``response.completed``. This stream splits the body into events
    itself and decodes (UTF-8 and JSON) only the wanted ones, instead of the SDK's line-by-line
    decoder that decodes every line of every event. Network errors become the SDK's
    ``APITimeoutError``/``APIConnectionError`` as in the SDK's own stream. This reaches into the
    SDK's stream class; it lives here, the openai shim, with the other SDK internals.
    """

    wanted: ClassVar[Collection[str]] = ()

    async def __stream__(self) -> AsyncIterator[Any]:
        wanted = frozenset(name.encode() for name in self.wanted)
        pending = b""
        try:
            async for chunk in self._chunks():
                pending += chunk
                if b"\r" in pending:  # CRLF line ends (a CR may wait for its LF)
                    pending = pending.replace(b"\r\n", b"\n")
                *blocks, pending = pending.split(b"\n\n")
                for block in blocks:
                    data = _wanted_data(block, wanted)
                    if data is not None:
                        yield json.loads(data)
            data = _wanted_data(pending, wanted) if pending.strip() else None
            if data is not None:
                yield json.loads(data)
        finally:
            await self.response.aclose()

    async def _chunks(self) -> AsyncIterator[bytes]:
        request = self.response.request
        timeouts, failures = _network_errors()
        try:
            async for chunk in self.response.aiter_bytes():
                yield chunk
        except timeouts as error:
            raise openai.APITimeoutError(request=request) from error
        except failures as error:
            raise openai.APIConnectionError(request=request) from error


def _wanted_data(block: bytes, wanted: frozenset[bytes]) -> bytes | None:
    """The ``data`` of one SSE event block when its ``event`` name is wanted, else None."""
    name, data = b"", []
    for line in block.split(b"\n"):
        if line.startswith(b"event:"):
            name = line[6:].strip()
        elif line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
    if name not in wanted or not data:
        return None
    return b"\n".join(data)


def _network_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """The exceptions the SDK's own stream maps to timeouts and to connection errors."""
    try:
        from openai._httpx2 import request_exceptions, timeout_exceptions
    except ImportError:  # an SDK without the helpers
        return (httpx2.TimeoutException,), (httpx2.RequestError,)
    return timeout_exceptions(), request_exceptions()
