"""Issue 16, finding 2: /export shows only what the invoker may see; deleted messages vanish.

Before the fix, bob (denied Read Message History in #general) exported alice's message from the
shared conversation, PIN included, after alice had deleted it on Discord.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from bot.testing.discord import DiscordEmulator
from bot.testing.discord.permissions import Perm
from bot.testing.openai import OpenAIEmulator
from bot.testing.openai.replies import TextReply

from .test_commands_user import command, ledger_has

PIN = "my card PIN is 4321"


async def mention(emu: DiscordEmulator, user: str, text: str) -> Any:
    """``user`` mentions the bot in #general and waits for the answer to it."""
    sent = await emu.inject_message(
        "general", emu.user(user), f"<@{emu.bot_user.id}> {text}", mentions=[emu.bot_user]
    )
    await emu.wait_for_message(
        "general", lambda m: m.referenced_message_id == int(sent["id"]), timeout=20
    )
    return sent


async def until(check: Callable[[], Any], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Poll ``check`` (a coroutine function) until it is true; the store wakes no waiter."""

    async def poll() -> None:
        while not await check():  # noqa: ASYNC110 (the store has no event to wait on)
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


async def export_text(emu: DiscordEmulator, user: str) -> str:
    """What ``user``'s /export sends: the file's text, or the message when there is no file."""
    handle = await command(emu, "export", user=user)
    await handle.wait(
        lambda h: (
            bool(h.original and h.original.attachments)
            or "no conversation" in (h.final_content() or "")
        ),
        timeout=20,
    )
    assert handle.ephemeral
    if handle.original and handle.original.attachments:
        return handle.original.attachments[0].data.decode()
    return handle.final_content() or ""


async def test_export_without_read_message_history_holds_only_your_own_exchanges(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    emu = discord_emulator
    openai_emulator.chat.set_default(TextReply("noted"))
    emu.set_overwrite("general", emu.user("bob"), deny=int(Perm.READ_MESSAGE_HISTORY))
    async with commands_bot() as bot:
        await mention(emu, "alice", PIN)
        await mention(emu, "bob", "bob's own question")
        await ledger_has(bot, requests=2)
        bobs = await export_text(emu, "bob")
        alices = await export_text(emu, "alice")
    assert "bob's own question" in bobs
    assert "4321" not in bobs
    assert PIN in alices and "bob's own question" in alices  # alice may read the history
    document = json.loads(bobs)
    assert {e["user_id"] for e in document["exchanges"]} == {emu.user("bob").id}
    assert document["scope"] == "own"
    assert json.loads(alices)["scope"] == "shared"


async def test_a_deleted_message_leaves_the_export_and_the_window(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    emu = discord_emulator
    openai_emulator.chat.set_default(TextReply("noted"))
    async with commands_bot() as bot:
        sent = await mention(emu, "alice", PIN)
        await ledger_has(bot, requests=1)
        emu.delete_message(sent)
        store = bot.services.store

        async def redacted() -> bool:
            conversation = await store.conversation_for_message(int(sent["id"]))
            assert conversation is not None
            document = await store.export_conversation(conversation.key)
            return "4321" not in json.dumps(document)

        await until(redacted)
        exported = await export_text(emu, "alice")
        await mention(emu, "bob", "what did alice say?")
    assert "4321" not in exported
    turns = [t for e in json.loads(exported)["exchanges"] for t in e["turns"]]
    deleted = [t for t in turns if t["deleted_at"] is not None]
    assert [t["role"] for t in deleted] == ["user"]
    assert deleted[0]["content"] == "[message deleted]"
    window = json.dumps(openai_emulator.chat.requests[-1]["messages"])
    assert "4321" not in window and "[message deleted]" in window
