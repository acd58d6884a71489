"""Presses on approval buttons this process does not hold (posted before a restart).

The waiting call died with the old process, so nothing may run: the press is answered with a
notice and the buttons are removed.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.app import ToolcordBot
from bot.approval import CUSTOM_ID_TEMPLATE, DiscordApprover
from bot.discord_safety import NO_MENTIONS

log = logging.getLogger("toolcord.approval")

STALE_TEXT = "⌛ This approval request is no longer waiting (the bot restarted); nothing was run."


class StaleApproval(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID_TEMPLATE):
    """An approval button whose request this process never issued."""

    def __init__(self, choice: str, token: str) -> None:
        super().__init__(discord.ui.Button(custom_id=f"toolcord:approve:{choice}:{token}"))
        self.token = token

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> StaleApproval:
        return cls(match["choice"], match["token"])

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Leave presses on requests issued here to their live view."""
        client = interaction.client
        approver = client.services.approver if isinstance(client, ToolcordBot) else None
        return not (isinstance(approver, DiscordApprover) and approver.knows(self.token))

    async def callback(self, interaction: discord.Interaction) -> None:
        log.info("a press on a stale approval request was answered")
        await interaction.response.edit_message(
            content=STALE_TEXT, view=None, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: ToolcordBot) -> None:
    """discord.py extension entry point."""
    bot.add_dynamic_items(StaleApproval)


async def teardown(bot: ToolcordBot) -> None:
    """Called when the extension is unloaded."""
    bot.remove_dynamic_items(StaleApproval)
