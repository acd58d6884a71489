"""Owner-only operations (``/admin sync``, ``/admin stats``, ``/admin quota-reset``) and the
command sync at start.

Commands are synced once the bot is first ready (every cog's commands are in the tree by then): to
``discord.test_guild_ids`` when set (instant, for development), else globally. The owner check is
ours (``bot.is_owner``), not Discord's: ``default_member_permissions`` only hides the commands.
"""

from __future__ import annotations

import logging
import time
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ToolcordBot
from bot.discord_safety import NO_MENTIONS
from bot.i18n import locale_of
from bot.policy.permissions import invoker_from, owner_refusal_key
from bot.policy.usage import format_report

log = logging.getLogger("toolcord.admin")


async def sync_commands(bot: ToolcordBot) -> list[str]:
    """Sync the command tree: to the test guilds when configured, else globally.

    Returns:
        Where the commands went and how many, one line per target.
    """
    guild_ids = bot.settings.discord.test_guild_ids
    if not guild_ids:
        synced = await bot.tree.sync()
        return [f"{len(synced)} commands globally"]
    done = []
    for guild_id in guild_ids:
        guild = discord.Object(guild_id)
        bot.tree.copy_global_to(guild=guild)
        synced = await bot.tree.sync(guild=guild)
        done.append(f"{len(synced)} commands to guild {guild_id}")
    return done


class Admin(commands.Cog):
    """Owner-only commands; the startup command sync."""

    admin = app_commands.Group(
        name="admin",
        description="Bot owner operations",
        default_permissions=discord.Permissions(administrator=True),
        allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=True, private_channel=False
        ),
        allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
    )

    def __init__(self, bot: ToolcordBot) -> None:
        self.bot = bot
        self._synced_at_start = False
        self._started = time.monotonic()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        if self._synced_at_start:
            return
        self._synced_at_start = True
        try:
            for line in await sync_commands(self.bot):
                log.info("synced %s", line)
        except discord.HTTPException as exc:
            log.error("syncing the slash commands failed (%s); run /admin sync later", exc)

    async def _owner_refusal(self, interaction: discord.Interaction) -> str | None:
        is_owner = await self.bot.is_owner(interaction.user)
        key = owner_refusal_key(invoker_from(interaction, is_owner=is_owner))
        return self._t(interaction, key) if key is not None else None

    def _t(self, interaction: discord.Interaction, key: str, **values: object) -> str:
        """The bot's message ``key`` in the interaction's language (English when missing)."""
        return self.bot.catalogue.text(key, locale_of(interaction), **values)

    @admin.command(name="sync")
    async def sync(self, interaction: discord.Interaction) -> None:
        """Sync the slash commands with Discord again (bot owner)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        refusal = await self._owner_refusal(interaction)
        if refusal is not None:
            await _say(interaction, refusal)
            return
        try:
            lines = await sync_commands(self.bot)
        except discord.HTTPException as exc:
            reason = exc.text or exc.status
            await _say(interaction, self._t(interaction, "admin.sync_refused", reason=reason))
            return
        await _say(interaction, self._t(interaction, "admin.synced", lines="; ".join(lines)))

    @admin.command(name="stats")
    async def stats(self, interaction: discord.Interaction) -> None:
        """How the bot is doing: servers, running answers, usage (bot owner)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        refusal = await self._owner_refusal(interaction)
        if refusal is not None:
            await _say(interaction, refusal)
            return
        quotas = self.bot.services.quotas
        uptime_h = (time.monotonic() - self._started) / 3600
        latency = f"{self.bot.latency * 1000:.0f}"
        interrupted = len(self.bot.interrupted)
        lines = [
            self._t(interaction, "admin.servers", count=len(self.bot.guilds)),
            self._t(interaction, "admin.uptime", hours=f"{uptime_h:.1f}", latency=latency),
            self._t(interaction, "admin.interrupted", count=interrupted),
        ]
        lines.append(self._t(interaction, "admin.running", count=quotas.running))
        report = await quotas.report(None, None, include_global=True)
        lines.append(format_report(report, lambda key, **v: self._t(interaction, key, **v)))
        await _say(interaction, "\n".join(lines))

    @admin.command(name="quota-reset")
    @app_commands.describe(
        scope="Whose budgets: one user's, this server's, or the global one",
        user="The user (scope user)",
    )
    async def quota_reset(
        self,
        interaction: discord.Interaction,
        scope: Literal["user", "guild", "global"],
        user: discord.User | None = None,
    ) -> None:
        """Start a user's, this server's or the global budgets afresh from now (bot owner)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        refusal = await self._owner_refusal(interaction)
        if refusal is not None:
            await _say(interaction, refusal)
            return
        quotas = self.bot.services.quotas
        if scope == "user":
            if user is None:
                await _say(interaction, self._t(interaction, "admin.name_the_user"))
                return
            await quotas.reset("user", user.id)
            text = self._t(interaction, "admin.user_reset", user=user.mention)
            await _say(interaction, text)
            return
        if scope == "guild":
            if interaction.guild_id is None:
                await _say(interaction, self._t(interaction, "admin.run_in_server"))
                return
            await quotas.reset("guild", interaction.guild_id)
            await _say(interaction, self._t(interaction, "quota.reset_done"))
            return
        await quotas.reset("global")
        await _say(interaction, self._t(interaction, "admin.global_reset"))


async def _say(interaction: discord.Interaction, text: str) -> None:
    await interaction.edit_original_response(content=text[:2000], allowed_mentions=NO_MENTIONS)


async def setup(bot: ToolcordBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(Admin(bot))
