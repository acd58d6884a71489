"""S2: a task cancelled in the middle of a write rolls back and releases the lock."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections import Counter
from contextlib import AbstractAsyncContextManager, closing, suppress
from typing import Any

import pytest

from bot.store.models import Usage
from bot.store.protocol import Store

from .conftest import StorePlace
from .helpers import answer_with_tool, user

INSERT_SETTING = {
    "sqlite": (
        "INSERT INTO settings (scope, scope_id, data, updated_at) VALUES ('guild', 1, '{}', 0)"
    ),
    "postgres": (
        "INSERT INTO settings (scope, scope_id, data, updated_at) "
        "VALUES ('guild', 1, '{}'::jsonb, now())"
    ),
}


def write_transaction(store: Any) -> AbstractAsyncContextManager[Any]:
    """The backend's own write transaction (the code path every write method uses)."""
    if store.backend == "sqlite":
        return store._writer.transaction()
    return store._db.transaction()


def assert_no_lock_left(place: StorePlace) -> None:
    """Another connection can take the write lock at once (SQLite only)."""
    if place.backend != "sqlite":
        return
    with closing(sqlite3.connect(place.path, timeout=0, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")


async def test_cancel_between_write_and_commit_rolls_back(place: StorePlace, store: Store) -> None:
    written = asyncio.Event()

    async def stuck_writer() -> None:
        async with write_transaction(store) as db:
            await db.execute(INSERT_SETTING[place.backend])
            written.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck_writer())
    await asyncio.wait_for(written.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)

    started = time.perf_counter()
    await asyncio.wait_for(store.set_settings("guild", 2, {"after": True}), 10)
    assert time.perf_counter() - started < 1.0
    assert await store.get_settings("guild", 1) == {}
    assert await store.get_settings("guild", 2) == {"after": True}
    assert_no_lock_left(place)


async def test_an_error_inside_a_write_rolls_back(place: StorePlace, store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with write_transaction(store) as db:
            await db.execute(INSERT_SETTING[place.backend])
            raise RuntimeError("boom")
    assert await store.get_settings("guild", 1) == {}
    await asyncio.wait_for(store.set_settings("guild", 1, {"ok": 1}), 10)
    assert_no_lock_left(place)


async def test_random_cancellations_never_leave_half_an_exchange(
    place: StorePlace, store: Store
) -> None:
    conversation = await store.get_or_create_conversation(
        "guild:1:channel:1", guild_id=1, channel_id=1, thread_id=None, user_id=1
    )
    delays = random.Random(4711)
    outcomes: Counter[str] = Counter()
    for number in range(40):
        exchange = await store.begin_exchange(conversation.id, user(f"q{number}", 5000 + number))
        assert exchange is not None
        turns = answer_with_tool(str(number))
        task = asyncio.create_task(
            store.complete_exchange(exchange.id, turns, [9000 + number], Usage("m", 1, 1))
        )
        if number % 2:
            await asyncio.sleep(0)  # the write has started; it cannot have committed yet
        else:
            await asyncio.sleep(delays.uniform(0, 0.006))
        task.cancel()
        with suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        record = await store.get_exchange(exchange.id)
        stored = await store.exchange_turns(exchange.id)
        assert record is not None
        if record.status == "complete":
            assert len(stored) == 4 and record.sent_message_ids == [9000 + number]
            outcomes["committed"] += 1
        else:
            assert record.status == "pending" and len(stored) == 1
            outcomes["rolled back"] += 1
            await asyncio.wait_for(store.complete_exchange(exchange.id, turns, [9000 + number]), 10)
    print(f"\ncancellation ({place.backend}): {dict(outcomes)}")
    assert outcomes["rolled back"] > 0
    totals = await store.usage_totals()
    assert totals.requests == outcomes["committed"]
    assert_no_lock_left(place)
