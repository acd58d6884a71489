"""Slash commands, deferral, follow-ups, context menus, double and late acknowledgements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import discord
import pytest

if TYPE_CHECKING:
    from conftest import Kit, RecordingBot

from bot.testing.discord import DiscordEmulator


def command_bot(emu: DiscordEmulator, kit: Kit) -> RecordingBot:
    bot = kit.RecordingBot()
    guild = discord.Object(emu.guild.id)

    @bot.tree.command(name="echo", description="Echo text.", guild=guild)
    async def echo(interaction: discord.Interaction, text: str, times: int = 1) -> None:
        await interaction.response.send_message(" ".join([text] * times))

    @bot.tree.command(name="slow", description="Deferred answer.", guild=guild)
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("part 1")
        await interaction.edit_original_response(content="done")

    @bot.tree.command(name="size", description="Attachment size.")
    async def size(interaction: discord.Interaction, file: discord.Attachment) -> None:
        data = await file.read()
        await interaction.response.send_message(f"{file.filename}: {len(data)}", ephemeral=True)

    @bot.tree.command(name="twice", description="Answers twice.", guild=guild)
    async def twice(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("first")
        try:
            await interaction.response.send_message("second")
        except discord.InteractionResponded:
            await interaction.client.http.request(
                discord.http.Route(
                    "POST", "/interactions/{i}/{t}/callback", i=interaction.id, t=interaction.token
                ),
                json={"type": 4, "data": {"content": "second"}},
            )

    @bot.tree.command(name="who", description="Who is it?", guild=guild)
    async def who(interaction: discord.Interaction, member: discord.Member) -> None:
        roles = ",".join(role.name for role in member.roles[1:])
        await interaction.response.send_message(
            f"{member.name}:{roles}:{interaction.permissions.kick_members}"
        )

    @bot.tree.context_menu(name="Quote", guild=guild)
    async def quote(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"> {message.content}", ephemeral=True)

    async def setup_hook() -> None:
        await bot.tree.sync(guild=guild)
        await bot.tree.sync()

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    return bot


@pytest.fixture
async def cmd_bot(emu: DiscordEmulator, kit: Kit) -> AsyncIterator[RecordingBot]:
    bot = command_bot(emu, kit)
    async with kit.Running(emu, bot):
        yield bot


async def test_slash_command_with_options(emu: DiscordEmulator, cmd_bot: RecordingBot) -> None:
    handle = await emu.inject_interaction(
        "echo", user="alice", channel="general", options={"text": "hi", "times": 2}
    )
    callback = await handle.wait_response()
    assert callback.type == 4 and callback.data == {"content": "hi hi", "tts": False}
    assert handle.final_content() == "hi hi" and not handle.ephemeral
    assert handle.ack_latency is not None and handle.ack_latency < 3
    assert "Authorization" not in callback.request.headers
    options = handle.payload["data"]["options"]
    assert options == [
        {"name": "text", "type": 3, "value": "hi"},
        {"name": "times", "type": 4, "value": 2},
    ]
    assert handle.original is not None and handle.original.type == 20


async def test_deferred_command_then_followup_and_edit(
    emu: DiscordEmulator, cmd_bot: RecordingBot
) -> None:
    handle = await emu.inject_interaction("slow", user="bob", channel="general")
    assert (await handle.wait_response()).type == 5
    assert handle.deferred
    original = await handle.wait_original_edit()
    assert original.content == "done" and not original.flags & 128
    assert [m.content for m in handle.followups] == ["part 1"]
    assert handle.final_content() == "done"
    assert emu.requests_matching("POST", r"/webhooks/\d+/[\w.-]+")[0].query["wait"] == "1"


async def test_context_menu_gets_the_resolved_message(
    emu: DiscordEmulator, cmd_bot: RecordingBot
) -> None:
    target = await emu.inject_message("general", "bob", "quote me")
    handle = await emu.inject_interaction(
        "Quote", user="alice", channel="general", command_type=3, target_message=target
    )
    callback = await handle.wait_response()
    assert callback.data is not None and callback.data["content"] == "> quote me"
    assert handle.ephemeral


async def test_global_command_with_attachment_in_dm(
    emu: DiscordEmulator, cmd_bot: RecordingBot
) -> None:
    file = emu.attachment("notes.txt", b"12345")
    handle = await emu.inject_interaction(
        "size", user="bob", channel=emu.dm_channel("bob"), options={"file": file}
    )
    await handle.wait_response()
    assert handle.final_content() == "notes.txt: 5"
    assert "guild_id" not in handle.payload["data"] and handle.payload["user"]["username"] == "bob"


async def test_second_acknowledgement_is_rejected(
    emu: DiscordEmulator, cmd_bot: RecordingBot
) -> None:
    handle = await emu.inject_interaction("twice", user="alice", channel="general")
    await handle.wait(lambda h: h.rejected == [40060])
    assert len(handle.callbacks) == 1


async def test_late_acknowledgement_gets_10062(emu: DiscordEmulator, cmd_bot: RecordingBot) -> None:
    emu.interaction_ack_deadline = 0.0  # every acknowledgement is late
    handle = await emu.inject_interaction(
        "echo", user="alice", channel="general", options={"text": "x"}
    )
    await handle.wait(lambda h: h.rejected == [10062])
    assert not handle.responded


async def test_unsynced_command_is_a_clear_error(
    emu: DiscordEmulator, cmd_bot: RecordingBot
) -> None:
    with pytest.raises(LookupError, match=r"tree\.sync"):
        await emu.inject_interaction("nope", user="alice", channel="general")


async def test_user_option_is_resolved_to_a_member(
    emu: DiscordEmulator, cmd_bot: RecordingBot
) -> None:
    handle = await emu.inject_interaction(
        "who", user="alice", channel="general", options={"member": "alice"}
    )
    await handle.wait_response()
    assert handle.final_content() == "alice:Moderator:True"
    plain = await emu.inject_interaction(
        "who", user="bob", channel="general", options={"member": emu.user("bob")}
    )
    await plain.wait_response()
    assert plain.final_content() == "bob::False"
