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

``Writer.run`` does all that in one trip to the connection's thread: BEGIN (or SAVEPOINT), the
store method's statements, RELEASE and, if nobody is queued by then, COMMIT. ``transaction``
does the same one statement per trip, for callers that need to await between statements.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import aiosqlite

from bot.errors import StoreError
from bot.store.sqlite_base import on_thread, run_to_end

SAVEPOINT = "toolcord_write"
MAX_GROUP = 64
T = TypeVar("T")


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


class _Step:
    """One write on the connection's thread: open, body, fold in, maybe commit (no awaits).

    Called on the connection's thread; the event loop reads the outcome once it returns.
    """

    def __init__(
        self,
        body: Callable[[sqlite3.Connection], Any],
        *,
        begin: bool,
        commit_now: Callable[[], bool],
    ) -> None:
        self.body = body
        self.begin = begin  # BEGIN IMMEDIATE; else join the open transaction in a SAVEPOINT
        self.commit_now = commit_now
        self.cancelled = False
        self.result: Any = None
        self.error: BaseException | None = None  # the body's own failure; its statements undone
        self.failure: sqlite3.Error | None = None  # the transaction failed and was rolled back
        self.open = False  # the transaction is still open afterwards: the group goes on

    def cancel(self) -> None:
        """The caller was cancelled: undo the body, unless it is already folded in."""
        self.cancelled = True

    def __call__(self, connection: sqlite3.Connection) -> None:
        try:
            self._check_cancelled()
            connection.execute("BEGIN IMMEDIATE" if self.begin else f"SAVEPOINT {SAVEPOINT}")
        except BaseException as error:
            self.error = error  # nothing of this write was begun
        else:
            self._run_body(connection)
        if self.failure is None and connection.in_transaction and self.commit_now():
            try:
                connection.commit()
            except sqlite3.Error as error:
                self._abort(connection, error)
        self.open = connection.in_transaction

    def _run_body(self, connection: sqlite3.Connection) -> None:
        try:
            self.result = self.body(connection)
            self._check_cancelled()
        except BaseException as error:
            self.error = error
            self._undo(connection)
            return
        if not self.begin:
            try:
                connection.execute(f"RELEASE {SAVEPOINT}")
            except sqlite3.Error as error:
                self._abort(connection, error)

    def _check_cancelled(self) -> None:
        if self.cancelled:
            raise asyncio.CancelledError

    def _undo(self, connection: sqlite3.Connection) -> None:
        """Take back the body: its savepoint, or the whole transaction it began."""
        if self.begin:
            with suppress(sqlite3.Error):
                connection.rollback()
            return
        try:
            connection.execute(f"ROLLBACK TO {SAVEPOINT}")
            connection.execute(f"RELEASE {SAVEPOINT}")
        except sqlite3.Error as error:
            self._abort(connection, error)

    def _abort(self, connection: sqlite3.Connection, error: sqlite3.Error) -> None:
        """Roll the whole transaction back: every write of the group fails with ``error``."""
        self.failure = error
        with suppress(sqlite3.Error):
            connection.rollback()


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

    async def run(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """``body`` as one write transaction, in one trip to the connection's thread.

        ``body`` runs there with the ``sqlite3.Connection`` and must only run statements. The
        guarantees of ``transaction`` hold: it returns once its writes are committed, and a
        failing ``body`` undoes only its own statements. A cancellation that arrives before
        the body's statements are folded into the transaction undoes them; a later one is
        raised once they are committed.

        Raises:
            StoreError: SQLite failed (disk full, read-only, damaged); nothing was written.
        """
        async with self._locked():
            members = self._group.members if self._group is not None else 0
            step = _Step(
                body,
                begin=self._group is None,
                commit_now=lambda: self._queued == 0 or members + 1 >= MAX_GROUP,
            )
            group = await run_to_end(self._attempt(step), step.cancel)
        if step.error is not None:
            if isinstance(step.error, sqlite3.Error):
                raise self.failure(step.error) from step.error
            raise step.error
        if step.failure is not None:
            raise self.failure(step.failure) from step.failure
        if group is not None:
            await run_to_end(asyncio.shield(group.committed))
        return cast(T, step.result)

    async def _attempt(self, step: _Step) -> _Group | None:
        """Run ``step`` on the thread, then match the bookkeeping; the group still to commit.

        ``step.commit_now`` reads ``_queued`` on the connection's thread: only a hint (a writer
        queued meanwhile begins its own transaction, one cancelled meanwhile leaves the group to
        ``_settle``), never a question of what is written.
        """
        group = self._group
        await on_thread(self.db, step)
        if not step.open:
            self._group = None
            if group is not None:
                group.settle(None if step.failure is None else self.failure(step.failure))
            return None
        if group is None:
            group = self._group = _Group()
        group.members += 1
        await self._settle()
        return group

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[aiosqlite.Connection]:
        """The write connection alone, outside any transaction (checkpoints, closing)."""
        async with self._locked():
            if self._group is not None:
                await run_to_end(self._commit(self._group))
            yield self.db

    @asynccontextmanager
    async def _locked(self, *, queued: int = 1) -> AsyncIterator[None]:
        """The lock; meanwhile counted in ``_queued`` (writers the open group may wait for)."""
        self._queued += queued
        try:
            await self.lock.acquire()
        finally:
            self._queued -= queued
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
        """Commits the group even if every writer queued behind it was cancelled.

        Not counted as queued: the last writer of the group commits it without waiting for this.
        """
        async with self._locked(queued=0):
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
