"""``/mcp``: the MCP servers, their state and their tools (bot owner, or Manage Server).

With ``server`` and ``enabled`` it switches all of that server's tools on or off for the whole
guild (the same switches ``/tools`` sets one tool at a time).
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ToolcordBot
from bot.guild_settings import GuildSettings, SettingsChangeError
from bot.mcp_status import status_lines
from tools.mcp import McpManager, ServerStatus

NO_MENTIONS = discord.AllowedMentions.none()
REFUSAL = "Only the bot's owner or a member with Manage Server may see the MCP servers."


class Mcp(commands.Cog):
    """The ``/mcp`` command."""

    def __init__(self, bot: ToolcordBot) -> None:
        self.bot = bot

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
            await _say(interaction, REFUSAL)
            return
        manager = self.bot.services.tool_services.get("mcp")
        statuses = manager.status() if isinstance(manager, McpManager) else []
        if server is None and enabled is None:
            await _say(interaction, status_lines(statuses))
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
            return "Name a server and say enabled True or False."
        if found is None:
            return f"There is no MCP server named {server!r}; /mcp lists them."
        guild_settings = self.bot.services.tool_services.get("guild_settings")
        if interaction.guild_id is None or not isinstance(guild_settings, GuildSettings):
            return "Servers are switched per Discord server; run this in one."
        try:
            await guild_settings.update(
                "guild", interaction.guild_id, tools=dict.fromkeys(found.tools, enabled)
            )
        except SettingsChangeError as error:
            return f"Not changed: {error}."
        state = "may be used" if enabled else "are off"
        return f"The {len(found.tools)} tools of {server} {state} in this server now."


async def _say(interaction: discord.Interaction, text: str) -> None:
    await interaction.edit_original_response(content=text[:2000], allowed_mentions=NO_MENTIONS)


async def setup(bot: ToolcordBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(Mcp(bot))
