"""The parts column of an answer's turns, exactly: reasoning items kept and given back, and the
images a round's tools returned kept with that round in a window (docs/mutation.md)."""

from __future__ import annotations

from bot.store.models import NewTurn
from bot.store.tokens import TokenCounter
from bot.store.window import (
    REASONING_KEY,
    REASONING_PART,
    ExchangeTurns,
    reasoning_from_parts,
    stored_parts,
    turn_message,
)

from .helpers import tool_call
from .test_window import _turn
from .test_window_mutants import SYSTEM, build, cost

COUNTER = TokenCounter()
IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/chart.png"}}
REASONING = {"family": "openai", "items": [{"id": "rs_1", "summary": []}]}


def test_the_constants() -> None:
    assert (REASONING_KEY, REASONING_PART) == ("_reasoning", "reasoning_items")


def test_stored_parts_are_the_content_parts_then_the_reasoning() -> None:
    turn = NewTurn(role="assistant", content="a", parts=[IMAGE], reasoning=REASONING)
    assert stored_parts(turn) == [IMAGE, {"type": "reasoning_items", **REASONING}]
    assert turn.parts == [IMAGE]  # the turn's own list is left alone
    assert stored_parts(NewTurn(role="user", content="q", parts=[IMAGE])) == [IMAGE]
    assert stored_parts(NewTurn(role="assistant", content="a")) == []


def test_the_reasoning_is_found_among_the_parts_without_its_tag() -> None:
    parts = [IMAGE, {"type": "reasoning_items", **REASONING}, {"type": "reasoning_items"}]
    assert reasoning_from_parts(parts) == REASONING
    assert reasoning_from_parts([IMAGE]) is None
    assert reasoning_from_parts([]) is None


def test_an_assistant_message_gives_its_reasoning_back() -> None:
    turn = _turn(1, 1, "assistant", "a1", parts=[{"type": "reasoning_items", **REASONING}])
    assert turn_message(turn, COUNTER) == {
        "role": "assistant",
        "content": "a1",
        REASONING_KEY: REASONING,
    }
    plain = _turn(1, 1, "assistant", "a1", parts=[IMAGE])
    assert turn_message(plain, COUNTER) == {"role": "assistant", "content": "a1"}


async def test_images_a_round_returned_stay_with_that_round() -> None:
    call = tool_call("c1", place="Paris")
    exchange = ExchangeTurns(
        1,
        [
            _turn(1, 0, "user", "q1"),
            _turn(1, 1, "assistant", None, tool_calls=[call]),
            _turn(1, 2, "tool", "chart made", tool_call_id="c1"),
            _turn(1, 3, "user", "the chart", parts=[IMAGE], author_name=None),
            _turn(1, 4, "assistant", "a1"),
        ],
    )
    expected = [
        SYSTEM,
        {"role": "user", "content": "q1", "name": "alice"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "chart made"},
        {"role": "user", "content": [{"type": "text", "text": "the chart"}, IMAGE]},
        {"role": "assistant", "content": "a1"},
    ]
    window = await build([exchange], 10_000)
    assert window.messages == expected
    assert window.raw_tokens == cost(expected)
