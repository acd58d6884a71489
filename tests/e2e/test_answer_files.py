"""Issue 16, finding 5: an answer's files stay within limits checked before tools run, go out
over several messages within Discord's limits, and what cannot be delivered is named."""

from __future__ import annotations

from bot.testing.discord import DiscordEmulator
from bot.testing.discord.models import StoredMessage
from bot.testing.harness import BotHarness
from bot.testing.openai import ImageReply, OpenAIEmulator, ToolCall
from bot.testing.openai.media.png import solid_png

from .conftest import ask

IMAGES = {"modules": ["tools.images"]}
FILES = {"modules": ["tests.e2e.file_tools"]}
ROOMY_QUOTAS = {"user_daily_images": 100, "guild_daily_images": 100, "global_daily_images": 100}
MIB = 1024 * 1024


def _bot_messages(emu: DiscordEmulator) -> list[StoredMessage]:
    return [m for m in emu.messages(emu.channel("general")) if m.author.id == emu.bot_user.id]


def _refused_writes(emu: DiscordEmulator) -> list[str]:
    return [
        f"{r.method} {r.path} -> {r.status}"
        for r in emu.requests
        if r.path.endswith("/messages") or "/messages/" in r.path
        if r.status is not None and r.status >= 400
    ]


async def test_eleven_image_calls_make_ten_images_and_all_ten_arrive(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    openai_emulator.images.set_default(ImageReply(images=[solid_png(8, 8, (9, 9, 9))]))
    calls = [ToolCall("generate_image", {"prompt": f"picture {n}"}) for n in range(11)]
    openai_emulator.chat.reply_tool_calls(calls)
    openai_emulator.chat.reply_text("Here are your pictures.")
    async with bot_harness.run(tools=IMAGES, quotas=ROOMY_QUOTAS):
        await ask(emu, "draw eleven pictures", user="bob")
        await emu.wait_for_message(
            "general", lambda m: m.content.startswith("Here are your pictures."), timeout=30
        )

    assert len(openai_emulator.images.requests) == 10, "the 11th call must not run (or charge)"
    tool_results = [m for m in openai_emulator.chat.requests[1]["messages"] if m["role"] == "tool"]
    assert len(tool_results) == 11
    assert tool_results[10]["content"] == (
        "Not run: one answer can carry at most 10 files and this one already has 10 made or on "
        "their way, so 'generate_image' (up to 1 more) would not fit. Tell the user which files "
        "were not made and that they can ask for them in a new message."
    )
    delivered = [a for m in _bot_messages(emu) for a in m.attachments]
    assert len(delivered) == 10
    assert _refused_writes(emu) == []


async def test_files_spread_over_messages_and_the_undeliverable_are_named(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_tool_calls(
        [
            ToolCall("make_files", {"stem": "small", "count": 11, "kib": 1}),
            ToolCall("make_files", {"stem": "big", "count": 1, "kib": 11 * 1024}),
        ]
    )
    openai_emulator.chat.reply_text("Files are ready.")
    async with bot_harness.run(tools=FILES, chat={"max_files_per_answer": 12}):
        await ask(emu, "make the files", user="bob")
        await emu.wait_for_message(
            "general", lambda m: m.content.startswith("Files are ready."), timeout=30
        )
        await emu.wait_until(lambda: len(_bot_messages(emu)) == 2, timeout=10)

    first, second = _bot_messages(emu)
    assert first.content == (
        "Files are ready.\n-# ⚠️ Not delivered: big-0.bin (11.0 MB, over the 10.0 MB upload "
        "limit here)."
    )
    assert [a.filename for a in first.attachments] == [f"small-{n}.bin" for n in range(10)]
    assert (second.content, [a.filename for a in second.attachments]) == ("", ["small-10.bin"])
    assert _refused_writes(emu) == []


async def test_files_are_spread_so_no_request_passes_25_mib(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_tool_calls(
        [ToolCall("make_files", {"stem": "part", "count": 3, "kib": 9 * 1024})]
    )
    openai_emulator.chat.reply_text("Three parts.")
    async with bot_harness.run(tools=FILES):
        await ask(emu, "make three parts", user="bob")
        await emu.wait_until(lambda: len(_bot_messages(emu)) == 2, timeout=30)

    first, second = _bot_messages(emu)
    assert first.content == "Three parts."
    assert [a.size for a in first.attachments] == [9 * MIB, 9 * MIB]
    assert [a.size for a in second.attachments] == [9 * MIB]
    assert _refused_writes(emu) == []
