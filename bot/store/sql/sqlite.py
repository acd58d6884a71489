"""The SQLite executor: each program in one trip to a connection's thread.

Writes go through the store's one writer (``sqlite_writer.Writer``: ``BEGIN IMMEDIATE``, group
commit); reads through the read-only connection WAL lets run beside it. Times are stored as
integer milliseconds since the epoch and JSON as text.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiosqlite

from bot.store import records
from bot.store.sql.program import Program, Statement
from bot.store.sqlite_base import fetch_one, on_thread
from bot.store.sqlite_writer import Writer

T = TypeVar("T")
CHECKPOINT_TRIES = 50
CHECKPOINT_RETRY_S = 0.02


class SqliteDialect:
    """Milliseconds for times, text for JSON, no row locks (the writer is alone)."""

    name = "sqlite"
    forever = 2**62

    def time(self, moment: datetime) -> int:
        """Milliseconds since the epoch."""
        return int(moment.timestamp() * 1000)

    def from_time(self, value: Any) -> datetime:
        """A stored millisecond time as UTC ``datetime``."""
        return datetime.fromtimestamp(value / 1000, UTC)

    def json(self, value: Any) -> str:
        """Compact JSON text."""
        return records.to_json(value)

    def from_json(self, value: Any) -> Any:
        """Decode a JSON column, skipping the parser for the common empty values."""
        if value == "[]":
            return []
        if value == "{}":
            return {}
        return json.loads(value)

    def lock(self, alias: str) -> str:
        """Nothing: every write holds the database's one write lock."""
        return ""

    def contains(self, text: str, part: str) -> str:
        """``instr`` on the stored text."""
        return f"instr({text}, {part}) > 0"


SQLITE = SqliteDialect()


def drive(program: Program[T], connection: sqlite3.Connection) -> T:
    """Run ``program`` to its end on ``connection`` (on the connection's thread)."""
    result: Any = None
    try:
        while True:
            statement = program.send(result)
            result = _execute(connection, statement)
    except StopIteration as done:
        return done.value


def _execute(connection: sqlite3.Connection, statement: Statement) -> Any:
    kind, sql, params = statement.kind, statement.sql, statement.params
    if kind == "many":
        connection.executemany(sql, params)
        return None
    cursor = connection.execute(sql, params)
    if kind == "run":
        cursor.fetchall()  # a RETURNING clause's rows: finish the statement
        return int(cursor.rowcount)
    found = cursor.fetchall()
    if kind == "rows":
        return found
    return found[0] if found else None


class SqliteExecutor:
    """Programs on the store's writer and reader connections."""

    dialect = SQLITE

    def __init__(self, writer: Writer, reader: aiosqlite.Connection) -> None:
        self.writer = writer
        self.reader = reader

    async def read(self, program: Callable[[], Program[T]]) -> T:
        """One trip to the reader's thread."""
        return await on_thread(self.reader, lambda connection: drive(program(), connection))

    async def write(self, program: Callable[[], Program[T]]) -> T:
        """One write transaction (group-committed), in one trip to the writer's thread."""
        return await self.writer.run(lambda connection: drive(program(), connection))

    async def scrub(self) -> None:
        """Checkpoint the WAL into the database and truncate it (deleted text leaves it)."""
        async with self.writer.exclusive() as db:
            for _ in range(CHECKPOINT_TRIES):
                row = await fetch_one(db, "PRAGMA wal_checkpoint(TRUNCATE)")
                if row is not None and row[0] == 0:
                    return
                await asyncio.sleep(CHECKPOINT_RETRY_S)
