"""``/mcp``: the MCP servers, their state and their tools (bot owner, or Manage Server).

With ``server`` and ``enabled`` it switches all of that server's tools on or off for the whole
guild (the same switches ``/tools`` sets one tool at a time).
"""

from __future__ import annotations

import functools
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ToolcordBot
from bot.discord_safety import NO_MENTIONS
from bot.guild_settings import GuildSettings, SettingsChangeError
from bot.i18n import locale_of
from bot.mcp_status import status_lines
from tools.mcp import McpManager, ServerStatus


class Mcp(commands.Cog):
    """The ``/mcp`` command."""

    def __init__(self, bot: ToolcordBot) -> None:
        self.bot = bot

    def _t(self, interaction: discord.Interaction, key: str, **values: Any) -> str:
        """``key`` from the catalogues in the invoker's language."""
        return self.bot.catalogue.text(key, locale_of(interaction), **values)

    @app_commands.command(name="mcp", description="MCP servers: state and tools")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        server="A server to switch on or off in this server (with enabled)",
        enabled="Whether the server's tools may be used in this server",
    )
    async def mcp(
        self,
        interaction: discord.Interaction,
        server: str | None = None,
        enabled: bool | None = None,
    ) -> None:
        """Show every MCP server, its state and its tools; or switch one for this server."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        is_owner = await self.bot.is_owner(interaction.user)
        permissions = interaction.permissions
        if not (is_owner or (interaction.guild_id and permissions.manage_guild)):
            await _say(interaction, self._t(interaction, "mcp.refusal"))
            return
        manager = self.bot.services.mcp
        statuses = manager.status() if isinstance(manager, McpManager) else []
        if server is None and enabled is None:
            texts = functools.partial(self._t, interaction)
            await _say(interaction, status_lines(statuses, texts))
            return
        await _say(interaction, await self._switch(interaction, statuses, server, enabled))

    async def _switch(
        self,
        interaction: discord.Interaction,
        statuses: list[ServerStatus],
        server: str | None,
        enabled: bool | None,
    ) -> str:
        found = next((s for s in statuses if s.name == server), None)
        if server is None or enabled is None:
            return self._t(interaction, "mcp.name_and_state")
        if found is None:
            return self._t(interaction, "mcp.no_such_server", server=repr(server))
        guild_settings = self.bot.services.guild_settings
        if interaction.guild_id is None or not isinstance(guild_settings, GuildSettings):
            return self._t(interaction, "mcp.per_guild")
        try:
            await guild_settings.update(
                "guild", interaction.guild_id, tools=dict.fromkeys(found.tools, enabled)
            )
        except SettingsChangeError as error:
            reason = self._t(interaction, error.key, **error.values) if error.key else str(error)
            return self._t(interaction, "mcp.not_changed", reason=reason)
        key = "mcp.switched_on" if enabled else "mcp.switched_off"
        return self._t(interaction, key, count=len(found.tools), server=server)


async def _say(interaction: discord.Interaction, text: str) -> None:
    await interaction.edit_original_response(content=text[:2000], allowed_mentions=NO_MENTIONS)


async def setup(bot: ToolcordBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(Mcp(bot))
