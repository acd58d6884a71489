"""/admin (owner only) and the command sync at start."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from bot.app import ToolcordBot
from bot.discord_endpoints import point_discord_at
from bot.settings import Settings
from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator
from bot.testing.openai.replies import TextReply
from bot.wiring import build_services

from .conftest import COGS


async def owner_command(
    emu: DiscordEmulator, name: str, options: dict[str, Any] | None = None, *, user: str = "owner"
) -> str:
    handle = await emu.inject_interaction(name, user=user, channel="general", options=options)
    await handle.wait(lambda h: bool(h.final_content()), timeout=20)
    assert handle.deferred and handle.ephemeral, name
    return handle.final_content() or ""


async def test_admin_commands_refuse_everyone_but_the_owner(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    async with commands_bot():
        syncs = discord_emulator.commands.sync_count
        for name, options in (
            ("admin sync", {}),
            ("admin stats", {}),
            ("admin quota-reset", {"scope": "global"}),
        ):
            reply = await owner_command(discord_emulator, name, options, user="alice")
            assert reply == "Only the bot's owner may use this command.", name
        assert discord_emulator.commands.sync_count == syncs


async def test_owner_syncs_and_reads_stats(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.set_default(
        TextReply("hi", usage={"prompt_tokens": 40, "completion_tokens": 2})
    )
    async with commands_bot():
        syncs = discord_emulator.commands.sync_count
        assert (await owner_command(discord_emulator, "admin sync")).startswith("Synced ")
        assert discord_emulator.commands.sync_count == syncs + 1
        chat = await discord_emulator.inject_interaction(
            "chat", user="bob", channel="general", options={"prompt": "x"}
        )
        await chat.wait(lambda h: h.final_content() == "hi", timeout=20)
        stats = await owner_command(discord_emulator, "admin stats")
    assert "Servers: 1" in stats and "**The bot (everyone)**" in stats


async def test_owner_resets_a_users_budget(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.set_default(
        TextReply("hi", usage={"prompt_tokens": 90, "completion_tokens": 20})
    )
    async with commands_bot(quotas={"user_daily_tokens": 100}):
        ask = {"prompt": "x"}
        first = await discord_emulator.inject_interaction(
            "chat", user="bob", channel="general", options=ask
        )
        await first.wait(lambda h: h.final_content() == "hi", timeout=20)
        refused = await discord_emulator.inject_interaction(
            "chat", user="bob", channel="general", options=ask
        )
        await refused.wait(lambda h: "budget" in (h.final_content() or ""), timeout=20)
        reply = await owner_command(
            discord_emulator, "admin quota-reset", {"scope": "user", "user": "bob"}
        )
        assert "start afresh" in reply
        again = await discord_emulator.inject_interaction(
            "chat", user="bob", channel="general", options=ask
        )
        await again.wait(lambda h: h.final_content() == "hi", timeout=20)


class WiredBot(ToolcordBot):
    """The bot as the composition root will build it: services wired, cogs loaded at start."""

    async def setup_hook(self) -> None:
        await super().setup_hook()
        for extension in COGS:
            if extension not in self.extensions:
                await self.load_extension(extension)


@contextlib.asynccontextmanager
async def run_wired(settings: Settings) -> AsyncIterator[WiredBot]:
    point_discord_at(settings.discord)
    bot = WiredBot(settings, services=await build_services(settings))
    token = settings.discord_token.get_secret_value() if settings.discord_token else ""
    runner = asyncio.create_task(bot.start(token))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 30)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(runner, 30)


async def test_commands_sync_to_the_test_guilds_at_start(
    discord_emulator: DiscordEmulator, bot_harness: BotHarness
) -> None:
    guild = discord_emulator.guild
    settings = bot_harness.settings(discord={"test_guild_ids": [guild.id]})
    async with run_wired(settings):
        await discord_emulator.wait_until(
            lambda: discord_emulator.synced_commands(guild) or None, timeout=20
        )
    names = {command["name"] for command in discord_emulator.synced_commands(guild)}
    assert {"chat", "imagine", "reset", "persona", "model", "tools", "usage"} <= names
    assert {"settings", "forget-me", "export", "admin", "Ask about this message"} <= names
    assert discord_emulator.synced_commands() == []


async def test_commands_sync_globally_at_start_without_test_guilds(
    discord_emulator: DiscordEmulator, bot_harness: BotHarness
) -> None:
    async with run_wired(bot_harness.settings()):
        await discord_emulator.wait_until(
            lambda: discord_emulator.synced_commands() or None, timeout=20
        )
    assert "chat" in {command["name"] for command in discord_emulator.synced_commands()}
