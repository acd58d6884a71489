"""Issue 16: who may reset which budget. Budgets are the bot owner's limits on spending, so a
server's admins cannot lift their server's budget; only the bot's owner resets budgets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.testing.discord import DiscordEmulator
from bot.testing.discord.permissions import Perm
from bot.testing.openai import OpenAIEmulator
from bot.testing.openai.replies import TextReply

from .test_commands_settings import run

ADMIN = int(Perm.MANAGE_GUILD | Perm.VIEW_CHANNEL)
OWNER_ONLY = (
    "Only the bot's owner may reset this server's budgets: they are the owner's limits on what "
    "the bot spends here. Ask the bot's owner if this server needs more."
)


async def _chat(emu: DiscordEmulator, user: str) -> str:
    handle = await emu.inject_interaction(
        "chat", user=user, channel="general", options={"prompt": "x"}
    )
    await handle.wait(lambda h: bool(h.final_content()), timeout=20)
    return handle.final_content() or ""


async def test_a_server_admin_cannot_lift_the_servers_budget_the_owner_can(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    emu = discord_emulator
    openai_emulator.chat.set_default(
        TextReply("hi", usage={"prompt_tokens": 90, "completion_tokens": 20})
    )
    async with commands_bot(quotas={"guild_daily_tokens": 100, "owners_exempt": False}):
        assert await _chat(emu, "bob") == "hi"
        assert "budget" in await _chat(emu, "bob")
        calls = len(openai_emulator.chat.requests)

        admins = (("bob", ADMIN), ("alice", None), ("bob", int(Perm.ADMINISTRATOR)))
        for user, permissions in admins:
            reply = await run(emu, "settings quota-reset", user=user, permissions=permissions)
            assert reply == OWNER_ONLY, user
            assert "budget" in await _chat(emu, "bob")
        assert len(openai_emulator.chat.requests) == calls, "no model call while over budget"

        reply = await run(emu, "settings quota-reset", user="owner")
        assert reply == "This server's budgets start afresh from now."
        assert await _chat(emu, "bob") == "hi"
        assert "budget" in await _chat(emu, "bob")

        reply = await run(emu, "admin quota-reset", user="bob", permissions=ADMIN, scope="guild")
        assert reply == "Only the bot's owner may use this command."
        assert "budget" in await _chat(emu, "bob")
        reply = await run(emu, "admin quota-reset", user="owner", scope="guild")
        assert reply == "This server's budgets start afresh from now."
        assert await _chat(emu, "bob") == "hi"
