"""The PostgreSQL executor: each program on one pooled asyncpg connection.

Writes run in a transaction (committed at the end, rolled back on any exception); reads run
their statements on one connection outside a transaction, as single reads did before. Times
are ``TIMESTAMPTZ`` and JSON is ``JSONB`` (the pool's codec encodes and decodes it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg

from bot.store.postgres_base import DB_ERRORS, Database, row_count
from bot.store.sql.program import Program, Statement, numbered

T = TypeVar("T")


class PostgresDialect:
    """``TIMESTAMPTZ`` and ``JSONB`` as they are; rows locked while they change."""

    name = "postgres"
    forever = datetime.max.replace(tzinfo=UTC)

    def time(self, moment: datetime) -> datetime:
        """As it is."""
        return moment

    def from_time(self, value: Any) -> datetime:
        """As it is (asyncpg returns UTC)."""
        return value

    def json(self, value: Any) -> Any:
        """As it is (the pool's JSONB codec encodes it)."""
        return value

    def from_json(self, value: Any) -> Any:
        """As it is (the pool's JSONB codec decoded it)."""
        return value

    def lock(self, alias: str) -> str:
        """Lock the selected rows of ``alias`` until the transaction ends."""
        return f" FOR UPDATE OF {alias}"

    def contains(self, text: str, part: str) -> str:
        """``strpos`` on the column's text."""
        return f"strpos({text}::text, {part}) > 0"


POSTGRES = PostgresDialect()


async def drive(program: Program[T], connection: asyncpg.Connection) -> T:
    """Run ``program`` to its end on ``connection``."""
    result: Any = None
    try:
        while True:
            statement = program.send(result)
            result = await _execute(connection, statement)
    except StopIteration as done:
        return done.value


async def _execute(connection: asyncpg.Connection, statement: Statement) -> Any:
    sql = numbered(statement.sql)
    if statement.kind == "many":
        await connection.executemany(sql, statement.params)
        return None
    if statement.kind == "run":
        return row_count(await connection.execute(sql, *statement.params))
    if statement.kind == "rows":
        return list(await connection.fetch(sql, *statement.params))
    return await connection.fetchrow(sql, *statement.params)


class PostgresExecutor:
    """Programs on the store's pool."""

    dialect = POSTGRES

    def __init__(self, database: Database) -> None:
        self.database = database

    async def read(self, program: Callable[[], Program[T]]) -> T:
        """On one pooled connection, outside a transaction."""
        try:
            async with self.database.pool.acquire() as connection:
                return await drive(program(), connection)
        except DB_ERRORS as error:
            raise self.database.failure(error) from error

    async def write(self, program: Callable[[], Program[T]]) -> T:
        """In one transaction."""
        async with self.database.transaction() as connection:
            return await drive(program(), connection)

    async def scrub(self) -> None:
        """Nothing: dead rows leave the disk when PostgreSQL vacuums the tables."""
