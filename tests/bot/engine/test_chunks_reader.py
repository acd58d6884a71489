"""StreamReader on plain chunk dicts, and the same behaviours end to end through the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.engine import Final, ReasoningDelta, TextDelta, TurnRequest, run_turn
from bot.engine.client import make_openai_client
from bot.engine.failures import CorruptStream, IncompleteStream, classify
from bot.engine.stream import StreamReader
from bot.settings import OpenAISettings
from bot.testing.openai import OpenAIEmulator, ToolCall


def _chunk(delta: dict[str, Any] | None = None, finish: str | None = None) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "c1", "object": "chat.completion.chunk", "choices": choices, "usage": None}


def _call(index: int, **fields: Any) -> dict[str, Any]:
    return {"tool_calls": [{"index": index, **fields}]}


def test_text_refusal_and_reasoning_deltas_in_order() -> None:
    reader = StreamReader()
    taken = [
        *reader.take(_chunk({"role": "assistant", "content": "", "refusal": None})),
        *reader.take(_chunk({"reasoning_content": "think "})),
        *reader.take(_chunk({"reasoning": "more"})),
        *reader.take(_chunk({"content": "Hi"})),
        *reader.take(_chunk({"refusal": " no"})),
        *reader.take(_chunk({}, "stop")),
    ]
    assert taken == [
        ReasoningDelta("think "),
        ReasoningDelta("more"),
        TextDelta("Hi"),
        TextDelta(" no"),
    ]
    result = reader.finish()
    assert (result.text, result.reasoning, result.finish_reason) == ("Hi no", "think more", "stop")


def test_tool_calls_are_assembled_by_index_even_interleaved() -> None:
    reader = StreamReader()
    head = {"type": "function", "function": {"name": "weather", "arguments": ""}}
    for delta in (
        _call(1, id="call_b", **head),
        _call(0, id="call_a", **head),
        _call(0, function={"arguments": '{"place": "Par'}),
        _call(1, function={"arguments": '{"place": "Oslo"}'}),
        _call(0, function={"arguments": 'is"}'}),
        _call(2, function={"name": "weather", "arguments": "{}"}),
    ):
        assert reader.take(_chunk(delta)) == []
    reader.take(_chunk({}, "tool_calls"))
    calls = reader.finish().tool_calls
    assert [(c["id"], c["function"]["arguments"]) for c in calls] == [
        ("call_a", '{"place": "Paris"}'),
        ("call_b", '{"place": "Oslo"}'),
        ("call_c1_2", "{}"),
    ]
    assert all(c["type"] == "function" and c["function"]["name"] == "weather" for c in calls)


def test_usage_comes_from_the_last_chunk_without_choices() -> None:
    reader = StreamReader()
    reader.take(_chunk({"content": "x"}))
    reader.take(_chunk({}, "length"))
    reader.take({**_chunk(), "usage": {"prompt_tokens": 11, "completion_tokens": 4}})
    result = reader.finish()
    assert (result.prompt_tokens, result.completion_tokens, result.finish_reason) == (
        11,
        4,
        "length",
    )


def test_no_finish_reason_is_incomplete() -> None:
    reader = StreamReader()
    reader.take(_chunk({"content": "half"}))
    with pytest.raises(IncompleteStream):
        reader.finish()


@pytest.mark.parametrize(
    "chunk",
    [[1], "text", {"choices": [None]}, {"choices": [{"delta": "text"}]}],
    ids=["list", "string", "choice-not-an-object", "delta-shape-wrong"],
)
def test_a_chunk_of_the_wrong_shape_is_corrupt(chunk: Any) -> None:
    reader = StreamReader()
    with pytest.raises(CorruptStream) as raised:
        reader.take(chunk)
    assert classify(raised.value).retryable


def test_corrupt_after_content_is_not_retryable() -> None:
    reader = StreamReader()
    reader.take(_chunk({"role": "assistant", "content": ""}))
    assert not reader.delivered
    reader.take(_chunk(_call(0, id="call_a", function={"name": "weather"})))
    assert reader.delivered
    with pytest.raises(CorruptStream) as raised:
        reader.take(_chunk({"tool_calls": [{"index": "0", "id": "index not a number"}]}))
    failure = classify(raised.value)
    assert (failure.kind, failure.retryable) == ("corrupt_stream", False)


@pytest.fixture
async def emu() -> AsyncIterator[OpenAIEmulator]:
    async with OpenAIEmulator() as emulator:
        yield emulator
        emulator.assert_no_violations()


async def _events(emu: OpenAIEmulator, **request: Any) -> list[Any]:
    client = make_openai_client(OpenAISettings(base_url=emu.base_url, max_retries=0), "sk-test")
    turn = TurnRequest(
        model="gpt-5.4-mini",
        messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
        **request,
    )
    try:
        return [event async for event in run_turn(client, turn)]
    finally:
        await client.close()


async def test_reasoning_and_usage_through_the_sdk(emu: OpenAIEmulator) -> None:
    emu.chat.reply_text("The answer.", reasoning_content="Let me think.", chunk_size=4)
    events = await _events(emu)
    final = events[-1]
    assert isinstance(final, Final)
    assert final.text == "The answer."
    assert final.reasoning == "Let me think."
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "The answer."
    assert final.usage.prompt_tokens > 0 and final.usage.completion_tokens > 0


async def test_refusal_is_shown_through_the_sdk(emu: OpenAIEmulator) -> None:
    emu.chat.reply_refusal("I can't help with that.")
    events = await _events(emu)
    final = events[-1]
    assert isinstance(final, Final)
    assert final.text == "I can't help with that."


async def test_tool_calls_through_the_sdk_are_sent_back_by_id(emu: OpenAIEmulator) -> None:
    emu.chat.reply_tool_calls(
        [
            ToolCall("weather", {"place": "Paris"}, id="call_a"),
            ToolCall("weather", {"place": "Oslo"}, id="call_b"),
        ],
        chunk_size=5,
    )
    emu.chat.reply_text("Done.")
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {}}}]
    events = await _events(emu, tools=tools)
    assert isinstance(events[-1], Final)
    assistant = next(m for m in emu.chat.requests[1]["messages"] if m.get("tool_calls"))
    assert [(c["id"], c["function"]["arguments"]) for c in assistant["tool_calls"]] == [
        ("call_a", '{"place":"Paris"}'),
        ("call_b", '{"place":"Oslo"}'),
    ]
