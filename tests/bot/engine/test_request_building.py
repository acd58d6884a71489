"""What a chat completion request carries on the wire, now that the engine trims the SDK's work.

The engine posts to an absolute URL (one URL parse per request instead of three) and leaves out
the SDK's telemetry headers; everything OpenAI needs, and the retry count, must still be sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx2
import openai
import pytest

from bot.engine import Final, TurnRequest, run_turn
from bot.engine.client import (
    CHAT_COMPLETIONS_PATH,
    SDK_TELEMETRY_HEADERS,
    chat_completions_url,
    make_openai_client,
)
from bot.settings import OpenAISettings
from bot.testing.openai import OpenAIEmulator

CHAT = "/v1/chat/completions"
REQUEST = TurnRequest(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


@pytest.fixture
async def emu() -> AsyncIterator[OpenAIEmulator]:
    async with OpenAIEmulator() as emulator:
        yield emulator
        emulator.assert_no_violations()


async def _answer(client: openai.AsyncOpenAI) -> Final:
    events = [event async for event in run_turn(client, REQUEST)]
    final = events[-1]
    assert isinstance(final, Final), final
    return final


async def test_chat_request_keeps_every_needed_header_and_drops_sdk_telemetry(
    emu: OpenAIEmulator,
) -> None:
    emu.chat.reply_text("Hello.")
    client = make_openai_client(OpenAISettings(base_url=emu.base_url, max_retries=0), "sk-test")
    final = await _answer(client)
    assert final.text == "Hello."
    headers = (await emu.wait_request(CHAT)).headers
    assert headers["authorization"] == "Bearer sk-test"
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"
    assert headers["user-agent"].startswith("AsyncOpenAI/Python ")
    assert headers["x-stainless-retry-count"] == "0"
    assert headers["x-stainless-read-timeout"] == "60.0"
    assert not {name.lower() for name in SDK_TELEMETRY_HEADERS} & headers.keys()


async def test_other_sdk_calls_still_send_the_telemetry_headers(emu: OpenAIEmulator) -> None:
    client = make_openai_client(OpenAISettings(base_url=emu.base_url, max_retries=0), "sk-test")
    await client.models.list()
    headers = (await emu.wait_request("/v1/models")).headers
    assert headers["x-stainless-os"]
    assert headers["x-stainless-async"] == "async:asyncio"


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1/chat/completions"),
        ("http://127.0.0.1:9/v1/", "http://127.0.0.1:9/v1/chat/completions"),
        ("https://proxy.example/openai/v1", "https://proxy.example/openai/v1/chat/completions"),
        ("https://api.openai.com", "https://api.openai.com/chat/completions"),
        ("http://127.0.0.1:9/v1//", "http://127.0.0.1:9/v1//chat/completions"),
        (
            "http://user:pw@127.0.0.1:9/a%20b/v1",
            "http://user:pw@127.0.0.1:9/a%20b/v1/chat/completions",
        ),
    ],
)
def test_chat_url_is_the_sdks_join_made_once(base_url: str, expected: str) -> None:
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=base_url)
    assert chat_completions_url(client) == expected
    # The SDK's own join of the relative path (a private method: this pins the equivalence).
    assert str(client._prepare_url(CHAT_COMPLETIONS_PATH)) == expected


def test_a_base_url_with_a_query_keeps_the_relative_path() -> None:
    client = openai.AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1?tenant=a")
    assert chat_completions_url(client) == CHAT_COMPLETIONS_PATH


async def test_a_base_url_with_a_trailing_slash_reaches_the_same_route(emu: OpenAIEmulator) -> None:
    emu.chat.reply_text("Routed.")
    base = emu.base_url.rstrip("/") + "/"
    client = make_openai_client(OpenAISettings(base_url=base, max_retries=0), "sk-test")
    assert (await _answer(client)).text == "Routed."
    assert emu.attempts(CHAT) == 1


def _sse_answer(text: str) -> bytes:
    chunks = [
        {"id": "c1", "object": "chat.completion.chunk", "choices": [delta]}
        for delta in (
            {"index": 0, "delta": {"content": text}, "finish_reason": None},
            {"index": 0, "delta": {}, "finish_reason": "stop"},
        )
    ]
    events = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks] + ["data: [DONE]\n\n"]
    return "".join(events).encode()


async def test_an_azure_client_still_posts_to_its_deployment() -> None:
    seen: list[httpx2.URL] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url)
        headers = {"content-type": "text/event-stream"}
        return httpx2.Response(200, headers=headers, content=_sse_answer("From Azure."))

    http_client = httpx2.AsyncClient(transport=httpx2.MockTransport(answer))
    client = openai.AsyncAzureOpenAI(
        api_key="azure-key",
        azure_endpoint="https://example-resource.openai.azure.com",
        api_version="2024-10-21",
        http_client=http_client,
        max_retries=0,
    )
    assert chat_completions_url(client) == CHAT_COMPLETIONS_PATH
    assert (await _answer(client)).text == "From Azure."
    assert [url.path for url in seen] == ["/openai/deployments/gpt-4o/chat/completions"]
    assert seen[0].params["api-version"] == "2024-10-21"
    await client.close()
