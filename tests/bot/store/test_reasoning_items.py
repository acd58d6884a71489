"""Reasoning items kept with their exchange: stored, given back with their round, counted."""

from __future__ import annotations

from bot.store.models import Conversation, NewTurn
from bot.store.protocol import Store
from bot.store.tokens import TokenCounter
from bot.store.window import REASONING_KEY

from .helpers import tool_call, user

CHANNEL = {"guild_id": 10, "channel_id": 20, "thread_id": None}
ITEMS = [{"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "e" * 4000}]
REASONING = {"family": "gpt-5.6", "items": ITEMS}


async def _conversation(store: Store) -> Conversation:
    return await store.get_or_create_conversation("guild:10:channel:20", user_id=1, **CHANNEL)


def _round(tag: str, reasoning: dict[str, object] | None) -> list[NewTurn]:
    call_id = f"call_{tag}"
    return [
        NewTurn("assistant", None, [tool_call(call_id, place="Paris")], reasoning=reasoning),
        NewTurn("tool", "sunny", tool_call_id=call_id, name="weather"),
        NewTurn("assistant", f"answer {tag}"),
    ]


async def test_reasoning_items_come_back_on_their_assistant_message(store: Store) -> None:
    conversation = await _conversation(store)
    exchange = await store.begin_exchange(conversation.id, user("weather?", 1))
    assert exchange is not None
    await store.complete_exchange(exchange.id, _round("a", REASONING), [501])
    messages = await store.build_window(conversation.id, 100_000, TokenCounter())
    calling = next(m for m in messages if m.get("tool_calls"))
    assert calling[REASONING_KEY] == REASONING
    assert all(REASONING_KEY not in m for m in messages if m is not calling)
    turns = await store.exchange_turns(exchange.id)
    plain = TokenCounter().count_message({"role": "assistant", "content": None})
    assert turns[1].token_estimate is not None and turns[1].token_estimate > plain + 900


async def test_the_window_drops_a_round_with_its_reasoning_when_it_does_not_fit(
    store: Store,
) -> None:
    conversation = await _conversation(store)
    for tag, source in (("old", 1), ("new", 2)):
        exchange = await store.begin_exchange(conversation.id, user(f"q {tag}", source))
        assert exchange is not None
        await store.complete_exchange(exchange.id, _round(tag, REASONING), [500 + source])
    counter = TokenCounter()
    roomy = await store.build_window(conversation.id, 100_000, counter)
    assert sum(1 for m in roomy if REASONING_KEY in m) == 2
    tight = await store.build_window(conversation.id, 1_600, counter)
    # The reasoning (about 1,000 tokens each) counts: only the newest round fits whole; the
    # older exchange keeps its question and answer without its tool round.
    assert [m["role"] for m in tight] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "tool",
        "assistant",
    ]
    assert [m.get("content") for m in tight if m["role"] == "user"] == ["q old", "q new"]
    assert sum(1 for m in tight if REASONING_KEY in m) == 1
