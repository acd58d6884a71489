"""Issue 16, finding 5 through /chat: files spread over the interaction's messages within the
interaction's upload limit, and what cannot go is named under the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.testing.discord import DiscordEmulator
from bot.testing.openai import OpenAIEmulator, ToolCall

FILES = {"modules": ["tests.e2e.file_tools"]}


async def test_chat_answer_files_fit_the_interactions_limits(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_tool_calls(
        [
            ToolCall("make_files", {"stem": "small", "count": 11, "kib": 1}),
            ToolCall("make_files", {"stem": "big", "count": 1, "kib": 11 * 1024}),
        ]
    )
    openai_emulator.chat.reply_text("Files are ready.")
    async with commands_bot(tools=FILES, chat={"max_files_per_answer": 12}):
        handle = await emu.inject_interaction(
            "chat", user="bob", channel="general", options={"prompt": "make files"}
        )
        await handle.wait(
            lambda h: (h.final_content() or "").startswith("Files are ready."), timeout=20
        )
        await emu.wait_until(
            lambda: sum(len(m.attachments) for m in emu.messages(emu.channel("general"))) >= 11,
            timeout=10,
        )

    sent = [
        (m.content, len(m.attachments))
        for m in emu.messages(emu.channel("general"))
        if m.author.id == emu.bot_user.id
    ]
    assert sent == [
        (
            "Files are ready.\n-# ⚠️ Not delivered: big-0.bin (11.0 MB, over the 10.0 MB upload "
            "limit here).",
            10,
        ),
        ("", 1),
    ]
    refused = [r for r in emu.requests if r.status is not None and r.status >= 400]
    assert refused == []
