"""Clicks on moderation confirmations this process does not hold (posted before a restart).

A confirmation's Confirm / Cancel buttons live in memory (``bot/moderation_actions.py``). After a
restart their messages still show the buttons; this cog answers a click on them by saying that
nothing was done and removing the buttons, so a stale confirmation can never act.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.app import ToolcordBot
from bot.i18n import Catalogue, locale_of
from bot.moderation_actions import CUSTOM_ID_TEMPLATE, ModerationActions

log = logging.getLogger("toolcord.moderation")

STALE_TEXT = (
    "⌛ This moderation request is no longer waiting (the bot restarted); nothing was done."
)
ACTIONS_SERVICE = "moderation_actions"


class StaleConfirmation(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID_TEMPLATE
):
    """A Confirm / Cancel button whose confirmation this process never issued."""

    def __init__(self, choice: str, token: str) -> None:
        super().__init__(discord.ui.Button(custom_id=f"toolcord:mod:{choice}:{token}"))
        self.token = token

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> StaleConfirmation:
        return cls(match["choice"], match["token"])

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Leave the clicks of confirmations issued here to their live view."""
        services = getattr(interaction.client, "services", None)
        actions = getattr(services, "tool_services", {}).get(ACTIONS_SERVICE)
        return not (isinstance(actions, ModerationActions) and actions.knows(self.token))

    async def callback(self, interaction: discord.Interaction) -> None:
        log.info("a click on a stale moderation confirmation was answered")
        catalogue = getattr(interaction.client, "catalogue", None)
        text = (
            catalogue.text("moderation.stale", locale_of(interaction))
            if isinstance(catalogue, Catalogue)
            else STALE_TEXT
        )
        await interaction.response.edit_message(
            content=text, view=None, allowed_mentions=discord.AllowedMentions.none()
        )


async def setup(bot: ToolcordBot) -> None:
    """discord.py extension entry point."""
    bot.add_dynamic_items(StaleConfirmation)


async def teardown(bot: ToolcordBot) -> None:
    """Called when the extension is unloaded."""
    bot.remove_dynamic_items(StaleConfirmation)
