"""The message context menus "Ask about this message" and "Check with moderation"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.store import keys
from bot.testing.discord import DiscordEmulator
from bot.testing.openai import OpenAIEmulator
from bot.testing.openai.replies import ModerationReply

from .conftest import deferred_before, inject_message_menu, model_request_times

MESSAGE_MENU = 3
MODERATIONS = "/v1/moderations"


async def menu(emu: DiscordEmulator, name: str, target: Any, user: str = "alice") -> Any:
    return await inject_message_menu(emu, name, user=user, channel="general", target=target)


async def test_ask_about_a_message_answers_privately_about_it(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_text("It is a question about tides.", latency=0.1)
    async with commands_bot() as bot:
        target = await emu.inject_message("general", "bob", "why are there two tides a day?")
        handle = await menu(emu, "Ask about this message", target)
        await handle.wait(
            lambda h: h.final_content() == "It is a question about tides.", timeout=20
        )
        own = keys.channel_key(emu.guild.id, emu.channel("general").id, emu.user("alice").id)
        assert await bot.services.store.get_conversation(own) is not None
    assert deferred_before(handle, model_request_times(openai_emulator)[0])
    assert handle.ephemeral
    prompt = openai_emulator.chat.requests[0]["messages"][-1]["content"]
    assert "> why are there two tides a day?" in prompt and "from bob" in prompt


async def test_check_with_moderation_lists_the_flagged_categories(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    emu = discord_emulator
    openai_emulator.moderations.reply(
        ModerationReply(["harassment", "violence"], scores={"harassment": 0.91}, latency=0.1)
    )
    async with commands_bot():
        target = await emu.inject_message("general", "bob", "something nasty")
        handle = await menu(emu, "Check with moderation", target)
        await handle.wait(lambda h: bool(h.final_content()), timeout=20)
    text = handle.final_content() or ""
    assert deferred_before(handle, model_request_times(openai_emulator, MODERATIONS)[0])
    assert handle.ephemeral
    assert text.startswith("⚠️ Flagged") and "**harassment**: 0.91" in text and "violence" in text
    request = openai_emulator.moderations.requests[0]
    assert request["model"] == "omni-moderation-latest" and "something nasty" in str(request)


async def test_check_with_moderation_uses_the_servers_thresholds(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    emu = discord_emulator
    openai_emulator.moderations.set_default(ModerationReply(scores={"hate": 0.3}))
    async with commands_bot():
        target = await emu.inject_message("general", "bob", "borderline words")
        clean = await menu(emu, "Check with moderation", target)
        await clean.wait(lambda h: bool(h.final_content()), timeout=20)
        setting = await emu.inject_interaction(
            "settings moderation-threshold",
            user="owner",
            channel="general",
            options={"category": "hate", "score": 0.25},
        )
        await setting.wait(lambda h: "Saved" in (h.final_content() or ""), timeout=20)
        strict = await menu(emu, "Check with moderation", target)
        await strict.wait(lambda h: bool(h.final_content()), timeout=20)
    assert (clean.final_content() or "").startswith("✅ Not flagged")
    assert "hate 0.30" in (clean.final_content() or "")
    assert "**hate**: 0.30" in (strict.final_content() or "")


async def test_check_with_moderation_on_an_empty_message(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    async with commands_bot():
        target = await discord_emulator.inject_message("general", "bob", "")
        handle = await menu(discord_emulator, "Check with moderation", target)
        await handle.wait(lambda h: bool(h.final_content()), timeout=20)
    assert "no text or image" in (handle.final_content() or "")
    assert openai_emulator.attempts(MODERATIONS) == 0


async def test_menus_are_offered_everywhere(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    async with commands_bot():
        synced = {(c["name"], c["type"]): c for c in discord_emulator.synced_commands()}
    for name in ("Ask about this message", "Check with moderation"):
        command = synced[(name, MESSAGE_MENU)]
        assert command["contexts"] == [0, 1, 2] and command["integration_types"] == [0, 1]
