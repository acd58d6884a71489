"""``open_store``: pick the backend from a DSN or a path, open it and migrate it."""

from __future__ import annotations

import os
from typing import Literal

from bot.store.errors import StoreLocationError
from bot.store.protocol import Store
from bot.store.tokens import TokenCounter

Backend = Literal["sqlite", "postgres"]
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_SQLITE_SCHEME = "sqlite://"


def parse_location(dsn_or_path: str | os.PathLike[str]) -> tuple[Backend, str]:
    """Which backend a store setting names, and the DSN or file path for it.

    ``postgresql://...`` (or ``postgres://``) selects PostgreSQL. A plain path, or
    ``sqlite:///relative/file.db`` / ``sqlite:////absolute/file.db`` (SQLAlchemy's form),
    selects SQLite.

    Raises:
        StoreLocationError: The setting names neither (or an in-memory database).
    """
    text = os.fspath(dsn_or_path).strip()
    if text.startswith(_POSTGRES_SCHEMES):
        return "postgres", text
    if text.startswith(_SQLITE_SCHEME):
        text = text.removeprefix(_SQLITE_SCHEME).removeprefix("/")
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        raise StoreLocationError(
            f"The store setting uses {scheme}://, which toolcord does not support. The bot "
            "owner must give a file path (SQLite) or a postgresql:// DSN."
        )
    if not text or text == ":memory:" or text.startswith("file::memory:"):
        raise StoreLocationError(
            "The store setting names no file. The bot owner must give a file path such as "
            "data/toolcord.db (an in-memory database would lose every conversation)."
        )
    return "sqlite", text


async def open_store(
    dsn_or_path: str | os.PathLike[str],
    *,
    owner: str = "main",
    counter: TokenCounter | None = None,
    schema: str | None = None,
) -> Store:
    """Open the store the setting names, migrating it to the newest schema.

    Args:
        dsn_or_path: A SQLite file path / ``sqlite:///`` URL, or a ``postgresql://`` DSN.
        owner: Names this process (e.g. its shard range) so ``recover()`` only marks exchanges
            this process left pending. Keep it stable across restarts.
        counter: Token counter for the estimates stored with turns.
        schema: PostgreSQL only: the schema to use (default: the server's ``search_path``).
    """
    backend, target = parse_location(dsn_or_path)
    if backend == "postgres":
        from bot.store.postgres import PostgresStore

        return await PostgresStore.open(target, owner=owner, counter=counter, schema=schema)
    if schema is not None:
        raise StoreLocationError("A schema can only be chosen for a PostgreSQL store.")
    from bot.store.sqlite import SqliteStore

    return await SqliteStore.open(target, owner=owner, counter=counter)
