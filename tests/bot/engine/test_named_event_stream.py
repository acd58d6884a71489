"""The Responses stream's own SSE splitting: only wanted events decoded, chunk borders anywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import openai
import pytest

from bot.engine.client import NamedEventStream, _wanted_data

BODY = (
    b"event: response.created\n"
    b'data: {"type": "response.created", "response": {"tools": ["big"]}}\n\n'
    b"event: response.output_text.delta\n"
    b'data: {"type": "response.output_text.delta", "delta": "H\\u00e9llo"}\n\n'
    b"event: response.output_text.delta\r\n"
    b'data: {"type": "response.output_text.delta",\r\n'
    b'data:  "delta": " there"}\r\n\r\n'
    b'data: {"unnamed": true}\n\n'
    b"event: response.completed\n"
    b'data: {"type": "response.completed"}'
)


class _Deltas(NamedEventStream):
    wanted = frozenset({"response.output_text.delta", "response.completed"})


async def _read(chunk_size: int) -> list[object]:
    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(BODY), chunk_size):
            yield BODY[start : start + chunk_size]

    request = httpx2.Request("POST", "http://127.0.0.1/v1/responses")
    response = httpx2.Response(200, content=body(), request=request)
    client = openai.AsyncOpenAI(api_key="sk", base_url="http://127.0.0.1/v1")
    stream = _Deltas(cast_to=object, response=response, client=client)
    return [event async for event in stream]


@pytest.mark.parametrize("chunk_size", [1, 7, 64, len(BODY)])
async def test_only_wanted_events_are_decoded_whatever_the_chunking(chunk_size: int) -> None:
    assert await _read(chunk_size) == [
        {"type": "response.output_text.delta", "delta": "Héllo"},
        {"type": "response.output_text.delta", "delta": " there"},
        {"type": "response.completed"},
    ]


def test_an_unwanted_event_is_not_decoded() -> None:
    wanted = frozenset({b"response.completed"})
    assert _wanted_data(b"event: response.created\ndata: {not json", wanted) is None
    assert _wanted_data(b"event: response.completed", wanted) is None  # no data
    assert _wanted_data(b"event:response.completed\ndata:{}", wanted) == b"{}"
