"""The store contract: every test runs on SQLite and on PostgreSQL (S7)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import keys
from bot.store.errors import ExchangeStateError
from bot.store.migrations import load_migrations
from bot.store.models import Conversation, NewTurn, Usage, UserTurn
from bot.store.protocol import Store
from bot.store.records import DELETED_TEXT
from bot.store.tokens import TokenCounter

from .conftest import StorePlace
from .helpers import answer_with_tool, plain_answer, tool_call, user
from .test_migrations import RawSql

CHANNEL = {"guild_id": 10, "channel_id": 20, "thread_id": None}


async def _channel(
    store: Store, key: str = "guild:10:channel:20", user_id: int = 1
) -> Conversation:
    return await store.get_or_create_conversation(key, user_id=user_id, **CHANNEL)


async def test_open_store_is_a_store_at_the_shipped_schema(store: Store) -> None:
    assert isinstance(store, Store)
    assert await store.schema_version() == load_migrations("sqlite")[-1].version


async def test_get_or_create_conversation_is_stable(store: Store) -> None:
    first = await _channel(store)
    again = await store.get_or_create_conversation(
        first.key, guild_id=99, channel_id=99, thread_id=None, user_id=2
    )
    assert again == first
    assert first.private_user_id is None
    assert await store.get_conversation("guild:10:channel:21") is None


async def test_concurrent_creation_makes_one_conversation(store: Store) -> None:
    made = await asyncio.gather(*[_channel(store, "thread:5", user_id=n) for n in range(10)])
    assert len({conversation.id for conversation in made}) == 1


async def test_private_keys_record_their_user(store: Store) -> None:
    dm = await store.get_or_create_conversation(
        keys.dm_key(7), guild_id=None, channel_id=70, thread_id=None, user_id=7
    )
    private = await _channel(store, keys.channel_key(10, 20, 8), user_id=8)
    assert (dm.private_user_id, private.private_user_id) == (7, 8)


async def test_overrides_merge_and_remove(store: Store) -> None:
    conversation = await _channel(store)
    await store.set_overrides(conversation.id, {"persona": "pirate", "model": "gpt-4o"})
    merged = await store.set_overrides(conversation.id, {"model": None, "temperature": 0.2})
    assert merged == {"persona": "pirate", "temperature": 0.2}
    fetched = await store.get_conversation(conversation.key)
    assert fetched is not None and fetched.overrides == merged


async def test_a_source_message_is_accepted_once(store: Store) -> None:
    conversation = await _channel(store)
    first = await store.begin_exchange(conversation.id, user("hi", 1001))
    assert first is not None
    assert await store.begin_exchange(conversation.id, user("hi again", 1001)) is None
    turns = await store.exchange_turns(first.id)
    assert [(turn.role, turn.content, turn.status) for turn in turns] == [("user", "hi", "pending")]
    assert turns[0].id == first.user_turn_id


async def test_replayed_message_racing_itself_makes_one_exchange(store: Store) -> None:
    conversation = await _channel(store)
    results = await asyncio.gather(
        *[store.begin_exchange(conversation.id, user("hi", 4242)) for _ in range(12)]
    )
    assert len([result for result in results if result is not None]) == 1


async def test_exchanges_without_source_id_are_all_accepted(store: Store) -> None:
    conversation = await _channel(store)
    first = await store.begin_exchange(conversation.id, user("slash", None))
    second = await store.begin_exchange(conversation.id, user("slash", None))
    assert first is not None and second is not None and first.id != second.id


async def test_complete_exchange_writes_everything_at_once(store: Store) -> None:
    conversation = await _channel(store)
    exchange = await store.begin_exchange(conversation.id, user("weather?", 1))
    assert exchange is not None
    await store.complete_exchange(
        exchange.id, answer_with_tool("a"), [501, 502], Usage("gpt-4o-mini", 120, 30, 0)
    )
    record = await store.get_exchange(exchange.id)
    assert record is not None
    assert (record.status, record.sent_message_ids, record.finished_at is not None) == (
        "complete",
        [501, 502],
        True,
    )
    turns = await store.exchange_turns(exchange.id)
    assert [turn.role for turn in turns] == ["user", "assistant", "tool", "assistant"]
    assert {turn.status for turn in turns} == {"complete"}
    assert [turn.seq for turn in turns] == [0, 1, 2, 3]
    assert turns[-1].sent_message_ids == [501, 502]
    assert turns[1].tool_calls[0]["id"] == "call_a"
    assert all(turn.token_estimate and turn.token_estimate > 0 for turn in turns)
    totals = await store.usage_totals(user_id=1, guild_id=10)
    assert (totals.requests, totals.prompt_tokens, totals.completion_tokens) == (1, 120, 30)


async def test_an_exchange_completes_once(store: Store) -> None:
    conversation = await _channel(store)
    exchange = await store.begin_exchange(conversation.id, user("q", 2))
    assert exchange is not None
    await store.complete_exchange(exchange.id, plain_answer("a"), [600])
    with pytest.raises(ExchangeStateError, match="already complete"):
        await store.complete_exchange(exchange.id, plain_answer("again"), [601])
    assert len(await store.exchange_turns(exchange.id)) == 2
    assert await store.conversation_for_message(601) is None


async def test_completing_a_missing_exchange_says_so(store: Store) -> None:
    with pytest.raises(ExchangeStateError, match="missing"):
        await store.complete_exchange(987654, plain_answer("a"))


async def test_unanswered_tool_calls_are_refused_and_nothing_is_written(store: Store) -> None:
    conversation = await _channel(store)
    exchange = await store.begin_exchange(conversation.id, user("q", 3))
    assert exchange is not None
    broken = [
        NewTurn("assistant", None, [tool_call("c1"), tool_call("c2")]),
        NewTurn("tool", "x", tool_call_id="c1"),
    ]
    with pytest.raises(ValueError, match="no result"):
        await store.complete_exchange(exchange.id, broken)
    with pytest.raises(ValueError, match="answers no call"):
        await store.complete_exchange(exchange.id, [NewTurn("tool", "x", tool_call_id="zz")])
    record = await store.get_exchange(exchange.id)
    assert record is not None and record.status == "pending"
    assert len(await store.exchange_turns(exchange.id)) == 1


async def test_complete_keeps_sent_ids_once_in_order(store: Store) -> None:
    conversation = await _channel(store)
    exchange = await store.begin_exchange(conversation.id, user("long answer", 4))
    assert exchange is not None
    await store.complete_exchange(exchange.id, plain_answer("done"), [700, 701, 700, 702])
    record = await store.get_exchange(exchange.id)
    assert record is not None and record.sent_message_ids == [700, 701, 702]


async def test_messages_lead_back_to_their_conversation(store: Store) -> None:
    conversation = await _channel(store)
    other = await _channel(store, "thread:77")
    exchange = await store.begin_exchange(conversation.id, user("q", 800))
    assert exchange is not None
    await store.complete_exchange(exchange.id, plain_answer("a"), [801, 802])
    for message_id in (800, 801, 802):
        found = await store.conversation_for_message(message_id)
        assert found is not None and found.id == conversation.id
    assert await store.conversation_for_message(803) is None
    assert other.id != conversation.id


async def test_fail_exchange_keeps_sent_ids_and_refuses_a_later_complete(store: Store) -> None:
    conversation = await _channel(store)
    exchange = await store.begin_exchange(conversation.id, user("q", 5))
    assert exchange is not None
    await store.fail_exchange(exchange.id, "failed", "model unavailable", [900])
    record = await store.get_exchange(exchange.id)
    assert record is not None
    assert (record.status, record.error, record.sent_message_ids) == (
        "failed",
        "model unavailable",
        [900],
    )
    assert {turn.status for turn in await store.exchange_turns(exchange.id)} == {"failed"}
    with pytest.raises(ExchangeStateError):
        await store.complete_exchange(exchange.id, plain_answer("late"))


async def test_recover_marks_pending_interrupted_once(place: StorePlace, raw_sql: RawSql) -> None:
    store = await place.open(owner="shard-0")
    conversation = await _channel(store)
    done = await store.begin_exchange(conversation.id, user("done", 11))
    streaming = await store.begin_exchange(conversation.id, user("streaming", 12))
    waiting = await store.begin_exchange(conversation.id, user("waiting", 13))
    assert done and streaming and waiting
    await store.complete_exchange(done.id, plain_answer("ok"), [111])
    # sent while streaming (no store method records this mid-stream any more; set it directly)
    await raw_sql("UPDATE exchanges SET sent_message_ids = ? WHERE id = ?", "[121]", streaming.id)
    other_owner = await place.open(owner="shard-1")
    foreign = await other_owner.begin_exchange(conversation.id, user("other shard", 14))
    assert foreign is not None

    recovered = await store.recover()

    assert [item.exchange_id for item in recovered] == [streaming.id, waiting.id]
    first = recovered[0]
    assert (first.source_message_id, first.sent_message_ids, first.channel_id) == (12, [121], 20)
    assert first.conversation_key == conversation.key and first.guild_id == 10
    assert await store.recover() == []
    for exchange_id in (streaming.id, waiting.id):
        record = await store.get_exchange(exchange_id)
        assert record is not None and record.status == "interrupted"
    foreign_record = await store.get_exchange(foreign.id)
    assert foreign_record is not None and foreign_record.status == "pending"


async def test_usage_totals_filter_by_user_guild_model_and_time(place: StorePlace) -> None:
    now = [datetime(2030, 1, 1, tzinfo=UTC)]
    store = await place.open(clock=lambda: now[0])
    await store.record_usage(Usage("gpt-4o", 10, 1, 0), user_id=1, guild_id=10)
    now[0] += timedelta(hours=2)
    await store.record_usage(Usage("gpt-4o-mini", 20, 2, 0), user_id=1, guild_id=11)
    await store.record_usage(Usage("dall-e-3", 0, 0, 1), user_id=2, guild_id=10)
    assert (await store.usage_totals(user_id=1)).prompt_tokens == 30
    assert (await store.usage_totals(guild_id=10)).requests == 2
    assert (await store.usage_totals(model="dall-e-3")).images == 1
    since = datetime(2030, 1, 1, 1, tzinfo=UTC)
    recent = await store.usage_totals(user_id=1, since=since)
    assert (recent.requests, recent.total_tokens) == (1, 22)
    assert (await store.usage_totals()).requests == 3


async def test_settings_round_trip(store: Store) -> None:
    assert await store.get_settings("guild", 10) == {}
    await store.set_settings("guild", 10, {"private_conversations": True, "model": "gpt-4o"})
    await store.set_settings("guild", 10, {"private_conversations": False})
    assert await store.get_settings("guild", 10) == {"private_conversations": False}


async def test_ledger_claims_once_and_returns_the_outcome(store: Store) -> None:
    assert await store.claim("k1", "ban", '{"user": 5}') is None
    attempted = await store.claim("k1", "ban", '{"user": 5}')
    assert attempted is not None and (attempted.status, attempted.result) == ("attempted", None)
    await store.complete("k1", "banned", "ok")
    completed = await store.claim("k1", "ban", '{"user": 5}')
    assert completed is not None
    assert (completed.status, completed.result, completed.outcome) == ("completed", "banned", "ok")
    assert completed.tool == "ban" and completed.completed_at is not None


async def test_ledger_rows_go_with_their_conversation(store: Store) -> None:
    conversation = await _channel(store)
    key = f"{conversation.id}/1234/ban/abcdef"
    assert await store.claim(key, "ban", "{}") is None
    assert await store.claim("notaconversation/1/ban/x", "ban", "{}") is None
    assert await store.clear_conversation(conversation.key)
    assert await store.claim(key, "ban", "{}") is None
    assert await store.claim("notaconversation/1/ban/x", "ban", "{}") is not None


async def test_ledger_claims_race_to_one_winner(store: Store) -> None:
    results = await asyncio.gather(*[store.claim("race", "ban", "{}") for _ in range(10)])
    assert results.count(None) == 1


async def test_prune_ledger_drops_old_rows(place: StorePlace) -> None:
    now = [datetime(2030, 1, 1, tzinfo=UTC)]
    store = await place.open(clock=lambda: now[0])
    await store.claim("old", "t", "{}")
    now[0] += timedelta(days=40)
    await store.claim("new", "t", "{}")
    assert await store.prune_ledger(datetime(2030, 1, 15, tzinfo=UTC)) == 1
    assert await store.claim("new", "t", "{}") is not None
    assert await store.claim("old", "t", "{}") is None


async def test_clear_conversation_removes_it_all(store: Store) -> None:
    conversation = await _channel(store)
    exchange = await store.begin_exchange(conversation.id, user("q", 31))
    assert exchange is not None
    await store.complete_exchange(exchange.id, answer_with_tool("c"), [310], Usage("m", 1, 1))
    assert await store.clear_conversation(conversation.key) is True
    assert await store.get_conversation(conversation.key) is None
    assert await store.get_exchange(exchange.id) is None
    assert await store.conversation_for_message(310) is None
    assert await store.clear_conversation(conversation.key) is False
    assert (await store.usage_totals(user_id=1)).requests == 1


async def test_forget_user_removes_their_rows_and_keeps_others(store: Store) -> None:
    shared = await _channel(store)
    dm = await store.get_or_create_conversation(
        keys.dm_key(1), guild_id=None, channel_id=50, thread_id=None, user_id=1
    )
    mine = await store.begin_exchange(shared.id, user("my secret", 41, author=1))
    theirs = await store.begin_exchange(shared.id, user("bob here", 42, author=2, name="bob"))
    in_dm = await store.begin_exchange(dm.id, user("dm secret", 43, author=1))
    assert mine and theirs and in_dm
    await store.complete_exchange(mine.id, plain_answer("ok"), [410], Usage("m", 5, 5))
    await store.complete_exchange(theirs.id, plain_answer("hi bob"), [420])
    await store.set_settings("user", 1, {"language": "fr"})
    my_side_effect = f"{shared.id}/41/ban/abc"
    bobs_side_effect = f"{shared.id}/42/ban/abc"
    for key in (my_side_effect, bobs_side_effect):
        assert await store.claim(key, "ban", '{"secret": 1}') is None

    report = await store.forget_user(1)

    assert (report.conversations, report.exchanges, report.turns) == (1, 2, 3)
    assert (report.settings, report.usage_anonymised) == (1, 1)
    assert await store.get_conversation(dm.key) is None
    assert await store.get_exchange(mine.id) is None
    assert await store.conversation_for_message(410) is None
    kept = await store.exchange_turns(theirs.id)
    assert [turn.content for turn in kept] == ["bob here", "hi bob"]
    still_shared = await store.get_conversation(shared.key)
    assert still_shared is not None and still_shared.user_id is None
    assert (await store.usage_totals(user_id=1)).requests == 0
    assert (await store.usage_totals(guild_id=10)).prompt_tokens == 5
    assert await store.get_settings("user", 1) == {}
    assert await store.claim(my_side_effect, "ban", "{}") is None
    assert await store.claim(bobs_side_effect, "ban", "{}") is not None
    exported = await store.export_conversation(shared.key)
    assert "secret" not in json.dumps(exported)


async def test_forget_user_keeps_recent_usage_under_the_user_without_content(
    store: Store,
) -> None:
    shared = await _channel(store)
    mine = await store.begin_exchange(shared.id, user("my secret", 41, author=1))
    assert mine is not None
    await store.complete_exchange(mine.id, plain_answer("ok"), [410], Usage("gpt-x", 5, 5))
    await store.record_usage(Usage("gpt-x", 7), user_id=1, guild_id=10)
    report = await store.forget_user(1, keep_usage_since=datetime.now(UTC) - timedelta(days=1))
    assert (report.usage_kept, report.usage_anonymised) == (2, 0)
    kept = await store.usage_totals(user_id=1)
    assert (kept.requests, kept.total_tokens) == (2, 17)
    assert (await store.usage_totals(user_id=1, model="forgotten")).requests == 2
    assert (await store.usage_totals(guild_id=10)).total_tokens == 17
    later = await store.forget_user(1, keep_usage_since=datetime.now(UTC) + timedelta(days=1))
    assert (later.usage_kept, later.usage_anonymised) == (0, 2)
    assert (await store.usage_totals(user_id=1)).requests == 0


async def test_deleted_messages_are_redacted_where_they_were_stored(store: Store) -> None:
    conversation = await _channel(store)
    first = await store.begin_exchange(conversation.id, user("my PIN is 4321", 51, author=1))
    second = await store.begin_exchange(conversation.id, user("hello", 52, author=2, name="bob"))
    assert first and second
    await store.complete_exchange(first.id, answer_with_tool("a"), [510, 511])
    await store.complete_exchange(second.id, plain_answer("echo: secret reply"), [520])
    assert await store.mark_messages_deleted([51, 520, 999]) == 2
    assert await store.mark_messages_deleted([51]) == 0  # already redacted
    turns = await store.exchange_turns(first.id)
    assert [(t.content, t.deleted_at is not None) for t in turns] == [
        (DELETED_TEXT, True),
        (None, False),
        ("sunny, 21 C", False),
        ("The weather for a: sunny, 21 C.", False),
    ]
    assert turns[0].parts == []
    answered = await store.exchange_turns(second.id)
    assert [t.content for t in answered] == ["hello", DELETED_TEXT]
    exported = json.dumps(await store.export_conversation(conversation.key))
    assert "4321" not in exported and "secret reply" not in exported
    window = json.dumps(await store.build_window(conversation.id, 10_000, TokenCounter()))
    assert "4321" not in window and "secret reply" not in window and DELETED_TEXT in window


async def test_export_of_one_users_exchanges(store: Store) -> None:
    conversation = await _channel(store)
    first = await store.begin_exchange(conversation.id, user("alice asks", 61, author=1))
    second = await store.begin_exchange(conversation.id, user("bob asks", 62, author=2))
    assert first and second
    await store.complete_exchange(first.id, plain_answer("to alice"))
    await store.complete_exchange(second.id, plain_answer("to bob"))
    document = await store.export_conversation(conversation.key, only_user_id=2)
    assert document is not None
    assert [e["id"] for e in document["exchanges"]] == [second.id]
    assert "alice asks" not in json.dumps(document) and "to alice" not in json.dumps(document)
    assert await store.export_conversation(conversation.key, only_user_id=3) is not None


async def test_export_is_json_and_complete(store: Store) -> None:
    conversation = await _channel(store)
    exchange = await store.begin_exchange(
        conversation.id,
        UserTurn(1, "alice", "look", [{"type": "image_url", "image_url": {"url": "u"}}], 51),
    )
    assert exchange is not None
    await store.complete_exchange(exchange.id, answer_with_tool("e"), [510])
    document = await store.export_conversation(conversation.key)
    assert document is not None
    decoded = json.loads(json.dumps(document))
    assert decoded["format"] == "toolcord.conversation.v1"
    assert decoded["conversation"]["key"] == conversation.key
    (only,) = decoded["exchanges"]
    assert only["status"] == "complete" and only["sent_message_ids"] == [510]
    assert [turn["role"] for turn in only["turns"]] == ["user", "assistant", "tool", "assistant"]
    assert only["turns"][0]["parts"][0]["type"] == "image_url"
    assert await store.export_conversation("thread:404") is None


async def test_window_holds_complete_exchanges_and_the_current_turn(store: Store) -> None:
    conversation = await _channel(store)
    counter = TokenCounter()
    good = await store.begin_exchange(conversation.id, user("first", 61))
    bad = await store.begin_exchange(conversation.id, user("second", 62))
    current = await store.begin_exchange(conversation.id, user("third", 63))
    assert good and bad and current
    await store.complete_exchange(good.id, answer_with_tool("w"), [610])
    await store.fail_exchange(bad.id, "interrupted", "stopped", [620])

    messages = await store.build_window(conversation.id, 10_000, counter, ["Be brief."])

    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert [m["role"] for m in messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert messages[1]["content"] == "first" and messages[-1]["content"] == "third"
    assert "second" not in json.dumps(messages)


async def test_window_for_an_older_pending_exchange_skips_newer_ones(store: Store) -> None:
    conversation = await _channel(store)
    old = await store.begin_exchange(conversation.id, user("one", 71))
    slow = await store.begin_exchange(conversation.id, user("two", 72))
    fast = await store.begin_exchange(conversation.id, user("three", 73))
    assert old and slow and fast
    await store.complete_exchange(old.id, plain_answer("a1"), [710])
    await store.complete_exchange(fast.id, plain_answer("a3"), [730])
    messages = await store.build_window(
        conversation.id, 10_000, TokenCounter(), current_exchange_id=slow.id
    )
    assert [m["content"] for m in messages] == ["one", "a1", "two"]
    newest = await store.build_window(conversation.id, 10_000, TokenCounter())
    assert [m["content"] for m in newest] == ["one", "a1", "three", "a3"]


async def test_window_pages_through_long_histories(store: Store) -> None:
    conversation = await _channel(store)
    for number in range(60):
        exchange = await store.begin_exchange(conversation.id, user(f"q{number}", 2000 + number))
        assert exchange is not None
        await store.complete_exchange(exchange.id, plain_answer(f"a{number}"))
    everything = await store.build_window(conversation.id, 100_000, TokenCounter())
    assert len(everything) == 120
    assert everything[0]["content"] == "q0" and everything[-1]["content"] == "a59"
    small = await store.build_window(conversation.id, 60, TokenCounter())
    assert small and small[-1]["content"] == "a59" and small[0]["role"] == "user"
    assert TokenCounter().count_messages(small) <= 60
