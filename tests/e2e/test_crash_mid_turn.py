"""Issues 3 and 4: a bot killed (SIGKILL) mid-turn runs no side effect twice, answers once.

The bot runs in a child process against the emulators in this one; the side-effecting tool writes
to a file, so every run is counted whatever process ran it.
"""

from __future__ import annotations

from pathlib import Path

from bot.testing.bot_process import BotProcess
from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, ToolCall

from .conftest import ask

RESTART_NOTICE = "interrupted by a restart"


async def test_kill_mid_tool_then_restart_and_replay(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    tmp_path: Path,
) -> None:
    notes = tmp_path / "notes.txt"
    general = discord_emulator.channel("general")
    testing = {"notes_path": str(notes), "block": True}
    values = bot_harness.settings_values(
        tools={"modules": ["bot.testing.fakes.tools"], "config": {"testing": testing}}
    )
    openai_emulator.chat.reply_tool_calls([ToolCall("post_note", {"text": "ship it"}, id="call_1")])

    first = await BotProcess.start(values)
    try:
        await first.wait_ready()
        source = await ask(discord_emulator, "post a note saying ship it")
        await discord_emulator.wait_for_message(
            general, lambda m: "Note written." in m.content, timeout=30
        )
    finally:
        first.kill()
        await first.wait()
    assert notes.read_text().splitlines() == ["ship it"]

    second = await BotProcess.start(values)
    try:
        await second.wait_ready()
        await discord_emulator.wait_for_message(
            general, lambda m: RESTART_NOTICE in m.content, timeout=30
        )
        await discord_emulator.resend_last(
            "MESSAGE_CREATE", lambda record: int(record.payload["id"]) == int(source["id"])
        )
        openai_emulator.chat.reply_text("All quiet.")
        await ask(discord_emulator, "anything else?")
        await discord_emulator.wait_for_message(
            general, lambda m: m.content == "All quiet.", timeout=30
        )
    finally:
        await second.stop()
    assert notes.read_text().splitlines() == ["ship it"], "the side effect ran twice"
    assert len(openai_emulator.chat.requests) == 2
    notices = [m for m in discord_emulator.messages(general) if RESTART_NOTICE in m.content]
    assert len(notices) == 1
    assert notices[0].message_reference
    assert int(notices[0].message_reference["message_id"]) == int(source["id"])
