"""Versioned schema migrations, one SQL file per version and backend.

Files are named ``NNNN_description.sql`` in ``sqlite/`` and ``postgres/``; versions start at 1
and have no gaps. Each backend applies a version in one transaction together with the version
number (``PRAGMA user_version`` on SQLite, the ``schema_version`` table on PostgreSQL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

Backend = Literal["sqlite", "postgres"]
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema version: its number, a short name and the SQL that reaches it."""

    version: int
    name: str
    sql: str


def load_migrations(backend: Backend) -> list[Migration]:
    """The migrations shipped for ``backend``, in version order."""
    folder = resources.files(__package__).joinpath(backend)
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            version, name = int(match.group(1)), match.group(2)
            found.append(Migration(version, name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    check_sequence(found)
    return found


def check_sequence(migrations: list[Migration]) -> None:
    """Refuse a list whose versions do not run 1, 2, 3, ... (a packaging mistake)."""
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise RuntimeError(
                f"Migration {migration.name} has version {migration.version}, expected "
                f"{expected}: toolcord's migration files are incomplete; reinstall toolcord."
            )
