"""The test rig every scenario shares: both emulators, a bot harness, and an error watch.

```python
async with open_rig(workdir) as rig:
    async with rig.harness.run() as bot:
        source = await ask(rig.discord, rig.discord.channel("general"), "alice", "hello")
```
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord

from bot.app import ToolcordBot
from bot.testing.discord import Channel, DiscordEmulator, StoredMessage, User
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator
from tests.reliability.watch import ErrorWatch

JsonDict = dict[str, Any]
USER_DEADLINE_S = 30.0
# Scenario users send hundreds of turns: token quotas (tested on their own) would refuse them.
QUIET: dict[str, Any] = {"quotas": {"enabled": False}}


@dataclass
class Rig:
    """Started emulators, a harness on them, and the watch counting unhandled exceptions."""

    discord: DiscordEmulator
    openai: OpenAIEmulator
    harness: BotHarness
    workdir: Path
    watch: ErrorWatch


@contextlib.asynccontextmanager
async def open_rig(workdir: Path, **discord_options: Any) -> AsyncIterator[Rig]:
    """Start both emulators (``discord_options`` go to DiscordEmulator) and watch for errors."""
    async with DiscordEmulator(**discord_options) as discord_emu, OpenAIEmulator() as openai_emu:
        watch = ErrorWatch()
        harness = BotHarness(discord_emu, openai_emu, data_dir=workdir / "data", overrides=QUIET)
        with watch.installed():
            yield Rig(discord_emu, openai_emu, harness, workdir, watch)


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary folder for one scenario's data, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"toolcord-rel-{prefix}-") as name:
        yield Path(name)


def mention(emu: DiscordEmulator) -> str:
    """The bot's mention as a user types it."""
    return f"<@{emu.bot_user.id}>"


async def ask(
    emu: DiscordEmulator, channel: Channel, user: User | str, text: str, **options: Any
) -> JsonDict:
    """A user's message that mentions the bot (in a DM the mention is harmless)."""
    return await emu.inject_message(
        channel, user, f"{mention(emu)} {text}", mentions=[emu.bot_user], **options
    )


def bot_messages(emu: DiscordEmulator, channel: Channel) -> list[StoredMessage]:
    """The bot's live messages in a channel, in order."""
    bot_id = emu.bot_user.id
    return [m for m in emu.messages(channel) if m.author.id == bot_id]


def replies_by_source(
    emu: DiscordEmulator, channels: Iterable[Channel]
) -> dict[int, list[StoredMessage]]:
    """The bot's messages that reply to a message, grouped by the id they reply to."""
    found: dict[int, list[StoredMessage]] = {}
    for channel in channels:
        for message in bot_messages(emu, channel):
            source = message.referenced_message_id
            if source is not None:
                found.setdefault(source, []).append(message)
    return found


def last_user_text(request: JsonDict) -> str:
    """The text of the last user message of a chat request."""
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(str(part.get("text", "")) for part in content)
            return str(content or "")
    return ""


def token_in(text: str, pattern: re.Pattern[str]) -> str | None:
    """The first match of ``pattern`` in ``text`` (group 0), or None."""
    found = pattern.search(text)
    return found.group(0) if found else None


async def poll_until(predicate: Callable[[], bool], bound_s: float, every_s: float = 0.05) -> None:
    """Re-check a condition nothing signals (a client's cache, a timer) within ``bound_s``.

    Raises:
        TimeoutError: it did not hold within ``bound_s``.
    """
    async with asyncio.timeout(bound_s):
        while not predicate():  # noqa: ASYNC110 - no event exists for these states
            await asyncio.sleep(every_s)


async def wait_for_channels(
    bot: discord.Client, channel_ids: Iterable[int], bound_s: float
) -> None:
    """Wait until the bot's cache knows every channel (GUILD_CREATE may trail READY)."""
    wanted = set(channel_ids)
    await poll_until(lambda: all(bot.get_channel(c) is not None for c in wanted), bound_s)


def store_path(bot: ToolcordBot) -> Path:
    """The bot's SQLite file."""
    return Path(bot.settings.store_dsn())


def exchange_counts(path: Path) -> tuple[int, int]:
    """How many exchanges the SQLite store at ``path`` holds, and how many are still pending."""
    if not path.exists():
        return 0, 0
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        total = db.execute("SELECT count(*) FROM exchanges").fetchone()[0]
        pending = db.execute("SELECT count(*) FROM exchanges WHERE status = 'pending'").fetchone()
    return int(total), int(pending[0])


async def settle(bot: ToolcordBot, exchanges: int, bound_s: float = USER_DEADLINE_S) -> None:
    """Wait until the bot's store holds ``exchanges`` exchanges and none is pending any more."""
    path = store_path(bot)

    def done() -> bool:
        total, pending = exchange_counts(path)
        return total >= exchanges and pending == 0

    await poll_until(done, bound_s, every_s=0.1)


MessageCheck = Callable[[StoredMessage], bool]


def content_is(text: str) -> MessageCheck:
    """A message whose content is exactly ``text``."""
    return lambda message: message.content == text


def content_starts(text: str) -> MessageCheck:
    """A message whose content starts with ``text``."""
    return lambda message: message.content.startswith(text)


def content_has(text: str) -> MessageCheck:
    """A message whose content contains ``text``."""
    return lambda message: text in message.content


def replying_to(source_id: int) -> MessageCheck:
    """A message that replies to message ``source_id``."""
    return lambda message: message.referenced_message_id == source_id
