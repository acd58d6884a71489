"""PostgreSQL plumbing: the pool, transactions and migrations (asyncpg); the SQL is in
``bot.store.sql``.

Several toolcord processes (one per shard range) may share one database. Writes run in
transactions on pooled connections; the server makes them atomic and durable (synchronous
commit). Migrations take a transaction-scoped advisory lock, so processes starting together
migrate one after the other, and are recorded in the ``schema_migrations`` table.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from bot.errors import StoreError
from bot.store.errors import MigrationError, SchemaTooNewError, StoreLocationError
from bot.store.migrations import Migration

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


def check_schema_name(schema: str) -> str:
    """``schema`` if it is a plain lower-case identifier, else ``StoreLocationError``."""
    if not _SCHEMA_NAME.match(schema):
        raise StoreLocationError(
            f"The PostgreSQL schema name {schema!r} is not allowed. The bot owner must use "
            "lower-case letters, digits and underscores (at most 63)."
        )
    return schema


async def _init_connection(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda value: json.dumps(value, separators=(",", ":"), ensure_ascii=False),
        decoder=json.loads,
        schema="pg_catalog",
    )


async def create_pool(dsn: str, schema: str | None, where: str) -> asyncpg.Pool:
    """A connection pool with the JSONB codec, using ``schema`` (created if missing).

    Raises:
        StoreError: The server cannot be reached or refuses the login.
    """
    settings = {"search_path": check_schema_name(schema)} if schema else None
    try:
        if schema:
            await _create_schema(dsn, schema)
        pool = await asyncpg.create_pool(
            dsn, min_size=1, max_size=10, init=_init_connection, server_settings=settings
        )
    except DB_ERRORS as error:
        raise StoreError(
            f"Cannot connect to the PostgreSQL store at {where}: {error}. The bot owner must "
            "check that the server runs and that the DSN (host, user, database) is right."
        ) from error
    assert pool is not None
    return pool


async def _create_schema(dsn: str, schema: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema):
            await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    except asyncpg.UniqueViolationError:
        pass
    finally:
        await connection.close()


class Database:
    """The pool and its transaction, with driver errors turned into ``StoreError``."""

    def __init__(self, pool: asyncpg.Pool, where: str) -> None:
        self.pool = pool
        self.where = where

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection in a transaction: committed at the end, rolled back on any exception."""
        try:
            async with self.pool.acquire() as connection, connection.transaction():
                yield connection
        except DB_ERRORS as error:
            raise self.failure(error) from error

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """All rows of one read statement."""
        try:
            return list(await self.pool.fetch(sql, *args))
        except DB_ERRORS as error:
            raise self.failure(error) from error

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        """The first row of one read statement, or ``None``."""
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    def failure(self, error: BaseException) -> StoreError:
        """A ``StoreError`` telling the owner what PostgreSQL said."""
        return StoreError(
            f"The PostgreSQL store at {self.where} failed: {error}. Nothing was written. The bot "
            "owner must check the database server (reachable, disk space, permissions)."
        )


async def migrate(pool: asyncpg.Pool, migrations: Sequence[Migration], where: str) -> int:
    """Bring the schema to the newest of ``migrations``; each version in one transaction.

    Raises:
        SchemaTooNewError: The database was migrated by a newer toolcord.
    """
    known = migrations[-1].version if migrations else 0
    async with pool.acquire() as connection:
        version = await _step(connection, None, known, where)
        for migration in migrations:
            if migration.version > version:
                version = await _step(connection, migration, known, where)
    return version


async def _step(
    connection: asyncpg.Connection, migration: Migration | None, known: int, where: str
) -> int:
    """Under the lock: check the version, then apply ``migration`` if it is still due."""
    async with connection.transaction():
        version = await _locked_version(connection)
        if version > known:
            raise SchemaTooNewError(where, version, known)
        if migration is None or migration.version <= version:
            return version
        try:
            await connection.execute(migration.sql)
        except asyncpg.PostgresError as error:
            raise MigrationError(
                where, migration.version, migration.name, version, error
            ) from error
        await connection.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            migration.version,
            migration.name,
        )
        return migration.version


async def _locked_version(connection: asyncpg.Connection) -> int:
    await connection.execute(
        "SELECT pg_advisory_xact_lock(hashtext('toolcord.migrate.' || current_schema()))"
    )
    await connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    value = await connection.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
    return int(value)


def row_count(status: str) -> int:
    """The row count of an ``execute`` status such as ``"DELETE 3"``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0
