"""Conversation keys (pure functions) and store location parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import keys
from bot.store.errors import SchemaTooNewError, StoreLocationError
from bot.store.factory import open_store, parse_location


def test_each_place_has_its_key() -> None:
    assert keys.conversation_key(keys.Where(1, None, 9)) == "dm:1"
    assert keys.conversation_key(keys.Where(1, 2, 4, thread_id=4, parent_id=3)) == "thread:4"
    assert keys.conversation_key(keys.Where(1, 2, 3)) == "guild:2:channel:3"
    private = keys.conversation_key(keys.Where(1, 2, 3, private=True))
    assert private == "guild:2:channel:3:user:1"
    in_thread = keys.conversation_key(keys.Where(1, 2, 4, thread_id=4, parent_id=3, private=True))
    assert in_thread == "thread:4"


def test_own_and_shared_keys_of_a_place() -> None:
    channel = keys.Where(1, 2, 3, private=True)
    thread = keys.Where(1, 2, 4, thread_id=4, parent_id=3)
    dm = keys.Where(1, None, 9)
    assert keys.conversation_key(channel, "own") == "guild:2:channel:3:user:1"
    assert keys.conversation_key(channel, "shared") == "guild:2:channel:3"
    assert keys.conversation_key(thread, "own") == "guild:2:channel:4:user:1"
    assert keys.conversation_key(thread, "shared") == "thread:4"
    assert keys.conversation_key(dm, "own") == keys.conversation_key(dm, "shared") == "dm:1"


def test_private_keys_name_their_user() -> None:
    assert keys.private_user_id(keys.dm_key(5)) == 5
    assert keys.private_user_id(keys.channel_key(1, 2, 5)) == 5
    assert keys.private_user_id(keys.channel_key(1, 2)) is None
    assert keys.private_user_id(keys.thread_key(7)) is None
    assert keys.private_user_id("dm:notanumber") is None


def test_only_the_owner_may_continue_a_private_conversation() -> None:
    assert keys.may_continue(keys.dm_key(5), 5)
    assert not keys.may_continue(keys.dm_key(5), 6)
    assert not keys.may_continue(keys.channel_key(1, 2, 5), 6)
    assert keys.may_continue(keys.channel_key(1, 2), 6)
    assert keys.may_continue(keys.thread_key(3), 6)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("data/toolcord.db", ("sqlite", "data/toolcord.db")),
        ("sqlite:///data/toolcord.db", ("sqlite", "data/toolcord.db")),
        ("sqlite:////var/lib/toolcord.db", ("sqlite", "/var/lib/toolcord.db")),
        ("postgresql://bot@db:5432/toolcord", ("postgres", "postgresql://bot@db:5432/toolcord")),
        ("postgres://bot@db/toolcord", ("postgres", "postgres://bot@db/toolcord")),
        (Path("/srv/t.db"), ("sqlite", "/srv/t.db")),
    ],
)
def test_locations_pick_a_backend(setting: str | Path, expected: tuple[str, str]) -> None:
    assert parse_location(setting) == expected


@pytest.mark.parametrize("setting", ["", ":memory:", "sqlite://", "mysql://x@y/z"])
def test_unusable_locations_say_what_to_do(setting: str) -> None:
    with pytest.raises(StoreLocationError, match="bot owner must"):
        parse_location(setting)


async def test_open_store_creates_the_data_folder(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "new" / "folder" / "toolcord.db")
    try:
        assert store.backend == "sqlite"
        assert (tmp_path / "new" / "folder" / "toolcord.db").exists()
    finally:
        await store.close()


async def test_a_file_that_is_no_database_is_refused_clearly(tmp_path: Path) -> None:
    bogus = tmp_path / "toolcord.db"
    bogus.write_bytes(b"this is not a database" * 500)
    from bot.errors import StoreError

    with pytest.raises(StoreError, match="restore it from a backup"):
        await open_store(bogus)


def test_schema_error_names_the_fix() -> None:
    message = str(SchemaTooNewError("data/t.db", 9, 1))
    assert "upgrade toolcord" in message and "9" in message
