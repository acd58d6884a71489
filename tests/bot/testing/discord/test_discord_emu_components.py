"""Component interactions: clicking buttons on bot messages, and the bot's update answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
import pytest

if TYPE_CHECKING:
    from conftest import RecordingBot

from bot.testing.discord import DiscordEmulator


class Buttons(discord.ui.View):
    """Update (type 7), defer-then-edit (type 6 + @original), and a private reply (type 4)."""

    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.clicks: list[tuple[str, int]] = []

    @discord.ui.button(label="Update", custom_id="t:update")
    async def update(
        self, interaction: discord.Interaction, button: discord.ui.Button[Buttons]
    ) -> None:
        self.clicks.append(("update", interaction.user.id))
        await interaction.response.edit_message(content="updated", view=None)

    @discord.ui.button(label="Later", custom_id="t:later")
    async def later(
        self, interaction: discord.Interaction, button: discord.ui.Button[Buttons]
    ) -> None:
        self.clicks.append(("later", interaction.user.id))
        await interaction.response.defer()
        await interaction.edit_original_response(content="edited later")

    @discord.ui.button(label="Private", custom_id="t:private")
    async def private(
        self, interaction: discord.Interaction, button: discord.ui.Button[Buttons]
    ) -> None:
        self.clicks.append(("private", interaction.user.id))
        await interaction.response.send_message("only you see this", ephemeral=True)

    @discord.ui.select(
        custom_id="t:pick",
        options=[discord.SelectOption(label="a"), discord.SelectOption(label="b")],
    )
    async def pick(
        self, interaction: discord.Interaction, select: discord.ui.Select[Buttons]
    ) -> None:
        self.clicks.append((f"pick:{','.join(select.values)}", interaction.user.id))
        await interaction.response.defer()


async def _post(emu: DiscordEmulator, bot: RecordingBot) -> tuple[Buttons, int]:
    channel = bot.get_channel(emu.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    view = Buttons()
    sent = await channel.send("choose", view=view)
    return view, sent.id


async def test_a_click_reaches_the_view_and_type_7_edits_the_message(
    emu: DiscordEmulator, bot: RecordingBot
) -> None:
    view, message_id = await _post(emu, bot)

    handle = emu.click(message_id, user="alice", label="Update")
    await handle.wait_response()

    stored = emu.message(message_id)
    assert stored is not None
    await emu.wait_until(lambda: stored.content == "updated" or None)
    assert handle.response_type == 7 and stored.components == []
    assert view.clicks == [("update", emu.user("alice").id)]
    assert handle.payload["type"] == 3 and handle.payload["message"]["id"] == str(message_id)


async def test_a_deferred_update_then_original_edit_changes_the_clicked_message(
    emu: DiscordEmulator, bot: RecordingBot
) -> None:
    _, message_id = await _post(emu, bot)

    handle = emu.click(message_id, user="bob", custom_id="t:later")
    await handle.wait_response()

    stored = emu.message(message_id)
    assert stored is not None
    await emu.wait_until(lambda: stored.content == "edited later" or None)
    assert handle.response_type == 6
    assert handle.original is stored


async def test_a_reply_to_a_click_is_a_new_private_message(
    emu: DiscordEmulator, bot: RecordingBot
) -> None:
    _, message_id = await _post(emu, bot)

    handle = emu.click(message_id, user="bob", label="Private")
    await handle.wait_response()

    assert handle.ephemeral and handle.final_content() == "only you see this"
    stored = emu.message(message_id)
    assert stored is not None and stored.content == "choose"


async def test_select_values_are_sent(emu: DiscordEmulator, bot: RecordingBot) -> None:
    view, message_id = await _post(emu, bot)

    handle = emu.click(message_id, user="bob", custom_id="t:pick", values=["b"])
    await handle.wait_response()

    assert view.clicks == [("pick:b", emu.user("bob").id)]
    assert handle.payload["data"] == {"custom_id": "t:pick", "component_type": 3, "values": ["b"]}


async def test_unknown_or_unclickable_components_are_test_errors(
    emu: DiscordEmulator, bot: RecordingBot
) -> None:
    _, message_id = await _post(emu, bot)

    with pytest.raises(LookupError, match="has no component 'Nope'"):
        emu.click(message_id, user="bob", label="Nope")
    with pytest.raises(ValueError, match="custom_id= or label="):
        emu.click(message_id, user="bob")
    channel = bot.get_channel(emu.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    await channel.get_partial_message(message_id).delete()
    with pytest.raises(KeyError):
        emu.click(message_id, user="bob", label="Update")
