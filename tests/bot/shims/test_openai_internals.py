"""The OpenAI SDK still has what bot/shims/openai_internals.py relies on; the fallback works."""

from __future__ import annotations

from typing import Any

import httpx2
import openai

from bot.shims.openai_internals import add_http_event_hooks


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
