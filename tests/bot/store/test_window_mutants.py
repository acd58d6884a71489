"""Exact windows: the request each case produces, to the message and the token (docs/mutation.md).

Complements test_window.py, whose checks are structural, with the exact messages, costs,
budgets at their boundaries, batch sizes, trim markers and per-model counting.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

import pytest

from bot.store.tokens import REPLY_PRIMING, TokenCounter
from bot.store.window import (
    FIRST_BATCH,
    MAX_BATCH,
    TRIM_MARKER,
    ExchangeTurns,
    Window,
    assemble_window,
    batch_tokens,
    group_by_exchange,
    next_batch_size,
    participant_name,
    turn_message,
)

from .helpers import tool_call
from .test_window import _turn, plain_exchange, tool_exchange

COUNTER = TokenCounter()
SYSTEM = {"role": "system", "content": "You are toolcord."}


async def _one_batch(
    exchanges: Sequence[ExchangeTurns], read: list[int] | None = None
) -> AsyncGenerator[list[ExchangeTurns], None]:
    for index, exchange in enumerate(exchanges):
        if read is not None:
            read.append(index)
        yield [exchange]


async def build(
    exchanges: Sequence[ExchangeTurns],
    budget: int,
    counter: TokenCounter = COUNTER,
    read: list[int] | None = None,
    **options: Any,
) -> Window:
    return await assemble_window(
        _one_batch(exchanges, read), [], budget, counter, ["You are toolcord."], **options
    )


def cost(messages: list[dict[str, Any]], model: str | None = None) -> int:
    return COUNTER.count_messages(messages, model)


# -- batch sizing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("room", "seen_tokens", "seen_exchanges", "last", "expected"),
    [
        (1000, 0, 0, 8, 16),  # nothing read yet: double
        (1000, 0, 3, 8, 16),  # read, but no estimates: double
        (1000, 500, 0, 300, MAX_BATCH),  # doubling is capped
        (1000, 100, 1, 8, 14),  # one exchange of 100: ceil(900 / 100 * 1.25) + 2
        (1000, 100, 3, 8, 36),  # 33.3 per exchange: ceil(27 * 1.25) + 2
        (1000, 2000, 4, 8, FIRST_BATCH),  # over the room already: the floor
        (1000, 40, 10, 8, 302),  # 960 / 4 * 1.25 + 2
        (100_000, 10, 10, 8, MAX_BATCH),  # the cap
        (0, 1, 10, 8, FIRST_BATCH),  # one token known, no room left: the floor
        (1000, 1, 1, 8, MAX_BATCH),  # one token known is enough to size from
    ],
)
def test_next_batch_size_fills_the_room_at_the_average_size(
    room: int, seen_tokens: int, seen_exchanges: int, last: int, expected: int
) -> None:
    assert next_batch_size(room, seen_tokens, seen_exchanges, last) == expected


def test_batch_tokens_sums_the_stored_estimates_and_counts_missing_ones_as_zero() -> None:
    batch = [
        ExchangeTurns(
            1, [_turn(1, 0, "user", "q", token_estimate=10), _turn(1, 1, "assistant", "a")]
        ),
        ExchangeTurns(2, [_turn(2, 0, "user", "q", token_estimate=7)]),
    ]
    assert batch_tokens(batch) == 17
    assert batch_tokens([]) == 0


def test_group_by_exchange_keeps_every_turn_of_interleaved_exchanges() -> None:
    turns = [
        _turn(5, 2, "assistant", "a5"),
        _turn(3, 0, "user", "q3"),
        _turn(5, 0, "user", "q5"),
        _turn(5, 1, "assistant", "c5"),
    ]
    groups = group_by_exchange(turns)

    assert [(g.exchange_id, [t.content for t in g.turns]) for g in groups] == [
        (5, ["q5", "c5", "a5"]),
        (3, ["q3"]),
    ]


# -- one turn, one message -------------------------------------------------------------------


def test_turn_messages_are_exactly_what_openai_accepts() -> None:
    call = tool_call("c1", place="Paris")

    assert turn_message(_turn(1, 0, "user", "hi"), COUNTER) == {
        "role": "user",
        "content": "hi",
        "name": "alice",
    }
    assert turn_message(_turn(1, 0, "user", "hi", author_name=None), COUNTER) == {
        "role": "user",
        "content": "hi",
    }
    assert turn_message(_turn(1, 0, "user", "hi", author_name="!!!"), COUNTER) == {
        "role": "user",
        "content": "hi",
    }
    assert turn_message(_turn(1, 0, "system", "be brief", author_name="bob"), COUNTER) == {
        "role": "system",
        "content": "be brief",
    }
    assert turn_message(_turn(1, 0, "user", None, author_name=None), COUNTER) == {
        "role": "user",
        "content": "",
    }
    assert turn_message(_turn(1, 1, "assistant", None, tool_calls=[call]), COUNTER) == {
        "role": "assistant",
        "content": None,
        "tool_calls": [call],
    }
    assert turn_message(_turn(1, 1, "assistant", None), COUNTER) == {
        "role": "assistant",
        "content": "",
    }
    assert turn_message(_turn(1, 1, "assistant", "done"), COUNTER) == {
        "role": "assistant",
        "content": "done",
    }
    assert turn_message(_turn(1, 2, "tool", "sunny", tool_call_id="c1"), COUNTER) == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "sunny",
    }
    assert turn_message(_turn(1, 2, "tool", None), COUNTER) == {
        "role": "tool",
        "tool_call_id": "",
        "content": "",
    }


def test_a_user_turn_of_parts_only_is_just_the_parts() -> None:
    part = {"type": "image_url", "image_url": {"url": "https://cdn/x.png"}}

    message = turn_message(_turn(1, 0, "user", None, parts=[part], author_name=None), COUNTER)

    assert message == {"role": "user", "content": [part]}


@pytest.mark.parametrize(
    ("display", "name"),
    [
        ("x" * 200, "x" * 64),
        ("__bob__", "bob"),
        ("a b.c", "a_b_c"),
        ("é", "e"),
        ("", None),
        ("...", None),
        ("Xena_", "Xena"),
    ],
)
def test_participant_names(display: str, name: str | None) -> None:
    assert participant_name(display) == name


# -- trimming --------------------------------------------------------------------------------


def _trimmed(text: str, limit: int, model: str | None = None) -> str:
    total = COUNTER.count_text(text, model)
    marker_cost = COUNTER.count_text(TRIM_MARKER.format(kept=total, total=total), model)
    room = max(0, limit - marker_cost)
    return COUNTER.truncate(text, room, model) + TRIM_MARKER.format(kept=room, total=total)


def test_a_trimmed_tool_result_says_how_many_tokens_it_kept_of_how_many() -> None:
    text = "lorem ipsum dolor " * 200
    total = COUNTER.count_text(text)

    message = turn_message(
        _turn(1, 2, "tool", text, tool_call_id="c"), COUNTER, max_tool_result_tokens=100
    )

    room = 100 - COUNTER.count_text(TRIM_MARKER.format(kept=total, total=total))
    assert message["content"] == COUNTER.truncate(text, room) + (
        f"\n[tool result trimmed by toolcord: {room} of {total} tokens kept]"
    )
    assert COUNTER.count_text(message["content"]) <= 100


def test_a_tool_result_of_exactly_the_limit_is_kept_whole() -> None:
    text = "lorem ipsum dolor " * 20
    limit = COUNTER.count_text(text)

    kept = turn_message(_turn(1, 2, "tool", text), COUNTER, max_tool_result_tokens=limit)
    cut = turn_message(_turn(1, 2, "tool", text), COUNTER, max_tool_result_tokens=limit - 1)

    assert kept["content"] == text
    assert cut["content"] == _trimmed(text, limit - 1)


def test_a_limit_smaller_than_the_marker_keeps_only_the_marker() -> None:
    text = "lorem ipsum dolor " * 200
    total = COUNTER.count_text(text)

    message = turn_message(_turn(1, 2, "tool", text), COUNTER, max_tool_result_tokens=3)

    assert message["content"] == f"\n[tool result trimmed by toolcord: 0 of {total} tokens kept]"


# -- whole windows ---------------------------------------------------------------------------


async def test_the_window_is_system_then_oldest_to_newest_then_the_current_turn() -> None:
    current = [_turn(9, 0, "user", "now?", status="pending")]
    system = [{"role": "system", "content": "persona", "name": "guide"}, "rules"]

    window = await assemble_window(
        _one_batch([plain_exchange(2, 1), plain_exchange(1, 1)]), current, 10_000, COUNTER, system
    )

    assert window.messages == [
        {"role": "system", "content": "persona", "name": "guide"},
        {"role": "system", "content": "rules"},
        {"role": "user", "content": "q1 word", "name": "alice"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2 word", "name": "alice"},
        {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "now?", "name": "alice"},
    ]
    assert window.raw_tokens == cost(window.messages)
    assert (window.exchanges, window.reached_start) == (2, True)
    assert window.messages[0] is not system[0]


async def test_an_exchange_that_fits_exactly_is_kept_and_one_token_less_drops_it() -> None:
    exchanges = [plain_exchange(2), plain_exchange(1)]
    full = await build(exchanges, 10_000)
    read: list[int] = []

    exact = await build(exchanges, full.raw_tokens)
    short = await build(exchanges, full.raw_tokens - 1, read=read)

    assert exact.messages == full.messages and exact.reached_start
    assert exact.raw_tokens == full.raw_tokens
    assert [m["content"] for m in short.messages] == ["You are toolcord.", *_qa(2)]
    assert (short.exchanges, short.reached_start) == (1, False)
    assert short.raw_tokens == cost(short.messages)
    assert read == [0, 1]


def _qa(number: int) -> list[str]:
    return [f"q{number} word word word word word", f"a{number}"]


async def test_an_exchange_too_big_for_the_room_ends_the_window_and_the_reading() -> None:
    read: list[int] = []
    exchanges = [plain_exchange(3), plain_exchange(2, words=400), plain_exchange(1)]

    window = await build(exchanges, 200, read=read)

    assert [m["content"] for m in window.messages] == ["You are toolcord.", *_qa(3)]
    assert (window.exchanges, window.reached_start) == (1, False)
    assert read == [0, 1]


async def test_rounds_are_kept_newest_first_down_to_the_exact_room() -> None:
    exchange = tool_exchange(1, rounds=3, result="y " * 50)
    full = await build([exchange], 100_000)
    rounds = [m for m in full.messages if m["role"] == "tool" or m.get("tool_calls")]
    round_cost = cost(rounds[:3]) - REPLY_PRIMING
    core = full.raw_tokens - 3 * round_cost

    two = await build([exchange], core + 2 * round_cost)
    almost_two = await build([exchange], core + 2 * round_cost - 1)
    bare = await build([exchange], core)

    assert _call_ids(two) == ["c1_1_a", "c1_2_a"]
    assert two.raw_tokens == core + 2 * round_cost == cost(two.messages)
    assert _call_ids(almost_two) == ["c1_2_a"]
    assert [m["content"] for m in bare.messages] == ["You are toolcord.", "q1", "a1"]
    assert bare.raw_tokens == core
    assert (bare.exchanges, bare.reached_start) == (1, False)
    assert (await build([exchange], core - 1)).messages == [SYSTEM]


def _call_ids(window: Window) -> list[str]:
    return [m["tool_calls"][0]["id"] for m in window.messages if m.get("tool_calls")]


async def test_an_exchange_ending_in_a_tool_round_keeps_that_round_when_it_fits() -> None:
    calls = [tool_call("c1", place="Paris")]
    exchange = ExchangeTurns(
        1,
        [
            _turn(1, 0, "user", "q1"),
            _turn(1, 1, "assistant", None, tool_calls=calls),
            _turn(1, 2, "tool", "sunny", tool_call_id="c1"),
        ],
    )

    window = await build([exchange], 10_000)
    exact = await build([exchange], window.raw_tokens)
    squeezed = await build([exchange], window.raw_tokens - 1)

    assert window.messages == [
        SYSTEM,
        {"role": "user", "content": "q1", "name": "alice"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
    ]
    assert (window.exchanges, window.reached_start) == (1, True)
    assert exact.messages == window.messages
    # Without a final answer there is no core to keep: the whole exchange goes.
    assert squeezed.messages == [SYSTEM]
    assert (squeezed.exchanges, squeezed.reached_start) == (0, False)


async def test_turns_out_of_place_in_an_exchange_are_left_out() -> None:
    exchange = ExchangeTurns(
        1,
        [
            _turn(1, 0, "user", "q"),
            _turn(1, 1, "assistant", None, tool_calls=[tool_call("c1")]),
            _turn(1, 2, "tool", "r1", tool_call_id="c1"),
            _turn(1, 3, "assistant", None, tool_calls=[tool_call("c2")]),
            _turn(1, 4, "tool", "late answer to c1", tool_call_id="c1"),
            _turn(1, 5, "tool", "r2", tool_call_id="c2"),
            _turn(1, 6, "user", "said after the answer started"),
            _turn(1, 7, "assistant", "final"),
        ],
    )

    window = await build([exchange], 10_000)

    # The late answer to c1 is out of place and left out; a user turn right after a round's
    # tool results is the message that shows the model the images its tools returned (issue 21),
    # so it stays with its round.
    assert [m.get("content") for m in window.messages] == [
        "You are toolcord.",
        "q",
        None,
        "r1",
        None,
        "r2",
        "said after the answer started",
        "final",
    ]


async def test_a_model_counts_with_its_own_encoding_everywhere() -> None:
    russian = "Привет мир, как дела? " * 20
    exchange = tool_exchange(1, result=russian)
    exchange.turns[0] = _turn(1, 0, "user", russian)
    current = [_turn(9, 0, "user", russian, status="pending")]
    assert COUNTER.count_text(russian, "gpt-4") != COUNTER.count_text(russian)

    window = await assemble_window(
        _one_batch([exchange]), current, 100_000, COUNTER, [russian], model="gpt-4"
    )

    assert window.raw_tokens == cost(window.messages, "gpt-4")
    tools = [m["content"] for m in window.messages if m["role"] == "tool"]
    trimmed = await assemble_window(
        _one_batch([exchange]), [], 100_000, COUNTER, [], model="gpt-4", max_tool_result_tokens=60
    )
    assert tools == [russian, russian]
    assert [m["content"] for m in trimmed.messages if m["role"] == "tool"] == [
        _trimmed(russian, 60, "gpt-4")
    ] * 2


async def test_the_calibration_factor_of_the_named_model_sets_the_budget() -> None:
    counter = TokenCounter()
    for _ in range(5):
        counter.observe(1000, 3000, model="gpt-4")  # capped at the upper bound, 2.0
    exchanges = [plain_exchange(2), plain_exchange(1)]
    full = await build(exchanges, 10_000, counter)

    for_model = await build(exchanges, full.raw_tokens * 2, counter, model="gpt-4")
    halved = await build(exchanges, full.raw_tokens * 2 - 1, counter, model="gpt-4")
    other = await build(exchanges, full.raw_tokens, counter)

    assert counter.factor("gpt-4") == 2.0
    assert for_model.messages == full.messages
    assert halved.exchanges == 1
    assert other.messages == full.messages


async def test_an_exchange_of_rounds_only_is_kept_whole_or_not_at_all() -> None:
    exchange = ExchangeTurns(
        1,
        [
            _turn(1, 0, "user", "q1"),
            _turn(1, 1, "assistant", None, tool_calls=[tool_call("c1")]),
            _turn(1, 2, "tool", "first " * 50, tool_call_id="c1"),
            _turn(1, 3, "assistant", None, tool_calls=[tool_call("c2")]),
            _turn(1, 4, "tool", "second", tool_call_id="c2"),
        ],
    )
    whole = await build([exchange], 10_000)

    squeezed = await build([exchange], whole.raw_tokens - 1)

    assert [m.get("content") for m in whole.messages[1:]] == [
        "q1",
        None,
        "first " * 50,
        None,
        "second",
    ]
    # The newest round is no final answer: it is not kept in place of the exchange.
    assert squeezed.messages == [SYSTEM]
