"""Errors the conversation store raises; each says who must act and what to do."""

from __future__ import annotations

from pathlib import Path

from bot.errors import StoreError


def make_data_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) if missing.

    Raises:
        StoreError: It cannot be created (a read-only disk, a missing permission, a file there).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        in_the_way = isinstance(error, (FileExistsError, NotADirectoryError))
        reason = "a file is in the way" if in_the_way else error.strerror or str(error)
        raise StoreError(
            f"Cannot create the data folder {folder} for the conversation store ({reason}). The "
            "bot owner must create it, make it writable, or set data_dir (or store.dsn) to a "
            "writable place."
        ) from error


class SchemaTooNewError(StoreError):
    """The database was written by a newer toolcord than this one: the owner must upgrade."""

    def __init__(self, where: str, found: int, known: int) -> None:
        super().__init__(
            f"The conversation store at {where} has schema version {found}, but this toolcord "
            f"only knows up to version {known}. The bot owner must upgrade toolcord (or restore "
            "a backup made by this version); the store was not changed."
        )
        self.found = found
        self.known = known


class StoreLocationError(StoreError):
    """The store's DSN or path cannot be used: the owner must fix the setting."""


class ExchangeStateError(StoreError):
    """A caller tried to change an exchange that is no longer pending (a toolcord bug)."""

    def __init__(self, exchange_id: int, status: str, action: str) -> None:
        super().__init__(
            f"Exchange {exchange_id} is already {status}, so it cannot be {action}; nothing was "
            "written. This is a bug in the caller: report it to the toolcord developers."
        )
        self.exchange_id = exchange_id
        self.status = status


class MigrationError(StoreError):
    """A schema migration failed and was rolled back: the owner must report it."""

    def __init__(
        self, where: str, version: int, name: str, kept: int, error: BaseException
    ) -> None:
        super().__init__(
            f"Migrating the conversation store at {where} to schema version {version} ({name}) "
            f"failed: {error}. It was rolled back; the store is still at version {kept}. The bot "
            "owner must report this error to the toolcord developers and run the previous "
            "toolcord version meanwhile."
        )
        self.version = version
