"""/persona, /model, /tools and /settings end to end, and the server-side permission check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.testing.discord import DiscordEmulator
from bot.testing.discord.permissions import Perm
from bot.testing.openai import OpenAIEmulator

REFUSED = "Manage Server"


async def run(
    emu: DiscordEmulator,
    command: str,
    /,
    *,
    user: str = "owner",
    where: Any = "general",
    permissions: int | None = None,
    **options: Any,
) -> Any:
    """Inject a command, check it deferred ephemerally, and return its final text."""
    handle = await emu.inject_interaction(
        command, user=user, channel=where, options=options or None, permissions=permissions
    )
    await handle.wait(lambda h: bool(h.final_content()), timeout=20)
    assert handle.deferred and handle.ephemeral, command
    return handle.final_content()


async def test_persona_set_show_clear_per_channel_and_guild(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    emu = discord_emulator
    async with commands_bot() as bot:
        assert "Saved for this server" in await run(
            emu, "persona set", text="a pirate", scope="guild"
        )
        assert "Saved for <#" in await run(emu, "persona set", text="a poet")
        assert "a poet" in await run(emu, "persona show", user="bob")
        assert "a pirate" in await run(emu, "persona show", user="bob", where="random")
        await run(emu, "persona clear")
        assert "a pirate" in await run(emu, "persona show", user="bob")
        stored = await bot.services.store.get_settings("guild", emu.guild.id)
    assert stored == {"persona": "a pirate"}


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("persona set", {"text": "evil"}),
        ("persona clear", {}),
        ("model set", {"name": "gpt-5.5"}),
        ("tools disable", {"name": "weather"}),
        ("settings show", {}),
        ("settings free-chat", {"enabled": True}),
        ("settings private-conversations", {"enabled": True}),
        ("settings moderation", {"mode": "block"}),
    ],
)
async def test_admin_commands_refuse_members_without_manage_server(
    discord_emulator: DiscordEmulator,
    commands_bot: Callable[..., Any],
    command: str,
    options: dict[str, Any],
) -> None:
    """The emulator lets anyone run any synced command, as Discord does after an override."""
    async with commands_bot() as bot:
        for user in ("bob", "alice"):  # alice is a moderator, without Manage Server
            assert REFUSED in await run(discord_emulator, command, user=user, **options)
        stored = await bot.services.store.get_settings("guild", discord_emulator.guild.id)
        channel = discord_emulator.channel("general").id
        stored_channel = await bot.services.store.get_settings("channel", channel)
    assert stored == {} and stored_channel == {}


async def test_the_permission_discord_resolved_is_what_counts(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    granted = int(Perm.MANAGE_GUILD | Perm.VIEW_CHANNEL)
    async with commands_bot():
        reply = await run(
            discord_emulator, "persona set", user="bob", text="x", permissions=granted
        )
        assert reply.startswith("Saved")
        admin = int(Perm.ADMINISTRATOR)
        reply = await run(discord_emulator, "persona clear", user="bob", permissions=admin)
        assert reply.startswith("Saved")


async def test_admin_commands_are_refused_in_direct_messages(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    async with commands_bot():
        synced = {c["name"]: c for c in discord_emulator.synced_commands()}
        for name in ("persona", "model", "tools", "settings"):
            assert synced[name]["contexts"] == [0], name
            assert synced[name]["integration_types"] == [0], name
        assert int(synced["settings"]["default_member_permissions"]) == int(Perm.MANAGE_GUILD)
        dm = discord_emulator.dm_channel("owner")
        assert "direct messages" in await run(discord_emulator, "persona set", where=dm, text="x")
        assert "direct messages" in await run(discord_emulator, "settings show", where=dm)


async def test_model_set_show_clear_and_unknown_models(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    emu = discord_emulator
    async with commands_bot():
        assert "gpt-5.4-mini (default)" in await run(emu, "model show", user="bob")
        assert "Nothing was changed" in await run(emu, "model set", name="gpt-9")
        assert "Saved" in await run(emu, "model set", name="gpt-5.5", scope="guild")
        assert "**gpt-5.5**" in await run(emu, "model show", user="bob", where="random")
        chat = await emu.inject_interaction(
            "chat", user="bob", channel="general", options={"prompt": "hi"}
        )
        await chat.wait(lambda h: (h.final_content() or "").startswith("echo"), timeout=20)
        await run(emu, "model clear", scope="guild")
        assert "(default)" in await run(emu, "model show", user="bob")
    assert openai_emulator.chat.requests[0]["model"] == "gpt-5.5"


async def test_tools_list_enable_disable(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    emu = discord_emulator
    async with commands_bot():
        listed = await run(emu, "tools list", user="bob")
        assert "✅ `weather`" in listed
        assert "Saved for this server" in await run(
            emu, "tools disable", name="weather", scope="guild"
        )
        assert "❌ `weather`" in await run(emu, "tools list", user="bob")
        assert "Saved" in await run(emu, "tools enable", name="weather")
        assert "✅ `weather`" in await run(emu, "tools list", user="bob")
        assert "❌ `weather`" in await run(emu, "tools list", user="bob", where="random")
        assert "Nothing was changed" in await run(emu, "tools enable", name="no_such_tool")
        chat = await emu.inject_interaction(
            "chat", user="bob", channel="random", options={"prompt": "weather?"}
        )
        await chat.wait(lambda h: (h.final_content() or "").startswith("echo"), timeout=20)
    offered = [t["function"]["name"] for t in openai_emulator.chat.requests[0].get("tools", [])]
    assert "weather" not in offered


async def test_settings_commands_store_what_they_say(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    emu = discord_emulator
    general, random_channel = emu.channel("general").id, emu.channel("random").id
    async with commands_bot() as bot:
        reply = await run(emu, "settings free-chat", enabled=True, channel="random")
        assert "Message Content intent" in reply
        await run(emu, "settings auto-thread", enabled=True)
        await run(emu, "settings private-conversations", enabled=True)
        await run(emu, "settings moderation", mode="flag", log_channel="general", rules="Be kind")
        await run(emu, "settings moderation-threshold", category="harassment", score=0.4)
        await run(emu, "settings voice-replies", enabled=True, channel="general")
        shown = await run(emu, "settings show")
        gs = bot.services.guild_settings
        here = await gs.effective(emu.guild.id, random_channel)
        guild = await bot.services.store.get_settings("guild", emu.guild.id)
    assert here.free_chat and here.auto_thread and here.private_conversations
    assert here.moderation.mode == "flag" and here.moderation.log_channel_id == general
    assert dict(here.moderation.thresholds) == {"harassment": 0.4}
    assert not here.voice_replies
    assert guild["moderation_rules"] == "Be kind"
    assert "Moderation: flag" in shown and "harassment ≥ 0.4" in shown
    assert "Voice replies: on" in shown  # shown for #general, where they are on


async def test_private_conversations_setting_gives_chat_a_key_per_member(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    emu = discord_emulator
    async with commands_bot() as bot:
        await run(emu, "settings private-conversations", enabled=True)
        chat = await emu.inject_interaction(
            "chat", user="bob", channel="general", options={"prompt": "hi"}
        )
        await chat.wait(lambda h: (h.final_content() or "").startswith("echo"), timeout=20)
        key = f"guild:{emu.guild.id}:channel:{emu.channel('general').id}:user:{emu.user('bob').id}"
        assert await bot.services.store.get_conversation(key) is not None
    assert not chat.ephemeral
