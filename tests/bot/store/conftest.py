"""Fixtures: the same store contract on SQLite and PostgreSQL.

PostgreSQL tests use ``TOOLCORD_TEST_POSTGRES_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/test``) and skip, saying how to enable them, where no
server answers. Each test gets a fresh schema, dropped afterwards, so parallel runs never meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.store.postgres import PostgresStore
from bot.store.protocol import Store
from bot.store.sqlite import SqliteStore

DEFAULT_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def postgres_dsn() -> str:
    """The DSN of the test PostgreSQL server."""
    return os.environ.get("TOOLCORD_TEST_POSTGRES_DSN", DEFAULT_POSTGRES_DSN)


async def _probe(dsn: str) -> str | None:
    try:
        connection = await asyncio.wait_for(asyncpg.connect(dsn), 5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"{type(error).__name__}: {error}"
    await connection.close()
    return None


@pytest.fixture(scope="session")
def postgres_unavailable() -> str | None:
    """``None`` when the test server answers, else why not."""
    return asyncio.run(_probe(postgres_dsn()))


def skip_without_postgres(reason: str | None) -> None:
    """Skip the running test, saying how to enable PostgreSQL tests."""
    if reason:
        pytest.skip(
            f"PostgreSQL not reachable at {postgres_dsn()} ({reason}). To run these tests "
            "start PostgreSQL there (trust auth, database 'test') or set "
            "TOOLCORD_TEST_POSTGRES_DSN to a server you may create schemas in."
        )


async def drop_schema(schema: str) -> None:
    """Drop a test schema and everything in it."""
    connection = await asyncpg.connect(postgres_dsn())
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()


@dataclass
class StorePlace:
    """Where a test's store lives; ``open`` opens (another) store there."""

    backend: str
    path: Path
    schema: str
    opened: list[Store] = field(default_factory=list)

    async def open(self, **options: Any) -> Store:
        """Open a store at this place (migrating it); closed at teardown."""
        store: Store
        if self.backend == "sqlite":
            store = await SqliteStore.open(self.path, **options)
        else:
            store = await PostgresStore.open(postgres_dsn(), schema=self.schema, **options)
        self.opened.append(store)
        return store

    async def close_all(self) -> None:
        """Close every store opened here (twice is harmless)."""
        for store in self.opened:
            with contextlib.suppress(Exception):
                await store.close()


@pytest.fixture(params=BACKENDS)
async def place(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_unavailable: str | None
) -> AsyncIterator[StorePlace]:
    """A fresh store location on each backend."""
    backend = request.param
    if backend == "postgres":
        skip_without_postgres(postgres_unavailable)
    schema = f"toolcord_test_{uuid.uuid4().hex[:16]}"
    here = StorePlace(backend, tmp_path / "data" / "store.db", schema)
    try:
        yield here
    finally:
        await here.close_all()
        if backend == "postgres":
            await drop_schema(schema)


@pytest.fixture
async def store(place: StorePlace) -> Store:
    """A freshly migrated store on each backend."""
    return await place.open()


@pytest.fixture
def raw_sql(place: StorePlace) -> Callable[..., Awaitable[list[Any]]]:
    """Run one SQL statement directly against the test database (checks and fault setup).

    Placeholders are written ``?`` and converted for PostgreSQL.
    """

    async def run(sql: str, *args: Any) -> list[Any]:
        if place.backend == "sqlite":
            import aiosqlite

            async with aiosqlite.connect(place.path) as db:
                rows = await db.execute_fetchall(sql, args)
                await db.commit()
                return [tuple(row) for row in rows]
        parts = sql.split("?")
        numbered = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], 1))
        connection = await asyncpg.connect(
            postgres_dsn(), server_settings={"search_path": place.schema}
        )
        try:
            return [tuple(row) for row in await connection.fetch(numbered, *args)]
        finally:
            await connection.close()

    return run
