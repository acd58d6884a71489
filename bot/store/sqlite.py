"""The SQLite conversation store (aiosqlite), the default: one file in the data folder.

Same contract and the same SQL as the PostgreSQL store (``bot.store.sql``); this module opens,
migrates and closes it. Writes go through one connection behind an ``asyncio.Lock`` in
``BEGIN IMMEDIATE`` transactions, group-committed (``sqlite_writer.Writer``); reads use a second,
read-only connection, which WAL lets run beside the writer. Each method's statements run in one
trip to the connection's thread (``bot.store.sql.sqlite``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import aiosqlite

from bot.store import records
from bot.store.errors import make_data_folder
from bot.store.migrations import Migration, load_migrations
from bot.store.sql.sqlite import SqliteExecutor
from bot.store.sql.store import SqlStore
from bot.store.sqlite_base import connect, fetch_one, migrate
from bot.store.sqlite_writer import Writer
from bot.store.tokens import TokenCounter


class SqliteStore(SqlStore):
    """Conversation store in one SQLite file. Open with ``SqliteStore.open`` (it migrates)."""

    backend = "sqlite"

    def __init__(
        self,
        path: Path,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        *,
        owner: str,
        counter: TokenCounter,
        clock: Callable[[], datetime],
    ) -> None:
        self._writer = Writer(writer, str(path))
        self._reader = reader
        executor = SqliteExecutor(self._writer, reader)
        super().__init__(executor, owner=owner, counter=counter, clock=clock)
        self.path = path

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        owner: str = "main",
        counter: TokenCounter | None = None,
        clock: Callable[[], datetime] = records.utc_now,
        migrations: Sequence[Migration] | None = None,
    ) -> SqliteStore:
        """Open (creating if needed) and migrate the store at ``path``.

        Args:
            path: The database file; its folder is created if missing.
            owner: Names this process's exchanges, so ``recover`` touches only its own.
            counter: Token counter for the estimates stored with turns.
            clock: Source of "now" (tests pass a fake).
            migrations: Schema migrations (tests pass their own); default: the shipped ones.
        """
        path = Path(path)
        make_data_folder(path.parent)
        steps = list(migrations) if migrations is not None else load_migrations("sqlite")
        writer = await connect(path)
        try:
            await migrate(writer, steps, str(path))
            reader = await connect(path, reader=True)
        except BaseException:
            await writer.close()
            raise
        return cls(
            path, writer, reader, owner=owner, counter=counter or TokenCounter(), clock=clock
        )

    def connections(self) -> tuple[Writer, aiosqlite.Connection]:
        """The writer and reader, for narrow stores on the same file (``bot.store.knowledge``)."""
        return self._writer, self._reader

    async def close(self) -> None:
        """Close both connections (waits for a running write to finish)."""
        async with self._writer.exclusive() as db:
            await db.close()
        await self._reader.close()

    async def schema_version(self) -> int:
        """The schema version of the open database."""
        row = await fetch_one(self._reader, "PRAGMA user_version")
        return int(row[0]) if row else 0
