"""The Responses dialect: request conversion, the event reader, the loop through the emulator."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.engine import (
    Failed,
    Final,
    ReasoningDelta,
    ServerMemory,
    TextDelta,
    TurnRequest,
    run_turn,
)
from bot.engine.client import make_openai_client, responses_url
from bot.engine.failures import IncompleteStream, ResponseFailed, classify
from bot.engine.model_rules import can_reason, chat_effort, model_family
from bot.engine.responses import (
    REASONING_KEY,
    function_tools,
    instructions_and_input,
    without_reasoning,
)
from bot.engine.responses_stream import ResponsesReader
from bot.settings import OpenAISettings
from bot.testing.openai import (
    FailedReply,
    Fault,
    OpenAIEmulator,
    StreamErrorReply,
    TextReply,
    ToolCall,
)
from tools import ToolContext, tool
from tools.dispatch import Dispatcher
from tools.registry import ToolRegistry

RESPONSES = "/v1/responses"
CHAT = "/v1/chat/completions"
CHAT_TOOL = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Weather.",
        "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
        "strict": True,
    },
}
REASONING = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "enc"}
STORED = [
    {"role": "system", "content": "Be kind."},
    {"role": "system", "content": "Persona: pirate."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "https://cdn.example/a.png"}},
        ],
        "name": "alice",
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
        ],
        REASONING_KEY: {"family": "gpt-5.6", "items": [REASONING]},
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    {"role": "assistant", "content": "It is sunny."},
]


# ---- conversion ---------------------------------------------------------------------------


def test_stored_messages_become_instructions_and_input_items() -> None:
    instructions, items = instructions_and_input(STORED, "gpt-5.6")
    assert instructions == "Be kind.\n\nPersona: pirate."
    assert items == [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "alice:"},
                {"type": "input_text", "text": "What is this?"},
                {"type": "input_image", "image_url": "https://cdn.example/a.png", "detail": "auto"},
            ],
        },
        REASONING,
        {"type": "function_call", "call_id": "call_1", "name": "weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
        {"role": "assistant", "content": "It is sunny."},
    ]


def test_a_named_plain_text_message_keeps_its_speaker() -> None:
    message = {"role": "user", "content": "hi", "name": "bob"}
    assert instructions_and_input([message], "gpt-5.6")[1] == [
        {"role": "user", "content": "bob: hi"}
    ]


def test_reasoning_goes_only_to_the_family_that_made_it() -> None:
    _, items = instructions_and_input(STORED, "gpt-5.5")
    assert all(item.get("type") != "reasoning" for item in items)
    chat = without_reasoning(STORED)
    assert all(REASONING_KEY not in message for message in chat)
    assert chat[0] is STORED[0]  # untouched messages are not copied
    assert REASONING_KEY in STORED[3]  # the stored message itself keeps it


def test_chat_tools_become_flat_strict_function_tools() -> None:
    assert function_tools([CHAT_TOOL]) == [
        {
            "type": "function",
            "name": "weather",
            "description": "Weather.",
            "parameters": CHAT_TOOL["function"]["parameters"],  # type: ignore[index]
            "strict": True,
        }
    ]


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gpt-5.6-terra", "gpt-5.6"),
        ("gpt-5.4-mini", "gpt-5.4"),
        ("o3-mini", "o3"),
        ("llama3", "llama3"),
    ],
)
def test_model_family(model: str, family: str) -> None:
    assert model_family(model) == family


@pytest.mark.parametrize(
    ("model", "configured", "tools", "sent", "explained"),
    [
        ("gpt-5.6-terra", None, True, "none", True),
        ("gpt-5.6-terra", "high", True, "none", True),
        ("gpt-5.6-terra", "high", False, "high", False),
        ("gpt-5.5", None, True, None, False),
        ("gpt-5.5", "low", True, "none", True),
        ("gpt-5.4-mini", "none", True, "none", False),
        ("gpt-4.1", None, True, None, False),
        ("llama3.1", "low", True, "low", False),
    ],
)
def test_chat_effort_follows_openais_table(
    model: str, configured: str | None, tools: bool, sent: str | None, explained: bool
) -> None:
    effort = chat_effort(model, configured, has_tools=tools)
    assert effort.effort == sent
    assert (effort.reason is not None) == explained


def test_responses_url_is_absolute() -> None:
    client = make_openai_client(OpenAISettings(base_url="http://127.0.0.1:9/v1"), "sk")
    assert responses_url(client) == "http://127.0.0.1:9/v1/responses"


# ---- the reader ---------------------------------------------------------------------------


def _terminal(kind: str, reason: str | None = None) -> dict[str, Any]:
    usage = {
        "input_tokens": 40,
        "output_tokens": 30,
        "output_tokens_details": {"reasoning_tokens": 12},
    }
    details = {"reason": reason} if reason else None
    return {"type": kind, "response": {"usage": usage, "incomplete_details": details}}


def test_reader_assembles_text_reasoning_parallel_calls_and_usage() -> None:
    reader = ResponsesReader()
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {}},
        {"type": "response.output_item.added", "output_index": 0, "item": {"type": "reasoning"}},
        {"type": "response.reasoning_summary_text.delta", "delta": "Thinking."},
        {"type": "response.output_item.done", "output_index": 0, "item": {**REASONING, "x": 1}},
        {"type": "response.output_text.delta", "delta": "Let me check."},
        {
            "type": "response.output_item.added",
            "output_index": 2,
            "item": {"type": "function_call", "call_id": "call_a", "name": "weather"},
        },
        {"type": "response.function_call_arguments.delta", "output_index": 2, "delta": '{"pl'},
        {"type": "response.function_call_arguments.delta", "output_index": 2, "delta": 'ace":1}'},
        {
            "type": "response.output_item.added",
            "output_index": 3,
            "item": {"type": "function_call", "call_id": "call_b", "name": "weather"},
        },
        {
            "type": "response.output_item.done",
            "output_index": 3,
            "item": {
                "type": "function_call",
                "call_id": "call_b",
                "name": "weather",
                "arguments": "{}",
            },
        },
        _terminal("response.completed"),
    ]
    deltas = [delta for event in events for delta in reader.take(event)]
    assert deltas == [ReasoningDelta("Thinking."), TextDelta("Let me check.")]
    result = reader.finish()
    assert result.finish_reason == "tool_calls"
    assert [(c["id"], c["function"]["arguments"]) for c in result.tool_calls] == [
        ("call_a", '{"place":1}'),
        ("call_b", "{}"),
    ]
    assert result.reasoning_items == [REASONING]  # only the keys sent back
    assert (result.prompt_tokens, result.completion_tokens, result.reasoning_tokens) == (40, 30, 12)


def test_reader_maps_incomplete_to_finish_reasons() -> None:
    for reason, finish in (("max_output_tokens", "length"), ("content_filter", "content_filter")):
        reader = ResponsesReader()
        reader.take(_terminal("response.incomplete", reason))
        assert reader.finish().finish_reason == finish


def test_reader_without_a_terminal_event_is_incomplete() -> None:
    reader = ResponsesReader()
    reader.take({"type": "response.output_text.delta", "delta": "Half"})
    with pytest.raises(IncompleteStream, match=r"without response\.completed") as caught:
        reader.finish()
    assert classify(caught.value).kind == "incomplete"


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        (
            {
                "type": "response.failed",
                "response": {"error": {"code": "server_error", "message": "x"}},
            },
            "unavailable",
        ),
        ({"type": "error", "code": "rate_limit_exceeded", "message": "slow down"}, "rate_limited"),
        (
            {"type": "error", "code": "context_length_exceeded", "message": "big"},
            "context_too_long",
        ),
    ],
)
def test_failed_responses_classify_like_chat_failures(event: dict[str, Any], kind: str) -> None:
    with pytest.raises(ResponseFailed) as caught:
        ResponsesReader().take(event)
    assert classify(caught.value).kind == kind


# ---- the loop against the emulator --------------------------------------------------------


@pytest.fixture
async def emu() -> AsyncIterator[OpenAIEmulator]:
    async with OpenAIEmulator() as emulator:
        yield emulator
        emulator.assert_no_violations()


def _registry() -> ToolRegistry:
    @tool
    async def weather(ctx: ToolContext, place: str) -> str:
        """Current weather for a place."""
        return f"Sunny in {place}"

    registry = ToolRegistry()
    registry.register(weather)
    return registry


async def _run(emu: OpenAIEmulator, model: str = "gpt-5.6-terra", **fields: Any) -> list[Any]:
    registry = _registry()
    context = ToolContext(user_id=1, user_name="alice", channel_id=2, guild_id=3)
    available = registry.available(context)
    client = make_openai_client(OpenAISettings(base_url=emu.base_url, max_retries=0), "sk-test")

    def make_dispatcher(on_event: Callable[[Any], None]) -> Dispatcher:
        return Dispatcher(registry, context, [t.name for t in available], on_event=on_event)

    request = TurnRequest(
        model=model,
        messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
        tools=registry.openai_tools(available),
        make_dispatcher=make_dispatcher,
        **{"dialect": "responses", **fields},
    )
    try:
        return [event async for event in run_turn(client, request)]
    finally:
        await client.close()


async def test_tool_round_carries_reasoning_and_pairs_outputs(emu: OpenAIEmulator) -> None:
    emu.responses.reply_tool_calls(
        [
            ToolCall("weather", {"place": "Paris"}, id="call_p"),
            ToolCall("weather", {"place": "Oslo"}, id="call_o"),
        ]
    )
    emu.responses.reply_text("Sunny in both.", reasoning_content="Both are sunny.")
    events = await _run(emu, reasoning_effort="low", reasoning_summary=True, max_output_tokens=500)
    final = events[-1]
    assert isinstance(final, Final), final
    assert final.text == "Sunny in both."
    assert final.reasoning.endswith("Both are sunny.")
    first, second = emu.responses.requests
    assert first["instructions"] == "sys"
    assert first["input"] == [{"role": "user", "content": "hi"}]
    assert first["store"] is False and first["include"] == ["reasoning.encrypted_content"]
    assert first["reasoning"] == {"effort": "low", "summary": "auto"}
    assert first["max_output_tokens"] == 500 and first["parallel_tool_calls"] is True
    assert first["tools"][0]["name"] == "weather" and first["tools"][0]["strict"] is True
    kinds = [item.get("type", item.get("role")) for item in second["input"]]
    assert kinds == [
        "user",
        "reasoning",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
    ]
    outputs = {
        i["call_id"]: i["output"]
        for i in second["input"]
        if i.get("type") == "function_call_output"
    }
    assert outputs == {"call_p": "Sunny in Paris", "call_o": "Sunny in Oslo"}
    assistant = final.new_messages[0]
    assert assistant[REASONING_KEY]["family"] == "gpt-5.6"
    assert assistant[REASONING_KEY]["items"][0]["encrypted_content"]
    assert final.usage.reasoning_tokens > 0 and final.usage.requests == 2
    assert emu.attempts(CHAT) == 0


async def test_output_cap_gives_the_cut_short_notice(emu: OpenAIEmulator) -> None:
    emu.responses.reply_text("word " * 200)
    final = (await _run(emu, max_output_tokens=20))[-1]
    assert isinstance(final, Final)
    assert final.notice == "(The answer was cut short: it reached the length limit.)"


@pytest.mark.parametrize(
    ("reply", "kind", "message"),
    [
        (FailedReply(partial_text="Half"), "unavailable", "The AI service is not responding"),
        (StreamErrorReply(code="rate_limit_exceeded"), "rate_limited", "The AI service is busy"),
        (Fault.outage(500), "unavailable", "The AI service is not responding right now."),
        (Fault.rate_limit(), "rate_limited", "The AI service is busy"),
        (Fault.insufficient_quota(), "out_of_credit", "The AI service is unavailable: the bot's"),
        (Fault.context_length_exceeded(), "context_too_long", "This conversation has grown"),
        (TextReply("Some", finish_reason="content_filter"), "content_filtered", "I can't help"),
    ],
)
async def test_failures_end_in_the_same_user_messages(
    emu: OpenAIEmulator, reply: Any, kind: str, message: str
) -> None:
    emu.responses.reply(reply)
    failed = (await _run(emu))[-1]
    assert isinstance(failed, Failed)
    assert failed.kind == kind
    assert failed.user_message.startswith(message)


async def test_a_failed_response_before_any_output_is_retried_once(emu: OpenAIEmulator) -> None:
    emu.responses.reply(FailedReply())
    emu.responses.reply_text("Second try.")
    final = (await _run(emu))[-1]
    assert isinstance(final, Final) and final.text == "Second try."
    assert emu.attempts(RESPONSES) == 2
    emu.responses.reply(FailedReply())
    emu.responses.reply(FailedReply())
    failed = (await _run(emu))[-1]
    assert isinstance(failed, Failed) and failed.kind == "unavailable"
    assert emu.attempts(RESPONSES) == 4


async def test_a_corrupt_event_is_retried_before_output_and_fails_after(
    emu: OpenAIEmulator,
) -> None:
    emu.responses.reply_text("Whole answer.", fault=Fault.corrupt_chunk(after_chunks=2))
    emu.responses.reply_text("Whole answer.")
    final = (await _run(emu))[-1]
    assert isinstance(final, Final) and final.text == "Whole answer."
    emu.responses.reply_text(
        "Whole answer.", chunk_size=2, fault=Fault.corrupt_chunk(after_chunks=8)
    )
    failed = (await _run(emu))[-1]
    assert isinstance(failed, Failed) and failed.kind == "corrupt_stream"
    assert failed.partial_text == "Whol"
    assert emu.attempts(RESPONSES) == 3


async def test_a_cut_stream_is_retried_once(emu: OpenAIEmulator) -> None:
    emu.responses.reply_text("Whole answer.", fault=Fault.cut_stream(after_chunks=3))
    emu.responses.reply_text("Whole answer.")
    final = (await _run(emu))[-1]
    assert isinstance(final, Final) and final.text == "Whole answer."
    assert emu.attempts(RESPONSES) == 2


async def test_chat_dialect_sends_effort_none_and_logs_why_once(
    emu: OpenAIEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    memory = ServerMemory()  # the warning is once per bot: the same bot runs both turns
    emu.chat.reply_text("ok")
    emu.chat.reply_text("ok")
    with caplog.at_level(logging.WARNING, logger="toolcord.engine"):
        for _ in range(2):
            final = (await _run(emu, model="gpt-5.6-sol", dialect="chat", server_memory=memory))[-1]
            assert isinstance(final, Final) and final.text == "ok"
    assert [r["reasoning_effort"] for r in emu.chat.requests] == ["none", "none"]
    explained = [
        r.getMessage() for r in caplog.records if "reasoning_effort 'none'" in r.getMessage()
    ]
    assert len(explained) == 1
    assert "gpt-5.6-sol" in explained[0] and 'openai.api_dialect = "responses"' in explained[0]


async def test_an_invalid_request_reaches_the_owner_log_verbatim(
    emu: OpenAIEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    # A configured effort on the responses dialect of a model that cannot reason: OpenAI says so.
    with caplog.at_level(logging.ERROR, logger="toolcord.engine"):
        failed = (await _run(emu, model="gpt-4.1", reasoning_effort="low"))[-1]
    assert isinstance(failed, Failed) and failed.kind == "invalid_request"
    assert failed.user_message == (
        "The AI service refused the bot's request, so the bot's settings need a change. "
        "The bot owner has been told."
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "owner action needed" in logged
    assert "Unsupported parameter: 'reasoning.effort' is not supported with this model." in logged
    assert "param=reasoning.effort" in logged


async def test_a_model_that_cannot_reason_is_not_asked_for_encrypted_reasoning(
    emu: OpenAIEmulator,
) -> None:
    emu.responses.reply_text("Hi.")
    final = (await _run(emu, model="gpt-4.1"))[-1]
    assert isinstance(final, Final) and final.text == "Hi."
    (request,) = emu.responses.requests
    assert "include" not in request and request["store"] is False


@pytest.mark.parametrize(
    ("model", "reasons"),
    [("gpt-5.4-mini", True), ("gpt-5", True), ("gpt-6", True), ("o3", True), ("gpt-4.1", False)],
)
def test_can_reason(model: str, reasons: bool) -> None:
    assert can_reason(model) is reasons


def test_the_hosted_web_search_stands_in_for_the_web_search_tool() -> None:
    search = {"type": "function", "function": {"name": "web_search", "parameters": {}}}
    flat = function_tools([search, CHAT_TOOL], hosted=("web_search",))
    assert flat[0] == {"type": "web_search"}
    assert flat[1]["name"] == "weather"
    assert function_tools([search])[0]["type"] == "function"  # only when asked


def test_url_citations_become_a_sources_list_under_the_answer() -> None:
    reader = ResponsesReader()
    citation = {
        "type": "url_citation",
        "url": "https://example.org/a",
        "title": "An\n  example ",
        "start_index": 0,
        "end_index": 4,
    }
    events: list[dict[str, Any]] = [
        {"type": "response.output_text.delta", "delta": "Answer."},
        {"type": "response.output_text.annotation.added", "annotation": citation},
        {"type": "response.output_text.annotation.added", "annotation": citation},
        _terminal("response.completed"),
    ]
    deltas = [delta for event in events for delta in reader.take(event)]
    footer = "\n\nSources:\n- An example: https://example.org/a"
    assert deltas == [TextDelta("Answer."), TextDelta(footer)]
    assert reader.finish().text == "Answer." + footer
