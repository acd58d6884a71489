"""aiosqlite's private ``_execute``/``_conn``: still there, and the public fallback works."""

from __future__ import annotations

import inspect
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.shims import aiosqlite_internals
from bot.shims.aiosqlite_internals import has_internals, run_on_thread
from bot.store.models import NewTurn, UserTurn
from bot.store.sqlite import SqliteStore
from bot.store.sqlite_writer import Writer


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await aiosqlite.connect(tmp_path / "shim.db", isolation_level=None)
    connection.row_factory = aiosqlite.Row
    await connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    try:
        yield connection
    finally:
        await connection.close()


async def test_aiosqlite_still_has_the_private_queue_and_connection(
    db: aiosqlite.Connection,
) -> None:
    """Fails when an aiosqlite upgrade drops what the fast path uses (then: the fallback runs)."""
    assert has_internals(db), "aiosqlite.Connection lost _execute or _conn"
    assert list(inspect.signature(aiosqlite.Connection._execute).parameters)[:2] == ["self", "fn"]
    assert isinstance(db._conn, sqlite3.Connection)
    thread = await db._execute(threading.get_ident)
    assert thread != threading.get_ident()


def _work(connection: sqlite3.Connection) -> tuple[int | None, int, list[str], bool, str]:
    connection.execute("BEGIN IMMEDIATE")
    inside = connection.in_transaction
    first = connection.execute("INSERT INTO t (v) VALUES (?)", ("a",))
    many = connection.executemany("INSERT INTO t (v) VALUES (?)", [("b",), ("c",)])
    connection.commit()
    changed = connection.execute("UPDATE t SET v = v || '!' WHERE id > ?", (1,)).rowcount
    rows = connection.execute("SELECT v FROM t ORDER BY id").fetchall()
    one = connection.execute("SELECT v FROM t WHERE id = ?", (1,)).fetchone()
    assert many.rowcount == 2 and connection.execute("SELECT 1 WHERE 0").fetchone() is None
    return first.lastrowid, changed, [row["v"] for row in rows], inside, one["v"]


@pytest.mark.parametrize("internals", [True, False], ids=["private", "public-fallback"])
async def test_both_paths_run_the_same_work_alike(
    db: aiosqlite.Connection, internals: bool
) -> None:
    outcome = await run_on_thread(db, _work, internals=internals)
    assert outcome == (1, 2, ["a", "b!", "c!"], True, "a")
    assert not db.in_transaction


async def test_the_fallback_rolls_back(db: aiosqlite.Connection) -> None:
    def undone(connection: sqlite3.Connection) -> bool:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO t (v) VALUES ('x')")
        connection.rollback()
        return connection.in_transaction

    assert await run_on_thread(db, undone, internals=False) is False
    assert [tuple(row) for row in await db.execute_fetchall("SELECT COUNT(*) FROM t")] == [(0,)]


async def test_the_group_commit_writer_works_on_the_fallback(
    db: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aiosqlite_internals, "has_internals", lambda _db: False)
    writer = Writer(db, "shim.db")
    ids = [
        await writer.run(lambda c, v=v: c.execute("INSERT INTO t (v) VALUES (?)", (v,)).lastrowid)
        for v in ("p", "q")
    ]
    with pytest.raises(ZeroDivisionError):
        await writer.run(lambda c: c.execute("INSERT INTO t (v) VALUES ('z')") and 1 / 0)
    assert ids == [1, 2]
    assert [row[0] for row in await db.execute_fetchall("SELECT v FROM t")] == ["p", "q"]


async def test_a_store_works_on_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aiosqlite_internals, "has_internals", lambda _db: False)
    store = await SqliteStore.open(tmp_path / "store.db")
    try:
        conversation = await store.get_or_create_conversation(
            "dm:1", guild_id=None, channel_id=5, thread_id=None, user_id=1
        )
        exchange = await store.begin_exchange(
            conversation.id, UserTurn(1, "ann", "hi", source_message_id=9)
        )
        assert exchange is not None
        window = await store.build_window(conversation.id, 1000, store.counter)
        assert window == [{"role": "user", "content": "hi", "name": "ann"}]
        await store.complete_exchange(exchange.id, [NewTurn("assistant", "hello")], [10])
        record = await store.get_exchange(exchange.id)
        assert record is not None and (record.status, record.sent_message_ids) == ("complete", [10])
        found = await store.conversation_for_message(10)
        assert found is not None and (found.id, found.key) == (conversation.id, "dm:1")
    finally:
        await store.close()
