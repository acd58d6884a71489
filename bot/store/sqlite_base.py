"""SQLite plumbing: connections and migrations (the writer is in ``sqlite_writer``, the SQL in
``bot.store.sql``).

The rules (see the reliability catalogue, S1-S5): WAL with ``synchronous=FULL``; a 5 s
``busy_timeout``; foreign keys and ``secure_delete`` on; one writer connection guarded by an
``asyncio.Lock``; every write in ``BEGIN IMMEDIATE`` ... ``COMMIT`` (writes queued together share
one COMMIT, each in its own savepoint); ``ROLLBACK`` on any ``BaseException`` (``CancelledError``
included), run to the end even if cancelled again.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.errors import StoreError
from bot.shims.aiosqlite_internals import run_on_thread
from bot.store.errors import MigrationError, SchemaTooNewError
from bot.store.migrations import Migration

T = TypeVar("T")
BUSY_TIMEOUT_MS = 5000
WAL_SWITCH_RETRY_S = 0.05
PRAGMAS = (
    "PRAGMA synchronous=FULL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
)


async def connect(path: Path, *, reader: bool = False) -> aiosqlite.Connection:
    """Open ``path`` in autocommit mode with the store's pragmas (WAL, FULL, ...).

    Raises:
        StoreError: The file is not a usable SQLite database.
    """
    try:
        db = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as error:
        raise StoreError(
            f"Cannot open the conversation store at {path}: {error}. The bot owner must check "
            "that the data folder exists and is writable."
        ) from error
    try:
        db.row_factory = aiosqlite.Row
        await _apply_pragmas(db, path, reader=reader)
    except BaseException:
        await db.close()
        raise
    return db


async def _apply_pragmas(db: aiosqlite.Connection, path: Path, *, reader: bool) -> None:
    try:
        for pragma in PRAGMAS:
            await db.execute(pragma)
        rows = await _switch_to_wal(db)
        if reader:
            await db.execute("PRAGMA query_only=ON")
    except sqlite3.DatabaseError as error:
        raise StoreError(
            f"The conversation store at {path} cannot be read ({error}); it may be damaged or "
            "not a toolcord database. The bot owner must restore it from a backup or move it "
            "away to start with an empty store."
        ) from error
    mode = next(iter(rows))[0] if rows else None
    if str(mode).lower() != "wal":
        raise StoreError(
            f"The conversation store at {path} cannot use write-ahead logging (journal mode "
            f"{mode!r}). The bot owner must put the data folder on a local disk."
        )


async def _switch_to_wal(db: aiosqlite.Connection) -> Any:
    """``PRAGMA journal_mode=WAL``, retried while another connection is switching the same file.

    Changing the journal mode of a new file takes an exclusive lock and does not wait on the
    busy timeout, so processes or tasks opening one new store at once see "database is locked".
    """
    deadline = asyncio.get_running_loop().time() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return await db.execute_fetchall("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as error:
            locked = "locked" in str(error) or "busy" in str(error)
            if not locked or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(WAL_SWITCH_RETRY_S)


async def run_to_end(awaitable: Awaitable[T], on_cancel: Callable[[], None] | None = None) -> T:
    """Await ``awaitable`` to its end even if the caller is cancelled meanwhile.

    A cancellation that arrived while waiting is raised after the work finished; ``on_cancel``
    (if given) is called when it arrives, so the work can give up early where it safely can.
    """
    task = asyncio.ensure_future(awaitable)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done() and task.cancelled():
                raise
            cancelled = True
            if on_cancel is not None:
                on_cancel()
    result = task.result()
    if cancelled:
        raise asyncio.CancelledError
    return result


async def on_thread(db: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work(connection)`` on ``db``'s own thread: several statements, one hand-off.

    ``work`` gets the ``sqlite3.Connection`` (same row factory) and must only run statements;
    how it gets there (aiosqlite's internals, or public calls if they go) is
    ``bot.shims.aiosqlite_internals``.
    """
    return await run_on_thread(db, work)


async def fetch_one(
    db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()
) -> sqlite3.Row | None:
    """The first row of one statement, or ``None``."""
    rows = list(await db.execute_fetchall(sql, params))
    return rows[0] if rows else None


async def migrate(db: aiosqlite.Connection, migrations: Sequence[Migration], where: str) -> int:
    """Bring the schema to the newest of ``migrations``; each version in one transaction.

    Returns:
        The schema version after migrating.

    Raises:
        SchemaTooNewError: The file was written by a newer toolcord.
    """
    known = migrations[-1].version if migrations else 0
    version = await _user_version(db)
    if version > known:
        raise SchemaTooNewError(where, version, known)
    for migration in migrations:
        if migration.version > version:
            version = await _apply(db, migration, known, where)
    return version


async def _user_version(db: aiosqlite.Connection) -> int:
    row = await fetch_one(db, "PRAGMA user_version")
    return int(row[0]) if row else 0


async def _apply(db: aiosqlite.Connection, migration: Migration, known: int, where: str) -> int:
    await db.execute("BEGIN IMMEDIATE")
    try:
        current = await _user_version(db)
        if current > known:
            raise SchemaTooNewError(where, current, known)
        if current < migration.version:
            for statement in split_statements(migration.sql):
                await db.execute(statement)
            await db.execute(f"PRAGMA user_version={int(migration.version)}")
        await run_to_end(db.commit())
    except BaseException as error:
        await run_to_end(db.rollback())
        if isinstance(error, sqlite3.Error):
            kept = await _user_version(db)
            raise MigrationError(where, migration.version, migration.name, kept, error) from error
        raise
    return max(current, migration.version)


def split_statements(sql: str) -> list[str]:
    """Split a script into complete statements (``sqlite3.complete_statement`` decides)."""
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            text = _strip_comments(buffer)
            if text:
                statements.append(text)
            buffer = ""
    if _strip_comments(buffer):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer.strip()!r}")
    return statements


def _strip_comments(text: str) -> str:
    lines = [line for line in text.splitlines() if not line.strip().startswith("--")]
    return "\n".join(lines).strip()
