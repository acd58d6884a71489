"""Issue 17: MCP tools through the real bot: results reach the model as delimited data, images
are attached to the reply, acting tools wait for approval, a member without the server's
permission causes no call."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bot.testing.discord import DiscordEmulator, StoredMessage
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, ToolCall

from .conftest import ask

FIXTURE = Path(__file__).resolve().parents[1] / "tools" / "mcp" / "mcp_fixture_server.py"


def server(log: Path) -> dict[str, Any]:
    return {
        "servers": [
            {
                "name": "fixture",
                "command": sys.executable,
                "args": [str(FIXTURE)],
                "env": {"MCP_FIXTURE_LOG": str(log)},
            }
        ],
        "start_wait_s": 30,
    }


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def tool_messages(openai: OpenAIEmulator) -> list[str]:
    return [
        m["content"] for r in openai.chat.requests for m in r["messages"] if m["role"] == "tool"
    ]


def offered(openai: OpenAIEmulator, index: int = 0) -> list[str]:
    return [t["function"]["name"] for t in openai.chat.requests[index].get("tools", [])]


async def test_mcp_result_and_image_reach_the_reply(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    tmp_path: Path,
) -> None:
    emu, log = discord_emulator, tmp_path / "calls.log"
    openai_emulator.chat.reply_tool_calls(
        [
            ToolCall("fixture__echo", {"text": "hello", "times": None}),
            ToolCall("fixture__image", {}),
        ]
    )
    openai_emulator.chat.reply_text("Here it is.")
    async with bot_harness.run(tools={"modules": []}, mcp=server(log)):
        await ask(emu, "echo hello and show the pixel", user="bob")
        reply = await emu.wait_for_message(
            "general", lambda m: "Here it is." in m.content and bool(m.attachments), timeout=30
        )
    assert "fixture__echo" in offered(openai_emulator)
    assert "fixture__delete_note" not in offered(openai_emulator), "bob lacks manage_guild"
    echo, image = tool_messages(openai_emulator)
    assert echo.endswith(
        '<mcp_result server="fixture" tool="echo" untrusted="true">\nhello\n</mcp_result>'
    )
    assert "[image image-2.png (image/png, 70 bytes) attached to the reply]" in image
    assert [a.filename for a in reply.attachments] == ["image-2.png"]
    assert calls(log) == ["echo hello", "image"]
    # The image is shown to the model in its next round (issue 21's tool images), after the
    # tool results, as a user message: not only attached to the reply.
    followed = openai_emulator.chat.requests[1]["messages"]
    last_tool = max(i for i, m in enumerate(followed) if m["role"] == "tool")
    shown = followed[last_tool + 1]
    assert shown["role"] == "user"
    assert [p["type"] for p in shown["content"] if p["type"] == "image_url"] == ["image_url"]
    assert any(
        p["image_url"]["url"].startswith("data:image/")
        for p in shown["content"]
        if p["type"] == "image_url"
    )


async def test_member_without_permission_makes_no_call(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    tmp_path: Path,
) -> None:
    emu, log = discord_emulator, tmp_path / "calls.log"
    openai_emulator.chat.reply_tool_calls([ToolCall("fixture__delete_note", {"name": "all"})])
    openai_emulator.chat.reply_text("I cannot.")
    async with bot_harness.run(tools={"modules": []}, mcp=server(log)):
        await ask(emu, "delete all notes", user="bob")
        await emu.wait_for_message("general", lambda m: m.content == "I cannot.", timeout=30)
    assert "fixture__delete_note" not in offered(openai_emulator)
    [result] = tool_messages(openai_emulator)
    assert result == (
        "The tool 'fixture__delete_note' is not available here: it is not enabled here. It was "
        "not run. Do not call it again; tell the user if it matters."
    )
    assert calls(log) == []


async def test_acting_mcp_tool_waits_for_approval(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    tmp_path: Path,
) -> None:
    emu, log = discord_emulator, tmp_path / "calls.log"
    mcp = server(log)
    mcp["servers"][0]["permission"] = "kick_members"
    openai_emulator.chat.reply_tool_calls([ToolCall("fixture__delete_note", {"name": "old"})])
    openai_emulator.chat.reply_text("Deleted.")

    def asking(message: StoredMessage) -> bool:
        return "Approval needed" in message.content and bool(message.components)

    async with bot_harness.run(tools={"modules": []}, mcp=mcp):
        await ask(emu, "delete the old note", user="alice")
        prompt = await emu.wait_for_message("general", asking, timeout=30)
        assert "`fixture__delete_note`" in prompt.content
        assert calls(log) == []
        emu.click(prompt, user="alice", label="Allow once")
        await emu.wait_for_message("general", lambda m: m.content == "Deleted.", timeout=30)
    assert calls(log) == ["delete_note old"]
    assert "deleted old" in tool_messages(openai_emulator)[-1]


async def test_mcp_command_shows_servers_to_the_owner_only(
    discord_emulator: DiscordEmulator, bot_harness: BotHarness, tmp_path: Path
) -> None:
    emu = discord_emulator
    async with bot_harness.run(
        tools={"modules": []},
        mcp=server(tmp_path / "calls.log"),
        discord={"owner_ids": [emu.owner.id]},
    ) as bot:
        await bot.tree.sync()
        owner = await emu.inject_interaction("mcp", user=emu.owner, channel="general")
        await owner.wait(lambda h: bool(h.final_content()), timeout=20)
        bob = await emu.inject_interaction("mcp", user="bob", channel="general")
        await bob.wait(lambda h: bool(h.final_content()), timeout=20)
    text = owner.final_content() or ""
    assert text.startswith("🟢 **fixture** (stdio): connected\n9 tools: `fixture__add_tool`")
    assert owner.ephemeral and "`fixture__delete_note`" in text
    assert bob.final_content() == (
        "Only the bot's owner or a member with Manage Server may see the MCP servers."
    )


async def test_mcp_command_switches_a_server_off_for_the_guild(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    tmp_path: Path,
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_text("No tools here.")
    async with bot_harness.run(
        tools={"modules": ["tools.weather"]},
        mcp=server(tmp_path / "calls.log"),
        discord={"owner_ids": [emu.owner.id]},
    ) as bot:
        await bot.tree.sync()
        switch = await emu.inject_interaction(
            "mcp",
            user=emu.owner,
            channel="general",
            options={"server": "fixture", "enabled": False},
        )
        await switch.wait(lambda h: bool(h.final_content()), timeout=20)
        await ask(emu, "echo something", user="bob")
        await emu.wait_for_message("general", lambda m: m.content == "No tools here.", timeout=30)
    assert switch.final_content() == "The 9 tools of fixture are off in this server now."
    assert offered(openai_emulator) == ["weather"]
