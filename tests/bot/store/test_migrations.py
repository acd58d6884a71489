"""S5: migrations are idempotent, transactional, refuse newer schemas, survive kill -9."""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.store.errors import MigrationError, SchemaTooNewError
from bot.store.migrations import Backend, Migration, check_sequence, load_migrations
from bot.store.postgres import PostgresStore
from bot.store.sqlite_base import split_statements

from .conftest import StorePlace, drop_schema, postgres_dsn, skip_without_postgres
from .crash_worker import BULK_ROWS, slow_migrations
from .helpers import plain_answer, user
from .test_crash import kill_and_collect, start_worker

RawSql = Callable[..., Awaitable[list[Any]]]
SQLITE_MIGRATION_KILLS = 20
SHIPPED = len(load_migrations("sqlite"))  # the newest shipped schema version (both backends)
POSTGRES_MIGRATION_KILLS = 3


def test_shipped_migrations_are_complete_and_parse() -> None:
    backends: tuple[Backend, ...] = ("sqlite", "postgres")
    for backend in backends:
        migrations = load_migrations(backend)
        assert [migration.version for migration in migrations] == list(
            range(1, len(migrations) + 1)
        )
    statements = split_statements(load_migrations("sqlite")[0].sql)
    assert all(sqlite3.complete_statement(statement + ";") for statement in statements)
    assert len(statements) > 10


def test_a_gap_in_versions_is_refused() -> None:
    with pytest.raises(RuntimeError, match="reinstall toolcord"):
        check_sequence([Migration(1, "a", ""), Migration(3, "c", "")])


async def test_migrating_twice_changes_nothing(place: StorePlace) -> None:
    first = await place.open()
    conversation = await first.get_or_create_conversation(
        "thread:1", guild_id=1, channel_id=2, thread_id=1, user_id=3
    )
    exchange = await first.begin_exchange(conversation.id, user("kept", 1))
    assert exchange is not None
    await first.complete_exchange(exchange.id, plain_answer("yes"))
    await first.close()
    again = await place.open()
    third = await place.open()
    assert await again.schema_version() == await third.schema_version() == SHIPPED
    assert [turn.content for turn in await third.exchange_turns(exchange.id)] == ["kept", "yes"]


async def test_version_2_data_upgrades_to_the_turn_deletion_marks(place: StorePlace) -> None:
    """Migration 3 (issue 16) adds ``turns.deleted_at`` to a store that holds conversations."""
    backend: Backend = "sqlite" if place.backend == "sqlite" else "postgres"
    old = await place.open(migrations=load_migrations(backend)[:2])
    conversation = await old.get_or_create_conversation(
        "thread:1", guild_id=1, channel_id=2, thread_id=1, user_id=3
    )
    exchange = await old.begin_exchange(conversation.id, user("my PIN is 4321", 11))
    assert exchange is not None and await old.schema_version() == 2
    await old.complete_exchange(exchange.id, plain_answer("noted"), [12])
    await old.close()
    new = await place.open()
    assert await new.schema_version() == SHIPPED >= 3
    before = await new.exchange_turns(exchange.id)
    assert [turn.deleted_at for turn in before] == [None, None]
    assert await new.mark_messages_deleted([11]) == 1
    after = await new.exchange_turns(exchange.id)
    assert [turn.content for turn in after] == ["[message deleted]", "noted"]


async def test_concurrent_starts_migrate_once(place: StorePlace) -> None:
    stores = await asyncio.gather(*[place.open() for _ in range(4)])
    assert {await store.schema_version() for store in stores} == {SHIPPED}


async def test_a_newer_schema_is_refused_untouched(place: StorePlace, raw_sql: RawSql) -> None:
    await (await place.open()).close()
    if place.backend == "sqlite":
        await raw_sql("PRAGMA user_version = 99")
    else:
        await raw_sql("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')")
    with pytest.raises(SchemaTooNewError, match="upgrade toolcord") as caught:
        await place.open()
    assert (caught.value.found, caught.value.known) == (99, SHIPPED)
    if place.backend == "sqlite":
        assert (await raw_sql("PRAGMA user_version"))[0][0] == 99


async def test_a_failing_migration_rolls_back_whole(place: StorePlace, raw_sql: RawSql) -> None:
    await (await place.open()).close()
    shipped = load_migrations("sqlite" if place.backend == "sqlite" else "postgres")
    broken_sql = "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM nowhere;\n"
    broken = Migration(SHIPPED + 1, "broken", broken_sql)
    with pytest.raises(MigrationError, match=f"still at version {SHIPPED}"):
        await place.open(migrations=[*shipped, broken])
    if place.backend == "sqlite":
        assert (await raw_sql("PRAGMA user_version"))[0][0] == SHIPPED
        tables = await raw_sql("SELECT name FROM sqlite_master WHERE name = 'half_done'")
    else:
        assert (await raw_sql("SELECT MAX(version) FROM schema_migrations"))[0][0] == SHIPPED
        tables = await raw_sql("SELECT 1 FROM pg_tables WHERE tablename = 'half_done'")
    assert tables == []
    assert await (await place.open()).schema_version() == SHIPPED


def _sqlite_state(path: Path) -> tuple[int, int | None]:
    """(schema version, rows in the bulk table or None if it does not exist)."""
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'crash_bulk'").fetchone()
        rows = db.execute("SELECT COUNT(*) FROM crash_bulk").fetchone()[0] if exists else None
    return version, rows


async def _timed_migration(*arguments: str) -> float:
    process = await start_worker("migrate", *arguments)
    started = time.perf_counter()
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 120)
    await process.wait()
    assert line.strip() == b"DONE"
    return time.perf_counter() - started


async def test_kill_9_during_a_migration_leaves_old_or_new(tmp_path: Path) -> None:
    template = tmp_path / "template.db"
    from bot.store.sqlite import SqliteStore

    await (await SqliteStore.open(template)).close()
    measured = tmp_path / "measured.db"
    shutil.copy(template, measured)
    duration = await _timed_migration("--db", str(measured))
    assert _sqlite_state(measured) == (SHIPPED + 1, BULK_ROWS)
    delays = random.Random(5150)
    outcomes: Counter[str] = Counter()
    for round_number in range(SQLITE_MIGRATION_KILLS):
        path = tmp_path / f"round{round_number}.db"
        shutil.copy(template, path)
        process = await start_worker("migrate", "--db", str(path))
        # Round 0 kills at once, so at least one kill lands before the migration commits
        # whatever the machine's speed; the others fall anywhere in (or just after) it.
        await asyncio.sleep(0.0 if round_number == 0 else delays.uniform(0.0, duration * 1.1))
        await kill_and_collect(process)
        state = _sqlite_state(path)
        expected = ((SHIPPED, None), (SHIPPED + 1, BULK_ROWS))
        assert state in expected, f"round {round_number}: {state}"
        outcomes["old" if state[0] == SHIPPED else "new"] += 1
        steps = slow_migrations("sqlite") if state[0] == SHIPPED + 1 else load_migrations("sqlite")
        reopened = await SqliteStore.open(path, migrations=steps)
        assert await reopened.schema_version() == state[0]
        await reopened.close()
        path.unlink()
    print(f"\nmigration kill -9 (sqlite): {dict(outcomes)} over {SQLITE_MIGRATION_KILLS} kills")
    assert outcomes["old"] > 0, "no kill landed inside the migration"


async def test_kill_9_during_a_postgres_migration(postgres_unavailable: str | None) -> None:
    skip_without_postgres(postgres_unavailable)
    schemas = [
        f"toolcord_test_{uuid.uuid4().hex[:16]}" for _ in range(POSTGRES_MIGRATION_KILLS + 1)
    ]
    outcomes: Counter[str] = Counter()
    try:
        for schema in schemas:
            await (await PostgresStore.open(postgres_dsn(), schema=schema)).close()
        duration = await _timed_migration("--db", postgres_dsn(), "--schema", schemas[0])
        delays = random.Random(77)
        for schema in schemas[1:]:
            process = await start_worker("migrate", "--db", postgres_dsn(), "--schema", schema)
            await asyncio.sleep(delays.uniform(0.0, duration * 0.9))
            await kill_and_collect(process)
            version, rows = await _postgres_state(schema)
            assert (version, rows) in ((SHIPPED, None), (SHIPPED + 1, BULK_ROWS))
            outcomes["old" if version == SHIPPED else "new"] += 1
    finally:
        for schema in schemas:
            await drop_schema(schema)
    print(f"\nmigration kill -9 (postgres): {dict(outcomes)}")


async def _postgres_state(schema: str) -> tuple[int, int | None]:
    """Wait for the killed client's transaction to end, then read version and bulk rows."""
    connection = await asyncpg.connect(postgres_dsn(), server_settings={"search_path": schema})
    try:
        await asyncio.wait_for(
            connection.execute(
                "SELECT pg_advisory_lock(hashtext('toolcord.migrate.' || current_schema()))"
            ),
            60,
        )
        version = await connection.fetchval("SELECT MAX(version) FROM schema_migrations")
        exists = await connection.fetchval("SELECT to_regclass('crash_bulk') IS NOT NULL")
        rows = await connection.fetchval("SELECT COUNT(*) FROM crash_bulk") if exists else None
        return int(version), rows
    finally:
        await connection.close()


def test_migration_sql_files_match_between_backends() -> None:
    """Both backends create the same tables (parity of the contract)."""
    import re

    def tables(sql: str) -> set[str]:
        return set(re.findall(r"CREATE TABLE (\w+)", sql))

    sqlite_sql = load_migrations("sqlite")[0].sql
    postgres_sql = load_migrations("postgres")[0].sql
    assert tables(sqlite_sql) == tables(postgres_sql)
    assert "tool_ledger" in tables(sqlite_sql) and "settings" in tables(sqlite_sql)
