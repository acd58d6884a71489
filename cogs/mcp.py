"""``/mcp``: the MCP servers, their state and their tools (bot owner, or Manage Server)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ToolcordBot
from bot.mcp_status import status_lines
from tools.mcp import McpManager

NO_MENTIONS = discord.AllowedMentions.none()
REFUSAL = "Only the bot's owner or a member with Manage Server may see the MCP servers."


class Mcp(commands.Cog):
    """The ``/mcp`` command."""

    def __init__(self, bot: ToolcordBot) -> None:
        self.bot = bot

    @app_commands.command(name="mcp", description="MCP servers: state and tools")
    @app_commands.default_permissions(manage_guild=True)
    async def mcp(self, interaction: discord.Interaction) -> None:
        """Show every MCP server, its state and its tools."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        is_owner = await self.bot.is_owner(interaction.user)
        permissions = interaction.permissions
        if not (is_owner or (interaction.guild_id and permissions.manage_guild)):
            await _say(interaction, REFUSAL)
            return
        manager = self.bot.services.tool_services.get("mcp")
        statuses = manager.status() if isinstance(manager, McpManager) else []
        await _say(interaction, status_lines(statuses))


async def _say(interaction: discord.Interaction, text: str) -> None:
    await interaction.edit_original_response(content=text[:2000], allowed_mentions=NO_MENTIONS)


async def setup(bot: ToolcordBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(Mcp(bot))
