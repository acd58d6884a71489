"""The PostgreSQL conversation store (asyncpg), for several processes sharing one database.

Same contract and the same SQL as the SQLite store (``bot.store.sql``); this module opens,
migrates and closes it. Concurrency comes from the server: each write is one transaction on a
pooled connection; an exchange row is locked (``FOR UPDATE``) while it changes, and unique keys
(conversation key, source message id, ledger key) decide races.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.store import records
from bot.store.migrations import Migration, load_migrations
from bot.store.postgres_base import Database, create_pool, migrate
from bot.store.sql.postgres import PostgresExecutor
from bot.store.sql.store import SqlStore
from bot.store.tokens import TokenCounter


class PostgresStore(SqlStore):
    """Conversation store in PostgreSQL. Open with ``PostgresStore.open`` (it migrates)."""

    backend = "postgres"

    def __init__(
        self,
        database: Database,
        *,
        owner: str,
        counter: TokenCounter,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(PostgresExecutor(database), owner=owner, counter=counter, clock=clock)
        self._db = database

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        owner: str = "main",
        counter: TokenCounter | None = None,
        clock: Callable[[], datetime] = records.utc_now,
        schema: str | None = None,
        migrations: Sequence[Migration] | None = None,
    ) -> PostgresStore:
        """Connect to ``dsn`` (in ``schema``, created if missing) and migrate.

        Args:
            dsn: ``postgresql://user@host:port/database``.
            owner: Names this process (its shard range), so ``recover`` touches only its own.
            counter: Token counter for the estimates stored with turns.
            clock: Source of "now" (tests pass a fake).
            schema: Schema to keep the tables in; default: the server's ``search_path``.
            migrations: Schema migrations (tests pass their own); default: the shipped ones.
        """
        where = _redact(dsn) + (f" (schema {schema})" if schema else "")
        steps = list(migrations) if migrations is not None else load_migrations("postgres")
        pool = await create_pool(dsn, schema, where)
        try:
            await migrate(pool, steps, where)
        except BaseException:
            await pool.close()
            raise
        database = Database(pool, where)
        return cls(database, owner=owner, counter=counter or TokenCounter(), clock=clock)

    async def close(self) -> None:
        """Close the pool (waits for connections in use to be released)."""
        await self._db.pool.close()

    async def schema_version(self) -> int:
        """The schema version of the database."""
        row = await self._db.fetchrow("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        return int(row[0]) if row else 0

    def database(self) -> Database:
        """The pool wrapper, for narrow stores on the same database (``bot.store.knowledge``)."""
        return self._db


def _redact(dsn: str) -> str:
    """The DSN without a password, for messages."""
    head, at, tail = dsn.rpartition("@")
    if not at:
        return dsn
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{tail}"
