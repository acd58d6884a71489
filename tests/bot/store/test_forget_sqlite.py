"""S6 on SQLite: after forget_user no copy of the user's text is left in the db or WAL file."""

from __future__ import annotations

from pathlib import Path

from bot.store import keys
from bot.store.models import Usage
from bot.store.sqlite import SqliteStore

from .helpers import plain_answer, user

CANARY = "canary-7f3a9c-do-not-keep"
SURVIVOR = "bob-says-hello-4411"


def files_containing(folder: Path, text: str) -> list[str]:
    """Names of files in ``folder`` whose bytes contain ``text``."""
    needle = text.encode()
    return sorted(path.name for path in folder.iterdir() if needle in path.read_bytes())


async def test_forget_user_leaves_no_copy_in_db_or_wal(tmp_path: Path) -> None:
    path = tmp_path / "toolcord.db"
    store = await SqliteStore.open(path)
    try:
        shared = await store.get_or_create_conversation(
            "guild:1:channel:2", guild_id=1, channel_id=2, thread_id=None, user_id=2
        )
        dm = await store.get_or_create_conversation(
            keys.dm_key(7), guild_id=None, channel_id=3, thread_id=None, user_id=7
        )
        source = 100
        for round_number in range(30):
            for conversation, author, text in (
                (shared, 7, CANARY),
                (dm, 7, CANARY),
                (shared, 2, SURVIVOR),
            ):
                source += 1
                exchange = await store.begin_exchange(
                    conversation.id, user(f"{text} #{round_number}", source, author=author)
                )
                assert exchange is not None
                await store.complete_exchange(
                    exchange.id, plain_answer(f"echo {text}"), [source + 10_000], Usage("m", 1, 1)
                )
        await store.set_settings("user", 7, {"note": CANARY})
        assert files_containing(tmp_path, CANARY)

        report = await store.forget_user(7)

        assert report.exchanges == 60 and report.conversations == 1
        found = files_containing(tmp_path, CANARY)
        assert found == [], f"canary left in {found}"
        assert "toolcord.db" in files_containing(tmp_path, SURVIVOR)
        assert (await store.usage_totals()).requests == 90
    finally:
        await store.close()


async def test_clear_conversation_also_scrubs(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "toolcord.db")
    try:
        conversation = await store.get_or_create_conversation(
            "thread:9", guild_id=1, channel_id=2, thread_id=9, user_id=2
        )
        exchange = await store.begin_exchange(conversation.id, user(CANARY, 1))
        assert exchange is not None
        await store.complete_exchange(exchange.id, plain_answer(CANARY))
        assert await store.clear_conversation("thread:9")
        assert files_containing(tmp_path, CANARY) == []
    finally:
        await store.close()
