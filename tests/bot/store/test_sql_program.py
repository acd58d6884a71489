"""Programs written once: ``?`` numbered for PostgreSQL, and each statement kind driven."""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from bot.store.sql.postgres import drive as drive_postgres
from bot.store.sql.program import Program, marks, numbered, one, rows, run, run_many
from bot.store.sql.sqlite import SQLITE, drive

from .conftest import drop_schema, postgres_dsn, skip_without_postgres


def test_numbered_counts_placeholders_in_order() -> None:
    assert numbered("SELECT 1") == "SELECT 1"
    assert numbered("UPDATE t SET a = ?, b = ? WHERE id IN (?, ?)") == (
        "UPDATE t SET a = $1, b = $2 WHERE id IN ($3, $4)"
    )


def test_numbered_leaves_string_literals_alone() -> None:
    assert numbered("SELECT '?', 'it''s ?' WHERE a = ? AND b LIKE '%?'") == (
        "SELECT '?', 'it''s ?' WHERE a = $1 AND b LIKE '%?'"
    )
    with pytest.raises(ValueError, match="unclosed string literal"):
        numbered("SELECT 'open ?")


def test_marks() -> None:
    assert marks(1) == "?"
    assert marks(3) == "?, ?, ?"


def _every_kind(create: str) -> Program[tuple[Any, ...]]:
    yield run(create)
    many = yield run_many("INSERT INTO t (v) VALUES (?)", [("a",), ("b",), ("c",)])
    inserted = yield one("INSERT INTO t (v) VALUES (?) RETURNING id", "d")
    changed = yield run("UPDATE t SET v = v || '!' WHERE id > ? RETURNING id", 2)
    found = yield rows("SELECT v FROM t ORDER BY id")
    missing = yield one("SELECT v FROM t WHERE id = ?", 99)
    return many, inserted["id"], changed, [row[0] for row in found], missing


def test_the_sqlite_driver_runs_each_kind_of_statement() -> None:
    with contextlib.closing(sqlite3.connect(":memory:")) as connection:
        connection.row_factory = sqlite3.Row
        outcome = drive(_every_kind("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"), connection)
    assert outcome == (None, 4, 2, ["a", "b", "c!", "d!"], None)


@pytest.mark.postgres
async def test_the_postgres_driver_runs_each_kind_of_statement(
    postgres_unavailable: str | None,
) -> None:
    skip_without_postgres(postgres_unavailable)
    schema = f"toolcord_test_{uuid.uuid4().hex[:16]}"
    connection = await asyncpg.connect(postgres_dsn())
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
        await connection.execute(f'SET search_path TO "{schema}"')
        create = "CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v TEXT)"
        outcome = await drive_postgres(_every_kind(create), connection)
    finally:
        await connection.close()
        await drop_schema(schema)
    assert outcome == (None, 4, 2, ["a", "b", "c!", "d!"], None)


def test_the_sqlite_dialect_round_trips_times_and_json() -> None:
    moment = datetime(2026, 12, 7, 21, 30, 0, 123000, tzinfo=UTC)
    assert SQLITE.from_time(SQLITE.time(moment)) == moment
    assert SQLITE.from_json(SQLITE.json({"a": [1, "é"]})) == {"a": [1, "é"]}
    assert SQLITE.from_json("[]") == [] and SQLITE.from_json("{}") == {}
    assert SQLITE.lock("e") == ""
