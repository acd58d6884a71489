"""/model effort: the reasoning effort per server or channel reaches the model request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.testing.discord import DiscordEmulator
from bot.testing.openai import OpenAIEmulator

from .test_commands_settings import run


async def _chat(emu: DiscordEmulator, where: str) -> None:
    chat = await emu.inject_interaction("chat", user="bob", channel=where, options={"prompt": "hi"})
    await chat.wait(lambda h: (h.final_content() or "").startswith("echo"), timeout=20)


async def test_model_effort_per_server_and_channel_reaches_the_request(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    emu = discord_emulator
    async with commands_bot(openai={"api_dialect": "responses", "reasoning_effort": "low"}) as bot:
        assert "Reasoning effort: low (default)" in await run(emu, "model show", user="bob")
        assert "Saved for this server" in await run(
            emu, "model effort", level="high", scope="guild"
        )
        assert "Saved for <#" in await run(emu, "model effort", level="minimal")
        assert "Reasoning effort: minimal" in await run(emu, "model show", user="bob")
        await _chat(emu, "general")
        await _chat(emu, "random")
        await run(emu, "model effort", level="default")
        await _chat(emu, "general")
        stored = await bot.services.store.get_settings("guild", emu.guild.id)
    efforts = [r["reasoning"]["effort"] for r in openai_emulator.responses.requests]
    assert efforts == ["minimal", "high", "high"]
    assert stored == {"reasoning_effort": "high"}
