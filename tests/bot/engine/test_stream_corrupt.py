"""A stream broken by an unreadable chunk, through the real openai client.

Rule: a stream that breaks before it delivered any text, reasoning or tool-call delta is asked once
more, as a cut stream is; after visible text the answer ends with that text and the error.
The OpenAI emulator's ``corrupt_chunk`` fault sends a ``data:`` line that is not JSON; the raw
loopback server below sends lines the emulator cannot (bytes that are not UTF-8, JSON that is not
a chunk, an SSE error event).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bot.engine import Failed, Final, RoundReset, TextDelta, TurnRequest, run_turn
from bot.engine.client import make_openai_client
from bot.settings import OpenAISettings
from bot.testing.openai import Fault, OpenAIEmulator, ToolCall

WENT_WRONG = "Something went wrong"


@pytest.fixture
async def emu() -> AsyncIterator[OpenAIEmulator]:
    async with OpenAIEmulator() as emulator:
        yield emulator


async def _events(base_url: str) -> list[Any]:
    client = make_openai_client(OpenAISettings(base_url=base_url, max_retries=0), "sk-test")
    request = TurnRequest(
        model="gpt-5.4-mini",
        messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
        tools=[{"type": "function", "function": {"name": "weather", "parameters": {}}}],
    )
    try:
        return [event async for event in run_turn(client, request)]
    finally:
        await client.close()


def _shown(events: list[Any]) -> str:
    """The visible text as a front end would show it (RoundReset replaces what was shown)."""
    text = ""
    for event in events:
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, RoundReset):
            text = event.text
    return text


@pytest.mark.parametrize("after_chunks", [0, 1], ids=["first-line", "after-role-chunk"])
async def test_corrupt_chunk_before_content_is_retried_once(
    emu: OpenAIEmulator, after_chunks: int
) -> None:
    emu.chat.reply_text("Broken.", fault=Fault.corrupt_chunk(after_chunks))
    emu.chat.reply_text("The whole answer.")
    events = await _events(emu.base_url)
    final = events[-1]
    assert isinstance(final, Final), final
    assert final.text == "The whole answer."
    assert _shown(events) == "The whole answer."
    assert final.usage.requests == 2
    assert len(emu.chat.requests) == 2
    emu.assert_no_violations()


async def test_corrupt_chunk_twice_before_content_fails_after_one_retry(
    emu: OpenAIEmulator,
) -> None:
    emu.chat.reply_text("Broken.", fault=Fault.corrupt_chunk(0))
    emu.chat.reply_text("Broken again.", fault=Fault.corrupt_chunk(0))
    emu.chat.reply_text("Never asked for.")
    events = await _events(emu.base_url)
    failed = events[-1]
    assert isinstance(failed, Failed), failed
    assert failed.kind == "corrupt_stream"
    assert WENT_WRONG in failed.user_message
    assert failed.partial_text == ""
    assert len(emu.chat.requests) == 2


async def test_corrupt_chunk_after_visible_text_keeps_the_text_and_is_not_retried(
    emu: OpenAIEmulator,
) -> None:
    # chunk_size 6: the role chunk, then "Hello,", then the corrupt line.
    emu.chat.reply_text("Hello, world.", chunk_size=6, fault=Fault.corrupt_chunk(2))
    emu.chat.reply_text("Never asked for.")
    events = await _events(emu.base_url)
    failed = events[-1]
    assert isinstance(failed, Failed), failed
    assert failed.kind == "corrupt_stream"
    assert WENT_WRONG in failed.user_message
    assert failed.partial_text == "Hello,"
    assert _shown(events) == "Hello,"
    assert len(emu.chat.requests) == 1


async def test_corrupt_chunk_after_a_tool_call_delta_is_not_retried(emu: OpenAIEmulator) -> None:
    emu.chat.reply_tool_calls(
        [ToolCall("weather", {"place": "Paris"}, id="call_a")], fault=Fault.corrupt_chunk(2)
    )
    emu.chat.reply_text("Never asked for.")
    events = await _events(emu.base_url)
    failed = events[-1]
    assert isinstance(failed, Failed), failed
    assert failed.kind == "corrupt_stream"
    assert failed.new_messages == []
    assert len(emu.chat.requests) == 1


class RawModel:
    """A loopback server answering each chat request with the next scripted SSE body, as is."""

    def __init__(self, bodies: list[bytes]) -> None:
        self.bodies = list(bodies)
        self.requests = 0
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> RawModel:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.requests += 1
        body = self.bodies.pop(0)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(body)
        await response.write_eof()
        return response


def _event(data: Any) -> bytes:
    return b"data: " + json.dumps(data).encode() + b"\n\n"


def _text_stream(text: str) -> bytes:
    def chunk(delta: dict[str, Any] | None, finish: str | None = None) -> dict[str, Any]:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        return {"id": "c1", "object": "chat.completion.chunk", "choices": choices}

    usage = {**chunk(None), "usage": {"prompt_tokens": 7, "completion_tokens": 3}}
    parts = [chunk({"role": "assistant", "content": text}), chunk({}, "stop"), usage]
    return b"".join(_event(part) for part in parts) + b"data: [DONE]\n\n"


@pytest.mark.parametrize(
    "broken",
    [
        b"data: \xff\xfe not utf-8\n\n",
        _event([1, 2, 3]),
        _event({"choices": [{"delta": {"tool_calls": [{"index": "0", "function": {}}]}}]}),
        _event({"choices": "not a list"}),
    ],
    ids=["not-utf8", "json-not-an-object", "tool-call-index-not-a-number", "choices-not-a-list"],
)
async def test_unreadable_first_chunk_is_retried_once(broken: bytes) -> None:
    async with RawModel([broken + _text_stream("late"), _text_stream("Fine.")]) as model:
        events = await _events(model.base_url)
    final = events[-1]
    assert isinstance(final, Final), final
    assert final.text == "Fine."
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (7, 3)
    assert model.requests == 2


async def test_error_event_in_the_stream_is_retried_as_incomplete() -> None:
    error = _event({"error": {"message": "server overloaded", "type": "server_error"}})
    async with RawModel([error, error]) as model:
        events = await _events(model.base_url)
    failed = events[-1]
    assert isinstance(failed, Failed), failed
    assert failed.kind == "incomplete"
    assert model.requests == 2
