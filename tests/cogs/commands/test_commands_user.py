"""/usage, /reset, /forget-me, /export and /imagine end to end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from bot.store import keys
from bot.testing.discord import DiscordEmulator
from bot.testing.openai import OpenAIEmulator
from bot.testing.openai.replies import TextReply

from .conftest import deferred_before, model_request_times

IMAGES = "/v1/images/generations"


async def ask(emu: DiscordEmulator, prompt: str, user: str = "bob", **options: Any) -> Any:
    handle = await emu.inject_interaction(
        "chat", user=user, channel="general", options={"prompt": prompt, **options}
    )
    await handle.wait(lambda h: (h.final_content() or "").startswith("echo"), timeout=20)
    return handle


async def ledger_has(bot: Any, tokens: int = 1, requests: int = 1) -> None:
    """Wait until answers are in the ledger (their usage is stored just after delivery)."""

    async def poll() -> None:
        while True:
            totals = await bot.services.store.usage_totals()
            if totals.total_tokens >= tokens and totals.requests >= requests:
                return
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 10)


async def command(
    emu: DiscordEmulator, name: str, /, *, user: str = "bob", where: Any = "general", **options: Any
) -> Any:
    handle = await emu.inject_interaction(name, user=user, channel=where, options=options or None)
    await handle.wait(lambda h: bool(h.final_content()), timeout=20)
    assert handle.deferred, name
    return handle


async def test_usage_shows_your_budget_and_admins_the_servers(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.set_default(
        TextReply("echo", usage={"prompt_tokens": 1000, "completion_tokens": 234})
    )
    # no tools: the line then holds no "tokens of tool definitions" (test_usage_details.py)
    async with commands_bot(quotas={"user_daily_tokens": 50_000}, tools={"modules": []}) as bot:
        await ask(discord_emulator, "spend some")
        await ledger_has(bot, tokens=1234)
        mine = await command(discord_emulator, "usage")
        admin = await command(discord_emulator, "usage", user="owner")
    text = mine.final_content() or ""
    assert mine.ephemeral
    assert "1,234 tokens today of 50,000: 48,766 left" in text
    assert "This server" not in text
    assert "**This server**" in (admin.final_content() or "")


async def test_reset_clears_your_own_conversation_and_shared_needs_manage_messages(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    emu = discord_emulator
    guild, general = emu.guild.id, emu.channel("general").id
    async with commands_bot() as bot:
        store = bot.services.store
        await ask(emu, "private one", private=True)
        await ask(emu, "shared one")
        await ledger_has(bot, requests=2)
        own = keys.channel_key(guild, general, emu.user("bob").id)
        shared = keys.channel_key(guild, general)
        assert "Your conversation here was cleared" in (await command(emu, "reset")).final_content()
        assert await store.get_conversation(own) is None
        assert "nothing to clear" in (await command(emu, "reset")).final_content()
        refused = await command(emu, "reset", shared=True)
        assert "Manage Messages" in refused.final_content()
        assert await store.get_conversation(shared) is not None
        done = await command(emu, "reset", user="alice", shared=True)  # a moderator
        assert "everyone here shares was cleared" in done.final_content()
        assert await store.get_conversation(shared) is None
    assert refused.ephemeral


async def test_forget_me_deletes_what_the_user_said(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    emu = discord_emulator
    async with commands_bot() as bot:
        await ask(emu, "remember my secret 1234", private=True)
        await ask(emu, "shared words")
        await ledger_has(bot, requests=2)
        handle = await command(emu, "forget-me", confirm="delete everything about me")
        exported = await bot.services.store.export_conversation(
            keys.channel_key(emu.guild.id, emu.channel("general").id)
        )
        own = keys.channel_key(emu.guild.id, emu.channel("general").id, emu.user("bob").id)
        assert await bot.services.store.get_conversation(own) is None
    assert handle.ephemeral and "Done: 1 conversation(s)" in (handle.final_content() or "")
    assert "shared words" not in json.dumps(exported)


async def test_forget_me_needs_the_phrase(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    async with commands_bot():
        handle = await command(discord_emulator, "forget-me", confirm="no")
    assert "Nothing was deleted" in (handle.final_content() or "")


async def test_export_sends_your_conversation_as_a_json_file(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    emu = discord_emulator
    async with commands_bot() as bot:
        nothing = await command(emu, "export")
        assert "no conversation" in (nothing.final_content() or "")
        await ask(emu, "note this down", private=True)
        await ledger_has(bot)
        handle = await command(emu, "export")
        await handle.wait(lambda h: bool(h.original and h.original.attachments), timeout=20)
    assert handle.ephemeral
    attachment = handle.original.attachments[0]
    assert attachment.filename == "conversation.json"
    document = json.loads(attachment.data)
    assert "note this down" in json.dumps(document)


async def test_imagine_is_refused_when_the_image_tools_are_not_loaded(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    async with commands_bot(tools={"modules": ["tools.weather"]}):
        handle = await command(discord_emulator, "imagine", prompt="a cat")
    assert "not enabled" in (handle.final_content() or "")
    assert openai_emulator.attempts(IMAGES) == 0


async def test_imagine_draws_and_counts_images_against_the_budget(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    settings = {
        "tools": {"modules": ["tools.weather", "tools.images"]},
        "quotas": {"user_daily_images": 1},
    }
    async with commands_bot(**settings) as bot:
        handle = await discord_emulator.inject_interaction(
            "imagine", user="bob", channel="general", options={"prompt": "a red fox"}
        )
        await handle.wait(lambda h: bool(h.original and h.original.attachments), timeout=20)
        again = await command(discord_emulator, "imagine", prompt="another fox")
        totals = await bot.services.store.usage_totals(user_id=discord_emulator.user("bob").id)
    assert deferred_before(handle, model_request_times(openai_emulator, IMAGES)[0])
    assert handle.original is not None
    assert handle.original.attachments[0].data.startswith(b"\x89PNG")
    assert "a red fox" in handle.original.content
    assert "budget of 1 generated images" in (again.final_content() or "")
    assert openai_emulator.attempts(IMAGES) == 1 and totals.images == 1
