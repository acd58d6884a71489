"""aiosqlite's private ``Connection._execute`` and ``Connection._conn``: a function on its thread.

The private things: ``Connection._execute(fn)``, the queue every public aiosqlite method goes
through to the connection's own thread, and ``Connection._conn``, the ``sqlite3.Connection``
living there. aiosqlite 0.22 has no public call that runs a function on that thread.

The gain: a store method's statements (a write transaction of up to eight, a window read of
three) run in ONE trip to the connection's thread instead of one trip per statement (each a
queue put, a thread wake-up and an event-loop wake-up). The SQLite group-commit writer
(``bot.store.sqlite_writer``) relies on it to BEGIN, run a body, RELEASE and COMMIT together.

The fallback, when a future aiosqlite lacks either name: the same ``work`` runs on a worker
thread against ``PublicConnection``, which forwards each statement to the event loop's public
aiosqlite calls (``execute``, ``executemany``, ``commit``, ``rollback``, ``in_transaction``) and
waits for it: the same statements in the same order on the same connection, one trip each.
Correct, only slower. ``tests/bot/shims/test_aiosqlite_internals.py`` fails when the names go.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, TypeVar, cast

import aiosqlite

T = TypeVar("T")


def has_internals(db: aiosqlite.Connection) -> bool:
    """Whether ``db`` has the private ``_execute`` queue and its ``sqlite3.Connection``."""
    return hasattr(db, "_execute") and hasattr(type(db), "_conn")


async def run_on_thread(
    db: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T], *, internals: bool = True
) -> T:
    """Run ``work(connection)`` against ``db``: in one trip to its thread where possible.

    ``work`` gets the ``sqlite3.Connection`` (same row factory) and must only run statements
    on it (``execute``/``executemany`` and their cursors' ``fetchone``/``fetchall``/
    ``rowcount``/``lastrowid``, ``commit``, ``rollback``, ``in_transaction``); it must not
    touch the event loop.

    Args:
        internals: ``False`` forces the public-API fallback (tests).
    """
    if internals and has_internals(db):
        return cast(T, await db._execute(lambda: work(db._conn)))
    loop = asyncio.get_running_loop()
    proxy = cast(sqlite3.Connection, PublicConnection(db, loop))
    return await asyncio.to_thread(work, proxy)


class PublicConnection:
    """The part of ``sqlite3.Connection`` the store uses, made of public aiosqlite calls.

    Used from a worker thread: each call runs its coroutine on ``loop`` and waits for it.
    """

    def __init__(self, db: aiosqlite.Connection, loop: asyncio.AbstractEventLoop) -> None:
        self._db = db
        self._loop = loop

    def _wait(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> PublicCursor:
        """One statement; its rows are fetched at once."""
        return PublicCursor(self._wait(_run(self._db, sql, parameters)))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> PublicCursor:
        """One statement for each parameter row."""
        cursor = self._wait(self._db.executemany(sql, list(parameters)))
        return PublicCursor((cursor.rowcount, cursor.lastrowid, []))

    def commit(self) -> None:
        """Commit the open transaction."""
        self._wait(self._db.commit())

    def rollback(self) -> None:
        """Roll the open transaction back."""
        self._wait(self._db.rollback())

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""
        return self._wait(_in_transaction(self._db))


async def _in_transaction(db: aiosqlite.Connection) -> bool:
    return db.in_transaction


async def _run(
    db: aiosqlite.Connection, sql: str, parameters: Sequence[Any]
) -> tuple[int, int | None, list[Any]]:
    async with db.execute(sql, parameters) as cursor:
        rows = list(await cursor.fetchall())
        return cursor.rowcount, cursor.lastrowid, rows


class PublicCursor:
    """A finished statement: its row count, last row id and rows."""

    def __init__(self, outcome: tuple[int, int | None, list[Any]]) -> None:
        self.rowcount, self.lastrowid, self._rows = outcome

    def fetchall(self) -> list[Any]:
        """The rows not fetched yet."""
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> Any:
        """The next row, or ``None``."""
        return self._rows.pop(0) if self._rows else None
