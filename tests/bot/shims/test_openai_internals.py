"""The OpenAI SDK still has what bot/shims/openai_internals.py relies on; the fallbacks work."""

from __future__ import annotations

import sys
from typing import Any

import httpx2
import openai
import pytest

from bot.shims.openai_internals import add_http_event_hooks, aiohttp_transport, http_transport

LIMITS = httpx2.Limits(max_connections=7, max_keepalive_connections=3)


async def test_the_sdk_vendors_its_aiohttp_transport() -> None:
    from openai._vendor.httpx_aiohttp import AiohttpTransport

    transport = http_transport(LIMITS)
    try:
        assert type(transport) is AiohttpTransport
        assert isinstance(transport, httpx2.AsyncBaseTransport)
    finally:
        await transport.aclose()


async def test_without_the_vendored_transport_httpx2s_own_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "openai._vendor.httpx_aiohttp", None)
    assert aiohttp_transport(LIMITS) is None
    transport = http_transport(LIMITS)
    try:
        assert type(transport) is httpx2.AsyncHTTPTransport
    finally:
        await transport.aclose()


async def _hook(_: Any) -> None:
    return None


async def _other(_: Any) -> None:
    return None


async def test_hooks_are_added_to_the_clients_http_client_after_its_own() -> None:
    client = openai.AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    try:
        http_client = client._client
        assert isinstance(http_client, httpx2.AsyncClient)
        http_client.event_hooks = {"request": [_other], "response": []}
        assert add_http_event_hooks(client, {"request": [_hook], "response": [_hook]})
        assert http_client.event_hooks == {"request": [_other, _hook], "response": [_hook]}
    finally:
        await client.close()


def test_a_client_without_an_http_client_is_left_alone() -> None:
    thing = object()
    assert add_http_event_hooks(thing, {"request": [_hook]}) is False
