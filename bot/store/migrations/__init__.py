"""Versioned schema migrations: written once, with the dialect differences in one place.

``shared/NNNN_description.sql`` is a version's SQL for both backends; a ``{{TOKEN}}`` in it is a
type that differs by dialect (``DIALECT_TYPES``). ``sqlite/NNNN_description.sql`` and
``postgres/NNNN_description.sql`` hold only the statements one dialect needs (full-text search),
run after the shared ones in the same version. Versions start at 1 and have no gaps; their
numbers and names never change (existing databases record them). Each backend applies a version
in one transaction together with the version number (``PRAGMA user_version`` on SQLite, the
``schema_migrations`` table on PostgreSQL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from typing import Literal

Backend = Literal["sqlite", "postgres"]
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_TOKEN = re.compile(r"\{\{([A-Z_]+)\}\}")

# Every type the dialects spell differently. SQLite stores times as integer milliseconds and
# JSON as text; its INTEGER is 64-bit, so it stands for PostgreSQL's BIGINT too.
DIALECT_TYPES: dict[Backend, dict[str, str]] = {
    "sqlite": {
        "ID": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "SERIAL": "INTEGER PRIMARY KEY",
        "SERIAL_NEVER_REUSED": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "BIGINT": "INTEGER",
        "TIME": "INTEGER",
        "JSON": "TEXT",
        "BYTES": "BLOB",
        "BOOL": "INTEGER",
        "FALSE": "0",
    },
    "postgres": {
        "ID": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "SERIAL": "BIGSERIAL PRIMARY KEY",
        "SERIAL_NEVER_REUSED": "BIGSERIAL PRIMARY KEY",
        "BIGINT": "BIGINT",
        "TIME": "TIMESTAMPTZ",
        "JSON": "JSONB",
        "BYTES": "BYTEA",
        "BOOL": "BOOLEAN",
        "FALSE": "FALSE",
    },
}


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema version: its number, a short name and the SQL that reaches it."""

    version: int
    name: str
    sql: str


def render(sql: str, backend: Backend) -> str:
    """``sql`` with each ``{{TOKEN}}`` replaced by ``backend``'s type.

    Raises:
        KeyError: A token ``DIALECT_TYPES`` does not know (a mistake in a migration file).
    """
    types = DIALECT_TYPES[backend]
    return _TOKEN.sub(lambda match: types[match.group(1)], sql)


def load_migrations(backend: Backend) -> list[Migration]:
    """The migrations shipped for ``backend``, in version order."""
    root = resources.files(__package__)
    shared = _sql_files(root.joinpath("shared"))
    own = _sql_files(root.joinpath(backend))
    found: list[Migration] = []
    for version, name in sorted(shared.keys() | own.keys()):
        parts = [render(shared[version, name], backend)] if (version, name) in shared else []
        if (version, name) in own:
            parts.append(own[version, name])
        found.append(Migration(version, name, "\n".join(parts)))
    check_sequence(found)
    return found


def _sql_files(folder: Traversable) -> dict[tuple[int, str], str]:
    """The migration files in ``folder``, by (version, name)."""
    found: dict[tuple[int, str], str] = {}
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match and entry.is_file():
            found[int(match.group(1)), match.group(2)] = entry.read_text(encoding="utf-8")
    return found


def check_sequence(migrations: list[Migration]) -> None:
    """Refuse a list whose versions do not run 1, 2, 3, ... (a packaging mistake)."""
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise RuntimeError(
                f"Migration {migration.name} has version {migration.version}, expected "
                f"{expected}: toolcord's migration files are incomplete; reinstall toolcord."
            )
