"""The SQLite write connection: one writer at a time, several transactions per fsync.

Every write runs under one ``asyncio.Lock``, in order. With ``synchronous=FULL`` each COMMIT waits
for an fsync (about 1 ms on a quiet disk, several under load), so committing each write alone caps
the store at a few hundred writes per second however many conversations are waiting. Group commit
lifts that cap without weakening durability:

- A write that finds no open SQLite transaction begins one (``BEGIN IMMEDIATE``). If nobody is
  queued behind it when its body ends, it commits at once: a lone write costs what it always did.
- If others are queued, it leaves the transaction open; the next writer joins it inside a
  ``SAVEPOINT`` (so its failure undoes only its own statements), and so on. The last of the group
  (or a flush task queued behind it) commits once for all of them.
- No caller returns before the COMMIT that holds its writes has succeeded: an acknowledged write is
  on disk. If that COMMIT fails, every caller of the group gets the ``StoreError`` and nothing of
  the group was written.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import aiosqlite

from bot.errors import StoreError
from bot.store.sqlite_base import run_to_end

SAVEPOINT = "toolcord_write"
MAX_GROUP = 64


@dataclass(eq=False)
class _Group:
    """Writes sharing one SQLite transaction, and the outcome of its COMMIT."""

    committed: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    members: int = 0

    def settle(self, error: BaseException | None = None) -> None:
        if self.committed.done():
            return
        if error is None:
            self.committed.set_result(None)
        else:
            self.committed.set_exception(error)
            self.committed.add_done_callback(_retrieved)


def _retrieved(future: asyncio.Future[None]) -> None:
    future.exception()  # the callers that wait see it; this only silences "never retrieved"


class Writer:
    """The one write connection, its lock and the (group-committed) write transaction."""

    def __init__(self, db: aiosqlite.Connection, where: str) -> None:
        self.db = db
        self.where = where
        self.lock = asyncio.Lock()
        self._queued = 0
        self._group: _Group | None = None
        self._flusher: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; returns only once its writes are committed.

        Each step that changes the transaction's state runs to its end even if the caller is
        cancelled meanwhile (the cancellation is raised afterwards), so the bookkeeping never
        disagrees with SQLite.

        Raises:
            StoreError: SQLite failed (disk full, read-only, damaged); nothing was written.
        """
        async with self._locked():
            joined: list[tuple[_Group, bool]] = []
            try:
                await run_to_end(self._join(joined))
                yield self.db
            except BaseException as error:
                if joined:
                    await run_to_end(self._undo(*joined[0]))
                    await run_to_end(self._settle())
                if isinstance(error, sqlite3.Error):
                    raise self.failure(error) from error
                raise
            group, first = joined[0]
            await run_to_end(self._keep(group, first))
        await run_to_end(asyncio.shield(group.committed))

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[aiosqlite.Connection]:
        """The write connection alone, outside any transaction (checkpoints, closing)."""
        async with self._locked():
            if self._group is not None:
                await run_to_end(self._commit(self._group))
            yield self.db

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        self._queued += 1
        try:
            await self.lock.acquire()
        finally:
            self._queued -= 1
        try:
            yield
        finally:
            self.lock.release()

    async def _join(self, joined: list[tuple[_Group, bool]]) -> None:
        """Begin a group or join the open one in a savepoint; note it in ``joined``."""
        group = self._group
        if group is None:
            await self.db.execute("BEGIN IMMEDIATE")
            group, first = _Group(), True
            self._group = group
        else:
            await self.db.execute(f"SAVEPOINT {SAVEPOINT}")
            first = False
        group.members += 1
        joined.append((group, first))

    async def _keep(self, group: _Group, first: bool) -> None:
        """The body succeeded: fold its savepoint into the group, then commit or leave it open."""
        if not first:
            try:
                await self.db.execute(f"RELEASE {SAVEPOINT}")
            except sqlite3.Error as error:
                await self._rollback()
                self._group = None
                group.settle(self.failure(error))
                return
        await self._settle()

    async def _undo(self, group: _Group, first: bool) -> None:
        """Take back one write: its savepoint, or the whole transaction it began alone."""
        if first:
            await self._rollback()
            self._group = None
            group.settle()
            return
        try:
            await self.db.execute(f"ROLLBACK TO {SAVEPOINT}")
            await self.db.execute(f"RELEASE {SAVEPOINT}")
        except sqlite3.Error as error:
            await self._rollback()
            self._group = None
            group.settle(self.failure(error))

    async def _settle(self) -> None:
        """Commit the open group now, unless writers are queued to join it (then one will)."""
        group = self._group
        if group is None:
            return
        if self._queued == 0 or group.members >= MAX_GROUP:
            await self._commit(group)
        elif self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="toolcord-store-flush")

    async def _flush(self) -> None:
        """Commits the group even if every writer queued behind it was cancelled."""
        async with self._locked():
            if self._group is not None:
                await run_to_end(self._commit(self._group))

    async def _commit(self, group: _Group) -> None:
        self._group = None
        try:
            await self.db.commit()
        except sqlite3.Error as error:
            await self._rollback()
            group.settle(self.failure(error))
        else:
            group.settle()

    async def _rollback(self) -> None:
        with suppress(sqlite3.Error):
            await self.db.rollback()

    def failure(self, error: sqlite3.Error) -> StoreError:
        """A ``StoreError`` telling the owner what SQLite said and what to check."""
        return StoreError(
            f"The conversation store at {self.where} failed: {error}. Nothing was written. The "
            "bot owner must check the disk (free space, permissions, health)."
        )
