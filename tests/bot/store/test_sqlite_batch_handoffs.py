"""SQLite writes and window reads in one trip to the connection's thread, same guarantees.

Each aiosqlite call is a hand-off to the connection's thread and an event-loop wake-up; a
transaction runs all its statements (BEGIN ... COMMIT) in one. These tests count the trips of a
chat turn, and check that a batched write keeps the writer's promises: nothing returns before
its COMMIT, a failing member of a group undoes only its own statements, a cancelled one nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.errors import StoreError
from bot.store.models import Exchange, Usage
from bot.store.sqlite import SqliteStore
from bot.store.sqlite_base import on_thread
from bot.store.tokens import TokenCounter

from .helpers import answer_with_tool, committed_settings, counting_commits, plain_answer, user

# A turn: find the conversation, accept the user turn, build the window, read the quota totals,
# record the answer with its usage. One trip each (the old code made about 20).
TRIPS_PER_TURN = 5
INSERT_SETTING = (
    "INSERT INTO settings (scope, scope_id, data, updated_at) VALUES ('guild', ?, '{}', 0)"
)
WAIT_S = 10
GROUP = 8


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(tmp_path / "store.db")
    yield store
    await store.close()


@contextlib.contextmanager
def counting_trips(store: SqliteStore) -> Iterator[Counter[str]]:
    """Counts the functions handed to the writer's and the reader's thread meanwhile."""
    trips: Counter[str] = Counter()
    connections = {"writer": store._writer.db, "reader": store._reader}
    for name, db in connections.items():
        db._execute = _counted(db._execute, name, trips)  # type: ignore[method-assign,assignment]
    try:
        yield trips
    finally:
        for db in connections.values():
            del db._execute  # the class's method again


def _counted(
    execute: Callable[..., Awaitable[Any]], name: str, trips: Counter[str]
) -> Callable[..., Awaitable[Any]]:
    async def counted(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        trips[name] += 1
        return await execute(fn, *args, **kwargs)

    return counted


async def one_turn(store: SqliteStore, number: int) -> None:
    """What ``bot/conversation.py`` asks of the store for one answered message."""
    conversation = await store.get_or_create_conversation(
        "guild:1:channel:1", guild_id=1, channel_id=1, thread_id=None, user_id=1
    )
    exchange = await store.begin_exchange(conversation.id, user(f"q{number}", 100 + number))
    assert exchange is not None
    window = await store.build_window(
        conversation.id, 4000, TokenCounter(), ["sys"], current_exchange_id=exchange.id
    )
    assert window[-1]["content"] == f"q{number}"
    await store.usage_totals(user_id=1)
    answer = answer_with_tool(str(number))
    await store.complete_exchange(exchange.id, answer, [900 + number], Usage("m", 10, 5))


async def test_a_chat_turn_takes_one_trip_per_store_call(sqlite_store: SqliteStore) -> None:
    for number in range(3):
        await one_turn(sqlite_store, number)
    with counting_trips(sqlite_store) as trips:
        await one_turn(sqlite_store, 3)
    assert sum(trips.values()) <= TRIPS_PER_TURN, trips
    assert trips["writer"] == 2, trips  # begin_exchange and complete_exchange, COMMIT included
    document = await sqlite_store.export_conversation("guild:1:channel:1")
    assert document is not None
    exchanges = document["exchanges"]
    assert [exchange["status"] for exchange in exchanges] == ["complete"] * 4
    assert [len(exchange["turns"]) for exchange in exchanges] == [4] * 4


async def test_a_group_of_writes_takes_one_trip_each(sqlite_store: SqliteStore) -> None:
    async with counting_commits(sqlite_store) as commits:
        with counting_trips(sqlite_store) as trips:
            await asyncio.gather(*(durable(sqlite_store, n) for n in range(GROUP)))
    assert trips["writer"] == GROUP, trips  # the last one commits the group in its own trip
    assert 1 <= len(commits) < GROUP
    assert committed_settings(sqlite_store.path) == set(range(GROUP))


def settings_write(scope_id: int) -> Callable[[sqlite3.Connection], int]:
    def body(db: sqlite3.Connection) -> int:
        db.execute(INSERT_SETTING, (scope_id,))
        return scope_id

    return body


def failing_write(scope_id: int) -> Callable[[sqlite3.Connection], None]:
    """Writes a setting, then a statement SQLite refuses: none of it may stay."""

    def body(db: sqlite3.Connection) -> None:
        db.execute(INSERT_SETTING, (scope_id,))
        db.execute("INSERT INTO no_such_table VALUES (1)")

    return body


async def durable(store: SqliteStore, scope_id: int) -> int:
    """A batched write; on return its row must already be visible to another connection."""
    result = await store._writer.run(settings_write(scope_id))
    assert scope_id in committed_settings(store.path)
    return result


@pytest.mark.parametrize("position", [0, 2, 4])
async def test_a_failing_statement_undoes_only_its_own_write(
    sqlite_store: SqliteStore, position: int
) -> None:
    writes: list[Any] = [durable(sqlite_store, n) for n in range(4)]
    writes.insert(position, sqlite_store._writer.run(failing_write(999)))
    async with counting_commits(sqlite_store) as commits:
        outcomes = await asyncio.gather(*writes, return_exceptions=True)
    failed = outcomes.pop(position)
    assert isinstance(failed, StoreError) and "no_such_table" in str(failed)
    assert outcomes == [0, 1, 2, 3]
    assert committed_settings(sqlite_store.path) == {0, 1, 2, 3}
    assert 1 <= len(commits) < 4  # the writes were grouped: the failing one sat in a savepoint
    assert await sqlite_store.get_settings("guild", 999) == {}


async def test_an_error_raised_by_a_body_reaches_its_caller_only(
    sqlite_store: SqliteStore,
) -> None:
    def broken(db: sqlite3.Connection) -> None:
        db.execute(INSERT_SETTING, (999,))
        raise KeyError("no conversation 7")

    writes = [durable(sqlite_store, n) for n in range(3)]
    outcomes = await asyncio.gather(
        writes[0], sqlite_store._writer.run(broken), *writes[1:], return_exceptions=True
    )
    assert isinstance(outcomes[1], KeyError)
    assert [outcomes[0], *outcomes[2:]] == [0, 1, 2]
    assert committed_settings(sqlite_store.path) == {0, 1, 2}


async def test_a_failed_group_commit_fails_every_batched_write(sqlite_store: SqliteStore) -> None:
    conversation = await sqlite_store.get_or_create_conversation(
        "guild:1:channel:1", guild_id=1, channel_id=1, thread_id=None, user_id=1
    )

    def breaks_at_commit(db: sqlite3.Connection) -> None:
        db.execute("PRAGMA defer_foreign_keys=ON")
        db.execute(
            "INSERT INTO message_links (message_id, conversation_id, exchange_id, kind) "
            "VALUES (1, 424242, 424242, 'sent')"
        )

    async def good(number: int) -> Exchange | None:
        return await sqlite_store.begin_exchange(conversation.id, user(f"q{number}", number))

    outcomes = await asyncio.gather(
        sqlite_store._writer.run(breaks_at_commit), good(10), good(11), return_exceptions=True
    )
    assert all(isinstance(outcome, StoreError) for outcome in outcomes), outcomes
    with contextlib.closing(sqlite3.connect(sqlite_store.path)) as other:
        assert other.execute("SELECT COUNT(*) FROM exchanges").fetchone()[0] == 0
        assert other.execute("SELECT COUNT(*) FROM message_links").fetchone()[0] == 0
    exchange = await good(12)
    assert exchange is not None
    await sqlite_store.complete_exchange(exchange.id, plain_answer("fine"), [77])


async def test_a_write_cancelled_before_its_trip_runs_writes_nothing(
    sqlite_store: SqliteStore,
) -> None:
    release = threading.Event()
    blocker = asyncio.create_task(
        on_thread(sqlite_store._writer.db, lambda _db: release.wait(WAIT_S))
    )
    write = asyncio.create_task(sqlite_store.set_settings("guild", 1, {"cancelled": True}))
    await until(lambda: sqlite_store._writer.lock.locked())
    write.cancel()
    await asyncio.sleep(0)  # the task sees its cancellation (FIFO) before the thread goes on
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(write, WAIT_S)
    assert await asyncio.wait_for(blocker, WAIT_S) is True
    assert await sqlite_store.get_settings("guild", 1) == {}
    await asyncio.wait_for(sqlite_store.set_settings("guild", 2, {"after": True}), WAIT_S)
    assert committed_settings(sqlite_store.path) == {2}


async def test_a_write_cancelled_during_its_body_is_undone(sqlite_store: SqliteStore) -> None:
    loop = asyncio.get_running_loop()
    started, release = asyncio.Event(), threading.Event()

    def slow(db: sqlite3.Connection) -> None:
        db.execute(INSERT_SETTING, (1,))
        loop.call_soon_threadsafe(started.set)
        release.wait(WAIT_S)

    write = asyncio.create_task(sqlite_store._writer.run(slow))
    await asyncio.wait_for(started.wait(), WAIT_S)
    write.cancel()
    await asyncio.sleep(0)  # the task sees its cancellation (FIFO) before the thread goes on
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(write, WAIT_S)
    assert committed_settings(sqlite_store.path) == set()
    await asyncio.wait_for(durable(sqlite_store, 2), WAIT_S)
    with contextlib.closing(sqlite3.connect(sqlite_store.path, timeout=0)) as other:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")


async def until(condition: Callable[[], bool]) -> None:
    """Wait (generously bounded) until ``condition()`` holds."""
    async with asyncio.timeout(WAIT_S):
        while not condition():  # noqa: ASYNC110 - no event exists for the writer's lock
            await asyncio.sleep(0.001)
