"""The migrations written once produce exactly the schemas the per-dialect files produced.

``fixtures/migrations_before_issue19`` holds the per-dialect migration files as they were before
the migrations were written once (issue 19); each backend migrated by them and by the shipped
migrations must end with the same tables, columns, types, defaults, indexes, constraints,
triggers and recorded versions.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.store.migrations import DIALECT_TYPES, Backend, Migration, load_migrations, render
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore

from .conftest import drop_schema, postgres_dsn, skip_without_postgres

BEFORE = Path(__file__).parent / "fixtures" / "migrations_before_issue19"
FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def migrations_before(backend: Backend) -> list[Migration]:
    """The per-dialect migration files of before issue 19, as that loader read them."""
    found = []
    for path in sorted((BEFORE / backend).iterdir()):
        match = FILE_NAME.match(path.name)
        assert match, path
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text("utf-8")))
    return found


def test_the_same_versions_and_names_as_before() -> None:
    for backend in ("sqlite", "postgres"):
        before = [(m.version, m.name) for m in migrations_before(backend)]
        assert [(m.version, m.name) for m in load_migrations(backend)] == before


def test_every_dialect_names_every_token_and_an_unknown_token_is_refused() -> None:
    assert DIALECT_TYPES["sqlite"].keys() == DIALECT_TYPES["postgres"].keys()
    assert render("a {{BYTES}} b", "postgres") == "a BYTEA b"
    with pytest.raises(KeyError):
        render("{{NO_SUCH_TYPE}}", "sqlite")


def sqlite_schema(path: Path) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        version = db.execute("PRAGMA user_version").fetchone()
    return [*rows, ("user_version", *version)]


async def test_sqlite_schema_is_exactly_as_before(tmp_path: Path) -> None:
    """Also for a database at version 3 by the old files that the new ones upgrade."""
    old = migrations_before("sqlite")
    steps = {"before": [old], "now": [None], "upgraded": [old[:3], None]}
    schemas = []
    for name, sequence in steps.items():
        for migrations in sequence:
            store = await SqliteStore.open(tmp_path / f"{name}.db", migrations=migrations)
            await store.close()
        schemas.append(sqlite_schema(tmp_path / f"{name}.db"))
    before, now, upgraded = schemas
    assert len(before) > 40
    assert now == upgraded == before  # the CREATE statements SQLite keeps, character for character


POSTGRES_CATALOG = {
    "columns": (
        "SELECT table_name, column_name, ordinal_position, data_type, udt_name, column_default, "
        "is_nullable, is_identity, identity_generation, identity_start, identity_increment, "
        "is_generated, generation_expression, character_maximum_length, numeric_precision "
        "FROM information_schema.columns WHERE table_schema = $1 "
        "ORDER BY table_name, ordinal_position"
    ),
    "indexes": (
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 "
        "ORDER BY tablename, indexname"
    ),
    "constraints": (
        "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE connamespace = $1::regnamespace ORDER BY 1, 2"
    ),
    "sequences": (
        "SELECT sequence_name, data_type, start_value, increment FROM "
        "information_schema.sequences WHERE sequence_schema = $1 ORDER BY 1"
    ),
    "triggers": (
        "SELECT event_object_table, trigger_name, action_statement FROM "
        "information_schema.triggers WHERE trigger_schema = $1 ORDER BY 1, 2"
    ),
    "versions": "SELECT version, name FROM schema_migrations ORDER BY version",
}


async def postgres_schema(schema: str) -> dict[str, list[tuple[Any, ...]]]:
    connection = await asyncpg.connect(postgres_dsn(), server_settings={"search_path": schema})
    try:
        dump = {}
        for part, sql in POSTGRES_CATALOG.items():
            rows = await connection.fetch(sql, *([] if part == "versions" else [schema]))
            dump[part] = [
                tuple(v.replace(schema, "<schema>") if isinstance(v, str) else v for v in row)
                for row in rows
            ]
        return dump
    finally:
        await connection.close()


@pytest.mark.postgres
async def test_postgres_schema_is_exactly_as_before(postgres_unavailable: str | None) -> None:
    skip_without_postgres(postgres_unavailable)
    old = migrations_before("postgres")
    steps = {"before": [old], "now": [None], "upgraded": [old[:3], None]}
    schemas = {name: f"toolcord_test_{uuid.uuid4().hex[:16]}" for name in steps}
    try:
        dumps = []
        for name, schema in schemas.items():
            for migrations in steps[name]:
                store = await PostgresStore.open(
                    postgres_dsn(), schema=schema, migrations=migrations
                )
                await store.close()
            dumps.append(await postgres_schema(schema))
    finally:
        for schema in schemas.values():
            await drop_schema(schema)
    before, now, upgraded = dumps
    assert len(before["columns"]) > 80 and len(before["indexes"]) > 20
    assert now == upgraded == before
