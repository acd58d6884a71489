"""Window assembly (window.py), backend-free: budgets, tool rounds, trimming, order."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store.models import Turn
from bot.store.tokens import TokenCounter
from bot.store.window import (
    TRIM_MARKER,
    ExchangeTurns,
    Window,
    assemble_window,
    group_by_exchange,
    participant_name,
)

from .helpers import tool_call

COUNTER = TokenCounter()
EPOCH = datetime(2030, 1, 1, tzinfo=UTC)


def _turn(exchange: int, seq: int, role: str, content: str | None, **extra: Any) -> Turn:
    values: dict[str, Any] = {
        "id": exchange * 100 + seq,
        "conversation_id": 1,
        "exchange_id": exchange,
        "seq": seq,
        "role": role,
        "content": content,
        "parts": [],
        "author_id": 1 if role == "user" else None,
        "author_name": "alice" if role == "user" else None,
        "name": None,
        "tool_calls": [],
        "tool_call_id": None,
        "status": "complete",
        "token_estimate": None,
        "prompt_tokens": None,
        "completion_tokens": None,
        "source_message_id": None,
        "sent_message_ids": [],
        "created_at": EPOCH,
    }
    values.update(extra)
    return Turn(**values)


def plain_exchange(number: int, words: int = 5) -> ExchangeTurns:
    """A question and an answer."""
    text = " ".join(["word"] * words)
    return ExchangeTurns(
        number,
        [
            _turn(number, 0, "user", f"q{number} {text}"),
            _turn(number, 1, "assistant", f"a{number}"),
        ],
    )


def tool_exchange(number: int, rounds: int = 1, result: str = "sunny") -> ExchangeTurns:
    """A question, ``rounds`` tool rounds with two calls each, and a final answer."""
    turns = [_turn(number, 0, "user", f"q{number}")]
    for index in range(rounds):
        ids = [f"c{number}_{index}_a", f"c{number}_{index}_b"]
        calls = [tool_call(call_id, place="Paris") for call_id in ids]
        turns.append(_turn(number, len(turns), "assistant", None, tool_calls=calls))
        for call_id in ids:
            turns.append(_turn(number, len(turns), "tool", result, tool_call_id=call_id))
    turns.append(_turn(number, len(turns), "assistant", f"a{number}"))
    return ExchangeTurns(number, turns)


async def _batches(
    exchanges: Sequence[ExchangeTurns], size: int = 3, read: list[int] | None = None
) -> AsyncGenerator[list[ExchangeTurns], None]:
    for start in range(0, len(exchanges), size):
        if read is not None:
            read.append(start)
        yield list(exchanges[start : start + size])


async def build(
    older_newest_first: Sequence[ExchangeTurns],
    budget: int,
    current: Sequence[Turn] = (),
    system: Sequence[str] = ("You are toolcord.",),
    **options: Any,
) -> Window:
    return await assemble_window(
        _batches(older_newest_first), current, budget, COUNTER, system, **options
    )


def check_structure(messages: list[dict[str, Any]]) -> None:
    """Every tool message answers the assistant message before it; every call is answered."""
    body = [message for message in messages if message["role"] != "system"]
    assert not body or body[0]["role"] != "tool"
    open_calls: set[str] = set()
    for message in body:
        if message["role"] == "tool":
            assert message["tool_call_id"] in open_calls
            open_calls.discard(message["tool_call_id"])
            continue
        assert not open_calls, f"unanswered calls {open_calls}"
        if message["role"] == "assistant" and message.get("tool_calls"):
            open_calls = {call["id"] for call in message["tool_calls"]}
    assert not open_calls


async def test_everything_fits_in_order() -> None:
    current = [_turn(9, 0, "user", "now?", status="pending")]
    window = await build([plain_exchange(2), plain_exchange(1)], 10_000, current)
    contents = [message["content"] for message in window.messages]
    assert contents[0] == "You are toolcord."
    assert contents[1].startswith("q1") and contents[-1] == "now?"
    assert window.reached_start and window.exchanges == 2
    assert window.raw_tokens == COUNTER.count_messages(window.messages)


async def test_the_budget_is_never_exceeded_and_newest_exchanges_win() -> None:
    exchanges = [plain_exchange(number, words=30) for number in range(40, 0, -1)]
    window = await build(exchanges, 500)
    assert COUNTER.count_messages(window.messages) <= 500
    assert not window.reached_start
    assert window.messages[-1]["content"] == "a40"
    assert window.messages[1]["role"] == "user"


async def test_system_and_current_turn_stay_even_over_budget() -> None:
    current = [_turn(9, 0, "user", "x " * 400, status="pending")]
    window = await build([plain_exchange(1)], 50, current, system=("sys",))
    assert [m["role"] for m in window.messages] == ["system", "user"]


async def test_a_cut_through_a_tool_round_drops_the_whole_round() -> None:
    exchange = tool_exchange(1, rounds=1, result="x " * 300)
    whole = await build([exchange], 100_000)
    assert [m["role"] for m in whole.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
    ]
    core = [
        m
        for m in whole.messages
        if m["role"] in ("system", "user") or (m["role"] == "assistant" and not m.get("tool_calls"))
    ]
    budget = COUNTER.count_messages(core) + 20
    cut = await build([exchange], budget)
    assert [m["role"] for m in cut.messages] == ["system", "user", "assistant"]
    assert cut.messages[-1]["content"] == "a1"
    check_structure(cut.messages)


async def test_newest_rounds_are_kept_when_only_some_fit() -> None:
    exchange = tool_exchange(1, rounds=3, result="y " * 100)
    full = await build([exchange], 100_000)
    budget = COUNTER.count_messages(full.messages) - 150
    window = await build([exchange, plain_exchange(0)], budget)
    calls = [m["tool_calls"][0]["id"] for m in window.messages if m.get("tool_calls")]
    assert calls == ["c1_1_a", "c1_2_a"]
    assert window.messages[1]["content"] == "q1"
    check_structure(window.messages)


@settings(max_examples=60, deadline=None)
@given(
    budget=st.integers(min_value=0, max_value=3000),
    rounds=st.lists(st.integers(0, 3), min_size=1, max_size=8),
)
async def test_any_budget_gives_a_valid_window(budget: int, rounds: list[int]) -> None:
    exchanges = [
        tool_exchange(number, rounds=count, result="z " * 40) for number, count in enumerate(rounds)
    ]
    newest_first = list(reversed(exchanges))
    current = [_turn(99, 0, "user", "latest", status="pending")]
    window = await build(newest_first, budget, current)
    check_structure(window.messages)
    fixed = COUNTER.count_messages([window.messages[0], window.messages[-1]])
    assert COUNTER.count_messages(window.messages) <= max(budget, fixed)
    assert window.messages[-1]["content"] == "latest"


async def test_oversized_tool_results_are_trimmed_with_a_marker() -> None:
    exchange = tool_exchange(1, result="lorem ipsum dolor " * 2000)
    window = await build([exchange], 100_000, max_tool_result_tokens=200)
    tools = [m for m in window.messages if m["role"] == "tool"]
    assert tools and all(COUNTER.count_text(m["content"]) <= 200 for m in tools)
    assert all("tool result trimmed by toolcord" in m["content"] for m in tools)
    assert TRIM_MARKER.split("{")[0].strip() in tools[0]["content"]


async def test_reading_stops_once_the_budget_is_spent() -> None:
    exchanges = [plain_exchange(number, words=20) for number in range(300, 0, -1)]
    read: list[int] = []
    window = await assemble_window(_batches(exchanges, 10, read), [], 300, COUNTER, ["s"])
    assert window.exchanges < 10
    assert read == [0]


async def test_calibration_shrinks_what_fits() -> None:
    exchanges = [plain_exchange(number, words=20) for number in range(30, 0, -1)]
    counter = TokenCounter()
    before = await assemble_window(_batches(exchanges), [], 600, counter, ["s"])
    for _ in range(20):
        counter.observe(1000, 1500)
    after = await assemble_window(_batches(exchanges), [], 600, counter, ["s"])
    assert after.exchanges < before.exchanges


def test_user_turns_with_parts_become_content_lists() -> None:
    from bot.store.window import turn_message

    part = {"type": "image_url", "image_url": {"url": "https://cdn/x.png"}}
    message = turn_message(_turn(1, 0, "user", "what is this?", parts=[part]), COUNTER)
    assert message["content"] == [{"type": "text", "text": "what is this?"}, part]
    assert message["name"] == "alice"


def test_names_are_made_acceptable() -> None:
    assert participant_name("Zoë the 1st!") == "Zoe_the_1st"
    assert participant_name("日本語") is None
    assert participant_name(None) is None
    assert len(participant_name("x" * 200) or "") == 64


def test_group_by_exchange_keeps_order_and_sorts_turns() -> None:
    turns = [_turn(5, 1, "assistant", "a"), _turn(5, 0, "user", "q"), _turn(3, 0, "user", "q3")]
    groups = group_by_exchange(turns)
    assert [group.exchange_id for group in groups] == [5, 3]
    assert [turn.seq for turn in groups[0].turns] == [0, 1]


async def test_orphan_or_unanswered_rounds_never_reach_the_window() -> None:
    broken = ExchangeTurns(
        1,
        [
            _turn(1, 0, "user", "q"),
            _turn(1, 1, "tool", "orphan", tool_call_id="nobody"),
            _turn(1, 2, "assistant", None, tool_calls=[tool_call("c1"), tool_call("c2")]),
            _turn(1, 3, "tool", "one", tool_call_id="c1"),
            _turn(1, 4, "assistant", "final"),
        ],
    )
    window = await build([broken], 10_000)
    check_structure(window.messages)
    assert "orphan" not in json.dumps(window.messages)
    assert window.messages[-1]["content"] == "final"
