"""SQLite group commit: queued writes share one COMMIT, and none returns before it is on disk."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.errors import StoreError
from bot.store.sqlite import SqliteStore

from .helpers import committed_settings, counting_commits, plain_answer, user

WRITERS = 24


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(tmp_path / "store.db")
    yield store
    await store.close()


def committed_rows(path: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as other:
        return int(other.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


async def test_concurrent_writes_share_commits_and_all_land(sqlite_store: SqliteStore) -> None:
    async with counting_commits(sqlite_store) as commits:
        await asyncio.gather(
            *(sqlite_store.set_settings("guild", n, {"n": n}) for n in range(WRITERS))
        )
    assert committed_settings(sqlite_store.path) == set(range(WRITERS))
    assert 1 <= len(commits) < WRITERS


async def test_a_lone_write_commits_at_once(sqlite_store: SqliteStore) -> None:
    async with counting_commits(sqlite_store) as commits:
        await sqlite_store.set_settings("guild", 1, {"alone": True})
        assert committed_settings(sqlite_store.path) == {1}
    assert len(commits) == 1


async def test_a_failing_write_in_a_group_undoes_only_itself(sqlite_store: SqliteStore) -> None:
    async def failing() -> None:
        async with sqlite_store._writer.transaction() as db:
            await db.execute(
                "INSERT INTO settings (scope, scope_id, data, updated_at) "
                "VALUES ('guild', 999, '{}', 0)"
            )
            raise RuntimeError("boom")

    writes = [sqlite_store.set_settings("guild", n, {"n": n}) for n in range(4)]
    outcomes = await asyncio.gather(*writes[:2], failing(), *writes[2:], return_exceptions=True)
    assert [type(o).__name__ for o in outcomes] == [
        "NoneType",
        "NoneType",
        "RuntimeError",
        "NoneType",
        "NoneType",
    ]
    assert committed_settings(sqlite_store.path) == {0, 1, 2, 3}


async def test_cancelled_writers_behind_a_group_still_let_it_commit(
    sqlite_store: SqliteStore,
) -> None:
    first = asyncio.create_task(sqlite_store.set_settings("guild", 1, {"kept": True}))
    queued = [asyncio.create_task(sqlite_store.set_settings("guild", n, {"n": n})) for n in (2, 3)]
    await asyncio.sleep(0)
    for task in queued:
        task.cancel()
    await asyncio.wait_for(first, 10)
    await asyncio.gather(*queued, return_exceptions=True)
    assert 1 in committed_settings(sqlite_store.path)
    assert await sqlite_store.get_settings("guild", 1) == {"kept": True}


async def test_a_failed_commit_fails_every_write_of_the_group(sqlite_store: SqliteStore) -> None:
    conversation = await sqlite_store.get_or_create_conversation(
        "guild:1:channel:1", guild_id=1, channel_id=1, thread_id=None, user_id=1
    )

    async def breaks_at_commit() -> None:
        async with sqlite_store._writer.transaction() as db:
            await db.execute("PRAGMA defer_foreign_keys=ON")
            await db.execute(
                "INSERT INTO message_links (message_id, conversation_id, exchange_id, kind) "
                "VALUES (1, 424242, 424242, 'sent')"
            )

    async def good(number: int) -> object:
        return await sqlite_store.begin_exchange(conversation.id, user(f"q{number}", number))

    outcomes = await asyncio.gather(breaks_at_commit(), good(10), good(11), return_exceptions=True)
    assert all(isinstance(outcome, StoreError) for outcome in outcomes), outcomes
    assert committed_rows(sqlite_store.path, "exchanges") == 0
    assert committed_rows(sqlite_store.path, "message_links") == 0
    exchange = await good(12)
    assert exchange is not None
    await sqlite_store.complete_exchange(exchange.id, plain_answer("fine"), [77])
    assert (await sqlite_store.get_exchange(exchange.id)).status == "complete"  # type: ignore[union-attr]


async def test_cancelling_at_any_await_leaves_the_writer_usable(sqlite_store: SqliteStore) -> None:
    """Cancel writes after 0..7 loop turns: each is all or nothing, and later writes still work."""
    for number in range(120):
        task = asyncio.create_task(sqlite_store.set_settings("guild", number, {"n": number}))
        for _ in range(number % 8):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.wait_for(sqlite_store.set_settings("user", number, {"after": True}), 10)
        assert await sqlite_store.get_settings("user", number) == {"after": True}
    with contextlib.closing(sqlite3.connect(sqlite_store.path, timeout=0)) as other:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
