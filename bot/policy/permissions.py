"""Who may run which command, decided on our side from what Discord says about the invoker.

A command's ``default_member_permissions`` only hides it in Discord's client, and server admins can
override that, so it is not a boundary: every admin command asks these functions, which read the
permissions Discord resolved for the invoking member in this channel (``interaction.permissions``,
part of the interaction payload) and where the command runs (guild, DM, a guild that has not added
the bot but where a user installed it).
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

MANAGE_GUILD = discord.Permissions(manage_guild=True).value
ADMINISTRATOR = discord.Permissions(administrator=True).value
MANAGE_MESSAGES = discord.Permissions(manage_messages=True).value
MANAGE_THREADS = discord.Permissions(manage_threads=True).value
READ_HISTORY = discord.Permissions(view_channel=True, read_message_history=True).value


@dataclass(frozen=True)
class Invoker:
    """Who runs a command and where.

    Attributes:
        user_id: the invoking user.
        guild_id: the guild, or None in DMs and group DMs.
        permissions: the member's permissions in the channel as Discord resolved them (0
            outside guilds).
        guild_install: the bot is installed in this guild (False where only a user installed
            it: the bot is not a member there and the guild's data is not ours to keep).
        is_owner: the user owns the bot.
    """

    user_id: int
    guild_id: int | None
    permissions: int
    guild_install: bool
    is_owner: bool = False

    @property
    def in_guild(self) -> bool:
        return self.guild_id is not None

    @property
    def foreign_guild(self) -> bool:
        """In a guild that has not added the bot (a user-installed command)."""
        return self.guild_id is not None and not self.guild_install

    def has(self, bits: int) -> bool:
        """Whether the member has all of ``bits`` (administrators have every permission)."""
        return bool(self.permissions & ADMINISTRATOR) or self.permissions & bits == bits


def invoker_from(interaction: discord.Interaction, *, is_owner: bool = False) -> Invoker:
    """The invoker of an interaction, from the payload Discord sent."""
    guild_id = interaction.guild_id
    return Invoker(
        user_id=interaction.user.id,
        guild_id=guild_id,
        permissions=interaction.permissions.value if guild_id is not None else 0,
        guild_install=interaction.is_guild_integration(),
        is_owner=is_owner,
    )


REFUSALS = {
    "permission.settings_in_dm": "Server settings can only be changed in a server, not in direct "
    "messages.",
    "permission.not_added": "This server has not added the bot, so it has no bot settings here; "
    "ask a server admin to add the bot first.",
    "permission.manage_server": "You need the **Manage Server** permission to change the bot's "
    "settings here.",
    "permission.no_shared_conversation": "The bot keeps no shared conversation in a server that "
    "has not added it.",
    "permission.manage_messages": "Clearing the conversation everyone here shares needs the "
    "**Manage Messages** permission; `/reset` without `shared` clears your own.",
    "permission.quota_reset_in_dm": "Server budgets can only be reset in a server, not in direct "
    "messages.",
    "permission.quota_reset_owner": "Only the bot's owner may reset this server's budgets: they "
    "are the owner's limits on what the bot spends here. Ask the bot's owner if this server "
    "needs more.",
    "permission.owner_only": "Only the bot's owner may use this command.",
}
"""Each refusal's message key (``bot/i18n``) and its English text (as in en.toml)."""


def english(key: str | None) -> str | None:
    """The English text of a refusal key (None stays None)."""
    return REFUSALS[key] if key is not None else None


def admin_refusal(invoker: Invoker) -> str | None:
    """Why the invoker may not change this server's bot settings, or None if they may."""
    return english(admin_refusal_key(invoker))


def admin_refusal_key(invoker: Invoker) -> str | None:
    """The message key of :func:`admin_refusal`."""
    if invoker.guild_id is None:
        return "permission.settings_in_dm"
    if not invoker.guild_install:
        return "permission.not_added"
    if not invoker.has(MANAGE_GUILD):
        return "permission.manage_server"
    return None


def shared_reset_refusal(invoker: Invoker) -> str | None:
    """Why the invoker may not clear a conversation shared by a channel, or None."""
    return english(shared_reset_refusal_key(invoker))


def shared_reset_refusal_key(invoker: Invoker) -> str | None:
    """The message key of :func:`shared_reset_refusal`."""
    if invoker.foreign_guild:
        return "permission.no_shared_conversation"
    if invoker.in_guild and not invoker.has(MANAGE_MESSAGES):
        return "permission.manage_messages"
    return None


def may_read_history(invoker: Invoker) -> bool:
    """Whether the invoker may read this channel's history (always in DMs and group DMs).

    What the bot shares of a channel's conversation (``/export``) follows the member's own
    View Channel and Read Message History there, as Discord resolved them for this interaction.
    """
    return not invoker.in_guild or invoker.has(READ_HISTORY)


def quota_reset_refusal(invoker: Invoker) -> str | None:
    """Why the invoker may not reset this server's budgets, or None if they own the bot.

    Every budget (user, server, global) is the bot owner's limit on what the bot spends, so
    only the owner resets one; a server's admins cannot lift their own server's budget.
    """
    return english(quota_reset_refusal_key(invoker))


def quota_reset_refusal_key(invoker: Invoker) -> str | None:
    """The message key of :func:`quota_reset_refusal`."""
    if invoker.guild_id is None:
        return "permission.quota_reset_in_dm"
    if invoker.is_owner:
        return None
    return "permission.quota_reset_owner"


def owner_refusal(invoker: Invoker) -> str | None:
    """Why the invoker may not run an owner-only command, or None if they own the bot."""
    return english(owner_refusal_key(invoker))


def owner_refusal_key(invoker: Invoker) -> str | None:
    """The message key of :func:`owner_refusal`."""
    return None if invoker.is_owner else "permission.owner_only"
