"""The tool-call loop, through the real openai client and the OpenAI emulator.

Each case checks what reached the emulator: every tool_call_id answered in the next request, no bad
call executed, and the loop ending in exactly one Final or Failed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import pytest
from pydantic import Field

from bot.engine import Failed, Final, LoopLimits, ToolDone, ToolStatus, TurnRequest, run_turn
from bot.engine.client import make_openai_client
from bot.settings import OpenAISettings
from bot.testing.openai import Fault, OpenAIEmulator, ToolCall
from tools import Permissions, ToolContext, ToolFailed, tool
from tools.dispatch import Dispatcher
from tools.ledger import InMemoryLedger
from tools.registry import ToolRegistry

CHAT = "/v1/chat/completions"


class Calls:
    """Records tool executions with their times."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, dict[str, Any], float, float]] = []


def _registry(calls: Calls) -> ToolRegistry:
    @tool(progress="Checking the weather in {place}...")
    async def weather(
        ctx: ToolContext, place: Annotated[str, Field(description="A place name")]
    ) -> str:
        """Current weather for a place."""
        start = time.monotonic()
        await asyncio.sleep(0.3)
        calls.runs.append(("weather", {"place": place}, start, time.monotonic()))
        return f"Sunny in {place}"

    @tool
    async def broken(ctx: ToolContext, x: int) -> str:
        """Always fails."""
        calls.runs.append(("broken", {"x": x}, 0, 0))
        raise RuntimeError("secret internal detail /etc/passwd")

    @tool(timeout=0.2)
    async def slow(ctx: ToolContext) -> str:
        """Takes too long."""
        calls.runs.append(("slow", {}, 0, 0))
        await asyncio.sleep(5)
        return "never"

    @tool(timeout=60)
    async def stalled(ctx: ToolContext) -> str:
        """Runs past any turn deadline."""
        calls.runs.append(("stalled", {}, 0, 0))
        await asyncio.sleep(60)
        return "never"

    @tool(required_permissions=("moderate_members",))
    async def timeout_member(ctx: ToolContext, user_id: int) -> str:
        """Time out a member."""
        calls.runs.append(("timeout_member", {"user_id": user_id}, 0, 0))
        return "done"

    @tool(side_effects=True)
    async def post_note(ctx: ToolContext, text: str) -> str:
        """Post a note (side effect)."""
        calls.runs.append(("post_note", {"text": text}, 0, 0))
        return "posted"

    @tool
    async def fails_cleanly(ctx: ToolContext) -> str:
        """Fails with a reason the model may read."""
        raise ToolFailed("the weather service is down")

    registry = ToolRegistry()
    for item in (weather, broken, slow, stalled, timeout_member, post_note, fails_cleanly):
        registry.register(item)
    return registry


@pytest.fixture
async def emu() -> AsyncIterator[OpenAIEmulator]:
    async with OpenAIEmulator() as emulator:
        yield emulator
        emulator.assert_no_violations()


def _context(permissions: Permissions | None = None) -> ToolContext:
    return ToolContext(
        user_id=1,
        user_name="alice",
        channel_id=2,
        guild_id=3,
        member_permissions=permissions or Permissions.from_names("send_messages"),
        conversation_id="c1",
        turn_id="t1",
    )


async def _run(
    emu: OpenAIEmulator,
    calls: Calls,
    *,
    limits: LoopLimits | None = None,
    ledger: InMemoryLedger | None = None,
    context: ToolContext | None = None,
    max_retries: int = 0,
    round_gate: Callable[[int], Awaitable[str | None]] | None = None,
) -> list[Any]:
    registry = _registry(calls)
    context = context or _context()
    available = registry.available(context)
    client = make_openai_client(
        OpenAISettings(base_url=emu.base_url, max_retries=max_retries), "sk-test"
    )

    def make_dispatcher(on_event: Callable[[Any], None]) -> Dispatcher:
        return Dispatcher(
            registry, context, [t.name for t in available], ledger=ledger, on_event=on_event
        )

    request = TurnRequest(
        model="gpt-5.4-mini",
        messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
        tools=registry.openai_tools(available),
        make_dispatcher=make_dispatcher,
        limits=limits or LoopLimits(),
        round_gate=round_gate,
    )
    try:
        return [event async for event in run_turn(client, request)]
    finally:
        await client.close()


def _tool_results(request: dict[str, Any]) -> dict[str, str]:
    return {m["tool_call_id"]: m["content"] for m in request["messages"] if m["role"] == "tool"}


def _assistant_call_ids(request: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    for message in request["messages"]:
        ids += [call["id"] for call in message.get("tool_calls") or []]
    return ids


async def test_two_parallel_weather_calls_overlap_and_are_answered(emu: OpenAIEmulator) -> None:
    calls = Calls()
    emu.chat.reply_tool_calls(
        [
            ToolCall("weather", {"place": "Paris"}, id="call_paris"),
            ToolCall("weather", {"place": "Oslo"}, id="call_oslo"),
        ]
    )
    emu.chat.reply_text("Paris is sunny and so is Oslo.")
    events = await _run(emu, calls)
    final = events[-1]
    assert isinstance(final, Final)
    assert final.text == "Paris is sunny and so is Oslo."
    (_, _, start_a, end_a), (_, _, start_b, end_b) = calls.runs
    assert start_a < end_b and start_b < end_a, "the two calls must overlap in time"
    second = emu.chat.requests[1]
    assistant = next(m for m in second["messages"] if m.get("tool_calls"))
    assert [c["id"] for c in assistant["tool_calls"]] == ["call_paris", "call_oslo"]
    assert _tool_results(second) == {"call_paris": "Sunny in Paris", "call_oslo": "Sunny in Oslo"}
    progress = [e.text for e in events if isinstance(e, ToolStatus)]
    assert sorted(progress) == [
        "Checking the weather in Oslo...",
        "Checking the weather in Paris...",
    ]
    assert len([e for e in events if isinstance(e, ToolDone)]) == 2
    assert [m["role"] for m in final.new_messages] == ["assistant", "tool", "tool", "assistant"]


@pytest.mark.parametrize(
    ("call", "expect_in_result"),
    [
        (ToolCall("weather", '{"place": "Par', id="call_bad"), "JSON"),
        (ToolCall("weather", {"city": "Paris"}, id="call_bad"), "place"),
        (ToolCall("no_such_tool", {}, id="call_bad"), "weather"),
        (ToolCall("broken", {"x": 1}, id="call_bad"), "internal error"),
        (ToolCall("slow", {}, id="call_bad"), "timed out"),
        (ToolCall("timeout_member", {"user_id": 5}, id="call_bad"), "not available"),
        (ToolCall("fails_cleanly", {}, id="call_bad"), "weather service is down"),
    ],
    ids=[
        "malformed-json",
        "schema-break",
        "unknown-tool",
        "raises",
        "times-out",
        "disallowed",
        "tool-failed",
    ],
)
async def test_bad_calls_are_answered_and_never_run_badly(
    emu: OpenAIEmulator, call: ToolCall, expect_in_result: str
) -> None:
    calls = Calls()
    emu.chat.reply_tool_calls([call, ToolCall("weather", {"place": "Rome"}, id="call_ok")])
    emu.chat.reply_text("Here is what I found.")
    events = await _run(emu, calls)
    assert isinstance(events[-1], Final)
    results = _tool_results(emu.chat.requests[1])
    assert set(results) == {"call_bad", "call_ok"}
    assert expect_in_result.lower() in results["call_bad"].lower()
    assert "/etc/passwd" not in results["call_bad"]
    assert results["call_ok"] == "Sunny in Rome"
    ran = [name for name, *_ in calls.runs]
    assert "timeout_member" not in ran
    assert ran.count("weather") == 1


async def test_round_bound_ends_gracefully_with_every_call_answered(emu: OpenAIEmulator) -> None:
    calls = Calls()
    for n in range(3):
        emu.chat.reply_tool_calls([ToolCall("weather", {"place": f"P{n}"}, id=f"call_{n}")])
    emu.chat.reply_text("Final words.")
    events = await _run(emu, calls, limits=LoopLimits(max_rounds=3))
    final = events[-1]
    assert isinstance(final, Final)
    assert len(emu.chat.requests) == 3
    last = emu.chat.requests[-1]
    assert last["tool_choice"] == "none"
    assert set(_tool_results(last)) == set(_assistant_call_ids(last)) == {"call_0", "call_1"}


async def test_tool_call_budget_answers_calls_over_it(emu: OpenAIEmulator) -> None:
    calls = Calls()
    emu.chat.reply_tool_calls(
        [ToolCall("weather", {"place": f"P{n}"}, id=f"call_{n}") for n in range(4)]
    )
    emu.chat.reply_text("ok")
    await _run(emu, calls, limits=LoopLimits(max_tool_calls=2))
    results = _tool_results(emu.chat.requests[1])
    assert set(results) == {"call_0", "call_1", "call_2", "call_3"}
    assert "limit" in results["call_3"]
    assert len(calls.runs) == 2


async def test_stream_cut_before_finish_reason_is_retried_once_then_fails(
    emu: OpenAIEmulator,
) -> None:
    calls = Calls()
    emu.chat.reply_text("partial answer that", fault=Fault.cut_stream(after_chunks=1))
    emu.chat.reply_text("again cut", fault=Fault.cut_stream(after_chunks=1))
    events = await _run(emu, calls)
    outcome = events[-1]
    assert isinstance(outcome, Failed)
    assert outcome.kind == "incomplete"
    assert "cut off" in outcome.user_message
    assert len(emu.chat.requests) == 2


async def test_stream_cut_then_success_delivers_the_full_answer(emu: OpenAIEmulator) -> None:
    calls = Calls()
    emu.chat.reply_text("partial", fault=Fault.cut_stream(after_chunks=1))
    emu.chat.reply_text("The complete answer.")
    events = await _run(emu, calls)
    assert isinstance(events[-1], Final)
    assert events[-1].text == "The complete answer."


async def test_length_truncated_tool_calls_are_not_run(emu: OpenAIEmulator) -> None:
    calls = Calls()
    emu.chat.reply_tool_calls(
        [ToolCall("post_note", '{"text": "hal', id="call_cut")], finish_reason="length"
    )
    events = await _run(emu, calls)
    assert isinstance(events[-1], Final)
    assert "length limit" in events[-1].notice
    assert calls.runs == []
    assert len(emu.chat.requests) == 1


async def test_side_effect_not_repeated_when_the_model_request_is_retried(
    emu: OpenAIEmulator,
) -> None:
    calls = Calls()
    ledger = InMemoryLedger()
    emu.chat.reply_tool_calls([ToolCall("post_note", {"text": "hello"}, id="call_a")])
    emu.chat.reply_text("cut", fault=Fault.cut_stream(after_chunks=1))
    emu.chat.reply_tool_calls([ToolCall("post_note", {"text": "hello"}, id="call_b")])
    emu.chat.reply_text("Posted once.")
    events = await _run(emu, calls, ledger=ledger)
    assert isinstance(events[-1], Final)
    assert [name for name, *_ in calls.runs] == ["post_note"]
    results = _tool_results(emu.chat.requests[-1])
    assert results["call_a"] == "posted"
    assert "call_b" in results


async def test_rate_limit_is_retried_by_the_sdk_then_answers(emu: OpenAIEmulator) -> None:
    calls = Calls()
    emu.chat.reply_fault(Fault.rate_limit(retry_after=0.05, times=2))
    emu.chat.reply_text("Made it.")
    events = await _run(emu, calls, max_retries=2)
    assert isinstance(events[-1], Final)
    assert emu.retry_counts(CHAT) == [0, 1, 2]


async def test_out_of_credit_is_not_retried(emu: OpenAIEmulator) -> None:
    calls = Calls()
    emu.chat.reply_fault(Fault.insufficient_quota())
    events = await _run(emu, calls, max_retries=2)
    outcome = events[-1]
    assert isinstance(outcome, Failed) and outcome.kind == "out_of_credit"
    assert emu.attempts(CHAT) == 1


async def test_content_filter_becomes_a_polite_failure(emu: OpenAIEmulator) -> None:
    calls = Calls()
    emu.chat.reply_content_filter("Some")
    events = await _run(emu, calls)
    outcome = events[-1]
    assert isinstance(outcome, Failed) and outcome.kind == "content_filtered"


async def test_deadline_answers_with_what_it_has(emu: OpenAIEmulator) -> None:
    calls = Calls()
    emu.chat.reply_tool_calls([ToolCall("stalled", {}, id="call_slow")], content="Let me look.")
    # The deadline falls while the stalled tool runs; 2.5 s leaves the first round time to
    # stream its text even on a loaded machine (0.1 s did not, and the turn then had no text).
    events = await _run(emu, calls, limits=LoopLimits(deadline_s=2.5))
    outcome = events[-1]
    assert isinstance(outcome, Final)
    assert outcome.text.startswith("Let me look.")
    assert "out of time" in outcome.notice
    assert all(not m.get("tool_calls") for m in outcome.new_messages), json.dumps(
        outcome.new_messages
    )


async def test_a_round_gate_stops_the_turn_before_its_next_round(emu: OpenAIEmulator) -> None:
    """Issue 16: the quota gate is asked before every round after the first, with the usage."""
    calls, asked = Calls(), []
    usage = {"prompt_tokens": 900, "completion_tokens": 100}
    emu.chat.reply_tool_calls([ToolCall("weather", {"place": "P0"}, id="call_0")], usage=usage)
    emu.chat.reply_tool_calls([ToolCall("weather", {"place": "P1"}, id="call_1")], usage=usage)
    emu.chat.reply_text("never sent")

    async def gate(used: int) -> str | None:
        asked.append(used)
        return "The budget is spent." if used >= 2000 else None

    events = await _run(emu, calls, round_gate=gate)
    stopped = events[-1]
    assert isinstance(stopped, Failed)
    assert (stopped.kind, stopped.user_message) == ("stopped", "The budget is spent.")
    assert asked == [1000, 2000] and len(emu.chat.requests) == 2
    assert stopped.usage.prompt_tokens + stopped.usage.completion_tokens == 2000
    assert [m.get("tool_call_id") for m in stopped.new_messages if m["role"] == "tool"] == [
        "call_0",
        "call_1",
    ]


async def test_a_stopped_turn_keeps_the_text_it_showed(emu: OpenAIEmulator) -> None:
    emu.chat.reply_tool_calls(
        [ToolCall("weather", {"place": "P0"}, id="call_0")], content="Looking it up."
    )

    async def gate(used: int) -> str | None:
        return "The budget is spent."

    events = await _run(emu, Calls(), round_gate=gate)
    final = events[-1]
    assert isinstance(final, Final)
    assert (final.text, final.notice) == ("Looking it up.", "(The budget is spent.)")
    assert len(emu.chat.requests) == 1


async def test_text_complete_comes_once_after_the_last_text_and_before_the_final(
    emu: OpenAIEmulator,
) -> None:
    emu.chat.reply_tool_calls([ToolCall("weather", {"place": "Oslo"}, id="c1")])
    emu.chat.reply_text("Sunny in Oslo.", chunk_size=4)
    events = await _run(emu, Calls())
    kinds = [type(event).__name__ for event in events]
    assert kinds.count("TextComplete") == 1
    complete = kinds.index("TextComplete")
    assert "ToolDone" in kinds[:complete], "a tool round's end is not the end of the text"
    assert kinds[complete - 1] == "TextDelta" and kinds[complete + 1 :] == ["Final"]
    text = "".join(e.text for e in events[:complete] if type(e).__name__ == "TextDelta")
    assert text == events[-1].text == "Sunny in Oslo."
